//! Helpers shared by the tests: the bundled series, and a loopback kline server that answers like
//! Binance's `/api/v3/klines` from rows of the bundled CSV.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use feeds::{BTCUSDT_4H_CSV_GZ, Candle, FOUR_HOURS_MS, Pair, Series, parse_utc_ms};

pub(crate) const H: u64 = FOUR_HOURS_MS;

pub(crate) fn btc() -> Pair {
    "BTC-USDT".parse().unwrap()
}

pub(crate) fn bundled() -> Arc<Series> {
    Series::bundled_btcusdt_4h().unwrap()
}

/// Index of the candle opening at `time` (`YYYY-MM-DD HH:MM:SS`) in the bundled series.
pub(crate) fn index_at(time: &str) -> usize {
    let t = parse_utc_ms(time).unwrap();
    bundled().candles().iter().position(|c| c.open_time_ms == t).unwrap_or_else(|| panic!("no candle at {time}"))
}

/// The bundled CSV's rows as Binance klines (all twelve columns, numbers as Binance writes them).
pub(crate) fn recorded_klines() -> &'static [serde_json::Value] {
    static KLINES: std::sync::OnceLock<Vec<serde_json::Value>> = std::sync::OnceLock::new();
    KLINES.get_or_init(|| {
        let mut text = String::new();
        flate2::read::GzDecoder::new(BTCUSDT_4H_CSV_GZ).read_to_string(&mut text).unwrap();
        text.lines()
            .skip(1)
            .map(|row| {
                let f: Vec<&str> = row.split(',').map(str::trim).collect();
                serde_json::json!([
                    parse_utc_ms(f[0]).unwrap(),
                    f[1],
                    f[2],
                    f[3],
                    f[4],
                    f[5],
                    parse_utc_ms(f[6]).unwrap(),
                    f[7],
                    f[8].parse::<u64>().unwrap(),
                    f[9],
                    f[10],
                    f[11]
                ])
            })
            .collect()
    })
}

/// What the loopback server answers.
pub(crate) enum Reply {
    /// This status and body, at once.
    Now(u16, String),
    /// This status and body, after a delay.
    After(Duration, u16, String),
}

type Handler = Arc<dyn Fn(&BTreeMap<String, String>) -> Reply + Send + Sync>;

#[derive(Clone)]
struct AppState {
    handler: Handler,
    queries: Arc<Mutex<Vec<BTreeMap<String, String>>>>,
}

/// A kline server on `127.0.0.1:0`, running until the test's runtime ends.
pub(crate) struct Server {
    pub(crate) base_url: String,
    queries: Arc<Mutex<Vec<BTreeMap<String, String>>>>,
}

impl Server {
    /// The query parameters of every request so far.
    pub(crate) fn queries(&self) -> Vec<BTreeMap<String, String>> {
        self.queries.lock().unwrap().clone()
    }
}

async fn klines(State(state): State<AppState>, RawQuery(query): RawQuery) -> (StatusCode, String) {
    let query: BTreeMap<String, String> = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    state.queries.lock().unwrap().push(query.clone());
    let (status, body) = match (state.handler)(&query) {
        Reply::Now(status, body) => (status, body),
        Reply::After(delay, status, body) => {
            tokio::time::sleep(delay).await;
            (status, body)
        }
    };
    (StatusCode::from_u16(status).unwrap(), body)
}

/// Serves `handler` at `/api/v3/klines`.
pub(crate) async fn serve(handler: impl Fn(&BTreeMap<String, String>) -> Reply + Send + Sync + 'static) -> Server {
    let queries = Arc::new(Mutex::new(Vec::new()));
    let state = AppState { handler: Arc::new(handler), queries: queries.clone() };
    let app = Router::new().route("/api/v3/klines", get(klines)).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server { base_url: format!("http://{addr}"), queries }
}

/// A server answering like Binance from the recorded klines, with its clock at `now_ms`: the
/// kline containing `now_ms` is the open one, nothing later exists; `limit`, `startTime` and
/// `endTime` select as Binance does (the most recent `limit` without a start time).
pub(crate) async fn exchange(now_ms: u64) -> Server {
    exchange_with(now_ms, |rows| rows).await
}

/// [`exchange`], with the selected rows passed through `edit` before they are sent.
pub(crate) async fn exchange_with(
    now_ms: u64,
    edit: impl Fn(Vec<serde_json::Value>) -> Vec<serde_json::Value> + Send + Sync + 'static,
) -> Server {
    serve(move |q| {
        let num = |k: &str| q.get(k).map(|v| v.parse::<u64>().unwrap());
        let limit = num("limit").unwrap_or(500) as usize;
        let existing = recorded_klines().iter().filter(|k| k[0].as_u64().unwrap() <= now_ms);
        let rows: Vec<serde_json::Value> = match (num("startTime"), num("endTime")) {
            (Some(start), end) => existing
                .filter(|k| k[0].as_u64().unwrap() >= start && end.is_none_or(|e| k[0].as_u64().unwrap() <= e))
                .take(limit)
                .cloned()
                .collect(),
            (None, _) => {
                let all: Vec<_> = existing.cloned().collect();
                all[all.len().saturating_sub(limit)..].to_vec()
            }
        };
        Reply::Now(200, serde_json::to_string(&edit(rows)).unwrap())
    })
    .await
}

/// Asserts `candles` are exactly `expected` (bit for bit).
pub(crate) fn assert_same(candles: &[Candle], expected: &[Candle]) {
    assert_eq!(candles.len(), expected.len());
    for (a, b) in candles.iter().zip(expected) {
        assert_eq!(a, b);
        assert_eq!(a.close.to_bits(), b.close.to_bits());
    }
}
