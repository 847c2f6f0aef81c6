//! Echoes every text and binary message back to its sender, on the async layer (tokio).
//!
//! ```text
//! cargo run --release --features tokio --example async_echo_server -- 127.0.0.1:9001 [--threads N] [--no-deflate]
//! cargo run --release --features tokio,tls --example async_echo_server -- 127.0.0.1:9443 --tls cert.pem key.pem
//! cargo run --release --features tls,h2 --example async_echo_server -- 127.0.0.1:9443 --tls cert.pem key.pem --h2
//! ```
//!
//! `--threads N`: the runtime's worker threads; 1 (the default) runs everything on a
//! current-thread runtime, every connection a task on the one thread. permessage-deflate
//! (RFC 7692) is accepted when a client offers it, unless `--no-deflate`. `--tls CERT KEY`
//! (PEM chain and key; `examples/make_cert.rs` makes them) serves `wss://` only. A plain HTTP
//! request gets a short page saying what the port is. The Autobahn testsuite runs against it
//! (`AUTOBAHN_LAYER=async scripts/autobahn.sh`).
//!
//! `--h2` (feature `h2`) adds WebSockets over HTTP/2 (RFC 8441). With `--tls`, the port offers
//! `h2` and `http/1.1` by ALPN: a browser loads the echo page at `/` over HTTP/2 and opens its
//! WebSocket (`/echo`) as an extended CONNECT on the same connection, while clients that speak
//! only HTTP/1.1 upgrade as before. Without `--tls`, the port takes cleartext HTTP/2 with prior
//! knowledge (h2c; the connection preface tells it apart) and HTTP/1.1. Each HTTP/2 connection,
//! request and WebSocket is logged with its stream, so it shows which requests shared a
//! connection (`scripts/browser_h2_test.sh` reads it).

use std::net::SocketAddr;
use std::sync::Arc;

use rfc6455::extensions::permessage_deflate::DeflateConfig;
use rfc6455::tokio::server::Decision;
use rfc6455::tokio::{ServerConfig, WebSocket, accept_with};
use rfc6455::{Error, Event, HandshakeError, Limits, MessageKind};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

const PAGE: &str = "<!doctype html><title>rfc6455 async echo</title>\
<p>This port echoes WebSocket messages. Connect with <code>new WebSocket('ws://' + location.host)</code>.";

/// The page `--h2` serves at `/`: it opens a WebSocket to `/echo` on its own origin (over the
/// page's HTTP/2 connection, when the browser loaded it over HTTP/2) and echoes what is typed.
const ECHO_PAGE: &str = r#"<!doctype html>
<meta charset="utf-8"><title>rfc6455 echo over HTTP/2</title>
<style>body{font:15px system-ui,sans-serif;margin:2em;max-width:40em}#log{white-space:pre-wrap;font-family:monospace}</style>
<h1>Echo</h1>
<p>Page loaded over <b id="protocol">?</b>; WebSocket <b id="state">connecting</b>.</p>
<form id="form"><input id="text" value="Hello over HTTP/2" size="40"> <button>Send</button></form>
<div id="log"></div>
<script>
const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
const ws = new WebSocket(scheme + location.host + '/echo');
const log = text => { document.getElementById('log').textContent += text + '\n'; };
const nav = performance.getEntriesByType('navigation')[0];
document.getElementById('protocol').textContent = nav ? nav.nextHopProtocol : '?';
ws.onopen = () => { document.body.dataset.state = 'open'; document.getElementById('state').textContent = 'open'; ws.send('hello'); };
ws.onmessage = event => log('echo: ' + event.data);
ws.onclose = event => { document.body.dataset.state = 'closed'; document.getElementById('state').textContent = 'closed (' + event.code + ')'; };
document.getElementById('form').onsubmit = event => { event.preventDefault(); ws.send(document.getElementById('text').value); };
</script>
"#;

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
    let h2 = args.iter().any(|a| a == "--h2");
    if h2 && !cfg!(feature = "h2") {
        usage("--h2 needs the `h2` feature: cargo run --release --features tls,h2 --example async_echo_server -- ...");
    }
    #[cfg(all(feature = "h2", feature = "tls"))]
    let tls = match tls {
        // One TLS port for both: ALPN offers h2 first, then http/1.1.
        Some(tls) if h2 => Some(rfc6455::tokio::h2::server::alpn_h2_and_http11(tls)),
        other => other,
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
    runtime.block_on(serve(&addr, Arc::new(config), tls, threads, h2))
}

fn usage(problem: &str) -> ! {
    eprintln!("{problem}");
    eprintln!("usage: async_echo_server [ADDR] [--threads N] [--no-deflate] [--tls CERT.pem KEY.pem] [--h2]");
    std::process::exit(2);
}

async fn serve(addr: &str, config: Arc<ServerConfig>, tls: Tls, threads: usize, h2: bool) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    let also = if h2 { ", HTTP/2 and HTTP/1.1" } else { "" };
    println!("async echo server listening on {scheme}://{} ({threads} thread(s){also})", listener.local_addr()?);
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
            if let Err(e) = connection(sock, &config, tls, h2, peer).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

async fn connection(
    sock: TcpStream,
    config: &Arc<ServerConfig>,
    tls: Tls,
    h2: bool,
    peer: SocketAddr,
) -> Result<(), Error> {
    let page = if h2 { ECHO_PAGE } else { PAGE };
    #[cfg(feature = "tls")]
    if let Some(tls) = tls {
        let handshake = rfc6455::tokio::tls::accept(sock, tls);
        let stream = match tokio::time::timeout(config.timeouts.handshake, handshake).await {
            Ok(stream) => stream?,
            Err(_) => return Err(Error::Io(std::io::ErrorKind::TimedOut.into())),
        };
        // ALPN chose the protocol: HTTP/2, or HTTP/1.1 (also every client that offered none).
        #[cfg(feature = "h2")]
        if rfc6455::tokio::h2::server::negotiated_h2(&stream) {
            return h2::serve(stream, config.clone(), peer, "h2").await;
        }
        return serve_websocket(stream, config, page).await;
    }
    let _ = tls;
    #[cfg(feature = "h2")]
    if h2
        && tokio::time::timeout(config.timeouts.handshake, h2::prior_knowledge(&sock))
            .await
            .is_ok_and(|p| p.is_ok_and(|p| p))
    {
        return h2::serve(sock, config.clone(), peer, "h2c").await;
    }
    let _ = peer;
    serve_websocket(sock, config, page).await
}

async fn serve_websocket<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    config: &ServerConfig,
    page: &str,
) -> Result<(), Error> {
    let result = accept_with(stream, config, |request| {
        if request.is_websocket_upgrade() {
            Decision::accept()
        } else {
            Decision::respond("text/html; charset=utf-8", page.as_bytes())
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

/// WebSockets over HTTP/2 (RFC 8441): the page and every WebSocket on one connection.
#[cfg(feature = "h2")]
mod h2 {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use rfc6455::Error;
    use rfc6455::handshake::Request;
    use rfc6455::handshake::h2_server::H2Response;
    use rfc6455::tokio::h2::H2Stream;
    use rfc6455::tokio::h2::server::{H2Settings, serve_connection};
    use rfc6455::tokio::server::Decision;
    use rfc6455::tokio::{ServerConfig, WebSocket};
    use tokio::io::{AsyncRead, AsyncWrite};
    use tokio::net::TcpStream;

    /// HTTP/2's connection preface (RFC 9113 §3.4): what a client with prior knowledge sends
    /// first.
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

    /// Whether the client on `sock` starts with HTTP/2's preface (h2c with prior knowledge),
    /// looked at without taking it.
    pub async fn prior_knowledge(sock: &TcpStream) -> std::io::Result<bool> {
        let mut first = [0u8; PREFACE.len()];
        loop {
            let n = sock.peek(&mut first).await?;
            if n == 0 || first[..n] != PREFACE[..n] {
                return Ok(false);
            }
            if n == PREFACE.len() {
                return Ok(true);
            }
            // Part of the preface so far: wait for the rest (the caller bounds the wait).
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Numbers the HTTP/2 connections in the log.
    static CONNECTIONS: AtomicU64 = AtomicU64::new(0);

    /// Serve one HTTP/2 connection: the echo page at `/`, a WebSocket echo on any path.
    pub async fn serve<S>(stream: S, config: Arc<ServerConfig>, peer: SocketAddr, how: &str) -> Result<(), Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let id = CONNECTIONS.fetch_add(1, Ordering::Relaxed) + 1;
        println!("h2 connection {id} from {peer} ({how})");
        let on_websocket = move |mut ws: WebSocket<H2Stream>, request: Request| async move {
            let stream = ws.get_ref().stream_id();
            println!("h2 connection {id} stream {}: WebSocket {} (extended CONNECT)", u32::from(stream), request.path);
            if let Err(e) = super::echo(&mut ws).await {
                eprintln!("h2 connection {id} stream {}: {e}", u32::from(stream));
            }
        };
        let on_request = move |parts: &http::request::Parts| {
            println!("h2 connection {id}: {} {}", parts.method, parts.uri.path());
            match parts.uri.path() {
                "/" => H2Response {
                    status: 200,
                    headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
                    body: super::ECHO_PAGE.as_bytes().to_vec(),
                },
                _ => H2Response { status: 404, headers: Vec::new(), body: b"not found".to_vec() },
            }
        };
        let decide = |_: &Request| Decision::accept();
        let result = serve_connection(stream, config, &H2Settings::default(), decide, on_websocket, on_request).await;
        println!("h2 connection {id} closed");
        result
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
