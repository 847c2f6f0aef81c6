//! tungstenite's blocking echo server, the way its documentation writes one: one thread per
//! connection, `read` a message, `send` it back. The load benchmark's peer reference.
//!
//! ```text
//! cargo run --release --example tungstenite_echo -- 127.0.0.1:9002
//! ```

use std::net::TcpListener;
use std::thread;

use tungstenite::protocol::WebSocketConfig;

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9002".to_string());
    let listener = TcpListener::bind(&addr)?;
    println!("tungstenite echo listening on ws://{}", listener.local_addr()?);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        thread::spawn(move || {
            let _ = stream.set_nodelay(true);
            let config = WebSocketConfig::default().max_message_size(Some(64 << 20)).max_frame_size(Some(16 << 20));
            let Ok(mut ws) = tungstenite::accept_with_config(stream, Some(config)) else { return };
            while let Ok(message) = ws.read() {
                if (message.is_text() || message.is_binary()) && ws.send(message).is_err() {
                    break;
                }
            }
        });
    }
    Ok(())
}
