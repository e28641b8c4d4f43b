//! The validator: many subnets in one process, one weight pipeline.
//!
//! For each hosted subnet a [`SubnetRunner`] loads the subnet's plugin, queries a seeded sample of
//! miners with `btauth/1`-signed requests ([`MinerClient`]), scores their answers in the plugin
//! (at once, or when a feed has the truth), keeps moving averages in the [`Store`] (SQLite or
//! PostgreSQL), and at the subnet's cadence turns them into weights exactly as the Python SDK does
//! and sends them through [`chain::Chain`] (set, or commit and reveal). [`run_subnets`] runs every
//! runner side by side; one subnet's failure never stops the others.

mod config;
mod metrics;
mod query;
mod store;
mod subnet;
mod supervisor;

pub use config::{ConfigError, SubnetConfig, ValidatorConfig};
pub use metrics::Metrics;
pub use query::{MinerClient, QueryLimits, Target};
pub use store::{
    MovingAverage, NewRound, PendingReveal, ResponseOutcome, RoundAnswers, Settled, Store, StoreError, StoredResponse,
    StoredRound, WeightsRecord,
};
pub use subnet::{Overrides, RoundError, RoundReport, SubnetRunner, SubnetSpec, rescore};
pub use supervisor::run_subnets;
