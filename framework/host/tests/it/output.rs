//! Answers that break the contract, and plugin errors, which are answers too.

use host::{BadOutput, Call, Context, HostError};

use crate::support::{attack, batch, good_still_scores, host, hostile, timed};

#[track_caller]
fn bad_score(name: &str) -> BadOutput {
    match hostile().score(&attack(name), &batch(5), None) {
        Err(HostError::BadOutput { call: Call::Score, problem }) => problem,
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn non_finite_scores_are_refused() {
    assert!(matches!(bad_score("nan"), BadOutput::NotFinite { index: 4, value } if value.is_nan()));
    assert_eq!(bad_score("infinite"), BadOutput::NotFinite { index: 0, value: f64::INFINITY });
    good_still_scores(host());
}

#[test]
fn scores_outside_the_unit_interval_are_refused() {
    assert_eq!(bad_score("negative"), BadOutput::OutOfRange { index: 0, value: -0.25 });
    assert_eq!(bad_score("above-one"), BadOutput::OutOfRange { index: 0, value: 1.5 });
    assert_eq!(bad_score("above-one").to_string(), "score 0 is 1.5, outside [0, 1]");
    good_still_scores(host());
}

#[test]
fn score_count_must_match_the_batch() {
    assert_eq!(bad_score("too-many"), BadOutput::ScoreCount { expected: 5, got: 6 });
    assert_eq!(bad_score("too-few"), BadOutput::ScoreCount { expected: 5, got: 4 });
    good_still_scores(host());
}

#[test]
fn huge_task_is_refused_before_it_is_copied() {
    let (result, took) = timed(|| hostile().make_task(&Context { seed: 6, ..Default::default() }));
    match result {
        Err(HostError::BadOutput { call: Call::MakeTask, problem }) => {
            assert_eq!(problem, BadOutput::TooLarge { what: "task", bytes: 100_000_000 + 4, limit: 16 << 20 })
        }
        other => panic!("{other:?}"),
    }
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    good_still_scores(host());
}

#[test]
fn task_parts_must_be_json() {
    let err = hostile().make_task(&Context { seed: 8, ..Default::default() }).unwrap_err();
    assert!(
        matches!(&err, HostError::BadOutput { problem: BadOutput::InvalidJson { what: "task public part", .. }, .. }),
        "{err:?}"
    );
}

#[test]
fn large_diagnostics_are_truncated() {
    let scores = hostile().score(&attack("diagnostics-1mib"), &batch(3), None).unwrap().unwrap();
    assert_eq!(scores.values, [0.5; 3]);
    assert_eq!(scores.diagnostics.len(), 64 << 10);
    assert!(scores.diagnostics.ends_with(" [truncated: 1048576 bytes in all]"), "{}", &scores.diagnostics[65000..]);
}

#[test]
fn diagnostics_over_the_output_limit_are_refused() {
    assert_eq!(
        bad_score("diagnostics-32mib"),
        BadOutput::TooLarge { what: "scores", bytes: 5 * 8 + (32 << 20), limit: 16 << 20 }
    );
    good_still_scores(host());
}

#[test]
fn diagnostics_growing_without_bound_hit_the_memory_limit() {
    let err = hostile().score(&attack("diagnostics-unbounded"), &batch(2), None).unwrap_err();
    assert!(matches!(err, HostError::OutOfMemory { call: Call::Score, .. }), "{err:?}");
    good_still_scores(host());
}

#[test]
fn plugin_errors_are_answers_not_faults() {
    let answer = hostile().make_task(&Context { seed: 7, ..Default::default() }).unwrap();
    assert_eq!(answer, Err("declined seed 7".to_string()));
    // A 1 MiB error message is truncated like diagnostics.
    let answer = hostile().score(&attack("error"), &batch(2), None).unwrap();
    let message = answer.unwrap_err();
    assert!(message.starts_with("declined: eee"), "{}", &message[..20]);
    assert_eq!(message.len(), 64 << 10);
}

#[test]
fn empty_batch_scores_to_nothing() {
    let scores = hostile().score(&attack("none"), &[], None).unwrap().unwrap();
    assert!(scores.values.is_empty());
    assert!(scores.fuel_used > 0);
}
