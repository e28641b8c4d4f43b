//! Yuma epoch, side by side with the chain's algorithm on the same inputs.
//!
//! The peer is `tests/it/reference.rs`: the epoch written the way subtensor's `epoch_mechanism`
//! is (sparse rows plus dense per-row accumulators, a dense liquid-alpha matrix, a partition median
//! over every voter for every column), which the tests check against the same vectors. Both
//! produce identical bits; the benchmark asserts it before timing.
//!
//! Run with `cargo bench -p yuma --bench epoch`; figures go to `docs/BENCHMARKS.md`.

use std::path::PathBuf;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use yuma::{EpochInput, Options, VectorFile, Workspace};

#[path = "../tests/it/reference.rs"]
#[allow(dead_code, unreachable_pub, unused_imports)]
mod reference;

/// The first epoch of a bundled vector file.
fn vector_input(name: &str) -> EpochInput {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let file = VectorFile::from_json(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file.epochs.into_iter().next().expect("at least one epoch").input
}

fn bench_case(c: &mut Criterion, label: &str, file: &str, peer_samples: usize) {
    let input = vector_input(file);
    let mut workspace = Workspace::default();
    let ours = workspace.epoch(&input, &Options::default()).expect("valid input");
    let peer = reference::epoch_with(&input, false);
    assert!(ours.first_mismatch(&peer).is_none(), "{label}: the two implementations disagree");

    let mut group = c.benchmark_group(format!("epoch/{label}"));
    let valid = input.validate().expect("valid input");
    group.bench_function(BenchmarkId::new("subnetkit", input.n()), |b| {
        b.iter(|| workspace.run(std::hint::black_box(valid), &Options::default()))
    });
    group.sample_size(peer_samples).measurement_time(Duration::from_secs(20));
    group.bench_function(BenchmarkId::new("chain-algorithm", input.n()), |b| {
        b.iter(|| reference::epoch_with(std::hint::black_box(&input), false))
    });
    group.finish();
}

fn epochs(c: &mut Criterion) {
    bench_case(c, "yuma3-n4096-64-validators", "20-large-n4096-64-validators.json", 50);
    bench_case(c, "yuma3-liquid-alpha-n1024", "19-random-yuma3-liquid-alpha-n1024.json", 10);
}

criterion_group!(benches, epochs);
criterion_main!(benches);
