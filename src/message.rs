//! Message assembly (RFC 6455 §5.4, §5.6): fragments in, one message out.
//!
//! A message is one frame with FIN set, or a Text/Binary frame with FIN clear followed by
//! Continuation frames, the last with FIN set. Control frames may come between fragments
//! (§5.4) and are handled by the connection without touching this state. Text is validated
//! as its bytes arrive (§8.1), so invalid UTF-8 fails the connection at the first bad byte.
//!
//! The assembler keeps one buffer for the whole life of the connection; it is cleared, not
//! freed, between messages. A large frame's payload can be read straight into it
//! ([`MessageAssembler::spare`], then [`MessageAssembler::commit_spare`]), unmasked where it
//! landed and its text checked while the bytes are still in cache; payload that went through
//! the connection's input buffer is unmasked while it is copied in.
//!
//! The buffer's bytes past the message (`filled`) stay initialized from earlier messages, so
//! offering room to read into costs nothing once the buffer has grown: safe code must write
//! every byte of a `Vec` before it can be read into, and doing that per message would be one
//! more pass over the payload.

use crate::error::ProtocolError;
use crate::extensions::compression::Inflater;
use crate::frame::decoder::Unmask;
use crate::utf8::Utf8Validator;

/// The least [`MessageAssembler::spare`] grows the buffer by, when a frame needs it to grow.
const MIN_GROWTH: usize = 64 << 10;

/// Whether a message is text or binary (the opcode of its first frame, §5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text (opcode 0x1).
    Text,
    /// Arbitrary bytes (opcode 0x2).
    Binary,
}

/// The message being received.
#[derive(Debug, Default)]
#[doc(hidden)]
pub struct MessageAssembler {
    /// The kind of the message in progress, `None` between messages.
    kind: Option<MessageKind>,
    /// RSV bits of the message's first frame, for an extension to interpret (§5.2, §9).
    first_frame_rsv: u8,
    /// Payload received so far (whole-message delivery only) in `buffer[..filled]`; the bytes
    /// after it are left over from earlier messages, initialized room to read into.
    buffer: Vec<u8>,
    filled: usize,
    /// Bytes of payload received so far, buffered or not.
    len: u64,
    utf8: Utf8Validator,
    /// Whether any compressed payload byte arrived in this message (permessage-deflate).
    compressed_seen: bool,
}

impl MessageAssembler {
    /// The kind of the message in progress, if any.
    pub fn in_progress(&self) -> Option<MessageKind> {
        self.kind
    }

    /// RSV bits of the first frame of the message in progress.
    pub fn first_frame_rsv(&self) -> u8 {
        self.first_frame_rsv
    }

    /// Bytes of payload received so far in this message.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no payload has been received in this message yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Account for a data frame's header (§5.4): a Text or Binary frame (`Some(kind)`) starts a
    /// message, a Continuation frame (`None`) continues one.
    pub fn start_frame(&mut self, starts: Option<MessageKind>, rsv: u8) -> Result<(), ProtocolError> {
        match (starts, self.kind) {
            // RFC 6455 §5.4: fragments of one message MUST NOT be interleaved with another
            // message's frames: a new data frame inside a message is an error.
            (Some(_), Some(_)) => Err(ProtocolError::ExpectedContinuation),
            // A continuation with nothing to continue.
            (None, None) => Err(ProtocolError::UnexpectedContinuation),
            (Some(kind), None) => {
                self.kind = Some(kind);
                self.first_frame_rsv = rsv;
                self.compressed_seen = false;
                Ok(())
            }
            (None, Some(_)) => Ok(()),
        }
    }

    /// Check a piece of payload that has arrived: UTF-8 for text (§8.1, fail-fast). When
    /// `keep` is set the piece is appended to the message buffer.
    pub fn push(&mut self, payload: &[u8], keep: bool) -> Result<(), ProtocolError> {
        if self.kind == Some(MessageKind::Text) {
            self.utf8.feed(payload).map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        self.len += payload.len() as u64;
        if keep {
            self.append(payload.len(), |dst| dst.copy_from_slice(payload));
        }
        Ok(())
    }

    /// Append a piece of payload that is still masked, unmasking it while it is copied (one
    /// pass), then check its text over the bytes just written (still in cache, §8.1), unless
    /// the piece `ends_message` (see [`Self::finish_checked_whole`]).
    pub fn push_masked(&mut self, payload: &[u8], unmask: Unmask, ends_message: bool) -> Result<(), ProtocolError> {
        let start = self.filled;
        self.append(payload.len(), |dst| unmask.copy(dst, payload));
        self.check_text(start, ends_message)
    }

    /// Write `len` bytes after the message with `write`, growing the buffer if needed.
    fn append(&mut self, len: usize, write: impl FnOnce(&mut [u8])) {
        let end = self.filled + len;
        if self.buffer.len() < end {
            self.buffer.resize(end, 0);
        }
        write(&mut self.buffer[self.filled..end]);
        self.filled = end;
    }

    /// Room right after the message to read up to `want` payload bytes into: at least one
    /// byte (for `want > 0`), and never more than the buffer already holds plus as much again
    /// (at least 64 KiB), so a peer that announces a large frame and sends little makes the
    /// buffer grow only with what it sends. Fill a prefix of it, then call
    /// [`Self::commit_spare`].
    pub fn spare(&mut self, want: usize) -> &mut [u8] {
        let room = self.buffer.len() - self.filled;
        let grow_to = self.filled + self.filled.max(MIN_GROWTH);
        let len = if want <= room { want } else { want.min(room.max(grow_to - self.filled)) };
        if self.buffer.len() < self.filled + len {
            self.buffer.resize(self.filled + len, 0);
        }
        &mut self.buffer[self.filled..self.filled + len]
    }

    /// The first `len` bytes of [`Self::spare`], as counted before they are committed.
    pub fn spare_filled(&self, len: usize) -> &[u8] {
        let end = (self.filled + len).min(self.buffer.len());
        &self.buffer[self.filled..end]
    }

    /// `len` bytes were read into [`Self::spare`]: unmask them there, check their text (§8.1)
    /// unless they `end_message` (see [`Self::finish_checked_whole`]), and make them part of
    /// the message.
    pub fn commit_spare(
        &mut self,
        len: usize,
        unmask: Option<Unmask>,
        ends_message: bool,
    ) -> Result<(), ProtocolError> {
        let start = self.filled;
        let end = (start + len).min(self.buffer.len());
        if let Some(unmask) = unmask {
            unmask.apply(&mut self.buffer[start..end]);
        }
        self.filled = end;
        self.check_text(start, ends_message)
    }

    /// Count the bytes from `start` to the end of the message as received, checking them as
    /// text if the message is text. The piece that ends a buffered message is not checked
    /// here: the whole message is validated once more when it is handed out as a `&str`, and
    /// that pass finds an error in the last piece just as soon (in the same `next_event`), so
    /// checking it here too would only read it twice.
    fn check_text(&mut self, start: usize, ends_message: bool) -> Result<(), ProtocolError> {
        let new = &self.buffer[start..self.filled];
        if self.kind == Some(MessageKind::Text) && !ends_message {
            self.utf8.feed(new).map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        self.len += new.len() as u64;
        Ok(())
    }

    /// Inflate a piece of a compressed message (permessage-deflate, RFC 7692 §7.2.2) into the
    /// message buffer and check the new text as it appears. With `keep` unset (streaming
    /// delivery) the buffer holds only this piece's output. The message, inflated, may not
    /// exceed `max_message_size`: inflation stops there (1009).
    pub fn push_compressed(
        &mut self,
        inflater: &mut Inflater,
        payload: &[u8],
        message_ends: bool,
        keep: bool,
        max_message_size: usize,
    ) -> Result<(), ProtocolError> {
        if !keep {
            self.filled = 0;
        }
        // The inflater appends to the `Vec`: the room past the message is given up here.
        self.buffer.truncate(self.filled);
        let start = self.buffer.len();
        let limit = max_message_size.saturating_sub(self.len as usize);
        inflater.inflate(payload, &mut self.buffer, limit)?;
        self.compressed_seen |= !payload.is_empty();
        // A compressed message with no payload at all can only be empty. Appending the sync
        // tail to nothing would leave the inflater inside a stored block (see
        // `Deflater::compress`), so skip it; the context is unchanged either way.
        if message_ends && self.compressed_seen {
            let limit = limit.saturating_sub(self.buffer.len() - start);
            inflater.finish_message(&mut self.buffer, limit)?;
        }
        self.filled = self.buffer.len();
        // Streaming delivery hands out inflated pieces as they come: each is checked here.
        self.check_text(start, false)
    }

    /// Whether the message in progress is compressed (RSV1 on its first frame, RFC 7692 §6).
    pub fn is_compressed(&self) -> bool {
        self.first_frame_rsv & crate::frame::RSV1 != 0
    }

    /// The last fragment has arrived: the message is complete. Text must end on a code point
    /// boundary (§8.1). Returns its kind; the buffer stays readable until [`Self::clear`].
    pub fn finish(&mut self) -> Result<MessageKind, ProtocolError> {
        if self.kind == Some(MessageKind::Text) && !self.utf8.is_complete() {
            return Err(ProtocolError::InvalidUtf8);
        }
        self.finish_unvalidated()
    }

    /// Complete a buffered message whose last piece was pushed with `ends_message` set: its
    /// text is validated whole by the caller when it is handed out (RFC 6455 §8.1), so the
    /// incremental check (which stopped before the last piece) is not asked to be complete.
    pub fn finish_checked_whole(&mut self) -> Result<MessageKind, ProtocolError> {
        self.finish_unvalidated()
    }

    /// Complete a single-frame message whose payload the caller validates itself (it arrived
    /// whole, so one pass over it suffices and fail-fast gains nothing).
    pub fn finish_unvalidated(&mut self) -> Result<MessageKind, ProtocolError> {
        let kind = self.kind.take().ok_or(ProtocolError::UnexpectedContinuation)?;
        self.utf8.reset();
        self.len = 0;
        Ok(kind)
    }

    /// The buffered payload of the message just finished.
    pub fn buffer(&self) -> &[u8] {
        &self.buffer[..self.filled]
    }

    /// Hand over the finished message's buffer (the message is `[..len]` of it) and continue
    /// with `replacement`, a buffer handed back earlier (or a new one).
    pub fn take_buffer(&mut self, replacement: Vec<u8>) -> (Vec<u8>, usize) {
        let len = std::mem::replace(&mut self.filled, 0);
        (std::mem::replace(&mut self.buffer, replacement), len)
    }

    /// Drop the finished message's bytes, keeping the allocation (and its initialized bytes)
    /// for the next one.
    pub fn clear(&mut self) {
        self.filled = 0;
    }

    /// Give memory back: hold at most `capacity` bytes (never less than the message).
    pub(crate) fn shrink_to(&mut self, capacity: usize) {
        let capacity = capacity.max(self.filled);
        self.buffer.truncate(capacity);
        self.buffer.shrink_to(capacity);
    }

    /// Heap bytes held by the assembler.
    pub fn capacity(&self) -> usize {
        self.buffer.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s5_4_continuation_without_start_fails_with_1002() {
        let mut m = MessageAssembler::default();
        let err = m.start_frame(None, 0).unwrap_err();
        assert_eq!(err, ProtocolError::UnexpectedContinuation);
        assert_eq!(err.close_code().0, 1002);
    }

    #[test]
    fn s5_4_new_message_inside_fragmented_message_fails_with_1002() {
        let mut m = MessageAssembler::default();
        m.start_frame(Some(MessageKind::Text), 0).unwrap();
        assert_eq!(m.start_frame(Some(MessageKind::Binary), 0), Err(ProtocolError::ExpectedContinuation));
    }

    #[test]
    fn s8_1_text_split_inside_a_code_point_across_fragments() {
        let mut m = MessageAssembler::default();
        let bytes = "κόσμε".as_bytes();
        m.start_frame(Some(MessageKind::Text), 0).unwrap();
        m.push(&bytes[..1], true).unwrap();
        m.start_frame(None, 0).unwrap();
        m.push(&bytes[1..], true).unwrap();
        assert_eq!(m.finish(), Ok(MessageKind::Text));
        assert_eq!(m.buffer(), bytes);
    }

    #[test]
    fn s8_1_text_ending_inside_a_code_point_fails_with_1007() {
        let mut m = MessageAssembler::default();
        m.start_frame(Some(MessageKind::Text), 0).unwrap();
        m.push(&"κ".as_bytes()[..1], true).unwrap();
        let err = m.finish().unwrap_err();
        assert_eq!(err.close_code().0, 1007);
    }
}
