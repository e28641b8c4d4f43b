//! Candles, the `price:BTC-USDT` feed value and the settlement truth.
//!
//! These types are this plugin's side of the wire contract with the validator's price feed (the
//! replay of the bundled series, or a live exchange; `framework/feeds`); the crate's README
//! describes them field by field, and `subnets/conformance` checks that the two sides agree.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Smallest candle interval the plugin accepts: one minute.
pub const MIN_INTERVAL_MS: u64 = 60_000;
/// Largest candle interval the plugin accepts: one week.
pub const MAX_INTERVAL_MS: u64 = 7 * 24 * 3_600_000;

/// One OHLCV candle (kline), as the feed, the task and the truth carry it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Candle {
    /// Opening time, milliseconds since the Unix epoch (UTC). The candle covers
    /// `[open_time_ms, open_time_ms + interval_ms)`.
    pub open_time_ms: u64,
    /// First traded price, in quote currency (USDT).
    pub open: f64,
    /// Highest traded price.
    pub high: f64,
    /// Lowest traded price.
    pub low: f64,
    /// Last traded price: the value miners forecast.
    pub close: f64,
    /// Traded volume, in base currency (BTC).
    pub volume: f64,
}

impl Candle {
    /// Checks that the prices are finite and positive, that `low ≤ open, close ≤ high`, and that
    /// the volume is finite and not negative.
    pub fn validate(&self) -> Result<(), String> {
        let prices = [self.open, self.high, self.low, self.close];
        if prices.iter().any(|p| !p.is_finite() || *p <= 0.0) {
            return Err(format!("candle at {} has a price that is not finite and positive", self.open_time_ms));
        }
        if self.low > self.open.min(self.close) || self.high < self.open.max(self.close) {
            return Err(format!("candle at {} has low/high outside its open/close", self.open_time_ms));
        }
        if !self.volume.is_finite() || self.volume < 0.0 {
            return Err(format!("candle at {} has a volume that is not finite and non-negative", self.open_time_ms));
        }
        Ok(())
    }
}

/// Checks a series of candles: each one valid, opening times strictly increasing, and every step
/// between two candles a whole number of intervals (gaps from exchange outages are allowed).
pub fn validate_series(candles: &[Candle], interval_ms: u64) -> Result<(), String> {
    if !(MIN_INTERVAL_MS..=MAX_INTERVAL_MS).contains(&interval_ms) {
        return Err(format!("interval_ms {interval_ms} is outside [{MIN_INTERVAL_MS}, {MAX_INTERVAL_MS}]"));
    }
    for candle in candles {
        candle.validate()?;
    }
    for pair in candles.windows(2) {
        let (a, b) = (pair[0].open_time_ms, pair[1].open_time_ms);
        if b <= a {
            return Err(format!("candles are not in strictly increasing time order at {b}"));
        }
        if (b - a) % interval_ms != 0 {
            return Err(format!("candle at {b} is not a whole number of intervals after the one at {a}"));
        }
    }
    Ok(())
}

/// The value of the feed `price:<PAIR>`: the most recent closed candles of one pair, oldest first,
/// and the feed's clock.
///
/// A live feed runs on the wall clock (`speed` 1, `as_of_ms == captured_unix_ms`); the replay of
/// the bundled series runs a simulated market clock `speed` times faster than the wall clock, so
/// `as_of_ms` is a time inside the series while `captured_unix_ms` is the validator's real time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceFeed {
    /// The pair, `BASE-QUOTE` in upper case, e.g. `BTC-USDT`.
    pub pair: String,
    /// Candle length in milliseconds (4 h = 14 400 000).
    pub interval_ms: u64,
    /// The feed clock's current time (market time, ms since the Unix epoch) when the value was
    /// taken. Every candle listed has closed by then: `open_time_ms + interval_ms <= as_of_ms`.
    pub as_of_ms: u64,
    /// The validator's wall-clock time (ms since the Unix epoch) when the value was taken; compared
    /// with the task context's `unix_ms` to refuse a snapshot that is too old.
    pub captured_unix_ms: u64,
    /// Market milliseconds per wall-clock millisecond: 1 for a live feed, e.g. 1440 for a replay
    /// that plays one 4-hour candle every 10 s. Defaults to 1.
    #[serde(default = "one")]
    pub speed: u64,
    /// The most recent closed candles, oldest first, strictly increasing in time.
    pub candles: Vec<Candle>,
}

fn one() -> u64 {
    1
}

/// The realised candles supplied at delayed settlement (the mechanism's `Truth`).
///
/// It must hold the candles of the task's horizon (opening at `first_open_ms`,
/// `first_open_ms + interval_ms`, …); other candles are ignored, and a horizon candle that the
/// exchange never produced (an outage) is simply left out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RealisedCandles {
    /// The pair, as in the task.
    pub pair: String,
    /// Candle length in milliseconds, as in the task.
    pub interval_ms: u64,
    /// The realised candles, strictly increasing in time.
    pub candles: Vec<Candle>,
}

impl RealisedCandles {
    /// The candles of `series` that open in `[first_open_ms, first_open_ms + horizon · interval_ms)`:
    /// the truth for a task whose first forecast candle opens at `first_open_ms`.
    pub fn from_series(pair: &str, interval_ms: u64, series: &[Candle], first_open_ms: u64, horizon: u32) -> Self {
        let end = first_open_ms.saturating_add(interval_ms.saturating_mul(u64::from(horizon)));
        let start = series.partition_point(|c| c.open_time_ms < first_open_ms);
        let stop = series.partition_point(|c| c.open_time_ms < end);
        RealisedCandles { pair: pair.to_owned(), interval_ms, candles: series[start..stop.max(start)].to_vec() }
    }
}

/// The at most `n` most recent candles of `series` (sorted by time) that have closed by
/// `as_of_ms`: what a feed publishes at that moment.
pub fn closed_window(series: &[Candle], interval_ms: u64, as_of_ms: u64, n: usize) -> &[Candle] {
    let end = series.partition_point(|c| c.open_time_ms.saturating_add(interval_ms) <= as_of_ms);
    &series[end.saturating_sub(n)..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candle(t: u64, close: f64) -> Candle {
        Candle { open_time_ms: t, open: close, high: close, low: close, close, volume: 1.0 }
    }

    #[test]
    fn series_validation() {
        let h = 14_400_000;
        assert!(validate_series(&[candle(0, 1.0), candle(h, 2.0), candle(3 * h, 2.0)], h).is_ok());
        assert!(validate_series(&[candle(h, 1.0), candle(h, 2.0)], h).is_err());
        assert!(validate_series(&[candle(0, 1.0), candle(h + 1, 2.0)], h).is_err());
        assert!(validate_series(&[candle(0, 1.0)], 1).is_err());
        assert!(validate_series(&[candle(0, -1.0)], h).is_err());
        let mut c = candle(0, 10.0);
        c.high = 9.0;
        assert!(c.validate().is_err());
        c = candle(0, 10.0);
        c.volume = f64::NAN;
        assert!(c.validate().is_err());
    }

    #[test]
    fn windows_and_truths() {
        let h = 100_000;
        let series: Vec<Candle> = (0..10).map(|i| candle(i * h, 1.0 + i as f64)).collect();
        // At 5.5 intervals, candles 0..=4 have closed (candle 5 closes at 6h).
        let w = closed_window(&series, h, 5 * h + h / 2, 3);
        assert_eq!(w.iter().map(|c| c.open_time_ms / h).collect::<Vec<_>>(), [2, 3, 4]);
        assert_eq!(closed_window(&series, h, 5 * h, 100).len(), 5);
        assert!(closed_window(&series, h, 0, 3).is_empty());
        let truth = RealisedCandles::from_series("X-Y", h, &series, 5 * h, 3);
        assert_eq!(truth.candles.iter().map(|c| c.open_time_ms / h).collect::<Vec<_>>(), [5, 6, 7]);
        assert!(RealisedCandles::from_series("X-Y", h, &series, 20 * h, 3).candles.is_empty());
    }
}
