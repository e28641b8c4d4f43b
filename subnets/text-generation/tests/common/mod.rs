//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use sdk_guest::testing;
use sdk_guest::wire;
use text_generation::data::{Dataset, InstructRow, MathRow};
use text_generation::{Prompt, Reference, TaskKind, TextGeneration};

/// A task on the wire from its two parts.
pub fn wire_task(public: &Prompt, private: &Reference) -> wire::Task {
    wire::Task {
        public: serde_json::to_vec(public).unwrap(),
        private: serde_json::to_vec(private).unwrap(),
        settlement: wire::Settlement::Immediate,
    }
}

/// The task the plugin makes for `seed`, decoded.
pub fn task(seed: u64) -> (wire::Task, Prompt, Reference) {
    let task = testing::make_task::<TextGeneration>(&testing::context(seed)).unwrap();
    let decoded = testing::decode_task::<TextGeneration>(&task).unwrap();
    (task, decoded.public, decoded.private)
}

/// The first seed from `from` whose task has `scoring`.
pub fn seed_with(scoring: text_generation::Scoring, from: u64) -> u64 {
    (from..).find(|&s| task(s).2.scoring == scoring).unwrap()
}

/// A similarity task built from Self-Instruct row `index`, with decoys as the plugin picks them
/// for some seed (taken from the seed's task if it is this row, else four fixed other rows).
pub fn instruct_task(index: usize) -> (wire::Task, Prompt, Reference) {
    let row: InstructRow = Dataset::SelfInstruct.row(index).unwrap();
    let n = Dataset::SelfInstruct.len();
    let decoys =
        (1..=4).map(|k| Dataset::SelfInstruct.row::<InstructRow>((index + 97 * k) % n).unwrap().reference).collect();
    let scoring = if row.is_label() {
        text_generation::Scoring::ExactLabel
    } else {
        text_generation::Scoring::ReferenceSimilarity
    };
    let public = Prompt { prompt: row.prompt(), kind: TaskKind::Instruction, max_completion_bytes: 16_384 };
    let private =
        Reference { id: row.id.clone(), scoring, reference: row.reference.clone(), input: row.input.clone(), decoys };
    (wire_task(&public, &private), public, private)
}

/// A maths task built from GSM8K row `index`.
pub fn math_task(index: usize) -> (wire::Task, Prompt, Reference) {
    let row: MathRow = Dataset::Gsm8k.row(index).unwrap();
    let public = Prompt { prompt: row.prompt.clone(), kind: TaskKind::Math, max_completion_bytes: 16_384 };
    let private = Reference {
        id: row.id,
        scoring: text_generation::Scoring::ExactFinalNumber,
        reference: row.answer,
        input: String::new(),
        decoys: Vec::new(),
    };
    (wire_task(&public, &private), public, private)
}

/// Response `uid` with `completion`, latency `100 + uid`.
pub fn completion(uid: u16, text: &str) -> wire::Response {
    testing::ok_response(uid, &serde_json::json!({ "completion": text }), 100 + u32::from(uid))
}

/// Scores of `texts` (one miner each, uids 0..) on `task`.
pub fn scores(task: &wire::Task, texts: &[&str]) -> Vec<f64> {
    let responses: Vec<wire::Response> = texts.iter().enumerate().map(|(i, t)| completion(i as u16, t)).collect();
    testing::score::<TextGeneration>(task, &responses, None).unwrap().values
}

/// Score of `text` alone on `task`.
pub fn alone(task: &wire::Task, text: &str) -> f64 {
    scores(task, &[text])[0]
}

/// `text` with every `k`-th word (from the `k`-th) replaced by `filler`.
pub fn replace_every(text: &str, k: usize, filler: &str) -> String {
    text.split_whitespace()
        .enumerate()
        .map(|(i, w)| if (i + 1) % k == 0 { filler } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first `share` of `text`'s words.
pub fn head(text: &str, share: f64) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let n = ((words.len() as f64 * share).ceil() as usize).max(1);
    words[..n.min(words.len())].join(" ")
}
