//! The reward formula: correctness × echo factor × length factor, then duplicate sharing.

use sdk_guest::{Response, score, text};

use crate::answer::{Number, label_matches, number_credit};
use crate::params::*;
use crate::similarity::{ReferenceScorer, bottom_k, copy_coverage, mix, ngram_hash, ngram_hashes, sketch_jaccard};
use crate::{Completion, HostSignals, Prompt, Reference, Scoring};

/// How one response's score was reached (for tests and diagnostics).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Breakdown {
    /// Task-appropriate correctness in `[0, 1]`, before penalties (not computed, so 0, when the
    /// length factor is 0).
    pub correctness: f64,
    /// Share of the completion copied from the prompt in runs of [`ECHO_NGRAM`] tokens (computed
    /// only when the correctness is positive; 0 otherwise).
    pub echo: f64,
    /// Echo penalty factor in `[0, 1]` (computed only when the correctness is positive).
    pub echo_factor: f64,
    /// Length penalty factor in `[0, 1]`.
    pub length_factor: f64,
    /// Share of its duplicate cluster's credit (1 for a unique completion).
    pub share: f64,
    /// The final score in `[0, 1]`.
    pub score: f64,
}

/// A task prepared for scoring: its reference tokenised once for the whole batch.
struct Judge<'a> {
    scoring: Scoring,
    expected: Option<Number>,
    reference: &'a str,
    scorer: ReferenceScorer<'a>,
    /// Quality that copying the prompt or answering another task already reaches.
    baseline: f64,
    prompt_ngrams: Vec<u64>,
    echo_allowance: f64,
    length_budget: usize,
}

impl<'a> Judge<'a> {
    fn new(private: &'a Reference, normalized: &'a Normalized) -> Result<Self, String> {
        let reference_tokens: Vec<&str> = text::words(&normalized.reference).collect();
        let prompt_tokens: Vec<&str> = text::words(&normalized.prompt).collect();
        let scorer = ReferenceScorer::new(&reference_tokens);
        let prompt_ngrams = ngram_hashes(&prompt_tokens, ECHO_NGRAM);
        let expected = match private.scoring {
            Scoring::ExactFinalNumber => Some(
                Number::parse(private.reference.trim())
                    .ok_or_else(|| format!("the reference of task {} is not a number", private.id))?,
            ),
            _ => None,
        };
        let baseline = match private.scoring {
            Scoring::ReferenceSimilarity => {
                let mut best = scorer.quality(&prompt_tokens, ROUGE_WEIGHT);
                for other in &normalized.trivial {
                    let tokens: Vec<&str> = text::words(other).collect();
                    best = best.max(scorer.quality(&tokens, ROUGE_WEIGHT));
                }
                best.min(BASELINE_CAP)
            }
            _ => 0.0,
        };
        let reference_echo = copy_coverage(&reference_tokens, &prompt_ngrams, ECHO_NGRAM);
        let length_budget = match private.scoring {
            Scoring::ExactFinalNumber => MATH_LENGTH_BUDGET,
            Scoring::ExactLabel => LABEL_LENGTH_BUDGET,
            Scoring::ReferenceSimilarity => {
                SIMILARITY_LENGTH_FLOOR.max(SIMILARITY_LENGTH_RATIO * reference_tokens.len())
            }
        };
        Ok(Judge {
            scoring: private.scoring,
            expected,
            reference: &private.reference,
            scorer,
            baseline,
            prompt_ngrams,
            echo_allowance: ECHO_FREE.max(reference_echo + ECHO_MARGIN).min(1.0),
            length_budget,
        })
    }

    /// Correctness of a completion with tokens `tokens`, before penalties; `cosine` is the
    /// host-supplied embedding similarity, if any, and `prompt_cosine` its prompt baseline.
    fn correctness(&self, completion: &str, tokens: &[&str], cosine: Option<(f64, f64)>) -> f64 {
        if self.scoring == Scoring::ReferenceSimilarity && self.scorer.reference_len() == 0 {
            // A reference without letters or digits (say, only emoji) has no tokens to compare:
            // only the same text, up to whitespace, is right.
            let want = collapse_whitespace(self.reference);
            return f64::from(u8::from(!want.is_empty() && collapse_whitespace(completion) == want));
        }
        if tokens.is_empty() {
            return 0.0;
        }
        match self.scoring {
            Scoring::ExactFinalNumber => match &self.expected {
                Some(expected) => number_credit(completion, expected, CLOSE_CREDIT, CLOSE_TOLERANCE),
                None => 0.0,
            },
            Scoring::ExactLabel => f64::from(u8::from(label_matches(completion, self.reference))),
            Scoring::ReferenceSimilarity => {
                let quality = self.scorer.quality(tokens, ROUGE_WEIGHT);
                let lexical = above_baseline(quality, self.baseline);
                match cosine {
                    Some((cosine, prompt_cosine)) => {
                        (1.0 - EMBEDDING_WEIGHT) * lexical + EMBEDDING_WEIGHT * above_baseline(cosine, prompt_cosine)
                    }
                    None => lexical,
                }
            }
        }
    }

    /// The echo measure and factor of a completion.
    fn echo(&self, tokens: &[&str]) -> (f64, f64) {
        let echo = copy_coverage(tokens, &self.prompt_ngrams, ECHO_NGRAM);
        let a = self.echo_allowance;
        let factor = if echo <= a || a >= 1.0 { 1.0 } else { (1.0 - echo) / (1.0 - a) };
        (echo, score::clamp(factor))
    }

    /// The length factor of a completion of `n` tokens: 1 within budget, falling linearly to 0 at
    /// twice the budget.
    fn length_factor(&self, n: usize) -> f64 {
        let budget = self.length_budget.max(1);
        if n <= budget { 1.0 } else { score::clamp(2.0 - n as f64 / budget as f64) }
    }
}

/// `text` with runs of whitespace turned into single spaces and no leading or trailing space.
fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `(x − baseline) / (1 − baseline)`, clamped to `[0, 1]`: the part of `x` a trivial answer does
/// not already reach. 0 when the baseline is 1 or more.
pub fn above_baseline(x: f64, baseline: f64) -> f64 {
    let room = 1.0 - baseline;
    if room.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return 0.0;
    }
    score::clamp((x - baseline) / room)
}

/// The normalised texts a task needs.
struct Normalized {
    prompt: String,
    reference: String,
    /// The task input and the decoys: trivial answers for the similarity baseline.
    trivial: Vec<String>,
}

/// Duplicate-detection fingerprints of one completion: bottom-[`SKETCH`] sketches, so comparing
/// two completions costs `O(SKETCH)` whatever their length.
struct Fingerprint {
    tokens: usize,
    /// Sketch of the token multiset (each token tagged with its occurrence number).
    words: Vec<u64>,
    /// Sketch of the set of [`SHINGLE`]-token shingles.
    shingles: Vec<u64>,
}

impl Fingerprint {
    fn new(tokens: &[&str]) -> Self {
        let mut hashes: Vec<u64> = tokens.iter().map(|t| ngram_hash(std::slice::from_ref(t))).collect();
        hashes.sort_unstable();
        // The j-th repeat of a token becomes its own element, so sets model multisets.
        let mut occurrence = 0u64;
        let mut words = Vec::with_capacity(hashes.len());
        for (k, &h) in hashes.iter().enumerate() {
            occurrence = if k > 0 && hashes[k - 1] == h { occurrence + 1 } else { 0 };
            words.push(mix(h ^ occurrence.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
        }
        Fingerprint {
            tokens: tokens.len(),
            words: bottom_k(words, SKETCH),
            shingles: bottom_k(tokens.windows(SHINGLE).map(ngram_hash).collect(), SKETCH),
        }
    }

    fn near_duplicate(&self, other: &Fingerprint) -> bool {
        let (short, long) = (self.tokens.min(other.tokens), self.tokens.max(other.tokens));
        // Both similarities are at most short / long: skip pairs of very different lengths.
        if (short as f64) < NEAR_DUP_SHINGLES.min(NEAR_DUP_WORDS) * long as f64 {
            return false;
        }
        sketch_jaccard(&self.words, &other.words, SKETCH) >= NEAR_DUP_WORDS
            || sketch_jaccard(&self.shingles, &other.shingles, SKETCH) >= NEAR_DUP_SHINGLES
    }
}

/// Union-find root of `i`, with path halving.
fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Each response's share of its duplicate cluster's credit. Completions with fewer than
/// [`DEDUP_MIN_TOKENS`] tokens, and responses without a fingerprint (no body, or no credit before
/// sharing), are their own cluster (share 1).
/// Within a cluster, members ordered by latency (then by position) weigh [`DEDUP_DECAY`]^rank.
fn duplicate_shares(fingerprints: &[Option<Fingerprint>], latencies: &[u32]) -> (Vec<f64>, usize) {
    let n = fingerprints.len();
    let mut parent: Vec<usize> = (0..n).collect();
    let eligible: Vec<usize> =
        (0..n).filter(|&i| fingerprints[i].as_ref().is_some_and(|f| f.tokens >= DEDUP_MIN_TOKENS)).collect();
    for (k, &i) in eligible.iter().enumerate() {
        for &j in &eligible[k + 1..] {
            let (Some(a), Some(b)) = (&fingerprints[i], &fingerprints[j]) else { continue };
            let (ri, rj) = (root(&mut parent, i), root(&mut parent, j));
            if ri != rj && a.near_duplicate(b) {
                // The smaller index becomes the root: the result does not depend on visit order.
                parent[ri.max(rj)] = ri.min(rj);
            }
        }
    }
    let mut clusters: std::collections::BTreeMap<usize, Vec<usize>> = std::collections::BTreeMap::new();
    for i in 0..n {
        let r = root(&mut parent, i);
        clusters.entry(r).or_default().push(i);
    }
    let mut shares = vec![1.0; n];
    let mut duplicated = 0;
    for members in clusters.values_mut().filter(|m| m.len() > 1) {
        duplicated += members.len();
        members.sort_by_key(|&i| (latencies[i], i));
        let mut weight = 1.0;
        let mut weights = Vec::with_capacity(members.len());
        for _ in members.iter() {
            weights.push(weight);
            weight *= DEDUP_DECAY;
        }
        let total: f64 = weights.iter().sum();
        for (&i, w) in members.iter().zip(weights) {
            shares[i] = w / total;
        }
    }
    (shares, duplicated)
}

/// Scores a whole batch; returns each response's [`Breakdown`] and the diagnostics.
pub fn score_batch(
    task: &Prompt,
    private: &Reference,
    responses: &[Response<Completion>],
    signals: Option<&HostSignals>,
) -> Result<(Vec<Breakdown>, String), String> {
    if let Some(signals) = signals {
        signals.validate()?;
    }
    let normalized = Normalized {
        prompt: text::normalize(&task.prompt),
        reference: text::normalize(&private.reference),
        trivial: std::iter::once(&private.input).chain(&private.decoys).map(|t| text::normalize(t)).collect(),
    };
    let judge = Judge::new(private, &normalized)?;
    let mut breakdowns = vec![Breakdown::default(); responses.len()];
    let mut fingerprints: Vec<Option<Fingerprint>> = Vec::with_capacity(responses.len());
    let (mut answered, mut echoed, mut long) = (0usize, 0usize, 0usize);
    for (response, b) in responses.iter().zip(&mut breakdowns) {
        let Some(body) = response.ok() else {
            fingerprints.push(None);
            continue;
        };
        answered += 1;
        let norm = text::normalize(&body.completion);
        let tokens: Vec<&str> = text::words(&norm).collect();
        // Each factor is computed only while the product can still be positive: a completion at
        // twice its length budget costs no more than reading it.
        b.length_factor = judge.length_factor(tokens.len());
        long += usize::from(b.length_factor < 1.0);
        if b.length_factor > 0.0 {
            let cosine = signals.and_then(|s| s.cosine(response.uid));
            b.correctness = score::clamp(judge.correctness(&body.completion, &tokens, cosine));
        }
        if b.correctness > 0.0 {
            (b.echo, b.echo_factor) = judge.echo(&tokens);
            echoed += usize::from(b.echo_factor < 1.0);
        }
        // Only credited completions take part in duplicate detection: a worthless copy cannot
        // dilute the original's credit.
        let credited = b.length_factor * b.correctness * b.echo_factor > 0.0;
        fingerprints.push(credited.then(|| Fingerprint::new(&tokens)));
    }
    let latencies: Vec<u32> = responses.iter().map(|r| r.latency_ms).collect();
    let (shares, duplicated) = duplicate_shares(&fingerprints, &latencies);
    for (b, share) in breakdowns.iter_mut().zip(shares) {
        b.share = share;
        b.score = score::clamp(b.correctness * b.echo_factor * b.length_factor * share);
    }
    let diagnostics = format!(
        "task {} ({}): {answered}/{} answered, {echoed} echo-penalised, {long} over length, \
         {duplicated} in duplicate clusters, baseline {:.3}",
        private.id,
        private.scoring.as_str(),
        responses.len(),
        judge.baseline,
    );
    Ok((breakdowns, diagnostics))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(text: &str) -> Option<Fingerprint> {
        let norm = text::normalize(text);
        let tokens: Vec<&str> = text::words(&norm).collect();
        Some(Fingerprint::new(&tokens))
    }

    #[test]
    fn above_baseline_rescales() {
        assert_eq!(above_baseline(1.0, 0.5), 1.0);
        assert_eq!(above_baseline(0.75, 0.5), 0.5);
        assert_eq!(above_baseline(0.4, 0.5), 0.0);
        assert_eq!(above_baseline(0.3, 0.0), 0.3);
        assert_eq!(above_baseline(1.0, 1.0), 0.0);
        assert_eq!(above_baseline(f64::NAN, 0.2), 0.0);
        assert_eq!(above_baseline(0.5, f64::NAN), 0.0);
    }

    #[test]
    fn clusters_share_by_latency() {
        let long = "the quick brown fox jumps over the lazy dog near the river bank";
        let other = "a completely different answer about baking bread with flour water and salt";
        let fps = [fp(long), fp(other), fp(long), None, fp(&long.to_uppercase()), fp("short 18")];
        let (shares, duplicated) = duplicate_shares(&fps, &[300, 100, 200, 50, 400, 10]);
        assert_eq!(duplicated, 3);
        // Cluster {0, 2, 4} by latency: 2 (200), 0 (300), 4 (400) weigh 1, 1/2, 1/4 of 7/4.
        assert_eq!(shares, [2.0 / 7.0, 1.0, 4.0 / 7.0, 1.0, 1.0 / 7.0, 1.0]);
        // Equal latencies fall back to position.
        let (shares, _) = duplicate_shares(&[fp(long), fp(long)], &[5, 5]);
        assert_eq!(shares, [2.0 / 3.0, 1.0 / 3.0]);
    }

    #[test]
    fn short_answers_are_never_duplicates() {
        let (shares, duplicated) = duplicate_shares(&[fp("the answer is 18"), fp("the answer is 18")], &[1, 2]);
        assert_eq!((shares, duplicated), (vec![1.0, 1.0], 0));
    }

    #[test]
    fn near_duplicates() {
        let a = fp("one two three four five six seven eight nine ten eleven twelve").unwrap();
        let reordered = fp("seven eight nine ten eleven twelve one two three four five six").unwrap();
        let edited = fp("one two three four five six seven eight nine ten eleven zzz").unwrap();
        let different = fp("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu").unwrap();
        let longer = fp("one two three four five six seven eight nine ten eleven twelve and then thirty more words \
                         that make this a much longer text than the first one by far really a lot")
        .unwrap();
        assert!(a.near_duplicate(&reordered));
        assert!(a.near_duplicate(&edited));
        assert!(!a.near_duplicate(&different));
        assert!(!a.near_duplicate(&longer));
    }
}
