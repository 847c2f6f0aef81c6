//! The closing handshake on the async layer (feature `tokio`, RFC 6455 §7): a clean close in
//! both directions, the close timeout on a virtual clock and for real on loopback, and failing
//! the connection (§7.1.7) with the Close frame delivered before the transport ends.
#![cfg(feature = "tokio")]

mod async_support;

use std::time::Duration;

use async_support::{LIMIT, duplex_pair, raw_client_and_server, tcp_pair};
use rfc6455::tokio::{ServerConfig, Timeouts};
use rfc6455::{CloseCode, Error, Message, ProtocolError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Instant, timeout};

#[tokio::test]
async fn s7_1_2_client_close_completes_and_the_server_reads_closed() {
    let (mut client, mut server) = tcp_pair(ServerConfig::default()).await;
    let server_side = tokio::spawn(async move {
        let first = server.read().await.unwrap();
        let after = server.read().await;
        (first, after)
    });
    timeout(LIMIT, client.close(CloseCode::NORMAL, "bye")).await.unwrap().unwrap();
    let (first, after) = timeout(LIMIT, server_side).await.unwrap().unwrap();
    assert_eq!(first, Message::Close(Some(CloseCode::NORMAL), "bye".into()));
    assert!(matches!(after, Err(Error::Closed)), "{after:?}");
    assert!(matches!(client.read().await, Err(Error::Closed)));
    assert!(client.send_text("late").await.is_err());
}

#[tokio::test]
async fn s7_1_1_server_close_completes_and_the_client_reads_the_close() {
    let (mut client, mut server) = tcp_pair(ServerConfig::default()).await;
    let server_side = tokio::spawn(async move { server.close(CloseCode::GOING_AWAY, "restart").await });
    assert_eq!(
        timeout(LIMIT, client.read()).await.unwrap().unwrap(),
        Message::Close(Some(CloseCode::GOING_AWAY), "restart".into())
    );
    assert!(matches!(timeout(LIMIT, client.read()).await.unwrap(), Err(Error::Closed)));
    timeout(LIMIT, server_side).await.unwrap().unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn close_timeout_gives_up_on_a_silent_peer_on_a_virtual_clock() {
    let (silent_peer, mut server) = duplex_pair(1 << 16);
    let started = Instant::now();
    server.close(CloseCode::NORMAL, "").await.unwrap();
    // The close returned only once the close timeout had passed (virtual time).
    assert!(started.elapsed() >= Timeouts::default().close);
    assert!(matches!(server.read().await, Err(Error::Closed)));
    drop(silent_peer);
}

#[tokio::test(start_paused = true)]
async fn close_timeout_bounds_a_read_after_sending_close_on_a_virtual_clock() {
    let (silent_peer, mut server) = duplex_pair(1 << 16);
    server.send(Message::Close(Some(CloseCode::NORMAL), String::new())).await.unwrap();
    let started = Instant::now();
    assert!(matches!(server.read().await, Err(Error::Closed)));
    assert!(started.elapsed() >= Timeouts::default().close);
    drop(silent_peer);
}

#[tokio::test]
async fn close_timeout_gives_up_on_a_silent_peer_over_loopback() {
    let mut config = ServerConfig::default();
    config.timeouts.close = Duration::from_millis(200);
    let (mut raw, mut server) = raw_client_and_server(config).await;
    // The peer never answers the Close, and keeps its side open.
    timeout(LIMIT, server.close(CloseCode::NORMAL, "")).await.expect("close hung").unwrap();
    // What the peer saw: our Close (1000), then the end of the stream.
    let mut seen = Vec::new();
    timeout(LIMIT, raw.read_to_end(&mut seen)).await.unwrap().unwrap();
    assert_eq!(seen, [0x88, 0x02, 0x03, 0xe8]);
}

#[tokio::test]
async fn s7_1_7_a_protocol_error_sends_its_close_code_before_the_transport_ends() {
    let (mut raw, mut server) = raw_client_and_server(ServerConfig::default()).await;
    let peer = tokio::spawn(async move {
        // RFC 6455 §5.1: a client frame that is not masked fails the connection with 1002.
        raw.write_all(&[0x81, 0x02, b'h', b'i']).await.unwrap();
        let mut seen = Vec::new();
        raw.read_to_end(&mut seen).await.unwrap();
        seen
    });
    let error = timeout(LIMIT, server.read()).await.unwrap().unwrap_err();
    assert!(matches!(error, Error::Protocol(ProtocolError::UnmaskedClientFrame)), "{error:?}");
    // What the peer saw: the Close with 1002, then the end of the stream.
    assert_eq!(timeout(LIMIT, peer).await.unwrap().unwrap(), [0x88, 0x02, 0x03, 0xea]);
    // The failure is sticky.
    assert!(matches!(server.read().await, Err(Error::Protocol(ProtocolError::UnmaskedClientFrame))));
}

#[tokio::test]
async fn s7_1_5_the_peer_closing_tcp_without_a_close_is_a_reset() {
    let (raw, mut server) = raw_client_and_server(ServerConfig::default()).await;
    drop(raw);
    assert!(matches!(timeout(LIMIT, server.read()).await.unwrap(), Err(Error::ConnectionReset)));
}
