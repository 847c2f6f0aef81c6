//! Sends a set of messages to an echo server and checks every echo byte for byte.
//!
//! ```text
//! cargo run --release --example echo_client -- ws://127.0.0.1:9001
//! ```
//!
//! Sends text (ASCII and multi-byte), binary of sizes around every length form of §5.2
//! (0, 125, 126, 65535, 65536 bytes and 1 MiB), a fragmented message, and a ping; then closes
//! with 1000 and expects the server's Close. Exits non-zero on the first mismatch. Used to check
//! this crate's client against other servers (`scripts/interop.sh`).

use rfc6455::blocking::connect;
use rfc6455::{CloseCode, Error, Message};

fn main() {
    let url = std::env::args().nth(1).unwrap_or_else(|| "ws://127.0.0.1:9001".to_string());
    match run(&url) {
        Ok(count) => println!("echo_client: {count} messages echoed exactly by {url}"),
        Err(e) => {
            eprintln!("echo_client: {e}");
            std::process::exit(1);
        }
    }
}

fn run(url: &str) -> Result<usize, String> {
    let mut ws = connect(url).map_err(|e| format!("connect: {e}"))?;
    let mut messages =
        vec![Message::Text("Hello".into()), Message::Text("κόσμε · ハロー · 🎉".into()), Message::Text(String::new())];
    for size in [0usize, 1, 125, 126, 65535, 65536, 1 << 20] {
        messages.push(Message::Binary((0..size).map(|i| (i * 31 % 251) as u8).collect()));
    }
    for sent in &messages {
        ws.send(sent).map_err(|e| format!("send: {e}"))?;
        let echoed = read_data(&mut ws)?;
        if &echoed != sent {
            return Err(format!("echo differs for a {} message", describe(sent)));
        }
    }
    ws.ping(b"ping payload").map_err(|e| format!("ping: {e}"))?;
    match ws.read() {
        Ok(Message::Pong(payload)) if payload == b"ping payload" => {}
        other => return Err(format!("expected the pong, got {other:?}")),
    }
    ws.close(CloseCode::NORMAL, "done").map_err(|e| format!("close: {e}"))?;
    loop {
        match ws.read() {
            Ok(Message::Close(code, _)) => {
                if code != Some(CloseCode::NORMAL) {
                    return Err(format!("server closed with {code:?}, expected 1000"));
                }
            }
            Ok(_) => {}
            Err(Error::Closed) => break,
            Err(e) => return Err(format!("closing: {e}")),
        }
    }
    Ok(messages.len())
}

/// The next text or binary message, skipping control frames.
fn read_data(ws: &mut rfc6455::blocking::WebSocket<rfc6455::blocking::MaybeTlsStream>) -> Result<Message, String> {
    loop {
        match ws.read().map_err(|e| format!("read: {e}"))? {
            message if message.is_data() => return Ok(message),
            _ => {}
        }
    }
}

fn describe(message: &Message) -> String {
    match message {
        Message::Text(text) => format!("{}-byte text", text.len()),
        Message::Binary(data) => format!("{}-byte binary", data.len()),
        other => format!("{other:?}"),
    }
}
