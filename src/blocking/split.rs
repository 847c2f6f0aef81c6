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
//!
//! Over TLS (`wss://`, feature `tls`) both directions go through one TLS session, which cannot
//! be cloned: it is kept under the connection's lock. The reader waits for the socket to become
//! readable (`TcpStream::peek`, which consumes nothing) without any lock, then takes the lock to
//! read and decrypt what arrived; a writer encrypts under the lock and writes the ciphertext
//! after releasing it, in lock order as above. No thread waits on the network while holding
//! the session, so a writer stuck on a full send buffer never stops the reader.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::{MaybeTlsStream, WebSocket};
use crate::close::CloseCode;
use crate::config::Role;
use crate::connection::{CloseState, Connection};
use crate::error::{Error, UsageError};
use crate::event::Message;
use crate::message::MessageKind;

struct Shared {
    conn: Mutex<State>,
    /// The socket handle used for every write. Locked after `conn`, never before.
    write: Mutex<TcpStream>,
    close_timeout: Duration,
}

/// What the connection lock guards: the WebSocket connection, and the TLS session if any.
struct State {
    conn: Connection,
    #[cfg(feature = "tls")]
    tls: Option<rustls::Connection>,
}

impl std::ops::Deref for State {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl std::ops::DerefMut for State {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
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
        let state = State {
            conn,
            #[cfg(feature = "tls")]
            tls: None,
        };
        split_parts(stream, state, timeouts.close)
    }
}

impl WebSocket<MaybeTlsStream> {
    /// Split into a reader and a writer that can be used from different threads, over plain
    /// TCP or TLS alike.
    pub fn split(self) -> Result<(Reader, Writer), Error> {
        let timeouts = self.timeouts();
        let (stream, conn) = self.into_parts();
        match stream {
            MaybeTlsStream::Plain(sock) => {
                let state = State {
                    conn,
                    #[cfg(feature = "tls")]
                    tls: None,
                };
                split_parts(sock, state, timeouts.close)
            }
            #[cfg(feature = "tls")]
            MaybeTlsStream::Tls(tls) => {
                let (mut session, sock) = tls.into_parts();
                // Messages are encrypted whole under the lock, then written without it.
                session.set_buffer_limit(None);
                split_parts(sock, State { conn, tls: Some(session) }, timeouts.close)
            }
        }
    }
}

fn split_parts(sock: TcpStream, state: State, close_timeout: Duration) -> Result<(Reader, Writer), Error> {
    let read = sock.try_clone()?;
    let shared = Arc::new(Shared { conn: Mutex::new(state), write: Mutex::new(sock), close_timeout });
    Ok((Reader { shared: shared.clone(), read, scratch: Vec::new() }, Writer { shared }))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A thread that panicked while holding the lock left the connection in a consistent
    // state between calls (every call completes its change before returning), so go on.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    /// Write what `conn` queued (encrypted, over TLS). Takes the write lock before releasing
    /// the connection lock, so frames leave in encoding order.
    fn write_out(&self, mut guard: MutexGuard<'_, State>, scratch: &mut Vec<u8>) -> Result<(), Error> {
        scratch.clear();
        let state = &mut *guard;
        #[cfg(feature = "tls")]
        if let Some(tls) = &mut state.tls {
            if state.conn.wants_write() {
                tls.writer().write_all(state.conn.output())?;
                let n = state.conn.output().len();
                state.conn.consume_output(n);
            }
            // With whatever the session itself owes the peer (an alert, close_notify).
            super::tls::write_pending(tls, scratch)?;
        }
        if state.conn.wants_write() {
            scratch.extend_from_slice(state.conn.output());
            let n = scratch.len();
            state.conn.consume_output(n);
        }
        if scratch.is_empty() {
            return Ok(());
        }
        let mut stream = lock(&self.write);
        drop(guard);
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
            match self.read_bytes(&mut buf) {
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

    /// Read the next bytes of the WebSocket stream: from the socket, or decrypted over TLS.
    fn read_bytes(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        #[cfg(feature = "tls")]
        if lock(&self.shared.conn).tls.is_some() {
            return self.read_tls(buf);
        }
        self.read.read(buf)
    }

    /// Over TLS: plaintext already decrypted, or else wait (without the lock) until the socket
    /// is readable, then read and decrypt under the lock.
    #[cfg(feature = "tls")]
    fn read_tls(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            {
                let mut state = lock(&self.shared.conn);
                if let Some(tls) = &mut state.tls
                    && let Some(n) = super::tls::read_plaintext(tls, buf)?
                {
                    return Ok(n);
                }
            }
            // MSG_PEEK: returns once bytes (or EOF) are there, within the read timeout,
            // leaving them for the session to read.
            self.read.peek(&mut [0u8; 1])?;
            let mut state = lock(&self.shared.conn);
            let Some(tls) = &mut state.tls else { return Ok(0) };
            let read = super::tls::read_records(tls, &mut self.read);
            // An alert for a failure, or a key update: written in order with the writer's data.
            if tls.wants_write() {
                let _ = self.shared.write_out(state, &mut self.scratch);
            }
            read?;
        }
    }

    /// Over TLS, send `close_notify` (in order behind everything written before).
    fn close_notify(&mut self) {
        #[cfg(feature = "tls")]
        {
            let mut state = lock(&self.shared.conn);
            if let Some(tls) = &mut state.tls {
                tls.send_close_notify();
                let _ = self.shared.write_out(state, &mut self.scratch);
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
            self.close_notify();
            let _ = self.read.shutdown(Shutdown::Write);
        }
        super::drain_until_eof(&mut self.read, self.shared.close_timeout);
        if client_waits {
            self.close_notify();
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
