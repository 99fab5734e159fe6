//! Turning random draws into op choices: which operation, which held key, stale or not.
//!
//! Each op takes one 64-bit draw of the thread's generator: its top 16 bits pick the op kind
//! (integer thresholds from the mix weights), the next 16 decide "stale" for a lookup, and the
//! low 32 pick a held key uniformly. A lookup whose keys are chosen by Zipf or a hot set takes
//! a second, whole draw for that. The number of draws therefore depends only on the choices
//! themselves, and the mapping uses integer arithmetic only, so the stream of *choices* (op
//! kind, stale flag, key draw) is a pure function of `(seed, thread index, op index, mix,
//! stale share, key choice)`, identical on every machine. Which concrete key a draw lands on
//! also depends on how many keys the thread holds, which depends on results (a full table
//! refuses inserts, and that depends on the interleaving): that part is not in the digest.

use std::sync::Arc;

use crate::engine::rng::{ChoiceDigest, Xoshiro256StarStar};
use crate::scenario::spec::{KeyChoice, Mix};
use slotscope_trace::OpKind;

/// Picks the op kind from a draw's top 16 bits with integer thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpChooser {
    /// The mix's weights summed, and its lookup and lookup + insert weights (what the digest
    /// folds for a mix).
    total: u64,
    lookup_below: u64,
    insert_below: u64,
    /// `h = r >> 48` below this is a lookup.
    lookup_cut: u64,
    /// Below this (and not a lookup), an insert; else a remove.
    insert_cut: u64,
}

impl OpChooser {
    /// The chooser of `mix` (a mix with all weights 0 chooses lookups only).
    pub fn new(mix: Mix) -> Self {
        let total = u64::from(mix.total());
        if total == 0 {
            return OpChooser {
                total: 1,
                lookup_below: 1,
                insert_below: 1,
                lookup_cut: 1 << 16,
                insert_cut: 1 << 16,
            };
        }
        let lookup_below = u64::from(mix.lookup);
        let insert_below = lookup_below + u64::from(mix.insert);
        // `floor(h * total / 2^16) < b` holds exactly when `h * total < b * 2^16`, that is
        // when `h < ceil(b * 2^16 / total)`: the same kinds as the formula, one compare each.
        let cut = |below: u64| (below << 16).div_ceil(total);
        OpChooser {
            total,
            lookup_below,
            insert_below,
            lookup_cut: cut(lookup_below),
            insert_cut: cut(insert_below),
        }
    }

    /// `(lookup, insert)` cut points: `r >> 48` below the first is a lookup, else below the
    /// second an insert, else a remove (what [`OpChooser::choose`] says).
    #[inline]
    pub fn cuts(&self) -> (u64, u64) {
        (self.lookup_cut, self.insert_cut)
    }

    /// The kind for draw `r`: `x = ((r >> 48) * total) >> 16` falls into a weight's range
    /// (each weight's share is exact to 1/65536), computed as compares of `r >> 48` with the
    /// range ends precomputed.
    #[inline]
    pub fn choose(&self, r: u64) -> OpKind {
        let h = r >> 48;
        if h < self.lookup_cut {
            OpKind::Lookup
        } else if h < self.insert_cut {
            OpKind::Insert
        } else {
            OpKind::Remove
        }
    }
}

/// A share in 0.0 ..= 1.0 as a threshold on `bits` random bits (exact on every IEEE machine).
pub fn share_threshold(share: f64, bits: u32) -> u64 {
    // The clamp keeps the cast in range; NaN becomes 0.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let t = (share.clamp(0.0, 1.0) * (1u64 << bits) as f64) as u64;
    t
}

/// `floor(hi32(r) * len / 2^32)`: an index below `len` (Lemire's multiply-shift; its bias is
/// below `len / 2^32`).
#[inline]
pub fn scale(r: u64, len: usize) -> usize {
    // len <= 2^27 in practice; the result is < len, so it fits.
    #[allow(clippy::cast_possible_truncation)]
    let i = (((r >> 32) * len as u64) >> 32) as usize;
    i
}

/// Zipf's law over ranks `0 .. ranks` (rank 0 most frequent) as a piecewise-linear inverse
/// CDF sampled at [`ZipfTable::POINTS`] points: O(1) per draw, no floating point per draw.
#[derive(Clone, Debug, PartialEq)]
pub struct ZipfTable {
    exponent: f64,
    ranks: usize,
    /// `quantile[i]`: the smallest rank whose CDF reaches `i / POINTS`; `quantile[POINTS]` is
    /// the last rank.
    quantile: Box<[u32]>,
}

impl ZipfTable {
    /// Inverse-CDF sample points (2^12).
    pub const POINTS: usize = 1 << 12;
    /// The most ranks a table covers (2^20); beyond it the tail's mass is dropped, which
    /// shifts probabilities by under 1% for s >= 1.
    pub const MAX_RANKS: usize = 1 << 20;

    /// The table for exponent `s > 0` over `ranks` ranks (clamped to 1 ..= MAX_RANKS).
    pub fn new(s: f64, ranks: usize) -> Self {
        let ranks = ranks.clamp(1, Self::MAX_RANKS);
        // Ranks fit in u32 (at most 2^20).
        #[allow(clippy::cast_precision_loss)]
        let weight = |k: usize| ((k + 1) as f64).powf(-s);
        let total: f64 = (0..ranks).map(weight).sum();
        let mut quantile = vec![0u32; Self::POINTS + 1];
        let mut cdf = 0.0;
        let mut rank = 0usize;
        for (i, q) in quantile.iter_mut().enumerate().take(Self::POINTS) {
            #[allow(clippy::cast_precision_loss)]
            let p = i as f64 / Self::POINTS as f64;
            while rank < ranks - 1 && cdf + weight(rank) / total <= p {
                cdf += weight(rank) / total;
                rank += 1;
            }
            #[allow(clippy::cast_possible_truncation)]
            {
                *q = rank as u32;
            }
        }
        #[allow(clippy::cast_possible_truncation)]
        {
            quantile[Self::POINTS] = (ranks - 1) as u32;
        }
        ZipfTable { exponent: s, ranks, quantile: quantile.into_boxed_slice() }
    }

    /// The rank of draw `r`: its top 12 bits pick a sample point, the next 32 interpolate.
    #[inline]
    pub fn rank(&self, r: u64) -> usize {
        // The top 12 bits are below POINTS.
        #[allow(clippy::cast_possible_truncation)]
        let i = (r >> 52) as usize;
        let lo = u64::from(self.quantile[i]);
        let hi = u64::from(self.quantile[i + 1]);
        let frac = (r >> 20) & 0xFFFF_FFFF;
        let rank = (lo + (((hi - lo + 1) * frac) >> 32)).min(hi);
        // At most MAX_RANKS.
        #[allow(clippy::cast_possible_truncation)]
        let rank = rank as usize;
        rank
    }
}

/// How a lookup maps its key draw to one of the keys a thread holds.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyPicker {
    /// Every held key equally likely.
    Uniform,
    /// Zipf over positions in the held-key list (position 0 hottest), wrapped modulo its
    /// length when the table has more ranks than keys are held.
    Zipf(Arc<ZipfTable>),
    /// A share of draws (low 32 bits under `share_below`) goes to the first `keys` held keys.
    HotSet {
        /// Size of the hot set.
        keys: usize,
        /// [`share_threshold`] (32 bits) of the hot share.
        share_below: u64,
    },
}

impl KeyPicker {
    /// The picker for `choice`; `zipf_ranks` sizes a Zipf table (about the keys a thread
    /// holds).
    pub fn new(choice: KeyChoice, zipf_ranks: usize) -> Self {
        match choice {
            KeyChoice::Uniform => KeyPicker::Uniform,
            KeyChoice::Zipf { s } => KeyPicker::Zipf(Arc::new(ZipfTable::new(s, zipf_ranks))),
            KeyChoice::HotSet { keys, share } => {
                KeyPicker::HotSet { keys: keys.max(1), share_below: share_threshold(share, 32) }
            }
        }
    }

    /// Whether lookups need a whole draw of their own (Zipf and hot sets do; uniform uses
    /// the op's draw).
    pub fn needs_own_draw(&self) -> bool {
        !matches!(self, KeyPicker::Uniform)
    }

    /// A position below `len` (`len > 0`) for key draw `r`.
    #[inline]
    pub fn pick(&self, r: u64, len: usize) -> usize {
        debug_assert!(len > 0);
        match self {
            KeyPicker::Uniform => scale(r, len),
            KeyPicker::Zipf(table) => table.rank(r) % len,
            KeyPicker::HotSet { keys, share_below } => {
                if (r & 0xFFFF_FFFF) < *share_below {
                    scale(r, (*keys).min(len))
                } else {
                    scale(r, len)
                }
            }
        }
    }
}

/// One op's choices: what to do, and the raw draw that picks its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The operation.
    pub kind: OpKind,
    /// A lookup aimed at a key this thread removed (meaningless for other kinds: false).
    pub stale: bool,
    /// The raw draw a [`KeyPicker`] (or the remove's uniform pick) maps to a held key.
    pub key_draw: u64,
    /// The thread's op index of this choice (0-based, every choice counts).
    pub index: u64,
}

/// A thread's stream of choices: its generator, the mix, stale share and key choice in force,
/// and the digest of everything chosen so far.
///
/// The choices are a pure function of the generator's draws and of the settings in force (see
/// the module's doc), so the digest folds the settings, each change of them with the choice
/// index it took effect at, and, when read, the number of choices and the generator's state
/// after them: two streams with the same digest made the same choices. Nothing of it is per
/// op (the hot loop only draws).
#[derive(Clone, Debug)]
pub struct ChoiceStream {
    rng: Xoshiro256StarStar,
    chooser: OpChooser,
    stale_below: u64,
    lookup_draws_own_key: bool,
    digest: ChoiceDigest,
    chosen: u64,
}

impl ChoiceStream {
    /// A stream drawing from `rng`; `picker` says whether lookups take a second draw.
    pub fn new(rng: Xoshiro256StarStar, mix: Mix, stale_share: f64, picker: &KeyPicker) -> Self {
        let mut stream = ChoiceStream {
            rng,
            chooser: OpChooser::new(mix),
            stale_below: share_threshold(stale_share, 16),
            lookup_draws_own_key: picker.needs_own_draw(),
            digest: ChoiceDigest::new(),
            chosen: 0,
        };
        // The settings in force from the start are part of what the digest covers.
        let c = stream.chooser;
        stream.note_change(1, c.total << 32 | c.lookup_below << 16 | c.insert_below);
        stream.note_change(2, stream.stale_below);
        stream.note_change(3, u64::from(stream.lookup_draws_own_key));
        stream
    }

    /// Switches to another mix from the next choice on.
    pub fn set_mix(&mut self, mix: Mix) {
        let chooser = OpChooser::new(mix);
        if chooser != self.chooser {
            self.chooser = chooser;
            self.note_change(1, chooser.total << 32 | chooser.lookup_below << 16 | chooser.insert_below);
        }
    }

    /// Switches to another stale share from the next choice on.
    pub fn set_stale_share(&mut self, share: f64) {
        let below = share_threshold(share, 16);
        if below != self.stale_below {
            self.stale_below = below;
            self.note_change(2, below);
        }
    }

    /// Switches to another key choice from the next choice on.
    pub fn set_picker(&mut self, picker: &KeyPicker) {
        let own = picker.needs_own_draw();
        if own != self.lookup_draws_own_key {
            self.lookup_draws_own_key = own;
            self.note_change(3, u64::from(own));
        }
    }

    /// Folds a change of setting `what` to `value` at the current choice index.
    fn note_change(&mut self, what: u64, value: u64) {
        self.digest.feed(self.chosen);
        self.digest.feed(what);
        self.digest.feed(value);
    }

    /// `n` choices of a [`ChoiceStream::is_plain`] stream: each raw draw is handed to `f` with
    /// its kind and its choice index (the key draw is `r << 32`, as
    /// [`ChoiceStream::next_choice`] makes it). The count is brought up to date once, after
    /// the `n` (a panic inside `f` leaves it where it was, with the generator moved on: the
    /// digest then says the stream is not the one a rerun draws). The worker's lean loop.
    /// `f` gets the draw and its index; [`OpChooser::cuts`] of [`ChoiceStream::chooser`] give
    /// its kind (the caller branches on them directly: a kind computed first and matched
    /// after becomes a select and a second branch).
    #[inline(always)]
    pub fn plain_draws(&mut self, n: u64, mut f: impl FnMut(u64, u64)) {
        debug_assert!(self.is_plain());
        let base = self.chosen;
        for i in 0..n {
            let r = self.rng.next_u64();
            f(r, base + i);
        }
        self.chosen = base + n;
    }

    /// The op chooser in force.
    pub fn chooser(&self) -> OpChooser {
        self.chooser
    }

    /// The next choice, folded into the digest.
    #[inline]
    pub fn next_choice(&mut self) -> Choice {
        let r = self.rng.next_u64();
        let kind = self.chooser.choose(r);
        let lookup = kind == OpKind::Lookup;
        let stale = lookup && ((r >> 32) & 0xFFFF) < self.stale_below;
        // The low 32 bits, moved up to where `scale` reads them.
        let key_draw = if lookup && self.lookup_draws_own_key { self.rng.next_u64() } else { r << 32 };
        let choice = Choice { kind, stale, key_draw, index: self.chosen };
        self.chosen += 1;
        choice
    }

    /// Whether lookups take no stale keys and no draw of their own (uniform key choice): then
    /// [`ChoiceStream::plain_draws`] gives the same choices with less work.
    pub fn is_plain(&self) -> bool {
        self.stale_below == 0 && !self.lookup_draws_own_key
    }

    /// The digest of every choice made so far: the settings' history, the number of choices
    /// and the generator's state after them.
    pub fn digest(&self) -> ChoiceDigest {
        let mut d = self.digest;
        d.feed(self.chosen);
        for w in self.rng.state() {
            d.feed(w);
        }
        d
    }

    /// Choices made so far.
    pub fn chosen(&self) -> u64 {
        self.chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::thread_stream;

    /// The formula the cut points stand for.
    fn by_formula(mix: Mix, r: u64) -> OpKind {
        let total = u64::from(mix.total());
        if total == 0 {
            return OpKind::Lookup;
        }
        let x = ((r >> 48) * total) >> 16;
        if x < u64::from(mix.lookup) {
            OpKind::Lookup
        } else if x < u64::from(mix.lookup + mix.insert) {
            OpKind::Insert
        } else {
            OpKind::Remove
        }
    }

    #[test]
    fn cut_points_choose_what_the_formula_chooses() {
        let mixes = [
            Mix::READ_HEAVY,
            Mix::CHURN,
            Mix::EXCHANGE,
            Mix { lookup: 0, insert: 0, remove: 0 },
            Mix { lookup: 1, insert: 0, remove: 0 },
            Mix { lookup: 0, insert: 0, remove: 7 },
            Mix { lookup: 3, insert: 3, remove: 1 },
            Mix { lookup: 65535, insert: 1, remove: 1 },
            Mix { lookup: 1, insert: 1, remove: 99_999 },
        ];
        for mix in mixes {
            let c = OpChooser::new(mix);
            // Every 16-bit value of `r >> 48`, with random low bits.
            let mut rng = thread_stream(5, 0);
            for h in 0..=u64::from(u16::MAX) {
                let r = (h << 48) | (rng.next_u64() >> 16);
                assert_eq!(c.choose(r), by_formula(mix, r), "{mix:?} h {h}");
            }
        }
    }

    #[test]
    fn plain_choices_are_the_same_choices() {
        for mix in [Mix::READ_HEAVY, Mix::CHURN, Mix { lookup: 1, insert: 0, remove: 0 }] {
            let mut full = ChoiceStream::new(thread_stream(7, 1), mix, 0.0, &KeyPicker::Uniform);
            let mut batched = full.clone();
            assert!(batched.is_plain());
            for _ in 0..10_000 {
                let want = full.next_choice();
                let mut by_batch = None;
                let chooser = batched.chooser();
                batched.plain_draws(1, |r, index| {
                    by_batch =
                        Some(Choice { kind: chooser.choose(r), stale: false, key_draw: r << 32, index });
                });
                assert_eq!(by_batch, Some(want));
            }
            assert_eq!(full.digest(), batched.digest());
            // A batch of many: the same choices, indices and digest as one at a time.
            let mut one = full.clone();
            let mut many = full.clone();
            let mut seen = Vec::new();
            let chooser = many.chooser();
            many.plain_draws(300, |r, index| seen.push((r, chooser.choose(r), index)));
            for &(r, kind, index) in &seen {
                assert_eq!(one.chosen(), index);
                let c = one.next_choice();
                assert_eq!((c.kind, c.key_draw, c.index), (kind, r << 32, index));
            }
            assert_eq!(one.digest(), many.digest());
        }
        let stale = ChoiceStream::new(thread_stream(7, 1), Mix::READ_HEAVY, 0.1, &KeyPicker::Uniform);
        assert!(!stale.is_plain());
        let zipf = ChoiceStream::new(
            thread_stream(7, 1),
            Mix::READ_HEAVY,
            0.0,
            &KeyPicker::new(KeyChoice::Zipf { s: 1.0 }, 100),
        );
        assert!(!zipf.is_plain());
    }

    fn frequencies(mix: Mix, n: usize) -> [usize; 3] {
        let mut stream = ChoiceStream::new(thread_stream(1, 0), mix, 0.0, &KeyPicker::Uniform);
        let mut counts = [0; 3];
        for _ in 0..n {
            counts[stream.next_choice().kind.index()] += 1;
        }
        counts
    }

    #[test]
    fn the_digest_tells_streams_apart_and_costs_nothing_per_op() {
        let new = |seed| ChoiceStream::new(thread_stream(seed, 0), Mix::READ_HEAVY, 0.0, &KeyPicker::Uniform);
        let (mut a, mut b, mut c) = (new(1), new(1), new(2));
        for _ in 0..1000 {
            a.next_choice();
            c.next_choice();
        }
        b.plain_draws(1000, |_, _| {});
        assert_eq!(a.digest(), b.digest(), "the same draws, by either path");
        assert_ne!(a.digest(), c.digest(), "another seed");
        // One more choice, or a mix changed at another op, is another stream.
        let mut d = new(1);
        for _ in 0..1001 {
            d.next_choice();
        }
        assert_ne!(a.digest(), d.digest());
        let (mut e, mut f) = (new(1), new(1));
        for i in 0..1000 {
            if i == 10 {
                e.set_mix(Mix::CHURN);
            }
            if i == 11 {
                f.set_mix(Mix::CHURN);
            }
            e.next_choice();
            f.next_choice();
        }
        assert_ne!(e.digest(), f.digest());
        // Setting what is already in force changes nothing.
        let mut g = new(1);
        g.set_mix(Mix::READ_HEAVY);
        g.set_stale_share(0.0);
        for _ in 0..1000 {
            g.next_choice();
        }
        assert_eq!(g.digest(), a.digest());
        // Other settings from the start: other choices from the same draws.
        let mut h = ChoiceStream::new(thread_stream(1, 0), Mix::CHURN, 0.0, &KeyPicker::Uniform);
        for _ in 0..1000 {
            h.next_choice();
        }
        assert_ne!(h.digest(), a.digest());
    }

    #[test]
    fn chooser_follows_the_weights() {
        let [l, i, r] = frequencies(Mix { lookup: 50, insert: 30, remove: 20 }, 100_000);
        assert!((49_000..51_000).contains(&l), "{l}");
        assert!((29_000..31_000).contains(&i), "{i}");
        assert!((19_000..21_000).contains(&r), "{r}");
    }

    #[test]
    fn zero_weights_are_never_chosen() {
        assert_eq!(frequencies(Mix::CHURN, 10_000)[0], 0);
        let only_lookups = frequencies(Mix { lookup: 1, insert: 0, remove: 0 }, 10_000);
        assert_eq!(only_lookups, [10_000, 0, 0]);
    }

    #[test]
    fn chooser_edges() {
        let c = OpChooser::new(Mix { lookup: 1, insert: 1, remove: 1 });
        assert_eq!(c.choose(0), OpKind::Lookup);
        assert_eq!(c.choose(u64::MAX), OpKind::Remove);
    }

    #[test]
    fn stale_share_is_respected_and_only_for_lookups() {
        let mut stream = ChoiceStream::new(thread_stream(3, 1), Mix::EXCHANGE, 0.25, &KeyPicker::Uniform);
        let (mut lookups, mut stale) = (0u32, 0u32);
        for _ in 0..100_000 {
            let c = stream.next_choice();
            if c.kind == OpKind::Lookup {
                lookups += 1;
                stale += u32::from(c.stale);
            } else {
                assert!(!c.stale);
            }
        }
        let share = f64::from(stale) / f64::from(lookups);
        assert!((0.23..0.27).contains(&share), "{share}");
    }

    #[test]
    fn share_threshold_edges() {
        assert_eq!(share_threshold(0.0, 32), 0);
        assert_eq!(share_threshold(1.0, 32), 1 << 32);
        assert_eq!(share_threshold(0.5, 16), 1 << 15);
        assert_eq!(share_threshold(f64::NAN, 16), 0);
    }

    #[test]
    fn draws_per_op_depend_only_on_the_choices() {
        // Uniform lookups use one draw per op; Zipf lookups take a second one, other ops not.
        let zipf = KeyPicker::new(KeyChoice::Zipf { s: 1.0 }, 100);
        let mut uniform = ChoiceStream::new(thread_stream(4, 0), Mix::EXCHANGE, 0.0, &KeyPicker::Uniform);
        let mut skewed = ChoiceStream::new(thread_stream(4, 0), Mix::EXCHANGE, 0.0, &zipf);
        let mut rng = thread_stream(4, 0);
        for _ in 0..1000 {
            let u = uniform.next_choice();
            let z = skewed.next_choice();
            let r = rng.next_u64();
            assert_eq!(u.kind, OpChooser::new(Mix::EXCHANGE).choose(r));
            assert_eq!(u.key_draw, r << 32);
            assert_eq!(z.kind, u.kind);
            if z.kind == OpKind::Lookup {
                assert_eq!(z.key_draw, rng.next_u64());
                // From here on the two streams are offset by the extra draws.
                return;
            }
        }
        panic!("no lookup in 1000 exchange ops");
    }

    #[test]
    fn scale_stays_below_len() {
        for len in [1, 2, 3, 1000, 1 << 27] {
            assert!(scale(u64::MAX, len) < len);
            assert_eq!(scale(0, len), 0);
        }
    }

    #[test]
    fn zipf_favours_low_ranks_as_the_law_says() {
        let table = ZipfTable::new(1.0, 1000);
        let mut rng = thread_stream(9, 0);
        let mut hits = vec![0usize; 1000];
        let n = 200_000;
        for _ in 0..n {
            hits[table.rank(rng.next_u64())] += 1;
        }
        // P(rank 0) = 1 / H(1000) = 0.1336; P(rank 1) is half of it.
        let h: f64 = (1..=1000).map(|k| 1.0 / f64::from(k)).sum();
        #[allow(clippy::cast_precision_loss)]
        let p0 = hits[0] as f64 / n as f64;
        assert!((p0 - 1.0 / h).abs() < 0.01, "p0 = {p0}");
        assert!(hits[0] > hits[1] && hits[1] > hits[10] && hits[10] > hits[500]);
        assert!(hits.iter().all(|&h| h < n));
    }

    #[test]
    fn zipf_rank_is_always_in_range() {
        for ranks in [1, 2, 7, 4096, 10_000] {
            let table = ZipfTable::new(0.8, ranks);
            for r in [0, u64::MAX, 1 << 63, 12345, u64::MAX >> 12] {
                assert!(table.rank(r) < ranks, "ranks {ranks} r {r}");
            }
        }
    }

    #[test]
    fn hot_set_takes_its_share() {
        let picker = KeyPicker::new(KeyChoice::HotSet { keys: 10, share: 0.9 }, 0);
        let mut rng = thread_stream(5, 0);
        let hot = (0..100_000).filter(|_| picker.pick(rng.next_u64(), 10_000) < 10).count();
        // 90% aimed at the hot set, plus the uniform part's 0.1% landing there too.
        assert!((89_000..91_500).contains(&hot), "{hot}");
    }

    #[test]
    fn pickers_stay_in_range_for_small_lists() {
        let pickers = [
            KeyPicker::Uniform,
            KeyPicker::new(KeyChoice::Zipf { s: 1.2 }, 5000),
            KeyPicker::new(KeyChoice::HotSet { keys: 100, share: 0.5 }, 0),
        ];
        let mut rng = thread_stream(6, 0);
        for p in &pickers {
            for len in [1, 2, 3, 50] {
                for _ in 0..1000 {
                    assert!(p.pick(rng.next_u64(), len) < len);
                }
            }
        }
    }
}
