//! `futures` [`Stream`] and [`Sink`] for [`WebSocket`], so it works with `StreamExt`,
//! `SinkExt`, `forward` and `select!`.
//!
//! The stream yields every [`Message`] (pings, pongs and the peer's Close included) and ends
//! (`None`) after the closing handshake; an error is yielded once, then the stream ends. The
//! sink takes messages: `poll_ready` waits while the output is over the high-water mark,
//! `start_send` queues, `poll_flush` writes, `poll_close` sends a Close (1000) if none was sent
//! and writes it; read on to see the closing handshake finish.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use ::tokio::io::{AsyncRead, AsyncWrite};
use futures_core::Stream;
use futures_sink::Sink;

use super::WebSocket;
use super::driver::Driver;
use super::websocket::queue_owned_message;
use crate::close::CloseCode;
use crate::connection::CloseState;
use crate::error::{Error, UsageError};
use crate::event::Message;

/// One item of a message stream: the next message, the end (`None`) after a clean close, or an
/// error (after which the stream ends).
pub(crate) fn poll_next_message<S: AsyncRead + AsyncWrite + Unpin>(
    driver: &mut Driver<S>,
    ended: &mut bool,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<Message, Error>>> {
    if *ended {
        return Poll::Ready(None);
    }
    let result = ready!(driver.poll_event(cx, &mut |event| Message::from_event(&event)));
    match result {
        Ok(Some(message)) => Poll::Ready(Some(Ok(message))),
        Ok(None) => {
            *ended = true;
            Poll::Ready(Some(Err(Error::Usage(UsageError::StreamingDelivery))))
        }
        Err(Error::Closed) => {
            *ended = true;
            Poll::Ready(None)
        }
        Err(error) => {
            *ended = true;
            Poll::Ready(Some(Err(error)))
        }
    }
}

/// `Sink::poll_close`: a Close (1000) unless one was sent, then write everything.
pub(crate) fn poll_close_sink<S: AsyncRead + AsyncWrite + Unpin>(
    driver: &mut Driver<S>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), Error>> {
    if driver.is_open() && driver.conn.state() == CloseState::Open {
        driver.queue(|conn| conn.close(CloseCode::NORMAL, ""))?;
    }
    driver.poll_flush(cx)
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocket<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        poll_next_message(&mut this.driver, &mut this.stream_ended, cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocket<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().driver.poll_room(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        self.get_mut().driver.queue(|conn| queue_owned_message(conn, message))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().driver.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        poll_close_sink(&mut self.get_mut().driver, cx)
    }
}
