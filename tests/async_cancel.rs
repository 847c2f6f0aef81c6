//! Cancel safety of reading (feature `tokio`): a read dropped inside `tokio::select!` loses and
//! duplicates nothing. Frames arrive a few bytes at a time, so most reads are dropped halfway
//! through a frame; every message must still arrive exactly once, in order.
#![cfg(feature = "tokio")]

mod async_support;

use async_support::{LIMIT, duplex_pair, tcp_pair};
use futures_util::StreamExt;
use rfc6455::tokio::ServerConfig;
use rfc6455::{Error, Message, MessageKind};
use tokio::time::timeout;

/// Messages of many sizes, whole and fragmented, with pings between them.
fn script() -> Vec<Message> {
    (0..600usize)
        .map(|i| match i % 4 {
            0 => Message::Text(format!("message {i} ").repeat(i % 50 + 1)),
            1 => Message::Binary((0..(i * 13) % 3000).map(|b| b as u8).collect()),
            2 => Message::Ping(i.to_be_bytes().to_vec()),
            _ => Message::Text(String::new()),
        })
        .collect()
}

#[tokio::test]
async fn reads_dropped_in_select_lose_and_duplicate_nothing() {
    // A 16-byte pipe: every frame arrives in pieces.
    let (mut client, mut server) = duplex_pair(16);
    let sent = script();
    let to_send = sent.clone();
    let sender = tokio::spawn(async move {
        for (i, message) in to_send.iter().enumerate() {
            if i % 5 == 3 {
                // A fragmented message: three frames.
                let data = format!("fragmented {i}");
                let (a, b) = data.as_bytes().split_at(4);
                client.send_fragment(MessageKind::Text, a, false).await.unwrap();
                client.send_fragment(MessageKind::Text, b, false).await.unwrap();
                client.send_fragment(MessageKind::Text, b"!", true).await.unwrap();
            }
            client.send(message).await.unwrap();
        }
        client
    });
    let mut expected = Vec::new();
    for (i, message) in sent.iter().enumerate() {
        if i % 5 == 3 {
            expected.push(Message::Text(format!("fragmented {i}!")));
        }
        expected.push(message.clone());
    }

    let mut received = Vec::new();
    let mut cancelled = 0;
    while received.len() < expected.len() {
        tokio::select! {
            biased;
            message = server.read() => received.push(message.unwrap()),
            // Ready on its second poll: a read still pending then is dropped.
            _ = tokio::task::yield_now() => cancelled += 1,
        }
    }
    assert_eq!(received, expected);
    assert!(cancelled > 100, "only {cancelled} reads were cancelled: the test did not exercise cancellation");
    let _client = timeout(LIMIT, sender).await.unwrap().unwrap();
}

#[tokio::test]
async fn stream_next_dropped_by_a_timer_loses_nothing_over_tcp() {
    let (mut client, mut server) = tcp_pair(ServerConfig::default()).await;
    let sender = tokio::spawn(async move {
        for i in 0..300u32 {
            client.send(Message::Binary(vec![i as u8; (i as usize * 101) % 5000])).await.unwrap();
            if i % 7 == 0 {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        }
        client.close(rfc6455::CloseCode::NORMAL, "").await.unwrap();
    });
    let mut received = 0u32;
    let mut cancelled = 0;
    loop {
        tokio::select! {
            message = server.next() => match message {
                Some(Ok(Message::Binary(data))) => {
                    assert_eq!(data, vec![received as u8; (received as usize * 101) % 5000]);
                    received += 1;
                }
                Some(Ok(Message::Close(..))) => {}
                None => break,
                other => panic!("unexpected {other:?}"),
            },
            _ = tokio::time::sleep(std::time::Duration::from_micros(50)) => cancelled += 1,
        }
    }
    assert_eq!(received, 300);
    assert!(cancelled > 0, "no read was cancelled");
    timeout(LIMIT, sender).await.unwrap().unwrap();
    assert!(matches!(server.read().await, Err(Error::Closed)));
}
