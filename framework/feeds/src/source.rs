//! The price source interface and its errors.

use std::future::Future;
use std::pin::Pin;

use crate::candle::{Pair, PriceFeed, RealisedCandles, Window};
use crate::series::format_utc_ms;

/// The future a [`PriceSource`] returns (boxed, so sources can sit behind `dyn PriceSource`).
pub type SourceFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, FeedError>> + Send + 'a>>;

/// Where candles come from: a replay of a recorded series or a live exchange.
///
/// Both methods take the validator's wall-clock time `now_unix_ms` as an argument, so a source
/// never reads a clock of its own: the validator reads its clock once per round and passes the
/// same value to the feed and to the plugin's `make-task` context (`unix_ms`), which checks that
/// the feed's `captured_unix_ms` is recent against it.
pub trait PriceSource: Send + Sync + std::fmt::Debug {
    /// The latest feed value for `pair` at wall time `now_unix_ms`: the most recent candles
    /// closed by the source's clock, never one still open or in the future.
    fn latest<'a>(&'a self, pair: &'a Pair, now_unix_ms: u64) -> SourceFuture<'a, PriceFeed>;

    /// The realised candles of `window` for `pair` (a task's truth), once every candle of the
    /// window has closed by the source's clock at `now_unix_ms`; before that,
    /// [`FeedError::NotYetAvailable`] with the wall time to come back at. Candles missing from a
    /// closed window (exchange outages) are left out; a closed window with none at all is
    /// [`FeedError::NoCandles`].
    fn realised<'a>(&'a self, pair: &'a Pair, window: Window, now_unix_ms: u64) -> SourceFuture<'a, RealisedCandles>;
}

/// Why a source could not produce a feed value or a truth.
///
/// [`FeedError::NotYetAvailable`] is the normal "come back later" of delayed settlement;
/// [`FeedError::is_transient`] also covers network trouble worth a retry. Everything else is a
/// hard error: retrying with the same arguments gives the same answer.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The window's candles have not all closed yet.
    #[error(
        "the {pair} candles of {} to {} are not all closed yet; available from unix ms {available_at_unix_ms} ({})",
        format_utc_ms(window.first_open_ms), format_utc_ms(window.end_ms()), format_utc_ms(*available_at_unix_ms)
    )]
    NotYetAvailable {
        /// The pair asked for.
        pair: String,
        /// The window asked for.
        window: Window,
        /// Wall time (ms since the epoch) from which asking again can succeed.
        available_at_unix_ms: u64,
    },
    /// The source does not serve this pair.
    #[error("this source serves {served}, not {pair}")]
    UnsupportedPair {
        /// The pair asked for.
        pair: String,
        /// What the source serves.
        served: String,
    },
    /// The request does not fit the source (e.g. another candle interval, an empty window).
    #[error("invalid request for {pair}: {reason}")]
    InvalidRequest {
        /// The pair asked for.
        pair: String,
        /// What does not fit.
        reason: String,
    },
    /// A replay has run past the end of its recorded series: it will never have newer candles.
    #[error(
        "the {pair} replay is past the end of its series (last candle closed at {}); restart it with an earlier start",
        format_utc_ms(*series_end_ms)
    )]
    SeriesEnded {
        /// The pair.
        pair: String,
        /// When the series' last candle closed (market time, ms since the epoch).
        series_end_ms: u64,
    },
    /// The window has closed but holds no candle at all (an outage covering all of it, or before
    /// the series starts).
    #[error("no {pair} candle exists in the closed window {} to {}", format_utc_ms(window.first_open_ms), format_utc_ms(window.end_ms()))]
    NoCandles {
        /// The pair.
        pair: String,
        /// The window asked for.
        window: Window,
    },
    /// The HTTP request failed: connection, timeout, or reading the body.
    #[error("request to {url} failed: {source}")]
    Http {
        /// The URL requested.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status.
    #[error("{url} answered HTTP {status}: {body}")]
    Status {
        /// The URL requested.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the response body (the exchange's error message, if any).
        body: String,
    },
    /// The server answered 200 with something that is not valid klines.
    #[error("{url} answered with invalid klines: {reason}")]
    InvalidResponse {
        /// The URL requested.
        url: String,
        /// What is wrong, naming the kline and field where it applies.
        reason: String,
    },
}

impl FeedError {
    /// Whether asking again later may succeed: the window has not closed yet, the request timed
    /// out or could not connect, or the server answered 429 or 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            FeedError::NotYetAvailable { .. } | FeedError::Http { .. } => true,
            FeedError::Status { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    /// For [`FeedError::NotYetAvailable`], the wall time from which the truth can be had.
    pub fn available_at_unix_ms(&self) -> Option<u64> {
        match self {
            FeedError::NotYetAvailable { available_at_unix_ms, .. } => Some(*available_at_unix_ms),
            _ => None,
        }
    }
}
