//! `price-prediction`: a reference subnetkit incentive mechanism in the spirit of SN8's first
//! design. Miners forecast the closes of the next `k` BTC/USDT candles; the validator keeps the
//! task and the answers and scores them once the candles exist (delayed settlement).
//!
//! Each task carries the recent closed candles from the host's `price:BTC-USDT` feed and a
//! horizon. A response gives one predicted close per future candle and, optionally, an 80 %
//! interval per candle. The score (see the README for the full formula and its parameters) is
//!
//! ```text
//! score = g(U) · (1 − w_d + w_d·D) · (1 − w_i + w_i·g(V)) / m,     g(x) = 1 / (1 + 9x²)
//! ```
//!
//! where `U` is the forecast's volatility-normalised RMSE divided by that of the no-change
//! forecast ("the price stays at the last close"), `D` the share of steps with the right
//! direction, `V` the interval score divided by that of the random-walk band around the last
//! close, and `m` the number of miners who sent (near-)identical forecasts. The no-change forecast
//! thus sets the bar (`g(1) = 0.1`), and only forecasts that beat it on the realised path score
//! above it.
//!
//! Floats go only through `+ - * /`, `sqrt` and comparisons, so the plugin's scores are
//! bit-identical to this crate's native ones.

pub mod feed;
pub mod scoring;

use schemars::JsonSchema;
use sdk_guest::{Context, Defaults, Manifest, Mechanism, Response, Scores, Task};
use serde::{Deserialize, Serialize};

pub use crate::feed::{Candle, PriceFeed, RealisedCandles};

/// The pair this mechanism forecasts.
pub const PAIR: &str = "BTC-USDT";
/// The host feed it reads: `price:` followed by the pair.
pub const FEED: &str = "price:BTC-USDT";
/// Candles to forecast per task: `k`.
pub const HORIZON: u32 = 6;
/// Most recent candles copied from the feed into the task.
pub const TASK_CANDLES: usize = 120;
/// Fewest candles the feed must hold.
pub const MIN_FEED_CANDLES: usize = 60;
/// Interval of the feed the manifest's default settlement delay assumes (4 hours).
pub const DEFAULT_INTERVAL_MS: u64 = 4 * 3_600_000;
/// Margin added to the settlement delay, for the exchange to publish the last candle; like the
/// horizon, it is divided by the feed's speed (a replay publishes a candle as soon as it closes).
pub const SETTLEMENT_MARGIN_MS: u64 = 60_000;
/// A feed is stale when more than one interval plus this fraction of an interval has passed
/// since its last candle closed (another candle should have closed by then).
pub const STALE_GRACE_DIVISOR: u64 = 20;

/// The mechanism.
pub struct PricePrediction;

/// What miners receive: the recent candles and what to forecast.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictionTask {
    /// Identifies this task; a response must repeat it (a body recorded for another task is
    /// refused).
    pub task_id: String,
    /// The pair, e.g. `BTC-USDT`.
    pub pair: String,
    /// Candle length in milliseconds.
    pub interval_ms: u64,
    /// The most recent closed candles, oldest first; the last one's close is the last known price.
    pub candles: Vec<Candle>,
    /// How many candles to forecast: `k`.
    pub horizon: u32,
    /// Opening time of the first candle to forecast (the candle after the last one given); the
    /// `i`-th forecast (from 0) is for the candle opening at `first_open_ms + i · interval_ms`.
    pub first_open_ms: u64,
    /// Central coverage asked of the optional intervals (0.8: each interval should hold the close
    /// with probability 80 %).
    pub coverage: f64,
}

impl PredictionTask {
    /// Checks the task's own consistency (as `make_task` builds it); `score` refuses a task that
    /// fails this.
    pub fn validate(&self) -> Result<(), String> {
        feed::validate_series(&self.candles, self.interval_ms).map_err(|e| format!("invalid task: {e}"))?;
        let last = self.candles.last().ok_or("invalid task: no candles")?;
        if self.horizon == 0 || self.horizon > 64 {
            return Err(format!("invalid task: horizon {} is outside [1, 64]", self.horizon));
        }
        if Some(self.first_open_ms) != last.open_time_ms.checked_add(self.interval_ms) {
            return Err("invalid task: first_open_ms is not one interval after the last candle".to_owned());
        }
        if self.coverage != scoring::COVERAGE {
            return Err(format!(
                "invalid task: coverage {} (this version scores {})",
                self.coverage,
                scoring::COVERAGE
            ));
        }
        Ok(())
    }
}

/// The part of a task kept by the validator. Everything needed for scoring is public (the truth
/// arrives later), so it is empty: `{}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Private {}

/// A forecast interval for one candle's close.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound, at least `low`.
    pub high: f64,
}

/// A miner's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Prediction {
    /// The task's `task_id`, repeated.
    pub task_id: String,
    /// One predicted close per horizon candle, in order: exactly `horizon` positive numbers.
    pub closes: Vec<f64>,
    /// Optionally, one interval per horizon candle with the task's coverage. Without it the
    /// forecast is scored as if it had sent `close_i ± 1.2816 · s_i` (the random-walk band around
    /// its own closes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intervals: Option<Vec<Interval>>,
}

impl Prediction {
    /// Checks the answer against its task: the task id, `horizon` closes, each finite and within
    /// a factor [`scoring::MAX_RATIO`] of the last close, and intervals (if any) of the same length
    /// with finite bounds in that range and `low ≤ high`.
    pub fn validate(&self, task: &PredictionTask) -> Result<(), String> {
        if self.task_id != task.task_id {
            return Err(format!("answers task {:?}, not {:?}", self.task_id, task.task_id));
        }
        let k = task.horizon as usize;
        if self.closes.len() != k {
            return Err(format!("{} closes, want {k}", self.closes.len()));
        }
        let last = task.candles.last().map_or(f64::NAN, |c| c.close);
        let plausible = |x: f64| x.is_finite() && x >= last / scoring::MAX_RATIO && x <= last * scoring::MAX_RATIO;
        if let Some(i) = self.closes.iter().position(|&p| !plausible(p)) {
            return Err(format!("close {i} is not within a factor {} of the last close", scoring::MAX_RATIO));
        }
        if let Some(intervals) = &self.intervals {
            if intervals.len() != k {
                return Err(format!("{} intervals, want {k}", intervals.len()));
            }
            if let Some(i) =
                intervals.iter().position(|iv| !(plausible(iv.low) && plausible(iv.high) && iv.low <= iv.high))
            {
                return Err(format!("interval {i} is not a plausible [low, high] with low <= high"));
            }
        }
        Ok(())
    }
}

/// The settlement delay for a `horizon` of candles of `interval_ms` on a feed `speed` times
/// faster than the wall clock: `⌈horizon · interval / speed⌉ + ⌈margin / speed⌉`.
pub fn settlement_delay_ms(horizon: u32, interval_ms: u64, speed: u64) -> u64 {
    let speed = speed.max(1);
    (u64::from(horizon) * interval_ms).div_ceil(speed) + SETTLEMENT_MARGIN_MS.div_ceil(speed)
}

/// Checks a feed value for `make_task`: the right pair, enough valid candles, every candle
/// closed at `as_of_ms`, the last one recent (no newer candle should have closed), and the
/// snapshot not older than one candle of wall-clock time at `unix_ms`.
pub fn check_feed(feed: &PriceFeed, unix_ms: u64) -> Result<(), String> {
    if feed.pair != PAIR {
        return Err(format!("feed `{FEED}` is for pair {:?}", feed.pair));
    }
    if feed.speed == 0 {
        return Err(format!("feed `{FEED}` has speed 0"));
    }
    if feed.candles.len() < MIN_FEED_CANDLES {
        return Err(format!("feed `{FEED}` is too short: {} candles, need {MIN_FEED_CANDLES}", feed.candles.len()));
    }
    feed::validate_series(&feed.candles, feed.interval_ms).map_err(|e| format!("invalid feed `{FEED}`: {e}"))?;
    let interval = feed.interval_ms;
    let last = feed.candles[feed.candles.len() - 1];
    let last_close_ms = last.open_time_ms.saturating_add(interval);
    if last_close_ms > feed.as_of_ms {
        return Err(format!("feed `{FEED}`: the candle at {} has not closed at {}", last.open_time_ms, feed.as_of_ms));
    }
    let behind = feed.as_of_ms - last_close_ms;
    if behind > interval + interval / STALE_GRACE_DIVISOR {
        return Err(format!("feed `{FEED}` is stale: its last candle closed {behind} ms before its clock"));
    }
    let age = unix_ms.saturating_sub(feed.captured_unix_ms);
    let wall_interval = interval.div_ceil(feed.speed);
    if age > wall_interval {
        return Err(format!(
            "feed `{FEED}` is stale: captured {age} ms ago, longer than one candle ({wall_interval} ms)"
        ));
    }
    Ok(())
}

impl Mechanism for PricePrediction {
    type Task = PredictionTask;
    type Private = Private;
    type Response = Prediction;
    type Truth = RealisedCandles;

    fn manifest() -> Manifest {
        Manifest::new(
            "price-prediction",
            env!("CARGO_PKG_VERSION"),
            "Miners forecast the closes (and optionally 80% intervals) of the next 6 BTC-USDT candles; scored \
             after the fact against the realised candles, relative to the no-change forecast, with a direction \
             bonus, and shared among identical forecasts.",
        )
        .with_defaults(Defaults {
            query_timeout_ms: 12_000,
            sample_size: 16,
            moving_average_alpha: 0.05,
            settlement_delay_ms: Some(settlement_delay_ms(HORIZON, DEFAULT_INTERVAL_MS, 1)),
        })
        .with_feed(FEED)
    }

    fn make_task(ctx: &Context) -> Result<Task<PredictionTask, Private>, String> {
        let feed: PriceFeed = ctx.feed(FEED)?;
        check_feed(&feed, ctx.unix_ms)?;
        let window = &feed.candles[feed.candles.len().saturating_sub(TASK_CANDLES)..];
        if scoring::volatility(window, feed.interval_ms).is_none() {
            return Err(format!(
                "feed `{FEED}` is too short: its last {} candles hold fewer than {} one-interval returns",
                window.len(),
                scoring::MIN_RETURNS
            ));
        }
        let first_open_ms = window[window.len() - 1].open_time_ms.saturating_add(feed.interval_ms);
        let task = PredictionTask {
            task_id: format!("{PAIR}-{first_open_ms}-{:016x}", ctx.rng().next_u64()),
            pair: feed.pair,
            interval_ms: feed.interval_ms,
            candles: window.to_vec(),
            horizon: HORIZON,
            first_open_ms,
            coverage: scoring::COVERAGE,
        };
        let delay = settlement_delay_ms(HORIZON, feed.interval_ms, feed.speed);
        Ok(Task::delayed(task, Private {}, delay))
    }

    fn check_response(task: &Task<PredictionTask, Private>, response: &Prediction) -> Result<(), String> {
        response.validate(&task.public)
    }

    fn score(
        task: &Task<PredictionTask, Private>,
        responses: &[Response<Prediction>],
        truth: Option<&RealisedCandles>,
    ) -> Result<Scores, String> {
        let truth = truth.ok_or("price prediction settles late: the realised candles are needed")?;
        let reference = scoring::Reference::new(&task.public, truth)?;
        // `check_response` already refused malformed bodies; re-check so `score` stands alone.
        let forecasts: Vec<Option<&Prediction>> =
            responses.iter().map(|r| r.ok().filter(|p| p.validate(&task.public).is_ok())).collect();
        let echoes: Vec<bool> = forecasts
            .iter()
            .map(|f| f.is_some_and(|p| scoring::is_echo(&task.public.candles, &reference.scales, &p.closes)))
            .collect();
        let closes: Vec<Option<&[f64]>> =
            forecasts.iter().zip(&echoes).map(|(f, &echo)| f.filter(|_| !echo).map(|p| p.closes.as_slice())).collect();
        let copies = scoring::copy_counts(&reference.scales, &closes);
        let values: Vec<f64> = forecasts
            .iter()
            .zip(&closes)
            .zip(&copies)
            .map(|((f, c), &m)| match (f, c) {
                (Some(p), Some(closes)) => {
                    scoring::evaluate(&reference, closes, p.intervals.as_deref()).score / m as f64
                }
                _ => 0.0,
            })
            .collect();
        let valid = forecasts.iter().filter(|f| f.is_some()).count();
        let echoed = echoes.iter().filter(|&&e| e).count();
        let copied = copies.iter().filter(|&&m| m > 1).count();
        let diagnostics = format!(
            "{valid}/{} valid; {echoed} echoes; {copied} in copy groups; {}/{} steps settled; naive rmse {:.3} sigma; \
             sigma {:.5}",
            responses.len(),
            reference.settled_steps(),
            reference.scales.len(),
            reference.naive_rmse(),
            reference.volatility
        );
        Ok(Scores::new(values).with_diagnostics(diagnostics))
    }
}

sdk_guest::export_mechanism!(PricePrediction);
