//! Each forecaster on series whose answer is known, the intervals, and the configuration file.

use miner_price_prediction::{
    Anchor, ArParams, Config, DriftParams, Forecaster, HoltParams, Intervals, LinearFitParams, PricePredictionMiner,
    normal_quantile,
};

use crate::{real_candles, task_for};

/// `n` closes growing by `rate` per candle from 100.
fn geometric(n: usize, rate: f64) -> Vec<f64> {
    (0..n).map(|i| 100.0 * (1.0 + rate).powi(i as i32)).collect()
}

#[track_caller]
fn assert_close(actual: &[f64], expected: &[f64], tolerance: f64, what: &str) {
    assert_eq!(actual.len(), expected.len());
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() <= tolerance * e.abs(), "{what}: {actual:?} != {expected:?}");
    }
}

#[test]
fn trend_followers_extend_a_clean_exponential_trend() {
    let closes = geometric(120, 0.01);
    let expected: Vec<f64> = (1..=6).map(|h| closes[119] * 1.01_f64.powi(h)).collect();
    for forecaster in [
        Forecaster::Drift(DriftParams::default()),
        Forecaster::LinearFit(LinearFitParams::default()),
        Forecaster::LinearFit(LinearFitParams { lookback: 48, anchor: Anchor::Fit }),
        Forecaster::Holt(HoltParams { alpha: 0.9, beta: 0.5, damping: 1.0 }),
        // Constant returns make the lag columns collinear with the intercept: the ridge picks it.
        Forecaster::Ar(ArParams { order: 2, lookback: 119, ridge: 0.01 }),
    ] {
        assert_close(&forecaster.forecast(&closes, 6), &expected, 1e-6, forecaster.name());
    }
}

#[test]
fn last_value_and_flat_series_give_the_last_close() {
    let closes = [10.0, 12.0, 11.0, 13.5];
    assert_eq!(Forecaster::LastValue.forecast(&closes, 3), vec![13.5; 3]);
    let flat = vec![50.0; 60];
    for forecaster in
        [Forecaster::default(), Forecaster::Drift(DriftParams::default()), Forecaster::Ar(ArParams::default())]
    {
        assert_close(&forecaster.forecast(&flat, 6), &[50.0; 6], 1e-9, forecaster.name());
    }
}

#[test]
fn damping_flattens_the_holt_trend() {
    let closes = geometric(120, 0.01);
    let damped = Forecaster::Holt(HoltParams { alpha: 0.9, beta: 0.5, damping: 0.5 }).forecast(&closes, 6);
    // With φ = 0.5 the trend adds at most φ/(1 − φ) = 1 step's growth, however far ahead.
    assert!(damped[5] < closes[119] * 1.01_f64.powi(2));
    assert!(damped.windows(2).all(|w| w[1] >= w[0]));
}

#[test]
fn an_ar1_fit_recovers_alternating_returns() {
    // Returns alternate +2 % / −1 %: r_t = c − r_{t−1} exactly, so AR(1) forecasts the pattern.
    let mut closes = vec![100.0];
    for i in 0..120 {
        let r: f64 = if i % 2 == 0 { 0.02 } else { -0.01 };
        closes.push(closes[i] * r.exp());
    }
    let forecast = Forecaster::Ar(ArParams { order: 1, lookback: 120, ridge: 0.0 }).forecast(&closes, 2);
    let last = closes[closes.len() - 1];
    assert_close(&forecast, &[last * 0.02_f64.exp(), last * 0.01_f64.exp()], 1e-6, "ar(1)");
}

#[test]
fn short_series_fall_back_to_the_last_close() {
    for forecaster in [Forecaster::Ar(ArParams::default()), Forecaster::LinearFit(LinearFitParams::default())] {
        assert_eq!(forecaster.forecast(&[42.0], 3), vec![42.0; 3], "{}", forecaster.name());
    }
}

#[test]
fn intervals_have_the_asked_coverage_on_the_real_series() {
    assert!((normal_quantile(0.9) - 1.281_551_565_544_600_4).abs() < 1e-6, "ar(1)");
    let miner =
        PricePredictionMiner::new(Config { forecaster: Forecaster::LastValue, intervals: Intervals::default() })
            .expect("valid");
    let candles = real_candles();
    let (mut inside, mut total) = (0, 0);
    for cut in 120..=candles.len() - 6 {
        let answer = miner.predict(&task_for(&candles[cut - 120..cut], 6)).expect("answer");
        let intervals = answer.intervals.expect("intervals are on by default");
        for (i, interval) in intervals.iter().enumerate() {
            assert!(interval.low <= answer.closes[i] && answer.closes[i] <= interval.high);
            let actual = candles[cut + i].close;
            inside += usize::from(interval.low <= actual && actual <= interval.high);
            total += 1;
        }
    }
    let coverage = inside as f64 / total as f64;
    eprintln!("realised coverage of the 80 % intervals: {:.1} % of {total}", 100.0 * coverage);
    assert!((0.65..=0.95).contains(&coverage), "coverage {coverage}");
}

#[test]
fn answers_repeat_the_task_id_and_stay_plausible() {
    let miner = PricePredictionMiner::new(Config::default()).expect("valid");
    let mut candles = real_candles()[..120].to_vec();
    // A wild last candle: the forecast is still within a factor 50 of the last close.
    candles[119].close *= 1e6;
    let task = task_for(&candles, 6);
    let answer = miner.predict(&task).expect("answer");
    assert_eq!(answer.task_id, task.task_id);
    assert_eq!(answer.closes.len(), 6);
    let last = candles[119].close;
    assert!(answer.closes.iter().all(|&p| p.is_finite() && p >= last / 50.0 && p <= last * 50.0));

    let mut bad = task.clone();
    bad.horizon = 0;
    assert_eq!(miner.predict(&bad).unwrap_err().to_string(), "horizon 0 is outside 1..=64");
    bad = task.clone();
    bad.candles[3].close = -1.0;
    assert_eq!(miner.predict(&bad).unwrap_err().to_string(), "the close of candle 3 is not a finite positive number");
}

#[test]
fn the_config_selects_a_forecaster_and_names_bad_fields() {
    let config = Config::from_json(r#"{"forecaster": {"method": "ar", "order": 3}, "intervals": {"enabled": false}}"#)
        .expect("valid");
    assert_eq!(config.forecaster, Forecaster::Ar(ArParams { order: 3, ..ArParams::default() }));
    assert!(!config.intervals.enabled);
    assert_eq!(Config::from_json("{}").expect("valid"), Config::default());

    let error = |text: &str| Config::from_json(text).unwrap_err().to_string();
    assert_eq!(error(r#"{"forecaster": {"method": "holt", "alpha": 1.5}}"#), "forecaster.alpha: 1.5 is outside (0, 1]");
    assert_eq!(error(r#"{"intervals": {"window": 1}}"#), "intervals.window: must be at least 2");
    assert_eq!(
        error(r#"{"forecaster": {"method": "ar", "order": 4, "lookback": 10}}"#),
        "forecaster.lookback: 10 is less than 4 · (order + 1) = 20"
    );
    assert!(
        error(r#"{"forecaster": {"method": "holt", "gamma": 1}}"#).starts_with("forecaster: unknown field `gamma`")
    );
    assert!(error(r#"{"forecaster": {"method": "prophet"}}"#).contains("unknown variant `prophet`"));
    assert!(error(r#"{"intervals": {"scale": "wide"}}"#).starts_with("intervals.scale: invalid type"));
}
