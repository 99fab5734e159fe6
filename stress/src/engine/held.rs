//! The keys a worker holds, and the ones it removed lately (for stale lookups).

/// A key this thread inserted and still holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeldKey {
    pub id: u64,
    pub seq: u64,
}

/// The keys a thread holds, oldest first: a vector and the index of its first live entry, so
/// that a random pick is one addition (no wrap-around test, as a ring would need on every
/// lookup) and the oldest key leaves in O(1). The room of keys that left at the front is
/// reclaimed once it is over half the vector.
#[derive(Debug, Default)]
pub(crate) struct HeldKeys {
    v: Vec<HeldKey>,
    head: usize,
}

impl HeldKeys {
    pub(crate) fn with_capacity(n: usize) -> Self {
        HeldKeys { v: Vec::with_capacity(n), head: 0 }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.v.len() - self.head
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.v.len() == self.head
    }

    /// The `i`-th oldest (`i < len`).
    #[inline]
    pub(crate) fn get(&self, i: usize) -> HeldKey {
        self.v[self.head + i]
    }

    #[inline]
    pub(crate) fn push_back(&mut self, k: HeldKey) {
        self.v.push(k);
    }

    /// Takes the `i`-th out, the newest taking its place (order is not kept).
    #[inline]
    pub(crate) fn swap_remove(&mut self, i: usize) -> HeldKey {
        self.v.swap_remove(self.head + i)
    }

    /// Takes the oldest out.
    pub(crate) fn pop_front(&mut self) -> Option<HeldKey> {
        if self.is_empty() {
            return None;
        }
        let k = self.v[self.head];
        self.head += 1;
        if self.head >= 1024 && self.head * 2 >= self.v.len() {
            self.v.drain(..self.head);
            self.head = 0;
        }
        Some(k)
    }
}

/// Own removed keys remembered for stale-key lookups (a ring: the oldest are forgotten).
pub const STALE_KEYS_KEPT: usize = 1024;

const _: () = assert!(STALE_KEYS_KEPT.is_power_of_two());

/// The last [`STALE_KEYS_KEPT`] ids this thread removed (a power of two: the ring's index is
/// a mask, not a division, on every remove).
#[derive(Debug)]
pub(crate) struct StaleKeys {
    ids: Box<[u64; STALE_KEYS_KEPT]>,
    /// Ids pushed so far (the next goes to `pushed % STALE_KEYS_KEPT`).
    pushed: usize,
}

impl StaleKeys {
    pub(crate) fn new() -> Self {
        StaleKeys { ids: Box::new([0; STALE_KEYS_KEPT]), pushed: 0 }
    }

    #[inline]
    pub(crate) fn push(&mut self, id: u64) {
        self.ids[self.pushed & (STALE_KEYS_KEPT - 1)] = id;
        self.pushed = self.pushed.wrapping_add(1);
    }

    /// A remembered id for draw `r`, if any.
    #[inline]
    pub(crate) fn pick(&self, r: u64) -> Option<u64> {
        let len = self.pushed.min(STALE_KEYS_KEPT);
        (len > 0).then(|| self.ids[crate::engine::mix::scale(r, len)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_keys_keep_order_at_the_front_and_reclaim_room() {
        let mut h = HeldKeys::with_capacity(4);
        for id in 0..5000 {
            h.push_back(HeldKey { id, seq: id });
        }
        for want in 0..3000 {
            assert_eq!(h.pop_front().map(|k| k.id), Some(want));
        }
        assert_eq!(h.len(), 2000);
        assert_eq!(h.get(0).id, 3000);
        assert!(h.v.len() < 5000, "the front's room was reclaimed");
        let out = h.swap_remove(0);
        assert_eq!(out.id, 3000);
        assert_eq!(h.get(0).id, 4999, "the newest takes its place");
        while h.pop_front().is_some() {}
        assert!(h.is_empty() && h.pop_front().is_none());
    }

    #[test]
    fn stale_keys_remember_the_last_ones() {
        let mut s = StaleKeys::new();
        assert_eq!(s.pick(0), None);
        for id in 0..(STALE_KEYS_KEPT as u64 + 10) {
            s.push(id);
        }
        for r in [0, u64::MAX, 1 << 40] {
            assert!(s.pick(r).unwrap() >= 10, "the first ten were forgotten");
        }
    }
}
