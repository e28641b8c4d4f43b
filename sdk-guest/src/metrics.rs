//! Text similarity metrics: ROUGE-L and hashed bag-of-words cosine.
//!
//! Both take tokens (see [`text`](crate::text)) and use only integer arithmetic, `+`, `*`, `/`
//! and `sqrt` on floats, which IEEE 754 rounds the same everywhere: a native build and the wasm
//! plugin give bit-identical results.
//!
//! ```
//! use sdk_guest::{metrics::RougeL, text};
//!
//! let reference = text::normalize("The cat sat on the mat");
//! let rouge = RougeL::new(text::words(&reference));
//! let f1 = rouge.f1(text::words(&text::normalize("the cat lay on a mat")));
//! assert_eq!(f1, 2.0 * 4.0 / 12.0); // LCS "the cat on mat"
//! ```

use crate::hash::{StableHashMap, fnv1a64};

/// ROUGE-L against one reference: the longest common subsequence (LCS) of tokens.
///
/// Build it once per reference, then score each candidate in `O(n · ⌈m / 64⌉)` for a candidate of
/// `n` tokens and a reference of `m` tokens (the bit-parallel LCS of Crochemore et al. and Hyyrö).
#[derive(Clone, Debug)]
pub struct RougeL<'r> {
    /// Distinct reference token -> its row in `masks`.
    ids: StableHashMap<&'r str, usize>,
    /// For each distinct token, a bitset over reference positions where it occurs.
    masks: Vec<u64>,
    /// 64-bit words per bitset.
    words: usize,
    /// Reference length in tokens.
    len: usize,
}

/// The ROUGE-L figures of one candidate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RougeScore {
    /// Length of the longest common subsequence, in tokens.
    pub lcs: usize,
    /// `lcs / candidate length` (0 for an empty candidate).
    pub precision: f64,
    /// `lcs / reference length` (0 for an empty reference).
    pub recall: f64,
    /// Harmonic mean of precision and recall: `2 · lcs / (candidate length + reference length)`.
    pub f1: f64,
}

impl<'r> RougeL<'r> {
    /// Prepares `reference` (its tokens, in order).
    pub fn new(reference: impl IntoIterator<Item = &'r str>) -> Self {
        let tokens: Vec<&'r str> = reference.into_iter().collect();
        let len = tokens.len();
        let words = len.div_ceil(64).max(1);
        let mut ids: StableHashMap<&'r str, usize> = StableHashMap::default();
        let mut masks: Vec<u64> = Vec::new();
        for (pos, token) in tokens.into_iter().enumerate() {
            let next = ids.len();
            let id = *ids.entry(token).or_insert(next);
            if id == next {
                masks.resize(masks.len() + words, 0);
            }
            masks[id * words + pos / 64] |= 1 << (pos % 64);
        }
        RougeL { ids, masks, words, len }
    }

    /// The reference length in tokens.
    pub fn reference_len(&self) -> usize {
        self.len
    }

    /// LCS length, precision, recall and F1 of `candidate` (its tokens, in order).
    pub fn score<'c>(&self, candidate: impl IntoIterator<Item = &'c str>) -> RougeScore {
        // V starts all ones; for each candidate token with position mask M:
        //   V <- (V + (V & M)) | (V & !M)
        // and the LCS length is the number of zero bits among the low `len` bits.
        let mut v = vec![u64::MAX; self.words];
        let mut n = 0usize;
        for token in candidate {
            n += 1;
            let Some(&id) = self.ids.get(token) else { continue };
            let mask = &self.masks[id * self.words..(id + 1) * self.words];
            let mut carry = false;
            for (vk, &mk) in v.iter_mut().zip(mask) {
                let u = *vk & mk;
                let (sum, c1) = vk.overflowing_add(u);
                let (sum, c2) = sum.overflowing_add(carry as u64);
                carry = c1 || c2;
                *vk = sum | (*vk & !mk);
            }
        }
        let mut lcs = 0usize;
        for (k, vk) in v.iter().enumerate() {
            let bits = (self.len - k * 64).min(64);
            if bits == 0 {
                break;
            }
            let live = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
            lcs += (!vk & live).count_ones() as usize;
        }
        let ratio = |num: usize, den: usize| if den == 0 { 0.0 } else { num as f64 / den as f64 };
        RougeScore { lcs, precision: ratio(lcs, n), recall: ratio(lcs, self.len), f1: ratio(2 * lcs, n + self.len) }
    }

    /// The ROUGE-L F1 of `candidate`: `2 · lcs / (candidate length + reference length)`, in
    /// `[0, 1]`, and 0 when both are empty.
    pub fn f1<'c>(&self, candidate: impl IntoIterator<Item = &'c str>) -> f64 {
        self.score(candidate).f1
    }
}

/// The ROUGE-L F1 of `candidate` against `reference` (token slices). For many candidates against
/// one reference, build a [`RougeL`] once instead.
pub fn rouge_l(candidate: &[&str], reference: &[&str]) -> f64 {
    RougeL::new(reference.iter().copied()).f1(candidate.iter().copied())
}

/// A signed, hashed bag of words with `dims` dimensions ("feature hashing").
///
/// Each token adds ±1 to dimension `fnv1a64(token) mod dims`, the sign taken from the hash's top
/// bit; then each dimension `x` becomes `sign(x) · sqrt(|x|)`, damping repeated words. `dims` of
/// 0 is treated as 1.
pub fn hashed_features<'t>(tokens: impl IntoIterator<Item = &'t str>, dims: usize) -> Vec<f64> {
    let dims = dims.max(1);
    let mut v = vec![0.0f64; dims];
    for token in tokens {
        let h = fnv1a64(token.as_bytes());
        let i = (h % dims as u64) as usize;
        v[i] += if h >> 63 == 0 { 1.0 } else { -1.0 };
    }
    for x in &mut v {
        *x = if *x < 0.0 { -(-*x).sqrt() } else { x.sqrt() };
    }
    v
}

/// The cosine similarity of `a` and `b` (over their common length), in `[-1, 1]`; 0 when either
/// has zero norm.
pub fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let (mut dot, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    (dot / (na.sqrt() * nb.sqrt())).clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// The textbook O(n·m) dynamic programme.
    fn lcs_dp(a: &[&str], b: &[&str]) -> usize {
        let mut row = vec![0usize; b.len() + 1];
        for x in a {
            let mut diag = 0;
            for (j, y) in b.iter().enumerate() {
                let up = row[j + 1];
                row[j + 1] = if x == y { diag + 1 } else { up.max(row[j]) };
                diag = up;
            }
        }
        row[b.len()]
    }

    #[test]
    fn rouge_l_small_cases() {
        let cases: [(&str, &str, usize); 7] = [
            ("", "", 0),
            ("a b c", "", 0),
            ("", "a b c", 0),
            ("a b c", "a b c", 3),
            ("a b c d", "a c d b", 3),
            ("x y z", "a b c", 0),
            ("the the the", "the", 1),
        ];
        for (cand, reference, lcs) in cases {
            let c: Vec<&str> = cand.split_whitespace().collect();
            let r: Vec<&str> = reference.split_whitespace().collect();
            let s = RougeL::new(r.iter().copied()).score(c.iter().copied());
            assert_eq!(s.lcs, lcs, "{cand:?} vs {reference:?}");
            let want_f1 = if c.len() + r.len() == 0 { 0.0 } else { 2.0 * lcs as f64 / (c.len() + r.len()) as f64 };
            assert_eq!(s.f1, want_f1);
            assert_eq!(rouge_l(&c, &r), want_f1);
        }
        let s = RougeL::new(["a", "b", "c", "d"]).score(["a", "c"]);
        assert_eq!((s.precision, s.recall), (1.0, 0.5));
    }

    #[test]
    fn bit_parallel_lcs_matches_the_dynamic_programme() {
        // Lengths across the 64-bit word boundaries, small vocabularies for many matches.
        // Small vocabularies for many matches, large ones for many distinct tokens.
        let numbers: Vec<String> = (0..500).map(|i| format!("w{i}")).collect();
        let small = ["a", "b", "c", "d", "e", "f", "g", "h"];
        let mut rng = Rng::from_seed(1);
        for round in 0..400 {
            let vocab: Vec<&str> =
                if round % 2 == 0 { small.to_vec() } else { numbers.iter().map(String::as_str).collect() };
            let m = rng.index(200);
            let n = rng.index(200);
            let k = 1 + rng.index(vocab.len());
            let a: Vec<&str> = (0..m).map(|_| vocab[rng.index(k)]).collect();
            let b: Vec<&str> = (0..n).map(|_| vocab[rng.index(k)]).collect();
            let got = RougeL::new(a.iter().copied()).score(b.iter().copied()).lcs;
            assert_eq!(got, lcs_dp(&a, &b), "round {round}: m={m} n={n} k={k}");
        }
        for m in [63, 64, 65, 127, 128, 129] {
            let a: Vec<&str> = vec!["a"; m];
            assert_eq!(RougeL::new(a.iter().copied()).score(a.iter().copied()).lcs, m);
            assert_eq!(RougeL::new(a.iter().copied()).reference_len(), m);
        }
    }

    #[test]
    fn hashed_features_and_cosine() {
        let a = hashed_features(["the", "cat", "sat"], 64);
        let b = hashed_features(["the", "cat", "sat"], 64);
        assert_eq!(a.len(), 64);
        assert_eq!(cosine(&a, &b), 1.0);
        let c = hashed_features(["dogs", "bark", "loudly"], 64);
        assert!(cosine(&a, &c) < 0.9);
        let empty = hashed_features(std::iter::empty(), 64);
        assert_eq!(cosine(&a, &empty), 0.0);
        assert_eq!(hashed_features(["x"], 0).len(), 1);
        // Repeats are damped: four copies weigh 2, not 4.
        let four = hashed_features(["w"; 4], 8);
        assert_eq!(four.iter().map(|x| x.abs()).sum::<f64>(), 2.0);
    }

    #[test]
    fn cosine_is_bounded() {
        assert_eq!(cosine(&[1.0, 0.0], &[-1.0, 0.0]), -1.0);
        assert!((cosine(&[1.0, 1.0], &[1.0, 0.0]) - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-15);
        assert_eq!(cosine(&[], &[]), 0.0);
    }
}
