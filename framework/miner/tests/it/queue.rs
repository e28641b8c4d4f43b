//! Overload: the bounded queue, served by stake.

use axum::http::StatusCode;
use serde_json::json;

use crate::{Fixture, Setup, extra_key, neuron, signed, task, validator_key};

#[tokio::test]
async fn overload_is_503_with_retry_after_and_stake_decides_who_waits() {
    let (busy, low, high, late_low) = (validator_key(), extra_key(11), extra_key(12), extra_key(13));
    let neurons = vec![
        neuron(0, &busy, 500, true),
        neuron(11, &low, 10, true),
        neuron(12, &high, 1_000, true),
        neuron(13, &late_low, 10, true),
    ];
    let fixture = Fixture::with(Setup { concurrency: 1, queue_capacity: 1, neurons, ..Setup::default() }).await;
    let send = |key: &protocol::Keypair, mode: &str| {
        let request = signed(key, &task(json!({ "x": 1, "mode": mode })));
        let router = fixture.router.clone();
        tokio::spawn(async move {
            crate::Reply::read(tower::ServiceExt::oneshot(router, request).await.expect("infallible")).await
        })
    };

    // The only slot is taken by a task that waits at the gate.
    let running = send(&busy, "gate");
    fixture.entered(1).await;
    // A low-stake task waits in the only queue place.
    let waiting_low = send(&low, "ok");
    fixture.queue_depth(1).await;
    // A high-stake task takes its place; the low-stake one is refused.
    let waiting_high = send(&high, "ok");
    let displaced = waiting_low.await.expect("no panic");
    displaced.expect(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(displaced.retry_after(), Some(1));
    assert!(displaced.text().contains("more stake"), "{}", displaced.text());
    fixture.queue_depth(1).await;
    // Another low-stake task cannot displace it and is refused at once.
    let refused = send(&late_low, "ok").await.expect("no panic");
    refused.expect(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.retry_after(), Some(1));
    assert!(refused.text().contains("overloaded"), "{}", refused.text());

    // Freeing the slot runs the high-stake task.
    fixture.gate.add_permits(1);
    running.await.expect("no panic").expect(StatusCode::OK);
    let served = waiting_high.await.expect("no panic");
    served.expect(StatusCode::OK);
    assert_eq!(served.json(), json!({ "y": 2 }));
    fixture.queue_depth(0).await;
    assert_eq!(fixture.entered.load(std::sync::atomic::Ordering::SeqCst), 2, "refused tasks never reached the miner");

    let metrics = fixture.get("/metrics").await.text();
    assert!(metrics.contains(r#"miner_requests_total{subnet="double",status="503"} 2"#), "{metrics}");
}

#[tokio::test]
async fn waiting_tasks_run_highest_stake_first() {
    let (busy, a, b, c) = (validator_key(), extra_key(21), extra_key(22), extra_key(23));
    let neurons =
        vec![neuron(0, &busy, 1, true), neuron(21, &a, 5, true), neuron(22, &b, 50, true), neuron(23, &c, 500, true)];
    let fixture = Fixture::with(Setup { concurrency: 1, queue_capacity: 8, neurons, ..Setup::default() }).await;
    let send = |key: &protocol::Keypair| {
        let request = signed(key, &task(json!({ "x": 1, "mode": "gate" })));
        let router = fixture.router.clone();
        tokio::spawn(async move {
            crate::Reply::read(tower::ServiceExt::oneshot(router, request).await.expect("infallible")).await
        })
    };
    let first = send(&busy);
    fixture.entered(1).await;
    let mut waiting = Vec::new();
    for (depth, key) in [(1, &a), (2, &b), (3, &c)] {
        waiting.push(send(key));
        fixture.queue_depth(depth).await;
    }
    // One slot: each release admits the highest stake left, whatever the arrival order.
    fixture.gate.add_permits(4);
    first.await.expect("no panic").expect(StatusCode::OK);
    for handle in waiting {
        handle.await.expect("no panic").expect(StatusCode::OK);
    }
    assert_eq!(*fixture.order.lock().expect("not poisoned"), [0, 23, 22, 21]);
}
