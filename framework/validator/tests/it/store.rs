//! The state store: every case on SQLite and on PostgreSQL.

use std::sync::Arc;

use validator::{
    MovingAverage, NewRound, PendingReveal, ResponseOutcome, RoundAnswers, Settled, Store, StoreError, StoredResponse,
    StoredRound, WeightsRecord,
};

use crate::{Backend, TestDb, on_both};

on_both!(
    round_trip,
    indices_per_subnet,
    settle_twice,
    moving_average_math,
    hotkey_change_resets,
    unsettled_rounds,
    weights_history,
    refusals,
    concurrent_rounds,
    survives_reopening,
    pending_reveals,
    recent_answers,
);

fn response(uid: u16, hotkey: &str, outcome: ResponseOutcome, body: Option<&str>, latency_ms: u64) -> StoredResponse {
    StoredResponse { uid, hotkey: hotkey.to_owned(), outcome, body: body.map(str::to_owned), latency_ms }
}

/// A round of `netuid` with one ok response per `(uid, hotkey)`.
fn new_round<'a>(netuid: u16, responses: &'a [StoredResponse]) -> NewRound<'a> {
    NewRound {
        netuid,
        seed: 7,
        block: 100,
        started_ms: 1_700_000_000_000,
        plugin_sha256: "00ff",
        task_public: r#"{"prompt":"hi"}"#,
        task_private: r#"{"answer":42}"#,
        settles_at_ms: None,
        responses,
    }
}

fn ok_responses(pairs: &[(u16, &str)]) -> Vec<StoredResponse> {
    pairs.iter().map(|&(uid, hotkey)| response(uid, hotkey, ResponseOutcome::Ok, Some("{}"), 5)).collect()
}

fn bits(scores: &[(u16, f64)]) -> Vec<(u16, u64)> {
    scores.iter().map(|&(uid, score)| (uid, score.to_bits())).collect()
}

async fn round_trip(db: &TestDb) {
    let store = db.store().await;
    let responses = vec![
        // Out of uid order on purpose: the stored order is the recorded one.
        response(9, "5HotkeyNine", ResponseOutcome::Ok, Some(r#"{"text":"héllo \"wörld\" ✓ 🦀","n":1e-7}"#), 12),
        response(2, "5HotkeyTwo", ResponseOutcome::Timeout, None, 12_000),
        response(40_000, "5HotkeyBig", ResponseOutcome::Transport, None, 0),
        response(0, "5HotkeyZero", ResponseOutcome::Invalid, Some("not json \\ ' \u{7f}"), i64::MAX as u64),
    ];
    let round = NewRound {
        netuid: u16::MAX,
        seed: u64::MAX,
        block: i64::MAX as u64,
        started_ms: 1_720_000_000_123,
        plugin_sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        task_public: r#"{"prompt":"ünïcödé","max_tokens":64}"#,
        task_private: r#"{"reference":[1,2,3],"nested":{"a":null}}"#,
        settles_at_ms: Some(1_720_000_060_000),
        responses: &responses,
    };
    let index = store.record_round(&round).await.unwrap();
    assert_eq!(index, 0);

    let mut expected = StoredRound {
        netuid: u16::MAX,
        index: 0,
        seed: u64::MAX,
        block: i64::MAX as u64,
        started_ms: round.started_ms,
        plugin_sha256: round.plugin_sha256.to_owned(),
        task_public: round.task_public.to_owned(),
        task_private: round.task_private.to_owned(),
        settles_at_ms: round.settles_at_ms,
        responses: responses.clone(),
        scores: None,
        truth: None,
    };
    assert_eq!(store.round(u16::MAX, 0).await.unwrap(), Some(expected.clone()));
    assert_eq!(store.round(u16::MAX, 1).await.unwrap(), None);
    assert_eq!(store.round(1, 0).await.unwrap(), None);

    // Values whose every bit must survive: a third, 0.1 + 0.2, the smallest normal and subnormal.
    let scores = vec![(9, 1.0 / 3.0), (0, 0.1 + 0.2), (40_000, f64::MIN_POSITIVE), (2, 5e-324)];
    let alpha = 0.1;
    let truth = r#"{"price":61234.5,"at":"2024-07-03T10:01:00Z"}"#;
    let settled = store.settle(u16::MAX, 0, &scores, alpha, Some(truth)).await.unwrap();
    assert_eq!(settled, Settled::Now);

    expected.scores = Some(scores.clone());
    expected.truth = Some(truth.to_owned());
    let read = store.round(u16::MAX, 0).await.unwrap().unwrap();
    assert_eq!(read, expected);
    assert_eq!(bits(read.scores.as_deref().unwrap()), bits(&scores));

    let averages = store.moving_averages(u16::MAX).await.unwrap();
    let mut want: Vec<MovingAverage> = scores
        .iter()
        .map(|&(uid, score)| MovingAverage {
            uid,
            hotkey: responses.iter().find(|r| r.uid == uid).unwrap().hotkey.clone(),
            score: alpha * score + (1.0 - alpha) * 0.0,
            rounds: 1,
        })
        .collect();
    want.sort_by_key(|average| average.uid);
    assert_eq!(averages, want);
    for (got, want) in averages.iter().zip(&want) {
        assert_eq!(got.score.to_bits(), want.score.to_bits(), "uid {}", got.uid);
    }
}

async fn indices_per_subnet(db: &TestDb) {
    let store = db.store().await;
    let responses = ok_responses(&[(1, "5A")]);
    let mut seen = Vec::new();
    for netuid in [1, 2, 1, 1, 3, 2, 1] {
        seen.push((netuid, store.record_round(&new_round(netuid, &responses)).await.unwrap()));
    }
    assert_eq!(seen, [(1, 0), (2, 0), (1, 1), (1, 2), (3, 0), (2, 1), (1, 3)]);
    for (netuid, count) in [(1u16, 4u64), (2, 2), (3, 1)] {
        let indices: Vec<u64> = store.unsettled(netuid).await.unwrap().iter().map(|round| round.index).collect();
        assert_eq!(indices, (0..count).collect::<Vec<_>>(), "subnet {netuid}");
    }
    // A round with no responses is a round too.
    assert_eq!(store.record_round(&new_round(2, &[])).await.unwrap(), 2);
    assert_eq!(store.round(2, 2).await.unwrap().unwrap().responses, []);
}

async fn settle_twice(db: &TestDb) {
    let store = db.store().await;
    let responses = ok_responses(&[(1, "5A"), (2, "5B")]);
    let index = store.record_round(&new_round(1, &responses)).await.unwrap();
    let scores = [(1, 0.8), (2, 0.4)];
    assert_eq!(store.settle(1, index, &scores, 0.5, Some("{\"t\":1}")).await.unwrap(), Settled::Now);
    let averages = store.moving_averages(1).await.unwrap();
    let round = store.round(1, index).await.unwrap();

    assert_eq!(store.settle(1, index, &[(1, 0.0), (2, 1.0)], 0.9, Some("{\"t\":2}")).await.unwrap(), Settled::Already);
    assert_eq!(store.settle(1, index, &scores, 0.5, None).await.unwrap(), Settled::Already);
    assert_eq!(store.moving_averages(1).await.unwrap(), averages);
    assert_eq!(store.round(1, index).await.unwrap(), round);
    assert_eq!(round.unwrap().truth.as_deref(), Some("{\"t\":1}"));
    assert_eq!(store.unsettled(1).await.unwrap(), []);
}

async fn moving_average_math(db: &TestDb) {
    let store = db.store().await;
    let responses = ok_responses(&[(1, "5A"), (2, "5B")]);
    let alpha = 0.3;
    // uid 1 is scored every round; uid 2 only in rounds 0 and 3.
    let rounds: [&[(u16, f64)]; 4] = [&[(1, 0.5), (2, 1.0)], &[(1, 1.0)], &[(1, 0.0)], &[(1, 0.25), (2, 0.5)]];
    for scores in rounds {
        let index = store.record_round(&new_round(1, &responses)).await.unwrap();
        assert_eq!(store.settle(1, index, scores, alpha, None).await.unwrap(), Settled::Now);
    }
    // By hand: uid 1: 0.15, 0.3 + 0.7·0.15 = 0.405, 0.7·0.405 = 0.2835, 0.075 + 0.7·0.2835 = 0.27345.
    //          uid 2: 0.3, then 0.15 + 0.7·0.3 = 0.36.
    let averages = store.moving_averages(1).await.unwrap();
    assert_eq!(averages.len(), 2);
    let (one, two) = (&averages[0], &averages[1]);
    assert_eq!((one.uid, one.hotkey.as_str(), one.rounds), (1, "5A", 4));
    assert_eq!((two.uid, two.hotkey.as_str(), two.rounds), (2, "5B", 2));
    assert!((one.score - 0.27345).abs() < 1e-12, "{}", one.score);
    assert!((two.score - 0.36).abs() < 1e-12, "{}", two.score);
    // And bit for bit what the formula gives in f64, in this order.
    let mut average: f64 = 0.0;
    for score in [0.5, 1.0, 0.0, 0.25] {
        average = alpha * score + (1.0 - alpha) * average;
    }
    assert_eq!(one.score.to_bits(), average.to_bits());
    assert_eq!(two.score.to_bits(), (alpha * 0.5 + (1.0 - alpha) * (alpha * 1.0 + (1.0 - alpha) * 0.0)).to_bits());

    // alpha = 1 keeps only the latest score.
    let index = store.record_round(&new_round(1, &responses)).await.unwrap();
    store.settle(1, index, &[(2, 0.125)], 1.0, None).await.unwrap();
    let averages = store.moving_averages(1).await.unwrap();
    assert_eq!(averages[1].score, 0.125);
    assert_eq!(averages[0], *one, "uid 1 was not scored");
    // Other subnets have their own averages.
    assert_eq!(store.moving_averages(2).await.unwrap(), []);
}

async fn hotkey_change_resets(db: &TestDb) {
    let store = db.store().await;
    let alpha = 0.5;
    let before = ok_responses(&[(3, "5Old"), (4, "5Stays")]);
    for _ in 0..2 {
        let index = store.record_round(&new_round(1, &before)).await.unwrap();
        store.settle(1, index, &[(3, 1.0), (4, 1.0)], alpha, None).await.unwrap();
    }
    let averages = store.moving_averages(1).await.unwrap();
    assert_eq!((averages[0].hotkey.as_str(), averages[0].score, averages[0].rounds), ("5Old", 0.75, 2));

    // uid 3 is re-registered to a new hotkey: its average starts again from 0.
    let after = ok_responses(&[(3, "5New"), (4, "5Stays")]);
    let index = store.record_round(&new_round(1, &after)).await.unwrap();
    store.settle(1, index, &[(3, 0.5), (4, 0.5)], alpha, None).await.unwrap();
    let averages = store.moving_averages(1).await.unwrap();
    assert_eq!(averages[0], MovingAverage { uid: 3, hotkey: "5New".to_owned(), score: 0.25, rounds: 1 });
    assert_eq!(averages[1], MovingAverage { uid: 4, hotkey: "5Stays".to_owned(), score: 0.625, rounds: 3 });
}

async fn unsettled_rounds(db: &TestDb) {
    let store = db.store().await;
    assert_eq!(store.unsettled(1).await.unwrap(), []);
    let mut recorded = Vec::new();
    for n in 0..5u16 {
        let responses = ok_responses(&[(n, "5A"), (n + 10, "5B")]);
        let round = NewRound {
            seed: u64::from(n) << 60,
            settles_at_ms: Some(1_000 * u64::from(n)),
            ..new_round(1, &responses)
        };
        let index = store.record_round(&round).await.unwrap();
        recorded.push(store.round(1, index).await.unwrap().unwrap());
    }
    // Another subnet's rounds are not listed.
    store.record_round(&new_round(2, &ok_responses(&[(1, "5C")]))).await.unwrap();

    store.settle(1, 1, &[(1, 0.5)], 0.5, Some("{}")).await.unwrap();
    store.settle(1, 3, &[], 0.5, None).await.unwrap();
    let unsettled = store.unsettled(1).await.unwrap();
    assert_eq!(unsettled, vec![recorded[0].clone(), recorded[2].clone(), recorded[4].clone()]);
    assert_eq!(unsettled[2].responses.len(), 2);
    assert_eq!(unsettled[2].seed, 4 << 60);

    // A round settled with no scores is settled all the same.
    assert_eq!(store.round(1, 3).await.unwrap().unwrap().scores, Some(vec![]));
    for index in [0, 2, 4] {
        store.settle(1, index, &[], 0.5, None).await.unwrap();
    }
    assert_eq!(store.unsettled(1).await.unwrap(), []);
    assert_eq!(store.unsettled(2).await.unwrap().len(), 1);
}

async fn weights_history(db: &TestDb) {
    let store = db.store().await;
    assert_eq!(store.last_weights(1).await.unwrap(), None);
    store.record_weights(1, 10, &[0, 1, 2], &[65_535, 0, 100], "ok").await.unwrap();
    assert_eq!(
        store.last_weights(1).await.unwrap(),
        Some(WeightsRecord { block: 10, uids: vec![0, 1, 2], weights: vec![65_535, 0, 100], outcome: "ok".to_owned() })
    );
    let error = "SettingWeightsTooFast: the hotkey set weights 3 blocks ago, the rate limit is 100";
    store.record_weights(1, 13, &[5], &[1], error).await.unwrap();
    store.record_weights(2, 7, &[], &[], "ok").await.unwrap();
    // The most recent is the last recorded, not the highest block.
    store.record_weights(1, 12, &[4, 3], &[7, 8], "ok").await.unwrap();
    assert_eq!(
        store.last_weights(1).await.unwrap(),
        Some(WeightsRecord { block: 12, uids: vec![4, 3], weights: vec![7, 8], outcome: "ok".to_owned() })
    );
    assert_eq!(
        store.last_weights(2).await.unwrap(),
        Some(WeightsRecord { block: 7, uids: vec![], weights: vec![], outcome: "ok".to_owned() })
    );
    assert!(matches!(
        store.record_weights(1, 14, &[1, 2], &[1], "ok").await,
        Err(StoreError::WeightsLength { uids: 2, weights: 1 })
    ));
    assert!(matches!(
        store.record_weights(1, u64::MAX, &[1], &[1], "ok").await,
        Err(StoreError::OutOfRange { field: "block", value: u64::MAX })
    ));
    assert_eq!(store.last_weights(1).await.unwrap().unwrap().block, 12);
}

async fn refusals(db: &TestDb) {
    for url in ["mysql://u:hunter2@localhost/db", "nonsense", "http://example.org/", ""] {
        let error = Store::connect(url).await.unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, StoreError::Url { .. }), "{url}: {message}");
        assert!(message.contains("sqlite://") && message.contains("postgres://"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
    // Nothing listens on port 1: the error names the server, not the password.
    let error = Store::connect("postgres://someone:hunter2@127.0.0.1:1/nothing").await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, StoreError::Connect { .. }), "{message}");
    assert!(message.contains("postgres://someone:***@127.0.0.1:1/nothing"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
    let error = Store::connect("sqlite:///nonexistent-directory/validator.db").await.unwrap_err();
    assert!(error.to_string().contains("/nonexistent-directory/validator.db"), "{error}");

    let store = db.store().await;
    let responses = ok_responses(&[(1, "5A"), (2, "5B")]);
    let index = store.record_round(&new_round(1, &responses)).await.unwrap();
    for alpha in [0.0, -0.1, 1.000_000_1, f64::NAN, f64::INFINITY] {
        let error = store.settle(1, index, &[(1, 0.5)], alpha, None).await.unwrap_err();
        assert!(matches!(error, StoreError::Alpha { .. }), "{alpha}: {error}");
        assert!(error.to_string().contains("alpha"), "{error}");
    }
    for score in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1.5, -0.1] {
        let error = store.settle(1, index, &[(1, 0.5), (2, score)], 0.5, None).await.unwrap_err();
        assert!(matches!(error, StoreError::Score { uid: 2, .. }), "{score}: {error}");
        assert!(error.to_string().contains("uid 2"), "{error}");
    }
    let error = store.settle(1, index, &[(2, 0.5), (2, 0.5)], 0.5, None).await.unwrap_err();
    assert!(matches!(error, StoreError::DuplicateUid { uid: 2, .. }), "{error}");
    // A uid with no response in the round cannot be scored, and nothing of the settlement stays.
    let error = store.settle(1, index, &[(1, 0.5), (7, 0.5)], 0.5, None).await.unwrap_err();
    assert!(matches!(error, StoreError::NoResponse { netuid: 1, round: 0, uid: 7 }), "{error}");
    assert_eq!(store.unsettled(1).await.unwrap().len(), 1);
    assert_eq!(store.moving_averages(1).await.unwrap(), []);
    // Unknown rounds and subnets.
    assert!(matches!(store.settle(1, 5, &[], 0.5, None).await, Err(StoreError::UnknownRound { netuid: 1, round: 5 })));
    assert!(matches!(store.settle(9, 0, &[], 0.5, None).await, Err(StoreError::UnknownRound { netuid: 9, round: 0 })));
    // u64 values the databases cannot hold are refused, not wrapped.
    assert!(matches!(
        store.settle(1, u64::MAX, &[], 0.5, None).await,
        Err(StoreError::OutOfRange { field: "round", value: u64::MAX })
    ));
    assert!(matches!(store.round(1, 1 << 63).await, Err(StoreError::OutOfRange { .. })));
    for (field, round) in [
        ("block", NewRound { block: 1 << 63, ..new_round(1, &responses) }),
        ("started_ms", NewRound { started_ms: u64::MAX, ..new_round(1, &responses) }),
        ("settles_at_ms", NewRound { settles_at_ms: Some(u64::MAX), ..new_round(1, &responses) }),
    ] {
        let error = store.record_round(&round).await.unwrap_err();
        assert!(matches!(error, StoreError::OutOfRange { field: f, .. } if f == field), "{error}");
        assert!(error.to_string().contains(field), "{error}");
    }
    let slow = [response(1, "5A", ResponseOutcome::Timeout, None, u64::MAX)];
    assert!(matches!(
        store.record_round(&new_round(1, &slow)).await,
        Err(StoreError::OutOfRange { field: "latency_ms", .. })
    ));
    let twice = ok_responses(&[(1, "5A"), (1, "5B")]);
    assert!(matches!(store.record_round(&new_round(1, &twice)).await, Err(StoreError::DuplicateUid { uid: 1, .. })));
    let nul = [response(1, "5A", ResponseOutcome::Invalid, Some("a\0b"), 1)];
    assert!(matches!(store.record_round(&new_round(1, &nul)).await, Err(StoreError::Nul { field: "body" })));
    // None of the refused rounds took an index.
    assert_eq!(store.record_round(&new_round(1, &responses)).await.unwrap(), 1);
}

async fn concurrent_rounds(db: &TestDb) {
    let store = Arc::new(db.store().await);
    let mut tasks = Vec::new();
    for task in 0..8u16 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let responses = ok_responses(&[(task, "5A"), (task + 100, "5B")]);
            let round = NewRound { seed: u64::from(task), ..new_round(1, &responses) };
            (task, store.record_round(&round).await.unwrap())
        }));
    }
    let mut indices = Vec::new();
    for task in tasks {
        let (task, index) = task.await.unwrap();
        // Each index holds the round of the task that got it.
        let round = store.round(1, index).await.unwrap().unwrap();
        assert_eq!(round.seed, u64::from(task));
        assert_eq!(round.responses[0].uid, task);
        indices.push(index);
    }
    indices.sort_unstable();
    assert_eq!(indices, (0..8).collect::<Vec<_>>());
    assert_eq!(store.unsettled(1).await.unwrap().len(), 8);

    // Settling all of them at once folds every score in exactly once.
    let mut tasks = Vec::new();
    for index in 0..8u64 {
        let store = Arc::clone(&store);
        let uid = store.round(1, index).await.unwrap().unwrap().responses[0].uid;
        tasks.push(tokio::spawn(async move {
            let scores = [(uid, 1.0)];
            let first = store.settle(1, index, &scores, 0.5, None);
            let second = store.settle(1, index, &scores, 0.5, None);
            let (first, second) = tokio::join!(first, second);
            let mut outcomes = [first.unwrap(), second.unwrap()];
            outcomes.sort_by_key(|settled| *settled == Settled::Already);
            outcomes
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), [Settled::Now, Settled::Already]);
    }
    let averages = store.moving_averages(1).await.unwrap();
    assert_eq!(averages.len(), 8);
    assert!(averages.iter().all(|average| average.rounds == 1 && average.score == 0.5), "{averages:?}");
}

async fn survives_reopening(db: &TestDb) {
    let responses = ok_responses(&[(1, "5A")]);
    let round = NewRound { seed: 0xdead_beef, ..new_round(1, &responses) };
    let stored = {
        let store = db.store().await;
        let index = store.record_round(&round).await.unwrap();
        store.record_weights(1, 5, &[1], &[9], "ok").await.unwrap();
        store.round(1, index).await.unwrap().unwrap()
        // Dropped without closing, as a killed process would leave it.
    };
    if db.backend() == Backend::Sqlite {
        let path = db.url().trim_start_matches("sqlite://");
        assert!(std::path::Path::new(path).exists(), "{path}");
    }
    // Opening again runs the migrations again (nothing to do) and finds everything.
    let store = db.store().await;
    assert_eq!(store.round(1, 0).await.unwrap(), Some(stored.clone()));
    assert_eq!(store.unsettled(1).await.unwrap(), [stored]);
    assert_eq!(store.last_weights(1).await.unwrap().unwrap().weights, [9]);
    assert_eq!(store.record_round(&round).await.unwrap(), 1);
}

/// Both SQLite URL forms create the file, in WAL mode.
#[tokio::test]
async fn sqlite_url_forms() {
    use sqlx::{Connection, Row, SqliteConnection};

    let dir = tempfile::tempdir().unwrap();
    for (name, url) in [
        ("slashes.db", format!("sqlite://{}", dir.path().join("slashes.db").display())),
        ("colon.db", format!("sqlite:{}", dir.path().join("colon.db").display())),
    ] {
        let store = Store::connect(&url).await.unwrap();
        assert_eq!(store.record_round(&new_round(1, &[])).await.unwrap(), 0);
        let path = dir.path().join(name);
        assert!(path.exists(), "{url}");
        let mut connection = SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        let mode: String = sqlx::query("PRAGMA journal_mode").fetch_one(&mut connection).await.unwrap().get(0);
        assert_eq!(mode, "wal", "{url}");
    }
}

fn pending(netuid: u16, hotkey: &str, commit_block: u64) -> PendingReveal {
    PendingReveal {
        netuid,
        hotkey: hotkey.to_owned(),
        commit_block,
        uids: vec![3, 1, 2],
        weights: vec![65_535, 0, 7],
        salt: vec![0, 1, 65_535, 4, 5, 6, 7, 8],
        version_key: u64::MAX,
    }
}

/// A commit awaiting its reveal: stored before it goes out, one per subnet and hotkey, read back
/// after a reopening, and closed once into the weights history.
async fn pending_reveals(db: &TestDb) {
    let commit = pending(1, "5Validator", 40);
    {
        let store = db.store().await;
        assert_eq!(store.pending_reveal(1, "5Validator").await.unwrap(), None);
        store.save_pending_reveal(&commit).await.unwrap();
        // Another hotkey and another subnet wait on their own.
        store.save_pending_reveal(&pending(1, "5Other", 41)).await.unwrap();
        store.save_pending_reveal(&pending(2, "5Validator", 42)).await.unwrap();
        // A second commit of the same hotkey is refused and the first one kept.
        let error = store.save_pending_reveal(&pending(1, "5Validator", 50)).await.unwrap_err();
        assert!(matches!(&error, StoreError::RevealPending { netuid: 1, commit_block: 40, .. }), "{error}");
        assert!(error.to_string().contains("5Validator") && error.to_string().contains("block 40"), "{error}");
        // Bad input: a clear error, nothing stored.
        let mut uneven = pending(3, "5Validator", 1);
        uneven.weights.pop();
        assert!(matches!(
            store.save_pending_reveal(&uneven).await,
            Err(StoreError::WeightsLength { uids: 3, weights: 2 })
        ));
        let mut repeated = pending(3, "5Validator", 1);
        repeated.uids = vec![1, 2, 1];
        assert!(matches!(store.save_pending_reveal(&repeated).await, Err(StoreError::DuplicateUid { uid: 1, .. })));
        let too_late = pending(3, "5Validator", u64::MAX);
        assert!(matches!(
            store.save_pending_reveal(&too_late).await,
            Err(StoreError::OutOfRange { field: "commit_block", .. })
        ));
        assert!(matches!(store.save_pending_reveal(&pending(3, "5Val\0", 1)).await, Err(StoreError::Nul { .. })));
        assert_eq!(store.pending_reveal(3, "5Validator").await.unwrap(), None);
        // Dropped without closing, as a killed process would leave it.
    }
    let store = db.store().await;
    assert_eq!(store.pending_reveal(1, "5Validator").await.unwrap(), Some(commit.clone()));
    assert_eq!(store.pending_reveal(1, "5Other").await.unwrap().map(|other| other.commit_block), Some(41));

    // The reveal: the commit leaves the store and its weights enter the history, once.
    store.record_weights(1, 40, &commit.uids, &commit.weights, "ok").await.unwrap();
    assert!(store.close_pending_reveal(1, "5Validator", 52, "ok (revealed)").await.unwrap());
    assert_eq!(store.pending_reveal(1, "5Validator").await.unwrap(), None);
    let revealed = WeightsRecord {
        block: 52,
        uids: commit.uids.clone(),
        weights: commit.weights.clone(),
        outcome: "ok (revealed)".to_owned(),
    };
    assert_eq!(store.last_weights(1).await.unwrap(), Some(revealed.clone()));
    assert!(!store.close_pending_reveal(1, "5Validator", 53, "ok (revealed)").await.unwrap());
    assert_eq!(store.last_weights(1).await.unwrap(), Some(revealed), "a second close changes nothing");
    assert_eq!(store.pending_reveal(1, "5Other").await.unwrap().map(|other| other.commit_block), Some(41));

    // Given up: the chain's error is the history's outcome; a new commit may follow.
    let expired = "ExpiredWeightCommit: the commit's reveal window ended at block 59";
    assert!(store.close_pending_reveal(2, "5Validator", 60, expired).await.unwrap());
    assert_eq!(store.last_weights(2).await.unwrap().unwrap().outcome, expired);
    store.save_pending_reveal(&pending(2, "5Validator", 61)).await.unwrap();
    assert_eq!(store.pending_reveal(2, "5Validator").await.unwrap().unwrap().commit_block, 61);
}

/// The `ok` answers of the last rounds, oldest first, for the replay guard.
async fn recent_answers(db: &TestDb) {
    let store = db.store().await;
    assert_eq!(store.recent_answers(1, 64).await.unwrap(), []);
    for n in 0..5u16 {
        let responses = vec![
            response(1, "5A", ResponseOutcome::Ok, Some(&format!(r#"{{"n":{n}}}"#)), 5),
            response(2, "5B", ResponseOutcome::Invalid, Some(r#"{"stale":true}"#), 5),
            response(3, "5C", ResponseOutcome::Timeout, None, 5),
            response(0, "5D", ResponseOutcome::Ok, Some("[\"é\"]"), 5),
        ];
        let task = format!(r#"{{"task":{n}}}"#);
        let round = NewRound { task_public: &task, ..new_round(1, &responses) };
        store.record_round(&round).await.unwrap();
    }
    store.record_round(&new_round(2, &ok_responses(&[(1, "5A")]))).await.unwrap();
    let recent = store.recent_answers(1, 3).await.unwrap();
    let expected: Vec<RoundAnswers> = (2..5)
        .map(|n| RoundAnswers {
            index: n,
            task_public: format!(r#"{{"task":{n}}}"#),
            answers: vec![format!(r#"{{"n":{n}}}"#), "[\"é\"]".to_owned()],
        })
        .collect();
    assert_eq!(recent, expected);
    assert_eq!(store.recent_answers(1, 64).await.unwrap().len(), 5);
    assert_eq!(store.recent_answers(1, 0).await.unwrap(), []);
    assert_eq!(store.recent_answers(2, 64).await.unwrap()[0].answers, ["{}"]);
}
