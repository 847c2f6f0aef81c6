//! Receiving: bytes from the peer become [`Event`]s (RFC 6455 §5.1-§5.6, §7, §8.1).
//!
//! Follow one frame: [`Connection::receive`] copies bytes into the input buffer;
//! [`Connection::next_event`] asks the [`FrameDecoder`] for a step. A header is checked against
//! the role and the limits (`check_header`); each payload piece is unmasked in place by the
//! decoder, then `on_payload` validates text as it arrives and either buffers the piece or,
//! when a whole single-frame message is already in the input, hands it out without a copy.
//! Control frames collect in a 125-byte array and are answered here (`on_control_frame`).
//!
//! Large frames skip the input buffer. Once a header announces more payload than the input
//! buffer is worth staging (`DIRECT_READ_MIN`), [`Connection::read_buf`] offers room in the
//! message buffer instead, sized to the rest of the frame: the I/O layer reads the payload
//! straight to where the message is handed out from, and it is unmasked and its text checked
//! there (`on_direct_payload`). The input buffer stays small, so an idle connection holds no
//! more memory than before. Payload that did arrive in the input buffer is unmasked while it is
//! copied into the message buffer, not unmasked in place and then copied.

use super::{CloseInput, CloseState, Connection, Failure, INITIAL_INPUT_CAPACITY, fail_with, transition};
use crate::close::parse_close_payload;
use crate::config::{Delivery, Role};
use crate::error::{Error, ProtocolError, UsageError};
use crate::event::Event;
use crate::frame::decoder::{Step, Unmask};
use crate::frame::{FrameHeader, OpCode, RSV1};
use crate::message::MessageKind;

/// Below this many payload bytes still to come, a frame is read through the input buffer (one
/// read then also brings the frames behind it); from it up, straight into the message buffer.
const DIRECT_READ_MIN: usize = 4 << 10;

/// What is ready to be handed out, without borrowing: [`Connection::next_event`] turns it into
/// an [`Event`] that borrows the right buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ready {
    /// A whole message, in the input buffer at `range` (one frame, arrived whole) or in the
    /// message buffer (`range` is `None`).
    Message(MessageKind, Option<std::ops::Range<usize>>),
    /// A piece of a message (streaming delivery), in the input buffer at `range`, or in the
    /// message buffer (`None`: inflated from a compressed message); and whether it is the last.
    Fragment(MessageKind, Option<std::ops::Range<usize>>, bool),
    /// A Ping, payload in the control buffer.
    Ping,
    /// A Pong, payload in the control buffer.
    Pong,
    /// A Close, payload (already checked) in the control buffer.
    Close,
}

impl Connection {
    /// The largest message this connection receives: [`crate::Limits::max_message_size`] when
    /// messages are buffered whole, [`crate::Limits::max_stream_size`] when they stream (nothing
    /// is buffered, so the memory bound does not apply).
    fn message_limit(&self) -> u64 {
        match self.delivery {
            Delivery::Messages => self.limits.max_message_size as u64,
            Delivery::Streaming => self.limits.max_stream_size,
        }
    }

    /// Hand received bytes to the connection. They are decoded by [`Self::next_event`].
    ///
    /// Fails with [`UsageError::InputBufferFull`] (taking none of `bytes`) when the undecoded
    /// input would exceed [`crate::Limits::max_input_buffer`]: pull events first. Bytes that
    /// arrive after the connection closed are dropped.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<(), UsageError> {
        if self.state == CloseState::Closed {
            return Ok(());
        }
        self.rx.direct_offered = None;
        self.rx.last_message = None;
        let undecoded = self.rx.end - self.rx.start;
        if undecoded + bytes.len() > self.limits.max_input_buffer {
            return Err(UsageError::InputBufferFull);
        }
        self.make_room(bytes.len());
        self.rx.buf[self.rx.end..self.rx.end + bytes.len()].copy_from_slice(bytes);
        self.rx.end += bytes.len();
        self.rx.high_water = self.rx.high_water.max(self.rx.end);
        Ok(())
    }

    /// Space to read into directly, for zero-copy I/O: read into it, then call
    /// [`Self::commit`] with the count. Empty when [`crate::Limits::max_input_buffer`] bytes are
    /// waiting to be decoded.
    ///
    /// Its size follows what is arriving. Between frames and for small frames it is the
    /// input buffer's free space (8 KiB to start with). Once a frame header has announced a
    /// large payload (whole-message delivery, not compressed), it is room in the message buffer
    /// of at most the rest of that frame's payload: read into it and the payload lands where the
    /// message will be handed out from, with no copy. Because it never reaches past the frame,
    /// the next header is read through the input buffer again. An I/O layer should ask for
    /// `read_buf` before every read and read at most its length (one read per call).
    pub fn read_buf(&mut self) -> &mut [u8] {
        self.rx.last_message = None;
        if let Some(want) = self.direct_read_len() {
            let spare = self.rx.message.spare(want);
            self.rx.direct_offered = Some(spare.len());
            return spare;
        }
        self.rx.direct_offered = None;
        let undecoded = self.rx.end - self.rx.start;
        let want = INITIAL_INPUT_CAPACITY.max(self.rx.buf.len()).min(self.limits.max_input_buffer);
        self.make_room(want.saturating_sub(undecoded));
        &mut self.rx.buf[self.rx.end..]
    }

    /// Record that `n` bytes were read into [`Self::read_buf`].
    pub fn commit(&mut self, n: usize) {
        if self.state == CloseState::Closed {
            return;
        }
        if let Some(offered) = self.rx.direct_offered.take() {
            // Decoded by the next `next_event`, which can fail the connection.
            self.rx.direct_pending += n.min(offered);
            return;
        }
        self.rx.end = (self.rx.end + n).min(self.rx.buf.len());
        self.rx.high_water = self.rx.high_water.max(self.rx.end);
    }

    /// Hand out the input buffer's memory while nothing received is waiting in it to be
    /// decoded, so an idle connection holds none: for an I/O layer that keeps many idle
    /// connections and lends one buffer to whichever of them is reading (see
    /// [`Self::give_input_buffer`]). `None` while undecoded bytes are held, or when there is no
    /// memory to hand out. The connection allocates a new buffer at its next
    /// [`Self::read_buf`] or [`Self::receive`] unless it is given one first.
    ///
    /// Ends the borrow [`Self::send_received`] relies on, as [`Self::read_buf`] does.
    pub fn take_input_buffer(&mut self) -> Option<Vec<u8>> {
        let rx = &mut self.rx;
        if rx.start != rx.end || rx.buf.capacity() == 0 {
            return None;
        }
        rx.last_message = None;
        rx.direct_offered = None;
        rx.start = 0;
        rx.end = 0;
        rx.high_water = 0;
        Some(std::mem::take(&mut rx.buf))
    }

    /// Give the connection memory for its input buffer: taken if it holds none (then `buf`'s
    /// contents are overwritten as bytes arrive), handed back otherwise. A buffer from
    /// [`Self::take_input_buffer`] (of this connection or another) is reused without zeroing.
    pub fn give_input_buffer(&mut self, mut buf: Vec<u8>) -> Result<(), Vec<u8>> {
        let rx = &mut self.rx;
        if rx.buf.capacity() != 0 || rx.start != rx.end {
            return Err(buf);
        }
        // Never more room than the limit allows, whatever the buffer held before.
        buf.truncate(self.limits.max_input_buffer);
        rx.buf = buf;
        Ok(())
    }

    /// One use of the message buffer ended, having needed `used` bytes: after large messages,
    /// give memory back (see `shrink`). The spare buffer an echo left in the output queue
    /// follows the same decision, so neither keeps a large message's memory for good.
    fn give_back_message_memory(&mut self, used: usize) {
        let capacity = self.rx.message.capacity().max(self.tx.spare.capacity());
        if let Some(target) = self.rx.shrink_message.after_use(capacity, used, 0) {
            self.rx.message.shrink_to(target);
            if self.tx.spare.capacity() > target {
                self.tx.spare.truncate(target);
                self.tx.spare.shrink_to(target);
            }
        }
    }

    /// How much of the current frame's payload to read straight into the message buffer, if
    /// the frame qualifies: a data frame of whole-message delivery, not compressed, with at
    /// least `DIRECT_READ_MIN` bytes to come and nothing undecoded in the input buffer.
    fn direct_read_len(&self) -> Option<usize> {
        let rx = &self.rx;
        let data_frame = matches!(rx.frame, Some((opcode, _, _)) if !opcode.is_control());
        let compressed = rx.inflater.is_some() && rx.message.is_compressed();
        if self.state == CloseState::Closed
            || self.failure.is_some()
            || self.delivery != Delivery::Messages
            || !data_frame
            || compressed
            || rx.release_message
            || rx.start != rx.end
            || rx.direct_pending > 0
        {
            return None;
        }
        let remaining = rx.decoder.payload_remaining()?;
        // Within the message limit, checked from the header: it fits in memory by then.
        let remaining = usize::try_from(remaining).ok()?;
        // With a small input limit, "large" is relative to it.
        let threshold = DIRECT_READ_MIN.min(self.limits.max_input_buffer / 2).max(1);
        (remaining >= threshold).then_some(remaining)
    }

    /// Tell the connection the peer closed its side of the transport (read returned 0).
    pub fn receive_eof(&mut self) {
        self.rx.eof = true;
    }

    /// Move undecoded bytes to the front and grow the buffer so `extra` more bytes fit.
    fn make_room(&mut self, extra: usize) {
        let rx = &mut self.rx;
        if rx.start == rx.end {
            // Everything received was decoded: one use of the input buffer ended.
            let used = std::mem::take(&mut rx.high_water);
            rx.start = 0;
            rx.end = 0;
            if let Some(target) = rx.shrink_input.after_use(rx.buf.capacity(), used, 0) {
                rx.buf.truncate(target);
                rx.buf.shrink_to(target);
            }
        }
        if rx.start > 0 {
            rx.buf.copy_within(rx.start..rx.end, 0);
            rx.end -= rx.start;
            rx.start = 0;
        }
        if rx.buf.len() < rx.end + extra {
            rx.buf.resize(rx.end + extra, 0);
        }
    }

    /// The next event, or `None` when more input is needed. Call it until it returns `None`
    /// after every [`Self::receive`], then write out [`Self::output`].
    ///
    /// An error is final: the connection failed (a Close with the error's code is queued,
    /// §7.1.7) or the transport ended without a closing handshake. Every later call returns it.
    pub fn next_event(&mut self) -> Result<Option<Event<'_>>, Error> {
        let Some(ready) = self.advance()? else { return Ok(None) };
        let event = match ready {
            Ready::Message(kind, range) => {
                self.rx.last_message = Some((kind, range.clone()));
                let bytes = match range {
                    Some(range) => &self.rx.buf[range],
                    None => self.rx.message.buffer(),
                };
                match kind {
                    MessageKind::Binary => Event::Binary(bytes),
                    // A text message that arrived whole is validated here, once (§8.1); one
                    // that arrived in pieces was validated piece by piece and passes again.
                    MessageKind::Text => match crate::utf8::validate_str(bytes) {
                        Some(text) => Event::Text(text),
                        None => {
                            fail_with(&mut self.tx, &mut self.state, &mut self.failure, ProtocolError::InvalidUtf8);
                            return Err(Error::Protocol(ProtocolError::InvalidUtf8));
                        }
                    },
                }
            }
            Ready::Fragment(kind, range, is_last) => {
                let data = match range {
                    Some(range) => &self.rx.buf[range],
                    None => self.rx.message.buffer(),
                };
                Event::Fragment { kind, data, is_last }
            }
            Ready::Ping => Event::Ping(&self.rx.control[..self.rx.control_len]),
            Ready::Pong => Event::Pong(&self.rx.control[..self.rx.control_len]),
            Ready::Close => {
                // Checked in `on_control_frame`; parsing again cannot fail.
                let parsed = parse_close_payload(&self.rx.control[..self.rx.control_len]).ok().flatten();
                match parsed {
                    Some((code, reason)) => Event::Close { code: Some(code), reason },
                    None => Event::Close { code: None, reason: "" },
                }
            }
        };
        Ok(Some(event))
    }

    /// Decode until something is ready to hand out.
    ///
    /// Two copies of the decoding loop: one that reports to the observer and one that has no
    /// trace of it, so a connection without an observer runs exactly the loop it would run if
    /// the frame log did not exist (a check in the loop, even an untaken one, changed how the
    /// compiler laid the loop out and cost about 10% on small messages).
    fn advance(&mut self) -> Result<Option<Ready>, Error> {
        if self.rx.tap.is_some() { self.advance_observed() } else { self.advance_with::<false>() }
    }

    /// [`Self::advance`] with an observer: frames are reported as they are decoded, and a
    /// message once it is ready.
    #[inline(never)]
    fn advance_observed(&mut self) -> Result<Option<Ready>, Error> {
        let ready = self.advance_with::<true>()?;
        let (data, streamed, ends) = match &ready {
            Some(Ready::Message(_, range)) => (range.clone(), false, true),
            Some(Ready::Fragment(_, range, is_last)) => (range.clone(), true, *is_last),
            _ => return Ok(ready),
        };
        let data = match data {
            Some(range) => &self.rx.buf[range],
            None => self.rx.message.buffer(),
        };
        if let Some(tap) = self.rx.tap.as_mut() {
            tap.received_message(data, streamed, ends);
        }
        Ok(ready)
    }

    /// The decoding loop; `OBSERVED` says whether it reports frames to the observer.
    #[inline(always)]
    fn advance_with<const OBSERVED: bool>(&mut self) -> Result<Option<Ready>, Error> {
        self.rx.last_message = None;
        if let Some(failure) = self.failure {
            return Err(failure.into());
        }
        if self.rx.release_message {
            let used = self.rx.message.buffer().len();
            self.rx.message.clear();
            self.give_back_message_memory(used);
            self.rx.release_message = false;
        }
        if self.rx.direct_pending > 0 {
            // Payload read straight into the message buffer is heard from the peer too.
            self.clock.heard = true;
            let len = std::mem::take(&mut self.rx.direct_pending);
            match self.on_direct_payload(len) {
                Ok(None) => {}
                Ok(Some(ready)) => return Ok(Some(ready)),
                Err(error) => return Err(self.fail(error)),
            }
        }
        loop {
            // Nothing is read after the closing handshake (§7.1.2, §5.5.1).
            if self.state == CloseState::Closed {
                return Ok(None);
            }
            // Back-pressure: stop decoding (and so stop queueing pongs) until output drains.
            if self.tx.pending() > self.limits.max_output_buffer {
                return Ok(None);
            }
            let step = self.rx.decoder.decode_masked(&self.rx.buf[self.rx.start..self.rx.end]);
            match step {
                Err(error) => return Err(self.fail(error)),
                Ok((Step::NeedMore, _)) => {
                    if self.rx.start == self.rx.end {
                        self.rx.discard_input();
                    }
                    if self.rx.eof {
                        // §7.1.5: the transport ended without a closing handshake (1006).
                        self.state = transition(self.state, CloseInput::Failed);
                        self.failure = Some(Failure::TransportEnded);
                        return Err(Error::ConnectionReset);
                    }
                    return Ok(None);
                }
                Ok((Step::Header { header, len }, _)) => {
                    if OBSERVED && let Some(tap) = self.rx.tap.as_mut() {
                        let raw = &self.rx.buf[self.rx.start..self.rx.start + len];
                        tap.received_header(raw, &header, self.rx.inflater.is_some());
                    }
                    self.rx.start += len;
                    self.clock.heard = true;
                    if let Err(error) = self.check_header(&header) {
                        if OBSERVED && let Some(tap) = self.rx.tap.as_mut() {
                            tap.flush();
                        }
                        return Err(self.fail(error));
                    }
                }
                Ok((Step::Payload { len, last }, unmask)) => {
                    self.clock.heard = true;
                    let range = self.rx.start..self.rx.start + len;
                    self.rx.start += len;
                    if OBSERVED && let Some(tap) = self.rx.tap.as_mut() {
                        tap.received_payload(&self.rx.buf[range.clone()], last);
                    }
                    match self.on_payload(range, last, unmask) {
                        Ok(None) => {}
                        Ok(Some(ready)) => return Ok(Some(ready)),
                        Err(error) => return Err(self.fail(error)),
                    }
                }
            }
        }
    }

    /// The checks a header needs that depend on the role, the extensions and the limits.
    fn check_header(&mut self, header: &FrameHeader) -> Result<(), ProtocolError> {
        // RFC 6455 §5.2: RSV1-3 MUST be 0 unless an extension defining them was negotiated.
        if header.rsv & !self.allowed_rsv_bits != 0 {
            return Err(ProtocolError::ReservedBitsSet);
        }
        // RFC 6455 §5.1: a server MUST close on an unmasked frame; a client MUST close on a
        // masked frame.
        match (self.role, header.masking_key) {
            (Role::Server, None) => return Err(ProtocolError::UnmaskedClientFrame),
            (Role::Client, Some(_)) => return Err(ProtocolError::MaskedServerFrame),
            _ => {}
        }
        // RFC 7692 §6: permessage-deflate marks a compressed message with RSV1 on its first
        // frame only; on a control or continuation frame it is an error.
        let first_data_frame = matches!(header.opcode, OpCode::Text | OpCode::Binary);
        if self.rx.inflater.is_some() && header.rsv & RSV1 != 0 && !first_data_frame {
            return Err(ProtocolError::ReservedBitsSet);
        }
        if header.opcode.is_control() {
            self.rx.control_len = 0;
        } else {
            if header.payload_len > self.limits.max_frame_size as u64 {
                return Err(ProtocolError::FrameTooLarge);
            }
            let starts = match header.opcode {
                OpCode::Text => Some(MessageKind::Text),
                OpCode::Binary => Some(MessageKind::Binary),
                _ => None,
            };
            self.rx.message.start_frame(starts, header.rsv)?;
            // Fail before the payload arrives: the size is known from the header. A compressed
            // message's limit is on its inflated size, checked as it inflates.
            let compressed = self.rx.inflater.is_some() && self.rx.message.is_compressed();
            if !compressed && self.rx.message.len() + header.payload_len > self.message_limit() {
                return Err(ProtocolError::MessageTooLarge);
            }
        }
        self.rx.frame = Some((header.opcode, header.fin, true));
        Ok(())
    }

    /// `len` payload bytes of the current frame were read into the message buffer's spare room
    /// (see [`Self::read_buf`]): unmask them there and check their text.
    fn on_direct_payload(&mut self, len: usize) -> Result<Option<Ready>, ProtocolError> {
        let rx = &mut self.rx;
        let (opcode, fin, _) = rx.frame.ok_or(ProtocolError::InternalError)?;
        // The room offered never reaches past the frame, so the decoder takes all of it.
        let (step, unmask) = rx.decoder.decode_masked(rx.message.spare_filled(len))?;
        let Step::Payload { len: taken, last } = step else { return Err(ProtocolError::InternalError) };
        if taken != len {
            return Err(ProtocolError::InternalError);
        }
        if let Some(tap) = rx.tap.as_mut() {
            tap.received_payload(rx.message.spare_filled(len), last);
        }
        rx.frame = if last { None } else { Some((opcode, fin, false)) };
        rx.message.commit_spare(len, unmask, last && fin)?;
        if last && fin {
            // Its text is validated whole by `next_event`, which makes the event's `&str`.
            let kind = rx.message.finish_checked_whole()?;
            rx.release_message = true;
            return Ok(Some(Ready::Message(kind, None)));
        }
        Ok(None)
    }

    /// A piece of the current frame's payload, still masked if `unmask` is set, at `range` in
    /// the input buffer.
    #[inline(always)]
    fn on_payload(
        &mut self,
        range: std::ops::Range<usize>,
        last: bool,
        unmask: Option<Unmask>,
    ) -> Result<Option<Ready>, ProtocolError> {
        let (opcode, fin, first_piece) = self.rx.frame.ok_or(ProtocolError::InternalError)?;
        self.rx.frame = if last { None } else { Some((opcode, fin, false)) };
        let message_ends = last && fin;
        let compressed = self.rx.inflater.is_some() && self.rx.message.is_compressed();
        // A piece bound for the message buffer is unmasked while it is copied there; every
        // other piece is read where it is, so it is unmasked in place.
        let whole_in_input = first_piece && message_ends && self.rx.message.is_empty();
        let copied = !opcode.is_control() && !compressed && self.delivery == Delivery::Messages && !whole_in_input;
        let unmask = match unmask {
            Some(unmask) if !copied => {
                unmask.apply(&mut self.rx.buf[range.clone()]);
                None
            }
            other => other,
        };

        if opcode.is_control() {
            let payload = &self.rx.buf[range];
            let at = self.rx.control_len;
            let slot = self.rx.control.get_mut(at..at + payload.len()).ok_or(ProtocolError::ControlFrameTooLong)?;
            slot.copy_from_slice(payload);
            self.rx.control_len += payload.len();
            return if last { self.on_control_frame(opcode).map(Some) } else { Ok(None) };
        }

        // The inflation bound, one below usize::MAX so that "limit + 1" cannot overflow.
        let max = usize::try_from(self.message_limit()).unwrap_or(usize::MAX).min(usize::MAX - 1);
        let payload = &self.rx.buf[range.clone()];
        if let Some(inflater) = self.rx.inflater.as_mut().filter(|_| self.rx.message.is_compressed()) {
            // A compressed message (RFC 7692 §7.2.2) is inflated into the message buffer; in
            // streaming delivery each piece hands out what it inflated to.
            let keep = self.delivery == Delivery::Messages;
            let kind = self.rx.message.in_progress().ok_or(ProtocolError::InternalError)?;
            self.rx.message.push_compressed(inflater, payload, message_ends, keep, max)?;
            if message_ends {
                self.rx.message.finish()?;
            } else if keep || self.rx.message.buffer().is_empty() {
                return Ok(None);
            }
            self.rx.release_message = true;
            return Ok(Some(match self.delivery {
                Delivery::Messages => Ready::Message(kind, None),
                Delivery::Streaming => Ready::Fragment(kind, None, message_ends),
            }));
        }
        match self.delivery {
            Delivery::Messages => {
                // A whole message in one frame that arrived whole: hand it out from the input
                // buffer, no copy. `next_event` validates its text in one pass.
                if whole_in_input {
                    // One use of the message buffer that needed none of it.
                    self.give_back_message_memory(0);
                    let kind = self.rx.message.finish_unvalidated()?;
                    return Ok(Some(Ready::Message(kind, Some(range))));
                }
                match unmask {
                    Some(unmask) => self.rx.message.push_masked(payload, unmask, message_ends)?,
                    None => self.rx.message.push(payload, true)?,
                }
                if message_ends {
                    // Text is validated whole by `next_event` (unchecked above if it was masked).
                    let kind = if unmask.is_some() {
                        self.rx.message.finish_checked_whole()?
                    } else {
                        self.rx.message.finish()?
                    };
                    self.rx.release_message = true;
                    return Ok(Some(Ready::Message(kind, None)));
                }
                Ok(None)
            }
            Delivery::Streaming => {
                let kind = self.rx.message.in_progress().ok_or(ProtocolError::InternalError)?;
                self.rx.message.push(payload, false)?;
                if message_ends {
                    self.rx.message.finish()?;
                } else if range.is_empty() {
                    return Ok(None);
                }
                Ok(Some(Ready::Fragment(kind, Some(range), message_ends)))
            }
        }
    }

    /// A whole control frame is in the control buffer (§5.5).
    fn on_control_frame(&mut self, opcode: OpCode) -> Result<Ready, ProtocolError> {
        let payload = &self.rx.control[..self.rx.control_len];
        match opcode {
            OpCode::Ping => {
                // RFC 6455 §5.5.2: a Ping MUST be answered with a Pong carrying the same
                // payload "unless it already received a Close frame" (then the state is Closed
                // and nothing is read). Having sent a Close is no exemption: a Pong is a control
                // frame, which §5.5.1 allows after a Close.
                if self.auto_pong && self.state != CloseState::Closed {
                    self.tx.encode_control(OpCode::Pong, payload);
                }
                Ok(Ready::Ping)
            }
            OpCode::Pong => Ok(Ready::Pong),
            OpCode::Close => {
                let code = parse_close_payload(payload)?.map(|(code, _)| code);
                // RFC 6455 §5.5.1: an endpoint that receives a Close and has not sent one
                // MUST send a Close in response; it echoes the status code it received.
                if self.state == CloseState::Open {
                    self.tx.encode_close(code, "");
                }
                self.state = transition(self.state, CloseInput::ReceivedClose);
                Ok(Ready::Close)
            }
            _ => Err(ProtocolError::InternalError),
        }
    }
}
