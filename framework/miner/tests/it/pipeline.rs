//! Each stage of the pipeline, through the router without a socket.

use std::num::NonZeroU32;
use std::time::Duration;

use axum::body::Body;
use axum::http::{self, StatusCode};
use miner::{Options, RateLimit};
use protocol::btauth;
use serde_json::json;

use crate::{Fixture, NETUID, Setup, TARGET, extra_key, miner_key, neuron, signed, signed_at, task, validator_key};

#[tokio::test]
async fn a_registered_validator_gets_a_signed_answer() {
    let fixture = Fixture::new().await;
    let validator = validator_key();
    let reply = fixture.send(signed(&validator, &task(json!({ "x": 21 })))).await;
    reply.expect(StatusCode::OK);
    assert_eq!(reply.json(), json!({ "y": 42 }));
    assert_eq!(reply.headers[http::header::CONTENT_TYPE], "application/json");
    let signer = reply.verify_signature(&validator, TARGET).expect("the response signature verifies");
    assert_eq!(signer, miner_key().account(), "signed by the miner's hotkey");

    // The signature binds the body, the target and the receiver.
    let mut tampered = reply.body.clone();
    tampered[5] ^= 1;
    let forged = crate::Reply { status: reply.status, headers: reply.headers.clone(), body: tampered };
    assert_eq!(forged.verify_signature(&validator, TARGET).err(), Some(btauth::AuthError::BadSignature));
    assert!(reply.verify_signature(&validator, "/other/task").is_err(), "bound to the request target");
    assert_eq!(
        reply.verify_signature(&extra_key(9), TARGET).err(),
        Some(btauth::AuthError::WrongReceiver),
        "bound to the calling validator"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let options = Options { max_body_bytes: 64, ..Options::default() };
    let fixture = Fixture::with(Setup { options, ..Setup::default() }).await;
    let body = task(json!({ "x": 1, "mode": "ok", "padding": "p".repeat(100) }));

    // Declared length over the limit: refused before reading.
    let mut request = signed(&validator_key(), &body);
    request.headers_mut().insert(http::header::CONTENT_LENGTH, body.len().into());
    fixture.send(request).await.expect(StatusCode::PAYLOAD_TOO_LARGE);

    // No declared length (streamed): refused while reading.
    let request = signed(&validator_key(), &body);
    assert!(request.headers().get(http::header::CONTENT_LENGTH).is_none());
    let reply = fixture.send(request).await;
    reply.expect(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply.json()["error"].as_str().expect("an error message").contains("64 bytes"));

    // A task within the limit is answered.
    let small = task(json!({ "x": 1 }));
    fixture.send(signed(&validator_key(), &small)).await.expect(StatusCode::OK);
}

#[tokio::test]
async fn malformed_auth_headers_are_401() {
    let fixture = Fixture::new().await;
    let unsigned = http::Request::post(TARGET).body(Body::from(task(json!({ "x": 1 })))).expect("a request");
    let reply = fixture.send(unsigned).await;
    reply.expect(StatusCode::UNAUTHORIZED);
    assert!(reply.text().contains("X-Bittensor-Version"), "names the missing header: {}", reply.text());

    let mut bad_nonce = signed(&validator_key(), &task(json!({ "x": 1 })));
    bad_nonce.headers_mut().insert(btauth::HEADER_NONCE, http::HeaderValue::from_static("0012"));
    fixture.send(bad_nonce).await.expect(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_bad_signature_is_401() {
    let fixture = Fixture::new().await;
    let body = task(json!({ "x": 1 }));
    let request = signed(&validator_key(), &body);
    let (parts, _) = request.into_parts();
    let tampered = http::Request::from_parts(parts, Body::from(task(json!({ "x": 2 }))));
    let reply = fixture.send(tampered).await;
    reply.expect(StatusCode::UNAUTHORIZED);
    assert_eq!(reply.json()["error"], "bad signature");
    assert!(reply.verify_signature(&validator_key(), TARGET).is_err(), "refusals are not signed");
}

#[tokio::test]
async fn stale_and_future_nonces_are_401() {
    let fixture = Fixture::new().await;
    let body = task(json!({ "x": 1 }));
    let miner = miner_key().account();
    let now = btauth::now_ns();
    let stale = signed_at(&validator_key(), &miner, TARGET, &body, now - 60_000_000_000);
    let reply = fixture.send(stale).await;
    reply.expect(StatusCode::UNAUTHORIZED);
    assert!(reply.text().contains("stale"), "{}", reply.text());
    let future = signed_at(&validator_key(), &miner, TARGET, &body, now + 60_000_000_000);
    fixture.send(future).await.expect(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_replayed_request_is_401() {
    let fixture = Fixture::new().await;
    let body = task(json!({ "x": 3 }));
    let nonce = btauth::now_ns();
    let miner = miner_key().account();
    fixture.send(signed_at(&validator_key(), &miner, TARGET, &body, nonce)).await.expect(StatusCode::OK);
    let reply = fixture.send(signed_at(&validator_key(), &miner, TARGET, &body, nonce)).await;
    reply.expect(StatusCode::UNAUTHORIZED);
    assert!(reply.text().contains("replayed"), "{}", reply.text());
}

#[tokio::test]
async fn a_request_for_another_receiver_is_403() {
    let fixture = Fixture::new().await;
    let body = task(json!({ "x": 1 }));
    let other = extra_key(9).account();
    let reply = fixture.send(signed_at(&validator_key(), &other, TARGET, &body, btauth::now_ns())).await;
    reply.expect(StatusCode::FORBIDDEN);
    assert!(reply.text().contains("receiver"), "{}", reply.text());
}

#[tokio::test]
async fn a_request_signed_for_another_target_is_401() {
    let fixture = Fixture::new().await;
    let body = task(json!({ "x": 1 }));
    let request = signed_at(&validator_key(), &miner_key().account(), "/other/task", &body, btauth::now_ns());
    let (mut parts, body) = request.into_parts();
    parts.uri = TARGET.parse().expect("a valid uri");
    fixture.send(http::Request::from_parts(parts, body)).await.expect(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unauthorised_callers_are_403_and_leave_no_replay_record() {
    let options = Options { min_stake: 10_000, ..Options::default() };
    let low_stake = extra_key(3);
    let neurons = vec![
        neuron(0, &validator_key(), 1_000_000, true),
        neuron(2, &extra_key(2), 1_000_000, false),
        neuron(3, &low_stake, 9_999, true),
    ];
    let fixture = Fixture::with(Setup { options, neurons, ..Setup::default() }).await;
    let body = task(json!({ "x": 1 }));
    for (key, expected) in
        [(extra_key(8), "not registered"), (extra_key(2), "no validator permit"), (low_stake, "below the minimum")]
    {
        let reply = fixture.send(signed(&key, &body)).await;
        reply.expect(StatusCode::FORBIDDEN);
        assert!(reply.text().contains(expected), "{} in {}", expected, reply.text());
    }
    // The same signed request is accepted once the caller is authorised: the refusal did not
    // record its nonce.
    let key = extra_key(8);
    let nonce = btauth::now_ns();
    let miner = miner_key().account();
    fixture.send(signed_at(&key, &miner, TARGET, &body, nonce)).await.expect(StatusCode::FORBIDDEN);
    fixture.write_metagraph(vec![neuron(0, &validator_key(), 1_000_000, true), neuron(8, &key, 50_000, true)]);
    fixture.state.refresh_metagraphs(&fixture.source()).await.expect("the metagraph reloads");
    fixture.send(signed_at(&key, &miner, TARGET, &body, nonce)).await.expect(StatusCode::OK);
}

#[tokio::test]
async fn a_caller_over_its_rate_is_429_with_retry_after() {
    let one = NonZeroU32::new(1).expect("1 > 0");
    let rate_limit = RateLimit { per_second: one, burst: NonZeroU32::new(2).expect("2 > 0") };
    let fixture =
        Fixture::with(Setup { options: Options { rate_limit, ..Options::default() }, ..Setup::default() }).await;
    let body = task(json!({ "x": 1 }));
    // A burst of two, then refusals (one more may pass if a slow machine takes a second here).
    let mut answered = 0;
    let refused = loop {
        let reply = fixture.send(signed(&validator_key(), &body)).await;
        if reply.status != StatusCode::OK || answered == 10 {
            break reply;
        }
        answered += 1;
    };
    refused.expect(StatusCode::TOO_MANY_REQUESTS);
    assert!((2..=3).contains(&answered), "{answered} answered before the limit");
    assert_eq!(refused.retry_after(), Some(1));
    // The limit is per caller: another validator is unaffected.
    let other = extra_key(4);
    fixture.write_metagraph(vec![neuron(0, &validator_key(), 1_000_000, true), neuron(4, &other, 10, true)]);
    fixture.state.refresh_metagraphs(&fixture.source()).await.expect("the metagraph reloads");
    fixture.send(signed(&other, &body)).await.expect(StatusCode::OK);
}

#[tokio::test]
async fn a_task_outside_the_schema_is_400_naming_the_field() {
    let fixture = Fixture::new().await;
    let reply = fixture.send(signed(&validator_key(), &task(json!({ "x": "two" })))).await;
    reply.expect(StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["pointer"], "/x");
    assert!(reply.json()["error"].as_str().expect("a message").contains("/x"));

    let reply = fixture.send(signed(&validator_key(), &task(json!({ "y": 1 })))).await;
    reply.expect(StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["pointer"], "", "a missing field is reported at the object");

    let reply = fixture.send(signed(&validator_key(), b"{not json")).await;
    reply.expect(StatusCode::BAD_REQUEST);
    assert!(reply.text().contains("not valid JSON"), "{}", reply.text());
    assert_eq!(fixture.entered.load(std::sync::atomic::Ordering::SeqCst), 0, "the miner never saw them");
}

#[tokio::test]
async fn a_miner_over_its_deadline_is_504() {
    let setup = Setup { deadline: Duration::from_millis(200), ..Setup::default() };
    let fixture = Fixture::with(setup).await;
    let reply = fixture.send(signed(&validator_key(), &task(json!({ "x": 1, "mode": "slow" })))).await;
    reply.expect(StatusCode::GATEWAY_TIMEOUT);
    // The slot was given back: the next task runs.
    fixture.send(signed(&validator_key(), &task(json!({ "x": 1 })))).await.expect(StatusCode::OK);
}

#[tokio::test]
async fn a_miner_bug_is_500_and_never_sent() {
    let fixture = Fixture::new().await;
    for mode in ["bad-output", "fail", "panic"] {
        let reply = fixture.send(signed(&validator_key(), &task(json!({ "x": 1, "mode": mode })))).await;
        reply.expect(StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!reply.text().contains("SECRET"), "the miner's output or error leaked: {}", reply.text());
    }
    fixture.send(signed(&validator_key(), &task(json!({ "x": 1 })))).await.expect(StatusCode::OK);
}

#[tokio::test]
async fn tasks_wait_with_503_until_a_metagraph_is_loaded() {
    let fixture = Fixture::new().await;
    // A second miner over the same subnet config, with no metagraph yet.
    let subnet = miner::Subnet::new(
        "double",
        NETUID,
        crate::TASK_SCHEMA,
        crate::RESPONSE_SCHEMA,
        crate::Doubler { gate: fixture.gate.clone(), entered: fixture.entered.clone(), order: fixture.order.clone() },
    )
    .expect("valid");
    let state = miner::MinerState::new(miner_key(), Options::default(), vec![subnet]).expect("valid");
    let router = miner::router(state.clone());
    let reply = crate::Reply::read(
        tower::ServiceExt::oneshot(router.clone(), signed(&validator_key(), &task(json!({ "x": 1 }))))
            .await
            .expect("infallible"),
    )
    .await;
    reply.expect(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.retry_after(), Some(1));
    state.refresh_metagraphs(&fixture.source()).await.expect("loads");
    let reply = crate::Reply::read(
        tower::ServiceExt::oneshot(router, signed(&validator_key(), &task(json!({ "x": 1 }))))
            .await
            .expect("infallible"),
    )
    .await;
    reply.expect(StatusCode::OK);
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_last_good_metagraph() {
    let fixture = Fixture::new().await;
    std::fs::write(fixture.metagraph_path(), b"[{\"netuid\": 7, \"neurons\": [").expect("writable");
    let error = fixture.state.refresh_metagraphs(&fixture.source()).await.expect_err("a broken file fails");
    assert!(error.to_string().contains("parse"), "{error}");
    fixture.write_metagraph(vec![
        neuron(0, &validator_key(), 1, true),
        neuron(1, &extra_key(5), 1, true),
        neuron(1, &extra_key(6), 1, true),
    ]);
    let error = fixture.state.refresh_metagraphs(&fixture.source()).await.expect_err("a repeated uid fails");
    assert!(error.to_string().contains("uid 1"), "{error}");
    fixture.send(signed(&validator_key(), &task(json!({ "x": 1 })))).await.expect(StatusCode::OK);
}

#[tokio::test]
async fn the_background_refresh_admits_a_newly_registered_validator() {
    let fixture = Fixture::new().await;
    let _refresh = fixture.state.spawn_metagraph_refresh(fixture.source(), Duration::from_millis(20));
    let newcomer = extra_key(7);
    let body = task(json!({ "x": 1 }));
    fixture.send(signed(&newcomer, &body)).await.expect(StatusCode::FORBIDDEN);
    fixture.write_metagraph(vec![neuron(0, &validator_key(), 1_000_000, true), neuron(5, &newcomer, 2_000, true)]);
    crate::eventually(|| async { fixture.send(signed(&newcomer, &body)).await.status == StatusCode::OK }).await;
}

#[tokio::test]
async fn health_reports_subnets_and_metagraph_age() {
    let fixture = Fixture::new().await;
    let reply = fixture.get("/health").await;
    reply.expect(StatusCode::OK);
    let health = reply.json();
    assert_eq!(health["hotkey"], miner_key().account().to_ss58());
    let subnet = &health["subnets"][0];
    assert_eq!(subnet["name"], "double");
    assert_eq!(subnet["netuid"], NETUID);
    assert_eq!(subnet["metagraph"]["neurons"], 3);
    let age = subnet["metagraph"]["age_seconds"].as_f64().expect("an age");
    assert!((0.0..60.0).contains(&age), "{age}");
}

#[tokio::test]
async fn metrics_count_requests_latency_queue_and_auth_failures() {
    let fixture = Fixture::new().await;
    let body = task(json!({ "x": 1 }));
    fixture.send(signed(&validator_key(), &body)).await.expect(StatusCode::OK);
    fixture.send(signed(&extra_key(8), &body)).await.expect(StatusCode::FORBIDDEN);
    let unsigned = http::Request::post(TARGET).body(Body::from(body.clone())).expect("a request");
    fixture.send(unsigned).await.expect(StatusCode::UNAUTHORIZED);

    let reply = fixture.get("/metrics").await;
    reply.expect(StatusCode::OK);
    let text = reply.text();
    for line in [
        r#"miner_requests_total{subnet="double",status="200"} 1"#,
        r#"miner_requests_total{subnet="double",status="403"} 1"#,
        r#"miner_requests_total{subnet="double",status="401"} 1"#,
        r#"miner_auth_failures_total{subnet="double",reason="not registered"} 1"#,
        r#"miner_auth_failures_total{subnet="double",reason="malformed"} 1"#,
        r#"miner_handler_duration_seconds_count{subnet="double"} 1"#,
        r#"miner_queue_depth{subnet="double"} 0"#,
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
    }
}

#[tokio::test]
async fn slow_bodies_are_408_and_cannot_hold_more_than_the_cap() {
    let options = Options { max_unauthenticated: 1, body_timeout: Duration::from_millis(300), ..Options::default() };
    let fixture = Fixture::with(Setup { options, ..Setup::default() }).await;
    // A caller that sends headers and then only part of its body.
    let (mut sender, stalled) = http_body_util::channel::Channel::<axum::body::Bytes>::new(1);
    sender.send_data(axum::body::Bytes::from_static(b"{\"x\":")).await.expect("the body channel is open");
    let request = http::Request::post(TARGET).body(Body::new(stalled)).expect("a request");
    let router = fixture.router.clone();
    let slow = tokio::spawn(async move {
        crate::Reply::read(tower::ServiceExt::oneshot(router, request).await.expect("infallible")).await
    });

    // While it holds the only permit, other requests are refused at once, not queued.
    let body = task(json!({ "x": 1 }));
    crate::eventually(|| async {
        fixture.send(signed(&validator_key(), &body)).await.status == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    let busy = fixture.send(signed(&validator_key(), &body)).await;
    busy.expect(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(busy.retry_after(), Some(1));

    slow.await.expect("no panic").expect(StatusCode::REQUEST_TIMEOUT);
    drop(sender);
    fixture.send(signed(&validator_key(), &body)).await.expect(StatusCode::OK);
}

#[tokio::test]
async fn a_query_in_the_target_binds_the_response_to_one_request() {
    let fixture = Fixture::new().await;
    let validator = validator_key();
    let target = "/double/task?request=8c1f";
    let body = task(json!({ "x": 2 }));
    let reply = fixture.send(signed_at(&validator, &miner_key().account(), target, &body, btauth::now_ns())).await;
    reply.expect(StatusCode::OK);
    reply.verify_signature(&validator, target).expect("signed over the target as sent, query included");
    assert!(reply.verify_signature(&validator, TARGET).is_err(), "another request's target does not verify");
}

#[tokio::test]
async fn each_subnet_has_its_own_route_and_metagraph() {
    let doubler = || crate::Doubler {
        gate: std::sync::Arc::new(tokio::sync::Semaphore::new(0)),
        entered: Default::default(),
        order: Default::default(),
    };
    let subnets = vec![
        miner::Subnet::new("double", NETUID, crate::TASK_SCHEMA, crate::RESPONSE_SCHEMA, doubler()).expect("valid"),
        miner::Subnet::new("other", 8, crate::TASK_SCHEMA, crate::RESPONSE_SCHEMA, doubler()).expect("valid"),
    ];
    let state = miner::MinerState::new(miner_key(), Options::default(), subnets).expect("valid");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("metagraphs.json");
    let graphs = vec![
        miner::Metagraph { netuid: NETUID, neurons: vec![neuron(0, &validator_key(), 100, true)] },
        miner::Metagraph { netuid: 8, neurons: vec![neuron(0, &extra_key(30), 100, true)] },
    ];
    std::fs::write(&path, serde_json::to_vec(&graphs).expect("serialises")).expect("writable");
    state.refresh_metagraphs(&miner::FileSource::new(&path)).await.expect("both load");
    let router = miner::router(state);
    let send = |key: protocol::Keypair, target: &'static str| {
        let request = signed_at(&key, &miner_key().account(), target, &task(json!({ "x": 1 })), btauth::now_ns());
        let router = router.clone();
        async move { crate::Reply::read(tower::ServiceExt::oneshot(router, request).await.expect("infallible")).await }
    };
    send(validator_key(), "/double/task").await.expect(StatusCode::OK);
    send(validator_key(), "/other/task").await.expect(StatusCode::FORBIDDEN);
    send(extra_key(30), "/other/task").await.expect(StatusCode::OK);
    send(extra_key(30), "/double/task").await.expect(StatusCode::FORBIDDEN);
}
