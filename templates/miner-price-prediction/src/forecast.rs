//! The forecasters: each turns the task's closes into `k` predicted closes, and [`Intervals`]
//! puts an interval of the asked coverage around them.
//!
//! Every forecaster works on log prices `x_t = ln close_t`, so that a trend is a growth rate and
//! the forecasts stay positive. Gaps in the series (exchange outages) are ignored: consecutive
//! candles are treated as one interval apart.

use serde::{Deserialize, Serialize};

/// A point forecaster, with its parameters, as written in the miner's config under
/// `"forecaster"`, e.g. `{"method": "holt", "alpha": 0.9, "beta": 0.02, "damping": 0.9}`.
/// Parameters left out take their defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Forecaster {
    /// The no-change forecast: every close equals the last close. The scorer's baseline.
    LastValue,
    /// A random walk with drift: the average log return of the last `lookback` candles,
    /// compounded from the last close.
    Drift(DriftParams),
    /// Holt's linear exponential smoothing (level and damped trend) of the log price.
    Holt(HoltParams),
    /// A least-squares line through the last `lookback` log prices.
    LinearFit(LinearFitParams),
    /// An autoregressive model of order `order` on log returns, fitted by (ridge) least squares
    /// over the last `lookback` returns and iterated forward.
    Ar(ArParams),
}

impl Default for Forecaster {
    /// [`Forecaster::Holt`] with its default parameters.
    fn default() -> Forecaster {
        Forecaster::Holt(HoltParams::default())
    }
}

/// Parameters of [`Forecaster::Drift`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriftParams {
    /// Candles over which the average return is taken (at least 1; fewer if the task has fewer).
    pub lookback: usize,
    /// Share of the measured drift that is kept, in `[0, 1]` (1: the plain drift forecast;
    /// smaller values shrink it towards the no-change forecast).
    pub shrink: f64,
}

impl Default for DriftParams {
    fn default() -> DriftParams {
        DriftParams { lookback: 60, shrink: 1.0 }
    }
}

/// Parameters of [`Forecaster::Holt`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HoltParams {
    /// Level smoothing, in `(0, 1]`: 1 follows the last price exactly.
    pub alpha: f64,
    /// Trend smoothing, in `[0, 1]`: 0 keeps the trend at zero.
    pub beta: f64,
    /// Trend damping `φ`, in `[0, 1]`: the `h`-step trend is `(φ + φ² + … + φ^h) · b`.
    pub damping: f64,
}

impl Default for HoltParams {
    fn default() -> HoltParams {
        HoltParams { alpha: 0.9, beta: 0.05, damping: 0.8 }
    }
}

/// Where a [`Forecaster::LinearFit`] forecast starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    /// From the last close, with the line's slope.
    #[default]
    Last,
    /// On the fitted line itself (the textbook regression forecast; it pulls the price back to
    /// the line).
    Fit,
}

/// Parameters of [`Forecaster::LinearFit`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinearFitParams {
    /// Log prices the line is fitted through (at least 2; fewer if the task has fewer).
    pub lookback: usize,
    /// Where the forecast starts.
    pub anchor: Anchor,
}

impl Default for LinearFitParams {
    fn default() -> LinearFitParams {
        LinearFitParams { lookback: 48, anchor: Anchor::Last }
    }
}

/// Parameters of [`Forecaster::Ar`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArParams {
    /// Lags `p`, in `1..=16`.
    pub order: usize,
    /// Returns the model is fitted on (at least `4 · (order + 1)`, or the forecast is the last
    /// value).
    pub lookback: usize,
    /// Ridge penalty on the lag coefficients, relative to the returns' sum of squares (0: plain
    /// least squares). Shrinks a noisy fit towards "no autocorrelation".
    pub ridge: f64,
}

impl Default for ArParams {
    fn default() -> ArParams {
        ArParams { order: 2, lookback: 119, ridge: 0.1 }
    }
}

/// Largest AR order accepted.
pub const MAX_AR_ORDER: usize = 16;

impl Forecaster {
    /// A short name, for logs and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Forecaster::LastValue => "last_value",
            Forecaster::Drift(_) => "drift",
            Forecaster::Holt(_) => "holt",
            Forecaster::LinearFit(_) => "linear_fit",
            Forecaster::Ar(_) => "ar",
        }
    }

    /// Checks the parameters; the error names the field (relative to the forecaster) and says
    /// what is allowed.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let unit = |field: &'static str, x: f64, low_open: bool| {
            let ok = x.is_finite() && x <= 1.0 && if low_open { x > 0.0 } else { x >= 0.0 };
            if ok {
                Ok(())
            } else {
                let range = if low_open { "(0, 1]" } else { "[0, 1]" };
                Err((field, format!("{x} is outside {range}")))
            }
        };
        match *self {
            Forecaster::LastValue => Ok(()),
            Forecaster::Drift(p) => {
                if p.lookback == 0 {
                    return Err(("lookback", "must be at least 1".to_owned()));
                }
                unit("shrink", p.shrink, false)
            }
            Forecaster::Holt(p) => {
                unit("alpha", p.alpha, true)?;
                unit("beta", p.beta, false)?;
                unit("damping", p.damping, false)
            }
            Forecaster::LinearFit(p) => {
                if p.lookback < 2 {
                    return Err(("lookback", "must be at least 2".to_owned()));
                }
                Ok(())
            }
            Forecaster::Ar(p) => {
                if !(1..=MAX_AR_ORDER).contains(&p.order) {
                    return Err(("order", format!("{} is outside 1..={MAX_AR_ORDER}", p.order)));
                }
                if p.lookback < 4 * (p.order + 1) {
                    return Err((
                        "lookback",
                        format!("{} is less than 4 · (order + 1) = {}", p.lookback, 4 * (p.order + 1)),
                    ));
                }
                if !(p.ridge.is_finite() && p.ridge >= 0.0) {
                    return Err(("ridge", format!("{} is not a finite number ≥ 0", p.ridge)));
                }
                Ok(())
            }
        }
    }

    /// The predicted closes of the next `horizon` candles after `closes` (oldest first, every
    /// close finite and positive, at least one). The result always has `horizon` entries; they
    /// are finite and positive whenever the inputs are.
    pub fn forecast(&self, closes: &[f64], horizon: usize) -> Vec<f64> {
        let Some(&last) = closes.last() else { return Vec::new() };
        let x: Vec<f64> = closes.iter().map(|c| c.ln()).collect();
        let logs = match *self {
            Forecaster::LastValue => None,
            Forecaster::Drift(p) => drift(&x, p, horizon),
            Forecaster::Holt(p) => holt(&x, p, horizon),
            Forecaster::LinearFit(p) => linear_fit(&x, p, horizon),
            Forecaster::Ar(p) => ar(&x, p, horizon),
        };
        match logs {
            Some(logs) if logs.iter().all(|l| l.is_finite()) => logs.into_iter().map(f64::exp).collect(),
            _ => vec![last; horizon],
        }
    }
}

fn drift(x: &[f64], p: DriftParams, horizon: usize) -> Option<Vec<f64>> {
    let n = x.len();
    let m = p.lookback.min(n - 1);
    if m == 0 {
        return None;
    }
    let mu = p.shrink * (x[n - 1] - x[n - 1 - m]) / m as f64;
    Some((1..=horizon).map(|h| x[n - 1] + mu * h as f64).collect())
}

fn holt(x: &[f64], p: HoltParams, horizon: usize) -> Option<Vec<f64>> {
    let (alpha, beta, phi) = (p.alpha, p.beta, p.damping);
    let mut level = x[0];
    let mut trend = 0.0;
    for &value in &x[1..] {
        let previous = level;
        level = alpha * value + (1.0 - alpha) * (previous + phi * trend);
        trend = beta * (level - previous) + (1.0 - beta) * phi * trend;
    }
    let mut damped = 0.0;
    let mut power = 1.0;
    Some(
        (1..=horizon)
            .map(|_| {
                power *= phi;
                damped += power;
                level + damped * trend
            })
            .collect(),
    )
}

fn linear_fit(x: &[f64], p: LinearFitParams, horizon: usize) -> Option<Vec<f64>> {
    let n = x.len();
    let m = p.lookback.min(n);
    if m < 2 {
        return None;
    }
    let window = &x[n - m..];
    let mean_t = (m - 1) as f64 / 2.0;
    let mean_x = window.iter().sum::<f64>() / m as f64;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (t, &value) in window.iter().enumerate() {
        let dt = t as f64 - mean_t;
        sxy += dt * (value - mean_x);
        sxx += dt * dt;
    }
    let slope = sxy / sxx;
    let start = match p.anchor {
        Anchor::Last => x[n - 1],
        Anchor::Fit => mean_x + slope * ((m - 1) as f64 - mean_t),
    };
    Some((1..=horizon).map(|h| start + slope * h as f64).collect())
}

fn ar(x: &[f64], p: ArParams, horizon: usize) -> Option<Vec<f64>> {
    let returns: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
    let r = &returns[returns.len().saturating_sub(p.lookback)..];
    let order = p.order;
    let rows = r.len().checked_sub(order)?;
    let size = order + 1;
    if rows < 3 * size {
        return None;
    }
    // Normal equations of r_t = c + Σ_j φ_j r_{t−j}, with a ridge on the φ_j.
    let mut a = vec![vec![0.0; size]; size];
    let mut b = vec![0.0; size];
    let mut row = vec![0.0; size];
    for t in order..r.len() {
        row[0] = 1.0;
        for j in 1..=order {
            row[j] = r[t - j];
        }
        for i in 0..size {
            b[i] += row[i] * r[t];
            for k in 0..size {
                a[i][k] += row[i] * row[k];
            }
        }
    }
    let penalty = p.ridge * r.iter().map(|v| v * v).sum::<f64>();
    for (i, a_row) in a.iter_mut().enumerate().skip(1) {
        a_row[i] += penalty;
    }
    let coefficients = solve(a, b)?;
    let mut history: Vec<f64> = r[r.len() - order..].to_vec();
    let mut level = x[x.len() - 1];
    let mut out = Vec::with_capacity(horizon);
    for _ in 0..horizon {
        let k = history.len();
        let next = coefficients[0] + (1..=order).map(|j| coefficients[j] * history[k - j]).sum::<f64>();
        history.push(next);
        level += next;
        out.push(level);
    }
    Some(out)
}

/// Solves `a · x = b` by Gaussian elimination with partial pivoting; `None` if `a` is singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    let scale = a.iter().flatten().fold(0.0_f64, |m, v| m.max(v.abs()));
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() <= scale * 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (upper, lower) = a.split_at_mut(col + 1);
        let pivot_row = &upper[col];
        for (offset, row) in lower.iter_mut().enumerate() {
            let factor = row[col] / pivot_row[col];
            for (value, &p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *value -= factor * p;
            }
            b[col + 1 + offset] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let tail: f64 = (i + 1..n).map(|k| a[i][k] * x[k]).sum();
        x[i] = (b[i] - tail) / a[i][i];
    }
    Some(x)
}

/// Forecast intervals from recent volatility, as written in the miner's config under
/// `"intervals"`, e.g. `{"enabled": true, "window": 30, "scale": 1.0}`.
///
/// The interval of step `h` is `close_h · exp(±z · σ · √h · scale)`, where `σ` is the root mean
/// square of the last `window` one-candle log returns and `z` the normal quantile of the task's
/// coverage (1.2816 for 80 %). The scorer pays for an interval only when it beats the
/// random-walk band it assumes for an answer without one, so leave them off if yours are not
/// better calibrated.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Intervals {
    /// Whether answers carry intervals.
    pub enabled: bool,
    /// Returns the volatility is measured over (at least 2).
    pub window: usize,
    /// Multiplies the width (positive): above 1 for fat tails, below 1 for calm markets.
    pub scale: f64,
}

impl Default for Intervals {
    fn default() -> Intervals {
        Intervals { enabled: true, window: 30, scale: 1.0 }
    }
}

impl Intervals {
    /// Checks the parameters; the error names the field.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.window < 2 {
            return Err(("window", "must be at least 2".to_owned()));
        }
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(("scale", format!("{} is not a finite number > 0", self.scale)));
        }
        Ok(())
    }

    /// The `(low, high)` bounds around `forecast` for a task whose candles close at `closes`
    /// and asks for `coverage` (in `(0, 1)`); `None` when disabled or the data is too short.
    pub fn around(&self, closes: &[f64], forecast: &[f64], coverage: f64) -> Option<Vec<(f64, f64)>> {
        if !(self.enabled && coverage > 0.0 && coverage < 1.0) {
            return None;
        }
        let returns: Vec<f64> = closes.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
        let recent = &returns[returns.len().saturating_sub(self.window)..];
        if recent.len() < 2 {
            return None;
        }
        let sigma = (recent.iter().map(|r| r * r).sum::<f64>() / recent.len() as f64).sqrt();
        let z = normal_quantile(0.5 + coverage / 2.0);
        let bounds: Vec<(f64, f64)> = forecast
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let half = z * sigma * ((i + 1) as f64).sqrt() * self.scale;
                (p * (-half).exp(), p * half.exp())
            })
            .collect();
        bounds.iter().all(|&(l, h)| l.is_finite() && h.is_finite() && l <= h).then_some(bounds)
    }
}

/// `Φ⁻¹(p)` for `p` in `(0.5, 1)`, by bisection on [`normal_cdf`] (within about 1e-6).
pub fn normal_quantile(p: f64) -> f64 {
    let (mut low, mut high) = (0.0_f64, 10.0_f64);
    for _ in 0..64 {
        let mid = (low + high) / 2.0;
        if normal_cdf(mid) < p {
            low = mid;
        } else {
            high = mid;
        }
    }
    (low + high) / 2.0
}

/// The standard normal distribution function, from `erf` (Abramowitz and Stegun 7.1.26, absolute
/// error below 1.5e-7).
pub fn normal_cdf(x: f64) -> f64 {
    let t = x.abs() / std::f64::consts::SQRT_2;
    let k = 1.0 / (1.0 + 0.327_591_1 * t);
    let poly =
        k * (0.254_829_592 + k * (-0.284_496_736 + k * (1.421_413_741 + k * (-1.453_152_027 + k * 1.061_405_429))));
    let erf = 1.0 - poly * (-t * t).exp();
    if x >= 0.0 { 0.5 * (1.0 + erf) } else { 0.5 * (1.0 - erf) }
}
