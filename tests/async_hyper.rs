//! Upgrading inside hyper and axum (features `hyper`, `axum`): the 101 through hyper's server,
//! frames the client sent in the same packet as its request (already read by hyper) kept and
//! decoded first, bad requests answered with the core's statuses, and the axum extractor.
#![cfg(feature = "hyper")]

mod async_support;

use std::convert::Infallible;

use async_support::{LIMIT, UPGRADE_REQUEST, masked_frame};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rfc6455::tokio::ServerConfig;
use rfc6455::tokio::hyper::{Body, upgrade};
use rfc6455::{CloseCode, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;

/// A hyper server whose service upgrades every request and sends the first message each
/// WebSocket reads to `first`, then echoes.
async fn hyper_server(first: mpsc::UnboundedSender<Message>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (sock, _) = listener.accept().await.unwrap();
            let first = first.clone();
            let service = service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
                let first = first.clone();
                async move {
                    let (response, upgrading) = upgrade(&mut request, &ServerConfig::default());
                    if let Some(upgrading) = upgrading {
                        tokio::spawn(async move {
                            let mut ws = upgrading.await.unwrap();
                            let mut told = false;
                            while let Ok(message) = ws.read().await {
                                if !told {
                                    told = true;
                                    let _ = first.send(message.clone());
                                }
                                if message.is_data() {
                                    ws.send(message).await.unwrap();
                                }
                            }
                        });
                    }
                    Ok::<hyper::Response<Body>, Infallible>(response)
                }
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(sock), service).with_upgrades());
        }
    });
    addr
}

#[tokio::test]
async fn frames_hyper_already_read_with_the_request_are_decoded_first() {
    let (first_tx, mut first_rx) = mpsc::unbounded_channel();
    let addr = hyper_server(first_tx).await;
    let mut sock = TcpStream::connect(addr).await.unwrap();
    // The request and two frames in one write: hyper reads them all with the request head.
    let mut bytes = UPGRADE_REQUEST.as_bytes().to_vec();
    bytes.extend_from_slice(&masked_frame(0x1, b"early"));
    bytes.extend_from_slice(&masked_frame(0x1, b"bird"));
    sock.write_all(&bytes).await.unwrap();
    assert_eq!(timeout(LIMIT, first_rx.recv()).await.unwrap().unwrap(), Message::Text("early".into()));
    // The 101 (with the §4.2.2 accept key of RFC 6455 §1.3's example), then both echoes.
    let mut answer = vec![0u8; 4096];
    let mut seen = Vec::new();
    let echoes = [0x81, 5, b'e', b'a', b'r', b'l', b'y', 0x81, 4, b'b', b'i', b'r', b'd'];
    while !seen.ends_with(&echoes) {
        let n = timeout(LIMIT, sock.read(&mut answer)).await.unwrap().unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&answer[..n]);
    }
    let text = String::from_utf8_lossy(&seen);
    assert!(text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"), "{text}");
    assert!(text.to_ascii_lowercase().contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=\r\n"), "{text}");
}

#[tokio::test]
async fn the_async_client_talks_through_hyper() {
    let (first_tx, _first_rx) = mpsc::unbounded_channel();
    let addr = hyper_server(first_tx).await;
    let (mut ws, _) = rfc6455::tokio::connect(&format!("ws://{addr}/")).await.unwrap();
    ws.send_text("through hyper").await.unwrap();
    assert_eq!(timeout(LIMIT, ws.read()).await.unwrap().unwrap(), Message::Text("through hyper".into()));
    timeout(LIMIT, ws.close(CloseCode::NORMAL, "")).await.unwrap().unwrap();
}

#[tokio::test]
async fn s4_4_a_bad_version_through_hyper_gets_426_with_the_version_header() {
    let (first_tx, _first_rx) = mpsc::unbounded_channel();
    let addr = hyper_server(first_tx).await;
    let mut sock = TcpStream::connect(addr).await.unwrap();
    let request = UPGRADE_REQUEST.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8");
    sock.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    timeout(LIMIT, sock.read_to_end(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 426 "), "{answer}");
    assert!(answer.contains("sec-websocket-version: 13\r\n"), "{answer}");
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn the_axum_extractor_upgrades_and_refuses() {
    use axum::Router;
    use axum::response::Response;
    use axum::routing::get;
    use rfc6455::tokio::axum::WebSocketUpgrade;

    async fn ws(upgrade: WebSocketUpgrade) -> Response {
        upgrade.on_upgrade(|mut ws| async move {
            while let Ok(message) = ws.read().await {
                if message.is_data() && ws.send(message).await.is_err() {
                    break;
                }
            }
        })
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, Router::new().route("/ws", get(ws))).await.unwrap() });

    let (mut client, _) = rfc6455::tokio::connect(&format!("ws://{addr}/ws")).await.unwrap();
    client.send_binary(&[1, 2, 3]).await.unwrap();
    assert_eq!(timeout(LIMIT, client.read()).await.unwrap().unwrap(), Message::Binary(vec![1, 2, 3]));
    timeout(LIMIT, client.close(CloseCode::NORMAL, "")).await.unwrap().unwrap();

    // A request without a key is refused with 400 by the extractor's handshake.
    let mut sock = TcpStream::connect(addr).await.unwrap();
    let request =
        UPGRADE_REQUEST.replace("GET / ", "GET /ws ").replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "");
    sock.write_all(request.as_bytes()).await.unwrap();
    let mut answer = [0u8; 12];
    timeout(LIMIT, sock.read_exact(&mut answer)).await.unwrap().unwrap();
    assert_eq!(&answer, b"HTTP/1.1 400");
}
