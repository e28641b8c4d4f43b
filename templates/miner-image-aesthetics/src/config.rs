//! The miner's configuration file: which backend draws the pictures.

use serde::{Deserialize, Serialize};

/// The configuration of an [`crate::ImageAestheticsMiner`], read from JSON:
///
/// ```json
/// {"backend": "renderer", "seed": 12345}
/// {"backend": "http", "url": "http://127.0.0.1:7860/generate", "timeout_ms": 10000}
/// ```
///
/// The default is the renderer with a seed drawn when the miner starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "snake_case", deny_unknown_fields)]
pub enum Config {
    /// The built-in renderer ([`crate::render`]).
    Renderer {
        /// Seed of the layout and texture. Left out, a random one is drawn at start-up: two
        /// miners sending the same picture are copies and both score 0, so never share a seed.
        #[serde(default)]
        seed: Option<u64>,
    },
    /// An external image server: the task is POSTed to `url` as JSON, and the server answers
    /// `{"image": "<base64 PNG or JPEG>"}`.
    Http {
        /// `http://` or `https://` URL of the server's endpoint.
        url: String,
        /// Time allowed for one picture, in milliseconds (1 to 60 000; keep it under the
        /// subnet's 12 s query timeout).
        #[serde(default = "default_timeout_ms")]
        timeout_ms: u64,
    },
}

fn default_timeout_ms() -> u64 {
    10_000
}

impl Default for Config {
    fn default() -> Config {
        Config::Renderer { seed: None }
    }
}

/// Why a configuration was refused; the message names the field.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The text is not JSON of the right shape (unknown field or backend, wrong type).
    #[error("{path}: {message}")]
    Parse {
        /// Where in the document (`.` for the top level).
        path: String,
        /// What serde said.
        message: String,
    },
    /// A field is out of range.
    #[error("{field}: {message}")]
    Invalid {
        /// The field, e.g. `url`.
        field: &'static str,
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

    /// Checks every field's range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self {
            Config::Renderer { .. } => Ok(()),
            Config::Http { url, timeout_ms } => {
                let parsed = reqwest::Url::parse(url).map_err(|e| ConfigError::Invalid {
                    field: "url",
                    message: format!("{url:?} is not a URL: {e}"),
                })?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                    return Err(ConfigError::Invalid {
                        field: "url",
                        message: format!("{url:?} is not an http:// or https:// URL with a host"),
                    });
                }
                if !(1..=60_000).contains(timeout_ms) {
                    return Err(ConfigError::Invalid {
                        field: "timeout_ms",
                        message: format!("{timeout_ms} is outside 1..=60000"),
                    });
                }
                Ok(())
            }
        }
    }
}
