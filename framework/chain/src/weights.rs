//! Scores to on-chain `u16` weights, exactly as the Python SDK (`bittensor` 11.3.0,
//! `bittensor/intents/weights.py`) computes them, so a Rust validator's weights are bit-for-bit
//! those a Python validator would set for the same scores.
//!
//! The SDK's `SetWeights` intent conforms weights in two steps: when the subnet's
//! `MaxWeightsLimit` is below 65535 it calls [`clip_to_max_weight`] with that limit as a fraction,
//! then [`normalize`] max-upscales and quantises to `u16`, dropping zeros. [`scores_to_weights`]
//! is that composition.
//!
//! Arithmetic follows the SDK's operation order: sums add left to right, as `sum()` does on
//! CPython up to 3.11 (the interop venv's interpreter). CPython 3.12+ made `sum()` of floats
//! compensated (Neumaier), so an SDK running there may differ from these functions in the last
//! bit of clipped floats (and, very rarely, by one in a `u16` sitting on a rounding tie).
//!
//! Checked against the SDK source, which wins over our research note (`weights.md`) where they
//! differ: its "empty or all-zero is an error" is `n == 0 || sum <= 0`, tested before the
//! uniform case; the clip can leave the largest weight above the limit (when the weights that
//! should absorb the excess are zero or near the `1e-7` epsilon); the intent clips only when
//! `MaxWeightsLimit < 65535` (otherwise it normalises the raw scores), refuses duplicate uids, and
//! refuses all-zero scores instead of falling back to uniform weights as the older template did.
//!
//! Deliberate difference from the SDK: every function here rejects non-finite and negative
//! weights. The SDK's `clip_to_max_weight` does not check them, so with a limit that forces the
//! uniform result (`n * limit <= 1`) the SDK turns `[NaN, 1]` or `[-1, 2]` into equal weights;
//! with any other limit its `normalize` rejects them, as we always do. Limits outside `[0, 1]`
//! (which no `u16` `MaxWeightsLimit` produces) are refused too; the SDK does not check them.

use crate::{Uid, Weights};

/// `u16::MAX` as the SDK's `U16_MAX`.
const U16_MAX: f64 = 65535.0;

/// The SDK's `epsilon` in `clip_to_max_weight`.
const EPSILON: f64 = 1e-7;

/// Why weights could not be converted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WeightsError {
    /// `uids` and `weights` have different lengths.
    #[error("uids and weights must be equal length: {uids} vs {weights}")]
    LengthMismatch {
        /// Number of uids.
        uids: usize,
        /// Number of weights.
        weights: usize,
    },
    /// A weight is NaN, infinite or negative.
    #[error("weight at index {index} is {value}: weights must be finite and non-negative")]
    InvalidWeight {
        /// Its position in the input.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// There are no weights, or all of them are zero: nothing to set.
    #[error("all weights are zero (or there are none): nothing to set")]
    AllZero,
    /// The max-weight limit is not a fraction in `[0, 1]`.
    #[error("max weight limit {limit} is out of range: it must be a fraction in [0, 1]")]
    LimitOutOfRange {
        /// The limit given.
        limit: f64,
    },
    /// A uid appears twice.
    #[error("uid {uid} appears more than once (again at index {index}); each uid may appear once")]
    DuplicateUid {
        /// The repeated uid.
        uid: Uid,
        /// Position of its second occurrence.
        index: usize,
    },
}

/// The first NaN, infinite or negative weight, as an error.
fn check_weights(weights: &[f64]) -> Result<(), WeightsError> {
    match weights.iter().position(|w| !w.is_finite() || *w < 0.0) {
        Some(index) => Err(WeightsError::InvalidWeight { index, value: weights[index] }),
        None => Ok(()),
    }
}

/// `limit` must be a fraction in `[0, 1]` (the chain's `MaxWeightsLimit / 65535`).
fn check_limit(limit: f64) -> Result<(), WeightsError> {
    if (0.0..=1.0).contains(&limit) { Ok(()) } else { Err(WeightsError::LimitOutOfRange { limit }) }
}

/// Python's `sum()` of floats on CPython ≤ 3.11: plain left-to-right addition from `0.0`.
fn python_sum(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().fold(0.0, |sum, value| sum + value)
}

/// Sum-normalises `weights` so no element exceeds `limit` (the chain's check is
/// `max / sum <= limit`), redistributing the excess rather than discarding it.
///
/// Weights already within the limit are only sum-normalised. Otherwise every weight is clipped
/// at the cutoff that lands the largest one (just under) the limit, then sum-normalised again.
/// A limit no distribution can meet (`n * limit <= 1`) gives the uniform `1 / n`. Output is in
/// input order. Errors: an invalid weight or limit, or empty / all-zero input.
///
/// Like the SDK, the result can exceed the limit when the weights that could absorb the excess
/// are tiny (normalised values near its `1e-7` epsilon) or zero.
pub fn clip_to_max_weight(weights: &[f64], limit: f64) -> Result<Vec<f64>, WeightsError> {
    check_weights(weights)?;
    check_limit(limit)?;
    let n = weights.len();
    let total = python_sum(weights.iter().copied());
    if n == 0 || total <= 0.0 {
        return Err(WeightsError::AllZero);
    }
    let n_f = n as f64;
    if n_f * limit <= 1.0 {
        return Ok(vec![1.0 / n_f; n]);
    }

    let mut estimation: Vec<f64> = weights.iter().map(|w| w / total).collect();
    estimation.sort_by(f64::total_cmp);
    if estimation[n - 1] <= limit {
        return Ok(weights.iter().map(|w| w / total).collect());
    }

    // Running sum of the sorted normalised weights, as `itertools.accumulate` adds them.
    let cumsum: Vec<f64> = estimation
        .iter()
        .scan(None, |acc: &mut Option<f64>, &e| {
            let next = acc.map_or(e, |sum| sum + e);
            *acc = Some(next);
            Some(next)
        })
        .collect();
    // How many of the smallest weights stay below the cutoff (the rest are clipped to it).
    let n_values = estimation
        .iter()
        .zip(&cumsum)
        .enumerate()
        .filter(|&(i, (&e, &c))| e / ((n - i - 1) as f64 * e + c + EPSILON) < limit)
        .count();
    // `cumsum[n_values - 1]` in Python; with valid input the smallest weight always counts
    // (`e / (n e + eps) < 1 / n < limit`), so `n_values >= 1`. Were it 0, Python's index -1
    // would read the last element: do the same.
    let below = cumsum[n_values.checked_sub(1).unwrap_or(n - 1)];
    let cutoff_scale = (limit * below - EPSILON) / (1.0 - limit * (n - n_values) as f64);
    let cutoff = cutoff_scale * total;

    // Python's `min(w, cutoff)`: `w` unless `cutoff` is strictly smaller.
    let clipped: Vec<f64> = weights.iter().map(|&w| if cutoff < w { cutoff } else { w }).collect();
    let clipped_total = python_sum(clipped.iter().copied());
    Ok(clipped.iter().map(|w| w / clipped_total).collect())
}

/// Max-upscales `weights` and quantises them to `u16` for the chain, dropping zeros.
///
/// Each value is `round(w / max(weights) * 65535)` with Python's `round`, i.e. ties to even;
/// entries whose value rounds to 0 are dropped, the others keep their input order. All-zero or
/// empty input gives empty weights. Errors: lengths differ, or a weight is non-finite or negative.
pub fn normalize(uids: &[Uid], weights: &[f64]) -> Result<Weights, WeightsError> {
    if uids.len() != weights.len() {
        return Err(WeightsError::LengthMismatch { uids: uids.len(), weights: weights.len() });
    }
    check_weights(weights)?;
    let top = weights.iter().copied().fold(0.0, f64::max);
    if top == 0.0 {
        return Ok(Weights::default());
    }
    let pairs = uids.iter().zip(weights).filter_map(|(&uid, &w)| {
        // In 0..=65535 because 0 <= w <= top; `as` cannot truncate.
        let value = ((w / top) * U16_MAX).round_ties_even() as u16;
        (value != 0).then_some((uid, value))
    });
    Ok(Weights::from_pairs(pairs))
}

/// The weights a validator sets for `scores`, as the SDK's `SetWeights` intent conforms them:
/// clipped to `max_weight_limit` (a fraction, the subnet's `MaxWeightsLimit / 65535`) when it is
/// below 1, then [`normalize`]d.
///
/// All-zero (or empty) scores are an error ([`WeightsError::AllZero`]), as in the SDK, which
/// refuses to set weights then rather than falling back to uniform weights; so are duplicate
/// uids. The SDK's other checks need chain state and are not made here: its exemption of a lone
/// self-weight from the clip, and `MinAllowedWeights`.
pub fn scores_to_weights(uids: &[Uid], scores: &[f64], max_weight_limit: f64) -> Result<Weights, WeightsError> {
    if uids.len() != scores.len() {
        return Err(WeightsError::LengthMismatch { uids: uids.len(), weights: scores.len() });
    }
    check_weights(scores)?;
    check_limit(max_weight_limit)?;
    let mut seen = std::collections::HashSet::with_capacity(uids.len());
    if let Some(index) = uids.iter().position(|uid| !seen.insert(*uid)) {
        return Err(WeightsError::DuplicateUid { uid: uids[index], index });
    }
    let weights = if max_weight_limit < 1.0 {
        normalize(uids, &clip_to_max_weight(scores, max_weight_limit)?)?
    } else {
        normalize(uids, scores)?
    };
    if weights.uids.is_empty() {
        return Err(WeightsError::AllZero);
    }
    Ok(weights)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn close(actual: &[f64], expected: &[f64], tolerance: f64) -> bool {
        actual.len() == expected.len() && actual.iter().zip(expected).all(|(a, e)| (a - e).abs() <= tolerance)
    }

    #[test]
    fn clip_golden() {
        let clipped = clip_to_max_weight(&[0.5, 0.3, 0.1, 0.05, 0.05], 0.3).unwrap();
        assert!(close(&clipped, &[0.3, 0.3, 0.2, 0.1, 0.1], 1e-6), "{clipped:?}");
        // Bit-for-bit what SDK 11.3.0 returns (`float.hex()` of its output).
        let sdk =
            [0.299_999_799_999_800_03, 0.299_999_799_999_800_03, 0.200_000_200_000_200_05, 0.100_000_100_000_100_03];
        assert_eq!(clipped[..4], sdk);
        assert_eq!(clipped[4], sdk[3]);
    }

    #[test]
    fn clip_within_limit_only_normalises() {
        let weights = [0.5, 0.3, 0.1, 0.05, 0.05];
        let total = python_sum(weights);
        assert_eq!(clip_to_max_weight(&weights, 1.0).unwrap(), weights.map(|w| w / total));
        assert_eq!(clip_to_max_weight(&[2.0, 2.0], 0.5).unwrap(), [0.5, 0.5]);
    }

    #[test]
    fn clip_infeasible_limit_is_uniform() {
        assert_eq!(clip_to_max_weight(&[1.0, 1.0, 1.0], 0.25).unwrap(), [1.0 / 3.0; 3]);
        // n * limit == 1 exactly counts as infeasible.
        assert_eq!(clip_to_max_weight(&[9.0, 0.0, 1.0, 0.0], 0.25).unwrap(), [0.25; 4]);
    }

    #[test]
    fn clip_errors() {
        assert_eq!(clip_to_max_weight(&[], 0.5), Err(WeightsError::AllZero));
        assert_eq!(clip_to_max_weight(&[0.0, 0.0], 0.5), Err(WeightsError::AllZero));
        assert_eq!(clip_to_max_weight(&[1.0, -1.0], 0.5), Err(WeightsError::InvalidWeight { index: 1, value: -1.0 }));
        assert!(matches!(clip_to_max_weight(&[f64::NAN], 0.5), Err(WeightsError::InvalidWeight { index: 0, .. })));
        assert_eq!(clip_to_max_weight(&[1.0], 1.5), Err(WeightsError::LimitOutOfRange { limit: 1.5 }));
        assert!(matches!(clip_to_max_weight(&[1.0], f64::NAN), Err(WeightsError::LimitOutOfRange { .. })));
    }

    #[test]
    fn normalize_golden() {
        let w = normalize(&[0, 1, 2, 3, 4], &[0.5, 0.3, 0.1, 0.05, 0.05]).unwrap();
        assert_eq!(w, Weights { uids: vec![0, 1, 2, 3, 4], values: vec![65535, 39321, 13107, 6554, 6554] });
        let w = normalize(&[0, 1, 2, 3], &[0.0, 0.25, 0.5, 0.25]).unwrap();
        assert_eq!(w, Weights { uids: vec![1, 2, 3], values: vec![32768, 65535, 32768] });
    }

    #[test]
    fn normalize_rounds_ties_to_even() {
        // w / top * 65535 is exactly 0.5, 1.5, 2.5, 3.5: Python rounds to 0, 2, 2, 4 (and drops
        // the 0), where round-half-away-from-zero would give 1, 2, 3, 4.
        let w = normalize(&[0, 1, 2, 3, 4], &[131_070.0, 1.0, 3.0, 5.0, 7.0]).unwrap();
        assert_eq!(w, Weights { uids: vec![0, 2, 3, 4], values: vec![65535, 2, 2, 4] });
    }

    #[test]
    fn normalize_edge_cases() {
        assert_eq!(normalize(&[], &[]).unwrap(), Weights::default());
        assert_eq!(normalize(&[3, 4], &[0.0, 0.0]).unwrap(), Weights::default());
        assert_eq!(normalize(&[1, 2], &[1.0]), Err(WeightsError::LengthMismatch { uids: 2, weights: 1 }));
        assert_eq!(normalize(&[1, 2], &[1.0, -0.5]), Err(WeightsError::InvalidWeight { index: 1, value: -0.5 }));
        assert!(matches!(normalize(&[1], &[f64::INFINITY]), Err(WeightsError::InvalidWeight { index: 0, .. })));
    }

    #[test]
    fn scores_to_weights_composes_clip_and_normalize() {
        let uids = [0, 1, 2, 3, 4];
        let scores = [0.5, 0.3, 0.1, 0.05, 0.05];
        assert_eq!(scores_to_weights(&uids, &scores, 1.0).unwrap(), normalize(&uids, &scores).unwrap());
        let limited = scores_to_weights(&uids, &scores, 0.3).unwrap();
        assert_eq!(limited.uids, uids);
        assert_eq!(limited.values, [65535, 65535, 43690, 21845, 21845]);
        assert_eq!(
            scores_to_weights(&uids, &scores, 0.3).unwrap(),
            normalize(&uids, &clip_to_max_weight(&scores, 0.3).unwrap()).unwrap()
        );
    }

    #[test]
    fn scores_to_weights_errors() {
        assert_eq!(scores_to_weights(&[0, 1], &[0.0, 0.0], 1.0), Err(WeightsError::AllZero));
        assert_eq!(scores_to_weights(&[0, 1], &[0.0, 0.0], 0.5), Err(WeightsError::AllZero));
        assert_eq!(scores_to_weights(&[], &[], 1.0), Err(WeightsError::AllZero));
        assert_eq!(scores_to_weights(&[7, 7], &[1.0, 1.0], 1.0), Err(WeightsError::DuplicateUid { uid: 7, index: 1 }));
        assert_eq!(scores_to_weights(&[0, 1], &[1.0], 1.0), Err(WeightsError::LengthMismatch { uids: 2, weights: 1 }));
        assert_eq!(scores_to_weights(&[0], &[1.0], -0.1), Err(WeightsError::LimitOutOfRange { limit: -0.1 }));
        // Negative scores are refused even where the SDK would return uniform weights.
        assert_eq!(
            scores_to_weights(&[0, 1], &[-1.0, 2.0], 0.5),
            Err(WeightsError::InvalidWeight { index: 0, value: -1.0 })
        );
    }

    /// Non-negative weights, some exactly zero.
    fn weights() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(prop_oneof![1 => Just(0.0), 4 => 1e-3..1.0f64, 1 => 0.0..1e6f64], 0..40)
    }

    proptest! {
        #[test]
        fn normalize_properties(weights in weights()) {
            let uids: Vec<Uid> = (0..weights.len() as u16).map(|i| i * 3 + 1).collect();
            let out = normalize(&uids, &weights).unwrap();
            prop_assert_eq!(out.uids.len(), out.values.len());
            prop_assert!(out.values.iter().all(|&v| v > 0));
            if weights.iter().any(|&w| w > 0.0) {
                prop_assert_eq!(out.values.iter().max(), Some(&65535));
            } else {
                prop_assert!(out.uids.is_empty());
            }
            // Order preserved: the kept uids are a subsequence of the input, in input order.
            prop_assert!(out.uids.windows(2).all(|pair| pair[0] < pair[1]));
            for (uid, value) in out.uids.iter().zip(&out.values) {
                let w = weights[usize::from((uid - 1) / 3)];
                let top = weights.iter().copied().fold(0.0, f64::max);
                prop_assert!((f64::from(*value) - w / top * 65535.0).abs() <= 0.5);
            }
        }

        #[test]
        fn clip_properties(weights in weights(), limit in 0.0..=1.0f64) {
            let nonzero = weights.iter().filter(|&&w| w > 0.0).count();
            match clip_to_max_weight(&weights, limit) {
                Err(error) => {
                    prop_assert_eq!(error, WeightsError::AllZero);
                    prop_assert_eq!(nonzero, 0);
                }
                Ok(out) => {
                    prop_assert_eq!(out.len(), weights.len());
                    prop_assert!(out.iter().all(|w| (0.0..=1.0).contains(w)));
                    prop_assert!((python_sum(out.iter().copied()) - 1.0).abs() <= 1e-9);
                    // Feasible: enough non-zero weights to spread the mass, none of them so small
                    // (relative to the total) that the SDK's 1e-7 epsilon dominates.
                    let total: f64 = weights.iter().sum();
                    let min_nonzero = weights.iter().copied().filter(|&w| w > 0.0).fold(f64::INFINITY, f64::min);
                    if nonzero as f64 * limit > 1.0 + 1e-6 && min_nonzero / total > 1e-5 {
                        let max = out.iter().copied().fold(0.0, f64::max);
                        prop_assert!(max <= limit + 1e-9, "max {} > limit {}", max, limit);
                    }
                }
            }
        }

        #[test]
        fn scores_to_weights_properties(weights in weights(), limit in 0.0..=1.0f64) {
            let uids: Vec<Uid> = (0..weights.len() as u16).collect();
            match scores_to_weights(&uids, &weights, limit) {
                Err(error) => prop_assert_eq!(error, WeightsError::AllZero),
                Ok(out) => {
                    prop_assert_eq!(out.values.iter().max(), Some(&65535));
                    prop_assert!(out.values.iter().all(|&v| v > 0));
                    prop_assert!(out.uids.windows(2).all(|pair| pair[0] < pair[1]));
                }
            }
        }
    }
}
