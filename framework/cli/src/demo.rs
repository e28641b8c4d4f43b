//! `subnetkit demo`: the whole system on the embedded chain, in one command.
//!
//! It builds the three reference plugins, starts the local chain with fast blocks and three
//! subnets, registers and serves honest template miners and adversarial ones on each, runs one
//! validator hosting all three subnets, and after the given number of epochs prints, per subnet,
//! each miner's strategy, moving-average score, incentive and emission.

mod miners;

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chain::{Axon, Chain as _, Hyperparams, Keypair};
use clap::Args;
use localnet::{Client, Genesis, GenesisAccount, GenesisSubnet, Localnet, ServerState};
use protocol::CryptoScheme;
use serde::Serialize;
use tokio::sync::watch;

use crate::Failure;
use miners::{Behaviour, Kind, Strategy};

/// Arguments of `subnetkit demo`.
#[derive(Args)]
pub(crate) struct DemoArgs {
    /// Epochs to run once the validator starts (tempo 19 at 250 ms blocks: 5 s each).
    #[arg(long, default_value_t = 30)]
    epochs: u64,
    /// Keep the state directory (chain and validator databases) and print where it is.
    #[arg(long)]
    keep: bool,
    /// Also write the final table as a JSON array to this file.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Milliseconds between blocks.
    #[arg(long, default_value_t = 250)]
    block_ms: u64,
    /// The subnets to run, by plugin name [default: all three].
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    subnets: Vec<String>,
}

/// The demo's subnets: netuid, plugin package, miner kind, validator timeout and round interval.
const SUBNETS: [(u16, &str, Kind, u32, u64); 3] = [
    (1, "text-generation", Kind::Text, TEXT_TIMEOUT_MS, 2_000),
    (2, "image-aesthetics", Kind::Image, 5_000, 1_000),
    (3, "price-prediction", Kind::Price, 3_000, 1_000),
];

/// Every subnet gets these miners, in uid order after the owner (0) and the validator (1).
const LINEUP: [Strategy; 10] = [
    Strategy::Honest,
    Strategy::Honest,
    Strategy::Honest,
    Strategy::Copycat,
    Strategy::Copycat,
    Strategy::Copycat,
    Strategy::Random,
    Strategy::Stale,
    Strategy::Slow,
    Strategy::Offline,
];

/// The validator's timeout in the text subnet. Its SmolLM2 miners stop generating before it
/// ([`TEXT_TIME_LIMIT`], [`TEXT_MAX_NEW_TOKENS`]): four answers a round share the two cores.
const TEXT_TIMEOUT_MS: u32 = 10_000;
/// Longest a demo text miner generates; it sends what it has by then.
const TEXT_TIME_LIMIT: Duration = Duration::from_secs(7);
/// Most tokens in a demo text miner's answer (the subnet's references are mostly short).
const TEXT_MAX_NEW_TOKENS: u32 = 64;

const TEMPO: u16 = 19;
/// How often each demo miner re-reads its subnet's metagraph.
const MINER_REFRESH: Duration = Duration::from_secs(2);
const TAO: u64 = 1_000_000_000;

/// One row of the final table.
#[derive(Clone, Debug, Serialize)]
struct Row {
    subnet: &'static str,
    netuid: u16,
    uid: u16,
    hotkey: String,
    strategy: &'static str,
    score: f64,
    incentive: u16,
    emission: u64,
}

/// Runs `subnetkit demo`.
pub(crate) fn run(args: DemoArgs) -> Result<(), Failure> {
    one_candle_thread_per_generation();
    crate::init_tracing_quiet();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    runtime.block_on(async {
        tokio::select! {
            result = demo(&args) => result,
            () = crate::shutdown_signal() => {
                eprintln!("interrupted; everything stops with the process");
                Ok(())
            }
        }
    })?;
    Ok(())
}

/// Candle's CPU thread pool spins while it waits for work; with several SmolLM2 miners generating
/// at once on a few cores that is many times slower than one thread per generation (measured:
/// 4 against 45 tokens/s on 2 busy cores), so the demo asks for one unless the user chose.
fn one_candle_thread_per_generation() {
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        // SAFETY: the first thing `run` does, before the runtime or any other thread exists, so no
        // thread can read the environment concurrently.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var("CANDLE_NUM_THREADS", "1");
        }
    }
}

fn key(tag: u8, index: u8) -> Keypair {
    let mut seed = [0u8; 32];
    seed[0] = tag;
    seed[1] = index;
    seed[31] = 0xde;
    Keypair::from_seed(CryptoScheme::Sr25519, &seed)
}

fn say(line: impl AsRef<str>) {
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{}", line.as_ref()).and_then(|()| stdout.flush());
}

async fn demo(args: &DemoArgs) -> anyhow::Result<()> {
    for name in &args.subnets {
        if !SUBNETS.iter().any(|&(_, known, ..)| known == name) {
            let known: Vec<&str> = SUBNETS.iter().map(|&(_, known, ..)| known).collect();
            bail!("--subnets: unknown subnet {name:?} (known: {})", known.join(", "));
        }
    }
    let subnets_run: Vec<(u16, &'static str, Kind, u32, u64)> = SUBNETS
        .iter()
        .copied()
        .filter(|&(_, name, ..)| args.subnets.is_empty() || args.subnets.iter().any(|wanted| wanted == name))
        .collect();
    if subnets_run.iter().any(|&(_, _, kind, ..)| kind == Kind::Text) && !cfg!(feature = "smollm2") {
        bail!("the demo's text-generation miners run SmolLM2: build with `--features smollm2` (scripts/demo.sh does)");
    }
    let started = Instant::now();
    let plugins = build_plugins(&subnets_run)?;
    let dir = tempfile::Builder::new().prefix("subnetkit-demo-").tempdir().context("cannot create a temp dir")?;
    // `guard` removes the directory when the demo ends, unless `--keep`.
    let (state_dir, guard) = if args.keep { (dir.keep(), None) } else { (dir.path().to_path_buf(), Some(dir)) };

    // Keys: 1 sudo, 2 validator coldkey, 3 validator hotkey, 10+n subnet owners, 20+n/30+n miners.
    let sudo = key(1, 0);
    let validator_coldkey = key(2, 0);
    let validator_hotkey = key(3, 0);
    let mut accounts = vec![
        GenesisAccount { coldkey: sudo.account(), balance: 1_000 * TAO },
        GenesisAccount { coldkey: validator_coldkey.account(), balance: 100_000 * TAO },
    ];
    let miner_coldkey = |subnet: u16, slot: usize| key(20 + subnet as u8, slot as u8);
    let miner_hotkey = |subnet: u16, slot: usize| key(40 + subnet as u8, slot as u8);
    let mut subnets = Vec::new();
    for &(netuid, _, _, _, _) in &subnets_run {
        subnets.push(GenesisSubnet {
            netuid,
            owner_coldkey: key(10, netuid as u8).account(),
            owner_hotkey: key(11, netuid as u8).account(),
            emission_per_block: TAO,
            hyperparams: Hyperparams {
                tempo: TEMPO,
                weights_rate_limit: 5,
                commit_reveal_enabled: false,
                immunity_period: 10_000,
                serving_rate_limit: 0,
                max_allowed_uids: 64,
                ..Hyperparams::default()
            },
        });
        for slot in 0..LINEUP.len() {
            accounts.push(GenesisAccount { coldkey: miner_coldkey(netuid, slot).account(), balance: 10 * TAO });
        }
    }
    let genesis = Genesis { sudo: sudo.account(), accounts, subnets };

    // The chain, served on loopback with fast blocks.
    let chain = Arc::new(Localnet::init(&state_dir.join("chain.sqlite"), &genesis).await?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("cannot listen for the chain")?;
    let chain_url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = watch::channel(false);
    let router = localnet::router(Arc::new(ServerState::new(Arc::clone(&chain))));
    tokio::spawn(serve_until(listener, router, stopped.clone()));
    tokio::spawn(localnet::produce_blocks(
        Arc::clone(&chain),
        Duration::from_millis(args.block_ms),
        wait(stopped.clone()),
    ));
    let client = Arc::new(Client::new(&chain_url)?);
    say(format!("chain: {chain_url}, {} ms blocks, tempo {TEMPO}; state in {}", args.block_ms, state_dir.display()));

    // The validator registers and stakes first, so its hotkey is uid 1 everywhere.
    for &(netuid, _, _, _, _) in &subnets_run {
        client.register(&validator_coldkey, netuid, &validator_hotkey.account()).await?;
        client.add_stake(&validator_coldkey, &validator_hotkey.account(), netuid, 10_000 * TAO).await?;
    }

    // Miners. They stop after the validator, so no round in flight at the end meets a closed port.
    let (stop_miners, miners_stopped) = watch::channel(false);
    let mut miner_states = Vec::new();
    let mut strategies = std::collections::BTreeMap::new();
    for &(netuid, name, kind, _, _) in &subnets_run {
        let mut started_miners = 0;
        let mut shared = Shared::default();
        for (slot, &strategy) in LINEUP.iter().enumerate() {
            let (coldkey, hotkey) = (miner_coldkey(netuid, slot), miner_hotkey(netuid, slot));
            let uid = client.register(&coldkey, netuid, &hotkey.account()).await?;
            strategies.insert((netuid, uid), (strategy, hotkey.account()));
            let port = if strategy == Strategy::Offline {
                free_port().await?
            } else {
                let subnet = demo_subnet(kind, netuid, strategy, slot, &mut shared)?;
                started_miners += 1;
                let (port, state) =
                    start_miner(hotkey.clone(), subnet, Arc::clone(&client), miners_stopped.clone()).await?;
                miner_states.push(state);
                port
            };
            client.serve_axon(&hotkey, netuid, &Axon::http(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), port)).await?;
        }
        say(format!("subnet {netuid} ({name}): {} miners registered, {started_miners} serving", LINEUP.len()));
    }

    // Wait for the first epoch: it hands the validator its permits.
    let mut blocks = chain.subscribe();
    loop {
        let graph = client.metagraph(subnets_run[0].0).await?;
        if graph.neuron(&validator_hotkey.account()).is_some_and(|neuron| neuron.validator_permit) {
            break;
        }
        blocks.changed().await.context("the chain stopped")?;
    }
    // Every miner learns of the permit now rather than at its next refresh: until then it would
    // refuse the validator (403) and the first round would count it as unreachable.
    let source = miner::ChainSource::new(Arc::clone(&client));
    for state in &miner_states {
        state.refresh_metagraphs(&source).await.context("a miner cannot read the metagraph")?;
    }

    // The validator, hosting all three subnets. Its plugins are compiled (or taken from the
    // cache) before the clock starts.
    let cache = crate::plugin_cmd::default_cache_dir().unwrap_or_else(|| state_dir.join("plugin-cache"));
    let host = host::Host::new(host::HostConfig::new(&cache)).context("cannot start the plugin host")?;
    say("compiling the plugins for this machine (cached after the first run)…");
    for (name, path) in &plugins {
        let (host, path) = (host.clone(), path.clone());
        tokio::task::spawn_blocking(move || host.load(&path))
            .await
            .context("the plugin compiler stopped")?
            .with_context(|| format!("cannot load the {name} plugin"))?;
    }
    let store = Arc::new(
        validator::Store::connect(&format!("sqlite://{}", state_dir.join("validator.sqlite").display())).await?,
    );
    let feeds_config: feeds::FeedsConfig = serde_json::from_value(serde_json::json!({
        "price:BTC-USDT": {"replay": {"speed": 14_400}}
    }))
    .context("feeds config")?;
    let feeds = Arc::new(feeds::Feeds::from_config(&feeds_config, Arc::new(feeds::SystemClock))?);
    let miners_client =
        Arc::new(validator::MinerClient::new(validator_hotkey.clone(), validator::QueryLimits::default()));
    let metrics = Arc::new(validator::Metrics::default());
    let runners = subnets_run
        .iter()
        .map(|&(netuid, name, _, timeout_ms, round_ms)| {
            let spec = validator::SubnetSpec {
                netuid,
                plugin: plugins
                    .iter()
                    .find(|(plugin, _)| plugin == name)
                    .map(|(_, path)| path.clone())
                    .unwrap_or_default(),
                sha256: None,
                overrides: validator::Overrides {
                    sample_size: Some(16),
                    timeout_ms: Some(timeout_ms),
                    alpha: Some(0.2),
                },
                round_interval: Duration::from_millis(round_ms),
                weights_interval_blocks: Some(u64::from(TEMPO) + 1),
                version_key: None,
                replay_guard: true,
            };
            validator::SubnetRunner::new(
                spec,
                host.clone(),
                Arc::clone(&client) as Arc<dyn chain::Chain>,
                Arc::clone(&store),
                Arc::clone(&miners_client),
                Arc::clone(&feeds),
                Arc::clone(&metrics),
            )
        })
        .collect();
    let (stop_validator, validator_stopped) = watch::channel(false);
    let validator_task = tokio::spawn(validator::run_subnets(runners, Arc::clone(&metrics), validator_stopped));
    let first_block = client.block().await?;
    let last_block = first_block + args.epochs * (u64::from(TEMPO) + 1);
    say(format!(
        "validator {} hosting {} subnets from block {first_block}; running {} epochs (to block {last_block})",
        validator_hotkey.account(),
        subnets_run.len(),
        args.epochs
    ));

    // Progress, once per epoch.
    let mut next_report = first_block + u64::from(TEMPO) + 1;
    loop {
        let block = *blocks.borrow_and_update();
        if block >= next_report || block >= last_block {
            let epoch = (block - first_block) / (u64::from(TEMPO) + 1);
            let rounds: Vec<String> =
                subnets_run.iter().map(|&(netuid, name, ..)| format!("{name} {}", metrics.rounds(netuid))).collect();
            say(format!("  epoch {epoch}/{} · block {block} · rounds: {}", args.epochs, rounds.join(", ")));
            next_report = block + u64::from(TEMPO) + 1;
        }
        if block >= last_block {
            break;
        }
        blocks.changed().await.context("the chain stopped")?;
    }

    // The final table.
    let mut rows = Vec::new();
    for &(netuid, name, ..) in &subnets_run {
        let graph = client.metagraph(netuid).await?;
        let averages = store.moving_averages(netuid).await?;
        for neuron in &graph.neurons {
            let Some(&(strategy, _)) = strategies.get(&(netuid, neuron.uid)) else { continue };
            let score = averages.iter().find(|average| average.uid == neuron.uid).map_or(0.0, |average| average.score);
            rows.push(Row {
                subnet: name,
                netuid,
                uid: neuron.uid,
                hotkey: neuron.hotkey.to_ss58(),
                strategy: strategy.name(),
                score,
                incentive: neuron.incentive,
                emission: neuron.emission,
            });
        }
    }
    // Stop in dependency order: the validator (it may be setting weights), its miners, the chain.
    let _ = stop_validator.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), validator_task).await;
    let _ = stop_miners.send(true);
    let _ = stop.send(true);
    print_table(&rows);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&rows)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    say(format!("done in {:.0} s", started.elapsed().as_secs_f64()));
    if args.keep {
        say(format!("state kept in {}", state_dir.display()));
    }
    drop(guard);
    Ok(())
}

/// Builds the reference plugins from this source tree (cached after the first run).
fn build_plugins(subnets: &[(u16, &'static str, Kind, u32, u64)]) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if !repo.join("subnets").is_dir() {
        bail!(
            "the demo builds the reference plugins from the subnetkit source tree, which is not at {}",
            repo.display()
        );
    }
    let out = repo.join("target/demo-plugins");
    say("building the three reference plugins (the first run compiles them: a few minutes)…");
    let built = wasm_build::Build::new(&repo, &out)
        .packages(subnets.iter().map(|&(_, name, ..)| name))
        .profile("plugin")
        .target_subdir("wasm-subnets")
        .run()
        .context("cannot build the reference plugins (is the wasm32-unknown-unknown target installed? scripts/setup.sh installs it)")?;
    Ok(built.into_iter().map(|plugin| (plugin.name, plugin.wasm)).collect())
}

/// What one subnet's sybil operator shares between its uids: one text model, one answer per task.
#[derive(Default)]
struct Shared {
    text_copycat: Option<Arc<miner_text_generation::TextGenerationMiner>>,
    answers: miners::SharedAnswers,
}

/// A SmolLM2 text miner sampling with `seed`, its answers capped to fit the demo's timeout.
fn text_miner(seed: u64) -> anyhow::Result<miner_text_generation::TextGenerationMiner> {
    use miner_text_generation::{Backend, GeneratorConfig, Sampling, SmolLm2Config, TextGenerationMiner};
    let gguf = std::env::var_os("SMOLLM2_GGUF").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    });
    let sampling = Some(Sampling { temperature: 0.7, top_p: Some(0.9), seed: Some(seed) });
    let config = GeneratorConfig::SmolLm2(SmolLm2Config { gguf: Some(gguf), sampling });
    let backend = Backend::from_config(&config).context("cannot load SmolLM2 (scripts/setup.sh fetches it)")?;
    Ok(TextGenerationMiner::new(backend).with_limits(TEXT_MAX_NEW_TOKENS, TEXT_TIME_LIMIT))
}

/// The served subnet of one demo miner.
fn demo_subnet(
    kind: Kind,
    netuid: u16,
    strategy: Strategy,
    slot: usize,
    shared: &mut Shared,
) -> anyhow::Result<miner::Subnet> {
    let seed = 0x5eed_0000 + u64::from(netuid) * 100 + slot as u64;
    // Honest miners differ from each other; the copycats share one backend configuration.
    let variant = if strategy == Strategy::Copycat { 99 } else { slot };
    let subnet = match kind {
        Kind::Price => {
            use miner_price_prediction::{Config, PricePredictionMiner};
            let method = match variant {
                0 => r#"{"method": "drift", "lookback": 30}"#,
                1 => r#"{"method": "holt"}"#,
                2 => r#"{"method": "linear_fit"}"#,
                _ => r#"{"method": "ar"}"#,
            };
            let config = Config::from_json(&format!(r#"{{"forecaster": {method}}}"#))?;
            let inner = Arc::new(PricePredictionMiner::new(config)?);
            let behaviour = Behaviour::new(inner, strategy, kind, seed, Arc::clone(&shared.answers));
            miner::Subnet::new(
                "price-prediction",
                netuid,
                &miner_price_prediction::task_schema(),
                &miner_price_prediction::response_schema(),
                behaviour,
            )?
        }
        Kind::Image => {
            use miner_image_aesthetics::{Config, ImageAestheticsMiner};
            let inner = Arc::new(ImageAestheticsMiner::new(Config::Renderer { seed: Some(1000 + variant as u64) })?);
            let behaviour = Behaviour::new(inner, strategy, kind, seed, Arc::clone(&shared.answers));
            miner::Subnet::new(
                "image-aesthetics",
                netuid,
                &miner_image_aesthetics::task_schema(),
                &miner_image_aesthetics::response_schema(),
                behaviour,
            )?
        }
        Kind::Text => {
            let inner = match (&shared.text_copycat, strategy) {
                (Some(inner), Strategy::Copycat) => Arc::clone(inner),
                _ => {
                    // Every backend samples with its own seed: the copycats' one model answers as
                    // well as an honest miner's, and only the sharing of one answer tells them apart.
                    let inner = Arc::new(text_miner(seed)?);
                    if strategy == Strategy::Copycat {
                        shared.text_copycat = Some(Arc::clone(&inner));
                    }
                    inner
                }
            };
            let behaviour = Behaviour::new(inner, strategy, kind, seed, Arc::clone(&shared.answers));
            miner::Subnet::new(
                "text-generation",
                netuid,
                &miner_text_generation::task_schema(),
                &miner_text_generation::response_schema(),
                behaviour,
            )?
            .with_deadline(Duration::from_secs(30))?
        }
    };
    Ok(subnet)
}

/// Serves one miner on 127.0.0.2 (loopback, and an address the chain accepts for an axon).
async fn start_miner(
    hotkey: Keypair,
    subnet: miner::Subnet,
    chain: Arc<Client>,
    stopped: watch::Receiver<bool>,
) -> anyhow::Result<(u16, miner::MinerState)> {
    let state = miner::MinerState::new(hotkey, miner::Options::default(), vec![subnet])?;
    let source = miner::ChainSource::new(chain);
    state.refresh_metagraphs(&source).await?;
    let refresh = state.spawn_metagraph_refresh(source, MINER_REFRESH);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, 2), 0)))
        .await
        .context("cannot listen on 127.0.0.2")?;
    let port = listener.local_addr()?.port();
    // The refresh stops with the demo, not with the last answer in flight: the chain is gone by then.
    let refresh_stopped = stopped.clone();
    tokio::spawn(async move {
        wait(refresh_stopped).await;
        drop(refresh);
    });
    let served = state.clone();
    tokio::spawn(async move {
        if let Err(error) = miner::serve(listener, miner::router(served), wait(stopped)).await {
            tracing::warn!(%error, "a demo miner stopped");
        }
    });
    Ok((port, state))
}

/// A port on 127.0.0.2 where nothing listens (the offline miner's axon).
async fn free_port() -> anyhow::Result<u16> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, 2), 0))).await?;
    Ok(listener.local_addr()?.port())
}

async fn serve_until(listener: tokio::net::TcpListener, router: axum::Router, stopped: watch::Receiver<bool>) {
    if let Err(error) = axum::serve(listener, router).with_graceful_shutdown(wait(stopped)).await {
        tracing::error!(%error, "the demo chain's server failed");
    }
}

async fn wait(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|&stop| stop).await;
}

fn print_table(rows: &[Row]) {
    let mut current = None;
    for row in rows {
        if current != Some(row.netuid) {
            current = Some(row.netuid);
            say(format!("\nsubnet {} ({})", row.netuid, row.subnet));
            say(format!(
                "{:>4}  {:<14} {:>8} {:>10} {:>14}  hotkey",
                "uid", "strategy", "score", "incentive", "emission"
            ));
        }
        say(format!(
            "{:>4}  {:<14} {:>8.4} {:>10} {:>14}  {}",
            row.uid,
            row.strategy,
            row.score,
            row.incentive,
            row.emission,
            &row.hotkey[..12]
        ));
    }
}
