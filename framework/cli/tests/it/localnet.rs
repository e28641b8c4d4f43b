//! `subnetkit localnet`: created from a genesis file, served, killed with SIGKILL mid-write and
//! restarted without losing or half-applying anything.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use chain::Chain as _;
use localnet::Client;
use predicates::prelude::PredicateBooleanExt as _;
use protocol::{CryptoScheme, Keypair};

use crate::{EXIT_BAD_INPUT, subnetkit};

pub(crate) fn key(n: u8) -> Keypair {
    Keypair::from_seed(CryptoScheme::Sr25519, &[n; 32])
}

/// A genesis with sudo key(200), coldkeys key(1..=3) funded with 1000 TAO, and subnet 1 (tempo 9,
/// no rate limits, commit-reveal off) owned by key(201)/key(202).
pub(crate) fn write_genesis(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("genesis.toml");
    let accounts: String = (1..=3)
        .map(|n| format!("[[accounts]]\ncoldkey = \"{}\"\nbalance = 1_000_000_000_000\n", key(n).account()))
        .collect();
    let text = format!(
        "sudo = \"{}\"\n{accounts}\n[[subnets]]\nnetuid = 1\nowner_coldkey = \"{}\"\nowner_hotkey = \"{}\"\n\
         hyperparams = {{ tempo = 9, weights_rate_limit = 0, commit_reveal_enabled = false, immunity_period = 0 }}\n",
        key(200).account(),
        key(201).account(),
        key(202).account(),
    );
    std::fs::write(&path, text).expect("write genesis");
    path
}

/// `subnetkit localnet init` on `db`.
pub(crate) fn init(dir: &Path, db: &Path) {
    let genesis = write_genesis(dir);
    subnetkit()
        .args(["localnet", "init", "--genesis"])
        .arg(&genesis)
        .arg("--db")
        .arg(db)
        .assert()
        .success()
        .stdout(predicates::str::contains("created the chain"));
}

/// A running `subnetkit localnet`, killed on drop.
pub(crate) struct Chain {
    child: Child,
    pub(crate) url: String,
}

impl Chain {
    pub(crate) fn start(db: &Path, block_ms: u64) -> Chain {
        let mut child = std::process::Command::new(subnetkit().get_program())
            .args(["localnet", "--listen", "127.0.0.1:0", "--block-ms", &block_ms.to_string(), "--db"])
            .arg(db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("subnetkit starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("reads the URL");
        let url = line.trim().to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "first line: {line:?}");
        Chain { child, url }
    }

    /// SIGKILL: no shutdown code runs.
    fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn init_refuses_a_bad_genesis_and_an_existing_chain() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let db = scratch.path().join("nested/dir/chain.sqlite");
    init(scratch.path(), &db);
    let genesis = scratch.path().join("genesis.toml");
    subnetkit()
        .args(["localnet", "init", "--genesis"])
        .arg(&genesis)
        .arg("--db")
        .arg(&db)
        .assert()
        .code(EXIT_BAD_INPUT)
        .stderr(predicates::str::contains("already holds a chain"));

    let bad = scratch.path().join("bad.toml");
    std::fs::write(&bad, "sudo = \"5nope\"\n").expect("write");
    subnetkit()
        .args(["localnet", "init", "--genesis"])
        .arg(&bad)
        .arg("--db")
        .arg(scratch.path().join("other.sqlite"))
        .assert()
        .code(EXIT_BAD_INPUT)
        .stderr(predicates::str::contains("bad.toml").and(predicates::str::contains("sudo")));
    assert!(!scratch.path().join("other.sqlite").exists(), "nothing written for a bad genesis");

    subnetkit()
        .args(["localnet", "--listen", "127.0.0.1:0", "--db"])
        .arg(scratch.path().join("missing.sqlite"))
        .assert()
        .code(EXIT_BAD_INPUT)
        .stderr(predicates::str::contains("localnet init"));
}

#[test]
fn a_killed_chain_restarts_consistent_with_every_acknowledged_write() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let db = scratch.path().join("chain.sqlite");
    init(scratch.path(), &db);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let sudo = key(200);
    let mut acknowledged: u64 = 0;
    let mut in_flight: u64 = 0;
    let mut last_block = 0;
    for round in 0..6u64 {
        let chain = Chain::start(&db, 5);
        let client = Client::new(&chain.url).expect("client");
        runtime.block_on(async {
            // Everything acknowledged before the last kill is still there.
            let balance = client.balance(&key(250).account()).await.expect("balance");
            assert!(
                balance == acknowledged || balance == acknowledged + in_flight,
                "round {round}: balance {balance}, acknowledged {acknowledged}, in flight {in_flight}"
            );
            acknowledged = balance;
            let issuance = client.issuance().await.expect("issuance");
            assert!(issuance.is_conserved(), "round {round}: {issuance:?}");
            let block = client.block().await.expect("block");
            assert!(block >= last_block, "round {round}: block {block} after {last_block}");

            // Writes race the block producer until the kill lands mid-stream.
            let deadline = tokio::time::Instant::now() + Duration::from_millis(150 + 70 * round);
            while tokio::time::Instant::now() < deadline {
                in_flight = 1_000 + round;
                client.fund(&sudo, &key(250).account(), in_flight).await.expect("fund");
                acknowledged += in_flight;
                in_flight = 0;
                if let Ok(metagraph) = client.metagraph(1).await {
                    last_block = metagraph.block;
                }
            }
            in_flight = 1_000 + round;
            let pending = tokio::spawn({
                let client = Client::new(&chain.url).expect("client");
                let sudo = key(200);
                async move { client.fund(&sudo, &key(250).account(), 1_000 + round).await }
            });
            tokio::time::sleep(Duration::from_millis(2)).await;
            chain.kill();
            let _ = pending.await;
        });
    }
    assert!(last_block > 10, "blocks were produced: {last_block}");
}
