//! The subnetkit plugin host: loads a subnet's incentive-mechanism plugin (a WebAssembly component
//! of the `subnetkit:mechanism@0.1.0` `plugin` world: it exports the interface
//! `subnetkit:mechanism/mechanism@0.1.0` and imports nothing), and calls it under
//! deterministic limits.
//!
//! ```no_run
//! # fn main() -> Result<(), host::HostError> {
//! let host = host::Host::new(host::HostConfig::new("/var/cache/subnetkit"))?;
//! let plugin = host.load("mechanism.wasm")?;
//! let manifest = plugin.manifest()?;
//! let task = plugin.make_task(&host::Context { seed: 7, ..Default::default() })?;
//! # let _ = (manifest, task);
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! - [`Host`] owns the one wasmtime `Engine` (fuel, epoch interruption, NaN canonicalisation,
//!   relaxed SIMD off, no threads, no WASI), the epoch ticker thread and the artifact cache.
//! - [`Plugin`] is a loaded plugin: an `InstancePre` plus its [`Identity`]. Every call runs in a
//!   fresh store and instance with a fuel budget, a memory limiter and an epoch deadline.
//! - Calls return `Result<Result<T, String>, HostError>`: the outer error is a fault, a broken limit
//!   or contract ([`HostError`]); the inner `Err` is the plugin's own answer.
//!
//! The modules are private; this root re-exports the API.

mod abi;
mod cache;
mod check;
mod config;
mod engine;
mod error;
mod host;
mod limiter;

pub use abi::{
    Context, Defaults, FeedValue, Manifest, Outcome, Response, SUPPORTED_ABI_VERSIONS, Scores, Settlement, Task,
};
pub use config::{FuelBudget, HostConfig, Limits, Pooling};
pub use engine::WASMTIME_VERSION;
pub use error::{BadOutput, Call, HostError, Result};
pub use host::{Host, Identity, Plugin};
