//! Every parameter of the reward formula, in one place. `README.md` explains how each is used.

/// Probability that a task is a GSM8K maths problem rather than a Self-Instruct instruction.
pub const MATH_SHARE: f64 = 0.4;
/// How many other Self-Instruct references a similarity task carries as decoys (answers to other
/// tasks, the "stale answer" baseline).
pub const DECOYS: usize = 4;
/// Longest accepted completion, in bytes of UTF-8; longer bodies are invalid (score 0).
pub const MAX_COMPLETION_BYTES: usize = 16_384;

/// Weight of ROUGE-L F1 in the lexical quality (the rest is token F1).
pub const ROUGE_WEIGHT: f64 = 0.5;
/// The similarity baseline (best quality of the prompt, the task input and the decoys) is capped
/// here, so that a reference close to its prompt still leaves room to earn.
pub const BASELINE_CAP: f64 = 0.9;
/// Weight of the host-supplied embedding similarity in the quality of a similarity task, when the
/// validator supplies one for the response.
pub const EMBEDDING_WEIGHT: f64 = 0.5;

/// Most credit a wrong but close maths answer earns.
pub const CLOSE_CREDIT: f64 = 0.25;
/// Relative error at which a maths answer stops earning partial credit.
pub const CLOSE_TOLERANCE: f64 = 0.1;

/// Length in tokens of the copied runs that count as echo.
pub const ECHO_NGRAM: usize = 4;
/// Share of a completion that may be copied from the prompt without penalty.
pub const ECHO_FREE: f64 = 0.5;
/// Extra echo allowed above what the reference itself copies from the prompt.
pub const ECHO_MARGIN: f64 = 0.2;

/// Length budget (tokens) of a maths solution.
pub const MATH_LENGTH_BUDGET: usize = 512;
/// Length budget (tokens) of a classification answer.
pub const LABEL_LENGTH_BUDGET: usize = 64;
/// Smallest length budget (tokens) of a similarity answer.
pub const SIMILARITY_LENGTH_FLOOR: usize = 64;
/// A similarity answer's budget, as a multiple of the reference length.
pub const SIMILARITY_LENGTH_RATIO: usize = 3;

/// Completions shorter than this (tokens) are never treated as duplicates: independent miners
/// agree on short answers (`18`, `yes`) by being right.
pub const DEDUP_MIN_TOKENS: usize = 8;
/// Length in tokens of the shingles compared for near-duplicates.
pub const SHINGLE: usize = 3;
/// Shingle Jaccard similarity at or above which two completions are near-duplicates.
pub const NEAR_DUP_SHINGLES: f64 = 0.6;
/// Weighted Jaccard similarity of the token multisets (shared tokens over tokens of either) at or
/// above which two completions are near-duplicates (catches reordered copies).
pub const NEAR_DUP_WORDS: f64 = 0.8;
/// Size of the bottom-k sketches the near-duplicate similarities are estimated from (exact for
/// completions of at most this many distinct tokens or shingles).
pub const SKETCH: usize = 256;
/// Within a duplicate cluster ordered by latency, each member weighs this much of the one before;
/// the cluster's credit is split in proportion (1 would split it evenly).
pub const DEDUP_DECAY: f64 = 0.5;
