//! A connected WebSocket over a blocking stream: the sans-IO [`Connection`] plus a socket.
//!
//! Every call follows the same loop: pull events from the connection; when none is ready,
//! write what it queued (pongs, close replies) and read more bytes. Everything queued before a
//! read goes out in one write. Closing follows RFC 6455 §7.1: the server closes TCP first; a
//! client waits for that, at most [`Timeouts::close`]; after a failure (§7.1.7) the Close frame
//! is written, the sending side is shut, and the socket is drained briefly so the peer reads the
//! Close instead of a reset.

use std::io::{self, ErrorKind, IoSlice};
use std::time::Duration;

use super::Transport;
use crate::close::CloseCode;
use crate::connection::{CloseState, Connection};
use crate::error::{Error, UsageError};
use crate::event::{Event, Message};
use crate::handshake::Request;
use crate::message::MessageKind;

/// Capacity the reply buffer of [`WebSocket::respond_batch`] keeps between batches.
const REPLY_KEEP: usize = 64 << 10;

/// How long a blocking socket waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// The whole opening handshake (§4), from accept or connect to the 101.
    pub handshake: Duration,
    /// A read that waits for data (`None`: wait forever; idle connections are the norm).
    pub read: Option<Duration>,
    /// A write that waits for the peer to take data.
    pub write: Option<Duration>,
    /// After a Close is sent or received: the most time given to the peer to finish the
    /// closing handshake and close TCP, so a silent peer cannot hold the connection.
    pub close: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            handshake: Duration::from_secs(10),
            read: None,
            write: Some(Duration::from_secs(30)),
            close: Duration::from_secs(5),
        }
    }
}

/// A WebSocket connection over a blocking stream.
pub struct WebSocket<S: Transport> {
    stream: S,
    conn: Connection,
    timeouts: Timeouts,
    /// Whether the stream was closed (or given up on); nothing more is read or written.
    transport_done: bool,
    /// A reply being queued by [`Self::respond_batch`] that is not a received message (those
    /// are sent from the connection's buffers); reused, so replies allocate nothing.
    reply: Vec<u8>,
    /// A failure to write what the last event owed (its Pong, the Close reply, earlier
    /// output), reported by the next read so the event itself was not lost.
    deferred: Option<Error>,
    /// Server side: the client's opening request (path, query, headers), kept for the
    /// application.
    request: Option<Box<Request>>,
    /// The subprotocol the handshake settled on, if any (§1.9, §4.2.2).
    subprotocol: Option<String>,
}

/// Lengths and capacities only, never the bytes: a connection with megabytes queued prints in
/// one line.
impl<S: Transport> std::fmt::Debug for WebSocket<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("role", &self.conn.role())
            .field("state", &self.conn.state())
            .field("output_len", &self.conn.output().len())
            .field("buffered_capacity", &self.conn.buffered_capacity())
            .field("reply_capacity", &self.reply.capacity())
            .field("timeouts", &self.timeouts)
            .field("transport_done", &self.transport_done)
            .field("deferred", &self.deferred)
            .field("path", &self.request.as_ref().map(|r| r.path.as_str()))
            .field("subprotocol", &self.subprotocol)
            .finish_non_exhaustive()
    }
}

impl<S: Transport> WebSocket<S> {
    /// Wrap a stream whose opening handshake is complete. `leftover` holds bytes that arrived
    /// behind the handshake; they are the first frames and are decoded first.
    pub fn from_parts(stream: S, conn: Connection, leftover: &[u8], timeouts: Timeouts) -> Result<Self, Error> {
        stream.set_read_timeout(timeouts.read)?;
        stream.set_write_timeout(timeouts.write)?;
        let mut ws = WebSocket {
            stream,
            conn,
            timeouts,
            transport_done: false,
            reply: Vec::new(),
            deferred: None,
            request: None,
            subprotocol: None,
        };
        ws.conn.receive(leftover)?;
        Ok(ws)
    }

    /// Server side: the client's opening request, as the accept hook saw it: its path and
    /// query ([`Request::path`], [`Request::resource_name`]), Origin, offered subprotocols and
    /// every header. `None` on a client, or on a connection built by [`Self::from_parts`].
    ///
    /// ```no_run
    /// # fn main() -> Result<(), rfc6455::Error> {
    /// let server = rfc6455::blocking::Server::bind("127.0.0.1:9001")?;
    /// let ws = server.accept()?.handshake()?;
    /// let request = ws.request().expect("a server keeps the request");
    /// println!("{} asked for {}", request.origin.as_deref().unwrap_or("?"), request.path);
    /// println!("cookie: {:?}", request.header("Cookie"));
    /// # Ok(()) }
    /// ```
    pub fn request(&self) -> Option<&Request> {
        self.request.as_deref()
    }

    /// The subprotocol the opening handshake settled on (the server's choice among the
    /// client's offers, §4.2.2), if any.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    /// Record what the opening handshake settled on (the blocking server and client do).
    pub(crate) fn set_handshake(&mut self, request: Option<Request>, subprotocol: Option<String>) {
        self.request = request.map(Box::new);
        self.subprotocol = subprotocol;
    }

    /// The sans-IO connection inside.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The stream underneath.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The timeouts in force.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// Take apart into stream and connection (to drive them another way).
    pub fn into_parts(self) -> (S, Connection) {
        (self.stream, self.conn)
    }

    /// Send a text message.
    pub fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.conn.send_text(text)?;
        self.flush()
    }

    /// Send a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.conn.send_binary(data)?;
        self.flush()
    }

    /// Send a message of any kind (a `Close` starts the closing handshake).
    pub fn send(&mut self, message: &Message) -> Result<(), Error> {
        match message {
            Message::Text(text) => self.conn.send_text(text)?,
            Message::Binary(data) => self.conn.send_binary(data)?,
            Message::Ping(data) => self.conn.ping(data)?,
            Message::Pong(data) => self.conn.pong(data)?,
            Message::Close(code, reason) => self.conn.close(code.unwrap_or(CloseCode::NORMAL), reason)?,
        }
        self.flush()
    }

    /// Queue a message without writing it: call [`Self::flush`] after a batch, and the whole
    /// batch goes out in one write.
    pub fn queue(&mut self, message: &Message) -> Result<(), UsageError> {
        match message {
            Message::Text(text) => self.conn.send_text(text),
            Message::Binary(data) => self.conn.send_binary(data),
            Message::Ping(data) => self.conn.ping(data),
            Message::Pong(data) => self.conn.pong(data),
            Message::Close(code, reason) => self.conn.close(code.unwrap_or(CloseCode::NORMAL), reason),
        }
    }

    /// Send one fragment of a message (§5.4): the first names the kind, the last has
    /// `is_last`. Control frames (a [`Self::ping`], say) may go out between fragments. With
    /// [`Self::read_with`] and [`crate::Delivery::Streaming`], one connection streams
    /// messages of any size both ways.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), rfc6455::Error> {
    /// use std::io::Read;
    /// let mut ws = rfc6455::blocking::connect("ws://127.0.0.1:9001/upload")?;
    /// let mut file = std::fs::File::open("video.bin")?;
    /// let mut chunk = vec![0u8; 64 << 10];
    /// loop {
    ///     let n = file.read(&mut chunk)?;
    ///     ws.send_fragment(rfc6455::MessageKind::Binary, &chunk[..n], n == 0)?;
    ///     if n == 0 { break; }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn send_fragment(&mut self, kind: MessageKind, data: &[u8], is_last: bool) -> Result<(), Error> {
        self.conn.send_fragment(kind, data, is_last)?;
        self.flush()
    }

    /// Send a Ping.
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.conn.ping(payload)?;
        self.flush()
    }

    /// Send an unsolicited Pong (a heartbeat the peer need not answer, §5.5.3). Pongs that
    /// answer the peer's Pings are sent on their own.
    pub fn pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.conn.pong(payload)?;
        self.flush()
    }

    /// Start the closing handshake (§7.1.2). Keep calling [`Self::read`] until it returns
    /// [`Error::Closed`] to receive the peer's remaining messages and its Close.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.conn.close(code, reason)?;
        self.flush()
    }

    /// Write everything the connection has queued. A large payload queued without a copy goes
    /// out with its header in one vectored write.
    pub fn flush(&mut self) -> Result<(), Error> {
        while self.conn.wants_write() && !self.transport_done {
            let written = match self.conn.output_parts() {
                [only, [], []] => self.stream.write(only),
                [a, b, c] => self.stream.write_vectored(&[IoSlice::new(a), IoSlice::new(b), IoSlice::new(c)]),
            };
            match written {
                Ok(0) => return Err(Error::Io(ErrorKind::WriteZero.into())),
                Ok(n) => self.conn.consume_output(n),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Io(e)),
            }
        }
        self.stream.flush()?;
        Ok(())
    }

    /// Read the next message: text, binary, ping, pong, or the peer's close. Pongs and close
    /// replies are written before it returns. After the closing handshake, returns
    /// [`Error::Closed`].
    pub fn read(&mut self) -> Result<Message, Error> {
        self.read_with(|event| Message::from_event(&event))?.ok_or(Error::Usage(UsageError::StreamingDelivery))
    }

    /// Read the next event and hand it to `f` without copying it (the event borrows the
    /// connection's buffers). Works in either delivery mode.
    ///
    /// An event taken from the peer is always handed to `f`: when writing what is owed
    /// afterwards fails (an earlier send timed out, say), the failure is returned by the next
    /// call.
    pub fn read_with<R>(&mut self, f: impl FnOnce(Event<'_>) -> R) -> Result<R, Error> {
        if let Some(error) = self.deferred.take() {
            return Err(error);
        }
        let mut f = Some(f);
        loop {
            match self.conn.next_event() {
                Ok(Some(event)) => {
                    let Some(f) = f.take() else { return Err(Error::Usage(UsageError::Closed)) };
                    let result = f(event);
                    self.after_event();
                    return Ok(result);
                }
                Ok(None) => {}
                Err(error) => return Err(self.fail_transport(error)),
            }
            self.await_input()?;
        }
    }

    /// Serve a batch: wait until at least one event is ready, then hand `f` every event that
    /// the bytes already received complete, queue the reply `f` returns for each (a message of
    /// that kind with those bytes, typically borrowed from the event), and write all replies,
    /// pongs and close replies in one write. Returns how many events were handled; after the
    /// closing handshake, [`Error::Closed`].
    ///
    /// This is how a server keeps up with pipelined requests: one read, every frame in it
    /// decoded, one write. Nothing is allocated per message once the buffers have grown.
    ///
    /// Events handed to `f` are counted even when the write fails; the failure is returned by
    /// the next call.
    pub fn respond_batch<F>(&mut self, mut f: F) -> Result<usize, Error>
    where
        F: for<'a> FnMut(Event<'a>) -> Option<(MessageKind, &'a [u8])>,
    {
        if let Some(error) = self.deferred.take() {
            return Err(error);
        }
        let mut handled = 0;
        loop {
            match self.conn.next_event() {
                Ok(Some(event)) => {
                    handled += 1;
                    let received = match &event {
                        Event::Text(text) => Some((text.as_ptr(), text.len())),
                        Event::Binary(data) => Some((data.as_ptr(), data.len())),
                        _ => None,
                    };
                    // The event borrows the connection's buffers. A reply that is the received
                    // message itself is sent from there (`send_received`: no copy); any other
                    // reply is copied out before the connection can encode.
                    let reply = f(event).map(|(kind, bytes)| {
                        if received == Some((bytes.as_ptr(), bytes.len())) {
                            (kind, true)
                        } else {
                            self.reply.clear();
                            self.reply.extend_from_slice(bytes);
                            (kind, false)
                        }
                    });
                    let sent = match reply {
                        Some((kind, true)) => self.conn.send_received(kind),
                        Some((kind, false)) => self.conn.send_message(kind, &self.reply),
                        None => Ok(()),
                    };
                    // The peer's Close arrived in this batch: it wins over the reply.
                    if let Err(error) = sent
                        && !self.conn.is_closed()
                    {
                        return Err(error.into());
                    }
                    continue;
                }
                Ok(None) if handled > 0 => break,
                Ok(None) => {}
                Err(error) => return Err(self.fail_transport(error)),
            }
            self.await_input()?;
        }
        // A large reply's buffer is given back, so one big message does not pin its size for
        // the life of the connection; small replies keep reusing theirs.
        if self.reply.capacity() > REPLY_KEEP {
            self.reply.clear();
            self.reply.shrink_to(REPLY_KEEP);
        }
        self.after_event();
        Ok(handled)
    }

    /// No event is ready: write what is queued, stop once the closing handshake is over (the
    /// transport is closed as §7.1.1 asks), otherwise read more bytes.
    fn await_input(&mut self) -> Result<(), Error> {
        self.flush()?;
        if self.conn.is_closed() {
            self.end_transport();
            return Err(Error::Closed);
        }
        self.fill()
    }

    /// The connection failed or the peer reset it: end the transport and hand the error back.
    fn fail_transport(&mut self, error: Error) -> Error {
        self.end_transport();
        error
    }

    /// After handing out an event: write replies, and once the closing handshake is over,
    /// close the transport as §7.1.1 asks. A write failure is kept for the next call: the event
    /// is already out of the connection and must reach the caller.
    fn after_event(&mut self) {
        if let Err(error) = self.flush() {
            self.deferred = Some(error);
        }
        if self.conn.is_closed() {
            self.end_transport();
        }
    }

    /// Read more bytes into the connection. EOF is passed on; a read timeout while closing
    /// gives up on the peer.
    fn fill(&mut self) -> Result<(), Error> {
        if self.transport_done {
            return Err(Error::Closed);
        }
        let closing = self.conn.state() != CloseState::Open;
        if closing {
            self.stream.set_read_timeout(Some(self.timeouts.close))?;
        }
        let read = self.stream.read(self.conn.read_buf());
        match read {
            Ok(0) => self.conn.receive_eof(),
            Ok(n) => self.conn.commit(n),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if closing && is_timeout(&e) => {
                // The peer never finished the closing handshake (§7.1.2 leaves the wait to us).
                self.end_transport();
                return Err(Error::Closed);
            }
            Err(e) => return Err(Error::Io(e)),
        }
        Ok(())
    }

    /// Close the transport, the way §7.1.1 and §7.1.7 ask for this role and this ending.
    fn end_transport(&mut self) {
        if self.transport_done {
            return;
        }
        // Write the Close frame (ours, or the reply) if it is still queued.
        let _ = self.flush();
        if !self.conn.should_close_transport() && self.conn.failure().is_none() {
            // A client after a clean closing handshake: wait for the server's FIN (§7.1.1).
            self.linger(true);
        } else {
            self.linger(false);
        }
        self.transport_done = true;
    }

    /// Half-close and drain until the peer's EOF or the close timeout, so our last frame is
    /// read by the peer rather than lost to a TCP reset caused by unread input.
    fn linger(&mut self, wait_for_peer_first: bool) {
        if !wait_for_peer_first {
            let _ = self.stream.shutdown_write();
        }
        super::drain_until_eof(&mut self.stream, self.timeouts.close);
        if wait_for_peer_first {
            let _ = self.stream.shutdown_write();
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}
