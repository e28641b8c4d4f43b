//! Choosing and building a backend from configuration.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::fallback::TestFallback;
use crate::generator::{GenerateError, GenerationRequest, Generator};
use crate::openai::OpenAiCompatible;

/// Which backend to run, as written in a miner's config file.
///
/// ```json
/// {"backend": "smollm2", "gguf": "/models/SmolLM2-135M-Instruct.Q4_1.gguf"}
/// {"backend": "smollm2", "sampling": {"temperature": 0.7, "top_p": 0.9, "seed": 7}}
/// {"backend": "openai_compatible", "base_url": "http://127.0.0.1:8000", "model": "qwen2.5-7b-instruct",
///  "api_key_env": "OPENAI_API_KEY", "timeout_ms": 15000}
/// {"backend": "test_fallback"}
/// ```
///
/// The default is SmolLM2 with its path from `SMOLLM2_GGUF`: a config never falls back to
/// [`TestFallback`] unless it names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "snake_case")]
pub enum GeneratorConfig {
    /// SmolLM2-135M-Instruct, offline (cargo feature `smollm2`).
    #[serde(rename = "smollm2")]
    SmolLm2(SmolLm2Config),
    /// An OpenAI-compatible HTTP server.
    OpenaiCompatible(OpenAiConfig),
    /// The test-only fallback: **not a model**; see [`TestFallback`].
    TestFallback,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self::SmolLm2(SmolLm2Config::default())
    }
}

impl GeneratorConfig {
    /// Checks the config's shape without touching the environment, the file system or the
    /// network.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self {
            Self::SmolLm2(config) => config.validate(),
            Self::OpenaiCompatible(config) => config.validate(),
            Self::TestFallback => Ok(()),
        }
    }
}

/// Settings of the SmolLM2 backend.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmolLm2Config {
    /// The GGUF file (`fetch-model.sh` fetches it). `None`: the path in `SMOLLM2_GGUF`.
    #[serde(default)]
    pub gguf: Option<PathBuf>,
    /// How the next token is picked. `None`: greedy (the most likely token), so every miner
    /// running this model gives the same answer to a prompt.
    #[serde(default)]
    pub sampling: Option<Sampling>,
}

/// Random sampling of the next token instead of greedy decoding, so that miners running the same
/// model do not all answer alike (the subnet treats near-identical completions as copies).
///
/// Each request gets its own random generator, seeded from `seed` and the request's prompts: a
/// miner answers a given prompt the same way every time, and two seeds answer it differently.
///
/// ```json
/// {"temperature": 0.7, "top_p": 0.9, "seed": 7}
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sampling {
    /// Divides the logits before the softmax: lower is closer to greedy, higher more varied.
    /// In `(0, 2]`.
    pub temperature: f64,
    /// Nucleus sampling: draw only from the most likely tokens whose probabilities add up to
    /// `top_p`. In `(0, 1]`; `None` (or `1`): draw from every token.
    #[serde(default)]
    pub top_p: Option<f64>,
    /// The miner's seed. `None`: drawn at random when the miner starts (and logged), so answers
    /// are reproducible only until a restart.
    #[serde(default)]
    pub seed: Option<u64>,
}

impl Sampling {
    /// The highest temperature accepted.
    pub const MAX_TEMPERATURE: f64 = 2.0;

    /// Sampling at `temperature` from every token, with a seed drawn at startup.
    pub fn new(temperature: f64) -> Self {
        Self { temperature, top_p: None, seed: None }
    }

    /// Sets `top_p`.
    pub fn with_top_p(mut self, top_p: f64) -> Self {
        self.top_p = Some(top_p);
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Checks the values: `temperature` in `(0, 2]`, `top_p` in `(0, 1]`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        // Written so that NaN fails too.
        if !(self.temperature > 0.0 && self.temperature <= Self::MAX_TEMPERATURE) {
            return Err(invalid(
                "smollm2.sampling.temperature",
                format!("{} is outside (0, {}]", self.temperature, Self::MAX_TEMPERATURE),
            ));
        }
        if let Some(top_p) = self.top_p
            && !(top_p > 0.0 && top_p <= 1.0)
        {
            return Err(invalid("smollm2.sampling.top_p", format!("{top_p} is outside (0, 1]")));
        }
        Ok(())
    }
}

impl SmolLm2Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(path) = &self.gguf
            && path.as_os_str().is_empty()
        {
            return Err(invalid("smollm2.gguf", "the path is empty"));
        }
        self.sampling.as_ref().map_or(Ok(()), Sampling::validate)
    }

    /// The configured path, else the one in `SMOLLM2_GGUF`.
    pub fn resolve_path(&self) -> Result<PathBuf, ConfigError> {
        self.validate()?;
        if let Some(path) = &self.gguf {
            return Ok(path.clone());
        }
        match std::env::var_os(crate::SMOLLM2_GGUF_ENV) {
            Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
            _ => Err(invalid(
                "smollm2.gguf",
                format!(
                    "no path given and `{}` is not set; fetch the model with \
                     `templates/miner-text-generation/fetch-model.sh PATH` and set one of them to PATH",
                    crate::SMOLLM2_GGUF_ENV
                ),
            )),
        }
    }
}

/// Settings of the OpenAI-compatible backend.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiConfig {
    /// The server's root, e.g. `http://127.0.0.1:8000` or `https://api.openai.com`;
    /// `/v1/chat/completions` is appended.
    pub base_url: String,
    /// The model name sent with each request.
    pub model: String,
    /// The environment variable holding the API key, sent as a bearer token. `None`: no key
    /// (a local server). The key itself never goes in the config file.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// How long one request may take, in milliseconds. The default, 15 s, leaves headroom under
    /// the validator's 20 s query timeout.
    #[serde(default = "OpenAiConfig::default_timeout_ms")]
    pub timeout_ms: u64,
}

impl OpenAiConfig {
    /// The longest timeout accepted: 10 minutes.
    pub const MAX_TIMEOUT_MS: u64 = 600_000;

    fn default_timeout_ms() -> u64 {
        15_000
    }

    /// A config for `base_url` and `model` with no API key and the default timeout.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key_env: None,
            timeout_ms: Self::default_timeout_ms(),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        const URL: &str = "openai_compatible.base_url";
        let url = reqwest::Url::parse(&self.base_url).map_err(|error| invalid(URL, format!("{error}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(URL, format!("the scheme is `{}`, not http or https", url.scheme())));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid(URL, "the URL has no host"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid(URL, "the URL has a query or fragment"));
        }
        if url.path().trim_end_matches('/').ends_with("/v1") {
            return Err(invalid(URL, "give the server's root without `/v1`: `/v1/chat/completions` is appended"));
        }
        if self.model.trim().is_empty() {
            return Err(invalid("openai_compatible.model", "the model name is empty"));
        }
        if !(1..=Self::MAX_TIMEOUT_MS).contains(&self.timeout_ms) {
            return Err(invalid(
                "openai_compatible.timeout_ms",
                format!("{} is outside 1..={}", self.timeout_ms, Self::MAX_TIMEOUT_MS),
            ));
        }
        if let Some(name) = &self.api_key_env
            && (name.is_empty() || name.contains(['=', '\0']))
        {
            return Err(invalid("openai_compatible.api_key_env", format!("`{name}` is not a variable name")));
        }
        Ok(())
    }

    pub(crate) fn chat_completions_url(&self) -> String {
        format!("{}/v1/chat/completions", self.base_url.trim_end_matches('/'))
    }

    /// The API key from the environment variable named by `api_key_env`, if any.
    pub fn api_key(&self) -> Result<Option<String>, ConfigError> {
        let Some(name) = &self.api_key_env else { return Ok(None) };
        match std::env::var(name) {
            Ok(key) if !key.is_empty() => Ok(Some(key)),
            Ok(_) => Err(invalid("openai_compatible.api_key_env", format!("environment variable `{name}` is empty"))),
            Err(std::env::VarError::NotPresent) => {
                Err(invalid("openai_compatible.api_key_env", format!("environment variable `{name}` is not set")))
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(invalid("openai_compatible.api_key_env", format!("environment variable `{name}` is not UTF-8")))
            }
        }
    }
}

/// A config that cannot be built into a backend.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A field's value is invalid; `field` is its dotted path, e.g. `openai_compatible.base_url`.
    #[error("invalid `{field}`: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The HTTP client could not be built (e.g. the platform's TLS roots are unreadable).
    #[error("cannot build the HTTP client")]
    HttpClient(#[source] reqwest::Error),
    /// The SmolLM2 model could not be loaded.
    #[cfg(feature = "smollm2")]
    #[error(transparent)]
    Load(#[from] crate::smollm2::LoadError),
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { field, reason: reason.into() }
}

/// A built backend. Build one per process at startup and share it (it is cheap to clone; the
/// SmolLM2 weights are loaded once).
#[derive(Clone, Debug)]
pub enum Backend {
    /// SmolLM2-135M-Instruct, offline.
    #[cfg(feature = "smollm2")]
    SmolLm2(crate::smollm2::SmolLm2),
    /// An OpenAI-compatible server.
    OpenAiCompatible(OpenAiCompatible),
    /// The test-only fallback: **not a model**.
    TestFallback(TestFallback),
}

impl Backend {
    /// Validates `config` and builds its backend. For SmolLM2 this loads the model (about a second
    /// for the 98 MB GGUF), so call it at startup, or in `spawn_blocking` from async code.
    pub fn from_config(config: &GeneratorConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        match config {
            GeneratorConfig::SmolLm2(config) => Self::smollm2(config),
            GeneratorConfig::OpenaiCompatible(config) => {
                Ok(Self::OpenAiCompatible(OpenAiCompatible::new(config, config.api_key()?)?))
            }
            GeneratorConfig::TestFallback => {
                tracing::warn!("using the test-only fallback generator: it is not a model and earns nothing");
                Ok(Self::TestFallback(TestFallback))
            }
        }
    }

    #[cfg(feature = "smollm2")]
    fn smollm2(config: &SmolLm2Config) -> Result<Self, ConfigError> {
        let model = crate::smollm2::SmolLm2::load(config.resolve_path()?)?;
        Ok(Self::SmolLm2(match &config.sampling {
            Some(sampling) => model.with_sampling(sampling)?,
            None => model,
        }))
    }

    #[cfg(not(feature = "smollm2"))]
    fn smollm2(_config: &SmolLm2Config) -> Result<Self, ConfigError> {
        Err(invalid(
            "backend",
            "`smollm2` needs this crate's cargo feature `smollm2` (build with `--features smollm2`)",
        ))
    }

    /// The backend's name as written in the config.
    pub fn name(&self) -> &'static str {
        match self {
            #[cfg(feature = "smollm2")]
            Self::SmolLm2(_) => "smollm2",
            Self::OpenAiCompatible(_) => "openai_compatible",
            Self::TestFallback(_) => "test_fallback",
        }
    }
}

impl Generator for Backend {
    async fn generate(&self, request: &GenerationRequest) -> Result<String, GenerateError> {
        match self {
            #[cfg(feature = "smollm2")]
            Self::SmolLm2(generator) => generator.generate(request).await,
            Self::OpenAiCompatible(generator) => generator.generate(request).await,
            Self::TestFallback(generator) => generator.generate(request).await,
        }
    }
}
