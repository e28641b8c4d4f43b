//! Hot reload: the plugin file is read before every round; a new one takes effect at once, a
//! broken, missing or unexpected one leaves the previous plugin in use.

use std::path::Path;

use validator::{ResponseOutcome, RoundError};

use crate::net::{Kind, Net, Parts, counter, quick, sha256_of};

/// Replaces `path` with `bytes` the way a deploy would: a new file renamed over the old one.
fn replace(path: &Path, bytes: &[u8]) {
    let staging = path.with_extension("new");
    std::fs::write(&staging, bytes).expect("write the new plugin");
    std::fs::rename(&staging, path).expect("rename over the old plugin");
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).expect("plugin file")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_plugin_takes_effect_at_the_next_round_and_a_broken_one_is_ignored() {
    let net = Net::start(&[(1, quick(), &[Kind::Honest, Kind::Honest])]).await;
    let parts = Parts::new(&net).await;
    let plugin = net.dir.path().join("plugin.wasm");
    replace(&plugin, &read(test_plugins::GOOD));
    let mut runner = net.runner(crate::net::spec(1, &plugin, 100), &parts);
    let (good, hostile) = (sha256_of(test_plugins::GOOD), sha256_of(test_plugins::HOSTILE));
    let loads = |outcome: &str| counter(&parts.metrics, "plugin_loads", &format!("netuid=\"1\",outcome=\"{outcome}\""));

    let report = runner.round().await.expect("round 0");
    assert_eq!(report.answered, 2);
    let round = parts.store.round(1, 0).await.expect("read").expect("stored");
    assert_eq!(round.plugin_sha256, good);

    // Another plugin: the next round's task, queries and scores are its own. (`hostile` is
    // served at /hostile/task, which these miners do not serve, and scores 0.5 whatever.)
    replace(&plugin, &read(test_plugins::HOSTILE));
    let report = runner.round().await.expect("round 1");
    assert_eq!((report.round, report.answered), (Some(1), 0));
    assert_eq!(runner.plugin_sha256(), Some(hostile.as_str()));
    let round = parts.store.round(1, 1).await.expect("read").expect("stored");
    assert_eq!(round.plugin_sha256, hostile);
    assert!(round.responses.iter().all(|response| response.outcome == ResponseOutcome::Transport));
    assert!(round.scores.as_ref().expect("scored").iter().all(|(_, score)| *score == 0.5), "{:?}", round.scores);

    // Garbage bytes: refused at load; the previous plugin keeps working.
    replace(&plugin, b"\0asm this is not a component");
    let report = runner.round().await.expect("round 2 completes with the previous plugin");
    assert_eq!(report.round, Some(2));
    assert_eq!(parts.store.round(1, 2).await.expect("read").expect("stored").plugin_sha256, hostile);
    assert_eq!(loads("failed"), 1);

    // A missing file: the same.
    std::fs::remove_file(&plugin).expect("remove");
    let report = runner.round().await.expect("round 3 completes with the previous plugin");
    assert_eq!(parts.store.round(1, 3).await.expect("read").expect("stored").plugin_sha256, hostile);
    assert_eq!(report.round, Some(3));

    // Back to the first plugin.
    replace(&plugin, &read(test_plugins::GOOD));
    let report = runner.round().await.expect("round 4");
    assert_eq!(report.answered, 2);
    assert_eq!(parts.store.round(1, 4).await.expect("read").expect("stored").plugin_sha256, good);
    assert_eq!(loads("ok"), 3);
    assert_eq!(loads("failed"), 1, "an unchanged file is not loaded again");
    assert_eq!(counter(&parts.metrics, "round_errors", "netuid=\"1\""), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_sha256_refuses_any_other_file() {
    let net = Net::start(&[(1, quick(), &[Kind::Honest])]).await;
    let parts = Parts::new(&net).await;
    let plugin = net.dir.path().join("pinned.wasm");
    replace(&plugin, &read(test_plugins::HOSTILE));
    let mut spec = crate::net::spec(1, &plugin, 100);
    let good = sha256_of(test_plugins::GOOD);
    spec.sha256 = Some(good.to_uppercase());
    let mut runner = net.runner(spec, &parts);

    // Nothing loaded yet and the file is not the pinned one: the round fails, naming both hashes.
    match runner.round().await {
        Err(RoundError::Plugin(message)) => {
            assert!(message.contains(&sha256_of(test_plugins::HOSTILE)) && message.contains(&good.to_uppercase()));
        }
        other => panic!("expected a plugin error, got {other:?}"),
    }
    assert!(parts.store.round(1, 0).await.expect("read").is_none());

    replace(&plugin, &read(test_plugins::GOOD));
    runner.round().await.expect("the pinned plugin loads (the hash compares case-insensitively)");
    replace(&plugin, &read(test_plugins::HOSTILE));
    runner.round().await.expect("the round runs with the pinned plugin");
    for index in 0..2 {
        assert_eq!(parts.store.round(1, index).await.expect("read").expect("stored").plugin_sha256, good);
    }
}
