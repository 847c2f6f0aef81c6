//! The dashboard's wire meter: the bytes one browser tab costs per update, pushed and polled,
//! measured on real sockets while the page watches.
//!
//! When a page asks (`GET /wire`), the meter runs two clients of its own against this server,
//! over loopback, each on a [`Counting`] socket:
//!
//! - **push**: one WebSocket to `/ws` opened with the headers the browser sent on its own
//!   upgrade (Origin, User-Agent, the extension offer, ...), reading every pushed sample;
//! - **poll**: `GET /poll` once per sample interval, each on a new TCP connection, with the
//!   headers the browser sends on its own `fetch` (taken from its requests to `/wire` and
//!   `/poll`), byte for byte but for the target.
//!
//! Until a browser has been seen, Chrome's header sets stand in ([`default_push_options`],
//! [`default_poll_request`]; `examples/push_vs_poll.rs` uses the same). The page shows the
//! counters: the handshake once, then the bytes per update each way. The meter stops when no
//! page has asked for [`IDLE`], and with the server.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::blocking::{ClientConfig, Timeouts, client};
use rfc6455::handshake::Request;
use rfc6455::{ClientOptions, CloseCode, Error, Message, WsUri};
use serde_json::{Value, json};

use super::counting::Counting;
use super::web::Stopper;

/// What Chrome sends as its User-Agent on Linux.
pub const USER_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/// The meter stops this long after a page last asked for its figures.
pub const IDLE: Duration = Duration::from_secs(15);

/// The longest one read or write of a meter client waits.
const WAIT: Duration = Duration::from_millis(500);

/// Headers a client library writes itself on an upgrade (the rest are copied as extra headers).
const UPGRADE_OWN: &[&str] = &[
    "host",
    "upgrade",
    "connection",
    "sec-websocket-key",
    "sec-websocket-version",
    "origin",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
];

/// The options that make this crate's client send the upgrade Chrome sends (its header set).
pub fn default_push_options(addr: SocketAddr) -> ClientOptions {
    ClientOptions {
        origin: Some(format!("http://{addr}")),
        extensions: vec!["permessage-deflate; client_max_window_bits".into()],
        extra_headers: [
            ("Pragma", "no-cache"),
            ("Cache-Control", "no-cache"),
            ("User-Agent", USER_AGENT),
            ("Accept-Encoding", "gzip, deflate, br"),
            ("Accept-Language", "en-US,en;q=0.9"),
        ]
        .iter()
        .map(|&(name, value)| (name.to_owned(), value.to_owned()))
        .collect(),
        ..ClientOptions::default()
    }
}

/// The request a browser's `fetch("/poll")` sends, byte for byte apart from the host.
pub fn default_poll_request(addr: SocketAddr) -> String {
    format!(
        "GET /poll HTTP/1.1\r\n\
         Host: {addr}\r\n\
         Connection: keep-alive\r\n\
         sec-ch-ua: \"Chromium\";v=\"120\", \"Not?A_Brand\";v=\"8\"\r\n\
         sec-ch-ua-mobile: ?0\r\n\
         User-Agent: {USER_AGENT}\r\n\
         sec-ch-ua-platform: \"Linux\"\r\n\
         Accept: */*\r\n\
         Sec-Fetch-Site: same-origin\r\n\
         Sec-Fetch-Mode: cors\r\n\
         Sec-Fetch-Dest: empty\r\n\
         Referer: http://{addr}/?mode=poll\r\n\
         Accept-Encoding: gzip, deflate, br\r\n\
         Accept-Language: en-US,en;q=0.9\r\n\r\n"
    )
}

/// The upgrade options that reproduce a browser's request: its Origin, extension offers and
/// every other header it sent, in its order.
pub fn push_options_from(request: &Request) -> ClientOptions {
    let extra_headers = request
        .headers
        .iter()
        .filter(|(name, _)| !UPGRADE_OWN.contains(&name.to_ascii_lowercase().as_str()))
        .map(|(name, value)| (name.clone(), String::from_utf8_lossy(value).into_owned()))
        .collect();
    ClientOptions {
        origin: request.origin.clone(),
        extensions: request.extensions.clone(),
        subprotocols: request.subprotocols.clone(),
        extra_headers,
    }
}

/// A browser's `fetch` request again, for `/poll`: its headers in its order and spelling.
pub fn poll_request_from(request: &Request) -> String {
    let mut out = String::from("GET /poll HTTP/1.1\r\n");
    for (name, value) in &request.headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(&String::from_utf8_lossy(value));
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out
}

/// What the push client measured.
#[derive(Debug, Default, Clone)]
pub struct PushCounts {
    /// The upgrade request, bytes.
    pub handshake_up: u64,
    /// The 101 response, bytes.
    pub handshake_down: u64,
    /// Samples received after the history.
    pub updates: u64,
    /// Bytes read for those samples (frame headers and payloads).
    pub update_bytes_down: u64,
    /// Bytes written since the handshake (Pongs, the Close), over the same samples.
    pub update_bytes_up: u64,
    /// Bytes read for the last sample alone.
    pub last_update_down: u64,
}

/// What the poll client measured.
#[derive(Debug, Default, Clone)]
pub struct PollCounts {
    /// Polls made (each a TCP connection, a request and a response).
    pub requests: u64,
    /// Request bytes, all polls.
    pub up: u64,
    /// Response bytes (status line, headers, body), all polls.
    pub down: u64,
    /// Polls that brought a sample the client had not seen.
    pub updates: u64,
    /// The last poll's request and response sizes.
    pub last: (u64, u64),
}

#[derive(Debug, Default)]
struct Counts {
    push: PushCounts,
    poll: PollCounts,
    /// Whose headers the clients send: "browser" once a page was seen, else "chrome".
    push_headers: &'static str,
    poll_headers: &'static str,
    started: Option<Instant>,
}

/// The meter of one dashboard server.
pub struct Meter {
    addr: SocketAddr,
    interval: Duration,
    stopper: Stopper,
    counts: Mutex<Counts>,
    running: AtomicBool,
    last_asked: Mutex<Instant>,
    browser_upgrade: Mutex<Option<Request>>,
    browser_fetch: Mutex<Option<Request>>,
    /// What the meter's own clients send, so their requests are not taken for a browser's.
    own_upgrade: Mutex<Option<ClientOptions>>,
    own_poll: Mutex<Option<String>>,
}

impl std::fmt::Debug for Meter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meter")
            .field("addr", &self.addr)
            .field("running", &self.running.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Meter {
    /// A meter for the server at `addr`, sampling every `interval`, stopped with `stopper`.
    pub fn new(mut addr: SocketAddr, interval: Duration, stopper: Stopper) -> Meter {
        // A server on every address is reached through loopback.
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            });
        }
        Meter {
            addr,
            interval,
            stopper,
            counts: Mutex::default(),
            running: AtomicBool::new(false),
            last_asked: Mutex::new(Instant::now()),
            browser_upgrade: Mutex::default(),
            browser_fetch: Mutex::default(),
            own_upgrade: Mutex::default(),
            own_poll: Mutex::default(),
        }
    }

    /// Remember a browser's upgrade request to `/ws`, to send its headers.
    pub fn saw_upgrade(&self, request: &Request) {
        let own = lock(&self.own_upgrade).as_ref() == Some(&push_options_from(request));
        if !own && request.headers.len() <= 64 {
            *lock(&self.browser_upgrade) = Some(request.clone());
        }
    }

    /// Remember a browser's `fetch` request, to send its headers when polling.
    pub fn saw_fetch(&self, request: &Request) {
        let own = lock(&self.own_poll).as_deref() == Some(poll_request_from(request).as_str());
        if !own && request.headers.len() <= 64 {
            *lock(&self.browser_fetch) = Some(request.clone());
        }
    }

    /// The figures so far, as the page shows them; starts the meter if it is not running.
    pub fn ask(self: &Arc<Self>) -> Value {
        *lock(&self.last_asked) = Instant::now();
        if !self.running.swap(true, Ordering::SeqCst) {
            *lock(&self.counts) = Counts { started: Some(Instant::now()), ..Counts::default() };
            let push = Arc::clone(self);
            let poll = Arc::clone(self);
            let spawned = thread::Builder::new().name("meter-push".into()).spawn(move || push.run_push()).and_then(
                |push_thread| {
                    thread::Builder::new().name("meter-poll".into()).spawn(move || {
                        poll.run_poll();
                        let _ = push_thread.join();
                        poll.running.store(false, Ordering::SeqCst);
                    })
                },
            );
            if spawned.is_err() {
                self.running.store(false, Ordering::SeqCst);
            }
        }
        self.to_json()
    }

    /// Whether the clients should go on.
    fn wanted(&self) -> bool {
        !self.stopper.is_stopped() && lock(&self.last_asked).elapsed() < IDLE
    }

    /// The figures as JSON.
    pub fn to_json(&self) -> Value {
        let counts = lock(&self.counts);
        let (push, poll) = (&counts.push, &counts.poll);
        let per = |bytes: u64, n: u64| if n == 0 { Value::Null } else { json!(bytes as f64 / n as f64) };
        json!({
            "running": self.running.load(Ordering::SeqCst),
            "interval_ms": self.interval.as_millis() as u64,
            "seconds": counts.started.map_or(0.0, |at| at.elapsed().as_secs_f64()),
            "push": {
                "headers": counts.push_headers,
                "handshake_up": push.handshake_up,
                "handshake_down": push.handshake_down,
                "updates": push.updates,
                "down_per_update": per(push.update_bytes_down, push.updates),
                "up_per_update": per(push.update_bytes_up, push.updates),
                "last_update_down": push.last_update_down,
            },
            "poll": {
                "headers": counts.poll_headers,
                "requests": poll.requests,
                "updates": poll.updates,
                "up_per_request": per(poll.up, poll.requests),
                "down_per_request": per(poll.down, poll.requests),
                "per_update": per(poll.up + poll.down, poll.updates),
                "last_request": poll.last.0,
                "last_response": poll.last.1,
            },
        })
    }

    /// The push client: one WebSocket, every sample counted, until no one asks.
    fn run_push(&self) {
        loop {
            match self.push_once() {
                // A browser's upgrade was seen after the client started with Chrome's headers:
                // start again with the browser's.
                Ok(true) if self.wanted() => lock(&self.counts).push = PushCounts::default(),
                Ok(_) => return,
                Err(e) => {
                    eprintln!("wire meter (push): {e}");
                    return;
                }
            }
        }
    }

    /// One push connection, until no one asks (`Ok(false)`) or a browser's headers turn up
    /// while Chrome's stand in (`Ok(true)`).
    fn push_once(&self) -> Result<bool, Error> {
        let (options, whose) = match &*lock(&self.browser_upgrade) {
            Some(request) => (push_options_from(request), "browser"),
            None => (default_push_options(self.addr), "chrome"),
        };
        lock(&self.counts).push_headers = whose;
        *lock(&self.own_upgrade) = Some(options.clone());
        let uri = WsUri::parse(&format!("ws://{}/ws", self.addr))?;
        let timeouts = Timeouts { read: Some(WAIT), write: Some(WAIT), ..Timeouts::default() };
        let config = ClientConfig { options, timeouts, ..ClientConfig::default() };
        let stream = Counting::new(TcpStream::connect_timeout(&self.addr, WAIT)?);
        stream.stream.set_nodelay(true)?;
        let (written, read) = (Arc::clone(&stream.written), Arc::clone(&stream.read));
        let first_read = Arc::clone(&stream.first_read);
        let (mut ws, _) = client::handshake(stream, &uri, &config, Instant::now() + config.timeouts.handshake)?;
        let response_len = {
            let kept = lock(&first_read);
            kept.windows(4).position(|w| w == b"\r\n\r\n").map_or(kept.len(), |at| at + 4) as u64
        };
        let handshake_up = written.load(Ordering::Relaxed);
        {
            let mut counts = lock(&self.counts);
            counts.push.handshake_up = handshake_up;
            counts.push.handshake_down = response_len;
        }
        // The history message comes first and is not an update: count from after it.
        let mut baseline: Option<(u64, u64)> = None;
        let mut last_read = 0;
        while self.wanted() {
            if whose == "chrome" && lock(&self.browser_upgrade).is_some() {
                let _ = ws.close(CloseCode::GOING_AWAY, "meter restarts");
                return Ok(true);
            }
            match ws.read() {
                Ok(Message::Text(text)) => {
                    let now_read = read.load(Ordering::Relaxed);
                    let is_history = serde_json::from_str::<Value>(&text).is_ok_and(|m| m["type"] == "history");
                    match baseline {
                        None if is_history => baseline = Some((now_read, written.load(Ordering::Relaxed))),
                        None => {}
                        Some((read_at, written_at)) => {
                            let mut counts = lock(&self.counts);
                            counts.push.updates += 1;
                            counts.push.update_bytes_down = now_read - read_at;
                            counts.push.update_bytes_up = written.load(Ordering::Relaxed) - written_at;
                            counts.push.last_update_down = now_read - last_read;
                        }
                    }
                    last_read = now_read;
                }
                // The server is going away (it answers the Close itself).
                Ok(Message::Close(..)) | Err(Error::Closed) => return Ok(false),
                Ok(_) => {}
                Err(Error::Io(e)) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
                Err(e) => return Err(e),
            }
        }
        // Close and wait (boundedly) for the server's answer and its FIN, as a client should.
        ws.close(CloseCode::GOING_AWAY, "meter stopped")?;
        while ws.read().is_ok() {}
        Ok(false)
    }

    /// The poll client: one `GET /poll` per sample interval, until no one asks.
    fn run_poll(&self) {
        let mut last_seq = 0;
        let mut next = Instant::now();
        while self.wanted() {
            let (request, whose) = match &*lock(&self.browser_fetch) {
                Some(request) => (poll_request_from(request), "browser"),
                None => (default_poll_request(self.addr), "chrome"),
            };
            *lock(&self.own_poll) = Some(request.clone());
            match poll_once(self.addr, request.as_bytes()) {
                Ok((up, down, sample)) => {
                    let mut counts = lock(&self.counts);
                    counts.poll_headers = whose;
                    let poll = &mut counts.poll;
                    poll.requests += 1;
                    poll.up += up;
                    poll.down += down;
                    poll.last = (up, down);
                    let seq = sample["seq"].as_u64().unwrap_or(0);
                    // The first poll only learns where the samples stand.
                    if seq > last_seq && last_seq > 0 {
                        poll.updates += 1;
                    }
                    last_seq = last_seq.max(seq);
                }
                Err(e) => eprintln!("wire meter (poll): {e}"),
            }
            next += self.interval;
            let wait = next.saturating_duration_since(Instant::now());
            if self.stopper.sleep(wait) {
                break;
            }
        }
    }
}

/// One poll: the request out, the whole response in (the server closes after it). The bytes
/// each way and the sample answered.
pub fn poll_once(addr: SocketAddr, request: &[u8]) -> io::Result<(u64, u64, Value)> {
    let mut stream = Counting::new(TcpStream::connect_timeout(&addr, Duration::from_secs(5))?);
    stream.stream.set_nodelay(true)?;
    stream.stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(request)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let body = response.windows(4).position(|w| w == b"\r\n\r\n").map_or(&[][..], |at| &response[at + 4..]);
    let sample = serde_json::from_slice(body).map_err(io::Error::other)?;
    Ok((stream.written(), stream.read_count(), sample))
}
