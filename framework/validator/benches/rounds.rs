//! Validator rounds per second: the network part of a round (query every miner with a signed task,
//! read and verify every signed answer, schema-check it) by our validator and by a Python
//! validator on the Bittensor SDK, against the same miners, side by side on one machine.
//!
//! - **Miners**: 256 real `miner` crate servers (`miner::router` + `miner::serve`), each with a
//!   hotkey of its own, on one tokio runtime with a worker per core, on 127.0.0.1 ports. A
//!   trivial miner answering `{"ok": true}`; the validator registered with a permit through an
//!   in-memory `MetagraphSource`; the per-caller rate limit raised out of the way (a validator
//!   that runs dozens of rounds a second is not what it is for). Every request goes the whole
//!   pipeline: btauth/1 (sr25519 verify), authorisation, replay record, task schema, queue,
//!   miner, response schema, and an sr25519-signed answer.
//! - **Ours**: `validator::MinerClient::query` for all the miners per round (sign each request,
//!   send them all at once, read each answer, verify the miner's signature for this validator,
//!   check it against the compiled response schema), run as a task on a runtime of its own with a
//!   worker per core, as the validator runs it.
//! - **Python**: `benches/python_validator.py`: `bittensor.http_auth.sign`, aiohttp (uvloop),
//!   `bittensor.http_auth.verify` on every answer, a hand check of the answer's shape. It signs as
//!   the same validator hotkey (the seed is passed on stdin with the miners' addresses).
//!
//! The two run in turns (ours, then Python's), each turn for a fixed time after warm-up rounds;
//! any answer that is not ok voids the run. Besides rounds per second the benchmark reports each
//! validator's CPU time per round (ours: the validator runtime's threads, from
//! `/proc/self/task/*/schedstat`; Python's: the process's `time.process_time()`), which does not
//! depend on how the machine's cores are shared with the miners, and the floor both share: the
//! time to sign one request and verify one answer with each side's btauth/1 code alone, on one
//! thread (the Python SDK's sr25519 is native code too).
//!
//! Settings (environment): `SUBNETKIT_BENCH_MINERS` (256), `SUBNETKIT_BENCH_SECONDS` (3 per run),
//! `SUBNETKIT_BENCH_TURNS` (3), `SUBNETKIT_BENCH_WARM_UP_ROUNDS` (3), `SUBNETKIT_BENCH_PYTHON_LOOP`
//! (`uvloop` or `asyncio`), and the interpreter: `SUBNETKIT_PYTHON`, else
//! `$SUBNETKIT_PY_VENV/bin/python`, else `target/py-interop/bin/python` (run
//! `scripts/setup-python.sh`).
//!
//! `cargo bench -p validator --bench rounds`

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chain::{Axon, Keypair};
use host::Outcome;
use miner::{Metagraph, MetagraphSource, Miner, MinerError, MinerState, Neuron, Options, RateLimit, SourceError, Task};
use protocol::CryptoScheme;
use sha2::{Digest, Sha256};
use validator::{MinerClient, QueryLimits, Target};

const NETUID: u16 = 1;
const ROUTE: &str = "bench";
const TASK: &[u8] = br#"{"x":1}"#;
const TASK_SCHEMA: &str = r#"{ "type": "object" }"#;
const RESPONSE_SCHEMA: &str =
    r#"{ "type": "object", "required": ["ok"], "properties": { "ok": { "type": "boolean" } } }"#;
/// Per-query timeout (both sides); a run with any answer not ok is void anyway.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Requests in flight at once (both sides): all of a round's.
const CONCURRENCY: usize = 256;
/// Least timed rounds per run.
const MIN_ROUNDS: usize = 3;
/// The runtimes' thread names, by which their CPU time is found.
const MINERS_THREADS: &str = "bench-miners";
const VALIDATOR_THREADS: &str = "bench-validator";

/// The trivial handler.
struct Trivial;

impl Miner for Trivial {
    async fn handle(&self, _task: Task) -> Result<serde_json::Value, MinerError> {
        Ok(serde_json::json!({ "ok": true }))
    }
}

/// The metagraph every miner sees: the validator, with a permit.
#[derive(Clone)]
struct InMemory(Metagraph);

impl MetagraphSource for InMemory {
    async fn fetch(&self, _netuid: u16) -> Result<Metagraph, SourceError> {
        Ok(self.0.clone())
    }
}

struct Settings {
    miners: usize,
    seconds: Duration,
    turns: usize,
    warm_up_rounds: usize,
    python_loop: String,
}

impl Settings {
    fn from_env() -> Result<Settings, String> {
        fn var<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
            match std::env::var(name) {
                Ok(text) => text.trim().parse().map_err(|_| format!("{name}={text:?} is not a valid number")),
                Err(_) => Ok(default),
            }
        }
        let seconds: f64 = var("SUBNETKIT_BENCH_SECONDS", 3.0)?;
        if !(0.1..=600.0).contains(&seconds) {
            return Err("SUBNETKIT_BENCH_SECONDS must be 0.1 to 600".to_owned());
        }
        let python_loop = std::env::var("SUBNETKIT_BENCH_PYTHON_LOOP").unwrap_or_else(|_| "uvloop".to_owned());
        if python_loop != "uvloop" && python_loop != "asyncio" {
            return Err(format!("SUBNETKIT_BENCH_PYTHON_LOOP={python_loop:?} is neither uvloop nor asyncio"));
        }
        Ok(Settings {
            miners: var("SUBNETKIT_BENCH_MINERS", 256usize)?.clamp(1, 4096),
            seconds: Duration::from_secs_f64(seconds),
            turns: var("SUBNETKIT_BENCH_TURNS", 3usize)?.max(1),
            warm_up_rounds: var("SUBNETKIT_BENCH_WARM_UP_ROUNDS", 3usize)?.max(1),
            python_loop,
        })
    }
}

/// A key from a label: the same keys every run, and the Python side can rebuild the validator's.
fn seed(label: &str) -> [u8; 32] {
    Sha256::digest(label.as_bytes()).into()
}

/// Nanoseconds on a CPU of this process's threads whose name starts with `prefix`, from
/// `/proc/self/task/*/schedstat` (`None` where that is not available).
fn threads_cpu(prefix: &str) -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = task.ok()?.path();
        let Ok(name) = std::fs::read_to_string(dir.join("comm")) else { continue };
        if !name.trim_end().starts_with(prefix) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(dir.join("schedstat")) else { continue };
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

fn cpu_delta(before: Option<Duration>, after: Option<Duration>) -> Option<Duration> {
    Some(after?.saturating_sub(before?))
}

/// The interpreter with `bittensor.http_auth` and aiohttp (see `test_python::find_python`).
fn find_python() -> Result<PathBuf, String> {
    test_python::find_python(
        "import aiohttp, yarl, bittensor; from bittensor import http_auth; http_auth.sign; http_auth.verify",
    )
}

/// Starts `count` miners on `runtime`; returns their targets.
fn start_miners(runtime: &tokio::runtime::Runtime, count: usize, validator: &Keypair) -> Result<Vec<Target>, String> {
    let unlimited = NonZeroU32::new(1_000_000_000).expect("non-zero");
    let graph = InMemory(Metagraph {
        netuid: NETUID,
        neurons: vec![Neuron { uid: 0, hotkey: validator.account(), stake: 1_000_000, validator_permit: true }],
    });
    runtime.block_on(async {
        let mut targets = Vec::with_capacity(count);
        for uid in 0..count {
            let key = Keypair::from_seed(CryptoScheme::Sr25519, &seed(&format!("subnetkit rounds bench miner {uid}")));
            let hotkey = key.account();
            let options =
                Options { rate_limit: RateLimit { per_second: unlimited, burst: unlimited }, ..Options::default() };
            let subnet = miner::Subnet::new(ROUTE, NETUID, TASK_SCHEMA, RESPONSE_SCHEMA, Trivial)
                .map_err(|error| error.to_string())?;
            let state = MinerState::new(key, options, vec![subnet]).map_err(|error| error.to_string())?;
            state.refresh_metagraphs(&graph).await.map_err(|error| error.to_string())?;
            let listener =
                tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.map_err(|error| error.to_string())?;
            let port = listener.local_addr().map_err(|error| error.to_string())?.port();
            tokio::spawn(miner::serve(listener, miner::router(state), std::future::pending()));
            let uid = u16::try_from(uid).map_err(|_| "too many miners".to_owned())?;
            targets.push(Target {
                uid,
                hotkey,
                axon: Axon { ip: IpAddr::V4(Ipv4Addr::LOCALHOST), port, version: 0, protocol: 0 },
            });
        }
        Ok(targets)
    })
}

/// One timed run of either side.
struct Run {
    rounds: usize,
    elapsed: Duration,
    /// The validator's CPU time over the timed rounds.
    validator_cpu: Option<Duration>,
    /// The miners' CPU time per round (Python: over the warm-up and timed rounds).
    miners_cpu_per_round: Option<Duration>,
    round_ms: Vec<f64>,
    /// The btauth/1 floor: µs to sign one request and verify one answer, on one thread.
    crypto_us: f64,
}

impl Run {
    fn rate(&self) -> f64 {
        self.rounds as f64 / self.elapsed.as_secs_f64()
    }

    fn validator_cpu_ms_per_round(&self) -> Option<f64> {
        Some(self.validator_cpu?.as_secs_f64() * 1000.0 / self.rounds as f64)
    }

    fn median_round_ms(&self) -> f64 {
        median(self.round_ms.clone())
    }
}

/// Rounds of ours, tagged `{label}-{index}`; every answer must be ok.
async fn our_rounds(
    client: &MinerClient,
    targets: &[Target],
    accept: &(dyn Fn(&[u8]) -> bool + Sync),
    label: &str,
    min_rounds: usize,
    seconds: Duration,
) -> Result<(usize, Duration, Vec<f64>), String> {
    let start = Instant::now();
    let mut round_ms = Vec::new();
    let mut rounds = 0;
    while rounds < min_rounds || start.elapsed() < seconds {
        let round_start = Instant::now();
        let tag = format!("{label}-{rounds}");
        let responses = client.query(ROUTE, &tag, targets, TASK, TIMEOUT, accept).await;
        round_ms.push(round_start.elapsed().as_secs_f64() * 1000.0);
        if let Some(bad) = responses.iter().find(|response| response.outcome != Outcome::Ok) {
            let failed = responses.iter().filter(|response| response.outcome != Outcome::Ok).count();
            return Err(format!(
                "ours, round {tag}: {failed} of {} answers not ok (uid {}: {:?}); the comparison is void",
                responses.len(),
                bad.uid,
                bad.outcome
            ));
        }
        rounds += 1;
    }
    Ok((rounds, start.elapsed(), round_ms))
}

fn run_ours(
    runtime: &tokio::runtime::Runtime,
    client: &Arc<MinerClient>,
    targets: &Arc<Vec<Target>>,
    label: &str,
    rounds: usize,
    seconds: Duration,
) -> Result<Run, String> {
    let schema: serde_json::Value = serde_json::from_str(RESPONSE_SCHEMA).map_err(|error| error.to_string())?;
    let schema = jsonschema::validator_for(&schema).map_err(|error| error.to_string())?;
    let (client, targets, label) = (Arc::clone(client), Arc::clone(targets), label.to_owned());
    let keypair = client.keypair().clone();
    let validator_before = threads_cpu(VALIDATOR_THREADS);
    let miners_before = threads_cpu(MINERS_THREADS);
    // A task on the validator's runtime, as the validator's round runs.
    let (rounds, elapsed, round_ms) = runtime
        .block_on(runtime.spawn(async move {
            let accept = move |body: &[u8]| {
                serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|value| schema.is_valid(&value))
            };
            our_rounds(&client, &targets, &accept, &label, rounds, seconds).await
        }))
        .map_err(|error| error.to_string())??;
    let validator_cpu = cpu_delta(validator_before, threads_cpu(VALIDATOR_THREADS));
    let miners_cpu_per_round = cpu_delta(miners_before, threads_cpu(MINERS_THREADS))
        .map(|cpu| cpu / u32::try_from(rounds).unwrap_or(u32::MAX));
    let crypto_us = crypto_floor_us(&keypair)?;
    Ok(Run { rounds, elapsed, validator_cpu, miners_cpu_per_round, round_ms, crypto_us })
}

fn run_python(
    python: &Path,
    settings: &Settings,
    validator_seed: &[u8; 32],
    validator: &Keypair,
    targets: &[Target],
    tag: &str,
) -> Result<Run, String> {
    let miners: Vec<serde_json::Value> = targets
        .iter()
        .map(|target| {
            serde_json::json!({
                "uid": target.uid,
                "hotkey": target.hotkey.to_ss58(),
                "host": target.axon.ip.to_string(),
                "port": target.axon.port,
            })
        })
        .collect();
    let config = serde_json::json!({
        "validator_seed": hex::encode(validator_seed),
        "validator": validator.account().to_ss58(),
        "route": ROUTE,
        "body": std::str::from_utf8(TASK).expect("UTF-8"),
        "miners": miners,
        "concurrency": CONCURRENCY,
        "timeout_s": TIMEOUT.as_secs_f64(),
        "warm_up_rounds": settings.warm_up_rounds,
        "seconds": settings.seconds.as_secs_f64(),
        "min_rounds": MIN_ROUNDS,
        "tag": tag,
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/python_validator.py");
    let miners_before = threads_cpu(MINERS_THREADS);
    let mut child = Command::new(python)
        .arg(&script)
        .args(["--loop", &settings.python_loop])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|error| format!("cannot start {}: {error}", script.display()))?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(config.to_string().as_bytes())
        .map_err(|error| format!("cannot write python_validator.py's configuration: {error}"))?;
    let output = child.wait_with_output().map_err(|error| error.to_string())?;
    let miners_cpu = cpu_delta(miners_before, threads_cpu(MINERS_THREADS));
    if !output.status.success() {
        return Err(format!("python_validator.py failed ({})", output.status));
    }
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|error| format!("python_validator.py printed no JSON report: {error}"))?;
    for key in ["outcomes", "warm_up_outcomes"] {
        let outcomes = report[key].as_object().cloned().unwrap_or_default();
        if let Some((outcome, count)) = outcomes.iter().find(|(outcome, _)| outcome.as_str() != "ok") {
            return Err(format!("python, {tag}: {count} answers {outcome} ({key}); the comparison is void"));
        }
    }
    let number = |key: &str| report[key].as_f64().ok_or_else(|| format!("python_validator.py's report has no {key}"));
    let rounds = number("rounds")? as usize;
    let all_rounds = rounds + settings.warm_up_rounds;
    Ok(Run {
        rounds,
        elapsed: Duration::from_secs_f64(number("seconds")?),
        validator_cpu: Some(Duration::from_secs_f64(number("cpu_seconds")?)),
        miners_cpu_per_round: miners_cpu.map(|cpu| cpu / u32::try_from(all_rounds).unwrap_or(u32::MAX)),
        crypto_us: number("crypto_us")?,
        round_ms: report["round_ms"]
            .as_array()
            .map(|values| values.iter().filter_map(serde_json::Value::as_f64).collect())
            .unwrap_or_default(),
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.retain(|value| !value.is_nan());
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn ms(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |value| format!("{value:.1} ms"))
}

fn print_run(turn: usize, side: &str, run: &Run) {
    println!(
        "  turn {turn} {side:<24} {:>7.1} rounds/s  ({} rounds in {:.2} s, round p50 {:.1} ms, validator CPU {} / round, miners CPU {} / round, sign + verify {:.0} µs)",
        run.rate(),
        run.rounds,
        run.elapsed.as_secs_f64(),
        run.median_round_ms(),
        ms(run.validator_cpu_ms_per_round()),
        ms(run.miners_cpu_per_round.map(|cpu| cpu.as_secs_f64() * 1000.0)),
        run.crypto_us,
    );
}

/// Microseconds of btauth/1 work per query, the floor both sides share: signing one request and
/// verifying one signed answer (parsing the answer's headers included), on one thread.
fn crypto_floor_us(validator: &Keypair) -> Result<f64, String> {
    const N: usize = 2000;
    let miner = Keypair::from_seed(CryptoScheme::Sr25519, &seed("subnetkit rounds bench floor miner"));
    let target = "/bench/task?round=floor-0";
    let answer = br#"{"ok":true}"#;
    let now = protocol::btauth::now_ns();
    let answers: Vec<Vec<(String, String)>> = (0..N as u64)
        .map(|i| {
            let request = protocol::btauth::Request { method: "POST", target, body: answer };
            protocol::btauth::sign(&miner, &request, Some(&validator.account()), now + i)
                .map(|headers| headers.to_pairs().into_iter().map(|(name, value)| (name.to_owned(), value)).collect())
                .map_err(|error| error.to_string())
        })
        .collect::<Result<_, _>>()?;
    let verifier = protocol::btauth::Verifier::new(validator.account(), protocol::btauth::VerifierConfig::default());
    let start = Instant::now();
    for pairs in &answers {
        let request = protocol::btauth::Request { method: "POST", target, body: TASK };
        let headers = protocol::btauth::sign(validator, &request, Some(&miner.account()), protocol::btauth::now_ns())
            .map_err(|error| error.to_string())?;
        std::hint::black_box(headers.to_pairs());
        let signed =
            protocol::btauth::Headers::parse(pairs.iter().map(|(name, value)| (name.as_str(), value.as_bytes())))
                .map_err(|error| error.to_string())?;
        let request = protocol::btauth::Request { method: "POST", target, body: answer };
        verifier.verify(&signed, &request, protocol::btauth::now_ns()).map_err(|error| error.to_string())?;
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / N as f64)
}

fn main() -> ExitCode {
    match bench() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn bench() -> Result<(), String> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let settings = Settings::from_env()?;
    // Fail before starting anything if the Python side cannot run.
    let python = find_python()?;

    let validator_seed = seed("subnetkit rounds bench validator");
    let validator_key = Keypair::from_seed(CryptoScheme::Sr25519, &validator_seed);

    let miners_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .thread_name(MINERS_THREADS)
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    let targets = Arc::new(start_miners(&miners_runtime, settings.miners, &validator_key)?);

    let validator_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .thread_name(VALIDATOR_THREADS)
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    let client = validator_runtime.block_on(async {
        Arc::new(MinerClient::new(
            validator_key.clone(),
            QueryLimits { max_in_flight: CONCURRENCY, ..QueryLimits::default() },
        ))
    });

    println!(
        "rounds: {} miners, {} s per run, {} turns, {} warm-up rounds, {cores} cores, python {} ({})",
        targets.len(),
        settings.seconds.as_secs_f64(),
        settings.turns,
        settings.warm_up_rounds,
        python.display(),
        settings.python_loop,
    );
    // Ours warms up once: it keeps its client (and connections) from one turn to the next, as a
    // validator does. Python warms up in each of its runs (a new process each time).
    run_ours(&validator_runtime, &client, &targets, "warm-up", settings.warm_up_rounds, Duration::ZERO)?;

    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for turn in 1..=settings.turns {
        let run = run_ours(&validator_runtime, &client, &targets, &format!("rs{turn}"), MIN_ROUNDS, settings.seconds)?;
        print_run(turn, "subnetkit MinerClient", &run);
        ours.push(run);
        let run = run_python(&python, &settings, &validator_seed, &validator_key, &targets, &format!("py{turn}"))?;
        print_run(turn, "Python http_auth+aiohttp", &run);
        theirs.push(run);
    }

    let rates = |runs: &[Run]| median(runs.iter().map(Run::rate).collect());
    let round_ms = |runs: &[Run]| median(runs.iter().map(Run::median_round_ms).collect());
    let cpu =
        |runs: &[Run]| median(runs.iter().map(|run| run.validator_cpu_ms_per_round().unwrap_or(f64::NAN)).collect());
    let miners_cpu = |runs: &[Run]| {
        median(
            runs.iter()
                .map(|run| run.miners_cpu_per_round.map_or(f64::NAN, |cpu| cpu.as_secs_f64() * 1000.0))
                .collect(),
        )
    };
    let per_turn: Vec<f64> = ours.iter().zip(&theirs).map(|(ours, theirs)| ours.rate() / theirs.rate()).collect();
    let low = per_turn.iter().copied().fold(f64::INFINITY, f64::min);
    let high = per_turn.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    println!();
    println!(
        "| validator ({} miners) | rounds/s (median of {} runs) | round p50 | validator CPU / round | miners CPU / round | sign + verify, one query |",
        targets.len(),
        settings.turns
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (name, runs) in [("subnetkit `MinerClient::query`", &ours), ("Python `http_auth` + aiohttp", &theirs)] {
        println!(
            "| {name} | {:.1} | {:.1} ms | {:.1} ms | {:.1} ms | {:.0} µs |",
            rates(runs),
            round_ms(runs),
            cpu(runs),
            miners_cpu(runs),
            median(runs.iter().map(|run| run.crypto_us).collect())
        );
    }
    let ratio = rates(&ours) / rates(&theirs);
    println!();
    println!(
        "rounds/s ratio (ours ÷ Python): {ratio:.1}× (per turn {low:.1}–{high:.1}×); validator CPU per round ratio: {:.1}×; target ≥ 10×: {}",
        cpu(&theirs) / cpu(&ours),
        if ratio >= 10.0 { "met" } else { "not met" }
    );
    // The miners are stopped with their runtime.
    miners_runtime.shutdown_background();
    validator_runtime.shutdown_background();
    Ok(())
}
