//! A validator restarted on the same database carries on where it stopped: it reveals the commit
//! the previous run made, and its replay guard still knows the answers of the rounds before.
//! Each case on SQLite and on PostgreSQL.

use chain::{Chain as _, Hyperparams, Uid};
use validator::ResponseOutcome;

use crate::net::{Kind, Net, Parts, counter, quick, spec};
use crate::{TestDb, on_both};

on_both!(
    a_commit_made_before_a_restart_is_revealed_after_it,
    a_commit_whose_window_passed_during_a_restart_is_given_up,
    an_answer_replayed_across_a_restart_is_caught,
);

async fn a_commit_made_before_a_restart_is_revealed_after_it(db: &TestDb) {
    let params = Hyperparams { commit_reveal_enabled: true, commit_reveal_period: 1, ..quick() };
    let net = Net::start(&[(1, params, &[Kind::Honest, Kind::Honest, Kind::Offline])]).await;
    let honest = net.uids(1, Kind::Honest);
    let hotkey = net.validator.account().to_ss58();

    // The first run commits, then stops (dropped, as a killed process leaves things).
    let committed = {
        let parts = Parts::on(&net, db.url()).await;
        let mut runner = net.runner(spec(1, test_plugins::GOOD, 100), &parts);
        runner.round().await.expect("round 0").weights_at.expect("a commit in the first round")
    };

    // The second run, on the same database: the commit is there, salt and all.
    let parts = Parts::on(&net, db.url()).await;
    let stored = parts.store.pending_reveal(1, &hotkey).await.expect("read").expect("the commit is stored");
    assert_eq!(stored.commit_block, committed);
    assert_eq!(stored.salt.len(), 8);
    let commit = parts.store.last_weights(1).await.expect("read").expect("recorded");
    assert_eq!((commit.block, commit.outcome.as_str()), (committed, "ok"));
    assert_eq!((&stored.uids, &stored.weights), (&commit.uids, &commit.weights));

    // It reveals the stored commit in its reveal epoch, without committing anew before.
    let mut runner = net.runner(spec(1, test_plugins::GOOD, 100), &parts);
    let revealed = net.rounds_until_reveal(&mut runner, &parts.store, committed).await;
    let reveal = parts.store.last_weights(1).await.expect("read").expect("recorded");
    assert_eq!((reveal.block, reveal.outcome.as_str()), (revealed, "ok (revealed)"));
    assert_eq!((reveal.uids, reveal.weights), (commit.uids, commit.weights), "the committed weights");
    assert_eq!(counter(&parts.metrics, "weights", "netuid=\"1\",outcome=\"revealed\""), 1);
    assert_eq!(parts.store.pending_reveal(1, &hotkey).await.expect("read"), None, "revealed: no longer pending");

    // The chain took the reveal: the next epoch reads the validator's weights on the honest miners.
    let graph = net.client.metagraph(1).await.expect("metagraph");
    assert_eq!(graph.neuron(&net.validator.account()).expect("validator").last_update, revealed);
    let epoch = net.next_epoch(1).await;
    let mut weighted: Vec<Uid> =
        net.weights_row(&epoch).await.iter().filter(|(_, weight)| *weight > 0).map(|(uid, _)| *uid).collect();
    weighted.sort_unstable();
    assert_eq!(weighted, honest);
}

async fn a_commit_whose_window_passed_during_a_restart_is_given_up(db: &TestDb) {
    let params = Hyperparams { commit_reveal_enabled: true, commit_reveal_period: 1, ..quick() };
    let net = Net::start(&[(1, params, &[Kind::Honest, Kind::Honest])]).await;
    let hotkey = net.validator.account().to_ss58();
    let committed = {
        let parts = Parts::on(&net, db.url()).await;
        let mut runner = net.runner(spec(1, test_plugins::GOOD, 100), &parts);
        runner.round().await.expect("round 0").weights_at.expect("a commit in the first round")
    };
    // Down for three tempos: the reveal epoch (the one after the commit's) is over.
    net.advance(30).await;

    let parts = Parts::on(&net, db.url()).await;
    let mut runner = net.runner(spec(1, test_plugins::GOOD, 100), &parts);
    let report = runner.round().await.expect("round");
    assert_eq!(report.weights_at, None, "{report:?}");
    let given_up = parts.store.last_weights(1).await.expect("read").expect("recorded");
    // The chain refuses it as expired, or as gone once an epoch has dropped expired commits.
    let refused = ["ExpiredWeightCommit", "NoWeightsCommitFound"];
    assert!(given_up.block > committed, "{given_up:?}");
    assert!(refused.iter().any(|name| given_up.outcome.starts_with(name)), "{given_up:?}");
    assert_eq!(parts.store.pending_reveal(1, &hotkey).await.expect("read"), None);
    assert_eq!(counter(&parts.metrics, "weights", "netuid=\"1\",outcome=\"refused\""), 1);

    // The next round commits anew, and that commit is the one stored.
    net.advance(1).await;
    let recommitted = runner.round().await.expect("round").weights_at.expect("a new commit");
    let stored = parts.store.pending_reveal(1, &hotkey).await.expect("read").expect("stored");
    assert_eq!(stored.commit_block, recommitted);
}

async fn an_answer_replayed_across_a_restart_is_caught(db: &TestDb) {
    let net = Net::start(&[(1, quick(), &[Kind::Honest, Kind::Stale])]).await;
    let (honest, stale) = (net.uids(1, Kind::Honest)[0], net.uids(1, Kind::Stale)[0]);

    // The first run: both miners answer the first task exactly.
    {
        let parts = Parts::on(&net, db.url()).await;
        let mut runner = net.runner(spec(1, test_plugins::GOOD, 100), &parts);
        let report = runner.round().await.expect("round 0");
        assert_eq!((report.round, report.answered), (Some(0), 2), "{report:?}");
    }
    net.advance(1).await;

    // The second run: the stale miner repeats its answer to the first task, and is caught.
    let parts = Parts::on(&net, db.url()).await;
    let mut runner = net.runner(spec(1, test_plugins::GOOD, 100), &parts);
    let report = runner.round().await.expect("round 1");
    assert_eq!((report.round, report.answered), (Some(1), 1), "{report:?}");
    let before = parts.store.round(1, 0).await.expect("read").expect("round 0 stored");
    let after = parts.store.round(1, 1).await.expect("read").expect("round 1 stored");
    assert_ne!(before.task_public, after.task_public, "a new task");
    let answer = |round: &validator::StoredRound, uid: Uid| {
        round.responses.iter().find(|response| response.uid == uid).cloned().expect("queried")
    };
    let (replayed, original) = (answer(&after, stale), answer(&before, stale));
    assert_eq!(original.outcome, ResponseOutcome::Ok);
    assert_eq!((replayed.outcome, &replayed.body), (ResponseOutcome::Invalid, &original.body), "{replayed:?}");
    assert_eq!(answer(&after, honest).outcome, ResponseOutcome::Ok);
    let scores = after.scores.expect("scored");
    assert!(scores.iter().any(|&(uid, score)| uid == stale && score == 0.0), "{scores:?}");
}
