//! A chat with rooms, in the browser: the demo to start with.
//!
//! ```text
//! cargo run --release --example chat                    # http://127.0.0.1:8080/
//! cargo run --release --example chat -- 127.0.0.1:9000  # another address
//! cargo run --release --features tls --example chat -- 127.0.0.1:8443 --tls cert.pem key.pem
//! cargo run --release --example chat -- 127.0.0.1:8080 --redis redis://127.0.0.1:6379   # a node of a cluster
//! cargo run --release --features tls,h2 --example chat -- --h2            # and https://127.0.0.1:8443/ over HTTP/2
//! cargo run --release --features tls,h2 --example chat -- 127.0.0.1:8080 --h2 127.0.0.1:9443
//! ```
//!
//! With `--redis URL` the process is one node of a cluster: start two on different ports with
//! the same Redis, open one page on each, and they share rooms, names, counts and history
//! (`docs/guide/14-beyond-one-process.md`). Without it nothing is needed but this process.
//!
//! With `--tls CERT KEY` (PEM files; `cargo run --example make_cert -- DIR` makes a local CA
//! and a certificate for 127.0.0.1 and localhost) the port serves `https://` and `wss://` only.
//!
//! With `--h2 [ADDR]` (features `tls` and `h2`; ADDR defaults to 127.0.0.1:8443) an HTTP/2
//! front (`examples/common/h2_front.rs`) listens too, on a TLS port offering `h2` by ALPN, in
//! front of the chat's own HTTP/1.1 port, as a reverse proxy would: a browser loads the page
//! over HTTP/2 and opens its WebSocket as an extended CONNECT (RFC 8441) on the same connection,
//! which the front turns into an HTTP/1.1 Upgrade to the chat. The front serves the `--tls`
//! certificate when one is given (the chat's own port then stays plain HTTP, on loopback), else
//! a fresh self-signed one for 127.0.0.1 and localhost, which the browser asks to accept.
//!
//! Open the printed URL in two browser tabs, pick a name and the same room in both, and talk.
//! One port serves the page over plain HTTP and upgrades WebSocket requests at `/ws`; the
//! protocol (JSON envelopes, rooms, typing, counts) is described in `examples/chat/server.rs`.
//! Ctrl-C closes every connection with 1001 (going away); the open pages show it and
//! reconnect, with growing delays, once the server is back.

#[cfg(all(feature = "h2", feature = "tls"))]
#[path = "common/certs.rs"]
mod certs;
#[path = "common/mod.rs"]
mod common;
#[cfg(all(feature = "h2", feature = "tls"))]
#[path = "common/h2_front.rs"]
mod h2_front;
#[path = "chat/server.rs"]
mod server;

use std::sync::mpsc;

use server::{ChatServer, Settings};

fn main() {
    let addr = common::listen_addr("127.0.0.1:8080");
    let h2 = h2_addr();
    if h2.is_some() && !cfg!(all(feature = "h2", feature = "tls")) {
        eprintln!(
            "--h2 needs the `tls` and `h2` features: cargo run --release --features tls,h2 --example chat -- --h2"
        );
        std::process::exit(2);
    }
    #[cfg_attr(not(feature = "tls"), allow(unused_variables))]
    let tls = common::tls_config();
    // With the HTTP/2 front, the certificate is the front's; the chat's own port stays plain.
    #[cfg(all(feature = "h2", feature = "tls"))]
    let (tls, front_tls) = match h2 {
        Some(_) => (None, Some(tls.unwrap_or_else(test_certificate))),
        None => (tls, None),
    };
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
    #[cfg(all(feature = "h2", feature = "tls"))]
    if let (Some(front), Some(front_tls)) = (&h2, front_tls) {
        match h2_front::start(front, chat.local_addr(), front_tls) {
            Ok(at) => println!("HTTP/2 front listening: open https://{at}/ (h2; WebSockets by extended CONNECT)"),
            Err(e) => {
                eprintln!("cannot listen on {front}: {e}");
                std::process::exit(1);
            }
        }
    }

    let (interrupted, wait) = mpsc::channel();
    common::on_ctrl_c(move || {
        let _ = interrupted.send(());
    });
    let _ = wait.recv();
    println!("shutting down: closing {} connection(s)", chat.client_count());
    chat.shutdown();
    println!("bye");
}

/// `--h2 [ADDR]` on the command line: where the HTTP/2 front listens (127.0.0.1:8443 when no
/// address follows the flag).
fn h2_addr() -> Option<String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let at = args.iter().position(|arg| arg == "--h2")?;
    match args.get(at + 1) {
        Some(addr) if !addr.starts_with('-') => Some(addr.clone()),
        _ => Some("127.0.0.1:8443".to_owned()),
    }
}

/// A fresh self-signed certificate for 127.0.0.1 and localhost, for the front when no `--tls`
/// files are given.
#[cfg(all(feature = "h2", feature = "tls"))]
fn test_certificate() -> std::sync::Arc<rustls::ServerConfig> {
    let issued = certs::self_signed(&["127.0.0.1", "localhost"]);
    match rfc6455::blocking::tls::server_config_from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("cannot use the test certificate: {e}");
            std::process::exit(1);
        }
    }
}
