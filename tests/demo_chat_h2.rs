//! The chat demo over HTTP/2 (RFC 8441), through the front of `examples/common/h2_front.rs`: a
//! client opens WebSockets as extended CONNECTs on one HTTP/2 connection to the front, which
//! joins each to an HTTP/1.1 Upgrade to the chat. The chat and the front are the examples' own
//! modules, started in-process on port 0 (the front with a certificate from a local test CA).

#[path = "../examples/common/certs.rs"]
mod certs;
#[path = "../examples/chat/server.rs"]
mod chat_server;
#[path = "../examples/common/mod.rs"]
mod common;
#[path = "../examples/common/h2_front.rs"]
mod h2_front;

use std::net::SocketAddr;
use std::time::Duration;

use chat_server::ChatServer;
use rfc6455::blocking::tls as tls_config;
use rfc6455::extensions::permessage_deflate::DeflateConfig;
use rfc6455::tokio::h2::H2Stream;
use rfc6455::tokio::h2::client::H2Connection;
use rfc6455::tokio::{ClientConfig, Timeouts, WebSocket};
use rfc6455::{Error, HandshakeError, Message};
use serde_json::{Value, json};
use tokio::time::timeout;

/// The longest any one step waits.
const PATIENCE: Duration = Duration::from_secs(10);

/// The chat, its front, and a client configuration that trusts the front's certificate.
fn start() -> (ChatServer, SocketAddr, ClientConfig) {
    let chat = ChatServer::start("127.0.0.1:0").expect("start the chat");
    let ca = certs::LocalCa::new("rfc6455 chat h2 test CA");
    let issued = ca.issue(&["127.0.0.1"]);
    let tls = tls_config::server_config_from_pem(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes()).unwrap();
    let front = h2_front::start("127.0.0.1:0", chat.local_addr(), tls).expect("start the front");
    let client = ClientConfig {
        tls: Some(tls_config::client_config_with_roots(ca.cert_pem().as_bytes()).unwrap()),
        timeouts: Timeouts { handshake: PATIENCE, ..Timeouts::default() },
        ..ClientConfig::default()
    };
    (chat, front, client)
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
