//! Determinism: tasks depend only on the seed, scores are byte-identical across runs, orders and
//! builds (the recorded sample scores are what the wasm plugin must print too).

mod common;

use common::*;
use sdk_guest::testing::{self, Batch};
use text_generation::{Prompt, Scoring, TextGeneration};

const SAMPLE: &str = include_str!("../samples/batch.json");
const EXPECTED: &str = include_str!("../samples/expected_scores.json");

fn sample() -> Batch {
    Batch::from_json(SAMPLE).unwrap()
}

/// The recorded scores and diagnostics of the sample batch.
fn expected() -> (Vec<f64>, String) {
    let v: serde_json::Value = serde_json::from_str(EXPECTED).unwrap();
    let scores = v["scores"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    (scores, v["diagnostics"].as_str().unwrap().to_owned())
}

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn sample_batch_scores_as_recorded() {
    let got = testing::score_batch::<TextGeneration>(&sample()).unwrap();
    let (scores, diagnostics) = expected();
    assert_eq!(bits(&got.values), bits(&scores));
    assert_eq!(got.diagnostics, diagnostics);
}

#[test]
fn sample_batch_shows_the_whole_range() {
    let batch = sample();
    let got = testing::score_batch::<TextGeneration>(&batch).unwrap().values;
    let by_uid = |uid: u16| got[batch.responses.iter().position(|r| r.uid == uid).unwrap()];
    // 0 good, 1 the reference, 2 mediocre, 3 partial, 4 vague, 5 copy of 0, 6 near copy of 0,
    // 7 prompt echo, 8 stale, 9 random, 10 padded, 11 empty, 12-14 no valid body.
    assert_eq!(by_uid(1), 1.0);
    assert!(by_uid(0) > by_uid(2) && by_uid(2) > by_uid(3) && by_uid(3) > by_uid(4), "{got:?}");
    assert!(by_uid(0) > by_uid(5) && by_uid(5) > by_uid(6), "copies share, in latency order: {got:?}");
    for uid in 7..=14 {
        assert_eq!(by_uid(uid), 0.0, "uid {uid}: {got:?}");
    }
}

#[test]
fn scores_are_byte_identical_across_runs() {
    let batch = sample();
    let first = testing::score_batch::<TextGeneration>(&batch).unwrap();
    for _ in 0..5 {
        let again = testing::score_batch::<TextGeneration>(&batch).unwrap();
        assert_eq!(bits(&again.values), bits(&first.values));
        assert_eq!(again.diagnostics, first.diagnostics);
    }
}

#[test]
fn scores_do_not_depend_on_response_order() {
    let batch = sample();
    let forward = testing::score_batch::<TextGeneration>(&batch).unwrap().values;
    let mut reversed = batch.clone();
    reversed.responses.reverse();
    let mut backward = testing::score_batch::<TextGeneration>(&reversed).unwrap().values;
    backward.reverse();
    assert_eq!(bits(&forward), bits(&backward));
}

#[test]
fn tasks_depend_only_on_the_seed() {
    let mut kinds = [0usize; 3];
    for seed in 0..300 {
        let a = testing::make_task::<TextGeneration>(&testing::context(seed)).unwrap();
        let b = testing::make_task::<TextGeneration>(&testing::context(seed)).unwrap();
        assert_eq!((&a.public, &a.private), (&b.public, &b.private));
        let (_, _, private) = task(seed);
        kinds[private.scoring as usize] += 1;
        // The public part carries the prompt only: no reference, no decoys.
        let json: serde_json::Value = serde_json::from_slice(&a.public).unwrap();
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["kind", "max_completion_bytes", "prompt"]);
        if private.scoring == Scoring::ReferenceSimilarity {
            assert_eq!(private.decoys.len(), text_generation::params::DECOYS);
            assert!(!private.decoys.contains(&private.reference));
        }
    }
    // Roughly 40 % maths, a few labels, the rest similarity.
    assert!((90..150).contains(&kinds[Scoring::ExactFinalNumber as usize]), "{kinds:?}");
    assert!(kinds[Scoring::ExactLabel as usize] > 0, "{kinds:?}");
    let a: Prompt =
        serde_json::from_slice(&testing::make_task::<TextGeneration>(&testing::context(1)).unwrap().public).unwrap();
    let b: Prompt =
        serde_json::from_slice(&testing::make_task::<TextGeneration>(&testing::context(2)).unwrap().public).unwrap();
    assert_ne!(a, b);
}

#[test]
fn the_sample_task_is_the_one_the_plugin_makes() {
    // The sample batch's task is exactly what make_task returns for seed 151.
    let made = testing::make_task::<TextGeneration>(&testing::context(151)).unwrap();
    let batch = sample();
    let public: serde_json::Value = serde_json::from_slice(&made.public).unwrap();
    let private: serde_json::Value = serde_json::from_slice(&made.private).unwrap();
    assert_eq!((public, private), (batch.task.public, batch.task.private));
}
