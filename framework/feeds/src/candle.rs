//! The price feed's wire types: candles, the feed value and the settlement truth.
//!
//! The JSON these types produce is the contract between the host and a price plugin, documented
//! field by field in `subnets/price-prediction/README.md` ("Feed contract", "Truth"). Field names,
//! their order and `deny_unknown_fields` follow it exactly, so what this crate serialises is what
//! the plugin decodes; the framework does not depend on the plugin, only on the contract.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Smallest candle interval the contract allows: one minute.
pub const MIN_INTERVAL_MS: u64 = 60_000;
/// Largest candle interval the contract allows: one week.
pub const MAX_INTERVAL_MS: u64 = 7 * 24 * 3_600_000;
/// Four hours, the interval of the bundled series and of the default feeds.
pub const FOUR_HOURS_MS: u64 = 4 * 3_600_000;
/// How many closed candles a feed value carries by default. The contract asks for at least 120
/// (the plugin uses the last 120) and suggests 200, which leaves room for gaps.
pub const DEFAULT_WINDOW: usize = 200;

/// One OHLCV candle (kline). Prices are in the quote currency, the volume in the base currency.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Candle {
    /// Opening time, ms since the Unix epoch (UTC); the candle covers
    /// `[open_time_ms, open_time_ms + interval_ms)`.
    pub open_time_ms: u64,
    /// First traded price.
    pub open: f64,
    /// Highest traded price.
    pub high: f64,
    /// Lowest traded price.
    pub low: f64,
    /// Last traded price.
    pub close: f64,
    /// Traded volume, in base currency.
    pub volume: f64,
}

impl Candle {
    /// When the candle closes: `open_time_ms + interval_ms`.
    pub fn close_time_ms(&self, interval_ms: u64) -> u64 {
        self.open_time_ms.saturating_add(interval_ms)
    }

    /// Checks the contract's rules for one candle: prices finite and positive,
    /// `low ≤ min(open, close)`, `high ≥ max(open, close)`, volume finite and not negative.
    pub fn validate(&self) -> Result<(), String> {
        let prices = [self.open, self.high, self.low, self.close];
        if prices.iter().any(|p| !p.is_finite() || *p <= 0.0) {
            return Err(format!("candle at {} has a price that is not finite and positive", self.open_time_ms));
        }
        if self.low > self.open.min(self.close) || self.high < self.open.max(self.close) {
            return Err(format!(
                "candle at {} has a low above min(open, close) or a high below max(open, close)",
                self.open_time_ms
            ));
        }
        if !self.volume.is_finite() || self.volume < 0.0 {
            return Err(format!("candle at {} has a volume that is not finite and non-negative", self.open_time_ms));
        }
        Ok(())
    }
}

/// Checks that `interval_ms` is within the contract's bounds.
pub fn validate_interval(interval_ms: u64) -> Result<(), String> {
    if (MIN_INTERVAL_MS..=MAX_INTERVAL_MS).contains(&interval_ms) {
        Ok(())
    } else {
        Err(format!("interval {interval_ms} ms is outside [{MIN_INTERVAL_MS}, {MAX_INTERVAL_MS}]"))
    }
}

/// Checks a series the way the plugin does: every candle valid, opening times strictly
/// increasing, each step a whole number of intervals (gaps from exchange outages are allowed).
/// Errors name the index of the offending candle.
pub fn validate_series(candles: &[Candle], interval_ms: u64) -> Result<(), String> {
    validate_interval(interval_ms)?;
    for (i, candle) in candles.iter().enumerate() {
        candle.validate().map_err(|e| format!("candle {i}: {e}"))?;
        if i > 0 {
            step_error(candles[i - 1].open_time_ms, candle.open_time_ms, interval_ms)
                .map_or(Ok(()), |e| Err(format!("candle {i}: {e}")))?;
        }
    }
    Ok(())
}

/// What is wrong with a candle opening at `next` following one that opened at `prev`, if anything.
pub(crate) fn step_error(prev: u64, next: u64, interval_ms: u64) -> Option<String> {
    if next <= prev {
        Some(format!("opening time {next} does not increase (previous {prev})"))
    } else if !(next - prev).is_multiple_of(interval_ms) {
        Some(format!("opening time {next} is not a whole number of {interval_ms} ms intervals after {prev}"))
    } else {
        None
    }
}

/// A trading pair, `BASE-QUOTE` in upper case (e.g. `BTC-USDT`), as feed names and the contract's
/// `pair` field spell it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pair {
    base: String,
    quote: String,
}

impl Pair {
    /// The pair `base-quote`; both parts must be 1 to 16 upper-case ASCII letters or digits.
    pub fn new(base: &str, quote: &str) -> Result<Self, String> {
        let ok =
            |s: &str| (1..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if ok(base) && ok(quote) {
            Ok(Pair { base: base.to_owned(), quote: quote.to_owned() })
        } else {
            Err(format!("pair {base:?}-{quote:?} is not BASE-QUOTE in upper-case letters and digits"))
        }
    }

    /// The base currency, e.g. `BTC`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The quote currency, e.g. `USDT`.
    pub fn quote(&self) -> &str {
        &self.quote
    }

    /// The exchange symbol: base and quote run together, e.g. `BTCUSDT`.
    pub fn symbol(&self) -> String {
        format!("{}{}", self.base, self.quote)
    }
}

impl fmt::Display for Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.base, self.quote)
    }
}

impl FromStr for Pair {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (base, quote) = s.split_once('-').ok_or_else(|| format!("pair {s:?} is not BASE-QUOTE (e.g. BTC-USDT)"))?;
        Pair::new(base, quote).map_err(|_| format!("pair {s:?} is not BASE-QUOTE in upper-case letters and digits"))
    }
}

/// The value of a feed `price:<PAIR>`: the most recent closed candles of one pair, oldest first,
/// and the feed's clock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceFeed {
    /// The pair, `BASE-QUOTE`.
    pub pair: String,
    /// Candle length in ms.
    pub interval_ms: u64,
    /// The feed clock's "now" (market time, ms since the epoch): the wall clock for a live feed,
    /// the simulated time inside the series for a replay. Every listed candle has closed by then.
    pub as_of_ms: u64,
    /// The validator's wall clock when the value was taken (equal to `as_of_ms` for a live feed).
    pub captured_unix_ms: u64,
    /// Market ms per wall ms: 1 for a live feed, the acceleration for a replay.
    pub speed: u64,
    /// The most recent closed candles, oldest first, strictly increasing in time.
    pub candles: Vec<Candle>,
}

impl PriceFeed {
    /// The value as the JSON bytes a plugin receives.
    pub fn to_json(&self) -> Vec<u8> {
        // Strings, integers and floats into a `Vec`: serde_json has no error path for these.
        serde_json::to_vec(self).expect("a price feed serialises to JSON")
    }
}

/// The realised candles of a settled window: the truth a price plugin scores against.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealisedCandles {
    /// The pair, as in the task.
    pub pair: String,
    /// Candle length in ms, as in the task.
    pub interval_ms: u64,
    /// The window's candles that exist, strictly increasing in time; a candle the exchange never
    /// produced (an outage) is left out.
    pub candles: Vec<Candle>,
}

impl RealisedCandles {
    /// The truth as the JSON bytes a plugin receives.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("realised candles serialise to JSON")
    }
}

/// A settlement window: `count` consecutive candles of `interval_ms`, the first opening at
/// `first_open_ms` (a task's horizon).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// Opening time of the first candle, ms since the epoch.
    pub first_open_ms: u64,
    /// Candle length in ms.
    pub interval_ms: u64,
    /// How many candles (the task's horizon `k`).
    pub count: u32,
}

impl Window {
    /// End of the window: when its last candle closes.
    pub fn end_ms(&self) -> u64 {
        self.first_open_ms.saturating_add(self.interval_ms.saturating_mul(u64::from(self.count)))
    }

    /// Whether a candle opening at `open_time_ms` belongs to the window.
    pub fn contains(&self, open_time_ms: u64) -> bool {
        (self.first_open_ms..self.end_ms()).contains(&open_time_ms)
            && (open_time_ms - self.first_open_ms).is_multiple_of(self.interval_ms)
    }
}
