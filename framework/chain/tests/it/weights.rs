//! `clip_to_max_weight`, `normalize` and `scores_to_weights` against the Python SDK's own
//! functions, run in one Python process (`tests/interop/weights.py`) on generated cases: random,
//! with zeros, small integers (equal weights), exact rounding ties, tiny and huge scales, one
//! dominant weight, all-zero and invalid input, and limits on and around the edges.
//!
//! `u16` values and uids must be identical; clipped floats bit-identical (within 1e-12 relative
//! when the interpreter is CPython 3.12+, whose `sum()` is compensated). Where we return an error
//! the SDK must refuse too, and the other way round. The generator avoids the inputs where we
//! deliberately differ (negative scores under a limit that forces uniform weights).

use std::io::Write;
use std::process::{Command, Stdio};

use chain::{Uid, Weights, WeightsError};
use serde_json::{Value, json};

use crate::python;

/// The fixed seed of the case generator.
const SEED: u64 = 0x5eed_f00d_3e16_4755;
/// Cases per operation.
const CASES_PER_OP: usize = 150;

/// SplitMix64: small, deterministic, good enough to spread cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// Non-negative finite weights of length `n`, of a random kind.
fn weights(rng: &mut Rng, n: usize) -> Vec<f64> {
    match rng.below(7) {
        0 => (0..n).map(|_| rng.unit()).collect(),
        1 => (0..n).map(|_| if rng.chance(0.4) { 0.0 } else { rng.unit() }).collect(),
        // Small integers: equal weights and zeros.
        2 => (0..n).map(|_| rng.below(5) as f64).collect(),
        // Exact ties: w / 131070 * 65535 is k + 0.5 for odd w.
        3 => {
            let mut w: Vec<f64> = (0..n).map(|i| if i == 0 { 131_070.0 } else { rng.below(40) as f64 }).collect();
            rng.shuffle(&mut w);
            w
        }
        4 => {
            let scale = 10f64.powi(rng.below(16) as i32 - 9);
            (0..n).map(|_| rng.unit() * scale).collect()
        }
        // One dominant weight, the rest tiny.
        5 => {
            let mut w: Vec<f64> = (0..n).map(|i| if i == 0 { 1.0 } else { rng.unit() * 1e-4 }).collect();
            rng.shuffle(&mut w);
            w
        }
        _ => (0..n).map(|_| 0.5 + rng.below(3) as f64 * 0.25).collect(),
    }
}

fn length(rng: &mut Rng) -> usize {
    if rng.chance(0.03) { 0 } else { 1 + rng.below(24) }
}

/// A max-weight limit as a fraction, with the edges over-represented.
fn limit(rng: &mut Rng, n: usize) -> f64 {
    match rng.below(8) {
        0 => 0.0,
        1 => 1.0,
        2 => [0.1, 0.25, 0.3, 1.0 / 3.0, 0.5][rng.below(5)],
        3 if n > 0 => 1.0 / n as f64,
        4 => rng.below(65536) as f64 / 65535.0,
        _ => rng.unit(),
    }
}

/// `n` distinct uids in random order.
fn distinct_uids(rng: &mut Rng, n: usize) -> Vec<Uid> {
    let mut pool: Vec<Uid> = (0..4096).collect();
    rng.shuffle(&mut pool);
    pool.truncate(n);
    pool
}

/// One case: what goes to Python, and our answer.
struct Case {
    request: Value,
    ours: Result<Answer, WeightsError>,
}

#[derive(Debug)]
enum Answer {
    Floats(Vec<f64>),
    Weights(Weights),
}

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

fn clip_case(rng: &mut Rng) -> Case {
    let n = length(rng);
    let w = if rng.chance(0.05) { vec![0.0; n] } else { weights(rng, n) };
    let total: f64 = w.iter().sum();
    let max_share = w.iter().copied().fold(0.0, f64::max) / total;
    let uniform = 1.0 / n as f64;
    let limit = if total > 0.0 && max_share > uniform && rng.chance(0.5) {
        // Feasible and below the largest share: the clipping branch.
        uniform + rng.unit() * (max_share - uniform)
    } else {
        limit(rng, n)
    };
    Case {
        request: json!({ "op": "clip", "weights": bits(&w), "limit": limit.to_bits() }),
        ours: chain::clip_to_max_weight(&w, limit).map(Answer::Floats),
    }
}

fn normalize_case(rng: &mut Rng) -> Case {
    let n = length(rng);
    let mut w = if rng.chance(0.05) { vec![0.0; n] } else { weights(rng, n) };
    // Any u16, duplicates allowed: normalize does not care.
    let mut uids: Vec<Uid> = (0..n).map(|_| rng.next() as Uid).collect();
    match rng.below(20) {
        0 => uids.push(7),
        1 if n > 0 => {
            let i = rng.below(n);
            w[i] = -w[i] - 1e-3;
        }
        _ => {}
    }
    Case {
        request: json!({ "op": "normalize", "uids": uids, "weights": bits(&w) }),
        ours: chain::normalize(&uids, &w).map(Answer::Weights),
    }
}

fn set_case(rng: &mut Rng) -> Case {
    let n = length(rng);
    let mut w = if rng.chance(0.05) { vec![0.0; n] } else { weights(rng, n) };
    let mut uids = distinct_uids(rng, n);
    let mut max_weight_limit: u16 = match rng.below(4) {
        0 => u16::MAX,
        1 => [0, 6553, 16384, 19660, 32767, 65534][rng.below(6)],
        _ => rng.next() as u16,
    };
    match rng.below(20) {
        0 if n > 1 => uids[n - 1] = uids[0],
        1 => uids.push(4096),
        // Negative scores only without clipping: under a limit the SDK may return uniform weights.
        2 if n > 0 => {
            let i = rng.below(n);
            w[i] = -1.0;
            max_weight_limit = u16::MAX;
        }
        _ => {}
    }
    let limit = f64::from(max_weight_limit) / 65535.0;
    Case {
        request: json!({ "op": "set", "uids": uids, "weights": bits(&w), "max_weight_limit": max_weight_limit }),
        ours: chain::scores_to_weights(&uids, &w, limit).map(Answer::Weights),
    }
}

/// Runs `tests/interop/weights.py` on `cases` in one process and returns its parsed summary.
fn run_python(cases: &[Case]) -> Value {
    let python = python::find_python().unwrap_or_else(|message| panic!("{message}"));
    let script = python::interop_dir().join("weights.py");
    let input = serde_json::to_vec(&json!({ "cases": cases.iter().map(|c| &c.request).collect::<Vec<_>>() }))
        .expect("cases serialise");
    let mut child = Command::new(&python)
        .arg(&script)
        // No __pycache__ left in the source tree.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {}: {error}", python.display()));
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // Write on a thread of its own so a child that answers early never deadlocks us.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().expect("the Python process runs");
    writer.join().expect("the writer does not panic").expect("the cases are written to Python");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "weights.py exited with {}\nstderr:\n{stderr}", output.status);
    serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("weights.py printed no JSON ({error}):\n{stdout}"))
}

fn u64s(value: &Value) -> Vec<u64> {
    value.as_array().expect("an array").iter().map(|v| v.as_u64().expect("an unsigned integer")).collect()
}

/// Why our answer differs from the SDK's `result`, if it does.
fn difference(ours: &Result<Answer, WeightsError>, result: &Value, exact_floats: bool) -> Option<String> {
    let sdk_ok = result["ok"].as_bool().expect("ok is a boolean");
    match (ours, sdk_ok) {
        (Err(_), false) => None,
        (Err(error), true) => Some(format!("we refused ({error}), the SDK returned {result}")),
        (Ok(answer), false) => Some(format!("we returned {answer:?}, the SDK refused: {}", result["error"])),
        (Ok(Answer::Floats(ours)), true) => {
            let sdk: Vec<f64> = u64s(&result["floats"]).into_iter().map(f64::from_bits).collect();
            let same = ours.len() == sdk.len()
                && ours.iter().zip(&sdk).all(|(a, b)| {
                    a.to_bits() == b.to_bits() || (!exact_floats && (a - b).abs() <= 1e-12 * a.abs().max(b.abs()))
                });
            (!same).then(|| format!("clipped {ours:?}, the SDK {sdk:?}"))
        }
        (Ok(Answer::Weights(ours)), true) => {
            let uids = u64s(&result["uids"]);
            let values = u64s(&result["values"]);
            let same = ours.uids.iter().map(|&u| u64::from(u)).eq(uids.iter().copied())
                && ours.values.iter().map(|&v| u64::from(v)).eq(values.iter().copied());
            (!same).then(|| format!("we set {ours:?}, the SDK uids {uids:?} values {values:?}"))
        }
    }
}

#[test]
fn weight_conversion_matches_the_python_sdk() {
    let mut rng = Rng(SEED);
    let mut cases = Vec::new();
    for _ in 0..CASES_PER_OP {
        cases.push(clip_case(&mut rng));
        cases.push(normalize_case(&mut rng));
        cases.push(set_case(&mut rng));
    }
    let summary = run_python(&cases);
    assert_eq!(summary["bittensor"], "11.3.0", "the SDK version the conversion is pinned to");
    let python = u64s(&summary["python"]);
    // CPython 3.12 made `sum()` of floats compensated; before it, ours and the SDK's agree to the bit.
    let exact_floats = python[..] < [3, 12][..];
    let results = summary["results"].as_array().expect("results is an array");
    assert_eq!(results.len(), cases.len(), "one result per case");

    let mut differences = Vec::new();
    for (case, result) in cases.iter().zip(results) {
        if let Some(why) = difference(&case.ours, result, exact_floats) {
            differences.push(format!("{}: {why}", case.request));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} cases differ from the SDK (Python {python:?}); first ones:\n{}",
        differences.len(),
        cases.len(),
        differences.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );

    // The cases exercised what they are meant to: successes and refusals, the clipping branch,
    // and exact rounding ties.
    let ok = cases.iter().filter(|c| c.ours.is_ok()).count();
    assert!(ok >= cases.len() * 3 / 4 && ok < cases.len(), "{ok} of {} cases succeeded", cases.len());
    let clipped = cases
        .iter()
        .filter(|c| c.request["op"] == "clip")
        .filter(|c| {
            let w: Vec<f64> = u64s(&c.request["weights"]).into_iter().map(f64::from_bits).collect();
            let limit = f64::from_bits(c.request["limit"].as_u64().expect("limit bits"));
            let total: f64 = w.iter().sum();
            let max = w.iter().copied().fold(0.0, f64::max);
            total > 0.0 && w.len() as f64 * limit > 1.0 && max / total > limit
        })
        .count();
    assert!(clipped >= 30, "only {clipped} clip cases take the clipping branch");
    let ties = cases
        .iter()
        .filter(|c| c.request["op"] != "clip" && c.ours.is_ok())
        .filter(|c| {
            let w: Vec<f64> = u64s(&c.request["weights"]).into_iter().map(f64::from_bits).collect();
            let top = w.iter().copied().fold(0.0, f64::max);
            w.iter().any(|&x| (x / top * 65535.0).fract() == 0.5)
        })
        .count();
    assert!(ties >= 10, "only {ties} cases have an exact rounding tie");
}
