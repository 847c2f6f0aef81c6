//! # rfc6455
//!
//! A sans-IO implementation of the WebSocket protocol (RFC 6455).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod blocking;
pub mod close;
pub mod config;
pub mod connection;
pub mod error;
pub mod event;
pub mod frame;
pub mod handshake;
pub mod message;
pub mod uri;
pub mod utf8;

pub use close::CloseCode;
pub use config::{Config, Delivery, Limits, MaskKeyGen, MaskKeySource, Role};
pub use connection::{CloseState, Connection};
pub use error::{Error, HandshakeError, ProtocolError, UsageError};
pub use event::{Event, Message};
pub use handshake::{ClientHandshake, ClientOptions, ServerHandshake};
pub use message::MessageKind;
pub use uri::WsUri;
