//! A WebSocket split into a [`Reader`] and a [`Writer`] for two threads: one blocks in
//! `read` while the other sends (synchronous full duplex).
//!
//! Both halves share the sans-IO connection behind a mutex, held only to decode or encode,
//! never while waiting on the network. The reader owns one handle of the socket: it waits
//! until bytes arrive (`TcpStream::peek`, which consumes nothing) without any lock, then reads
//! them straight into the connection under the lock, no more than its input limit has room
//! for. Whatever the reader must send (automatic Pongs, the Close reply) goes through the same
//! outbox as the writer's messages, under a write lock taken before the connection lock is
//! released, so frames leave in the order the connection encoded them: nothing can follow a
//! Close.
//!
//! Only what the socket accepted leaves the outbox. A write that fails or times out may have
//! ended the stream inside a frame, and frames are contiguous (RFC 6455 §5.2): the connection
//! is then broken for both halves, nothing more is written, and the socket is shut so the peer
//! sees the stream end rather than a later frame read as the rest of the cut one.
//!
//! Splitting needs a socket that can be cloned into handles (`TcpStream::try_clone`).
//!
//! Over TLS (`wss://`, feature `tls`) both directions go through one TLS session, which cannot
//! be cloned: it is kept under the connection's lock. The reader waits for the socket to become
//! readable without any lock, then takes the lock to read and decrypt what arrived; a writer
//! encrypts under the lock and writes the ciphertext after releasing it, in lock order as
//! above. No thread waits on the network while holding the session, so a writer stuck on a
//! full send buffer never stops the reader.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use super::{MaybeTlsStream, WebSocket};
use crate::close::CloseCode;
use crate::config::Role;
use crate::connection::{CloseState, Connection};
use crate::error::{Error, UsageError};
use crate::event::{Event, Message};
use crate::message::MessageKind;

struct Shared {
    conn: Mutex<State>,
    /// The bytes on their way to the socket. Locked after `conn`, never before.
    write: Mutex<Outbox>,
    /// Why the connection can no longer send, once it cannot: set once, read without a lock.
    broken: OnceLock<Broken>,
    /// A handle of the socket that is never read or written: [`Writer::shutdown`] shuts it
    /// without waiting for either lock.
    control: TcpStream,
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

/// The socket handle every write goes through, and the bytes taken out of the connection (and
/// the TLS session) that the socket has not accepted yet. The buffer is reused from write to
/// write, and given back after a large message so an idle connection stays small.
struct Outbox {
    sock: TcpStream,
    /// `buf[start..]` is still to be written.
    buf: Vec<u8>,
    start: usize,
}

/// Capacity the outbox keeps between writes; a larger one is released once written.
const OUTBOX_KEEP: usize = 64 << 10;

/// Why a split connection stopped sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Broken {
    /// A write failed with `unwritten` bytes of output left: the stream may end inside a frame
    /// (RFC 6455 §5.2 frames are contiguous), so nothing may follow.
    WriteFailed { kind: ErrorKind, unwritten: usize },
    /// [`Writer::shutdown`] ended the connection.
    ShutDown,
}

impl Broken {
    fn error(self) -> Error {
        match self {
            Broken::WriteFailed { kind, unwritten } => Error::Io(io::Error::new(
                ErrorKind::BrokenPipe,
                format!(
                    "a write failed part-way ({kind}) with {unwritten} bytes unsent; the stream may end \
                     inside a frame, so the connection is failed and sends nothing more"
                ),
            )),
            Broken::ShutDown => {
                Error::Io(io::Error::new(ErrorKind::ConnectionAborted, "the connection was shut down locally"))
            }
        }
    }
}

/// The receiving half of a split WebSocket.
pub struct Reader {
    shared: Arc<Shared>,
    read: TcpStream,
    /// A failure to write what the last message owed (its Pong, the Close reply), reported by
    /// the next call so the message itself was not lost.
    deferred: Option<Error>,
}

/// The sending half of a split WebSocket. Cloneable: several threads may send.
#[derive(Clone)]
pub struct Writer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").field("shared", &self.shared).field("deferred", &self.deferred).finish()
    }
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("shared", &self.shared).finish()
    }
}

/// Lengths and capacities only: a connection with megabytes queued prints in one line.
impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("Split");
        if let Ok(state) = self.conn.try_lock() {
            s.field("role", &state.role())
                .field("state", &state.state())
                .field("output_len", &state.output().len())
                .field("buffered_capacity", &state.buffered_capacity());
        }
        if let Ok(outbox) = self.write.try_lock() {
            s.field("outbox_len", &(outbox.buf.len() - outbox.start)).field("outbox_capacity", &outbox.buf.capacity());
        }
        s.field("broken", &self.broken.get()).finish_non_exhaustive()
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
    let control = sock.try_clone()?;
    let outbox = Outbox { sock, buf: Vec::new(), start: 0 };
    let shared = Arc::new(Shared {
        conn: Mutex::new(state),
        write: Mutex::new(outbox),
        broken: OnceLock::new(),
        control,
        close_timeout,
    });
    Ok((Reader { shared: shared.clone(), read, deferred: None }, Writer { shared }))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A thread that panicked while holding the lock left the connection in a consistent
    // state between calls (every call completes its change before returning), so go on.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    /// Move what `conn` queued (encrypted, over TLS) into the outbox and write it. The write
    /// lock is taken before the connection lock is released, so frames leave in encoding
    /// order. Once the connection is broken, queued output is dropped and the breakage
    /// reported: nothing may follow a frame that went out in part.
    fn write_out(&self, mut guard: MutexGuard<'_, State>) -> Result<(), Error> {
        let state = &mut *guard;
        #[cfg(feature = "tls")]
        let tls_wants_write = state.tls.as_ref().is_some_and(|tls| tls.wants_write());
        #[cfg(not(feature = "tls"))]
        let tls_wants_write = false;
        if !state.conn.wants_write() && !tls_wants_write {
            return Ok(());
        }
        let mut outbox = lock(&self.write);
        if let Some(broken) = self.broken.get() {
            while state.conn.wants_write() {
                let n = state.conn.output().len();
                state.conn.consume_output(n);
            }
            return Err(broken.error());
        }
        #[cfg(feature = "tls")]
        if let Some(tls) = &mut state.tls {
            // The output may come in pieces (a large payload written from its own buffer).
            while state.conn.wants_write() {
                tls.writer().write_all(state.conn.output())?;
                let n = state.conn.output().len();
                state.conn.consume_output(n);
            }
            // With whatever the session itself owes the peer (an alert, close_notify).
            super::tls::write_pending(tls, &mut outbox.buf)?;
        }
        while state.conn.wants_write() {
            outbox.buf.extend_from_slice(state.conn.output());
            let n = state.conn.output().len();
            state.conn.consume_output(n);
        }
        drop(guard);
        self.send_outbox(&mut outbox)
    }

    /// Write the outbox to the socket. Only what the socket accepted leaves the outbox; a write
    /// that fails (a timeout included) breaks the connection for both halves.
    fn send_outbox(&self, outbox: &mut Outbox) -> Result<(), Error> {
        while outbox.start < outbox.buf.len() {
            match (&outbox.sock).write(&outbox.buf[outbox.start..]) {
                Ok(0) => return Err(self.break_on_write(outbox, ErrorKind::WriteZero)),
                Ok(n) => outbox.start += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(self.break_on_write(outbox, e.kind())),
            }
        }
        outbox.buf.clear();
        outbox.start = 0;
        if outbox.buf.capacity() > OUTBOX_KEEP {
            outbox.buf.shrink_to(OUTBOX_KEEP);
        }
        Ok(())
    }

    /// A write failed with part of the output unsent. The bytes already written may end inside
    /// a frame, and any later frame would be read by the peer as the rest of it (RFC 6455
    /// §5.2): stop sending for good, and end the TCP connection so the peer sees it end (it
    /// fails the connection with 1006, §7.1.5) and a Reader blocked in read wakes up.
    fn break_on_write(&self, outbox: &mut Outbox, kind: ErrorKind) -> Error {
        let unwritten = outbox.buf.len() - outbox.start;
        let _ = self.broken.set(Broken::WriteFailed { kind, unwritten });
        outbox.buf = Vec::new();
        outbox.start = 0;
        let _ = outbox.sock.shutdown(Shutdown::Both);
        self.broken_error()
    }

    /// The error every call returns once the connection is broken.
    fn broken_error(&self) -> Error {
        self.broken.get().map_or(Error::Usage(UsageError::Closed), |broken| broken.error())
    }
}

impl Reader {
    /// Read the next message; Pongs and the Close reply are sent on the way. After the
    /// closing handshake, returns [`Error::Closed`].
    pub fn read(&mut self) -> Result<Message, Error> {
        self.read_with(|event| Message::from_event(&event))?.ok_or(Error::Usage(UsageError::StreamingDelivery))
    }

    /// Read the next event and hand it to `f` without copying it (the event borrows the
    /// connection's buffers, under its lock: keep `f` short, a [`Writer`] waits meanwhile).
    /// Works in either delivery mode; with [`crate::Delivery::Streaming`], a message of any
    /// size arrives piece by piece.
    ///
    /// An event taken from the peer is always handed to `f`: when writing what it owes (a
    /// Pong, the Close reply) fails, the failure is returned by the next call.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), rfc6455::Error> {
    /// let ws = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?;
    /// let (mut reader, _writer) = ws.split()?;
    /// // The length of each message, without copying it.
    /// let len = reader.read_with(|event| match event {
    ///     rfc6455::Event::Text(text) => text.len(),
    ///     rfc6455::Event::Binary(data) => data.len(),
    ///     _ => 0,
    /// })?;
    /// # let _ = len; Ok(()) }
    /// ```
    pub fn read_with<R>(&mut self, f: impl FnOnce(Event<'_>) -> R) -> Result<R, Error> {
        if let Some(error) = self.deferred.take() {
            return Err(error);
        }
        let mut f = Some(f);
        loop {
            let mut conn = lock(&self.shared.conn);
            let taken = match conn.next_event() {
                Ok(Some(event)) => match f.take() {
                    Some(f) => Some(Ok(f(event))),
                    None => Some(Err(Error::Usage(UsageError::Closed))),
                },
                Ok(None) => None,
                Err(error) => Some(Err(error)),
            };
            let closed = conn.is_closed();
            let failed = conn.failure().is_some();
            let closing = conn.state() != CloseState::Open;
            match taken {
                Some(Ok(result)) => {
                    // The event was taken from the peer: it is returned whatever happens to
                    // the replies it owes.
                    if let Err(error) = self.shared.write_out(conn) {
                        self.deferred = Some(error);
                    }
                    if closed {
                        self.finish(failed);
                    }
                    return Ok(result);
                }
                Some(Err(error)) => {
                    // The Close frame of a failure (§7.1.7), if it can still go out.
                    let _ = self.shared.write_out(conn);
                    self.finish(failed);
                    // The stream ended because this side broke it: say why.
                    if matches!(error, Error::ConnectionReset) && self.shared.broken.get().is_some() {
                        return Err(self.shared.broken_error());
                    }
                    return Err(error);
                }
                None => {}
            }
            self.shared.write_out(conn)?;
            if closed {
                self.finish(failed);
                return Err(Error::Closed);
            }
            if self.shared.broken.get().is_some() {
                return Err(self.shared.broken_error());
            }
            if closing {
                self.read.set_read_timeout(Some(self.shared.close_timeout))?;
            }
            match self.receive() {
                Ok(()) => {}
                Err(Error::Io(e)) if e.kind() == ErrorKind::Interrupted => {}
                Err(Error::Io(e)) if closing && matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    self.finish(true);
                    return Err(Error::Closed);
                }
                Err(_) if self.shared.broken.get().is_some() => return Err(self.shared.broken_error()),
                Err(error) => return Err(error),
            }
        }
    }

    /// Wait, without any lock, until the socket has bytes (or EOF), then read them straight
    /// into the connection under its lock: the read is sized to the room its input buffer has
    /// left ([`crate::Limits::max_input_buffer`]), and cannot block, since only this thread
    /// reads the socket.
    fn receive(&mut self) -> Result<(), Error> {
        #[cfg(feature = "tls")]
        if lock(&self.shared.conn).tls.is_some() {
            return self.receive_tls();
        }
        // MSG_PEEK: returns once bytes (or EOF) are there, within the read timeout.
        self.read.peek(&mut [0u8; 1])?;
        let mut state = lock(&self.shared.conn);
        let room = state.conn.read_buf();
        if room.is_empty() {
            return Err(Error::Usage(UsageError::InputBufferFull));
        }
        match self.read.read(room)? {
            0 => state.conn.receive_eof(),
            n => state.conn.commit(n),
        }
        Ok(())
    }

    /// Over TLS: plaintext already decrypted, or else wait (without the lock) until the socket
    /// is readable, then read and decrypt under the lock.
    #[cfg(feature = "tls")]
    fn receive_tls(&mut self) -> Result<(), Error> {
        loop {
            {
                let mut state = lock(&self.shared.conn);
                let State { conn, tls } = &mut *state;
                let Some(tls) = tls else { return Ok(()) };
                let room = conn.read_buf();
                if room.is_empty() {
                    return Err(Error::Usage(UsageError::InputBufferFull));
                }
                match super::tls::read_plaintext(tls, room)? {
                    Some(0) => {
                        conn.receive_eof();
                        return Ok(());
                    }
                    Some(n) => {
                        conn.commit(n);
                        return Ok(());
                    }
                    None => {}
                }
            }
            // MSG_PEEK: returns once bytes (or EOF) are there, within the read timeout,
            // leaving them for the session to read.
            self.read.peek(&mut [0u8; 1])?;
            let mut state = lock(&self.shared.conn);
            let Some(tls) = &mut state.tls else { return Ok(()) };
            let read = super::tls::read_records(tls, &mut self.read);
            // An alert for a failure, or a key update: written in order with the writer's data.
            if tls.wants_write() {
                let _ = self.shared.write_out(state);
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
                let _ = self.shared.write_out(state);
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
        if self.shared.broken.get().is_some() {
            return Err(self.shared.broken_error());
        }
        let mut conn = lock(&self.shared.conn);
        encode(&mut conn)?;
        self.shared.write_out(conn)
    }

    /// Send a message of any kind (a `Close` starts the closing handshake).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), rfc6455::Error> {
    /// let (_reader, writer) = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?.split()?;
    /// writer.send(&rfc6455::Message::Text("hello".into()))?;
    /// writer.send(&rfc6455::Message::Binary(vec![1, 2, 3]))?;
    /// # Ok(()) }
    /// ```
    pub fn send(&self, message: &Message) -> Result<(), Error> {
        self.send_with(|c| match message {
            Message::Text(text) => c.send_text(text),
            Message::Binary(data) => c.send_binary(data),
            Message::Ping(data) => c.ping(data),
            Message::Pong(data) => c.pong(data),
            Message::Close(code, reason) => c.close(code.unwrap_or(CloseCode::NORMAL), reason),
        })
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

    /// Send an unsolicited Pong (a heartbeat the peer need not answer, §5.5.3). Pongs that
    /// answer the peer's Pings are sent by the [`Reader`] on its own.
    pub fn pong(&self, payload: &[u8]) -> Result<(), Error> {
        self.send_with(|c| c.pong(payload))
    }

    /// Start the closing handshake; the [`Reader`] sees the peer's Close and then
    /// [`Error::Closed`].
    pub fn close(&self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.send_with(|c| c.close(code, reason))
    }

    /// End the connection at once, without a closing handshake (use [`Self::close`] for a
    /// clean end): the TCP connection is shut in both directions, a [`Reader`] blocked in read
    /// returns, and every later call on either half fails with `ConnectionAborted`. The way to
    /// stop a reader thread from another thread.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), rfc6455::Error> {
    /// let (mut reader, writer) = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?.split()?;
    /// let reading = std::thread::spawn(move || while reader.read().is_ok() {});
    /// writer.shutdown();
    /// reading.join().unwrap();
    /// # Ok(()) }
    /// ```
    pub fn shutdown(&self) {
        let _ = self.shared.broken.set(Broken::ShutDown);
        let _ = self.shared.control.shutdown(Shutdown::Both);
    }
}
