//! Tests of the price-prediction miner template: forecasters and configuration (`forecasters`),
//! a backtest on real candles (`backtest`), and the miner behind the real server (`server`).

mod backtest;
mod forecasters;
mod server;

use std::path::Path;

use miner_price_prediction::{Candle, PredictionTask};

/// The 500 real BTC/USDT 4-hour candles in `tests/data`.
pub(crate) fn real_candles() -> Vec<Candle> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/btcusdt_binance_4h_last500.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let number = |i: usize| fields[i].trim().parse::<f64>().unwrap_or_else(|e| panic!("{line}: {e}"));
            Candle {
                open_time_ms: parse_utc_ms(fields[0].trim()),
                open: number(1),
                high: number(2),
                low: number(3),
                close: number(4),
                volume: number(5),
            }
        })
        .collect()
}

/// `YYYY-MM-DD HH:MM:SS.ffffff` (UTC) as milliseconds since the Unix epoch.
fn parse_utc_ms(text: &str) -> u64 {
    let (date, time) = text.split_once(' ').expect("date and time");
    let d: Vec<i64> = date.split('-').map(|p| p.parse().expect("date part")).collect();
    let t: Vec<f64> = time.split(':').map(|p| p.parse().expect("time part")).collect();
    // Days from the civil date (proleptic Gregorian), counting from 1970-01-01.
    let (y, m) = if d[1] <= 2 { (d[0] - 1, d[1] + 9) } else { (d[0], d[1] - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d[2] - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days as f64 * 86_400.0 + t[0] * 3_600.0 + t[1] * 60.0 + t[2];
    (seconds * 1000.0).round() as u64
}

/// The task the plugin would make with `candles` as its window and horizon `horizon`.
pub(crate) fn task_for(candles: &[Candle], horizon: u32) -> PredictionTask {
    let interval_ms = 4 * 3_600_000;
    let first_open_ms = candles.last().expect("candles").open_time_ms + interval_ms;
    PredictionTask {
        task_id: format!("BTC-USDT-{first_open_ms}-00000000000000aa"),
        pair: "BTC-USDT".to_owned(),
        interval_ms,
        candles: candles.to_vec(),
        horizon,
        first_open_ms,
        coverage: 0.8,
    }
}

#[test]
fn the_fixture_is_the_real_series() {
    let candles = real_candles();
    assert_eq!(candles.len(), 500);
    // 2025-10-21 08:00 UTC, and every step one 4-hour interval.
    assert_eq!(candles[0].open_time_ms, 1_761_033_600_000);
    assert!(candles.windows(2).all(|w| w[1].open_time_ms - w[0].open_time_ms == 14_400_000));
    assert_eq!(candles[0].close, 108_580.01);
}
