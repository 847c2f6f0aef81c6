//! The connection's deadlines: keepalive, idle timeout and the closing-handshake timeout.
//!
//! RFC 6455 leaves every wait to the endpoint: §7.1.1 lets a client wait "for some time" for
//! the server to close TCP, §7.1.2 leaves open how long to wait for the peer's Close, and
//! §5.5.2 offers Ping "as a keepalive" without saying when. These settings say how long. The
//! core keeps no clock: the I/O layer tells it the time ([`crate::Connection::handle_timeout`])
//! and asks for the next deadline ([`crate::Connection::poll_timeout`]), so every layer (and
//! every test, on a clock of plain `Instant`s) shares one implementation.

use std::time::Duration;

use crate::close::CloseCode;
use crate::error::UsageError;

/// Pings sent while the peer is silent, and how long to wait for its answer (RFC 6455 §5.5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Keepalive {
    /// After this much silence from the peer (no frame at all), send a Ping.
    pub interval: Duration,
    /// If nothing (a Pong or any other frame) arrives this long after the Ping, fail the
    /// connection with 1011, as Python's `websockets` does.
    pub timeout: Duration,
}

impl Keepalive {
    /// Python `websockets`' defaults: a Ping after 20 s of silence, 20 s for the answer.
    pub const DEFAULT: Keepalive = Keepalive { interval: Duration::from_secs(20), timeout: Duration::from_secs(20) };
}

impl Default for Keepalive {
    fn default() -> Self {
        Keepalive::DEFAULT
    }
}

/// Every deadline a connection keeps. None needs a clock in the core: the I/O layer passes the
/// time in. Durations must be above zero ([`Timers::validate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timers {
    /// Ping a silent peer and fail the connection (1011) if it does not answer. Off by default:
    /// a peer that answers nothing for a while is normal for many applications, and turning it
    /// on changes what goes on the wire.
    pub keepalive: Option<Keepalive>,
    /// Fail the connection (with 1001, Going Away) after this long without a frame from the
    /// peer. Off by default.
    pub idle: Option<Duration>,
    /// Once a Close was sent or received, the most time the peer gets to finish the closing
    /// handshake (its Close, then for a client the server's TCP close); then the transport is
    /// to be closed regardless. 5 s by default; `None` waits for ever.
    pub close: Option<Duration>,
}

impl Default for Timers {
    fn default() -> Self {
        Timers { keepalive: None, idle: None, close: Some(Duration::from_secs(5)) }
    }
}

impl Timers {
    /// No deadlines at all: the connection never acts on time.
    pub const OFF: Timers = Timers { keepalive: None, idle: None, close: None };

    /// Check the durations: each that is on must be above zero (a zero deadline would fire as
    /// soon as it is set). Refused with [`UsageError::InvalidTimers`].
    pub fn validate(&self) -> Result<(), UsageError> {
        if let Some(keepalive) = self.keepalive {
            if keepalive.interval.is_zero() {
                return Err(UsageError::InvalidTimers("keepalive interval is 0"));
            }
            if keepalive.timeout.is_zero() {
                return Err(UsageError::InvalidTimers("keepalive timeout is 0"));
            }
        }
        if self.idle.is_some_and(|d| d.is_zero()) {
            return Err(UsageError::InvalidTimers("idle timeout is 0"));
        }
        if self.close.is_some_and(|d| d.is_zero()) {
            return Err(UsageError::InvalidTimers("close timeout is 0"));
        }
        Ok(())
    }
}

/// Which deadline ended a connection ([`crate::Error::TimedOut`],
/// [`crate::Connection::timed_out`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Deadline {
    /// A keepalive Ping got no answer in time: the connection failed with 1011.
    Keepalive,
    /// The peer sent nothing for the idle timeout: the connection failed with 1001.
    Idle,
    /// The peer did not finish the closing handshake in time: the transport is to be closed.
    Close,
}

impl Deadline {
    /// The close code sent when this deadline fails the connection (the close timeout sends
    /// none: a Close is already out).
    pub fn close_code(self) -> Option<CloseCode> {
        match self {
            // As Python's `websockets` does: the peer is presumed gone, an unexpected condition.
            Deadline::Keepalive => Some(CloseCode::INTERNAL_ERROR),
            // The peer did nothing wrong; this endpoint is leaving (§7.4.1).
            Deadline::Idle => Some(CloseCode::GOING_AWAY),
            Deadline::Close => None,
        }
    }
}

impl std::fmt::Display for Deadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Deadline::Keepalive => "no answer to the keepalive ping",
            Deadline::Idle => "idle timeout: nothing received from the peer",
            Deadline::Close => "the peer did not finish the closing handshake in time",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_durations_are_refused() {
        assert_eq!(Timers::default().validate(), Ok(()));
        assert_eq!(Timers::OFF.validate(), Ok(()));
        let zero = Duration::ZERO;
        let k = Keepalive::DEFAULT;
        let bad = [
            Timers { keepalive: Some(Keepalive { interval: zero, ..k }), ..Timers::OFF },
            Timers { keepalive: Some(Keepalive { timeout: zero, ..k }), ..Timers::OFF },
            Timers { idle: Some(zero), ..Timers::OFF },
            Timers { close: Some(zero), ..Timers::OFF },
        ];
        for timers in bad {
            assert!(matches!(timers.validate(), Err(UsageError::InvalidTimers(_))), "{timers:?}");
        }
    }
}
