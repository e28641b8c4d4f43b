//! The registry of a validator's feeds: names (`price:BTC-USDT`) mapped to sources, built from
//! configuration, answering the names a plugin manifest asks for.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::binance::{BinanceConfig, BinanceConfigError, BinanceKlines};
use crate::candle::{DEFAULT_WINDOW, Pair, RealisedCandles, Window};
use crate::clock::Clock;
use crate::replay::{ReplayError, ReplayFeed, ReplayStart};
use crate::series::{Series, SeriesError};
use crate::source::{FeedError, PriceSource};

/// Prefix of price feed names: `price:<BASE-QUOTE>`.
pub const PRICE_PREFIX: &str = "price:";
/// The feed the price-prediction subnet asks for, and the one configured by default.
pub const BTC_USDT_FEED: &str = "price:BTC-USDT";
/// Default replay speed: one 4-hour candle every 10 s of wall time.
pub const DEFAULT_REPLAY_SPEED: u64 = 1440;

/// The pair a price feed name stands for: `price:BTC-USDT` → `BTC-USDT`.
pub fn feed_pair(name: &str) -> Result<Pair, ConfigError> {
    let bad = |reason: String| ConfigError::BadFeedName { name: name.to_owned(), reason };
    let pair = name.strip_prefix(PRICE_PREFIX).ok_or_else(|| bad(format!("not `{PRICE_PREFIX}BASE-QUOTE`")))?;
    pair.parse().map_err(bad)
}

/// Settings of a replay of the bundled BTC/USDT 4-hour series.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReplayConfig {
    /// Market ms per wall ms (1440: a 4-hour candle every 10 s).
    pub speed: u64,
    /// Where the replay starts.
    pub start: ReplayStart,
    /// Wall time (ms since the epoch) at which the replay stands at `start`. Unset, it is the
    /// moment the feeds are built, so a restarted validator replays from the start again; set it
    /// to keep one replay going across restarts.
    pub anchor_unix_ms: Option<u64>,
    /// Closed candles per feed value.
    pub window: usize,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        ReplayConfig {
            speed: DEFAULT_REPLAY_SPEED,
            start: ReplayStart::default(),
            anchor_unix_ms: None,
            window: DEFAULT_WINDOW,
        }
    }
}

/// Where one feed's candles come from. In JSON `{"replay": {…}}` or `{"binance": {…}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SourceConfig {
    /// Replay of the bundled series (BTC-USDT, 4 h), offline.
    Replay(ReplayConfig),
    /// Live klines from a Binance-compatible REST API.
    Binance(BinanceConfig),
}

/// A validator's feeds by name. The default is `price:BTC-USDT` replayed from the bundled series
/// at the default speed, so a validator runs with no network and no files.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FeedsConfig(pub BTreeMap<String, SourceConfig>);

impl Default for FeedsConfig {
    fn default() -> Self {
        FeedsConfig(BTreeMap::from([(BTC_USDT_FEED.to_owned(), SourceConfig::Replay(ReplayConfig::default()))]))
    }
}

/// Why the feeds cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The name is not `price:BASE-QUOTE`.
    #[error("feed name {name:?}: {reason}")]
    BadFeedName {
        /// The name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The name is registered twice.
    #[error("feed {0:?} is registered twice")]
    Duplicate(String),
    /// A replay was asked for a pair with no bundled series.
    #[error("feed {name:?}: no bundled series to replay for {pair} (only {available})")]
    NoReplaySeries {
        /// The feed name.
        name: String,
        /// Its pair.
        pair: String,
        /// The pairs that can be replayed.
        available: String,
    },
    /// The bundled series cannot be read (a broken build).
    #[error("the bundled series: {0}")]
    Bundled(#[from] SeriesError),
    /// A replay's settings are wrong.
    #[error("feed {name:?}: {source}")]
    Replay {
        /// The feed name.
        name: String,
        /// What is wrong.
        #[source]
        source: ReplayError,
    },
    /// A Binance source's settings are wrong.
    #[error("feed {name:?}: {source}")]
    Binance {
        /// The feed name.
        name: String,
        /// What is wrong.
        #[source]
        source: BinanceConfigError,
    },
}

/// Why a feed value or truth could not be had.
#[derive(Debug, thiserror::Error)]
pub enum FeedsError {
    /// No feed of this name is configured.
    #[error("unknown feed {name:?}; this validator serves {}", if known.is_empty() { "no feeds".to_owned() } else { known.join(", ") })]
    UnknownFeed {
        /// The name asked for.
        name: String,
        /// The names configured.
        known: Vec<String>,
    },
    /// The feed's source failed.
    #[error("feed {name:?}: {source}")]
    Source {
        /// The feed name.
        name: String,
        /// The source's error; see [`FeedError::is_transient`].
        #[source]
        source: FeedError,
    },
}

impl FeedsError {
    /// The source's error, if that is what failed.
    pub fn source_error(&self) -> Option<&FeedError> {
        match self {
            FeedsError::Source { source, .. } => Some(source),
            FeedsError::UnknownFeed { .. } => None,
        }
    }
}

/// One feed value as a plugin receives it: the name and the JSON bytes (the host's `FeedValue`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedValue {
    /// Feed name, as in the manifest.
    pub name: String,
    /// The value, as JSON.
    pub value: Vec<u8>,
}

/// The values of some feeds taken at one wall-clock moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The wall time they were taken at: pass it as the `make-task` context's `unix_ms`.
    pub unix_ms: u64,
    /// The values, in the order asked for.
    pub values: Vec<NamedValue>,
}

#[derive(Clone, Debug)]
struct Entry {
    pair: Pair,
    source: Arc<dyn PriceSource>,
}

/// A validator's feeds: names mapped to price sources, and the wall clock they are read with.
#[derive(Clone, Debug)]
pub struct Feeds {
    entries: BTreeMap<String, Entry>,
    clock: Arc<dyn Clock>,
}

impl Feeds {
    /// No feeds, read with `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Feeds { entries: BTreeMap::new(), clock }
    }

    /// The feeds `config` describes. Replays whose anchor is unset start now, by `clock`.
    pub fn from_config(config: &FeedsConfig, clock: Arc<dyn Clock>) -> Result<Self, ConfigError> {
        let mut feeds = Feeds::new(clock);
        for (name, source) in &config.0 {
            let pair = feed_pair(name)?;
            let source: Arc<dyn PriceSource> = match source {
                SourceConfig::Replay(replay) => {
                    let series = Series::bundled_btcusdt_4h()?;
                    if &pair != series.pair() {
                        return Err(ConfigError::NoReplaySeries {
                            name: name.clone(),
                            pair: pair.to_string(),
                            available: series.pair().to_string(),
                        });
                    }
                    let anchor = replay.anchor_unix_ms.unwrap_or_else(|| feeds.clock.now_unix_ms());
                    let replay_error = |source| ConfigError::Replay { name: name.clone(), source };
                    let feed = ReplayFeed::new(series, &replay.start, replay.speed, anchor)
                        .and_then(|f| f.with_window(replay.window))
                        .map_err(replay_error)?;
                    tracing::info!(feed = %name, speed = replay.speed, anchor, "replaying the bundled series");
                    Arc::new(feed)
                }
                SourceConfig::Binance(binance) => {
                    let source = BinanceKlines::new(binance.clone())
                        .map_err(|source| ConfigError::Binance { name: name.clone(), source })?;
                    tracing::info!(feed = %name, endpoint = %source.endpoint(), "live klines");
                    Arc::new(source)
                }
            };
            feeds.insert(name, source)?;
        }
        Ok(feeds)
    }

    /// Registers `source` under `name` (`price:BASE-QUOTE`).
    pub fn insert(&mut self, name: &str, source: Arc<dyn PriceSource>) -> Result<(), ConfigError> {
        let pair = feed_pair(name)?;
        if self.entries.contains_key(name) {
            return Err(ConfigError::Duplicate(name.to_owned()));
        }
        self.entries.insert(name.to_owned(), Entry { pair, source });
        Ok(())
    }

    /// The configured feed names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// The wall clock the feeds are read with.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    fn entry(&self, name: &str) -> Result<&Entry, FeedsError> {
        self.entries.get(name).ok_or_else(|| FeedsError::UnknownFeed {
            name: name.to_owned(),
            known: self.names().map(str::to_owned).collect(),
        })
    }

    /// Checks that every feed a plugin manifest asks for is configured (at plugin load time, so
    /// a missing feed is found before the first round). The error names the first unknown feed.
    pub fn resolve<S: AsRef<str>>(&self, requested: &[S]) -> Result<(), FeedsError> {
        requested.iter().try_for_each(|name| self.entry(name.as_ref()).map(drop))
    }

    /// The values of the `requested` feeds at wall time `now_unix_ms`, as JSON, in order.
    pub async fn values<S: AsRef<str>>(
        &self,
        requested: &[S],
        now_unix_ms: u64,
    ) -> Result<Vec<NamedValue>, FeedsError> {
        self.resolve(requested)?;
        let mut values = Vec::with_capacity(requested.len());
        for name in requested {
            let name = name.as_ref();
            let entry = self.entry(name)?;
            let feed = entry
                .source
                .latest(&entry.pair, now_unix_ms)
                .await
                .map_err(|source| FeedsError::Source { name: name.to_owned(), source })?;
            values.push(NamedValue { name: name.to_owned(), value: feed.to_json() });
        }
        Ok(values)
    }

    /// The values of the `requested` feeds now, by the registry's clock, with the time read.
    pub async fn snapshot<S: AsRef<str>>(&self, requested: &[S]) -> Result<Snapshot, FeedsError> {
        let unix_ms = self.clock.now_unix_ms();
        Ok(Snapshot { unix_ms, values: self.values(requested, unix_ms).await? })
    }

    /// The realised candles of `window` from feed `name` at wall time `now_unix_ms`: the truth
    /// of a task made from that feed. [`FeedError::NotYetAvailable`] (inside
    /// [`FeedsError::Source`]) says when to come back.
    pub async fn realised(&self, name: &str, window: Window, now_unix_ms: u64) -> Result<RealisedCandles, FeedsError> {
        let entry = self.entry(name)?;
        entry
            .source
            .realised(&entry.pair, window, now_unix_ms)
            .await
            .map_err(|source| FeedsError::Source { name: name.to_owned(), source })
    }
}
