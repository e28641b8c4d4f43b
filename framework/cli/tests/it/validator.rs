//! `subnetkit validator run` against `subnetkit localnet`, killed with SIGKILL mid-run and
//! restarted; `validator replay` on what it stored; and its refusals of bad config files.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chain::{Axon, Chain as _};
use validator::Store;

use crate::localnet::{Chain, init, key};
use crate::{EXIT_BAD_INPUT, EXIT_MISMATCH, run, subnetkit};

/// The test wallets (copied from `framework/protocol/tests/data/wallets`).
fn wallets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/wallets")
}

pub(crate) fn validator_key() -> protocol::Keypair {
    protocol::wallet::load_hotkey(&wallets(), "validator", "default").expect("test wallet")
}

/// Adds `a + b`, as the `good` test plugin asks, after a delay that depends on the task and on
/// `salt`: rounds take a while (a kill can land inside one), and which miner is fastest, so
/// each one's score, changes from round to round.
struct Adder {
    salt: u64,
}

impl miner::Miner for Adder {
    async fn handle(&self, task: miner::Task) -> Result<serde_json::Value, miner::MinerError> {
        let a = task.body["a"].as_u64().ok_or("no a")?;
        let b = task.body["b"].as_u64().ok_or("no b")?;
        tokio::time::sleep(Duration::from_millis(5 + (a + self.salt * 7_919) % 41)).await;
        Ok(serde_json::json!({ "sum": a + b }))
    }
}

/// Serves an [`Adder`] as `hotkey` on 127.0.0.2 for subnet 1 and publishes its axon on `client`'s
/// chain.
pub(crate) async fn serve_miner<C: chain::Chain + 'static>(
    client: &Arc<C>,
    hotkey: protocol::Keypair,
    salt: u64,
) -> miner::RefreshTask {
    let subnet = miner::Subnet::new("good", 1, "true", "true", Adder { salt }).expect("subnet");
    let state = miner::MinerState::new(hotkey.clone(), miner_options(), vec![subnet]).expect("state");
    let source = miner::ChainSource::new(Arc::clone(client));
    state.refresh_metagraphs(&source).await.expect("metagraph");
    let refresh = state.spawn_metagraph_refresh(source, Duration::from_millis(500));
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, 2), 0))).await.expect("listen");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        let _ = miner::serve(listener, miner::router(state), std::future::pending()).await;
    });
    client
        .serve_axon(&hotkey, 1, &Axon::http(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), port))
        .await
        .expect("publish the axon");
    refresh
}

/// Writes `validator.toml` in `dir`: the test wallet `validator`, `chain`, a SQLite database in
/// `dir`, and subnet 1 with the `good` test plugin, alpha 0.5 and the `subnet` lines given.
/// Returns the config's path and the database URL.
pub(crate) fn write_config(dir: &Path, chain: &str, subnet: &str) -> (PathBuf, String) {
    let database = format!("sqlite://{}", dir.join("validator.sqlite").display());
    let config = dir.join("validator.toml");
    std::fs::write(
        &config,
        format!(
            "wallet = \"validator\"\nhotkey = \"default\"\nwallet_path = {wallets:?}\nchain = {chain:?}\n\
             database = {database:?}\n\n[[subnet]]\nnetuid = 1\nplugin = {plugin:?}\nalpha = 0.5\n{subnet}",
            wallets = wallets().display().to_string(),
            plugin = test_plugins::GOOD,
        ),
    )
    .expect("write the config");
    (config, database)
}

/// A running `subnetkit validator run`, killed on drop.
pub(crate) struct Validator {
    child: Child,
}

impl Validator {
    pub(crate) fn start(config: &Path, scratch: &Path) -> Validator {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(scratch.join("validator.log"))
            .expect("log file");
        let child = Command::new(subnetkit().get_program())
            .args(["validator", "run", "--config"])
            .arg(config)
            .env("XDG_CACHE_HOME", scratch.join("cache"))
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("subnetkit starts");
        Validator { child }
    }

    /// SIGKILL: no shutdown code runs.
    fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }

    /// Sends `signal` (`STOP`, `CONT`, `TERM`) with `kill`.
    fn signal(&self, signal: &str) {
        let sent = Command::new("kill").args([&format!("-{signal}"), &self.child.id().to_string()]).status();
        assert!(sent.expect("kill runs").success());
    }

    /// Tries for up to 3 s to stop the process (SIGSTOP) while a round it stored is not yet
    /// scored; returns whether it did. Otherwise the process is left running.
    async fn freeze_with_a_round_unscored(&self, store: &Store) -> bool {
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if store.unsettled(1).await.expect("unsettled").is_empty() {
                continue;
            }
            self.signal("STOP");
            if !store.unsettled(1).await.expect("unsettled").is_empty() {
                return true;
            }
            self.signal("CONT");
        }
        false
    }

    /// SIGTERM, then the exit status.
    fn terminate(mut self) -> std::process::ExitStatus {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "the validator did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Validator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The number of rounds subnet 1 has stored (indices are gapless, so the first missing one).
async fn stored_rounds(store: &Store, from: u64) -> u64 {
    let mut count = from;
    while store.round(1, count).await.expect("read a round").is_some() {
        count += 1;
    }
    count
}

/// Waits until subnet 1 has at least `count` rounds stored.
async fn wait_for_rounds(store: &Store, count: u64, log: &Path) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut stored = 0;
    loop {
        stored = stored_rounds(store, stored).await;
        if stored >= count {
            return stored;
        }
        assert!(
            Instant::now() < deadline,
            "{stored} of {count} rounds after 30 s; validator log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn a_killed_validator_restarts_without_losing_or_rescoring_a_round() {
    let started = Instant::now();
    let scratch = tempfile::tempdir().expect("temp dir");
    let db = scratch.path().join("chain.sqlite");
    init(scratch.path(), &db);
    // Blocks every 100 ms: an epoch (tempo 9) a second, so weights keep going out.
    let chain = Chain::start(&db, 100);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let client = Arc::new(localnet::Client::new(&chain.url).expect("client"));
    let validator = validator_key();
    let miner_hotkeys = [key(110), key(111), key(112)];
    let _miners = runtime.block_on(async {
        client.register(&key(1), 1, &validator.account()).await.expect("register the validator");
        client.add_stake(&key(1), &validator.account(), 1, 100_000_000_000).await.expect("stake");
        for hotkey in &miner_hotkeys {
            client.register(&key(2), 1, &hotkey.account()).await.expect("register a miner");
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let graph = client.metagraph(1).await.expect("metagraph");
            if graph.neuron(&validator.account()).is_some_and(|neuron| neuron.validator_permit) {
                break;
            }
            assert!(Instant::now() < deadline, "no permit after 10 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut miners = Vec::new();
        for (n, hotkey) in miner_hotkeys.iter().enumerate() {
            miners.push(serve_miner(&client, hotkey.clone(), n as u64).await);
        }
        miners
    });

    let (config, database) = write_config(scratch.path(), &chain.url, "timeout_ms = 2000\nround_interval_ms = 40\n");
    let log = scratch.path().join("validator.log");
    // Opened (and migrated) before the validator, which then finds the schema in place.
    let store = runtime.block_on(Store::connect(&database)).expect("store");

    // Killed five times at varying points of its rounds; each run must add rounds.
    let mut stored = 0;
    let mut recovered = Vec::new();
    for restart in 0..5u64 {
        // Counted before the start: a killed run may have stored more than the last wait saw, and
        // a signal sent before the new process has set up its handlers would kill it outright.
        let before = runtime.block_on(stored_rounds(&store, stored));
        let process = Validator::start(&config, scratch.path());
        stored = runtime.block_on(wait_for_rounds(&store, before + 3, &log));
        if restart % 2 == 0 {
            // Between storing a round and scoring it, if the process can be caught there.
            runtime.block_on(process.freeze_with_a_round_unscored(&store));
        } else {
            std::thread::sleep(Duration::from_millis(7 + 13 * restart));
        }
        process.kill();
        let unscored = runtime.block_on(store.unsettled(1)).expect("unsettled");
        recovered.extend(unscored.iter().map(|round| round.index));
    }
    // And once more, stopped properly.
    let restarted_at = runtime.block_on(client.block()).expect("block");
    let before = runtime.block_on(stored_rounds(&store, stored));
    let process = Validator::start(&config, scratch.path());
    let last = runtime.block_on(wait_for_rounds(&store, before + 3, &log));
    let status = process.terminate();
    assert!(status.success(), "{status:?}");
    assert!(!recovered.is_empty(), "no kill landed between storing a round and scoring it");

    runtime.block_on(async {
        let count = stored_rounds(&store, last).await;
        // Every round readable, gapless, scored exactly once, in index order into the averages.
        let mut per_uid: BTreeMap<u16, (u64, f64)> = BTreeMap::new();
        for index in 0..count {
            let round = store.round(1, index).await.expect("read").unwrap_or_else(|| panic!("round {index} stored"));
            assert_eq!(round.index, index);
            let scores = round.scores.as_ref().unwrap_or_else(|| panic!("round {index} scored"));
            let uids: Vec<u16> = round.responses.iter().map(|response| response.uid).collect();
            assert_eq!(scores.iter().map(|(uid, _)| *uid).collect::<Vec<_>>(), uids, "round {index}: one score each");
            for &(uid, score) in scores {
                let entry = per_uid.entry(uid).or_insert((0, 0.0));
                entry.0 += 1;
                entry.1 = 0.5 * score + 0.5 * entry.1;
            }
        }
        let averages = store.moving_averages(1).await.expect("averages");
        assert_eq!(averages.len(), miner_hotkeys.len(), "{averages:?}");
        for average in &averages {
            let (rounds, score) = per_uid[&average.uid];
            assert_eq!(average.rounds, rounds, "uid {}: {average:?}", average.uid);
            assert_eq!(average.score.to_bits(), score.to_bits(), "uid {}: {average:?}", average.uid);
            assert!(average.score > 0.8, "an honest miner scores: {average:?}");
        }
        let weights = store.last_weights(1).await.expect("read").expect("weights were set");
        assert!(
            weights.outcome.starts_with("ok") && weights.block >= restarted_at,
            "set after the restart: {weights:?}"
        );
        let graph = client.metagraph(1).await.expect("metagraph");
        let own = graph.neuron(&validator.account()).expect("validator");
        assert!(own.last_update >= weights.block, "{own:?}");
    });

    // Replay: the stored plugin reproduces the stored scores bit for bit (also for a round
    // scored after a restart); another plugin does not.
    let replay = |round: u64, plugin: &str| {
        let output = subnetkit()
            .args(["validator", "replay", "--db", &database, "--netuid", "1", "--round", &round.to_string()])
            .args(["--plugin", plugin])
            .env("XDG_CACHE_HOME", scratch.path().join("cache"))
            .output()
            .expect("subnetkit starts");
        crate::outcome(output)
    };
    for round in [0, recovered[0], last - 1] {
        let out = replay(round, test_plugins::GOOD);
        out.assert_code(0);
        assert!(
            out.stdout.contains(r#""identical":true"#) && out.stdout.contains(r#""same_plugin":true"#),
            "round {round}: {}",
            out.stdout
        );
    }
    let out = replay(0, test_plugins::HOSTILE);
    out.assert_code(EXIT_MISMATCH);
    assert!(
        out.stdout.contains(r#""identical":false"#) && out.stdout.contains(r#""same_plugin":false"#),
        "{}",
        out.stdout
    );
    let out = replay(999_999, test_plugins::GOOD);
    out.assert_code(EXIT_BAD_INPUT);
    assert!(out.stderr.starts_with("error: ") && out.stderr.contains("no round 999999"), "{}", out.stderr);

    drop(chain);
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
}

#[test]
fn run_refuses_a_bad_config_with_one_error_line_naming_file_and_field() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let base = "wallet = \"validator\"\nhotkey = \"default\"\nchain = \"http://127.0.0.1:9\"\n";
    let subnet = |netuid: u16, extra: &str| format!("\n[[subnet]]\nnetuid = {netuid}\nplugin = \"p.wasm\"\n{extra}");
    let cases = [
        ("unknown.toml", format!("{base}colour = \"blue\"\n{}", subnet(1, "")), "colour"),
        ("unknown-in-subnet.toml", format!("{base}{}", subnet(1, "sample = 3\n")), "sample"),
        ("duplicate.toml", format!("{base}{}{}", subnet(1, ""), subnet(1, "")), "subnet[1].netuid"),
        ("sha.toml", format!("{base}{}{}", subnet(1, ""), subnet(2, "sha256 = \"abc\"\n")), "subnet[1].sha256"),
        ("alpha.toml", format!("{base}{}", subnet(1, "alpha = 1.5\n")), "subnet[0].alpha"),
        ("empty.toml", base.to_owned(), "subnet"),
    ];
    for (name, text, field) in cases {
        let path = scratch.path().join(name);
        std::fs::write(&path, text).expect("write");
        let out = run(&["validator", "run", "--config", path.to_str().expect("UTF-8 path")]);
        out.assert_code(EXIT_BAD_INPUT);
        assert_eq!(out.stderr.lines().count(), 1, "{name}: {}", out.stderr);
        assert!(out.stderr.starts_with("error: "), "{name}: {}", out.stderr);
        assert!(out.stderr.contains(name) && out.stderr.contains(field), "{name}: {field:?} in {}", out.stderr);
        assert!(out.stdout.is_empty(), "{name}: {}", out.stdout);
    }
    let missing = scratch.path().join("missing.toml");
    let out = run(&["validator", "run", "--config", missing.to_str().expect("UTF-8 path")]);
    out.assert_code(EXIT_BAD_INPUT);
    assert!(out.stderr.contains("missing.toml"), "{}", out.stderr);
}

/// The server's defaults, with a rate limit no test round rate reaches.
fn miner_options() -> miner::Options {
    let many = std::num::NonZeroU32::new(10_000).expect("not zero");
    miner::Options { rate_limit: miner::RateLimit { per_second: many, burst: many }, ..miner::Options::default() }
}
