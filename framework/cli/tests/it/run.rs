//! `subnetkit yuma epoch` without `--check`: the outputs as JSON, from a file or stdin, and `--bench`.

use serde_json::Value;

use crate::{run, run_with_stdin, vector_json, vector_path};

/// Asserts that `printed` (the command's JSON) has, for every epoch, every field of the vector's
/// `expected` with an equal value; `matrices` is compared only when `with_matrices`.
#[track_caller]
fn assert_matches_expected(printed: &str, vector: &Value, with_matrices: bool) {
    let printed: Value = serde_json::from_str(printed).expect("stdout is one JSON document");
    assert_eq!(printed["name"], vector["name"]);
    let actual = printed["epochs"].as_array().expect("`epochs` is an array");
    let expected = vector["epochs"].as_array().unwrap();
    assert_eq!(actual.len(), expected.len(), "number of epochs");
    for (k, (actual, epoch)) in actual.iter().zip(expected).enumerate() {
        let expected = epoch["expected"].as_object().unwrap();
        for (field, value) in expected {
            if field == "matrices" && !with_matrices {
                continue;
            }
            assert_eq!(actual.get(field), Some(value), "epochs[{k}].{field}");
        }
        if !with_matrices {
            assert_eq!(actual.get("matrices"), None, "epochs[{k}]: matrices printed without --matrices");
        }
    }
}

#[test]
fn plain_run_prints_every_expected_field() {
    for name in ["01-single-validator.json", "15-stake-threshold-and-tao-weight.json"] {
        let path = vector_path(name);
        let out = run(&["yuma", "epoch", path.to_str().unwrap()]);
        out.assert_code(0);
        assert_matches_expected(&out.stdout, &vector_json(name), false);
    }
}

#[test]
fn matrices_flag_prints_the_intermediate_matrices() {
    let name = "08-bonds-accumulation-classic.json";
    let vector = vector_json(name);
    assert!(vector["epochs"][0]["expected"].get("matrices").is_some(), "{name} has expected matrices");
    let path = vector_path(name);
    let out = run(&["yuma", "epoch", "--matrices", path.to_str().unwrap()]);
    out.assert_code(0);
    assert_matches_expected(&out.stdout, &vector, true);
}

#[test]
fn dash_reads_standard_input() {
    let name = "13-single-neuron.json";
    let bytes = std::fs::read(vector_path(name)).unwrap();

    let out = run_with_stdin(&["yuma", "epoch", "-"], bytes.clone());
    out.assert_code(0);
    assert_matches_expected(&out.stdout, &vector_json(name), false);

    let out = run_with_stdin(&["yuma", "epoch", "--check", "-"], bytes);
    out.assert_code(0);
    assert!(out.stdout.starts_with("ok: 13-single-neuron: "), "stdout: {}", out.stdout);
}

#[test]
fn bench_ends_with_the_median() {
    let path = vector_path("01-single-validator.json");
    let out = run(&["yuma", "epoch", "--bench", "3", path.to_str().unwrap()]);
    out.assert_code(0);
    let last = out.stdout.lines().last().expect("bench prints something");
    let median = last.strip_prefix("median_us=").unwrap_or_else(|| panic!("last line: {last:?}"));
    let median: f64 = median.parse().unwrap_or_else(|e| panic!("median {median:?}: {e}"));
    assert!(median.is_finite() && median >= 0.0, "median {median}");
    // One line per epoch before the overall median.
    assert_eq!(out.stdout.lines().count(), 3 + 1, "stdout: {}", out.stdout);
}

#[test]
fn bench_zero_runs_is_rejected() {
    let path = vector_path("01-single-validator.json");
    let out = run(&["yuma", "epoch", "--bench", "0", path.to_str().unwrap()]);
    out.assert_code(2);
    assert!(out.stderr.starts_with("error: "), "stderr: {}", out.stderr);
}
