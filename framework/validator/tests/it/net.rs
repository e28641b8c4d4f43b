//! What the runner tests stand on: a local chain served on loopback in manual block mode, miner
//! servers on 127.0.0.2 with their axons published, and a validator registered with stake and a
//! permit. Everything is real: HTTP, SQLite files, wasm plugins built from source.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chain::{Axon, Chain as _, Hyperparams, Keypair, NetUid, Uid};
use localnet::{Client, EpochRecord, Genesis, GenesisAccount, GenesisSubnet, Localnet, ServerState};
use protocol::CryptoScheme;
use tokio::sync::watch;
use validator::{Metrics, MinerClient, Overrides, QueryLimits, Store, SubnetRunner, SubnetSpec};

pub(crate) const TAO: u64 = 1_000_000_000;

/// Test key number `n` (sr25519 from a fixed seed).
pub(crate) fn key(n: u8) -> Keypair {
    Keypair::from_seed(CryptoScheme::Sr25519, &[n; 32])
}

fn sudo() -> Keypair {
    key(200)
}

/// The validator's coldkey and hotkey.
pub(crate) fn validator_keys() -> (Keypair, Keypair) {
    (key(1), key(2))
}

/// Coldkey and hotkey of miner `slot` on subnet `netuid`.
fn miner_keys(netuid: NetUid, slot: usize) -> (Keypair, Keypair) {
    let n = u8::try_from(usize::from(netuid) * 10 + slot).expect("small");
    (key(20 + n), key(100 + n))
}

/// Hyperparameters for quick tests: tempo 9, no rate limits, commit-reveal off.
pub(crate) fn quick() -> Hyperparams {
    Hyperparams {
        tempo: 9,
        weights_rate_limit: 0,
        commit_reveal_enabled: false,
        immunity_period: 0,
        serving_rate_limit: 0,
        ..Hyperparams::default()
    }
}

/// How a miner behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Answers the `good` plugin's sums exactly.
    Honest,
    /// Answers 200, signed, with a body that breaks the plugin's response schema.
    Garbage,
    /// Publishes an axon where nothing listens.
    Offline,
    /// Answers its first task exactly, then repeats that answer forever (a stale replayer).
    Stale,
}

/// Adds `a + b`, as the `good` plugin asks.
struct Adder;

impl miner::Miner for Adder {
    async fn handle(&self, task: miner::Task) -> Result<serde_json::Value, miner::MinerError> {
        let a = task.body["a"].as_u64().ok_or("no a")?;
        let b = task.body["b"].as_u64().ok_or("no b")?;
        Ok(serde_json::json!({ "sum": a + b }))
    }
}

/// Answers every task with the same body, whatever the task.
struct Garbage;

impl miner::Miner for Garbage {
    async fn handle(&self, _: miner::Task) -> Result<serde_json::Value, miner::MinerError> {
        Ok(serde_json::json!({ "sum": "not a number" }))
    }
}

/// Adds the first task's numbers, then replays that answer whatever the task.
#[derive(Default)]
struct Stale {
    first: std::sync::Mutex<Option<serde_json::Value>>,
}

impl miner::Miner for Stale {
    async fn handle(&self, task: miner::Task) -> Result<serde_json::Value, miner::MinerError> {
        let fresh = miner::Miner::handle(&Adder, task).await?;
        let mut first = self.first.lock().map_err(|_| "poisoned")?;
        Ok(first.get_or_insert(fresh).clone())
    }
}

/// A miner as registered.
#[derive(Clone, Debug)]
pub(crate) struct MinerInfo {
    pub(crate) netuid: NetUid,
    pub(crate) uid: Uid,
    pub(crate) kind: Kind,
}

/// The chain, its miners and the validator's keys; everything stops when this is dropped.
pub(crate) struct Net {
    _chain: Arc<Localnet>,
    pub(crate) client: Arc<Client>,
    pub(crate) validator: Keypair,
    pub(crate) miners: Vec<MinerInfo>,
    pub(crate) dir: tempfile::TempDir,
    stop: watch::Sender<bool>,
    _refresh: Vec<miner::RefreshTask>,
}

impl Net {
    /// A chain with one subnet per `(netuid, params, miners)`, the validator registered and
    /// staked on each, every miner registered (in the order given) and serving, and one epoch
    /// run so the validator holds its permits.
    pub(crate) async fn start(subnets: &[(NetUid, Hyperparams, &[Kind])]) -> Net {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (validator_coldkey, validator) = validator_keys();
        let mut accounts = vec![GenesisAccount { coldkey: validator_coldkey.account(), balance: 100_000 * TAO }];
        for &(netuid, _, kinds) in subnets {
            for slot in 0..kinds.len() {
                accounts.push(GenesisAccount { coldkey: miner_keys(netuid, slot).0.account(), balance: 10 * TAO });
            }
        }
        let genesis = Genesis {
            sudo: sudo().account(),
            accounts,
            subnets: subnets
                .iter()
                .map(|(netuid, params, _)| GenesisSubnet {
                    netuid: *netuid,
                    owner_coldkey: key(180 + u8::try_from(*netuid).expect("small")).account(),
                    owner_hotkey: key(190 + u8::try_from(*netuid).expect("small")).account(),
                    emission_per_block: TAO,
                    hyperparams: params.clone(),
                })
                .collect(),
        };
        let chain = Arc::new(Localnet::init(&dir.path().join("chain.sqlite"), &genesis).await.expect("genesis"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("listen for the chain");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = watch::channel(false);
        let router = localnet::router(Arc::new(ServerState::new(Arc::clone(&chain))));
        tokio::spawn({
            let stopped = stopped.clone();
            async move {
                axum::serve(listener, router).with_graceful_shutdown(wait(stopped)).await.expect("the chain serves");
            }
        });
        let client = Arc::new(Client::new(&url).expect("client"));

        let mut miners = Vec::new();
        for &(netuid, _, kinds) in subnets {
            client.register(&validator_coldkey, netuid, &validator.account()).await.expect("register the validator");
            client.add_stake(&validator_coldkey, &validator.account(), netuid, 10_000 * TAO).await.expect("stake");
            for (slot, &kind) in kinds.iter().enumerate() {
                let (coldkey, _) = miner_keys(netuid, slot);
                let uid = client.register(&coldkey, netuid, &miner_keys(netuid, slot).1.account()).await.expect("reg");
                miners.push(MinerInfo { netuid, uid, kind });
            }
        }
        // An epoch hands out the validator's permits.
        let tempo = subnets.iter().map(|(_, params, _)| u64::from(params.tempo)).max().unwrap_or(0);
        client.advance_blocks(&sudo(), tempo + 2).await.expect("advance");
        for &(netuid, _, _) in subnets {
            let graph = client.metagraph(netuid).await.expect("metagraph");
            let own = graph.neuron(&validator.account()).expect("the validator is registered");
            assert!(own.validator_permit, "subnet {netuid}: the validator has a permit after an epoch");
        }

        let mut refresh = Vec::new();
        for &(netuid, _, kinds) in subnets {
            for (slot, &kind) in kinds.iter().enumerate() {
                let hotkey = miner_keys(netuid, slot).1;
                let port = match kind {
                    Kind::Offline => free_port().await,
                    Kind::Honest | Kind::Garbage | Kind::Stale => {
                        let subnet = match kind {
                            Kind::Honest => miner::Subnet::new("good", netuid, "true", "true", Adder),
                            Kind::Stale => miner::Subnet::new("good", netuid, "true", "true", Stale::default()),
                            _ => miner::Subnet::new("good", netuid, "true", "true", Garbage),
                        }
                        .expect("subnet");
                        let state =
                            miner::MinerState::new(hotkey.clone(), miner_options(), vec![subnet]).expect("miner state");
                        let source = miner::ChainSource::new(Arc::clone(&client));
                        state.refresh_metagraphs(&source).await.expect("metagraph");
                        refresh.push(state.spawn_metagraph_refresh(source, Duration::from_millis(500)));
                        let listener =
                            tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, 2), 0)))
                                .await
                                .expect("listen on 127.0.0.2");
                        let port = listener.local_addr().expect("address").port();
                        let stopped = stopped.clone();
                        tokio::spawn(async move {
                            let _ = miner::serve(listener, miner::router(state), wait(stopped)).await;
                        });
                        port
                    }
                };
                client
                    .serve_axon(&hotkey, netuid, &Axon::http(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), port))
                    .await
                    .expect("publish the axon");
            }
        }
        Net { _chain: chain, client, validator, miners, dir, stop, _refresh: refresh }
    }

    /// Produces `count` blocks; returns the new block number.
    pub(crate) async fn advance(&self, count: u64) -> u64 {
        self.client.advance_blocks(&sudo(), count).await.expect("advance")
    }

    /// Runs `runner`'s rounds two blocks apart until it sends weights (a reveal of the commit made
    /// at block `committed`), checking that nothing else reaches subnet 1's weights history
    /// before; returns the block they went out at.
    pub(crate) async fn rounds_until_reveal(&self, runner: &mut SubnetRunner, store: &Store, committed: u64) -> u64 {
        for _ in 0..15 {
            let block = self.advance(2).await;
            let report = runner.round().await.expect("round");
            if let Some(at) = report.weights_at {
                assert_eq!(at, block);
                return at;
            }
            let last = store.last_weights(1).await.expect("read").expect("recorded");
            assert_eq!(last.block, committed, "nothing new in the weights history before the reveal");
        }
        panic!("no reveal within 30 blocks");
    }

    /// The uids of subnet `netuid`'s miners of `kind`.
    pub(crate) fn uids(&self, netuid: NetUid, kind: Kind) -> Vec<Uid> {
        self.miners.iter().filter(|m| m.netuid == netuid && m.kind == kind).map(|m| m.uid).collect()
    }

    /// The validator's uid on `netuid`.
    pub(crate) async fn validator_uid(&self, netuid: NetUid) -> Uid {
        let graph = self.client.metagraph(netuid).await.expect("metagraph");
        graph.neuron(&self.validator.account()).expect("registered").uid
    }

    /// The subnet's last epoch, after producing blocks until one more has run.
    pub(crate) async fn next_epoch(&self, netuid: NetUid) -> EpochRecord {
        let before = self.client.last_epoch(netuid).await.expect("epoch").map(|epoch| epoch.block);
        for _ in 0..100 {
            self.advance(1).await;
            let epoch = self.client.last_epoch(netuid).await.expect("epoch");
            if let Some(epoch) = epoch
                && Some(epoch.block) != before
            {
                return epoch;
            }
        }
        panic!("no epoch ran on subnet {netuid} within 100 blocks");
    }

    /// The validator's weights row in the epoch's input, as `(uid, weight)`.
    pub(crate) async fn weights_row(&self, epoch: &EpochRecord) -> Vec<(Uid, u16)> {
        let uid = self.validator_uid(epoch.netuid).await;
        epoch.input.weights.get(&uid).cloned().unwrap_or_default()
    }

    /// A runner for `spec`, signing as the validator.
    pub(crate) fn runner(&self, spec: SubnetSpec, parts: &Parts) -> SubnetRunner {
        SubnetRunner::new(
            spec,
            parts.host.clone(),
            Arc::clone(&self.client) as Arc<dyn chain::Chain>,
            Arc::clone(&parts.store),
            Arc::clone(&parts.miners),
            Arc::clone(&parts.feeds),
            Arc::clone(&parts.metrics),
        )
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// What runners of one validator share.
pub(crate) struct Parts {
    pub(crate) host: host::Host,
    pub(crate) store: Arc<Store>,
    pub(crate) miners: Arc<MinerClient>,
    pub(crate) feeds: Arc<feeds::Feeds>,
    pub(crate) metrics: Arc<Metrics>,
}

impl Parts {
    /// A plugin host (artifact cache shared by the test runs), a SQLite store in `net`'s
    /// directory, the validator's miner client, the default feeds and fresh metrics.
    pub(crate) async fn new(net: &Net) -> Parts {
        Parts::on(net, &format!("sqlite://{}", net.dir.path().join("validator.sqlite").display())).await
    }

    /// The same with the store at `url`: a validator process (re)started on that database.
    pub(crate) async fn on(net: &Net, url: &str) -> Parts {
        let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("validator-it-plugin-cache");
        let host = host::Host::new(host::HostConfig::new(cache)).expect("plugin host");
        let store = Arc::new(Store::connect(url).await.expect("store"));
        let miners = Arc::new(MinerClient::new(net.validator.clone(), QueryLimits::default()));
        let feeds = Arc::new(
            feeds::Feeds::from_config(&feeds::FeedsConfig::default(), Arc::new(feeds::SystemClock)).expect("feeds"),
        );
        Parts { host, store, miners, feeds, metrics: Arc::new(Metrics::default()) }
    }
}

/// A spec for `netuid` with `plugin`: a short timeout, alpha 0.5, rounds every `interval_ms`.
pub(crate) fn spec(netuid: NetUid, plugin: impl Into<PathBuf>, interval_ms: u64) -> SubnetSpec {
    SubnetSpec {
        netuid,
        plugin: plugin.into(),
        sha256: None,
        overrides: Overrides { sample_size: None, timeout_ms: Some(2_000), alpha: Some(0.5) },
        round_interval: Duration::from_millis(interval_ms),
        weights_interval_blocks: None,
        version_key: None,
        replay_guard: true,
    }
}

/// The value of counter `name` (without `_total`) with exactly `labels` (e.g. `netuid="1"`) in
/// the metrics' text; 0 if it was never counted.
pub(crate) fn counter(metrics: &Metrics, name: &str, labels: &str) -> u64 {
    let text = metrics.encode().expect("metrics encode");
    let prefix = format!("validator_{name}_total{{{labels}}} ");
    text.lines().find_map(|line| line.strip_prefix(&prefix)?.trim().parse::<u64>().ok()).unwrap_or(0)
}

/// A port on 127.0.0.2 where nothing listens.
async fn free_port() -> u16 {
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, 2), 0))).await.expect("listen");
    listener.local_addr().expect("address").port()
}

async fn wait(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|&stop| stop).await;
}

/// The sha256 of a file, hex.
pub(crate) fn sha256_of(path: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).expect("plugin file")))
}

/// The server's defaults, with a rate limit no test round rate reaches.
fn miner_options() -> miner::Options {
    let many = std::num::NonZeroU32::new(10_000).expect("not zero");
    miner::Options { rate_limit: miner::RateLimit { per_second: many, burst: many }, ..miner::Options::default() }
}
