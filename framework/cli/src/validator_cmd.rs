//! `subnetkit validator`: run a validator from its config, and replay a stored round.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use chain::Chain;
use clap::{Args, Subcommand};
use validator::{MinerClient, QueryLimits, Store, SubnetRunner, ValidatorConfig};

use crate::Failure;

/// `subnetkit validator` subcommands.
#[derive(Subcommand)]
pub(crate) enum ValidatorCommand {
    /// Validate the subnets listed in a config file until Ctrl-C.
    Run(RunArgs),
    /// Re-score a stored round with a plugin and say whether the scores are byte-identical.
    Replay(ReplayArgs),
}

/// Arguments of `subnetkit validator run`.
#[derive(Args)]
pub(crate) struct RunArgs {
    /// The `validator.toml` (see `docs/validator.md`).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
}

/// Arguments of `subnetkit validator replay`.
#[derive(Args)]
pub(crate) struct ReplayArgs {
    /// The validator's database URL (`sqlite://FILE` or `postgres://…`).
    #[arg(long, value_name = "URL")]
    db: String,
    /// The subnet.
    #[arg(long)]
    netuid: u16,
    /// The round's index.
    #[arg(long)]
    round: u64,
    /// The plugin to score with (its sha256 is compared with the one the round was scored with).
    #[arg(long, value_name = "FILE")]
    plugin: PathBuf,
}

/// Runs a `subnetkit validator` subcommand.
pub(crate) fn run(command: ValidatorCommand) -> Result<(), Failure> {
    crate::init_tracing();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    match command {
        ValidatorCommand::Run(args) => runtime.block_on(run_validator(&args))?,
        ValidatorCommand::Replay(args) => return runtime.block_on(replay(&args)),
    }
    Ok(())
}

/// The chain at `url`: the local chain's HTTP API (`http://`), or a subtensor node (`ws://` on
/// loopback, `wss://`).
pub(crate) async fn connect_chain(url: &str) -> anyhow::Result<Arc<dyn Chain>> {
    if url.starts_with("http://") {
        return Ok(Arc::new(localnet::Client::new(url)?));
    }
    if url.starts_with("ws://") || url.starts_with("wss://") {
        return Ok(Arc::new(chain::Subtensor::connect(url).await?));
    }
    bail!("expected the local chain's http:// URL or a subtensor node's ws:// or wss:// URL")
}

async fn run_validator(args: &RunArgs) -> anyhow::Result<()> {
    let config = ValidatorConfig::load(&args.config)?;
    let root = match &config.wallet_path {
        Some(path) => path.clone(),
        None => protocol::wallet::default_wallet_path().context("no wallet directory: set wallet_path or HOME")?,
    };
    let keypair = protocol::wallet::load_hotkey(&root, &config.wallet, &config.hotkey)
        .with_context(|| format!("cannot load hotkey {}/{}", config.wallet, config.hotkey))?;
    let chain = connect_chain(&config.chain).await.with_context(|| format!("chain {}", config.chain))?;
    let block = chain.block().await.with_context(|| format!("cannot reach the chain at {}", config.chain))?;
    let database = config.database.clone().context("no database configured")?;
    let store = Arc::new(Store::connect(&database).await?);
    let cache = crate::plugin_cmd::default_cache_dir().context("no cache directory: set XDG_CACHE_HOME or HOME")?;
    let host = host::Host::new(host::HostConfig::new(&cache)).context("cannot start the plugin host")?;
    let feeds = Arc::new(
        feeds::Feeds::from_config(&config.feeds, Arc::new(feeds::SystemClock)).context("invalid feeds config")?,
    );
    let miners = Arc::new(MinerClient::new(
        keypair,
        QueryLimits { max_in_flight: config.max_in_flight, ..QueryLimits::default() },
    ));
    let metrics = Arc::new(validator::Metrics::default());
    let runners: Vec<SubnetRunner> = config
        .specs()
        .into_iter()
        .map(|spec| {
            SubnetRunner::new(
                spec,
                host.clone(),
                Arc::clone(&chain),
                Arc::clone(&store),
                Arc::clone(&miners),
                Arc::clone(&feeds),
                Arc::clone(&metrics),
            )
        })
        .collect();
    let signal = crate::shutdown_signal();
    tracing::info!(hotkey = %miners.hotkey(), block, subnets = runners.len(), "validator starting");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    if let Some(address) = config.metrics {
        let listener =
            tokio::net::TcpListener::bind(address).await.with_context(|| format!("cannot listen on {address}"))?;
        let metrics = Arc::clone(&metrics);
        let router = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let metrics = Arc::clone(&metrics);
                async move { metrics.encode().unwrap_or_default() }
            }),
        );
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|&stop| stop).await;
            };
            if let Err(error) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
                tracing::error!(%error, "the metrics server failed");
            }
        });
    }
    tokio::spawn(async move {
        signal.await;
        let _ = stop.send(true);
    });
    validator::run_subnets(runners, metrics, stopped).await;
    tracing::info!("validator stopped");
    Ok(())
}

async fn replay(args: &ReplayArgs) -> Result<(), Failure> {
    let store = Store::connect(&args.db).await.context("cannot open the database")?;
    let round = store
        .round(args.netuid, args.round)
        .await
        .context("cannot read the round")?
        .with_context(|| format!("subnet {} has no round {}", args.netuid, args.round))?;
    let Some(stored) = round.scores.clone() else {
        return Err(anyhow::anyhow!("round {} of subnet {} is not scored yet", args.round, args.netuid).into());
    };
    let cache = crate::plugin_cmd::default_cache_dir().context("no cache directory: set XDG_CACHE_HOME or HOME")?;
    let host = host::Host::new(host::HostConfig::new(&cache)).context("cannot start the plugin host")?;
    let plugin =
        host.load(&args.plugin).with_context(|| format!("{}: cannot load the plugin", args.plugin.display()))?;
    let replayed = validator::rescore(&plugin, &round).context("the plugin failed on the stored round")?;
    let identical = replayed.len() == stored.len()
        && replayed.iter().zip(&stored).all(|(a, b)| a.0 == b.0 && a.1.to_bits() == b.1.to_bits());
    let same_plugin = plugin.identity().sha256 == round.plugin_sha256;
    let report = serde_json::json!({
        "netuid": args.netuid,
        "round": args.round,
        "identical": identical,
        "same_plugin": same_plugin,
        "stored": stored,
        "replayed": replayed,
    });
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{report}").context("cannot write to stdout")?;
    if identical { Ok(()) } else { Err(Failure::Mismatch) }
}
