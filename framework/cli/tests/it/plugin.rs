//! `subnetkit plugin …` on real plugins built from source by `test-plugins`, and on the template.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use serde_json::Value;

use crate::{EXIT_BAD_INPUT, TempFile, run};

/// A plugin cache shared by the tests of this binary, under cargo's scratch directory.
fn cache_dir() -> String {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-cache").to_string_lossy().into_owned()
}

/// Runs `subnetkit plugin ARGS… --cache-dir …`, expecting success, and parses its JSON output.
#[track_caller]
fn plugin_json(args: &[&str]) -> Value {
    let cache = cache_dir();
    let mut all = vec!["plugin"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--cache-dir", &cache]);
    let out = run(&all);
    out.assert_code(0);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", out.stdout))
}

/// Runs `subnetkit plugin ARGS… --cache-dir …`, expecting exit 2 and one `error:` line that
/// mentions `mention`.
#[track_caller]
fn assert_refused(args: &[&str], mention: &str) {
    let cache = cache_dir();
    let mut all = args.to_vec();
    all.extend_from_slice(&["--cache-dir", &cache]);
    assert_refused_as_is(&all, mention);
}

/// Runs `subnetkit plugin ARGS…`, expecting exit 2 and one `error:` line that mentions `mention`.
#[track_caller]
fn assert_refused_as_is(args: &[&str], mention: &str) {
    let mut all = vec!["plugin"];
    all.extend_from_slice(args);
    let out = run(&all);
    out.assert_code(EXIT_BAD_INPUT);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {:?}", out.stderr);
    assert!(lines[0].starts_with("error: ") && lines[0].contains(mention), "{:?}", lines[0]);
}

fn good_batch() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-plugins/guests/good/samples/batch.json")
}

#[test]
fn task_depends_only_on_the_seed() {
    let a = plugin_json(&["task", test_plugins::GOOD, "--seed", "7"]);
    let b = plugin_json(&["task", test_plugins::GOOD, "--seed", "7"]);
    let c = plugin_json(&["task", test_plugins::GOOD, "--seed", "8"]);
    assert_eq!(a, b);
    assert_ne!(a["public"], c["public"]);
    let (x, y) = (a["public"]["a"].as_u64().unwrap(), a["public"]["b"].as_u64().unwrap());
    assert_eq!(a["private"]["sum"].as_u64(), Some(x + y), "the private part holds the answer: {a}");
    assert_eq!(a["settles_after_ms"], Value::Null);
}

#[test]
fn score_a_recorded_batch() {
    let batch = good_batch();
    let out = plugin_json(&["score", test_plugins::GOOD, "--batch", batch.to_str().unwrap()]);
    let scores: Vec<f64> = out["scores"].as_array().unwrap().iter().map(|s| s.as_f64().unwrap()).collect();
    // Two exact answers (the faster one full marks), a wrong sum, a string, a timeout, an error.
    assert_eq!(scores, [1.0, 0.9, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(out["diagnostics"], "2 of 6 exact");
}

#[test]
fn check_prints_manifest_schemas_and_tasks() {
    let out = plugin_json(&["check", test_plugins::GOOD]);
    assert_eq!(out["manifest"]["name"], "good");
    assert_eq!(out["identity"]["abi_version"], "0.1.0");
    assert_eq!(out["identity"]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(out["manifest"]["schemas"]["task"]["type"], "object");
    assert_eq!(out["tasks"].as_array().map(Vec::len), Some(3));
}

#[test]
fn bad_files_are_refused_with_one_line() {
    let garbage = TempFile::with_bytes("garbage", b"not wasm at all");
    assert_refused(&["check", garbage.path.to_str().unwrap()], "cannot load the plugin");
    assert_refused(&["task", "/nonexistent/plugin.wasm", "--seed", "1"], "/nonexistent/plugin.wasm");
    let bad_batch =
        TempFile::with_bytes("batch", br#"{"task": {"public": 1, "private": 2}, "responses": [{"uid": "x"}]}"#);
    assert_refused(&["score", test_plugins::GOOD, "--batch", bad_batch.path.to_str().unwrap()], "invalid batch");
}

#[test]
fn a_new_plugin_builds_tests_and_checks_as_generated() {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-template-smoke");
    let dir = scratch.join("smoke-subnet");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&scratch).unwrap();
    let out = run(&["plugin", "new", "smoke-subnet", "--dir", dir.to_str().unwrap()]);
    out.assert_code(0);
    assert_refused_as_is(&["new", "smoke-subnet", "--dir", dir.to_str().unwrap()], "not empty");
    assert_refused_as_is(&["new", "Not_A_Name"], "invalid plugin name");

    // Builds share one target dir across runs, so only the first is slow.
    let target = scratch.join("target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Process::new(&cargo)
        .args(["test", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the generated plugin's own tests pass");

    let built = crate::subnetkit()
        .args(["plugin", "build", dir.to_str().unwrap()])
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("subnetkit runs");
    assert!(built.status.success(), "plugin build: {}", String::from_utf8_lossy(&built.stderr));
    let stdout = String::from_utf8(built.stdout).unwrap();
    let mut lines = stdout.lines();
    let artifact = lines.next().expect("the artifact's path");
    assert!(lines.next().is_some_and(|l| l.starts_with("sha256 ") && l.len() == 7 + 64), "{stdout}");

    let out = plugin_json(&["check", artifact]);
    assert_eq!(out["manifest"]["name"], "smoke-subnet");
    let scores: Vec<f64> =
        out["sample_batch"]["scores"].as_array().unwrap().iter().map(|s| s.as_f64().unwrap()).collect();
    assert_eq!(scores, [1.0, 0.9, 0.0, 0.0], "the bundled sample batch is scored");
}

/// A reader that goes away (`subnetkit plugin task … | head -c0`) ends the output quietly: the
/// command succeeds and nothing panics.
#[test]
fn output_into_a_closed_pipe_is_not_a_panic() {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let cache = cache_dir();
    let out = Process::new(crate::subnetkit().get_program())
        .args(["plugin", "task", test_plugins::GOOD, "--seed", "7", "--cache-dir", &cache])
        .stdout(writer)
        .output()
        .expect("subnetkit starts");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
