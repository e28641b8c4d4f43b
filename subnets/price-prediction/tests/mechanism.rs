//! The mechanism end to end, natively, through the plugin's own encode/decode path, on real
//! BTC/USDT candles.

mod common;

use common::{CAPTURED, Case, H4, case, context, cuts, feed_at, parts, series};
use price_prediction::scoring::{self, NAIVE_FLOOR, W_DIRECTION, W_INTERVAL};
use price_prediction::{FEED, HORIZON, PricePrediction, TASK_CANDLES, settlement_delay_ms};
use sdk_guest::rng::Rng;
use sdk_guest::{Outcome, testing, wire};
use serde_json::json;

// ---- manifest and tasks -------------------------------------------------------------------------

#[test]
fn manifest_asks_for_the_feed_and_settles_late() {
    let m = testing::manifest::<PricePrediction>();
    assert_eq!(m.name, "price-prediction");
    assert_eq!(m.feeds, [FEED]);
    assert_eq!(m.defaults.settlement_delay_ms, Some(6 * H4 + 60_000));
    assert_eq!(m.defaults.moving_average_alpha, 0.05);
    let truth: serde_json::Value = serde_json::from_str(m.truth_schema.as_deref().expect("a truth schema")).unwrap();
    assert!(truth["properties"]["candles"].is_object(), "{truth}");
    let response: serde_json::Value = serde_json::from_str(&m.response_schema).unwrap();
    for field in ["task_id", "closes", "intervals"] {
        assert!(response["properties"][field].is_object(), "response schema lacks {field}: {response}");
    }
}

#[test]
fn tasks_carry_the_recent_candles_and_the_horizon() {
    let series = series();
    let cut = 300;
    let task = testing::make_task::<PricePrediction>(&context(5, &feed_at(&series, cut))).unwrap();
    assert_eq!(parts(&task).2, Some(6 * H4 + 60_000));
    let public = testing::decode_task::<PricePrediction>(&task).unwrap().public;
    assert_eq!(public.candles.len(), TASK_CANDLES);
    assert_eq!(public.candles.last().unwrap(), &series[cut]);
    assert_eq!(public.candles[0], series[cut + 1 - TASK_CANDLES]);
    assert_eq!(public.first_open_ms, series[cut + 1].open_time_ms);
    assert_eq!(public.horizon, HORIZON);
    assert_eq!(public.pair, "BTC-USDT");
    assert!(public.task_id.starts_with(&format!("BTC-USDT-{}-", public.first_open_ms)), "{}", public.task_id);
    assert_eq!(std::str::from_utf8(&task.private).unwrap(), "{}");
}

#[test]
fn tasks_depend_only_on_the_context() {
    let series = series();
    let feed = feed_at(&series, 250);
    let a = testing::make_task::<PricePrediction>(&context(7, &feed)).unwrap();
    let b = testing::make_task::<PricePrediction>(&context(7, &feed)).unwrap();
    let c = testing::make_task::<PricePrediction>(&context(8, &feed)).unwrap();
    assert_eq!(parts(&a), parts(&b));
    let (pa, pc) = (
        testing::decode_task::<PricePrediction>(&a).unwrap().public,
        testing::decode_task::<PricePrediction>(&c).unwrap().public,
    );
    assert_ne!(pa.task_id, pc.task_id, "the seed makes the task id");
    assert_eq!(pa.candles, pc.candles);
}

#[test]
fn an_accelerated_replay_settles_sooner() {
    let series = series();
    let mut feed = feed_at(&series, 250);
    feed.speed = 1440; // one 4-hour candle every 10 s
    let task = testing::make_task::<PricePrediction>(&context(1, &feed)).unwrap();
    assert_eq!(parts(&task).2, Some(60_000 + 42));
    assert_eq!(settlement_delay_ms(6, H4, 1440), 60_000 + 42);
    assert_eq!(settlement_delay_ms(1, 10, 3), 4 + 20_000, "rounded up");
    assert_eq!(settlement_delay_ms(6, H4, 1), 6 * H4 + 60_000, "live: the whole margin");
}

fn make_task_error(ctx: &wire::Context) -> String {
    match testing::make_task::<PricePrediction>(ctx) {
        Ok(_) => panic!("make_task must refuse"),
        Err(e) => e,
    }
}

#[test]
fn make_task_refuses_a_missing_stale_short_or_broken_feed() {
    let series = series();
    let good = feed_at(&series, 300);

    let mut no_feed = context(1, &good);
    no_feed.feeds.clear();
    assert!(make_task_error(&no_feed).contains("feed `price:BTC-USDT` is missing"));

    let mut garbage = context(1, &good);
    garbage.feeds[0].value = b"{\"pair\": 3}".to_vec();
    assert!(make_task_error(&garbage).contains("invalid feed"), "{}", make_task_error(&garbage));

    let mut short = good.clone();
    short.candles.drain(..short.candles.len() - 59);
    assert!(make_task_error(&context(1, &short)).contains("too short"));

    let mut other_pair = good.clone();
    other_pair.pair = "ETH-USDT".into();
    assert!(make_task_error(&context(1, &other_pair)).contains("ETH-USDT"));

    // The feed clock has moved on by more than a candle: a newer one should be listed.
    let mut stale = good.clone();
    stale.as_of_ms += H4 + H4 / 20;
    assert!(make_task_error(&context(1, &stale)).contains("stale"));

    // The last candle listed is still open.
    let mut open = good.clone();
    open.as_of_ms = open.candles.last().unwrap().open_time_ms + H4 - 1;
    assert!(make_task_error(&context(1, &open)).contains("has not closed"));

    // The snapshot is older than one candle of wall-clock time.
    let mut late = context(1, &good);
    late.unix_ms = CAPTURED + H4 + 1;
    assert!(make_task_error(&late).contains("captured"));
    let mut replay = good.clone();
    replay.speed = 1440;
    let mut late_replay = context(1, &replay);
    late_replay.unix_ms = CAPTURED + 10_001;
    assert!(make_task_error(&late_replay).contains("captured"));

    let mut unordered = good.clone();
    unordered.candles.swap(10, 11);
    assert!(make_task_error(&context(1, &unordered)).contains("increasing"));

    let mut bad_price = good.clone();
    bad_price.candles[5].close = -1.0;
    assert!(make_task_error(&context(1, &bad_price)).contains("finite and positive"));

    // Enough candles, but so gappy that the volatility has too few one-interval returns.
    let mut gappy = good.clone();
    gappy.candles = gappy.candles.iter().step_by(2).copied().collect();
    gappy.candles.truncate(gappy.candles.len() - 1);
    gappy.as_of_ms = gappy.candles.last().unwrap().open_time_ms + H4 + 1;
    assert!(make_task_error(&context(1, &gappy)).contains("one-interval returns"));

    // Within the grace, a feed a little behind still works.
    let mut slightly_behind = good;
    slightly_behind.as_of_ms += H4 + H4 / 40;
    assert!(testing::make_task::<PricePrediction>(&context(1, &slightly_behind)).is_ok());
}

// ---- quality ----------------------------------------------------------------------------------

/// The ladder of forecast qualities the mechanism must order, best first.
fn ladder(c: &Case, rng: &mut Rng) -> Vec<(&'static str, Vec<f64>)> {
    vec![
        ("near-perfect", c.truth_plus(0.01)),
        ("very good", c.scaled_move(0.9)),
        ("small error", c.scaled_move(0.7)),
        ("large error", c.scaled_move(2.5)),
        ("wrong direction", c.scaled_move(-1.0)),
        ("garbage", (0..HORIZON).map(|_| c.last * (0.5 + 1.5 * rng.unit_f64())).collect()),
    ]
}

#[test]
fn better_forecasts_score_higher_on_every_cut() {
    let series = series();
    let mut rng = Rng::from_seed(11);
    let mut n = 0;
    for cut in cuts() {
        let c = case(&series, cut);
        let rungs = ladder(&c, &mut rng);
        // Scored one at a time, so no rung shares credit with another.
        let scores: Vec<f64> = rungs.iter().map(|(_, closes)| c.score(&[c.body(closes)])[0]).collect();
        for (i, w) in scores.windows(2).enumerate() {
            assert!(w[0] > w[1], "cut {cut}: {} ({}) <= {} ({})", rungs[i].0, w[0], rungs[i + 1].0, w[1]);
        }
        assert!(scores[0] > 0.7, "cut {cut}: near-perfect scores {}", scores[0]);
        assert!(scores[5] < 0.01, "cut {cut}: garbage scores {}", scores[5]);
        // With a tight interval around it, the near-perfect forecast gets nearly full marks.
        let tight: Vec<(f64, f64)> =
            rungs[0].1.iter().zip(&c.scales).map(|(p, s)| (p - 0.05 * s, p + 0.05 * s)).collect();
        let best = c.score(&[c.body_with_intervals(&rungs[0].1, &tight)])[0];
        assert!(best > 0.9 && best > scores[0], "cut {cut}: near-perfect with interval scores {best}");
        n += 1;
    }
    assert!(n >= 50);
}

#[test]
fn the_score_falls_as_the_forecast_drifts_from_the_truth() {
    let series = series();
    let c = case(&series, 400);
    let drifts = [0.0, 0.05, 0.2, 0.5, 1.0, 2.0, 4.0];
    let bodies: Vec<_> = drifts.iter().map(|&f| c.body(&c.truth_plus(f))).collect();
    let scores: Vec<f64> = bodies.iter().map(|b| c.score(std::slice::from_ref(b))[0]).collect();
    assert!(scores.windows(2).all(|w| w[0] > w[1]), "{scores:?}");
    assert_eq!(scores[0], 1.0 - W_INTERVAL + W_INTERVAL * scoring::ratio_score(c_default_band_ratio(&c)));
}

/// `V` of the default band around the exact truth (only the band's width counts).
fn c_default_band_ratio(c: &Case) -> f64 {
    let truth: price_prediction::RealisedCandles = serde_json::from_slice(&c.truth).unwrap();
    let r = scoring::Reference::new(&c.public, &truth).unwrap();
    scoring::evaluate(&r, &c.realised, None).interval_ratio
}

#[test]
fn a_perfect_forecast_with_an_exact_interval_scores_one() {
    let series = series();
    let c = case(&series, 333);
    let exact: Vec<(f64, f64)> = c.realised.iter().map(|&a| (a, a)).collect();
    assert_eq!(c.score(&[c.body_with_intervals(&c.realised, &exact)]), [1.0]);
}

#[test]
fn the_direction_bonus_pays_for_the_right_sign() {
    let series = series();
    for cut in cuts() {
        let c = case(&series, cut);
        if c.realised.iter().zip(&c.scales).all(|(a, s)| (a - c.last).abs() < scoring::DIRECTION_DEAD_ZONE * s) {
            continue;
        }
        // Same error at every step (|p − a| = |a − c₀|), different directions: twice the move
        // (right way) versus no move at all (flat, half credit).
        let right = c.scaled_move(2.0);
        let flat = c.naive();
        let s = c.score(&[c.body(&right)]);
        let f = c.score(&[c.body(&flat)]);
        let ratio = s[0] / f[0];
        let want = 1.0 / (1.0 - W_DIRECTION / 2.0);
        assert!((ratio - want).abs() < 1e-9, "cut {cut}: right/flat = {ratio}, want {want}");
        // A tiny move the right way beats the same tiny move the wrong way.
        let tiny: Vec<f64> = c.scales.iter().map(|s| s * 1e-3).collect();
        let toward: Vec<f64> = c.realised.iter().zip(&tiny).map(|(a, t)| c.last + t * (a - c.last).signum()).collect();
        let away: Vec<f64> = c.realised.iter().zip(&tiny).map(|(a, t)| c.last - t * (a - c.last).signum()).collect();
        assert!(c.score(&[c.body(&toward)])[0] > c.score(&[c.body(&away)])[0], "cut {cut}");
    }
}

#[test]
fn intervals_are_scored_properly() {
    let series = series();
    let c = case(&series, 420);
    let closes = c.scaled_move(0.8);
    let band = |width: f64, shift: f64| -> Vec<(f64, f64)> {
        closes.iter().zip(&c.scales).map(|(p, s)| (p + shift * s - width * s, p + shift * s + width * s)).collect()
    };
    let default_band = band(scoring::Z_COVERAGE, 0.0);
    let scores = c.score(&[c.body(&closes)]);
    let explicit = c.score(&[c.body_with_intervals(&closes, &default_band)]);
    assert_eq!(scores, explicit, "no intervals scores exactly as the default band");

    // Centred on the truth and tight beats the default band; far too wide or missing the truth
    // loses to it.
    let tight: Vec<(f64, f64)> = c.realised.iter().zip(&c.scales).map(|(a, s)| (a - 0.1 * s, a + 0.1 * s)).collect();
    let tight_score = c.score(&[c.body_with_intervals(&closes, &tight)])[0];
    let wide_score = c.score(&[c.body_with_intervals(&closes, &band(20.0, 0.0))])[0];
    let missing: Vec<(f64, f64)> = c.realised.iter().zip(&c.scales).map(|(a, s)| (a + 3.0 * s, a + 3.5 * s)).collect();
    let missing_score = c.score(&[c.body_with_intervals(&closes, &missing)])[0];
    assert!(tight_score > scores[0], "{tight_score} vs {}", scores[0]);
    assert!(wide_score < scores[0], "{wide_score} vs {}", scores[0]);
    assert!(missing_score < scores[0], "{missing_score} vs {}", scores[0]);
    // The interval part moves the score by at most W_INTERVAL.
    let point_only = scores[0] / (1.0 - W_INTERVAL + W_INTERVAL * scoring::ratio_score(c_band_ratio(&c, &closes)));
    assert!(wide_score >= point_only * (1.0 - W_INTERVAL) - 1e-12);
    assert!(tight_score <= point_only + 1e-12);
}

fn c_band_ratio(c: &Case, closes: &[f64]) -> f64 {
    let truth: price_prediction::RealisedCandles = serde_json::from_slice(&c.truth).unwrap();
    scoring::evaluate(&scoring::Reference::new(&c.public, &truth).unwrap(), closes, None).interval_ratio
}

// ---- malformed answers and cheats ---------------------------------------------------------------

#[test]
fn missing_or_malformed_answers_score_zero() {
    let series = series();
    let c = case(&series, 350);
    let good = c.scaled_move(0.9);
    let id = &c.public.task_id;
    let too_long = [good.clone(), vec![good[0]]].concat();
    let bodies = [
        json!({ "task_id": id, "closes": good }),                   // the control
        json!({ "task_id": id, "closes": &good[..5] }),             // too short
        json!({ "task_id": id, "closes": too_long }),               // too long
        json!({ "task_id": id, "closes": [] }),                     // empty
        json!({ "task_id": id, "closes": ["NaN", 1, 2, 3, 4, 5] }), // strings
        json!({ "task_id": id, "closes": [-1.0, 1.0, 1.0, 1.0, 1.0, 1.0] }), // negative
        json!({ "task_id": id, "closes": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0] }), // zero
        json!({ "task_id": id, "closes": [1e300, 1e300, 1e300, 1e300, 1e300, 1e300] }), // absurd
        json!({ "task_id": id, "closes": good, "intervals": [{ "low": 1.0, "high": 2.0 }] }), // few intervals
        json!({ "task_id": id, "closes": good, "intervals": good.iter().map(|p| json!({ "low": p + 10.0, "high": p - 10.0 })).collect::<Vec<_>>() }),
        json!({ "task_id": id, "closes": good, "confidence": 1 }), // unknown field
        json!({ "closes": good }),                                 // no task id
        json!({ "task_id": "BTC-USDT-0-0000000000000000", "closes": good }), // another task
        json!([good]),
        json!(null),
    ];
    let scores = c.score(&bodies);
    assert!(scores[0] > 0.0);
    for (i, s) in scores.iter().enumerate().skip(1) {
        assert_eq!(*s, 0.0, "body {i}: {}", bodies[i]);
    }
    // Non-JSON bytes, NaN literals, timeouts and transport errors.
    let raw = |bytes: &[u8]| testing::response(0, Outcome::Ok, Some(bytes), 10);
    let responses = [
        raw(b"not json"),
        raw(format!("{{\"task_id\":\"{id}\",\"closes\":[NaN,1,1,1,1,1]}}").as_bytes()),
        raw(format!("{{\"task_id\":\"{id}\",\"closes\":[1e999,1,1,1,1,1]}}").as_bytes()),
        testing::response(1, Outcome::Timeout, None, 12_000),
        testing::response(2, Outcome::TransportError, None, 3),
        testing::response(3, Outcome::Invalid, None, 3),
        testing::response(4, Outcome::Ok, None, 3),
    ];
    assert_eq!(c.score_responses(&responses), [0.0; 7]);
}

#[test]
fn a_body_replayed_from_another_task_scores_zero() {
    let series = series();
    let earlier = case(&series, 300);
    let now = case(&series, 306);
    // The perfect answer to the earlier task, replayed as is.
    let replayed = earlier.body(&earlier.realised);
    assert_eq!(now.score(&[replayed])[0], 0.0);
    // The same task one seed later is another task too.
    let other_seed = testing::make_task::<PricePrediction>(&context(2, &feed_at(&series, 306))).unwrap();
    let other_id = testing::decode_task::<PricePrediction>(&other_seed).unwrap().public.task_id;
    assert_ne!(other_id, now.public.task_id);
    assert_eq!(now.score(&[json!({ "task_id": other_id, "closes": now.realised })])[0], 0.0);
}

#[test]
fn copies_share_one_forecasts_credit() {
    let series = series();
    let c = case(&series, 380);
    let good = c.scaled_move(0.8);
    let other = c.scaled_move(0.5);
    let alone = c.score(&[c.body(&good), c.body(&other)]);
    // Three miners send the same forecast; a fourth sends it with noise far below the tolerance.
    let nudged: Vec<f64> = good.iter().zip(&c.scales).map(|(p, s)| p + 0.001 * s).collect();
    let copied = c.score(&[c.body(&good), c.body(&other), c.body(&good), c.body(&good), c.body(&nudged)]);
    assert_eq!(copied[1], alone[1], "an independent forecast is unaffected");
    for i in [0, 2, 3] {
        assert_eq!(copied[i], alone[0] / 4.0);
    }
    let total: f64 = [0, 2, 3, 4].iter().map(|&i| copied[i]).sum();
    assert!((total - alone[0]).abs() < 1e-2 * alone[0], "copying gains nothing: {total} vs {}", alone[0]);
    // Clearly different forecasts (beyond the tolerance) are not copies.
    let distinct: Vec<f64> = good.iter().zip(&c.scales).map(|(p, s)| p + 0.05 * s).collect();
    let both = c.score(&[c.body(&good), c.body(&distinct)]);
    assert_eq!(both[0], alone[0]);
}

#[test]
fn the_no_change_forecast_sets_the_bar_and_cannot_win_by_default() {
    let series = series();
    let expected = 0.1 * (1.0 - W_DIRECTION / 2.0) * (1.0 - W_INTERVAL * 0.9);
    let (mut naive_sum, mut echo_sum, mut noisy_echo_sum, mut n) = (0.0, 0.0, 0.0, 0.0);
    for cut in cuts() {
        let c = case(&series, cut);
        let noisy_echo: Vec<f64> = c.echo().iter().zip(&c.scales).map(|(p, s)| p + 0.05 * s).collect();
        let scores = c.score(&[c.body(&c.naive()), c.body(&c.scaled_move(0.5)), c.body(&c.echo())]);
        noisy_echo_sum += c.score(&[c.body(&noisy_echo)])[0];
        let truth: price_prediction::RealisedCandles = serde_json::from_slice(&c.truth).unwrap();
        let reference = scoring::Reference::new(&c.public, &truth).unwrap();
        if reference.naive_rmse() >= NAIVE_FLOOR {
            // Always the same low score, whatever the market did: U = 1, D = ½, V = 1.
            assert!((scores[0] - expected).abs() < 1e-12, "cut {cut}: naive {}", scores[0]);
        }
        // Any forecast that beats it on the realised path scores above it.
        assert!(scores[1] > scores[0], "cut {cut}");
        naive_sum += scores[0];
        echo_sum += scores[2];
        n += 1.0;
    }
    assert!(naive_sum / n < 0.1, "naive averages {}", naive_sum / n);
    // Echoing the prompt (repeating the last k closes) is refused outright; with noise added to
    // dodge that, it is a lagged no-change forecast and averages below the real one.
    assert_eq!(echo_sum, 0.0);
    assert!(noisy_echo_sum / n < 0.75 * naive_sum / n, "noisy echo averages {}", noisy_echo_sum / n);
}

#[test]
fn random_output_scores_near_zero() {
    let series = series();
    let mut rng = Rng::from_seed(3);
    let mut sum = 0.0;
    let mut n = 0.0;
    for cut in cuts() {
        let c = case(&series, cut);
        // Uniform noise within ±10 % of the last close: plausible numbers, no information.
        let closes: Vec<f64> = (0..HORIZON).map(|_| c.last * (0.9 + 0.2 * rng.unit_f64())).collect();
        let s = c.score(&[c.body(&closes)])[0];
        assert!(s < 0.2, "cut {cut}: random scores {s}");
        sum += s;
        n += 1.0;
    }
    assert!(sum / n < 0.015, "random averages {}", sum / n);
}

// ---- settlement ---------------------------------------------------------------------------------

#[test]
fn a_truth_with_missing_candles_scores_the_settled_steps() {
    let series = series();
    let c = case(&series, 360);
    let mut truth: price_prediction::RealisedCandles = serde_json::from_slice(&c.truth).unwrap();
    truth.candles.remove(2);
    truth.candles.remove(3);
    let partial = serde_json::to_vec(&truth).unwrap();
    // Errors at the missing steps do not count.
    let mut closes = c.realised.clone();
    closes[2] *= 1.5;
    closes[4] *= 0.7;
    let responses = [testing::ok_response(0, &c.body(&closes), 10)];
    let scores = testing::score::<PricePrediction>(&c.task, &responses, Some(&partial)).unwrap();
    let full = testing::score::<PricePrediction>(&c.task, &responses, Some(&c.truth)).unwrap();
    assert!(scores.values[0] > 0.7, "{scores:?}");
    assert!(full.values[0] < 0.1, "{full:?}");
    assert!(scores.diagnostics.contains("4/6 steps settled"), "{}", scores.diagnostics);
}

#[test]
fn scoring_needs_a_matching_truth() {
    let series = series();
    let c = case(&series, 360);
    let responses = [testing::ok_response(0, &c.body(&c.naive()), 10)];
    let err = |truth: Option<&[u8]>| testing::score::<PricePrediction>(&c.task, &responses, truth).unwrap_err();
    assert!(err(None).contains("realised candles"));
    let mut truth: price_prediction::RealisedCandles = serde_json::from_slice(&c.truth).unwrap();
    truth.pair = "ETH-USDT".into();
    assert!(err(Some(&serde_json::to_vec(&truth).unwrap())).contains("ETH-USDT"));
    let later = price_prediction::RealisedCandles::from_series("BTC-USDT", H4, &series, series[380].open_time_ms, 6);
    assert!(err(Some(&serde_json::to_vec(&later).unwrap())).contains("none of the 6 horizon candles"));
    assert!(err(Some(b"[]")).contains("truth"));
}

// ---- determinism ------------------------------------------------------------------------------

fn mixed_batch(c: &Case) -> Vec<wire::Response> {
    let mut rng = Rng::from_seed(99);
    let mut bodies = vec![
        c.body(&c.truth_plus(0.02)),
        c.body(&c.scaled_move(0.6)),
        c.body(&c.naive()),
        c.body(&c.naive()),
        c.body(&c.echo()),
        c.body(&c.scaled_move(-1.0)),
        c.body_with_intervals(
            &c.scaled_move(0.9),
            &c.realised.iter().map(|a| (a * 0.99, a * 1.02)).collect::<Vec<_>>(),
        ),
    ];
    bodies.push(c.body(&(0..HORIZON).map(|_| c.last * (0.8 + 0.4 * rng.unit_f64())).collect::<Vec<_>>()));
    let mut responses: Vec<wire::Response> =
        bodies.iter().enumerate().map(|(i, b)| testing::ok_response(i as u16, b, 100 + i as u32)).collect();
    responses.push(testing::response(40, Outcome::Timeout, None, 12_000));
    responses
}

#[test]
fn scores_are_byte_identical_across_runs_and_independent_of_batch_order() {
    let series = series();
    let c = case(&series, 444);
    let responses = mixed_batch(&c);
    let bits = |values: &[f64]| values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    let first = testing::score::<PricePrediction>(&c.task, &responses, Some(&c.truth)).unwrap();
    for _ in 0..5 {
        let again = testing::score::<PricePrediction>(&c.task, &responses, Some(&c.truth)).unwrap();
        assert_eq!(bits(&again.values), bits(&first.values));
        assert_eq!(again.diagnostics, first.diagnostics);
    }
    // A re-made task from the same context is the same bytes, and scores the same.
    let remade = case(&series, 444);
    assert_eq!(parts(&remade.task), parts(&c.task));
    // Each miner's score does not depend on where it sits in the batch.
    let mut reversed = responses.clone();
    reversed.reverse();
    let back = testing::score::<PricePrediction>(&c.task, &reversed, Some(&c.truth)).unwrap();
    let mut back_values = back.values.clone();
    back_values.reverse();
    assert_eq!(bits(&back_values), bits(&first.values));
}

// ---- the bundled sample batch -------------------------------------------------------------------

#[test]
fn the_sample_batch_shows_the_ladder_and_the_cheats() {
    // (`subnets/conformance` checks that the wasm build scores it bit for bit the same.)
    let batch = testing::Batch::from_json(include_str!("../samples/batch.json")).unwrap();
    let scores = testing::score_batch::<PricePrediction>(&batch).unwrap();
    assert_eq!(scores.values.len(), batch.responses.len());
    // A realistic spread: best first, cheats at the bottom.
    let v = &scores.values;
    assert!(v[0] > v[1] && v[1] > v[2] && v[2] > v[3] && v[3] > v[4], "{v:?}");
    assert_eq!(v[1], v[5], "the copied pair shares");
    assert_eq!(v[6], 0.0, "the echo");
    assert!(v[7] < 1e-3, "random numbers: {}", v[7]);
    assert_eq!(&v[8..], [0.0; 4], "wrong length, replay, timeout, transport error");
}
