//! The miner's configuration file: which forecaster, with which parameters, and the intervals.

use serde::{Deserialize, Serialize};

use crate::forecast::{Forecaster, Intervals};

/// The configuration of a [`crate::PricePredictionMiner`], read from JSON; every field is
/// optional:
///
/// ```json
/// {"forecaster": {"method": "ar", "order": 2, "lookback": 119, "ridge": 0.1},
///  "intervals": {"enabled": true, "window": 30, "scale": 1.0}}
/// ```
///
/// `method` is one of `last_value`, `drift`, `holt`, `linear_fit`, `ar` (see [`Forecaster`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The point forecaster.
    pub forecaster: Forecaster,
    /// The optional forecast intervals.
    pub intervals: Intervals,
}

/// Why a configuration was refused. The message names the field, e.g.
/// `forecaster.alpha: 1.5 is outside (0, 1]`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The text is not JSON of the right shape (unknown field, wrong type, unknown method).
    #[error("{path}: {message}")]
    Parse {
        /// Where in the document (`.` for the top level).
        path: String,
        /// What serde said.
        message: String,
    },
    /// A parameter is out of range.
    #[error("{field}: {message}")]
    Invalid {
        /// The field, e.g. `forecaster.alpha`.
        field: String,
        /// What is allowed.
        message: String,
    },
}

impl Config {
    /// Parses and validates a JSON configuration.
    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let config: Config = serde_path_to_error::deserialize(de).map_err(|error| ConfigError::Parse {
            path: error.path().to_string(),
            message: error.inner().to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every parameter's range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |section: &str, (field, message): (&str, String)| ConfigError::Invalid {
            field: format!("{section}.{field}"),
            message,
        };
        self.forecaster.validate().map_err(|e| invalid("forecaster", e))?;
        self.intervals.validate().map_err(|e| invalid("intervals", e))
    }
}
