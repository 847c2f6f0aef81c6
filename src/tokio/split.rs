//! A WebSocket split into a [`ReadHalf`] and a [`WriteHalf`] owned by two tasks.
//!
//! Both halves share the connection and the stream behind a mutex that is held only for one
//! poll, never across an `.await`: every poll of the layer is non-blocking, so a busy writer
//! never blocks the reader and the reader never blocks a writer for longer than one read
//! system call.
//!
//! The reader writes what it owes on its own: Pongs and the Close echo go out in the reader's
//! read loop, whatever the writer does. When the socket is full, whichever half polled it last
//! is the one the socket would wake; to make sure the other is not forgotten, both halves
//! register through one waker that wakes them both ([`Wakers`]). So an idle writer never
//! stalls the reader's Pongs, and a writer cancelled while waiting never leaves the reader's
//! output stranded.
//!
//! Back-pressure works as on the whole socket: [`WriteHalf::send`] waits while more than the
//! high-water mark is queued; [`WriteHalf::try_send`] refuses at once. What `try_send` queues is
//! written by the reader's loop when the writer does not flush, so a broadcaster can
//! `try_send` to thousands of write halves and never wait.

use std::borrow::Borrow;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

use ::tokio::io::{AsyncRead, AsyncWrite};
use futures_core::Stream;
use futures_sink::Sink;

use super::WebSocket;
use super::driver::Driver;
use super::stream::{poll_close_sink, poll_next_message};
use super::websocket::{queue_message, queue_owned_message};
use crate::close::CloseCode;
use crate::connection::{CloseState, Connection};
use crate::error::{Error, UsageError};
use crate::event::{Event, Message};
use crate::message::MessageKind;

/// The receiving half: reads messages, and sends the Pongs and the Close echo it owes.
#[derive(Debug)]
pub struct ReadHalf<S> {
    shared: Arc<Shared<S>>,
    ended: bool,
}

/// The sending half. Dropping it does not close the connection: send a Close with
/// [`WriteHalf::close`].
#[derive(Debug)]
pub struct WriteHalf<S> {
    shared: Arc<Shared<S>>,
}

#[derive(Debug)]
struct Shared<S> {
    driver: Mutex<Driver<S>>,
    wakers: Arc<Wakers>,
    /// A waker that wakes both halves (built once from `wakers`).
    both: Waker,
}

/// The wakers of the two halves' pending polls; woken together.
#[derive(Debug, Default)]
struct Wakers {
    reader: Mutex<Option<Waker>>,
    writer: Mutex<Option<Waker>>,
}

impl Wake for Wakers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        for slot in [&self.reader, &self.writer] {
            if let Some(waker) = lock(slot).take() {
                waker.wake();
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every poll leaves the connection consistent before it returns; a panic in another task
    // does not make it unusable.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn register(slot: &Mutex<Option<Waker>>, waker: &Waker) {
    let mut slot = lock(slot);
    match &mut *slot {
        Some(old) if old.will_wake(waker) => {}
        other => *other = Some(waker.clone()),
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// Split into a reader and a writer for two tasks. Unlike `StreamExt::split` from
    /// `futures`, the reader sends its own Pongs and Close echo, and neither half waits for the
    /// other.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), rfc6455::Error> {
    /// # use rfc6455::tokio::{Timeouts, WebSocket};
    /// # use rfc6455::{Config, Connection, Message};
    /// # let (a, b) = tokio::io::duplex(4096);
    /// # let mut client = WebSocket::from_parts(a, Connection::new(Config::client()), &[], Timeouts::default())?;
    /// # let server = WebSocket::from_parts(b, Connection::new(Config::server()), &[], Timeouts::default())?;
    /// let (mut reader, mut writer) = server.split();
    /// let ticker = tokio::spawn(async move {
    ///     writer.send_text("tick").await?;
    ///     Ok::<_, rfc6455::Error>(writer)
    /// });
    /// client.ping(b"are you there?").await?;
    /// // The reader answers the Ping by itself, whatever the writer task is doing.
    /// assert_eq!(reader.read().await?, Message::Ping(b"are you there?".to_vec()));
    /// let (first, second) = (client.read().await?, client.read().await?);
    /// for expected in [Message::Text("tick".into()), Message::Pong(b"are you there?".to_vec())] {
    ///     assert!(first == expected || second == expected);
    /// }
    /// # ticker.await.unwrap()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn split(self) -> (ReadHalf<S>, WriteHalf<S>) {
        let wakers = Arc::new(Wakers::default());
        let both = Waker::from(wakers.clone());
        let shared = Arc::new(Shared { driver: Mutex::new(self.driver), wakers, both });
        (ReadHalf { shared: shared.clone(), ended: self.stream_ended }, WriteHalf { shared })
    }
}

impl<S> Shared<S> {
    /// Run `f` on the driver with a context that wakes both halves; `waker` is the caller's.
    fn poll<R>(&self, reader: bool, waker: &Waker, f: impl FnOnce(&mut Driver<S>, &mut Context<'_>) -> R) -> R {
        register(if reader { &self.wakers.reader } else { &self.wakers.writer }, waker);
        let mut driver = lock(&self.driver);
        let mut cx = Context::from_waker(&self.both);
        f(&mut driver, &mut cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> ReadHalf<S> {
    /// Read the next message (see [`WebSocket::read`]). Cancel-safe.
    pub async fn read(&mut self) -> Result<Message, Error> {
        self.read_with(|event| Message::from_event(&event)).await?.ok_or(Error::Usage(UsageError::StreamingDelivery))
    }

    /// Read the next event without copying it (see [`WebSocket::read_with`]). Cancel-safe.
    pub async fn read_with<R>(&mut self, f: impl FnOnce(Event<'_>) -> R) -> Result<R, Error> {
        let mut f = Some(f);
        let mut on_event = |event: Event<'_>| f.take().map(|f| f(event));
        let shared = &self.shared;
        poll_fn(|cx| shared.poll(true, cx.waker(), |driver, cx| driver.poll_event(cx, &mut on_event)))
            .await?
            .ok_or(Error::Usage(UsageError::Closed))
    }

    /// The sans-IO connection inside, locked (for its state; do not hold it across an await).
    pub fn connection(&self) -> impl std::ops::Deref<Target = Connection> + '_ {
        ConnectionGuard(lock(&self.shared.driver))
    }

    /// Whether `writer` is the other half of this reader.
    pub fn is_pair_of(&self, writer: &WriteHalf<S>) -> bool {
        Arc::ptr_eq(&self.shared, &writer.shared)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WriteHalf<S> {
    /// Send a message (see [`WebSocket::send`]): wait while the output is over the high-water
    /// mark, queue it, write everything queued. Partly cancel-safe, as there.
    pub async fn send<M: Borrow<Message>>(&mut self, message: M) -> Result<(), Error> {
        let message = message.borrow();
        self.send_with(|conn| queue_message(conn, message)).await
    }

    /// Send a text message (see [`Self::send`]; partly cancel-safe as it is).
    pub async fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.send_with(|conn| conn.send_text(text)).await
    }

    /// Send a whole message whose payload the caller hands over: a large one is written from
    /// the buffer itself (see [`WebSocket::send_owned`]). Partly cancel-safe, as [`Self::send`].
    pub async fn send_owned(&mut self, kind: MessageKind, payload: Vec<u8>) -> Result<(), Error> {
        self.send_with(|conn| conn.send_owned(kind, payload)).await
    }

    /// Send a binary message (see [`WebSocket::send`]; partly cancel-safe as it is).
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.send_with(|conn| conn.send_binary(data)).await
    }

    /// Send one fragment of a message (RFC 6455 §5.4). Partly cancel-safe, as [`Self::send`].
    pub async fn send_fragment(&mut self, kind: MessageKind, data: &[u8], is_last: bool) -> Result<(), Error> {
        self.send_with(|conn| conn.send_fragment(kind, data, is_last)).await
    }

    /// Send a Ping (§5.5.2); the reader sees the Pong. Partly cancel-safe, as [`Self::send`].
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.send_with(|conn| conn.ping(payload)).await
    }

    /// Queue a message once the output is at or under the high-water mark (see
    /// [`WebSocket::feed`]). Cancel-safe.
    pub async fn feed(&mut self, message: &Message) -> Result<(), Error> {
        let shared = &self.shared;
        poll_fn(|cx| shared.poll(false, cx.waker(), |driver, cx| driver.poll_room(cx))).await?;
        lock(&shared.driver).queue(|conn| queue_message(conn, message))
    }

    /// Queue a message now or refuse at once with [`UsageError::OutputBufferFull`] (see
    /// [`WebSocket::try_send`]). What the socket does not take at once is written when it can
    /// take more, by the reader's loop if this half does not flush.
    pub fn try_send(&mut self, message: &Message) -> Result<(), Error> {
        let writer_waker = Waker::noop();
        self.shared.poll(false, writer_waker, |driver, cx| {
            if driver.queued() > driver.high_water {
                let _ = driver.poll_write_output(cx);
                if driver.queued() > driver.high_water {
                    return Err(Error::Usage(UsageError::OutputBufferFull));
                }
            }
            driver.queue(|conn| queue_message(conn, message))?;
            match driver.poll_room(cx) {
                Poll::Ready(Err(error)) => Err(error),
                _ => Ok(()),
            }
        })
    }

    /// Write everything queued. Cancel-safe.
    pub async fn flush(&mut self) -> Result<(), Error> {
        let shared = &self.shared;
        poll_fn(|cx| shared.poll(false, cx.waker(), |driver, cx| driver.poll_flush(cx))).await
    }

    /// Start the closing handshake: send a Close (§7.1.2) and write it. The [`ReadHalf`] reads
    /// on until the peer's Close and the end of the transport (at most the close timeout), then
    /// returns [`Error::Closed`].
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.send_with(|conn| conn.close(code, reason)).await
    }

    /// How many queued bytes make senders wait (see [`WebSocket::high_water_mark`]).
    pub fn high_water_mark(&self) -> usize {
        lock(&self.shared.driver).high_water
    }

    /// Set the high-water mark.
    pub fn set_high_water_mark(&mut self, bytes: usize) {
        lock(&self.shared.driver).high_water = bytes;
    }

    /// Where the closing handshake stands.
    pub fn state(&self) -> CloseState {
        lock(&self.shared.driver).conn.state()
    }

    async fn send_with(&mut self, encode: impl FnOnce(&mut Connection) -> Result<(), UsageError>) -> Result<(), Error> {
        let shared = &self.shared;
        poll_fn(|cx| shared.poll(false, cx.waker(), |driver, cx| driver.poll_room(cx))).await?;
        lock(&shared.driver).queue(encode)?;
        poll_fn(|cx| shared.poll(false, cx.waker(), |driver, cx| driver.poll_flush(cx))).await
    }
}

struct ConnectionGuard<'a, S>(MutexGuard<'a, Driver<S>>);

impl<S> std::ops::Deref for ConnectionGuard<'_, S> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0.conn
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for ReadHalf<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let ended = &mut this.ended;
        this.shared.poll(true, cx.waker(), |driver, cx| poll_next_message(driver, ended, cx))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WriteHalf<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.shared.poll(false, cx.waker(), |driver, cx| driver.poll_room(cx))
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        lock(&self.shared.driver).queue(|conn| queue_owned_message(conn, message))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.shared.poll(false, cx.waker(), |driver, cx| driver.poll_flush(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.shared.poll(false, cx.waker(), poll_close_sink)
    }
}
