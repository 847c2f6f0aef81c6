//! Giving memory back after a large message, without churn.
//!
//! Buffers grow to the largest message they carried. Keeping that for the life of the
//! connection turns one 12 MiB message into 12 MiB held forever; shrinking after every message
//! would reallocate on every large one. The rule in between (bounded hysteresis): a buffer
//! larger than [`KEEP`] is shrunk once [`STREAK`] uses in a row needed less than a quarter of its
//! capacity, to twice the most any of them needed (at least [`KEEP`]). A steady stream of large
//! messages never shrinks (each needs more than a quarter); a steady stream of small ones
//! shrinks once and then never again; one large message among small ones costs one shrink,
//! [`STREAK`] uses later.

/// Capacity a buffer may always keep: below it nothing is ever given back.
pub(crate) const KEEP: usize = 256 << 10;

/// Uses in a row that must need under a quarter of the capacity before it shrinks.
pub(crate) const STREAK: u32 = 8;

/// Tracks recent uses of one buffer.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Shrink {
    streak: u32,
    peak: usize,
}

impl Shrink {
    /// One use of `buf` ended, having needed at most `used` bytes; `buf` now holds `len` bytes
    /// that must stay. Returns the capacity to shrink to, if it is time.
    pub(crate) fn after_use(&mut self, capacity: usize, used: usize, len: usize) -> Option<usize> {
        if capacity <= KEEP || used > capacity / 4 {
            *self = Shrink::default();
            return None;
        }
        self.peak = self.peak.max(used);
        self.streak += 1;
        if self.streak < STREAK {
            return None;
        }
        let target = KEEP.max(self.peak.saturating_mul(2)).max(len);
        *self = Shrink::default();
        (target < capacity).then_some(target)
    }

    /// [`Self::after_use`] applied to a vector.
    pub(crate) fn vec_after_use(&mut self, buf: &mut Vec<u8>, used: usize) {
        if let Some(target) = self.after_use(buf.capacity(), used, buf.len()) {
            buf.shrink_to(target);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_large_uses_never_shrink() {
        let mut shrink = Shrink::default();
        for _ in 0..100 {
            assert_eq!(shrink.after_use(16 << 20, 12 << 20, 0), None);
        }
    }

    #[test]
    fn small_uses_after_a_large_one_shrink_once() {
        let mut shrink = Shrink::default();
        assert_eq!(shrink.after_use(16 << 20, 12 << 20, 0), None);
        for _ in 1..STREAK {
            assert_eq!(shrink.after_use(16 << 20, 100, 0), None);
        }
        assert_eq!(shrink.after_use(16 << 20, 100, 0), Some(KEEP));
        // At KEEP nothing more happens.
        for _ in 0..100 {
            assert_eq!(shrink.after_use(KEEP, 100, 0), None);
        }
    }

    #[test]
    fn alternating_sizes_never_shrink() {
        let mut shrink = Shrink::default();
        for i in 0..100 {
            let used = if i % 4 == 0 { 12 << 20 } else { 100 };
            assert_eq!(shrink.after_use(16 << 20, used, 0), None);
        }
    }

    #[test]
    fn the_target_keeps_room_for_what_was_recently_needed() {
        let mut shrink = Shrink::default();
        for _ in 0..STREAK {
            shrink.after_use(64 << 20, 1 << 20, 0);
        }
        let mut again = Shrink::default();
        let mut got = None;
        for _ in 0..STREAK {
            got = again.after_use(64 << 20, 1 << 20, 0);
        }
        assert_eq!(got, Some(2 << 20));
    }
}
