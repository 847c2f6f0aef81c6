//! The core's deadlines driven by the async layer (feature `tokio`): keepalive and idle
//! timeouts live in the sans-IO core (`Connection::poll_timeout`, `handle_timeout`), and the
//! async layer arms its one timer for them. On tokio's paused clock, so the durations are
//! virtual.
#![cfg(feature = "tokio")]

mod async_support;

use std::time::Duration;

use async_support::LIMIT;
use rfc6455::tokio::{Timeouts, WebSocket};
use rfc6455::{CloseCode, Config, Connection, Error, Keepalive, MaskKeySource, Message, Timers};
use tokio::io::{AsyncReadExt, DuplexStream};
use tokio::time::{Instant, timeout};

/// A server with `timers` over an in-memory pipe, and the raw other end.
fn server_with(timers: Timers) -> (DuplexStream, WebSocket<DuplexStream>) {
    let (peer, ours) = tokio::io::duplex(1 << 16);
    let config = Config::server().with_timers(timers).expect("valid timers");
    let server = WebSocket::from_parts(ours, Connection::new(config), &[], Timeouts::default()).unwrap();
    (peer, server)
}

/// Read raw bytes from `peer` until `want` bytes arrived (or the pipe ends).
async fn read_at_least(peer: &mut DuplexStream, want: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while got.len() < want {
        let n = timeout(LIMIT, peer.read(&mut buf)).await.expect("bytes in time").unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    got
}

#[tokio::test(start_paused = true)]
async fn keepalive_pings_a_silent_peer_then_fails_with_1011() {
    let keepalive = Keepalive { interval: Duration::from_secs(10), timeout: Duration::from_secs(5) };
    let (mut peer, mut server) = server_with(Timers { keepalive: Some(keepalive), ..Timers::default() });
    let started = Instant::now();
    let read = tokio::spawn(async move { server.read().await });
    // An empty Ping from the server after the interval of silence (0x89 0x00, unmasked).
    let ping = read_at_least(&mut peer, 2).await;
    assert_eq!(&ping[..2], &[0x89, 0x00], "a keepalive Ping: {ping:02x?}");
    assert!(started.elapsed() >= keepalive.interval, "not before the interval");
    // No answer: the connection fails with a Close carrying 1011 (0x03f3).
    let close = read_at_least(&mut peer, 4).await;
    assert_eq!(&close[..4], &[0x88, 0x02, 0x03, 0xf3], "a Close with 1011: {close:02x?}");
    assert!(started.elapsed() >= keepalive.interval + keepalive.timeout);
    let result = timeout(LIMIT, read).await.unwrap().unwrap();
    assert!(matches!(result, Err(Error::TimedOut(_))), "{result:?}");
}

#[tokio::test(start_paused = true)]
async fn keepalive_is_satisfied_by_a_pong_and_the_connection_stays_open() {
    let keepalive = Keepalive { interval: Duration::from_secs(10), timeout: Duration::from_secs(5) };
    let (client_side, server_side) = tokio::io::duplex(1 << 16);
    let config = Config::server().with_timers(Timers { keepalive: Some(keepalive), ..Timers::default() }).unwrap();
    let mut server = WebSocket::from_parts(server_side, Connection::new(config), &[], Timeouts::default()).unwrap();
    let client = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(3)));
    let mut client = WebSocket::from_parts(client_side, client, &[], Timeouts::default()).unwrap();
    // The client reads (and so answers the keepalive Pings automatically) for three intervals.
    let client_task = tokio::spawn(async move {
        let mut pings = 0;
        while let Ok(message) = client.read().await {
            match message {
                Message::Ping(_) => pings += 1,
                Message::Text(text) if text == "still here" => return (pings, client),
                _ => {}
            }
        }
        panic!("the connection ended");
    });
    let server_task = tokio::spawn(async move {
        // For 35 s (three intervals and a half) the server hears only the Pongs.
        let until = Instant::now() + Duration::from_secs(35);
        let mut pongs = 0;
        while let Ok(read) = tokio::time::timeout_at(until, server.read()).await {
            match read {
                Ok(Message::Pong(_)) => pongs += 1,
                other => panic!("only Pongs arrive, and no failure: {other:?}"),
            }
        }
        assert!(pongs >= 3, "every keepalive Ping answered: {pongs}");
        server.send_text("still here").await.unwrap();
        server
    });
    let mut server = timeout(LIMIT * 4, server_task).await.unwrap().unwrap();
    let (pings, mut client) = timeout(LIMIT, client_task).await.unwrap().unwrap();
    assert!(pings >= 3, "one Ping per interval of silence, answered: {pings}");
    client.close(CloseCode::NORMAL, "").await.ok();
    let _ = server.read().await;
}

#[tokio::test(start_paused = true)]
async fn idle_timeout_fails_a_silent_connection_with_1001() {
    let idle = Duration::from_secs(15);
    let (mut peer, mut server) = server_with(Timers { idle: Some(idle), ..Timers::default() });
    let started = Instant::now();
    let read = tokio::spawn(async move { server.read().await });
    let close = read_at_least(&mut peer, 4).await;
    assert_eq!(&close[..4], &[0x88, 0x02, 0x03, 0xe9], "a Close with 1001: {close:02x?}");
    assert!(started.elapsed() >= idle, "not before the idle timeout");
    let result = timeout(LIMIT, read).await.unwrap().unwrap();
    assert!(matches!(result, Err(Error::TimedOut(_))), "{result:?}");
}
