//! Host benchmarks: per-call overhead, cached load, fresh instance, and scoring end to end.
//!
//! Run with `cargo bench -p host`. Plugins come from `test-plugins` (built from source).

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use host::{Context, Host, HostConfig, Outcome, Response, Settlement, Task};

fn plugin_path(name: &str) -> &'static str {
    test_plugins::path(name).unwrap_or_else(|| panic!("no test plugin `{name}`"))
}

fn host() -> Host {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/tmp/host-bench-artifacts");
    Host::new(HostConfig::new(dir)).expect("host")
}

fn overhead(c: &mut Criterion) {
    let host = host();
    let path = plugin_path("hostile");
    let plugin = host.load(path).expect("load");
    let task = Task { public: b"{}".to_vec(), private: br#""none""#.to_vec(), settlement: Settlement::Immediate };
    let one = [Response { uid: 0, hotkey: "5H".into(), body: None, outcome: Outcome::Timeout, latency_ms: 1 }];

    let mut g = c.benchmark_group("host");
    g.bench_function("fresh instance", |b| b.iter(|| plugin.try_instantiate().unwrap()));
    g.bench_function("trivial call (instance + score of 1 response)", |b| {
        b.iter(|| black_box(plugin.score(&task, &one, None).unwrap().unwrap()))
    });
    g.bench_function("make-task", |b| {
        b.iter(|| black_box(plugin.make_task(&Context { seed: 9, ..Default::default() }).unwrap().unwrap()))
    });
    g.bench_function("cached load (read, checks, deserialize_file, InstancePre, instance)", |b| {
        b.iter(|| black_box(host.load(path).unwrap()))
    });
    let wasm = std::fs::read(path).unwrap();
    g.bench_function("cached load from bytes", |b| b.iter(|| black_box(host.load_bytes(&wasm).unwrap())));
    g.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
