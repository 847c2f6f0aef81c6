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
    /// A text message.
    pub fn text(text: impl Into<String>) -> Message {
        Message::Text(text.into())
    }

    /// A binary message.
    pub fn binary(data: impl Into<Vec<u8>>) -> Message {
        Message::Binary(data.into())
    }

    /// Whether this is a text or binary message (not a control frame).
    pub fn is_data(&self) -> bool {
        matches!(self, Message::Text(_) | Message::Binary(_))
    }

    /// Whether this is a text message.
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// Whether this is a binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self, Message::Binary(_))
    }

    /// Whether this is a Close.
    pub fn is_close(&self) -> bool {
        matches!(self, Message::Close(..))
    }

    /// The text of a text message; `None` for any other kind.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The payload as bytes: the text's UTF-8, the binary data, a Ping's or Pong's payload, a
    /// Close's reason.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data,
            Message::Close(_, reason) => reason.as_bytes(),
        }
    }

    /// The payload, owned, as [`Self::as_bytes`] describes it (no copy).
    pub fn into_data(self) -> Vec<u8> {
        match self {
            Message::Text(text) => text.into_bytes(),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data,
            Message::Close(_, reason) => reason.into_bytes(),
        }
    }

    /// The payload's length in bytes (see [`Self::as_bytes`]).
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

/// A text message.
impl From<&str> for Message {
    fn from(text: &str) -> Message {
        Message::Text(text.to_owned())
    }
}

/// A text message (no copy).
impl From<String> for Message {
    fn from(text: String) -> Message {
        Message::Text(text)
    }
}

/// A binary message.
impl From<&[u8]> for Message {
    fn from(data: &[u8]) -> Message {
        Message::Binary(data.to_vec())
    }
}

/// A binary message (no copy).
impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Message {
        Message::Binary(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_convert_from_the_usual_types() {
        assert_eq!(Message::from("hi"), Message::Text("hi".into()));
        assert_eq!(Message::from(format!("msg {}", 1)), Message::Text("msg 1".into()));
        assert_eq!(Message::from(&b"\x00\xff"[..]), Message::Binary(vec![0, 255]));
        assert_eq!(Message::from(vec![1, 2]), Message::Binary(vec![1, 2]));
        let into: Message = "typed".into();
        assert_eq!(into, Message::text("typed"));
        assert_eq!(Message::binary([7u8; 3]), Message::Binary(vec![7; 3]));
    }

    #[test]
    fn message_accessors() {
        let text = Message::text("héllo");
        assert!(text.is_text() && text.is_data() && !text.is_binary() && !text.is_close());
        assert_eq!((text.as_text(), text.len(), text.is_empty()), (Some("héllo"), 6, false));
        assert_eq!(text.into_data(), "héllo".as_bytes());
        let binary = Message::binary(vec![]);
        assert!(binary.is_binary() && binary.is_empty() && binary.as_text().is_none());
        let close = Message::Close(Some(CloseCode::NORMAL), "bye".into());
        assert!(close.is_close() && !close.is_data());
        assert_eq!((close.len(), close.as_bytes()), (3, &b"bye"[..]));
        assert_eq!(Message::Ping(vec![1]).into_data(), [1]);
        assert_eq!(Message::Pong(vec![]).len(), 0);
    }
}
