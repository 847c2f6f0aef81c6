//! Time in the core, without a clock: the I/O layer passes `now` in
//! ([`Connection::handle_timeout`]) and asks for the next deadline
//! ([`Connection::poll_timeout`]). Three deadlines ([`Timers`]):
//!
//! - keepalive (RFC 6455 §5.5.2 "a Ping may serve as a keepalive"): after `interval` of silence
//!   from the peer a Ping is queued; if no frame at all arrives within `timeout`, the connection
//!   fails with 1011;
//! - idle: after that long without a frame from the peer, the connection fails with 1001;
//! - close (§7.1.1, §7.1.2 leave the wait to the endpoint): once a Close was sent or received,
//!   the peer has that long to finish; then the core gives up, drops what is still queued, and
//!   [`Connection::should_close_transport`] turns true.
//!
//! Everything that happens between two calls is dated at the second: a frame decoded since the
//! last call counts as heard at `now`, a Close queued since counts as sent at `now`. So the I/O
//! layer calls `handle_timeout` after each batch of input and after sending, and the dates are
//! never earlier than the truth (a deadline may come late by one batch, never early).

use std::time::Instant;

use super::{CloseInput, CloseState, Connection, Failure, transition};
use crate::error::UsageError;
use crate::frame::OpCode;
use crate::timers::{Deadline, Timers};

/// The deadlines' state.
#[derive(Debug)]
pub(super) struct Clock {
    pub(super) timers: Timers,
    /// The latest time passed in; `None` until the first [`Connection::handle_timeout`].
    now: Option<Instant>,
    /// A frame (or a piece of one) was decoded since the last `handle_timeout`.
    pub(super) heard: bool,
    /// When the peer was last heard from (or the clock started).
    last_heard: Option<Instant>,
    /// A keepalive Ping is out; the answer is due by then.
    ping_due: Option<Instant>,
    /// The peer must finish the closing handshake by then.
    close_due: Option<Instant>,
    /// The close deadline passed: the transport is to be closed, whatever is still queued.
    pub(super) gave_up: bool,
    /// The deadline that ended the connection, if one did.
    timed_out: Option<Deadline>,
}

impl Clock {
    pub(super) fn new(timers: Timers) -> Self {
        Clock {
            timers,
            now: None,
            heard: false,
            last_heard: None,
            ping_due: None,
            close_due: None,
            gave_up: false,
            timed_out: None,
        }
    }
}

impl Connection {
    /// Tell the connection the time, and let it act on every deadline that has passed: queue a
    /// keepalive Ping, fail the connection (keepalive unanswered: 1011; idle: 1001), or give up
    /// on a closing handshake the peer did not finish.
    ///
    /// The core has no clock: this is its only source of time. The contract:
    /// - call it once when the connection starts (the clocks start then);
    /// - call it after each batch of received bytes has been handed in and its events pulled,
    ///   and after queueing a Close: what happened since the last call is dated `now`;
    /// - call it when [`Self::poll_timeout`]'s deadline has passed;
    /// - then write [`Self::output`] (it may now hold a Ping or a Close), pull events (a failure
    ///   is returned by [`Self::next_event`] as [`Error::TimedOut`](crate::Error::TimedOut)),
    ///   and check [`Self::should_close_transport`].
    ///
    /// Calling it more often is harmless. A `now` earlier than a previous one counts as the
    /// previous one. Afterwards, [`Self::poll_timeout`] is never at or before `now`.
    ///
    /// On a virtual clock (no sleeping: the time is whatever the caller says):
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use rfc6455::{Config, Connection, Error, Deadline, Keepalive, Timers};
    ///
    /// let keepalive = Keepalive { interval: Duration::from_secs(20), timeout: Duration::from_secs(20) };
    /// let config = Config::server().with_timers(Timers { keepalive: Some(keepalive), ..Timers::default() })?;
    /// let mut conn = Connection::new(config);
    /// let t0 = Instant::now();
    /// conn.handle_timeout(t0);
    /// assert_eq!(conn.poll_timeout(), Some(t0 + Duration::from_secs(20)));
    ///
    /// conn.handle_timeout(t0 + Duration::from_secs(20)); // 20 s of silence: a Ping is queued
    /// assert_eq!(conn.output(), [0x89, 0x00]);
    /// conn.consume_output(2);
    ///
    /// conn.handle_timeout(t0 + Duration::from_secs(40)); // no answer: failed with 1011
    /// assert!(matches!(conn.next_event(), Err(Error::TimedOut(Deadline::Keepalive))));
    /// # Ok::<(), rfc6455::UsageError>(())
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.clock.now.map_or(now, |before| before.max(now));
        self.clock.now = Some(now);
        if self.clock.heard || self.clock.last_heard.is_none() {
            // Any frame answers a keepalive Ping: the peer is there.
            self.clock.last_heard = Some(now);
            self.clock.ping_due = None;
            self.clock.heard = false;
        }
        let last_heard = self.clock.last_heard.unwrap_or(now);
        if self.state == CloseState::Open {
            if self.clock.timers.idle.is_some_and(|idle| now >= last_heard + idle) {
                self.fail_on(Deadline::Idle);
            } else if let Some(keepalive) = self.clock.timers.keepalive {
                match self.clock.ping_due {
                    Some(due) if now >= due => self.fail_on(Deadline::Keepalive),
                    Some(_) => {}
                    None if now >= last_heard + keepalive.interval => {
                        // RFC 6455 §5.5.2: a Ping may be sent at any time after the handshake;
                        // control frames may go between the fragments of a message (§5.4).
                        self.tx.encode_control(OpCode::Ping, &[]);
                        self.clock.ping_due = Some(now + keepalive.timeout);
                    }
                    None => {}
                }
            }
        }
        // The closing handshake started (a Close sent, received, or a failure): the peer's
        // time to finish starts now.
        if self.state != CloseState::Open && self.clock.close_due.is_none() {
            self.clock.close_due = self.clock.timers.close.map(|close| now + close);
        }
        if !self.clock.gave_up && self.clock.close_due.is_some_and(|due| now >= due) {
            self.give_up();
        }
    }

    /// The earliest deadline, for the I/O layer to wake up at and call
    /// [`Self::handle_timeout`]; `None` when nothing is timed (no deadline is on, the transport
    /// is to be closed already, or `handle_timeout` was never called).
    ///
    /// A deadline at or before the last `now` means "call `handle_timeout` now": something
    /// happened since (a Close queued) that starts a clock.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let now = self.clock.now?;
        if self.clock.gave_up || self.should_close_transport() {
            return None;
        }
        if self.state != CloseState::Open {
            return match self.clock.close_due {
                Some(due) => Some(due),
                // The closing handshake started since the last call: its clock is not set yet.
                None => self.clock.timers.close.map(|_| now),
            };
        }
        let last_heard = self.clock.last_heard.unwrap_or(now);
        let idle = self.clock.timers.idle.map(|idle| last_heard + idle);
        let keepalive = self.clock.timers.keepalive.map(|k| self.clock.ping_due.unwrap_or(last_heard + k.interval));
        match (idle, keepalive) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The deadline that ended the connection, if one did: [`Deadline::Keepalive`] or
    /// [`Deadline::Idle`] (the connection failed), or [`Deadline::Close`] (the peer did not
    /// finish the closing handshake in time).
    pub fn timed_out(&self) -> Option<Deadline> {
        self.clock.timed_out
    }

    /// The deadlines in force.
    pub fn timers(&self) -> &Timers {
        &self.clock.timers
    }

    /// Replace the deadlines (an I/O layer with its own close timeout setting does this), once
    /// [`Timers::validate`] accepts them. Running deadlines are recomputed from the new values at
    /// the next [`Self::handle_timeout`], except a close deadline already started.
    pub fn set_timers(&mut self, timers: Timers) -> Result<(), UsageError> {
        timers.validate()?;
        self.clock.timers = timers;
        if self.clock.ping_due.is_some() && timers.keepalive.is_none() {
            self.clock.ping_due = None;
        }
        Ok(())
    }

    /// A keepalive or idle deadline passed: fail the connection (§7.1.7) with the deadline's
    /// close code.
    fn fail_on(&mut self, deadline: Deadline) {
        if self.failure.is_some() {
            return;
        }
        if self.state == CloseState::Open {
            self.tx.encode_close(deadline.close_code(), "");
        }
        self.state = transition(self.state, CloseInput::Failed);
        self.failure = Some(Failure::TimedOut(deadline));
        self.clock.timed_out = Some(deadline);
        self.rx.discard_input();
    }

    /// The close deadline passed: the peer had its chance. Nothing more is read, what is still
    /// queued is dropped (a peer that does not read would hold it for ever), and the transport
    /// is to be closed.
    fn give_up(&mut self) {
        self.clock.gave_up = true;
        self.clock.timed_out.get_or_insert(Deadline::Close);
        self.state = transition(self.state, CloseInput::Failed);
        self.rx.discard_input();
        let pending = self.tx.pending();
        self.tx.consume(pending);
    }
}
