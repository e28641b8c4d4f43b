//! Candles, the `price:BTC-USDT` feed value, the settlement truth, and the bundled CSV format.
//!
//! These types are the wire contract between the validator's price feed (the replay of the
//! bundled series, or a live exchange) and this plugin; the crate's README describes them field by
//! field. They are plain data with validation, usable natively so that the validator's feed code
//! shares them instead of re-declaring them.

use std::fmt;

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

/// An error reading the bundled candle CSV, with its 1-based line number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvError {
    /// 1-based line number (the header is line 1).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for CsvError {}

/// The header of the bundled CSV files (Binance's kline columns).
pub const CSV_HEADER: &str = "Open time,Open,High,Low,Close,Volume,Close time,Quote asset volume,Number of trades,\
Taker buy base asset volume,Taker buy quote asset volume,Ignore";

/// Parses the bundled candle CSV (`data/btcusdt_binance_4h_*.csv`): Binance's kline columns with
/// the header [`CSV_HEADER`], times written `YYYY-MM-DD HH:MM:SS.ffffff` in UTC (possibly with
/// trailing spaces). Only open time, open, high, low, close and volume are kept. Each candle is
/// validated with [`Candle::validate`], and opening times must strictly increase.
pub fn parse_csv(text: &str) -> Result<Vec<Candle>, CsvError> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
    let err = |line: usize, message: String| CsvError { line, message };
    match lines.next() {
        Some((_, header)) if header.trim() == CSV_HEADER => {}
        Some((line, _)) => return Err(err(line, "unexpected header (want Binance's kline columns)".to_owned())),
        None => return Err(err(1, "empty file".to_owned())),
    }
    let mut candles: Vec<Candle> = Vec::new();
    for (line, row) in lines {
        if row.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = row.split(',').map(str::trim).collect();
        if fields.len() != 12 {
            return Err(err(line, format!("{} fields, want 12", fields.len())));
        }
        let number = |i: usize, name: &str| -> Result<f64, CsvError> {
            fields[i].parse::<f64>().map_err(|e| err(line, format!("{name} {:?}: {e}", fields[i])))
        };
        let candle = Candle {
            open_time_ms: parse_utc_ms(fields[0]).map_err(|m| err(line, format!("open time: {m}")))?,
            open: number(1, "open")?,
            high: number(2, "high")?,
            low: number(3, "low")?,
            close: number(4, "close")?,
            volume: number(5, "volume")?,
        };
        candle.validate().map_err(|m| err(line, m))?;
        if let Some(prev) = candles.last()
            && candle.open_time_ms <= prev.open_time_ms
        {
            return Err(err(line, "open time does not increase".to_owned()));
        }
        candles.push(candle);
    }
    Ok(candles)
}

/// Parses `YYYY-MM-DD HH:MM:SS[.ffffff]` (UTC) to milliseconds since the Unix epoch.
pub fn parse_utc_ms(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let bad = || format!("{text:?} is not `YYYY-MM-DD HH:MM:SS[.ffffff]`");
    let (date, time) = text.split_once(' ').ok_or_else(bad)?;
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let num = |s: &str, len: usize| -> Result<u64, String> {
        if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse::<u64>().map_err(|_| bad())
    };
    let mut d = date.split('-');
    let (y, m, day) =
        (num(d.next().ok_or_else(bad)?, 4)?, num(d.next().ok_or_else(bad)?, 2)?, num(d.next().ok_or_else(bad)?, 2)?);
    let mut t = hms.split(':');
    let (hh, mm, ss) =
        (num(t.next().ok_or_else(bad)?, 2)?, num(t.next().ok_or_else(bad)?, 2)?, num(t.next().ok_or_else(bad)?, 2)?);
    if d.next().is_some() || t.next().is_some() || !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 9 {
        return Err(bad());
    }
    if y < 1970 || !(1..=12).contains(&m) || day == 0 || day > days_in_month(y, m) || hh > 23 || mm > 59 || ss > 59 {
        return Err(bad());
    }
    // Milliseconds: the first three fraction digits, right-padded with zeros.
    let ms = frac.bytes().chain(std::iter::repeat(b'0')).take(3).fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'));
    Ok(days_since_epoch(y, m, day) * 86_400_000 + hh * 3_600_000 + mm * 60_000 + ss * 1_000 + ms)
}

fn is_leap(y: u64) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u64, m: u64) -> u64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given date (year ≥ 1970).
fn days_since_epoch(y: u64, m: u64, d: u64) -> u64 {
    let years = y - 1970;
    // Leap years in [1970, y): those divisible by 4, minus by 100, plus by 400, counted from year 0.
    let leaps_before = |year: u64| year / 4 - year / 100 + year / 400;
    let leap_days = leaps_before(y - 1) - leaps_before(1969);
    let month_days: u64 = (1..m).map(|mm| days_in_month(y, mm)).sum();
    years * 365 + leap_days + month_days + d - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_parse() {
        assert_eq!(parse_utc_ms("1970-01-01 00:00:00"), Ok(0));
        assert_eq!(parse_utc_ms("2018-01-01 00:00:00.000000 "), Ok(1_514_764_800_000));
        assert_eq!(parse_utc_ms("2020-02-29 12:00:00.5"), Ok(1_582_977_600_500));
        assert_eq!(parse_utc_ms("2026-01-12 15:59:59.999000"), Ok(1_768_233_599_999));
        assert_eq!(parse_utc_ms("2000-03-01 00:00:00"), Ok(951_868_800_000));
        for bad in
            ["", "2018-01-01", "2018-13-01 00:00:00", "2019-02-29 00:00:00", "2018-01-01 24:00:00", "18-1-1 0:0:0"]
        {
            assert!(parse_utc_ms(bad).is_err(), "{bad:?}");
        }
    }

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

    #[test]
    fn csv_errors_name_the_line() {
        assert_eq!(parse_csv("").unwrap_err().line, 1);
        assert_eq!(parse_csv("a,b\n").unwrap_err().line, 1);
        let row = "2018-01-01 00:00:00.000000 ,1.0,2.0,0.5,1.5,3.0,2018-01-01 03:59:59.999000 ,1,1,1,1,0";
        let text = format!("{CSV_HEADER}\n{row}\n");
        let candles = parse_csv(&text).unwrap();
        assert_eq!(candles.len(), 1);
        assert_eq!(candles[0].close, 1.5);
        let twice = format!("{CSV_HEADER}\n{row}\n{row}\n");
        assert_eq!(parse_csv(&twice).unwrap_err().line, 3);
        let short = format!("{CSV_HEADER}\n1,2,3\n");
        assert_eq!(parse_csv(&short).unwrap_err().line, 2);
        let bad = format!("{CSV_HEADER}\n{}\n", row.replace(",1.5,", ",x,"));
        assert!(parse_csv(&bad).unwrap_err().message.contains("close"));
    }
}
