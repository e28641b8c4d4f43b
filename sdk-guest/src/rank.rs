//! Stable sorting and ranking, for batch-relative scoring.
//!
//! Everything here is deterministic: sorts are stable (ties keep their input order) and floats are
//! compared with [`f64::total_cmp`], so NaN has a fixed place (after `+∞`, or before `-∞` for a
//! negative NaN) instead of making the order depend on the sort algorithm.
//!
//! ```
//! use sdk_guest::rank;
//!
//! let latencies = [300.0, 100.0, 200.0, 100.0];
//! assert_eq!(rank::argsort(&latencies), [1, 3, 2, 0]);
//! assert_eq!(rank::ranks(&latencies), [4.0, 1.5, 3.0, 1.5]);
//! assert_eq!(rank::percentile_ranks(&latencies), [1.0, 1.0 / 6.0, 2.0 / 3.0, 1.0 / 6.0]);
//! assert_eq!(rank::quantile(&latencies, 0.5), Some(150.0));
//! ```

use std::cmp::Ordering;

/// The indices of `values` in ascending order; ties keep their input order.
pub fn argsort(values: &[f64]) -> Vec<usize> {
    argsort_by(values, f64::total_cmp)
}

/// The indices of `items` in the order given by `cmp`; ties keep their input order.
pub fn argsort_by<T>(items: &[T], mut cmp: impl FnMut(&T, &T) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| cmp(&items[a], &items[b]));
    order
}

/// The indices of `items` ordered by `key`; ties keep their input order.
pub fn argsort_by_key<T, K: Ord>(items: &[T], mut key: impl FnMut(&T) -> K) -> Vec<usize> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| key(&items[i]));
    order
}

/// 1-based ranks in ascending order, ties sharing the mean of their positions ("fractional
/// ranking", like `scipy.stats.rankdata(method="average")`).
pub fn ranks(values: &[f64]) -> Vec<f64> {
    ranks_by(values, f64::total_cmp)
}

/// 1-based fractional ranks of `items` in the order given by `cmp`, ties sharing the mean of their
/// positions.
pub fn ranks_by<T>(items: &[T], mut cmp: impl FnMut(&T, &T) -> Ordering) -> Vec<f64> {
    let order = argsort_by(items, &mut cmp);
    let mut out = vec![0.0; items.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && cmp(&items[order[start]], &items[order[end]]) == Ordering::Equal {
            end += 1;
        }
        // Positions start+1 ..= end share their mean.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            out[i] = rank;
        }
        start = end;
    }
    out
}

/// Each value's rank scaled to `[0, 1]`: 0 for the smallest, 1 for the largest, ties sharing the
/// mean. A single value gets 0.
pub fn percentile_ranks(values: &[f64]) -> Vec<f64> {
    let n = values.len();
    if n <= 1 {
        return vec![0.0; n];
    }
    let scale = 1.0 / (n - 1) as f64;
    ranks(values).into_iter().map(|r| (r - 1.0) * scale).collect()
}

/// The `q`-quantile of `values` (`q` in `[0, 1]`), interpolating linearly between the two nearest
/// values (the default method of numpy and R). `None` when `values` is empty, `q` is outside
/// `[0, 1]` or NaN, or a value is NaN.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() || !(0.0..=1.0).contains(&q) || values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    if lo == hi || frac == 0.0 {
        return Some(sorted[lo]);
    }
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

/// The median of `values` (the 0.5-[`quantile`]).
pub fn median(values: &[f64]) -> Option<f64> {
    quantile(values, 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argsort_is_stable() {
        assert_eq!(argsort(&[]), Vec::<usize>::new());
        assert_eq!(argsort(&[2.0, 1.0, 2.0, 1.0, 0.0]), [4, 1, 3, 0, 2]);
        assert_eq!(argsort_by_key(&["bb", "a", "cc", "d"], |s| s.len()), [1, 3, 0, 2]);
        assert_eq!(argsort_by(&[1, 3, 2], |a, b| b.cmp(a)), [1, 2, 0]);
    }

    #[test]
    fn nan_has_a_fixed_place() {
        let v = [f64::NAN, 1.0, f64::INFINITY, -f64::NAN, f64::NEG_INFINITY];
        assert_eq!(argsort(&v), [3, 4, 1, 2, 0]);
    }

    #[test]
    fn ranks_average_ties() {
        assert_eq!(ranks(&[]), Vec::<f64>::new());
        assert_eq!(ranks(&[5.0]), [1.0]);
        assert_eq!(ranks(&[3.0, 1.0, 2.0]), [3.0, 1.0, 2.0]);
        assert_eq!(ranks(&[1.0, 1.0, 1.0]), [2.0, 2.0, 2.0]);
        assert_eq!(ranks(&[10.0, 20.0, 10.0, 30.0, 20.0]), [1.5, 3.5, 1.5, 5.0, 3.5]);
        assert_eq!(ranks(&[0.0, -0.0]), [2.0, 1.0], "total order puts -0 before +0");
        assert_eq!(ranks_by(&["b", "a", "b"], |x, y| x.cmp(y)), [2.5, 1.0, 2.5]);
    }

    #[test]
    fn percentile_ranks_span_zero_to_one() {
        assert!(percentile_ranks(&[]).is_empty());
        assert_eq!(percentile_ranks(&[7.0]), [0.0]);
        assert_eq!(percentile_ranks(&[1.0, 2.0, 3.0]), [0.0, 0.5, 1.0]);
        assert_eq!(percentile_ranks(&[2.0, 2.0]), [0.5, 0.5]);
    }

    #[test]
    fn quantiles_interpolate() {
        let v = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(&v, 0.0), Some(1.0));
        assert_eq!(quantile(&v, 1.0), Some(4.0));
        assert_eq!(quantile(&v, 0.5), Some(2.5));
        assert_eq!(quantile(&v, 0.25), Some(1.75));
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&v, 1.5), None);
        assert_eq!(quantile(&v, f64::NAN), None);
        assert_eq!(quantile(&[1.0, f64::NAN], 0.5), None);
    }
}
