//! Records `samples/batch.json`: a task cut from the bundled real candles, a realistic spread of
//! miners' answers (good, naive, copied, cheating, missing) and the realised candles as the truth;
//! and `samples/feeds.json`, the feed value the task was made from, in the form
//! `subnetkit plugin task --feeds` reads.
//!
//! `cargo run -p price-prediction --example record_sample_batch`

use price_prediction::feed::closed_window;
use price_prediction::{Candle, FEED, HORIZON, PAIR, PriceFeed, PricePrediction, RealisedCandles};
use sdk_guest::testing::{self, Batch, BatchResponse, BatchTask};
use sdk_guest::{Outcome, wire};
use serde_json::json;

const H4: u64 = 14_400_000;
/// Candle the task is cut after: the last one whose horizon the bundled file holds whole.
const CUT: usize = 493;

fn main() {
    let pair: feeds::Pair = PAIR.parse().expect("the pair");
    let csv = include_str!("../data/btcusdt_binance_4h_last500.csv");
    let series: Vec<Candle> = feeds::Series::parse_csv(pair, H4, csv)
        .expect("the bundled CSV parses")
        .candles()
        .iter()
        .map(|c| Candle {
            open_time_ms: c.open_time_ms,
            open: c.open,
            high: c.high,
            low: c.low,
            close: c.close,
            volume: c.volume,
        })
        .collect();
    let as_of_ms = series[CUT].open_time_ms + H4 + 90_000;
    let feed = PriceFeed {
        pair: PAIR.to_owned(),
        interval_ms: H4,
        as_of_ms,
        // A live feed: its clock is the wall clock.
        captured_unix_ms: as_of_ms,
        speed: 1,
        candles: closed_window(&series, H4, as_of_ms, 200).to_vec(),
    };
    let context = wire::Context {
        seed: 2026,
        block: 4_200_000,
        unix_ms: as_of_ms + 800,
        feeds: vec![wire::FeedValue { name: FEED.to_owned(), value: serde_json::to_vec(&feed).unwrap() }],
    };
    let task = testing::make_task::<PricePrediction>(&context).expect("make_task");
    let public = testing::decode_task::<PricePrediction>(&task).unwrap().public;
    let truth = RealisedCandles::from_series(PAIR, H4, &series, public.first_open_ms, HORIZON);
    let c0 = public.candles.last().unwrap().close;
    let realised: Vec<f64> = truth.candles.iter().map(|c| c.close).collect();
    let moved = |lambda: f64| -> Vec<f64> { realised.iter().map(|a| round2(c0 + lambda * (a - c0))).collect() };
    let id = &public.task_id;

    // Good: close to the path, with honest 80 % intervals.
    let good: Vec<f64> = realised.iter().enumerate().map(|(i, a)| round2(a * (1.0 + 0.0015 * sign(i)))).collect();
    // Its intervals come from the recent volatility, a little narrower than the random walk's.
    let sigma = price_prediction::scoring::volatility(&public.candles, H4).unwrap();
    let good_iv: Vec<_> = good
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let half = 1.1 * p * sigma * ((i + 1) as f64).sqrt();
            json!({ "low": round2(p - half), "high": round2(p + half) })
        })
        .collect();
    let decent = moved(0.6);
    let echo: Vec<f64> = public.candles[public.candles.len() - HORIZON as usize..].iter().map(|c| c.close).collect();
    let random = [c0 * 1.073, c0 * 0.912, c0 * 1.151, c0 * 0.884, c0 * 1.026, c0 * 0.941].map(round2);
    let bodies: Vec<(Outcome, Option<serde_json::Value>, u32)> = vec![
        (Outcome::Ok, Some(json!({ "task_id": id, "closes": good, "intervals": good_iv })), 412),
        (Outcome::Ok, Some(json!({ "task_id": id, "closes": decent })), 655),
        (Outcome::Ok, Some(json!({ "task_id": id, "closes": vec![c0; HORIZON as usize] })), 38),
        (Outcome::Ok, Some(json!({ "task_id": id, "closes": moved(2.5) })), 903),
        (Outcome::Ok, Some(json!({ "task_id": id, "closes": moved(-1.0) })), 700),
        (Outcome::Ok, Some(json!({ "task_id": id, "closes": decent })), 1_210),
        (Outcome::Ok, Some(json!({ "task_id": id, "closes": echo })), 45),
        (Outcome::Ok, Some(json!({ "task_id": id, "closes": random })), 12),
        (Outcome::Ok, Some(json!({ "task_id": id, "closes": &good[..4] })), 380),
        (Outcome::Ok, Some(json!({ "task_id": "BTC-USDT-1768104000000-5f1c02b7d1e0a9c4", "closes": good })), 20),
        (Outcome::Timeout, None, 12_000),
        (Outcome::TransportError, None, 4),
    ];
    let batch = Batch {
        task: BatchTask {
            public: serde_json::from_slice(&task.public).unwrap(),
            private: serde_json::from_slice(&task.private).unwrap(),
            settles_after_ms: match task.settlement {
                wire::Settlement::Delayed(ms) => Some(ms),
                wire::Settlement::Immediate => None,
            },
        },
        responses: bodies
            .into_iter()
            .enumerate()
            .map(|(uid, (outcome, body, latency_ms))| BatchResponse {
                uid: uid as u16,
                hotkey: format!("miner-{uid:02}"),
                body,
                outcome,
                latency_ms,
            })
            .collect(),
        truth: Some(serde_json::to_value(&truth).unwrap()),
    };
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut out = String::new();
    write_json(&serde_json::to_value(&batch).unwrap(), 0, &mut out);
    std::fs::write(samples.join("batch.json"), out + "\n").expect("write samples/batch.json");
    let mut out = String::new();
    write_json(&json!({ FEED: feed }), 0, &mut out);
    std::fs::write(samples.join("feeds.json"), out + "\n").expect("write samples/feeds.json");
}

/// Pretty JSON in the types' field order, except that an array or object holding only scalars (a
/// candle, a list of closes) stays on one line.
fn write_json(value: &serde_json::Value, indent: usize, out: &mut String) {
    use serde_json::Value;
    const ORDER: &[&str] = &[
        "task",
        "public",
        "private",
        "settles_after_ms",
        "responses",
        "uid",
        "hotkey",
        "outcome",
        "latency_ms",
        "body",
        "truth",
        "task_id",
        "pair",
        "interval_ms",
        "as_of_ms",
        "captured_unix_ms",
        "speed",
        "horizon",
        "first_open_ms",
        "coverage",
        "candles",
        "closes",
        "intervals",
        "open_time_ms",
        "open",
        "high",
        "low",
        "close",
        "volume",
    ];
    let scalar = |v: &Value| !matches!(v, Value::Array(_) | Value::Object(_));
    let (open, close, entries): (char, char, Vec<(Option<&str>, &Value)>) = match value {
        Value::Array(items) => ('[', ']', items.iter().map(|v| (None, v)).collect()),
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().map(|(k, v)| (Some(k.as_str()), v)).collect();
            entries.sort_by_key(|(k, _)| ORDER.iter().position(|o| Some(*o) == *k).unwrap_or(ORDER.len()));
            ('{', '}', entries)
        }
        scalar => return out.push_str(&serde_json::to_string(scalar).unwrap()),
    };
    let flat = entries.iter().all(|(_, v)| scalar(v));
    let pad = "  ".repeat(indent + 1);
    out.push(open);
    for (i, (key, v)) in entries.iter().enumerate() {
        match (i, flat) {
            (0, true) => {}
            (_, true) => out.push_str(", "),
            (0, false) => out.push('\n'),
            (_, false) => out.push_str(",\n"),
        }
        if !flat {
            out.push_str(&pad);
        }
        if let Some(key) = key {
            out.push_str(&serde_json::to_string(key).unwrap());
            out.push_str(": ");
        }
        write_json(v, indent + 1, out);
    }
    if !flat {
        out.push('\n');
        out.push_str(&"  ".repeat(indent));
    }
    out.push(close);
}

/// Prices as an exchange quotes them: two decimals.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn sign(i: usize) -> f64 {
    if i.is_multiple_of(2) { 1.0 } else { -1.0 }
}
