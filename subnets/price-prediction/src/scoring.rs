//! The reward formula, as pure functions of the task, the forecasts and the realised candles.
//!
//! Only `+ - * /`, `sqrt` and comparisons are used on floats (IEEE 754 rounds them identically on
//! every platform), sums run in a fixed order, and nothing depends on hashing or the clock: the
//! native build and the wasm plugin compute bit-identical scores. The crate's README states the
//! formula; the constants below are its parameters.

use crate::feed::{Candle, RealisedCandles};
use crate::{Interval, PredictionTask};

/// Steepness `κ` of the map `g(x) = 1 / (1 + κ·x²)` from an error ratio to a score: with κ = 9, a
/// forecast exactly as good as the no-change forecast (`x = 1`) gets 0.1.
pub const KAPPA: f64 = 9.0;
/// Weight of the direction bonus: the accuracy is multiplied by `1 − W_DIRECTION + W_DIRECTION·D`.
pub const W_DIRECTION: f64 = 0.25;
/// Weight of the interval score: the score is multiplied by `1 − W_INTERVAL + W_INTERVAL·g(V)`.
pub const W_INTERVAL: f64 = 0.25;
/// Floor on the no-change forecast's normalised RMSE, so that a near-flat market (where every
/// ratio to it would explode) is judged against a move of a quarter of the usual size.
pub const NAIVE_FLOOR: f64 = 0.25;
/// Steps where the price moved less than this many step scales (`|a_i − c₀| < 0.1·s_i`) do not
/// count for the direction score: such a move is noise, not a direction.
pub const DIRECTION_DEAD_ZONE: f64 = 0.1;
/// Two forecasts are copies when every step differs by at most this many step scales `s_i`.
pub const DUPLICATE_TOLERANCE: f64 = 0.01;
/// Central coverage of the forecast intervals the task asks for.
pub const COVERAGE: f64 = 0.8;
/// `Φ⁻¹(1 − (1 − COVERAGE)/2)`: the standard normal quantile whose ± band covers [`COVERAGE`].
pub const Z_COVERAGE: f64 = 1.281_551_565_544_600_4;
/// Smallest one-candle volatility used for scaling (0.01 %), so flat synthetic data cannot divide
/// by zero.
pub const MIN_VOLATILITY: f64 = 1e-4;
/// Fewest one-interval returns the task's candles must contain to estimate the volatility.
pub const MIN_RETURNS: usize = 30;
/// Forecasts outside `[last close / MAX_RATIO, last close · MAX_RATIO]` are malformed.
pub const MAX_RATIO: f64 = 100.0;

/// The recent one-candle volatility of `candles`: the root mean square of the simple returns
/// `close_j / close_{j−1} − 1` between candles exactly one interval apart (returns across an
/// outage gap are skipped), floored at [`MIN_VOLATILITY`]. `None` with fewer than
/// [`MIN_RETURNS`] returns.
pub fn volatility(candles: &[Candle], interval_ms: u64) -> Option<f64> {
    let (mut sum, mut n) = (0.0f64, 0usize);
    for w in candles.windows(2) {
        if w[1].open_time_ms.checked_sub(w[0].open_time_ms) == Some(interval_ms) {
            let r = w[1].close / w[0].close - 1.0;
            sum += r * r;
            n += 1;
        }
    }
    if n < MIN_RETURNS {
        return None;
    }
    Some((sum / n as f64).sqrt().max(MIN_VOLATILITY))
}

/// What every forecast of one task is measured with.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    /// The last known close `c₀` (close of the task's last candle).
    pub last_close: f64,
    /// The one-candle volatility `σ` of the task's candles.
    pub volatility: f64,
    /// Step scales `s_i = c₀ · σ · √i`, for `i = 1..=k`: the typical size of a random walk's move
    /// after `i` candles.
    pub scales: Vec<f64>,
    /// The realised close of each horizon step, `None` where the exchange produced no candle.
    pub realised: Vec<Option<f64>>,
}

impl Reference {
    /// The reference of `task` settled with `truth`. Errors when the task or truth is inconsistent,
    /// or when the truth holds none of the horizon's candles.
    pub fn new(task: &PredictionTask, truth: &RealisedCandles) -> Result<Self, String> {
        task.validate()?;
        if truth.pair != task.pair || truth.interval_ms != task.interval_ms {
            return Err(format!(
                "the truth is for {} every {} ms, the task for {} every {} ms",
                truth.pair, truth.interval_ms, task.pair, task.interval_ms
            ));
        }
        crate::feed::validate_series(&truth.candles, truth.interval_ms).map_err(|e| format!("invalid truth: {e}"))?;
        let last = task.candles.last().ok_or("the task has no candles")?;
        let volatility = volatility(&task.candles, task.interval_ms)
            .ok_or_else(|| format!("the task has fewer than {MIN_RETURNS} one-interval returns"))?;
        let k = task.horizon as usize;
        let scales = (1..=k).map(|i| last.close * volatility * (i as f64).sqrt()).collect();
        let realised: Vec<Option<f64>> = (0..k as u64)
            .map(|i| {
                let t = task.first_open_ms.saturating_add(i.saturating_mul(task.interval_ms));
                truth.candles.iter().find(|c| c.open_time_ms == t).map(|c| c.close)
            })
            .collect();
        if realised.iter().all(Option::is_none) {
            return Err(format!("the truth holds none of the {k} horizon candles from {}", task.first_open_ms));
        }
        Ok(Reference { last_close: last.close, volatility, scales, realised })
    }

    /// How many horizon steps have a realised close.
    pub fn settled_steps(&self) -> usize {
        self.realised.iter().flatten().count()
    }

    /// The normalised RMSE `sqrt(mean_i ((p_i − a_i)/s_i)²)` of `closes` over the settled steps.
    pub fn normalised_rmse(&self, closes: &[f64]) -> f64 {
        let (mut sum, mut n) = (0.0f64, 0usize);
        for ((p, a), s) in closes.iter().zip(&self.realised).zip(&self.scales) {
            if let Some(a) = a {
                let e = (p - a) / s;
                sum += e * e;
                n += 1;
            }
        }
        (sum / n as f64).sqrt()
    }

    /// The no-change forecast's normalised RMSE: every step predicted at `c₀`.
    pub fn naive_rmse(&self) -> f64 {
        self.normalised_rmse(&vec![self.last_close; self.scales.len()])
    }

    /// The direction score `D` in `[0, 1]`: over settled steps where the price moved by at least
    /// [`DIRECTION_DEAD_ZONE`]` · s_i`, 1 for a forecast moving the same way from `c₀`, ½ for a
    /// flat forecast (`p_i = c₀`), 0 for the wrong way. ½ when no step moved that much.
    pub fn direction(&self, closes: &[f64]) -> f64 {
        let (mut hits, mut n) = (0.0f64, 0usize);
        for ((p, a), s) in closes.iter().zip(&self.realised).zip(&self.scales) {
            let Some(a) = a else { continue };
            let moved = a - self.last_close;
            if moved.abs() < DIRECTION_DEAD_ZONE * s {
                continue;
            }
            let predicted = p - self.last_close;
            hits += if predicted == 0.0 {
                0.5
            } else if (predicted > 0.0) == (moved > 0.0) {
                1.0
            } else {
                0.0
            };
            n += 1;
        }
        if n == 0 { 0.5 } else { hits / n as f64 }
    }

    /// The mean normalised interval score over settled steps (Gneiting and Raftery's score for a
    /// central interval of coverage `1 − α`):
    /// `((u − l) + (2/α)·(l − a)₊ + (2/α)·(a − u)₊) / s_i`. Lower is better.
    pub fn interval_score(&self, intervals: &[Interval]) -> f64 {
        let penalty = 2.0 / (1.0 - COVERAGE);
        let (mut sum, mut n) = (0.0f64, 0usize);
        for ((iv, a), s) in intervals.iter().zip(&self.realised).zip(&self.scales) {
            let Some(a) = *a else { continue };
            let mut score = iv.high - iv.low;
            if a < iv.low {
                score += penalty * (iv.low - a);
            }
            if a > iv.high {
                score += penalty * (a - iv.high);
            }
            sum += score / s;
            n += 1;
        }
        sum / n as f64
    }

    /// The band `centre_i ± z·s_i`: the interval a random walk with the task's volatility implies.
    pub fn default_band(&self, centres: &[f64]) -> Vec<Interval> {
        centres
            .iter()
            .zip(&self.scales)
            .map(|(c, s)| Interval { low: c - Z_COVERAGE * s, high: c + Z_COVERAGE * s })
            .collect()
    }
}

/// `g(x) = 1 / (1 + κ·x²)`: 1 at 0, 0.1 at 1, decreasing towards 0; 0 for NaN or infinite `x`.
pub fn ratio_score(x: f64) -> f64 {
    if !x.is_finite() {
        return 0.0;
    }
    1.0 / (1.0 + KAPPA * x * x)
}

/// The parts of one forecast's score, before sharing with copies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Breakdown {
    /// `U`: the forecast's normalised RMSE over the no-change forecast's (floored).
    pub error_ratio: f64,
    /// `D`: the direction score.
    pub direction: f64,
    /// `V`: the interval score over the no-change band's.
    pub interval_ratio: f64,
    /// `g(U) · (1 − w_d + w_d·D) · (1 − w_i + w_i·g(V))`, in `[0, 1]`.
    pub score: f64,
}

/// Scores one well-formed forecast (`closes` of length k, `intervals` of length k if any).
pub fn evaluate(reference: &Reference, closes: &[f64], intervals: Option<&[Interval]>) -> Breakdown {
    let naive = vec![reference.last_close; reference.scales.len()];
    let error_ratio = reference.normalised_rmse(closes) / reference.naive_rmse().max(NAIVE_FLOOR);
    let direction = reference.direction(closes);
    let band;
    let intervals = match intervals {
        Some(iv) => iv,
        None => {
            band = reference.default_band(closes);
            &band
        }
    };
    let interval_ratio =
        reference.interval_score(intervals) / reference.interval_score(&reference.default_band(&naive));
    let score = ratio_score(error_ratio)
        * (1.0 - W_DIRECTION + W_DIRECTION * direction)
        * (1.0 - W_INTERVAL + W_INTERVAL * ratio_score(interval_ratio));
    Breakdown { error_ratio, direction, interval_ratio, score: sdk_guest::score::clamp(score) }
}

/// Whether `closes` echo the prompt: they match, within [`DUPLICATE_TOLERANCE`]` · s_i` at every
/// step, the closes of `k` consecutive candles of the task (its most recent ones, or any earlier
/// run). Such an answer restates the input instead of forecasting and scores 0.
pub fn is_echo(candles: &[Candle], scales: &[f64], closes: &[f64]) -> bool {
    let k = closes.len();
    k > 0
        && candles.windows(k).any(|run| {
            run.iter().zip(closes).zip(scales).all(|((c, p), s)| (c.close - p).abs() <= DUPLICATE_TOLERANCE * s)
        })
}

/// Groups forecasts that are copies of one another: `a` and `b` are linked when
/// `|a_i − b_i| ≤ DUPLICATE_TOLERANCE · s_i` at every step, and groups are the connected
/// components of that relation (so the grouping does not depend on the order of the batch).
/// Returns, for each forecast, the size of its group (`None` entries are not forecasts and get 0).
pub fn copy_counts(scales: &[f64], forecasts: &[Option<&[f64]>]) -> Vec<usize> {
    let n = forecasts.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (a, fa) in forecasts.iter().enumerate() {
        let Some(fa) = fa else { continue };
        for (b, fb) in forecasts.iter().enumerate().skip(a + 1) {
            let Some(fb) = fb else { continue };
            let close = fa.iter().zip(*fb).zip(scales).all(|((x, y), s)| (x - y).abs() <= DUPLICATE_TOLERANCE * s);
            if close {
                let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
    }
    let roots: Vec<usize> = (0..n).map(|i| root(&mut parent, i)).collect();
    let mut size = vec![0usize; n];
    for (i, &r) in roots.iter().enumerate() {
        if forecasts[i].is_some() {
            size[r] += 1;
        }
    }
    (0..n).map(|i| if forecasts[i].is_some() { size[roots[i]] } else { 0 }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_score_shape() {
        assert_eq!(ratio_score(0.0), 1.0);
        assert_eq!(ratio_score(1.0), 0.1);
        assert!(ratio_score(0.5) > ratio_score(0.9));
        assert_eq!(ratio_score(f64::INFINITY), 0.0);
        assert_eq!(ratio_score(f64::NAN), 0.0);
    }

    #[test]
    fn z_matches_the_coverage() {
        // Φ(z) − ½ = ∫₀^z φ(t) dt by Simpson's rule (natively; the plugin never needs `exp`).
        let phi = |t: f64| (-t * t / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let n = 10_000;
        let h = Z_COVERAGE / n as f64;
        let sum: f64 = (0..=n)
            .map(|i| {
                let w = if i == 0 || i == n {
                    1.0
                } else if i % 2 == 1 {
                    4.0
                } else {
                    2.0
                };
                w * phi(i as f64 * h)
            })
            .sum();
        let covered = 2.0 * sum * h / 3.0;
        assert!((covered - COVERAGE).abs() < 1e-12, "±z covers {covered}");
    }

    #[test]
    fn copies_group_transitively_and_ignore_order() {
        let scales = [100.0, 100.0];
        let a: &[f64] = &[10.0, 20.0];
        let b: &[f64] = &[10.5, 20.5]; // within 1 of a
        let c: &[f64] = &[11.4, 21.4]; // within 1 of b, not of a
        let d: &[f64] = &[50.0, 20.0];
        assert_eq!(copy_counts(&scales, &[Some(a), Some(b), Some(c), Some(d), None]), [3, 3, 3, 1, 0]);
        assert_eq!(copy_counts(&scales, &[Some(c), None, Some(d), Some(a), Some(b)]), [3, 0, 1, 3, 3]);
        assert_eq!(copy_counts(&scales, &[]), Vec::<usize>::new());
    }
}
