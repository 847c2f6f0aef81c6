//! The handshake tour's server (`examples/tour.rs`): one port that serves the tour page, the
//! WebSocket it opens step by step, a JSON record of what that WebSocket carried, and the
//! "break it" cases.
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /` | the tour page |
//! | `GET /inspector.css` | the frame inspector's style sheet, which the page's frames use |
//! | `GET /ws?id=ID` (upgrade) | the tour's WebSocket, recorded under `ID` |
//! | `GET /echo` (upgrade) | the same WebSocket, unrecorded: what "break it" connects to |
//! | `GET /api/record?id=ID` | what tour `ID` carried so far (JSON, below) |
//! | `GET /api/cases` | the "break it" cases |
//! | `POST /api/break?case=CASE` | run one case against `/echo`, answer what the server sent back |
//! | `GET /guide/NN-name.md` | a chapter of the guide, as text |
//!
//! Both WebSocket endpoints answer a text message `ping` with a Ping frame (payload
//! [`PING_PAYLOAD`]), and any other text with `echo: ` and the text; the client's Close gets
//! the Close reply, then the server closes TCP first (RFC 6455 §7.1.1).
//!
//! The record comes from two places. The crate's frame log ([`rfc6455::observe`]): each
//! connection's configuration carries a [`FrameLog`], which the connection tells of the opening
//! handshake (request and response heads, as text) and of every frame it receives and sends,
//! field by field (FIN, RSV, opcode, MASK and key, the length form, the payload length, the
//! header's bytes and the start of the payload, masked and unmasked). And the socket itself:
//! every connection runs over a [`Recorder`], which keeps the bytes read and written (up to
//! [`wire::KEPT_PER_DIRECTION`] each way) and when each side of TCP was shut, which no frame
//! log can know. The record carries both views of the frames (`client_frames` from the log,
//! `client_wire` split from the socket's bytes), so the tests can hold one against the other.
//! The `Sec-WebSocket-Accept` computation is done again in steps (key ++ GUID, SHA-1, base64)
//! from the key this connection carried, beside the crate's [`accept_key`] and the value the
//! 101 carried.
//!
//! Bounded: at most [`MAX_CONNECTIONS`] connections at once (more are closed unanswered),
//! [`MAX_TOURS`] records kept (the oldest is dropped), one "break it" run per
//! [`MAX_BREAKS`] at once, each within [`BREAK_TIMEOUT`].

// The example and the test each use part of the module.
#![allow(dead_code)]

#[path = "break_it.rs"]
pub mod break_it;
#[path = "../common/explain.rs"]
pub mod explain;
#[path = "wire.rs"]
pub mod wire;

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rfc6455::blocking::{Decision, ServerConfig, Timeouts, WebSocket, accept_with};
use rfc6455::close::parse_close_payload;
use rfc6455::handshake::{GUID, Request, accept_key, http_response};
use rfc6455::observe::{Direction, FrameLog, FrameRecord, LengthForm, LogEntry};
use rfc6455::{Config, Error, Limits, Message};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use wire::{Recorder, SharedWire, decode_frames, head_len, hex, opcode_name};

/// The tour page.
pub const PAGE: &str = include_str!("page.html");

/// The frame inspector's style sheet: the tour draws its frames the way the inspector panel
/// of the other demos does.
const INSPECTOR_STYLE: &str = include_str!("../common/inspector.css");

/// The payload of the Ping the server sends when asked.
pub const PING_PAYLOAD: &[u8] = b"are you there?";

/// Most connections served at once.
pub const MAX_CONNECTIONS: usize = 64;

/// Most tour records kept.
pub const MAX_TOURS: usize = 32;

/// Most "break it" runs at once (each holds two connections of this server).
pub const MAX_BREAKS: usize = 4;

/// How long one "break it" run may take, connecting included.
pub const BREAK_TIMEOUT: Duration = Duration::from_secs(3);

/// The largest message the tour's WebSocket takes (the "too big" case goes over it).
pub const MAX_MESSAGE: usize = 64 << 10;

/// Most frame log entries kept per tour (a tour makes about a dozen).
pub const MAX_LOG_ENTRIES: usize = 256;

/// The guide chapters the page links to, served as text so the links work offline.
const CHAPTERS: &[(&str, &str)] = &[
    ("00-index.md", include_str!("../../docs/guide/00-index.md")),
    ("01-handshake.md", include_str!("../../docs/guide/01-handshake.md")),
    ("02-framing.md", include_str!("../../docs/guide/02-framing.md")),
    ("03-masking.md", include_str!("../../docs/guide/03-masking.md")),
    ("04-fragmentation-and-utf8.md", include_str!("../../docs/guide/04-fragmentation-and-utf8.md")),
    ("05-control-frames-and-closing.md", include_str!("../../docs/guide/05-control-frames-and-closing.md")),
    ("13-keepalive-backpressure-origin.md", include_str!("../../docs/guide/13-keepalive-backpressure-origin.md")),
];

/// What is kept of one tour's WebSocket.
struct Tour {
    id: String,
    peer: SocketAddr,
    request: Request,
    wire: SharedWire,
    open: Arc<AtomicBool>,
    /// The connection's frame log, and what was taken out of it so far.
    log: Arc<FrameLog>,
    entries: Mutex<Vec<LogEntry>>,
}

/// State shared by the accept loop and every connection.
struct Shared {
    addr: SocketAddr,
    config: ServerConfig,
    tours: Mutex<VecDeque<Tour>>,
    connections: AtomicUsize,
    breaks: AtomicUsize,
    stopping: AtomicBool,
    /// A handle of every open connection's socket, to shut them on stop.
    sockets: Mutex<Vec<(u64, TcpStream)>>,
}

/// A running tour server; [`TourServer::shutdown`] (or dropping it) stops it.
pub struct TourServer {
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

impl TourServer {
    /// Listen on `addr` (port 0 picks a free port) and serve on a background thread.
    pub fn start(addr: impl ToSocketAddrs) -> io::Result<TourServer> {
        let listener = TcpListener::bind(addr)?;
        let addr = reachable(listener.local_addr()?);
        let config = ServerConfig {
            config: Config::server()
                .with_limits(Limits { max_frame_size: MAX_MESSAGE, max_message_size: MAX_MESSAGE, ..Limits::default() })
                .map_err(io::Error::other)?,
            timeouts: Timeouts {
                handshake: Duration::from_secs(10),
                // A learner may read a step for a while; the socket waits up to ten minutes.
                read: Some(Duration::from_secs(600)),
                write: Some(Duration::from_secs(5)),
                close: Duration::from_secs(3),
            },
            // Declined on purpose: the tour shows payloads as sent, not compressed.
            deflate: None,
            #[cfg(feature = "tls")]
            tls: None,
        };
        let shared = Arc::new(Shared {
            addr,
            config,
            tours: Mutex::default(),
            connections: AtomicUsize::new(0),
            breaks: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            sockets: Mutex::default(),
        });
        let accept_shared = Arc::clone(&shared);
        let accept_thread =
            thread::Builder::new().name("tour-accept".into()).spawn(move || accept_loop(&listener, &accept_shared))?;
        Ok(TourServer { shared, accept_thread: Some(accept_thread) })
    }

    /// The address it listens on (loopback when bound to every address).
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The page's URL.
    pub fn http_url(&self) -> String {
        format!("http://{}/", self.shared.addr)
    }

    /// The record of tour `id` as the page gets it, if it is kept.
    pub fn record(&self, id: &str) -> Option<Value> {
        record_json(&self.shared, id)
    }

    /// Stop accepting, shut every open connection, and wait for the accept loop.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if self.shared.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        // accept() blocks in the kernel: a connection of our own wakes it to see the flag.
        let _ = TcpStream::connect_timeout(&self.shared.addr, Duration::from_secs(1));
        for (_, socket) in lock(&self.shared.sockets).iter() {
            let _ = socket.shutdown(Shutdown::Both);
        }
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for TourServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The wildcard address as loopback: where a browser on this machine finds the server.
fn reachable(mut addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    addr
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut next_id = 0u64;
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            // Out of file descriptors, a reset before accept: wait a little and go on.
            thread::sleep(Duration::from_millis(50));
            continue;
        };
        if shared.connections.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            shared.connections.fetch_sub(1, Ordering::SeqCst);
            continue;
        }
        next_id += 1;
        let id = next_id;
        if let Ok(handle) = stream.try_clone() {
            lock(&shared.sockets).push((id, handle));
        }
        let shared = Arc::clone(shared);
        let spawned = thread::Builder::new().name("tour-connection".into()).spawn({
            let shared = Arc::clone(&shared);
            move || {
                serve_connection(&shared, stream);
                lock(&shared.sockets).retain(|(socket_id, _)| *socket_id != id);
                shared.connections.fetch_sub(1, Ordering::SeqCst);
            }
        });
        if spawned.is_err() {
            lock(&shared.sockets).retain(|(socket_id, _)| *socket_id != id);
            shared.connections.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// One TCP connection: the handshake (or a plain HTTP answer), then the WebSocket if any.
fn serve_connection(shared: &Arc<Shared>, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let peer = stream.peer_addr().unwrap_or(shared.addr);
    let recorder = Recorder::new(stream);
    let wire = recorder.wire();
    // Every connection has a frame log of its own; a tour's is kept with its record.
    let log = Arc::new(FrameLog::new(MAX_LOG_ENTRIES));
    let mut config = shared.config.clone();
    config.config = config.config.with_observer(log.clone());
    let mut tour_id = None;
    let result = accept_with(recorder, &config, |request| {
        let (decision, id) = decide(shared, request);
        tour_id = id.map(|id| (id, request.clone()));
        decision
    });
    let Ok(mut ws) = result else { return };
    let open = Arc::new(AtomicBool::new(true));
    if let Some((id, request)) = tour_id {
        let mut tours = lock(&shared.tours);
        tours.retain(|tour| tour.id != id);
        if tours.len() >= MAX_TOURS {
            tours.pop_front();
        }
        tours.push_back(Tour { id, peer, request, wire, open: Arc::clone(&open), log, entries: Mutex::default() });
    }
    run_websocket(&mut ws);
    open.store(false, Ordering::SeqCst);
}

/// The tour's WebSocket: `ping` asks for a Ping, other text is echoed, Close is answered.
fn run_websocket(ws: &mut WebSocket<Recorder>) {
    loop {
        let answered = match ws.read() {
            Ok(Message::Text(text)) if text == "ping" => ws.ping(PING_PAYLOAD),
            Ok(Message::Text(text)) => ws.send_text(&format!("echo: {text}")),
            Ok(Message::Binary(data)) => ws.send_binary(&data),
            // Pongs are only recorded; the Close reply is written by the read itself.
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Close(..)) => Ok(()),
            Err(Error::Closed) => return,
            // A protocol error: the read already sent the Close with its code and shut TCP.
            Err(_) => return,
        };
        if answered.is_err() {
            return;
        }
    }
}

/// Route a request. Returns the decision and, for the tour's WebSocket, its id.
fn decide(shared: &Shared, request: &Request) -> (Decision, Option<String>) {
    let path = request.path.split(['?', '#']).next().unwrap_or("");
    let upgrade = request.is_websocket_upgrade();
    match (request.method.as_str(), path, upgrade) {
        ("GET", "/ws", true) => match query_param(&request.path, "id").filter(|id| valid_id(id)) {
            Some(id) => (Decision::accept(), Some(id)),
            None => (Decision::Reject { status: 400, reason: "need ?id= (letters, digits, - and _)".into() }, None),
        },
        ("GET", "/echo", true) => (Decision::accept(), None),
        ("GET", "/", false) => (Decision::respond("text/html; charset=utf-8", PAGE.as_bytes()), None),
        ("GET", "/inspector.css", false) => {
            (Decision::respond("text/css; charset=utf-8", INSPECTOR_STYLE.as_bytes()), None)
        }
        ("GET", "/api/record", false) => {
            let record = query_param(&request.path, "id").and_then(|id| record_json(shared, &id));
            match record {
                Some(record) => (json_response(200, &record), None),
                None => (json_response(404, &json!({"error": "no such tour"})), None),
            }
        }
        ("GET", "/api/cases", false) => (json_response(200, &cases_json()), None),
        ("POST", "/api/break", false) => (break_it(shared, request), None),
        ("GET", guide, false) if guide.starts_with("/guide/") => {
            match CHAPTERS.iter().find(|(name, _)| Some(*name) == guide.strip_prefix("/guide/")) {
                Some((_, text)) => (Decision::respond("text/plain; charset=utf-8", text.as_bytes()), None),
                None => (not_found(), None),
            }
        }
        _ => (not_found(), None),
    }
}

fn not_found() -> Decision {
    Decision::Respond(http_response(404, "text/plain; charset=utf-8", b"not found\n"))
}

fn json_response(status: u16, value: &Value) -> Decision {
    Decision::Respond(http_response(status, "application/json", value.to_string().as_bytes()))
}

/// Tour ids are chosen by the page: short, and safe to echo back.
fn valid_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The value of `name` in the query of a request target (no percent-decoding: the tour's
/// parameters are plain tokens).
fn query_param(target: &str, name: &str) -> Option<String> {
    let query = target.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| value.to_owned())
    })
}

/// The "break it" cases for the page.
fn cases_json() -> Value {
    let cases: Vec<Value> = break_it::CASES
        .iter()
        .map(|case| {
            json!({
                "id": case.id,
                "title": case.title,
                "section": case.section,
                "expected_code": case.expected_code,
                "guide": case.guide,
                "bytes_hex": hex(&case.bytes()),
            })
        })
        .collect();
    json!({ "cases": cases })
}

/// Run one "break it" case against this server's own `/echo`, bounded in number and time.
fn break_it(shared: &Shared, request: &Request) -> Decision {
    let Some(case) = query_param(&request.path, "case").and_then(|id| break_it::case(&id)) else {
        return json_response(404, &json!({"error": "no such case"}));
    };
    if shared.breaks.fetch_add(1, Ordering::SeqCst) >= MAX_BREAKS {
        shared.breaks.fetch_sub(1, Ordering::SeqCst);
        return json_response(429, &json!({"error": "too many runs at once; try again"}));
    }
    let outcome = break_it::run(shared.addr, "/echo", case, BREAK_TIMEOUT);
    shared.breaks.fetch_sub(1, Ordering::SeqCst);
    match outcome {
        Ok(outcome) => json_response(200, &outcome.to_json(case)),
        Err(error) => json_response(502, &json!({"case": case.id, "error": error})),
    }
}

/// The `Sec-WebSocket-Accept` computation of RFC 6455 §4.2.2 step 5.4, in its steps.
pub fn accept_steps(key: &str) -> Value {
    let concatenated = format!("{key}{GUID}");
    let digest = Sha1::digest(concatenated.as_bytes());
    let base64 = STANDARD.encode(digest);
    json!({
        "key": key,
        "guid": GUID,
        "concatenated": concatenated,
        "sha1_hex": hex(&digest),
        "base64": base64,
        "accept_key": accept_key(key.as_bytes()),
    })
}

/// A frame from the frame log as JSON, in the same shape as [`wire::decode_frames`]' frames.
fn frame_json(frame: &FrameRecord) -> Value {
    let opcode = frame.opcode.as_u8();
    let preview = frame.preview();
    let cut = (preview.len() as u64) < frame.payload_len;
    let (close_code, close_reason) = match (opcode, parse_close_payload(preview)) {
        (0x8, Ok(Some((code, reason)))) => (Some(code.0), Some(reason.to_owned())),
        // A reason longer than the preview: the code, and the reason as far as it goes.
        (0x8, Err(_)) if cut && preview.len() >= 2 => (
            Some(u16::from_be_bytes([preview[0], preview[1]])),
            Some(format!("{}…", String::from_utf8_lossy(&preview[2..]))),
        ),
        _ => (None, None),
    };
    let len_form = match frame.length_form {
        LengthForm::Bits7 => "7-bit",
        LengthForm::Bits16 => "16-bit (126 + 2 bytes)",
        LengthForm::Bits64 => "64-bit (127 + 8 bytes)",
    };
    json!({
        "seq": frame.seq,
        "message": frame.message,
        "length": frame.header_bytes().len() as u64 + frame.payload_len,
        "header_hex": hex(frame.header_bytes()),
        "fin": frame.fin,
        "rsv1": frame.rsv & 0x40 != 0,
        "rsv2": frame.rsv & 0x20 != 0,
        "rsv3": frame.rsv & 0x10 != 0,
        "opcode": opcode,
        "opcode_name": opcode_name(opcode),
        "mask": frame.masking_key.is_some(),
        "masking_key": frame.masking_key.map(|key| hex(&key)),
        "len_form": len_form,
        "payload_len": frame.payload_len,
        "compressed": frame.compressed,
        "payload_masked_hex": frame.masking_key.map(|_| hex(frame.preview_wire())),
        "payload_hex": hex(preview),
        "payload_cut": cut,
        "text": (opcode != 0x8).then(|| String::from_utf8_lossy(preview).into_owned()),
        "close_code": close_code,
        "close_reason": close_reason,
    })
}

/// What tour `id` carried so far, as the page shows it.
fn record_json(shared: &Shared, id: &str) -> Option<Value> {
    let tours = lock(&shared.tours);
    let tour = tours.iter().find(|tour| tour.id == id)?;
    let mut entries = lock(&tour.entries);
    let dropped = tour.log.take(&mut entries, Duration::ZERO);
    let (mut request_text, mut response_text) = (String::new(), String::new());
    let (mut client_frames, mut server_frames) = (Vec::new(), Vec::new());
    for entry in entries.iter() {
        match entry {
            LogEntry::Handshake { request, response, .. } => {
                request_text.clone_from(request);
                response_text.clone_from(response);
            }
            LogEntry::Frame(frame) if frame.direction == Direction::Received => client_frames.push(frame_json(frame)),
            LogEntry::Frame(frame) => server_frames.push(frame_json(frame)),
            _ => {}
        }
    }
    drop(entries);

    let wire = wire::lock(&tour.wire);
    let request_len = head_len(&wire.read).unwrap_or(wire.read.len());
    let response_len = head_len(&wire.written).unwrap_or(wire.written.len());
    let sent_accept = response_text
        .lines()
        .find_map(|line| line.split_once(':').filter(|(name, _)| name.eq_ignore_ascii_case("Sec-WebSocket-Accept")))
        .map(|(_, value)| value.trim().to_owned());
    let key = tour.request.key.clone().unwrap_or_default();
    let mut accept = accept_steps(&key);
    accept["sent"] = json!(sent_accept);
    let key_bytes = STANDARD.decode(key.as_bytes()).map(|bytes| hex(&bytes)).ok();
    let headers: Vec<Value> =
        tour.request.headers.iter().map(|(name, value)| json!([name, String::from_utf8_lossy(value)])).collect();
    let ms = |at: Option<Duration>| at.map(|at| at.as_secs_f64() * 1000.0);
    Some(json!({
        "id": tour.id,
        "peer": tour.peer.to_string(),
        "open": tour.open.load(Ordering::SeqCst),
        "request": {
            "text": request_text,
            "method": tour.request.method,
            "target": tour.request.path,
            "headers": headers,
            "bytes": request_text.len(),
        },
        "key_bytes_hex": key_bytes,
        "accept": accept,
        "response": { "text": response_text, "bytes": response_text.len() },
        "client_frames": { "frames": client_frames },
        "server_frames": { "frames": server_frames },
        "log_dropped": dropped,
        "wire": {
            "request_text": String::from_utf8_lossy(&wire.read[..request_len]),
            "response_text": String::from_utf8_lossy(&wire.written[..response_len]),
            "client_frames": decode_frames(&wire.read[request_len..]),
            "server_frames": decode_frames(&wire.written[response_len..]),
        },
        "tcp": {
            "server_fin_ms": ms(wire.server_fin),
            "client_fin_ms": ms(wire.client_fin),
            "first_fin": wire.first_fin,
        },
        "bytes": { "read": wire.read_total, "written": wire.written_total },
    }))
}
