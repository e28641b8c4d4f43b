//! The feed registry: configuration, name resolution, snapshots and truths.

use std::sync::Arc;

use feeds::{
    BTC_USDT_FEED, ConfigError, DEFAULT_REPLAY_SPEED, FeedError, Feeds, FeedsConfig, FeedsError, ManualClock,
    PriceFeed, ReplayConfig, ReplayError, ReplayStart, SourceConfig, SystemClock, Window, feed_pair,
};

use crate::common::{H, bundled, exchange, index_at};

const NOW: u64 = 1_800_000_000_000;

fn clock(at: u64) -> Arc<ManualClock> {
    Arc::new(ManualClock::new(at))
}

#[tokio::test]
async fn the_default_replays_btc_usdt_offline() {
    let config = FeedsConfig::default();
    assert_eq!(config.0.len(), 1);
    assert_eq!(config.0[BTC_USDT_FEED], SourceConfig::Replay(ReplayConfig::default()));
    let clock = clock(NOW);
    let feeds = Feeds::from_config(&config, clock.clone()).unwrap();
    assert_eq!(feeds.names().collect::<Vec<_>>(), [BTC_USDT_FEED]);
    clock.advance(25_000);
    let snapshot = feeds.snapshot(&[BTC_USDT_FEED]).await.unwrap();
    assert_eq!(snapshot.unix_ms, NOW + 25_000);
    assert_eq!(snapshot.values.len(), 1);
    assert_eq!(snapshot.values[0].name, BTC_USDT_FEED);
    let value: PriceFeed = serde_json::from_slice(&snapshot.values[0].value).unwrap();
    assert_eq!((value.captured_unix_ms, value.speed), (NOW + 25_000, DEFAULT_REPLAY_SPEED));
    assert_eq!(value.candles.len(), 200);
    // 25 s at 1440× is 2.5 candles past the start candle (199).
    assert_eq!(value.candles.last(), Some(&bundled().candles()[201]));
}

#[tokio::test]
async fn unknown_feeds_are_named() {
    let feeds = Feeds::from_config(&FeedsConfig::default(), Arc::new(SystemClock)).unwrap();
    feeds.resolve(&[BTC_USDT_FEED]).unwrap();
    let err = feeds.resolve(&[BTC_USDT_FEED, "price:ETH-USDT"]).unwrap_err();
    assert!(
        matches!(&err, FeedsError::UnknownFeed { name, known } if name == "price:ETH-USDT" && known == &[BTC_USDT_FEED])
    );
    assert_eq!(err.to_string(), r#"unknown feed "price:ETH-USDT"; this validator serves price:BTC-USDT"#);
    assert!(err.source_error().is_none());
    let err = feeds.values(&["weather:paris"], NOW).await.unwrap_err();
    assert!(err.to_string().contains("\"weather:paris\""), "{err}");
    let empty = Feeds::new(Arc::new(SystemClock));
    assert!(empty.resolve(&[BTC_USDT_FEED]).unwrap_err().to_string().ends_with("serves no feeds"));
    empty.resolve::<&str>(&[]).unwrap();
}

#[test]
fn configuration_reads_from_json_and_is_checked() {
    let json = r#"{
        "price:BTC-USDT": {"replay": {"speed": 600, "start": {"candle": 500}, "anchor_unix_ms": 5}},
        "price:ETH-USDT": {"binance": {"base_url": "http://127.0.0.1:9", "interval": "1h"}}
    }"#;
    let config: FeedsConfig = serde_json::from_str(json).unwrap();
    let SourceConfig::Replay(replay) = &config.0[BTC_USDT_FEED] else { panic!() };
    assert_eq!(
        (replay.speed, &replay.start, replay.anchor_unix_ms, replay.window),
        (600, &ReplayStart::Candle(500), Some(5), 200)
    );
    let back: FeedsConfig = serde_json::from_str(&serde_json::to_string(&config).unwrap()).unwrap();
    assert_eq!(back, config);
    let feeds = Feeds::from_config(&config, clock(NOW)).unwrap();
    assert_eq!(feeds.names().collect::<Vec<_>>(), ["price:BTC-USDT", "price:ETH-USDT"]);
    for bad in [
        r#"{"price:BTC-USDT": {"replay": {"sped": 600}}}"#,
        r#"{"price:BTC-USDT": {"kraken": {}}}"#,
        r#"{"price:BTC-USDT": {"replay": {}, "binance": {}}}"#,
    ] {
        assert!(serde_json::from_str::<FeedsConfig>(bad).is_err(), "{bad}");
    }
    let build = |json: &str| Feeds::from_config(&serde_json::from_str(json).unwrap(), clock(NOW)).map(drop);
    let err = build(r#"{"price:ETH-USDT": {"replay": {}}}"#).unwrap_err();
    assert!(matches!(err, ConfigError::NoReplaySeries { .. }), "{err:?}");
    assert_eq!(err.to_string(), r#"feed "price:ETH-USDT": no bundled series to replay for ETH-USDT (only BTC-USDT)"#);
    let err = build(r#"{"price:BTC-USDT": {"replay": {"speed": 0}}}"#).unwrap_err();
    assert!(matches!(err, ConfigError::Replay { source: ReplayError::ZeroSpeed, .. }), "{err:?}");
    let err = build(r#"{"price:BTC-USDT": {"replay": {"window": 0}}}"#).unwrap_err();
    assert!(matches!(err, ConfigError::Replay { source: ReplayError::ZeroWindow, .. }), "{err:?}");
    let err = build(r#"{"price:BTC-USDT": {"binance": {"base_url": "nope"}}}"#).unwrap_err();
    assert!(err.to_string().starts_with(r#"feed "price:BTC-USDT": base URL "nope""#), "{err}");
    let err = build(r#"{"btc": {"replay": {}}}"#).unwrap_err();
    assert!(matches!(err, ConfigError::BadFeedName { .. }), "{err:?}");
}

#[test]
fn feed_names_are_price_pairs() {
    assert_eq!(feed_pair("price:BTC-USDT").unwrap().symbol(), "BTCUSDT");
    for bad in ["BTC-USDT", "price:", "price:btc-usdt", "price:BTCUSDT", "prices:BTC-USDT"] {
        assert!(matches!(feed_pair(bad), Err(ConfigError::BadFeedName { .. })), "{bad:?}");
    }
    let mut feeds = Feeds::new(Arc::new(SystemClock));
    let replay = feeds::ReplayFeed::new(bundled(), &ReplayStart::default(), 1, 0).unwrap();
    feeds.insert(BTC_USDT_FEED, Arc::new(replay.clone())).unwrap();
    assert!(matches!(feeds.insert(BTC_USDT_FEED, Arc::new(replay)), Err(ConfigError::Duplicate(_))));
}

#[tokio::test]
async fn a_fixed_anchor_keeps_one_replay_across_restarts() {
    let config = FeedsConfig(
        [(
            BTC_USDT_FEED.to_owned(),
            SourceConfig::Replay(ReplayConfig { anchor_unix_ms: Some(NOW), ..Default::default() }),
        )]
        .into(),
    );
    let first = Feeds::from_config(&config, clock(NOW + 1_000)).unwrap();
    let restarted = Feeds::from_config(&config, clock(NOW + 900_000)).unwrap();
    let at = NOW + 1_000_000;
    assert_eq!(
        first.values(&[BTC_USDT_FEED], at).await.unwrap(),
        restarted.values(&[BTC_USDT_FEED], at).await.unwrap()
    );
    // Without an anchor the replay starts when the feeds are built.
    let fresh = |built| async move {
        let feeds = Feeds::from_config(&FeedsConfig::default(), clock(built)).unwrap();
        feeds.values(&[BTC_USDT_FEED], at).await.unwrap()
    };
    assert_ne!(fresh(NOW).await, fresh(NOW + 10_000).await);
}

#[tokio::test]
async fn truths_come_through_the_registry_when_due() {
    let clock = clock(NOW);
    let feeds = Feeds::from_config(&FeedsConfig::default(), clock.clone()).unwrap();
    let value: PriceFeed =
        serde_json::from_slice(&feeds.snapshot(&[BTC_USDT_FEED]).await.unwrap().values[0].value).unwrap();
    let first_open_ms = value.candles.last().unwrap().open_time_ms + H;
    let window = Window { first_open_ms, interval_ms: H, count: 6 };
    let err = feeds.realised(BTC_USDT_FEED, window, NOW + 59_999).await.unwrap_err();
    let Some(FeedError::NotYetAvailable { available_at_unix_ms, .. }) = err.source_error() else { panic!("{err:?}") };
    assert_eq!(*available_at_unix_ms, NOW + 60_000);
    assert!(err.to_string().starts_with(r#"feed "price:BTC-USDT": the BTC-USDT candles of"#), "{err}");
    let truth = feeds.realised(BTC_USDT_FEED, window, NOW + 60_000).await.unwrap();
    assert_eq!(truth.candles.len(), 6);
    assert_eq!(truth.candles[0].open_time_ms, first_open_ms);
    assert!(feeds.realised("price:ETH-USDT", window, NOW).await.is_err());
}

#[tokio::test]
async fn a_live_feed_through_the_registry() {
    let series = bundled();
    let i = index_at("2025-12-24 20:00:00");
    let now = series.candles()[i + 1].open_time_ms + 600_000;
    let server = exchange(now).await;
    let json = format!(r#"{{"price:BTC-USDT": {{"binance": {{"base_url": "{}", "window": 150}}}}}}"#, server.base_url);
    let feeds = Feeds::from_config(&serde_json::from_str(&json).unwrap(), clock(now)).unwrap();
    let snapshot = feeds.snapshot(&[BTC_USDT_FEED]).await.unwrap();
    let value: PriceFeed = serde_json::from_slice(&snapshot.values[0].value).unwrap();
    assert_eq!((value.as_of_ms, value.captured_unix_ms, value.speed), (now, now, 1));
    assert_eq!(value.candles, series.candles()[i - 149..=i]);
    assert_eq!(server.queries()[0]["limit"], "151");
}

#[test]
fn clocks_tell_the_time() {
    use feeds::Clock;
    let now = SystemClock.now_unix_ms();
    assert!(now > 1_767_225_600_000, "{now}"); // after 2026-01-01
    let manual = ManualClock::new(5);
    manual.advance(10);
    assert_eq!(manual.now_unix_ms(), 15);
    manual.set(3);
    assert_eq!(manual.now_unix_ms(), 3);
    manual.advance(u64::MAX);
    assert_eq!(manual.now_unix_ms(), u64::MAX);
}
