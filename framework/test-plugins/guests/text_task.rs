//! The text task `rouge-l` and `float-heavy` share: a prompt on a topic drawn from the seed, and a
//! reference passage of about 1 KB, kept by the validator. Both guests include this file (a guest
//! cannot link another guest: both would export the world's functions).

use schemars::JsonSchema;
use sdk_guest::{Context, Task};
use serde::{Deserialize, Serialize};

/// What miners are asked to write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Prompt {
    /// The instruction.
    pub prompt: String,
}

/// The reference passage, kept by the validator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Reference {
    /// The passage responses are compared with.
    pub reference: String,
}

/// A miner's passage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Passage {
    /// The text.
    pub text: String,
}

/// Words the reference passages are made of.
const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "a",
    "to",
    "in",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "this",
    "are",
    "or",
    "from",
    "at",
    "which",
    "but",
    "have",
    "an",
    "they",
    "more",
    "one",
    "were",
    "all",
    "their",
    "can",
    "network",
    "validator",
    "miner",
    "subnet",
    "weight",
    "stake",
    "block",
    "chain",
    "reward",
    "score",
    "model",
    "answer",
    "question",
    "market",
    "price",
    "signal",
    "consensus",
    "bond",
    "emission",
    "token",
    "epoch",
    "trust",
    "rank",
    "incentive",
    "dividend",
    "query",
    "response",
    "latency",
    "quality",
    "honest",
    "dishonest",
    "copy",
    "original",
    "prediction",
    "summary",
    "image",
    "text",
    "language",
    "learning",
    "training",
    "inference",
    "compute",
    "memory",
    "storage",
    "bandwidth",
    "protocol",
    "cryptography",
    "signature",
    "hotkey",
    "coldkey",
    "register",
    "serve",
    "reward",
    "penalty",
    "threshold",
    "median",
    "average",
    "moving",
    "alpha",
    "decay",
    "sparse",
    "matrix",
    "vector",
    "column",
    "row",
    "normalise",
    "clip",
    "aggregate",
    "distributed",
    "open",
    "market",
    "owner",
    "template",
    "plugin",
    "sandbox",
    "deterministic",
    "fuel",
    "budget",
    "limit",
    "error",
];

/// Builds about `bytes` bytes of text: sentences of 6 to 17 words from [`WORDS`].
pub fn passage(rng: &mut sdk_guest::rng::Rng, bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + 32);
    while out.len() < bytes {
        let n = 6 + rng.index(12);
        for i in 0..n {
            let word = WORDS[rng.index(WORDS.len())];
            if i == 0 {
                if !out.is_empty() {
                    out.push(' ');
                }
                let mut chars = word.chars();
                out.extend(chars.next().map(|c| c.to_ascii_uppercase()));
                out.push_str(chars.as_str());
            } else {
                out.push(if rng.chance(0.08) { ',' } else { ' ' });
                if out.ends_with(',') {
                    out.push(' ');
                }
                out.push_str(word);
            }
        }
        out.push('.');
    }
    out
}

/// The task: write about two words drawn from the seed; the reference is a passage drawn after them.
pub(crate) fn make_task(ctx: &Context) -> Result<Task<Prompt, Reference>, String> {
    let mut rng = ctx.rng();
    let topic = [WORDS[rng.index(WORDS.len())], WORDS[rng.index(WORDS.len())]].join(" and ");
    let reference = passage(&mut rng, 1024);
    Ok(Task::immediate(Prompt { prompt: format!("Write about {topic}.") }, Reference { reference }))
}
