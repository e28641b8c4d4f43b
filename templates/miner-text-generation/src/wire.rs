//! The text-generation subnet's task and response, as its plugin defines them: the same types,
//! names and doc comments, so their JSON Schemas are the plugin's exactly (a template does not
//! depend on the subnet's crate; `subnets/conformance` checks the schemas are equal).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What kind of task a prompt is, so miners can route it (e.g. to a maths model).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// A maths word problem: show the working if you like, and end with the final number (or mark
    /// it `#### N`).
    Math,
    /// An instruction to follow, possibly with an input.
    Instruction,
}

/// The public part of a task: the request sent to miners.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Prompt {
    /// The prompt to complete.
    pub prompt: String,
    /// What kind of task it is.
    pub kind: TaskKind,
    /// The longest completion accepted, in bytes of UTF-8.
    pub max_completion_bytes: u32,
}

/// A miner's response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Completion {
    /// The completion text, at most `max_completion_bytes` bytes.
    pub completion: String,
}
