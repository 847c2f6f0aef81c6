//! The engine of the async layer: one sans-IO [`Connection`], one byte stream, and the poll
//! functions that move bytes between them.
//!
//! Every rule of RFC 6455 §5-§7 lives in the core; this file only reads, writes, and ends the
//! transport the way §7.1.1 and §7.1.7 ask. Each poll function does what it can without
//! waiting and keeps its progress in the connection (bytes read are committed in the same poll
//! that read them, bytes written are consumed in the same poll that wrote them), so dropping a
//! future between two polls loses and duplicates nothing: that is what makes reading
//! cancel-safe.
//!
//! One pass of the read loop ([`Driver::poll_progress`]):
//!
//! ```text
//!   no event ready ─▶ write output_parts() (pongs, close replies, messages)    ── pending is fine
//!                  ─▶ deadline passed? (the close timeout; the core's deadlines plug in here)
//!                  ─▶ read into read_buf(), commit(n)                          ── pending: wait
//! ```
//!
//! Reads are sized by the core: `read_buf` is the input buffer between frames and, once a
//! header announced a large payload, room in the message buffer sized to the rest of the
//! frame, so a large payload is read where it is delivered from. While a connection waits for
//! bytes it holds no input buffer: the empty buffer goes back to a per-thread pool
//! (`input_pool`) and one is lent again when the connection is woken.
//!
//! Writing never waits for reading and reading never waits for writing: both are polled in the
//! same pass with the same waker, so a peer that stops reading cannot stop us from reading its
//! Close, and the core's own limit (decoding pauses while the output is over
//! [`Limits::max_output_buffer`](crate::Limits::max_output_buffer)) bounds what such a peer can
//! make us queue.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::time::Instant;

use super::Timeouts;
use super::input_pool;
use super::timer::Timer;
use crate::config::Role;
use crate::connection::{CloseState, Connection};
use crate::error::{Error, UsageError};
use crate::event::Event;

/// Where the transport stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading and writing.
    Open,
    /// The connection is over (closing handshake done, failed, or given up on); the transport
    /// is being ended: write what is queued, half-close, read until the peer's EOF.
    Ending {
        /// A client after a clean closing handshake waits for the server to close TCP first
        /// (§7.1.1); everyone else half-closes at once.
        client_waits: bool,
        flushed: bool,
        shut: bool,
        drained: bool,
    },
    /// Nothing more is read or written.
    Done,
}

/// A connection and its stream, driven by polling.
#[derive(Debug)]
pub(crate) struct Driver<S> {
    pub(crate) stream: S,
    pub(crate) conn: Connection,
    pub(crate) timeouts: Timeouts,
    /// `send` waits while more than this many bytes are queued (back-pressure).
    pub(crate) high_water: usize,
    phase: Phase,
    /// The error to hand out once the transport is ended (`None`: a clean close).
    ending_error: Option<Error>,
    /// When the closing handshake is given up on: set when a Close is first sent or received.
    close_deadline: Option<Instant>,
    timer: Timer,
    /// Bytes were written since the last `poll_flush` of the stream.
    unflushed: bool,
    /// The connection's input buffer went back to the pool when its last read found nothing:
    /// lend it one before the next read.
    input_lent: bool,
}

/// Default [`Driver::high_water`]: enough for a burst of messages to one slow reader, small
/// enough that ten thousand of them stay in memory.
pub const DEFAULT_HIGH_WATER_MARK: usize = 64 << 10;

impl<S: AsyncRead + AsyncWrite + Unpin> Driver<S> {
    pub(crate) fn new(stream: S, mut conn: Connection, timeouts: Timeouts) -> Self {
        // The core keeps the deadlines (keepalive, idle, close: `Connection::poll_timeout`);
        // its close deadline is this layer's close timeout, as in the blocking layer. A zero
        // timeout is refused by the core: the layer's own close deadline still applies then.
        let timers = crate::Timers { close: Some(timeouts.close), ..*conn.timers() };
        let _ = conn.set_timers(timers);
        conn.handle_timeout(Instant::now().into_std());
        Driver {
            stream,
            conn,
            timeouts,
            high_water: DEFAULT_HIGH_WATER_MARK,
            phase: Phase::Open,
            ending_error: None,
            close_deadline: None,
            timer: Timer::default(),
            unflushed: false,
            input_lent: false,
        }
    }

    /// Whether the transport is still in use for the WebSocket (not being ended, not ended).
    pub(crate) fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    /// The next event, handed to `on_event` while it borrows the connection's buffers.
    /// Cancel-safe: an event is only taken from the connection in the poll that returns it.
    pub(crate) fn poll_event<R>(
        &mut self,
        cx: &mut Context<'_>,
        on_event: &mut impl FnMut(Event<'_>) -> R,
    ) -> Poll<Result<R, Error>> {
        loop {
            if self.phase == Phase::Open {
                match self.conn.next_event() {
                    Ok(Some(event)) => {
                        let result = on_event(event);
                        if self.conn.is_closed() {
                            // The peer's Close: send the echo now, whether or not the caller
                            // reads again (it will find the transport being ended).
                            let _ = self.poll_write_output(cx);
                        }
                        return Poll::Ready(Ok(result));
                    }
                    Ok(None) => {}
                    Err(error) => self.begin_ending(Some(error)),
                }
            }
            ready!(self.poll_progress(cx))?;
        }
    }

    /// No event is ready: move bytes. Ready(Ok) once something was read (or the state
    /// changed) and the caller should look for events again; Ready(Err) once the connection is
    /// over and its transport ended: [`Error::Closed`] after a clean close, the failure
    /// otherwise.
    pub(crate) fn poll_progress(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            match self.phase {
                Phase::Open => {}
                Phase::Ending { .. } => {
                    ready!(self.poll_end(cx));
                    self.phase = Phase::Done;
                    return Poll::Ready(Err(self.ending_error.take().unwrap_or(Error::Closed)));
                }
                Phase::Done => return Poll::Ready(Err(self.final_error())),
            }
            if self.conn.is_closed() {
                // The closing handshake is over, or the core failed the connection.
                self.begin_ending(self.conn.failure());
                continue;
            }
            // No event is ready, so every byte read so far was decoded: tell the core the time
            // (it dates what it heard, and acts on a keepalive, idle or close deadline).
            self.conn.handle_timeout(Instant::now().into_std());
            if self.conn.is_closed() {
                // Keepalive unanswered (1011) or idle (1001): the core failed the connection.
                continue;
            }
            if self.conn.timed_out().is_some() && self.conn.should_close_transport() {
                // The core's close deadline passed: give up on the peer.
                self.begin_ending(None);
                continue;
            }
            // RFC 6455 §7.1.1 leaves how long to wait for the peer's Close (and a client's
            // wait for the server's FIN) to the endpoint: the close timeout starts with the
            // first Close either way.
            if self.conn.state() == CloseState::Closing {
                self.arm_close_deadline();
            }
            let write = self.poll_write_output(cx);
            if let Poll::Ready(Err(e)) = write {
                return Poll::Ready(Err(self.io_failed(e)));
            }
            if self.poll_deadline(cx).is_ready() {
                if self.close_deadline.is_some_and(|deadline| deadline <= Instant::now()) {
                    // The peer did not finish the closing handshake in time: give up on it.
                    self.begin_ending(None);
                }
                // Otherwise a core deadline passed: `handle_timeout` above acts on it.
                continue;
            }
            if std::mem::take(&mut self.input_lent)
                && let Some(buf) = input_pool::take()
                && let Err(buf) = self.conn.give_input_buffer(buf)
            {
                input_pool::put(buf);
            }
            let buf = self.conn.read_buf();
            if buf.is_empty() {
                // Input is full because decoding paused for the output to drain.
                if write.is_pending() {
                    return Poll::Pending;
                }
                // The output drained: decode again.
                return Poll::Ready(Ok(()));
            }
            let mut buf = ReadBuf::new(buf);
            match Pin::new(&mut self.stream).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) => {
                    let n = buf.filled().len();
                    if n == 0 {
                        self.conn.receive_eof();
                    } else {
                        self.conn.commit(n);
                    }
                    return Poll::Ready(Ok(()));
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(self.io_failed(e))),
                Poll::Pending => {
                    // Nothing to read: the connection waits without an input buffer (if it
                    // holds nothing undecoded), and lends one from the pool when woken.
                    if let Some(buf) = self.conn.take_input_buffer() {
                        input_pool::put(buf);
                        self.input_lent = true;
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    /// Bytes queued and not yet written.
    pub(crate) fn queued(&self) -> usize {
        self.conn.output_parts().iter().map(|part| part.len()).sum()
    }

    /// Write everything queued, then flush the stream. Progress is kept across polls.
    ///
    /// A large message queued without a copy (an echo of a received message, an owned
    /// buffer) is in up to three pieces, the header in the output buffer and the payload in its
    /// own buffer: a stream that writes vectors takes them in one `poll_write_vectored`; any
    /// other is written one piece at a time. Either way the payload is not staged.
    pub(crate) fn poll_write_output(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.conn.wants_write() {
            let stream = Pin::new(&mut self.stream);
            let n = if stream.is_write_vectored() {
                let [a, b, c] = self.conn.output_parts();
                let slices = [IoSlice::new(a), IoSlice::new(b), IoSlice::new(c)];
                ready!(stream.poll_write_vectored(cx, &slices))?
            } else {
                ready!(stream.poll_write(cx, self.conn.output()))?
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.conn.consume_output(n);
            self.unflushed = true;
        }
        if self.unflushed {
            ready!(Pin::new(&mut self.stream).poll_flush(cx))?;
            self.unflushed = false;
        }
        Poll::Ready(Ok(()))
    }

    /// Write until at most [`Self::high_water`] bytes are queued (back-pressure for senders).
    pub(crate) fn poll_room(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.phase == Phase::Done {
            return Poll::Ready(Err(self.final_error()));
        }
        match self.poll_write_output(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.io_failed(e))),
            Poll::Pending if self.queued() <= self.high_water => Poll::Ready(Ok(())),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Write everything queued (for `flush` and `send`).
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.phase == Phase::Done {
            return Poll::Ready(if self.conn.wants_write() { Err(self.final_error()) } else { Ok(()) });
        }
        match ready!(self.poll_write_output(cx)) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(e) => Poll::Ready(Err(self.io_failed(e))),
        }
    }

    /// Write what the socket takes right now, without waiting or registering for a wakeup
    /// (`try_send`). An I/O error ends the transport and is returned.
    pub(crate) fn write_now(&mut self) -> Result<(), Error> {
        if self.phase == Phase::Done {
            return Ok(());
        }
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match self.poll_write_output(&mut cx) {
            Poll::Ready(Err(e)) => Err(self.io_failed(e)),
            _ => Ok(()),
        }
    }

    /// Encode with the core once there is room: the common step of every send.
    pub(crate) fn queue(
        &mut self,
        encode: impl FnOnce(&mut Connection) -> Result<(), UsageError>,
    ) -> Result<(), Error> {
        if self.phase == Phase::Done && self.conn.state() == CloseState::Open {
            // The transport broke (an I/O error) while the core still thinks it is open.
            return Err(Error::Usage(UsageError::Closed));
        }
        encode(&mut self.conn).map_err(Error::Usage)
    }

    /// The connection is over: end the transport as §7.1.1 (clean close) or §7.1.7 (failure)
    /// asks, then hand out `error` (or [`Error::Closed`]).
    pub(crate) fn begin_ending(&mut self, error: Option<Error>) {
        if self.phase != Phase::Open {
            return;
        }
        let client_waits = error.is_none() && self.conn.role() == Role::Client && self.conn.is_closed();
        self.ending_error = error;
        self.arm_close_deadline();
        self.phase = Phase::Ending { client_waits, flushed: false, shut: false, drained: false };
    }

    /// End the transport: write the Close frame if still queued, half-close (a server, or
    /// anyone after a failure, at once: §7.1.1, §7.1.7), then read and discard until the peer's
    /// EOF, so our last frame is read rather than lost to a reset caused by unread input; a
    /// client after a clean close waits for the server's EOF first, then half-closes. Every
    /// wait ends at the close deadline.
    fn poll_end(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Phase::Ending { client_waits, mut flushed, mut shut, mut drained } = self.phase else {
            return Poll::Ready(());
        };
        let timed_out = self.poll_close_deadline(cx).is_ready();
        let result = (|| {
            if !flushed {
                match self.poll_write_output(cx) {
                    Poll::Pending if !timed_out => return Poll::Pending,
                    _ => flushed = true,
                }
            }
            if !client_waits && !shut {
                match Pin::new(&mut self.stream).poll_shutdown(cx) {
                    Poll::Pending if !timed_out => return Poll::Pending,
                    _ => shut = true,
                }
            }
            while !drained && !timed_out {
                // Nothing read now is decoded: the read buffer serves as scratch space.
                let buf = self.conn.read_buf();
                if buf.is_empty() {
                    break;
                }
                let mut buf = ReadBuf::new(buf);
                match Pin::new(&mut self.stream).poll_read(cx, &mut buf) {
                    Poll::Ready(Ok(())) if !buf.filled().is_empty() => {}
                    Poll::Ready(_) => drained = true,
                    Poll::Pending => return Poll::Pending,
                }
            }
            drained = true;
            if !shut {
                match Pin::new(&mut self.stream).poll_shutdown(cx) {
                    Poll::Pending if !timed_out => return Poll::Pending,
                    _ => shut = true,
                }
            }
            Poll::Ready(())
        })();
        self.phase = Phase::Ending { client_waits, flushed, shut, drained };
        result
    }

    /// The close timeout starts now, unless it already runs.
    fn arm_close_deadline(&mut self) {
        if self.close_deadline.is_none() {
            self.close_deadline = Some(Instant::now() + self.timeouts.close);
        }
    }

    /// The connection's next deadline: this layer's close timeout, or a deadline the core
    /// keeps (keepalive, idle, close), whichever comes first. The core's expiry goes to the core.
    fn next_deadline(&self) -> Option<Instant> {
        let core = self.conn.poll_timeout().map(Instant::from_std);
        match (self.close_deadline, core) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Ready once the close timeout has passed (while the transport is being ended, only this
    /// deadline counts).
    fn poll_close_deadline(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self.close_deadline {
            Some(deadline) => self.timer.poll_until(cx, deadline),
            None => Poll::Pending,
        }
    }

    /// Ready once the next deadline has passed; otherwise the timer wakes `cx` then.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self.next_deadline() {
            Some(deadline) => self.timer.poll_until(cx, deadline),
            None => Poll::Pending,
        }
    }

    /// The transport broke: nothing more can be read or written.
    fn io_failed(&mut self, e: io::Error) -> Error {
        self.phase = Phase::Done;
        Error::Io(e)
    }

    /// What every call returns once the transport is ended.
    fn final_error(&self) -> Error {
        self.conn.failure().unwrap_or(Error::Closed)
    }
}
