//! A socket that counts the bytes through it: everything read and written at the
//! HTTP/WebSocket level (request and status lines, headers, frame headers, payloads), not TCP/IP
//! headers. Used by `examples/push_vs_poll.rs` and the dashboard's wire meter, so the bytes they
//! report are the bytes the sockets carried, not sizes worked out from a formula.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rfc6455::blocking::Transport;

/// How many of the first bytes read a [`Counting`] socket keeps, to find where the handshake
/// response ends (frames may arrive in the same read).
pub const KEPT_BYTES: usize = 4096;

/// A socket that counts the bytes through it, and keeps the first ones read. The counters are
/// shared, so they can be read while the socket is owned by a WebSocket.
pub struct Counting {
    /// The socket.
    pub stream: TcpStream,
    /// Bytes written so far.
    pub written: Arc<AtomicU64>,
    /// Bytes read so far.
    pub read: Arc<AtomicU64>,
    /// The first [`KEPT_BYTES`] bytes read.
    pub first_read: Arc<Mutex<Vec<u8>>>,
}

impl Counting {
    /// Count `stream` from now on.
    pub fn new(stream: TcpStream) -> Self {
        Counting { stream, written: Arc::default(), read: Arc::default(), first_read: Arc::default() }
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Bytes read so far.
    pub fn read_count(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    /// The length of the HTTP head at the start of what was read (through its empty line).
    pub fn head_len(&self) -> Option<usize> {
        let kept = self.first_read.lock().unwrap_or_else(PoisonError::into_inner);
        kept.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 4)
    }
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.stream.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        let mut kept = self.first_read.lock().unwrap_or_else(PoisonError::into_inner);
        let room = KEPT_BYTES.saturating_sub(kept.len()).min(n);
        kept.extend_from_slice(&buf[..room]);
        Ok(n)
    }
}

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.stream.write(buf)?;
        self.written.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl Transport for Counting {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_read_timeout(timeout)
    }
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_write_timeout(timeout)
    }
    fn shutdown_write(&mut self) -> io::Result<()> {
        self.stream.shutdown(Shutdown::Write)
    }
}
