//! Properties over arbitrary input, the manifest, and the optional host signals.

mod common;

use common::*;
use proptest::prelude::*;
use sdk_guest::{Outcome, testing};
use text_generation::TextGeneration;

fn valid(scores: &[f64]) -> bool {
    scores.iter().all(|s| s.is_finite() && (0.0..=1.0).contains(s))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Any completions, on any task the plugin makes, score finite values in [0, 1].
    #[test]
    fn every_score_is_finite_in_unit_interval(
        seed in any::<u64>(),
        texts in proptest::collection::vec(any::<String>(), 0..8),
        latencies in proptest::collection::vec(any::<u32>(), 8),
    ) {
        let (task, _, _) = task(seed);
        let responses: Vec<_> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| testing::ok_response(i as u16, &serde_json::json!({ "completion": t }), latencies[i]))
            .collect();
        let scores = testing::score::<TextGeneration>(&task, &responses, None).unwrap().values;
        prop_assert_eq!(scores.len(), texts.len());
        prop_assert!(valid(&scores), "{:?}", scores);
    }

    /// Arbitrary raw bodies (mostly not JSON) never break scoring.
    #[test]
    fn arbitrary_bodies_are_handled(seed in 0u64..64, bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 1..6)) {
        let (task, _, _) = task(seed);
        let responses: Vec<_> = bodies.iter().enumerate().map(|(i, b)| testing::response(i as u16, Outcome::Ok, Some(b), 10)).collect();
        let scores = testing::score::<TextGeneration>(&task, &responses, None).unwrap().values;
        prop_assert!(valid(&scores));
    }

    /// Text built from the reference's own words, in any order and amount, stays in [0, 1] and
    /// never beats the reference itself.
    #[test]
    fn reference_words_never_beat_the_reference(seed in 0u64..400, picks in proptest::collection::vec(any::<u16>(), 0..120)) {
        let (task, _, private) = task(seed);
        let words: Vec<&str> = private.reference.split_whitespace().collect();
        prop_assume!(!words.is_empty());
        let text: Vec<&str> = picks.iter().map(|&p| words[p as usize % words.len()]).collect();
        let s = alone(&task, &text.join(" "));
        prop_assert!(valid(&[s]));
        prop_assert!(s <= alone(&task, &private.reference));
    }
}

#[test]
fn manifest_has_schemas_and_defaults() {
    let m = testing::manifest::<TextGeneration>();
    assert_eq!(m.name, "text-generation");
    for schema in [&m.task_schema, &m.private_schema, &m.response_schema] {
        let _: serde_json::Value = serde_json::from_str(schema).unwrap();
    }
    assert!(m.response_schema.contains("completion"));
    let truth: serde_json::Value = serde_json::from_str(m.truth_schema.as_deref().unwrap()).unwrap();
    assert!(truth.to_string().contains("prompt_cosine"));
    assert_eq!(m.defaults.query_timeout_ms, 20_000);
    assert_eq!(m.defaults.sample_size, 50);
    assert_eq!(m.defaults.moving_average_alpha, 0.1);
    assert!(m.feeds.is_empty());
}

/// The validator's embedding similarity, passed as the truth, lifts a paraphrase that lexical
/// overlap underrates, only above the prompt's own similarity, and replays exactly.
#[test]
fn host_embedding_similarity_is_an_input() {
    let (task, _, _) = task(151);
    let paraphrase = "Bring every page to the big screen: our classroom visualisers project worksheets and \
                      textbooks so the whole room follows along. Lessons come alive!";
    let echo_like = "Document cameras let teachers show documents and books to students.";
    let responses = [completion(3, paraphrase), completion(8, echo_like), completion(9, "no signal for me")];
    let lexical = testing::score::<TextGeneration>(&task, &responses, None).unwrap().values;
    let truth = serde_json::json!({
        "prompt_cosine": 0.55,
        "cosines": [ { "uid": 3, "cosine": 0.91 }, { "uid": 8, "cosine": 0.5 } ]
    });
    let bytes = serde_json::to_vec(&truth).unwrap();
    let with = testing::score::<TextGeneration>(&task, &responses, Some(&bytes)).unwrap().values;
    assert!(with[0] > lexical[0] + 0.3, "{lexical:?} {with:?}");
    assert!(with[1] <= lexical[1], "below the prompt's cosine adds nothing: {lexical:?} {with:?}");
    assert_eq!(with[2].to_bits(), lexical[2].to_bits(), "no entry, lexical only");
    let again = testing::score::<TextGeneration>(&task, &responses, Some(&bytes)).unwrap().values;
    assert_eq!(with, again);

    // Bad signals are refused, not clamped silently.
    for bad in [
        serde_json::json!({ "prompt_cosine": 1.5, "cosines": [] }),
        serde_json::json!({ "prompt_cosine": 0.1, "cosines": [ { "uid": 3, "cosine": -2.0 } ] }),
        serde_json::json!({ "prompt_cosine": 0.1, "cosines": [ { "uid": 3, "cosine": 0.2 }, { "uid": 3, "cosine": 0.3 } ] }),
        serde_json::json!({ "cosines": [] }),
    ] {
        let bytes = serde_json::to_vec(&bad).unwrap();
        assert!(testing::score::<TextGeneration>(&task, &responses, Some(&bytes)).is_err(), "{bad}");
    }
}

/// A completion longer than `max_completion_bytes` is refused as invalid before scoring.
#[test]
fn over_limit_bodies_are_invalid() {
    let (task, _, private) = task(151);
    let long = format!("{}{}", private.reference, " x".repeat(9_000));
    let scores = testing::score::<TextGeneration>(&task, &[completion(0, &long)], None).unwrap();
    assert_eq!(scores.values, [0.0]);
}

/// A reference without letters or digits cannot be compared by tokens: only the same text (up to
/// whitespace) scores. (`make_task` never picks such a row; a validator's own task might have one.)
#[test]
fn symbol_only_references_need_the_same_text() {
    let public = text_generation::Prompt {
        prompt: "Reply with emojis only.".into(),
        kind: text_generation::TaskKind::Instruction,
        max_completion_bytes: 16_384,
    };
    let private = text_generation::Reference {
        id: "custom-emoji".into(),
        scoring: text_generation::Scoring::ReferenceSimilarity,
        reference: "- 😌😊".into(),
        input: String::new(),
        decoys: Vec::new(),
    };
    let task = wire_task(&public, &private);
    assert_eq!(scores(&task, &["  -   😌😊 ", "😌", "", "relieved and happy"]), [1.0, 0.0, 0.0, 0.0]);
}
