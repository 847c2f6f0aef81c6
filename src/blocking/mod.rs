//! A blocking I/O layer over `std::net`: the only module of the crate that reads or writes.
//!
//! It is written on the public API of the sans-IO core alone, so it doubles as the worked
//! example of driving a [`crate::Connection`]: read into [`crate::Connection::read_buf`],
//! pull events, write [`crate::Connection::output`], close the socket when
//! [`crate::Connection::should_close_transport`] says so.
//!
//! - [`server`]: bind, accept, the opening handshake with an accept/reject hook, plain HTTP
//!   answers on the same port.
//! - [`client`]: connecting to a `ws://host:port/path` or `wss://` URL.
//! - [`WebSocket`]: a connected socket: read messages, send messages, close.
//! - [`split`]: a reader and a writer usable from two threads at once.
//! - `tls` (feature `tls`): `wss://` with rustls, in both roles.
//!
//! [`connect`] and [`Server`] hand out a `WebSocket<MaybeTlsStream>`: the same type for `ws://`
//! and `wss://`, so the code that uses a connection does not care which it is.

pub mod client;
pub mod connecting;
pub mod server;
pub mod split;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;
mod websocket;

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

pub use client::{ClientConfig, connect, connect_with};
pub use server::{Decision, Pending, Server, ServerConfig, ShutdownHandle, accept, accept_with};
pub use split::{Reader, Writer};
pub use websocket::{Timeouts, WebSocket};

/// The WebSocket that [`connect`] and [`Server`] hand out, over `ws://` or `wss://` alike: the
/// type to name in a struct field or a function signature.
///
/// ```no_run
/// use rfc6455::blocking::MaybeTlsWebSocket;
/// fn greet(ws: &mut MaybeTlsWebSocket) -> Result<(), rfc6455::Error> {
///     ws.send_text("hello")
/// }
/// ```
pub type MaybeTlsWebSocket = WebSocket<MaybeTlsStream>;

/// What the blocking layer needs from a byte stream besides reading and writing: timeouts and
/// a half-close. Implemented for `TcpStream`, [`MaybeTlsStream`] and (feature `tls`) the TLS
/// streams, whose timeouts are their socket's.
pub trait Transport: Read + Write {
    /// Set the timeout of subsequent reads (`None`: block forever).
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// Set the timeout of subsequent writes (`None`: block forever).
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// Close the sending direction (TCP FIN; over TLS, `close_notify` first), keeping the
    /// receiving one open.
    fn shutdown_write(&mut self) -> io::Result<()>;
}

/// One read of the opening handshake, bounded by the handshake's `deadline`: the bytes read, or
/// a timeout once the deadline passed, or an error when the peer closed mid-handshake.
pub(crate) fn read_before_deadline(
    stream: &mut impl Transport,
    buf: &mut [u8],
    deadline: std::time::Instant,
) -> Result<usize, crate::Error> {
    use crate::{Error, HandshakeError};
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(Error::Io(io::ErrorKind::TimedOut.into()));
        }
        stream.set_read_timeout(Some(left))?;
        return match stream.read(buf) {
            Ok(0) => Err(Error::Handshake(HandshakeError::MalformedHttp("connection closed during the handshake"))),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // A read timeout shows as WouldBlock on Unix: the handshake deadline passed.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(Error::Io(io::ErrorKind::TimedOut.into())),
            Err(e) => Err(Error::Io(e)),
        };
    }
}

/// Read and discard whatever the peer still sends, until its EOF or `timeout`. Closing a socket
/// with unread input makes TCP send a reset, which can destroy the last frame before the peer
/// reads it; draining first lets our Close arrive (RFC 6455 §7.1.1, §7.1.7).
pub(crate) fn drain_until_eof(stream: &mut impl Transport, timeout: Duration) {
    let deadline = std::time::Instant::now() + timeout;
    let mut scratch = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut scratch) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

impl Transport for TcpStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_write_timeout(self, timeout)
    }
    fn shutdown_write(&mut self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

/// A connection's byte stream: plain TCP (`ws://`) or TLS over TCP (`wss://`, feature `tls`).
/// What [`connect`] and [`Server`] return, whatever the scheme.
#[derive(Debug)]
#[non_exhaustive]
pub enum MaybeTlsStream {
    /// `ws://`: the socket itself.
    Plain(TcpStream),
    /// `wss://`: a TLS session over the socket.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    Tls(Box<tls::TlsStream>),
}

impl MaybeTlsStream {
    /// The TCP socket underneath: for its addresses, or to shut it from another thread
    /// (`tcp_stream().try_clone()?.shutdown(Shutdown::Both)` ends a blocked read). Never read or
    /// write it directly under TLS.
    pub fn tcp_stream(&self) -> &TcpStream {
        match self {
            MaybeTlsStream::Plain(sock) => sock,
            #[cfg(feature = "tls")]
            MaybeTlsStream::Tls(tls) => tls.tcp_stream(),
        }
    }

    /// Whether the connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        !matches!(self, MaybeTlsStream::Plain(_))
    }
}

impl Read for MaybeTlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            MaybeTlsStream::Plain(sock) => sock.read(buf),
            #[cfg(feature = "tls")]
            MaybeTlsStream::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for MaybeTlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            MaybeTlsStream::Plain(sock) => sock.write(buf),
            #[cfg(feature = "tls")]
            MaybeTlsStream::Tls(tls) => tls.write(buf),
        }
    }
    /// One `writev` over TCP: a frame's header and its payload from their own buffers.
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            MaybeTlsStream::Plain(sock) => sock.write_vectored(bufs),
            #[cfg(feature = "tls")]
            MaybeTlsStream::Tls(tls) => tls.write_vectored(bufs),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            MaybeTlsStream::Plain(sock) => sock.flush(),
            #[cfg(feature = "tls")]
            MaybeTlsStream::Tls(tls) => tls.flush(),
        }
    }
}

impl Transport for MaybeTlsStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.tcp_stream().set_read_timeout(timeout)
    }
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.tcp_stream().set_write_timeout(timeout)
    }
    fn shutdown_write(&mut self) -> io::Result<()> {
        match self {
            MaybeTlsStream::Plain(sock) => sock.shutdown(Shutdown::Write),
            #[cfg(feature = "tls")]
            MaybeTlsStream::Tls(tls) => tls.shutdown_write(),
        }
    }
}
