//! The output queue: encoded frames waiting to be written, and at most one large payload that
//! is written from where it already lies instead of being copied into the output buffer.
//!
//! A frame normally goes into the output buffer whole: header and payload. For a large
//! payload the connection owns anyway (a received message sent back, or a buffer the caller
//! handed over), only the header goes into the output buffer and the payload is *attached*
//! behind it. The output is then up to three pieces, in order:
//!
//! ```text
//!   buf[start..at]          frames queued before the payload, and its header
//!   payload[written..len]   the attached payload (masked in place first by a client, §5.3)
//!   buf[at..]               frames queued after it
//! ```
//!
//! [`Connection::output_parts`] hands out all three for one vectored write;
//! [`Connection::output`] hands out the first non-empty one, for I/O layers that write one
//! slice at a time. Once the payload is written its buffer is kept as a spare, to become the
//! next message buffer, so echoing large messages allocates nothing in steady state.

use super::{Connection, Transmitter};
use crate::config::Role;
use crate::error::UsageError;
use crate::frame::mask::apply_mask;
use crate::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use crate::message::MessageKind;

/// From this size up, a payload the connection owns is written from its own buffer rather
/// than copied into the output buffer.
const ATTACH_MIN: usize = 8 << 10;

/// A payload written from its own buffer, behind the header at `at` in the output buffer.
#[derive(Debug)]
pub(super) struct Attached {
    /// Where in the output buffer the payload goes (just after its header).
    pub(super) at: usize,
    /// The payload is `payload[..len]`; the bytes after it are initialized room, kept.
    pub(super) payload: Vec<u8>,
    pub(super) len: usize,
    /// Bytes of the payload written so far.
    pub(super) written: usize,
}

impl Connection {
    /// Queue the message the last [`Self::next_event`] handed out (a whole Text or Binary
    /// message) as a message of `kind`, straight from where it was received: an echo, or any
    /// reply that repeats a received message, without copying it out of the connection first.
    /// Call it before the next `next_event`, `receive` or `read_buf` (the event's borrow has
    /// ended by then).
    ///
    /// A large message is not copied at all: its buffer moves to the output queue and is
    /// written from there ([`Self::output_parts`]); a client masks it in place (§5.3). Smaller
    /// ones are encoded into the output buffer from the input buffer. Compression, limits and
    /// the closing handshake apply as for [`Self::send_message`]; received text is UTF-8
    /// already and is not checked again (binary sent as text is).
    pub fn send_received(&mut self, kind: MessageKind) -> Result<(), UsageError> {
        let Some((received, range)) = self.rx.last_message.take() else {
            return Err(UsageError::NoReceivedMessage);
        };
        self.check_can_send()?;
        if self.tx.fragmented.is_some() {
            return Err(UsageError::FragmentationOrder);
        }
        let payload = match &range {
            Some(range) => &self.rx.buf[range.clone()],
            None => self.rx.message.buffer(),
        };
        // RFC 6455 §5.6: a text message's payload is UTF-8.
        if kind == MessageKind::Text && received != MessageKind::Text && std::str::from_utf8(payload).is_err() {
            return Err(UsageError::InvalidUtf8);
        }
        let len = payload.len();
        let max_frame = self.limits.max_send_frame_size;
        // One more header for every further frame the payload is split into.
        self.check_room(len + len / max_frame * MAX_HEADER_LEN)?;
        let opcode = match kind {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        };
        let compress = len >= self.tx.compression_threshold && self.tx.deflater.is_some();
        if let Some(tap) = self.tx.tap.as_mut() {
            tap.sending(payload);
        }
        if range.is_none() && !compress && len >= ATTACH_MIN && len <= max_frame && self.tx.attached.is_none() {
            // The message buffer goes to the output queue; the spare becomes the message buffer.
            let replacement = self.tx.take_spare();
            let (buffer, len) = self.rx.message.take_buffer(replacement);
            self.tx.encode_attached(opcode, buffer, len);
            return Ok(());
        }
        self.tx.compressing = compress;
        if compress {
            self.tx.encode_compressed(true, opcode, payload, max_frame)
        } else {
            self.tx.encode_split(true, opcode, 0, payload, max_frame);
            Ok(())
        }
    }

    /// Queue a whole message of `kind` whose payload the caller hands over: a large one is
    /// written from `payload` itself, not copied into the output buffer, and a client masks
    /// it in place (§5.3). Otherwise as [`Self::send_message`] (text is checked, compression
    /// applies; a compressed or small message is encoded from `payload` as usual).
    ///
    /// Once written, the buffer is kept and becomes the connection's next message buffer
    /// (so its capacity is reused, not freed).
    pub fn send_owned(&mut self, kind: MessageKind, payload: Vec<u8>) -> Result<(), UsageError> {
        let compress = payload.len() >= self.tx.compression_threshold && self.tx.deflater.is_some();
        let over_frame = payload.len() > self.limits.max_send_frame_size;
        if compress || over_frame || payload.len() < ATTACH_MIN || self.tx.attached.is_some() {
            return self.send_message(kind, &payload);
        }
        self.check_can_send()?;
        if self.tx.fragmented.is_some() {
            return Err(UsageError::FragmentationOrder);
        }
        // RFC 6455 §5.6: a text message's payload is UTF-8.
        if kind == MessageKind::Text && crate::utf8::validate_str(&payload).is_none() {
            return Err(UsageError::InvalidUtf8);
        }
        self.check_room(payload.len())?;
        let opcode = match kind {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        };
        let len = payload.len();
        if let Some(tap) = self.tx.tap.as_mut() {
            tap.sending(&payload);
        }
        self.tx.encode_attached(opcode, payload, len);
        Ok(())
    }

    /// The pending output as up to three slices, in the order they go on the wire, for one
    /// vectored write (`write_vectored` with `std::io::IoSlice`s of them). Empty slices
    /// are possible; [`Self::consume_output`] takes the count written across all three.
    ///
    /// Equal to [`Self::output`] followed by what [`Self::output`] will give after it is
    /// consumed: an I/O layer may use either.
    pub fn output_parts(&self) -> [&[u8]; 3] {
        self.tx.parts()
    }
}

impl Transmitter {
    /// The pending output in wire order (see the module docs).
    pub(super) fn parts(&self) -> [&[u8]; 3] {
        match &self.attached {
            Some(a) => [&self.buf[self.start..a.at], &a.payload[a.written..a.len], &self.buf[a.at..]],
            None => [&self.buf[self.start..], &[], &[]],
        }
    }

    /// The first non-empty piece of the pending output.
    pub(super) fn first_part(&self) -> &[u8] {
        let [a, b, c] = self.parts();
        if !a.is_empty() {
            a
        } else if !b.is_empty() {
            b
        } else {
            c
        }
    }

    /// Bytes of the attached payload still to be written.
    pub(super) fn attached_pending(&self) -> usize {
        self.attached.as_ref().map_or(0, |a| a.len - a.written)
    }

    /// Mark `n` bytes as written, across the pieces; returns how many of them were left for
    /// the output buffer behind the attached payload (all of `n` when none is attached).
    pub(super) fn consume_attached(&mut self, mut n: usize) -> usize {
        let Some(a) = self.attached.as_mut() else { return n };
        let before = (a.at - self.start).min(n);
        self.start += before;
        n -= before;
        if self.start < a.at {
            return 0;
        }
        let taken = (a.len - a.written).min(n);
        a.written += taken;
        n -= taken;
        if a.written == a.len
            && let Some(done) = self.attached.take()
        {
            // Keep the buffer (and its initialized bytes) for the next message.
            self.spare = done.payload;
        }
        n
    }

    /// The output buffer lost its first `n` bytes (written and reclaimed): the attached
    /// payload's place moves with them.
    pub(super) fn shift_attached(&mut self, n: usize) {
        if let Some(a) = self.attached.as_mut() {
            a.at -= n.min(a.at);
        }
    }

    /// Queue `payload[..len]` to be written behind what is queued now, from its own buffer;
    /// the caller has appended its header. Refused (the buffer is handed back) while another
    /// payload is attached.
    pub(super) fn attach(&mut self, payload: Vec<u8>, len: usize) -> Result<(), Vec<u8>> {
        if self.attached.is_some() {
            return Err(payload);
        }
        let len = len.min(payload.len());
        self.attached = Some(Attached { at: self.buf.len(), payload, len, written: 0 });
        Ok(())
    }

    /// Queue a whole message whose payload is `payload[..len]`, written from that buffer: its
    /// header goes into the output buffer, a client masks the payload in place (§5.3).
    pub(super) fn encode_attached(&mut self, opcode: OpCode, mut payload: Vec<u8>, len: usize) {
        let len = len.min(payload.len());
        self.reclaim_written();
        let masking_key = match self.role {
            Role::Client => Some(self.keys.next_key()),
            Role::Server => None,
        };
        let header = FrameHeader { fin: true, rsv: 0, opcode, masking_key, payload_len: len as u64 };
        header.append_to(&mut self.buf);
        if let Some(key) = masking_key {
            apply_mask(&mut payload[..len], key, 0);
        }
        if let Some(tap) = self.tap.as_mut() {
            tap.sent_wire(&header, &payload[..len], self.deflater.is_some());
        }
        if let Err(payload) = self.attach(payload, len) {
            // Another payload is attached (callers check first): copy this one behind it.
            self.buf.extend_from_slice(&payload[..len]);
        }
        self.high_water = self.high_water.max(self.buf.len());
        self.compressing = false;
    }

    /// A buffer to replace one handed over to [`Self::attach`]: the spare, or a new empty one.
    pub(super) fn take_spare(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.spare)
    }

    /// Heap bytes held by the output queue.
    pub(super) fn capacity(&self) -> usize {
        self.buf.capacity() + self.spare.capacity() + self.attached.as_ref().map_or(0, |a| a.payload.capacity())
    }
}
