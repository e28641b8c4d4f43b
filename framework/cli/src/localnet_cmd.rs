//! `subnetkit localnet`: create and run the embedded local chain.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use localnet::{Genesis, Localnet, ServerState};

use crate::Failure;

/// Arguments of `subnetkit localnet`: run the chain, or a subcommand.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct LocalnetArgs {
    #[command(subcommand)]
    command: Option<LocalnetCommand>,
    #[command(flatten)]
    run: RunArgs,
}

/// `subnetkit localnet` subcommands.
#[derive(Subcommand)]
enum LocalnetCommand {
    /// Create a chain from a genesis TOML file (sudo key, funded coldkeys, subnets).
    Init(InitArgs),
}

/// Where the chain's database is.
#[derive(Args)]
struct DbArg {
    /// The chain's SQLite file [default: `localnet.sqlite` under the user's data directory,
    /// e.g. ~/.local/share/subnetkit].
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
}

impl DbArg {
    fn path(&self) -> anyhow::Result<PathBuf> {
        match &self.db {
            Some(path) => Ok(path.clone()),
            None => Ok(dirs::data_dir()
                .context("no data directory for this user; pass --db")?
                .join("subnetkit")
                .join("localnet.sqlite")),
        }
    }
}

/// Arguments of `subnetkit localnet init`.
#[derive(Args)]
struct InitArgs {
    /// The genesis file (see `docs/localnet.md`).
    #[arg(long, value_name = "FILE")]
    genesis: PathBuf,
    #[command(flatten)]
    db: DbArg,
}

/// Arguments of `subnetkit localnet` (run).
#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    db: DbArg,
    /// Address to serve the chain's HTTP API on; port 0 picks a free port. The URL is printed
    /// first on stdout.
    #[arg(long, default_value = "127.0.0.1:9944")]
    listen: SocketAddr,
    /// Milliseconds between blocks (12000 like the chain); 0 for manual mode, where blocks come
    /// only from the sudo key's `advance_blocks` call.
    #[arg(long, default_value_t = 12_000, value_name = "N")]
    block_ms: u64,
}

/// Runs `subnetkit localnet`.
pub(crate) fn run(args: LocalnetArgs) -> Result<(), Failure> {
    crate::init_tracing();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    match args.command {
        Some(LocalnetCommand::Init(init)) => runtime.block_on(init_chain(&init))?,
        None => runtime.block_on(serve(&args.run))?,
    }
    Ok(())
}

async fn init_chain(args: &InitArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.genesis)
        .with_context(|| format!("cannot read the genesis {}", args.genesis.display()))?;
    let genesis = Genesis::from_toml(&text).with_context(|| format!("{}", args.genesis.display()))?;
    let db = args.db.path()?;
    create_parent(&db)?;
    let chain = Localnet::init(&db, &genesis).await?;
    println!(
        "created the chain in {} (identity {}, {} subnets, {} funded coldkeys)",
        db.display(),
        chain.identity(),
        genesis.subnets.len(),
        genesis.accounts.len()
    );
    Ok(())
}

fn create_parent(db: &Path) -> anyhow::Result<()> {
    match db.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create the directory {}", parent.display()))
        }
        _ => Ok(()),
    }
}

async fn serve(args: &RunArgs) -> anyhow::Result<()> {
    let db = args.db.path()?;
    let chain = Arc::new(Localnet::open(&db).await?);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr().context("cannot read the bound address")?;
    let block = chain.block().await?;
    println!("http://{address}");
    tracing::info!(%address, block, db = %db.display(), identity = %chain.identity(), "localnet serving");

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let producer = (args.block_ms > 0).then(|| {
        let chain = Arc::clone(&chain);
        let mut stopped = stopped.clone();
        tokio::spawn(localnet::produce_blocks(chain, Duration::from_millis(args.block_ms), async move {
            let _ = stopped.wait_for(|&stop| stop).await;
        }))
    });
    if producer.is_none() {
        tracing::info!("manual mode: blocks advance only through the sudo key's advance_blocks call");
    }
    let router = localnet::router(Arc::new(ServerState::new(Arc::clone(&chain))));
    let signal = crate::shutdown_signal();
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            signal.await;
            let _ = stop.send(true);
        })
        .await
        .context("the server failed")?;
    if let Some(producer) = producer {
        producer.await.context("the block producer failed")?;
    }
    tracing::info!(block = chain.block().await?, "localnet stopped");
    Ok(())
}
