//! Echoes every text and binary message back to its sender.
//!
//! ```text
//! cargo run --release --example echo_server -- 127.0.0.1:9001 [--no-deflate] [--stream]
//! cargo run --release --features tls --example echo_server -- 127.0.0.1:9443 --tls cert.pem key.pem
//! ```
//!
//! permessage-deflate (RFC 7692) is accepted when a client offers it, unless `--no-deflate`.
//! `--tls CERT KEY` (PEM certificate chain and private key; `examples/make_cert.rs` makes a
//! local CA and a certificate for 127.0.0.1 and localhost) serves `wss://` only on the port:
//! a plain request there is refused, logged, and the server goes on.
//! One thread per connection. This is the server the Autobahn testsuite runs against
//! (`scripts/autobahn.sh`). A plain HTTP request gets a short page saying what the port is.
//!
//! By default a message is echoed once it has arrived whole. `--stream` echoes as it arrives
//! instead (streaming delivery, RFC 6455 §5.4): each piece a read brings goes straight back as
//! a fragment of the same kind, so a message of any size passes through in memory of a few
//! reads (256 KiB each), and the echo of a large message starts before its end arrives.

use std::thread;

use rfc6455::blocking::{Decision, MaybeTlsStream, Server, ServerConfig, WebSocket};
use rfc6455::extensions::permessage_deflate::DeflateConfig;
use rfc6455::{Delivery, Error, Event, HandshakeError, Limits, MessageKind};

/// How much one read brings in streaming mode: a 1 MiB message in 4 reads, not 128.
const STREAM_READ_SIZE: usize = 256 << 10;

const PAGE: &str = "<!doctype html><title>rfc6455 echo</title>\
<p>This port echoes WebSocket messages. Connect with <code>new WebSocket('ws://' + location.host)</code>.";

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tls_at = args.iter().position(|a| a == "--tls");
    let addr = args
        .iter()
        .enumerate()
        .find(|&(i, a)| !a.starts_with("--") && tls_at.is_none_or(|t| i != t + 1 && i != t + 2))
        .map(|(_, a)| a.clone())
        .unwrap_or_else(|| "127.0.0.1:9001".to_string());
    #[cfg_attr(not(feature = "tls"), allow(unused_mut))]
    let mut config = ServerConfig::default();
    let scheme = match tls_at {
        None => "ws",
        Some(at) => {
            let (Some(cert), Some(key)) = (args.get(at + 1), args.get(at + 2)) else {
                eprintln!("usage: echo_server [ADDR] --tls CERT.pem KEY.pem");
                std::process::exit(2);
            };
            tls(&mut config, cert, key);
            "wss"
        }
    };
    if !args.iter().any(|a| a == "--no-deflate") {
        config.deflate = Some(DeflateConfig::default());
    }
    // Autobahn sends messages up to 16 MiB (cases 9.*).
    let limits = Limits { max_frame_size: 32 << 20, max_message_size: 32 << 20, ..Limits::default() };
    config.config = config.config.with_limits(limits).map_err(std::io::Error::other)?;
    let stream = args.iter().any(|a| a == "--stream");
    if stream {
        config.config = config.config.with_delivery(Delivery::Streaming);
    }
    let server = Server::bind(&addr)?.with_config(config);
    println!("echo server listening on {scheme}://{}", server.local_addr()?);

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
                    let echoed = if stream { echo_streaming(&mut ws) } else { echo(&mut ws) };
                    if let Err(e) = echoed {
                        eprintln!("{peer}: {e}");
                    }
                }
                // Serving the page to a plain HTTP request is not worth a log line.
                Err(Error::Handshake(HandshakeError::AnsweredOverHttp { .. })) => {}
                Err(e) => eprintln!("{peer}: {e}"),
            }
        });
    }
    Ok(())
}

#[cfg(feature = "tls")]
fn tls(config: &mut ServerConfig, cert: &str, key: &str) {
    match rfc6455::blocking::tls::server_config_from_pem_files(cert, key) {
        Ok(tls) => config.tls = Some(tls),
        Err(e) => {
            eprintln!("--tls {cert} {key}: {e}");
            std::process::exit(2);
        }
    }
}

#[cfg(not(feature = "tls"))]
fn tls(_: &mut ServerConfig, _: &str, _: &str) {
    eprintln!("--tls needs the `tls` feature:");
    eprintln!("  cargo run --release --features tls --example echo_server -- 127.0.0.1:9443 --tls cert.pem key.pem");
    std::process::exit(2);
}

/// Echo until the connection closes, a batch at a time: every message the last read completed
/// is echoed from the connection's buffers, and all the echoes go out in one write. No
/// allocation per message.
fn echo(ws: &mut WebSocket<MaybeTlsStream>) -> Result<(), Error> {
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

/// Echo until the connection closes, piece by piece: every piece of a message the last read
/// brought goes back as a fragment of the same kind, all in one write. The connection has
/// checked a text piece before handing it out (it fails the connection with 1007 at the first
/// byte that cannot be UTF-8, §8.1), so only valid text is echoed. Pings are answered and a
/// Close replied to by the connection.
fn echo_streaming(ws: &mut WebSocket<MaybeTlsStream>) -> Result<(), Error> {
    ws.set_read_size(STREAM_READ_SIZE);
    loop {
        let batch = ws.respond_fragments(|event| match event {
            Event::Fragment { kind, data, is_last } => Some((kind, data, is_last)),
            _ => None,
        });
        match batch {
            Ok(_) => {}
            Err(Error::Closed) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}
