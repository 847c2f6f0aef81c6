//! One HTTP/2 stream as a byte stream (RFC 8441 §5): the h2 crate's [`SendStream`] and
//! [`RecvStream`] behind `AsyncRead + AsyncWrite`, so a [`WebSocket`](crate::tokio::WebSocket)
//! runs over it as over TCP.
//!
//! HTTP/2 has flow control per stream and per connection (RFC 9113 §5.2): a sender may send only
//! as many DATA bytes as the receiver's window allows, and the receiver opens the window again
//! (WINDOW_UPDATE) as it sees fit. Here that becomes back-pressure both ways:
//!
//! - **Reading** hands out the DATA the peer sent, and releases that much receive window only
//!   when the bytes are read, that is, when the WebSocket takes them into its input buffer. A
//!   WebSocket that stops reading (its application is slow, or its output is full and decoding
//!   paused) stops releasing; the peer's window on this stream closes and its sender waits. At
//!   most one window of the peer's data waits in memory, and other streams go on.
//! - **Writing** asks the connection for send capacity ([`SendStream::reserve_capacity`]) and
//!   sends no more than it was given; when the peer's window is shut, `poll_write` is pending,
//!   so the WebSocket's output grows to its high-water mark and its senders wait. Nothing is
//!   queued past the window inside the h2 crate.
//!
//! Ending the transport (RFC 8441 §5): `poll_shutdown` sends END_STREAM, the orderly close of
//! RFC 6455 §7.1.1's TCP connection; dropping the stream before that (a failed or abandoned
//! connection, an I/O error, a cancelled task) sends `RST_STREAM` with `CANCEL`, the stream's
//! TCP reset. The peer's END_STREAM reads as end of file, its `RST_STREAM` as an error of kind
//! `ConnectionReset`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use ::h2::{Reason, RecvStream, SendStream, StreamId};
use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use bytes::{Buf, Bytes, BytesMut};

/// The most send capacity asked for at once: a few DATA frames' worth, so one stream's burst
/// does not claim the whole connection window ahead of the others.
const MAX_RESERVE: usize = 64 << 10;

/// An HTTP/2 stream as an `AsyncRead + AsyncWrite` byte stream, for either role: a client's
/// request stream (its `SendStream` and the response's `RecvStream`) or a server's (the
/// request's `RecvStream` and the `SendStream` of its response).
///
/// ```no_run
/// # async fn run(send: h2::SendStream<bytes::Bytes>, recv: h2::RecvStream) -> Result<(), rfc6455::Error> {
/// use rfc6455::tokio::h2::H2Stream;
/// use rfc6455::tokio::{Timeouts, WebSocket};
/// use rfc6455::{Config, Connection};
/// // After the extended CONNECT was answered with 200 (RFC 8441 §5):
/// let stream = H2Stream::new(send, recv);
/// let mut ws = WebSocket::from_parts(stream, Connection::new(Config::server()), &[], Timeouts::default())?;
/// ws.send_text("over HTTP/2").await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct H2Stream {
    send: SendStream<Bytes>,
    recv: RecvStream,
    /// What is left of the last DATA frame received; its window is released as it is read.
    chunk: Bytes,
    /// Where written bytes are copied for the h2 crate. Its storage comes back once the crate
    /// has written the frame and dropped its handle, so steady writing does not allocate.
    out: BytesMut,
    /// END_STREAM was sent or the stream was reset: no more writing, and no reset on drop.
    send_done: bool,
    /// The peer's END_STREAM was read.
    recv_done: bool,
}

impl H2Stream {
    /// Join the two halves of one HTTP/2 stream whose extended CONNECT has been answered with
    /// a 2xx (RFC 8441 §5: from then on the stream carries the WebSocket's bytes).
    pub fn new(send: SendStream<Bytes>, recv: RecvStream) -> Self {
        H2Stream { send, recv, chunk: Bytes::new(), out: BytesMut::new(), send_done: false, recv_done: false }
    }

    /// The stream's identifier on its connection (odd: opened by the client).
    pub fn stream_id(&self) -> StreamId {
        self.send.stream_id()
    }

    /// Abort the stream now with `RST_STREAM` and `reason` (RFC 9113 §6.4); RFC 8441 §5 maps a
    /// TCP reset to [`Reason::CANCEL`]. Later reads and writes fail.
    pub fn reset(&mut self, reason: Reason) {
        if !self.send_done {
            self.send.send_reset(reason);
            self.send_done = true;
        }
    }

    /// Whether the peer has ended its side of the stream (END_STREAM read).
    pub fn is_end_stream(&self) -> bool {
        self.recv_done
    }

    /// The error for a write after the stream was reset or ended, naming the peer's reset
    /// reason when there is one.
    fn poll_send_error(&mut self, cx: &mut Context<'_>) -> io::Error {
        match self.send.poll_reset(cx) {
            Poll::Ready(Ok(reason)) => {
                io::Error::new(io::ErrorKind::ConnectionReset, format!("the peer reset the stream ({reason})"))
            }
            Poll::Ready(Err(e)) => io_error(e),
            Poll::Pending => io::ErrorKind::BrokenPipe.into(),
        }
    }
}

impl AsyncRead for H2Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // Take every DATA frame that is ready and fits: the frames leave the h2 crate's queue
        // at once (it bounds how many small frames may wait there), and one read carries many.
        let mut copied = 0;
        while buf.remaining() > 0 {
            if this.chunk.is_empty() {
                if this.recv_done {
                    break;
                }
                match this.recv.poll_data(cx) {
                    Poll::Ready(Some(Ok(data))) => this.chunk = data,
                    // The bytes before the error first; the error stays for the next read.
                    Poll::Ready(Some(Err(_))) | Poll::Pending if copied > 0 => break,
                    Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(io_error(e))),
                    Poll::Pending => return Poll::Pending,
                    // END_STREAM: RFC 8441 §5's orderly close, read as end of file.
                    Poll::Ready(None) => this.recv_done = true,
                }
                continue;
            }
            let n = this.chunk.len().min(buf.remaining());
            buf.put_slice(&this.chunk[..n]);
            this.chunk.advance(n);
            copied += n;
        }
        // The bytes are the WebSocket's now: open the window by as much. A stream the peer
        // already reset has no window left to open, which is not this read's error.
        if copied > 0 {
            let _ = this.recv.flow_control().release_capacity(copied);
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for H2Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.send_done {
            return Poll::Ready(Err(this.poll_send_error(cx)));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            let capacity = this.send.capacity();
            if capacity > 0 {
                let n = capacity.min(buf.len());
                this.out.extend_from_slice(&buf[..n]);
                let data = this.out.split().freeze();
                this.send.send_data(data, false).map_err(io_error)?;
                return Poll::Ready(Ok(n));
            }
            // Ask for what this write needs (the request replaces the previous one) and wait
            // until the peer's windows grant some of it.
            this.send.reserve_capacity(buf.len().min(MAX_RESERVE));
            match ready!(this.send.poll_capacity(cx)) {
                Some(Ok(_)) => {}
                Some(Err(e)) => return Poll::Ready(Err(io_error(e))),
                None => return Poll::Ready(Err(this.poll_send_error(cx))),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // What `poll_write` sent is queued on the connection within the peer's window; the
        // connection's own task writes it to the socket.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.send_done {
            return Poll::Ready(Ok(()));
        }
        this.send_done = true;
        // RFC 8441 §5: the orderly close of the transport is END_STREAM.
        match this.send.send_data(Bytes::new(), true) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(_) => Poll::Ready(Err(this.poll_send_error(cx))),
        }
    }
}

impl Drop for H2Stream {
    fn drop(&mut self) {
        // RFC 8441 §5: a transport dropped without its orderly close is reset with CANCEL.
        self.reset(Reason::CANCEL);
    }
}

/// The h2 crate's error as an I/O error of the kind a TCP stream would report.
pub(crate) fn io_error(e: ::h2::Error) -> io::Error {
    if e.is_io() {
        return e.into_io().unwrap_or_else(|| io::ErrorKind::Other.into());
    }
    let kind = if e.is_reset() {
        io::ErrorKind::ConnectionReset
    } else if e.is_go_away() {
        io::ErrorKind::ConnectionAborted
    } else {
        io::ErrorKind::Other
    };
    io::Error::new(kind, e)
}
