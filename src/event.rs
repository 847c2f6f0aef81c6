//! What a connection hands to its application: messages, pieces of messages, and control
//! frames (RFC 6455 §5.4-§5.6).
//!
//! Events borrow the connection's own buffers, so delivering a message copies nothing and
//! allocates nothing. Convert to [`crate::Message`] (owned) when an event must outlive the
//! next call into the connection.

use crate::close::CloseCode;
use crate::message::MessageKind;

/// One thing that happened on the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A whole text message, valid UTF-8 (§5.6, §8.1).
    Text(&'a str),
    /// A whole binary message.
    Binary(&'a [u8]),
    /// A piece of a data message, in [`crate::Delivery::Streaming`] mode. Text pieces are valid
    /// so far but may end inside a code point; the message is valid UTF-8 once `is_last`.
    Fragment {
        /// Text or binary.
        kind: MessageKind,
        /// The bytes that arrived.
        data: &'a [u8],
        /// Whether this piece ends the message.
        is_last: bool,
    },
    /// A Ping (§5.5.2). With auto-pong on (the default) a Pong is already queued.
    Ping(&'a [u8]),
    /// A Pong (§5.5.3).
    Pong(&'a [u8]),
    /// The peer's Close (§5.5.1). The reply is already queued; the connection is closed.
    /// `code` is `None` when the frame had no payload (reported as 1005 by §7.1.5).
    Close {
        /// The peer's status code, if it sent one.
        code: Option<CloseCode>,
        /// The peer's reason, possibly empty.
        reason: &'a str,
    },
}

/// An owned message, for applications that keep messages past the next call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A Ping with its payload.
    Ping(Vec<u8>),
    /// A Pong with its payload.
    Pong(Vec<u8>),
    /// A Close with its code and reason.
    Close(Option<CloseCode>, String),
}

impl Message {
    /// Whether this is a text or binary message (not a control frame).
    pub fn is_data(&self) -> bool {
        matches!(self, Message::Text(_) | Message::Binary(_))
    }

    /// An owned copy of a whole-message or control event. Returns `None` for a
    /// [`Event::Fragment`], which is not a whole message.
    pub fn from_event(event: &Event<'_>) -> Option<Message> {
        Some(match *event {
            Event::Text(text) => Message::Text(text.to_owned()),
            Event::Binary(data) => Message::Binary(data.to_vec()),
            Event::Ping(data) => Message::Ping(data.to_vec()),
            Event::Pong(data) => Message::Pong(data.to_vec()),
            Event::Close { code, reason } => Message::Close(code, reason.to_owned()),
            Event::Fragment { .. } => return None,
        })
    }
}
