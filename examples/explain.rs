//! Explain WebSocket frames: give it bytes in hex and it prints each frame field by field
//! (FIN, RSV bits, opcode, MASK, the length form, the masking key, the unmasked payload) and
//! names the rule of RFC 6455 that any bad field breaks.
//!
//! ```text
//! cargo run --example explain -- 81 85 37 fa 21 3d 7f 9f 4d 51 58   # RFC 6455 §5.7's masked "Hello"
//! echo 0x88,0x02,0x03,0xe8 | cargo run --example explain            # hex from stdin
//! cargo run --example explain -- --from-server 81 85 37 fa 21 3d 7f 9f 4d 51 58   # judge masking too
//! ```
//!
//! `--from-client` / `--from-server` say who sent the bytes, so the masking rule (§5.1) can be
//! checked. Exit status: 0 when every frame is valid, 1 when a rule is broken or the bytes end
//! inside a frame, 2 when the input is not hex.

#[path = "common/mod.rs"]
mod common;
#[path = "common/explain.rs"]
mod explain;

use std::io::Read;
use std::process::ExitCode;

use explain::{Sender, explain, parse_hex};

fn main() -> ExitCode {
    // A one-shot tool: Ctrl-C while it waits for stdin just ends it.
    common::on_ctrl_c(|| std::process::exit(130));
    let mut sender = Sender::Unknown;
    let mut hex_args = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--from-client" => sender = Sender::Client,
            "--from-server" => sender = Sender::Server,
            "-h" | "--help" => {
                println!("usage: explain [--from-client | --from-server] [HEX BYTES...]  (or hex on stdin)");
                return ExitCode::SUCCESS;
            }
            _ => hex_args.push(arg),
        }
    }
    let input = if hex_args.is_empty() {
        let mut text = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut text) {
            eprintln!("cannot read stdin: {e}");
            return ExitCode::from(2);
        }
        text
    } else {
        hex_args.join(" ")
    };
    let bytes = match parse_hex(&input) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("not hex: {e}");
            return ExitCode::from(2);
        }
    };
    let report = explain(&bytes, sender);
    print!("{}", report.output());
    if report.problems > 0 || report.truncated { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
