//! `subnetkit miner …`: copy a miner template into a new crate, or run one as a miner.
//!
//! The templates are a registry ([`TEMPLATES`]): one entry per template crate, naming its
//! subnet, its crate directory (embedded by `build.rs`) and how to build its served subnet from
//! a config file.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use clap::{Args, Subcommand};

use crate::Failure;
use crate::wallet_cmd::WalletPathArg;

include!(concat!(env!("OUT_DIR"), "/miner_templates.rs"));

/// A miner template: the subnet it mines, its crate, and how to build it from a config file.
struct Template {
    /// The subnet's name: `--template`/`--subnet` value and route segment.
    subnet: &'static str,
    /// The crate's directory under `templates/`.
    dir: &'static str,
    /// The served subnet for `netuid`, from the config file's text (`None`: the defaults).
    build: fn(netuid: u16, config: Option<&str>) -> anyhow::Result<miner::Subnet>,
}

/// Every template `subnetkit miner` knows.
const TEMPLATES: &[Template] = &[
    Template { subnet: "price-prediction", dir: "miner-price-prediction", build: price_prediction },
    Template { subnet: "image-aesthetics", dir: "miner-image-aesthetics", build: image_aesthetics },
    Template { subnet: "text-generation", dir: "miner-text-generation", build: text_generation },
];

fn price_prediction(netuid: u16, config: Option<&str>) -> anyhow::Result<miner::Subnet> {
    use miner_price_prediction::{Config, PricePredictionMiner};
    let config = config.map_or_else(|| Ok(Config::default()), Config::from_json)?;
    Ok(PricePredictionMiner::new(config)?.into_subnet(netuid)?)
}

fn image_aesthetics(netuid: u16, config: Option<&str>) -> anyhow::Result<miner::Subnet> {
    use miner_image_aesthetics::{Config, ImageAestheticsMiner};
    let config = config.map_or_else(|| Ok(Config::default()), Config::from_json)?;
    Ok(ImageAestheticsMiner::new(config)?.into_subnet(netuid)?)
}

fn text_generation(netuid: u16, config: Option<&str>) -> anyhow::Result<miner::Subnet> {
    use miner_text_generation::{Backend, GeneratorConfig, TextGenerationMiner};
    let config: GeneratorConfig = match config {
        Some(text) => serde_json::from_str(text).context("invalid text-generation config")?,
        None => GeneratorConfig::default(),
    };
    Ok(TextGenerationMiner::new(Backend::from_config(&config)?).into_subnet(netuid)?)
}

fn template(name: &str) -> anyhow::Result<&'static Template> {
    TEMPLATES.iter().find(|t| t.subnet == name).with_context(|| {
        let known: Vec<&str> = TEMPLATES.iter().map(|t| t.subnet).collect();
        format!("unknown template `{name}` (known: {})", known.join(", "))
    })
}

/// `subnetkit miner` subcommands.
#[derive(Subcommand)]
pub(crate) enum MinerCommand {
    /// Copy a miner template into DIR as a standalone crate to change and run.
    New(NewArgs),
    /// Run a template's miner: serve its subnet, authenticated as the hotkey, until Ctrl-C.
    ///
    /// Validators are authorised from the chain's metagraph (`--chain`) or a metagraph file
    /// (`--metagraph`), re-read every 30 s.
    Run(RunArgs),
}

/// Arguments of `subnetkit miner new`.
#[derive(Args)]
pub(crate) struct NewArgs {
    /// The template: price-prediction or image-aesthetics.
    #[arg(long)]
    template: String,
    /// Directory of the new crate (created; must be empty if it exists).
    dir: PathBuf,
    /// The subnetkit source tree the crate's path dependencies point to [default: the one this
    /// binary was built from].
    #[arg(long, value_name = "PATH")]
    source: Option<PathBuf>,
}

/// Arguments of `subnetkit miner run`.
#[derive(Args)]
pub(crate) struct RunArgs {
    /// The template to run: price-prediction or image-aesthetics.
    #[arg(long)]
    subnet: String,
    /// Wallet name.
    #[arg(long)]
    wallet: String,
    /// Hotkey name: requests must be addressed to it, and it signs every response.
    #[arg(long)]
    hotkey: String,
    #[command(flatten)]
    path: WalletPathArg,
    /// Address to listen on; port 0 picks a free port. The bound address is printed first on
    /// stdout.
    #[arg(long, default_value = "0.0.0.0:8091")]
    listen: SocketAddr,
    /// The chain to read the metagraph from: the local chain's URL (`http://127.0.0.1:9944`,
    /// see `subnetkit localnet`) or a subtensor node's (`wss://entrypoint-finney.opentensor.ai:443`).
    /// Needs `--netuid`; the hotkey must be registered there.
    #[arg(long, value_name = "URL", required_unless_present = "metagraph", conflicts_with = "metagraph")]
    chain: Option<String>,
    /// With `--chain`: publish this address and the bound port as the neuron's axon on start.
    #[arg(long, value_name = "IP", requires = "chain")]
    external_ip: Option<IpAddr>,
    /// Metagraph file instead of a chain: a JSON array of `{"netuid", "neurons": [{"uid",
    /// "hotkey", "stake", "validator_permit"}]}`.
    #[arg(long, value_name = "FILE")]
    metagraph: Option<PathBuf>,
    /// The subnet's netuid [default with `--metagraph`: the only subnet in the file].
    #[arg(long, required_unless_present = "metagraph")]
    netuid: Option<u16>,
    /// The template's JSON config file (see its README) [default: its defaults].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Runs a `subnetkit miner` subcommand.
pub(crate) fn run(command: MinerCommand) -> Result<(), Failure> {
    match command {
        MinerCommand::New(args) => new(&args),
        MinerCommand::Run(args) => serve(&args),
    }
}

/// Where this binary was built from.
const BUILT_SOURCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
/// The workspace manifest the templates' `workspace = true` keys come from.
const WORKSPACE_MANIFEST: &str = include_str!("../../../Cargo.toml");
/// The lock file the framework is tested with: the new crate starts from the same versions.
const WORKSPACE_LOCK: &str = include_str!("../../../Cargo.lock");

fn new(args: &NewArgs) -> Result<(), Failure> {
    let dir = create(args)?;
    println!("{}", dir.display());
    eprintln!("created the {} miner crate; run `cargo test` in it and see its README.md", args.template);
    Ok(())
}

/// Copies the template into `args.dir`; returns the directory.
fn create(args: &NewArgs) -> anyhow::Result<PathBuf> {
    let template = template(&args.template)?;
    let files = template_files(template.dir).with_context(|| format!("template `{}` is not embedded", template.dir))?;
    let source = args.source.as_deref().unwrap_or(Path::new(BUILT_SOURCE));
    let source = source.canonicalize().with_context(|| {
        format!("cannot find the subnetkit source tree at {} (pass --source PATH)", source.display())
    })?;
    ensure!(source.join("framework/miner/Cargo.toml").is_file(), "{}: not a subnetkit source tree", source.display());
    let dir = &args.dir;
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(dir).with_context(|| format!("{}: cannot read the directory", dir.display()))?;
        ensure!(entries.next().is_none(), "{}: the directory exists and is not empty", dir.display());
    }
    for (path, bytes) in files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let bytes = if *path == "Cargo.toml" {
            let text = std::str::from_utf8(bytes).context("the template's Cargo.toml is not UTF-8")?;
            standalone_manifest(text, WORKSPACE_MANIFEST, &source)?.into_bytes()
        } else {
            bytes.to_vec()
        };
        std::fs::write(&target, bytes).with_context(|| format!("cannot write {}", target.display()))?;
    }
    let lock = dir.join("Cargo.lock");
    std::fs::write(&lock, WORKSPACE_LOCK).with_context(|| format!("cannot write {}", lock.display()))?;
    Ok(dir.clone())
}

/// The template's manifest with every `workspace = true` key replaced by the workspace's value
/// (paths made absolute under `source`), the workspace lints copied, and an empty `[workspace]`
/// so the crate builds on its own.
fn standalone_manifest(template: &str, workspace: &str, source: &Path) -> anyhow::Result<String> {
    use toml_edit::{DocumentMut, Item, Table, Value};
    let mut doc: DocumentMut = template.parse().context("the template's Cargo.toml is not TOML")?;
    let root: DocumentMut = workspace.parse().context("the workspace Cargo.toml is not TOML")?;
    let ws = root.get("workspace").and_then(Item::as_table).context("no [workspace] table")?;
    let inherits = |item: &Item| item.get("workspace").and_then(Item::as_bool) == Some(true);

    if let Some(package) = doc.get_mut("package").and_then(Item::as_table_mut) {
        let keys: Vec<String> = package.iter().filter(|(_, v)| inherits(v)).map(|(k, _)| k.to_owned()).collect();
        for key in keys {
            let value =
                ws.get("package").and_then(|p| p.get(&key)).with_context(|| format!("no workspace.package.{key}"))?;
            package.insert(&key, value.clone());
        }
    }
    let deps = ws.get("dependencies").and_then(Item::as_table).context("no workspace.dependencies")?;
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        let Some(table) = doc.get_mut(section).and_then(Item::as_table_like_mut) else { continue };
        let names: Vec<String> = table.iter().filter(|(_, v)| inherits(v)).map(|(k, _)| k.to_owned()).collect();
        for name in names {
            let base = deps.get(&name).with_context(|| format!("no workspace dependency `{name}`"))?;
            let mut merged = match base.as_value() {
                Some(Value::String(version)) => {
                    let mut t = toml_edit::InlineTable::new();
                    t.insert("version", version.value().as_str().into());
                    t
                }
                Some(Value::InlineTable(t)) => t.clone(),
                _ => bail!("workspace dependency `{name}` is neither a version nor an inline table"),
            };
            if let Some(path) = merged.get("path").and_then(Value::as_str) {
                let absolute = source.join(path);
                merged.insert("path", absolute.to_string_lossy().as_ref().into());
            }
            let own = table.get(&name).expect("listed");
            let mut features: Vec<String> = Vec::new();
            for list in [merged.get("features"), own.get("features").and_then(Item::as_value)].into_iter().flatten() {
                for feature in list.as_array().into_iter().flatten().filter_map(Value::as_str) {
                    if !features.iter().any(|f| f == feature) {
                        features.push(feature.to_owned());
                    }
                }
            }
            if !features.is_empty() {
                merged.insert("features", features.iter().map(String::as_str).collect::<toml_edit::Array>().into());
            }
            if let Some(optional) = own.get("optional").and_then(Item::as_value) {
                merged.insert("optional", optional.clone());
            }
            table.insert(&name, Item::Value(Value::InlineTable(merged)));
        }
    }
    if doc.get("lints").is_some_and(inherits) {
        let lints = ws.get("lints").context("no workspace.lints")?.clone();
        doc.insert("lints", lints);
    }
    doc.insert("workspace", Item::Table(Table::new()));
    Ok(doc.to_string())
}

fn serve(args: &RunArgs) -> Result<(), Failure> {
    let template = template(&args.subnet)?;
    let root = args.path.resolve()?;
    let keypair = protocol::wallet::load_hotkey(&root, &args.wallet, &args.hotkey)
        .with_context(|| format!("cannot load hotkey {}/{}", args.wallet, args.hotkey))?;
    let config = match &args.config {
        None => None,
        Some(path) => Some(std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?),
    };
    let netuid = match (args.netuid, &args.metagraph) {
        (Some(netuid), _) => netuid,
        (None, Some(path)) => only_netuid(path)?,
        (None, None) => return Err(anyhow::anyhow!("--netuid is required with --chain").into()),
    };
    let subnet = (template.build)(netuid, config.as_deref()).with_context(|| match &args.config {
        Some(path) => format!("invalid config {}", path.display()),
        None => "cannot set up the miner".to_owned(),
    })?;
    crate::init_tracing();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    runtime.block_on(async {
        let state = miner::MinerState::new(keypair.clone(), miner::Options::default(), vec![subnet])
            .context("cannot set up the miner")?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener.local_addr().context("cannot read the bound address")?;
        match (&args.chain, &args.metagraph) {
            (Some(url), _) => {
                let chain = crate::validator_cmd::connect_chain(url).await.with_context(|| format!("--chain {url}"))?;
                let metagraph =
                    chain.metagraph(netuid).await.with_context(|| format!("cannot read subnet {netuid} from {url}"))?;
                if metagraph.neuron(&keypair.account()).is_none() {
                    bail!("hotkey {} is not registered on subnet {netuid} of {url}", keypair.account());
                }
                if let Some(ip) = args.external_ip {
                    let axon = chain::Axon::http(ip, address.port());
                    chain.serve_axon(&keypair, netuid, &axon).await.context("cannot publish the axon")?;
                    tracing::info!(%ip, port = address.port(), "axon published");
                }
                let source = miner::ChainSource::new(chain);
                run_server(&state, source, listener, template.subnet, netuid).await
            }
            (None, Some(path)) => {
                run_server(&state, miner::FileSource::new(path), listener, template.subnet, netuid).await
            }
            (None, None) => bail!("pass --chain URL or --metagraph FILE"),
        }
    })?;
    Ok(())
}

/// Loads the first metagraph, keeps it fresh, prints the bound address and serves until a
/// shutdown signal.
async fn run_server<S: miner::MetagraphSource>(
    state: &miner::MinerState,
    source: S,
    listener: tokio::net::TcpListener,
    subnet: &str,
    netuid: u16,
) -> anyhow::Result<()> {
    state.refresh_metagraphs(&source).await.with_context(|| format!("cannot load the metagraph of subnet {netuid}"))?;
    let _refresh = state.spawn_metagraph_refresh(source, Duration::from_secs(30));
    let address = listener.local_addr().context("cannot read the bound address")?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{address}").and_then(|()| stdout.flush()).context("cannot write to stdout")?;
    tracing::info!(subnet, netuid, hotkey = %state.hotkey(), "miner started");
    miner::serve(listener, miner::router(state.clone()), crate::shutdown_signal())
        .await
        .context("the server failed")?;
    tracing::info!("miner stopped");
    Ok(())
}

/// The netuid of a metagraph file holding exactly one subnet.
fn only_netuid(path: &Path) -> anyhow::Result<u16> {
    #[derive(serde::Deserialize)]
    struct Netuid {
        netuid: u16,
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the metagraph {}", path.display()))?;
    let graphs: Vec<Netuid> =
        serde_json::from_str(&text).with_context(|| format!("{}: not a metagraph file", path.display()))?;
    match graphs.as_slice() {
        [one] => Ok(one.netuid),
        _ => bail!("{}: holds {} subnets; pass --netuid", path.display(), graphs.len()),
    }
}
