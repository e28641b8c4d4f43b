//! `good`: a small, well-behaved mechanism, the reference test plugin.
//!
//! Each task asks for the sum of two numbers drawn from the seed. An exact answer scores at least
//! 0.9; the remaining 0.1 goes by latency among the exact answers (the fastest gets 1.0, the
//! slowest 0.9, ties share). Anything else scores 0.
//!
//! `samples/batch.json` is a recorded batch for `subnetkit plugin check`.

use schemars::JsonSchema;
use sdk_guest::{Context, Defaults, Manifest, Mechanism, NoTruth, Response, Scores, Task, rank};
use serde::{Deserialize, Serialize};

/// The mechanism.
pub struct Good;

/// The question sent to miners: what is `a + b`?
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// First addend.
    pub a: u32,
    /// Second addend.
    pub b: u32,
}

/// A sum: the miner's answer, and the expected answer kept by the validator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sum {
    /// `a + b`.
    pub sum: u64,
}

/// Share of the score that goes by latency.
const SPEED_SHARE: f64 = 0.1;

impl Mechanism for Good {
    type Task = Question;
    type Private = Sum;
    type Response = Sum;
    type Truth = NoTruth;

    fn manifest() -> Manifest {
        Manifest::new(
            "good",
            env!("CARGO_PKG_VERSION"),
            "Miners add two numbers drawn from the seed; exact answers score, faster ones a little more.",
        )
        .with_defaults(Defaults { query_timeout_ms: 2_000, sample_size: 16, ..Defaults::default() })
    }

    fn make_task(ctx: &Context) -> Result<Task<Question, Sum>, String> {
        let mut rng = ctx.rng();
        let a = rng.range_u64(0..1_000_000) as u32;
        let b = rng.range_u64(0..1_000_000) as u32;
        Ok(Task::immediate(Question { a, b }, Sum { sum: u64::from(a) + u64::from(b) }))
    }

    fn score(task: &Task<Question, Sum>, responses: &[Response<Sum>], _: Option<&NoTruth>) -> Result<Scores, String> {
        let exact: Vec<usize> = (0..responses.len()).filter(|&i| responses[i].ok() == Some(&task.private)).collect();
        let latencies: Vec<f64> = exact.iter().map(|&i| f64::from(responses[i].latency_ms)).collect();
        let mut values = vec![0.0; responses.len()];
        for (&i, slowness) in exact.iter().zip(rank::percentile_ranks(&latencies)) {
            values[i] = 1.0 - SPEED_SHARE * slowness;
        }
        Ok(Scores::new(values).with_diagnostics(format!("{} of {} exact", exact.len(), responses.len())))
    }
}

sdk_guest::export_mechanism!(Good);

#[cfg(test)]
mod tests;
