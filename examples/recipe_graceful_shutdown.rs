//! Recipe: shut a server down gracefully.
//!
//! 1. Stop accepting: `ShutdownHandle::shutdown` ends `Server::incoming`, even while it is
//!    blocked waiting for a connection.
//! 2. Tell every client: a Close with 1001, "going away" (RFC 6455 §7.4.1: "a server going
//!    down"), so clients know to reconnect later rather than report an error.
//! 3. Give them a grace period to answer the Close; the closing handshake ends each connection.
//! 4. Cut the connections that did not answer in time, and wait for every thread.
//!
//! docs/manual/graceful-shutdown.md explains each step.
//!
//! ```text
//! cargo run --example recipe_graceful_shutdown
//! ```

use std::collections::HashMap;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rfc6455::blocking::{Server, ShutdownHandle, Writer, connect};
use rfc6455::{CloseCode, Error, Message};

/// The live connections: a writer each, to send the Close and to cut the connection short.
#[derive(Default)]
struct Connections {
    live: Mutex<HashMap<u64, Writer>>,
    /// Signalled whenever a connection ends.
    ended: Condvar,
}

/// A running server that can be shut down.
pub struct GracefulServer {
    addr: SocketAddr,
    stop_accepting: ShutdownHandle,
    connections: Arc<Connections>,
    accepting: Option<JoinHandle<Vec<JoinHandle<()>>>>,
}

impl GracefulServer {
    /// Listen on `addr` and echo text to every client until [`Self::shutdown`].
    pub fn start(addr: &str) -> std::io::Result<GracefulServer> {
        let server = Server::bind(addr)?;
        let addr = server.local_addr()?;
        let stop_accepting = server.shutdown_handle()?;
        let connections = Arc::new(Connections::default());
        let registry = connections.clone();
        let accepting = thread::spawn(move || {
            let next_id = AtomicU64::new(0);
            let mut threads = Vec::new();
            // Ends when the shutdown handle is used (step 1).
            for pending in server.incoming() {
                let Ok(pending) = pending else { continue };
                let id = next_id.fetch_add(1, Ordering::Relaxed);
                let registry = registry.clone();
                threads.push(thread::spawn(move || {
                    let _ = serve_one(pending, id, &registry);
                    registry.live.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
                    registry.ended.notify_all();
                }));
            }
            threads
        });
        Ok(GracefulServer { addr, stop_accepting, connections, accepting: Some(accepting) })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    // ANCHOR: shutdown
    /// Stop: no new connections, a Close (1001) to every client, `grace` to answer it, then
    /// the rest are cut. Returns how many connections had to be cut.
    pub fn shutdown(mut self, grace: Duration) -> usize {
        // Step 1: stop accepting (this wakes the blocked accept).
        self.stop_accepting.shutdown();
        let threads = self.accepting.take().map(|t| t.join().unwrap_or_default()).unwrap_or_default();

        // Step 2: tell every client.
        let mut live = self.connections.live.lock().unwrap_or_else(|e| e.into_inner());
        for writer in live.values() {
            let _ = writer.close(CloseCode::GOING_AWAY, "server shutting down");
        }
        // Step 3: wait for their answers, at most `grace`.
        let deadline = Instant::now() + grace;
        while !live.is_empty() && Instant::now() < deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            live = self.connections.ended.wait_timeout(live, left).unwrap_or_else(|e| e.into_inner()).0;
        }
        // Step 4: cut the rest, then wait for every thread.
        let cut = live.len();
        for writer in live.values() {
            writer.shutdown();
        }
        drop(live);
        for thread in threads {
            let _ = thread.join();
        }
        cut
    }
    // ANCHOR_END: shutdown
}

/// Echo text until the connection ends.
fn serve_one(pending: rfc6455::blocking::Pending, id: u64, registry: &Connections) -> Result<(), Error> {
    let ws = pending.handshake()?;
    let (mut reader, writer) = ws.split()?;
    registry.live.lock().unwrap_or_else(|e| e.into_inner()).insert(id, writer.clone());
    loop {
        match reader.read()? {
            Message::Text(text) => writer.send_text(&text)?,
            Message::Close(..) => {}
            _ => {}
        }
    }
}

/// The demo: two clients that answer the Close and one that never reads. Returns the Close
/// code each answering client saw, how many connections were cut, and whether the port is
/// closed afterwards.
pub fn demo(grace: Duration) -> Result<(Vec<Option<CloseCode>>, usize, bool), Error> {
    let server = GracefulServer::start("127.0.0.1:0")?;
    let url = format!("ws://{}/", server.local_addr());
    let mut polite: Vec<_> = (0..2).map(|_| connect(&url)).collect::<Result<_, _>>()?;
    let _deaf = connect(&url)?; // never reads, so never answers the Close
    for ws in &mut polite {
        ws.send_text("hello")?;
        ws.read()?; // the echo: the server has registered this connection
    }
    let watchers: Vec<_> = polite
        .into_iter()
        .map(|mut ws| {
            thread::spawn(move || {
                loop {
                    match ws.read() {
                        Ok(Message::Close(code, _)) => return code,
                        Ok(_) => {}
                        Err(_) => return None,
                    }
                }
            })
        })
        .collect();
    while server.connections.live.lock().unwrap_or_else(|e| e.into_inner()).len() < 3 {
        thread::sleep(Duration::from_millis(5));
    }
    let addr = server.local_addr();
    let cut = server.shutdown(grace);
    let codes = watchers.into_iter().map(|w| w.join().unwrap_or(None)).collect();
    let port_closed = TcpStream::connect(addr).is_err();
    Ok((codes, cut, port_closed))
}

fn main() -> Result<(), Error> {
    let grace = Duration::from_millis(500);
    let started = Instant::now();
    let (codes, cut, port_closed) = demo(grace)?;
    println!("clients that answered saw Close codes {codes:?}");
    println!("{cut} connection(s) cut after the {grace:?} grace period; port closed: {port_closed}");
    println!("shut down in {:.2?}", started.elapsed());
    Ok(())
}
