//! Verified requests per second: our miner against the Python stack's equivalent, side by side on
//! one machine, over loopback.
//!
//! - **Ours**: `miner::router` served by `miner::serve` (this benchmark is built with the bench
//!   profile, i.e. release), a trivial miner answering `{"ok": true}`, the test validator
//!   registered with a permit through a `FileSource` metagraph, the per-caller rate limit, the
//!   unauthenticated-request cap and the queue raised out of the way. Every request still goes
//!   the whole pipeline: btauth/1 (sr25519 verify), authorisation, replay record, rate limit,
//!   task schema, queue, miner, response schema, and an sr25519-signed response.
//! - **Python**: `tests/interop/fastapi_miner.py` (FastAPI on uvicorn with uvloop and httptools,
//!   `bittensor.http_auth.verify`, an allow-list lookup, JSON parse, the same trivial answer signed
//!   with `bittensor.http_auth.sign`), with 1 worker and with one worker per core.
//!
//! The load generator is Rust (tokio and hyper's HTTP/1 client): N keep-alive connections, each
//! sending its next request as soon as the last is answered. Every request is signed by the test
//! validator with a unique nonce, but *before* each measured run, on all cores, so that signing
//! does not compete with the servers for the CPU: a warm-up run estimates each server's rate, the
//! pool for the measured run is sized from it, and a run that exhausts its pool ends early (it
//! reports the rate over the time it ran). So that signing plus the run fits the freshness window
//! on a slow machine, both servers accept nonces up to 30 s old instead of 10 s (the same setting
//! on both; it only makes our replay store hold more entries). Each target runs for a fixed time
//! per round, in turn, for several rounds.
//!
//! Settings (environment): `SUBNETKIT_BENCH_SECONDS` (5), `SUBNETKIT_BENCH_CONNECTIONS` (64),
//! `SUBNETKIT_BENCH_ROUNDS` (2), `SUBNETKIT_BENCH_PYTHON_WORKERS` (`1,<cores>`), and the Python
//! interpreter as the interop test finds it (`SUBNETKIT_PYTHON`, else `target/py-interop`; run
//! `scripts/setup-python.sh`).
//!
//! `cargo bench -p miner --bench verified_rps`

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use miner::{
    AuthConfig, FileSource, Metagraph, Miner, MinerError, MinerState, Neuron, Options, RateLimit, Subnet, Task,
};
use protocol::btauth::{self, Verifier, VerifierConfig};
use protocol::{AccountId, Keypair};

#[path = "../tests/interop/python.rs"]
mod python;

const NETUID: u16 = 1;
const ROUTE: &str = "/bench/task";
const TASK: &[u8] = br#"{"x":1}"#;
const OBJECT_SCHEMA: &str = r#"{ "type": "object" }"#;
/// How long a warm-up run lasts.
const WARM_UP: Duration = Duration::from_secs(1);
/// Requests signed for a warm-up run.
const WARM_UP_POOL: usize = 30_000;
/// The servers' freshness window in this benchmark (both of them).
const MAX_AGE: Duration = Duration::from_secs(30);
/// Signing and running must finish inside the freshness window, with a margin.
const FRESHNESS_BUDGET: Duration = Duration::from_secs(27);

/// The trivial handler.
struct Trivial;

impl Miner for Trivial {
    async fn handle(&self, _task: Task) -> Result<serde_json::Value, MinerError> {
        Ok(serde_json::json!({ "ok": true }))
    }
}

struct Settings {
    seconds: Duration,
    connections: usize,
    rounds: usize,
    python_workers: Vec<usize>,
}

impl Settings {
    fn from_env(cores: usize) -> Result<Settings, String> {
        fn var<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
            match std::env::var(name) {
                Ok(text) => text.trim().parse().map_err(|_| format!("{name}={text:?} is not a valid number")),
                Err(_) => Ok(default),
            }
        }
        let seconds: f64 = var("SUBNETKIT_BENCH_SECONDS", 5.0)?;
        if !(0.5..=15.0).contains(&seconds) {
            return Err("SUBNETKIT_BENCH_SECONDS must be 0.5 to 15 (requests are signed before each run and \
                        must stay inside the 30 s freshness window)"
                .to_owned());
        }
        let connections = var("SUBNETKIT_BENCH_CONNECTIONS", 64usize)?.clamp(1, 1000);
        let rounds = var("SUBNETKIT_BENCH_ROUNDS", 2usize)?.max(1);
        let mut python_workers = match std::env::var("SUBNETKIT_BENCH_PYTHON_WORKERS") {
            Ok(text) => text
                .split(',')
                .map(|part| part.trim().parse::<usize>().ok().filter(|&n| n > 0))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| format!("SUBNETKIT_BENCH_PYTHON_WORKERS={text:?} is not a list of counts"))?,
            Err(_) => vec![1, cores],
        };
        python_workers.dedup();
        Ok(Settings { seconds: Duration::from_secs_f64(seconds), connections, rounds, python_workers })
    }
}

/// A server under test.
struct Target {
    name: String,
    addr: SocketAddr,
    /// Requests per second seen so far (sizes the pool of pre-signed requests).
    rate_estimate: f64,
    runs: Vec<Run>,
}

/// One measured run.
#[derive(Debug, Clone)]
struct Run {
    ok: u64,
    refused: u64,
    errors: u64,
    elapsed: Duration,
    exhausted: bool,
    latencies_us: Vec<u32>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let index = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.latencies_us[index]) / 1000.0
    }
}

/// The signer: the test validator, signing for the miner's hotkey with strictly increasing nonces.
struct Signer {
    validator: Keypair,
    miner: AccountId,
    last_nonce: AtomicU64,
}

impl Signer {
    /// A unique nonce: the current time, or one more than the last nonce if the clock has not moved.
    fn nonce(&self) -> u64 {
        let now = btauth::now_ns();
        let previous = self
            .last_nonce
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| Some(now.max(last + 1)))
            .expect("the closure always returns Some");
        now.max(previous + 1)
    }

    fn request(&self, addr: SocketAddr) -> Request<Full<Bytes>> {
        let request = btauth::Request { method: "POST", target: ROUTE, body: TASK };
        let headers =
            btauth::sign(&self.validator, &request, Some(&self.miner), self.nonce()).expect("the request signs");
        let mut builder = Request::post(ROUTE)
            .header(hyper::header::HOST, addr.to_string())
            .header(hyper::header::CONTENT_TYPE, "application/json");
        for (name, value) in headers.to_pairs() {
            builder = builder.header(name, value);
        }
        builder.body(Full::new(Bytes::from_static(TASK))).expect("a valid request")
    }

    /// `count` signed requests dealt round-robin to `connections` queues, signed on every core.
    fn presign(
        &self,
        addr: SocketAddr,
        count: usize,
        connections: usize,
        threads: usize,
    ) -> Vec<Vec<Request<Full<Bytes>>>> {
        let per_thread = count.div_ceil(threads);
        let signed: Vec<Vec<Request<Full<Bytes>>>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|thread| {
                    let n = per_thread.min(count.saturating_sub(thread * per_thread));
                    scope.spawn(move || (0..n).map(|_| self.request(addr)).collect::<Vec<_>>())
                })
                .collect();
            workers.into_iter().map(|worker| worker.join().expect("signing does not panic")).collect()
        });
        let mut queues: Vec<Vec<Request<Full<Bytes>>>> = (0..connections).map(|_| Vec::new()).collect();
        for (index, request) in signed.into_iter().flatten().enumerate() {
            queues[index % connections].push(request);
        }
        // Each connection pops from the end: reverse so it sends its oldest first.
        for queue in &mut queues {
            queue.reverse();
        }
        queues
    }
}

/// What one connection saw.
#[derive(Default)]
struct ConnectionTally {
    ok: u64,
    refused: u64,
    errors: u64,
    exhausted: bool,
    last_done: Option<Instant>,
    latencies_us: Vec<u32>,
}

async fn connect(addr: SocketAddr) -> std::io::Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(std::io::Error::other)?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// Sends `queue`'s requests one after another on one keep-alive connection until `end`.
async fn drive(addr: SocketAddr, mut queue: Vec<Request<Full<Bytes>>>, end: Instant) -> ConnectionTally {
    let mut tally = ConnectionTally { latencies_us: Vec::with_capacity(queue.len()), ..ConnectionTally::default() };
    let mut sender = None;
    while Instant::now() < end {
        let Some(request) = queue.pop() else {
            tally.exhausted = true;
            break;
        };
        if sender.is_none() {
            match connect(addr).await {
                Ok(connected) => sender = Some(connected),
                Err(_) => {
                    tally.errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let connection = sender.as_mut().expect("connected above");
        let started = Instant::now();
        let outcome = async {
            connection.ready().await?;
            let response = connection.send_request(request).await?;
            let status = response.status();
            response.into_body().collect().await?;
            Ok::<StatusCode, hyper::Error>(status)
        }
        .await;
        let done = Instant::now();
        match outcome {
            Ok(status) if done <= end => {
                if status == StatusCode::OK {
                    tally.ok += 1;
                    let micros = done.duration_since(started).as_micros();
                    tally.latencies_us.push(u32::try_from(micros).unwrap_or(u32::MAX));
                } else {
                    tally.refused += 1;
                }
                tally.last_done = Some(done);
            }
            // Answered after the end of the run: not counted.
            Ok(_) => {}
            Err(_) => {
                tally.errors += 1;
                sender = None;
            }
        }
    }
    tally
}

/// One run against `addr` with `pool` pre-signed requests, for at most `duration`.
fn run(
    runtime: &tokio::runtime::Runtime,
    signer: &Signer,
    addr: SocketAddr,
    pool: usize,
    duration: Duration,
    settings: &Settings,
    threads: usize,
) -> Run {
    let signing = Instant::now();
    let queues = signer.presign(addr, pool, settings.connections, threads);
    let signing = signing.elapsed();
    if signing + duration > FRESHNESS_BUDGET {
        eprintln!(
            "warning: signing {pool} requests took {signing:.1?}; with a {duration:?} run the last ones may be stale"
        );
    }
    runtime.block_on(async {
        let start = Instant::now();
        let end = start + duration;
        let connections: Vec<_> = queues.into_iter().map(|queue| tokio::spawn(drive(addr, queue, end))).collect();
        let mut total =
            Run { ok: 0, refused: 0, errors: 0, elapsed: Duration::ZERO, exhausted: false, latencies_us: Vec::new() };
        let mut last_done = start;
        for connection in connections {
            let tally = connection.await.expect("a connection task does not panic");
            total.ok += tally.ok;
            total.refused += tally.refused;
            total.errors += tally.errors;
            total.exhausted |= tally.exhausted;
            total.latencies_us.extend(tally.latencies_us);
            last_done = last_done.max(tally.last_done.unwrap_or(start));
        }
        // A run that ran out of requests is timed to its last answer.
        total.elapsed = if total.exhausted { last_done.duration_since(start) } else { duration };
        total.elapsed = total.elapsed.max(Duration::from_millis(1));
        total.latencies_us.sort_unstable();
        total
    })
}

/// Sends one signed task to `addr` and checks that the answer is 200 and signed by the miner for
/// the validator (off the measured path: a benchmark of a server that answers wrongly is void).
fn check_answer(runtime: &tokio::runtime::Runtime, signer: &Signer, addr: SocketAddr) -> Result<(), String> {
    runtime.block_on(async {
        let mut sender = connect(addr).await.map_err(|error| format!("cannot connect: {error}"))?;
        let response = sender.send_request(signer.request(addr)).await.map_err(|error| error.to_string())?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(|error| error.to_string())?.to_bytes();
        if parts.status != StatusCode::OK {
            return Err(format!("answered {}: {}", parts.status, String::from_utf8_lossy(&body)));
        }
        let verifier = Verifier::new(signer.validator.account(), VerifierConfig::default());
        let headers = parts.headers.iter().map(|(name, value)| (name.as_str(), value.as_bytes()));
        let request = btauth::Request { method: "POST", target: ROUTE, body: &body };
        let caller =
            verifier.verify_pairs_now(headers, &request).map_err(|error| format!("answer not signed: {error}"))?;
        if caller.hotkey != signer.miner {
            return Err(format!("answer signed by {}, not the miner", caller.hotkey));
        }
        Ok(())
    })
}

/// A Python miner process (and its uvicorn workers, in a process group of their own).
struct PythonMiner {
    child: Child,
}

impl PythonMiner {
    fn start(
        python: &Path,
        wallets: &Path,
        workers: usize,
        validator: &AccountId,
    ) -> Result<(PythonMiner, SocketAddr), String> {
        use std::os::unix::process::CommandExt;
        // A free port: bind, read it, release it for uvicorn.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|error| format!("no free port: {error}"))?;
        let child = Command::new(python)
            .arg(python::interop_dir().join("fastapi_miner.py"))
            // No __pycache__ left in the source tree.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .args(["--port", &addr.port().to_string(), "--workers", &workers.to_string()])
            .arg("--wallet-path")
            .arg(wallets)
            .args(["--wallet", "miner", "--hotkey", "default", "--validator", &validator.to_ss58()])
            .args(["--max-age", &MAX_AGE.as_secs().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .map_err(|error| format!("cannot start fastapi_miner.py: {error}"))?;
        Ok((PythonMiner { child }, addr))
    }

    fn signal_group(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for PythonMiner {
    fn drop(&mut self) {
        // SIGTERM lets uvicorn stop its workers; SIGKILL the group if it has not within 5 s.
        self.signal_group("-TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                // The workers may outlive the supervisor by a moment.
                std::thread::sleep(Duration::from_millis(200));
                self.signal_group("-KILL");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.signal_group("-KILL");
        let _ = self.child.wait();
    }
}

/// Waits until `addr` answers `GET /health` with 200.
fn wait_healthy(runtime: &tokio::runtime::Runtime, addr: SocketAddr, within: Duration) -> Result<(), String> {
    runtime.block_on(async {
        let deadline = Instant::now() + within;
        loop {
            let attempt = async {
                let mut sender = connect(addr).await.ok()?;
                let request = Request::get("/health")
                    .header(hyper::header::HOST, addr.to_string())
                    .body(Full::new(Bytes::new()))
                    .ok()?;
                let response = sender.send_request(request).await.ok()?;
                (response.status() == StatusCode::OK).then_some(())
            };
            if attempt.await.is_some() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("{addr} did not become healthy within {within:?}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

fn load_key(wallets: &Path, name: &str) -> Result<Keypair, String> {
    protocol::wallet::load_hotkey(wallets, name, "default").map_err(|error| format!("wallet {name}: {error}"))
}

fn median(mut values: Vec<f64>) -> f64 {
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
    let settings = Settings::from_env(cores)?;
    let python = python::find_python()?;
    let wallets: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/wallets");
    let miner_key = load_key(&wallets, "miner")?;
    let validator_key = load_key(&wallets, "validator")?;
    let signer = Signer { validator: validator_key.clone(), miner: miner_key.account(), last_nonce: AtomicU64::new(0) };

    // Our miner, on a runtime of its own with a worker per core (as `#[tokio::main]` would).
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .thread_name("miner")
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    let unlimited = NonZeroU32::new(1_000_000_000).expect("non-zero");
    let options = Options {
        max_unauthenticated: 4096,
        rate_limit: RateLimit { per_second: unlimited, burst: unlimited },
        // Every nonce lives 30 s in the replay store: room for over 100k requests/s.
        auth: AuthConfig { max_age: MAX_AGE, replay_capacity: 1 << 22, ..AuthConfig::default() },
        ..Options::default()
    };
    let subnet = Subnet::new("bench", NETUID, OBJECT_SCHEMA, OBJECT_SCHEMA, Trivial)
        .and_then(|subnet| subnet.with_queue(1024, 4096))
        .map_err(|error| error.to_string())?;
    let state = MinerState::new(miner_key.clone(), options, vec![subnet]).map_err(|error| error.to_string())?;
    let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
    let metagraph_path = dir.path().join("metagraph.json");
    let graphs = vec![Metagraph {
        netuid: NETUID,
        neurons: vec![Neuron { uid: 0, hotkey: validator_key.account(), stake: 1_000_000, validator_permit: true }],
    }];
    std::fs::write(&metagraph_path, serde_json::to_vec(&graphs).map_err(|error| error.to_string())?)
        .map_err(|error| error.to_string())?;
    let (ours_addr, _stop_ours) = server_runtime.block_on(async {
        state.refresh_metagraphs(&FileSource::new(&metagraph_path)).await.map_err(|error| error.to_string())?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|error| error.to_string())?;
        let addr = listener.local_addr().map_err(|error| error.to_string())?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(miner::serve(listener, miner::router(state.clone()), async move {
            let _ = stopped.await;
        }));
        Ok::<_, String>((addr, stop))
    })?;

    // The load generator's runtime.
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .thread_name("load")
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;

    let mut targets =
        vec![Target { name: "subnetkit miner".to_owned(), addr: ours_addr, rate_estimate: 0.0, runs: Vec::new() }];
    let mut python_miners = Vec::new();
    for &workers in &settings.python_workers {
        let (process, addr) = PythonMiner::start(&python, &wallets, workers, &validator_key.account())?;
        python_miners.push(process);
        wait_healthy(&client_runtime, addr, Duration::from_secs(60))?;
        let plural = if workers == 1 { "" } else { "s" };
        targets.push(Target {
            name: format!("FastAPI + http_auth, {workers} worker{plural}"),
            addr,
            rate_estimate: 0.0,
            runs: Vec::new(),
        });
    }

    println!(
        "verified_rps: {} s per run, {} connections, {} rounds, {cores} cores, python {}",
        settings.seconds.as_secs_f64(),
        settings.connections,
        settings.rounds,
        python.display()
    );
    for target in &mut targets {
        check_answer(&client_runtime, &signer, target.addr).map_err(|error| format!("{}: {error}", target.name))?;
        let warm = run(&client_runtime, &signer, target.addr, WARM_UP_POOL, WARM_UP, &settings, cores);
        target.rate_estimate = warm.rate();
        println!("  warm-up {:<34} {:>9.0} req/s", target.name, warm.rate());
    }

    for round in 1..=settings.rounds {
        for target in &mut targets {
            let pool =
                (target.rate_estimate * settings.seconds.as_secs_f64() * 2.0) as usize + 10 * settings.connections;
            let result = run(&client_runtime, &signer, target.addr, pool, settings.seconds, &settings, cores);
            println!(
                "  round {round} {:<34} {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ok {:>8}  refused {}  errors {}{}",
                target.name,
                result.rate(),
                result.percentile_ms(0.50),
                result.percentile_ms(0.99),
                result.ok,
                result.refused,
                result.errors,
                if result.exhausted { "  (pool exhausted: timed to the last answer)" } else { "" }
            );
            if result.refused > 0 || result.errors > 0 {
                return Err(format!(
                    "{}: {} requests refused and {} failed; the comparison is void",
                    target.name, result.refused, result.errors
                ));
            }
            target.rate_estimate = target.rate_estimate.max(result.rate());
            target.runs.push(result);
        }
    }

    // The table for docs/BENCHMARKS.md: medians over the rounds.
    let ours = median(targets[0].runs.iter().map(Run::rate).collect());
    println!();
    println!("| server | verified req/s (median of {} runs) | p50 | p99 | ours ÷ this |", settings.rounds);
    println!("| --- | ---: | ---: | ---: | ---: |");
    for target in &targets {
        let rate = median(target.runs.iter().map(Run::rate).collect());
        let p50 = median(target.runs.iter().map(|run| run.percentile_ms(0.50)).collect());
        let p99 = median(target.runs.iter().map(|run| run.percentile_ms(0.99)).collect());
        println!("| {} | {rate:.0} | {p50:.2} ms | {p99:.2} ms | {:.1}× |", target.name, ours / rate);
    }
    drop(python_miners);
    Ok(())
}
