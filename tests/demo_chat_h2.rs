//! The chat demo over HTTP/2 (RFC 8441), through the front of `examples/common/h2_front.rs`: a
//! client opens WebSockets as extended CONNECTs on one HTTP/2 connection to the front, which
//! joins each to an HTTP/1.1 Upgrade to the chat. The chat and the front are the examples' own
//! modules, started in-process on port 0 (the front with a certificate from a local test CA).
//! The page and its scripts, fetched over HTTP/2 with the `h2` crate's own client, are the
//! chat's HTTP/1.1 answers relayed (RFC 9113 §8.3.1 in, RFC 9112 out).

#[path = "../examples/common/certs.rs"]
mod certs;
#[path = "../examples/chat/server.rs"]
mod chat_server;
#[path = "../examples/common/mod.rs"]
mod common;
#[path = "../examples/common/h2_front.rs"]
mod h2_front;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use chat_server::ChatServer;
use rfc6455::blocking::tls as tls_config;
use rfc6455::extensions::permessage_deflate::DeflateConfig;
use rfc6455::tokio::h2::H2Stream;
use rfc6455::tokio::h2::client::H2Connection;
use rfc6455::tokio::{ClientConfig, Timeouts, WebSocket};
use rfc6455::{Error, HandshakeError, Message};
use rustls::pki_types::ServerName;
use serde_json::{Value, json};
use tokio::time::timeout;

/// The longest any one step waits.
const PATIENCE: Duration = Duration::from_secs(10);

/// The chat, its front, and a client configuration that trusts the front's certificate.
fn start() -> (ChatServer, SocketAddr, ClientConfig) {
    let (chat, front, tls) = start_tls();
    let client = ClientConfig {
        tls: Some(tls),
        timeouts: Timeouts { handshake: PATIENCE, ..Timeouts::default() },
        ..ClientConfig::default()
    };
    (chat, front, client)
}

/// The chat, its front, and a TLS client configuration that trusts the front's certificate.
fn start_tls() -> (ChatServer, SocketAddr, Arc<rustls::ClientConfig>) {
    let chat = ChatServer::start("127.0.0.1:0").expect("start the chat");
    let ca = certs::LocalCa::new("rfc6455 chat h2 test CA");
    let issued = ca.issue(&["127.0.0.1"]);
    let tls = tls_config::server_config_from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes()).unwrap();
    let front = h2_front::start("127.0.0.1:0", chat.local_addr(), tls).expect("start the front");
    (chat, front, tls_config::client_config_with_roots(ca.cert_pem().as_bytes()).unwrap())
}

async fn send(ws: &mut WebSocket<H2Stream>, kind: &str, payload: Value) {
    ws.send_text(&json!({ "type": kind, "payload": payload }).to_string()).await.expect("send");
}

/// The payload of the next message of type `kind`, skipping others.
async fn expect(ws: &mut WebSocket<H2Stream>, kind: &str) -> Value {
    loop {
        let message = timeout(PATIENCE, ws.read()).await.expect("a message in time").expect("the chat is there");
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).expect("the chat sends JSON");
            if value["type"] == kind {
                return value["payload"].clone();
            }
        }
    }
}

#[tokio::test]
async fn rfc8441_chat_through_the_front_two_websockets_on_one_connection_talk() {
    let (_chat, front, client) = start();
    let h2 = H2Connection::connect(&format!("wss://{front}/"), &client).await.expect("HTTP/2 to the front");
    let (mut ada, response) = h2.open("/ws").await.expect("the first WebSocket");
    assert_eq!(response.status, 200, "RFC 8441 §5: the extended CONNECT is answered 200");
    let (mut grace, _) = h2.open("/ws").await.expect("the second WebSocket, on the same connection");
    assert_ne!(ada.get_ref().stream_id(), grace.get_ref().stream_id());

    send(&mut ada, "join", json!({ "room": "lobby", "user": "ada" })).await;
    assert_eq!(expect(&mut ada, "join").await["user"], "ada");
    send(&mut grace, "join", json!({ "room": "lobby", "user": "grace" })).await;
    assert_eq!(expect(&mut grace, "join").await["user"], "grace");
    send(&mut ada, "chat", json!({ "text": "hi grace, over HTTP/2" })).await;
    let got = expect(&mut grace, "chat").await;
    assert_eq!((&got["user"], &got["text"]), (&json!("ada"), &json!("hi grace, over HTTP/2")));
    send(&mut grace, "chat", json!({ "text": "hello ada" })).await;
    assert_eq!(expect(&mut ada, "chat").await["text"], "hello ada");
}

/// The front answers with the chat's own permessage-deflate choice (RFC 7692 §5), so the client
/// and the chat compress alike while the frames pass through the front untouched.
#[tokio::test]
async fn rfc8441_the_front_answers_with_the_chats_extension_choice() {
    let (_chat, front, mut client) = start();
    client.deflate = Some(DeflateConfig::default());
    let h2 = H2Connection::connect(&format!("wss://{front}/"), &client).await.expect("HTTP/2 to the front");
    let (mut ws, response) = h2.open("/ws").await.expect("a WebSocket");
    assert!(
        response.extensions.iter().any(|e| e.starts_with("permessage-deflate")),
        "the chat accepts permessage-deflate, and the 200 says so: {:?}",
        response.extensions
    );
    // Compressed both ways: a message that deflates well (within the chat's 2000 characters) makes the round trip.
    let text = "compressible ".repeat(150).trim_end().to_owned();
    send(&mut ws, "join", json!({ "room": "lobby", "user": "ada" })).await;
    expect(&mut ws, "join").await;
    let (mut other, _) = h2.open("/ws").await.expect("a second WebSocket");
    send(&mut other, "join", json!({ "room": "lobby", "user": "grace" })).await;
    expect(&mut other, "join").await;
    send(&mut ws, "chat", json!({ "text": text })).await;
    assert_eq!(expect(&mut other, "chat").await["text"], json!(text));
}

/// A refusal of the chat (403 for a foreign Origin) reaches the client as that status.
#[tokio::test]
async fn rfc8441_the_front_passes_on_the_chats_refusal() {
    let (_chat, front, mut client) = start();
    client.options.origin = Some("https://elsewhere.example".into());
    let h2 = H2Connection::connect(&format!("wss://{front}/"), &client).await.expect("HTTP/2 to the front");
    match h2.open("/ws").await {
        Err(Error::Handshake(HandshakeError::Refused(refusal))) => assert_eq!(refusal.status(), 403),
        Err(e) => panic!("expected the chat's 403, got {e}"),
        Ok(_) => panic!("a cross-origin WebSocket was accepted"),
    }
}

/// A response, as both protocols give it.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
}

/// `GET path` from the chat itself, over HTTP/1.1 (its responses carry `Content-Length`).
fn http11_get(chat: SocketAddr, path: &str) -> Answer {
    let mut stream = TcpStream::connect(chat).expect("connect to the chat");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {chat}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("the chat's answer");
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete head");
    let head = std::str::from_utf8(&response[..split]).expect("an ASCII head");
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("a status");
    let content_type = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| value.trim().to_owned());
    Answer { status, content_type, body: response[split + 4..].to_vec() }
}

/// [`http11_get`] off the runtime's thread.
async fn http11(chat: &ChatServer, path: &str) -> Answer {
    let (chat, path) = (chat.local_addr(), path.to_owned());
    tokio::task::spawn_blocking(move || http11_get(chat, &path)).await.expect("the HTTP/1.1 request")
}

/// `GET path` on an HTTP/2 connection made by the `h2` crate's client (not the crate's own
/// HTTP/2 code, which the front is built on).
async fn h2_get(sender: &h2::client::SendRequest<bytes::Bytes>, front: SocketAddr, path: &str) -> Answer {
    let request = http::Request::get(format!("https://{front}{path}")).body(()).unwrap();
    let mut sender = sender.clone().ready().await.expect("the connection takes a request");
    let (response, _) = sender.send_request(request, true).expect("send the request");
    let response = timeout(PATIENCE, response).await.expect("an answer in time").expect("a response");
    assert_eq!(response.version(), http::Version::HTTP_2);
    let (parts, mut body) = response.into_parts();
    let mut bytes = Vec::new();
    while let Some(chunk) = timeout(PATIENCE, body.data()).await.expect("the body in time") {
        let chunk = chunk.expect("a DATA frame");
        let _ = body.flow_control().release_capacity(chunk.len());
        bytes.extend_from_slice(&chunk);
    }
    for field in ["connection", "keep-alive", "transfer-encoding"] {
        assert!(!parts.headers.contains_key(field), "RFC 9113 §8.2.2: no {field} field over HTTP/2");
    }
    let content_type = parts.headers.get("content-type").map(|v| v.to_str().expect("ASCII").to_owned());
    Answer { status: parts.status.as_u16(), content_type, body: bytes }
}

/// The page, its script and style sheet, and a path the chat does not serve, all on one
/// HTTP/2 connection: each the chat's own HTTP/1.1 answer, status, type and body.
#[tokio::test]
async fn rfc9113_the_page_and_its_scripts_over_http2_are_the_chats_http11_answers() {
    let (chat, front, tls) = start_tls();
    let mut tls = (*tls).clone();
    tls.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = tokio::net::TcpStream::connect(front).await.expect("connect to the front");
    let server_name = ServerName::try_from("127.0.0.1").unwrap();
    let stream = tokio_rustls::TlsConnector::from(Arc::new(tls)).connect(server_name, tcp).await.expect("TLS");
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]), "RFC 7301: the front chose h2");
    let (sender, connection) = h2::client::handshake(stream).await.expect("the HTTP/2 preface");
    let driver = tokio::spawn(connection);

    for (path, content_type) in [
        ("/", "text/html"),
        ("/index.html", "text/html"),
        ("/inspector.js", "text/javascript"),
        ("/inspector.css", "text/css"),
    ] {
        let over_h2 = h2_get(&sender, front, path).await;
        let over_http11 = http11(&chat, path).await;
        assert_eq!(over_h2.status, 200, "{path}");
        assert!(
            over_h2.content_type.as_deref().is_some_and(|t| t.starts_with(content_type)),
            "{path}: {:?}",
            over_h2.content_type
        );
        assert!(!over_h2.body.is_empty(), "{path}: an empty body");
        assert_eq!(over_h2, over_http11, "{path}: the front changed the chat's answer");
    }
    let page = String::from_utf8(h2_get(&sender, front, "/").await.body).expect("a UTF-8 page");
    assert!(page.contains("<script src=\"/inspector.js\">"), "the page loads the script fetched above");

    let missing = h2_get(&sender, front, "/no-such-page").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing, http11(&chat, "/no-such-page").await);
    drop(sender);
    driver.abort();
}
