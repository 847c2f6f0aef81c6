//! A blocking I/O layer over `std::net`: the only module of the crate that reads or writes.
//!
//! It is written on the public API of the sans-IO core alone, so it doubles as the worked
//! example of driving a [`crate::Connection`]: read into [`crate::Connection::read_buf`],
//! pull events, write [`crate::Connection::output`], close the socket when
//! [`crate::Connection::should_close_transport`] says so.
//!
//! - [`server`]: bind, accept, the opening handshake with an accept/reject hook, plain HTTP
//!   answers on the same port.
//! - [`client`]: connecting to a `ws://host:port/path` URL.
//! - [`WebSocket`]: a connected socket: read messages, send messages, close.
//! - [`split`]: a reader and a writer usable from two threads at once.

pub mod client;
pub mod server;
pub mod split;
mod websocket;

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

pub use client::{ClientConfig, connect, connect_with};
pub use server::{Decision, Pending, Server, ServerConfig, accept, accept_with};
pub use split::{Reader, Writer};
pub use websocket::{Timeouts, WebSocket};

/// What the blocking layer needs from a byte stream besides reading and writing: timeouts and
/// a half-close. Implemented for `TcpStream`; a TLS stream can implement it by delegating to
/// its socket.
pub trait Transport: Read + Write {
    /// Set the timeout of subsequent reads (`None`: block forever).
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// Set the timeout of subsequent writes (`None`: block forever).
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// Close the sending direction (TCP FIN), keeping the receiving one open.
    fn shutdown_write(&self) -> io::Result<()>;
}

impl Transport for TcpStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_write_timeout(self, timeout)
    }
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}
