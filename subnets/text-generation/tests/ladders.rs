//! Graded quality ladders: better answers score higher, on every kind of task.

mod common;

use common::*;
use text_generation::Scoring;
use text_generation::data::{Dataset, InstructRow};

/// GSM8K: exact number > 2 % off > 7 % off > wrong number = no number = empty.
#[test]
fn math_ladder() {
    for index in (0..Dataset::Gsm8k.len()).step_by(13) {
        let (task, _, private) = math_task(index);
        let answer: f64 = private.reference.parse().unwrap();
        let off = |share: f64| format!("{:.2}", answer + share * answer.abs().max(1.0));
        let worked = format!("Step by step the total comes to {}.\n#### {}", private.reference, private.reference);
        let ladder = [
            alone(&task, &worked),
            alone(&task, &format!("The answer is {}.", off(0.02))),
            alone(&task, &format!("The answer is {}.", off(0.07))),
            alone(&task, &format!("The answer is {}.", off(0.5))),
            alone(&task, "I am not sure how to solve this problem, sorry."),
            alone(&task, ""),
        ];
        assert_eq!(ladder[0], 1.0, "{}: {ladder:?}", private.id);
        assert!(ladder[0] > ladder[1] && ladder[1] > ladder[2] && ladder[2] > ladder[3], "{}: {ladder:?}", private.id);
        assert!(ladder[1] <= 0.25, "a wrong answer earns little: {ladder:?}");
        assert_eq!(&ladder[3..], [0.0, 0.0, 0.0], "{}", private.id);
        // A bare number is a complete answer.
        assert_eq!(alone(&task, &private.reference), 1.0);
    }
}

/// The Self-Instruct rows whose reference is open-ended (low baseline) and long enough to cut.
fn open_ended_rows() -> Vec<usize> {
    (0..Dataset::SelfInstruct.len())
        .filter(|&i| {
            let row: InstructRow = Dataset::SelfInstruct.row(i).unwrap();
            !row.is_label() && row.reference.split_whitespace().count() >= 20
        })
        .collect()
}

/// Self-Instruct: the reference > a close paraphrase (1 word in 8 replaced) > a partial answer
/// (its first 40 %) > an off-topic answer (another task's reference) ≈ 0 = empty.
#[test]
fn similarity_ladder() {
    let rows = open_ended_rows();
    assert!(rows.len() > 150, "{}", rows.len());
    let (mut graded, mut off_topic_total) = (0, 0.0);
    for &index in &rows {
        let (task, _, private) = instruct_task(index);
        // A task from the other half of the file: neighbouring rows are often variants of one task.
        let n = Dataset::SelfInstruct.len();
        let other: InstructRow = Dataset::SelfInstruct.row((index + n / 2) % n).unwrap();
        let exact = alone(&task, &private.reference);
        let close = alone(&task, &replace_every(&private.reference, 8, "stuff"));
        let partial = alone(&task, &head(&private.reference, 0.4));
        let off_topic = alone(&task, &other.reference);
        let empty = alone(&task, "");
        assert_eq!(exact, 1.0, "{}", private.id);
        assert!(close < exact && close >= partial, "{}: {close} {partial}", private.id);
        assert!(off_topic <= 0.2, "{}: off-topic {off_topic}", private.id);
        assert_eq!(empty, 0.0);
        off_topic_total += off_topic;
        // Where the reference is far from the prompt, the whole ladder is strict.
        if close > partial && partial > off_topic {
            graded += 1;
        }
    }
    assert!(graded * 10 >= rows.len() * 8, "strict ladders on {graded} of {} rows", rows.len());
    assert!(off_topic_total / (rows.len() as f64) < 0.02, "mean off-topic {}", off_topic_total / rows.len() as f64);
}

/// A hand-written example: a good original answer beats a mediocre one, which beats a vague one.
#[test]
fn written_answers_are_ranked_by_quality() {
    let index = (0..Dataset::SelfInstruct.len())
        .find(|&i| Dataset::SelfInstruct.row::<InstructRow>(i).unwrap().id == "selfinstruct-user-230")
        .unwrap();
    let (task, _, private) = instruct_task(index);
    assert!(private.reference.starts_with("Looking for a way to make your lessons more engaging?"));
    let good = "Looking for a way to make your lessons more engaging? Try our document cameras! With them you can \
                display documents, books or other materials for all your students to see. It is a great way to add \
                visual elements to your lessons and make them exciting for your students.";
    let mediocre = "Want more engaging lessons? Our document cameras display books, documents or other materials \
                    so the class can see them, adding visual elements to your lessons.";
    let vague = "This is a great product. You should buy it now because it is very good and useful.";
    let got = scores(&task, &[good, mediocre, vague]);
    assert!(got[0] > 0.6 && got[0] > got[1] && got[1] > got[2], "{got:?}");
}

/// Classification rows: the label (bare, or leading an explanation) scores 1; another label 0.
#[test]
fn label_ladder() {
    let mut seen = 0;
    for index in 0..Dataset::SelfInstruct.len() {
        let (task, _, private) = instruct_task(index);
        if private.scoring != Scoring::ExactLabel {
            continue;
        }
        seen += 1;
        let label = private.reference.trim_end_matches('.');
        assert_eq!(alone(&task, &private.reference), 1.0, "{}", private.id);
        assert_eq!(alone(&task, &format!("{label}. Because the text says so.")), 1.0, "{}", private.id);
        assert_eq!(alone(&task, "Banana"), 0.0, "{}", private.id);
        assert_eq!(alone(&task, ""), 0.0);
    }
    assert_eq!(seen, 26);
}
