//! A chat with rooms, in the browser: the demo to start with.
//!
//! ```text
//! cargo run --release --example chat                    # http://127.0.0.1:8080/
//! cargo run --release --example chat -- 127.0.0.1:9000  # another address
//! cargo run --release --features tls --example chat -- 127.0.0.1:8443 --tls cert.pem key.pem
//! cargo run --release --example chat -- 127.0.0.1:8080 --redis redis://127.0.0.1:6379   # a node of a cluster
//! ```
//!
//! With `--redis URL` the process is one node of a cluster: start two on different ports with
//! the same Redis, open one page on each, and they share rooms, names, counts and history
//! (`docs/guide/14-beyond-one-process.md`). Without it nothing is needed but this process.
//!
//! With `--tls CERT KEY` (PEM files; `cargo run --example make_cert -- DIR` makes a local CA
//! and a certificate for 127.0.0.1 and localhost) the port serves `https://` and `wss://` only.
//!
//! Open the printed URL in two browser tabs, pick a name and the same room in both, and talk.
//! One port serves the page over plain HTTP and upgrades WebSocket requests at `/ws`; the
//! protocol (JSON envelopes, rooms, typing, counts) is described in `examples/chat/server.rs`.
//! Ctrl-C closes every connection with 1001 (going away); the open pages show it and
//! reconnect, with growing delays, once the server is back.

#[path = "common/mod.rs"]
mod common;
#[path = "chat/server.rs"]
mod server;

use std::sync::mpsc;

use server::{ChatServer, Settings};

fn main() {
    let addr = common::listen_addr("127.0.0.1:8080");
    #[cfg_attr(not(feature = "tls"), allow(unused_variables))]
    let tls = common::tls_config();
    let backplane = common::redis_backplane::from_args();
    let settings = Settings {
        log: true,
        backplane: backplane.map(|backplane| backplane as _),
        #[cfg(feature = "tls")]
        tls,
        ..Settings::default()
    };
    let chat = match ChatServer::start_with(addr.as_str(), settings) {
        Ok(chat) => chat,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    println!("chat server listening: open {} in your browser", chat.http_url());
    println!("WebSocket endpoint: {} (Ctrl-C to stop)", chat.ws_url());

    let (interrupted, wait) = mpsc::channel();
    common::on_ctrl_c(move || {
        let _ = interrupted.send(());
    });
    let _ = wait.recv();
    println!("shutting down: closing {} connection(s)", chat.client_count());
    chat.shutdown();
    println!("bye");
}
