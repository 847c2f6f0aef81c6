//! An HTTP/2 front for a demo that speaks HTTP/1.1 (RFC 8441 in front of RFC 6455 §4), the way
//! a reverse proxy puts one there: nginx answers a browser's extended CONNECT and opens an
//! HTTP/1.1 Upgrade to the application behind it.
//!
//! The front listens on a TLS port offering `h2` and `http/1.1` by ALPN (RFC 7301), with the
//! crate's own HTTP/2 server ([`rfc6455::tokio::h2::server`]). On an HTTP/2 connection:
//!
//! - **An extended CONNECT for WebSocket** (RFC 8441 §4): the front opens a loopback TCP
//!   connection to the demo's HTTP/1.1 port and sends an Upgrade request carrying the browser's
//!   path and query, `Origin`, `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions`. It
//!   reads the demo's answer *before* answering the browser: a `101` becomes the `200` of RFC
//!   8441 §5 with the demo's own `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions`, so the
//!   browser and the demo agree on permessage-deflate without the front taking part; any other
//!   status is passed on as it is. Then the stream and the TCP connection are joined byte for
//!   byte: frames pass through unchanged, masked as the browser masked them (RFC 6455 §5.3 holds
//!   over HTTP/2 too), so the demo's limits, inspector and closing handshake work as they are.
//! - **Any other `GET` or `HEAD`** (the page, its scripts): sent to the demo as an HTTP/1.1
//!   request, and its response (the demo's responses carry `Content-Length`) relayed on the
//!   stream without HTTP/1.1's connection-level fields (RFC 9113 §8.2.2).
//!
//! A client that chose `http/1.1` by ALPN is joined to the demo's port byte for byte (TLS
//! termination only). Bounded: response heads of at most [`MAX_HEAD`] bytes, bodies of at most
//! [`MAX_BODY`], [`CONNECT_TIMEOUT`] to reach the demo and [`ANSWER_TIMEOUT`] for its answer.
//!
//! Every connection, request and WebSocket is logged with its stream, so the log shows which
//! requests shared a connection.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rfc6455::handshake::Request;
use rfc6455::handshake::h2_server::H2Response;
use rfc6455::tokio::ServerConfig;
use rfc6455::tokio::h2::server::{self, H2Settings, Incoming, WebSocketRequest};
use rfc6455::tokio::server::Decision;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The largest response head the demo may send (its status line and fields).
pub const MAX_HEAD: usize = 16 << 10;
/// The largest response body relayed (the demo's page and scripts are far smaller).
pub const MAX_BODY: usize = 8 << 20;
/// How long reaching the demo's port may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the demo may take to answer (its `101`, or a whole response).
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Numbers the HTTP/2 connections in the log.
static CONNECTIONS: AtomicU64 = AtomicU64::new(0);

/// Listen on `listen` with `tls` (ALPN is set here) in front of the HTTP/1.1 port `backend`,
/// on a thread of its own. Returns the address listened on.
pub fn start(listen: &str, backend: SocketAddr, tls: Arc<rustls::ServerConfig>) -> io::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind(listen)?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let tls = server::alpn_h2_and_http11(tls);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    std::thread::Builder::new().name("h2-front".into()).spawn(move || {
        runtime.block_on(async move {
            match TcpListener::from_std(listener) {
                Ok(listener) => serve(listener, backend, tls).await,
                Err(e) => eprintln!("h2 front: {e}"),
            }
        })
    })?;
    Ok(addr)
}

async fn serve(listener: TcpListener, backend: SocketAddr, tls: Arc<rustls::ServerConfig>) {
    loop {
        let (sock, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("h2 front: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = sock.set_nodelay(true);
        let tls = tls.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(sock, peer, backend, tls).await {
                eprintln!("h2 front: {peer}: {e}");
            }
        });
    }
}

/// One TLS connection: HTTP/2 if the client chose it by ALPN, else bytes joined to the demo.
async fn connection(
    sock: TcpStream,
    peer: SocketAddr,
    backend: SocketAddr,
    tls: Arc<rustls::ServerConfig>,
) -> Result<(), rfc6455::Error> {
    let config = Arc::new(ServerConfig::default());
    let handshake = rfc6455::tokio::tls::accept(sock, tls);
    let mut stream = match tokio::time::timeout(config.timeouts.handshake, handshake).await {
        Ok(stream) => stream?,
        Err(_) => return Err(rfc6455::Error::Io(io::ErrorKind::TimedOut.into())),
    };
    if !server::negotiated_h2(&stream) {
        let mut demo = connect(backend).await?;
        tokio::io::copy_bidirectional(&mut stream, &mut demo).await?;
        return Ok(());
    }
    let id = CONNECTIONS.fetch_add(1, Ordering::Relaxed) + 1;
    println!("h2 front: connection {id} from {peer}");
    let mut conn = server::handshake(stream, config, &H2Settings::default()).await?;
    // `accept` also drives the connection: each request is served in a task of its own while
    // this loop keeps every stream's frames moving.
    while let Some(incoming) = conn.accept().await {
        match incoming? {
            Incoming::WebSocket(attempt) => {
                tokio::spawn(websocket(attempt, backend, id));
            }
            Incoming::Request(request, respond) => {
                let (parts, _body) = request.into_parts();
                tokio::spawn(plain(parts, respond, backend, id));
            }
            // Kinds of request a later version of the crate may add: dropped (the stream is reset).
            _ => {}
        }
    }
    println!("h2 front: connection {id} closed");
    Ok(())
}

/// A loopback connection to the demo's port, within [`CONNECT_TIMEOUT`].
async fn connect(backend: SocketAddr) -> io::Result<TcpStream> {
    match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(backend)).await {
        Ok(Ok(sock)) => {
            let _ = sock.set_nodelay(true);
            Ok(sock)
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(io::ErrorKind::TimedOut.into()),
    }
}

/// An extended CONNECT: the Upgrade to the demo first, then the browser's answer, then the two
/// streams joined.
async fn websocket(attempt: WebSocketRequest, backend: SocketAddr, id: u64) {
    let request = attempt.request().clone();
    let upgrade = upgrade_request(&request, backend);
    let answer = async {
        let mut demo = connect(backend).await?;
        demo.write_all(upgrade.as_bytes()).await?;
        let head = read_head(&mut demo).await?;
        Ok::<_, io::Error>((demo, head))
    };
    let (demo, head) = match tokio::time::timeout(ANSWER_TIMEOUT, answer).await {
        Ok(Ok(answered)) => answered,
        Ok(Err(e)) => {
            println!("h2 front: connection {id}: WebSocket {}: the chat did not answer: {e}", request.path);
            let _ = attempt.accept_with(|_| reject(502, "the chat server cannot be reached"));
            return;
        }
        Err(_) => {
            println!("h2 front: connection {id}: WebSocket {}: the chat did not answer in time", request.path);
            let _ = attempt.accept_with(|_| reject(504, "the chat server did not answer in time"));
            return;
        }
    };
    if head.status != 101 {
        println!("h2 front: connection {id}: WebSocket {}: refused by the chat with {}", request.path, head.status);
        let reason = String::from_utf8_lossy(&head.rest).into_owned();
        // A 2xx would tell the browser its CONNECT succeeded (RFC 8441 §5): not without a 101.
        let status = if (200..300).contains(&head.status) { 502 } else { head.status };
        let _ = attempt.accept_with(|_| reject(status, &reason));
        return;
    }
    // RFC 8441 §5: 200 with the demo's own choices, checked against the browser's offers by
    // the crate (a subprotocol it offered, extension parameters that fit its offer).
    let subprotocol = head.field("sec-websocket-protocol").map(str::to_owned);
    let extensions = head.field("sec-websocket-extensions").map(str::to_owned);
    let decide = |_: &Request| Decision::Accept {
        subprotocol,
        headers: extensions.map(|e| vec![("Sec-WebSocket-Extensions".to_owned(), e)]).unwrap_or_default(),
    };
    let ws = match attempt.accept_with(decide) {
        Ok(ws) => ws,
        Err(e) => {
            println!(
                "h2 front: connection {id}: WebSocket {}: the chat's 101 does not fit the offer: {e}",
                request.path
            );
            return;
        }
    };
    // Only the stream is wanted: the bytes are the demo's business, not the front's.
    let (mut stream, _) = ws.into_parts();
    let stream_id = u32::from(stream.stream_id());
    println!(
        "h2 front: connection {id} stream {stream_id}: WebSocket {} (extended CONNECT, 200) joined to the chat's 101 \
         (extensions {:?})",
        request.path,
        head.field("sec-websocket-extensions").unwrap_or("")
    );
    let mut demo = demo;
    let joined = async {
        // Bytes the demo sent right after its 101 (a greeting) go first.
        stream.write_all(&head.rest).await?;
        tokio::io::copy_bidirectional(&mut stream, &mut demo).await
    };
    match joined.await {
        Ok((up, down)) => {
            println!("h2 front: connection {id} stream {stream_id}: ended ({up} bytes up, {down} down)")
        }
        Err(e) => println!("h2 front: connection {id} stream {stream_id}: ended: {e}"),
    }
}

fn reject(status: u16, reason: &str) -> Decision {
    Decision::Reject { status, reason: reason.to_owned() }
}

/// The HTTP/1.1 Upgrade (RFC 6455 §4.1) for a browser's extended CONNECT. `Host` is the
/// browser's `:authority`, so the demo's same-origin check sees what the browser saw.
fn upgrade_request(request: &Request, backend: SocketAddr) -> String {
    let host = request.host.clone().unwrap_or_else(|| backend.to_string());
    let mut head = format!(
        "GET {} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n",
        request.path,
        new_key()
    );
    if let Some(origin) = &request.origin {
        head.push_str(&format!("Origin: {origin}\r\n"));
    }
    if !request.subprotocols.is_empty() {
        head.push_str(&format!("Sec-WebSocket-Protocol: {}\r\n", request.subprotocols.join(", ")));
    }
    for offer in &request.extensions {
        head.push_str(&format!("Sec-WebSocket-Extensions: {offer}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// A `Sec-WebSocket-Key` (RFC 6455 §4.1: 16 random bytes, base64).
fn new_key() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 16];
    rfc6455::MaskKeySource::Entropy.generator().fill(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A response head from the demo, and the bytes read past it.
struct Head {
    status: u16,
    fields: Vec<(String, String)>,
    rest: Vec<u8>,
}

impl Head {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Read a response head of at most [`MAX_HEAD`] bytes.
async fn read_head(demo: &mut TcpStream) -> io::Result<Head> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let mut fields = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut fields);
        match response.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let status = response.code.unwrap_or(502);
                let fields = response
                    .headers
                    .iter()
                    .map(|f| (f.name.to_ascii_lowercase(), String::from_utf8_lossy(f.value).into_owned()))
                    .collect();
                return Ok(Head { status, fields, rest: buf[len..].to_vec() });
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {}
            Ok(httparse::Status::Partial) => return Err(io::Error::other("the response head is too large")),
            Err(e) => return Err(io::Error::other(format!("malformed response: {e}"))),
        }
        let n = demo.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A plain request: forwarded as HTTP/1.1, its response relayed.
async fn plain(
    parts: http::request::Parts,
    mut respond: h2::server::SendResponse<bytes::Bytes>,
    backend: SocketAddr,
    id: u64,
) {
    let stream = u32::from(respond.stream_id());
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    println!("h2 front: connection {id} stream {stream}: {} {path}", parts.method);
    let answer = if parts.method != http::Method::GET && parts.method != http::Method::HEAD {
        text(405, "only GET and HEAD are forwarded")
    } else {
        match tokio::time::timeout(ANSWER_TIMEOUT, forward(&parts, &path, backend)).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => text(502, &format!("the chat server cannot be reached: {e}")),
            Err(_) => text(504, "the chat server did not answer in time"),
        }
    };
    if let Err(e) = server::send_response(&mut respond, answer) {
        println!("h2 front: connection {id} stream {stream}: {e}");
    }
}

fn text(status: u16, body: &str) -> H2Response {
    H2Response {
        status,
        headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
        body: body.as_bytes().to_vec(),
    }
}

/// Fields of an HTTP/1.1 response that speak of its connection, not of the resource: HTTP/2
/// forbids them (RFC 9113 §8.2.2).
const HOP_BY_HOP: [&str; 6] = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"];

async fn forward(parts: &http::request::Parts, path: &str, backend: SocketAddr) -> io::Result<H2Response> {
    let host = parts.uri.authority().map_or_else(|| backend.to_string(), |a| a.as_str().to_owned());
    let mut head = format!("{} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n", parts.method);
    for name in ["accept", "accept-language", "user-agent"] {
        if let Some(value) = parts.headers.get(name).and_then(|v| v.to_str().ok()) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str("\r\n");
    let mut demo = connect(backend).await?;
    demo.write_all(head.as_bytes()).await?;
    let Head { status, fields, mut rest } = read_head(&mut demo).await?;
    let length = fields.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.trim().parse::<usize>().ok());
    let wanted = if parts.method == http::Method::HEAD { Some(0) } else { length };
    if wanted.is_some_and(|n| n > MAX_BODY) {
        return Err(io::Error::other("the response body is too large"));
    }
    read_body(&mut demo, &mut rest, wanted).await?;
    shutdown(&mut demo).await;
    let headers = fields.into_iter().filter(|(n, _)| !HOP_BY_HOP.contains(&n.as_str())).collect();
    Ok(H2Response { status, headers, body: rest })
}

/// Read the body into `body` (which holds what came with the head): `length` bytes, or to the
/// end of the connection when the length is not given; at most [`MAX_BODY`].
async fn read_body(demo: &mut TcpStream, body: &mut Vec<u8>, length: Option<usize>) -> io::Result<()> {
    let mut chunk = [0u8; 16 << 10];
    loop {
        if let Some(length) = length
            && body.len() >= length
        {
            body.truncate(length);
            return Ok(());
        }
        if body.len() > MAX_BODY {
            return Err(io::Error::other("the response body is too large"));
        }
        let n = demo.read(&mut chunk).await?;
        if n == 0 {
            return match length {
                None => Ok(()),
                Some(_) => Err(io::ErrorKind::UnexpectedEof.into()),
            };
        }
        body.extend_from_slice(&chunk[..n]);
    }
}

async fn shutdown<S: AsyncWrite + Unpin>(stream: &mut S) {
    let _ = stream.shutdown().await;
}
