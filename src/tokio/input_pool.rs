//! Input buffers lent to whichever connection is reading, so an idle connection holds none.
//!
//! A connection needs an input buffer only while it reads and decodes. An async server keeps
//! thousands of connections waiting at once, and on one thread only one of them reads at a
//! time, so each connection hands its (empty) input buffer back here when its read finds no
//! bytes (`Connection::take_input_buffer`) and borrows one again before its next read
//! (`Connection::give_input_buffer`). A connection that goes `Pending` holds no input memory;
//! a busy one reuses the same few buffers, so steady traffic allocates nothing.
//!
//! The pool is per thread (no lock; a task that moves between a runtime's worker threads
//! simply returns its buffer to the pool of the thread it is on) and bounded: it keeps at most
//! [`MAX_POOLED`] buffers of at most [`MAX_POOLED_CAPACITY`] bytes; anything else is freed.

use std::cell::RefCell;

/// Buffers kept per thread. A buffer is out of the pool only between a connection's read and
/// its return to `Pending` (within one poll), so a handful covers a thread's tasks.
const MAX_POOLED: usize = 16;

/// Largest buffer kept (a grown one is freed: it was only needed by one large burst).
const MAX_POOLED_CAPACITY: usize = 16 << 10;

thread_local! {
    static POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// A pooled buffer, if this thread has one.
pub(crate) fn take() -> Option<Vec<u8>> {
    POOL.with(|pool| pool.borrow_mut().pop())
}

/// Keep `buf` for the next reader on this thread, or free it if the pool is full or the
/// buffer grew large.
pub(crate) fn put(buf: Vec<u8>) {
    if buf.capacity() > MAX_POOLED_CAPACITY {
        return;
    }
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < MAX_POOLED {
            if pool.capacity() == 0 {
                pool.reserve_exact(MAX_POOLED);
            }
            pool.push(buf);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_returned_buffer_is_lent_again() {
        while take().is_some() {}
        let buf = vec![0u8; 8 << 10];
        let ptr = buf.as_ptr();
        put(buf);
        let again = take().expect("pooled");
        assert_eq!(again.as_ptr(), ptr);
        assert!(take().is_none());
    }

    #[test]
    fn large_buffers_and_overflow_are_freed() {
        while take().is_some() {}
        put(vec![0u8; MAX_POOLED_CAPACITY + 1]);
        assert!(take().is_none());
        for _ in 0..MAX_POOLED + 4 {
            put(vec![0u8; 64]);
        }
        let mut n = 0;
        while take().is_some() {
            n += 1;
        }
        assert_eq!(n, MAX_POOLED);
    }
}
