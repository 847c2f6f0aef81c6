//! The server loop the live demos (news feed, pub/sub, ticker, dashboard) share: one port that
//! serves the demo's page and endpoints over plain HTTP and its WebSocket clients, one thread
//! per connection, and a clean stop.
//!
//! Every demo served here offers the frame inspector (`inspector.rs`): its script and style
//! sheet, and its WebSocket, are answered before the demo's own [`Handler::decide`].
//!
//! A demo implements [`Handler`]: what to answer a request ([`Handler::decide`]), what to do
//! when a WebSocket client opens, sends a text message, and goes away. Each client is a
//! [`Client`] handle the demo may keep and clone (into broker callbacks, say): sending through
//! it never blocks, because messages go to that client's own outbox and a writer thread per
//! connection puts them on the wire. A slow browser therefore cannot hold up a broadcast to
//! the others.
//!
//! [`Stopper::stop`] (wired to Ctrl-C by the examples, called directly by the tests) ends
//! the accept loop, sends every client a Close (1001, going away) after what was already
//! queued for it, and waits a bounded time for the connections to finish.

// Each demo compiles this file into its own crate and uses a different part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::inspector::Inspector;
use rfc6455::blocking::{Decision, Reader, Server, Writer};
use rfc6455::handshake::Request;
use rfc6455::{CloseCode, Error, Message};

/// How many messages may wait for one client before it counts as too slow and new messages
/// for it are dropped (a live feed would rather skip than fall ever further behind).
const OUTBOX_CAPACITY: usize = 1024;

/// How long a stop waits for the connections to finish their closing handshakes.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// What a demo does with requests and clients. Every method runs on the calling connection's
/// thread, so several run at once.
pub trait Handler: Send + Sync + 'static {
    /// Per-connection state, created when a WebSocket client opens.
    type Session: Send;

    /// Answer a request: [`Decision::accept`] a WebSocket upgrade, or respond to a plain HTTP
    /// request (the page, a JSON endpoint, a 404).
    fn decide(&self, request: &Request) -> Decision;

    /// A WebSocket client connected, to `path` (the request target, query included).
    fn open(&self, client: Client, path: &str) -> Self::Session;

    /// The client sent a text message.
    fn message(&self, session: &mut Self::Session, text: &str);

    /// The client is gone (it closed, the network failed, or the server is stopping).
    fn closed(&self, session: Self::Session);
}

/// Something to write to one client, in order.
enum Outgoing {
    Text(String),
    Close(CloseCode, &'static str),
    /// The connection is over: the writer thread ends even if the demo still holds a handle.
    Finish,
}

/// A connected WebSocket client: a cheap, cloneable handle for sending to it.
#[derive(Clone)]
pub struct Client {
    id: u64,
    peer: SocketAddr,
    outbox: SyncSender<Outgoing>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("id", &self.id).field("peer", &self.peer).finish()
    }
}

impl Client {
    /// A number unique to this connection for the server's life.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Queue a text message. Returns `false` when it was dropped: the client is gone, or so far
    /// behind that its outbox is full.
    pub fn send_text(&self, text: impl Into<String>) -> bool {
        match self.outbox.try_send(Outgoing::Text(text.into())) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// Queue a Close after whatever is already queued.
    pub fn close(&self, code: CloseCode, reason: &'static str) {
        // A full outbox cannot take the Close: fall back to waiting for room, bounded by the
        // writer's own write timeout.
        if let Err(TrySendError::Full(close)) = self.outbox.try_send(Outgoing::Close(code, reason)) {
            let _ = self.outbox.send(close);
        }
    }
}

/// Stops a running [`serve`] loop; cloneable, usable from any thread (and a Ctrl-C handler).
/// Background threads of a demo (a price generator, a sampler) wait on it between steps.
#[derive(Clone)]
pub struct Stopper {
    stopped: Arc<(Mutex<bool>, Condvar)>,
    /// Where to connect to wake the accept loop out of its blocking `accept`.
    wake_addr: SocketAddr,
}

impl Stopper {
    /// A stopper for `server`.
    pub fn for_server(server: &Server) -> io::Result<Stopper> {
        let mut wake_addr = server.local_addr()?;
        // A server bound to every interface is reached through loopback.
        if wake_addr.ip().is_unspecified() {
            wake_addr.set_ip(match wake_addr.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            });
        }
        Ok(Stopper { stopped: Arc::new((Mutex::new(false), Condvar::new())), wake_addr })
    }

    /// Ask everything to stop. Returns at once; [`serve`] returns once its clients are closed.
    pub fn stop(&self) {
        let (lock, condvar) = &*self.stopped;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
        condvar.notify_all();
        // The accept loop blocks in accept(): a connection of our own wakes it to see the flag.
        let _ = TcpStream::connect_timeout(&self.wake_addr, Duration::from_secs(1));
    }

    /// Whether [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        *self.stopped.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sleep for `duration`, or less if a stop comes first. Returns whether it was stopped.
    pub fn sleep(&self, duration: Duration) -> bool {
        let (lock, condvar) = &*self.stopped;
        let deadline = Instant::now() + duration;
        let mut stopped = lock.lock().unwrap_or_else(PoisonError::into_inner);
        while !*stopped {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            stopped = condvar.wait_timeout(stopped, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        true
    }
}

/// The clients connected now, to close them all on stop.
type Registry = Arc<Mutex<HashMap<u64, Client>>>;

/// Accept connections and run `handler` on them until `stopper` says stop; then close every
/// client and wait (boundedly) for the connection threads.
pub fn serve<H: Handler>(server: Server, handler: Arc<H>, stopper: Stopper) -> io::Result<()> {
    let registry: Registry = Arc::default();
    let inspector = Inspector::new();
    let next_id = Arc::new(AtomicU64::new(1));
    let mut connections: Vec<JoinHandle<()>> = Vec::new();
    for pending in server.incoming() {
        if stopper.is_stopped() {
            break;
        }
        let pending = match pending {
            Ok(pending) => pending,
            Err(e) => {
                // Out of file descriptors, a reset before accept: not the listener's end.
                eprintln!("accept failed: {e}");
                if stopper.sleep(Duration::from_millis(50)) {
                    break;
                }
                continue;
            }
        };
        connections.retain(|connection| !connection.is_finished());
        let handler = Arc::clone(&handler);
        let registry = Arc::clone(&registry);
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let inspector = Arc::clone(&inspector);
        connections.push(thread::spawn(move || {
            let peer = pending.peer_addr();
            let mut path = String::new();
            // The frame inspector's hook on this connection: it records only if the page asks.
            let tap = inspector.tap();
            let mut inspector_target = None;
            let result = pending.with_observer(tap.observer()).handshake_with(|request| {
                path = request.path.clone();
                if Inspector::handles(request) {
                    let decision = inspector.decide(request);
                    // Only an accepted request claimed its connection; only a claim is given
                    // back.
                    if matches!(decision, Decision::Accept { .. }) {
                        inspector_target = Some(request.path.clone());
                    }
                    return decision;
                }
                let decision = handler.decide(request);
                if matches!(decision, Decision::Accept { .. }) {
                    tap.enable_if_asked(request);
                }
                decision
            });
            // A plain HTTP request was answered inside the handshake; only upgrades go on.
            let ws = match (result, inspector_target.as_deref()) {
                (Ok(ws), _) => ws,
                (Err(_), Some(target)) => return inspector.release(target),
                (Err(_), None) => return,
            };
            if let Some(target) = inspector_target {
                inspector.serve(ws, &target);
                return;
            }
            match ws.split() {
                Ok((reader, writer)) => {
                    // The page's token for its inspector, before anything else.
                    if let Some(token) = tap.token_message()
                        && writer.send_text(&token).is_err()
                    {
                        return;
                    }
                    run_client(&*handler, &registry, id, peer, &path, reader, writer)
                }
                Err(e) => eprintln!("{peer}: {e}"),
            }
        }));
    }

    let clients: Vec<Client> = registry.lock().unwrap_or_else(PoisonError::into_inner).values().cloned().collect();
    for client in clients {
        client.close(CloseCode::GOING_AWAY, "server shutting down");
    }
    let deadline = Instant::now() + STOP_GRACE;
    while connections.iter().any(|connection| !connection.is_finished()) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// One WebSocket client's life: register it, read its messages into the handler, unregister.
fn run_client<H: Handler>(
    handler: &H,
    registry: &Registry,
    id: u64,
    peer: SocketAddr,
    path: &str,
    mut reader: Reader,
    writer: Writer,
) {
    let (outbox, queued) = mpsc::sync_channel(OUTBOX_CAPACITY);
    let writer_thread = thread::spawn(move || write_queued(&writer, queued));
    let client = Client { id, peer, outbox };
    registry.lock().unwrap_or_else(PoisonError::into_inner).insert(id, client.clone());
    let mut session = handler.open(client.clone(), path);
    loop {
        match reader.read() {
            Ok(Message::Text(text)) => handler.message(&mut session, &text),
            // The demos speak JSON text; binary data has no meaning to them (§7.4.1: 1003).
            Ok(Message::Binary(_)) => client.close(CloseCode::UNSUPPORTED_DATA, "this demo speaks text"),
            Ok(Message::Ping(_) | Message::Pong(_)) => {}
            Ok(Message::Close(..)) | Err(Error::Closed) => break,
            Err(e) => {
                eprintln!("{peer}: {e}");
                break;
            }
        }
    }
    registry.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
    handler.closed(session);
    // A blocking send: the writer thread is either draining the outbox (its writes fail fast
    // now that the connection is over) or already gone, in which case this fails at once.
    let _ = client.outbox.send(Outgoing::Finish);
    let _ = writer_thread.join();
}

/// Put a client's queued messages on the wire until its outbox is dropped or a write fails.
fn write_queued(writer: &Writer, queued: Receiver<Outgoing>) {
    for outgoing in queued {
        let written = match outgoing {
            Outgoing::Text(text) => writer.send_text(&text),
            Outgoing::Close(code, reason) => writer.close(code, reason),
            Outgoing::Finish => break,
        };
        if written.is_err() {
            break;
        }
    }
}

/// A complete HTTP response with a JSON body, marked uncacheable (it is live data).
pub fn json_response(body: &str) -> Decision {
    let mut response = rfc6455::handshake::http_response(200, "application/json", body.as_bytes());
    insert_header(&mut response, "Cache-Control: no-store");
    Decision::Respond(response)
}

/// A page of HTML.
pub fn html_response(html: &str) -> Decision {
    Decision::respond("text/html; charset=utf-8", html.as_bytes())
}

/// 404 for anything else.
pub fn not_found() -> Decision {
    Decision::Respond(rfc6455::handshake::http_response(404, "text/plain; charset=utf-8", b"not found\n"))
}

/// Add a header line right after the status line of a response built by `http_response`.
fn insert_header(response: &mut Vec<u8>, line: &str) {
    if let Some(end_of_status) = response.windows(2).position(|pair| pair == b"\r\n") {
        let at = end_of_status + 2;
        let mut header = line.as_bytes().to_vec();
        header.extend_from_slice(b"\r\n");
        response.splice(at..at, header);
    }
}

/// The path of a request target, without its query.
pub fn path_only(target: &str) -> &str {
    target.split(['?', '#']).next().unwrap_or(target)
}

/// The value of `name` in the query of a request target, percent-decoded (`+` is a space).
pub fn query_param(target: &str, name: &str) -> Option<String> {
    let query = target.split_once('?')?.1.split('#').next()?;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| percent_decode(value))
    })
}

/// Decode `%XX` escapes and `+`; invalid escapes stay as they are, invalid UTF-8 is replaced.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
