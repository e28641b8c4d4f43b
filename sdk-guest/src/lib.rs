//! The guest SDK for subnetkit incentive-mechanism plugins.
//!
//! A subnet owner writes the whole incentive mechanism (what to ask miners, and how to score the
//! answers) as one type implementing [`Mechanism`], and exports it with
//! [`export_mechanism!`]. Built for `wasm32-unknown-unknown`, the crate is a plugin: a
//! WebAssembly module that the `componentize` tool turns into a component of the
//! `subnetkit:mechanism@0.1.0` `plugin` world (it exports the `mechanism` interface and imports
//! nothing). The SDK hides that ABI: it generates the JSON Schemas of
//! the mechanism's types, decodes tasks, responses and truth from JSON, encodes tasks, checks the
//! scores, and maps errors to the world's `result`s.
//!
//! Plugins get no clock, network, filesystem or randomness: everything arrives as data, and the
//! helpers here ([`rng`], [`text`], [`hash`], [`rank`], [`score`], [`metrics`]) are deterministic
//! on every platform. The same crate compiles natively, so a mechanism's logic is unit-tested with
//! plain `cargo test`, through the plugin's own encode/decode path ([`testing`]).
//!
//! # Example
//!
//! ```
//! use schemars::JsonSchema;
//! use sdk_guest::{Context, Manifest, Mechanism, NoTruth, Response, Scores, Task};
//! use serde::{Deserialize, Serialize};
//!
//! /// Miners must add two numbers.
//! pub struct Adder;
//!
//! #[derive(Serialize, Deserialize, JsonSchema)]
//! pub struct Question { a: u32, b: u32 }
//!
//! #[derive(Serialize, Deserialize, JsonSchema)]
//! pub struct Answer { sum: u64 }
//!
//! impl Mechanism for Adder {
//!     type Task = Question;
//!     type Private = Answer;
//!     type Response = Answer;
//!     type Truth = NoTruth;
//!
//!     fn manifest() -> Manifest {
//!         Manifest::new("adder", "0.1.0", "Miners add two numbers.")
//!     }
//!
//!     fn make_task(ctx: &Context) -> Result<Task<Question, Answer>, String> {
//!         let mut rng = ctx.rng();
//!         let (a, b) = (rng.next_u32() % 1000, rng.next_u32() % 1000);
//!         Ok(Task::immediate(Question { a, b }, Answer { sum: a as u64 + b as u64 }))
//!     }
//!
//!     fn score(task: &Task<Question, Answer>, responses: &[Response<Answer>], _: Option<&NoTruth>)
//!         -> Result<Scores, String>
//!     {
//!         let right = |r: &Response<Answer>| r.ok().is_some_and(|a| a.sum == task.private.sum);
//!         Ok(Scores::new(responses.iter().map(|r| if right(r) { 1.0 } else { 0.0 }).collect()))
//!     }
//! }
//!
//! sdk_guest::export_mechanism!(Adder);
//!
//! // Natively, the same path the plugin takes:
//! let task = sdk_guest::testing::make_task::<Adder>(&sdk_guest::testing::context(7)).unwrap();
//! let sum = sdk_guest::testing::decode_task::<Adder>(&task).unwrap().private.sum;
//! let responses = [
//!     sdk_guest::testing::ok_response(0, &serde_json::json!({ "sum": sum }), 50),
//!     sdk_guest::testing::ok_response(1, &serde_json::json!({ "sum": "many" }), 50),
//! ];
//! let scores = sdk_guest::testing::score::<Adder>(&task, &responses, None).unwrap();
//! assert_eq!(scores.values, [1.0, 0.0]);
//! ```
//!
//! A plugin crate has `crate-type = ["cdylib", "rlib"]` (the `rlib` lets other native crates and
//! benchmarks use its logic), and is built in release for `wasm32-unknown-unknown` with
//! `panic = "abort"`.
//!
//! # The ABI version
//!
//! [`export_mechanism!`] stamps [`ABI_VERSION`] into the module as a custom section named
//! [`ABI_SECTION`], which `componentize` copies to the component's top level, where the host
//! reads it before compiling the plugin.

extern crate self as sdk_guest;

mod abi;
pub mod hash;
pub mod metrics;
mod panic;
pub mod rank;
pub mod rng;
pub mod score;
pub mod testing;
pub mod text;
mod types;
pub mod wire;

pub use schemars;
pub use serde;
pub use serde_json;

pub use crate::types::{Context, Defaults, Feed, Manifest, NoTruth, Outcome, Response, Scores, Settlement, Task};

/// The version of the plugin ABI (the `subnetkit:mechanism` WIT package) this SDK implements.
pub const ABI_VERSION: &str = "0.1.0";

/// The name of the custom section that carries [`ABI_VERSION`] in a plugin.
pub const ABI_SECTION: &str = "subnetkit:abi";

/// An incentive mechanism: what to ask miners, and how to score their answers.
///
/// Implement it on a unit struct and export it with [`export_mechanism!`]. The associated types
/// are the JSON payloads: the SDK derives their JSON Schemas (for the manifest) with `schemars`
/// and encodes and decodes them with `serde_json`.
///
/// Everything a mechanism computes must depend only on its inputs: the host gives it no clock,
/// randomness or I/O, so that every validator gets the same scores.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a subnetkit mechanism",
    label = "this type does not implement `sdk_guest::Mechanism`",
    note = "`export_mechanism!` exports a type that implements `sdk_guest::Mechanism`"
)]
pub trait Mechanism {
    /// The public part of a task: the request body sent to miners.
    type Task: serde::Serialize + serde::de::DeserializeOwned + schemars::JsonSchema;
    /// The private part of a task, kept by the validator: reference answers, hidden checks.
    type Private: serde::Serialize + serde::de::DeserializeOwned + schemars::JsonSchema;
    /// A miner's response body.
    type Response: serde::Serialize + serde::de::DeserializeOwned + schemars::JsonSchema;
    /// The truth supplied at delayed settlement, or [`NoTruth`] for a mechanism that settles
    /// immediately.
    type Truth: serde::Serialize + serde::de::DeserializeOwned + schemars::JsonSchema;

    /// The mechanism's name, version, description, defaults and feeds.
    fn manifest() -> Manifest;

    /// A new task for this round, built only from `ctx` (use [`Context::rng`] for random choices).
    fn make_task(ctx: &Context) -> Result<Task<Self::Task, Self::Private>, String>;

    /// One score in `[0, 1]` per response, in order, for a whole batch (so scores may depend on the
    /// other responses: ranks, duplicates). `truth` is `Some` only for delayed settlement.
    ///
    /// An `Err` reports that the batch could not be scored; the host records it as the plugin's
    /// answer, distinct from a crash.
    fn score(
        task: &Task<Self::Task, Self::Private>,
        responses: &[Response<Self::Response>],
        truth: Option<&Self::Truth>,
    ) -> Result<Scores, String>;

    /// Checks a decoded response beyond what its type expresses. An `Err` turns the response into
    /// [`Outcome::Invalid`] (with the message as `invalid_reason`) before [`Mechanism::score`]
    /// sees it. By default every decoded response is accepted.
    fn check_response(task: &Task<Self::Task, Self::Private>, response: &Self::Response) -> Result<(), String> {
        let _ = (task, response);
        Ok(())
    }
}

/// Exports a [`Mechanism`] as the plugin's implementation of the `plugin` world.
///
/// Use it once per plugin crate, at the crate root: `sdk_guest::export_mechanism!(MyMechanism);`.
/// On `wasm32` it emits the exported `mechanism` interface (`manifest`, `make-task`, `score`) and the
/// `subnetkit:abi` custom section. On other targets it only checks that the type is a
/// mechanism, so the crate still builds and tests natively.
#[macro_export]
macro_rules! export_mechanism {
    ($mechanism:ty $(,)?) => {
        /// Marks the crate as exporting a mechanism; a second `export_mechanism!` in the same
        /// module is refused here.
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        struct __sdk_guest_export_mechanism_may_be_used_only_once;

        const _: () = {
            $crate::__private::assert_mechanism::<$mechanism>();

            #[allow(dead_code)]
            type __SdkGuestExport = $crate::__private::Export<$mechanism>;

            #[cfg(target_arch = "wasm32")]
    $crate::__private::bindings::export!(__SdkGuestExport with_types_in $crate::__private::bindings);

            $crate::__stamp_abi!($crate::ABI_VERSION);
        };
    };
}

/// Emits the `subnetkit:abi` custom section with `$version` (on `wasm32` only).
///
/// [`export_mechanism!`] calls it with [`ABI_VERSION`]; host tests call it with other versions.
#[doc(hidden)]
#[macro_export]
macro_rules! __stamp_abi {
    ($version:expr) => {
        #[cfg(target_arch = "wasm32")]
        #[unsafe(link_section = "subnetkit:abi")]
        #[used]
        static __SDK_GUEST_ABI_VERSION: [u8; $version.len()] = $crate::__private::abi_bytes($version);
    };
}

#[doc(hidden)]
pub mod __private {
    //! Used by the macros; not part of the API.
    pub use crate::abi::{Export, abi_bytes, assert_mechanism, bindings};
    pub use wit_bindgen;
}

#[cfg(test)]
mod tests;
