//! An async I/O layer on tokio (feature `tokio`): the same sans-IO core, thousands of
//! connections on one thread.
//!
//! Like [`crate::blocking`], it is written on the public API of the core alone: read into
//! [`Connection::read_buf`](crate::Connection::read_buf) and
//! [`commit`](crate::Connection::commit), pull events, write
//! [`Connection::output_parts`](crate::Connection::output_parts) (one vectored write where the
//! stream takes them), end the transport when the core says the
//! connection is over. Only the waiting differs: a poll that cannot go on returns `Pending`
//! instead of blocking a thread, so a connection costs its buffers and nothing more.
//!
//! - [`WebSocket`]: a connection over any `AsyncRead + AsyncWrite + Unpin` stream: read
//!   (owned or borrowed), send, ping, close, flush; also a `futures` `Stream` and `Sink`.
//! - [`split`](WebSocket::split): a [`ReadHalf`] and a [`WriteHalf`] for two tasks; the reader
//!   sends its own Pongs and Close echo.
//! - [`server`]: the opening handshake on an accepted stream, with the blocking server's
//!   accept/reject hook and answers.
//! - [`client`]: `connect("ws://…")` and, with feature `tls`, `wss://`.
//! - `hyper` (feature `hyper`): upgrade a `hyper::Request` (or axum's) to a [`WebSocket`].
//! - `h2` (feature `h2`): WebSockets over HTTP/2 (RFC 8441), many on one connection.
//!
//! # Time
//!
//! The core keeps no clock. The layer keeps one deadline per connection, polled with the read
//! loop on a single `tokio::time::Sleep`: the close timeout ([`Timeouts::close`]), started by
//! the first Close sent or received. Deadlines are `tokio::time::Instant`s, so tests pause
//! tokio's clock and run the timeouts virtually. The runtime needs its time driver
//! (`enable_time`, or `enable_all`).
//!
//! ```no_run
//! # async fn run() -> Result<(), rfc6455::Error> {
//! use rfc6455::Message;
//! let (mut ws, _response) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
//! ws.send_text("hello").await?;
//! while let Ok(message) = ws.read().await {
//!     if let Message::Text(text) = message {
//!         println!("{text}");
//!         break;
//!     }
//! }
//! ws.close(rfc6455::CloseCode::NORMAL, "bye").await?;
//! # Ok(())
//! # }
//! ```

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
pub mod client;
mod driver;
#[cfg(feature = "h2")]
#[cfg_attr(docsrs, doc(cfg(feature = "h2")))]
pub mod h2;
#[cfg(feature = "hyper")]
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
pub mod hyper;
mod input_pool;
pub mod server;
mod split;
mod stream;
mod timer;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;
mod websocket;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::net::TcpStream;

pub use client::{ClientConfig, connect, connect_with};
pub use driver::DEFAULT_HIGH_WATER_MARK;
pub use server::{ServerConfig, accept, accept_with};
pub use split::{ReadHalf, WriteHalf};
pub use websocket::WebSocket;

/// How long an async connection waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// The whole opening handshake (RFC 6455 §4), connect and TLS included, to the 101.
    pub handshake: Duration,
    /// After a Close is sent or received: the most time given to the peer to finish the
    /// closing handshake and close TCP (§7.1.1 leaves it to the endpoint), so a silent peer
    /// cannot hold the connection.
    pub close: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { handshake: Duration::from_secs(10), close: Duration::from_secs(5) }
    }
}

/// A connection's byte stream: plain TCP (`ws://`) or TLS over TCP (`wss://`, feature `tls`).
/// What [`connect`] returns, whatever the scheme.
#[derive(Debug)]
#[non_exhaustive]
pub enum MaybeTlsStream {
    /// `ws://`: the socket itself.
    Plain(TcpStream),
    /// `wss://`: a TLS session over the socket.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    Tls(Box<tokio_rustls::TlsStream<TcpStream>>),
}

impl MaybeTlsStream {
    /// The TCP socket underneath (for its addresses).
    pub fn tcp_stream(&self) -> &TcpStream {
        match self {
            MaybeTlsStream::Plain(sock) => sock,
            #[cfg(feature = "tls")]
            MaybeTlsStream::Tls(tls) => tls.get_ref().0,
        }
    }

    /// Whether the connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        !matches!(self, MaybeTlsStream::Plain(_))
    }
}

impl AsyncRead for MaybeTlsStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(sock) => Pin::new(sock).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            MaybeTlsStream::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for MaybeTlsStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(sock) => Pin::new(sock).poll_write(cx, buf),
            #[cfg(feature = "tls")]
            MaybeTlsStream::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(sock) => Pin::new(sock).poll_flush(cx),
            #[cfg(feature = "tls")]
            MaybeTlsStream::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(sock) => Pin::new(sock).poll_shutdown(cx),
            #[cfg(feature = "tls")]
            MaybeTlsStream::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }
}
