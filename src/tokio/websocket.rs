//! A connected WebSocket over any tokio byte stream: the sans-IO [`Connection`] plus the stream.
//!
//! Reading pulls events from the connection; when none is ready it writes what is queued
//! (pongs, the Close echo, messages queued with [`WebSocket::feed`]) and reads more bytes, in one
//! pass. So everything queued between two reads goes out in one write, and a server that
//! answers each message with [`WebSocket::feed`] and reads again writes once per batch of
//! requests, not once per message.
//!
//! # Cancel safety
//!
//! | call | cancel-safe | if the future is dropped before it completes |
//! |---|---|---|
//! | [`read`](WebSocket::read), [`read_with`](WebSocket::read_with), `Stream::next` | yes | no event was taken; bytes read are kept for the next call |
//! | [`respond_batch`](WebSocket::respond_batch) | yes | no event was taken |
//! | [`flush`](WebSocket::flush) | yes | what was written stays written; the rest stays queued |
//! | [`feed`](WebSocket::feed) | yes | the message was not queued |
//! | [`send`](WebSocket::send) and the other sends | partly | the message was either not queued, or queued whole and goes out with the next write: never half a frame, never twice |
//! | [`close`](WebSocket::close) | partly | the Close may be queued or sent; call `close` again or keep reading to finish the handshake |

use std::borrow::Borrow;
use std::future::poll_fn;
use std::task::Poll;

use ::tokio::io::{AsyncRead, AsyncWrite};

use super::Timeouts;
use super::driver::Driver;
use crate::close::CloseCode;
use crate::connection::{CloseState, Connection};
use crate::error::{Error, UsageError};
use crate::event::{Event, Message};
use crate::message::MessageKind;

/// A WebSocket connection over an async byte stream (a `TcpStream`, a TLS stream, hyper's
/// upgraded connection, an in-memory `tokio::io::duplex` pipe).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), rfc6455::Error> {
/// use rfc6455::tokio::{Timeouts, WebSocket};
/// use rfc6455::{Config, Connection, Message, MaskKeySource};
///
/// // Two ends of an in-memory pipe, past their opening handshake.
/// let (a, b) = tokio::io::duplex(4096);
/// let client = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(1)));
/// let mut client = WebSocket::from_parts(a, client, &[], Timeouts::default())?;
/// let mut server = WebSocket::from_parts(b, Connection::new(Config::server()), &[], Timeouts::default())?;
///
/// client.send_text("Hello").await?;
/// assert_eq!(server.read().await?, Message::Text("Hello".into()));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct WebSocket<S> {
    pub(crate) driver: Driver<S>,
    /// The `Stream` implementation has returned its last item.
    pub(crate) stream_ended: bool,
    /// The reply [`Self::respond_batch`] is queueing; reused, so replies allocate nothing.
    reply: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// Wrap a stream whose opening handshake is complete. `leftover` holds bytes that arrived
    /// behind the handshake; they are the first frames and are decoded first.
    pub fn from_parts(stream: S, mut conn: Connection, leftover: &[u8], timeouts: Timeouts) -> Result<Self, Error> {
        conn.receive(leftover)?;
        Ok(WebSocket { driver: Driver::new(stream, conn, timeouts), stream_ended: false, reply: Vec::new() })
    }

    /// The sans-IO connection inside.
    pub fn connection(&self) -> &Connection {
        &self.driver.conn
    }

    /// The stream underneath.
    pub fn get_ref(&self) -> &S {
        &self.driver.stream
    }

    /// The stream underneath, mutably. Reading or writing it directly corrupts the connection.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.driver.stream
    }

    /// Take apart into stream and connection.
    pub fn into_parts(self) -> (S, Connection) {
        (self.driver.stream, self.driver.conn)
    }

    /// The timeouts in force.
    pub fn timeouts(&self) -> Timeouts {
        self.driver.timeouts
    }

    /// How many queued bytes make senders wait: [`Self::send`] and [`Self::feed`] wait while
    /// more than this is queued, [`Self::try_send`] refuses. Default 64 KiB.
    pub fn high_water_mark(&self) -> usize {
        self.driver.high_water
    }

    /// Set the high-water mark (see [`Self::high_water_mark`]). What one peer can make this
    /// side hold is this mark plus one message, and never more than
    /// [`Limits::max_output_buffer`](crate::Limits::max_output_buffer).
    pub fn set_high_water_mark(&mut self, bytes: usize) {
        self.driver.high_water = bytes;
    }

    /// Read the next message: text, binary, ping, pong, or the peer's Close. After the closing
    /// handshake (once the transport is ended as RFC 6455 §7.1.1 asks), returns
    /// [`Error::Closed`]. Cancel-safe.
    pub async fn read(&mut self) -> Result<Message, Error> {
        self.read_with(|event| Message::from_event(&event)).await?.ok_or(Error::Usage(UsageError::StreamingDelivery))
    }

    /// Read the next event and hand it to `f` without copying it (the event borrows the
    /// connection's buffers). Works in either delivery mode. Cancel-safe: `f` runs only in the
    /// poll that completes the future.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), rfc6455::Error> {
    /// # use rfc6455::tokio::{Timeouts, WebSocket};
    /// # use rfc6455::{Config, Connection, MaskKeySource};
    /// # let (a, b) = tokio::io::duplex(4096);
    /// # let mut client = WebSocket::from_parts(a, Connection::new(Config::client()), &[], Timeouts::default())?;
    /// # let mut server = WebSocket::from_parts(b, Connection::new(Config::server()), &[], Timeouts::default())?;
    /// use rfc6455::Event;
    /// client.send_text("twelve bytes").await?;
    /// let len = server.read_with(|event| match event {
    ///     Event::Text(text) => text.len(), // borrowed from the input buffer
    ///     _ => 0,
    /// }).await?;
    /// assert_eq!(len, 12);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn read_with<R>(&mut self, f: impl FnOnce(Event<'_>) -> R) -> Result<R, Error> {
        let mut f = Some(f);
        let mut on_event = |event: Event<'_>| f.take().map(|f| f(event));
        let driver = &mut self.driver;
        poll_fn(|cx| driver.poll_event(cx, &mut on_event)).await?.ok_or(Error::Usage(UsageError::Closed))
    }

    /// Serve a batch: wait until at least one event is ready, then hand `f` every event that
    /// the bytes already received complete, and queue the reply `f` returns for each (a
    /// message of that kind with those bytes, typically borrowed from the event). The replies,
    /// pongs and close echoes then go out in one write. A reply that is the event's whole
    /// message (an echo) is queued from the connection's own buffers, and a large one is written
    /// from them behind its header without being copied. Returns how many events were handled;
    /// after the closing handshake, [`Error::Closed`]. Cancel-safe.
    ///
    /// Replies are queued whatever the high-water mark (the core's
    /// [`Limits::max_output_buffer`](crate::Limits::max_output_buffer) still bounds them, and
    /// decoding pauses while it is exceeded): a peer that sends faster than it reads is slowed
    /// down by its own unread replies.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), rfc6455::Error> {
    /// # use rfc6455::tokio::{Timeouts, WebSocket};
    /// # use rfc6455::{Config, Connection, Message};
    /// # let (a, b) = tokio::io::duplex(4096);
    /// # let mut client = WebSocket::from_parts(a, Connection::new(Config::client()), &[], Timeouts::default())?;
    /// # let mut server = WebSocket::from_parts(b, Connection::new(Config::server()), &[], Timeouts::default())?;
    /// use rfc6455::{Event, MessageKind};
    /// client.send_text("echo me").await?;
    /// // An echo server's loop body: every message of the batch answered with itself.
    /// server.respond_batch(|event| match event {
    ///     Event::Text(text) => Some((MessageKind::Text, text.as_bytes())),
    ///     Event::Binary(data) => Some((MessageKind::Binary, data)),
    ///     _ => None,
    /// }).await?;
    /// assert_eq!(client.read().await?, Message::Text("echo me".into()));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn respond_batch<F>(&mut self, mut f: F) -> Result<usize, Error>
    where
        F: for<'a> FnMut(Event<'a>) -> Option<(MessageKind, &'a [u8])>,
    {
        let driver = &mut self.driver;
        let reply = &mut self.reply;
        poll_fn(|cx| {
            let mut handled = 0;
            loop {
                if driver.is_open() {
                    match driver.conn.next_event() {
                        Ok(Some(event)) => {
                            handled += 1;
                            let received = whole_message(&event);
                            // The event borrows the connection's buffers. A reply that is the
                            // received message itself (an echo) is queued from where it lies
                            // (`send_received`: a large one is not copied at all); any other
                            // is copied out before the connection can encode.
                            let reply_to = f(event).map(|(kind, bytes)| {
                                let echo = received == Some((bytes.as_ptr(), bytes.len()));
                                if !echo {
                                    reply.clear();
                                    reply.extend_from_slice(bytes);
                                }
                                (kind, echo)
                            });
                            let queued = match reply_to {
                                Some((kind, true)) => driver.conn.send_received(kind),
                                Some((kind, false)) => driver.conn.send_message(kind, reply),
                                None => Ok(()),
                            };
                            // The peer's Close arrived in this batch: it wins over the reply.
                            if let Err(error) = queued
                                && !driver.conn.is_closed()
                            {
                                return Poll::Ready(Err(error.into()));
                            }
                            continue;
                        }
                        // The batch is done: start its one write (finished by the next call
                        // if the socket is full).
                        Ok(None) if handled > 0 => {
                            let _ = driver.poll_write_output(cx);
                            return Poll::Ready(Ok(handled));
                        }
                        Ok(None) => {}
                        // The failure is sticky: the next call returns it.
                        Err(_) if handled > 0 => return Poll::Ready(Ok(handled)),
                        Err(error) => driver.begin_ending(Some(error)),
                    }
                }
                match driver.poll_progress(cx) {
                    Poll::Ready(Ok(())) => continue,
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                    Poll::Pending => return Poll::Pending,
                }
            }
        })
        .await
    }

    /// Send a message (a `Close` starts the closing handshake; use [`Self::close`] to finish
    /// it): wait while the output is over the high-water mark, queue it, and write everything
    /// queued. Takes a `Message` or a `&Message`.
    ///
    /// Partly cancel-safe: if the future is dropped, the message was either not queued, or
    /// queued whole and goes out with the next write; never half a frame, never twice.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), rfc6455::Error> {
    /// # use rfc6455::tokio::{Timeouts, WebSocket};
    /// # use rfc6455::{Config, Connection};
    /// # let (a, b) = tokio::io::duplex(4096);
    /// # let mut client = WebSocket::from_parts(a, Connection::new(Config::client()), &[], Timeouts::default())?;
    /// # let mut server = WebSocket::from_parts(b, Connection::new(Config::server()), &[], Timeouts::default())?;
    /// use rfc6455::Message;
    /// server.send(Message::Binary(vec![1, 2, 3])).await?;
    /// let ping = Message::Ping(b"hi".to_vec());
    /// server.send(&ping).await?;
    /// assert_eq!(client.read().await?, Message::Binary(vec![1, 2, 3]));
    /// assert_eq!(client.read().await?, ping);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send<M: Borrow<Message>>(&mut self, message: M) -> Result<(), Error> {
        let message = message.borrow();
        self.send_with(|conn| queue_message(conn, message)).await
    }

    /// Send a whole message whose payload the caller hands over (see [`Self::send`]; partly
    /// cancel-safe as it is). A large payload is not copied: its header and the buffer itself
    /// go out in one vectored write (a client masks the buffer in place, RFC 6455 §5.3), and the
    /// buffer is kept for the connection's next received message.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), rfc6455::Error> {
    /// # use rfc6455::tokio::{Timeouts, WebSocket};
    /// # use rfc6455::{Config, Connection, Message, MessageKind};
    /// # let (a, b) = tokio::io::duplex(1 << 20);
    /// # let mut client = WebSocket::from_parts(a, Connection::new(Config::client()), &[], Timeouts::default())?;
    /// # let mut server = WebSocket::from_parts(b, Connection::new(Config::server()), &[], Timeouts::default())?;
    /// server.send_owned(MessageKind::Binary, vec![7; 100_000]).await?;
    /// assert_eq!(client.read().await?, Message::Binary(vec![7; 100_000]));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_owned(&mut self, kind: MessageKind, payload: Vec<u8>) -> Result<(), Error> {
        self.send_with(|conn| conn.send_owned(kind, payload)).await
    }

    /// Send a text message (see [`Self::send`]; partly cancel-safe as it is).
    pub async fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.send_with(|conn| conn.send_text(text)).await
    }

    /// Send a binary message (see [`Self::send`]; partly cancel-safe as it is).
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.send_with(|conn| conn.send_binary(data)).await
    }

    /// Send one fragment of a message (RFC 6455 §5.4): the first carries `kind`, the rest are
    /// continuations, `is_last` ends the message. Control frames may go between fragments.
    /// Partly cancel-safe, as [`Self::send`].
    pub async fn send_fragment(&mut self, kind: MessageKind, data: &[u8], is_last: bool) -> Result<(), Error> {
        self.send_with(|conn| conn.send_fragment(kind, data, is_last)).await
    }

    /// Send a Ping (§5.5.2); the peer's Pong arrives as an event. Partly cancel-safe, as
    /// [`Self::send`].
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.send_with(|conn| conn.ping(payload)).await
    }

    /// Queue a message once the output is at or under the high-water mark, without waiting to
    /// write it: it goes out with the next read, [`Self::flush`] or send, together with
    /// everything else queued. Cancel-safe.
    pub async fn feed(&mut self, message: &Message) -> Result<(), Error> {
        poll_fn(|cx| self.driver.poll_room(cx)).await?;
        self.driver.queue(|conn| queue_message(conn, message))
    }

    /// Queue a message now, or refuse at once: with
    /// [`UsageError::OutputBufferFull`] while more than the high-water mark is queued (a
    /// broadcaster skips a slow client rather than wait for it). What the socket takes at once
    /// is written; the rest goes out with the next read, flush or send.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), rfc6455::Error> {
    /// # use rfc6455::tokio::{Timeouts, WebSocket};
    /// # use rfc6455::{Config, Connection, Message, UsageError, Error};
    /// // A pipe of 1 KiB that nobody reads, and a high-water mark of 4 KiB.
    /// let (a, _b) = tokio::io::duplex(1024);
    /// let mut ws = WebSocket::from_parts(a, Connection::new(Config::server()), &[], Timeouts::default())?;
    /// ws.set_high_water_mark(4096);
    /// let chunk = Message::Binary(vec![0; 1000]);
    /// let mut sent = 0;
    /// while ws.try_send(&chunk).is_ok() {
    ///     sent += 1;
    /// }
    /// assert!(matches!(ws.try_send(&chunk), Err(Error::Usage(UsageError::OutputBufferFull))));
    /// assert!(sent < 10); // the pipe took 1 KiB, the output holds about 5 KiB, the rest was refused
    /// # Ok(())
    /// # }
    /// ```
    pub fn try_send(&mut self, message: &Message) -> Result<(), Error> {
        if self.driver.queued() > self.driver.high_water {
            self.driver.write_now()?;
            if self.driver.queued() > self.driver.high_water {
                return Err(Error::Usage(UsageError::OutputBufferFull));
            }
        }
        self.driver.queue(|conn| queue_message(conn, message))?;
        self.driver.write_now()
    }

    /// Write everything queued. Cancel-safe.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.driver.poll_flush(cx)).await
    }

    /// Close the connection: send a Close with `code` and `reason` (§7.1.2) unless one was
    /// already sent, then read until the peer's Close and the end of the transport, at most
    /// the close timeout ([`Timeouts::close`]). Messages that arrive meanwhile are dropped; to
    /// receive them, send the Close with [`Self::send`] and keep reading until
    /// [`Error::Closed`]. Returns `Ok` once the transport is ended, whether the peer finished
    /// the handshake or the timeout gave up on it. Partly cancel-safe: the Close may already be
    /// queued or sent; call `close` again, or read on, to finish.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), rfc6455::Error> {
    /// # use rfc6455::tokio::{Timeouts, WebSocket};
    /// # use rfc6455::{Config, Connection, Message};
    /// # let (a, b) = tokio::io::duplex(4096);
    /// # let mut client = WebSocket::from_parts(a, Connection::new(Config::client()), &[], Timeouts::default())?;
    /// # let mut server = WebSocket::from_parts(b, Connection::new(Config::server()), &[], Timeouts::default())?;
    /// use rfc6455::{CloseCode, Error};
    /// let peer = tokio::spawn(async move {
    ///     // The peer sees the Close, and its next read finds the connection over.
    ///     let close = server.read().await?;
    ///     assert!(matches!(server.read().await, Err(Error::Closed)));
    ///     Ok::<_, Error>(close)
    /// });
    /// client.close(CloseCode::NORMAL, "bye").await?;
    /// assert_eq!(peer.await.unwrap()?, Message::Close(Some(CloseCode::NORMAL), "bye".into()));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        if self.driver.conn.state() == CloseState::Open && self.driver.is_open() {
            self.driver.queue(|conn| conn.close(code, reason))?;
        }
        loop {
            match poll_fn(|cx| self.driver.poll_event(cx, &mut |_| ())).await {
                Ok(()) => {}
                Err(Error::Closed) => return Ok(()),
                Err(error) => return Err(error),
            }
        }
    }

    /// Wait for room, encode with the core, write everything queued.
    async fn send_with(&mut self, encode: impl FnOnce(&mut Connection) -> Result<(), UsageError>) -> Result<(), Error> {
        poll_fn(|cx| self.driver.poll_room(cx)).await?;
        self.driver.queue(encode)?;
        poll_fn(|cx| self.driver.poll_flush(cx)).await
    }
}

/// Where a whole received message's bytes lie (to recognise a reply that repeats it).
fn whole_message(event: &Event<'_>) -> Option<(*const u8, usize)> {
    match event {
        Event::Text(text) => Some((text.as_ptr(), text.len())),
        Event::Binary(data) => Some((data.as_ptr(), data.len())),
        _ => None,
    }
}

/// Queue an owned [`Message`]: a large Text or Binary payload is written from its own buffer
/// (`Connection::send_owned`), not copied into the output buffer.
pub(crate) fn queue_owned_message(conn: &mut Connection, message: Message) -> Result<(), UsageError> {
    match message {
        Message::Text(text) => conn.send_owned(MessageKind::Text, text.into_bytes()),
        Message::Binary(data) => conn.send_owned(MessageKind::Binary, data),
        other => queue_message(conn, &other),
    }
}

/// Queue any [`Message`] with the core (a `Close` without a code is sent as 1000).
pub(crate) fn queue_message(conn: &mut Connection, message: &Message) -> Result<(), UsageError> {
    match message {
        Message::Text(text) => conn.send_text(text),
        Message::Binary(data) => conn.send_binary(data),
        Message::Ping(data) => conn.ping(data),
        Message::Pong(data) => conn.pong(data),
        Message::Close(code, reason) => conn.close(code.unwrap_or(CloseCode::NORMAL), reason),
    }
}
