//! Candle series: the bundled BTC/USDT 4-hour series and the CSV format it is stored in.

use std::io::Read;
use std::sync::{Arc, OnceLock};

use flate2::read::GzDecoder;

use crate::candle::{Candle, FOUR_HOURS_MS, Pair, Window, step_error, validate_interval};

/// The bundled series, gzip-compressed CSV: real BTC/USDT 4-hour candles from Binance,
/// 2018-01-01 00:00 to 2026-01-12 12:00 UTC, 17,586 rows, CC0-1.0 (see `data/README.md`).
pub static BTCUSDT_4H_CSV_GZ: &[u8] = include_bytes!("../data/btcusdt_binance_4h_2018-2026.csv.gz");

/// The header of the candle CSV files (Binance's kline columns).
pub const CSV_HEADER: &str = "Open time,Open,High,Low,Close,Volume,Close time,Quote asset volume,Number of trades,\
Taker buy base asset volume,Taker buy quote asset volume,Ignore";

/// An error reading a candle series.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SeriesError {
    /// A CSV line is malformed or breaks the series' rules.
    #[error("line {line}: {message}")]
    Csv {
        /// 1-based line number (the header is line 1).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The gzip stream could not be decompressed, or is not UTF-8.
    #[error("cannot decompress the candle file: {0}")]
    Decompress(String),
    /// The series as a whole is unusable (no candles, bad interval, unsorted candles).
    #[error("invalid series: {0}")]
    Invalid(String),
}

/// A sorted candle series of one pair and interval: opening times strictly increasing, whole
/// intervals apart, gaps (exchange outages) allowed, every candle valid.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pair: Pair,
    interval_ms: u64,
    candles: Vec<Candle>,
}

impl Series {
    /// A series from candles, checked: at least one candle, each valid, strictly increasing and
    /// whole intervals apart.
    pub fn new(pair: Pair, interval_ms: u64, candles: Vec<Candle>) -> Result<Self, SeriesError> {
        crate::candle::validate_series(&candles, interval_ms).map_err(SeriesError::Invalid)?;
        if candles.is_empty() {
            return Err(SeriesError::Invalid(format!("no {pair} candles")));
        }
        Ok(Series { pair, interval_ms, candles })
    }

    /// Parses the candle CSV (Binance's kline columns under [`CSV_HEADER`], times
    /// `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC, possibly followed by spaces). Keeps open time,
    /// open, high, low, close and volume; checks each candle, that `Close time` falls inside its
    /// interval, and that opening times strictly increase by whole intervals. Errors name the line.
    pub fn parse_csv(pair: Pair, interval_ms: u64, text: &str) -> Result<Self, SeriesError> {
        validate_interval(interval_ms).map_err(SeriesError::Invalid)?;
        let err = |line: usize, message: String| SeriesError::Csv { line, message };
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
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
            let number = |i: usize, name: &str| -> Result<f64, SeriesError> {
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
            let close_time = parse_utc_ms(fields[6]).map_err(|m| err(line, format!("close time: {m}")))?;
            // Binance ends a candle early when trading halts (twenty such rows precede the
            // series' outages), so the close time need only fall inside the candle.
            if !(candle.open_time_ms..candle.close_time_ms(interval_ms)).contains(&close_time) {
                return Err(err(line, format!("close time {:?} is outside its {interval_ms} ms candle", fields[6])));
            }
            candle.validate().map_err(|m| err(line, m))?;
            if let Some(prev) = candles.last()
                && let Some(message) = step_error(prev.open_time_ms, candle.open_time_ms, interval_ms)
            {
                return Err(err(line, message));
            }
            candles.push(candle);
        }
        Series::new(pair, interval_ms, candles)
    }

    /// Decompresses gzip-compressed CSV and parses it with [`Series::parse_csv`].
    pub fn parse_csv_gz(pair: Pair, interval_ms: u64, gz: &[u8]) -> Result<Self, SeriesError> {
        let mut text = String::new();
        GzDecoder::new(gz).read_to_string(&mut text).map_err(|e| SeriesError::Decompress(e.to_string()))?;
        Series::parse_csv(pair, interval_ms, &text)
    }

    /// The bundled BTC/USDT 4-hour series ([`BTCUSDT_4H_CSV_GZ`]), decompressed and parsed once
    /// per process and shared.
    pub fn bundled_btcusdt_4h() -> Result<Arc<Series>, SeriesError> {
        static BUNDLED: OnceLock<Result<Arc<Series>, SeriesError>> = OnceLock::new();
        BUNDLED
            .get_or_init(|| {
                let pair = Pair::new("BTC", "USDT").map_err(SeriesError::Invalid)?;
                let series = Series::parse_csv_gz(pair, FOUR_HOURS_MS, BTCUSDT_4H_CSV_GZ)?;
                tracing::debug!(candles = series.len(), "parsed the bundled BTC-USDT 4h series");
                Ok(Arc::new(series))
            })
            .clone()
    }

    /// The pair.
    pub fn pair(&self) -> &Pair {
        &self.pair
    }

    /// Candle length in ms.
    pub fn interval_ms(&self) -> u64 {
        self.interval_ms
    }

    /// The candles, oldest first.
    pub fn candles(&self) -> &[Candle] {
        &self.candles
    }

    /// Number of candles (at least one).
    pub fn len(&self) -> usize {
        self.candles.len()
    }

    /// Always false: a series holds at least one candle.
    pub fn is_empty(&self) -> bool {
        self.candles.is_empty()
    }

    /// When the last candle closes: nothing is known past it.
    pub fn end_ms(&self) -> u64 {
        self.candles[self.candles.len() - 1].close_time_ms(self.interval_ms)
    }

    /// The at most `n` most recent candles that have closed by `as_of_ms`, oldest first: what a
    /// feed publishes at that moment. Never a candle closing after `as_of_ms`.
    pub fn closed_window(&self, as_of_ms: u64, n: usize) -> &[Candle] {
        let end = self.candles.partition_point(|c| c.close_time_ms(self.interval_ms) <= as_of_ms);
        &self.candles[end.saturating_sub(n)..end]
    }

    /// The candles of the series opening inside `window`, oldest first (fewer than
    /// `window.count` where the series has gaps).
    pub fn in_window(&self, window: &Window) -> &[Candle] {
        let start = self.candles.partition_point(|c| c.open_time_ms < window.first_open_ms);
        let stop = self.candles.partition_point(|c| c.open_time_ms < window.end_ms()).max(start);
        &self.candles[start..stop]
    }
}

/// Parses `YYYY-MM-DD HH:MM:SS[.fff…]` (UTC, up to 9 fraction digits) to ms since the Unix epoch.
pub fn parse_utc_ms(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let bad = || format!("{text:?} is not `YYYY-MM-DD HH:MM:SS[.ffffff]` (UTC, 1970 or later)");
    let (date, time) = text.split_once(' ').ok_or_else(bad)?;
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let digits = |s: &str, len: usize| -> Result<u64, String> {
        if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse::<u64>().map_err(|_| bad())
    };
    let parts = |s: &str, sep: char| -> Result<[u64; 3], String> {
        let v: Vec<&str> = s.split(sep).collect();
        match v.as_slice() {
            [a, b, c] => Ok([digits(a, if sep == '-' { 4 } else { 2 })?, digits(b, 2)?, digits(c, 2)?]),
            _ => Err(bad()),
        }
    };
    let [y, m, d] = parts(date, '-')?;
    let [hh, mm, ss] = parts(hms, ':')?;
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if y < 1970 || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) || hh > 23 || mm > 59 || ss > 59 {
        return Err(bad());
    }
    let ms = frac.bytes().chain(std::iter::repeat(b'0')).take(3).fold(0, |acc, b| acc * 10 + u64::from(b - b'0'));
    Ok(days_since_epoch(y, m, d) * 86_400_000 + hh * 3_600_000 + mm * 60_000 + ss * 1_000 + ms)
}

/// Formats ms since the Unix epoch as `YYYY-MM-DD HH:MM:SS` (UTC), for messages and logs.
pub fn format_utc_ms(ms: u64) -> String {
    let (days, rest) = (ms / 86_400_000, ms % 86_400_000);
    let (mut y, mut day) = (1970, days);
    while day >= if is_leap(y) { 366 } else { 365 } {
        day -= if is_leap(y) { 366 } else { 365 };
        y += 1;
    }
    let mut m = 1;
    while day >= days_in_month(y, m) {
        day -= days_in_month(y, m);
        m += 1;
    }
    let (hh, mm, ss) = (rest / 3_600_000, rest / 60_000 % 60, rest / 1_000 % 60);
    format!("{y:04}-{m:02}-{:02} {hh:02}:{mm:02}:{ss:02}", day + 1)
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
    let leaps_before = |year: u64| year / 4 - year / 100 + year / 400;
    let leap_days = leaps_before(y - 1) - leaps_before(1969);
    let month_days: u64 = (1..m).map(|mm| days_in_month(y, mm)).sum();
    (y - 1970) * 365 + leap_days + month_days + d - 1
}
