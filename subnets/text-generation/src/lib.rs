//! `text-generation`: a reference incentive mechanism for text-generation subnets, in the spirit
//! of Bittensor's SN1.
//!
//! Each round the validator sends miners one prompt drawn by the round's seed from the bundled
//! data: a GSM8K maths word problem (scored by its exact final number) or a Self-Instruct
//! instruction (scored by ROUGE-L and token F1 against the reference output, or by exact label for
//! its classification tasks). The reference stays in the task's private part. A completion's
//! score is
//!
//! ```text
//! score = correctness × echo_factor × length_factor × duplicate_share
//! ```
//!
//! where similarity correctness only counts what a trivial answer (the prompt itself, the task
//! input, or a real answer to another task) does not already reach; `README.md` gives every term
//! and parameter ([`params`]), and the attacks each one answers. A validator may add an
//! embedding similarity it computed itself by passing [`HostSignals`] as the batch's truth; it is
//! recorded with the batch, so replays stay exact.
//!
//! Everything is deterministic: the same task and responses give the same bytes natively and in
//! the wasm plugin.

pub mod answer;
pub mod data;
pub mod params;
pub mod scoring;
pub mod similarity;

use schemars::JsonSchema;
use sdk_guest::{Context, Defaults, Manifest, Mechanism, Response, Scores, Task};
use serde::{Deserialize, Serialize};

use crate::data::{Dataset, InstructRow, MathRow};
use crate::params::{DECOYS, MATH_SHARE, MAX_COMPLETION_BYTES};

/// The mechanism.
pub struct TextGeneration;

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

/// How a task's completions are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scoring {
    /// The final number of the completion must equal the reference (an integer).
    ExactFinalNumber,
    /// The completion (or its leading clause) must name the reference label.
    ExactLabel,
    /// ROUGE-L and token F1 against the reference, above the trivial-answer baseline.
    ReferenceSimilarity,
}

impl Scoring {
    /// The name used in JSON and diagnostics.
    pub fn as_str(self) -> &'static str {
        match self {
            Scoring::ExactFinalNumber => "exact_final_number",
            Scoring::ExactLabel => "exact_label",
            Scoring::ReferenceSimilarity => "reference_similarity",
        }
    }
}

/// The private part of a task, kept by the validator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    /// The dataset row, e.g. `gsm8k-test-0000`.
    pub id: String,
    /// How completions are checked.
    pub scoring: Scoring,
    /// The reference answer: an integer, a label, or a reference output.
    pub reference: String,
    /// The task's input (the part of the prompt after the instruction), empty if none: copying it
    /// is a trivial answer.
    #[serde(default)]
    pub input: String,
    /// Reference outputs of other tasks: what a stale or canned answer looks like. Similarity
    /// tasks only.
    #[serde(default)]
    pub decoys: Vec<String>,
}

/// A miner's response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Completion {
    /// The completion text, at most `max_completion_bytes` bytes.
    pub completion: String,
}

/// Optional signals the validator computed outside the plugin, passed as the batch's truth and
/// recorded with it: embedding cosine similarities to the reference.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostSignals {
    /// Cosine similarity, in `[-1, 1]`, of the embeddings of the reference and of the prompt: what
    /// echoing the prompt reaches, the baseline of the embedding term.
    pub prompt_cosine: f64,
    /// Per miner, the cosine similarity of the embeddings of the reference and of its completion.
    /// Responses without an entry are scored lexically only.
    pub cosines: Vec<UidCosine>,
}

/// One miner's embedding similarity.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UidCosine {
    /// The miner's uid.
    pub uid: u16,
    /// Cosine similarity in `[-1, 1]`.
    pub cosine: f64,
}

impl HostSignals {
    /// Refuses values outside `[-1, 1]` (or NaN) and repeated uids.
    pub fn validate(&self) -> Result<(), String> {
        let ok = |x: f64| (-1.0..=1.0).contains(&x);
        if !ok(self.prompt_cosine) {
            return Err(format!("host signals: prompt_cosine {} is not in [-1, 1]", self.prompt_cosine));
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.cosines {
            if !ok(c.cosine) {
                return Err(format!("host signals: cosine {} of uid {} is not in [-1, 1]", c.cosine, c.uid));
            }
            if !seen.insert(c.uid) {
                return Err(format!("host signals: uid {} appears twice", c.uid));
            }
        }
        Ok(())
    }

    /// The cosine of `uid` and the prompt baseline, if the validator supplied one for `uid`.
    pub fn cosine(&self, uid: u16) -> Option<(f64, f64)> {
        self.cosines.iter().find(|c| c.uid == uid).map(|c| (c.cosine, self.prompt_cosine))
    }
}

/// RNG stream for choosing the task.
const STREAM_TASK: u64 = 1;
/// RNG stream for choosing the decoys.
const STREAM_DECOYS: u64 = 2;

/// The task for `ctx`: a GSM8K problem with probability [`MATH_SHARE`], else a Self-Instruct task.
fn choose_task(ctx: &Context) -> Result<Task<Prompt, Reference>, String> {
    let mut rng = ctx.rng_stream(STREAM_TASK);
    let max_completion_bytes = MAX_COMPLETION_BYTES as u32;
    if rng.chance(MATH_SHARE) {
        let row: MathRow = Dataset::Gsm8k.row(rng.index(Dataset::Gsm8k.len()))?;
        let public = Prompt { prompt: row.prompt, kind: TaskKind::Math, max_completion_bytes };
        let private = Reference {
            id: row.id,
            scoring: Scoring::ExactFinalNumber,
            reference: row.answer,
            input: String::new(),
            decoys: Vec::new(),
        };
        return Ok(Task::immediate(public, private));
    }
    let rows = Dataset::SelfInstruct.len();
    // Rows whose reference has no letter or digit (one is only emoji) cannot be scored by
    // similarity: take the next row instead.
    let mut index = rng.index(rows);
    let mut row: InstructRow = Dataset::SelfInstruct.row(index)?;
    for _ in 0..rows {
        if row.reference.chars().any(char::is_alphanumeric) {
            break;
        }
        index = (index + 1) % rows;
        row = Dataset::SelfInstruct.row(index)?;
    }
    let scoring = if row.is_label() { Scoring::ExactLabel } else { Scoring::ReferenceSimilarity };
    let mut decoys = Vec::new();
    if scoring == Scoring::ReferenceSimilarity {
        let mut rng = ctx.rng_stream(STREAM_DECOYS);
        for other in rng.sample_indices(rows, DECOYS + 1).into_iter().filter(|&i| i != index).take(DECOYS) {
            decoys.push(Dataset::SelfInstruct.row::<InstructRow>(other)?.reference);
        }
    }
    let public = Prompt { prompt: row.prompt(), kind: TaskKind::Instruction, max_completion_bytes };
    let private = Reference { id: row.id, scoring, reference: row.reference, input: row.input, decoys };
    Ok(Task::immediate(public, private))
}

impl Mechanism for TextGeneration {
    type Task = Prompt;
    type Private = Reference;
    type Response = Completion;
    type Truth = HostSignals;

    fn manifest() -> Manifest {
        Manifest::new(
            "text-generation",
            env!("CARGO_PKG_VERSION"),
            "Miners complete prompts drawn from GSM8K and Self-Instruct. Maths scores the exact final \
             number; instructions score ROUGE-L and token F1 against a private reference above what \
             echoing the prompt or a stale answer reaches; echo, over-length and duplicated \
             completions lose credit.",
        )
        .with_defaults(Defaults {
            query_timeout_ms: 20_000,
            sample_size: 50,
            moving_average_alpha: 0.1,
            settlement_delay_ms: None,
        })
    }

    fn make_task(ctx: &Context) -> Result<Task<Prompt, Reference>, String> {
        choose_task(ctx)
    }

    fn score(
        task: &Task<Prompt, Reference>,
        responses: &[Response<Completion>],
        truth: Option<&HostSignals>,
    ) -> Result<Scores, String> {
        let (breakdowns, diagnostics) = scoring::score_batch(&task.public, &task.private, responses, truth)?;
        Ok(Scores::new(breakdowns.iter().map(|b| b.score).collect()).with_diagnostics(diagnostics))
    }

    fn check_response(task: &Task<Prompt, Reference>, response: &Completion) -> Result<(), String> {
        let limit = (task.public.max_completion_bytes as usize).min(MAX_COMPLETION_BYTES);
        if response.completion.len() > limit {
            return Err(format!("completion of {} bytes exceeds {limit}", response.completion.len()));
        }
        Ok(())
    }
}

sdk_guest::export_mechanism!(TextGeneration);
