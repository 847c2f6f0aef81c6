//! The frame inspector the demos share: a panel beside each demo's page that shows, live, the
//! frames of that page's own WebSocket connection as the server saw and sent them (RFC 6455
//! §5.2 field by field), and its opening handshake (§4.1, §4.2.2).
//!
//! How a page's connection is paired with its inspector, and no one else's:
//!
//! 1. Every TCP connection the server accepts gets a [`Tap`] before its handshake: a fresh
//!    128-bit token from the operating system's randomness, and an observer
//!    ([`rfc6455::observe::Observer`]) set on that connection alone (`Pending::with_observer`).
//!    The observer records nothing until the tap is enabled.
//! 2. A page that wants the inspector opens its app socket with `?inspect=1` in the URL
//!    ([`Tap::enable_if_asked`]): the tap starts recording into a bounded
//!    [`rfc6455::observe::FrameLog`] and registers under its token, and the server sends the
//!    token as the connection's first message (`{"type": "inspector", "payload": {"token"}}`,
//!    [`Tap::token_message`]). Only that connection ever carries it.
//! 3. When the learner turns the panel on, the page opens a second WebSocket to
//!    [`ENDPOINT`]`?token=...` on the same server (same origin only). An unknown token is refused
//!    (403) and sees nothing; a token already watched is refused (409). The inspector socket
//!    then receives batches of records as JSON until the app connection ends.
//!
//! Bounded: the app connection's observer only pushes fixed-size records into its log (at most
//! [`CAPACITY`] wait); the inspector socket's own thread takes them and writes them. A slow
//! inspector socket makes its log fill, and records are dropped and counted (each batch says how
//! many), so the app's connection is neither slowed nor made to hold more memory.
//!
//! The page side is `inspector.js` (served at [`SCRIPT_PATH`]) and `inspector.css`.

// Each demo compiles this file into its own crate and uses a different part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::Duration;

use rfc6455::blocking::{Decision, MaybeTlsStream, WebSocket};
use rfc6455::frame::OpCode;
use rfc6455::handshake::Request;
use rfc6455::observe::{
    Direction, FrameLog, FrameRecord, HandshakeRecord, LengthForm, LogEntry, MessageRecord, Observer,
};
use rfc6455::{CloseCode, MaskKeyGen, MaskKeySource, MessageKind};
use serde_json::{Value, json};

/// The inspector's WebSocket endpoint.
pub const ENDPOINT: &str = "/inspector";
/// The panel's script.
pub const SCRIPT_PATH: &str = "/inspector.js";
/// The panel's style sheet.
pub const STYLE_PATH: &str = "/inspector.css";
/// The query parameter with which a page's app socket asks to be inspectable.
pub const ASK_PARAM: &str = "inspect";

const SCRIPT: &str = include_str!("inspector.js");
const STYLE: &str = include_str!("inspector.css");

/// How many records (frames, messages, the handshake) wait for the inspector socket at most.
pub const CAPACITY: usize = 256;

/// How long the inspector socket's thread waits for records before looking again.
const POLL: Duration = Duration::from_millis(100);

/// The inspectable connections of one server, by token.
pub struct Inspector {
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    keys: Mutex<MaskKeyGen>,
}

impl std::fmt::Debug for Inspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inspector").field("sessions", &self.lock().len()).finish()
    }
}

/// One connection's records and what has become of it.
struct Session {
    token: String,
    /// Made when the page asks for the inspector; until then nothing is recorded.
    log: OnceLock<FrameLog>,
    /// The app connection ended: the inspector socket sends what is left and closes.
    ended: AtomicBool,
    /// An inspector socket is reading this session.
    attached: AtomicBool,
}

impl Observer for Session {
    fn frame(&self, record: &FrameRecord) {
        if let Some(log) = self.log.get() {
            log.frame(record);
        }
    }

    fn message(&self, record: &MessageRecord) {
        if let Some(log) = self.log.get() {
            log.message(record);
        }
    }

    fn handshake(&self, record: &HandshakeRecord<'_>) {
        if let Some(log) = self.log.get() {
            log.handshake(record);
        }
    }
}

/// One accepted connection's hook (see the module docs). Dropping it marks the connection
/// ended.
pub struct Tap {
    inspector: Arc<Inspector>,
    session: Arc<Session>,
}

impl Inspector {
    /// An inspector with no connections yet.
    pub fn new() -> Arc<Inspector> {
        Arc::new(Inspector {
            sessions: Mutex::new(HashMap::new()),
            keys: Mutex::new(MaskKeySource::Entropy.generator()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A tap for a connection about to run its handshake, with a fresh unguessable token.
    pub fn tap(self: &Arc<Self>) -> Tap {
        let mut bytes = [0u8; 16];
        self.keys.lock().unwrap_or_else(PoisonError::into_inner).fill(&mut bytes);
        let session = Arc::new(Session {
            token: hex(&bytes),
            log: OnceLock::new(),
            ended: AtomicBool::new(false),
            attached: AtomicBool::new(false),
        });
        Tap { inspector: Arc::clone(self), session }
    }

    /// How many connections are inspectable now (registered and not yet cleaned up).
    pub fn session_count(&self) -> usize {
        self.lock().len()
    }

    /// Whether `request` is for the inspector's socket or its files.
    pub fn handles(request: &Request) -> bool {
        let path = path_only(&request.path);
        path == ENDPOINT || path == SCRIPT_PATH || path == STYLE_PATH
    }

    /// The answer to a request [`Self::handles`]: the script, the style sheet, or the
    /// inspector's socket (same origin only, for a token of a connection being recorded and not
    /// yet watched).
    pub fn decide(&self, request: &Request) -> Decision {
        match path_only(&request.path) {
            SCRIPT_PATH => Decision::respond("text/javascript; charset=utf-8", SCRIPT.as_bytes()),
            STYLE_PATH => Decision::respond("text/css; charset=utf-8", STYLE.as_bytes()),
            _ if !request.is_websocket_upgrade() => {
                Decision::Reject { status: 400, reason: "the inspector speaks WebSocket".into() }
            }
            _ if !same_origin(request) => {
                Decision::Reject { status: 403, reason: "the inspector serves its own page only".into() }
            }
            _ => {
                let token = query_param(&request.path, "token").unwrap_or_default();
                match self.lock().get(&token) {
                    None => Decision::Reject { status: 403, reason: "unknown inspector token".into() },
                    // Claimed here, so a second request cannot slip in before this one is
                    // served; [`Self::release`] gives it back if the handshake fails after all.
                    Some(session) if session.attached.swap(true, Ordering::SeqCst) => {
                        Decision::Reject { status: 409, reason: "this connection is already inspected".into() }
                    }
                    Some(_) => Decision::accept(),
                }
            }
        }
    }

    /// Run an accepted inspector socket (`target` its request target): send the session's
    /// records as they come until the app connection has ended and everything was sent, or the
    /// inspector goes away.
    pub fn serve(&self, ws: WebSocket<MaybeTlsStream>, target: &str) {
        let token = query_param(target, "token").unwrap_or_default();
        let session = self.lock().get(&token).cloned();
        let (reader, writer) = match ws.split() {
            Ok(halves) => halves,
            Err(_) => return,
        };
        let Some(session) = session.filter(|s| s.attached.load(Ordering::SeqCst)) else {
            let _ = writer.close(CloseCode::POLICY_VIOLATION, "unknown or already inspected");
            return;
        };
        let Some(log) = session.log.get() else { return };
        // The reader answers the page's Close and pings; its end means the page went away.
        let gone = Arc::new(AtomicBool::new(false));
        let reader_gone = Arc::clone(&gone);
        let reading = thread::spawn(move || {
            let mut reader = reader;
            while reader.read().is_ok() {}
            reader_gone.store(true, Ordering::SeqCst);
        });
        let mut entries = Vec::with_capacity(CAPACITY);
        let mut written = Ok(());
        while written.is_ok() && !gone.load(Ordering::SeqCst) {
            entries.clear();
            let dropped = log.take(&mut entries, POLL);
            if !entries.is_empty() || dropped > 0 {
                written = writer.send_text(&batch(&entries, dropped).to_string());
                continue;
            }
            if session.ended.load(Ordering::SeqCst) && log.is_empty() {
                let ended = json!({"type": "ended"}).to_string();
                let _ = writer.send_text(&ended);
                let _ = writer.close(CloseCode::NORMAL, "the inspected connection ended");
                break;
            }
        }
        self.detach(&session);
        if written.is_err() {
            let _ = writer.close(CloseCode::GOING_AWAY, "");
        }
        let _ = reading.join();
    }
}

impl Inspector {
    /// An inspector request that [`Self::decide`] accepted did not become a socket (its
    /// handshake failed): give its connection back.
    pub fn release(&self, target: &str) {
        let token = query_param(target, "token").unwrap_or_default();
        let session = self.lock().get(&token).cloned();
        if let Some(session) = session {
            self.detach(&session);
        }
    }

    /// No inspector reads `session` any more: free it if its connection is over, or let
    /// another inspector have it.
    fn detach(&self, session: &Session) {
        let mut sessions = self.lock();
        if session.ended.load(Ordering::SeqCst) {
            sessions.remove(&session.token);
        } else {
            session.attached.store(false, Ordering::SeqCst);
        }
    }
}

impl Tap {
    /// The observer to set on this connection (`Pending::with_observer`).
    pub fn observer(&self) -> Arc<dyn Observer> {
        Arc::clone(&self.session) as Arc<dyn Observer>
    }

    /// Start recording if `request` is an app socket that asks for the inspector
    /// (`?inspect=1`); returns whether it does. Call it from the handshake decision, for a
    /// request about to be accepted.
    pub fn enable_if_asked(&self, request: &Request) -> bool {
        let asked = request.is_websocket_upgrade()
            && query_param(&request.path, ASK_PARAM).is_some_and(|v| v == "1")
            && !Inspector::handles(request);
        if asked {
            self.session.log.get_or_init(|| FrameLog::new(CAPACITY));
            self.inspector.lock().insert(self.session.token.clone(), Arc::clone(&self.session));
        }
        asked
    }

    /// Whether this connection is being recorded.
    pub fn is_enabled(&self) -> bool {
        self.session.log.get().is_some()
    }

    /// The message that hands the page its token (send it first), when recording.
    pub fn token_message(&self) -> Option<String> {
        self.is_enabled().then(|| super_envelope("inspector", json!({"token": self.session.token})))
    }

    /// This connection's token.
    pub fn token(&self) -> &str {
        &self.session.token
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        // Under the lock, so that an inspector detaching now either sees the end or is seen.
        let mut sessions = self.inspector.lock();
        self.session.ended.store(true, Ordering::SeqCst);
        // Unwatched, nothing will read the rest: forget it now. Watched, the inspector socket
        // sends the rest and forgets it.
        if !self.session.attached.load(Ordering::SeqCst) {
            sessions.remove(&self.session.token);
        }
    }
}

/// The demos' envelope (`{"type", "payload", "timestamp"}`), written here so this file stands
/// alone in every demo.
fn super_envelope(kind: &str, payload: Value) -> String {
    let timestamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    json!({"type": kind, "payload": payload, "timestamp": timestamp as u64}).to_string()
}

/// One message to the inspector: entries in order, and how many were dropped before them.
fn batch(entries: &[LogEntry], dropped: u64) -> Value {
    json!({"type": "records", "dropped": dropped, "entries": entries.iter().map(entry_json).collect::<Vec<_>>()})
}

/// One entry as JSON, every byte in hex.
pub fn entry_json(entry: &LogEntry) -> Value {
    match entry {
        LogEntry::Handshake { request, response, .. } => {
            json!({"kind": "handshake", "request": request, "response": response})
        }
        LogEntry::Frame(f) => json!({
            "kind": "frame",
            "dir": direction(f.direction),
            "seq": f.seq,
            "message": f.message,
            "fin": f.fin,
            "rsv1": f.rsv & 0x40 != 0,
            "rsv2": f.rsv & 0x20 != 0,
            "rsv3": f.rsv & 0x10 != 0,
            "opcode": f.opcode.as_u8(),
            "opcode_name": opcode_name(f.opcode),
            "masked": f.masking_key.is_some(),
            "key": f.masking_key.map(|k| hex(&k)),
            "length_form": match f.length_form {
                LengthForm::Bits7 => 7,
                LengthForm::Bits16 => 16,
                _ => 64,
            },
            "payload_len": f.payload_len,
            "compressed": f.compressed,
            "header": hex(f.header_bytes()),
            "wire": hex(f.preview_wire()),
            "payload": hex(f.preview()),
        }),
        LogEntry::Message(m) => json!({
            "kind": "message",
            "dir": direction(m.direction),
            "message": m.message,
            "type": if m.kind == MessageKind::Text { "text" } else { "binary" },
            "frames": m.frames,
            "wire_len": m.wire_len,
            "len": m.len,
            "compressed": m.compressed,
            "data": hex(m.preview()),
        }),
        _ => json!({"kind": "other"}),
    }
}

fn direction(direction: Direction) -> &'static str {
    match direction {
        Direction::Received => "received",
        _ => "sent",
    }
}

fn opcode_name(opcode: OpCode) -> &'static str {
    match opcode {
        OpCode::Continuation => "continuation",
        OpCode::Text => "text",
        OpCode::Binary => "binary",
        OpCode::Close => "close",
        OpCode::Ping => "ping",
        OpCode::Pong => "pong",
    }
}

/// Lower-case hex, no separators.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

fn path_only(target: &str) -> &str {
    target.split(['?', '#']).next().unwrap_or(target)
}

/// The value of `name` in the query of a request target (tokens and flags need no decoding).
fn query_param(target: &str, name: &str) -> Option<String> {
    let query = target.split_once('?')?.1.split('#').next()?;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| value.to_string())
    })
}

/// No `Origin` (not a browser) or one whose host is the `Host` the request was sent to: a page
/// on another site cannot open an inspector.
fn same_origin(request: &Request) -> bool {
    let Some(origin) = &request.origin else { return true };
    let origin_host = origin.split_once("://").map_or(origin.as_str(), |(_, rest)| rest);
    request.host.as_deref().is_some_and(|host| host.eq_ignore_ascii_case(origin_host))
}
