//! A WebSocket split into a [`Reader`] and a [`Writer`] for two threads: one blocks in
//! `read` while the other sends (synchronous full duplex).
//!
//! Both halves share the sans-IO connection behind a mutex, held only to decode or encode,
//! never while waiting on the network. The reader owns one handle of the socket and waits for
//! bytes without any lock. Whatever the reader must send (automatic Pongs, the Close reply) is
//! written through the same write lock as the writer's messages, taken before the connection
//! lock is released, so frames leave in the order the connection encoded them: nothing can
//! follow a Close.
//!
//! Splitting needs a socket that can be cloned into two handles (`TcpStream::try_clone`).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::WebSocket;
use crate::close::CloseCode;
use crate::config::Role;
use crate::connection::{CloseState, Connection};
use crate::error::{Error, UsageError};
use crate::event::Message;
use crate::message::MessageKind;

struct Shared {
    conn: Mutex<Connection>,
    /// The socket handle used for every write. Locked after `conn`, never before.
    write: Mutex<TcpStream>,
    close_timeout: Duration,
}

/// The receiving half of a split WebSocket.
pub struct Reader {
    shared: Arc<Shared>,
    read: TcpStream,
    /// Output copied out of the connection, to write without holding its lock.
    scratch: Vec<u8>,
}

/// The sending half of a split WebSocket. Cloneable: several threads may send.
#[derive(Clone)]
pub struct Writer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl WebSocket<TcpStream> {
    /// Split into a reader and a writer that can be used from different threads.
    pub fn split(self) -> Result<(Reader, Writer), Error> {
        let timeouts = self.timeouts();
        let (stream, conn) = self.into_parts();
        let read = stream.try_clone()?;
        let shared =
            Arc::new(Shared { conn: Mutex::new(conn), write: Mutex::new(stream), close_timeout: timeouts.close });
        Ok((Reader { shared: shared.clone(), read, scratch: Vec::new() }, Writer { shared }))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A thread that panicked while holding the lock left the connection in a consistent
    // state between calls (every call completes its change before returning), so go on.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    /// Write what `conn` queued. Takes the write lock before releasing the connection lock,
    /// so frames leave in encoding order.
    fn write_out(&self, mut conn: MutexGuard<'_, Connection>, scratch: &mut Vec<u8>) -> Result<(), Error> {
        if !conn.wants_write() {
            return Ok(());
        }
        scratch.clear();
        scratch.extend_from_slice(conn.output());
        let n = scratch.len();
        conn.consume_output(n);
        let mut stream = lock(&self.write);
        drop(conn);
        stream.write_all(scratch)?;
        stream.flush()?;
        Ok(())
    }
}

impl Reader {
    /// Read the next message; Pongs and the Close reply are sent on the way. After the
    /// closing handshake, returns [`Error::Closed`].
    pub fn read(&mut self) -> Result<Message, Error> {
        loop {
            let mut conn = lock(&self.shared.conn);
            let event = conn.next_event();
            let message = match event {
                Ok(Some(event)) => Some(Message::from_event(&event).ok_or(Error::Usage(UsageError::StreamingDelivery))),
                Ok(None) => None,
                Err(error) => Some(Err(error)),
            };
            let closed = conn.is_closed();
            let failed = conn.failure().is_some();
            self.shared.write_out(conn, &mut self.scratch)?;
            if let Some(message) = message {
                if message.is_err() || closed {
                    self.finish(failed);
                }
                return message;
            }
            if closed {
                self.finish(failed);
                return Err(Error::Closed);
            }
            let closing = lock(&self.shared.conn).state() != CloseState::Open;
            if closing {
                self.read.set_read_timeout(Some(self.shared.close_timeout))?;
            }
            let mut buf = [0u8; 16 << 10];
            match self.read.read(&mut buf) {
                Ok(0) => lock(&self.shared.conn).receive_eof(),
                Ok(n) => {
                    let mut conn = lock(&self.shared.conn);
                    // Events are pulled after every read, so undecoded input stays small.
                    conn.receive(&buf[..n])?;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if closing && matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    self.finish(true);
                    return Err(Error::Closed);
                }
                Err(e) => return Err(Error::Io(e)),
            }
        }
    }

    /// End the socket once the connection is over (RFC 6455 §7.1.1): a server, or either side
    /// after a failure, half-closes at once; a client after a clean closing handshake first
    /// waits, at most the close timeout, for the server to close TCP. Then the input is drained
    /// briefly so the last frame is read by the peer rather than lost to a reset.
    fn finish(&mut self, failed: bool) {
        let client_waits = lock(&self.shared.conn).role() == Role::Client && !failed;
        if !client_waits {
            let _ = self.read.shutdown(Shutdown::Write);
        }
        let deadline = Instant::now() + self.shared.close_timeout;
        let mut scratch = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.read.set_read_timeout(Some(left)).is_err() {
                break;
            }
            match self.read.read(&mut scratch) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = self.read.shutdown(Shutdown::Both);
    }
}

impl Writer {
    fn send_with(&self, encode: impl FnOnce(&mut Connection) -> Result<(), UsageError>) -> Result<(), Error> {
        let mut conn = lock(&self.shared.conn);
        encode(&mut conn)?;
        let mut scratch = Vec::new();
        self.shared.write_out(conn, &mut scratch)
    }

    /// Send a text message.
    pub fn send_text(&self, text: &str) -> Result<(), Error> {
        self.send_with(|c| c.send_text(text))
    }

    /// Send a binary message.
    pub fn send_binary(&self, data: &[u8]) -> Result<(), Error> {
        self.send_with(|c| c.send_binary(data))
    }

    /// Send one fragment of a message (§5.4).
    pub fn send_fragment(&self, kind: MessageKind, data: &[u8], is_last: bool) -> Result<(), Error> {
        self.send_with(|c| c.send_fragment(kind, data, is_last))
    }

    /// Send a Ping.
    pub fn ping(&self, payload: &[u8]) -> Result<(), Error> {
        self.send_with(|c| c.ping(payload))
    }

    /// Start the closing handshake; the [`Reader`] sees the peer's Close and then
    /// [`Error::Closed`].
    pub fn close(&self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.send_with(|c| c.close(code, reason))
    }
}
