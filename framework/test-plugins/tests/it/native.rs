//! The benchmark guests' mechanisms, natively, through the SDK's harness.

use test_plugins::native::{FloatHeavy, Good, RougeL, testing, wire};

fn text_batch<M: sdk_guest::Mechanism>(seed: u64, n: usize) -> (wire::Task, Vec<wire::Response>) {
    let task = testing::make_task::<M>(&testing::context(seed)).unwrap();
    let reference: serde_json::Value = serde_json::from_slice(&task.private).unwrap();
    let bodies = test_plugins::bench::text_bodies(reference["reference"].as_str().unwrap(), n, 1024, seed);
    let responses = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| testing::response(i as u16, sdk_guest::Outcome::Ok, Some(b), 100))
        .collect();
    (task, responses)
}

#[test]
fn bench_bodies_are_about_a_kilobyte_and_score_in_between() {
    let (task, responses) = text_batch::<RougeL>(1, 50);
    for r in &responses {
        let len = r.body.as_ref().unwrap().len();
        assert!((1024..1100).contains(&len), "{len}");
    }
    for scores in [
        testing::score::<RougeL>(&task, &responses, None).unwrap().values,
        testing::score::<FloatHeavy>(&task, &responses, None).unwrap().values,
    ] {
        assert_eq!(scores.len(), 50);
        assert!(scores.iter().all(|&s| s > 0.3 && s < 1.0), "{scores:?}");
    }
    // Deterministic: the same seed gives the same batch.
    assert_eq!(text_batch::<RougeL>(1, 3).1[2].body, responses[2].body);
}

#[test]
fn the_good_sample_batch_scores() {
    let batch = testing::Batch::from_json(include_str!("../../guests/good/samples/batch.json")).unwrap();
    let scores = testing::score_batch::<Good>(&batch).unwrap();
    assert_eq!(scores.values, [1.0, 0.9, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(scores.diagnostics, "2 of 6 exact");
}
