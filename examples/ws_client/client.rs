//! The command-line client behind `examples/ws_client.rs`: connect to a `ws://` URL, send the
//! lines it is given, print what arrives, and reconnect with exponential backoff when the
//! connection fails or is lost. Shared with `tests/demo_client.rs`.
//!
//! With `verbose`, every frame on the wire is logged in both directions, plus the handshake:
//! the socket is wrapped in a [`Tap`] that sees the raw bytes the library reads and writes,
//! and decodes them with [`FrameHeader::parse`] and [`apply_mask`] on the side.
//!
//! Messages go to one sink (`out`: one line per text message) and everything else (status,
//! frames) to another (`log`), so `out` can be piped.

// The example and the test each use only part of the API.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rfc6455::blocking::{ClientConfig, Timeouts, Transport, WebSocket, client};
use rfc6455::close::parse_close_payload;
use rfc6455::frame::mask::apply_mask;
use rfc6455::frame::{FrameHeader, OpCode};
use rfc6455::{CloseCode, Error, Message, WsUri};

/// A shared, lockable output.
pub type Sink = Arc<Mutex<dyn Write + Send>>;

/// Write one line to a sink; a closed pipe is not worth dying for.
fn say(sink: &Sink, line: impl AsRef<str>) {
    let mut sink = sink.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let _ = writeln!(sink, "{}", line.as_ref());
    let _ = sink.flush();
}

/// How the client behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// The `ws://` URL.
    pub url: String,
    /// Log every frame and the handshake.
    pub verbose: bool,
    /// Reconnect after a failure or a lost connection.
    pub reconnect: bool,
    /// Give up after this many failed attempts in a row (`None`: never).
    pub max_attempts: Option<u32>,
    /// The first reconnection delay; each failure doubles it.
    pub backoff_base: Duration,
    /// The longest reconnection delay.
    pub backoff_cap: Duration,
}

impl Options {
    /// Defaults for `url`: reconnect forever, 1 s doubling up to 30 s.
    pub fn new(url: &str) -> Options {
        Options {
            url: url.to_string(),
            verbose: false,
            reconnect: true,
            max_attempts: None,
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(30),
        }
    }
}

/// What the user does: a line typed, the end of input, or Ctrl-C.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A line: a message, or a command (`/ping [text]`, `/close [code [reason]]`, `/quit`).
    Line(String),
    /// The input ended (EOF): close the connection and stop.
    End,
    /// Ctrl-C: close the connection and stop.
    Interrupt,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The user ended it (EOF, `/quit`, Ctrl-C) and the connection closed.
    Finished,
    /// `max_attempts` connections failed in a row, or reconnecting is off.
    GaveUp(String),
}

/// The delay before reconnection attempt `attempt` (0-based): `base * 2^attempt`, capped, then
/// scaled by a random factor in 0.8..1.2 so many clients do not retry in lockstep.
pub fn backoff_delay(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let exponential = base.saturating_mul(2u32.saturating_pow(attempt.min(20)));
    let capped = exponential.min(cap);
    capped.mul_f64(rand::random_range(0.8..1.2))
}

/// Connect, talk, reconnect, until the user ends it or attempts run out.
pub fn run(options: &Options, input: &Receiver<Input>, out: &Sink, log: &Sink) -> Outcome {
    let mut pending: VecDeque<String> = VecDeque::new();
    // Failed connection attempts in a row, and delays waited since the last success: the
    // first delay after a lost connection or a failure is the base, then it doubles.
    let mut failures = 0u32;
    let mut retries = 0u32;
    loop {
        match connect(options, log) {
            Ok(ws) => {
                failures = 0;
                retries = 0;
                say(log, format!("# connected to {}", options.url));
                match talk(ws, input, &mut pending, out, log) {
                    Ok(()) => return Outcome::Finished,
                    Err(lost) => say(log, format!("# connection lost: {lost}")),
                }
            }
            Err(e) => {
                failures += 1;
                say(log, format!("# cannot connect to {}: {e}", options.url));
            }
        }
        if !options.reconnect {
            return Outcome::GaveUp("not reconnecting (--no-reconnect)".into());
        }
        if options.max_attempts.is_some_and(|max| failures >= max) {
            return Outcome::GaveUp(format!("{failures} attempts failed in a row"));
        }
        let delay = backoff_delay(retries, options.backoff_base, options.backoff_cap);
        retries += 1;
        say(log, format!("# reconnecting in {:.2} s", delay.as_secs_f64()));
        // Wait, but stay responsive: lines typed meanwhile are kept for the next connection.
        let deadline = Instant::now() + delay;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match input.recv_timeout(left) {
                Ok(Input::Line(line)) => pending.push_back(line),
                Ok(Input::End | Input::Interrupt) | Err(RecvTimeoutError::Disconnected) => {
                    say(log, "# stopped while disconnected");
                    return Outcome::Finished;
                }
                Err(RecvTimeoutError::Timeout) => break,
            }
        }
    }
}

/// Open the connection (through a [`Tap`] that logs the handshake and frames when verbose).
fn connect(options: &Options, log: &Sink) -> Result<WebSocket<Tap>, Error> {
    let uri = WsUri::parse(&options.url)?;
    let config = ClientConfig {
        // Short reads let one thread watch both the socket and the user's input.
        timeouts: Timeouts { read: Some(Duration::from_millis(50)), ..Timeouts::default() },
        ..ClientConfig::default()
    };
    let deadline = Instant::now() + config.timeouts.handshake;
    let mut last_error = io::Error::from(ErrorKind::AddrNotAvailable);
    for addr in uri.socket_addr_string().to_socket_addrs()? {
        let left = deadline.saturating_duration_since(Instant::now());
        match TcpStream::connect_timeout(&addr, left.max(Duration::from_millis(1))) {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                let tap = Tap::new(stream, options.verbose.then(|| log.clone()));
                let (ws, _response) = client::handshake(tap, &uri, &config, deadline)?;
                return Ok(ws);
            }
            Err(e) => last_error = e,
        }
    }
    Err(Error::Io(last_error))
}

/// Exchange messages until the user ends it (`Ok`) or the connection is lost (`Err`).
fn talk(
    mut ws: WebSocket<Tap>,
    input: &Receiver<Input>,
    pending: &mut VecDeque<String>,
    out: &Sink,
    log: &Sink,
) -> Result<(), String> {
    loop {
        let next = match pending.pop_front() {
            Some(line) => Some(Input::Line(line)),
            None => match input.try_recv() {
                Ok(next) => Some(next),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => Some(Input::End),
            },
        };
        match next {
            Some(Input::Line(line)) => {
                if let Some(stop) = command(&mut ws, &line, log) {
                    let (code, reason) = stop;
                    return finish(&mut ws, code, &reason, out, log);
                }
            }
            Some(Input::End) => return finish(&mut ws, CloseCode::NORMAL, "", out, log),
            Some(Input::Interrupt) => return finish(&mut ws, CloseCode::NORMAL, "interrupted", out, log),
            None => {}
        }
        match ws.read() {
            Ok(message) => show(&message, out, log),
            Err(Error::Io(e)) if is_timeout(&e) => {}
            Err(Error::Closed) => return Err("closed".into()),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Send a line, or carry out a command. Returns the close code and reason when the line ends
/// the session.
fn command(ws: &mut WebSocket<Tap>, line: &str, log: &Sink) -> Option<(CloseCode, String)> {
    let result = if let Some(rest) = line.strip_prefix("/ping") {
        ws.ping(rest.trim().as_bytes())
    } else if line == "/quit" {
        return Some((CloseCode::NORMAL, String::new()));
    } else if let Some(rest) = line.strip_prefix("/close") {
        let mut parts = rest.trim().splitn(2, ' ');
        let code = parts.next().and_then(|code| code.parse().ok()).map_or(CloseCode::NORMAL, CloseCode);
        return Some((code, parts.next().unwrap_or_default().to_string()));
    } else {
        ws.send_text(line)
    };
    if let Err(e) = result {
        say(log, format!("# not sent: {e}"));
    }
    None
}

/// Close, then read until the server finishes the closing handshake (bounded by the
/// library's close timeout).
fn finish(ws: &mut WebSocket<Tap>, code: CloseCode, reason: &str, out: &Sink, log: &Sink) -> Result<(), String> {
    if let Err(e) = ws.close(code, reason) {
        say(log, format!("# close: {e}"));
        return Ok(());
    }
    let deadline = Instant::now() + ws.timeouts().close;
    while Instant::now() < deadline {
        match ws.read() {
            Ok(message) => show(&message, out, log),
            Err(Error::Io(e)) if is_timeout(&e) => {}
            Err(_) => break,
        }
    }
    say(log, "# closed");
    Ok(())
}

/// Print a received message: text to `out`, everything else to `log`.
fn show(message: &Message, out: &Sink, log: &Sink) {
    match message {
        Message::Text(text) => say(out, text),
        Message::Binary(data) => say(out, format!("[binary, {} bytes] {}", data.len(), hex_preview(data))),
        Message::Ping(data) => say(log, format!("# ping {:?} (answered)", String::from_utf8_lossy(data))),
        Message::Pong(data) => say(log, format!("# pong {:?}", String::from_utf8_lossy(data))),
        Message::Close(code, reason) => {
            let code = code.map_or("no code".to_string(), |c| c.0.to_string());
            say(log, format!("# server closed: {code} {reason:?}"));
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

fn hex_preview(bytes: &[u8]) -> String {
    let shown: Vec<String> = bytes.iter().take(32).map(|b| format!("{b:02x}")).collect();
    let more = if bytes.len() > 32 { " ..." } else { "" };
    format!("{}{more}", shown.join(" "))
}

/// A socket that, when verbose, logs the handshake and decodes every frame passing through.
pub struct Tap {
    stream: TcpStream,
    log: Option<Sink>,
    sent: FrameLog,
    received: FrameLog,
}

impl Tap {
    fn new(stream: TcpStream, log: Option<Sink>) -> Tap {
        Tap { stream, log, sent: FrameLog::new(">>"), received: FrameLog::new("<<") }
    }
}

impl Read for Tap {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.stream.read(buf)?;
        if let Some(log) = &self.log {
            self.received.feed(&buf[..n], log);
        }
        Ok(n)
    }
}

impl Write for Tap {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.stream.write(buf)?;
        if let Some(log) = &self.log {
            self.sent.feed(&buf[..n], log);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl Transport for Tap {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_read_timeout(timeout)
    }
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_write_timeout(timeout)
    }
    fn shutdown_write(&mut self) -> io::Result<()> {
        self.stream.shutdown(std::net::Shutdown::Write)
    }
}

/// Decodes one direction of the byte stream for the log: first the HTTP head of the
/// handshake, then frames.
struct FrameLog {
    arrow: &'static str,
    in_handshake: bool,
    buf: Vec<u8>,
    /// The stream broke the framing rules: stop decoding (the library reports the error).
    gave_up: bool,
}

/// Payload bytes shown per frame in the log.
const LOGGED_PAYLOAD: usize = 80;

impl FrameLog {
    fn new(arrow: &'static str) -> FrameLog {
        FrameLog { arrow, in_handshake: true, buf: Vec::new(), gave_up: false }
    }

    fn feed(&mut self, bytes: &[u8], log: &Sink) {
        if self.gave_up {
            return;
        }
        self.buf.extend_from_slice(bytes);
        if self.in_handshake {
            let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") else { return };
            let head: Vec<u8> = self.buf.drain(..end + 4).collect();
            for line in String::from_utf8_lossy(&head).lines().filter(|line| !line.is_empty()) {
                say(log, format!("{} {line}", self.arrow));
            }
            self.in_handshake = false;
        }
        loop {
            let (header, header_len) = match FrameHeader::parse(&self.buf) {
                Ok(Some(parsed)) => parsed,
                Ok(None) => return,
                Err(e) => {
                    say(log, format!("{} invalid frame: {e}", self.arrow));
                    self.gave_up = true;
                    return;
                }
            };
            // Frames of this client's size are held whole; the library bounds their size.
            let Ok(payload_len) = usize::try_from(header.payload_len) else {
                self.gave_up = true;
                return;
            };
            let Some(total) = header_len.checked_add(payload_len) else { return };
            if self.buf.len() < total {
                return;
            }
            let mut payload = self.buf[header_len..total].to_vec();
            if let Some(key) = header.masking_key {
                apply_mask(&mut payload, key, 0);
            }
            say(log, describe_frame(self.arrow, &header, &payload));
            self.buf.drain(..total);
        }
    }
}

/// One log line for a frame: flags, opcode, length, key, and the payload as text or hex.
pub fn describe_frame(arrow: &str, header: &FrameHeader, payload: &[u8]) -> String {
    let opcode = match header.opcode {
        OpCode::Continuation => "CONT",
        OpCode::Text => "TEXT",
        OpCode::Binary => "BINARY",
        OpCode::Close => "CLOSE",
        OpCode::Ping => "PING",
        OpCode::Pong => "PONG",
    };
    let mut line = format!("{arrow} {opcode} fin={} ", u8::from(header.fin));
    if header.rsv != 0 {
        line.push_str(&format!("rsv={:03b} ", header.rsv >> 4));
    }
    line.push_str(&format!("len={}", header.payload_len));
    if let Some(key) = header.masking_key {
        line.push_str(&format!(" mask={:02x}{:02x}{:02x}{:02x}", key[0], key[1], key[2], key[3]));
    }
    let body = match header.opcode {
        OpCode::Close => match parse_close_payload(payload) {
            Ok(Some((code, reason))) => format!("code={} reason={reason:?}", code.0),
            Ok(None) => "no code".into(),
            Err(e) => format!("invalid close payload: {e}"),
        },
        _ if payload.is_empty() => String::new(),
        OpCode::Binary => hex_preview(payload),
        _ => {
            let text = String::from_utf8_lossy(&payload[..payload.len().min(LOGGED_PAYLOAD)]).into_owned();
            let more = if payload.len() > LOGGED_PAYLOAD { " ..." } else { "" };
            format!("{text:?}{more}")
        }
    };
    if !body.is_empty() {
        line.push(' ');
        line.push_str(&body);
    }
    line
}
