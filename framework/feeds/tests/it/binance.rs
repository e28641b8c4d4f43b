//! The live source against a real HTTP server on the loopback interface, answering like Binance
//! from the bundled series' rows. Nothing here reaches the internet.

use std::time::Duration;

use feeds::{
    BinanceConfig, BinanceConfigError, BinanceKlines, FeedError, KlineInterval, MAX_BODY_BYTES, Window, parse_klines,
    parse_utc_ms, validate_series,
};

use crate::common::{H, Reply, assert_same, btc, bundled, exchange, exchange_with, index_at, recorded_klines, serve};

fn source(base_url: &str) -> BinanceKlines {
    BinanceKlines::new(BinanceConfig { base_url: base_url.to_owned(), ..BinanceConfig::default() }).unwrap()
}

fn source_with(base_url: &str, edit: impl FnOnce(&mut BinanceConfig)) -> BinanceKlines {
    let mut config = BinanceConfig { base_url: base_url.to_owned(), ..BinanceConfig::default() };
    edit(&mut config);
    BinanceKlines::new(config).unwrap()
}

#[tokio::test]
async fn latest_drops_the_open_kline_and_matches_the_series() {
    let series = bundled();
    let i = index_at("2025-06-01 08:00:00");
    // An hour into candle i+1, which the server sends last, still open.
    let now = series.candles()[i + 1].open_time_ms + 3_600_000;
    let server = exchange(now).await;
    let live = source(&server.base_url);
    let value = live.latest_at(&btc(), now).await.unwrap();
    assert_eq!((value.pair.as_str(), value.interval_ms, value.speed), ("BTC-USDT", H, 1));
    assert_eq!((value.as_of_ms, value.captured_unix_ms), (now, now));
    assert_same(&value.candles, &series.candles()[i - 199..=i]);
    let queries = server.queries();
    assert_eq!(queries.len(), 1);
    let q = &queries[0];
    assert_eq!((q["symbol"].as_str(), q["interval"].as_str(), q["limit"].as_str()), ("BTCUSDT", "4h", "201"));
    assert!(!q.contains_key("startTime"));
    // The replay at the same market moment publishes the same candles.
    let replay = feeds::ReplayFeed::new(series.clone(), &feeds::ReplayStart::Candle(i), 1, 0).unwrap();
    let replayed = replay.latest_at(&btc(), now - (series.candles()[i].open_time_ms + H)).unwrap();
    assert_eq!(replayed.as_of_ms, now);
    assert_eq!(replayed.candles, value.candles);
}

#[tokio::test]
async fn a_kline_is_closed_only_after_the_grace() {
    let series = bundled();
    let i = index_at("2025-06-01 08:00:00");
    let close = series.candles()[i].open_time_ms + H;
    // The server has already rolled over to candle i+1; our clock is a second past i's close.
    let server = exchange(close + 1_000).await;
    let live = source(&server.base_url);
    let value = live.latest_at(&btc(), close + 1_000).await.unwrap();
    assert_eq!(value.candles.last(), Some(&series.candles()[i - 1]));
    assert_eq!(value.candles.len(), 199);
    let value = live.latest_at(&btc(), close + 5_000).await.unwrap();
    assert_eq!(value.candles.last(), Some(&series.candles()[i]));
    // A validator clock behind the exchange's still never publishes a kline open by its own clock.
    let value = live.latest_at(&btc(), close - 1).await.unwrap();
    assert!(value.candles.iter().all(|c| c.open_time_ms + H < close));
}

#[tokio::test]
async fn gaps_in_the_klines_pass_through() {
    let series = bundled();
    let after = index_at("2018-02-09 08:00:00");
    let now = series.candles()[after + 10].open_time_ms + 60_000;
    let server = exchange(now).await;
    let value = source(&server.base_url).latest_at(&btc(), now).await.unwrap();
    validate_series(&value.candles, H).unwrap();
    assert_same(&value.candles, &series.candles()[after + 10 - 200..after + 10]);
    assert!(value.candles.windows(2).any(|w| w[1].open_time_ms - w[0].open_time_ms == 8 * H));
}

#[tokio::test]
async fn truth_is_fetched_for_the_window_once_it_has_closed() {
    let series = bundled();
    let i = index_at("2024-11-05 00:00:00");
    let window = Window { first_open_ms: series.candles()[i].open_time_ms, interval_ms: H, count: 6 };
    let due = window.end_ms() + 5_000;
    let server = exchange(due).await;
    let live = source(&server.base_url);
    let err = live.realised_at(&btc(), window, due - 1).await.unwrap_err();
    assert_eq!(err.available_at_unix_ms(), Some(due));
    assert!(server.queries().is_empty(), "no request before the window has closed");
    let truth = live.realised_at(&btc(), window, due).await.unwrap();
    assert_same(&truth.candles, &series.candles()[i..i + 6]);
    let q = &server.queries()[0];
    assert_eq!(q["startTime"], window.first_open_ms.to_string());
    assert_eq!(q["endTime"], (window.end_ms() - 1).to_string());
    assert_eq!(q["limit"], "6");
    // Another interval is not this source's.
    let err = live.realised_at(&btc(), Window { interval_ms: H / 4, ..window }, due).await.unwrap_err();
    assert!(matches!(err, FeedError::InvalidRequest { .. }), "{err:?}");
}

#[tokio::test]
async fn truth_across_an_outage_leaves_out_the_missing_candles() {
    let series = bundled();
    let now = parse_utc_ms("2018-03-01 00:00:00").unwrap();
    let server = exchange(now).await;
    let live = source(&server.base_url);
    let partial = Window { first_open_ms: parse_utc_ms("2018-02-09 00:00:00").unwrap(), interval_ms: H, count: 6 };
    let truth = live.realised_at(&btc(), partial, now).await.unwrap();
    let after = index_at("2018-02-09 08:00:00");
    assert_same(&truth.candles, &series.candles()[after..after + 4]);
    let hole = Window { first_open_ms: parse_utc_ms("2018-02-08 04:00:00").unwrap(), interval_ms: H, count: 6 };
    let err = live.realised_at(&btc(), hole, now).await.unwrap_err();
    assert!(matches!(err, FeedError::NoCandles { .. }), "{err:?}");
}

#[tokio::test]
async fn server_errors_name_the_url_and_status() {
    let server = serve(|_| Reply::Now(500, r#"{"code":-1000,"msg":"An unknown error occurred."}"#.into())).await;
    let err = source(&server.base_url).latest_at(&btc(), 1_700_000_000_000).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, FeedError::Status { status: 500, .. }), "{err:?}");
    assert!(
        text.contains(&format!("{}/api/v3/klines?symbol=BTCUSDT&interval=4h&limit=201", server.base_url)),
        "{text}"
    );
    assert!(text.contains("HTTP 500") && text.contains("An unknown error occurred."), "{text}");
    assert!(err.is_transient());
    let server =
        serve(|_| Reply::Now(400, format!(r#"{{"code":-1121,"msg":"Invalid symbol. {}"}}"#, "x".repeat(1000)))).await;
    let err = source(&server.base_url).latest_at(&btc(), 1_700_000_000_000).await.unwrap_err();
    assert!(!err.is_transient());
    let FeedError::Status { body, .. } = &err else { panic!("{err:?}") };
    assert!(body.contains("Invalid symbol.") && body.chars().count() == 301, "{body}");
    let server = serve(|_| Reply::Now(429, String::new())).await;
    assert!(source(&server.base_url).latest_at(&btc(), 1_700_000_000_000).await.unwrap_err().is_transient());
}

async fn invalid(body: impl Into<String>) -> String {
    let body = body.into();
    let server = serve(move |_| Reply::Now(200, body.clone())).await;
    let err = source(&server.base_url).latest_at(&btc(), u64::MAX / 2).await.unwrap_err();
    let FeedError::InvalidResponse { url, reason } = &err else { panic!("{err:?}") };
    assert!(url.starts_with(&server.base_url), "{url}");
    assert!(err.to_string().contains(&server.base_url));
    reason.clone()
}

#[tokio::test]
async fn malformed_bodies_are_named() {
    assert!(invalid("[[1514764800000, \"1\"").await.starts_with("the body is not JSON"));
    assert_eq!(invalid(r#"{"code":0}"#).await, "the body is a JSON object, not an array of klines");
    assert_eq!(invalid("[[], 3]").await, "kline 0 has 0 fields, want at least 7");
    assert_eq!(invalid("[3]").await, "kline 0 is a JSON number, not an array");
    assert_eq!(invalid("[]").await, "none of its 0 klines had closed at unix ms 9223372036854775807");
    let ok = r#"[1514764800000,"1.0","2.0","0.5","1.5","3.0",1514779199999,"0",1,"0","0","0"]"#;
    let next = ok.replace("1514779199999", "1514793599999").replace("1514764800000", "1514779200000");
    let body = format!("[{ok},{}]", next.replace("\"1.5\"", "\"abc\""));
    assert_eq!(invalid(body).await, r#"kline 1: close "abc" is not a decimal number"#);
    let body = format!("[{}]", ok.replace("1514764800000", "-5"));
    assert_eq!(invalid(body).await, "kline 0: open time -5 is not a whole number of ms");
}

#[test]
fn kline_rules_are_checked() {
    let rows = |r: &[serde_json::Value]| serde_json::to_vec(r).unwrap();
    let k = &recorded_klines()[1000..1003];
    assert_eq!(parse_klines(&rows(k), H).unwrap().len(), 3);
    let err = parse_klines(&rows(k), H / 4).unwrap_err();
    assert!(err.starts_with("kline 0: close time") && err.contains("wrong interval"), "{err}");
    let err = parse_klines(&rows(&[k[1].clone(), k[0].clone()]), H).unwrap_err();
    assert!(err.starts_with("kline 1: opening time") && err.contains("does not increase"), "{err}");
    let mut bad = k[0].clone();
    bad[3] = serde_json::json!("999999999");
    let err = parse_klines(&rows(&[bad]), H).unwrap_err();
    assert!(err.starts_with("kline 0: candle at") && err.contains("low"), "{err}");
    // Numbers instead of strings are accepted (Binance-compatible servers differ).
    let mut numeric = k[0].clone();
    let close: f64 = k[0][4].as_str().unwrap().parse().unwrap();
    numeric[4] = serde_json::json!(close);
    assert_eq!(parse_klines(&rows(&[numeric]), H).unwrap()[0].close, close);
}

#[tokio::test]
async fn served_klines_out_of_order_or_misaligned_are_refused() {
    let now = bundled().candles()[5000].open_time_ms;
    let server = exchange_with(now, |mut rows| {
        rows.swap(10, 11);
        rows
    })
    .await;
    let err = source(&server.base_url).latest_at(&btc(), now).await.unwrap_err();
    assert!(err.to_string().contains("kline 11: opening time"), "{err}");
    let server = exchange_with(now, |mut rows| {
        rows[5][0] = serde_json::json!(rows[5][0].as_u64().unwrap() + 1);
        rows[5][6] = serde_json::json!(rows[5][6].as_u64().unwrap() + 1);
        rows
    })
    .await;
    let err = source(&server.base_url).latest_at(&btc(), now).await.unwrap_err();
    assert!(err.to_string().contains("kline 5: opening time") && err.to_string().contains("whole number"), "{err}");
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let server = serve(|_| Reply::After(Duration::from_secs(5), 200, "[]".into())).await;
    let live = source_with(&server.base_url, |c| c.timeout_ms = 200);
    let started = std::time::Instant::now();
    let err = live.latest_at(&btc(), 1_700_000_000_000).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    let FeedError::Http { url, source } = &err else { panic!("{err:?}") };
    assert!(source.is_timeout(), "{source:?}");
    assert!(url.starts_with(&server.base_url));
    assert!(err.is_transient());
}

#[tokio::test]
async fn an_unreachable_server_is_named() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = source(&base_url).latest_at(&btc(), 1_700_000_000_000).await.unwrap_err();
    assert!(matches!(err, FeedError::Http { .. }), "{err:?}");
    assert!(err.to_string().starts_with(&format!("request to {base_url}/api/v3/klines?symbol=BTCUSDT")), "{err}");
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let server = serve(|_| Reply::Now(200, " ".repeat(MAX_BODY_BYTES + 1))).await;
    let err = source(&server.base_url).latest_at(&btc(), 1_700_000_000_000).await.unwrap_err();
    assert!(err.to_string().contains("larger than"), "{err}");
}

#[test]
fn settings_are_checked() {
    let new = |edit: fn(&mut BinanceConfig)| {
        let mut config = BinanceConfig::default();
        edit(&mut config);
        BinanceKlines::new(config)
    };
    for url in ["ftp://example.com", "not a url", "mailto:a@b.c", ""] {
        let err = BinanceKlines::new(BinanceConfig { base_url: url.into(), ..BinanceConfig::default() }).unwrap_err();
        assert!(matches!(&err, BinanceConfigError::BadBaseUrl { url: u, .. } if u == url), "{err}");
    }
    assert!(matches!(new(|c| c.window = 0), Err(BinanceConfigError::BadWindow(0))));
    assert!(matches!(new(|c| c.window = 1000), Err(BinanceConfigError::BadWindow(1000))));
    assert!(matches!(new(|c| c.timeout_ms = 0), Err(BinanceConfigError::ZeroTimeout)));
    let live = new(|_| {}).unwrap();
    assert_eq!(live.endpoint().as_str(), "https://api.binance.com/api/v3/klines");
    let proxied = BinanceKlines::new(BinanceConfig {
        base_url: "http://127.0.0.1:9/proxy/?x=1".into(),
        interval: KlineInterval::M15,
        ..BinanceConfig::default()
    })
    .unwrap();
    assert_eq!(proxied.endpoint().as_str(), "http://127.0.0.1:9/proxy/api/v3/klines");
    let config: BinanceConfig = serde_json::from_str(r#"{"base_url": "http://x", "interval": "1h"}"#).unwrap();
    assert_eq!((config.interval, config.interval.ms(), config.window), (KlineInterval::H1, 3_600_000, 200));
    assert!(serde_json::from_str::<BinanceConfig>(r#"{"interval": "1M"}"#).is_err());
    assert!(serde_json::from_str::<BinanceConfig>(r#"{"url": "http://x"}"#).is_err());
}
