//! The bundled series, the CSV format and the contract's JSON.

use feeds::{
    BTCUSDT_4H_CSV_GZ, CSV_HEADER, Candle, FOUR_HOURS_MS, PriceFeed, RealisedCandles, Series, SeriesError, Window,
    format_utc_ms, parse_utc_ms, validate_series,
};

use crate::common::{H, btc, bundled};

#[test]
fn bundled_series_is_the_one_its_readme_describes() {
    let series = bundled();
    assert_eq!(series.len(), 17_586);
    assert_eq!(series.pair().to_string(), "BTC-USDT");
    assert_eq!(series.interval_ms(), FOUR_HOURS_MS);
    let candles = series.candles();
    assert_eq!(format_utc_ms(candles[0].open_time_ms), "2018-01-01 00:00:00");
    assert_eq!(format_utc_ms(candles[candles.len() - 1].open_time_ms), "2026-01-12 12:00:00");
    assert_eq!(series.end_ms(), parse_utc_ms("2026-01-12 16:00:00").unwrap());
    let closes = candles.iter().map(|c| c.close);
    assert_eq!(closes.clone().fold(f64::INFINITY, f64::min), 3_172.05);
    assert_eq!(closes.fold(0.0, f64::max), 125_410.81);
    validate_series(candles, H).unwrap();
    // The eight known gaps (data/README.md), as the opening times either side of each hole.
    let gaps: Vec<String> = candles
        .windows(2)
        .filter(|w| w[1].open_time_ms - w[0].open_time_ms > H)
        .map(|w| format!("{} -> {}", format_utc_ms(w[0].open_time_ms), format_utc_ms(w[1].open_time_ms)))
        .collect();
    assert_eq!(
        gaps,
        [
            "2018-02-08 00:00:00 -> 2018-02-09 08:00:00",
            "2018-06-26 00:00:00 -> 2018-06-26 12:00:00",
            "2018-07-04 00:00:00 -> 2018-07-04 08:00:00",
            "2018-11-14 00:00:00 -> 2018-11-14 08:00:00",
            "2019-03-12 00:00:00 -> 2019-03-12 08:00:00",
            "2019-05-15 00:00:00 -> 2019-05-15 12:00:00",
            "2019-08-15 00:00:00 -> 2019-08-15 08:00:00",
            "2020-02-19 08:00:00 -> 2020-02-19 16:00:00",
        ]
    );
    // Parsed once, shared.
    assert!(std::sync::Arc::ptr_eq(&series, &bundled()));
}

const ROW: &str = "2018-01-01 00:00:00.000000 ,1.0,2.0,0.5,1.5,3.0,2018-01-01 03:59:59.999000 ,1,1,1,1,0";
const ROW2: &str = "2018-01-01 04:00:00.000000 ,1.5,2.0,1.0,1.75,3.0,2018-01-01 07:59:59.999000 ,1,1,1,1,0";

fn parse(rows: &[&str]) -> Result<Series, SeriesError> {
    let text = format!("{CSV_HEADER}\n{}\n", rows.join("\n"));
    Series::parse_csv(btc(), H, &text)
}

fn line_of(result: Result<Series, SeriesError>) -> (usize, String) {
    match result {
        Err(SeriesError::Csv { line, message }) => (line, message),
        other => panic!("want a CSV error, got {other:?}"),
    }
}

#[test]
fn csv_parses_binance_rows_with_trailing_spaces_and_crlf() {
    let text = format!("{CSV_HEADER}\r\n{ROW}\r\n\r\n{ROW2}\r\n");
    let series = Series::parse_csv(btc(), H, &text).unwrap();
    assert_eq!(series.len(), 2);
    assert_eq!(
        series.candles()[1],
        Candle { open_time_ms: 1_514_779_200_000, open: 1.5, high: 2.0, low: 1.0, close: 1.75, volume: 3.0 }
    );
}

#[test]
fn csv_errors_name_the_line_and_what_is_wrong() {
    assert_eq!(line_of(Series::parse_csv(btc(), H, "")), (1, "empty file".to_owned()));
    assert_eq!(line_of(Series::parse_csv(btc(), H, "a,b\n")).0, 1);
    let (line, message) = line_of(parse(&[ROW, "1,2,3"]));
    assert_eq!((line, message.as_str()), (3, "3 fields, want 12"));
    let (line, message) = line_of(parse(&[ROW, &ROW2.replace(",1.75,", ",x,")]));
    assert_eq!(line, 3);
    assert!(message.starts_with("close \"x\""), "{message}");
    let (line, message) = line_of(parse(&[ROW, ROW]));
    assert_eq!(line, 3);
    assert!(message.contains("does not increase"), "{message}");
    let misaligned = ROW2.replace("04:00:00.000000", "05:00:00.000000").replace("07:59:59", "08:59:59");
    let (line, message) = line_of(parse(&[ROW, &misaligned]));
    assert_eq!(line, 3);
    assert!(message.contains("whole number"), "{message}");
    let (line, message) = line_of(parse(&[&ROW.replace("2018-01-01 03:59:59", "2018-01-01 04:00:00")]));
    assert_eq!(line, 2);
    assert!(message.starts_with("close time") && message.contains("outside"), "{message}");
    // A candle cut short by a trading halt, as Binance records it, is kept.
    assert_eq!(parse(&[&ROW.replace("03:59:59.999", "03:00:14.838")]).unwrap().len(), 1);
    let (line, message) = line_of(parse(&[&ROW.replace(",2.0,0.5,", ",1.2,0.5,")]));
    assert_eq!(line, 2);
    assert!(message.contains("high"), "{message}");
    let (line, message) = line_of(parse(&[&ROW.replace("2018-01-01 00:00", "2018-02-30 00:00")]));
    assert_eq!(line, 2);
    assert!(message.starts_with("open time"), "{message}");
    // A header only: no candles at all.
    assert!(matches!(Series::parse_csv(btc(), H, CSV_HEADER), Err(SeriesError::Invalid(_))));
    // An interval the contract does not allow.
    assert!(matches!(Series::parse_csv(btc(), 1_000, CSV_HEADER), Err(SeriesError::Invalid(_))));
}

#[test]
fn corrupt_gzip_is_a_decompression_error() {
    let cut = &BTCUSDT_4H_CSV_GZ[..BTCUSDT_4H_CSV_GZ.len() / 2];
    assert!(matches!(Series::parse_csv_gz(btc(), H, cut), Err(SeriesError::Decompress(_))));
    assert!(matches!(Series::parse_csv_gz(btc(), H, b"not gzip"), Err(SeriesError::Decompress(_))));
}

#[test]
fn utc_times_parse_and_format() {
    assert_eq!(parse_utc_ms("1970-01-01 00:00:00"), Ok(0));
    assert_eq!(parse_utc_ms("2018-01-01 00:00:00.000000 "), Ok(1_514_764_800_000));
    assert_eq!(parse_utc_ms("2020-02-29 12:00:00.5"), Ok(1_582_977_600_500));
    assert_eq!(parse_utc_ms("2026-01-12 15:59:59.999000"), Ok(1_768_233_599_999));
    for bad in ["", "2018-01-01", "2018-13-01 00:00:00", "2019-02-29 00:00:00", "2018-01-01 24:00:00", "18-1-1 0:0:0"] {
        assert!(parse_utc_ms(bad).is_err(), "{bad:?}");
    }
    for c in bundled().candles().iter().step_by(97) {
        assert_eq!(parse_utc_ms(&format_utc_ms(c.open_time_ms)), Ok(c.open_time_ms));
    }
    assert_eq!(format_utc_ms(951_868_800_000), "2000-03-01 00:00:00");
}

#[test]
fn feed_json_is_the_contract_byte_for_byte() {
    let feed = PriceFeed {
        pair: "BTC-USDT".into(),
        interval_ms: 14_400_000,
        as_of_ms: 1_768_147_290_000,
        captured_unix_ms: 1_768_147_290_000,
        speed: 1,
        candles: vec![Candle {
            open_time_ms: 1_765_267_200_000,
            open: 90_496.8,
            high: 90_600.0,
            low: 89_912.48,
            close: 90_384.55,
            volume: 1562.48442,
        }],
    };
    let json = String::from_utf8(feed.to_json()).unwrap();
    assert_eq!(
        json,
        r#"{"pair":"BTC-USDT","interval_ms":14400000,"as_of_ms":1768147290000,"captured_unix_ms":1768147290000,"speed":1,"candles":[{"open_time_ms":1765267200000,"open":90496.8,"high":90600.0,"low":89912.48,"close":90384.55,"volume":1562.48442}]}"#
    );
    assert_eq!(serde_json::from_str::<PriceFeed>(&json).unwrap(), feed);
    // Unknown fields are refused, as the plugin refuses them.
    let extra = json.replacen("\"speed\":1,", "\"speed\":1,\"venue\":\"x\",", 1);
    assert!(serde_json::from_str::<PriceFeed>(&extra).unwrap_err().to_string().contains("venue"));
    let truth = RealisedCandles { pair: "BTC-USDT".into(), interval_ms: 14_400_000, candles: feed.candles.clone() };
    let json = String::from_utf8(truth.to_json()).unwrap();
    assert!(json.starts_with(r#"{"pair":"BTC-USDT","interval_ms":14400000,"candles":[{"open_time_ms":1765267200000,"#));
}

#[test]
fn windows_select_by_opening_time() {
    let w = Window { first_open_ms: 10 * H, interval_ms: H, count: 3 };
    assert_eq!(w.end_ms(), 13 * H);
    assert!(w.contains(10 * H) && w.contains(12 * H));
    assert!(!w.contains(13 * H) && !w.contains(9 * H) && !w.contains(10 * H + 1));
}

#[test]
fn pairs_parse_strictly() {
    let pair = btc();
    assert_eq!((pair.base(), pair.quote(), pair.symbol()), ("BTC", "USDT", "BTCUSDT".to_owned()));
    for bad in ["BTCUSDT", "btc-usdt", "BTC-", "-USDT", "BTC-USDT-X", "BTC/USDT", ""] {
        assert!(bad.parse::<feeds::Pair>().is_err(), "{bad:?}");
    }
}
