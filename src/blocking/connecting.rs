//! One connection at a time in the CONNECTING state per remote address (RFC 6455 §4.1).
//!
//! "If the client already has a WebSocket connection to the remote host (IP address)
//! identified by /host/ and port /port/ pair, even if the remote host is known by another name,
//! the client MUST wait until that connection has been established or for that connection to
//! have failed. There MUST be no more than one connection in a CONNECTING state."
//!
//! The blocking client takes a [`ConnectingGuard`] for the resolved address before it opens the
//! TCP connection and holds it through the TLS and WebSocket handshakes. A second connect to the
//! same address waits (at most until its own handshake deadline) for the guard to be released.
//! The rule limits how fast a client can open connections to one server, which is its purpose:
//! a script cannot flood a server with half-open handshakes through this client.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use crate::error::Error;

/// Addresses with a handshake in progress in this process.
static CONNECTING: Mutex<Vec<SocketAddr>> = Mutex::new(Vec::new());
static RELEASED: Condvar = Condvar::new();

fn lock() -> MutexGuard<'static, Vec<SocketAddr>> {
    // The list is consistent between any two calls; a panic elsewhere leaves it usable.
    CONNECTING.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Held while a connection to its address is CONNECTING; released on drop.
#[derive(Debug)]
pub struct ConnectingGuard {
    addr: SocketAddr,
}

/// Wait until no other connection to `addr` is CONNECTING, then mark this one. Fails with a
/// timeout at `deadline`.
pub fn acquire(addr: SocketAddr, deadline: Instant) -> Result<ConnectingGuard, Error> {
    let mut connecting = lock();
    while connecting.contains(&addr) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::Io(ErrorKind::TimedOut.into()));
        }
        connecting = RELEASED.wait_timeout(connecting, left).unwrap_or_else(|poisoned| poisoned.into_inner()).0;
    }
    connecting.push(addr);
    Ok(ConnectingGuard { addr })
}

impl Drop for ConnectingGuard {
    fn drop(&mut self) {
        let mut connecting = lock();
        if let Some(at) = connecting.iter().position(|a| *a == self.addr) {
            connecting.swap_remove(at);
        }
        RELEASED.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn s4_1_a_second_guard_waits_for_the_first() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let first = acquire(addr, Instant::now() + Duration::from_secs(5)).unwrap();
        // Another address is not held up.
        let other = acquire("127.0.0.2:9".parse().unwrap(), Instant::now()).unwrap();
        drop(other);
        // The same address times out while the first is held...
        let err = acquire(addr, Instant::now() + Duration::from_millis(50)).unwrap_err();
        assert!(matches!(err, Error::Io(ref e) if e.kind() == ErrorKind::TimedOut));
        // ...and gets through once it is released.
        let waiter = std::thread::spawn(move || acquire(addr, Instant::now() + Duration::from_secs(5)).is_ok());
        std::thread::sleep(Duration::from_millis(20));
        drop(first);
        assert!(waiter.join().unwrap());
    }
}
