//! The HTTP backend against a real image server on 127.0.0.1.

use std::time::Duration;

use axum::Json;
use axum::http::StatusCode;
use axum::routing::post;
use miner_image_aesthetics::{Config, HttpError, ImageAestheticsMiner, ImageAnswer, ImageTask, Renderer};

use crate::{decode, task};

/// Serves `app` on 127.0.0.1:0 and returns its base URL; the server stops with the runtime.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    format!("http://{address}")
}

fn miner(url: String, timeout_ms: u64) -> ImageAestheticsMiner {
    ImageAestheticsMiner::new(Config::Http { url, timeout_ms }).expect("valid")
}

fn http_error<'a>(error: &'a (dyn std::error::Error + Send + Sync + 'static)) -> &'a HttpError {
    error.downcast_ref::<HttpError>().expect("an HttpError")
}

#[tokio::test]
async fn the_server_gets_the_task_and_its_picture_is_checked_and_passed_on() {
    // An image server that renders with the built-in renderer, after checking what it received.
    let app = axum::Router::new().route(
        "/generate",
        post(|Json(task): Json<ImageTask>| async move {
            assert_eq!(task.prompt, "a red barn");
            Json(Renderer { seed: 9 }.answer(&task).expect("rendered"))
        }),
    );
    let base = serve(app).await;
    let answer =
        miner(format!("{base}/generate"), 5_000).answer(task("a red barn", 320, 240)).await.expect("an answer");
    let picture = decode(&answer.image);
    assert_eq!((picture.width, picture.height), (320, 240));
}

#[tokio::test]
async fn bad_answers_from_the_server_are_refused() {
    let app = axum::Router::new()
        .route("/fail", post(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .route("/text", post(|| async { "not json" }))
        .route("/gif", post(|| async { Json(ImageAnswer { image: "R0lGODlhAQABAAAAACw=".to_owned() }) }))
        .route("/huge", post(|| async { Json(ImageAnswer { image: "A".repeat(600_000) }) }))
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                StatusCode::OK
            }),
        );
    let base = serve(app).await;
    let ask = |path: &str, timeout_ms| {
        let miner = miner(format!("{base}{path}"), timeout_ms);
        async move { miner.answer(task("a red barn", 64, 64)).await.expect_err("refused") }
    };
    assert!(matches!(http_error(&*ask("/fail", 5_000).await), HttpError::Status(500)));
    assert!(matches!(http_error(&*ask("/text", 5_000).await), HttpError::NotJson(_)));
    assert!(matches!(http_error(&*ask("/gif", 5_000).await), HttpError::Unacceptable(_)));
    assert!(matches!(http_error(&*ask("/huge", 5_000).await), HttpError::TooLarge(_)));
    assert!(matches!(http_error(&*ask("/slow", 200).await), HttpError::Transport(_)));
}
