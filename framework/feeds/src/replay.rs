//! The accelerated replay of a recorded candle series.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::candle::{DEFAULT_WINDOW, Pair, PriceFeed, RealisedCandles, Window};
use crate::series::{Series, format_utc_ms, parse_utc_ms};
use crate::source::{FeedError, PriceSource, SourceFuture};

/// Where in the series a replay starts: the market time its clock shows at the wall-clock anchor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ReplayStart {
    /// At the close of the candle with this 0-based index: the first value's last candle is this
    /// one. In JSON `{"candle": 199}`.
    Candle(usize),
    /// At this market time, `YYYY-MM-DD HH:MM:SS` UTC. In JSON `{"time": "2024-01-01 00:00:00"}`.
    Time(String),
}

impl Default for ReplayStart {
    /// The close of candle 199, so that the first value already carries [`DEFAULT_WINDOW`] candles.
    fn default() -> Self {
        ReplayStart::Candle(DEFAULT_WINDOW - 1)
    }
}

/// Why a replay cannot be set up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// `speed` must be at least 1 (market ms per wall ms).
    #[error("replay speed must be at least 1")]
    ZeroSpeed,
    /// The window must hold at least one candle.
    #[error("replay window must hold at least one candle")]
    ZeroWindow,
    /// The start candle is past the end of the series.
    #[error("replay start candle {index} is past the end of the series ({len} candles)")]
    StartOutOfRange {
        /// The index asked for.
        index: usize,
        /// Candles in the series.
        len: usize,
    },
    /// The start time cannot be parsed or lies outside the series.
    #[error("replay start time {time:?}: {reason}")]
    BadStartTime {
        /// The time as configured.
        time: String,
        /// What is wrong.
        reason: String,
    },
}

/// A feed that replays a recorded series on an accelerated clock.
///
/// At wall time `now` the replay clock shows market time `t = t₀ + speed · (now − anchor)`,
/// where `t₀` is the [`ReplayStart`] and `anchor` the wall time the replay started. The feed value
/// at `now` holds only candles closed by `t`, with `as_of_ms = t`, `captured_unix_ms = now` and
/// `speed`; a window's truth exists once `t` has passed its last candle's close.
#[derive(Clone, Debug)]
pub struct ReplayFeed {
    series: Arc<Series>,
    start_ms: u64,
    speed: u64,
    anchor_unix_ms: u64,
    window: usize,
}

impl ReplayFeed {
    /// A replay of `series` from `start`, `speed` market ms per wall ms, whose clock shows the
    /// start at wall time `anchor_unix_ms`, publishing [`DEFAULT_WINDOW`] candles.
    pub fn new(series: Arc<Series>, start: &ReplayStart, speed: u64, anchor_unix_ms: u64) -> Result<Self, ReplayError> {
        if speed == 0 {
            return Err(ReplayError::ZeroSpeed);
        }
        let start_ms = match start {
            ReplayStart::Candle(index) => series
                .candles()
                .get(*index)
                .ok_or(ReplayError::StartOutOfRange { index: *index, len: series.len() })?
                .close_time_ms(series.interval_ms()),
            ReplayStart::Time(time) => {
                let bad = |reason: String| ReplayError::BadStartTime { time: time.clone(), reason };
                let t = parse_utc_ms(time).map_err(bad)?;
                let first = series.candles()[0].open_time_ms;
                if !(first..series.end_ms()).contains(&t) {
                    return Err(bad(format!(
                        "outside the series, which runs from {} to {}",
                        format_utc_ms(first),
                        format_utc_ms(series.end_ms())
                    )));
                }
                t
            }
        };
        Ok(ReplayFeed { series, start_ms, speed, anchor_unix_ms, window: DEFAULT_WINDOW })
    }

    /// Publishes at most `window` candles per value instead of [`DEFAULT_WINDOW`].
    pub fn with_window(mut self, window: usize) -> Result<Self, ReplayError> {
        if window == 0 {
            return Err(ReplayError::ZeroWindow);
        }
        self.window = window;
        Ok(self)
    }

    /// The series replayed.
    pub fn series(&self) -> &Arc<Series> {
        &self.series
    }

    /// Market ms per wall ms.
    pub fn speed(&self) -> u64 {
        self.speed
    }

    /// Wall time at which the replay clock shows the start.
    pub fn anchor_unix_ms(&self) -> u64 {
        self.anchor_unix_ms
    }

    /// Market time at the anchor.
    pub fn start_ms(&self) -> u64 {
        self.start_ms
    }

    /// Candles per value, at most.
    pub fn window(&self) -> usize {
        self.window
    }

    /// The replay clock at wall time `now_unix_ms`: `t₀ + speed · (now − anchor)`, saturating
    /// (before the anchor it runs backwards from `t₀`, down to 0).
    pub fn replay_time_ms(&self, now_unix_ms: u64) -> u64 {
        if now_unix_ms >= self.anchor_unix_ms {
            self.start_ms.saturating_add(self.speed.saturating_mul(now_unix_ms - self.anchor_unix_ms))
        } else {
            self.start_ms.saturating_sub(self.speed.saturating_mul(self.anchor_unix_ms - now_unix_ms))
        }
    }

    /// The earliest wall time at which the replay clock shows at least `market_ms`.
    pub fn wall_time_at(&self, market_ms: u64) -> u64 {
        if market_ms >= self.start_ms {
            self.anchor_unix_ms.saturating_add((market_ms - self.start_ms).div_ceil(self.speed))
        } else {
            self.anchor_unix_ms.saturating_sub((self.start_ms - market_ms) / self.speed)
        }
    }

    fn check_pair(&self, pair: &Pair) -> Result<(), FeedError> {
        if pair == self.series.pair() {
            Ok(())
        } else {
            Err(FeedError::UnsupportedPair {
                pair: pair.to_string(),
                served: format!("a replay of {}", self.series.pair()),
            })
        }
    }

    /// [`PriceSource::latest`], synchronously: a replay needs no I/O.
    pub fn latest_at(&self, pair: &Pair, now_unix_ms: u64) -> Result<PriceFeed, FeedError> {
        self.check_pair(pair)?;
        let interval = self.series.interval_ms();
        let as_of_ms = self.replay_time_ms(now_unix_ms);
        // Past the last candle by a whole interval, a newer candle should have closed; a recorded
        // series will never have it (unlike an outage inside the series, which passes through).
        if as_of_ms >= self.series.end_ms().saturating_add(interval) {
            return Err(FeedError::SeriesEnded { pair: pair.to_string(), series_end_ms: self.series.end_ms() });
        }
        let candles = self.series.closed_window(as_of_ms, self.window).to_vec();
        tracing::trace!(%pair, as_of = %format_utc_ms(as_of_ms), candles = candles.len(), "replay feed value");
        Ok(PriceFeed {
            pair: pair.to_string(),
            interval_ms: interval,
            as_of_ms,
            captured_unix_ms: now_unix_ms,
            speed: self.speed,
            candles,
        })
    }

    /// [`PriceSource::realised`], synchronously.
    pub fn realised_at(&self, pair: &Pair, window: Window, now_unix_ms: u64) -> Result<RealisedCandles, FeedError> {
        self.check_pair(pair)?;
        let interval = self.series.interval_ms();
        let invalid = |reason: String| FeedError::InvalidRequest { pair: pair.to_string(), reason };
        if window.interval_ms != interval {
            return Err(invalid(format!("interval {} ms, but the series has {interval} ms", window.interval_ms)));
        }
        if window.count == 0 {
            return Err(invalid("a window of 0 candles".to_owned()));
        }
        let first = self.series.candles()[0].open_time_ms;
        if !window.first_open_ms.abs_diff(first).is_multiple_of(interval) {
            return Err(invalid(format!("{} is not a candle opening time", window.first_open_ms)));
        }
        if window.end_ms() > self.series.end_ms() {
            return Err(FeedError::SeriesEnded { pair: pair.to_string(), series_end_ms: self.series.end_ms() });
        }
        if self.replay_time_ms(now_unix_ms) < window.end_ms() {
            let available_at_unix_ms = self.wall_time_at(window.end_ms());
            return Err(FeedError::NotYetAvailable { pair: pair.to_string(), window, available_at_unix_ms });
        }
        let candles = self.series.in_window(&window).to_vec();
        if candles.is_empty() {
            return Err(FeedError::NoCandles { pair: pair.to_string(), window });
        }
        if candles.len() < window.count as usize {
            tracing::debug!(%pair, missing = window.count as usize - candles.len(), "replay truth has a gap");
        }
        Ok(RealisedCandles { pair: pair.to_string(), interval_ms: interval, candles })
    }
}

impl PriceSource for ReplayFeed {
    fn latest<'a>(&'a self, pair: &'a Pair, now_unix_ms: u64) -> SourceFuture<'a, PriceFeed> {
        Box::pin(std::future::ready(self.latest_at(pair, now_unix_ms)))
    }

    fn realised<'a>(&'a self, pair: &'a Pair, window: Window, now_unix_ms: u64) -> SourceFuture<'a, RealisedCandles> {
        Box::pin(std::future::ready(self.realised_at(pair, window, now_unix_ms)))
    }
}
