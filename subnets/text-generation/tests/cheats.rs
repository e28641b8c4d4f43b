//! The cheap attacks seen on live subnets score at or near zero.

mod common;

use common::*;
use sdk_guest::rng::Rng;
use sdk_guest::{Outcome, testing};
use text_generation::data::{Dataset, InstructRow, MathRow};
use text_generation::{Scoring, TextGeneration};

/// Indices of the similarity rows of Self-Instruct.
fn similarity_rows() -> Vec<usize> {
    (0..Dataset::SelfInstruct.len())
        .filter(|&i| {
            let row: InstructRow = Dataset::SelfInstruct.row(i).unwrap();
            !row.is_label() && row.reference.chars().any(char::is_alphanumeric)
        })
        .collect()
}

/// Rows where the reference is mostly the input (rewrites with few edits): there, the input is
/// nearly the right answer, so copying it is judged by the baseline rather than the echo penalty.
fn reference_is_mostly_input(index: usize) -> bool {
    let row: InstructRow = Dataset::SelfInstruct.row(index).unwrap();
    let (task, _, _) = instruct_task(index);
    !row.input.is_empty() && alone(&task, &row.input) > 0.0
}

#[test]
fn echoing_the_prompt_scores_zero() {
    for index in similarity_rows() {
        let (task, public, private) = instruct_task(index);
        assert_eq!(alone(&task, &public.prompt), 0.0, "{}", private.id);
        assert_eq!(alone(&task, &format!("{}\n{}", public.prompt, public.prompt)), 0.0, "{}", private.id);
        if !reference_is_mostly_input(index) {
            assert!(alone(&task, &private.input) <= 0.05, "{}", private.id);
        }
    }
    for index in 0..Dataset::Gsm8k.len() {
        let (task, public, private) = math_task(index);
        assert_eq!(alone(&task, &public.prompt), 0.0, "{}", private.id);
        // Restating the whole question before a right answer costs credit.
        let padded = format!("{}\nThe answer is {}.", public.prompt, private.reference);
        assert!(alone(&task, &padded) < 0.5, "{}: {}", private.id, alone(&task, &padded));
    }
}

#[test]
fn copying_another_miner_does_not_pay() {
    let index = similarity_rows()[40];
    let (task, _, private) = instruct_task(index);
    let answer = replace_every(&private.reference, 9, "indeed");
    let alone_score = alone(&task, &answer);
    assert!(alone_score > 0.5, "{alone_score}");

    // Identical copy, arriving later: the original keeps 2/3, the copy gets 1/3.
    let got = scores(&task, &[&answer, &answer]);
    assert_eq!(got, [alone_score * 2.0 / 3.0, alone_score / 3.0]);

    // The copier answering faster does not take more than the original would alone.
    let responses = [
        testing::ok_response(0, &serde_json::json!({ "completion": answer }), 900),
        testing::ok_response(1, &serde_json::json!({ "completion": answer }), 100),
    ];
    let got = testing::score::<TextGeneration>(&task, &responses, None).unwrap().values;
    assert!(got[1] > got[0] && got[0] + got[1] <= alone_score + 1e-12, "{got:?}");

    // Near-identical copies: a word changed, words reordered, case and punctuation changed.
    let words: Vec<&str> = answer.split_whitespace().collect();
    let one_word = replace_every(&answer, 11, "truly");
    let mut reordered = words.clone();
    reordered.rotate_left(words.len() / 2);
    let reordered = reordered.join(" ");
    let shouted = answer.to_uppercase().replace(['.', ','], " ! ");
    for copy in [&one_word, &reordered, &shouted] {
        let got = scores(&task, &[&answer, copy]);
        assert!(got[1] <= alone_score / 2.0, "{copy:?}: {got:?}");
        assert!(got[0] + got[1] <= alone_score + 1e-12, "{got:?}");
    }

    // Many sybil hotkeys with one answer earn, together, what one would earn.
    let copies = vec![answer.as_str(); 6];
    let total: f64 = scores(&task, &copies).iter().sum();
    assert!(total <= alone_score + 1e-12, "{total}");
}

#[test]
fn independent_answers_are_not_duplicates() {
    // Two different honest answers keep their own scores.
    let index = similarity_rows()[40];
    let (task, _, private) = instruct_task(index);
    let a = head(&private.reference, 0.9);
    let b = replace_every(&private.reference, 3, "however");
    let together = scores(&task, &[&a, &b]);
    assert_eq!(together, [alone(&task, &a), alone(&task, &b)]);
    // Short answers agree by being right: two miners answering `18` both score 1.
    let (task, _, private) = math_task(0);
    assert_eq!(scores(&task, &[&private.reference, &private.reference]), [1.0, 1.0]);
}

/// Random words from the whole dataset vocabulary, and random characters.
#[test]
fn random_output_scores_near_zero() {
    let vocabulary: Vec<String> = (0..Dataset::SelfInstruct.len())
        .flat_map(|i| sdk_guest::text::tokenize(&Dataset::SelfInstruct.row::<InstructRow>(i).unwrap().reference))
        .collect();
    let mut rng = Rng::from_seed(99);
    let rows = similarity_rows();
    let mut total = 0.0;
    for &index in &rows {
        let (task, _, private) = instruct_task(index);
        let n = 10 + rng.index(60);
        let words: Vec<&str> = (0..n).map(|_| vocabulary[rng.index(vocabulary.len())].as_str()).collect();
        let s = alone(&task, &words.join(" "));
        assert!(s <= 0.15, "{}: {s}", private.id);
        total += s;
        let chars: String = (0..200).map(|_| char::from(b'!' + rng.index(94) as u8)).collect();
        assert!(alone(&task, &chars) <= 0.05, "{}", private.id);
    }
    assert!(total / (rows.len() as f64) < 0.01, "mean {}", total / rows.len() as f64);
    // A random number is almost never the answer and earns nothing when it is not.
    let (task, _, private) = math_task(2);
    let mut paid = 0;
    for _ in 0..200 {
        let guess = rng.range_u64(0..1000).to_string();
        if guess != private.reference {
            paid += usize::from(alone(&task, &guess) > 0.0);
        }
    }
    assert!(paid <= 25, "{paid} of 200 random numbers earned partial credit");
}

/// Replaying the right answer to a different task.
#[test]
fn stale_answers_score_near_zero() {
    let rows = similarity_rows();
    let mut total = 0.0;
    for (k, &index) in rows.iter().enumerate() {
        let (task, _, private) = instruct_task(index);
        let stale: InstructRow = Dataset::SelfInstruct.row(rows[(k + rows.len() / 3) % rows.len()]).unwrap();
        let s = alone(&task, &stale.reference);
        assert!(s <= 0.2, "{}: {s}", private.id);
        total += s;
    }
    assert!(total / (rows.len() as f64) < 0.02, "mean {}", total / rows.len() as f64);
    for index in 0..Dataset::Gsm8k.len() {
        let (task, _, private) = math_task(index);
        let previous: MathRow = Dataset::Gsm8k.row((index + 1) % Dataset::Gsm8k.len()).unwrap();
        if previous.answer != private.reference {
            assert!(alone(&task, &format!("#### {}", previous.answer)) <= 0.25, "{}", private.id);
        }
    }
}

#[test]
fn over_long_padding_scores_zero() {
    let index = similarity_rows()[40];
    let (task, _, private) = instruct_task(index);
    let filler = " and so on and so forth".repeat(300);
    assert_eq!(alone(&task, &format!("{}{filler}", private.reference)), 0.0);
    // Twice the reference is already penalised; far beyond the byte limit it is invalid.
    let twice = format!("{} {}", private.reference, private.reference);
    assert!(alone(&task, &twice) < alone(&task, &private.reference));
    let huge = "word ".repeat(4_000);
    let responses = [completion(0, &format!("{} {huge}", private.reference))];
    let scores = testing::score::<TextGeneration>(&task, &responses, None).unwrap();
    assert_eq!(scores.values, [0.0]);

    let (task, _, private) = math_task(3);
    let rambling = format!("{} #### {}", "Let me think about it again. ".repeat(400), private.reference);
    assert_eq!(alone(&task, &rambling), 0.0);
}

#[test]
fn empty_and_missing_answers_score_zero() {
    for (task, _, _) in [instruct_task(similarity_rows()[5]), math_task(7)] {
        assert_eq!(scores(&task, &["", "   \n\t", "?!.,;", "🎉🎉"]), [0.0; 4]);
        let responses = [
            testing::response(0, Outcome::Timeout, None, 20_000),
            testing::response(1, Outcome::TransportError, None, 3),
            testing::response(2, Outcome::Ok, Some(br#"{"text": "wrong field"}"#), 50),
            testing::response(3, Outcome::Ok, Some(b"not json"), 50),
            testing::response(4, Outcome::Invalid, None, 50),
        ];
        assert_eq!(testing::score::<TextGeneration>(&task, &responses, None).unwrap().values, [0.0; 5]);
    }
}

#[test]
fn label_hedging_does_not_pay() {
    let index = (0..Dataset::SelfInstruct.len())
        .find(|&i| {
            let row: InstructRow = Dataset::SelfInstruct.row(i).unwrap();
            row.is_label() && row.reference == "yes"
        })
        .unwrap();
    let (task, _, private) = instruct_task(index);
    assert_eq!(private.scoring, Scoring::ExactLabel);
    assert_eq!(scores(&task, &["yes", "yes or no", "no, yes", "Yes and no."]), [1.0, 0.0, 0.0, 0.0]);
}
