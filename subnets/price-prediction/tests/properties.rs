//! Properties over arbitrary answers and truths: scoring never fails on a valid truth, and every
//! score is finite and inside `[0, 1]`.

mod common;

use std::sync::OnceLock;

use common::{Case, H4, case, series};
use price_prediction::{Candle, HORIZON, PAIR, PricePrediction, RealisedCandles};
use proptest::prelude::*;
use sdk_guest::{Outcome, testing, wire};
use serde_json::json;

/// A few real tasks, made once.
fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let series = series();
        [140, 222, 318, 407, 493].iter().map(|&cut| case(&series, cut)).collect()
    })
}

/// Any float, weighted towards the awkward ones.
fn any_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => 1_000.0..200_000.0f64,
        1 => any::<f64>(),
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => Just(f64::MIN_POSITIVE),
        1 => Just(f64::MAX),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
    ]
}

/// A body: mostly shaped like a prediction (any length, any numbers, maybe intervals, maybe the
/// right task id), sometimes arbitrary bytes.
fn any_body(task_id: String) -> impl Strategy<Value = Option<Vec<u8>>> {
    let closes = prop::collection::vec(any_float(), 0..9);
    let intervals = prop::option::of(prop::collection::vec((any_float(), any_float()), 0..9));
    let shaped = (closes, intervals, any::<bool>()).prop_map(move |(closes, intervals, right_id)| {
        let id = if right_id { task_id.clone() } else { "BTC-USDT-0-0".to_owned() };
        let mut body = json!({ "task_id": id, "closes": closes });
        if let Some(iv) = intervals {
            body["intervals"] = iv.iter().map(|(l, h)| json!({ "low": l, "high": h })).collect();
        }
        Some(serde_json::to_vec(&body).unwrap())
    });
    prop_oneof![
        6 => shaped,
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Some),
        1 => Just(None),
    ]
}

/// A valid truth for `case`: horizon candles moved by arbitrary returns from the last close, some
/// of them missing (but not all).
fn any_truth(case: &'static Case) -> impl Strategy<Value = Vec<u8>> {
    (prop::collection::vec(-0.6..1.5f64, HORIZON as usize), prop::collection::vec(any::<bool>(), HORIZON as usize))
        .prop_map(move |(moves, present)| {
            let mut candles: Vec<Candle> = moves
                .iter()
                .enumerate()
                .filter(|(i, _)| present[*i] || *i == 0)
                .map(|(i, m)| {
                    let close = case.last * (1.0 + m);
                    let open_time_ms = case.public.first_open_ms + i as u64 * H4;
                    Candle { open_time_ms, open: close, high: close, low: close, close, volume: 1.0 }
                })
                .collect();
            candles.dedup_by_key(|c| c.open_time_ms);
            serde_json::to_vec(&RealisedCandles { pair: PAIR.to_owned(), interval_ms: H4, candles }).unwrap()
        })
}

fn scenario() -> impl Strategy<Value = (usize, Vec<Option<Vec<u8>>>, Vec<u8>)> {
    (0..cases().len()).prop_flat_map(|i| {
        let case = &cases()[i];
        let bodies = prop::collection::vec(any_body(case.public.task_id.clone()), 0..12);
        (Just(i), bodies, any_truth(case))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn every_score_is_finite_and_in_the_unit_interval((i, bodies, truth) in scenario()) {
        let case = &cases()[i];
        let responses: Vec<wire::Response> = bodies
            .iter()
            .enumerate()
            .map(|(uid, body)| match body {
                Some(b) => testing::response(uid as u16, Outcome::Ok, Some(b), 50),
                None => testing::response(uid as u16, Outcome::Timeout, None, 12_000),
            })
            .collect();
        let scores = testing::score::<PricePrediction>(&case.task, &responses, Some(&truth));
        let scores = scores.map_err(|e| TestCaseError::fail(format!("score failed: {e}")))?;
        prop_assert_eq!(scores.values.len(), responses.len());
        for v in &scores.values {
            prop_assert!(v.is_finite() && (0.0..=1.0).contains(v), "score {}", v);
        }
        // And the same bytes again.
        let again = testing::score::<PricePrediction>(&case.task, &responses, Some(&truth)).unwrap();
        let bits = |s: &wire::Scores| s.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        prop_assert_eq!(bits(&again), bits(&scores));
    }

    #[test]
    fn arbitrary_truth_bytes_never_panic(truth in prop::collection::vec(any::<u8>(), 0..128), i in 0..5usize) {
        let case = &cases()[i];
        let responses = [testing::ok_response(0, &case.body(&case.naive()), 10)];
        // An undecodable or inconsistent truth is an error, never a panic or a bad score.
        if let Ok(scores) = testing::score::<PricePrediction>(&case.task, &responses, Some(&truth)) {
            prop_assert!(scores.values.iter().all(|v| (0.0..=1.0).contains(v)));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn make_task_accepts_or_refuses_any_feed_cleanly(
        cut in 60..499usize,
        len in 0..220usize,
        as_of_shift in -30_000_000i64..30_000_000,
        speed in 0..3_000u64,
        age in 0..20_000_000u64,
        seed in any::<u64>(),
    ) {
        let series = series();
        let mut feed = common::feed_at(&series, cut);
        feed.candles.drain(..feed.candles.len().saturating_sub(len));
        feed.as_of_ms = feed.as_of_ms.saturating_add_signed(as_of_shift);
        feed.speed = speed;
        let mut ctx = common::context(seed, &feed);
        ctx.unix_ms = feed.captured_unix_ms + age;
        match testing::make_task::<PricePrediction>(&ctx) {
            Ok(task) => {
                let public = testing::decode_task::<PricePrediction>(&task).unwrap().public;
                prop_assert!(public.validate().is_ok());
                prop_assert!(public.candles.len() >= price_prediction::MIN_FEED_CANDLES && public.candles.len() <= price_prediction::TASK_CANDLES);
                prop_assert!(public.first_open_ms <= feed.as_of_ms);
            }
            Err(e) => prop_assert!(e.contains("price:BTC-USDT"), "error does not name the feed: {}", e),
        }
    }
}
