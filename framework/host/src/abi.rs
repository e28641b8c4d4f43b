//! The plugin ABI on the host side: the `subnetkit:mechanism@0.1.0` `plugin` world of
//! `sdk-guest/wit/mechanism.wit`, as Rust types that lower to and lift from the canonical ABI. The
//! world exports one interface, [`INTERFACE`], holding the types and the three functions, and
//! imports nothing.
//!
//! The types are the public ones: arguments are lowered from them by reference, results lifted into
//! them. Wasmtime runs the guest's post-return (which frees the guest's copy of a result) as part of
//! every call, so results are lifted as owned values: the guest's memory limit bounds what a call
//! can make the host copy, and the host then checks the output limit before doing anything else.
//!
//! When a new ABI version is released, its WIT is frozen next to this one and gets its own module;
//! the host picks the module by the version in the plugin's `subnetkit:abi` section.

use wasmtime::component::{ComponentType, Lift, Lower};

/// The ABI versions (contents of the `subnetkit:abi` custom section) this host loads.
pub const SUPPORTED_ABI_VERSIONS: &[&str] = &["0.1.0"];

/// The instance a plugin exports, holding `manifest`, `make-task` and `score`.
pub(crate) const INTERFACE: &str = "subnetkit:mechanism/mechanism@0.1.0";

/// Defaults a validator may override per subnet.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
pub struct Defaults {
    /// How long a miner has to answer, in milliseconds.
    #[component(name = "query-timeout-ms")]
    pub query_timeout_ms: u32,
    /// How many miners to query per round.
    #[component(name = "sample-size")]
    pub sample_size: u16,
    /// Weight of a new score in the moving average, in (0, 1].
    #[component(name = "moving-average-alpha")]
    pub moving_average_alpha: f64,
    /// For delayed settlement: how long after the task the truth is known, in milliseconds.
    #[component(name = "settlement-delay-ms")]
    pub settlement_delay_ms: Option<u64>,
}

/// What the plugin is and what it needs. The host has checked that every schema is JSON.
#[derive(ComponentType, Lift, Clone, Debug, PartialEq)]
#[component(record)]
pub struct Manifest {
    /// Short machine name, e.g. `price-prediction`.
    pub name: String,
    /// Semantic version of the mechanism.
    pub version: String,
    /// One paragraph for humans.
    pub description: String,
    /// JSON Schema of the public task part, sent to miners.
    #[component(name = "task-schema")]
    pub task_schema: String,
    /// JSON Schema of the private task part, kept by the validator.
    #[component(name = "private-schema")]
    pub private_schema: String,
    /// JSON Schema of a miner's response body.
    #[component(name = "response-schema")]
    pub response_schema: String,
    /// JSON Schema of the settlement truth, for delayed settlement.
    #[component(name = "truth-schema")]
    pub truth_schema: Option<String>,
    /// Defaults the validator may override.
    pub defaults: Defaults,
    /// Host feeds the plugin reads, by name (e.g. `price:BTC-USDT`).
    pub feeds: Vec<String>,
}

/// The latest value of a feed the manifest asked for.
#[derive(ComponentType, Lower, Clone, Debug, PartialEq, Eq)]
#[component(record)]
pub struct FeedValue {
    /// Feed name, as in the manifest.
    pub name: String,
    /// The value, as JSON.
    pub value: Vec<u8>,
}

/// Everything `make-task` may depend on.
#[derive(ComponentType, Lower, Clone, Debug, Default, PartialEq, Eq)]
#[component(record)]
pub struct Context {
    /// Seed chosen (and recorded) by the validator.
    pub seed: u64,
    /// Chain block at which the round starts.
    pub block: u64,
    /// Unix time in milliseconds, supplied by the host.
    #[component(name = "unix-ms")]
    pub unix_ms: u64,
    /// Latest values of the requested feeds.
    pub feeds: Vec<FeedValue>,
}

/// When a task can be scored.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[component(variant)]
pub enum Settlement {
    /// As soon as the responses are in.
    #[component(name = "immediate")]
    Immediate,
    /// After this many milliseconds, when the truth is known.
    #[component(name = "delayed")]
    Delayed(u64),
}

/// A task: what miners see, what the validator keeps, and when it settles.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(record)]
pub struct Task {
    /// Public part, as JSON: the request body sent to miners.
    pub public: Vec<u8>,
    /// Private part, as JSON: reference answers and hidden checks.
    pub private: Vec<u8>,
    /// When the task can be scored.
    pub settlement: Settlement,
}

/// How a query to a miner ended.
#[derive(ComponentType, Lower, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[component(enum)]
#[repr(u8)]
pub enum Outcome {
    /// The miner answered with a body that matches the response schema.
    #[component(name = "ok")]
    Ok,
    /// No answer within the timeout.
    #[component(name = "timeout")]
    Timeout,
    /// Connection refused, reset, bad status or bad signature.
    #[component(name = "transport-error")]
    TransportError,
    /// The body does not match the response schema.
    #[component(name = "invalid")]
    Invalid,
}

/// One miner's response.
#[derive(ComponentType, Lower, Clone, Debug, PartialEq, Eq)]
#[component(record)]
pub struct Response {
    /// Miner uid on the subnet.
    pub uid: u16,
    /// Miner hotkey, SS58.
    pub hotkey: String,
    /// The raw JSON body, if any.
    pub body: Option<Vec<u8>>,
    /// How the query ended.
    pub outcome: Outcome,
    /// Time from request to response, in milliseconds.
    #[component(name = "latency-ms")]
    pub latency_ms: u32,
}

/// Validated scores for a batch.
#[derive(Clone, Debug, PartialEq)]
pub struct Scores {
    /// One score per response, in order; each finite and in [0, 1] (negative zero is made `0.0`).
    pub values: Vec<f64>,
    /// The plugin's notes for the operator, truncated to the host's diagnostics limit.
    pub diagnostics: String,
    /// Fuel the call used, out of the budget.
    pub fuel_used: u64,
}

// ---- results before the host's checks ----

#[derive(ComponentType, Lift)]
#[component(record)]
pub(crate) struct RawScores {
    pub(crate) values: Vec<f64>,
    pub(crate) diagnostics: String,
}

/// `manifest: func() -> manifest`.
pub(crate) type ManifestParams = ();
pub(crate) type ManifestResults = (Manifest,);
/// `make-task: func(context: context) -> result<task, string>`.
pub(crate) type MakeTaskParams<'a> = (&'a Context,);
pub(crate) type MakeTaskResults = (Result<Task, String>,);
/// `score: func(task: task, responses: list<response>, truth: option<list<u8>>) -> result<scores, string>`.
pub(crate) type ScoreParams<'a> = (&'a Task, &'a [Response], Option<&'a [u8]>);
pub(crate) type ScoreResults = (Result<RawScores, String>,);
