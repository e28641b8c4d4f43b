//! `validator.toml`: who validates, against which chain and database, and which subnets.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chain::NetUid;
use feeds::FeedsConfig;
use serde::Deserialize;

use crate::subnet::{Overrides, SubnetSpec};

/// A validator's configuration file.
///
/// ```toml
/// wallet = "validator"
/// hotkey = "default"
/// chain = "http://127.0.0.1:9944"
/// database = "sqlite://validator.sqlite"
///
/// [[subnet]]
/// netuid = 1
/// plugin = "plugins/text-generation.wasm"
/// sample_size = 16
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorConfig {
    /// Wallet name.
    pub wallet: String,
    /// Hotkey name: signs queries and chain calls.
    pub hotkey: String,
    /// Wallet directory [default: `~/.bittensor/wallets`].
    #[serde(default)]
    pub wallet_path: Option<PathBuf>,
    /// The chain: the local chain's `http://` URL.
    pub chain: String,
    /// Database URL: `sqlite://FILE` or `postgres://…` [default: `validator.sqlite` next to the
    /// config file].
    #[serde(default)]
    pub database: Option<String>,
    /// Address to serve Prometheus metrics on (`GET /metrics`), if any.
    #[serde(default)]
    pub metrics: Option<SocketAddr>,
    /// Most miner queries in flight at once, across subnets.
    #[serde(default = "default_in_flight")]
    pub max_in_flight: usize,
    /// Feeds plugins may ask for, by name [default: `price:BTC-USDT` replayed offline].
    #[serde(default)]
    pub feeds: FeedsConfig,
    /// The hosted subnets.
    #[serde(rename = "subnet")]
    pub subnets: Vec<SubnetConfig>,
}

fn default_in_flight() -> usize {
    256
}

/// One `[[subnet]]` table.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubnetConfig {
    /// The subnet.
    pub netuid: NetUid,
    /// The plugin's `.wasm` file (relative paths are from the config file).
    pub plugin: PathBuf,
    /// Its expected sha256, hex.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Miners per round [default: the plugin's].
    #[serde(default)]
    pub sample_size: Option<u16>,
    /// Per-query timeout in milliseconds [default: the plugin's].
    #[serde(default)]
    pub timeout_ms: Option<u32>,
    /// Moving-average alpha [default: the plugin's].
    #[serde(default)]
    pub alpha: Option<f64>,
    /// Milliseconds between rounds.
    #[serde(default = "default_round_ms")]
    pub round_interval_ms: u64,
    /// Blocks between weight sets [default: the subnet's tempo].
    #[serde(default)]
    pub weights_interval_blocks: Option<u64>,
    /// Weights version key [default: the subnet's].
    #[serde(default)]
    pub version_key: Option<u64>,
    /// Mark answers repeated from a different task of recent rounds invalid [default: true].
    #[serde(default = "default_true")]
    pub replay_guard: bool,
}

fn default_true() -> bool {
    true
}

fn default_round_ms() -> u64 {
    12_000
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, or a field of the wrong name or type (the message has the line).
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Parsed, but breaks a rule.
    #[error("{path}: {field}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The offending field.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl ValidatorConfig {
    /// Reads and checks a configuration file; relative paths in it are resolved against its directory.
    pub fn load(path: &Path) -> Result<ValidatorConfig, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        let mut config: ValidatorConfig = toml::from_str(&text)
            .map_err(|error| ConfigError::Parse { path: path.to_owned(), message: error.to_string() })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for subnet in &mut config.subnets {
            if subnet.plugin.is_relative() {
                subnet.plugin = base.join(&subnet.plugin);
            }
        }
        if config.database.is_none() {
            config.database = Some(format!("sqlite://{}", base.join("validator.sqlite").display()));
        }
        config.validate().map_err(|(field, message)| ConfigError::Invalid { path: path.to_owned(), field, message })?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), (String, String)> {
        if self.subnets.is_empty() {
            return Err(("subnet".to_owned(), "list at least one [[subnet]]".to_owned()));
        }
        let mut seen = std::collections::HashSet::new();
        for (index, subnet) in self.subnets.iter().enumerate() {
            let field = |name: &str| format!("subnet[{index}].{name}");
            if !seen.insert(subnet.netuid) {
                return Err((field("netuid"), format!("subnet {} is listed twice", subnet.netuid)));
            }
            if let Some(alpha) = subnet.alpha
                && !(alpha > 0.0 && alpha <= 1.0)
            {
                return Err((field("alpha"), "must be in (0, 1]".to_owned()));
            }
            if subnet.sample_size == Some(0) {
                return Err((field("sample_size"), "must be at least 1".to_owned()));
            }
            if subnet.round_interval_ms == 0 {
                return Err((field("round_interval_ms"), "must be at least 1".to_owned()));
            }
            if let Some(sha256) = &subnet.sha256
                && (sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                return Err((field("sha256"), "must be 64 hex digits".to_owned()));
            }
        }
        if self.max_in_flight == 0 {
            return Err(("max_in_flight".to_owned(), "must be at least 1".to_owned()));
        }
        Ok(())
    }

    /// The subnets as the runners take them.
    pub fn specs(&self) -> Vec<SubnetSpec> {
        self.subnets
            .iter()
            .map(|subnet| SubnetSpec {
                netuid: subnet.netuid,
                plugin: subnet.plugin.clone(),
                sha256: subnet.sha256.clone(),
                overrides: Overrides {
                    sample_size: subnet.sample_size,
                    timeout_ms: subnet.timeout_ms,
                    alpha: subnet.alpha,
                },
                round_interval: Duration::from_millis(subnet.round_interval_ms),
                weights_interval_blocks: subnet.weights_interval_blocks,
                version_key: subnet.version_key,
                replay_guard: subnet.replay_guard,
            })
            .collect()
    }
}
