//! `rouge-l`: a realistic text scorer, for the "1,000 responses of ~1 KB" benchmark.
//!
//! A task asks for a passage on a topic; the validator keeps a reference passage (about 1 KB,
//! drawn from the seed) in the private part. Each ok response scores the ROUGE-L F1 of its text
//! against the reference ([`sdk_guest::metrics::RougeL`], over [`sdk_guest::text`] tokens);
//! anything else scores 0.
//!
//! The crate is also an `rlib`, so [`RougeL`] runs natively through
//! `sdk_guest::testing::score` for the native-vs-wasm comparison.

use schemars::JsonSchema;
use sdk_guest::{Context, Manifest, Mechanism, NoTruth, Response, Scores, Task, metrics, text};
use serde::{Deserialize, Serialize};

/// The mechanism.
pub struct RougeL;

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

impl Mechanism for RougeL {
    type Task = Prompt;
    type Private = Reference;
    type Response = Passage;
    type Truth = NoTruth;

    fn manifest() -> Manifest {
        Manifest::new(
            "rouge-l",
            env!("CARGO_PKG_VERSION"),
            "Miners write a passage; each scores its ROUGE-L F1 against a hidden reference passage.",
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
        let reference = text::normalize(&task.private.reference);
        let rouge = metrics::RougeL::new(text::words(&reference));
        let values = responses
            .iter()
            .map(|r| r.ok().map_or(0.0, |p| rouge.f1(text::words(&text::normalize(&p.text)))))
            .collect();
        Ok(Scores::new(values))
    }
}

sdk_guest::export_mechanism!(RougeL);

#[cfg(test)]
mod tests {
    use sdk_guest::{Outcome, testing};

    use super::*;

    #[test]
    fn reference_is_about_a_kilobyte() {
        let task =
            testing::decode_task::<RougeL>(&testing::make_task::<RougeL>(&testing::context(9)).unwrap()).unwrap();
        let len = task.private.reference.len();
        assert!((1024..1200).contains(&len), "{len}");
        assert!(task.public.prompt.starts_with("Write about "));
    }

    #[test]
    fn scores_are_rouge_l_f1() {
        let task = testing::make_task::<RougeL>(&testing::context(4)).unwrap();
        let reference = testing::decode_task::<RougeL>(&task).unwrap().private.reference;
        let half: String = reference.split(' ').step_by(2).collect::<Vec<_>>().join(" ");
        let responses = [
            testing::ok_response(0, &Passage { text: reference.to_uppercase() }, 1),
            testing::ok_response(1, &Passage { text: half.clone() }, 1),
            testing::ok_response(2, &Passage { text: String::new() }, 1),
            testing::response(3, Outcome::Timeout, None, 1),
        ];
        let scores = testing::score::<RougeL>(&task, &responses, None).unwrap().values;
        assert_eq!(scores[0], 1.0);
        let (m, n) = (text::tokenize(&reference).len() as f64, text::tokenize(&half).len() as f64);
        assert_eq!(scores[1], 2.0 * n / (m + n), "every kept word is in order");
        assert_eq!(&scores[2..], [0.0, 0.0]);
    }
}
