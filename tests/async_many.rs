//! Ten thousand concurrent connections on one current-thread runtime (feature `tokio`): every
//! one completes its handshake, echoes a message, stays open while all the others are open, and
//! closes cleanly. Ignored by default (it needs about 20,100 file descriptors and some seconds):
//! `scripts/async_checks.sh` raises the descriptor limit and runs it.
#![cfg(feature = "tokio")]

mod async_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_support::LIMIT;
use rfc6455::tokio::{ClientConfig, ServerConfig, accept, connect_with};
use rfc6455::{CloseCode, Error, Message};
use tokio::net::TcpListener;
use tokio::sync::Barrier;
use tokio::time::timeout;

const CONNECTIONS: usize = 10_000;

/// The soft limit on open files, from /proc/self/limits.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    Some(statm.split_whitespace().nth(1)?.parse::<u64>().ok()? * 4096)
}

#[tokio::test]
#[ignore = "needs ~20,100 file descriptors: run scripts/async_checks.sh"]
async fn ten_thousand_concurrent_connections() {
    let needed = 2 * CONNECTIONS as u64 + 100;
    match open_files_limit() {
        Some(limit) if limit >= needed => {}
        limit => panic!(
            "this test needs {needed} open files, the limit is {limit:?}: run it with `ulimit -n {needed}` \
             (scripts/async_checks.sh does)"
        ),
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    let server = tokio::spawn(async move {
        let config = Arc::new(ServerConfig::default());
        let mut tasks = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let (sock, _) = listener.accept().await.unwrap();
            let config = config.clone();
            let counter = counter.clone();
            tasks.push(tokio::spawn(async move {
                let mut ws = accept(sock, &config).await.unwrap();
                loop {
                    match ws.read().await {
                        Ok(message) if message.is_data() => ws.send(message).await.unwrap(),
                        Ok(_) => {}
                        Err(Error::Closed) => break,
                        Err(e) => panic!("server: {e}"),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });

    let before = resident_bytes();
    let all_open = Arc::new(Barrier::new(CONNECTIONS + 1));
    let mut clients = Vec::with_capacity(CONNECTIONS);
    for i in 0..CONNECTIONS {
        let url = url.clone();
        let all_open = all_open.clone();
        clients.push(tokio::spawn(async move {
            let (mut ws, _) = connect_with(&url, &ClientConfig::default()).await.unwrap();
            let text = format!("client {i}");
            ws.send_text(&text).await.unwrap();
            assert_eq!(ws.read().await.unwrap(), Message::Text(text));
            // Everyone holds its connection until all are open at once.
            all_open.wait().await;
            ws.close(CloseCode::NORMAL, "").await.unwrap();
        }));
    }
    timeout(LIMIT * 15, all_open.wait()).await.expect("not every connection opened in time");
    if let (Some(before), Some(after)) = (before, resident_bytes()) {
        println!(
            "{CONNECTIONS} open connections, both ends in this process: {:.1} KiB resident per connection pair",
            after.saturating_sub(before) as f64 / 1024.0 / CONNECTIONS as f64
        );
    }
    for client in clients {
        timeout(LIMIT, client).await.unwrap().unwrap();
    }
    timeout(LIMIT, server).await.unwrap().unwrap();
    assert_eq!(served.load(Ordering::SeqCst), CONNECTIONS);
}
