//! Reporting frames to an [`Observer`] (see [`crate::observe`]): the per-direction counters
//! that number frames and messages (RFC 6455 §5.4), and the received frame whose payload
//! preview is still arriving.
//!
//! A connection without an observer has no tap (`None`): each frame costs it one branch.

use std::sync::Arc;

use crate::frame::{FrameHeader, MAX_HEADER_LEN, OpCode, RSV1};
use crate::message::MessageKind;
use crate::observe::{Direction, FrameRecord, MessageRecord, Observer, PREVIEW_LEN};

/// One direction's numbering and the message in progress.
#[derive(Clone)]
pub(super) struct Tap {
    observer: Arc<dyn Observer>,
    direction: Direction,
    /// Frames seen so far.
    frames: u64,
    /// Data messages started so far (the current one's number).
    messages: u64,
    /// The current message: compressed or not, frames and payload bytes on the wire so far,
    /// and its length as the application sees it (counted as it is sent, or as streamed pieces
    /// are received; reset once the message is reported).
    compressed: bool,
    kind: MessageKind,
    message_frames: u64,
    wire_len: u64,
    data_len: u64,
    /// The message's first bytes as the application sees them (inflated).
    data_preview: [u8; PREVIEW_LEN],
    data_preview_len: usize,
    /// A received frame whose preview is not full yet.
    pending: Option<FrameRecord>,
}

impl std::fmt::Debug for Tap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tap").field("direction", &self.direction).field("frames", &self.frames).finish()
    }
}

impl Tap {
    pub(super) fn new(observer: Arc<dyn Observer>, direction: Direction) -> Box<Tap> {
        Box::new(Tap {
            observer,
            direction,
            frames: 0,
            messages: 0,
            compressed: false,
            kind: MessageKind::Binary,
            message_frames: 0,
            wire_len: 0,
            data_len: 0,
            data_preview: [0; PREVIEW_LEN],
            data_preview_len: 0,
            pending: None,
        })
    }

    /// Number a frame, start a message on a Text or Binary frame (compressed when RSV1 is set
    /// and `deflate` was negotiated, RFC 7692 §6), and build its record.
    fn record(&mut self, raw: &[u8], header: &FrameHeader, deflate: bool) -> FrameRecord {
        self.frames += 1;
        let message = match header.opcode {
            OpCode::Text | OpCode::Binary => {
                self.messages += 1;
                self.kind = if header.opcode == OpCode::Text { MessageKind::Text } else { MessageKind::Binary };
                self.compressed = deflate && header.rsv & RSV1 != 0;
                self.message_frames = 0;
                self.wire_len = 0;
                Some(self.messages)
            }
            OpCode::Continuation => Some(self.messages),
            _ => None,
        };
        let mut record = FrameRecord::new(self.direction, self.frames, message, raw, header);
        if message.is_some() {
            self.message_frames += 1;
            self.wire_len = self.wire_len.saturating_add(header.payload_len);
            record.compressed = self.compressed;
        }
        record
    }

    /// A received header (`raw` its bytes): reported once the preview has its payload bytes.
    pub(super) fn received_header(&mut self, raw: &[u8], header: &FrameHeader, deflate: bool) {
        self.flush();
        let record = self.record(raw, header, deflate);
        if record.preview_full() {
            self.observer.frame(&record);
        } else {
            self.pending = Some(record);
        }
    }

    /// Payload bytes of the received frame, as they arrived (still masked).
    pub(super) fn received_payload(&mut self, wire: &[u8]) {
        if let Some(record) = self.pending.as_mut() {
            record.push_wire(wire);
            if record.preview_full() {
                self.flush();
            }
        }
    }

    /// Report the pending received frame with the preview it has (the connection is about to
    /// act on it, or failed).
    pub(super) fn flush(&mut self) {
        if let Some(record) = self.pending.take() {
            self.observer.frame(&record);
        }
    }

    /// A received message was handed out, or a piece of it when `streamed` (`ends` on the
    /// last).
    pub(super) fn received_message(&mut self, data: &[u8], streamed: bool, ends: bool) {
        if !streamed {
            self.data_len = 0;
            self.data_preview_len = 0;
        }
        self.count_data(data);
        if ends {
            self.report_message();
        }
    }

    /// The application's bytes of the message being sent (before compression).
    pub(super) fn sending(&mut self, data: &[u8]) {
        self.count_data(data);
    }

    /// Count the application's bytes of the current message, keeping the first ones.
    fn count_data(&mut self, data: &[u8]) {
        self.data_len = self.data_len.saturating_add(data.len() as u64);
        let at = self.data_preview_len;
        let take = (PREVIEW_LEN - at).min(data.len());
        self.data_preview[at..at + take].copy_from_slice(&data[..take]);
        self.data_preview_len += take;
    }

    /// A frame was queued; `payload` is its payload unmasked, or its first bytes.
    pub(super) fn sent_plain(&mut self, header: &FrameHeader, payload: &[u8], deflate: bool) {
        let mut raw = [0u8; MAX_HEADER_LEN];
        let len = header.write(&mut raw);
        let mut record = self.record(&raw[..len], header, deflate);
        record.push_plain(payload);
        self.sent(record);
    }

    /// A frame was queued; `wire` is its payload as on the wire (masked by a client), or its
    /// first bytes.
    pub(super) fn sent_wire(&mut self, header: &FrameHeader, wire: &[u8], deflate: bool) {
        let mut raw = [0u8; MAX_HEADER_LEN];
        let len = header.write(&mut raw);
        let mut record = self.record(&raw[..len], header, deflate);
        record.push_wire(wire);
        self.sent(record);
    }

    fn sent(&mut self, record: FrameRecord) {
        self.observer.frame(&record);
        // A data message is done with its last frame; `data_len` was counted as it was sent.
        if record.fin && record.message.is_some() {
            self.report_message();
        }
    }

    fn report_message(&mut self) {
        let record = MessageRecord {
            direction: self.direction,
            message: self.messages,
            kind: self.kind,
            frames: self.message_frames,
            wire_len: self.wire_len,
            len: self.data_len,
            compressed: self.compressed,
            preview: self.data_preview,
            preview_len: self.data_preview_len as u8,
        };
        self.observer.message(&record);
        self.data_len = 0;
        self.data_preview_len = 0;
    }
}
