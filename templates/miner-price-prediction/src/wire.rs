//! The task a miner receives and the answer it sends, exactly as the `price-prediction` plugin
//! documents them (`subnets/price-prediction/README.md`).
//!
//! The types, their names and their doc comments mirror the plugin's, so that
//! [`crate::task_schema`] and [`crate::response_schema`] produce the plugin manifest's JSON Schemas.
//! Change them only together with the plugin.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
