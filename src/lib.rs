//! # rfc6455
//!
//! A WebSocket implementation (RFC 6455) built to be read next to the RFC: a sans-IO protocol
//! core that turns bytes into events and messages into bytes, and a small blocking
//! `std::net` layer on top of it.
//!
//! ## Quick start: the blocking layer
//!
//! A server that echoes every message, and a client that talks to it, with [`blocking`]
//! (threads and `std::net`; `wss://` with the `tls` feature). Pings are answered and the Close
//! is echoed by the library.
//!
//! ```
//! use rfc6455::blocking::{Server, connect};
//! use rfc6455::{CloseCode, Error, Message};
//!
//! let server = Server::bind("127.0.0.1:0")?; // port 0: any free port
//! let url = format!("ws://{}/", server.local_addr()?);
//! let echo = std::thread::spawn(move || -> Result<(), Error> {
//!     let mut ws = server.accept()?.handshake()?;
//!     loop {
//!         match ws.read() {
//!             Ok(Message::Text(text)) => ws.send_text(&text)?,
//!             Ok(Message::Binary(data)) => ws.send_binary(&data)?,
//!             Ok(_) => {}                          // a Ping, a Pong, the client's Close
//!             Err(Error::Closed) => return Ok(()), // the closing handshake is done
//!             Err(e) => return Err(e),
//!         }
//!     }
//! });
//!
//! let mut client = connect(&url)?;
//! client.send_text("Hello")?;
//! assert_eq!(client.read()?, Message::Text("Hello".into()));
//! client.close(CloseCode::NORMAL, "done")?;
//! assert_eq!(client.read()?, Message::Close(Some(CloseCode::NORMAL), String::new())); // the echo
//! echo.join().expect("server thread")?;
//! # Ok::<(), Error>(())
//! ```
//!
//! The user's manual (`docs/manual/`) has recipes for servers with many clients: broadcast,
//! keepalive, streaming large files, routing and `Origin` checks, graceful shutdown, a reverse
//! proxy in front, and choosing [`Limits`].
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
//! 5. close the transport when [`Connection::should_close_transport`] says so;
//! 6. tell it the time with [`Connection::handle_timeout`] after each batch, and wake up for
//!    [`Connection::poll_timeout`]: keepalive, idle and close deadlines ([`Timers`]) live in
//!    the core, with the time passed in.
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
//!
//! ## Cargo features
//!
//! None is on by default: the core and the blocking layer need no feature. Items that need one
//! say so in their documentation.
//!
//! | feature | what it adds | what it pulls in |
//! |---|---|---|
//! | `tls` | `wss://` in the blocking client and server: `blocking::tls`, the `tls` fields of [`blocking::ClientConfig`] and [`blocking::ServerConfig`] | `rustls` (ring provider, TLS 1.2 and 1.3), `webpki-roots` (Mozilla's roots) |
//! | `tokio` | the async layer on tokio: `tokio::WebSocket` over any `AsyncRead + AsyncWrite`, split halves, `Stream`/`Sink`, server accept and client connect (`wss://` too with `tls`, through tokio-rustls) | `tokio` (net, io-util, time, sync), `futures-core`, `futures-sink` |
//! | `hyper` | upgrading a `hyper::Request` to an async WebSocket (implies `tokio`) | `hyper`, `hyper-util`, `http`, `http-body-util`, `bytes` |
//! | `axum` | an axum extractor for the upgrade (implies `hyper`) | `axum` |
#![forbid(unsafe_code)]
// On docs.rs (`--cfg docsrs`), label each item that needs a cargo feature with that feature.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
// Every public type can be printed with `{:?}`: users log connections, configs and errors.
#![warn(missing_debug_implementations)]

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
pub mod observe;
pub mod timers;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
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
pub use timers::{Deadline, Keepalive, Timers};
pub use uri::WsUri;

/// The README's examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The Rust blocks of the guide and the manual (the book, `book.toml`), run as doctests.
#[cfg(doctest)]
mod book_doctests {
    #[doc = include_str!("../docs/guide/06-sans-io-and-the-blocking-layer.md")]
    struct SansIo;
    #[doc = include_str!("../docs/manual/quick-start.md")]
    struct QuickStart;
}
