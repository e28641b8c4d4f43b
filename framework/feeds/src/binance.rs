//! The live source: Binance's public REST kline endpoint (`GET /api/v3/klines`).

use std::time::Duration;

use reqwest::Url;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::candle::{Candle, DEFAULT_WINDOW, Pair, PriceFeed, RealisedCandles, Window, step_error};
use crate::source::{FeedError, PriceSource, SourceFuture};

/// Binance's public REST API.
pub const DEFAULT_BASE_URL: &str = "https://api.binance.com";
/// Binance returns at most this many klines per request.
pub const MAX_KLINES_PER_REQUEST: usize = 1000;
/// Largest response body read, in bytes (1000 klines take about 200 KB).
pub const MAX_BODY_BYTES: usize = 4 << 20;
/// How much of an error response's body an error message quotes.
const ERROR_BODY_CHARS: usize = 300;

/// A Binance kline interval of fixed length (the calendar month `1M` is not one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KlineInterval {
    /// One minute.
    #[serde(rename = "1m")]
    M1,
    /// Three minutes.
    #[serde(rename = "3m")]
    M3,
    /// Five minutes.
    #[serde(rename = "5m")]
    M5,
    /// Fifteen minutes.
    #[serde(rename = "15m")]
    M15,
    /// Thirty minutes.
    #[serde(rename = "30m")]
    M30,
    /// One hour.
    #[serde(rename = "1h")]
    H1,
    /// Two hours.
    #[serde(rename = "2h")]
    H2,
    /// Four hours: the interval of the bundled series and the price-prediction subnet.
    #[default]
    #[serde(rename = "4h")]
    H4,
    /// Six hours.
    #[serde(rename = "6h")]
    H6,
    /// Eight hours.
    #[serde(rename = "8h")]
    H8,
    /// Twelve hours.
    #[serde(rename = "12h")]
    H12,
    /// One day.
    #[serde(rename = "1d")]
    D1,
    /// Three days.
    #[serde(rename = "3d")]
    D3,
    /// One week.
    #[serde(rename = "1w")]
    W1,
}

impl KlineInterval {
    /// Binance's name for the interval, as in the `interval` query parameter (`4h`).
    pub fn as_str(self) -> &'static str {
        match self {
            KlineInterval::M1 => "1m",
            KlineInterval::M3 => "3m",
            KlineInterval::M5 => "5m",
            KlineInterval::M15 => "15m",
            KlineInterval::M30 => "30m",
            KlineInterval::H1 => "1h",
            KlineInterval::H2 => "2h",
            KlineInterval::H4 => "4h",
            KlineInterval::H6 => "6h",
            KlineInterval::H8 => "8h",
            KlineInterval::H12 => "12h",
            KlineInterval::D1 => "1d",
            KlineInterval::D3 => "3d",
            KlineInterval::W1 => "1w",
        }
    }

    /// The interval's length in ms.
    pub fn ms(self) -> u64 {
        const MIN: u64 = 60_000;
        const HOUR: u64 = 60 * MIN;
        match self {
            KlineInterval::M1 => MIN,
            KlineInterval::M3 => 3 * MIN,
            KlineInterval::M5 => 5 * MIN,
            KlineInterval::M15 => 15 * MIN,
            KlineInterval::M30 => 30 * MIN,
            KlineInterval::H1 => HOUR,
            KlineInterval::H2 => 2 * HOUR,
            KlineInterval::H4 => 4 * HOUR,
            KlineInterval::H6 => 6 * HOUR,
            KlineInterval::H8 => 8 * HOUR,
            KlineInterval::H12 => 12 * HOUR,
            KlineInterval::D1 => 24 * HOUR,
            KlineInterval::D3 => 72 * HOUR,
            KlineInterval::W1 => 168 * HOUR,
        }
    }
}

/// Settings of a [`BinanceKlines`] source; every field has a default, so `{}` is Binance itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BinanceConfig {
    /// Base URL of a Binance-compatible REST API, without `/api/v3/…`.
    pub base_url: String,
    /// Candle interval.
    pub interval: KlineInterval,
    /// Closed candles per feed value (at most 999: one more is requested, the open one).
    pub window: usize,
    /// Timeout of one whole request, in ms.
    pub timeout_ms: u64,
    /// A candle counts as closed only this long after its close time: the exchange finalises a
    /// kline a moment after it closes, and the validator's clock may run ahead of the exchange's.
    /// Keep it well under 1/20 of the interval, the feed's staleness grace.
    pub close_grace_ms: u64,
}

impl Default for BinanceConfig {
    fn default() -> Self {
        BinanceConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            interval: KlineInterval::H4,
            window: DEFAULT_WINDOW,
            timeout_ms: 10_000,
            close_grace_ms: 5_000,
        }
    }
}

/// Why a [`BinanceKlines`] source cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum BinanceConfigError {
    /// The base URL is not an absolute `http`/`https` URL.
    #[error("base URL {url:?} is not an absolute http(s) URL{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    BadBaseUrl {
        /// The URL as configured.
        url: String,
        /// The parser's complaint, if any.
        reason: Option<String>,
    },
    /// `window` is 0 or more than 999.
    #[error("window {0} must be between 1 and {max}", max = MAX_KLINES_PER_REQUEST - 1)]
    BadWindow(usize),
    /// `timeout_ms` is 0.
    #[error("timeout_ms must be positive")]
    ZeroTimeout,
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

/// Live candles from a Binance-compatible REST API (`{base_url}/api/v3/klines`).
///
/// The pair `BTC-USDT` is the symbol `BTCUSDT`. A feed value holds the most recent candles closed
/// (by [`BinanceConfig::close_grace_ms`]) at the validator's wall time, with
/// `as_of_ms = captured_unix_ms = now` and `speed = 1`; the still-open kline the endpoint returns
/// last is dropped.
#[derive(Clone, Debug)]
pub struct BinanceKlines {
    client: reqwest::Client,
    endpoint: Url,
    config: BinanceConfig,
}

impl BinanceKlines {
    /// A source with these settings.
    pub fn new(config: BinanceConfig) -> Result<Self, BinanceConfigError> {
        let bad = |reason: Option<String>| BinanceConfigError::BadBaseUrl { url: config.base_url.clone(), reason };
        let mut endpoint = Url::parse(&config.base_url).map_err(|e| bad(Some(e.to_string())))?;
        if !matches!(endpoint.scheme(), "http" | "https") || endpoint.cannot_be_a_base() {
            return Err(bad(None));
        }
        endpoint.set_query(None);
        endpoint.set_fragment(None);
        endpoint.path_segments_mut().map_err(|()| bad(None))?.pop_if_empty().extend(["api", "v3", "klines"]);
        if config.window == 0 || config.window >= MAX_KLINES_PER_REQUEST {
            return Err(BinanceConfigError::BadWindow(config.window));
        }
        if config.timeout_ms == 0 {
            return Err(BinanceConfigError::ZeroTimeout);
        }
        let timeout = Duration::from_millis(config.timeout_ms);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("subnetkit-feeds/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(BinanceConfigError::Client)?;
        Ok(BinanceKlines { client, endpoint, config })
    }

    /// The settings.
    pub fn config(&self) -> &BinanceConfig {
        &self.config
    }

    /// The kline endpoint, `{base_url}/api/v3/klines`, without a query.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    fn url(&self, pair: &Pair, limit: usize, range: Option<(u64, u64)>) -> Url {
        let mut url = self.endpoint.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("symbol", &pair.symbol())
                .append_pair("interval", self.config.interval.as_str())
                .append_pair("limit", &limit.to_string());
            if let Some((start, end)) = range {
                query.append_pair("startTime", &start.to_string()).append_pair("endTime", &end.to_string());
            }
        }
        url
    }

    /// GETs `url` and parses its klines.
    async fn klines(&self, url: Url) -> Result<Vec<Candle>, FeedError> {
        let shown = url.to_string();
        let http = |source: reqwest::Error| FeedError::Http { url: shown.clone(), source };
        tracing::debug!(url = %shown, "fetching klines");
        let mut response = self.client.get(url).send().await.map_err(http)?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(http)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(FeedError::InvalidResponse {
                    url: shown,
                    reason: format!("the body is larger than {MAX_BODY_BYTES} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            let mut quoted: String = text.chars().take(ERROR_BODY_CHARS).collect();
            if text.chars().nth(ERROR_BODY_CHARS).is_some() {
                quoted.push('…');
            }
            tracing::warn!(url = %shown, status = status.as_u16(), "kline request refused");
            return Err(FeedError::Status { url: shown, status: status.as_u16(), body: quoted });
        }
        parse_klines(&body, self.config.interval.ms())
            .map_err(|reason| FeedError::InvalidResponse { url: shown.clone(), reason })
    }

    /// [`PriceSource::latest`].
    pub async fn latest_at(&self, pair: &Pair, now_unix_ms: u64) -> Result<PriceFeed, FeedError> {
        let interval = self.config.interval.ms();
        let url = self.url(pair, self.config.window + 1, None);
        let shown = url.to_string();
        let mut candles = self.klines(url).await?;
        let fetched = candles.len();
        candles.retain(|c| c.close_time_ms(interval).saturating_add(self.config.close_grace_ms) <= now_unix_ms);
        if fetched > candles.len() {
            tracing::debug!(%pair, dropped = fetched - candles.len(), "dropped klines not closed yet");
        }
        if candles.is_empty() {
            return Err(FeedError::InvalidResponse {
                url: shown,
                reason: format!("none of its {fetched} klines had closed at unix ms {now_unix_ms}"),
            });
        }
        let keep = candles.len().saturating_sub(self.config.window);
        candles.drain(..keep);
        Ok(PriceFeed {
            pair: pair.to_string(),
            interval_ms: interval,
            as_of_ms: now_unix_ms,
            captured_unix_ms: now_unix_ms,
            speed: 1,
            candles,
        })
    }

    /// [`PriceSource::realised`].
    pub async fn realised_at(
        &self,
        pair: &Pair,
        window: Window,
        now_unix_ms: u64,
    ) -> Result<RealisedCandles, FeedError> {
        let interval = self.config.interval.ms();
        let invalid = |reason: String| FeedError::InvalidRequest { pair: pair.to_string(), reason };
        if window.interval_ms != interval {
            return Err(invalid(format!(
                "interval {} ms, but this source serves {} ({interval} ms)",
                window.interval_ms,
                self.config.interval.as_str()
            )));
        }
        let count = window.count as usize;
        if count == 0 || count > MAX_KLINES_PER_REQUEST {
            return Err(invalid(format!("a window of {count} candles (1 to {MAX_KLINES_PER_REQUEST})")));
        }
        let available_at_unix_ms = window.end_ms().saturating_add(self.config.close_grace_ms);
        if now_unix_ms < available_at_unix_ms {
            return Err(FeedError::NotYetAvailable { pair: pair.to_string(), window, available_at_unix_ms });
        }
        let url = self.url(pair, count, Some((window.first_open_ms, window.end_ms() - 1)));
        let mut candles = self.klines(url).await?;
        candles.retain(|c| window.contains(c.open_time_ms));
        if candles.is_empty() {
            return Err(FeedError::NoCandles { pair: pair.to_string(), window });
        }
        Ok(RealisedCandles { pair: pair.to_string(), interval_ms: interval, candles })
    }
}

impl PriceSource for BinanceKlines {
    fn latest<'a>(&'a self, pair: &'a Pair, now_unix_ms: u64) -> SourceFuture<'a, PriceFeed> {
        Box::pin(self.latest_at(pair, now_unix_ms))
    }

    fn realised<'a>(&'a self, pair: &'a Pair, window: Window, now_unix_ms: u64) -> SourceFuture<'a, RealisedCandles> {
        Box::pin(self.realised_at(pair, window, now_unix_ms))
    }
}

/// Parses a Binance kline response body: a JSON array of klines
/// `[openTime, "open", "high", "low", "close", "volume", closeTime, …]` (prices and volume as
/// decimal strings, or numbers). Checks that each close time falls inside its `interval_ms` candle, that
/// each candle is valid, and that opening times strictly increase by whole intervals (gaps are
/// allowed). Errors name the kline (0-based) and the field.
pub fn parse_klines(body: &[u8], interval_ms: u64) -> Result<Vec<Candle>, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Value::Array(rows) = value else {
        return Err(format!("the body is a JSON {}, not an array of klines", kind(&value)));
    };
    let mut candles: Vec<Candle> = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let Value::Array(fields) = row else {
            return Err(format!("kline {i} is a JSON {}, not an array", kind(row)));
        };
        if fields.len() < 7 {
            return Err(format!("kline {i} has {} fields, want at least 7", fields.len()));
        }
        let time = |j: usize, name: &str| {
            fields[j].as_u64().ok_or_else(|| format!("kline {i}: {name} {} is not a whole number of ms", fields[j]))
        };
        let number = |j: usize, name: &str| {
            let parsed = match &fields[j] {
                Value::String(s) => s.parse::<f64>().ok(),
                Value::Number(n) => n.as_f64(),
                _ => None,
            };
            parsed.ok_or_else(|| format!("kline {i}: {name} {} is not a decimal number", fields[j]))
        };
        let candle = Candle {
            open_time_ms: time(0, "open time")?,
            open: number(1, "open")?,
            high: number(2, "high")?,
            low: number(3, "low")?,
            close: number(4, "close")?,
            volume: number(5, "volume")?,
        };
        let close_time = time(6, "close time")?;
        // Binance ends a kline early when trading halts, so the close time need only fall inside
        // the candle; one past it means the klines are of a longer interval than asked for.
        if !(candle.open_time_ms..candle.close_time_ms(interval_ms)).contains(&close_time) {
            return Err(format!(
                "kline {i}: close time {close_time} is outside the {interval_ms} ms candle opening at {} \
                 (wrong interval?)",
                candle.open_time_ms
            ));
        }
        candle.validate().map_err(|e| format!("kline {i}: {e}"))?;
        if let Some(prev) = candles.last()
            && let Some(e) = step_error(prev.open_time_ms, candle.open_time_ms, interval_ms)
        {
            return Err(format!("kline {i}: {e}"));
        }
        candles.push(candle);
    }
    Ok(candles)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
