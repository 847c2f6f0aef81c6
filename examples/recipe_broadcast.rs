//! Recipe: broadcast to many clients without one slow client blocking the rest.
//!
//! Each client gets a bounded queue and a writer thread of its own; the broadcaster only
//! *queues* (`try_send`, which never blocks). A client whose queue is full cannot keep up and
//! is dropped, so a client that stops reading costs a bounded amount of memory and never holds
//! up the others. docs/manual/broadcast.md explains the choices.
//!
//! ```text
//! cargo run --example recipe_broadcast
//! ```
//!
//! The demo starts a server on a free loopback port, connects three clients of which one never
//! reads, and broadcasts messages of 4 KiB until the stuck one is dropped: the two readers got
//! every message all along.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::blocking::{Server, ServerConfig, Timeouts, Writer, connect};
use rfc6455::{Error, Message};

/// Messages queued for one client before it counts as too slow.
const QUEUE: usize = 64;

// ANCHOR: hub
/// One client as the hub sees it: its queue, and its writer (to cut the connection off).
type Entry = (SyncSender<Arc<str>>, Writer);

/// The clients, each with its queue and a handle to cut it off.
#[derive(Default)]
pub struct Hub {
    clients: Mutex<HashMap<u64, Entry>>,
    next_id: AtomicU64,
}

impl Hub {
    /// Queue `text` for every client; drop those whose queue is full. Returns how many got it.
    pub fn broadcast(&self, text: &str) -> usize {
        // One allocation shared by every queue, however many clients there are.
        let text: Arc<str> = Arc::from(text);
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients.retain(|_, (queue, writer)| match queue.try_send(text.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                // Too slow, or gone: shutting the connection ends its reader and its writer.
                writer.shutdown();
                false
            }
        });
        clients.len()
    }

    /// How many clients are connected.
    pub fn client_count(&self) -> usize {
        self.clients.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn add(&self, queue: SyncSender<Arc<str>>, writer: Writer) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.clients.lock().unwrap_or_else(|e| e.into_inner()).insert(id, (queue, writer));
        id
    }

    fn remove(&self, id: u64) {
        self.clients.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    }
}

/// Accept clients forever: a writer thread drains each one's queue, a reader thread answers
/// its Pings and notices when it leaves.
pub fn serve(server: Server, hub: Arc<Hub>) {
    for pending in server.incoming() {
        let Ok(pending) = pending else { continue };
        let hub = hub.clone();
        thread::spawn(move || -> Result<(), Error> {
            let ws = pending.handshake()?;
            let (mut reader, writer) = ws.split()?;
            let (queue, queued) = mpsc::sync_channel(QUEUE);
            let id = hub.add(queue, writer.clone());
            thread::spawn(move || write_queued(&writer, &queued));
            // Reading answers Pings and sees the Close; this server ignores what clients say.
            while reader.read().is_ok() {}
            hub.remove(id);
            Ok(())
        });
    }
}

/// Put one client's queued messages on the wire. A write that fails or times out (the client
/// stopped reading) ends the thread; the broadcaster then finds the queue full and drops it.
fn write_queued(writer: &Writer, queued: &Receiver<Arc<str>>) {
    for text in queued {
        if writer.send_text(&text).is_err() {
            return;
        }
    }
}
// ANCHOR_END: hub

/// The demo: two readers get every message, a client that never reads is dropped. Returns
/// how many messages were broadcast, how many each reader got, and how many clients are left.
pub fn demo() -> Result<(usize, [usize; 2], usize), Error> {
    // A write that waits a second for a client is a client that is not reading.
    let timeouts = Timeouts { write: Some(Duration::from_secs(1)), ..Timeouts::default() };
    let server = Server::bind("127.0.0.1:0")?.with_config(ServerConfig { timeouts, ..ServerConfig::default() });
    let url = format!("ws://{}/", server.local_addr()?);
    let hub = Arc::new(Hub::default());
    let serving = hub.clone();
    thread::spawn(move || serve(server, serving));

    let heard: [Arc<AtomicUsize>; 2] = Default::default();
    let mut readers = Vec::new();
    for count in &heard {
        let mut ws = connect(&url)?;
        let count = count.clone();
        readers.push(thread::spawn(move || {
            while let Ok(Message::Text(_)) = ws.read() {
                count.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    let stuck = connect(&url)?; // connected, and never reads
    let deadline = Instant::now() + Duration::from_secs(30);
    while hub.client_count() < 3 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }

    // Broadcast in bursts smaller than a queue, letting the readers catch up after each (as a
    // source with a pace of its own would), until the stuck client's socket buffers and then
    // its queue are full and it is dropped.
    let payload = "x".repeat(4096);
    let mut sent = 0;
    while hub.client_count() == 3 && Instant::now() < deadline {
        for _ in 0..16 {
            hub.broadcast(&payload);
        }
        sent += 16;
        while heard.iter().any(|count| count.load(Ordering::SeqCst) < sent) && Instant::now() < deadline {
            thread::sleep(Duration::from_micros(200));
        }
    }
    let left = hub.client_count();
    drop(stuck);
    let got = [heard[0].load(Ordering::SeqCst), heard[1].load(Ordering::SeqCst)];
    Ok((sent, got, left))
}

fn main() -> Result<(), Error> {
    let (sent, [a, b], left) = demo()?;
    println!(
        "broadcast {sent} messages of 4 KiB: reader 1 got {a}, reader 2 got {b}; {left} of 3 clients still connected"
    );
    println!("(the client that never read was dropped once its socket and its queue were full)");
    Ok(())
}
