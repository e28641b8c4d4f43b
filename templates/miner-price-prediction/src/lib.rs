//! `miner-price-prediction`: a miner for the `price-prediction` subnet that forecasts the next
//! closes from the candles in the task, with no data source of its own.
//!
//! The validator sends the last 120 closed BTC/USDT 4-hour candles and a horizon `k` (6); the
//! miner answers with `k` predicted closes and, optionally, an 80 % interval per close
//! ([`Prediction`]). The subnet scores forecasts against the no-change forecast on the realised
//! path (see `subnets/price-prediction/README.md`), so a forecaster earns more than the baseline
//! only where it beats "the price stays where it is".
//!
//! # Forecasters
//!
//! | `method` | what it does |
//! | --- | --- |
//! | `last_value` | the no-change forecast (the scorer's baseline) |
//! | `drift` | random walk with the average log return of a lookback window |
//! | `holt` | Holt's exponential smoothing of the log price, damped trend (the default) |
//! | `linear_fit` | least-squares line through the recent log prices |
//! | `ar` | AR(p) on log returns, ridge least squares |
//!
//! Intervals come from recent volatility ([`Intervals`]). [`Config`] selects and parameterises
//! them; `tests/it/backtest.rs` measures each on real candles.
//!
//! # Layout
//!
//! - `wire.rs`: the task and response types, mirroring the plugin's ([`task_schema`],
//!   [`response_schema`]).
//! - `forecast.rs`: the forecasters and intervals.
//! - `config.rs`: [`Config`] and [`ConfigError`].
//! - this file: [`PricePredictionMiner`], the [`miner::Miner`] the server calls.

mod config;
mod forecast;
mod wire;

use miner::{Miner, MinerError, Subnet, SubnetError, Task};
use schemars::{JsonSchema, SchemaGenerator};

pub use config::{Config, ConfigError};
pub use forecast::{
    Anchor, ArParams, DriftParams, Forecaster, HoltParams, Intervals, LinearFitParams, MAX_AR_ORDER, normal_cdf,
    normal_quantile,
};
pub use wire::{Candle, Interval, Prediction, PredictionTask};

/// The subnet's name: its route segment (`POST /price-prediction/task`) and plugin name.
pub const SUBNET: &str = "price-prediction";

/// Largest horizon answered (the plugin refuses tasks beyond it too).
pub const MAX_HORIZON: u32 = 64;

/// Forecasts are kept within this factor of the last close (the plugin refuses closes beyond a
/// factor 100).
const MAX_RATIO: f64 = 50.0;

/// The JSON Schema of the task ([`PredictionTask`]), as the plugin's manifest gives it.
pub fn task_schema() -> String {
    schema::<PredictionTask>()
}

/// The JSON Schema of the response ([`Prediction`]), as the plugin's manifest gives it.
pub fn response_schema() -> String {
    schema::<Prediction>()
}

fn schema<T: JsonSchema>() -> String {
    SchemaGenerator::default().into_root_schema_for::<T>().as_value().to_string()
}

/// Why a task could not be answered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PredictError {
    /// The task has no candles.
    #[error("the task has no candles")]
    NoCandles,
    /// The horizon is 0 or above [`MAX_HORIZON`].
    #[error("horizon {0} is outside 1..={MAX_HORIZON}")]
    Horizon(u32),
    /// A close is not a finite positive number.
    #[error("the close of candle {0} is not a finite positive number")]
    BadClose(usize),
}

/// The miner: a [`Forecaster`] and [`Intervals`] applied to each task.
#[derive(Debug, Clone)]
pub struct PricePredictionMiner {
    config: Config,
}

impl PricePredictionMiner {
    /// A miner with a validated configuration.
    pub fn new(config: Config) -> Result<PricePredictionMiner, ConfigError> {
        config.validate()?;
        Ok(PricePredictionMiner { config })
    }

    /// Its configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The answer to `task`: `horizon` closes, each within a factor 50 of the last close, and
    /// the intervals if enabled.
    pub fn predict(&self, task: &PredictionTask) -> Result<Prediction, PredictError> {
        if task.candles.is_empty() {
            return Err(PredictError::NoCandles);
        }
        if task.horizon == 0 || task.horizon > MAX_HORIZON {
            return Err(PredictError::Horizon(task.horizon));
        }
        let closes: Vec<f64> = task.candles.iter().map(|c| c.close).collect();
        if let Some(i) = closes.iter().position(|c| !(c.is_finite() && *c > 0.0)) {
            return Err(PredictError::BadClose(i));
        }
        let last = closes[closes.len() - 1];
        let clamp = |p: f64| p.clamp(last / MAX_RATIO, last * MAX_RATIO);
        let forecast: Vec<f64> =
            self.config.forecaster.forecast(&closes, task.horizon as usize).into_iter().map(clamp).collect();
        let intervals = self.config.intervals.around(&closes, &forecast, task.coverage).map(|bounds| {
            bounds.into_iter().map(|(low, high)| Interval { low: clamp(low), high: clamp(high) }).collect()
        });
        Ok(Prediction { task_id: task.task_id.clone(), closes: forecast, intervals })
    }

    /// The subnet entry the miner server serves: route [`SUBNET`], netuid `netuid`, the
    /// plugin's schemas and this miner, with the server's default deadline and queue.
    pub fn into_subnet(self, netuid: u16) -> Result<Subnet, SubnetError> {
        Subnet::new(SUBNET, netuid, &task_schema(), &response_schema(), self)
    }
}

impl Miner for PricePredictionMiner {
    async fn handle(&self, task: Task) -> Result<serde_json::Value, MinerError> {
        let task: PredictionTask = task.parse()?;
        let prediction = self.predict(&task)?;
        tracing::debug!(task_id = task.task_id, forecaster = self.config.forecaster.name(), "forecast made");
        Ok(serde_json::to_value(prediction)?)
    }
}
