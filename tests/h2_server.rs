//! The HTTP/2 server (feature `h2`, RFC 8441) against the h2 crate's own client, over loopback
//! h2c with prior knowledge: the server offers extended CONNECT, many WebSockets share one
//! connection with their frames interleaved, a stream whose reader is slow holds back only its
//! own sender, refusals get the decided statuses, and a plain GET is served on the same
//! connection.
#![cfg(feature = "h2")]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use h2::client::SendRequest;
use rfc6455::handshake::h2_server::H2Response;
use rfc6455::tokio::h2::H2Stream;
use rfc6455::tokio::h2::server::{H2Settings, serve_connection};
use rfc6455::tokio::server::Decision;
use rfc6455::tokio::{ServerConfig, Timeouts, WebSocket};
use rfc6455::{Config, Connection, MaskKeySource, Message};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

mod async_support;
use async_support::LIMIT;
#[cfg(feature = "tls")]
#[path = "../examples/common/certs.rs"]
mod certs;

const PAGE: &[u8] = b"<!doctype html><title>echo</title>";

/// An h2c echo server on loopback: every WebSocket echoes its data messages; `GET /` gets
/// [`PAGE`], anything else 404. A WebSocket asking for subprotocol `chat` gets it.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Arc::new(ServerConfig::default());
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let config = config.clone();
            tokio::spawn(async move {
                let decide = |request: &rfc6455::handshake::Request| {
                    let chat = request.subprotocols.iter().any(|p| p == "chat");
                    Decision::Accept { subprotocol: chat.then(|| "chat".to_owned()), headers: Vec::new() }
                };
                let on_request = |parts: &http::request::Parts| match parts.uri.path() {
                    "/" => H2Response {
                        status: 200,
                        headers: vec![("content-type".into(), "text/html".into())],
                        body: PAGE.to_vec(),
                    },
                    _ => H2Response { status: 404, headers: Vec::new(), body: b"not found".to_vec() },
                };
                let _ = serve_connection(sock, config, &H2Settings::default(), decide, echo, on_request).await;
            });
        }
    });
    addr
}

async fn echo(mut ws: WebSocket<H2Stream>, _: rfc6455::handshake::Request) {
    while let Ok(message) = ws.read().await {
        if message.is_data() && ws.send(message).await.is_err() {
            break;
        }
    }
}

/// An HTTP/2 client connection (h2c, prior knowledge) whose server SETTINGS have arrived.
///
/// Its connection window holds every stream's window (16 streams of the default 65,535
/// bytes), as the server's does: with the default connection window (also 65,535), one stream
/// whose echoes are not read would use it all up and stall every other stream's echoes at the
/// client, whatever the server does.
async fn client(addr: SocketAddr) -> SendRequest<Bytes> {
    let sock = TcpStream::connect(addr).await.unwrap();
    let (send_request, conn) =
        h2::client::Builder::new().initial_connection_window_size(16 * 65_535).handshake(sock).await.unwrap();
    tokio::spawn(conn);
    let mut send_request = send_request.ready().await.unwrap();
    // The server's SETTINGS come with its preface; wait until the connection task read them.
    for _ in 0..1000 {
        if send_request.is_extended_connect_protocol_enabled() {
            break;
        }
        tokio::task::yield_now().await;
        send_request = send_request.ready().await.unwrap();
    }
    send_request
}

/// Send an extended CONNECT (RFC 8441 §4) with `fields`; the response and the stream.
async fn connect(
    send_request: &mut SendRequest<Bytes>,
    addr: SocketAddr,
    protocol: Option<&str>,
    fields: &[(&str, &str)],
) -> (http::Response<h2::RecvStream>, h2::SendStream<Bytes>) {
    let mut request = match protocol {
        Some(_) => http::Request::connect(format!("http://{addr}/echo")),
        // A CONNECT without :protocol names only an authority (RFC 9113 §8.5).
        None => http::Request::connect(addr.to_string()),
    };
    for (name, value) in fields {
        request = request.header(*name, *value);
    }
    let mut request = request.body(()).unwrap();
    if let Some(protocol) = protocol {
        request.extensions_mut().insert(h2::ext::Protocol::from(protocol));
    }
    let ready = send_request.clone().ready().await.unwrap();
    *send_request = ready;
    let (response, send) = send_request.send_request(request, false).unwrap();
    (timeout(LIMIT, response).await.unwrap().unwrap(), send)
}

/// A client WebSocket over a new stream of `send_request`'s connection.
async fn open_websocket(send_request: &mut SendRequest<Bytes>, addr: SocketAddr, seed: u64) -> WebSocket<H2Stream> {
    let (response, send) = connect(send_request, addr, Some("websocket"), &[("sec-websocket-version", "13")]).await;
    assert_eq!(response.status(), 200);
    let stream = H2Stream::new(send, response.into_body());
    let client = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(seed)));
    WebSocket::from_parts(stream, client, &[], Timeouts::default()).unwrap()
}

#[tokio::test]
async fn rfc8441_s3_the_server_offers_extended_connect_in_its_settings() {
    let addr = echo_server().await;
    let send_request = client(addr).await;
    assert!(send_request.is_extended_connect_protocol_enabled(), "SETTINGS_ENABLE_CONNECT_PROTOCOL = 1");
}

#[tokio::test]
async fn rfc8441_s5_a_websocket_is_accepted_with_200_and_echoes() {
    let addr = echo_server().await;
    let mut send_request = client(addr).await;
    let fields = [("sec-websocket-version", "13"), ("sec-websocket-protocol", "superchat, chat")];
    let (response, send) = connect(&mut send_request, addr, Some("websocket"), &fields).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["sec-websocket-protocol"], "chat");
    assert!(response.headers().get("sec-websocket-accept").is_none(), "RFC 8441 §5: no accept");
    let stream = H2Stream::new(send, response.into_body());
    let mut ws = WebSocket::from_parts(stream, Connection::new(Config::client()), &[], Timeouts::default()).unwrap();
    ws.send_text("hello over h2").await.unwrap();
    assert_eq!(timeout(LIMIT, ws.read()).await.unwrap().unwrap(), Message::Text("hello over h2".into()));
}

#[tokio::test]
async fn rfc8441_s5_many_websockets_share_one_connection_with_interleaved_frames() {
    const SOCKETS: usize = 12;
    const ROUNDS: usize = 30;
    let addr = echo_server().await;
    let mut send_request = client(addr).await;
    let mut sockets = Vec::new();
    for i in 0..SOCKETS {
        sockets.push(open_websocket(&mut send_request, addr, i as u64).await);
    }
    // Round after round, one message on every stream: the connection carries their frames
    // interleaved, and each echo must come back on its own stream, in order.
    for round in 0..ROUNDS {
        for (i, ws) in sockets.iter_mut().enumerate() {
            ws.feed(&Message::Text(format!("socket {i} round {round}"))).await.unwrap();
        }
        for ws in sockets.iter_mut() {
            ws.flush().await.unwrap();
        }
    }
    for (i, ws) in sockets.iter_mut().enumerate() {
        for round in 0..ROUNDS {
            let echo = timeout(LIMIT, ws.read()).await.unwrap().unwrap();
            assert_eq!(echo, Message::Text(format!("socket {i} round {round}")));
        }
    }
    // Every stream closes on its own; the connection and the others go on.
    let mut first = sockets.remove(0);
    let mut second = sockets.remove(0);
    timeout(LIMIT, first.close(rfc6455::CloseCode::NORMAL, "")).await.unwrap().unwrap();
    second.send_text("still here").await.unwrap();
    assert_eq!(timeout(LIMIT, second.read()).await.unwrap().unwrap(), Message::Text("still here".into()));
    // RFC 8441 §3: once offered, extended CONNECT is never withdrawn (no SETTINGS with 0).
    assert!(send_request.is_extended_connect_protocol_enabled());
}

#[tokio::test]
async fn rfc9113_s5_2_a_slow_reader_on_one_stream_does_not_stall_the_others() {
    const MESSAGE: usize = 64 << 10;
    const MESSAGES: usize = 128; // 8 MiB: far more than every window and buffer on the way
    let addr = echo_server().await;
    let mut send_request = client(addr).await;
    let slow = open_websocket(&mut send_request, addr, 1).await;
    let mut fast = open_websocket(&mut send_request, addr, 2).await;
    // The slow stream's client sends without reading the echoes: the echoes fill its window,
    // the server's echo task waits, stops reading, and the window toward the server closes.
    let (mut slow_reader, mut slow_writer) = slow.split();
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let writer = tokio::spawn(async move {
        let payload = vec![5u8; MESSAGE];
        for _ in 0..MESSAGES {
            slow_writer.send_binary(&payload).await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
        }
        slow_writer
    });
    // Meanwhile the other stream on the same connection echoes at once, many times over.
    for i in 0..200 {
        timeout(LIMIT, fast.send_text(&format!("ping {i}"))).await.expect("the other stream stalled").unwrap();
        let echo = timeout(LIMIT, fast.read()).await.expect("the other stream stalled").unwrap();
        assert_eq!(echo, Message::Text(format!("ping {i}")));
    }
    // Flow control reached the slow stream's sender: it is held back, not buffered whole.
    let held_back = sent.load(Ordering::SeqCst);
    assert!(held_back < MESSAGES, "the slow stream's sender was never held back ({held_back} of {MESSAGES} sent)");
    // Reading the echoes releases it: everything arrives, nothing was lost.
    for _ in 0..MESSAGES {
        let echo = timeout(LIMIT, slow_reader.read()).await.unwrap().unwrap();
        assert_eq!(echo, Message::Binary(vec![5u8; MESSAGE]));
    }
    timeout(LIMIT, writer).await.unwrap().unwrap();
    assert_eq!(sent.load(Ordering::SeqCst), MESSAGES);
}

#[tokio::test]
async fn rfc8441_s5_a_wrong_version_is_answered_400_naming_version_13() {
    let addr = echo_server().await;
    let mut send_request = client(addr).await;
    for fields in [&[("sec-websocket-version", "8")][..], &[][..]] {
        let (response, _) = connect(&mut send_request, addr, Some("websocket"), fields).await;
        assert_eq!(response.status(), 400, "{fields:?}");
        assert_eq!(response.headers()["sec-websocket-version"], "13");
    }
}

#[tokio::test]
async fn rfc8441_s5_a_connect_without_protocol_is_answered_400() {
    let addr = echo_server().await;
    let mut send_request = client(addr).await;
    let (response, _) = connect(&mut send_request, addr, None, &[("sec-websocket-version", "13")]).await;
    assert_eq!(response.status(), 400);
    // And the connection is still good for a WebSocket.
    let mut ws = open_websocket(&mut send_request, addr, 9).await;
    ws.send_text("after a refusal").await.unwrap();
    assert_eq!(timeout(LIMIT, ws.read()).await.unwrap().unwrap(), Message::Text("after a refusal".into()));
}

#[tokio::test]
async fn rfc8441_s4_the_server_opens_no_tunnel_to_the_authority() {
    let addr = echo_server().await;
    let mut send_request = client(addr).await;
    // :authority names another host: the WebSocket is served here all the same.
    let mut request = http::Request::connect("http://elsewhere.example:443/echo")
        .header("sec-websocket-version", "13")
        .body(())
        .unwrap();
    request.extensions_mut().insert(h2::ext::Protocol::from("websocket"));
    send_request = send_request.ready().await.unwrap();
    let (response, send) = send_request.send_request(request, false).unwrap();
    let response = timeout(LIMIT, response).await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    let stream = H2Stream::new(send, response.into_body());
    let mut ws = WebSocket::from_parts(stream, Connection::new(Config::client()), &[], Timeouts::default()).unwrap();
    ws.send_text("served here").await.unwrap();
    assert_eq!(timeout(LIMIT, ws.read()).await.unwrap().unwrap(), Message::Text("served here".into()));
    // An extended CONNECT for a protocol this server does not speak: 501, no tunnel.
    let (response, _) = connect(&mut send_request, addr, Some("connect-udp"), &[]).await;
    assert_eq!(response.status(), 501);
}

#[tokio::test]
async fn rfc8441_s5_a_plain_get_is_served_on_the_same_connection_as_the_websockets() {
    let addr = echo_server().await;
    let mut send_request = client(addr).await;
    let mut ws = open_websocket(&mut send_request, addr, 4).await;
    for (path, status, body) in [("/", 200, PAGE), ("/missing", 404, &b"not found"[..])] {
        let request = http::Request::get(format!("http://{addr}{path}")).body(()).unwrap();
        send_request = send_request.ready().await.unwrap();
        let (response, _) = send_request.send_request(request, true).unwrap();
        let response = timeout(LIMIT, response).await.unwrap().unwrap();
        assert_eq!(response.status(), status);
        let mut body_stream = response.into_body();
        let mut got = Vec::new();
        while let Some(chunk) = body_stream.data().await {
            let chunk = chunk.unwrap();
            body_stream.flow_control().release_capacity(chunk.len()).unwrap();
            got.extend_from_slice(&chunk);
        }
        assert_eq!(got, body);
    }
    ws.send_text("the page and its socket, one connection").await.unwrap();
    let echo = timeout(LIMIT, ws.read()).await.unwrap().unwrap();
    assert_eq!(echo, Message::Text("the page and its socket, one connection".into()));
}

/// One TLS port for both protocols (features `h2` and `tls`): ALPN `h2` gets HTTP/2 and
/// extended CONNECT, a client that offers no ALPN (or `http/1.1`) gets the HTTP/1.1 Upgrade.
#[cfg(feature = "tls")]
mod tls {
    use std::net::SocketAddr;
    use std::sync::{Arc, OnceLock};

    use rfc6455::blocking::tls as tls_config;
    use rfc6455::tokio::h2::server::{H2Settings, alpn_h2_and_http11, negotiated_h2, serve_connection};
    use rfc6455::tokio::server::Decision;
    use rfc6455::tokio::{ClientConfig, ServerConfig, accept_with, connect_with, tls};
    use rfc6455::{Config, Connection, Message};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::time::timeout;

    use super::{H2Response, H2Stream, LIMIT, Timeouts, WebSocket, certs, echo};

    fn ca() -> &'static certs::LocalCa {
        static CA: OnceLock<certs::LocalCa> = OnceLock::new();
        CA.get_or_init(|| certs::LocalCa::new("rfc6455 h2 test CA"))
    }

    /// A TLS port serving both, dispatched on ALPN as `async_echo_server --h2` does.
    async fn both_server() -> SocketAddr {
        let issued = ca().issue(&["localhost"]);
        let tls_config = tls_config::server_config_from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes());
        let tls_config = alpn_h2_and_http11(tls_config.unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = Arc::new(ServerConfig::default());
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (tls_config, config) = (tls_config.clone(), config.clone());
                tokio::spawn(async move {
                    let Ok(stream) = tls::accept(sock, tls_config).await else { return };
                    if negotiated_h2(&stream) {
                        let page = |_: &http::request::Parts| H2Response { status: 204, headers: vec![], body: vec![] };
                        let decide = |_: &rfc6455::handshake::Request| Decision::accept();
                        let _ = serve_connection(stream, config, &H2Settings::default(), decide, echo, page).await;
                    } else if let Ok(mut ws) = accept_with(stream, &config, |_| Decision::accept()).await {
                        while let Ok(message) = ws.read().await {
                            if message.is_data() && ws.send(message).await.is_err() {
                                break;
                            }
                        }
                    }
                });
            }
        });
        addr
    }

    fn client_tls(alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
        let roots = tls_config::client_config_with_roots(ca().cert_pem().as_bytes()).unwrap();
        let mut config = Arc::unwrap_or_clone(roots);
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }

    #[tokio::test]
    async fn rfc6455_s4_http_1_1_upgrade_still_works_on_the_h2_port() {
        let addr = both_server().await;
        let url = format!("wss://localhost:{}/", addr.port());
        let config = ClientConfig { tls: Some(client_tls(&[])), ..ClientConfig::default() };
        let (mut ws, response) = timeout(LIMIT, connect_with(&url, &config)).await.unwrap().unwrap();
        assert_eq!(response.status, 101, "HTTP/1.1 Upgrade");
        ws.send_text("over HTTP/1.1").await.unwrap();
        assert_eq!(timeout(LIMIT, ws.read()).await.unwrap().unwrap(), Message::Text("over HTTP/1.1".into()));
        // A client that offers http/1.1 by ALPN gets it too.
        let config = ClientConfig { tls: Some(client_tls(&[b"http/1.1"])), ..ClientConfig::default() };
        let (_, response) = timeout(LIMIT, connect_with(&url, &config)).await.unwrap().unwrap();
        assert_eq!(response.status, 101);
    }

    #[tokio::test]
    async fn rfc8441_s3_alpn_h2_gets_http2_with_extended_connect_on_the_same_port() {
        let addr = both_server().await;
        let sock = TcpStream::connect(addr).await.unwrap();
        let stream = tls::connect(sock, "localhost", client_tls(&[b"h2", b"http/1.1"])).await.unwrap();
        assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let (send_request, conn) = h2::client::handshake(stream).await.unwrap();
        tokio::spawn(conn);
        let mut send_request = send_request.ready().await.unwrap();
        for _ in 0..1000 {
            if send_request.is_extended_connect_protocol_enabled() {
                break;
            }
            tokio::task::yield_now().await;
            send_request = send_request.ready().await.unwrap();
        }
        let mut request =
            http::Request::connect("https://localhost/echo").header("sec-websocket-version", "13").body(()).unwrap();
        request.extensions_mut().insert(h2::ext::Protocol::from("websocket"));
        let (response, send) = send_request.send_request(request, false).unwrap();
        let response = timeout(LIMIT, response).await.unwrap().unwrap();
        assert_eq!(response.status(), 200);
        let stream = H2Stream::new(send, response.into_body());
        let mut ws =
            WebSocket::from_parts(stream, Connection::new(Config::client()), &[], Timeouts::default()).unwrap();
        ws.send_text("over HTTP/2 and TLS").await.unwrap();
        assert_eq!(timeout(LIMIT, ws.read()).await.unwrap().unwrap(), Message::Text("over HTTP/2 and TLS".into()));
    }
}

/// The frame log's handshake record over HTTP/2: the extended CONNECT and the 200 as header
/// lists written one field a line, pseudo-header fields first (HTTP/1.1 has a request line and
/// a status line there instead).
#[tokio::test]
async fn rfc8441_s5_the_frame_log_records_the_extended_connect_and_its_200() {
    use rfc6455::observe::{FrameLog, LogEntry};
    use std::time::Duration;
    let log = Arc::new(FrameLog::new(1024));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config =
        Arc::new(ServerConfig { config: Config::server().with_observer(log.clone()), ..ServerConfig::default() });
    tokio::spawn(async move {
        if let Ok((sock, _)) = listener.accept().await {
            let decide = |_: &rfc6455::handshake::Request| Decision::accept();
            let on_request =
                |_: &http::request::Parts| H2Response { status: 404, headers: Vec::new(), body: Vec::new() };
            let _ = serve_connection(sock, config, &H2Settings::default(), decide, echo, on_request).await;
        }
    });
    let mut send_request = client(addr).await;
    let mut ws = open_websocket(&mut send_request, addr, 7).await;
    ws.send_text("seen").await.unwrap();
    assert_eq!(timeout(LIMIT, ws.read()).await.unwrap().unwrap(), Message::text("seen"));

    let mut entries = Vec::new();
    log.take(&mut entries, Duration::from_secs(1));
    let (request, response) = entries
        .iter()
        .find_map(|entry| match entry {
            LogEntry::Handshake { request, response, .. } => Some((request.clone(), response.clone())),
            _ => None,
        })
        .expect("the handshake was recorded");
    assert!(request.starts_with(":method: CONNECT\r\n:protocol: websocket\r\n"), "{request}");
    assert!(request.contains(&format!(":authority: {addr}\r\n")), "{request}");
    assert!(request.contains("sec-websocket-version: 13\r\n"), "{request}");
    assert!(request.ends_with("\r\n\r\n"), "{request}");
    assert!(response.starts_with(":status: 200\r\n"), "{response}");
    assert!(!response.contains("sec-websocket-accept"), "no accept over HTTP/2: {response}");
    // The frames of that WebSocket are in the same log.
    assert!(entries.iter().any(|entry| matches!(entry, LogEntry::Frame(_))));
}
