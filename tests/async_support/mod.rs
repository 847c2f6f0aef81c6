//! What the async tests share: connected pairs over an in-memory pipe and over loopback TCP,
//! and raw frames for peers that misbehave.
#![allow(dead_code)]

use std::time::Duration;

use rfc6455::tokio::{ClientConfig, MaybeTlsStream, ServerConfig, Timeouts, WebSocket, accept, connect_with};
use rfc6455::{Config, Connection, MaskKeySource};
use tokio::io::DuplexStream;
use tokio::net::{TcpListener, TcpStream};

/// Every wait in a test is bounded by this, so a bug fails the test instead of hanging it.
pub const LIMIT: Duration = Duration::from_secs(20);

/// A client and a server, past their handshake, over an in-memory pipe of `capacity` bytes.
pub fn duplex_pair(capacity: usize) -> (WebSocket<DuplexStream>, WebSocket<DuplexStream>) {
    let (a, b) = tokio::io::duplex(capacity);
    let client = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(7)));
    let client = WebSocket::from_parts(a, client, &[], Timeouts::default()).unwrap();
    let server = WebSocket::from_parts(b, Connection::new(Config::server()), &[], Timeouts::default()).unwrap();
    (client, server)
}

/// A client and a server over loopback TCP, through the real handshakes.
pub async fn tcp_pair(server_config: ServerConfig) -> (WebSocket<MaybeTlsStream>, WebSocket<TcpStream>) {
    tcp_pair_with(server_config, ClientConfig::default()).await
}

pub async fn tcp_pair_with(
    server_config: ServerConfig,
    client_config: ClientConfig,
) -> (WebSocket<MaybeTlsStream>, WebSocket<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        accept(sock, &server_config).await.unwrap()
    });
    let (client, _) = connect_with(&url, &client_config).await.unwrap();
    (client, server.await.unwrap())
}

/// A listener and a raw TCP client that has completed a WebSocket handshake by hand, so the
/// test can write any bytes (unmasked, garbage) and read the server's raw answer.
pub async fn raw_client_and_server(server_config: ServerConfig) -> (TcpStream, WebSocket<TcpStream>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        accept(sock, &server_config).await.unwrap()
    });
    let mut raw = TcpStream::connect(addr).await.unwrap();
    raw.write_all(UPGRADE_REQUEST.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        assert_eq!(raw.read(&mut byte).await.unwrap(), 1, "server closed during the handshake");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
    (raw, server.await.unwrap())
}

/// A valid upgrade request (the key is RFC 6455 §1.3's example).
pub const UPGRADE_REQUEST: &str = "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// A client frame (masked with the all-zero key, so the payload reads as is).
pub fn masked_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut frame = vec![0x80 | opcode, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(payload);
    frame
}
