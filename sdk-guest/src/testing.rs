//! Runs a mechanism natively, through the same JSON encode/decode path as the plugin.
//!
//! The functions here call the very code behind the plugin's exports, with the ABI's
//! [`wire`] values, so a unit test sees what the host will see: schemas as strings, tasks as
//! JSON bytes, undecodable bodies turned into invalid responses, and the SDK's checks on the
//! scores.
//!
//! ```
//! # use sdk_guest::*;
//! # use serde::{Deserialize, Serialize};
//! # pub struct Echo;
//! # #[derive(Serialize, Deserialize, schemars::JsonSchema)] pub struct Word { word: String }
//! # impl Mechanism for Echo {
//! #     type Task = Word; type Private = Word; type Response = Word; type Truth = NoTruth;
//! #     fn manifest() -> Manifest { Manifest::new("echo", "0.1.0", "Say the word back.") }
//! #     fn make_task(_: &Context) -> Result<Task<Word, Word>, String> {
//! #         Ok(Task::immediate(Word { word: "hi".into() }, Word { word: "hi".into() }))
//! #     }
//! #     fn score(t: &Task<Word, Word>, rs: &[Response<Word>], _: Option<&NoTruth>) -> Result<Scores, String> {
//! #         Ok(Scores::new(rs.iter().map(|r| r.ok().map_or(0.0, |w| (w.word == t.private.word) as u8 as f64)).collect()))
//! #     }
//! # }
//! use sdk_guest::testing;
//!
//! let batch = testing::Batch::from_json(r#"{
//!     "task": { "public": { "word": "hi" }, "private": { "word": "hi" } },
//!     "responses": [
//!         { "uid": 3, "hotkey": "5A", "outcome": "ok", "body": { "word": "hi" }, "latency_ms": 40 },
//!         { "uid": 4, "hotkey": "5B", "outcome": "ok", "body": { "ward": "hi" }, "latency_ms": 40 },
//!         { "uid": 5, "hotkey": "5C", "outcome": "timeout", "body": null, "latency_ms": 12000 }
//!     ]
//! }"#).unwrap();
//! assert_eq!(testing::score_batch::<Echo>(&batch).unwrap().values, [1.0, 0.0, 0.0]);
//! ```
//!
//! # The batch file
//!
//! A recorded batch, as [`Batch`] reads it and as `subnetkit plugin score --batch` and
//! `subnetkit plugin check` read it (plugins bundle one as `samples/batch.json`):
//!
//! | field | meaning |
//! | --- | --- |
//! | `task.public`, `task.private` | the task's two parts, as JSON values |
//! | `task.settles_after_ms` | `null` or absent for immediate settlement, else the delay in milliseconds |
//! | `responses[]` | `uid`, `hotkey`, `body` (a JSON value, `null` or absent when there was none), `outcome` (`"ok"`, `"timeout"`, `"transport_error"`, `"invalid"`), `latency_ms` |
//! | `truth` | optional: the settlement truth, as a JSON value |
//!
//! Unknown fields are refused. A body that is not JSON cannot be recorded in this format; test
//! one with [`response`] and raw bytes.

use serde::{Deserialize, Serialize};

use crate::{Mechanism, Outcome, Task, abi, wire};

/// The `manifest` export, natively.
pub fn manifest<M: Mechanism>() -> wire::PluginManifest {
    abi::manifest::<M>()
}

/// The `make-task` export, natively.
pub fn make_task<M: Mechanism>(context: &wire::Context) -> Result<wire::Task, String> {
    abi::make_task::<M>(context.clone())
}

/// Decodes a task's JSON parts as the `score` export does.
pub fn decode_task<M: Mechanism>(task: &wire::Task) -> Result<Task<M::Task, M::Private>, String> {
    abi::decode_task::<M>(task)
}

/// The `score` export, natively.
pub fn score<M: Mechanism>(
    task: &wire::Task,
    responses: &[wire::Response],
    truth: Option<&[u8]>,
) -> Result<wire::Scores, String> {
    abi::score::<M>(task.clone(), responses.to_vec(), truth.map(<[u8]>::to_vec))
}

/// A context with this seed, block 0, time 0 and no feeds.
pub fn context(seed: u64) -> wire::Context {
    wire::Context { seed, block: 0, unix_ms: 0, feeds: Vec::new() }
}

/// A response that ended well, with `body` encoded as JSON and an empty hotkey.
pub fn ok_response(uid: u16, body: &impl Serialize, latency_ms: u32) -> wire::Response {
    let body = serde_json::to_vec(body).expect("a test body serialises to JSON");
    response(uid, Outcome::Ok, Some(&body), latency_ms)
}

/// A response with any outcome and raw body bytes, and an empty hotkey.
pub fn response(uid: u16, outcome: Outcome, body: Option<&[u8]>, latency_ms: u32) -> wire::Response {
    wire::Response {
        uid,
        hotkey: String::new(),
        body: body.map(<[u8]>::to_vec),
        outcome: wire_outcome(outcome),
        latency_ms,
    }
}

fn wire_outcome(outcome: Outcome) -> wire::Outcome {
    match outcome {
        Outcome::Ok => wire::Outcome::Ok,
        Outcome::Timeout => wire::Outcome::Timeout,
        Outcome::TransportError => wire::Outcome::TransportError,
        Outcome::Invalid => wire::Outcome::Invalid,
    }
}

/// A recorded batch: a task, the miners' responses and, for delayed settlement, the truth. The
/// module documentation describes the file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    /// The task.
    pub task: BatchTask,
    /// The responses, in the order they are scored.
    pub responses: Vec<BatchResponse>,
    /// The settlement truth, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truth: Option<serde_json::Value>,
}

/// The task of a [`Batch`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchTask {
    /// The public part.
    pub public: serde_json::Value,
    /// The private part.
    pub private: serde_json::Value,
    /// `None` for immediate settlement, else the delay in milliseconds.
    #[serde(default)]
    pub settles_after_ms: Option<u64>,
}

/// One response of a [`Batch`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchResponse {
    /// Miner uid.
    pub uid: u16,
    /// Miner hotkey.
    pub hotkey: String,
    /// The body, as a JSON value; `None` when there was none.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// How the query ended.
    pub outcome: Outcome,
    /// Latency in milliseconds.
    pub latency_ms: u32,
}

impl Batch {
    /// Reads a batch file. Errors name the offending field.
    pub fn from_json(json: &str) -> Result<Batch, String> {
        abi::decode(json.as_bytes()).map_err(|e| format!("invalid batch: {e}"))
    }

    /// The task as the ABI carries it.
    pub fn wire_task(&self) -> wire::Task {
        wire::Task {
            public: self.task.public.to_string().into_bytes(),
            private: self.task.private.to_string().into_bytes(),
            settlement: match self.task.settles_after_ms {
                None => wire::Settlement::Immediate,
                Some(ms) => wire::Settlement::Delayed(ms),
            },
        }
    }

    /// The responses as the ABI carries them.
    pub fn wire_responses(&self) -> Vec<wire::Response> {
        self.responses
            .iter()
            .map(|r| wire::Response {
                uid: r.uid,
                hotkey: r.hotkey.clone(),
                body: r.body.as_ref().map(|v| v.to_string().into_bytes()),
                outcome: wire_outcome(r.outcome),
                latency_ms: r.latency_ms,
            })
            .collect()
    }

    /// The truth as the ABI carries it.
    pub fn wire_truth(&self) -> Option<Vec<u8>> {
        self.truth.as_ref().map(|t| t.to_string().into_bytes())
    }
}

/// Scores a recorded batch with the `score` export, natively.
pub fn score_batch<M: Mechanism>(batch: &Batch) -> Result<wire::Scores, String> {
    abi::score::<M>(batch.wire_task(), batch.wire_responses(), batch.wire_truth())
}
