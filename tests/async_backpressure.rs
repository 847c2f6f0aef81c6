//! Back-pressure (feature `tokio`): with a peer that never reads, `send` waits once the output
//! is over the high-water mark, `try_send` refuses at once, and the memory the connection holds
//! stays bounded; a peer that floods Pings without reading cannot grow the Pong queue past
//! `Limits::max_output_buffer` (decoding pauses).
#![cfg(feature = "tokio")]

mod async_support;

use std::time::Duration;

use async_support::{masked_frame, raw_client_and_server, tcp_pair};
use rfc6455::tokio::ServerConfig;
use rfc6455::{Error, Limits, Message, UsageError};
use tokio::io::AsyncWriteExt;
use tokio::time::timeout;

const MESSAGE: usize = 16 << 10;
const HIGH_WATER: usize = 64 << 10;

#[tokio::test]
async fn send_waits_at_the_high_water_mark_when_the_peer_never_reads() {
    let (client, mut server) = tcp_pair(ServerConfig::default()).await;
    server.set_high_water_mark(HIGH_WATER);
    let chunk = vec![1u8; MESSAGE];
    let mut sent = 0usize;
    // The client never reads: the socket buffers fill, then `send` must wait.
    loop {
        match timeout(Duration::from_millis(500), server.send_binary(&chunk)).await {
            Ok(result) => result.unwrap(),
            Err(_) => break,
        }
        sent += 1;
        assert!(sent < 100_000, "send never waited");
        // A frame's header is at most 14 bytes.
        assert!(server.connection().output().len() <= HIGH_WATER + MESSAGE + 14);
    }
    // `try_send` says "full" at once once the output is over the mark (the kernel may still
    // take a little more first), and a refused message queues nothing.
    let mut refusals = 0;
    for _ in 0..10_000 {
        let before = server.connection().output().len();
        match server.try_send(&Message::Binary(chunk.clone())) {
            Ok(()) => {}
            Err(Error::Usage(UsageError::OutputBufferFull)) => {
                assert!(before > HIGH_WATER);
                assert_eq!(server.connection().output().len(), before);
                refusals += 1;
                if refusals == 10 {
                    break;
                }
            }
            Err(e) => panic!("{e}"),
        }
        assert!(server.connection().output().len() <= HIGH_WATER + MESSAGE + 14);
    }
    assert_eq!(refusals, 10, "try_send never refused");
    // The output buffer is all the connection grew: no copy per message is held anywhere.
    let held = server.connection().buffered_capacity();
    assert!(held <= 4 * (HIGH_WATER + MESSAGE) + (64 << 10), "the connection holds {held} bytes");
    drop(client);
}

#[tokio::test]
async fn try_send_never_waits_and_refuses_above_the_mark() {
    let (_client, mut server) = tcp_pair(ServerConfig::default()).await;
    server.set_high_water_mark(HIGH_WATER);
    let chunk = Message::Binary(vec![2u8; MESSAGE]);
    let mut accepted = 0;
    let mut refused = 0;
    for _ in 0..5_000 {
        match server.try_send(&chunk) {
            Ok(()) => accepted += 1,
            Err(Error::Usage(UsageError::OutputBufferFull)) => refused += 1,
            Err(e) => panic!("{e}"),
        }
        assert!(server.connection().output().len() <= HIGH_WATER + MESSAGE + 14);
    }
    assert!(accepted > 0 && refused > 0, "accepted {accepted}, refused {refused}");
}

#[tokio::test]
async fn s5_5_2_a_ping_flood_from_a_peer_that_never_reads_is_bounded_by_max_output_buffer() {
    let limit = 256 << 10;
    let mut config = ServerConfig::default();
    let limits = Limits { max_output_buffer: limit, max_input_buffer: 64 << 10, ..Limits::default() };
    config.config = config.config.with_limits(limits).unwrap();
    let (mut raw, mut server) = raw_client_and_server(config).await;
    // The peer writes Pings as fast as it can and never reads a Pong.
    let flood = tokio::spawn(async move {
        let ping = masked_frame(0x9, &[b'p'; 125]);
        let burst: Vec<u8> = ping.iter().copied().cycle().take(ping.len() * 64).collect();
        while raw.write_all(&burst).await.is_ok() {}
    });
    let mut pings = 0u64;
    loop {
        match timeout(Duration::from_millis(500), server.read()).await {
            Ok(Ok(Message::Ping(_))) => pings += 1,
            Ok(other) => panic!("unexpected {other:?}"),
            // Nothing more is decoded: the Pongs wait for a reader that never comes.
            Err(_) => break,
        }
        assert!(pings < 10_000_000, "decoding never paused");
    }
    let conn = server.connection();
    assert!(pings > 0);
    assert!(conn.output().len() <= limit + 200, "{} bytes of Pongs queued", conn.output().len());
    assert!(conn.buffered_capacity() <= 2 * limit + (256 << 10), "holds {} bytes", conn.buffered_capacity());
    flood.abort();
}
