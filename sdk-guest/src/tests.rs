//! Tests of the export glue, through [`testing`](crate::testing), with small mechanisms.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::testing::{self, Batch};
use crate::{ABI_VERSION, Context, Manifest, Mechanism, NoTruth, Outcome, Response, Scores, Task, wire};

/// Scores each response by `value / 10`, with hooks and knobs for error paths.
struct Tens;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Question {
    /// Which behaviour `score` should show.
    mode: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Secret {
    key: u64,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Answer {
    value: f64,
}

impl Mechanism for Tens {
    type Task = Question;
    type Private = Secret;
    type Response = Answer;
    type Truth = NoTruth;

    fn manifest() -> Manifest {
        Manifest::new("tens", "1.2.3", "Scores value / 10.").with_feed("price:BTC-USDT")
    }

    fn make_task(ctx: &Context) -> Result<Task<Question, Secret>, String> {
        if ctx.seed == 13 {
            return Err("unlucky seed".into());
        }
        let price: f64 = ctx.feed("price:BTC-USDT").unwrap_or(0.0);
        let mode = if price > 0.0 { "priced" } else { "plain" };
        Ok(Task::immediate(Question { mode: mode.into() }, Secret { key: ctx.rng().next_u64() }))
    }

    fn score(
        task: &Task<Question, Secret>,
        responses: &[Response<Answer>],
        _: Option<&NoTruth>,
    ) -> Result<Scores, String> {
        let mut values: Vec<f64> = responses.iter().map(|r| r.ok().map_or(0.0, |a| a.value / 10.0)).collect();
        match task.public.mode.as_str() {
            "refuse" => return Err("cannot score this".into()),
            "short" => {
                values.pop();
            }
            _ => {}
        }
        let reasons: Vec<String> = responses.iter().filter_map(|r| r.invalid_reason.clone()).collect();
        Ok(Scores::new(values).with_diagnostics(reasons.join("; ")))
    }

    fn check_response(_: &Task<Question, Secret>, response: &Answer) -> Result<(), String> {
        if response.value == 7.0 { Err("7 is not allowed".into()) } else { Ok(()) }
    }
}

/// A delayed-settlement mechanism that needs the truth.
struct Oracle;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Price {
    price: f64,
}

impl Mechanism for Oracle {
    type Task = ();
    type Private = ();
    type Response = Price;
    type Truth = Price;

    fn manifest() -> Manifest {
        Manifest::new("oracle", "0.1.0", "Predict the price.")
    }

    fn make_task(_: &Context) -> Result<Task<(), ()>, String> {
        Ok(Task::delayed((), (), 60_000))
    }

    fn score(_: &Task<(), ()>, responses: &[Response<Price>], truth: Option<&Price>) -> Result<Scores, String> {
        let truth = truth.ok_or("the truth is missing")?;
        Ok(Scores::new(
            responses
                .iter()
                .map(|r| r.ok().map_or(0.0, |p| crate::score::clamp(1.0 - (p.price - truth.price).abs() / truth.price)))
                .collect(),
        ))
    }
}

crate::export_mechanism!(Tens);

mod second_module {
    // One export per module compiles (natively); the wasm build would refuse duplicate exports.
    crate::export_mechanism!(super::Oracle);
}

fn task_with_mode(mode: &str) -> wire::Task {
    wire::Task {
        public: format!(r#"{{"mode":"{mode}"}}"#).into_bytes(),
        private: br#"{"key":1}"#.to_vec(),
        settlement: wire::Settlement::Immediate,
    }
}

#[test]
fn abi_version_matches_the_wit_package() {
    let wit = include_str!("../wit/mechanism.wit");
    assert!(wit.contains(&format!("package subnetkit:mechanism@{ABI_VERSION};")));
    let bytes: [u8; 5] = crate::__private::abi_bytes(ABI_VERSION);
    assert_eq!(&bytes, ABI_VERSION.as_bytes());
}

#[test]
fn manifest_carries_schemas_and_defaults() {
    let m = testing::manifest::<Tens>();
    assert_eq!((m.name.as_str(), m.version.as_str()), ("tens", "1.2.3"));
    assert_eq!(m.feeds, ["price:BTC-USDT"]);
    assert_eq!(m.defaults.query_timeout_ms, 12_000);
    assert_eq!(m.defaults.settlement_delay_ms, None);
    assert_eq!(m.truth_schema, None, "NoTruth has no schema");
    let task: serde_json::Value = serde_json::from_str(&m.task_schema).unwrap();
    assert_eq!(task["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(task["title"], "Question");
    assert_eq!(task["properties"]["mode"]["type"], "string");
    assert_eq!(task["properties"]["mode"]["description"], "Which behaviour `score` should show.");
    let response: serde_json::Value = serde_json::from_str(&m.response_schema).unwrap();
    assert_eq!(response["additionalProperties"], false);

    let m = testing::manifest::<Oracle>();
    let truth: serde_json::Value = serde_json::from_str(m.truth_schema.as_deref().unwrap()).unwrap();
    assert_eq!(truth["title"], "Price");
}

#[test]
fn make_task_is_deterministic_and_encodes_json() {
    let a = testing::make_task::<Tens>(&testing::context(5)).unwrap();
    let b = testing::make_task::<Tens>(&testing::context(5)).unwrap();
    let c = testing::make_task::<Tens>(&testing::context(6)).unwrap();
    assert_eq!(a.public, br#"{"mode":"plain"}"#);
    assert_eq!(a.private, b.private);
    assert_ne!(a.private, c.private);
    assert!(matches!(a.settlement, wire::Settlement::Immediate));
    let task = testing::decode_task::<Tens>(&a).unwrap();
    assert_eq!(task.private.key, crate::rng::Rng::from_seed(5).next_u64());

    let delayed = testing::make_task::<Oracle>(&testing::context(0)).unwrap();
    assert!(matches!(delayed.settlement, wire::Settlement::Delayed(60_000)));
}

#[test]
fn make_task_reads_feeds_and_passes_errors() {
    let mut ctx = testing::context(1);
    ctx.feeds.push(wire::FeedValue { name: "price:BTC-USDT".into(), value: b"97000.5".to_vec() });
    let task = testing::make_task::<Tens>(&ctx).unwrap();
    assert_eq!(task.public, br#"{"mode":"priced"}"#);
    assert_eq!(testing::make_task::<Tens>(&testing::context(13)).unwrap_err(), "unlucky seed");

    let ctx =
        Context { feeds: vec![crate::Feed { name: "x".into(), value: b"\"text\"".to_vec() }], ..Context::with_seed(0) };
    assert_eq!(ctx.feed::<String>("x").unwrap(), "text");
    assert_eq!(ctx.feed::<u32>("y").unwrap_err(), "feed `y` is missing");
    assert!(
        ctx.feed::<u32>("x").unwrap_err().starts_with("invalid feed `x`: invalid type"),
        "{:?}",
        ctx.feed::<u32>("x")
    );
}

#[test]
fn bad_bodies_become_invalid_responses() {
    let responses = [
        testing::ok_response(0, &serde_json::json!({ "value": 5.0 }), 10),
        testing::response(1, Outcome::Ok, Some(b"{not json"), 10),
        testing::ok_response(2, &serde_json::json!({ "value": "five" }), 10),
        testing::ok_response(3, &serde_json::json!({ "value": 5.0, "extra": 1 }), 10),
        testing::response(4, Outcome::Ok, None, 10),
        testing::ok_response(5, &serde_json::json!({ "value": 7.0 }), 10),
        testing::response(6, Outcome::Timeout, None, 12_000),
        testing::response(7, Outcome::Ok, Some(br#"{"value": 1.0} trailing"#), 10),
    ];
    let scores = testing::score::<Tens>(&task_with_mode("plain"), &responses, None).unwrap();
    assert_eq!(scores.values, [0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    let reasons: Vec<&str> = scores.diagnostics.split("; ").collect();
    assert_eq!(reasons.len(), 6, "{reasons:?}");
    assert!(reasons[0].starts_with("invalid body: key must be a string at line 1 column 2"), "{reasons:?}");
    assert!(reasons[1].starts_with("invalid body: value: invalid type: string \"five\""), "{reasons:?}");
    assert!(reasons[2].starts_with("invalid body: extra: unknown field `extra`"), "{reasons:?}");
    assert_eq!(reasons[3], "no body");
    assert_eq!(reasons[4], "7 is not allowed");
    assert!(reasons[5].starts_with("invalid body: trailing characters"), "{reasons:?}");
}

#[test]
fn responses_keep_their_fields() {
    struct Spy;
    impl Mechanism for Spy {
        type Task = ();
        type Private = ();
        type Response = Answer;
        type Truth = NoTruth;
        fn manifest() -> Manifest {
            Manifest::default()
        }
        fn make_task(_: &Context) -> Result<Task<(), ()>, String> {
            Ok(Task::immediate((), ()))
        }
        fn score(_: &Task<(), ()>, rs: &[Response<Answer>], _: Option<&NoTruth>) -> Result<Scores, String> {
            assert_eq!(rs[0].uid, 9);
            assert_eq!(rs[0].hotkey, "5Hot");
            assert_eq!(rs[0].latency_ms, 77);
            assert_eq!(rs[0].outcome, Outcome::Ok);
            assert_eq!(rs[0].body, Some(Answer { value: 1.0 }));
            assert_eq!(rs[1].outcome, Outcome::Invalid);
            assert!(rs[1].invalid_reason.as_deref().is_some_and(|r| r.starts_with("invalid body: expected value")));
            assert_eq!(rs[2].outcome, Outcome::TransportError);
            assert_eq!(rs[2].body, None, "only ok responses are decoded");
            assert_eq!(rs[2].invalid_reason, None);
            Ok(Scores::new(vec![1.0, 0.0, 0.0]))
        }
    }
    let mut first = testing::ok_response(9, &serde_json::json!({ "value": 1.0 }), 77);
    first.hotkey = "5Hot".into();
    let responses = [
        first,
        testing::response(1, Outcome::Ok, Some(b"junk"), 1),
        testing::response(2, Outcome::TransportError, Some(br#"{"value":1.0}"#), 1),
    ];
    let task =
        wire::Task { public: b"null".to_vec(), private: b"null".to_vec(), settlement: wire::Settlement::Immediate };
    assert_eq!(testing::score::<Spy>(&task, &responses, None).unwrap().values, [1.0, 0.0, 0.0]);
}

#[test]
fn bad_tasks_and_truths_are_errors() {
    let mut task = task_with_mode("plain");
    task.public = b"\"x\"".to_vec();
    let err = testing::score::<Tens>(&task, &[], None).unwrap_err();
    assert!(
        err.starts_with("invalid task: public part: invalid type: string \"x\", expected struct Question"),
        "{err}"
    );

    let mut task = task_with_mode("plain");
    task.private = br#"{"key":-1}"#.to_vec();
    let err = testing::score::<Tens>(&task, &[], None).unwrap_err();
    assert!(err.starts_with("invalid task: private part: key: invalid value: integer `-1`"), "{err}");

    let err = testing::score::<Tens>(&task_with_mode("plain"), &[], Some(b"1")).unwrap_err();
    assert_eq!(err, "invalid truth: this mechanism takes no truth");

    let oracle_task = testing::make_task::<Oracle>(&testing::context(0)).unwrap();
    let err = testing::score::<Oracle>(&oracle_task, &[], Some(br#"{"price":"x"}"#)).unwrap_err();
    assert!(err.starts_with("invalid truth: price: invalid type: string"), "{err}");
}

#[test]
fn scores_are_checked_before_they_leave() {
    let responses = [
        testing::ok_response(0, &serde_json::json!({ "value": 5.0 }), 10),
        testing::ok_response(1, &serde_json::json!({ "value": 11.0 }), 10),
    ];
    let err = testing::score::<Tens>(&task_with_mode("plain"), &responses, None).unwrap_err();
    assert_eq!(err, "score 1 is 1.1, not a number in [0, 1] (pass doubtful scores through sdk_guest::score::clamp)");
    let responses = [testing::ok_response(0, &serde_json::json!({ "value": f64::MAX }), 10)];
    let scores = testing::score::<Tens>(&task_with_mode("plain"), &responses, None);
    assert!(scores.unwrap_err().starts_with("score 0 is "));

    let responses = [testing::ok_response(0, &serde_json::json!({ "value": 5.0 }), 10)];
    let err = testing::score::<Tens>(&task_with_mode("short"), &responses, None).unwrap_err();
    assert_eq!(err, "the mechanism returned 0 scores for 1 responses");
    let err = testing::score::<Tens>(&task_with_mode("refuse"), &responses, None).unwrap_err();
    assert_eq!(err, "cannot score this");
}

#[test]
fn truth_reaches_the_mechanism() {
    let task = testing::make_task::<Oracle>(&testing::context(0)).unwrap();
    let responses = [
        testing::ok_response(0, &serde_json::json!({ "price": 100.0 }), 10),
        testing::ok_response(1, &serde_json::json!({ "price": 90.0 }), 10),
    ];
    let scores = testing::score::<Oracle>(&task, &responses, Some(br#"{"price": 100.0}"#)).unwrap();
    assert_eq!(scores.values, [1.0, 0.9]);
    assert_eq!(testing::score::<Oracle>(&task, &responses, None).unwrap_err(), "the truth is missing");
}

#[test]
fn batch_files_round_trip() {
    let json = r#"{
        "task": { "public": null, "private": null, "settles_after_ms": 5000 },
        "responses": [
            { "uid": 0, "hotkey": "5A", "outcome": "ok", "body": { "price": 95.0 }, "latency_ms": 3 },
            { "uid": 1, "hotkey": "5B", "outcome": "transport_error", "body": null, "latency_ms": 9 },
            { "uid": 2, "hotkey": "5C", "outcome": "ok", "body": "{\"price\":", "latency_ms": 3 }
        ],
        "truth": { "price": 100.0 }
    }"#;
    let batch = Batch::from_json(json).unwrap();
    assert!(matches!(batch.wire_task().settlement, wire::Settlement::Delayed(5000)));
    assert_eq!(batch.wire_responses()[1].body, None);
    assert_eq!(testing::score_batch::<Oracle>(&batch).unwrap().values, [0.95, 0.0, 0.0]);
    let again = Batch::from_json(&serde_json::to_string(&batch).unwrap()).unwrap();
    assert_eq!(again, batch);

    let immediate = Batch::from_json(r#"{"task": {"public": 1, "private": 2}, "responses": []}"#).unwrap();
    assert!(matches!(immediate.wire_task().settlement, wire::Settlement::Immediate));
    assert_eq!(immediate.wire_truth(), None);

    let err = Batch::from_json(&json.replace("\"latency_ms\": 9", "\"latency_ms\": 9, \"extra\": 1")).unwrap_err();
    assert!(err.starts_with("invalid batch: responses[1].extra: unknown field `extra`"), "{err}");
    let err = Batch::from_json(&json.replace("transport_error", "transport-error")).unwrap_err();
    assert!(err.starts_with("invalid batch: responses[1].outcome: unknown variant `transport-error`"), "{err}");
}
