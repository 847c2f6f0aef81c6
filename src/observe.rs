//! The frame log: every frame a connection receives and sends, reported in the terms of
//! RFC 6455 §5.2, and the opening handshake (§4.1, §4.2.2) as text.
//!
//! ```text
//!   0                   1                   2                   3
//!   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//!  +-+-+-+-+-------+-+-------------+-------------------------------+
//!  |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//!  |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//!  |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//!  | |1|2|3|       |K|             |                               |
//!  +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//!  |     Extended payload length continued, if payload len == 127  |
//!  + - - - - - - - - - - - - - - - +-------------------------------+
//!  |                               |Masking-key, if MASK set to 1  |
//!  +-------------------------------+-------------------------------+
//!  | Masking-key (continued)       |          Payload Data         |
//!  +-------------------------------- - - - - - - - - - - - - - - - +
//! ```
//!
//! An [`Observer`] set in the [`Config`](crate::Config) ([`Config::with_observer`](crate::Config::with_observer))
//! is told about each frame as the connection decodes or encodes it: a [`FrameRecord`] holds
//! every field of the diagram above (FIN, RSV1-3, opcode, MASK and the masking key, the length
//! form used and the payload length), the header's own bytes, the first [`PREVIEW_LEN`] bytes
//! of the payload both as on the wire (masked, §5.3) and unmasked, whether the payload is
//! compressed (RSV1 with permessage-deflate, RFC 7692 §6), and the number of the data message
//! it belongs to. When a data message ends, a [`MessageRecord`] says how many frames and wire
//! bytes it took and how long it was once inflated; the I/O layers report the opening
//! handshake, request and response, as a [`HandshakeRecord`].
//!
//! It costs nothing when no observer is set: the connection holds `None` and each frame pays
//! one branch on it; nothing is allocated or formatted. When one is set, records are fixed-size
//! values built on the stack and handed over by reference: the observer decides what to keep.
//! [`FrameLog`] is a ready-made one that keeps a bounded queue of them and counts what it had
//! to drop.
//!
//! Frames are reported where the connection handles them: a received frame once its header
//! and the first bytes of its payload are decoded (before the connection acts on it, so a Pong
//! it answers a Ping with is reported after the Ping), a sent frame when it is queued.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use crate::config::Role;
use crate::frame::mask::apply_mask;
use crate::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use crate::message::MessageKind;

/// How many payload bytes a [`FrameRecord`] keeps (the start of the payload): 125, so a
/// control frame (§5.5), a Close's code and reason among them, is always there whole.
pub const PREVIEW_LEN: usize = crate::frame::MAX_CONTROL_PAYLOAD;

/// Which way a frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the peer to this side.
    Received,
    /// From this side to the peer.
    Sent,
}

/// Which of the three payload length encodings of RFC 6455 §5.2 a header used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LengthForm {
    /// The 7-bit field holds the length (0-125).
    Bits7,
    /// The 7-bit field is 126 and a 16-bit length follows.
    Bits16,
    /// The 7-bit field is 127 and a 64-bit length follows.
    Bits64,
}

impl LengthForm {
    /// The form the second header byte's 7-bit field names (RFC 6455 §5.2).
    pub fn from_len7(len7: u8) -> Self {
        match len7 & 0x7F {
            126 => LengthForm::Bits16,
            127 => LengthForm::Bits64,
            _ => LengthForm::Bits7,
        }
    }

    /// How many bytes of the header hold the length: 0, 2 or 8 after the 7-bit field.
    pub fn extended_len(self) -> usize {
        match self {
            LengthForm::Bits7 => 0,
            LengthForm::Bits16 => 2,
            LengthForm::Bits64 => 8,
        }
    }
}

/// One frame, as it went over the wire (RFC 6455 §5.2).
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FrameRecord {
    /// Received or sent.
    pub direction: Direction,
    /// This frame's number in its direction, from 1.
    pub seq: u64,
    /// The number of the data message this frame belongs to, from 1 in each direction; `None`
    /// for control frames, which belong to no message (§5.4, §5.5).
    pub message: Option<u64>,
    /// FIN: the last frame of its message.
    pub fin: bool,
    /// RSV1-3 as they appear in the first byte: `0x40` RSV1, `0x20` RSV2, `0x10` RSV3.
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, when the MASK bit is set (§5.3).
    pub masking_key: Option<[u8; 4]>,
    /// The length encoding the header used.
    pub length_form: LengthForm,
    /// The payload length, as the header says.
    pub payload_len: u64,
    /// Whether the payload is compressed data (a frame of a message sent with RSV1 under
    /// permessage-deflate, RFC 7692 §6).
    pub compressed: bool,
    header: [u8; MAX_HEADER_LEN],
    header_len: u8,
    wire: [u8; PREVIEW_LEN],
    plain: [u8; PREVIEW_LEN],
    preview_len: u8,
}

impl FrameRecord {
    /// A record of `header` (whose encoding is `raw`, 2 to 14 bytes), with no payload bytes
    /// yet.
    pub(crate) fn new(direction: Direction, seq: u64, message: Option<u64>, raw: &[u8], header: &FrameHeader) -> Self {
        let mut bytes = [0u8; MAX_HEADER_LEN];
        let header_len = raw.len().min(MAX_HEADER_LEN);
        bytes[..header_len].copy_from_slice(&raw[..header_len]);
        FrameRecord {
            direction,
            seq,
            message,
            fin: header.fin,
            rsv: header.rsv,
            opcode: header.opcode,
            masking_key: header.masking_key,
            length_form: LengthForm::from_len7(raw.get(1).copied().unwrap_or(0)),
            payload_len: header.payload_len,
            compressed: false,
            header: bytes,
            header_len: header_len as u8,
            wire: [0; PREVIEW_LEN],
            plain: [0; PREVIEW_LEN],
            preview_len: 0,
        }
    }

    /// The header's bytes, as on the wire (2 to 14).
    pub fn header_bytes(&self) -> &[u8] {
        &self.header[..usize::from(self.header_len)]
    }

    /// The first payload bytes as on the wire: masked when the frame is (§5.3).
    pub fn preview_wire(&self) -> &[u8] {
        &self.wire[..usize::from(self.preview_len)]
    }

    /// The same bytes unmasked: what the payload starts with.
    pub fn preview(&self) -> &[u8] {
        &self.plain[..usize::from(self.preview_len)]
    }

    /// How many payload bytes the preview wants: the payload, up to [`PREVIEW_LEN`].
    pub(crate) fn preview_want(&self) -> usize {
        usize::try_from(self.payload_len).map_or(PREVIEW_LEN, |len| len.min(PREVIEW_LEN))
    }

    /// Whether the preview holds all it wants.
    pub(crate) fn preview_full(&self) -> bool {
        usize::from(self.preview_len) >= self.preview_want()
    }

    /// Add payload bytes as on the wire (masked when the frame is); returns how many it took.
    pub(crate) fn push_wire(&mut self, bytes: &[u8]) -> usize {
        let at = usize::from(self.preview_len);
        let take = self.preview_want().saturating_sub(at).min(bytes.len());
        self.wire[at..at + take].copy_from_slice(&bytes[..take]);
        self.plain[at..at + take].copy_from_slice(&bytes[..take]);
        if let Some(key) = self.masking_key {
            apply_mask(&mut self.plain[at..at + take], key, at);
        }
        self.preview_len += take as u8;
        take
    }

    /// Add unmasked payload bytes; the wire bytes are masked with the frame's key (§5.3).
    pub(crate) fn push_plain(&mut self, bytes: &[u8]) -> usize {
        let at = usize::from(self.preview_len);
        let take = self.preview_want().saturating_sub(at).min(bytes.len());
        self.plain[at..at + take].copy_from_slice(&bytes[..take]);
        self.wire[at..at + take].copy_from_slice(&bytes[..take]);
        if let Some(key) = self.masking_key {
            apply_mask(&mut self.wire[at..at + take], key, at);
        }
        self.preview_len += take as u8;
        take
    }
}

impl fmt::Debug for FrameRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameRecord")
            .field("direction", &self.direction)
            .field("seq", &self.seq)
            .field("message", &self.message)
            .field("fin", &self.fin)
            .field("rsv", &self.rsv)
            .field("opcode", &self.opcode)
            .field("masking_key", &self.masking_key)
            .field("length_form", &self.length_form)
            .field("payload_len", &self.payload_len)
            .field("compressed", &self.compressed)
            .field("header", &self.header_bytes())
            .field("preview_wire", &self.preview_wire())
            .field("preview", &self.preview())
            .finish()
    }
}

/// One data message, once its last frame went by (RFC 6455 §5.4).
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageRecord {
    /// Received or sent.
    pub direction: Direction,
    /// The message's number in its direction, from 1 (as in [`FrameRecord::message`]).
    pub message: u64,
    /// Text or binary.
    pub kind: MessageKind,
    /// How many frames carried it.
    pub frames: u64,
    /// Payload bytes on the wire, all its frames together (compressed, when it was).
    pub wire_len: u64,
    /// The message's length as the application sees it (inflated, when it was compressed).
    pub len: u64,
    /// Whether it went compressed (permessage-deflate, RFC 7692 §6).
    pub compressed: bool,
    pub(crate) preview: [u8; PREVIEW_LEN],
    pub(crate) preview_len: u8,
}

impl MessageRecord {
    /// The message's first bytes (up to [`PREVIEW_LEN`]) as the application sees them: what a
    /// compressed message inflates to, where its frames show DEFLATE data.
    pub fn preview(&self) -> &[u8] {
        &self.preview[..usize::from(self.preview_len)]
    }
}

impl fmt::Debug for MessageRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageRecord")
            .field("direction", &self.direction)
            .field("message", &self.message)
            .field("kind", &self.kind)
            .field("frames", &self.frames)
            .field("wire_len", &self.wire_len)
            .field("len", &self.len)
            .field("compressed", &self.compressed)
            .field("preview", &self.preview())
            .finish()
    }
}

/// The opening handshake as it went over the wire (RFC 6455 §4.1, §4.2.2): the request head
/// and the response head, as text. Over HTTP/2 (RFC 8441 §5) the heads are the extended
/// CONNECT's and the answer's header fields, one `name: value` line each, pseudo-header fields
/// first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeRecord<'a> {
    /// Which side this connection is.
    pub role: Role,
    /// The client's request head, up to and including its blank line.
    pub request: &'a str,
    /// The server's response head (the 101), up to and including its blank line.
    pub response: &'a str,
}

impl<'a> HandshakeRecord<'a> {
    /// A record of the two heads.
    pub fn new(role: Role, request: &'a str, response: &'a str) -> Self {
        HandshakeRecord { role, request, response }
    }
}

/// Told about every frame a connection receives and sends (see the [module docs](self)).
///
/// Its methods run inside the connection's calls, on the thread that makes them: they should
/// be quick and never block for long (push into a bounded queue, as [`FrameLog`] does, or
/// count). One observer may watch many connections.
pub trait Observer: Send + Sync {
    /// A frame was received (once its header and the first bytes of its payload were decoded)
    /// or queued to be sent.
    fn frame(&self, record: &FrameRecord);

    /// A data message ended: its last frame was received or queued.
    fn message(&self, record: &MessageRecord) {
        let _ = record;
    }

    /// The opening handshake completed (reported by the I/O layers).
    fn handshake(&self, record: &HandshakeRecord<'_>) {
        let _ = record;
    }

    /// Whether to watch the connection being made with this observer at all, asked once, when
    /// it is made (after its handshake): a connection whose observer says no reports no frames
    /// and pays for none, as if no observer were set. Yes by default.
    fn is_active(&self) -> bool {
        true
    }
}

/// One entry of a [`FrameLog`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// Frames are most entries and are kept inline: boxing them would allocate once per frame, and
// the queue's slots are allocated once, at its capacity.
#[allow(clippy::large_enum_variant)]
pub enum LogEntry {
    /// The opening handshake.
    Handshake {
        /// Which side logged it.
        role: Role,
        /// The request head.
        request: String,
        /// The response head.
        response: String,
    },
    /// A frame.
    Frame(FrameRecord),
    /// A data message ended.
    Message(MessageRecord),
}

/// An [`Observer`] that keeps the entries in a bounded queue, for another thread to take.
///
/// At most `capacity` entries wait; while the queue is full, new entries are dropped and
/// counted ([`FrameLog::take`] reports how many), so a slow reader never makes the connection
/// wait or the log grow. The queue is allocated once, when the log is made.
#[derive(Debug)]
pub struct FrameLog {
    queue: Mutex<Queue>,
    ready: Condvar,
    capacity: usize,
}

#[derive(Debug)]
struct Queue {
    entries: VecDeque<LogEntry>,
    dropped: u64,
}

impl FrameLog {
    /// A log holding at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        FrameLog {
            queue: Mutex::new(Queue { entries: VecDeque::with_capacity(capacity), dropped: 0 }),
            ready: Condvar::new(),
            capacity,
        }
    }

    /// How many entries it holds at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn push(&self, entry: LogEntry) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.entries.len() >= self.capacity {
            queue.dropped += 1;
        } else {
            queue.entries.push_back(entry);
        }
        drop(queue);
        self.ready.notify_one();
    }

    /// Move every waiting entry to `out` (waiting up to `wait` for one if none is there yet);
    /// returns how many entries were dropped since the last `take` because the queue was full.
    pub fn take(&self, out: &mut Vec<LogEntry>, wait: Duration) -> u64 {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.entries.is_empty() && queue.dropped == 0 && !wait.is_zero() {
            queue = self
                .ready
                .wait_timeout_while(queue, wait, |q| q.entries.is_empty() && q.dropped == 0)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        out.extend(queue.entries.drain(..));
        std::mem::take(&mut queue.dropped)
    }

    /// How many entries wait now.
    pub fn len(&self) -> usize {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner).entries.len()
    }

    /// Whether no entry waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Observer for FrameLog {
    fn frame(&self, record: &FrameRecord) {
        self.push(LogEntry::Frame(*record));
    }

    fn message(&self, record: &MessageRecord) {
        self.push(LogEntry::Message(*record));
    }

    fn handshake(&self, record: &HandshakeRecord<'_>) {
        self.push(LogEntry::Handshake {
            role: record.role,
            request: record.request.to_owned(),
            response: record.response.to_owned(),
        });
    }
}

/// The observer a [`Config`](crate::Config) carries, if any: a shared handle, compared by
/// identity.
#[derive(Clone, Default)]
pub(crate) struct ObserverSlot(pub(crate) Option<std::sync::Arc<dyn Observer>>);

impl fmt::Debug for ObserverSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Some(Observer)" } else { "None" })
    }
}

/// Report a handshake whose heads are raw bytes (ASCII in practice; anything else is shown
/// with replacement characters).
pub(crate) fn report_handshake(observer: &dyn Observer, role: Role, request: &[u8], response: &[u8]) {
    let request = String::from_utf8_lossy(request);
    let response = String::from_utf8_lossy(response);
    observer.handshake(&HandshakeRecord::new(role, &request, &response));
}
