//! A mechanism written with `sdk-guest` that panics on request, so the host's tests see what a
//! real plugin's panic looks like: `make-task` panics for seeds of 1000 and more, indexing out of
//! bounds with the seed; `score`
//! panics with a message far longer than the host reports.

use schemars::JsonSchema;
use sdk_guest::{Context, Manifest, Mechanism, NoTruth, Response, Scores, Task};
use serde::{Deserialize, Serialize};

/// Panics on request.
pub struct Panicky;

/// The task: the seed it was made from.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Seeded {
    seed: u64,
}

impl Mechanism for Panicky {
    type Task = Seeded;
    type Private = Seeded;
    type Response = Seeded;
    type Truth = NoTruth;

    fn manifest() -> Manifest {
        Manifest::new("panicky", "0.0.0", "Panics on request.")
    }

    fn make_task(ctx: &Context) -> Result<Task<Seeded, Seeded>, String> {
        if ctx.seed >= 1000 {
            let picks: Vec<u64> = vec![1, 2, 3];
            // Out of bounds: the standard library's own panic message.
            let pick = picks[ctx.seed as usize];
            return Ok(Task::immediate(Seeded { seed: pick }, Seeded { seed: pick }));
        }
        Ok(Task::immediate(Seeded { seed: ctx.seed }, Seeded { seed: ctx.seed }))
    }

    fn score(_: &Task<Seeded, Seeded>, responses: &[Response<Seeded>], _: Option<&NoTruth>) -> Result<Scores, String> {
        panic!("{} responses: {}", responses.len(), "é".repeat(100_000));
    }
}

sdk_guest::export_mechanism!(Panicky);
