//! Helpers shared by the integration tests: real candles from the bundled CSV, feeds cut at a
//! chosen candle, tasks made through the plugin's own path, and forecasts built from the truth.

#![allow(dead_code, unreachable_pub)]

use price_prediction::feed::closed_window;
use price_prediction::{Candle, FEED, HORIZON, PAIR, PriceFeed, PricePrediction, RealisedCandles};
use sdk_guest::{testing, wire};
use serde_json::json;

/// 4-hour candles.
pub const H4: u64 = 14_400_000;
/// The validator's wall clock at capture in these tests.
pub const CAPTURED: u64 = 1_764_000_000_000;
/// Feed candles the tests publish.
pub const FEED_LEN: usize = 200;

/// The last 500 real BTC/USDT 4-hour candles bundled with the crate.
pub fn series() -> Vec<Candle> {
    parse_csv(include_str!("../../data/btcusdt_binance_4h_last500.csv"))
}

/// The feed value a live feed would publish a few minutes after candle `cut` closed.
pub fn feed_at(series: &[Candle], cut: usize) -> PriceFeed {
    let as_of_ms = series[cut].open_time_ms + H4 + 90_000;
    PriceFeed {
        pair: PAIR.to_owned(),
        interval_ms: H4,
        as_of_ms,
        captured_unix_ms: CAPTURED,
        speed: 1,
        candles: closed_window(series, H4, as_of_ms, FEED_LEN).to_vec(),
    }
}

/// A context carrying `feed` as JSON, one second after its capture.
pub fn context(seed: u64, feed: &impl serde::Serialize) -> wire::Context {
    wire::Context {
        seed,
        block: 0,
        unix_ms: CAPTURED + 1_000,
        feeds: vec![wire::FeedValue { name: FEED.to_owned(), value: serde_json::to_vec(feed).unwrap() }],
    }
}

/// One task cut after candle `cut`, its decoded public part, and its truth.
pub struct Case {
    /// The task as the ABI carries it.
    pub task: wire::Task,
    /// Its public part.
    pub public: price_prediction::PredictionTask,
    /// The realised horizon candles, as JSON bytes.
    pub truth: Vec<u8>,
    /// The last known close `c₀`.
    pub last: f64,
    /// The realised closes of the horizon.
    pub realised: Vec<f64>,
    /// Step scales `s_i` the plugin uses.
    pub scales: Vec<f64>,
}

/// The task made (seed 1) from the feed cut after candle `cut`, with its truth from the series.
pub fn case(series: &[Candle], cut: usize) -> Case {
    let task = testing::make_task::<PricePrediction>(&context(1, &feed_at(series, cut))).expect("make_task");
    let public = testing::decode_task::<PricePrediction>(&task).unwrap().public;
    let truth = RealisedCandles::from_series(PAIR, H4, series, public.first_open_ms, HORIZON);
    assert_eq!(truth.candles.len(), HORIZON as usize, "cut {cut} leaves a whole horizon");
    let realised: Vec<f64> = truth.candles.iter().map(|c| c.close).collect();
    let last = public.candles.last().unwrap().close;
    let sigma = price_prediction::scoring::volatility(&public.candles, H4).unwrap();
    let scales = (1..=HORIZON).map(|i| last * sigma * f64::from(i).sqrt()).collect();
    Case { task, public, truth: serde_json::to_vec(&truth).unwrap(), last, realised, scales }
}

impl Case {
    /// A response body with these closes (and the right task id).
    pub fn body(&self, closes: &[f64]) -> serde_json::Value {
        json!({ "task_id": self.public.task_id, "closes": closes })
    }

    /// A response body with closes and intervals `(low, high)`.
    pub fn body_with_intervals(&self, closes: &[f64], intervals: &[(f64, f64)]) -> serde_json::Value {
        let intervals: Vec<_> = intervals.iter().map(|(l, h)| json!({ "low": l, "high": h })).collect();
        json!({ "task_id": self.public.task_id, "closes": closes, "intervals": intervals })
    }

    /// Scores JSON bodies (uids in order) with the plugin's `score` export.
    pub fn score(&self, bodies: &[serde_json::Value]) -> Vec<f64> {
        let responses: Vec<wire::Response> =
            bodies.iter().enumerate().map(|(i, b)| testing::ok_response(i as u16, b, 100)).collect();
        self.score_responses(&responses)
    }

    /// Scores raw responses with the plugin's `score` export.
    pub fn score_responses(&self, responses: &[wire::Response]) -> Vec<f64> {
        testing::score::<PricePrediction>(&self.task, responses, Some(&self.truth)).expect("score").values
    }

    /// Closes `c₀ + λ·(a_i − c₀)`: the realised move scaled by `λ` (1 is perfect, 0 the no-change
    /// forecast, −1 the mirror image).
    pub fn scaled_move(&self, lambda: f64) -> Vec<f64> {
        self.realised.iter().map(|a| self.last + lambda * (a - self.last)).collect()
    }

    /// Closes `a_i + f·s_i·(−1)^i`: the truth plus an alternating error of `f` step scales.
    pub fn truth_plus(&self, f: f64) -> Vec<f64> {
        self.realised
            .iter()
            .zip(&self.scales)
            .enumerate()
            .map(|(i, (a, s))| a + if i.is_multiple_of(2) { f * s } else { -f * s })
            .collect()
    }

    /// The no-change forecast: every close at `c₀`.
    pub fn naive(&self) -> Vec<f64> {
        vec![self.last; HORIZON as usize]
    }

    /// Echoing the prompt: the last `k` closes of the task's candles.
    pub fn echo(&self) -> Vec<f64> {
        let c = &self.public.candles;
        c[c.len() - HORIZON as usize..].iter().map(|c| c.close).collect()
    }
}

/// Cut-offs spread over the bundled series that leave a full task window and horizon.
pub fn cuts() -> impl Iterator<Item = usize> {
    (price_prediction::TASK_CANDLES + 10..494).step_by(7)
}

/// A wire task's parts, comparable: public JSON, private JSON, settlement delay (`None` when
/// immediate).
pub fn parts(task: &wire::Task) -> (Vec<u8>, Vec<u8>, Option<u64>) {
    let delay = match task.settlement {
        wire::Settlement::Immediate => None,
        wire::Settlement::Delayed(ms) => Some(ms),
    };
    (task.public.clone(), task.private.clone(), delay)
}

/// Parses a bundled candle CSV with the host side's parser (`feeds`), as the plugin's candles.
pub fn parse_csv(text: &str) -> Vec<Candle> {
    let pair: feeds::Pair = PAIR.parse().expect("the pair");
    let series = feeds::Series::parse_csv(pair, H4, text).expect("the bundled CSV parses");
    series
        .candles()
        .iter()
        .map(|c| Candle {
            open_time_ms: c.open_time_ms,
            open: c.open,
            high: c.high,
            low: c.low,
            close: c.close,
            volume: c.volume,
        })
        .collect()
}
