//! A connected WebSocket over a blocking stream: the sans-IO [`Connection`] plus a socket.
//!
//! Every call follows the same loop: pull events from the connection; when none is ready,
//! write what it queued (pongs, close replies) and read more bytes. Everything queued before a
//! read goes out in one write. Closing follows RFC 6455 §7.1: the server closes TCP first; a
//! client waits for that, at most [`Timeouts::close`]; after a failure (§7.1.7) the Close frame
//! is written, the sending side is shut, and the socket is drained briefly so the peer reads the
//! Close instead of a reset.
//!
//! Time comes from the connection's deadlines ([`crate::Timers`]: keepalive, idle, close): a
//! read waits at most until [`Connection::poll_timeout`] (the socket's read timeout is set to
//! the time left), and when it times out there, [`Connection::handle_timeout`] is told the time
//! and acts (a keepalive Ping to write, a failure, a closing handshake given up). The socket was
//! found empty just before, so a deadline never fires on bytes that were waiting. Bytes read are
//! dated when the next read starts, once they are decoded: a deadline may come late by the
//! time the application took between two reads, never early.

use std::io::{self, ErrorKind, IoSlice};
use std::time::{Duration, Instant};

use super::Transport;
use crate::close::CloseCode;
use crate::connection::Connection;
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
    /// closing handshake and close TCP, so a silent peer cannot hold the connection. It is the
    /// connection's close deadline ([`crate::Timers::close`], which it replaces), and also bounds
    /// the final drain of the socket.
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
    /// The read timeout the socket has now, so it is changed only when it must be.
    read_timeout: Option<Duration>,
    /// Bytes were read since the connection was last told the time.
    undated: bool,
    /// The subprotocol the handshake settled on, if any (§1.9, §4.2.2).
    subprotocol: Option<String>,
    /// An input buffer of the size [`Self::set_read_size`] asked for, waiting to be handed to
    /// the connection at a moment it holds no undecoded input.
    next_input: Option<Vec<u8>>,
    /// The read size [`Self::set_read_size`] asked for (0: the connection's own): a piece
    /// copied to `reply` is at most this long, so `reply` keeps this much.
    read_size: usize,
    /// Address one past the last byte the last read brought into the connection's input, so
    /// [`Self::respond_fragments`] knows when a piece it echoes ends what was read.
    input_end: usize,
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
            .field("next_input", &self.next_input.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

impl<S: Transport> WebSocket<S> {
    /// Wrap a stream whose opening handshake is complete. `leftover` holds bytes that arrived
    /// behind the handshake; they are the first frames and are decoded first.
    ///
    /// The connection's close deadline becomes [`Timeouts::close`]; its other deadlines
    /// (keepalive, idle: [`crate::Config::with_timers`]) are kept, and their clocks start now.
    pub fn from_parts(stream: S, mut conn: Connection, leftover: &[u8], timeouts: Timeouts) -> Result<Self, Error> {
        stream.set_read_timeout(timeouts.read)?;
        stream.set_write_timeout(timeouts.write)?;
        conn.set_timers(crate::Timers { close: Some(timeouts.close), ..*conn.timers() })?;
        conn.handle_timeout(Instant::now());
        let mut ws = WebSocket {
            stream,
            conn,
            timeouts,
            transport_done: false,
            reply: Vec::new(),
            deferred: None,
            request: None,
            subprotocol: None,
            read_timeout: timeouts.read,
            undated: false,
            next_input: None,
            read_size: 0,
            input_end: 0,
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
    /// In streaming delivery, answer pieces with [`Self::respond_fragments`].
    ///
    /// Events handed to `f` are counted even when the write fails; the failure is returned by
    /// the next call.
    pub fn respond_batch<F>(&mut self, mut f: F) -> Result<usize, Error>
    where
        F: for<'a> FnMut(Event<'a>) -> Option<(MessageKind, &'a [u8])>,
    {
        self.serve_batch(|event| f(event).map(|(kind, bytes)| (kind, bytes, None)))
    }

    /// Serve a batch, replying in fragments (§5.4): as [`Self::respond_batch`], but each reply
    /// `f` returns is one fragment, `(kind, bytes, is_last)`; the first fragment of a reply
    /// names its kind and the last one ends it (a fragment that is also the last is a whole
    /// message). With [`crate::Delivery::Streaming`] a server answers messages of any size
    /// piece by piece while holding only what one read brought: answer each
    /// [`Event::Fragment`] with a fragment of its own (see [`Self::set_read_size`] for how much
    /// one read brings). Pings are answered and a Close replied to as in [`Self::respond_batch`].
    ///
    /// A piece sent back as it was received is copied once, from the connection's input
    /// buffer into its output; any other reply is copied out first, as in
    /// [`Self::respond_batch`]. Text replies are checked as they are queued
    /// ([`Connection::send_fragment`]): a reply that cannot be UTF-8 fails with
    /// [`UsageError::InvalidUtf8`].
    ///
    /// ```no_run
    /// # fn main() -> Result<(), rfc6455::Error> {
    /// use rfc6455::blocking::{Server, ServerConfig};
    /// use rfc6455::{Config, Delivery, Event};
    /// let config = ServerConfig { config: Config::server().with_delivery(Delivery::Streaming), ..Default::default() };
    /// let server = Server::bind("127.0.0.1:9001")?.with_config(config);
    /// let mut ws = server.accept()?.handshake()?;
    /// ws.set_read_size(256 << 10);
    /// loop {
    ///     // An echo of messages of any size, in memory of a few reads.
    ///     let served = ws.respond_fragments(|event| match event {
    ///         Event::Fragment { kind, data, is_last } => Some((kind, data, is_last)),
    ///         _ => None,
    ///     });
    ///     match served {
    ///         Ok(_) => {}
    ///         Err(rfc6455::Error::Closed) => return Ok(()),
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn respond_fragments<F>(&mut self, mut f: F) -> Result<usize, Error>
    where
        F: for<'a> FnMut(Event<'a>) -> Option<(MessageKind, &'a [u8], bool)>,
    {
        self.serve_batch(|event| f(event).map(|(kind, bytes, is_last)| (kind, bytes, Some(is_last))))
    }

    /// How many bytes one read from the socket may bring, from the next read on.
    ///
    /// The connection's input buffer starts at 8 KiB. In whole-message delivery that is
    /// enough: a large frame's payload is read straight into the message buffer, in reads as
    /// long as the rest of the frame. In streaming delivery ([`crate::Delivery::Streaming`])
    /// every payload byte comes through the input buffer, so its size is the read size: a
    /// 1 MiB message takes 128 reads of 8 KiB, or 4 of 256 KiB.
    ///
    /// The connection is given an input buffer of `bytes` at the first read that finds it
    /// holding no undecoded input, and keeps it, idle or not: this is memory per connection.
    /// Reads never bring more than [`crate::Limits::max_input_buffer`]. Up to 256 KiB the
    /// buffer is kept for good; a larger one may be given back down to that after a run of
    /// small reads, as the connection does with any buffer a large message grew. A size at or
    /// below 8 KiB changes nothing. The buffer goes with the connection when it is split, once
    /// a read of this `WebSocket` has handed it over.
    pub fn set_read_size(&mut self, bytes: usize) {
        self.next_input = Some(vec![0; bytes]);
        self.read_size = bytes;
    }

    /// The loop of [`Self::respond_batch`] and [`Self::respond_fragments`]: `f`'s reply is a
    /// whole message (`None`) or a fragment (`Some(is_last)`).
    fn serve_batch<F>(&mut self, mut f: F) -> Result<usize, Error>
    where
        F: for<'a> FnMut(Event<'a>) -> Option<(MessageKind, &'a [u8], Option<bool>)>,
    {
        if let Some(error) = self.deferred.take() {
            return Err(error);
        }
        let mut handled = 0;
        loop {
            match self.conn.next_event() {
                Ok(Some(event)) => {
                    handled += 1;
                    let (received, piece) = match &event {
                        Event::Text(text) => (Some((text.as_ptr(), text.len())), false),
                        Event::Binary(data) => (Some((data.as_ptr(), data.len())), false),
                        Event::Fragment { data, .. } => (Some((data.as_ptr(), data.len())), true),
                        _ => (None, false),
                    };
                    // The event borrows the connection's buffers, which the connection cannot
                    // encode from while the borrow lasts: a reply that is the received message
                    // itself is sent from there (`send_received`: no copy), a received piece
                    // that ends what the last read brought from the input buffer taken for the
                    // moment (`send_piece_from_input`: one copy); any other reply is copied out
                    // first.
                    let input_end = self.input_end;
                    let reply = f(event).map(|(kind, bytes, is_last)| {
                        let own = received == Some((bytes.as_ptr(), bytes.len()));
                        let from = match is_last {
                            None if own && !piece => ReplyFrom::Received,
                            Some(_) if own && piece && ends_at(bytes, input_end) => {
                                ReplyFrom::Input(bytes.as_ptr() as usize, bytes.len())
                            }
                            _ => {
                                self.reply.clear();
                                // Room for any piece one read brings, at once: the buffer does
                                // not grow piece by piece.
                                self.reply.reserve(bytes.len().max(self.read_size));
                                self.reply.extend_from_slice(bytes);
                                ReplyFrom::Reply
                            }
                        };
                        (kind, is_last, from)
                    });
                    let sent = match reply {
                        None => Ok(()),
                        Some((kind, None, ReplyFrom::Received)) => self.conn.send_received(kind).map_err(Error::from),
                        Some((kind, None, _)) => self.conn.send_message(kind, &self.reply).map_err(Error::from),
                        Some((kind, Some(is_last), ReplyFrom::Input(at, len))) => {
                            self.send_piece_from_input(kind, at, len, is_last)
                        }
                        Some((kind, Some(is_last), _)) => {
                            self.conn.send_fragment(kind, &self.reply, is_last).map_err(Error::from)
                        }
                    };
                    // The peer's Close arrived in this batch: it wins over the reply.
                    if let Err(error) = sent
                        && !self.conn.is_closed()
                    {
                        return Err(error);
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
        // the life of the connection; small replies, and pieces of a read, keep reusing theirs.
        let keep = REPLY_KEEP.max(self.read_size);
        if self.reply.capacity() > keep {
            self.reply.clear();
            self.reply.shrink_to(keep);
        }
        self.after_event();
        Ok(handled)
    }

    /// Queue as a fragment the piece the last event handed out, `len` bytes at address `at`
    /// in the input buffer, ending what the last read brought. Everything read is decoded
    /// then, so the connection hands its input buffer out (`take_input_buffer`): the piece is
    /// encoded from it straight into the output, and the buffer is given back at once.
    fn send_piece_from_input(&mut self, kind: MessageKind, at: usize, len: usize, is_last: bool) -> Result<(), Error> {
        let Some(input) = self.conn.take_input_buffer() else {
            return Err(Error::Io(io::Error::other("the piece to send back is no longer in the input buffer")));
        };
        let piece = at.checked_sub(input.as_ptr() as usize).and_then(|offset| input.get(offset..)?.get(..len));
        let sent = match piece {
            Some(piece) => self.conn.send_fragment(kind, piece, is_last).map_err(Error::from),
            None => Err(Error::Io(io::Error::other("the piece to send back is not in the input buffer"))),
        };
        // Taken just now, so the connection holds none and takes it back.
        let _ = self.conn.give_input_buffer(input);
        sent
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

    /// Read more bytes into the connection, waiting at most until the connection's next
    /// deadline; EOF is passed on. A wait that ends at the deadline tells the connection the
    /// time, and the caller's loop then writes what it queued or ends the connection.
    fn fill(&mut self) -> Result<(), Error> {
        if self.transport_done {
            return Err(Error::Closed);
        }
        if self.undated {
            // Everything read so far is decoded: date it (what was heard moves the keepalive
            // and idle deadlines on) before waiting for more.
            self.undated = false;
            self.conn.handle_timeout(Instant::now());
            if self.conn.is_closed() {
                return Ok(());
            }
        }
        let wait = read_wait(self.conn.poll_timeout(), self.timeouts.read, self.read_timeout);
        if wait.timeout != self.read_timeout {
            self.stream.set_read_timeout(wait.timeout)?;
            self.read_timeout = wait.timeout;
        }
        if let Some(input) = self.next_input.take() {
            self.install_input(input);
        }
        let into = self.conn.read_buf();
        let at = into.as_ptr() as usize;
        let read = self.stream.read(into);
        match read {
            Ok(0) => self.conn.receive_eof(),
            Ok(n) => {
                self.conn.commit(n);
                self.input_end = at + n;
                self.undated = true;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if wait.for_deadline && is_timeout(&e) => self.conn.handle_timeout(Instant::now()),
            Err(e) => return Err(Error::Io(e)),
        }
        Ok(())
    }

    /// Hand the connection the input buffer [`Self::set_read_size`] made, replacing its own; it
    /// takes one only while nothing undecoded is in its input, so otherwise it is kept for the
    /// next read.
    fn install_input(&mut self, input: Vec<u8>) {
        drop(self.conn.take_input_buffer());
        if let Err(input) = self.conn.give_input_buffer(input) {
            self.next_input = Some(input);
        }
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

/// Where [`WebSocket::serve_batch`] takes a reply's bytes from.
enum ReplyFrom {
    /// The message the event carried, sent from the connection's buffers.
    Received,
    /// The piece the event carried (address, length), ending what the last read brought.
    Input(usize, usize),
    /// The reply buffer it was copied to.
    Reply,
}

/// Whether `bytes` are not empty and end at address `end`.
fn ends_at(bytes: &[u8], end: usize) -> bool {
    !bytes.is_empty() && bytes.as_ptr() as usize + bytes.len() == end
}

/// How long one read may wait: the socket's read timeout, and whether it ends at the
/// connection's deadline rather than at the user's [`Timeouts::read`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadWait {
    pub(crate) timeout: Option<Duration>,
    pub(crate) for_deadline: bool,
}

/// The shortest wait a deadline asks for: a socket timeout cannot be zero.
const MIN_WAIT: Duration = Duration::from_millis(1);

/// The read timeout for the next read, given the connection's next deadline, the user's read
/// timeout and the timeout the socket has now. The socket keeps its timeout while that ends
/// no later than the deadline and no earlier than half way to it, so a connection that reads
/// often changes it rarely (each change is a system call); waking a little early only means
/// telling the connection the time once more.
pub(crate) fn read_wait(deadline: Option<Instant>, read: Option<Duration>, current: Option<Duration>) -> ReadWait {
    let Some(deadline) = deadline else { return ReadWait { timeout: read, for_deadline: false } };
    let left = deadline.saturating_duration_since(Instant::now()).max(MIN_WAIT);
    if read.is_some_and(|read| read <= left) {
        return ReadWait { timeout: read, for_deadline: false };
    }
    let keep = current.filter(|&c| c <= left && c >= left / 2);
    ReadWait { timeout: Some(keep.unwrap_or(left)), for_deadline: true }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

#[cfg(test)]
#[path = "websocket_tests.rs"]
mod tests;
