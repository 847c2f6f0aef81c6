//! The HTTP/2 client (RFC 8441, feature `h2`) against servers built here on the `h2` crate
//! alone: several WebSockets on one connection, a slow reader that stalls nobody else, the
//! fallback to HTTP/1.1, a refused CONNECT, and how closing and failing look from the server
//! (END_STREAM, RST_STREAM with CANCEL).
#![cfg(feature = "h2")]

mod async_support;
#[cfg(feature = "tls")]
#[path = "../examples/common/certs.rs"]
mod certs;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_support::LIMIT;
use bytes::Bytes;
use h2::server::SendResponse;
use h2::{Reason, RecvStream};
use rfc6455::tokio::h2::H2Stream;
use rfc6455::tokio::h2::client::{H2Connection, connect};
use rfc6455::tokio::{ClientConfig, ServerConfig, Timeouts, WebSocket, accept};
use rfc6455::{CloseCode, Config, Connection, Error, HandshakeError, Message};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

/// What the test server saw.
#[derive(Default)]
struct Seen {
    /// TCP connections accepted.
    connections: AtomicUsize,
    /// Of those, connections that started with the HTTP/2 preface.
    h2_connections: AtomicUsize,
    /// Extended CONNECT requests for a WebSocket.
    websocket_streams: AtomicUsize,
    /// HTTP/2 connections that have ended (the client went away after its last stream).
    h2_ended: AtomicUsize,
}

/// How a raw stream ended, seen from the server.
#[derive(Debug, PartialEq, Eq)]
enum StreamEnd {
    /// END_STREAM: the client ended the stream in order (RFC 8441 §5: a TCP FIN).
    EndStream,
    /// RST_STREAM with this reason (RFC 8441 §5: a TCP RST is RST_STREAM with CANCEL).
    Reset(Reason),
}

/// A server on the `h2` crate. Over HTTP/2 (a connection that starts with the preface) it
/// advertises `SETTINGS_ENABLE_CONNECT_PROTOCOL` if `extended_connect`, and answers each
/// CONNECT with `:protocol websocket` by its path:
/// - `/refuse`: 404 with a body;
/// - `/huge-head`: 200 with a 64 KiB header;
/// - `/flood`: 200, then 64 binary messages of 64 KiB, setting `flood_done` once all are
///   written (they can be only as fast as the client reads them);
/// - `/raw`: 200, then reads the stream itself; on the client's Close it answers with a Close,
///   and reports how the stream ended on `ends`;
/// - anything else: 200 and a WebSocket echo.
///
/// Other connections get the HTTP/1.1 WebSocket server.
struct TestServer {
    addr: SocketAddr,
    seen: Arc<Seen>,
    flood_done: Arc<AtomicBool>,
    ends: tokio::sync::mpsc::UnboundedReceiver<StreamEnd>,
}

const FLOOD_MESSAGES: usize = 64;
const FLOOD_SIZE: usize = 64 * 1024;

async fn test_server(extended_connect: bool) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let flood_done = Arc::new(AtomicBool::new(false));
    let (ends_tx, ends) = tokio::sync::mpsc::unbounded_channel();
    let (seen2, flood2) = (seen.clone(), flood_done.clone());
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else { return };
            seen2.connections.fetch_add(1, Ordering::SeqCst);
            let (seen, flood, ends) = (seen2.clone(), flood2.clone(), ends_tx.clone());
            tokio::spawn(async move {
                let mut first = [0u8; 3];
                let n = sock.peek(&mut first).await.unwrap_or(0);
                if n == 3 && &first == b"PRI" {
                    seen.h2_connections.fetch_add(1, Ordering::SeqCst);
                    serve_h2(sock, extended_connect, seen, flood, ends).await;
                } else if let Ok(mut ws) = accept(sock, &ServerConfig::default()).await {
                    echo(&mut ws).await;
                }
            });
        }
    });
    TestServer { addr, seen, flood_done, ends }
}

async fn serve_h2(
    sock: TcpStream,
    extended_connect: bool,
    seen: Arc<Seen>,
    flood_done: Arc<AtomicBool>,
    ends: tokio::sync::mpsc::UnboundedSender<StreamEnd>,
) {
    serve_h2_over(sock, extended_connect, seen, flood_done, ends).await;
}

async fn serve_h2_over<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    sock: S,
    extended_connect: bool,
    seen: Arc<Seen>,
    flood_done: Arc<AtomicBool>,
    ends: tokio::sync::mpsc::UnboundedSender<StreamEnd>,
) {
    let mut builder = h2::server::Builder::new();
    if extended_connect {
        builder.enable_connect_protocol();
    }
    let Ok(mut connection) = builder.handshake::<_, Bytes>(sock).await else { return };
    while let Some(Ok((request, mut respond))) = connection.accept().await {
        let is_websocket = request.method() == http::Method::CONNECT
            && request.extensions().get::<h2::ext::Protocol>().is_some_and(|p| p.as_str() == "websocket");
        if is_websocket {
            seen.websocket_streams.fetch_add(1, Ordering::SeqCst);
        }
        let path = request.uri().path().to_owned();
        let recv = request.into_body();
        let (flood_done, ends) = (flood_done.clone(), ends.clone());
        tokio::spawn(async move {
            match path.as_str() {
                "/refuse" => refuse(respond).await,
                "/huge-head" => {
                    let answer = http::Response::builder().header("x-big", "x".repeat(64 << 10)).body(()).unwrap();
                    let _ = respond.send_response(answer, false);
                }
                "/raw" => {
                    let _ = ends.send(raw(respond, recv).await);
                }
                _ => {
                    let mut ws = server_websocket(respond, recv);
                    if path == "/flood" {
                        for i in 0..FLOOD_MESSAGES {
                            if ws.send_binary(&vec![i as u8; FLOOD_SIZE]).await.is_err() {
                                return;
                            }
                        }
                        flood_done.store(true, Ordering::SeqCst);
                    }
                    echo(&mut ws).await;
                }
            }
        });
    }
    seen.h2_ended.fetch_add(1, Ordering::SeqCst);
}

/// Answer 200 and run a WebSocket server on the stream.
fn server_websocket(mut respond: SendResponse<Bytes>, recv: RecvStream) -> WebSocket<H2Stream> {
    let send = respond.send_response(http::Response::new(()), false).unwrap();
    let conn = Connection::new(Config::server());
    WebSocket::from_parts(H2Stream::new(send, recv), conn, &[], Timeouts::default()).unwrap()
}

async fn refuse(mut respond: SendResponse<Bytes>) {
    let answer = http::Response::builder().status(404).header("content-type", "text/plain").body(()).unwrap();
    let mut send = respond.send_response(answer, false).unwrap();
    let _ = send.send_data(Bytes::from_static(b"no such room"), true);
}

/// Read the stream by hand: answer the client's Close (its first frame) with a Close 1000 that
/// ends the server's side of the stream, and report how the client's side ends.
async fn raw(mut respond: SendResponse<Bytes>, mut recv: RecvStream) -> StreamEnd {
    let mut send = respond.send_response(http::Response::new(()), false).unwrap();
    let mut received = Vec::new();
    let mut answered = false;
    loop {
        match recv.data().await {
            Some(Ok(data)) => {
                let _ = recv.flow_control().release_capacity(data.len());
                received.extend_from_slice(&data);
                // A masked Close with a 2-byte payload: 0x88, 0x82, 4 mask bytes, 2 bytes.
                if !answered && received.len() >= 8 && received[0] == 0x88 {
                    answered = true;
                    let _ = send.send_data(Bytes::from_static(b"\x88\x02\x03\xe8"), true);
                }
            }
            Some(Err(e)) => return StreamEnd::Reset(e.reason().unwrap_or(Reason::INTERNAL_ERROR)),
            None => return StreamEnd::EndStream,
        }
    }
}

async fn echo<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(ws: &mut WebSocket<S>) {
    while let Ok(message) = ws.read().await {
        if message.is_data() && ws.send(message).await.is_err() {
            break;
        }
    }
}

fn config() -> ClientConfig {
    ClientConfig { timeouts: Timeouts { handshake: LIMIT, ..Timeouts::default() }, ..ClientConfig::default() }
}

fn url(server: &TestServer, path: &str) -> String {
    format!("ws://{}{path}", server.addr)
}

#[tokio::test]
async fn rfc8441_s4_several_websockets_on_one_connection_with_interleaved_frames() {
    let server = test_server(true).await;
    let (mut first, response, h2) = timeout(LIMIT, connect(&url(&server, "/a"), &config())).await.unwrap().unwrap();
    assert_eq!(response.status, 200);
    assert!(first.get_ref().is_h2());
    let h2 = h2.expect("an HTTP/2 connection");
    let mut others = Vec::new();
    for path in ["/b", "/c", "/d"] {
        // Each clone of the handle opens streams on the same connection.
        let handle = h2.clone();
        let (ws, response) = timeout(LIMIT, handle.open(path)).await.unwrap().unwrap();
        assert_eq!(response.status, 200);
        others.push((ws, path));
    }
    // Interleave: one message on each in turn, all sent before any echo is read.
    for round in 0..20 {
        first.send_text(&format!("/a {round}")).await.unwrap();
        for (ws, path) in &mut others {
            ws.send_text(&format!("{path} {round}")).await.unwrap();
        }
    }
    for round in 0..20 {
        assert_eq!(timeout(LIMIT, first.read()).await.unwrap().unwrap(), Message::Text(format!("/a {round}")));
        for (ws, path) in &mut others {
            assert_eq!(timeout(LIMIT, ws.read()).await.unwrap().unwrap(), Message::Text(format!("{path} {round}")));
        }
    }
    assert_eq!(server.seen.connections.load(Ordering::SeqCst), 1, "one TCP connection for all four");
    assert_eq!(server.seen.websocket_streams.load(Ordering::SeqCst), 4);
    for (ws, _) in &mut others {
        timeout(LIMIT, ws.close(CloseCode::NORMAL, "")).await.unwrap().unwrap();
        assert!(matches!(timeout(LIMIT, ws.read()).await.unwrap(), Err(Error::Closed)));
    }
}

#[tokio::test]
async fn rfc8441_s5_a_slow_reader_stalls_only_its_own_stream_and_its_sender() {
    let server = test_server(true).await;
    let h2 = timeout(LIMIT, H2Connection::connect(&url(&server, "/"), &config())).await.unwrap().unwrap();
    // The flood's reader does not read yet.
    let (mut flood, _) = timeout(LIMIT, h2.open("/flood")).await.unwrap().unwrap();
    let (mut echo, _) = timeout(LIMIT, h2.open("/echo")).await.unwrap().unwrap();
    for i in 0..50 {
        let payload = vec![i as u8; 10_000];
        echo.send_binary(&payload).await.unwrap();
        assert_eq!(timeout(LIMIT, echo.read()).await.unwrap().unwrap(), Message::Binary(payload));
    }
    // Back-pressure reached the flood's sender: 4 MiB cannot have been written into a stream
    // window of 256 KiB that nobody empties.
    assert!(!server.flood_done.load(Ordering::SeqCst), "the sender must wait for the slow reader");
    for i in 0..FLOOD_MESSAGES {
        assert_eq!(timeout(LIMIT, flood.read()).await.unwrap().unwrap(), Message::Binary(vec![i as u8; FLOOD_SIZE]));
    }
    // The last message is read only after the sender wrote it.
    assert!(server.flood_done.load(Ordering::SeqCst));
}

#[tokio::test]
async fn rfc8441_s3_without_the_setting_the_client_falls_back_to_http1() {
    let mut server = test_server(false).await;
    let (mut ws, response, h2) = timeout(LIMIT, connect(&url(&server, "/"), &config())).await.unwrap().unwrap();
    assert_eq!(response.status, 101);
    assert!(h2.is_none());
    assert!(!ws.get_ref().is_h2());
    ws.send_text("over HTTP/1.1").await.unwrap();
    assert_eq!(timeout(LIMIT, ws.read()).await.unwrap().unwrap(), Message::Text("over HTTP/1.1".into()));
    assert_eq!(server.seen.h2_connections.load(Ordering::SeqCst), 1, "HTTP/2 was tried first");
    assert_eq!(server.seen.websocket_streams.load(Ordering::SeqCst), 0, "RFC 8441 §3: no CONNECT was sent");
    assert_eq!(server.seen.connections.load(Ordering::SeqCst), 2);
    assert!(server.ends.try_recv().is_err());

    // Asked for HTTP/2 alone, the client says why it cannot.
    let result = timeout(LIMIT, H2Connection::connect(&url(&server, "/"), &config())).await.unwrap();
    assert!(matches!(result, Err(Error::Handshake(HandshakeError::ExtendedConnectDisabled))), "{result:?}");
}

#[tokio::test]
async fn a_server_that_speaks_only_http1_gets_an_http1_upgrade() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else { return };
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                // The HTTP/2 preface is not a WebSocket request: this server answers it with
                // an error and closes.
                if let Ok(mut ws) = accept(sock, &ServerConfig::default()).await {
                    echo(&mut ws).await;
                }
            });
        }
    });
    let (mut ws, response, h2) = timeout(LIMIT, connect(&format!("ws://{addr}/"), &config())).await.unwrap().unwrap();
    assert_eq!((response.status, h2.is_none(), ws.get_ref().is_h2()), (101, true, false));
    ws.send_text("hi").await.unwrap();
    assert_eq!(timeout(LIMIT, ws.read()).await.unwrap().unwrap(), Message::Text("hi".into()));
    assert_eq!(accepted.load(Ordering::SeqCst), 2, "the h2c attempt, then HTTP/1.1");
}

#[tokio::test]
async fn rfc8441_s5_a_refused_connect_is_a_refusal_with_status_headers_and_body() {
    let server = test_server(true).await;
    let result = timeout(LIMIT, connect(&url(&server, "/refuse"), &config())).await.unwrap();
    let Err(Error::Handshake(HandshakeError::Refused(refusal))) = result else { panic!("{result:?}") };
    assert_eq!(refusal.status(), 404);
    assert_eq!(refusal.response.header("content-type"), Some(&b"text/plain"[..]));
    assert_eq!(refusal.body_text(), Some("no such room"));
    // The connection is still good for other streams.
    let h2 = H2Connection::connect(&url(&server, "/"), &config()).await.unwrap();
    let (mut ws, _) = timeout(LIMIT, h2.open("/echo")).await.unwrap().unwrap();
    ws.send_text("still here").await.unwrap();
    assert_eq!(timeout(LIMIT, ws.read()).await.unwrap().unwrap(), Message::Text("still here".into()));
}

#[tokio::test]
async fn an_answer_head_over_max_handshake_size_fails_the_handshake() {
    let server = test_server(true).await;
    let h2 = H2Connection::connect(&url(&server, "/"), &config()).await.unwrap();
    // 64 KiB of header against the default limit of 16 KiB, as over HTTP/1.1.
    // The h2 crate refuses a header list that far over the limit for the whole connection
    // (GOAWAY with ENHANCE_YOUR_CALM): the client gets an error and holds none of it.
    let result = timeout(LIMIT, h2.open("/huge-head")).await.unwrap();
    assert!(matches!(result, Err(Error::Io(_))), "{:?}", result.map(|(_, response)| response.status));
}

#[tokio::test]
async fn rfc8441_s5_closing_ends_the_stream_with_end_stream() {
    let mut server = test_server(true).await;
    let h2 = H2Connection::connect(&url(&server, "/"), &config()).await.unwrap();
    let (mut ws, _) = timeout(LIMIT, h2.open("/raw")).await.unwrap().unwrap();
    // The server answers the Close and ends its side first (RFC 6455 §7.1.1); the client
    // then ends its own.
    timeout(LIMIT, ws.close(CloseCode::NORMAL, "")).await.unwrap().unwrap();
    assert!(matches!(timeout(LIMIT, ws.read()).await.unwrap(), Err(Error::Closed)));
    assert_eq!(timeout(LIMIT, server.ends.recv()).await.unwrap(), Some(StreamEnd::EndStream));
}

#[tokio::test]
async fn closed_waits_until_the_connection_has_ended_for_the_server_too() {
    let server = test_server(true).await;
    let h2 = H2Connection::connect(&url(&server, "/"), &config()).await.unwrap();
    let other = h2.clone();
    let (mut ws, _) = timeout(LIMIT, h2.open("/echo")).await.unwrap().unwrap();
    ws.send_text("last words").await.unwrap();
    assert_eq!(timeout(LIMIT, ws.read()).await.unwrap().unwrap(), Message::Text("last words".into()));
    timeout(LIMIT, ws.close(CloseCode::NORMAL, "")).await.unwrap().unwrap();
    drop(ws);
    drop(other);
    timeout(LIMIT, h2.closed()).await.expect("the connection ends once every handle and stream is gone");
    // The server's accept loop has seen the end of the connection by the time the client's
    // task is done: GOAWAY went out before it.
    timeout(LIMIT, async {
        while server.seen.h2_ended.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the server saw the connection end");
}

#[tokio::test]
async fn rfc8441_s5_a_dropped_websocket_resets_its_stream_with_cancel() {
    let mut server = test_server(true).await;
    let h2 = H2Connection::connect(&url(&server, "/"), &config()).await.unwrap();
    let (ws, _) = timeout(LIMIT, h2.open("/raw")).await.unwrap().unwrap();
    let (mut other, _) = timeout(LIMIT, h2.open("/echo")).await.unwrap().unwrap();
    drop(ws);
    assert_eq!(timeout(LIMIT, server.ends.recv()).await.unwrap(), Some(StreamEnd::Reset(Reason::CANCEL)));
    // Only that stream: the other WebSocket on the connection goes on.
    other.send_text("unaffected").await.unwrap();
    assert_eq!(timeout(LIMIT, other.read()).await.unwrap().unwrap(), Message::Text("unaffected".into()));
}

/// `wss://`: ALPN chooses between HTTP/2 and HTTP/1.1 on the TLS connection.
#[cfg(feature = "tls")]
mod tls {
    use super::*;

    use std::sync::OnceLock;

    use super::certs::LocalCa;
    use rfc6455::blocking::tls as tls_config;

    fn ca() -> &'static LocalCa {
        static CA: OnceLock<LocalCa> = OnceLock::new();
        CA.get_or_init(|| LocalCa::new("rfc6455 h2 client test CA"))
    }

    fn trusting_client() -> ClientConfig {
        ClientConfig {
            tls: Some(tls_config::client_config_with_roots(ca().cert_pem().as_bytes()).unwrap()),
            ..config()
        }
    }

    /// A TLS server whose ALPN offers `alpn`; over `h2` it serves as [`serve_h2`] does (with
    /// `extended_connect`), otherwise it runs the HTTP/1.1 WebSocket server. Counts TCP
    /// connections and HTTP/2 ones.
    async fn tls_server(alpn: &[&[u8]], extended_connect: bool) -> (SocketAddr, Arc<Seen>) {
        let issued = ca().issue(&["localhost"]);
        let base = tls_config::server_config_from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes()).unwrap();
        let mut server_config = (*base).clone();
        server_config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        let server_config = Arc::new(server_config);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Seen::default());
        let seen2 = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else { return };
                seen2.connections.fetch_add(1, Ordering::SeqCst);
                let (seen, server_config) = (seen2.clone(), server_config.clone());
                tokio::spawn(async move {
                    let Ok(stream) = rfc6455::tokio::tls::accept(sock, server_config).await else { return };
                    if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
                        seen.h2_connections.fetch_add(1, Ordering::SeqCst);
                        let (flood, (ends, _)) =
                            (Arc::new(AtomicBool::new(false)), tokio::sync::mpsc::unbounded_channel());
                        serve_h2_over(stream, extended_connect, seen, flood, ends).await;
                    } else if let Ok(mut ws) = accept(stream, &ServerConfig::default()).await {
                        echo(&mut ws).await;
                    }
                });
            }
        });
        (addr, seen)
    }

    async fn round_trip<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(ws: &mut WebSocket<S>) {
        ws.send_text("over TLS").await.unwrap();
        assert_eq!(timeout(LIMIT, ws.read()).await.unwrap().unwrap(), Message::Text("over TLS".into()));
    }

    #[tokio::test]
    async fn rfc8441_alpn_h2_with_the_setting_carries_the_websocket_over_http2() {
        let (addr, seen) = tls_server(&[b"h2", b"http/1.1"], true).await;
        let url = format!("wss://localhost:{}/", addr.port());
        let (mut ws, response, h2) = timeout(LIMIT, connect(&url, &trusting_client())).await.unwrap().unwrap();
        assert_eq!((response.status, ws.get_ref().is_h2()), (200, true));
        round_trip(&mut ws).await;
        let (mut second, _) = timeout(LIMIT, h2.unwrap().open("/second")).await.unwrap().unwrap();
        round_trip(&mut second).await;
        assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
        assert_eq!(seen.websocket_streams.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn rfc8441_alpn_http1_upgrades_on_the_same_tls_connection() {
        let (addr, seen) = tls_server(&[b"http/1.1"], true).await;
        let url = format!("wss://localhost:{}/", addr.port());
        let (mut ws, response, h2) = timeout(LIMIT, connect(&url, &trusting_client())).await.unwrap().unwrap();
        assert_eq!((response.status, ws.get_ref().is_h2(), h2.is_none()), (101, false, true));
        round_trip(&mut ws).await;
        assert_eq!(seen.connections.load(Ordering::SeqCst), 1, "no second connection");
        assert_eq!(seen.h2_connections.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn rfc8441_s3_alpn_h2_without_the_setting_falls_back_to_http1() {
        let (addr, seen) = tls_server(&[b"h2", b"http/1.1"], false).await;
        let url = format!("wss://localhost:{}/", addr.port());
        let (mut ws, response, h2) = timeout(LIMIT, connect(&url, &trusting_client())).await.unwrap().unwrap();
        assert_eq!((response.status, ws.get_ref().is_h2(), h2.is_none()), (101, false, true));
        round_trip(&mut ws).await;
        assert_eq!(seen.h2_connections.load(Ordering::SeqCst), 1, "HTTP/2 was tried first");
        assert_eq!(seen.websocket_streams.load(Ordering::SeqCst), 0, "RFC 8441 §3: no CONNECT was sent");
        assert_eq!(seen.connections.load(Ordering::SeqCst), 2);
    }
}

/// The client against this crate's own HTTP/2 server (`tokio::h2::server`).
mod own_server {
    use super::*;
    use rfc6455::extensions::permessage_deflate::DeflateConfig;
    use rfc6455::handshake::Request;
    use rfc6455::handshake::h2_server::H2Response;
    use rfc6455::tokio::h2::server::{H2Settings, serve_connection};
    use rfc6455::tokio::server::Decision;

    /// Serve HTTP/2 connections: `/private` is refused with 403, a `chat` subprotocol is chosen
    /// when offered, permessage-deflate is accepted; every WebSocket echoes. Counts connections.
    async fn own_server() -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        let config = Arc::new(ServerConfig { deflate: Some(DeflateConfig::default()), ..ServerConfig::default() });
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else { return };
                counter.fetch_add(1, Ordering::SeqCst);
                let config = config.clone();
                tokio::spawn(async move {
                    let decide = |request: &Request| match request.resource_name() {
                        "/private" => Decision::Reject { status: 403, reason: "members only".into() },
                        _ => Decision::Accept {
                            subprotocol: request.subprotocols.iter().find(|p| *p == "chat").cloned(),
                            headers: Vec::new(),
                        },
                    };
                    let on_websocket = |mut ws: WebSocket<H2Stream>, _: Request| async move { echo(&mut ws).await };
                    let on_request = |_: &http::request::Parts| H2Response {
                        status: 404,
                        headers: Vec::new(),
                        body: b"not here".to_vec(),
                    };
                    let _ =
                        serve_connection(sock, config, &H2Settings::default(), decide, on_websocket, on_request).await;
                });
            }
        });
        (addr, connections)
    }

    #[tokio::test]
    async fn rfc8441_several_websockets_with_deflate_and_a_subprotocol_on_one_connection() {
        let (addr, connections) = own_server().await;
        let client = ClientConfig {
            deflate: Some(DeflateConfig::default()),
            options: rfc6455::ClientOptions { subprotocols: vec!["x".into(), "chat".into()], ..Default::default() },
            ..config()
        };
        let (mut first, response, h2) =
            timeout(LIMIT, connect(&format!("ws://{addr}/a"), &client)).await.unwrap().unwrap();
        assert_eq!((response.status, response.subprotocol.as_deref()), (200, Some("chat")));
        assert!(response.extensions.iter().any(|e| e.starts_with("permessage-deflate")), "{:?}", response.extensions);
        let h2 = h2.unwrap();
        let mut others = Vec::new();
        for path in ["/b", "/c"] {
            others.push(timeout(LIMIT, h2.open(path)).await.unwrap().unwrap().0);
        }
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        for round in 0..10 {
            first.send_text(&format!("a{round}")).await.unwrap();
            for ws in &mut others {
                ws.send_binary(&big[..round * 10_000]).await.unwrap();
            }
        }
        for round in 0..10 {
            assert_eq!(timeout(LIMIT, first.read()).await.unwrap().unwrap(), Message::Text(format!("a{round}")));
            for ws in &mut others {
                assert_eq!(
                    timeout(LIMIT, ws.read()).await.unwrap().unwrap(),
                    Message::Binary(big[..round * 10_000].to_vec())
                );
            }
        }
        for ws in &mut others {
            timeout(LIMIT, ws.close(CloseCode::NORMAL, "")).await.unwrap().unwrap();
        }
        timeout(LIMIT, first.close(CloseCode::NORMAL, "")).await.unwrap().unwrap();
        assert_eq!(connections.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn rfc8441_s5_a_refusal_by_the_application_reaches_the_client_with_its_status_and_reason() {
        let (addr, _) = own_server().await;
        let h2 = timeout(LIMIT, H2Connection::connect(&format!("ws://{addr}/"), &config())).await.unwrap().unwrap();
        let result = timeout(LIMIT, h2.open("/private")).await.unwrap();
        let Err(Error::Handshake(HandshakeError::Refused(refusal))) = result else { panic!("{result:?}") };
        assert_eq!(refusal.status(), 403);
        assert!(refusal.body_text().is_some_and(|body| body.contains("members only")), "{refusal:?}");
        let (mut ws, _) = timeout(LIMIT, h2.open("/public")).await.unwrap().unwrap();
        ws.send_text("after a refusal").await.unwrap();
        assert_eq!(timeout(LIMIT, ws.read()).await.unwrap().unwrap(), Message::Text("after a refusal".into()));
    }
}
