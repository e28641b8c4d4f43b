//! Host benchmarks: per-call overhead, cached load, fresh instance, and realistic scorers end to end
//! against the same code compiled natively.
//!
//! Run with `cargo bench -p host`. Plugins come from `test-plugins` (built from source); the native
//! side is `test_plugins::native`, the very crates the plugins are built from, run through the
//! SDK's harness (decode the JSON bodies, score), so both sides share the exact scoring code.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use host::{Context, Host, HostConfig, Outcome, Plugin, Pooling, Response, Settlement, Task};
use test_plugins::native::{FloatHeavy, RougeL, testing, wire};

fn plugin_path(name: &str) -> &'static str {
    test_plugins::path(name).unwrap_or_else(|| panic!("no test plugin `{name}`"))
}

fn host() -> Host {
    host_with(None)
}

fn host_with(pooling: Option<Pooling>) -> Host {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/tmp/host-bench-artifacts");
    Host::new(HostConfig { pooling, ..HostConfig::new(dir) }).expect("host")
}

fn overhead(c: &mut Criterion) {
    let host = host();
    let path = plugin_path("good");
    let plugin = host.load(path).expect("load");
    let task = plugin.make_task(&Context { seed: 9, ..Default::default() }).unwrap().unwrap();
    let one = [Response { uid: 0, hotkey: "5H".into(), body: None, outcome: Outcome::Timeout, latency_ms: 1 }];
    let hostile = host.load(plugin_path("hostile")).expect("load");
    let none = Task { public: b"{}".to_vec(), private: br#""none""#.to_vec(), settlement: Settlement::Immediate };

    let mut g = c.benchmark_group("host");
    g.bench_function("fresh instance (good)", |b| b.iter(|| plugin.try_instantiate().unwrap()));
    let pooled = host_with(Some(Pooling::default())).load(path).expect("load");
    g.bench_function("fresh instance (good, pooling)", |b| b.iter(|| pooled.try_instantiate().unwrap()));
    g.bench_function("trivial call (hostile: instance + score of 1 response, raw wit-bindgen)", |b| {
        b.iter(|| black_box(hostile.score(&none, &one, None).unwrap().unwrap()))
    });
    g.bench_function("score 1 response (good, sdk-guest)", |b| {
        b.iter(|| black_box(plugin.score(&task, &one, None).unwrap().unwrap()))
    });
    g.bench_function("make-task (good)", |b| {
        b.iter(|| black_box(plugin.make_task(&Context { seed: 9, ..Default::default() }).unwrap().unwrap()))
    });
    g.bench_function("cached load (good: read, sha256, checks, deserialize_file, InstancePre, instance)", |b| {
        b.iter(|| black_box(host.load(path).unwrap()))
    });
    let wasm = std::fs::read(path).unwrap();
    g.bench_function("cached load from bytes (good)", |b| b.iter(|| black_box(host.load_bytes(&wasm).unwrap())));
    // Hot swap as a validator does it between rounds: load the new version from the artifact
    // cache, then replace the shared handle that the next round's calls read.
    let current = std::sync::RwLock::new(host.load(path).expect("load"));
    g.bench_function("hot swap (cached load + replace the shared plugin)", |b| {
        b.iter(|| {
            let next = host.load(path).unwrap();
            black_box(std::mem::replace(&mut *current.write().unwrap(), next))
        })
    });
    g.finish();
}

/// 1,000 responses of about 1 KB for `plugin`'s task with `seed`, for the host and for the native
/// harness (the same bytes).
fn text_batch(plugin: &Plugin, seed: u64) -> (Task, Vec<Response>, wire::Task, Vec<wire::Response>) {
    let task = plugin.make_task(&Context { seed, ..Default::default() }).unwrap().unwrap();
    let private: serde_json::Value = serde_json::from_slice(&task.private).unwrap();
    let reference = private["reference"].as_str().expect("a text task keeps its reference");
    let bodies = test_plugins::bench::text_bodies(reference, 1000, 1024, seed);
    let responses = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| Response {
            uid: i as u16,
            hotkey: format!("5Miner{i}"),
            body: Some(body.clone()),
            outcome: Outcome::Ok,
            latency_ms: 100,
        })
        .collect::<Vec<_>>();
    let wire_task = wire::Task {
        public: task.public.clone(),
        private: task.private.clone(),
        settlement: wire::Settlement::Immediate,
    };
    let wire_responses = responses
        .iter()
        .map(|r: &Response| wire::Response {
            uid: r.uid,
            hotkey: r.hotkey.clone(),
            body: r.body.clone(),
            outcome: wire::Outcome::Ok,
            latency_ms: r.latency_ms,
        })
        .collect();
    (task, responses, wire_task, wire_responses)
}

fn scorers(c: &mut Criterion) {
    let host = host();
    for (name, native) in [
        ("rouge-l", testing::score::<RougeL> as fn(&wire::Task, &[wire::Response], Option<&[u8]>) -> _),
        ("float-heavy", testing::score::<FloatHeavy>),
    ] {
        let plugin = host.load(plugin_path(name)).expect("load");
        let (task, responses, wire_task, wire_responses) = text_batch(&plugin, 1);
        let wasm = plugin.score(&task, &responses, None).unwrap().unwrap();
        let native_scores = native(&wire_task, &wire_responses, None).unwrap();
        let same = wasm.values.iter().zip(&native_scores.values).filter(|(a, b)| a.to_bits() == b.to_bits()).count();
        eprintln!("{name}: fuel {} per batch; {same} of 1000 scores bit-identical to native", wasm.fuel_used);

        let mut g = c.benchmark_group(format!("{name} 1000x1KB"));
        let hostile = host.load(plugin_path("hostile")).expect("load");
        let none = Task { public: b"{}".to_vec(), private: br#""none""#.to_vec(), settlement: Settlement::Immediate };
        g.bench_function("boundary only (hostile: instance, lower 1 MB, guest lift, 1000 scores back)", |b| {
            b.iter(|| black_box(hostile.score(&none, &responses, None).unwrap().unwrap()))
        });
        g.measurement_time(Duration::from_secs(8));
        g.bench_function("plugin end to end (instance, boundary, decode, score, host checks)", |b| {
            b.iter(|| black_box(plugin.score(&task, &responses, None).unwrap().unwrap()))
        });
        let pooled = host_with(Some(Pooling::default())).load(plugin_path(name)).expect("load");
        g.bench_function("plugin end to end, pooling allocator", |b| {
            b.iter(|| black_box(pooled.score(&task, &responses, None).unwrap().unwrap()))
        });
        g.bench_function("native (decode, score)", |b| {
            b.iter(|| black_box(native(&wire_task, &wire_responses, None).unwrap()))
        });
        g.finish();
    }
}

criterion_group!(benches, overhead, scorers);
criterion_main!(benches);
