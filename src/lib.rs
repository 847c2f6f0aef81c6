//! # rfc6455
//!
//! A WebSocket implementation (RFC 6455) built to be read next to the RFC: a sans-IO protocol
//! core that turns bytes into events and messages into bytes, and a small blocking
//! `std::net` layer on top of it.
//!
//! ## The sans-IO contract
//!
//! The core never touches a socket, a thread or a clock. The caller owns the I/O:
//!
//! 1. hand in whatever bytes arrived: [`Connection::receive`] (or read straight into
//!    [`Connection::read_buf`] and [`Connection::commit`]);
//! 2. pull [`Event`]s with [`Connection::next_event`] until it returns `None`;
//! 3. queue messages with [`Connection::send_text`], [`Connection::send_binary`],
//!    [`Connection::ping`], [`Connection::close`];
//! 4. write [`Connection::output`] to the transport and report what was written with
//!    [`Connection::consume_output`];
//! 5. close the transport when [`Connection::should_close_transport`] says so.
//!
//! Replies the protocol requires (a Pong for each Ping, the Close echo) are queued by step 2,
//! so everything produced by one read goes out in one write.
//!
//! ```
//! use rfc6455::{Config, Connection, Event, MaskKeySource};
//!
//! // Two in-memory endpoints; a seeded key source makes the client's bytes repeatable.
//! let mut client = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(1)));
//! let mut server = Connection::new(Config::server());
//!
//! client.send_text("Hello")?;
//! server.receive(client.output())?;
//! let sent = client.output().len();
//! client.consume_output(sent);
//!
//! match server.next_event()? {
//!     Some(Event::Text(text)) => assert_eq!(text, "Hello"),
//!     other => panic!("unexpected {other:?}"),
//! }
//! assert!(server.next_event()?.is_none());
//! # Ok::<(), rfc6455::Error>(())
//! ```
//!
//! ## Data flow
//!
//! ```text
//!  peer bytes ─▶ Connection::receive ─▶ FrameDecoder ──▶ header checks ──▶ payload pieces
//!                                       (frame::decoder)  (§5.1 §5.2 §5.5)  unmasked in place (§5.3)
//!                                                                              │
//!              Event ◀── next_event ◀── MessageAssembler ◀── UTF-8, fail-fast ◀┘
//!                                       (message, §5.4)      (utf8, §8.1)
//!
//!  send_text ─▶ encode_frame (frame::encoder, mask §5.3) ─▶ output buffer ─▶ caller writes
//! ```
//!
//! ## Where each part of the RFC lives
//!
//! | RFC 6455 | module |
//! |---|---|
//! | §3 WebSocket URIs | [`uri`] |
//! | §4.1 client handshake | [`handshake::client`] |
//! | §4.2 server handshake, §4.4 versions | [`handshake::server`] |
//! | §1.3, §4.2.2 `Sec-WebSocket-Accept` | [`handshake::accept`] |
//! | §5.2 base framing | [`frame::header`], [`frame::opcode`], [`frame::decoder`], [`frame::encoder`] |
//! | §5.3 masking | [`frame::mask`] |
//! | §5.4 fragmentation, §5.6 data frames | [`message`] |
//! | §5.5 control frames, §7 closing | [`connection`], [`close`] |
//! | §8.1 UTF-8 | [`utf8`] |
//! | §7.4 status codes | [`close`] |
//! | limits, role, masking-key source | [`config`] |
//! | errors and their close codes / HTTP statuses | [`error`] |
//! | blocking sockets (not in the RFC) | [`blocking`] |
//!
//! Every check of a MUST cites its section in a comment above it, and its test is named after
//! the section (`s5_5_control_frame_over_125_fails_with_1002`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod blocking;
pub mod close;
pub mod config;
pub mod connection;
pub mod error;
pub mod event;
pub mod extensions;
pub mod frame;
pub mod handshake;
pub mod message;
#[cfg(feature = "tokio")]
pub mod tokio;
pub mod uri;
pub mod utf8;

pub use close::CloseCode;
pub use config::{Config, Delivery, Limits, MaskKeyGen, MaskKeySource, Role};
pub use connection::{CloseState, Connection};
pub use error::{Error, HandshakeError, ProtocolError, TlsError, TlsErrorKind, UsageError};
pub use event::{Event, Message};
pub use extensions::permessage_deflate::DeflateConfig;
pub use handshake::{ClientHandshake, ClientOptions, Completed, ServerHandshake, connection_config};
pub use message::MessageKind;
pub use uri::WsUri;

/// The README's examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
