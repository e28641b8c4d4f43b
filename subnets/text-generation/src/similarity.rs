//! Lexical similarity: ROUGE-L and token F1 against a reference, and n-gram copy coverage.
//!
//! Everything works on the SDK's normalised tokens ([`sdk_guest::text`]) with integer counting,
//! so a native build and the wasm plugin agree bit for bit.

use std::hash::Hasher;

use sdk_guest::hash::{Fnv1a64, StableHashMap};
use sdk_guest::metrics::RougeL;
use sdk_guest::rng::SplitMix64;

/// Scores candidates against one reference: ROUGE-L F1 and token F1 (SQuAD-style: the harmonic
/// mean of precision and recall of the multiset of tokens).
#[derive(Clone, Debug)]
pub struct ReferenceScorer<'r> {
    rouge: RougeL<'r>,
    /// Distinct reference token -> index into `counts`.
    ids: StableHashMap<&'r str, usize>,
    /// How often each distinct reference token occurs.
    counts: Vec<u32>,
    len: usize,
}

impl<'r> ReferenceScorer<'r> {
    /// Prepares the reference (its tokens, in order).
    pub fn new(reference: &[&'r str]) -> Self {
        let mut ids: StableHashMap<&'r str, usize> = StableHashMap::default();
        let mut counts = Vec::new();
        for &token in reference {
            let next = ids.len();
            let id = *ids.entry(token).or_insert(next);
            if id == next {
                counts.push(0);
            }
            counts[id] += 1;
        }
        ReferenceScorer { rouge: RougeL::new(reference.iter().copied()), ids, counts, len: reference.len() }
    }

    /// The reference length in tokens.
    pub fn reference_len(&self) -> usize {
        self.len
    }

    /// Token F1 of `candidate`: `2 · overlap / (candidate length + reference length)`, where
    /// `overlap` counts each token at most as often as the reference has it. 0 when both are empty.
    pub fn token_f1(&self, candidate: &[&str]) -> f64 {
        let mut left = self.counts.clone();
        let mut overlap = 0usize;
        for token in candidate {
            if let Some(&id) = self.ids.get(token)
                && left[id] > 0
            {
                left[id] -= 1;
                overlap += 1;
            }
        }
        let total = candidate.len() + self.len;
        if total == 0 { 0.0 } else { 2.0 * overlap as f64 / total as f64 }
    }

    /// ROUGE-L F1 of `candidate`.
    pub fn rouge_l(&self, candidate: &[&str]) -> f64 {
        self.rouge.f1(candidate.iter().copied())
    }

    /// `rouge_weight · ROUGE-L F1 + (1 − rouge_weight) · token F1`, in `[0, 1]`.
    pub fn quality(&self, candidate: &[&str], rouge_weight: f64) -> f64 {
        rouge_weight * self.rouge_l(candidate) + (1.0 - rouge_weight) * self.token_f1(candidate)
    }
}

/// A well-mixed 64-bit hash of a token sequence: FNV-1a over the tokens, each followed by a 0
/// byte, finished with the SplitMix64 mixer so that every bit depends on the whole input (bottom-k
/// sketches compare hashes by order).
pub fn ngram_hash(tokens: &[&str]) -> u64 {
    let mut h = Fnv1a64::default();
    for t in tokens {
        h.write(t.as_bytes());
        h.write_u8(0);
    }
    mix(h.finish())
}

/// The SplitMix64 finaliser of `x`.
pub fn mix(x: u64) -> u64 {
    SplitMix64::new(x).next()
}

/// The sorted, distinct hashes of the `n`-grams of `tokens` (none when there are fewer than `n`).
pub fn ngram_hashes(tokens: &[&str], n: usize) -> Vec<u64> {
    let n = n.max(1);
    let mut out: Vec<u64> = tokens.windows(n).map(ngram_hash).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The share of `tokens` that lie inside an `n`-gram also found in `source` (given as
/// [`ngram_hashes`] of the source with the same `n`): how much of a text is copied from the
/// source in runs of at least `n` tokens. 0 for a text shorter than `n`.
pub fn copy_coverage(tokens: &[&str], source_ngrams: &[u64], n: usize) -> f64 {
    let n = n.max(1);
    if tokens.len() < n || source_ngrams.is_empty() {
        return 0.0;
    }
    let mut covered = vec![false; tokens.len()];
    for (start, window) in tokens.windows(n).enumerate() {
        if source_ngrams.binary_search(&ngram_hash(window)).is_ok() {
            covered[start..start + n].fill(true);
        }
    }
    covered.iter().filter(|&&c| c).count() as f64 / tokens.len() as f64
}

/// The bottom-`k` sketch of a set of hashes: its `k` smallest distinct values, sorted.
pub fn bottom_k(mut hashes: Vec<u64>, k: usize) -> Vec<u64> {
    hashes.sort_unstable();
    hashes.dedup();
    hashes.truncate(k);
    hashes
}

/// The Jaccard similarity `|A ∩ B| / |A ∪ B|` estimated from bottom-`k` sketches of `A` and `B`
/// (exact when both sets have at most `k` elements): among the `k` smallest hashes of the union,
/// the share found in both sketches. 0 when both are empty. Costs `O(k)`.
pub fn sketch_jaccard(a: &[u64], b: &[u64], k: usize) -> f64 {
    let (mut i, mut j, mut taken, mut common) = (0, 0, 0usize, 0usize);
    while taken < k {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                common += 1;
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => i += 1,
            (Some(_), Some(_)) | (None, Some(_)) => j += 1,
            (Some(_), None) => i += 1,
            (None, None) => break,
        }
        taken += 1;
    }
    if taken == 0 { 0.0 } else { common as f64 / taken as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    #[test]
    fn token_f1_counts_repeats_once_each() {
        let r = ReferenceScorer::new(&toks("the cat sat on the mat"));
        assert_eq!(r.token_f1(&toks("the cat sat on the mat")), 1.0);
        assert_eq!(r.token_f1(&toks("mat the on sat cat the")), 1.0);
        assert_eq!(r.token_f1(&toks("the the the the the the")), 2.0 * 2.0 / 12.0);
        assert_eq!(r.token_f1(&[]), 0.0);
        assert_eq!(ReferenceScorer::new(&[]).token_f1(&[]), 0.0);
        assert_eq!(r.reference_len(), 6);
        // ROUGE-L is order-sensitive, token F1 is not.
        assert_eq!(r.rouge_l(&toks("mat the on sat cat the")), 0.5);
        assert_eq!(r.quality(&toks("the cat sat on the mat"), 0.5), 1.0);
    }

    #[test]
    fn copy_coverage_finds_copied_runs() {
        let source = toks("a b c d e f g h");
        let grams = ngram_hashes(&source, 3);
        assert_eq!(copy_coverage(&source, &grams, 3), 1.0);
        assert_eq!(copy_coverage(&toks("x b c d y"), &grams, 3), 3.0 / 5.0);
        assert_eq!(copy_coverage(&toks("a c e g"), &grams, 3), 0.0);
        assert_eq!(copy_coverage(&toks("a b"), &grams, 3), 0.0);
        assert_eq!(copy_coverage(&toks("a b c"), &[], 3), 0.0);
    }

    #[test]
    fn sketches_estimate_jaccard() {
        // Small sets: exact.
        assert_eq!(sketch_jaccard(&[1, 2, 3], &[2, 3, 4], 8), 0.5);
        assert_eq!(sketch_jaccard(&[], &[], 8), 0.0);
        assert_eq!(sketch_jaccard(&[1, 2], &[], 8), 0.0);
        assert_eq!(bottom_k(vec![5, 1, 5, 3, 9], 3), [1, 3, 5]);
        // Large sets: close to the truth (two 3000-element sets sharing 2000).
        let a: Vec<u64> = (0..3000u64).map(mix).collect();
        let b: Vec<u64> = (1000..4000u64).map(mix).collect();
        let estimate = sketch_jaccard(&bottom_k(a, 128), &bottom_k(b, 128), 128);
        assert!((estimate - 0.5).abs() < 0.12, "{estimate}");
        assert_eq!(ngram_hash(&["a", "b"]), ngram_hash(&["a", "b"]));
        assert_ne!(ngram_hash(&["a", "b"]), ngram_hash(&["ab"]));
    }
}
