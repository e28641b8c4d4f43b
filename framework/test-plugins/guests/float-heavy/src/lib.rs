//! `float-heavy`: a float-heavy scorer, for the deterministic-float benchmark.
//!
//! Same tasks as `rouge-l` (a hidden ~1 KB reference passage), but each ok response scores the
//! cosine similarity of signed, hashed bag-of-words vectors ([`DIMS`] dimensions, square-root
//! term weights; [`sdk_guest::metrics::hashed_features`]), clamped to `[0, 1]`. The work is
//! mostly f64 arithmetic and `sqrt`, which IEEE 754 rounds the same everywhere: the wasm plugin
//! and a native build give bit-identical scores.

use schemars::JsonSchema;
use sdk_guest::{Context, Manifest, Mechanism, NoTruth, Response, Scores, Task, metrics, score, text};
use serde::{Deserialize, Serialize};

/// The mechanism.
pub struct FloatHeavy;

/// Dimensions of the hashed vectors.
pub const DIMS: usize = 1024;

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

// The word list and passage generator are the same as `rouge-l`'s (a guest cannot link another
// guest: both would export the world's functions).
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

impl Mechanism for FloatHeavy {
    type Task = Prompt;
    type Private = Reference;
    type Response = Passage;
    type Truth = NoTruth;

    fn manifest() -> Manifest {
        Manifest::new(
            "float-heavy",
            env!("CARGO_PKG_VERSION"),
            "Miners write a passage; each scores the hashed bag-of-words cosine against a hidden reference.",
        )
    }

    fn make_task(ctx: &Context) -> Result<Task<Prompt, Reference>, String> {
        let mut rng = ctx.rng();
        let topic = [WORDS[rng.index(WORDS.len())], WORDS[rng.index(WORDS.len())]].join(" and ");
        let reference = passage(&mut rng, 1024);
        Ok(Task::immediate(Prompt { prompt: format!("Write about {topic}.") }, Reference { reference }))
    }

    fn score(
        task: &Task<Prompt, Reference>,
        responses: &[Response<Passage>],
        _: Option<&NoTruth>,
    ) -> Result<Scores, String> {
        let reference = metrics::hashed_features(text::words(&text::normalize(&task.private.reference)), DIMS);
        let values = responses
            .iter()
            .map(|r| {
                r.ok().map_or(0.0, |p| {
                    let v = metrics::hashed_features(text::words(&text::normalize(&p.text)), DIMS);
                    score::clamp(metrics::cosine(&reference, &v))
                })
            })
            .collect();
        Ok(Scores::new(values))
    }
}

sdk_guest::export_mechanism!(FloatHeavy);

#[cfg(test)]
mod tests {
    use sdk_guest::{Outcome, testing};

    use super::*;

    #[test]
    fn scores_are_cosines() {
        let task = testing::make_task::<FloatHeavy>(&testing::context(4)).unwrap();
        let reference = testing::decode_task::<FloatHeavy>(&task).unwrap().private.reference;
        let mut rng = sdk_guest::rng::Rng::from_seed(99);
        let responses = [
            testing::ok_response(0, &Passage { text: reference.to_uppercase() }, 1),
            testing::ok_response(1, &Passage { text: passage(&mut rng, 1024) }, 1),
            testing::ok_response(2, &Passage { text: "!!!".into() }, 1),
            testing::response(3, Outcome::TransportError, None, 1),
        ];
        let scores = testing::score::<FloatHeavy>(&task, &responses, None).unwrap().values;
        assert!((scores[0] - 1.0).abs() < 1e-12, "{scores:?}");
        assert!(scores[1] > 0.0 && scores[1] < 0.9, "{scores:?}");
        assert_eq!(&scores[2..], [0.0, 0.0]);
    }
}
