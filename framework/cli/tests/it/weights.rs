//! `subnetkit weights preview`: scores to the u16 weights the Python SDK would set; unusable
//! input exits 2 with one `error:` line naming the file and field.

use serde_json::{Value, json};

use crate::bad_input::assert_one_error;
use crate::{Outcome, TempFile, run, run_with_stdin};

/// Runs `weights preview` on `input` in a temp file; returns the outcome and the file's name.
fn preview(tag: &str, input: &[u8]) -> (Outcome, String) {
    let file = TempFile::with_bytes(tag, input);
    let name = file.path.file_name().unwrap().to_string_lossy().into_owned();
    (run(&["weights", "preview", file.path.to_str().unwrap()]), name)
}

/// Asserts success and returns the printed JSON.
#[track_caller]
fn printed(out: &Outcome) -> Value {
    out.assert_code(0);
    assert_eq!(out.stdout.lines().count(), 1, "one line on stdout: {:?}", out.stdout);
    serde_json::from_str(&out.stdout).expect("stdout is JSON")
}

fn bytes(value: Value) -> Vec<u8> {
    serde_json::to_vec(&value).unwrap()
}

#[test]
fn golden_scores_from_a_file() {
    let (out, _) = preview("golden", &bytes(json!({ "uids": [0, 1, 2, 3, 4], "scores": [0.5, 0.3, 0.1, 0.05, 0.05] })));
    assert_eq!(printed(&out), json!({ "uids": [0, 1, 2, 3, 4], "weights": [65535, 39321, 13107, 6554, 6554] }));
}

#[test]
fn zero_scores_are_dropped_from_stdin() {
    let input = bytes(json!({ "uids": [0, 1, 2, 3], "scores": [0, 0.25, 0.5, 0.25] }));
    let out = run_with_stdin(&["weights", "preview", "-"], input);
    assert_eq!(printed(&out), json!({ "uids": [1, 2, 3], "weights": [32768, 65535, 32768] }));
}

#[test]
fn ties_round_to_even() {
    let (out, _) = preview("ties", &bytes(json!({ "uids": [9, 8, 7, 6, 5], "scores": [131070, 1, 3, 5, 7] })));
    assert_eq!(printed(&out), json!({ "uids": [9, 7, 6, 5], "weights": [65535, 2, 2, 4] }));
}

#[test]
fn max_weight_limit_clips() {
    let input = json!({ "uids": [0, 1, 2, 3, 4], "scores": [0.5, 0.3, 0.1, 0.05, 0.05], "max_weight_limit": 0.3 });
    let (out, _) = preview("limit", &bytes(input));
    assert_eq!(printed(&out), json!({ "uids": [0, 1, 2, 3, 4], "weights": [65535, 65535, 43690, 21845, 21845] }));
}

#[test]
fn mismatched_lengths() {
    let (out, name) = preview("lengths", &bytes(json!({ "uids": [0, 1, 2], "scores": [0.5, 0.5] })));
    assert_one_error(&out, &[&name, "uids", "scores", "3 vs 2"]);
}

#[test]
fn negative_score() {
    let (out, name) = preview("negative", &bytes(json!({ "uids": [0, 1], "scores": [0.5, -0.1] })));
    assert_one_error(&out, &[&name, "scores[1]", "non-negative"]);
}

#[test]
fn unknown_field() {
    let (out, name) = preview("unknown", &bytes(json!({ "uids": [0], "scores": [1.0], "max_weight": 0.5 })));
    assert_one_error(&out, &[&name, "max_weight", "unknown field"]);
}

#[test]
fn not_json() {
    let (out, name) = preview("not-json", b"uids = [0]\n");
    assert_one_error(&out, &[&name, "(file)"]);
}

#[test]
fn missing_field() {
    let (out, name) = preview("missing", &bytes(json!({ "uids": [0] })));
    assert_one_error(&out, &[&name, "missing field `scores`"]);
}

#[test]
fn uid_out_of_range() {
    let (out, name) = preview("big-uid", &bytes(json!({ "uids": [0, 65536], "scores": [1, 1] })));
    assert_one_error(&out, &[&name, "uids[1]", "u16"]);
}

#[test]
fn duplicate_uid() {
    let (out, name) = preview("duplicate", &bytes(json!({ "uids": [4, 5, 4], "scores": [1, 1, 1] })));
    assert_one_error(&out, &[&name, "uids[2]", "uid 4"]);
}

#[test]
fn all_zero_scores() {
    let (out, name) = preview("zero", &bytes(json!({ "uids": [0, 1], "scores": [0, 0] })));
    assert_one_error(&out, &[&name, "scores", "all weights are zero"]);
}

#[test]
fn limit_out_of_range() {
    let (out, name) = preview("limit-range", &bytes(json!({ "uids": [0], "scores": [1], "max_weight_limit": 65535 })));
    assert_one_error(&out, &[&name, "max_weight_limit", "[0, 1]"]);
}
