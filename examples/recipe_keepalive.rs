//! Recipe: keepalive and idle detection.
//!
//! The server pings each connection every `PING_EVERY` (so proxies and NAT boxes see traffic)
//! and gives up on one that sent nothing at all — not even the Pong every live peer answers a
//! Ping with (RFC 6455 §5.5.2) — for `IDLE_AFTER`. The read timeout of the blocking layer
//! (`Timeouts::read`) is the idle timer: each read waits at most that long. docs/manual/keepalive.md
//! explains the choice of the two durations.
//!
//! ```text
//! cargo run --example recipe_keepalive
//! ```
//!
//! The demo (with short durations) connects a live client, which reads and so answers Pings,
//! and a silent one, which never reads: the silent one is dropped, the live one stays.

use std::io::ErrorKind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::blocking::{Server, ServerConfig, Timeouts, connect};
use rfc6455::{Error, Message};

/// How a connection ended, as the server saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The peer closed the connection (a closing handshake).
    Closed,
    /// Nothing arrived for the idle timeout: the peer is gone or stuck.
    Idle,
    /// Another error (a reset, a protocol error).
    Failed,
}

// ANCHOR: serve
/// Serve one connection: ping it every `ping_every`, drop it after `idle_after` of silence.
pub fn serve_one(pending: rfc6455::blocking::Pending, ping_every: Duration) -> Result<Ending, Error> {
    let (mut reader, writer) = pending.handshake()?.split()?;
    // The pinger: a Ping whenever `ping_every` passes. (A server that sends data often could
    // ping only when it has sent nothing for that long.)
    let (stop, stopped) = mpsc::channel::<()>();
    let pinger = thread::spawn(move || {
        while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(ping_every) {
            if writer.ping(b"").is_err() {
                return;
            }
        }
    });
    let ending = loop {
        match reader.read() {
            // Data, a Pong, a Ping: the peer is alive. Each read waits at most the idle timeout.
            Ok(Message::Close(..)) | Err(Error::Closed) => break Ending::Closed,
            Ok(_) => {}
            Err(Error::Io(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break Ending::Idle,
            Err(_) => break Ending::Failed,
        }
    };
    drop(stop);
    let _ = pinger.join();
    Ok(ending)
}
// ANCHOR_END: serve

/// The demo: returns how the silent client's connection ended, after how long, and whether the
/// live client was still being served at the end.
pub fn demo(ping_every: Duration, idle_after: Duration) -> Result<(Ending, Duration, bool), Error> {
    let timeouts = Timeouts { read: Some(idle_after), ..Timeouts::default() };
    let server = Server::bind("127.0.0.1:0")?.with_config(ServerConfig { timeouts, ..ServerConfig::default() });
    let url = format!("ws://{}/", server.local_addr()?);
    let live_connections = Arc::new(AtomicUsize::new(0));
    let (endings, ended) = mpsc::channel();
    let counter = live_connections.clone();
    thread::spawn(move || {
        for pending in server.incoming().flatten() {
            let (endings, counter) = (endings.clone(), counter.clone());
            thread::spawn(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                let started = Instant::now();
                let ending = serve_one(pending, ping_every);
                counter.fetch_sub(1, Ordering::SeqCst);
                let _ = endings.send((ending, started.elapsed()));
            });
        }
    });

    // The live client reads, which answers every Ping with a Pong.
    let mut live = connect(&url)?;
    let live_reader = thread::spawn(move || while live.read().is_ok() {});
    // The silent client connects and never reads again: its Pongs are never sent.
    let silent = connect(&url)?;

    let (ending, after) = ended.recv_timeout(idle_after * 10).map_err(|_| Error::Io(ErrorKind::TimedOut.into()))?;
    let ending = ending?;
    // Several idle periods later, the live client is still there.
    thread::sleep(idle_after * 2);
    let live_still_served = live_connections.load(Ordering::SeqCst) == 1;
    drop(silent);
    drop(live_reader);
    Ok((ending, after, live_still_served))
}

fn main() -> Result<(), Error> {
    let (ping_every, idle_after) = (Duration::from_millis(200), Duration::from_millis(700));
    let (ending, after, live) = demo(ping_every, idle_after)?;
    println!("ping every {ping_every:?}, idle after {idle_after:?}");
    println!("the silent client: {ending:?} after {after:.1?}; the live client still served: {live}");
    Ok(())
}
