//! Echoes every text and binary message back to its sender, on the async layer (tokio).
//!
//! ```text
//! cargo run --release --features tokio --example async_echo_server -- 127.0.0.1:9001 [--threads N] [--no-deflate]
//! cargo run --release --features tokio,tls --example async_echo_server -- 127.0.0.1:9443 --tls cert.pem key.pem
//! ```
//!
//! `--threads N`: the runtime's worker threads; 1 (the default) runs everything on a
//! current-thread runtime, every connection a task on the one thread. permessage-deflate
//! (RFC 7692) is accepted when a client offers it, unless `--no-deflate`. `--tls CERT KEY`
//! (PEM chain and key; `examples/make_cert.rs` makes them) serves `wss://` only. A plain HTTP
//! request gets a short page saying what the port is. The Autobahn testsuite runs against it
//! (`AUTOBAHN_LAYER=async scripts/autobahn.sh`).

use std::sync::Arc;

use rfc6455::extensions::permessage_deflate::DeflateConfig;
use rfc6455::tokio::server::Decision;
use rfc6455::tokio::{ServerConfig, WebSocket, accept_with};
use rfc6455::{Error, Event, HandshakeError, Limits, MessageKind};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

const PAGE: &str = "<!doctype html><title>rfc6455 async echo</title>\
<p>This port echoes WebSocket messages. Connect with <code>new WebSocket('ws://' + location.host)</code>.";

/// The TLS configuration, when serving `wss://`.
#[cfg(feature = "tls")]
type Tls = Option<Arc<rustls::ServerConfig>>;
/// Without the `tls` feature there is never a TLS configuration.
#[cfg(not(feature = "tls"))]
type Tls = Option<NoTls>;
#[cfg(not(feature = "tls"))]
#[derive(Debug, Clone)]
struct NoTls;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value_at = |flag: &str| args.iter().position(|a| a == flag);
    let tls_at = value_at("--tls");
    let threads_at = value_at("--threads");
    let addr = args
        .iter()
        .enumerate()
        .find(|&(i, a)| {
            !a.starts_with("--")
                && tls_at.is_none_or(|t| i != t + 1 && i != t + 2)
                && threads_at.is_none_or(|t| i != t + 1)
        })
        .map(|(_, a)| a.clone())
        .unwrap_or_else(|| "127.0.0.1:9001".to_string());
    let threads: usize = match threads_at.map(|at| args.get(at + 1).and_then(|n| n.parse().ok())) {
        None => 1,
        Some(Some(n)) if n >= 1 => n,
        Some(_) => usage("--threads takes a number of threads, at least 1"),
    };
    let tls = match tls_at {
        None => None,
        Some(at) => match (args.get(at + 1), args.get(at + 2)) {
            (Some(cert), Some(key)) => tls(cert, key),
            _ => usage("--tls takes CERT.pem KEY.pem"),
        },
    };
    let mut config = ServerConfig::default();
    if !args.iter().any(|a| a == "--no-deflate") {
        config.deflate = Some(DeflateConfig::default());
    }
    // Autobahn sends messages up to 16 MiB (cases 9.*).
    let limits = Limits { max_frame_size: 32 << 20, max_message_size: 32 << 20, ..Limits::default() };
    config.config = config.config.with_limits(limits).map_err(std::io::Error::other)?;

    let runtime = if threads == 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()?
    };
    runtime.block_on(serve(&addr, Arc::new(config), tls, threads))
}

fn usage(problem: &str) -> ! {
    eprintln!("{problem}");
    eprintln!("usage: async_echo_server [ADDR] [--threads N] [--no-deflate] [--tls CERT.pem KEY.pem]");
    std::process::exit(2);
}

async fn serve(addr: &str, config: Arc<ServerConfig>, tls: Tls, threads: usize) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    println!("async echo server listening on {scheme}://{} ({threads} thread(s))", listener.local_addr()?);
    loop {
        let (sock, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("accept failed: {e}");
                continue;
            }
        };
        // Small frames should leave at once, not wait for Nagle's algorithm.
        let _ = sock.set_nodelay(true);
        let config = config.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(sock, &config, tls).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

async fn connection(sock: TcpStream, config: &ServerConfig, tls: Tls) -> Result<(), Error> {
    #[cfg(feature = "tls")]
    if let Some(tls) = tls {
        let handshake = rfc6455::tokio::tls::accept(sock, tls);
        let stream = match tokio::time::timeout(config.timeouts.handshake, handshake).await {
            Ok(stream) => stream?,
            Err(_) => return Err(Error::Io(std::io::ErrorKind::TimedOut.into())),
        };
        return serve_websocket(stream, config).await;
    }
    let _ = tls;
    serve_websocket(sock, config).await
}

async fn serve_websocket<S: AsyncRead + AsyncWrite + Unpin>(stream: S, config: &ServerConfig) -> Result<(), Error> {
    let result = accept_with(stream, config, |request| {
        if request.is_websocket_upgrade() {
            Decision::accept()
        } else {
            Decision::respond("text/html; charset=utf-8", PAGE.as_bytes())
        }
    })
    .await;
    match result {
        Ok(mut ws) => echo(&mut ws).await,
        // Serving the page to a plain HTTP request is not worth a log line.
        Err(Error::Handshake(HandshakeError::AnsweredOverHttp { .. })) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Echo until the connection closes, a batch at a time: every message the last read completed
/// is echoed from the connection's buffers, and all the echoes go out in one write. No
/// allocation per message.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocket<S>) -> Result<(), Error> {
    loop {
        let batch = ws
            .respond_batch(|event| match event {
                Event::Text(text) => Some((MessageKind::Text, text.as_bytes())),
                Event::Binary(data) => Some((MessageKind::Binary, data)),
                _ => None,
            })
            .await;
        match batch {
            Ok(_) => {}
            Err(Error::Closed) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

#[cfg(feature = "tls")]
fn tls(cert: &str, key: &str) -> Tls {
    match rfc6455::blocking::tls::server_config_from_pem_files(cert, key) {
        Ok(tls) => Some(tls),
        Err(e) => usage(&format!("--tls {cert} {key}: {e}")),
    }
}

#[cfg(not(feature = "tls"))]
fn tls(_: &str, _: &str) -> Tls {
    usage("--tls needs the `tls` feature: cargo run --release --features tokio,tls --example async_echo_server -- ...")
}
