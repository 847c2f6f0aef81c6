//! A command-line WebSocket client: connect to any `ws://` URL, send each line typed on stdin
//! as a text message, print every message that arrives, and reconnect with exponential backoff
//! (1 s, 2 s, 4 s, ... up to 30 s, with jitter) when the connection fails or is lost.
//!
//! ```text
//! cargo run --example ws_client -- ws://127.0.0.1:8080/ws
//! cargo run --example ws_client -- --verbose ws://127.0.0.1:8080/ws   # every frame on the wire
//! ```
//!
//! Received text goes to stdout, one message per line; status lines (`# ...`) and, with
//! `--verbose`, the handshake and every frame (`>>` sent, `<<` received) go to stderr.
//! Commands: `/ping [text]`, `/close [code [reason]]`, `/quit`. End of input or Ctrl-C closes
//! the connection with 1000 and exits. Options: `--no-reconnect`, `--max-attempts N`.

#[path = "ws_client/client.rs"]
mod client;
#[path = "common/mod.rs"]
mod common;

use std::io::BufRead;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

use client::{Input, Options, Outcome, Sink};

const USAGE: &str = "usage: ws_client [--verbose] [--no-reconnect] [--max-attempts N] ws://HOST:PORT/PATH";

fn main() -> ExitCode {
    let mut url = None;
    let mut verbose = false;
    let mut reconnect = true;
    let mut max_attempts = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-v" | "--verbose" => verbose = true,
            "--no-reconnect" => reconnect = false,
            "--max-attempts" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => max_attempts = Some(n),
                None => {
                    eprintln!("--max-attempts needs a number\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ if arg.starts_with('-') => {
                eprintln!("unknown option {arg}\n{USAGE}");
                return ExitCode::from(2);
            }
            _ => url = Some(arg),
        }
    }
    let Some(url) = url else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let options = Options { verbose, reconnect, max_attempts, ..Options::new(&url) };

    let (input, lines) = mpsc::channel();
    let interrupt = input.clone();
    common::on_ctrl_c(move || {
        let _ = interrupt.send(Input::Interrupt);
    });
    thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if input.send(Input::Line(line)).is_err() {
                return;
            }
        }
        let _ = input.send(Input::End);
    });

    let out: Sink = Arc::new(Mutex::new(std::io::stdout()));
    let log: Sink = Arc::new(Mutex::new(std::io::stderr()));
    match client::run(&options, &lines, &out, &log) {
        Outcome::Finished => ExitCode::SUCCESS,
        Outcome::GaveUp(why) => {
            eprintln!("# giving up: {why}");
            ExitCode::FAILURE
        }
    }
}
