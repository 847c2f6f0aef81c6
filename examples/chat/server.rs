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
//! | `join` | `room`, `user` | `join` to the joiner (`room`, `user`, `users`); `notification` to the room |
//! | `leave` | | `leave` to the leaver; `notification` to the room |
//! | `chat` | `text` | `chat` (`room`, `user`, `text`) to everyone else in the room |
//! | `typing` | `typing` (bool) | `typing` (`room`, `user`, `typing`) to everyone else in the room |
//! | `ping` | anything | `pong` with the same payload |
//!
//! Every client also gets `rooms` (`rooms: [{name, users}]`, `online`) on connecting and
//! whenever a count changes. Malformed JSON, an unknown type or a request that makes no sense
//! (chatting before joining, a name already taken) gets an `error` (`code`, `message`); the
//! connection stays open.
//!
//! # Threads and slow clients
//!
//! Each client has a reader thread (it runs the handshake, then reads and handles messages)
//! and a writer thread that owns the [`Writer`] half and drains a bounded queue. Handling a
//! message only pushes onto queues (`try_send`, never blocking), so one slow or dead client
//! never holds up a broadcast. A client whose queue is full, or whose socket takes longer than
//! [`Settings::write_timeout`] to accept a write, is dropped. The writer pings an idle
//! connection every [`Settings::ping_interval`], and a connection silent for
//! [`Settings::idle_timeout`] (no pong, nothing) is dropped too.

// The example and the test each use only part of the API.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
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

use super::common::{envelope, parse_envelope, str_field};

/// The chat page, served at `/`.
pub const PAGE: &str = include_str!("index.html");

/// The path WebSocket clients connect to.
pub const WS_PATH: &str = "/ws";

/// Longest room or user name, in characters.
pub const MAX_NAME_CHARS: usize = 32;

/// Longest chat message, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// Knobs of a running server. The defaults suit a person at a browser; tests shorten them.
#[derive(Debug, Clone)]
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
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

/// A running chat server. [`ChatServer::shutdown`] stops it; dropping it does too.
pub struct ChatServer {
    addr: SocketAddr,
    hub: Arc<Hub>,
    accept_thread: Option<JoinHandle<()>>,
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
        let hub = Arc::new(Hub {
            state: Mutex::new(State::default()),
            emptied: Condvar::new(),
            stopping: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
            settings,
        });
        let accept_hub = hub.clone();
        let accept_thread =
            thread::Builder::new().name("chat-accept".into()).spawn(move || accept_loop(&server, &accept_hub))?;
        Ok(ChatServer { addr, hub, accept_thread: Some(accept_thread) })
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
        self.hub.stopping.store(true, Ordering::SeqCst);
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

/// A connected client, as the hub sees it.
struct Client {
    outbox: SyncSender<Outgoing>,
    /// A handle of the socket, to shut it when the client is dropped.
    socket: TcpStream,
    seat: Option<Seat>,
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
    /// Room name to its members, in order of arrival (ids only grow).
    rooms: BTreeMap<String, BTreeMap<ClientId, String>>,
}

/// Everything the threads share.
struct Hub {
    state: Mutex<State>,
    /// Signalled when the last client goes, for shutdown.
    emptied: Condvar,
    stopping: AtomicBool,
    next_id: AtomicU64,
    settings: Settings,
}

/// Why a request was refused: sent back as an `error` message.
struct Refusal {
    code: &'static str,
    message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal { code, message: message.into() }
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
    let ws = match pending.handshake_with(|request| route(request, hub)) {
        Ok(ws) => ws,
        // A plain-text request on the TLS port, a client that refused the certificate.
        Err(e @ Error::Tls(_)) => {
            hub.log(format_args!("{peer}: {e}"));
            return;
        }
        // A page load, a refused upgrade or a broken request: the client has had its answer.
        Err(_) => return,
    };
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
    let writer_socket = match socket.try_clone() {
        Ok(handle) => handle,
        Err(e) => {
            hub.log(format_args!("{peer}: {e}"));
            return;
        }
    };
    let (outbox, queue) = mpsc::sync_channel(hub.settings.outbox_capacity);
    let Some(id) = hub.register(Client { outbox, socket, seat: None }) else {
        let _ = writer.close(CloseCode::GOING_AWAY, "server shutting down");
        return;
    };
    let ping_interval = hub.settings.ping_interval;
    let spawned = thread::Builder::new().name("chat-writer".into()).spawn(move || {
        if write_loop(&writer, &queue, ping_interval).is_err() {
            // A write timed out or failed: wake the reader, which unregisters the client.
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
        "/healthz" => Decision::respond("text/plain; charset=utf-8", b"ok\n"),
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
/// says close, when the hub drops the client, or with the error of a failed write.
fn write_loop(writer: &Writer, queue: &mpsc::Receiver<Outgoing>, ping_interval: Duration) -> Result<(), Error> {
    loop {
        match queue.recv_timeout(ping_interval) {
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
        let counts = rooms_message(&state);
        deliver(&state, id, &counts, &mut dropped);
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
        let mut state = self.lock();
        let mut dropped = Vec::new();
        if let Err(refusal) = self.dispatch(&mut state, id, text, &mut dropped) {
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
        text: &str,
        dropped: &mut Vec<ClientId>,
    ) -> Result<(), Refusal> {
        let message = parse_envelope(text).map_err(|e| refuse("bad_json", e))?;
        let payload = &message.payload;
        match message.kind.as_str() {
            "join" => {
                let room = valid_name(payload, "room")?;
                let user = valid_name(payload, "user")?;
                self.join(state, id, room, user, dropped)
            }
            "leave" => {
                let seat = unseat(state, id).ok_or_else(|| refuse("not_in_room", "you are not in a room"))?;
                let ack = shared(envelope("leave", json!({ "room": seat.room, "user": seat.user })));
                deliver(state, id, &ack, dropped);
                self.announce_departure(state, &seat, dropped);
                Ok(())
            }
            "chat" => {
                let seat = seat_of(state, id)?;
                let text = payload.get("text").and_then(Value::as_str).map(str::trim).unwrap_or_default();
                if text.is_empty() {
                    return Err(refuse("bad_text", "\"text\" must be a non-empty string"));
                }
                if text.chars().count() > MAX_TEXT_CHARS {
                    return Err(refuse("bad_text", format!("messages are limited to {MAX_TEXT_CHARS} characters")));
                }
                let chat = shared(envelope("chat", json!({ "room": seat.room, "user": seat.user, "text": text })));
                broadcast(state, &seat.room, Some(id), &chat, dropped);
                Ok(())
            }
            "typing" => {
                let seat = seat_of(state, id)?;
                let typing = payload.get("typing").and_then(Value::as_bool).unwrap_or(true);
                let note =
                    shared(envelope("typing", json!({ "room": seat.room, "user": seat.user, "typing": typing })));
                broadcast(state, &seat.room, Some(id), &note, dropped);
                Ok(())
            }
            "ping" => {
                deliver(state, id, &shared(envelope("pong", message.payload)), dropped);
                Ok(())
            }
            other => Err(refuse(
                "unknown_type",
                format!("unknown message type {other:?}: expected join, leave, chat, typing or ping"),
            )),
        }
    }

    fn join(
        &self,
        state: &mut State,
        id: ClientId,
        room: String,
        user: String,
        dropped: &mut Vec<ClientId>,
    ) -> Result<(), Refusal> {
        let current = state.clients.get(&id).and_then(|client| client.seat.clone());
        let already_here = current.as_ref().is_some_and(|seat| seat.room == room && seat.user == user);
        if !already_here {
            let taken = state.rooms.get(&room).is_some_and(|members| {
                members.iter().any(|(&other, name)| other != id && name.eq_ignore_ascii_case(&user))
            });
            if taken {
                return Err(refuse("name_taken", format!("someone in {room:?} is already called {user:?}")));
            }
            if let Some(old) = unseat(state, id) {
                self.announce_departure(state, &old, dropped);
            }
            if let Some(client) = state.clients.get_mut(&id) {
                client.seat = Some(Seat { room: room.clone(), user: user.clone() });
            }
            state.rooms.entry(room.clone()).or_default().insert(id, user.clone());
        }
        let users = members(state, &room);
        let ack = shared(envelope("join", json!({ "room": room, "user": user, "users": users })));
        deliver(state, id, &ack, dropped);
        if !already_here {
            self.log(format_args!("{user} joined {room}"));
            let note = shared(envelope(
                "notification",
                json!({ "room": room, "event": "join", "user": user, "users": users, "text": format!("{user} joined") }),
            ));
            broadcast(state, &room, Some(id), &note, dropped);
            broadcast_counts(state, dropped);
        }
        Ok(())
    }

    /// Tell a room that `seat` left it, and everyone the new counts.
    fn announce_departure(&self, state: &State, seat: &Seat, dropped: &mut Vec<ClientId>) {
        self.log(format_args!("{} left {}", seat.user, seat.room));
        let users = members(state, &seat.room);
        let note = shared(envelope(
            "notification",
            json!({
                "room": seat.room, "event": "leave", "user": seat.user, "users": users,
                "text": format!("{} left", seat.user),
            }),
        ));
        broadcast(state, &seat.room, None, &note, dropped);
        broadcast_counts(state, dropped);
    }

    /// Remove clients (ended, or too slow to keep up) and announce their departure, which can
    /// find more clients too slow: repeat until none is left.
    fn drop_clients(&self, state: &mut State, mut dropped: Vec<ClientId>) {
        while let Some(id) = dropped.pop() {
            let seat = unseat(state, id);
            let Some(client) = state.clients.remove(&id) else { continue };
            // The reader thread of a client dropped for slowness is still blocked: wake it.
            client.kill();
            if let Some(seat) = seat {
                self.announce_departure(state, &seat, &mut dropped);
            } else {
                broadcast_counts(state, &mut dropped);
            }
        }
        if state.clients.is_empty() {
            self.emptied.notify_all();
        }
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
        }
    }
    Some(seat)
}

/// The user names in a room, in order of arrival.
fn members(state: &State, room: &str) -> Vec<String> {
    state.rooms.get(room).map(|members| members.values().cloned().collect()).unwrap_or_default()
}

fn rooms_message(state: &State) -> Arc<str> {
    let rooms: Vec<Value> =
        state.rooms.iter().map(|(name, members)| json!({ "name": name, "users": members.len() })).collect();
    shared(envelope("rooms", json!({ "rooms": rooms, "online": state.clients.len() })))
}

/// Queue `text` for one client without waiting. A full queue means the client cannot keep up:
/// it is marked to be dropped, and so is one whose writer is gone.
fn deliver(state: &State, id: ClientId, text: &Arc<str>, dropped: &mut Vec<ClientId>) {
    let Some(client) = state.clients.get(&id) else { return };
    match client.outbox.try_send(Outgoing::Text(text.clone())) {
        Ok(()) => {}
        Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
            if !dropped.contains(&id) {
                dropped.push(id);
            }
        }
    }
}

fn send_error(state: &State, id: ClientId, refusal: &Refusal, dropped: &mut Vec<ClientId>) {
    let error = shared(envelope("error", json!({ "code": refusal.code, "message": refusal.message })));
    deliver(state, id, &error, dropped);
}

/// Queue `text` for every member of `room` except `except`.
fn broadcast(state: &State, room: &str, except: Option<ClientId>, text: &Arc<str>, dropped: &mut Vec<ClientId>) {
    let Some(members) = state.rooms.get(room) else { return };
    for &id in members.keys() {
        if Some(id) != except {
            deliver(state, id, text, dropped);
        }
    }
}

/// Send the room counts to every client.
fn broadcast_counts(state: &State, dropped: &mut Vec<ClientId>) {
    let counts = rooms_message(state);
    for &id in state.clients.keys() {
        deliver(state, id, &counts, dropped);
    }
}
