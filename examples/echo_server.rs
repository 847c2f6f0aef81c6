//! Echoes every text and binary message back to its sender.
//!
//! ```text
//! cargo run --release --example echo_server -- 127.0.0.1:9001 [--no-deflate]
//! ```
//!
//! permessage-deflate (RFC 7692) is accepted when a client offers it, unless `--no-deflate`.
//! One thread per connection. This is the server the Autobahn testsuite runs against
//! (`scripts/autobahn.sh`). A plain HTTP request gets a short page saying what the port is.

use std::thread;

use rfc6455::blocking::{Decision, Server, ServerConfig};
use rfc6455::extensions::permessage_deflate::DeflateConfig;
use rfc6455::{Error, Event, Limits, MessageKind};

const PAGE: &str = "<!doctype html><title>rfc6455 echo</title>\
<p>This port echoes WebSocket messages. Connect with <code>new WebSocket('ws://' + location.host)</code>.";

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args.iter().find(|a| !a.starts_with("--")).cloned().unwrap_or_else(|| "127.0.0.1:9001".to_string());
    let mut config = ServerConfig::default();
    if !args.iter().any(|a| a == "--no-deflate") {
        config.deflate = Some(DeflateConfig::default());
    }
    // Autobahn sends messages up to 16 MiB (cases 9.*).
    config.config.limits = Limits { max_frame_size: 32 << 20, max_message_size: 32 << 20, ..Limits::default() };
    let server = Server::bind(&addr)?.with_config(config);
    println!("echo server listening on ws://{}", server.local_addr()?);

    for pending in server.incoming() {
        let pending = match pending {
            Ok(pending) => pending,
            Err(e) => {
                eprintln!("accept failed: {e}");
                continue;
            }
        };
        thread::spawn(move || {
            let peer = pending.peer_addr();
            let result = pending.handshake_with(|request| {
                if request.is_websocket_upgrade() {
                    Decision::accept()
                } else {
                    Decision::respond("text/html; charset=utf-8", PAGE.as_bytes())
                }
            });
            match result {
                Ok(mut ws) => {
                    if let Err(e) = echo(&mut ws) {
                        eprintln!("{peer}: {e}");
                    }
                }
                Err(e) => eprintln!("{peer}: {e}"),
            }
        });
    }
    Ok(())
}

/// Echo until the connection closes, a batch at a time: every message the last read completed
/// is echoed from the connection's buffers, and all the echoes go out in one write. No
/// allocation per message.
fn echo(ws: &mut rfc6455::blocking::WebSocket<std::net::TcpStream>) -> Result<(), Error> {
    loop {
        let batch = ws.respond_batch(|event| match event {
            Event::Text(text) => Some((MessageKind::Text, text.as_bytes())),
            Event::Binary(data) => Some((MessageKind::Binary, data)),
            _ => None,
        });
        match batch {
            Ok(_) => {}
            Err(Error::Closed) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}
