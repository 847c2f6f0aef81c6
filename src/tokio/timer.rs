//! The one timer of an async connection: it sleeps until the connection's next deadline.
//!
//! The sans-IO core keeps no clock. The async layer asks one question, "when is the next
//! deadline?", and arms one `tokio::time::Sleep` for it, allocated once when the first deadline
//! appears and reset when the deadline moves. The answer is the earlier of the closing-handshake
//! timeout the layer keeps itself (RFC 6455 §7.1.1 leaves the wait to the endpoint) and the
//! deadline the core computes (`Connection::poll_timeout`: keepalive, idle, close), so the read
//! loop polls exactly one timer, and a core deadline's expiry goes back to the core
//! (`Connection::handle_timeout`).
//!
//! Deadlines are `tokio::time::Instant`s, so a test that pauses tokio's clock
//! (`tokio::time::pause`) runs every timeout on a virtual clock.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::tokio::time::{Instant, Sleep, sleep_until};

/// A reusable sleep until a deadline.
#[derive(Debug, Default)]
pub(crate) struct Timer {
    sleep: Option<Pin<Box<Sleep>>>,
}

impl Timer {
    /// Ready once `deadline` has passed; otherwise registers `cx` to be woken then.
    pub(crate) fn poll_until(&mut self, cx: &mut Context<'_>, deadline: Instant) -> Poll<()> {
        let sleep = match &mut self.sleep {
            Some(sleep) => {
                if sleep.deadline() != deadline {
                    sleep.as_mut().reset(deadline);
                }
                sleep
            }
            none => none.insert(Box::pin(sleep_until(deadline))),
        };
        sleep.as_mut().poll(cx)
    }
}
