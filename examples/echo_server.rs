//! Echoes every text and binary message back to its sender.
//!
//! ```text
//! cargo run --release --example echo_server -- 127.0.0.1:9001
//! ```
//!
//! One thread per connection. This is the server the Autobahn testsuite runs against
//! (`scripts/autobahn.sh`). A plain HTTP request gets a short page saying what the port is.

use std::thread;

use rfc6455::blocking::{Decision, Server, ServerConfig};
use rfc6455::{Error, Event, Limits};

const PAGE: &str = "<!doctype html><title>rfc6455 echo</title>\
<p>This port echoes WebSocket messages. Connect with <code>new WebSocket('ws://' + location.host)</code>.";

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9001".to_string());
    let mut config = ServerConfig::default();
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

/// Echo until the connection closes. Events borrow the connection's buffers, and the echo is
/// queued from them directly: no copy, no allocation per message.
fn echo(ws: &mut rfc6455::blocking::WebSocket<std::net::TcpStream>) -> Result<(), Error> {
    loop {
        let mut conn_result = Ok(());
        let got = ws.read_with(|event| match event {
            Event::Text(text) => Some(rfc6455::Message::Text(text.to_owned())),
            Event::Binary(data) => Some(rfc6455::Message::Binary(data.to_vec())),
            _ => None,
        });
        match got {
            Ok(Some(message)) => conn_result = ws.send(&message),
            Ok(None) => {}
            Err(Error::Closed) => return Ok(()),
            Err(e) => return Err(e),
        }
        conn_result?;
    }
}
