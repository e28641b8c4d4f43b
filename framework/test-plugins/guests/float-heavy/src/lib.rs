//! `float-heavy`: a float-heavy scorer, for the deterministic-float benchmark.
//!
//! Same tasks as `rouge-l` (a hidden ~1 KB reference passage), but each ok response scores the
//! cosine similarity of signed, hashed bag-of-words vectors ([`DIMS`] dimensions, square-root
//! term weights; [`sdk_guest::metrics::hashed_features`]), clamped to `[0, 1]`. The work is
//! mostly f64 arithmetic and `sqrt`, which IEEE 754 rounds the same everywhere: the wasm plugin
//! and a native build give bit-identical scores.

use sdk_guest::{Context, Manifest, Mechanism, NoTruth, Response, Scores, Task, metrics, score, text};

/// The mechanism.
pub struct FloatHeavy;

/// Dimensions of the hashed vectors.
pub const DIMS: usize = 1024;

#[path = "../../text_task.rs"]
mod text_task;

pub use text_task::{Passage, Prompt, Reference, passage};

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
        text_task::make_task(ctx)
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
