//! The chat server behind `examples/chat.rs`: rooms, join/leave notifications, a typing
//! indicator and a live count of users per room, over one port that serves the page too.
//!
//! Shared by the example and by `tests/demo_chat.rs` (both include this file as a module next
//! to `examples/common/mod.rs`).
//!
//! # Protocol
//!
//! Every message is a text frame holding `{"type": ..., "payload": {...}, "timestamp": ms}`.
//!
//! | client sends | payload | server answers |
//! | --- | --- | --- |
//! | `join` | `room`, `user`, optional `since` + `epoch` | `join` to the joiner (`room`, `user`, `users`, `offset`, `epoch`), then `history` if `since` was given; `notification` to the room |
//! | `leave` | | `leave` to the leaver; `notification` to the room |
//! | `chat` | `text`, optional `id` | `sent` (`room`, `offset`, `epoch`, `id`) to the sender; `chat` (`room`, `user`, `text`, `offset`, `epoch`) to everyone else in the room |
//! | `typing` | `typing` (bool) | `typing` (`room`, `user`, `typing`) to everyone else in the room |
//! | `history` | `since`, `epoch` | `history` (`room`, `epoch`, `offset`, `messages`, `complete`) |
//! | `ping` | anything | `pong` with the same payload |
//!
//! Every client also gets `rooms` (`rooms: [{name, users}]`, `online`, both cluster-wide) on
//! connecting and whenever a count changes; `status` (`backplane`: `"down"` or `"up"`) when
//! this node loses or regains the rest of the cluster; and `resync` (`room`, `reason`: `gap`,
//! `epoch` or `reconnected`) when it may have missed messages of its room. Malformed JSON, an unknown type or a request that makes no sense
//! (chatting before joining, a name already taken) gets an `error` (`code`, `message`); the
//! connection stays open. A chat message that could not be published (the backplane is down)
//! gets an `error` with code `not_delivered` and the message's `id`: it was not delivered to
//! anyone, and the page says so.
//!
//! # Several processes
//!
//! The server is one node of a cluster joined by a [`Backplane`] ([`Settings::backplane`]; a
//! private in-memory bus when none is given, which is a cluster of one). Each node keeps its own
//! sockets and its local members per room; everything a room hears goes through the backplane,
//! the sending node's own clients included, so every node delivers a room's messages in the
//! one order the backplane gives them and each member gets each message once:
//!
//! - room traffic is published on channel `room:NAME`, and a node subscribes to it while it has
//!   members in that room; presence changes are announced on channel `presence`;
//! - names are presence claims (room, lower-cased name) with a TTL, so a name is refused on
//!   every node while anyone holds it, and a crashed node's users leave everyone's lists and
//!   counts within TTL + one heartbeat (8 s with the defaults: TTL 6 s, heartbeat 2 s);
//! - chat messages are sequenced: each carries the room's `offset` and `epoch`. A node that sees
//!   a gap in a room's offsets, a new epoch, or the backplane come back after an outage sends
//!   the room's members `resync` (`room`, `reason`); the page then asks for `history` since the
//!   last offset it has, and the backplane's bounded history (100 messages per room) fills the
//!   gap, or says (`complete: false`) that it cannot.
//!
//! # Threads and slow clients
//!
//! Each client has a reader thread (it runs the handshake, then reads and handles messages)
//! and a writer thread that owns the [`Writer`] half and drains a bounded queue. Handling a
//! message only pushes onto queues (`try_send`, never blocking), so one slow or dead client
//! never holds up a broadcast. A client whose queue is full, or whose socket takes longer than
//! [`Settings::write_timeout`] to accept a write, is dropped. The writer pings an idle
//! connection every [`Settings::ping_interval`], and a connection silent for
//! [`Settings::idle_timeout`] (no pong, nothing) is dropped too. A client dropped because its
//! queue was full is sent a Close with [`TOO_SLOW`] (4008, "too slow") first, when its socket
//! still takes writes.

// The example and the test each use only part of the API.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rfc6455::blocking::{Decision, Pending, Reader, Server, ServerConfig, Timeouts, Writer};
use rfc6455::extensions::permessage_deflate::DeflateConfig;
use rfc6455::handshake::{Request, http_response};
use rfc6455::{CloseCode, Config, Error, Limits, Message};
use serde_json::{Value, json};

use super::common::backplane::{Backplane, Claim, Event, MemoryBus, Seq};
use super::common::inspector::Inspector;
use super::common::{envelope, parse_envelope, str_field};

/// The chat page, served at `/`.
pub const PAGE: &str = include_str!("index.html");

/// The path WebSocket clients connect to.
pub const WS_PATH: &str = "/ws";

/// Longest room or user name, in characters.
pub const MAX_NAME_CHARS: usize = 32;

/// Longest chat message, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// The Close code for a client dropped because it could not keep up (RFC 6455 §7.4.2: 4000 to
/// 4999 are for applications).
pub const TOO_SLOW: CloseCode = CloseCode(4008);

/// The backplane channel presence changes are announced on.
const PRESENCE_CHANNEL: &str = "presence";

/// Fewest milliseconds between two recomputations of the room counts (changes in between are
/// folded into one `rooms` message).
const COUNTS_EVERY: Duration = Duration::from_millis(100);

/// The backplane channel of a room.
fn room_channel(room: &str) -> String {
    format!("room:{room}")
}

/// Knobs of a running server. The defaults suit a person at a browser; tests shorten them.
#[derive(Clone)]
pub struct Settings {
    /// Ping a connection after this long without sending it anything.
    pub ping_interval: Duration,
    /// Drop a connection that sent nothing (not even a pong) for this long.
    pub idle_timeout: Duration,
    /// Drop a connection whose socket does not take a write within this time.
    pub write_timeout: Duration,
    /// Messages queued for one client before it counts as too slow and is dropped.
    pub outbox_capacity: usize,
    /// Most clients at once; more are refused with 503.
    pub max_clients: usize,
    /// On shutdown, how long clients get to answer the Close before their sockets are shut.
    pub shutdown_grace: Duration,
    /// Print joins, leaves and errors to stderr.
    pub log: bool,
    /// The cluster this server is a node of; `None` for a server on its own (a private
    /// in-memory bus).
    pub backplane: Option<Arc<dyn Backplane>>,
    /// How often the node renews its presence claims and sweeps expired ones; `None` for a
    /// third of the backplane's TTL.
    pub heartbeat: Option<Duration>,
    /// Serve the page and the chat over TLS only (`https://`, `wss://`).
    #[cfg(feature = "tls")]
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            ping_interval: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(5),
            outbox_capacity: 256,
            max_clients: 1000,
            shutdown_grace: Duration::from_secs(2),
            log: false,
            backplane: None,
            heartbeat: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("ping_interval", &self.ping_interval)
            .field("idle_timeout", &self.idle_timeout)
            .field("outbox_capacity", &self.outbox_capacity)
            .field("backplane", &self.backplane.as_ref().map(|b| b.node().to_owned()))
            .finish_non_exhaustive()
    }
}

/// A running chat server. [`ChatServer::shutdown`] stops it; dropping it does too.
pub struct ChatServer {
    addr: SocketAddr,
    hub: Arc<Hub>,
    accept_thread: Option<JoinHandle<()>>,
    presence_thread: Option<JoinHandle<()>>,
}

impl ChatServer {
    /// Listen on `addr` (port 0 picks a free port) with default settings.
    pub fn start(addr: impl ToSocketAddrs) -> io::Result<ChatServer> {
        ChatServer::start_with(addr, Settings::default())
    }

    /// Listen on `addr` with `settings`, accepting connections on a background thread.
    pub fn start_with(addr: impl ToSocketAddrs, settings: Settings) -> io::Result<ChatServer> {
        let config = ServerConfig {
            config: Config::server()
                .with_limits(Limits {
                    // Chat messages are small: a few KiB at most, with a wide margin.
                    max_frame_size: 64 << 10,
                    max_message_size: 64 << 10,
                    ..Limits::default()
                })
                .map_err(io::Error::other)?,
            timeouts: Timeouts {
                handshake: Duration::from_secs(10),
                read: Some(settings.idle_timeout),
                write: Some(settings.write_timeout),
                close: Duration::from_secs(3),
            },
            // Browsers offer permessage-deflate on every connection; chat text compresses well.
            deflate: Some(DeflateConfig::default()),
            #[cfg(feature = "tls")]
            tls: settings.tls.clone(),
        };
        let server = Server::bind(addr)?.with_config(config);
        let addr = server.local_addr()?;
        let backplane = settings.backplane.clone().unwrap_or_else(|| MemoryBus::default().node());
        let heartbeat = settings.heartbeat.unwrap_or(backplane.ttl() / 3);
        let hub = Arc::new(Hub {
            state: Mutex::new(State::default()),
            emptied: Condvar::new(),
            stopping: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
            settings,
            backplane,
            heartbeat,
            wake: Condvar::new(),
            reported_clients: AtomicU64::new(0),
            inspector: Inspector::new(),
        });
        let weak = Arc::downgrade(&hub);
        hub.backplane.attach(Arc::new(move |event| {
            if let Some(hub) = weak.upgrade() {
                hub.on_backplane(event);
            }
        }));
        hub.backplane.subscribe(PRESENCE_CHANNEL);
        let presence_hub = hub.clone();
        let presence_thread =
            thread::Builder::new().name("chat-presence".into()).spawn(move || presence_loop(&presence_hub))?;
        let accept_hub = hub.clone();
        let accept_thread =
            thread::Builder::new().name("chat-accept".into()).spawn(move || accept_loop(&server, &accept_hub))?;
        Ok(ChatServer { addr, hub, accept_thread: Some(accept_thread), presence_thread: Some(presence_thread) })
    }

    /// The node's name in its cluster.
    pub fn node(&self) -> String {
        self.hub.backplane.node().to_owned()
    }

    /// Whether the backplane is reachable (`/health` says "ok", else "degraded").
    pub fn is_healthy(&self) -> bool {
        self.hub.backplane.is_up()
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether the server speaks TLS (`https://`, `wss://`).
    pub fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.hub.settings.tls.is_some();
        #[cfg(not(feature = "tls"))]
        return false;
    }

    /// The page's URL, for a browser (the wildcard address is shown as loopback).
    pub fn http_url(&self) -> String {
        let scheme = if self.is_tls() { "https" } else { "http" };
        format!("{scheme}://{}/", reachable(self.addr))
    }

    /// The WebSocket endpoint's URL.
    pub fn ws_url(&self) -> String {
        let scheme = if self.is_tls() { "wss" } else { "ws" };
        format!("{scheme}://{}{WS_PATH}", reachable(self.addr))
    }

    /// The frame inspector of this server's connections.
    pub fn inspector(&self) -> &Inspector {
        &self.hub.inspector
    }

    /// How many clients are connected now.
    pub fn client_count(&self) -> usize {
        self.hub.lock().clients.len()
    }

    /// Stop accepting, send every client a Close (1001, going away), give them
    /// [`Settings::shutdown_grace`] to answer, then shut the remaining sockets.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let Some(accept_thread) = self.accept_thread.take() else { return };
        {
            // Under the lock, so the presence thread cannot miss the wake-up.
            let _state = self.hub.lock();
            self.hub.stopping.store(true, Ordering::SeqCst);
            self.hub.wake.notify_all();
        }
        if let Some(presence) = self.presence_thread.take() {
            let _ = presence.join();
        }
        // The accept loop is blocked in accept(): a connection of our own wakes it up.
        let _ = TcpStream::connect_timeout(&reachable(self.addr), Duration::from_secs(1));
        let _ = accept_thread.join();

        let deadline = Instant::now() + self.hub.settings.shutdown_grace;
        let mut state = self.hub.lock();
        for client in state.clients.values() {
            if client.outbox.try_send(Outgoing::Close(CloseCode::GOING_AWAY, "server shutting down")).is_err() {
                client.kill();
            }
        }
        while !state.clients.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = self.hub.emptied.wait_timeout(state, left).map_or_else(|p| p.into_inner().0, |(s, _)| s);
        }
        for client in state.clients.values() {
            client.kill();
        }
    }

    /// Stop as a crashed process would, for tests of node failure: the node leaves the
    /// backplane without releasing its presence claims (they expire), then its sockets go.
    pub fn crash(mut self) {
        self.hub.backplane.disconnect();
        self.stop();
    }
}

impl Drop for ChatServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `addr` with a wildcard IP replaced by loopback, so it can be connected to.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port()),
        _ => addr,
    }
}

type ClientId = u64;

/// What a writer thread sends next.
enum Outgoing {
    /// A serialized envelope, shared by every recipient of a broadcast.
    Text(Arc<str>),
    /// Close the connection with this code and reason.
    Close(CloseCode, &'static str),
}

/// Where a client sits once it has joined.
#[derive(Debug, Clone)]
struct Seat {
    room: String,
    user: String,
}

impl Seat {
    /// The presence key of the seat: names are unique per room, ignoring case.
    fn key(&self) -> String {
        self.user.to_lowercase()
    }
}

/// A connected client, as the hub sees it.
struct Client {
    outbox: SyncSender<Outgoing>,
    /// A handle of the socket, to shut it when the client is dropped.
    socket: TcpStream,
    seat: Option<Seat>,
    /// Raised when the client is dropped for not keeping up: its writer closes with
    /// [`TOO_SLOW`] instead of sending what is left.
    too_slow: Arc<AtomicBool>,
}

impl Client {
    /// Shut the socket: both threads of the client see an error and end.
    fn kill(&self) {
        let _ = self.socket.shutdown(Shutdown::Both);
    }
}

#[derive(Default)]
struct State {
    clients: HashMap<ClientId, Client>,
    /// Room name to its members on this node, in order of arrival (ids only grow).
    rooms: BTreeMap<String, BTreeMap<ClientId, String>>,
    /// The last sequenced message this node delivered in each room with local members.
    seen: HashMap<String, Seq>,
    /// The room counts must be sent again (a presence change somewhere in the cluster).
    counts_dirty: bool,
    /// The presence claims must be renewed now (the backplane came back).
    refresh_now: bool,
    /// A presence change of this node's could not be announced: try again next heartbeat.
    unannounced: bool,
}

/// Everything the threads share.
struct Hub {
    state: Mutex<State>,
    /// Signalled when the last client goes, for shutdown.
    emptied: Condvar,
    stopping: AtomicBool,
    next_id: AtomicU64,
    settings: Settings,
    backplane: Arc<dyn Backplane>,
    heartbeat: Duration,
    /// Wakes the presence thread (counts to send, a claim refresh, a stop).
    wake: Condvar,
    /// The client count this node last reported to the backplane.
    reported_clients: AtomicU64,
    /// The frame inspector: each page may watch its own connection's frames.
    inspector: Arc<Inspector>,
}

/// Why a request was refused: sent back as an `error` message.
struct Refusal {
    code: &'static str,
    message: String,
    /// The `id` of the chat message refused, so the page can mark it.
    id: Option<Value>,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal { code, message: message.into(), id: None }
}

fn accept_loop(server: &Server, hub: &Arc<Hub>) {
    for pending in server.incoming() {
        if hub.stopping.load(Ordering::SeqCst) {
            break;
        }
        let pending = match pending {
            Ok(pending) => pending,
            Err(e) => {
                // Out of file descriptors, say: back off instead of spinning.
                hub.log(format_args!("accept failed: {e}"));
                thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let hub = hub.clone();
        let spawned = thread::Builder::new().name("chat-client".into()).spawn(move || serve_connection(pending, &hub));
        if let Err(e) = spawned {
            eprintln!("cannot start a client thread: {e}");
        }
    }
}

/// Answer one TCP connection: the page over plain HTTP, or a chat client over WebSocket.
fn serve_connection(pending: Pending, hub: &Arc<Hub>) {
    let peer = pending.peer_addr();
    // The frame inspector's hook on this connection: it records only if the page asks.
    let tap = hub.inspector.tap();
    let mut inspector_target = None;
    let decide = |request: &Request| {
        if Inspector::handles(request) {
            let decision = hub.inspector.decide(request);
            // Only an accepted request claimed its connection; only a claim is given back.
            if matches!(decision, Decision::Accept { .. }) {
                inspector_target = Some(request.path.clone());
            }
            return decision;
        }
        let decision = route(request, hub);
        if matches!(decision, Decision::Accept { .. }) {
            tap.enable_if_asked(request);
        }
        decision
    };
    let result = pending.with_observer(tap.observer()).handshake_with(decide);
    if let (Err(_), Some(target)) = (&result, &inspector_target) {
        hub.inspector.release(target);
    }
    let ws = match result {
        Ok(ws) => ws,
        // A plain-text request on the TLS port, a client that refused the certificate.
        Err(e @ Error::Tls(_)) => {
            hub.log(format_args!("{peer}: {e}"));
            return;
        }
        // A page load, a refused upgrade or a broken request: the client has had its answer.
        Err(_) => return,
    };
    if let Some(target) = inspector_target {
        hub.inspector.serve(ws, &target);
        return;
    }
    let socket = match ws.get_ref().tcp_stream().try_clone() {
        Ok(socket) => socket,
        Err(e) => {
            hub.log(format_args!("{peer}: {e}"));
            return;
        }
    };
    let (reader, writer) = match ws.split() {
        Ok(halves) => halves,
        Err(e) => {
            hub.log(format_args!("{peer}: {e}"));
            return;
        }
    };
    // The page's token for its inspector, before anything else.
    if let Some(token) = tap.token_message()
        && writer.send_text(&token).is_err()
    {
        return;
    }
    let writer_socket = match socket.try_clone() {
        Ok(handle) => handle,
        Err(e) => {
            hub.log(format_args!("{peer}: {e}"));
            return;
        }
    };
    let (outbox, queue) = mpsc::sync_channel(hub.settings.outbox_capacity);
    let too_slow = Arc::new(AtomicBool::new(false));
    let slow = too_slow.clone();
    let Some(id) = hub.register(Client { outbox, socket, seat: None, too_slow }) else {
        let _ = writer.close(CloseCode::GOING_AWAY, "server shutting down");
        return;
    };
    let ping_interval = hub.settings.ping_interval;
    let spawned = thread::Builder::new().name("chat-writer".into()).spawn(move || {
        let written = write_loop(&writer, &queue, ping_interval, &slow);
        if written.is_err() || slow.load(Ordering::SeqCst) {
            // A write timed out or failed, or the client was too slow and has been told: wake
            // the reader, which unregisters the client. Data already queued is still sent.
            let _ = writer_socket.shutdown(Shutdown::Both);
        }
    });
    if let Err(e) = spawned {
        hub.log(format_args!("{peer}: cannot start a writer thread: {e}"));
        hub.disconnect(id);
        return;
    }
    let ending = read_loop(reader, id, hub);
    if let Err(e) = ending {
        hub.log(format_args!("{peer}: {e}"));
    }
    hub.disconnect(id);
}

/// The handshake decision: the page, the WebSocket endpoint, or a refusal.
fn route(request: &Request, hub: &Hub) -> Decision {
    let path = request.resource_name().split('?').next().unwrap_or("/");
    if request.is_websocket_upgrade() {
        if path != WS_PATH {
            return Decision::Reject { status: 404, reason: format!("the chat endpoint is {WS_PATH}") };
        }
        if !same_origin(request) {
            // A page on another site must not open chat connections in a visitor's name.
            return Decision::Reject { status: 403, reason: "cross-origin WebSocket connections are refused".into() };
        }
        if hub.lock().clients.len() >= hub.settings.max_clients {
            return Decision::Reject { status: 503, reason: "the chat is full; try again later".into() };
        }
        return Decision::accept();
    }
    if request.method != "GET" && request.method != "HEAD" {
        return Decision::Respond(http_response(405, "text/plain; charset=utf-8", b"only GET is served here\n"));
    }
    match path {
        "/" | "/index.html" => Decision::respond("text/html; charset=utf-8", PAGE.as_bytes()),
        "/healthz" | "/health" if hub.backplane.is_up() => Decision::respond("text/plain; charset=utf-8", b"ok\n"),
        // Still serving this node's clients, but cut off from the rest of the cluster.
        "/healthz" | "/health" => Decision::Respond(http_response(
            503,
            "text/plain; charset=utf-8",
            b"degraded: the backplane is unreachable; rooms reach this node's clients only\n",
        )),
        _ => Decision::Respond(http_response(404, "text/plain; charset=utf-8", b"not found\n")),
    }
}

/// Whether the request has no `Origin` (not a browser) or one whose host is the `Host` the
/// request was sent to.
fn same_origin(request: &Request) -> bool {
    let Some(origin) = &request.origin else { return true };
    let origin_host = origin.split_once("://").map_or(origin.as_str(), |(_, rest)| rest);
    request.host.as_deref().is_some_and(|host| host.eq_ignore_ascii_case(origin_host))
}

/// Read and handle messages until the connection ends.
fn read_loop(mut reader: Reader, id: ClientId, hub: &Hub) -> Result<(), Error> {
    loop {
        match reader.read() {
            Ok(Message::Text(text)) => hub.handle(id, &text),
            Ok(Message::Binary(_)) => {
                hub.reply_error(id, refuse("bad_message", "binary messages are not understood: send JSON text"));
            }
            // Pongs answer our pings; the Close is answered by the connection itself.
            Ok(_) => {}
            Err(Error::Closed) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// Send what the hub queues for this client, and ping it when idle. Returns when the queue
/// says close, when the hub drops the client (closing with [`TOO_SLOW`] if that is why), or
/// with the error of a failed write.
fn write_loop(
    writer: &Writer,
    queue: &mpsc::Receiver<Outgoing>,
    ping_interval: Duration,
    too_slow: &AtomicBool,
) -> Result<(), Error> {
    loop {
        let next = queue.recv_timeout(ping_interval);
        if too_slow.load(Ordering::SeqCst) {
            // What is still queued is dropped: the client could not keep up with it anyway.
            return writer.close(TOO_SLOW, "too slow: fell too far behind the room");
        }
        match next {
            Ok(Outgoing::Text(text)) => writer.send_text(&text)?,
            // The reader receives the peer's reply and ends the connection.
            Ok(Outgoing::Close(code, reason)) => return writer.close(code, reason),
            Err(RecvTimeoutError::Timeout) => writer.ping(b"")?,
            // The hub dropped the client (and shut its socket).
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
    }
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change to the state completes before the lock is released, so a panic in
        // another thread leaves it consistent.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn log(&self, line: std::fmt::Arguments<'_>) {
        if self.settings.log {
            eprintln!("{line}");
        }
    }

    /// Add a client and send it the room counts. `None` when the server is shutting down.
    fn register(&self, client: Client) -> Option<ClientId> {
        let mut state = self.lock();
        if self.stopping.load(Ordering::SeqCst) {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        state.clients.insert(id, client);
        let mut dropped = Vec::new();
        let counts = self.rooms_message(&state);
        deliver(&state, id, &counts, &mut dropped);
        // The online count changed.
        state.counts_dirty = true;
        self.wake.notify_all();
        self.drop_clients(&mut state, dropped);
        Some(id)
    }

    /// Remove a client whose connection ended, telling its room.
    fn disconnect(&self, id: ClientId) {
        let mut state = self.lock();
        self.drop_clients(&mut state, vec![id]);
    }

    /// Handle one text message from a client.
    fn handle(&self, id: ClientId, text: &str) {
        let message = match parse_envelope(text) {
            Ok(message) => message,
            Err(e) => return self.reply_error(id, refuse("bad_json", e)),
        };
        if message.kind == "join" {
            // Joining may subscribe the node to a room, which waits for the backplane: not
            // under the lock the backplane's deliveries need.
            if let Err(refusal) = self.join(id, &message.payload) {
                self.reply_error(id, refusal);
            }
            return;
        }
        let mut state = self.lock();
        let mut dropped = Vec::new();
        if let Err(refusal) = self.dispatch(&mut state, id, &message.kind, message.payload, &mut dropped) {
            send_error(&state, id, &refusal, &mut dropped);
        }
        self.drop_clients(&mut state, dropped);
    }

    fn reply_error(&self, id: ClientId, refusal: Refusal) {
        let mut state = self.lock();
        let mut dropped = Vec::new();
        send_error(&state, id, &refusal, &mut dropped);
        self.drop_clients(&mut state, dropped);
    }

    fn dispatch(
        &self,
        state: &mut State,
        id: ClientId,
        kind: &str,
        payload: Value,
        dropped: &mut Vec<ClientId>,
    ) -> Result<(), Refusal> {
        match kind {
            "leave" => {
                let seat = unseat(state, id).ok_or_else(|| refuse("not_in_room", "you are not in a room"))?;
                // Released before the acknowledgement: once told, the leaver's name is free.
                self.announce_departure(state, &seat);
                let ack = shared(envelope("leave", json!({ "room": seat.room, "user": seat.user })));
                deliver(state, id, &ack, dropped);
                Ok(())
            }
            "chat" => {
                let seat = seat_of(state, id)?;
                let message_id = payload.get("id").filter(|id| id.is_string() || id.is_u64()).cloned();
                let text = payload.get("text").and_then(Value::as_str).map(str::trim).unwrap_or_default();
                if text.is_empty() {
                    return Err(refuse("bad_text", "\"text\" must be a non-empty string"));
                }
                if text.chars().count() > MAX_TEXT_CHARS {
                    return Err(refuse("bad_text", format!("messages are limited to {MAX_TEXT_CHARS} characters")));
                }
                let chat = envelope("chat", json!({ "room": seat.room, "user": seat.user, "text": text }));
                // Every member hears it from the backplane, this node's included: one order for all.
                match self.backplane.publish_sequenced(&room_channel(&seat.room), &chat) {
                    Ok(seq) => {
                        let sent =
                            json!({ "room": seat.room, "offset": seq.offset, "epoch": seq.epoch, "id": message_id });
                        deliver(state, id, &shared(envelope("sent", sent)), dropped);
                        Ok(())
                    }
                    Err(e) => Err(Refusal {
                        code: "not_delivered",
                        message: format!("your message was not delivered to anyone: {e}; send it again later"),
                        id: message_id,
                    }),
                }
            }
            "typing" => {
                let seat = seat_of(state, id)?;
                let typing = payload.get("typing").and_then(Value::as_bool).unwrap_or(true);
                let note = envelope("typing", json!({ "room": seat.room, "user": seat.user, "typing": typing }));
                // A lost typing indicator is harmless: no error for it.
                let _ = self.backplane.publish(&room_channel(&seat.room), &note);
                Ok(())
            }
            "history" => {
                let seat = seat_of(state, id)?;
                let since = payload.get("since").and_then(Value::as_u64).unwrap_or(0);
                let epoch = str_field(&payload, "epoch").unwrap_or_default();
                let history = self.history_message(&seat.room, epoch, since)?;
                deliver(state, id, &history, dropped);
                Ok(())
            }
            "ping" => {
                deliver(state, id, &shared(envelope("pong", payload)), dropped);
                Ok(())
            }
            other => Err(refuse(
                "unknown_type",
                format!("unknown message type {other:?}: expected join, leave, chat, typing, history or ping"),
            )),
        }
    }

    /// A `history` message for `room`: what the backplane kept after `since` in `epoch`.
    fn history_message(&self, room: &str, epoch: &str, since: u64) -> Result<Arc<str>, Refusal> {
        let history = self
            .backplane
            .history(&room_channel(room), epoch, since)
            .map_err(|e| refuse("unavailable", format!("the room's history cannot be read now: {e}")))?;
        let messages: Vec<Value> = history
            .messages
            .iter()
            .filter_map(|(offset, body)| {
                let mut message: Value = serde_json::from_str(body).ok()?;
                let payload = message.get_mut("payload")?.as_object_mut()?;
                payload.insert("offset".into(), Value::from(*offset));
                payload.insert("epoch".into(), Value::from(history.now.epoch.as_str()));
                Some(message)
            })
            .collect();
        Ok(shared(envelope(
            "history",
            json!({
                "room": room, "epoch": history.now.epoch, "offset": history.now.offset,
                "messages": messages, "complete": history.complete,
            }),
        )))
    }

    fn join(&self, id: ClientId, payload: &Value) -> Result<(), Refusal> {
        let room = valid_name(payload, "room")?;
        let user = valid_name(payload, "user")?;
        let seat = Seat { room: room.clone(), user: user.clone() };
        let current = self.lock().clients.get(&id).and_then(|client| client.seat.clone());
        let already_here = current.as_ref().is_some_and(|seat| seat.room == room && seat.user == user);
        let channel = room_channel(&room);
        if !already_here {
            if self.taken_here(&self.lock(), id, &seat) {
                return Err(refuse("name_taken", format!("someone in {room:?} is already called {user:?}")));
            }
            let renaming = current.as_ref().is_some_and(|old| old.room == room && old.key() == seat.key());
            match self.backplane.claim(&room, &seat.key(), &user) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(refuse("name_taken", format!("someone in {room:?} is already called {user:?}")));
                }
                Err(e) => return Err(refuse("unavailable", format!("cannot join now: {e}"))),
            }
            // Counted per member: the node stays subscribed while the room has members here.
            self.backplane.subscribe(&channel);
            let mut state = self.lock();
            if !state.clients.contains_key(&id) {
                // Gone while joining.
                drop(state);
                self.backplane.unsubscribe(&channel);
                if !renaming {
                    let _ = self.backplane.release(&room, &seat.key());
                }
                return Ok(());
            }
            if self.taken_here(&state, id, &seat) {
                // Another client of this node took the name meanwhile; the claim is its.
                drop(state);
                self.backplane.unsubscribe(&channel);
                return Err(refuse("name_taken", format!("someone in {room:?} is already called {user:?}")));
            }
            if let Some(old) = unseat(&mut state, id) {
                // The same name in the same room (a change of case) keeps its claim.
                if renaming {
                    self.backplane.unsubscribe(&room_channel(&old.room));
                    self.log(format_args!("{} is now {}", old.user, user));
                } else {
                    self.announce_departure(&state, &old);
                }
            }
            if let Some(client) = state.clients.get_mut(&id) {
                client.seat = Some(seat.clone());
            }
            state.rooms.entry(room.clone()).or_default().insert(id, user.clone());
        }
        let users = self.users(&self.lock(), &room);
        let position = self.backplane.history(&channel, "", u64::MAX).map(|h| h.now).unwrap_or_default();
        let ack = shared(envelope(
            "join",
            json!({ "room": room, "user": user, "users": users, "offset": position.offset, "epoch": position.epoch }),
        ));
        let mut state = self.lock();
        let mut dropped = Vec::new();
        deliver(&state, id, &ack, &mut dropped);
        // A page coming back asks for what it missed.
        if let Some(since) = payload.get("since").and_then(Value::as_u64) {
            let epoch = str_field(payload, "epoch").unwrap_or_default();
            match self.history_message(&room, epoch, since) {
                Ok(history) => deliver(&state, id, &history, &mut dropped),
                Err(refusal) => send_error(&state, id, &refusal, &mut dropped),
            }
        }
        if !already_here {
            self.log(format_args!("{user} joined {room}"));
            let note = envelope(
                "notification",
                json!({ "room": room, "event": "join", "user": user, "users": users, "text": format!("{user} joined") }),
            );
            let _ = self.backplane.publish(&channel, &note);
            if !self.presence_changed(&mut state) {
                state.unannounced = true;
            }
        }
        self.drop_clients(&mut state, dropped);
        Ok(())
    }

    /// Whether another client of this node sits in `seat`'s room under its name.
    fn taken_here(&self, state: &State, id: ClientId, seat: &Seat) -> bool {
        state.rooms.get(&seat.room).is_some_and(|members| {
            members.iter().any(|(&other, name)| other != id && name.eq_ignore_ascii_case(&seat.user))
        })
    }

    /// The names in `room` across the cluster, in order of arrival (this node's own when the
    /// backplane cannot be asked).
    fn users(&self, state: &State, room: &str) -> Vec<String> {
        match self.backplane.members(room) {
            Ok(members) => members.into_iter().map(|member| member.display).collect(),
            Err(_) => state.rooms.get(room).map(|members| members.values().cloned().collect()).unwrap_or_default(),
        }
    }

    /// Tell the cluster a member left (it has been unseated): release its name, tell its room,
    /// and stop listening to the room if it was the last member here.
    fn announce_departure(&self, state: &State, seat: &Seat) {
        self.log(format_args!("{} left {}", seat.user, seat.room));
        if let Err(e) = self.backplane.release(&seat.room, &seat.key()) {
            // The claim expires by itself, within the TTL.
            self.log(format_args!("cannot release {:?} in {:?} now: {e}", seat.user, seat.room));
        }
        let users = self.users(state, &seat.room);
        let note = envelope(
            "notification",
            json!({
                "room": seat.room, "event": "leave", "user": seat.user, "users": users,
                "text": format!("{} left", seat.user),
            }),
        );
        let channel = room_channel(&seat.room);
        if self.backplane.publish(&channel, &note).is_err() {
            // The backplane is down: this node's members still hear of it.
            let mut dropped = Vec::new();
            broadcast(state, &seat.room, None, &shared(note), &mut dropped);
        }
        self.backplane.unsubscribe(&channel);
        let _ = self.backplane.publish(PRESENCE_CHANNEL, "changed");
    }

    /// Announce a presence change to every node (this one included). Returns whether the
    /// announcement went out; when not, this node's own counts are sent anyway.
    fn presence_changed(&self, state: &mut State) -> bool {
        if self.backplane.publish(PRESENCE_CHANNEL, "changed").is_err() {
            state.counts_dirty = true;
            self.wake.notify_all();
            return false;
        }
        true
    }

    /// Remove clients (ended, or too slow to keep up) and announce their departure.
    fn drop_clients(&self, state: &mut State, mut dropped: Vec<ClientId>) {
        while let Some(id) = dropped.pop() {
            let seat = unseat(state, id);
            let Some(client) = state.clients.remove(&id) else { continue };
            // A client dropped for slowness is closed by its writer, which then shuts the
            // socket; any other is shut now (its reader thread may still be blocked).
            if !client.too_slow.load(Ordering::SeqCst) {
                client.kill();
            }
            drop(client);
            if let Some(seat) = seat {
                self.announce_departure(state, &seat);
            } else {
                state.counts_dirty = true;
                self.wake.notify_all();
            }
        }
        if state.clients.is_empty() {
            self.emptied.notify_all();
        }
    }

    /// The `rooms` message: the cluster's rooms and counts.
    fn rooms_message(&self, state: &State) -> Arc<str> {
        let local = state.clients.len() as u64;
        let (groups, online) = match self.backplane.census() {
            Ok(census) => {
                // The census has this node's count as of its last heartbeat; use today's.
                let reported = self.reported_clients.load(Ordering::Relaxed);
                let others = (census.clients as u64).saturating_sub(reported);
                (census.groups, others + local)
            }
            Err(_) => (state.rooms.iter().map(|(name, members)| (name.clone(), members.len())).collect(), local),
        };
        let rooms: Vec<Value> = groups.iter().map(|(name, users)| json!({ "name": name, "users": users })).collect();
        shared(envelope("rooms", json!({ "rooms": rooms, "online": online })))
    }

    /// What arrives from the backplane, on its thread.
    fn on_backplane(&self, event: Event) {
        let mut state = self.lock();
        let mut dropped = Vec::new();
        match event {
            Event::Message(delivery) if delivery.channel == PRESENCE_CHANNEL => {
                state.counts_dirty = true;
                self.wake.notify_all();
            }
            Event::Message(delivery) => {
                let Some(room) = delivery.channel.strip_prefix("room:") else { return };
                self.deliver_to_room(&mut state, room, delivery.seq, &delivery.body, &mut dropped);
            }
            Event::Down(reason) => {
                self.log(format_args!("backplane down: {reason}"));
                let status = shared(envelope("status", json!({ "backplane": "down" })));
                for &id in state.clients.keys() {
                    deliver(&state, id, &status, &mut dropped);
                }
            }
            Event::Up => {
                self.log(format_args!("backplane up again: asking every room to resynchronise"));
                // Whatever was published meanwhile is lost to this node, and a restarted Redis
                // has a new epoch: every page here catches up from the history.
                state.seen.clear();
                let status = shared(envelope("status", json!({ "backplane": "up" })));
                for &id in state.clients.keys() {
                    deliver(&state, id, &status, &mut dropped);
                }
                let rooms: Vec<String> = state.rooms.keys().cloned().collect();
                for room in rooms {
                    let resync = shared(envelope("resync", json!({ "room": room, "reason": "reconnected" })));
                    broadcast(&state, &room, None, &resync, &mut dropped);
                }
                state.counts_dirty = true;
                state.refresh_now = true;
                self.wake.notify_all();
            }
        }
        self.drop_clients(&mut state, dropped);
    }

    /// Deliver a room's message from the backplane to this node's members of the room, except
    /// its sender; check its offset first.
    fn deliver_to_room(
        &self,
        state: &mut State,
        room: &str,
        seq: Option<Seq>,
        body: &str,
        dropped: &mut Vec<ClientId>,
    ) {
        let Ok(mut message) = serde_json::from_str::<Value>(body) else {
            eprintln!("chat: dropped a malformed message from the backplane in {room:?}");
            return;
        };
        if !state.rooms.contains_key(room) {
            return;
        }
        if let Some(seq) = &seq {
            let last = state.seen.get(room);
            let reason = match last {
                Some(last) if last.epoch != seq.epoch => Some("epoch"),
                // Delivered already: never twice.
                Some(last) if seq.offset <= last.offset => return,
                Some(last) if seq.offset > last.offset + 1 => Some("gap"),
                _ => None,
            };
            if let Some(reason) = reason {
                self.log(format_args!("{room}: {reason} before offset {}: resynchronising", seq.offset));
                let resync = shared(envelope("resync", json!({ "room": room, "reason": reason })));
                broadcast(state, room, None, &resync, dropped);
            }
            state.seen.insert(room.to_owned(), seq.clone());
            let Some(payload) = message.get_mut("payload").and_then(Value::as_object_mut) else { return };
            payload.insert("offset".into(), Value::from(seq.offset));
            payload.insert("epoch".into(), Value::from(seq.epoch.as_str()));
        }
        let Some(payload) = message.get("payload").filter(|p| p.is_object()) else {
            eprintln!("chat: dropped a message without a payload from the backplane in {room:?}");
            return;
        };
        let kind = message.get("type").and_then(Value::as_str).unwrap_or_default();
        // The sender hears nothing back (a joiner gets its `join` instead).
        let sender = match kind {
            "chat" | "typing" => payload.get("user").and_then(Value::as_str),
            "notification" if payload.get("event").and_then(Value::as_str) == Some("join") => {
                payload.get("user").and_then(Value::as_str)
            }
            "notification" => None,
            _ => {
                eprintln!("chat: dropped a message of unknown type {kind:?} from the backplane in {room:?}");
                return;
            }
        };
        let except: Option<ClientId> = sender.and_then(|sender| {
            state.rooms.get(room)?.iter().find(|(_, name)| name.eq_ignore_ascii_case(sender)).map(|(&id, _)| id)
        });
        let text = match seq {
            None => shared(body.to_owned()),
            Some(_) => shared(message.to_string()),
        };
        broadcast(state, room, except, &text, dropped);
    }
}

/// The presence thread: renew this node's claims every heartbeat and sweep expired ones (a
/// crashed node's), and send the room counts when they changed (at most every
/// [`COUNTS_EVERY`]).
fn presence_loop(hub: &Hub) {
    let mut next_heartbeat = Instant::now();
    let mut last_counts = Instant::now() - COUNTS_EVERY;
    let mut state = hub.lock();
    while !hub.stopping.load(Ordering::SeqCst) {
        let now = Instant::now();
        // A client came or went here: report the new count at once, so the others' counts
        // are right (they recount when told of the change below).
        let count_changed = state.clients.len() as u64 != hub.reported_clients.load(Ordering::Relaxed);
        if now >= next_heartbeat || state.refresh_now || count_changed {
            state.refresh_now = false;
            next_heartbeat = now + hub.heartbeat;
            let claims: Vec<Claim> = state
                .clients
                .values()
                .filter_map(|client| client.seat.as_ref())
                .map(|seat| Claim { group: seat.room.clone(), key: seat.key(), display: seat.user.clone() })
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let clients = state.clients.len();
            // Under the lock: a leave between taking the list and renewing it would otherwise
            // be undone (a renewal makes missing claims again).
            let remade = match hub.backplane.refresh(&claims, clients) {
                Ok(remade) => {
                    hub.reported_clients.store(clients as u64, Ordering::Relaxed);
                    remade
                }
                Err(_) => 0,
            };
            // Claims made again (a restarted Redis lost them, whenever this renewal gets through
            // after the outage) change every node's counts: they must be announced, or the
            // others keep counting without this node's members until the next join or leave.
            let announce = count_changed || remade > 0 || state.unannounced;
            drop(state);
            let expired = hub.backplane.sweep().unwrap_or_default();
            state = hub.lock();
            for gone in &expired {
                // Exactly one node sweeps each: it tells the room.
                hub.log(format_args!("{} left {} (its node stopped answering)", gone.display, gone.group));
                let users = hub.users(&state, &gone.group);
                let note = envelope(
                    "notification",
                    json!({
                        "room": gone.group, "event": "leave", "user": gone.display, "users": users,
                        "text": format!("{} left (connection lost)", gone.display),
                    }),
                );
                let _ = hub.backplane.publish(&room_channel(&gone.group), &note);
            }
            if !expired.is_empty() || announce {
                state.unannounced = !hub.presence_changed(&mut state);
            }
        }
        if state.counts_dirty && last_counts.elapsed() >= COUNTS_EVERY {
            state.counts_dirty = false;
            last_counts = Instant::now();
            let counts = hub.rooms_message(&state);
            let mut dropped = Vec::new();
            for &id in state.clients.keys() {
                deliver(&state, id, &counts, &mut dropped);
            }
            hub.drop_clients(&mut state, dropped);
        }
        let until_heartbeat = next_heartbeat.saturating_duration_since(Instant::now());
        let wait = if state.counts_dirty {
            until_heartbeat.min(COUNTS_EVERY.saturating_sub(last_counts.elapsed()).max(Duration::from_millis(1)))
        } else {
            until_heartbeat
        };
        state = hub.wake.wait_timeout(state, wait).map_or_else(|p| p.into_inner().0, |(s, _)| s);
    }
}

fn shared(text: String) -> Arc<str> {
    Arc::from(text)
}

/// A trimmed name from the payload, 1 to [`MAX_NAME_CHARS`] characters, no control characters.
fn valid_name(payload: &Value, field: &'static str) -> Result<String, Refusal> {
    let name = str_field(payload, field).map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return Err(refuse("bad_name", format!("\"{field}\" must be a non-empty string")));
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(refuse(
            "bad_name",
            format!("\"{field}\" must be at most {MAX_NAME_CHARS} characters, without control characters"),
        ));
    }
    Ok(name.to_owned())
}

/// The seat of a client that must have joined a room.
fn seat_of(state: &State, id: ClientId) -> Result<Seat, Refusal> {
    state.clients.get(&id).and_then(|client| client.seat.clone()).ok_or_else(|| {
        refuse("not_in_room", "join a room first: {\"type\":\"join\",\"payload\":{\"room\":..,\"user\":..}}")
    })
}

/// Take a client out of its room (dropping the room once empty); returns where it sat.
fn unseat(state: &mut State, id: ClientId) -> Option<Seat> {
    let seat = state.clients.get_mut(&id)?.seat.take()?;
    if let Some(members) = state.rooms.get_mut(&seat.room) {
        members.remove(&id);
        if members.is_empty() {
            state.rooms.remove(&seat.room);
            state.seen.remove(&seat.room);
        }
    }
    Some(seat)
}

/// Queue `text` for one client without waiting. A full queue means the client cannot keep up:
/// it is marked too slow and to be dropped; one whose writer is gone is dropped too.
fn deliver(state: &State, id: ClientId, text: &Arc<str>, dropped: &mut Vec<ClientId>) {
    let Some(client) = state.clients.get(&id) else { return };
    match client.outbox.try_send(Outgoing::Text(text.clone())) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            client.too_slow.store(true, Ordering::SeqCst);
            if !dropped.contains(&id) {
                dropped.push(id);
            }
        }
        Err(TrySendError::Disconnected(_)) => {
            if !dropped.contains(&id) {
                dropped.push(id);
            }
        }
    }
}

fn send_error(state: &State, id: ClientId, refusal: &Refusal, dropped: &mut Vec<ClientId>) {
    let mut payload = json!({ "code": refusal.code, "message": refusal.message });
    if let Some(message_id) = &refusal.id {
        payload["id"] = message_id.clone();
    }
    deliver(state, id, &shared(envelope("error", payload)), dropped);
}

/// Queue `text` for every member of `room` on this node except `except`.
fn broadcast(state: &State, room: &str, except: Option<ClientId>, text: &Arc<str>, dropped: &mut Vec<ClientId>) {
    let Some(members) = state.rooms.get(room) else { return };
    for &id in members.keys() {
        if Some(id) != except {
            deliver(state, id, text, dropped);
        }
    }
}
