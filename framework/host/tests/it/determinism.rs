//! The same plugin on the same inputs gives the same bytes: on two engines, and after a restart.

use host::{Context, Host, HostConfig, Outcome, Plugin, Response};

use crate::support::{attack, batch, cache_dir, plugin_path};

/// Everything the hostile plugin produced for a fixed set of inputs, as bytes.
fn hostile_outputs(plugin: &Plugin) -> Vec<u8> {
    let mut out = Vec::new();
    for seed in [0u64, 9, 1 << 40] {
        let task = plugin.make_task(&Context { seed, block: seed + 1, unix_ms: 1_700_000_000_000, feeds: vec![] });
        let task = task.unwrap().unwrap();
        out.extend_from_slice(&task.public);
        out.extend_from_slice(&task.private);
    }
    let scores = plugin.score(&attack("float"), &batch(200), None).unwrap().unwrap();
    for v in &scores.values {
        out.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    out.extend_from_slice(scores.diagnostics.as_bytes());
    out.extend_from_slice(&scores.fuel_used.to_le_bytes());
    out
}

/// A text scorer's task and scores on 100 responses of about 1 KB, as bytes.
fn text_outputs(plugin: &Plugin) -> Vec<u8> {
    let task = plugin.make_task(&Context { seed: 5, ..Default::default() }).unwrap().unwrap();
    let private: serde_json::Value = serde_json::from_slice(&task.private).unwrap();
    let bodies = test_plugins::bench::text_bodies(private["reference"].as_str().unwrap(), 100, 1024, 5);
    let responses: Vec<Response> = bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| Response {
            uid: i as u16,
            hotkey: format!("5Miner{i}"),
            body: Some(body),
            outcome: Outcome::Ok,
            latency_ms: 50 + i as u32,
        })
        .collect();
    let scores = plugin.score(&task, &responses, None).unwrap().unwrap();
    let mut out = task.public.clone();
    out.extend_from_slice(&task.private);
    for v in &scores.values {
        out.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    out.extend_from_slice(scores.diagnostics.as_bytes());
    out.extend_from_slice(&scores.fuel_used.to_le_bytes());
    out
}

/// Every output of the hostile, rouge-l and float-heavy plugins loaded in `host`.
fn outputs(host: &Host) -> Vec<Vec<u8>> {
    let load = |name| host.load(plugin_path(name)).unwrap();
    vec![hostile_outputs(&load("hostile")), text_outputs(&load("rouge-l")), text_outputs(&load("float-heavy"))]
}

#[test]
fn two_engines_and_a_restart_give_identical_bytes() {
    let a = Host::new(HostConfig::new(cache_dir())).unwrap();
    let b = Host::new(HostConfig::new(cache_dir())).unwrap();
    let first = outputs(&a);
    assert_eq!(first, outputs(&b));
    drop((a, b));
    // A restart on the same cache (artifacts mapped, not compiled).
    let restarted = Host::new(HostConfig::new(cache_dir())).unwrap();
    assert_eq!(first, outputs(&restarted));
    // A fresh compile of the hostile plugin into an empty cache.
    let dir = tempfile::tempdir().unwrap();
    let fresh = Host::new(HostConfig::new(dir.path())).unwrap();
    let plugin = fresh.load(plugin_path("hostile")).unwrap();
    assert_eq!(first[0], hostile_outputs(&plugin));
    assert_eq!(plugin.identity(), restarted.load(plugin_path("hostile")).unwrap().identity());
}
