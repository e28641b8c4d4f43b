//! The same plugin on the same inputs gives the same bytes: on two engines, and after a restart.

use host::{Context, Host, HostConfig, Plugin};

use crate::support::{attack, batch, cache_dir, plugin_path};

/// Everything a plugin produced for a fixed set of inputs, as bytes.
fn outputs(plugin: &Plugin) -> Vec<u8> {
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

#[test]
fn two_engines_and_a_restart_give_identical_bytes() {
    let a = Host::new(HostConfig::new(cache_dir())).unwrap();
    let b = Host::new(HostConfig::new(cache_dir())).unwrap();
    let first = outputs(&a.load(plugin_path("hostile")).unwrap());
    assert_eq!(first, outputs(&b.load(plugin_path("hostile")).unwrap()));
    drop((a, b));
    // A restart on the same cache, and a fresh compile into an empty cache.
    let restarted = Host::new(HostConfig::new(cache_dir())).unwrap();
    assert_eq!(first, outputs(&restarted.load(plugin_path("hostile")).unwrap()));
    let dir = tempfile::tempdir().unwrap();
    let fresh = Host::new(HostConfig::new(dir.path())).unwrap();
    let plugin = fresh.load(plugin_path("hostile")).unwrap();
    assert_eq!(first, outputs(&plugin));
    assert_eq!(plugin.identity(), restarted.load(plugin_path("hostile")).unwrap().identity());
}
