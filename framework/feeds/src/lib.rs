//! Host-side data feeds for incentive plugins.
//!
//! Plugins get no clock or network: the validator hands `make-task` the latest value of each feed
//! the manifest names, and, for delayed settlement, hands `score` the truth. This crate supplies
//! the price feeds `price:<BASE-QUOTE>`:
//!
//! - [`ReplayFeed`], the default: the bundled real BTC/USDT 4-hour candles (2018–2026, embedded in
//!   the binary) replayed on an accelerated clock, so a subnet runs and is tested offline;
//! - [`BinanceKlines`], for real use: a Binance-compatible public REST kline endpoint.
//!
//! Both implement [`PriceSource`]; [`Feeds`] maps names to sources from a serde
//! [`FeedsConfig`]. The JSON they produce ([`PriceFeed`], [`RealisedCandles`]) is the wire
//! contract documented in `subnets/price-prediction/README.md` ("Feed contract"); this crate
//! implements it without depending on any subnet.
//!
//! Time is always an argument (`now_unix_ms`) or an injected [`Clock`], never read behind the
//! caller's back, so replays are deterministic under test.

mod binance;
mod candle;
mod clock;
mod registry;
mod replay;
mod series;
mod source;

pub use binance::{
    BinanceConfig, BinanceConfigError, BinanceKlines, DEFAULT_BASE_URL, KlineInterval, MAX_BODY_BYTES,
    MAX_KLINES_PER_REQUEST, parse_klines,
};
pub use candle::{
    Candle, DEFAULT_WINDOW, FOUR_HOURS_MS, MAX_INTERVAL_MS, MIN_INTERVAL_MS, Pair, PriceFeed, RealisedCandles, Window,
    validate_interval, validate_series,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use registry::{
    BTC_USDT_FEED, ConfigError, DEFAULT_REPLAY_SPEED, Feeds, FeedsConfig, FeedsError, NamedValue, PRICE_PREFIX,
    ReplayConfig, Snapshot, SourceConfig, feed_pair,
};
pub use replay::{ReplayError, ReplayFeed, ReplayStart};
pub use series::{BTCUSDT_4H_CSV_GZ, CSV_HEADER, Series, SeriesError, format_utc_ms, parse_utc_ms};
pub use source::{FeedError, PriceSource, SourceFuture};
