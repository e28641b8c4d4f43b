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

/// Path of a test plugin built by `test-plugins`.
pub(crate) fn plugin_path(name: &str) -> PathBuf {
    let dir =
        std::env::var_os("SUBNETKIT_TEST_PLUGINS").map(PathBuf::from).unwrap_or_else(|| "/tmp/scratch/plugins".into());
    dir.join(format!("{name}.wasm"))
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

/// After a plugin misbehaved: the same host still loads and serves a well-behaved plugin.
#[track_caller]
pub(crate) fn good_still_scores(host: &Host) {
    let plugin = host.load(plugin_path("hostile")).expect("reload after a fault");
    let responses = batch(7);
    let scores = plugin.score(&attack("none"), &responses, None).expect("no fault").expect("no plugin error");
    assert_eq!(scores.values, vec![0.5; 7]);
    let task = plugin.make_task(&host::Context { seed: 42, block: 9, ..Default::default() }).unwrap().unwrap();
    assert_eq!(task.public, br#"{"seed":42,"block":9}"#);
}
