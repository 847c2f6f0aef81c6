//! WebSockets over HTTP/2 (RFC 8441, feature `h2`), on the [h2](https://docs.rs/h2) crate.
//!
//! # What RFC 8441 changes
//!
//! Only the opening handshake and what "the transport" is:
//!
//! - **The server offers it** (RFC 8441 §3): its SETTINGS frame carries
//!   `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1`; a client must not try before it has seen that.
//! - **The request is an extended CONNECT** (§4, §5): `:method CONNECT`, `:protocol websocket`,
//!   `:scheme`, `:path` and `:authority` instead of `GET`, `Upgrade: websocket`,
//!   `Connection: Upgrade` and `Host`; `sec-websocket-version: 13` as over HTTP/1.1. There is no
//!   `Sec-WebSocket-Key` and no `Sec-WebSocket-Accept`: the `:protocol` pseudo-header, which no
//!   HTTP/1.1 intermediary can forge, does what the key did.
//! - **The answer is `200`**, not `101 Switching Protocols`: the stream stays an HTTP/2 stream,
//!   and the WebSocket's bytes travel in its DATA frames.
//! - **The transport is one stream** (§5): the orderly close of TCP (RFC 6455 §7.1.1) becomes
//!   END_STREAM, a TCP reset becomes `RST_STREAM` with `CANCEL`. Many WebSockets, and the
//!   page that opened them, share one TCP and TLS connection.
//!
//! # What it does not change
//!
//! Everything after the handshake: framing, masking (clients still mask, RFC 6455 §5.3),
//! fragmentation, UTF-8, Ping/Pong, the closing handshake, subprotocols and extensions
//! (permessage-deflate is negotiated with the same headers, lower-cased as HTTP/2 wants). So
//! the same [`Connection`](crate::Connection) and the same async
//! [`WebSocket`](super::WebSocket) run over an HTTP/2 stream unchanged: [`H2Stream`] makes the
//! stream an `AsyncRead + AsyncWrite`, and [`WebSocket::from_parts`](super::WebSocket::from_parts)
//! does the rest.
//!
//! # In this module
//!
//! - [`H2Stream`]: an HTTP/2 stream (the h2 crate's send and receive halves) as a byte stream,
//!   with HTTP/2 flow control turned into back-pressure; for both roles.
//! - [`server`]: serve one HTTP/2 connection: extended CONNECT for WebSocket on any stream, any
//!   other request to the application (a page on the same connection), and, with feature `tls`,
//!   ALPN choosing `h2` or `http/1.1` on one TLS port.
//!
//! The handshake's rules themselves are sans-IO and know nothing of the h2 crate:
//! [`crate::handshake::h2_server`].

pub mod client;
pub mod server;
mod stream;

pub use stream::H2Stream;
