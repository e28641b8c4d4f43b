//! `subnetkit miner new` and `miner run`.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use protocol::btauth;

use crate::{EXIT_BAD_INPUT, run, subnetkit};

const TEMPLATES: [&str; 3] = ["price-prediction", "image-aesthetics", "text-generation"];

/// The test wallets (copied from `framework/protocol/tests/data/wallets`).
fn wallets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/wallets")
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

#[test]
fn new_copies_each_template_as_a_standalone_crate() {
    let scratch = tempfile::tempdir().expect("temp dir");
    for template in TEMPLATES {
        let dir = scratch.path().join(template);
        let out = run(&["miner", "new", "--template", template, path_str(&dir)]);
        out.assert_code(0);
        assert_eq!(out.stdout.trim(), path_str(&dir));
        for file in ["Cargo.toml", "Cargo.lock", "README.md", "src/lib.rs", "tests/it/main.rs"] {
            assert!(dir.join(file).is_file(), "{template}: {file} missing");
        }
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
        assert!(!manifest.contains("workspace = true") && !manifest.contains(".workspace"), "{manifest}");
        assert!(manifest.contains("\n[workspace]\n"), "{manifest}");
        assert!(manifest.contains(&format!("name = \"miner-{template}\"")), "{manifest}");
        // Path dependencies point at this source tree, absolutely.
        let miner = Path::new(env!("CARGO_MANIFEST_DIR")).join("../miner").canonicalize().expect("miner crate");
        assert!(manifest.contains(&format!("miner = {{ path = \"{}\" }}", miner.display())), "{manifest}");
        assert!(manifest.contains("[lints.rust]"), "{manifest}");

        // A directory that is not empty is refused.
        let again = run(&["miner", "new", "--template", template, path_str(&dir)]);
        again.assert_code(EXIT_BAD_INPUT);
        assert_eq!(again.stderr.lines().count(), 1, "{}", again.stderr);
        assert!(again.stderr.starts_with("error: ") && again.stderr.contains("not empty"), "{}", again.stderr);
    }
    let unknown = run(&["miner", "new", "--template", "weather", path_str(&scratch.path().join("w"))]);
    unknown.assert_code(EXIT_BAD_INPUT);
    assert_eq!(
        unknown.stderr,
        "error: unknown template `weather` (known: price-prediction, image-aesthetics, text-generation)\n"
    );
}

/// One generated crate type-checks on its own, offline, with the versions of this tree's lock
/// file (about a minute with a warm target directory).
#[test]
fn a_generated_crate_checks_offline() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path().join("my-miner");
    run(&["miner", "new", "--template", "price-prediction", path_str(&dir)]).assert_code(0);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["check", "--offline", "--all-targets", "--quiet"])
        .current_dir(&dir)
        .output()
        .expect("cargo starts");
    assert!(output.status.success(), "cargo check failed:\n{}", String::from_utf8_lossy(&output.stderr));
}

/// A running `subnetkit miner run`, killed on drop.
pub(crate) struct Running {
    child: Child,
    address: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Running {
    let mut child = Command::new(subnetkit().get_program())
        .args(args)
        .stdout(Stdio::piped())
        // Shown with the test's output when it fails.
        .stderr(Stdio::inherit())
        .spawn()
        .expect("subnetkit starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("reads the address");
    let address = line.trim().to_owned();
    assert!(address.starts_with("127.0.0.1:") && !address.ends_with(":0"), "first line: {line:?}");
    Running { child, address }
}

pub(crate) fn account(wallet: &str) -> protocol::Keypair {
    protocol::wallet::load_hotkey(&wallets(), wallet, "default").expect("test wallet")
}

fn metagraph(dir: &Path) -> PathBuf {
    let graph = serde_json::json!([{"netuid": 11, "neurons": [
        {"uid": 0, "hotkey": account("validator").account().to_ss58(), "stake": 1_000_000, "validator_permit": true},
        {"uid": 1, "hotkey": account("miner").account().to_ss58(), "stake": 0, "validator_permit": false},
    ]}]);
    let path = dir.join("metagraph.json");
    std::fs::write(&path, serde_json::to_vec(&graph).expect("JSON")).expect("write metagraph");
    path
}

/// A price-prediction task with 120 candles.
fn price_task() -> serde_json::Value {
    let interval = 14_400_000_u64;
    let candles: Vec<serde_json::Value> = (0..120_u64)
        .map(|i| {
            let close = 90_000.0 + 500.0 * ((i as f64) / 7.0).sin();
            serde_json::json!({"open_time_ms": 1_760_000_000_000 + i * interval, "open": close, "high": close + 100.0,
                "low": close - 100.0, "close": close, "volume": 10.0})
        })
        .collect();
    serde_json::json!({"task_id": "BTC-USDT-test", "pair": "BTC-USDT", "interval_ms": interval, "candles": candles,
        "horizon": 6, "first_open_ms": 1_760_000_000_000 + 120 * interval, "coverage": 0.8})
}

#[test]
fn run_serves_health_and_answers_a_signed_task() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let graph = metagraph(scratch.path());
    let config = scratch.path().join("config.json");
    std::fs::write(&config, r#"{"forecaster": {"method": "drift", "lookback": 30}}"#).expect("write config");
    let miner = start(&[
        "miner",
        "run",
        "--subnet",
        "price-prediction",
        "--wallet",
        "miner",
        "--hotkey",
        "default",
        "--wallet-path",
        path_str(&wallets()),
        "--listen",
        "127.0.0.1:0",
        "--metagraph",
        path_str(&graph),
        "--config",
        path_str(&config),
    ]);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let health: serde_json::Value = serde_json::from_slice(
            &client
                .get(format!("http://{}/health", miner.address))
                .send()
                .await
                .expect("health")
                .bytes()
                .await
                .expect("body"),
        )
        .expect("JSON");
        assert_eq!(health["status"], "ok");
        assert_eq!(health["hotkey"], account("miner").account().to_ss58());
        assert_eq!(health["subnets"][0]["netuid"], 11);

        let body = serde_json::to_vec(&price_task()).expect("JSON");
        let target = "/price-prediction/task";
        let request = btauth::Request { method: "POST", target, body: &body };
        let headers =
            btauth::sign(&account("validator"), &request, Some(&account("miner").account()), btauth::now_ns())
                .expect("signed");
        let mut post =
            client.post(format!("http://{}{target}", miner.address)).header("content-type", "application/json");
        for (name, value) in headers.to_pairs() {
            post = post.header(name, value);
        }
        let response = post.body(body).send().await.expect("task");
        assert_eq!(response.status(), 200);
        let answer: serde_json::Value = serde_json::from_slice(&response.bytes().await.expect("body")).expect("JSON");
        assert_eq!(answer["task_id"], "BTC-USDT-test");
        let closes = answer["closes"].as_array().expect("closes");
        assert_eq!(closes.len(), 6);
        assert!(closes.iter().all(|c| c.as_f64().is_some_and(|c| c > 80_000.0 && c < 100_000.0)), "{answer}");

        // Unsigned: refused by the server.
        let unsigned = client.post(format!("http://{}{target}", miner.address)).body("{}").send().await.expect("task");
        assert_eq!(unsigned.status(), 401);
    });
}

#[test]
fn run_refuses_bad_input_with_one_error_line() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let graph = metagraph(scratch.path());
    let bad_config = scratch.path().join("bad.json");
    std::fs::write(&bad_config, r#"{"forecaster": {"method": "holt", "alpha": 2}}"#).expect("write");
    let wallet_path = path_str(&wallets()).to_owned();
    let base = |subnet: &'static str, wallet: &'static str| {
        vec![
            "miner".to_owned(),
            "run".to_owned(),
            "--subnet".to_owned(),
            subnet.to_owned(),
            "--wallet".to_owned(),
            wallet.to_owned(),
            "--hotkey".to_owned(),
            "default".to_owned(),
            "--wallet-path".to_owned(),
            wallet_path.clone(),
            "--listen".to_owned(),
            "127.0.0.1:0".to_owned(),
            "--metagraph".to_owned(),
            path_str(&graph).to_owned(),
        ]
    };
    let mut bad_config_args = base("price-prediction", "miner");
    bad_config_args.extend(["--config".to_owned(), path_str(&bad_config).to_owned()]);
    let mut missing_graph = base("image-aesthetics", "miner");
    missing_graph[13] = path_str(&scratch.path().join("nope.json")).to_owned();
    let cases: [(Vec<String>, &str); 4] = [
        (base("price-prediction", "nobody"), "cannot load hotkey nobody/default"),
        (bad_config_args, "forecaster.alpha: 2 is outside (0, 1]"),
        (base("weather", "miner"), "unknown template `weather`"),
        (missing_graph, "nope.json"),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args);
        out.assert_code(EXIT_BAD_INPUT);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(out.stderr.starts_with("error: ") && out.stderr.contains(expected), "{expected:?} in {}", out.stderr);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
    }
}

#[test]
fn run_with_chain_publishes_its_axon_and_authorises_from_the_chain() {
    use chain::Chain as _;

    use crate::localnet::{Chain, init, key};

    let scratch = tempfile::tempdir().expect("temp dir");
    let db = scratch.path().join("chain.sqlite");
    init(scratch.path(), &db);
    let chain = Chain::start(&db, 0);
    let client = localnet::Client::new(&chain.url).expect("client");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (validator, miner_key, stranger) = (account("validator"), account("miner"), key(103));
    runtime.block_on(async {
        client.register(&key(1), 1, &validator.account()).await.expect("register validator");
        client.register(&key(2), 1, &miner_key.account()).await.expect("register miner");
        client.register(&key(3), 1, &stranger.account()).await.expect("register a neuron without stake");
        client.add_stake(&key(1), &validator.account(), 1, 100_000_000_000).await.expect("stake");
        client.advance_blocks(&key(200), 10).await.expect("an epoch hands out permits");
        let graph = client.metagraph(1).await.expect("metagraph");
        assert!(graph.neuron(&validator.account()).expect("validator").validator_permit);
    });

    let miner = start_on_chain(&chain.url);
    runtime.block_on(async {
        let graph = client.metagraph(1).await.expect("metagraph");
        serves_as_published(&miner, &graph, &miner_key, &[(&validator, 200), (&stranger, 403)]).await;
    });

    // A hotkey the chain does not know is refused at start, naming it.
    let unknown = scratch.path().join("wallets");
    let output = Command::new(subnetkit().get_program())
        .args(["wallet", "new", "--name", "lost", "--hotkey", "default", "--wallet-path", path_str(&unknown)])
        .output()
        .expect("wallet new");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    subnetkit()
        .args(["miner", "run", "--subnet", "price-prediction", "--wallet", "lost", "--hotkey", "default"])
        .args(["--wallet-path", path_str(&unknown), "--listen", "127.0.0.1:0", "--chain", &chain.url, "--netuid", "1"])
        .assert()
        .code(EXIT_BAD_INPUT)
        .stderr(predicates::str::contains("is not registered on subnet 1"));
}

/// `subnetkit miner run` for the price-prediction template as the test wallet `miner`, reading
/// subnet 1 from the chain at `url` and publishing 127.0.0.2 as its axon.
pub(crate) fn start_on_chain(url: &str) -> Running {
    start(&[
        "miner",
        "run",
        "--subnet",
        "price-prediction",
        "--wallet",
        "miner",
        "--hotkey",
        "default",
        "--wallet-path",
        path_str(&wallets()),
        "--listen",
        "127.0.0.1:0",
        "--chain",
        url,
        "--netuid",
        "1",
        "--external-ip",
        "127.0.0.2",
    ])
}

/// Checks that `graph` holds `miner`'s axon at 127.0.0.2 and its port, and that a price task
/// signed by each caller gets the expected status.
pub(crate) async fn serves_as_published(
    miner: &Running,
    graph: &chain::Metagraph,
    miner_key: &protocol::Keypair,
    callers: &[(&protocol::Keypair, u16)],
) {
    let port: u16 = miner.address.rsplit(':').next().and_then(|port| port.parse().ok()).expect("port");
    let axon = graph.neuron(&miner_key.account()).and_then(|neuron| neuron.axon.clone()).expect("axon published");
    assert_eq!((axon.ip.to_string(), axon.port), ("127.0.0.2".to_owned(), port));

    let body = serde_json::to_vec(&price_task()).expect("JSON");
    let target = "/price-prediction/task";
    let http = reqwest::Client::new();
    for &(caller, status) in callers {
        let request = btauth::Request { method: "POST", target, body: &body };
        let headers = btauth::sign(caller, &request, Some(&miner_key.account()), btauth::now_ns()).expect("signed");
        let mut post =
            http.post(format!("http://{}{target}", miner.address)).header("content-type", "application/json");
        for (name, value) in headers.to_pairs() {
            post = post.header(name, value);
        }
        assert_eq!(post.body(body.clone()).send().await.expect("task").status(), status, "{}", caller.account());
    }
}
