//! Ten thousand concurrent connections to one server on a current-thread runtime (feature
//! `tokio`): every one completes its handshake, echoes a message, stays open while all the
//! others are open, and closes cleanly. The clients run in a second process (this test binary
//! again), so each process needs about 10,100 file descriptors, and the server's memory per
//! connection is measured on its own.
//!
//! Ignored by default (it needs the descriptors and some seconds): `scripts/async_checks.sh`
//! raises the soft limit and runs it.
#![cfg(feature = "tokio")]

mod async_support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_support::LIMIT;
use rfc6455::tokio::{ClientConfig, ServerConfig, accept, connect_with};
use rfc6455::{CloseCode, Error, Message};
use tokio::net::TcpListener;
use tokio::sync::Barrier;
use tokio::time::timeout;

const CONNECTIONS: usize = 10_000;
/// Set in the client process: the server's URL.
const CLIENTS_ENV: &str = "RFC6455_MANY_CLIENTS_OF";
const ALL_OPEN: &str = "ALL CONNECTIONS OPEN";

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

fn check_descriptors() {
    let needed = CONNECTIONS as u64 + 100;
    match open_files_limit() {
        Some(limit) if limit >= needed => {}
        limit => panic!(
            "this test needs {needed} open files per process, the limit is {limit:?}: run it with \
             `ulimit -n {needed}` (scripts/async_checks.sh does)"
        ),
    }
}

#[tokio::test]
#[ignore = "needs ~10,100 file descriptors per process: run scripts/async_checks.sh"]
async fn ten_thousand_concurrent_connections() {
    check_descriptors();
    if let Ok(url) = std::env::var(CLIENTS_ENV) {
        return clients(&url).await;
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    let before = resident_bytes();
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

    // The clients: this test again, in a child process.
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "ten_thousand_concurrent_connections", "--ignored", "--nocapture"])
        .env(CLIENTS_ENV, &url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    // Read the child's output to its end (a child whose stdout is closed fails), telling us
    // when every connection is open.
    let (open_tx, open_rx) = tokio::sync::oneshot::channel();
    let reader = std::thread::spawn(move || {
        let mut open_tx = Some(open_tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains(ALL_OPEN)
                && let Some(open_tx) = open_tx.take()
            {
                let _ = open_tx.send(());
            }
        }
    });
    let all_open = timeout(LIMIT * 15, open_rx).await.expect("the clients did not all connect in time");
    assert!(all_open.is_ok(), "the client process ended before all its connections were open");
    if let (Some(before), Some(after)) = (before, resident_bytes()) {
        println!(
            "server: {CONNECTIONS} open connections, {:.1} KiB resident per connection",
            after.saturating_sub(before) as f64 / 1024.0 / CONNECTIONS as f64
        );
    }
    // Let the clients close, and wait for every connection to end cleanly on both sides.
    stdin.write_all(b"close\n").unwrap();
    drop(stdin);
    let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "the client process failed: {status}");
    reader.join().unwrap();
    timeout(LIMIT, server).await.unwrap().unwrap();
    assert_eq!(served.load(Ordering::SeqCst), CONNECTIONS);
}

/// The client process: open every connection, echo once, report, hold until told, close.
async fn clients(url: &str) {
    let all_open = Arc::new(Barrier::new(CONNECTIONS + 1));
    let go = Arc::new(tokio::sync::Notify::new());
    // RFC 6455 §4.1 lets one connection per address be CONNECTING at a time, and the handshake
    // timeout includes the wait for that turn: ten thousand handshakes in a row take a while.
    let config = Arc::new(ClientConfig {
        timeouts: rfc6455::tokio::Timeouts { handshake: LIMIT * 15, ..Default::default() },
        ..ClientConfig::default()
    });
    let mut tasks = Vec::with_capacity(CONNECTIONS);
    for i in 0..CONNECTIONS {
        let (url, all_open, go, config) = (url.to_string(), all_open.clone(), go.clone(), config.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ws, _) = connect_with(&url, &config).await.unwrap();
            let text = format!("client {i}");
            ws.send_text(&text).await.unwrap();
            assert_eq!(ws.read().await.unwrap(), Message::Text(text));
            let closing = go.notified();
            all_open.wait().await;
            closing.await;
            ws.close(CloseCode::NORMAL, "").await.unwrap();
        }));
    }
    all_open.wait().await;
    println!("{ALL_OPEN}");
    // Hold every connection until the server side says to close.
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    })
    .await
    .unwrap();
    go.notify_waiters();
    for task in tasks {
        task.await.unwrap();
    }
}
