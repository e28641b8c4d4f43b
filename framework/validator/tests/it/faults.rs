//! One validator, three subnets on one chain, run by `run_subnets`: one subnet's plugin faults
//! in every round; the other two keep storing rounds and setting weights.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chain::NetUid;
use tokio::sync::watch;

use crate::net::{Kind, Net, Parts, counter, quick};

const HONEST: &[Kind] = &[Kind::Honest, Kind::Honest];

fn labels(netuid: NetUid) -> String {
    format!("netuid=\"{netuid}\"")
}

fn weights_ok(parts: &Parts, netuid: NetUid) -> u64 {
    counter(&parts.metrics, "weights", &format!("netuid=\"{netuid}\",outcome=\"ok\""))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulting_plugin_leaves_the_other_subnets_converging() {
    let net = Net::start(&[(1, quick(), HONEST), (2, quick(), HONEST), (3, quick(), HONEST)]).await;
    let parts = Parts::new(&net).await;
    // `panicky` panics in make-task for every seed a validator draws (they are hashes, >= 1000).
    let plugins = [(1, test_plugins::GOOD), (2, test_plugins::GOOD), (3, test_plugins::PANICKY)];
    let runners = plugins
        .iter()
        .map(|&(netuid, plugin)| {
            let mut spec = crate::net::spec(netuid, plugin, 250);
            spec.weights_interval_blocks = Some(2);
            net.runner(spec, &parts)
        })
        .collect();
    let (stop, stopped) = watch::channel(false);
    let validator = tokio::spawn(validator::run_subnets(runners, Arc::clone(&parts.metrics), stopped));

    // Blocks every 200 ms, until the two good subnets have set weights a few times and the bad
    // one has faulted a few times.
    let started = Instant::now();
    loop {
        net.advance(1).await;
        let done =
            [1, 2].into_iter().all(|netuid| parts.metrics.rounds(netuid) >= 4 && weights_ok(&parts, netuid) >= 2)
                && counter(&parts.metrics, "plugin_faults", &labels(3)) >= 3;
        if done {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "no progress in 40 s:\n{}",
            parts.metrics.encode().unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.send(true).expect("the validator listens");
    tokio::time::timeout(Duration::from_secs(10), validator).await.expect("stops promptly").expect("no panic");

    // The faulty subnet: counted, never stored, never weighted, never a loop panic.
    let faults = counter(&parts.metrics, "plugin_faults", &labels(3));
    assert_eq!(counter(&parts.metrics, "round_errors", &labels(3)), faults, "each fault failed its round");
    assert_eq!(parts.metrics.rounds(3), 0);
    assert_eq!(parts.metrics.panics(3), 0, "a guest's panic is a plugin fault, not a loop panic");
    assert!(parts.store.round(3, 0).await.expect("read").is_none());
    assert!(parts.store.last_weights(3).await.expect("read").is_none());

    // The good subnets: every round stored and scored, weights on chain.
    for netuid in [1, 2] {
        assert_eq!(counter(&parts.metrics, "plugin_faults", &labels(netuid)), 0);
        assert_eq!(counter(&parts.metrics, "round_errors", &labels(netuid)), 0);
        let rounds = parts.metrics.rounds(netuid);
        for index in 0..rounds {
            let round = parts.store.round(netuid, index).await.expect("read").expect("stored");
            assert!(round.scores.is_some(), "subnet {netuid} round {index} is scored");
        }
        assert!(parts.store.round(netuid, rounds).await.expect("read").is_none());
        let averages = parts.store.moving_averages(netuid).await.expect("averages");
        let honest = net.uids(netuid, Kind::Honest);
        assert_eq!(averages.iter().map(|average| average.uid).collect::<Vec<_>>(), honest);
        assert!(averages.iter().all(|average| average.score > 0.5 && average.rounds == rounds), "{averages:?}");
        let epoch = net.next_epoch(netuid).await;
        let row = net.weights_row(&epoch).await;
        assert_eq!(row.iter().filter(|(_, weight)| *weight > 0).map(|(uid, _)| *uid).collect::<Vec<_>>(), honest);
    }
    let epoch = net.next_epoch(3).await;
    assert!(net.weights_row(&epoch).await.is_empty(), "no weights on the faulty subnet");
}
