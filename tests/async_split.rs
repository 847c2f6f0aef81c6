//! A WebSocket split into a reader task and a writer task (feature `tokio`): the reader
//! answers Pings and echoes the Close on its own (RFC 6455 §5.5.2, §5.5.1) while the writer is
//! idle, and a writer stuck on a peer that does not read never stops the reader.
#![cfg(feature = "tokio")]

mod async_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_support::{LIMIT, tcp_pair};
use futures_util::StreamExt;
use rfc6455::tokio::ServerConfig;
use rfc6455::{CloseCode, Error, Message};
use tokio::time::timeout;

#[tokio::test]
async fn s5_5_2_split_reader_answers_pings_while_the_writer_is_idle() {
    let (mut client, server) = tcp_pair(ServerConfig::default()).await;
    let (mut reader, writer) = server.split();
    // The writer is alive but does nothing until the end.
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let idle_writer = tokio::spawn(async move {
        let _ = done_rx.await;
        writer
    });
    let pings_seen = tokio::spawn(async move {
        let mut pings = 0;
        loop {
            match reader.read().await {
                Ok(Message::Ping(_)) => pings += 1,
                Ok(_) => {}
                Err(Error::Closed) => return pings,
                Err(e) => panic!("reader: {e}"),
            }
        }
    });
    for i in 0..100u32 {
        let payload = i.to_be_bytes();
        client.ping(&payload).await.unwrap();
        let answer = timeout(LIMIT, client.read()).await.expect("no Pong while the writer was idle").unwrap();
        assert_eq!(answer, Message::Pong(payload.to_vec()));
    }
    // The Close echo comes from the reader too: close() finishes the handshake.
    timeout(LIMIT, client.close(CloseCode::NORMAL, "done")).await.unwrap().unwrap();
    assert_eq!(timeout(LIMIT, pings_seen).await.unwrap().unwrap(), 100);
    done_tx.send(()).unwrap();
    idle_writer.await.unwrap();
}

#[tokio::test]
async fn a_writer_blocked_on_a_peer_that_does_not_read_never_blocks_the_reader() {
    let (mut client, server) = tcp_pair(ServerConfig::default()).await;
    let (mut reader, mut writer) = server.split();
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    // The client never reads: the writer fills both socket buffers, then waits in `send`.
    let busy_writer = tokio::spawn(async move {
        let chunk = vec![7u8; 64 << 10];
        while writer.send_binary(&chunk).await.is_ok() {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let mut last = usize::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = sent.load(Ordering::SeqCst);
        if now == last {
            break;
        }
        last = now;
    }
    assert!(last > 0, "the writer never sent anything");
    // The writer is stuck; the reader still reads.
    client.send_text("still there?").await.unwrap();
    let message = timeout(LIMIT, reader.read()).await.expect("the reader was blocked by the writer").unwrap();
    assert_eq!(message, Message::Text("still there?".into()));
    assert_eq!(sent.load(Ordering::SeqCst), last, "the writer was expected to still be blocked");
    busy_writer.abort();
}

#[tokio::test]
async fn split_halves_work_as_stream_and_sink() {
    let (mut client, server) = tcp_pair(ServerConfig::default()).await;
    let (mut reader, mut writer) = server.split();
    let echo = tokio::spawn(async move {
        while let Some(message) = reader.next().await {
            let message = message.unwrap();
            if message.is_data() {
                writer.send(message).await.unwrap();
            }
        }
    });
    for text in ["one", "two", "three"] {
        client.send(Message::Text(text.into())).await.unwrap();
        assert_eq!(timeout(LIMIT, client.next()).await.unwrap().unwrap().unwrap(), Message::Text(text.into()));
    }
    client.close(CloseCode::NORMAL, "").await.unwrap();
    timeout(LIMIT, echo).await.unwrap().unwrap();
}
