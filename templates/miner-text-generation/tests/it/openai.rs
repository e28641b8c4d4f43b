//! The OpenAI-compatible backend against a real HTTP server on loopback that speaks the
//! chat-completions JSON shape.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use miner_text_generation::{
    Backend, GenerateError, GenerationRequest, Generator, GeneratorConfig, OpenAiCompatible, OpenAiConfig,
};
use serde_json::{Value, json};

/// How the fake server answers.
#[derive(Clone, Copy)]
enum Answer {
    /// A chat completion whose content is the given text.
    Content(&'static str),
    /// A raw 200 body.
    Raw(&'static str),
    /// An error status with a body.
    Status(u16, &'static str),
    /// A chat completion, after sleeping this long.
    Slow(Duration),
}

/// One request the server received.
#[derive(Clone, Debug)]
struct Seen {
    authorization: Option<String>,
    body: Value,
}

#[derive(Clone)]
struct Server {
    answer: Answer,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "some-model",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"},
            {"index": 1, "message": {"role": "assistant", "content": "second choice"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    })
}

async fn chat(State(server): State<Server>, headers: HeaderMap, body: axum::Json<Value>) -> Response {
    let authorization = headers.get("authorization").map(|value| value.to_str().unwrap().to_owned());
    server.seen.lock().unwrap().push(Seen { authorization, body: body.0 });
    match server.answer {
        Answer::Content(content) => axum::Json(completion(content)).into_response(),
        Answer::Raw(raw) => ([("content-type", "application/json")], raw).into_response(),
        Answer::Status(status, body) => (StatusCode::from_u16(status).unwrap(), body).into_response(),
        Answer::Slow(delay) => {
            tokio::time::sleep(delay).await;
            axum::Json(completion("too late")).into_response()
        }
    }
}

/// Starts a server on `127.0.0.1:0`; it stops with the test's runtime.
async fn serve(answer: Answer) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app =
        Router::new().route("/v1/chat/completions", post(chat)).with_state(Server { answer, seen: Arc::clone(&seen) });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen)
}

fn client(addr: SocketAddr, timeout_ms: u64, api_key: Option<&str>) -> OpenAiCompatible {
    let config = OpenAiConfig { timeout_ms, ..OpenAiConfig::new(format!("http://{addr}"), "some-model") };
    OpenAiCompatible::new(&config, api_key.map(str::to_owned)).unwrap()
}

#[tokio::test]
async fn sends_a_chat_completion_request_and_reads_the_first_choice() {
    let (addr, seen) = serve(Answer::Content("  The capital of France is Paris.\n")).await;
    let request = GenerationRequest::new("What is the capital of France?")
        .with_system("Answer briefly.")
        .with_max_new_tokens(32)
        .with_stop("\n\n");
    let text = client(addr, 5_000, Some("sk-test")).generate(&request).await.unwrap();
    assert_eq!(text, "The capital of France is Paris.");

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].authorization.as_deref(), Some("Bearer sk-test"));
    assert_eq!(
        seen[0].body,
        json!({
            "model": "some-model",
            "messages": [
                {"role": "system", "content": "Answer briefly."},
                {"role": "user", "content": "What is the capital of France?"}
            ],
            "max_tokens": 32,
            "temperature": 0.0,
            "stream": false,
            "stop": ["\n\n"]
        })
    );
}

#[tokio::test]
async fn without_a_key_or_system_prompt_sends_neither() {
    let (addr, seen) = serve(Answer::Content("ok")).await;
    client(addr, 5_000, None).generate(&GenerationRequest::new("hi")).await.unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].authorization, None);
    assert_eq!(seen[0].body["messages"], json!([{"role": "user", "content": "hi"}]));
    assert!(seen[0].body.get("stop").is_none(), "{}", seen[0].body);
}

#[tokio::test]
async fn applies_stop_strings_and_the_byte_limit_to_the_content() {
    let (addr, _) = serve(Answer::Content("Paris is the capital. STOP and more")).await;
    let backend = client(addr, 5_000, None);
    let text = backend.generate(&GenerationRequest::new("q").with_stop("STOP")).await.unwrap();
    assert_eq!(text, "Paris is the capital.");
    let text = backend.generate(&GenerationRequest::new("q").with_max_bytes(5)).await.unwrap();
    assert_eq!(text, "Paris");
}

#[tokio::test]
async fn an_error_status_names_the_url_status_and_body() {
    let (addr, _) = serve(Answer::Status(500, "model overloaded")).await;
    let error = client(addr, 5_000, None).generate(&GenerationRequest::new("q")).await.unwrap_err();
    let url = format!("http://{addr}/v1/chat/completions");
    match &error {
        GenerateError::Status { url: got, status: 500, body } => {
            assert_eq!(got, &url);
            assert_eq!(body, "model overloaded");
        }
        other => panic!("expected a 500, got {other:?}"),
    }
    assert_eq!(error.to_string(), format!("{url} answered HTTP 500: model overloaded"));
}

#[tokio::test]
async fn malformed_answers_are_errors_that_name_the_url() {
    for (raw, needle) in [
        ("{not json", "key must be a string"),
        (r#"{"object": "chat.completion"}"#, "missing field `choices`"),
        (r#"{"choices": []}"#, "no choices"),
        (
            r#"{"choices": [{"message": {"role": "assistant", "content": null}, "finish_reason": "tool_calls"}]}"#,
            "no message content (finish_reason tool_calls)",
        ),
    ] {
        let (addr, _) = serve(Answer::Raw(raw)).await;
        let error = client(addr, 5_000, None).generate(&GenerationRequest::new("q")).await.unwrap_err();
        assert!(matches!(error, GenerateError::MalformedResponse { .. }), "{raw}: {error:?}");
        let message = error.to_string();
        assert!(message.starts_with(&format!("http://{addr}/v1/chat/completions answered with a malformed")));
        assert!(message.contains(needle), "`{message}` should contain `{needle}`");
    }
}

#[tokio::test]
async fn a_slow_server_times_out_at_the_configured_timeout() {
    let (addr, _) = serve(Answer::Slow(Duration::from_secs(30))).await;
    let started = Instant::now();
    let error = client(addr, 300, None).generate(&GenerationRequest::new("q")).await.unwrap_err();
    let elapsed = started.elapsed();
    match error {
        GenerateError::Timeout { url, timeout } => {
            assert_eq!(url, format!("http://{addr}/v1/chat/completions"));
            assert_eq!(timeout, Duration::from_millis(300));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[tokio::test]
async fn a_shorter_request_time_limit_wins_over_the_configured_timeout() {
    let (addr, _) = serve(Answer::Slow(Duration::from_secs(30))).await;
    let request = GenerationRequest::new("q").with_time_limit(Duration::from_millis(200));
    let error = client(addr, 10_000, None).generate(&request).await.unwrap_err();
    assert!(
        matches!(error, GenerateError::Timeout { timeout, .. } if timeout == Duration::from_millis(200)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_closed_port_is_a_request_error_naming_the_url() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let error = client(addr, 5_000, None).generate(&GenerationRequest::new("q")).await.unwrap_err();
    assert!(matches!(error, GenerateError::Request { .. }), "{error:?}");
    assert_eq!(error.to_string(), format!("request to http://{addr}/v1/chat/completions failed"));
}

#[tokio::test]
async fn the_config_built_backend_generates_through_the_server() {
    let (addr, _) = serve(Answer::Content("42")).await;
    let config: GeneratorConfig = serde_json::from_value(json!({
        "backend": "openai_compatible", "base_url": format!("http://{addr}/"), "model": "some-model"
    }))
    .unwrap();
    let backend = Backend::from_config(&config).unwrap();
    assert_eq!(backend.generate(&GenerationRequest::new("6 * 7?")).await.unwrap(), "42");
}

#[test]
fn debug_output_redacts_the_api_key() {
    let backend =
        OpenAiCompatible::new(&OpenAiConfig::new("http://127.0.0.1:9", "m"), Some("sk-secret".into())).unwrap();
    let debug = format!("{backend:?}");
    assert!(!debug.contains("sk-secret") && debug.contains("<redacted>"), "{debug}");
}
