//! The handshake tour, in the browser: a page that opens a WebSocket one step at a time and
//! shows what this connection really carried at each step — the browser's GET as the server
//! read it, the key, the server computing `Sec-WebSocket-Accept` (key ++ GUID, SHA-1,
//! base64, with this connection's values), the 101 as the server wrote it, the first frame
//! each way with every field decoded, a Ping and its Pong, and the closing handshake with
//! which side closed TCP first. Each step cites its RFC 6455 section and links the guide.
//!
//! "Break it" sends frames a browser never would (unmasked, a reserved opcode, invalid UTF-8,
//! an oversized or fragmented control frame, ...) from the server to itself over loopback and
//! shows the Close frame and code it answered, and why.
//!
//! ```text
//! cargo run --example tour                    # http://127.0.0.1:8090/
//! cargo run --example tour -- 127.0.0.1:9000  # another address
//! ```
//!
//! The server is `examples/tour/server.rs`; `tests/demo_tour.rs` checks it, and
//! `scripts/browser_tour_test.sh` runs the page in headless Chromium. Ctrl-C stops it.

#[path = "common/mod.rs"]
mod common;
#[path = "tour/server.rs"]
mod server;

use std::sync::mpsc;

fn main() {
    let addr = common::listen_addr("127.0.0.1:8090");
    let tour = match server::TourServer::start(addr.as_str()) {
        Ok(tour) => tour,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    println!("handshake tour: open {} in your browser (Ctrl-C to stop)", tour.http_url());
    let (interrupted, wait) = mpsc::channel();
    common::on_ctrl_c(move || {
        let _ = interrupted.send(());
    });
    let _ = wait.recv();
    tour.shutdown();
    println!("bye");
}
