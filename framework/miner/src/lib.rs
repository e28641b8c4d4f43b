//! The miner server: one HTTP endpoint per subnet a miner serves, guarded the way a miner that
//! earns money must be.
//!
//! Every `POST /{subnet}/task` goes through, in order:
//!
//! 1. a cap on requests not yet authorised ([`Options::max_unauthenticated`], 503), a body-size
//!    limit (413) and a body-read timeout (408);
//! 2. btauth/1 authentication bound to the miner's own hotkey: header shape, receiver,
//!    freshness, signature (401; 403 for another receiver);
//! 3. authorisation from the subnet's metagraph snapshot: registered, validator permit, stake at
//!    least [`Options::min_stake`] (403; 503 before the first snapshot), then the replay record
//!    (401), so that only authorised validators can fill the replay store;
//! 4. a per-caller rate limit (429 with `Retry-After`);
//! 5. the task's JSON checked against the subnet's task schema (400 naming the JSON pointer);
//! 6. a bounded queue served by stake (503 with `Retry-After` when full or displaced);
//! 7. the [`Miner`] with the subnet's deadline (504; a failure or panic is 500);
//! 8. the response checked against the response schema (500 if the miner is wrong, never sent),
//!    then sent with btauth/1 headers signed by the miner's hotkey for the calling validator
//!    (method `POST`, the request's target; see `docs/btauth.md`, "Signed responses").
//!
//! [`Refusal`] is the explicit map from each refusal to its status.
//!
//! [`serve`] runs the router with a cap on connections and a header-read timeout
//! ([`ServeOptions`]) and shuts down gracefully.
//!
//! `GET /health` reports the served subnets and their metagraph age, `GET /metrics` Prometheus
//! text. Metagraphs are refreshed by a background task from a [`MetagraphSource`]; requests only
//! read the latest snapshot.
//!
//! ```no_run
//! # async fn run(keypair: protocol::Keypair, schema: &str) -> Result<(), Box<dyn std::error::Error>> {
//! use miner::{FileSource, Miner, MinerError, MinerState, Options, Subnet, Task};
//!
//! struct Echo;
//! impl Miner for Echo {
//!     async fn handle(&self, task: Task) -> Result<serde_json::Value, MinerError> {
//!         Ok(task.body)
//!     }
//! }
//!
//! let subnet = Subnet::new("echo", 1, schema, schema, Echo)?;
//! let state = MinerState::new(keypair, Options::default(), vec![subnet])?;
//! let _refresh = state.spawn_metagraph_refresh(FileSource::new("metagraph.json"), std::time::Duration::from_secs(60));
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8091").await?;
//! miner::serve(listener, miner::router(state), std::future::pending()).await?;
//! # Ok(()) }
//! ```

mod auth;
mod error;
mod metagraph;
mod metrics;
mod miner;
mod queue;
mod serve;
mod server;
mod subnet;

pub use auth::AuthConfig;
pub use error::Refusal;
pub use metagraph::{ChainSource, FileSource, Metagraph, MetagraphSource, Neuron, SourceError};
pub use miner::{Miner, MinerError, Task, Validator};
pub use serve::{ServeOptions, serve, serve_with};
pub use server::{ConfigError, MinerState, Options, RateLimit, RefreshTask, router};
pub use subnet::{Subnet, SubnetError};
