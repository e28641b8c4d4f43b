//! Shared fixtures: the host, the test plugins, batches, and the check that a good plugin still
//! scores correctly after a hostile one misbehaved in the same host.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use host::{Host, HostConfig, Outcome, Plugin, Response, Settlement, Task};

/// The artifact cache shared by every test process of this target directory.
pub(crate) fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("host-artifacts")
}

/// The default configuration, with the shared cache.
pub(crate) fn config() -> HostConfig {
    HostConfig::new(cache_dir())
}

/// One host per test process, with the default limits.
pub(crate) fn host() -> &'static Host {
    static HOST: OnceLock<Host> = OnceLock::new();
    HOST.get_or_init(|| Host::new(config()).expect("host"))
}

/// Path of a test plugin built from source by `test-plugins`.
pub(crate) fn plugin_path(name: &str) -> &'static str {
    test_plugins::path(name).unwrap_or_else(|| panic!("no test plugin `{name}`"))
}

/// The adversarial plugin, loaded once per process.
pub(crate) fn hostile() -> &'static Plugin {
    static PLUGIN: OnceLock<Plugin> = OnceLock::new();
    PLUGIN.get_or_init(|| host().load(plugin_path("hostile")).expect("load hostile"))
}

/// A task whose private part tells the hostile plugin's `score` how to misbehave.
pub(crate) fn attack(name: &str) -> Task {
    Task { public: b"{}".to_vec(), private: format!("\"{name}\"").into_bytes(), settlement: Settlement::Immediate }
}

/// `n` responses with small, distinct bodies.
pub(crate) fn batch(n: usize) -> Vec<Response> {
    (0..n)
        .map(|i| Response {
            uid: i as u16,
            hotkey: format!("5Hotkey{i:04}"),
            body: (i % 5 != 4).then(|| format!(r#"{{"answer":"response number {i}"}}"#).into_bytes()),
            outcome: if i % 5 == 4 { Outcome::Timeout } else { Outcome::Ok },
            latency_ms: 100 + i as u32,
        })
        .collect()
}

/// Runs `f` and returns its result with the wall time it took.
pub(crate) fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

/// The `good` plugin (miners add two numbers), loaded in `host`.
pub(crate) fn good(host: &Host) -> Plugin {
    host.load(plugin_path("good")).expect("load good")
}

/// After a plugin misbehaved: the same host still loads and serves a well-behaved plugin, which
/// scores a batch correctly; and the hostile plugin itself, in a fresh instance, behaves again.
#[track_caller]
pub(crate) fn good_still_scores(host: &Host) {
    let plugin = good(host);
    let task = plugin.make_task(&host::Context { seed: 42, block: 9, ..Default::default() }).unwrap().unwrap();
    let question: serde_json::Value = serde_json::from_slice(&task.public).unwrap();
    let sum = question["a"].as_u64().unwrap() + question["b"].as_u64().unwrap();
    assert_eq!(task.private, format!(r#"{{"sum":{sum}}}"#).into_bytes());
    let answer = |uid: u16, sum: u64, latency_ms: u32| Response {
        uid,
        hotkey: format!("5Miner{uid}"),
        body: Some(format!(r#"{{"sum":{sum}}}"#).into_bytes()),
        outcome: Outcome::Ok,
        latency_ms,
    };
    let responses = [
        answer(0, sum, 100),
        answer(1, sum + 1, 50),
        answer(2, sum, 300),
        Response { uid: 3, hotkey: "5Miner3".into(), body: None, outcome: Outcome::Timeout, latency_ms: 2000 },
    ];
    let scores = plugin.score(&task, &responses, None).expect("no fault").expect("no plugin error");
    // Exact answers score 0.9 to 1.0 by latency (fastest 1.0); the wrong and missing ones 0.
    assert_eq!(scores.values, [1.0, 0.0, 0.9, 0.0]);

    let hostile = host.load(plugin_path("hostile")).expect("reload hostile");
    let scores = hostile.score(&attack("none"), &batch(7), None).unwrap().unwrap();
    assert_eq!(scores.values, [0.5; 7]);
}
