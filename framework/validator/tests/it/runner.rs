//! `SubnetRunner::round` end to end: a local chain in manual block mode, miner servers on
//! 127.0.0.2 (honest, answering garbage, offline), the `good` test plugin, a SQLite store.

use chain::{Chain as _, Hyperparams, Uid};
use validator::{ResponseOutcome, StoredRound};

use crate::net::{Kind, Net, Parts, counter, quick, sha256_of, spec};

/// The stored response of `uid` in `round`.
fn response(round: &StoredRound, uid: Uid) -> &validator::StoredResponse {
    round.responses.iter().find(|response| response.uid == uid).unwrap_or_else(|| panic!("uid {uid} was queried"))
}

fn score(round: &StoredRound, uid: Uid) -> f64 {
    let scores = round.scores.as_ref().expect("the round is scored");
    scores.iter().find(|(scored, _)| *scored == uid).map(|(_, score)| *score).expect("a score per response")
}

/// The uids with a non-zero weight in a row, sorted.
fn weighted(row: &[(Uid, u16)]) -> Vec<Uid> {
    let mut uids: Vec<Uid> = row.iter().filter(|(_, weight)| *weight > 0).map(|(uid, _)| *uid).collect();
    uids.sort_unstable();
    uids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rounds_are_stored_scored_averaged_and_set_as_weights() {
    let net = Net::start(&[(1, quick(), &[Kind::Honest, Kind::Garbage, Kind::Honest, Kind::Offline])]).await;
    let parts = Parts::new(&net).await;
    let mut runner = net.runner(spec(1, test_plugins::GOOD, 100), &parts);
    let honest = net.uids(1, Kind::Honest);
    let (garbage, offline) = (net.uids(1, Kind::Garbage)[0], net.uids(1, Kind::Offline)[0]);
    let good_sha = sha256_of(test_plugins::GOOD);

    // Round 0: every miner with an axon is queried; weights go out at once (no rate limit).
    let first = runner.round().await.expect("round 0");
    assert_eq!(first.round, Some(0));
    assert_eq!((first.queried, first.answered), (4, 2), "{first:?}");
    let block = first.weights_at.expect("weights set in the first round");
    assert_eq!(runner.plugin_sha256(), Some(good_sha.as_str()));

    let round0 = parts.store.round(1, 0).await.expect("read").expect("round 0 stored");
    assert_eq!(round0.plugin_sha256, good_sha);
    assert_eq!(round0.block, block);
    let task: serde_json::Value = serde_json::from_str(&round0.task_public).expect("task JSON");
    let sum = task["a"].as_u64().expect("a") + task["b"].as_u64().expect("b");
    for &uid in &honest {
        let answer = response(&round0, uid);
        assert_eq!(answer.outcome, ResponseOutcome::Ok, "{answer:?}");
        let body: serde_json::Value = serde_json::from_str(answer.body.as_deref().expect("a body")).expect("JSON");
        assert_eq!(body, serde_json::json!({ "sum": sum }));
        assert!((0.9..=1.0).contains(&score(&round0, uid)), "{:?}", round0.scores);
    }
    let invalid = response(&round0, garbage);
    assert_eq!(invalid.outcome, ResponseOutcome::Invalid);
    assert_eq!(invalid.body.as_deref(), Some(r#"{"sum":"not a number"}"#), "kept as received");
    let refused = response(&round0, offline);
    assert_eq!((refused.outcome, refused.body.as_deref()), (ResponseOutcome::Transport, None));
    assert_eq!((score(&round0, garbage), score(&round0, offline)), (0.0, 0.0));

    // The stored round replays bit for bit.
    let plugin = parts.host.load(test_plugins::GOOD).expect("load");
    let replayed = validator::rescore(&plugin, &round0).expect("rescore");
    let bits = |scores: &[(Uid, f64)]| scores.iter().map(|(uid, s)| (*uid, s.to_bits())).collect::<Vec<_>>();
    assert_eq!(bits(&replayed), bits(round0.scores.as_deref().expect("scores")));

    // The weights: in the store's history and on chain, on the honest miners only.
    let sent = parts.store.last_weights(1).await.expect("read").expect("weights recorded");
    assert_eq!((sent.block, sent.outcome.as_str()), (block, "ok"));
    let mut sent_weighted: Vec<Uid> =
        sent.uids.iter().zip(&sent.weights).filter(|(_, w)| **w > 0).map(|(u, _)| *u).collect();
    sent_weighted.sort_unstable();
    assert_eq!(sent_weighted, honest);
    let graph = net.client.metagraph(1).await.expect("metagraph");
    assert_eq!(graph.neuron(&net.validator.account()).expect("validator").last_update, block);

    // Round 1 at the same block: scored and averaged, but too soon for weights.
    let second = runner.round().await.expect("round 1");
    assert_eq!((second.round, second.weights_at), (Some(1), None), "{second:?}");
    let round1 = parts.store.round(1, 1).await.expect("read").expect("round 1 stored");
    let averages = parts.store.moving_averages(1).await.expect("averages");
    assert_eq!(averages.len(), 4, "{averages:?}");
    for average in &averages {
        assert_eq!(average.rounds, 2, "{average:?}");
        // alpha 0.5, from 0: 0.5·s1 + 0.5·(0.5·s0).
        let expected = 0.5 * score(&round1, average.uid) + 0.5 * (0.5 * score(&round0, average.uid));
        assert_eq!(average.score.to_bits(), expected.to_bits(), "{average:?}");
    }

    // The next epoch reads the validator's row: weight on the honest miners alone.
    let epoch = net.next_epoch(1).await;
    assert_eq!(weighted(&net.weights_row(&epoch).await), honest);

    // A tempo after the last weights, the next round sets them again.
    let now = net.advance(10).await;
    let third = runner.round().await.expect("round 2");
    assert_eq!((third.round, third.weights_at), (Some(2), Some(now)), "{third:?}");
    assert_eq!(parts.store.last_weights(1).await.expect("read").expect("weights").block, now);

    let labels = |outcome: &str| format!("netuid=\"1\",outcome=\"{outcome}\"");
    assert_eq!(parts.metrics.rounds(1), 3);
    assert_eq!(counter(&parts.metrics, "responses", &labels("ok")), 6);
    assert_eq!(counter(&parts.metrics, "responses", &labels("invalid")), 3);
    assert_eq!(counter(&parts.metrics, "responses", &labels("transport")), 3);
    assert_eq!(counter(&parts.metrics, "weights", &labels("ok")), 2);
    assert_eq!(counter(&parts.metrics, "plugin_faults", "netuid=\"1\""), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_commit_reveal_the_runner_commits_then_reveals() {
    let params = Hyperparams { commit_reveal_enabled: true, commit_reveal_period: 1, ..quick() };
    let net = Net::start(&[(1, params, &[Kind::Honest, Kind::Honest, Kind::Offline])]).await;
    let parts = Parts::new(&net).await;
    let mut runner = net.runner(spec(1, test_plugins::GOOD, 100), &parts);
    let honest = net.uids(1, Kind::Honest);

    let first = runner.round().await.expect("round 0");
    let committed = first.weights_at.expect("a commit in the first round");
    let commit = parts.store.last_weights(1).await.expect("read").expect("recorded");
    assert_eq!((commit.block, commit.outcome.as_str()), (committed, "ok"));

    // Rounds go on; the reveal goes out once its epoch has come, and not before.
    let revealed = net.rounds_until_reveal(&mut runner, &parts.store, committed).await;
    assert!(revealed > committed);
    let reveal = parts.store.last_weights(1).await.expect("read").expect("recorded");
    assert_eq!((reveal.block, reveal.outcome.as_str()), (revealed, "ok (revealed)"));
    assert_eq!((reveal.uids.clone(), reveal.weights.clone()), (commit.uids, commit.weights), "the committed weights");
    assert_eq!(counter(&parts.metrics, "weights", "netuid=\"1\",outcome=\"revealed\""), 1);

    let graph = net.client.metagraph(1).await.expect("metagraph");
    assert_eq!(graph.neuron(&net.validator.account()).expect("validator").last_update, revealed);
    let epoch = net.next_epoch(1).await;
    assert_eq!(weighted(&net.weights_row(&epoch).await), honest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_a_crash_left_unscored_is_scored_first_and_once() {
    let net = Net::start(&[(1, quick(), &[Kind::Honest, Kind::Offline])]).await;
    let parts = Parts::new(&net).await;
    let (honest, offline) = (net.uids(1, Kind::Honest)[0], net.uids(1, Kind::Offline)[0]);
    let graph = net.client.metagraph(1).await.expect("metagraph");
    let hotkey = |uid: Uid| graph.neurons[usize::from(uid)].hotkey.to_ss58();
    // What a validator killed between storing a round and scoring it leaves behind: the honest
    // miner's answer was wrong that time.
    let responses = [
        validator::StoredResponse {
            uid: honest,
            hotkey: hotkey(honest),
            outcome: ResponseOutcome::Ok,
            body: Some(r#"{"sum":4}"#.to_owned()),
            latency_ms: 5,
        },
        validator::StoredResponse {
            uid: offline,
            hotkey: hotkey(offline),
            outcome: ResponseOutcome::Transport,
            body: None,
            latency_ms: 1,
        },
    ];
    let index = parts
        .store
        .record_round(&validator::NewRound {
            netuid: 1,
            seed: 7,
            block: 1,
            started_ms: 1,
            plugin_sha256: &sha256_of(test_plugins::GOOD),
            task_public: r#"{"a":1,"b":2}"#,
            task_private: r#"{"sum":3}"#,
            settles_at_ms: None,
            responses: &responses,
        })
        .await
        .expect("record");
    assert_eq!(index, 0);

    // A new runner (the restarted validator) scores it, then runs its own round.
    let mut runner = net.runner(spec(1, test_plugins::GOOD, 100), &parts);
    let report = runner.round().await.expect("round");
    assert_eq!((report.round, report.settled), (Some(1), 1), "{report:?}");
    let left = parts.store.round(1, 0).await.expect("read").expect("stored");
    assert_eq!(left.scores, Some(vec![(honest, 0.0), (offline, 0.0)]));
    let now = parts.store.round(1, 1).await.expect("read").expect("stored");
    assert_eq!(score(&now, honest), 1.0, "the only exact answer");

    // Folded in round order (alpha 0.5): 0.5·1 + 0.5·(0.5·0), not 0.5·0 + 0.5·(0.5·1).
    let averages = parts.store.moving_averages(1).await.expect("averages");
    let average = averages.iter().find(|average| average.uid == honest).expect("averaged");
    assert_eq!((average.rounds, average.score), (2, 0.5), "{average:?}");

    // Nothing is scored twice: the next round settles nothing old.
    let report = runner.round().await.expect("round");
    assert_eq!((report.round, report.settled), (Some(2), 0), "{report:?}");
    let averages = parts.store.moving_averages(1).await.expect("averages");
    assert!(averages.iter().all(|average| average.rounds == 3), "{averages:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_round_the_plugin_refuses_is_abandoned_and_rounds_go_on() {
    let net = Net::start(&[(1, quick(), &[Kind::Honest])]).await;
    let parts = Parts::new(&net).await;
    let honest = net.uids(1, Kind::Honest)[0];
    let graph = net.client.metagraph(1).await.expect("metagraph");
    // A round stored by an older plugin whose task this plugin cannot read.
    let responses = [validator::StoredResponse {
        uid: honest,
        hotkey: graph.neurons[usize::from(honest)].hotkey.to_ss58(),
        outcome: ResponseOutcome::Ok,
        body: Some(r#"{"sum":3}"#.to_owned()),
        latency_ms: 5,
    }];
    parts
        .store
        .record_round(&validator::NewRound {
            netuid: 1,
            seed: 7,
            block: 1,
            started_ms: 1,
            plugin_sha256: "older",
            task_public: r#"{"not":"a task of this plugin"}"#,
            task_private: "{}",
            settles_at_ms: None,
            responses: &responses,
        })
        .await
        .expect("record");

    let mut runner = net.runner(spec(1, test_plugins::GOOD, 100), &parts);
    let report = runner.round().await.expect("the old round does not block the new one");
    assert_eq!((report.round, report.settled), (Some(1), 0), "{report:?}");
    let abandoned = parts.store.round(1, 0).await.expect("read").expect("stored");
    assert_eq!(abandoned.scores, Some(vec![]), "marked scored, with no scores");
    assert!(parts.store.unsettled(1).await.expect("unsettled").is_empty());
    let averages = parts.store.moving_averages(1).await.expect("averages");
    let average = averages.iter().find(|average| average.uid == honest).expect("averaged");
    assert_eq!(average.rounds, 1, "only the new round counts: {average:?}");
    assert_eq!(counter(&parts.metrics, "round_errors", "netuid=\"1\""), 1);
}
