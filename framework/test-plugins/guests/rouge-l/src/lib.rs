//! `rouge-l`: a realistic text scorer, for the "1,000 responses of ~1 KB" benchmark.
//!
//! A task asks for a passage on a topic; the validator keeps a reference passage (about 1 KB,
//! drawn from the seed) in the private part. Each ok response scores the ROUGE-L F1 of its text
//! against the reference ([`sdk_guest::metrics::RougeL`], over [`sdk_guest::text`] tokens);
//! anything else scores 0.
//!
//! The crate is also an `rlib`, so [`RougeL`] runs natively through
//! `sdk_guest::testing::score` for the native-vs-wasm comparison.

use sdk_guest::{Context, Manifest, Mechanism, NoTruth, Response, Scores, Task, metrics, text};

/// The mechanism.
pub struct RougeL;

#[path = "../../text_task.rs"]
mod text_task;

pub use text_task::{Passage, Prompt, Reference, passage};

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
        text_task::make_task(ctx)
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
