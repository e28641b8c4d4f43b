//! `subnetkit plugin …`: create, build, check and exercise incentive-mechanism plugins.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::Failure;

/// Custom section of a built plugin that carries its sample batch, for `plugin check`.
const SAMPLE_SECTION: &str = "subnetkit:sample-batch";

/// The custom section `plugin build` stores `samples/feeds.json` in, and `plugin check` makes
/// tasks with (unless `--feeds` is given).
const SAMPLE_FEEDS_SECTION: &str = "subnetkit:sample-feeds";

/// `subnetkit plugin` subcommands.
#[derive(Subcommand)]
pub(crate) enum PluginCommand {
    /// Create a new plugin crate from the template; it builds and passes its tests as generated.
    New(NewArgs),
    /// Compile a plugin crate to a loadable component; prints its path and sha256.
    Build(BuildArgs),
    /// Load a plugin under production limits, print its manifest and schemas, make tasks and
    /// score its bundled sample batch.
    Check(CheckArgs),
    /// Print the task a plugin makes for a seed, as JSON.
    Task(TaskArgs),
    /// Score a recorded batch (task, responses and truth) and print the scores as JSON.
    Score(ScoreArgs),
}

/// Where compiled plugins are cached.
#[derive(Args)]
pub(crate) struct CacheArgs {
    /// Directory of precompiled plugin artifacts [default: $XDG_CACHE_HOME/subnetkit/plugins].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

/// Arguments of `subnetkit plugin new`.
#[derive(Args)]
pub(crate) struct NewArgs {
    /// Name of the mechanism, e.g. `my-subnet`: lowercase letters, digits and dashes.
    name: String,
    /// Directory to create the crate in [default: ./NAME].
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The guest SDK's `sdk-guest` directory [default: the one this binary was built with].
    #[arg(long, value_name = "PATH")]
    sdk: Option<PathBuf>,
}

/// Arguments of `subnetkit plugin build`.
#[derive(Args)]
pub(crate) struct BuildArgs {
    /// The plugin crate [default: the current directory].
    dir: Option<PathBuf>,
    /// The cargo profile to build with (a crate inside a larger workspace may keep its plugin
    /// settings in a profile of its own, e.g. `plugin` in this repository).
    #[arg(long, default_value = "release")]
    profile: String,
}

/// Arguments of `subnetkit plugin check`.
#[derive(Args)]
pub(crate) struct CheckArgs {
    /// The plugin component (`.wasm`).
    file: PathBuf,
    /// JSON object of feed values by name for make-task [default: the plugin's bundled
    /// `samples/feeds.json`, if any].
    #[arg(long, value_name = "FILE")]
    feeds: Option<PathBuf>,
    #[command(flatten)]
    cache: CacheArgs,
}

/// Arguments of `subnetkit plugin task`.
#[derive(Args)]
pub(crate) struct TaskArgs {
    /// The plugin component (`.wasm`).
    file: PathBuf,
    /// Seed of the task.
    #[arg(long)]
    seed: u64,
    /// Chain block the round starts at.
    #[arg(long, default_value_t = 0)]
    block: u64,
    /// Unix time in milliseconds the host supplies [default: 0].
    #[arg(long, default_value_t = 0)]
    unix_ms: u64,
    /// JSON object of feed values by name, e.g. `{"price:BTC-USDT": {...}}`.
    #[arg(long, value_name = "FILE")]
    feeds: Option<PathBuf>,
    #[command(flatten)]
    cache: CacheArgs,
}

/// Arguments of `subnetkit plugin score`.
#[derive(Args)]
pub(crate) struct ScoreArgs {
    /// The plugin component (`.wasm`).
    file: PathBuf,
    /// The recorded batch: `{"task": …, "responses": […], "truth": …}`.
    #[arg(long, value_name = "FILE")]
    batch: PathBuf,
    #[command(flatten)]
    cache: CacheArgs,
}

/// A task as `plugin task` prints it: the same shape as a batch's `task`.
type TaskJson = sdk_guest::testing::BatchTask;
/// A recorded batch (`{"task": …, "responses": […], "truth": …}`), the SDK's test format.
type BatchJson = sdk_guest::testing::Batch;

pub(crate) fn run(command: PluginCommand) -> Result<(), Failure> {
    match command {
        PluginCommand::New(args) => new(&args),
        PluginCommand::Build(args) => build(&args),
        PluginCommand::Check(args) => check(&args),
        PluginCommand::Task(args) => task(&args),
        PluginCommand::Score(args) => score(&args),
    }
}

fn open_host(cache: &CacheArgs) -> anyhow::Result<host::Host> {
    let dir = match &cache.cache_dir {
        Some(dir) => dir.clone(),
        None => default_cache_dir().context("no cache directory: set --cache-dir or HOME")?,
    };
    host::Host::new(host::HostConfig::new(&dir))
        .with_context(|| format!("cannot start the plugin host ({})", dir.display()))
}

/// `$XDG_CACHE_HOME/subnetkit/plugins` (or `~/.cache/…`): where compiled plugins are cached.
pub(crate) fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("subnetkit").join("plugins"))
}

fn load(host: &host::Host, file: &Path) -> anyhow::Result<host::Plugin> {
    host.load(file).with_context(|| format!("{}: cannot load the plugin", file.display()))
}

fn task(args: &TaskArgs) -> Result<(), Failure> {
    let feeds = match &args.feeds {
        Some(path) => read_feeds(path)?,
        None => Vec::new(),
    };
    let host = open_host(&args.cache)?;
    let plugin = load(&host, &args.file)?;
    let context = host::Context { seed: args.seed, block: args.block, unix_ms: args.unix_ms, feeds };
    let task =
        plugin.make_task(&context).with_context(|| format!("{}: make-task failed", args.file.display()))?.map_err(
            |message| anyhow::format_err!("{}: the plugin refused to make a task: {message}", args.file.display()),
        )?;
    print_json(&task_json(&task)?)?;
    Ok(())
}

fn read_feeds(path: &Path) -> anyhow::Result<Vec<host::FeedValue>> {
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_feeds(&text).with_context(|| format!("{}: expected a JSON object of feed values", path.display()))
}

fn parse_feeds(json: &[u8]) -> anyhow::Result<Vec<host::FeedValue>> {
    let feeds: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(json)?;
    feeds.into_iter().map(|(name, value)| Ok(host::FeedValue { name, value: serde_json::to_vec(&value)? })).collect()
}

fn score(args: &ScoreArgs) -> Result<(), Failure> {
    let bytes = std::fs::read(&args.batch).with_context(|| format!("cannot read {}", args.batch.display()))?;
    let batch = parse_batch(&bytes).with_context(|| format!("{}: invalid batch", args.batch.display()))?;
    let host = open_host(&args.cache)?;
    let plugin = load(&host, &args.file)?;
    let scores = score_batch(&plugin, &batch).with_context(|| format!("{}: score failed", args.file.display()))?;
    print_json(&serde_json::json!({
        "scores": scores.values,
        "diagnostics": scores.diagnostics,
        "fuel_used": scores.fuel_used,
    }))?;
    Ok(())
}

fn parse_batch(bytes: &[u8]) -> anyhow::Result<BatchJson> {
    let text = std::str::from_utf8(bytes).context("not UTF-8")?;
    BatchJson::from_json(text).map_err(|message| anyhow::format_err!("{message}"))
}

fn score_batch(plugin: &host::Plugin, batch: &BatchJson) -> anyhow::Result<host::Scores> {
    let task = batch.wire_task();
    let task = host::Task { public: task.public, private: task.private, settlement: settlement(task.settlement) };
    let responses: Vec<host::Response> = batch
        .wire_responses()
        .into_iter()
        .map(|r| host::Response {
            uid: r.uid,
            hotkey: r.hotkey,
            body: r.body,
            outcome: match r.outcome {
                sdk_guest::wire::Outcome::Ok => host::Outcome::Ok,
                sdk_guest::wire::Outcome::Timeout => host::Outcome::Timeout,
                sdk_guest::wire::Outcome::TransportError => host::Outcome::TransportError,
                sdk_guest::wire::Outcome::Invalid => host::Outcome::Invalid,
            },
            latency_ms: r.latency_ms,
        })
        .collect();
    let truth = batch.wire_truth();
    plugin
        .score(&task, &responses, truth.as_deref())?
        .map_err(|message| anyhow::format_err!("the plugin refused to score the batch: {message}"))
}

fn settlement(settlement: sdk_guest::wire::Settlement) -> host::Settlement {
    match settlement {
        sdk_guest::wire::Settlement::Immediate => host::Settlement::Immediate,
        sdk_guest::wire::Settlement::Delayed(ms) => host::Settlement::Delayed(ms),
    }
}

fn task_json(task: &host::Task) -> anyhow::Result<TaskJson> {
    Ok(TaskJson {
        public: serde_json::from_slice(&task.public).context("the task's public part is not JSON")?,
        private: serde_json::from_slice(&task.private).context("the task's private part is not JSON")?,
        settles_after_ms: match task.settlement {
            host::Settlement::Immediate => None,
            host::Settlement::Delayed(ms) => Some(ms),
        },
    })
}

fn check(args: &CheckArgs) -> Result<(), Failure> {
    let file = &args.file;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let host = open_host(&args.cache)?;
    let plugin = host.load_bytes(&bytes).with_context(|| format!("{}: cannot load the plugin", file.display()))?;
    let identity = plugin.identity();
    let manifest = plugin.manifest().with_context(|| format!("{}: manifest failed", file.display()))?;
    let schema = |text: &str, what: &str| -> anyhow::Result<serde_json::Value> {
        serde_json::from_str(text).with_context(|| format!("{}: the {what} schema is not JSON", file.display()))
    };
    let feeds = match (&args.feeds, custom_section(&bytes, SAMPLE_FEEDS_SECTION)?) {
        (Some(path), _) => read_feeds(path)?,
        (None, Some(data)) => {
            parse_feeds(&data).with_context(|| format!("{}: invalid bundled sample feeds", file.display()))?
        }
        (None, None) => Vec::new(),
    };
    let mut tasks = Vec::new();
    for seed in 0..3 {
        let context = host::Context { seed, feeds: feeds.clone(), ..host::Context::default() };
        let task = plugin
            .make_task(&context)
            .with_context(|| format!("{}: make-task failed for seed {seed}", file.display()))?
            .map_err(|message| anyhow::format_err!("{}: make-task refused seed {seed}: {message}", file.display()))?;
        tasks.push(serde_json::json!({ "seed": seed, "task": task_json(&task)? }));
    }
    let sample = match custom_section(&bytes, SAMPLE_SECTION)? {
        None => serde_json::Value::Null,
        Some(data) => {
            let batch =
                parse_batch(&data).with_context(|| format!("{}: invalid bundled sample batch", file.display()))?;
            let scores = score_batch(&plugin, &batch)
                .with_context(|| format!("{}: scoring the bundled sample batch failed", file.display()))?;
            serde_json::json!({ "responses": batch.responses.len(), "scores": scores.values, "diagnostics": scores.diagnostics, "fuel_used": scores.fuel_used })
        }
    };
    print_json(&serde_json::json!({
        "file": file.display().to_string(),
        "identity": {
            "sha256": identity.sha256,
            "abi_version": identity.abi_version,
            "wasmtime": identity.wasmtime_version,
            "engine_config": identity.engine_config,
            "fuel": {
                "manifest": identity.fuel.manifest,
                "make_task": identity.fuel.make_task,
                "score": identity.fuel.score,
            },
        },
        "manifest": {
            "name": manifest.name,
            "version": manifest.version,
            "description": manifest.description,
            "feeds": manifest.feeds,
            "defaults": {
                "query_timeout_ms": manifest.defaults.query_timeout_ms,
                "sample_size": manifest.defaults.sample_size,
                "moving_average_alpha": manifest.defaults.moving_average_alpha,
                "settlement_delay_ms": manifest.defaults.settlement_delay_ms,
            },
            "schemas": {
                "task": schema(&manifest.task_schema, "task")?,
                "private": schema(&manifest.private_schema, "private")?,
                "response": schema(&manifest.response_schema, "response")?,
                "truth": manifest.truth_schema.as_deref().map(|s| schema(s, "truth")).transpose()?,
            },
        },
        "tasks": tasks,
        "sample_batch": sample,
    }))?;
    Ok(())
}

/// The data of the top-level custom section `name`, if the component has one.
fn custom_section(bytes: &[u8], name: &str) -> anyhow::Result<Option<Vec<u8>>> {
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.context("not a valid WebAssembly component")? {
            wasmparser::Payload::CustomSection(section) if section.name() == name => {
                return Ok(Some(section.data().to_vec()));
            }
            // Nested modules and components are skipped whole; only top-level sections count.
            wasmparser::Payload::ModuleSection { .. } | wasmparser::Payload::ComponentSection { .. } => {}
            _ => {}
        }
    }
    Ok(None)
}

fn build(args: &BuildArgs) -> Result<(), Failure> {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(anyhow::format_err!("{}: not a plugin crate (no Cargo.toml)", dir.display()).into());
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("building {} for wasm32-unknown-unknown (profile {})", dir.display(), args.profile);
    let output = Command::new(&cargo)
        .args(["build", "--target", "wasm32-unknown-unknown", "--message-format=json-render-diagnostics", "--profile"])
        .arg(&args.profile)
        .arg("--manifest-path")
        .arg(&manifest)
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("cannot run cargo")?;
    if !output.status.success() {
        return Err(Failure::BadInput(anyhow::format_err!("{}: the plugin does not compile", dir.display())));
    }
    let core = built_wasm(&output.stdout).with_context(|| format!("{}: no wasm library was built", dir.display()))?;
    let core_bytes = std::fs::read(&core).with_context(|| format!("cannot read {}", core.display()))?;
    let mut component = componentize::componentize(&core_bytes)
        .with_context(|| format!("{}: cannot make a component of {}", dir.display(), core.display()))?;

    let sample = dir.join("samples").join("batch.json");
    if sample.is_file() {
        let data = std::fs::read(&sample).with_context(|| format!("cannot read {}", sample.display()))?;
        parse_batch(&data).with_context(|| format!("{}: invalid sample batch", sample.display()))?;
        append_custom_section(&mut component, SAMPLE_SECTION, &data);
    }
    let feeds = dir.join("samples").join("feeds.json");
    if feeds.is_file() {
        let data = std::fs::read(&feeds).with_context(|| format!("cannot read {}", feeds.display()))?;
        parse_feeds(&data).with_context(|| format!("{}: expected a JSON object of feed values", feeds.display()))?;
        append_custom_section(&mut component, SAMPLE_FEEDS_SECTION, &data);
    }

    let stem = core.file_stem().and_then(|s| s.to_str()).unwrap_or("plugin");
    let out_dir = dir.join("target").join("subnetkit");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    let artifact = out_dir.join(format!("{stem}.wasm"));
    std::fs::write(&artifact, &component).with_context(|| format!("cannot write {}", artifact.display()))?;
    let sha256 = Sha256::digest(&component).iter().map(|b| format!("{b:02x}")).collect::<String>();
    println!("{}", artifact.display());
    println!("sha256 {sha256}");
    Ok(())
}

/// The `.wasm` file of the cdylib that cargo's JSON messages report.
fn built_wasm(messages: &[u8]) -> anyhow::Result<PathBuf> {
    let mut found = None;
    for line in messages.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let message: serde_json::Value = serde_json::from_slice(line).context("unreadable cargo output")?;
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let is_cdylib = message["target"]["kind"].as_array().is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"));
        if !is_cdylib {
            continue;
        }
        for file in message["filenames"].as_array().into_iter().flatten().filter_map(|f| f.as_str()) {
            if file.ends_with(".wasm") {
                found = Some(PathBuf::from(file));
            }
        }
    }
    match found {
        Some(path) => Ok(path),
        None => bail!("the crate has no `cdylib` library target (crate-type = [\"cdylib\", \"rlib\"])"),
    }
}

/// Appends a top-level custom section to an encoded component.
fn append_custom_section(component: &mut Vec<u8>, name: &str, data: &[u8]) {
    use wasm_encoder::Encode;
    const CUSTOM_SECTION_ID: u8 = 0;
    component.push(CUSTOM_SECTION_ID);
    wasm_encoder::CustomSection { name: name.into(), data: data.into() }.encode(component);
}

fn new(args: &NewArgs) -> Result<(), Failure> {
    let dir = crate::template::render_plugin(&args.name, args.dir.as_deref(), args.sdk.as_deref())?;
    println!("created {}", dir.display());
    println!("next: cd {} && cargo test && subnetkit plugin build", dir.display());
    Ok(())
}

/// Prints `value` as pretty JSON. A reader that stops early (`| head`) is not an error.
fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    use std::io::Write as _;
    let text = serde_json::to_string_pretty(value).context("cannot encode the output")?;
    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error).context("cannot write to stdout"),
        _ => Ok(()),
    }
}
