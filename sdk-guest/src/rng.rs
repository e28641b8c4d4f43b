//! A deterministic random number generator, seeded from the task seed.
//!
//! Plugins get no randomness from the host: every random choice must come from the seed the
//! validator records with the task, so that anyone can replay it. [`Rng`] is xoshiro256\*\*
//! (Blackman and Vigna), with its state filled from the seed by SplitMix64, as its authors
//! recommend. Both are small, fast and well known, and their output is the same on every platform
//! (native and wasm alike), so a plugin's unit tests see exactly the tasks its wasm build makes.
//!
//! ```
//! use sdk_guest::rng::Rng;
//!
//! let mut rng = Rng::from_seed(42);
//! let a = rng.range_u64(0..100);
//! let b = rng.range_u64(0..100);
//! assert_eq!((a, b), { let mut again = Rng::from_seed(42); (again.range_u64(0..100), again.range_u64(0..100)) });
//! ```

use std::ops::Range;

/// SplitMix64: a 64-bit generator with a single word of state.
///
/// It is used to expand one `u64` seed into the 256-bit state of [`Rng`], and is handy on its own
/// for hashing a counter into a well-mixed `u64`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose first output is the SplitMix64 mix of `seed + 0x9e3779b97f4a7c15`.
    pub const fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    #[allow(clippy::should_implement_trait)]
    pub const fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The xoshiro256\*\* generator: fast, 256 bits of state, and deterministic on every platform.
///
/// Not cryptographic: miners who see many outputs could predict later ones. Use it for choosing
/// tasks, not for secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator seeded from `seed` (for a task: `Context::seed`, or [`Context::rng`]).
    ///
    /// [`Context::rng`]: crate::Context::rng
    pub const fn from_seed(seed: u64) -> Self {
        let mut sm = SplitMix64::new(seed);
        let s = [sm.next(), sm.next(), sm.next(), sm.next()];
        // SplitMix64 never yields four zero words in a row, so the state is never all zero.
        Rng { s }
    }

    /// An independent generator for one purpose (`stream`) under the same seed.
    ///
    /// Use it to keep choices stable when code is added: with a stream per purpose, drawing one
    /// more number for the prompt does not shift the numbers drawn for the hidden checks.
    pub const fn from_seed_and_stream(seed: u64, stream: u64) -> Self {
        let mut sm = SplitMix64::new(stream);
        Rng::from_seed(seed ^ sm.next())
    }

    /// The next 64 random bits.
    pub const fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// The next 32 random bits (the high half of [`Rng::next_u64`]).
    pub const fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// A uniform integer in `0..n`, without modulo bias (Lemire's method). Returns 0 when `n` is 0.
    pub const fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let mut m = (self.next_u64() as u128) * (n as u128);
        if (m as u64) < n {
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = (self.next_u64() as u128) * (n as u128);
            }
        }
        (m >> 64) as u64
    }

    /// A uniform integer in `range`. Returns `range.start` when the range is empty.
    pub const fn range_u64(&mut self, range: Range<u64>) -> u64 {
        if range.end <= range.start {
            return range.start;
        }
        range.start + self.below(range.end - range.start)
    }

    /// A uniform signed integer in `range`. Returns `range.start` when the range is empty.
    pub const fn range_i64(&mut self, range: Range<i64>) -> i64 {
        if range.end <= range.start {
            return range.start;
        }
        let width = range.end.wrapping_sub(range.start) as u64;
        range.start.wrapping_add(self.below(width) as i64)
    }

    /// A uniform index into a collection of `len` items. Returns 0 when `len` is 0.
    pub const fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// A uniform float in `[0, 1)`, with 53 random bits.
    pub const fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `true` with probability `p` (clamped to `[0, 1]`; NaN counts as 0).
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit_f64() < p
    }

    /// A uniformly chosen element, or `None` for an empty slice.
    pub fn choose<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() { None } else { items.get(self.index(items.len())) }
    }

    /// Shuffles `items` in place (Fisher–Yates), uniformly over all orders.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }

    /// `k` distinct indices out of `0..n`, in the order drawn (all of them, shuffled, if `k >= n`).
    pub fn sample_indices(&mut self, n: usize, k: usize) -> Vec<usize> {
        let k = k.min(n);
        let mut pool: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = i + self.index(n - i);
            pool.swap(i, j);
        }
        pool.truncate(k);
        pool
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // The published SplitMix64 outputs for seed 1234567.
        let mut sm = SplitMix64::new(1_234_567);
        let got: Vec<u64> = (0..5).map(|_| sm.next()).collect();
        assert_eq!(
            got,
            [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821]
        );
    }

    #[test]
    fn xoshiro256starstar_matches_the_reference_implementation() {
        // State {1, 2, 3, 4}: the reference C implementation's first outputs.
        let mut rng = Rng { s: [1, 2, 3, 4] };
        let got: Vec<u64> = (0..6).map(|_| rng.next_u64()).collect();
        assert_eq!(got, [11520, 0, 1509978240, 1215971899390074240, 1216172134540287360, 607988272756665600]);
    }

    #[test]
    fn seeding_is_stable() {
        // Pinned: changing these changes every plugin's tasks.
        let mut rng = Rng::from_seed(0);
        assert_eq!(rng.next_u64(), 11091344671253066420);
        let mut rng = Rng::from_seed(42);
        assert_eq!(rng.next_u64(), 1546998764402558742);
        assert_ne!(Rng::from_seed_and_stream(42, 1), Rng::from_seed_and_stream(42, 2));
        assert_ne!(Rng::from_seed_and_stream(42, 1), Rng::from_seed(42));
    }

    #[test]
    fn below_and_ranges_stay_in_bounds() {
        let mut rng = Rng::from_seed(7);
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.below(1), 0);
        assert_eq!(rng.range_u64(5..5), 5);
        assert_eq!(rng.range_i64(-3..-3), -3);
        for _ in 0..10_000 {
            assert!(rng.below(10) < 10);
            assert!((1000..1010).contains(&rng.range_u64(1000..1010)));
            assert!((-5..5).contains(&rng.range_i64(-5..5)));
            let x = rng.unit_f64();
            assert!((0.0..1.0).contains(&x));
        }
        // The full signed range does not overflow.
        let _ = rng.range_i64(i64::MIN..i64::MAX);
    }

    #[test]
    fn below_is_roughly_uniform() {
        let mut rng = Rng::from_seed(3);
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            counts[rng.below(6) as usize] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn chance_handles_edges() {
        let mut rng = Rng::from_seed(9);
        assert!((0..100).all(|_| !rng.chance(0.0)));
        assert!((0..100).all(|_| rng.chance(1.0)));
        assert!((0..100).all(|_| !rng.chance(f64::NAN)));
    }

    #[test]
    fn shuffle_and_sample_are_permutations() {
        let mut rng = Rng::from_seed(11);
        let mut v: Vec<u32> = (0..50).collect();
        rng.shuffle(&mut v);
        assert_ne!(v, (0..50).collect::<Vec<_>>());
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());

        let picked = rng.sample_indices(20, 5);
        assert_eq!(picked.len(), 5);
        let mut dedup = picked.clone();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(dedup.len(), 5);
        assert!(picked.iter().all(|&i| i < 20));
        assert_eq!(rng.sample_indices(3, 10).len(), 3);
        assert!(rng.sample_indices(0, 3).is_empty());

        assert_eq!(rng.choose::<u8>(&[]), None);
        assert_eq!(rng.choose(&[5]), Some(&5));
    }
}
