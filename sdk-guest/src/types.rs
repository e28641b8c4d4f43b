//! The typed values a [`Mechanism`](crate::Mechanism) works with.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::rng::Rng;

/// What a mechanism is and what it needs; the SDK adds the JSON Schemas of its types.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Manifest {
    /// Short machine name, e.g. `price-prediction`.
    pub name: String,
    /// Semantic version of the mechanism, e.g. `env!("CARGO_PKG_VERSION")`.
    pub version: String,
    /// One paragraph for humans.
    pub description: String,
    /// Defaults the validator may override.
    pub defaults: Defaults,
    /// Host feeds the mechanism reads in `make_task`, by name (e.g. `price:BTC-USDT`).
    pub feeds: Vec<String>,
}

impl Manifest {
    /// A manifest with default [`Defaults`] and no feeds.
    pub fn new(name: impl Into<String>, version: impl Into<String>, description: impl Into<String>) -> Self {
        Manifest {
            name: name.into(),
            version: version.into(),
            description: description.into(),
            defaults: Defaults::default(),
            feeds: Vec::new(),
        }
    }

    /// The same manifest with `defaults`.
    pub fn with_defaults(mut self, defaults: Defaults) -> Self {
        self.defaults = defaults;
        self
    }

    /// The same manifest, also asking for the feed `name`.
    pub fn with_feed(mut self, name: impl Into<String>) -> Self {
        self.feeds.push(name.into());
        self
    }
}

/// Defaults a validator may override per subnet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Defaults {
    /// How long a miner has to answer, in milliseconds.
    pub query_timeout_ms: u32,
    /// How many miners to query per round.
    pub sample_size: u16,
    /// Weight of a new score in the moving average, in (0, 1].
    pub moving_average_alpha: f64,
    /// For delayed settlement: how long after the task the truth is known, in milliseconds.
    pub settlement_delay_ms: Option<u64>,
}

impl Default for Defaults {
    /// 12 s timeout, 16 miners per round, alpha 0.1, immediate settlement.
    fn default() -> Self {
        Defaults { query_timeout_ms: 12_000, sample_size: 16, moving_average_alpha: 0.1, settlement_delay_ms: None }
    }
}

/// Everything `make_task` may depend on. It holds no clock or randomness of its own: `unix_ms`
/// and `seed` come from the validator, which records them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// Seed chosen (and recorded) by the validator.
    pub seed: u64,
    /// Chain block at which the round starts.
    pub block: u64,
    /// Unix time in milliseconds, supplied by the host.
    pub unix_ms: u64,
    /// Latest values of the feeds the manifest asked for.
    pub feeds: Vec<Feed>,
}

impl Context {
    /// A context with this seed, block 0, time 0 and no feeds (handy in tests).
    pub fn with_seed(seed: u64) -> Self {
        Context { seed, ..Context::default() }
    }

    /// A deterministic generator seeded from [`Context::seed`].
    pub fn rng(&self) -> Rng {
        Rng::from_seed(self.seed)
    }

    /// A deterministic generator for one purpose (`stream`), seeded from [`Context::seed`].
    pub fn rng_stream(&self, stream: u64) -> Rng {
        Rng::from_seed_and_stream(self.seed, stream)
    }

    /// The raw JSON of feed `name`, if the host supplied it.
    pub fn feed_json(&self, name: &str) -> Option<&[u8]> {
        self.feeds.iter().find(|f| f.name == name).map(|f| f.value.as_slice())
    }

    /// Feed `name`, decoded from JSON. Errors name the feed; use it with `?` in `make_task`.
    pub fn feed<T: DeserializeOwned>(&self, name: &str) -> Result<T, String> {
        let json = self.feed_json(name).ok_or_else(|| format!("feed `{name}` is missing"))?;
        crate::abi::decode(json).map_err(|e| format!("invalid feed `{name}`: {e}"))
    }
}

/// The latest value of a feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feed {
    /// Feed name, as in the manifest.
    pub name: String,
    /// The value, as JSON.
    pub value: Vec<u8>,
}

/// A task: its public part (sent to miners), its private part (kept by the validator) and when it
/// settles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Task<T, P> {
    /// Public part: the request body sent to miners.
    pub public: T,
    /// Private part: reference answers and hidden checks, never sent to miners.
    pub private: P,
    /// When the task can be scored.
    #[serde(default)]
    pub settlement: Settlement,
}

impl<T, P> Task<T, P> {
    /// A task scored as soon as the responses are in.
    pub fn immediate(public: T, private: P) -> Self {
        Task { public, private, settlement: Settlement::Immediate }
    }

    /// A task scored `after_ms` milliseconds later, with the truth the host then supplies.
    pub fn delayed(public: T, private: P, after_ms: u64) -> Self {
        Task { public, private, settlement: Settlement::Delayed(after_ms) }
    }
}

/// When a task can be scored. In JSON: `"immediate"` or `{"delayed": <milliseconds>}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Settlement {
    /// As soon as the responses are in.
    #[default]
    Immediate,
    /// After this many milliseconds, when the truth is known.
    Delayed(u64),
}

/// How a query to a miner ended. In JSON: `"ok"`, `"timeout"`, `"transport_error"`, `"invalid"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The miner answered with a body that decoded as the mechanism's response type.
    Ok,
    /// No answer within the timeout.
    Timeout,
    /// Connection refused, reset, bad status or bad signature.
    TransportError,
    /// The body does not match the response type (as found by the host, or by the SDK when it
    /// failed to decode, or by [`Mechanism::check_response`](crate::Mechanism::check_response)).
    Invalid,
}

/// One miner's response, as the mechanism sees it.
///
/// `body` is `Some` exactly when `outcome` is [`Outcome::Ok`]. A body the SDK cannot decode, or
/// one that `check_response` refuses, arrives as [`Outcome::Invalid`] with `body: None` and the
/// reason in `invalid_reason`, never as a panic.
#[derive(Clone, Debug, PartialEq)]
pub struct Response<R> {
    /// Miner uid on the subnet.
    pub uid: u16,
    /// Miner hotkey, SS58.
    pub hotkey: String,
    /// How the query ended.
    pub outcome: Outcome,
    /// The decoded body, when `outcome` is [`Outcome::Ok`]. (The bytes it was decoded from are
    /// freed as soon as it is decoded, so a batch needs memory for one copy of the bodies.)
    pub body: Option<R>,
    /// Why the SDK marked the response [`Outcome::Invalid`], if it did.
    pub invalid_reason: Option<String>,
    /// Time from request to response, in milliseconds.
    pub latency_ms: u32,
}

impl<R> Response<R> {
    /// The decoded body of a response whose outcome is [`Outcome::Ok`].
    pub fn ok(&self) -> Option<&R> {
        self.body.as_ref()
    }
}

/// One score per response, in order, and notes for the operator.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scores {
    /// One score in `[0, 1]` per response, in order. The SDK refuses NaN, infinities and values
    /// outside `[0, 1]`; pass doubtful values through [`score::clamp`](crate::score::clamp).
    pub values: Vec<f64>,
    /// Free-form notes for the operator. Keep them short: the host bounds their size.
    pub diagnostics: String,
}

impl Scores {
    /// Scores with no diagnostics.
    pub fn new(values: Vec<f64>) -> Self {
        Scores { values, diagnostics: String::new() }
    }

    /// The same scores with `diagnostics`.
    pub fn with_diagnostics(mut self, diagnostics: impl Into<String>) -> Self {
        self.diagnostics = diagnostics.into();
        self
    }
}

impl From<Vec<f64>> for Scores {
    fn from(values: Vec<f64>) -> Self {
        Scores::new(values)
    }
}

/// The `Truth` of a mechanism that settles immediately and takes no truth.
///
/// It has no values: the manifest then has no truth schema, `score` always gets `None`, and a
/// truth sent anyway is refused with an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoTruth {}

impl Serialize for NoTruth {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        match *self {}
    }
}

impl<'de> Deserialize<'de> for NoTruth {
    fn deserialize<D: Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(D::Error::custom("this mechanism takes no truth"))
    }
}

impl JsonSchema for NoTruth {
    fn schema_name() -> Cow<'static, str> {
        "NoTruth".into()
    }

    fn schema_id() -> Cow<'static, str> {
        "sdk_guest::NoTruth".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        Schema::from(false)
    }
}
