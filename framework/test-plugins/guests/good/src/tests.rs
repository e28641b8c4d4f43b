use sdk_guest::testing::{self, Batch};
use sdk_guest::{Outcome, testing::ok_response};

use super::*;

#[test]
fn tasks_come_from_the_seed() {
    let a = testing::decode_task::<Good>(&testing::make_task::<Good>(&testing::context(1)).unwrap()).unwrap();
    let b = testing::decode_task::<Good>(&testing::make_task::<Good>(&testing::context(1)).unwrap()).unwrap();
    let c = testing::decode_task::<Good>(&testing::make_task::<Good>(&testing::context(2)).unwrap()).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.public, c.public);
    assert_eq!(a.private.sum, u64::from(a.public.a) + u64::from(a.public.b));
}

#[test]
fn exact_answers_win_and_speed_breaks_ties() {
    let task = testing::make_task::<Good>(&testing::context(3)).unwrap();
    let sum = testing::decode_task::<Good>(&task).unwrap().private.sum;
    let responses = [
        ok_response(0, &Sum { sum }, 300),
        ok_response(1, &Sum { sum: sum + 1 }, 10),
        ok_response(2, &Sum { sum }, 100),
        testing::response(3, Outcome::Timeout, None, 2_000),
        ok_response(4, &Sum { sum }, 200),
        testing::response(5, Outcome::Ok, Some(br#"{"sum": "lots"}"#), 10),
    ];
    let scores = testing::score::<Good>(&task, &responses, None).unwrap();
    assert_eq!(scores.values, [0.9, 0.0, 1.0, 0.0, 0.95, 0.0]);
    assert_eq!(scores.diagnostics, "3 of 6 exact");
}

#[test]
fn the_sample_batch_scores() {
    let batch = Batch::from_json(include_str!("../samples/batch.json")).unwrap();
    let scores = testing::score_batch::<Good>(&batch).unwrap();
    assert_eq!(scores.values, [1.0, 0.9, 0.0, 0.0, 0.0, 0.0]);
    // The sample's task is the one the plugin makes for seed 1.
    let made = testing::make_task::<Good>(&testing::context(1)).unwrap();
    assert_eq!((batch.wire_task().public, batch.wire_task().private), (made.public, made.private));
}

#[test]
fn manifest_names_the_plugin() {
    let m = testing::manifest::<Good>();
    assert_eq!(m.name, "good");
    assert_eq!(m.defaults.query_timeout_ms, 2_000);
    assert!(m.truth_schema.is_none());
}
