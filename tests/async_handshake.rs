//! The opening handshake on the async layer (feature `tokio`, RFC 6455 §4): the server's
//! answers to bad requests (400, 426 with the version header, 431, 403 from the hook, a page for
//! a plain GET), subprotocols, extra headers and permessage-deflate through the async client,
//! the handshake timeouts, and both layers talking to each other.
#![cfg(feature = "tokio")]

mod async_support;

use std::time::Duration;

use async_support::{LIMIT, UPGRADE_REQUEST};
use rfc6455::extensions::permessage_deflate::DeflateConfig;
use rfc6455::handshake::ClientOptions;
use rfc6455::tokio::server::Decision;
use rfc6455::tokio::{ClientConfig, ServerConfig, Timeouts, accept, accept_with, connect_with};
use rfc6455::{CloseCode, Error, HandshakeError, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

/// Send `request` to a server that accepts with `decide`; returns the raw answer and the
/// server's result.
async fn answer_to(request: &str, decide: fn(&rfc6455::handshake::Request) -> Decision) -> (String, Result<(), Error>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        accept_with(sock, &ServerConfig::default(), decide).await.map(|_| ())
    });
    let mut sock = TcpStream::connect(addr).await.unwrap();
    sock.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    timeout(LIMIT, sock.read_to_end(&mut answer)).await.unwrap().unwrap();
    (String::from_utf8_lossy(&answer).into_owned(), timeout(LIMIT, server).await.unwrap().unwrap())
}

fn accept_all(_: &rfc6455::handshake::Request) -> Decision {
    Decision::accept()
}

#[tokio::test]
async fn s4_2_1_a_request_without_a_key_gets_400() {
    let request = UPGRADE_REQUEST.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "");
    let (answer, result) = answer_to(&request, accept_all).await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(matches!(result, Err(Error::Handshake(HandshakeError::InvalidKey))), "{result:?}");
}

#[tokio::test]
async fn s4_4_an_unsupported_version_gets_426_with_the_supported_version() {
    let request = UPGRADE_REQUEST.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8");
    let (answer, result) = answer_to(&request, accept_all).await;
    assert!(answer.starts_with("HTTP/1.1 426 "), "{answer}");
    assert!(answer.contains("Sec-WebSocket-Version: 13\r\n"), "{answer}");
    assert!(matches!(result, Err(Error::Handshake(HandshakeError::UnsupportedVersion))), "{result:?}");
}

#[tokio::test]
async fn oversized_headers_get_431() {
    let request = UPGRADE_REQUEST
        .replace("Host: localhost\r\n", &format!("Host: localhost\r\nX-Big: {}\r\n", "a".repeat(20_000)));
    let (answer, result) = answer_to(&request, accept_all).await;
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
    assert!(matches!(result, Err(Error::Handshake(HandshakeError::HeadersTooLarge))), "{result:?}");
}

#[tokio::test]
async fn a_plain_get_gets_the_page_from_the_hook_or_426() {
    let get = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let (answer, result) = answer_to(get, |_| Decision::respond("text/html; charset=utf-8", b"<p>hello</p>")).await;
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert!(answer.ends_with("<p>hello</p>"), "{answer}");
    assert!(matches!(result, Err(Error::Handshake(HandshakeError::AnsweredOverHttp { status: 200 }))), "{result:?}");
    let (answer, _) = answer_to(get, accept_all).await;
    assert!(answer.starts_with("HTTP/1.1 426 "), "{answer}");
}

#[tokio::test]
async fn the_hook_rejects_by_origin_with_403() {
    let request = UPGRADE_REQUEST.replace("Host: localhost\r\n", "Host: localhost\r\nOrigin: http://evil.example\r\n");
    let (answer, result) = answer_to(&request, |request| match request.origin.as_deref() {
        Some("http://good.example") => Decision::accept(),
        _ => Decision::Reject { status: 403, reason: "origin not allowed".into() },
    })
    .await;
    assert!(answer.starts_with("HTTP/1.1 403 "), "{answer}");
    assert!(result.is_err());
}

#[tokio::test]
async fn subprotocols_extra_headers_and_permessage_deflate_through_the_async_client() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/chat", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let config = ServerConfig { deflate: Some(DeflateConfig::default()), ..ServerConfig::default() };
        let mut ws = accept_with(sock, &config, |request| {
            assert_eq!(request.resource_name(), "/chat");
            assert_eq!(request.header("X-Token"), Some(&b"secret"[..]));
            Decision::Accept { subprotocol: Some("v2.chat".into()), headers: vec![] }
        })
        .await
        .unwrap();
        while let Ok(message) = ws.read().await {
            if message.is_data() {
                ws.send(message).await.unwrap();
            }
        }
    });
    let config = ClientConfig {
        options: ClientOptions {
            subprotocols: vec!["v1.chat".into(), "v2.chat".into()],
            extra_headers: vec![("X-Token".into(), "secret".into())],
            ..ClientOptions::default()
        },
        deflate: Some(DeflateConfig::default()),
        ..ClientConfig::default()
    };
    let (mut ws, response) = connect_with(&url, &config).await.unwrap();
    assert_eq!(response.subprotocol.as_deref(), Some("v2.chat"));
    assert!(response.extensions.iter().any(|e| e.starts_with("permessage-deflate")), "{:?}", response.extensions);
    let text = "compressible ".repeat(1000);
    ws.send_text(&text).await.unwrap();
    assert_eq!(timeout(LIMIT, ws.read()).await.unwrap().unwrap(), Message::Text(text));
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    timeout(LIMIT, server).await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn s4_2_a_silent_client_times_out_the_server_handshake() {
    let (_silent, stream) = tokio::io::duplex(1024);
    let started = tokio::time::Instant::now();
    let result = accept(stream, &ServerConfig::default()).await;
    assert!(matches!(&result, Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::TimedOut), "{:?}", result.err());
    assert!(started.elapsed() >= Timeouts::default().handshake);
}

#[tokio::test]
async fn s4_1_a_silent_server_times_out_the_client_handshake() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let config = ClientConfig {
        timeouts: Timeouts { handshake: Duration::from_millis(300), ..Timeouts::default() },
        ..ClientConfig::default()
    };
    let result = timeout(LIMIT, connect_with(&url, &config)).await.unwrap();
    assert!(matches!(&result, Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::TimedOut), "{:?}", result.err());
    drop(listener);
}

#[tokio::test]
async fn frames_sent_right_behind_the_request_are_kept() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let mut ws = accept(sock, &ServerConfig::default()).await.unwrap();
        ws.read().await.unwrap()
    });
    let mut sock = TcpStream::connect(addr).await.unwrap();
    // The request and a first frame in one write.
    let mut bytes = UPGRADE_REQUEST.as_bytes().to_vec();
    bytes.extend_from_slice(&async_support::masked_frame(0x1, b"early"));
    sock.write_all(&bytes).await.unwrap();
    assert_eq!(timeout(LIMIT, server).await.unwrap().unwrap(), Message::Text("early".into()));
}

#[tokio::test]
async fn the_async_client_talks_to_the_blocking_server_and_back() {
    // Async client, blocking server.
    let server = rfc6455::blocking::Server::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", server.local_addr().unwrap());
    let blocking_echo = std::thread::spawn(move || {
        let mut ws = server.accept().unwrap().handshake().unwrap();
        while let Ok(message) = ws.read() {
            if message.is_data() {
                ws.send(&message).unwrap();
            }
        }
    });
    let (mut ws, _) = connect_with(&url, &ClientConfig::default()).await.unwrap();
    ws.send_binary(&[1, 2, 3]).await.unwrap();
    assert_eq!(timeout(LIMIT, ws.read()).await.unwrap().unwrap(), Message::Binary(vec![1, 2, 3]));
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    tokio::task::spawn_blocking(move || blocking_echo.join().unwrap()).await.unwrap();

    // Blocking client, async server.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let async_echo = tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let mut ws = accept(sock, &ServerConfig::default()).await.unwrap();
        while let Ok(message) = ws.read().await {
            if message.is_data() {
                ws.send(message).await.unwrap();
            }
        }
    });
    let reply = tokio::task::spawn_blocking(move || {
        let mut ws = rfc6455::blocking::connect(&url).unwrap();
        ws.send_text("hi").unwrap();
        let reply = ws.read().unwrap();
        ws.close(CloseCode::NORMAL, "").unwrap();
        while ws.read().is_ok() {}
        reply
    })
    .await
    .unwrap();
    assert_eq!(reply, Message::Text("hi".into()));
    timeout(LIMIT, async_echo).await.unwrap().unwrap();
}
