//! What can go wrong in the host, as values.
//!
//! A plugin that *answers* with an error (`Err(String)` from `make-task` or `score`) is not a
//! [`HostError`]: calls return `Result<Result<T, String>, HostError>`, and the inner `Err` is the
//! plugin's own answer. A [`HostError`] means the plugin faulted, broke a limit or the contract, or
//! the host itself failed.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Result with [`HostError`] as the default error type.
pub type Result<T, E = HostError> = std::result::Result<T, E>;

/// The plugin export a call went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    /// Building the instance, before any export is called
    /// ([`Plugin::try_instantiate`](crate::Plugin::try_instantiate), and every call's first step).
    Instantiate,
    /// `manifest`.
    Manifest,
    /// `make-task`.
    MakeTask,
    /// `score`.
    Score,
}

impl Call {
    /// The export's name in the WIT world (`instantiation` for [`Call::Instantiate`]).
    pub fn name(self) -> &'static str {
        match self {
            Call::Instantiate => "instantiation",
            Call::Manifest => "manifest",
            Call::MakeTask => "make-task",
            Call::Score => "score",
        }
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A fault, a broken limit or contract, or a failure of the host.
///
/// The host process survives every one of them, and the same [`Host`](crate::Host) keeps serving
/// other plugins (and this one: every call runs in a fresh instance).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The plugin file could not be read.
    #[error("{}: cannot read plugin: {source}", path.display())]
    Io {
        /// The plugin file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The artifact cache could not be created, written or read.
    #[error("{}: artifact cache: {message}", path.display())]
    Cache {
        /// The cache directory or artifact file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The engine could not be built from the configuration.
    #[error("invalid host configuration: {0}")]
    Config(String),
    /// The plugin's ABI version (its `subnetkit:abi` section, or the shape of its exports) is not one
    /// this host supports. Checked before compiling.
    #[error("abi mismatch: {detail}")]
    AbiMismatch {
        /// The version the plugin declares, if it declares one.
        found: Option<String>,
        /// What does not match, e.g. `plugin declares ABI 0.2.0; this host supports 0.1.0`.
        detail: String,
    },
    /// The file is not a loadable plugin: not a component, malformed, over a static size limit
    /// (checked before compiling), rejected by the compiler, or not instantiable under the limits.
    #[error("invalid plugin: {reason}")]
    InvalidModule {
        /// Why, e.g. `plugin is 20971520 bytes, over the 16777216-byte limit`.
        reason: String,
    },
    /// The plugin imports something: functions, resources (a clock, WASI, a logger…), or even only
    /// types. The host provides nothing and accepts no import at all: plugins get everything as
    /// data, and the `plugin` world imports nothing.
    #[error("plugin imports {}, but the host provides no imports", quoted(names))]
    Imports {
        /// The import names, e.g. `wasi:io/poll@0.2.6`.
        names: Vec<String>,
    },
    /// The plugin trapped: a panic, `unreachable`, a stack overflow, an out-of-bounds access…
    #[error("plugin trapped in `{call}`: {message}")]
    Trap {
        /// The export that was called.
        call: Call,
        /// The guest's panic message when it left one, else what the trap was.
        message: String,
        /// The wasm backtrace at the trap, when wasmtime captured one.
        backtrace: Option<String>,
    },
    /// The call used up its fuel budget: the deterministic CPU limit. Every validator running the
    /// same plugin on the same inputs with the same budget reaches this identically.
    #[error("plugin ran out of fuel in `{call}` (budget {budget})")]
    OutOfFuel {
        /// The export that was called.
        call: Call,
        /// The budget that was used up.
        budget: u64,
    },
    /// The plugin tried to grow its memories (summed) or tables past the host's limit.
    #[error("plugin exceeded its {resource} limit in `{call}`: asked for {requested}, limit {limit}")]
    OutOfMemory {
        /// The export that was called.
        call: Call,
        /// `memory` (bytes, summed over all memories) or `table` (elements).
        resource: &'static str,
        /// What the plugin asked for in total.
        requested: u64,
        /// The limit.
        limit: u64,
    },
    /// The wall-clock safety net fired. This is a local fault of this host (overload, a stalled
    /// machine), never a score: fuel is the CPU limit validators agree on.
    #[error("plugin interrupted in `{call}` by the {deadline:?} wall-clock deadline (a local fault, not a score)")]
    Interrupted {
        /// The export that was called.
        call: Call,
        /// The deadline that fired.
        deadline: Duration,
    },
    /// The plugin answered, but the answer breaks the contract.
    #[error("bad output from `{call}`: {problem}")]
    BadOutput {
        /// The export that was called.
        call: Call,
        /// What is wrong with it.
        problem: BadOutput,
    },
}

impl HostError {
    /// Whether this error is a fault of this host or machine rather than an outcome that every
    /// validator reaches identically on the same plugin and inputs.
    ///
    /// Local faults ([`Interrupted`](Self::Interrupted), [`Io`](Self::Io), [`Cache`](Self::Cache),
    /// [`Config`](Self::Config)) must never turn into scores. The others are deterministic for a given
    /// plugin identity and inputs, so a validator may apply a defined policy (e.g. zero scores).
    pub fn is_local_fault(&self) -> bool {
        matches!(
            self,
            HostError::Interrupted { .. } | HostError::Io { .. } | HostError::Cache { .. } | HostError::Config(_)
        )
    }
}

/// How a plugin's answer breaks the contract.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BadOutput {
    /// `score` returned a different number of scores than there were responses.
    #[error("{got} scores for {expected} responses")]
    ScoreCount {
        /// The number of responses.
        expected: usize,
        /// The number of scores.
        got: usize,
    },
    /// A score is NaN or infinite.
    #[error("score {index} is not finite ({value})")]
    NotFinite {
        /// Position in the batch.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A score is finite but outside [0, 1].
    #[error("score {index} is {value}, outside [0, 1]")]
    OutOfRange {
        /// Position in the batch.
        index: usize,
        /// The value.
        value: f64,
    },
    /// An output is larger than the host's output limit. Checked before the host copies it.
    #[error("{what} is {bytes} bytes, over the {limit}-byte output limit")]
    TooLarge {
        /// Which output, e.g. `task`.
        what: &'static str,
        /// Its size.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// An output that must be JSON is not.
    #[error("{what} is not valid JSON: {error}")]
    InvalidJson {
        /// Which output, e.g. `manifest task-schema`.
        what: &'static str,
        /// The parser's message.
        error: String,
    },
    /// A manifest field is out of its documented range.
    #[error("manifest {field} {problem}")]
    Manifest {
        /// The field, e.g. `defaults.moving-average-alpha`.
        field: &'static str,
        /// What is wrong, e.g. `is 0, outside (0, 1]`.
        problem: String,
    },
    /// The values the plugin returned could not be read under the canonical ABI (a string that is
    /// not UTF-8, a list out of bounds of memory…).
    #[error("malformed result: {0}")]
    Malformed(String),
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}
