//! The accelerated replay: time mapping, closed windows only, truth after close, gaps, the end.

use std::sync::Arc;

use feeds::{
    FeedError, PriceFeed, ReplayError, ReplayFeed, ReplayStart, Series, Window, parse_utc_ms, validate_series,
};
use proptest::prelude::*;

use crate::common::{H, assert_same, btc, bundled, index_at};

const ANCHOR: u64 = 1_800_000_000_000;

fn replay(start: usize, speed: u64) -> ReplayFeed {
    ReplayFeed::new(bundled(), &ReplayStart::Candle(start), speed, ANCHOR).unwrap()
}

#[test]
fn the_first_value_ends_with_the_start_candle() {
    let feed = replay(199, 1440);
    let value = feed.latest_at(&btc(), ANCHOR).unwrap();
    let series = bundled();
    assert_eq!(value.pair, "BTC-USDT");
    assert_eq!(value.interval_ms, H);
    assert_eq!(value.as_of_ms, series.candles()[199].open_time_ms + H);
    assert_eq!(value.captured_unix_ms, ANCHOR);
    assert_eq!(value.speed, 1440);
    assert_same(&value.candles, &series.candles()[..200]);
    // A start this early carries what exists.
    assert_same(&replay(9, 1440).latest_at(&btc(), ANCHOR).unwrap().candles, &series.candles()[..10]);
}

#[test]
fn speed_maps_wall_time_to_market_time() {
    let feed = replay(5000, 1440);
    let t0 = bundled().candles()[5000].open_time_ms + H;
    assert_eq!(feed.start_ms(), t0);
    // 10 s of wall time is one 4-hour candle at 1440×.
    assert_eq!(feed.replay_time_ms(ANCHOR + 10_000), t0 + H);
    assert_eq!(feed.replay_time_ms(ANCHOR + 1), t0 + 1440);
    assert_eq!(feed.replay_time_ms(ANCHOR - 10_000), t0 - H);
    assert_eq!(feed.wall_time_at(t0 + H), ANCHOR + 10_000);
    assert_eq!(feed.wall_time_at(t0 + H + 1), ANCHOR + 10_001);
    assert_eq!(feed.wall_time_at(t0 - H), ANCHOR - 10_000);
    let last = |now| feed.latest_at(&btc(), now).unwrap().candles.last().unwrap().open_time_ms;
    let series = bundled();
    assert_eq!(last(ANCHOR + 9_999), series.candles()[5000].open_time_ms);
    assert_eq!(last(ANCHOR + 10_000), series.candles()[5001].open_time_ms);
    assert_eq!(last(ANCHOR + 25_000), series.candles()[5002].open_time_ms);
    assert_eq!(feed.latest_at(&btc(), ANCHOR + 25_000).unwrap().as_of_ms, t0 + 2 * H + H / 2);
    // At 600× a candle takes 24 s of wall time.
    assert_eq!(replay(5000, 600).replay_time_ms(ANCHOR + 24_000), t0 + H);
    // At speed 1 the replay runs at market pace.
    assert_eq!(replay(5000, 1).replay_time_ms(ANCHOR + 3_600_000), t0 + 3_600_000);
}

#[test]
fn a_start_time_sets_the_clock_exactly() {
    let series = bundled();
    let start = ReplayStart::Time("2024-03-05 13:30:00".into());
    let feed = ReplayFeed::new(series.clone(), &start, 600, ANCHOR).unwrap();
    assert_eq!(feed.start_ms(), parse_utc_ms("2024-03-05 13:30:00").unwrap());
    let value = feed.latest_at(&btc(), ANCHOR).unwrap();
    assert_eq!(value.candles.last().unwrap().open_time_ms, parse_utc_ms("2024-03-05 08:00:00").unwrap());
    let json: ReplayStart = serde_json::from_str(r#"{"time": "2024-03-05 13:30:00"}"#).unwrap();
    assert_eq!(json, start);
    assert_eq!(serde_json::from_str::<ReplayStart>(r#"{"candle": 7}"#).unwrap(), ReplayStart::Candle(7));
}

#[test]
fn bad_replay_settings_are_refused() {
    let s = bundled();
    let new = |start: ReplayStart, speed| ReplayFeed::new(s.clone(), &start, speed, ANCHOR).map(drop);
    assert_eq!(new(ReplayStart::Candle(0), 0), Err(ReplayError::ZeroSpeed));
    assert_eq!(new(ReplayStart::Candle(17_586), 1), Err(ReplayError::StartOutOfRange { index: 17_586, len: 17_586 }));
    for time in ["2017-12-31 00:00:00", "2026-01-12 16:00:00", "yesterday"] {
        let err = new(ReplayStart::Time(time.into()), 1).unwrap_err();
        assert!(matches!(&err, ReplayError::BadStartTime { time: t, .. } if t == time), "{err}");
    }
    assert_eq!(replay(300, 1).with_window(0).map(drop), Err(ReplayError::ZeroWindow));
}

#[test]
fn the_window_is_capped_and_ordered() {
    let feed = replay(3000, 1440).with_window(120).unwrap();
    let value = feed.latest_at(&btc(), ANCHOR + 123_456).unwrap();
    assert_eq!(value.candles.len(), 120);
    validate_series(&value.candles, H).unwrap();
    assert_eq!(feed.window(), 120);
}

#[test]
fn truth_exists_only_once_the_replay_clock_passes_the_close() {
    let feed = replay(199, 1440);
    let series = bundled();
    let window = Window { first_open_ms: series.candles()[200].open_time_ms, interval_ms: H, count: 6 };
    // Six candles at 10 s each: a minute of wall time.
    let due = ANCHOR + 60_000;
    for now in [ANCHOR, ANCHOR + 30_000, due - 1] {
        match feed.realised_at(&btc(), window, now) {
            Err(err @ FeedError::NotYetAvailable { .. }) => {
                assert_eq!(err.available_at_unix_ms(), Some(due));
                assert!(err.is_transient());
            }
            other => panic!("at {now}: want not yet available, got {other:?}"),
        }
    }
    let truth = feed.realised_at(&btc(), window, due).unwrap();
    assert_eq!((truth.pair.as_str(), truth.interval_ms), ("BTC-USDT", H));
    assert_same(&truth.candles, &series.candles()[200..206]);
    // The feed at that moment has just closed the window's last candle, and the truth's candles
    // were never in a feed value taken before it was due.
    let value = feed.latest_at(&btc(), due).unwrap();
    assert_eq!(value.candles.last(), truth.candles.last());
    let earlier = feed.latest_at(&btc(), due - 1).unwrap();
    assert!(earlier.candles.iter().all(|c| c.open_time_ms < truth.candles[5].open_time_ms));
}

#[test]
fn bad_truth_requests_are_hard_errors() {
    let feed = replay(199, 1440);
    let first = bundled().candles()[200].open_time_ms;
    let late = ANCHOR + 10_000_000;
    let err = feed.realised_at(&btc(), Window { first_open_ms: first, interval_ms: H / 4, count: 6 }, late);
    assert!(matches!(err, Err(FeedError::InvalidRequest { .. })), "{err:?}");
    let err = feed.realised_at(&btc(), Window { first_open_ms: first + 1, interval_ms: H, count: 6 }, late);
    assert!(matches!(err, Err(FeedError::InvalidRequest { .. })), "{err:?}");
    let err = feed.realised_at(&btc(), Window { first_open_ms: first, interval_ms: H, count: 0 }, late);
    assert!(matches!(err, Err(FeedError::InvalidRequest { .. })), "{err:?}");
    let eth: feeds::Pair = "ETH-USDT".parse().unwrap();
    let err = feed.latest_at(&eth, ANCHOR).unwrap_err();
    assert!(matches!(err, FeedError::UnsupportedPair { .. }));
    assert_eq!(err.to_string(), "this source serves a replay of BTC-USDT, not ETH-USDT");
    assert!(!err.is_transient());
}

#[test]
fn gaps_pass_through_as_the_exchange_left_them() {
    let series = bundled();
    // The 32-hour hole: candles 2018-02-08 04:00 … 2018-02-09 04:00 are missing.
    let before = index_at("2018-02-08 00:00:00");
    let feed = replay(before - 1, 1440);
    let at = |market: &str| feed.wall_time_at(parse_utc_ms(market).unwrap());
    // Inside the hole, the value is honest: its newest candle is the one before the hole, which is
    // more than an interval old, so the plugin refuses it as stale and the round is skipped.
    let inside = feed.latest_at(&btc(), at("2018-02-08 20:00:00")).unwrap();
    assert_eq!(inside.candles.last(), Some(&series.candles()[before]));
    assert!(inside.as_of_ms - (inside.candles.last().unwrap().open_time_ms + H) > H + H / 20);
    // After it, the window spans the hole (whole intervals apart, as the contract allows).
    let after = feed.latest_at(&btc(), at("2018-02-10 00:00:00")).unwrap();
    validate_series(&after.candles, H).unwrap();
    assert_eq!(after.candles.len(), 200);
    assert!(after.candles.windows(2).any(|w| w[1].open_time_ms - w[0].open_time_ms == 8 * H));
    // A truth window partly in the hole holds the candles that exist.
    let late = at("2018-02-12 00:00:00");
    let partial = Window { first_open_ms: parse_utc_ms("2018-02-09 00:00:00").unwrap(), interval_ms: H, count: 6 };
    let truth = feed.realised_at(&btc(), partial, late).unwrap();
    assert_eq!(truth.candles.len(), 4);
    assert_eq!(truth.candles[0], series.candles()[before + 1]);
    // One wholly inside it has none: a hard error, not a retry.
    let hole = Window { first_open_ms: parse_utc_ms("2018-02-08 04:00:00").unwrap(), interval_ms: H, count: 6 };
    let err = feed.realised_at(&btc(), hole, late).unwrap_err();
    assert!(matches!(err, FeedError::NoCandles { .. }), "{err:?}");
    assert!(err.to_string().contains("2018-02-08 04:00:00"), "{err}");
}

#[test]
fn the_replay_ends_with_its_series() {
    let series = bundled();
    let last = series.len() - 1;
    let feed = replay(last - 1, 1440);
    // The last candle closes 10 s in; for one more interval it is the newest; then the series is over.
    assert_eq!(feed.latest_at(&btc(), ANCHOR + 10_000).unwrap().candles.last(), series.candles().last());
    assert!(feed.latest_at(&btc(), ANCHOR + 19_999).is_ok());
    let err = feed.latest_at(&btc(), ANCHOR + 20_000).unwrap_err();
    assert!(matches!(err, FeedError::SeriesEnded { .. }), "{err:?}");
    assert!(err.to_string().contains("2026-01-12 16:00:00"), "{err}");
    // A window reaching past the end will never settle: refused at once, not "later".
    let window = Window { first_open_ms: series.candles()[last - 2].open_time_ms, interval_ms: H, count: 6 };
    let err = feed.realised_at(&btc(), window, ANCHOR).unwrap_err();
    assert!(matches!(err, FeedError::SeriesEnded { .. }), "{err:?}");
}

/// A short synthetic series, to test the replay of a series other than the bundled one.
#[test]
fn any_series_replays() {
    let candles: Vec<feeds::Candle> = (0..10)
        .map(|i| feeds::Candle { open_time_ms: i * 60_000, open: 1.0, high: 2.0, low: 0.5, close: 1.5, volume: 0.0 })
        .collect();
    let series = Arc::new(Series::new("ETH-BTC".parse().unwrap(), 60_000, candles).unwrap());
    let feed = ReplayFeed::new(series, &ReplayStart::Candle(2), 60, 0).unwrap().with_window(2).unwrap();
    let value = feed.latest_at(&"ETH-BTC".parse().unwrap(), 2_000).unwrap();
    assert_eq!(value.as_of_ms, 3 * 60_000 + 120_000);
    assert_eq!(value.candles.iter().map(|c| c.open_time_ms / 60_000).collect::<Vec<_>>(), [3, 4]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// At any moment the value holds exactly the newest closed candles: none closing after its
    /// clock, none closed but left out, sorted, whole intervals apart, and its JSON round-trips.
    #[test]
    fn the_replay_never_leaks_a_future_candle(
        start in 0usize..17_586,
        speed in prop_oneof![Just(1u64), Just(600), Just(1440), 1u64..100_000],
        offset in -20_000_000i64..2_000_000_000,
        window in 1usize..300,
    ) {
        let series = bundled();
        let feed = ReplayFeed::new(series.clone(), &ReplayStart::Candle(start), speed, ANCHOR)
            .unwrap()
            .with_window(window)
            .unwrap();
        let now = ANCHOR.checked_add_signed(offset).unwrap();
        let t = feed.replay_time_ms(now);
        match feed.latest_at(&btc(), now) {
            Ok(value) => {
                prop_assert_eq!(value.as_of_ms, t);
                prop_assert_eq!(value.captured_unix_ms, now);
                prop_assert!(value.candles.iter().all(|c| c.open_time_ms + H <= t));
                let closed = series.candles().iter().filter(|c| c.open_time_ms + H <= t).count();
                prop_assert_eq!(value.candles.len(), closed.min(window));
                if closed > 0 {
                    prop_assert_eq!(value.candles.last(), Some(&series.candles()[closed - 1]));
                }
                validate_series(&value.candles, H).unwrap();
                let decoded: PriceFeed = serde_json::from_slice(&value.to_json()).unwrap();
                prop_assert_eq!(decoded, value);
            }
            Err(FeedError::SeriesEnded { .. }) => prop_assert!(t >= series.end_ms() + H),
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }

    /// Truth comes exactly when the replay clock reaches the window's end, and never before.
    #[test]
    fn truth_is_due_exactly_at_the_close(start in 0usize..17_000, ahead in 0usize..200, k in 1u32..12, speed in 1u64..5000) {
        let series = bundled();
        let feed = ReplayFeed::new(series.clone(), &ReplayStart::Candle(start), speed, ANCHOR).unwrap();
        let first = series.candles()[(start + ahead).min(series.len() - 1)].open_time_ms;
        let window = Window { first_open_ms: first, interval_ms: H, count: k };
        match feed.realised_at(&btc(), window, ANCHOR) {
            Err(FeedError::SeriesEnded { .. }) => prop_assert!(window.end_ms() > series.end_ms()),
            Err(FeedError::NotYetAvailable { available_at_unix_ms: due, .. }) => {
                prop_assert!(feed.replay_time_ms(due) >= window.end_ms());
                prop_assert!(feed.replay_time_ms(due - 1) < window.end_ms());
                prop_assert!(feed.realised_at(&btc(), window, due - 1).is_err());
                let truth = feed.realised_at(&btc(), window, due).unwrap();
                prop_assert!(truth.candles.iter().all(|c| window.contains(c.open_time_ms)));
                prop_assert!(!truth.candles.is_empty() && truth.candles.len() <= k as usize);
            }
            Ok(truth) => prop_assert!(feed.replay_time_ms(ANCHOR) >= window.end_ms() && !truth.candles.is_empty()),
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
}
