//! Sending: messages and control frames become bytes in the output buffer (RFC 6455 §5.1-§5.5,
//! §7.1.2).
//!
//! Every send checks the closing handshake first (no data after a Close, §5.5.1), then encodes
//! into the one reused output buffer. A client masks every frame with a fresh key (§5.3).
//! Everything queued between two writes goes out in one write.

use super::{CloseInput, CloseState, Connection, Transmitter, transition};
use crate::close::{CloseCode, MAX_REASON_LEN, close_payload};
use crate::config::Role;
use crate::error::UsageError;
use crate::frame::encoder::encode_frame;
use crate::frame::mask::apply_mask;
use crate::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode, RSV1};
use crate::message::MessageKind;
use crate::utf8::Utf8Validator;

impl Connection {
    /// Queue a text message (in frames of at most [`crate::Limits::max_send_frame_size`]). A
    /// `&str` is UTF-8 already: it is not checked again.
    pub fn send_text(&mut self, text: &str) -> Result<(), UsageError> {
        let compress = text.len() >= self.tx.compression_threshold;
        if self.tx.fragmented.is_some() {
            return Err(UsageError::FragmentationOrder);
        }
        self.send_checked(MessageKind::Text, text.as_bytes(), true, compress)
    }

    /// Queue a binary message (in frames of at most [`crate::Limits::max_send_frame_size`]).
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), UsageError> {
        self.send_message(MessageKind::Binary, data)
    }

    /// Queue a whole message of `kind`, split into frames of at most
    /// [`crate::Limits::max_send_frame_size`]. With permessage-deflate, messages of at
    /// least the configured threshold are compressed. Text that is not UTF-8 is refused with
    /// [`UsageError::InvalidUtf8`] ([`Self::send_text`] takes a `&str` and skips the check).
    pub fn send_message(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), UsageError> {
        let compress = data.len() >= self.tx.compression_threshold;
        self.send_message_with(kind, data, compress)
    }

    /// Queue a whole message, choosing whether to compress it (RFC 7692 §6 lets the sender
    /// decide per message). Without permessage-deflate, `compress` is ignored.
    pub fn send_message_with(&mut self, kind: MessageKind, data: &[u8], compress: bool) -> Result<(), UsageError> {
        if self.tx.fragmented.is_some() {
            return Err(UsageError::FragmentationOrder);
        }
        self.send_fragment_with(kind, data, true, compress)
    }

    /// Queue one fragment of a message (§5.4): the first fragment carries `kind`'s opcode, the
    /// rest are continuations; `is_last` ends the message. Control frames may be sent between
    /// fragments. A text message's fragments need not split on code point boundaries, but the
    /// whole must be UTF-8: each fragment is checked as it is sent, and one that cannot be
    /// UTF-8 (or a last fragment that leaves a code point unfinished) is refused with
    /// [`UsageError::InvalidUtf8`], queueing nothing.
    pub fn send_fragment(&mut self, kind: MessageKind, data: &[u8], is_last: bool) -> Result<(), UsageError> {
        // The first fragment decides for the message; later ones follow it.
        let compress = data.len() >= self.tx.compression_threshold;
        self.send_fragment_with(kind, data, is_last, compress)
    }

    /// [`Self::send_fragment`], choosing whether the message is compressed. Only the first
    /// fragment's choice counts: a message is compressed whole or not at all (RFC 7692 §6).
    pub fn send_fragment_with(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        is_last: bool,
        compress: bool,
    ) -> Result<(), UsageError> {
        // RFC 6455 §5.6: the payload of a text message is UTF-8; checked before anything is
        // queued, across code points split between fragments.
        if kind == MessageKind::Text && self.tx.fragmented.is_none_or(|started| started == kind) {
            let mut text = if self.tx.fragmented.is_none() { Utf8Validator::new() } else { self.tx.text.clone() };
            if text.feed(data).is_err() || (is_last && !text.is_complete()) {
                return Err(UsageError::InvalidUtf8);
            }
            self.send_checked(kind, data, is_last, compress)?;
            self.tx.text = text;
            return Ok(());
        }
        self.send_checked(kind, data, is_last, compress)
    }

    /// Queue one fragment whose text, if any, is known to be UTF-8.
    fn send_checked(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        is_last: bool,
        compress: bool,
    ) -> Result<(), UsageError> {
        self.check_can_send()?;
        let opcode = match self.tx.fragmented {
            None => match kind {
                MessageKind::Text => OpCode::Text,
                MessageKind::Binary => OpCode::Binary,
            },
            Some(started) if started == kind => OpCode::Continuation,
            Some(_) => return Err(UsageError::FragmentationOrder),
        };
        let max_frame = self.limits.max_send_frame_size;
        // One more header for every further frame the payload is split into.
        self.check_room(data.len() + data.len() / max_frame * MAX_HEADER_LEN)?;
        if opcode != OpCode::Continuation {
            self.tx.compressing = compress && self.tx.deflater.is_some();
        }
        if let Some(tap) = self.tx.tap.as_mut() {
            tap.sending(data);
        }
        if self.tx.compressing {
            self.tx.encode_compressed(is_last, opcode, data, max_frame)?;
        } else {
            self.tx.encode_split(is_last, opcode, 0, data, max_frame);
        }
        self.tx.fragmented = if is_last { None } else { Some(kind) };
        Ok(())
    }

    /// Queue a Ping (§5.5.2). The payload is at most 125 bytes.
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), UsageError> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Queue an unsolicited Pong (§5.5.3), a one-way heartbeat. Replies to Pings are automatic
    /// unless turned off in the configuration.
    pub fn pong(&mut self, payload: &[u8]) -> Result<(), UsageError> {
        self.send_control(OpCode::Pong, payload)
    }

    /// Start the closing handshake (§7.1.2): queue a Close with `code` and `reason`. Data
    /// still arrives until the peer's Close; nothing more can be sent.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), UsageError> {
        self.check_can_send()?;
        // RFC 6455 §7.4.1: 1005, 1006 and 1015 MUST NOT be set in a Close frame; other codes
        // outside the defined ranges are not for the wire either.
        if !code.is_allowed_on_wire() {
            return Err(UsageError::InvalidCloseCode(code.0));
        }
        // RFC 6455 §5.5: control payloads are at most 125 bytes, 2 of them the code.
        if reason.len() > MAX_REASON_LEN {
            return Err(UsageError::CloseReasonTooLong);
        }
        self.tx.encode_close(Some(code), reason);
        self.state = transition(self.state, CloseInput::SentClose);
        Ok(())
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), UsageError> {
        self.check_can_send()?;
        // RFC 6455 §5.5: all control frames MUST have a payload of 125 bytes or less.
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(UsageError::ControlPayloadTooLong);
        }
        self.check_room(payload.len())?;
        self.tx.encode_control(opcode, payload);
        Ok(())
    }

    /// RFC 6455 §5.5.1: after sending a Close, an endpoint MUST NOT send more data frames.
    pub(super) fn check_can_send(&self) -> Result<(), UsageError> {
        match self.state {
            CloseState::Open => Ok(()),
            CloseState::Closing => Err(UsageError::AlreadyClosing),
            CloseState::Closed => Err(UsageError::Closed),
        }
    }

    /// One frame always fits in an empty output buffer; beyond that, the limit applies.
    pub(super) fn check_room(&self, payload_len: usize) -> Result<(), UsageError> {
        let pending = self.tx.pending();
        if pending > 0 && pending + MAX_HEADER_LEN + payload_len > self.limits.max_output_buffer {
            return Err(UsageError::OutputBufferFull);
        }
        Ok(())
    }
}

/// At least as many bytes as a sync-flushed DEFLATE stream can take for `len` bytes of input:
/// stored blocks of at most 65,535 bytes cost 5 bytes each, and the flush adds a few more (the
/// bound only decides how long a length field to leave room for).
fn compressed_bound(len: usize) -> usize {
    len.saturating_add(len / 8).saturating_add(64)
}

impl Transmitter {
    /// Bytes waiting to be written.
    pub(super) fn pending(&self) -> usize {
        self.buf.len() - self.start + self.attached_pending()
    }

    pub(super) fn consume(&mut self, n: usize) {
        let n = self.consume_attached(n);
        self.start = (self.start + n).min(self.buf.len());
        if self.start == self.buf.len() && self.attached.is_none() {
            // Everything written: reuse the buffer from the front, and give memory back after
            // a large message (see `shrink`).
            let used = std::mem::take(&mut self.high_water).max(self.buf.len());
            self.buf.clear();
            self.start = 0;
            self.shrink_output.vec_after_use(&mut self.buf, used);
        }
    }

    /// Append a piece of a message as frames of at most `max_frame` payload bytes (§5.4), so a
    /// long message reaches a peer whose frame limit is lower than the message. Only the first
    /// frame carries `opcode` and `rsv`; the rest are continuations, and only the last may
    /// carry `fin`.
    pub(super) fn encode_split(&mut self, fin: bool, opcode: OpCode, rsv: u8, payload: &[u8], max_frame: usize) {
        if payload.len() <= max_frame {
            self.encode(fin, opcode, rsv, payload);
            return;
        }
        let mut pieces = payload.chunks(max_frame).peekable();
        let (mut opcode, mut rsv) = (opcode, rsv);
        while let Some(piece) = pieces.next() {
            self.encode(fin && pieces.peek().is_none(), opcode, rsv, piece);
            (opcode, rsv) = (OpCode::Continuation, 0);
        }
    }

    /// Compress a piece of a message (RFC 7692 §7.2.1) and append it as frames of at most
    /// `max_frame` bytes; the first frame of the message carries RSV1 (§6).
    pub(super) fn encode_compressed(
        &mut self,
        fin: bool,
        opcode: OpCode,
        data: &[u8],
        max_frame: usize,
    ) -> Result<(), UsageError> {
        if compressed_bound(data.len()) <= max_frame {
            return self.encode_compressed_in_place(fin, opcode, data);
        }
        // It may need more than one frame: compress into scratch space, then split.
        let Some(deflater) = self.deflater.as_mut() else { return Err(UsageError::CompressionFailed) };
        let mut compressed = std::mem::take(&mut self.scratch);
        compressed.clear();
        let result = deflater.compress(data, fin, &mut compressed).map_err(|_| UsageError::CompressionFailed);
        if result.is_ok() {
            let rsv = if opcode == OpCode::Continuation { 0 } else { RSV1 };
            self.encode_split(fin, opcode, rsv, &compressed, max_frame);
        }
        let used = compressed.len();
        compressed.clear();
        self.shrink_scratch.vec_after_use(&mut compressed, used);
        self.scratch = compressed;
        result
    }

    /// [`Self::encode_compressed`] when the output is sure to fit in one frame. The compressed
    /// bytes go straight into the output buffer, behind room for the header: their length is
    /// known only afterwards, so the room is what the longest possible output needs
    /// (`compressed_bound`), and the header is written into it at the end. Only when the output
    /// turns out to need a shorter length field (RFC 6455 §5.2: the minimal encoding is a MUST)
    /// is the payload moved down by the difference. No scratch space, no copy of the payload.
    fn encode_compressed_in_place(&mut self, fin: bool, opcode: OpCode, data: &[u8]) -> Result<(), UsageError> {
        if self.deflater.is_none() {
            return Err(UsageError::CompressionFailed);
        }
        self.reclaim_written();
        let masking_key = match self.role {
            Role::Client => Some(self.keys.next_key()),
            Role::Server => None,
        };
        let rsv = if opcode == OpCode::Continuation { 0 } else { RSV1 };
        let header_for =
            |payload_len: usize| FrameHeader { fin, rsv, opcode, masking_key, payload_len: payload_len as u64 };
        let at = self.buf.len();
        let mut bytes = [0u8; MAX_HEADER_LEN];
        let reserved = header_for(compressed_bound(data.len())).write(&mut bytes);
        self.buf.resize(at + reserved, 0);
        let Some(deflater) = self.deflater.as_mut() else { return Err(UsageError::CompressionFailed) };
        if deflater.compress(data, fin, &mut self.buf).is_err() {
            self.buf.truncate(at);
            return Err(UsageError::CompressionFailed);
        }
        let payload_len = self.buf.len() - at - reserved;
        let header_len = header_for(payload_len).write(&mut bytes);
        if header_len < reserved {
            self.buf.copy_within(at + reserved.., at + header_len);
            self.buf.truncate(at + header_len + payload_len);
        } else if header_len > reserved {
            // The bound was exceeded (it is not): make room rather than write a wrong frame.
            let extra = header_len - reserved;
            self.buf.resize(self.buf.len() + extra, 0);
            self.buf.copy_within(at + reserved..at + reserved + payload_len, at + header_len);
        }
        self.buf[at..at + header_len].copy_from_slice(&bytes[..header_len]);
        if let Some(key) = masking_key {
            apply_mask(&mut self.buf[at + header_len..], key, 0);
        }
        if let Some(tap) = self.tap.as_mut() {
            tap.sent_wire(&header_for(payload_len), &self.buf[at + header_len..], true);
        }
        self.high_water = self.high_water.max(self.buf.len());
        Ok(())
    }

    /// Append one frame, masked with a fresh key when this side is a client (§5.3).
    pub(super) fn encode(&mut self, fin: bool, opcode: OpCode, rsv: u8, payload: &[u8]) {
        self.reclaim_written();
        let masking_key = match self.role {
            Role::Client => Some(self.keys.next_key()),
            Role::Server => None,
        };
        encode_frame(&mut self.buf, fin, rsv, opcode, payload, masking_key);
        if let Some(tap) = self.tap.as_mut() {
            let header = FrameHeader { fin, rsv, opcode, masking_key, payload_len: payload.len() as u64 };
            tap.sent_plain(&header, payload, self.deflater.is_some());
        }
        self.high_water = self.high_water.max(self.buf.len());
    }

    /// Reclaim the written prefix once it is the larger part of the buffer, so a caller that
    /// writes in small pieces does not make the buffer grow without bound.
    pub(super) fn reclaim_written(&mut self) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.shift_attached(self.start);
            self.start = 0;
        }
    }

    pub(super) fn encode_control(&mut self, opcode: OpCode, payload: &[u8]) {
        self.encode(true, opcode, 0, payload);
    }

    /// Queue a Close frame (§5.5.1). The caller has checked the code and reason.
    pub(super) fn encode_close(&mut self, code: Option<CloseCode>, reason: &str) {
        let (payload, len) = close_payload(code, reason);
        self.encode_control(OpCode::Close, &payload[..len]);
    }
}
