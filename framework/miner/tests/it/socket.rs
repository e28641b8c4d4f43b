//! The server on a real socket (`127.0.0.1:0`) with a real HTTP client signing with `protocol`.

use std::time::Duration;

use axum::http::StatusCode;
use protocol::btauth;
use serde_json::json;

use crate::{Fixture, Reply, TARGET, miner_key, task, validator_key};

/// Sends a task signed by the test validator over HTTP.
async fn post(client: &reqwest::Client, base: &str, body: &[u8]) -> reqwest::Response {
    let request = btauth::Request { method: "POST", target: TARGET, body };
    let headers = btauth::sign(&validator_key(), &request, Some(&miner_key().account()), btauth::now_ns())
        .expect("the request signs");
    let mut builder =
        client.post(format!("{base}{TARGET}")).header("content-type", "application/json").body(body.to_vec());
    for (name, value) in headers.to_pairs() {
        builder = builder.header(name, value);
    }
    builder.send().await.expect("the server answers")
}

#[tokio::test]
async fn serves_signed_tasks_over_http_and_shuts_down_gracefully() {
    let fixture = Fixture::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("bound"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(miner::serve(listener, fixture.router.clone(), async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();

    let response = post(&client, &base, &task(json!({ "x": 5 }))).await;
    let reply = Reply {
        status: StatusCode::from_u16(response.status().as_u16()).expect("a status"),
        headers: response.headers().clone(),
        body: response.bytes().await.expect("a body").to_vec(),
    };
    reply.expect(StatusCode::OK);
    assert_eq!(reply.json(), json!({ "y": 10 }));
    let signer = reply.verify_signature(&validator_key(), TARGET).expect("the response signature verifies");
    assert_eq!(signer, miner_key().account());

    // A task in flight when shutdown starts still completes.
    let in_flight = tokio::spawn({
        let client = client.clone();
        let base = base.clone();
        async move { post(&client, &base, &task(json!({ "x": 1, "mode": "gate" }))).await.status() }
    });
    fixture.entered(2).await;
    stop.send(()).expect("the server listens for shutdown");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!server.is_finished(), "shutdown waits for the task in flight");
    fixture.gate.add_permits(1);
    assert_eq!(in_flight.await.expect("no panic"), StatusCode::OK);
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops")
        .expect("no panic")
        .expect("no I/O error");
}

#[tokio::test]
async fn health_and_metrics_over_http() {
    let fixture = Fixture::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("bound"));
    let _server = tokio::spawn(miner::serve(listener, fixture.router.clone(), std::future::pending()));
    let client = reqwest::Client::new();
    let health = client.get(format!("{base}/health")).send().await.expect("answers");
    assert_eq!(health.status(), StatusCode::OK);
    let metrics = client.get(format!("{base}/metrics")).send().await.expect("answers");
    assert_eq!(metrics.status(), StatusCode::OK);
    let content_type = metrics.headers()["content-type"].to_str().expect("ascii").to_owned();
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    let text = metrics.text().await.expect("text");
    assert!(text.contains("# TYPE miner_queue_depth gauge"), "{text}");
    let unknown = client.post(format!("{base}/nope/task")).send().await.expect("answers");
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let wrong_method = client.get(format!("{base}{TARGET}")).send().await.expect("answers");
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn slow_headers_are_cut_off_and_connections_are_capped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let fixture = Fixture::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let address = listener.local_addr().expect("bound");
    let options = miner::ServeOptions {
        max_connections: 1,
        header_read_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let router = fixture.router.clone();
    let _server =
        tokio::spawn(async move { miner::serve_with(listener, router, &options, std::future::pending()).await });

    // A client that never finishes its headers holds the only connection slot...
    let mut slow = tokio::net::TcpStream::connect(address).await.expect("connects");
    slow.write_all(b"POST /double/task HTTP/1.1\r\nhost: miner\r\n").await.expect("writes");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = std::time::Instant::now();
    let health = tokio::spawn(async move {
        let status =
            reqwest::Client::new().get(format!("http://{address}/health")).send().await.expect("answers").status();
        (status, started.elapsed())
    });
    // ...until the server cuts it off.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the server closes a connection whose headers never finish");
    let (status, waited) = health.await.expect("no panic");
    assert_eq!(status, StatusCode::OK);
    assert!(waited >= Duration::from_millis(200), "the second connection waited for the slot ({waited:?})");
}
