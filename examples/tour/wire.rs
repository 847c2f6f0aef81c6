//! What went over one socket, byte for byte: a [`Recorder`] wraps the TCP stream the blocking
//! layer reads and writes, and keeps (up to a bound) every byte read, every byte written, and
//! when each side of TCP was closed. The tour shows these bytes, so what the page explains is
//! what this connection really carried: the browser's request as the server read it, the 101
//! as the server wrote it, and each frame in both directions.
//!
//! [`decode_frames`] splits recorded bytes into frames (RFC 6455 §5.2) and names every field.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rfc6455::blocking::Transport;
use rfc6455::close::parse_close_payload;
use rfc6455::frame::FrameHeader;
use rfc6455::frame::mask::apply_mask;
use serde_json::{Value, json};

/// Most bytes kept per direction: a tour carries a few hundred; the rest is counted only.
pub const KEPT_PER_DIRECTION: usize = 16 << 10;

/// Most payload bytes shown per frame.
const SHOWN_PAYLOAD: usize = 64;

/// The bytes one connection carried, as far as they were kept.
#[derive(Debug)]
pub struct Wire {
    started: Instant,
    /// What the server read (client → server), the first [`KEPT_PER_DIRECTION`] bytes.
    pub read: Vec<u8>,
    /// What the server wrote (server → client), the first [`KEPT_PER_DIRECTION`] bytes.
    pub written: Vec<u8>,
    /// Every byte read, kept or not.
    pub read_total: u64,
    /// Every byte written, kept or not.
    pub written_total: u64,
    /// When the server shut its sending side (its TCP FIN), since the connection was accepted.
    pub server_fin: Option<Duration>,
    /// When a read returned end of stream (the client's TCP FIN arrived).
    pub client_fin: Option<Duration>,
    /// Which side closed TCP first: `"server"` when the server shut its side before the
    /// client's FIN had arrived, `"client"` otherwise.
    pub first_fin: Option<&'static str>,
}

impl Wire {
    fn new() -> Self {
        Wire {
            started: Instant::now(),
            read: Vec::new(),
            written: Vec::new(),
            read_total: 0,
            written_total: 0,
            server_fin: None,
            client_fin: None,
            first_fin: None,
        }
    }
}

/// A shared handle on a connection's [`Wire`].
pub type SharedWire = Arc<Mutex<Wire>>;

/// Lock a wire, whatever a panicking thread left behind (it holds only bytes).
pub fn lock(wire: &SharedWire) -> std::sync::MutexGuard<'_, Wire> {
    wire.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A TCP stream that records what passes through it.
#[derive(Debug)]
pub struct Recorder {
    stream: TcpStream,
    wire: SharedWire,
}

impl Recorder {
    /// Record `stream` from now on.
    pub fn new(stream: TcpStream) -> Self {
        Recorder { stream, wire: Arc::new(Mutex::new(Wire::new())) }
    }

    /// The record, shared with whoever wants to look at it while the connection runs.
    pub fn wire(&self) -> SharedWire {
        Arc::clone(&self.wire)
    }

    /// The socket underneath.
    pub fn tcp_stream(&self) -> &TcpStream {
        &self.stream
    }
}

fn keep(kept: &mut Vec<u8>, bytes: &[u8]) {
    let room = KEPT_PER_DIRECTION.saturating_sub(kept.len()).min(bytes.len());
    kept.extend_from_slice(&bytes[..room]);
}

impl Read for Recorder {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.stream.read(buf)?;
        let mut wire = lock(&self.wire);
        if n == 0 {
            if wire.client_fin.is_none() {
                wire.client_fin = Some(wire.started.elapsed());
            }
            wire.first_fin.get_or_insert("client");
        } else {
            wire.read_total += n as u64;
            keep(&mut wire.read, &buf[..n]);
        }
        Ok(n)
    }
}

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.stream.write(buf)?;
        let mut wire = lock(&self.wire);
        wire.written_total += n as u64;
        keep(&mut wire.written, &buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl Transport for Recorder {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_read_timeout(timeout)
    }
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_write_timeout(timeout)
    }
    fn shutdown_write(&mut self) -> io::Result<()> {
        // Had the client's FIN already arrived? A peek that reads 0 without waiting says so
        // (data still unread would hide it; the tour's client sends nothing after its Close).
        let client_first =
            self.stream.set_nonblocking(true).is_ok() && matches!(self.stream.peek(&mut [0u8; 1]), Ok(0));
        let _ = self.stream.set_nonblocking(false);
        let result = self.stream.shutdown(Shutdown::Write);
        let mut wire = lock(&self.wire);
        let now = wire.started.elapsed();
        if client_first && wire.client_fin.is_none() {
            wire.client_fin = Some(now);
        }
        if wire.server_fin.is_none() {
            wire.server_fin = Some(now);
        }
        wire.first_fin.get_or_insert(if client_first { "client" } else { "server" });
        result
    }
}

/// The length of an HTTP head at the start of `bytes` (through its empty line), if complete.
pub fn head_len(bytes: &[u8]) -> Option<usize> {
    bytes.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 4)
}

/// Bytes as lower-case hex pairs separated by spaces.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// The name of an opcode (RFC 6455 §5.2, §11.8).
pub fn opcode_name(opcode: u8) -> &'static str {
    match opcode {
        0x0 => "continuation",
        0x1 => "text",
        0x2 => "binary",
        0x8 => "close",
        0x9 => "ping",
        0xA => "pong",
        0x3..=0x7 => "reserved (data)",
        _ => "reserved (control)",
    }
}

/// Split `bytes` into frames and describe each, field by field, as JSON. Stops at the first
/// header that is not a frame (the rest is reported as `rest_hex`) or at a frame cut short.
pub fn decode_frames(bytes: &[u8]) -> Value {
    let mut frames = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let header = match FrameHeader::parse(&bytes[at..]) {
            Ok(Some(header)) => header,
            Ok(None) | Err(_) => break,
        };
        let (header, header_len) = header;
        let Some(end) = usize::try_from(header.payload_len).ok().and_then(|len| (at + header_len).checked_add(len))
        else {
            break;
        };
        if end > bytes.len() {
            break;
        }
        frames.push(describe(&bytes[at..end], &header, header_len, at));
        at = end;
    }
    json!({ "frames": frames, "rest_hex": hex(&bytes[at..]) })
}

/// One complete frame (`frame` holds header and payload) as JSON.
fn describe(frame: &[u8], header: &FrameHeader, header_len: usize, offset: usize) -> Value {
    let opcode = header.opcode.as_u8();
    let masked = &frame[header_len..];
    let mut payload = masked.to_vec();
    if let Some(key) = header.masking_key {
        apply_mask(&mut payload, key, 0);
    }
    let len_form = match frame[1] & 0x7F {
        126 => "16-bit (126 + 2 bytes)",
        127 => "64-bit (127 + 8 bytes)",
        _ => "7-bit",
    };
    let (close_code, close_reason) = match (opcode, parse_close_payload(&payload)) {
        (0x8, Ok(Some((code, reason)))) => (Some(code.0), Some(reason.to_owned())),
        _ => (None, None),
    };
    let shown = payload.len().min(SHOWN_PAYLOAD);
    json!({
        "offset": offset,
        "length": frame.len(),
        "header_hex": hex(&frame[..header_len]),
        "fin": header.fin,
        "rsv1": header.rsv & 0x40 != 0,
        "rsv2": header.rsv & 0x20 != 0,
        "rsv3": header.rsv & 0x10 != 0,
        "opcode": opcode,
        "opcode_name": opcode_name(opcode),
        "mask": header.masking_key.is_some(),
        "masking_key": header.masking_key.map(|key| hex(&key)),
        "len_form": len_form,
        "payload_len": header.payload_len,
        "payload_masked_hex": header.masking_key.map(|_| hex(&masked[..shown])),
        "payload_hex": hex(&payload[..shown]),
        "payload_cut": payload.len() > shown,
        "text": (opcode != 0x8).then(|| String::from_utf8_lossy(&payload[..shown]).into_owned()),
        "close_code": close_code,
        "close_reason": close_reason,
    })
}
