//! Live interop with the Python stack: a validator written with the Bittensor SDK
//! (`bittensor==11.3.0`, `bittensor.http_auth`) calls our miner over HTTP on loopback
//! (`tests/interop/client.py`), and must be accepted, get answers that verify with the SDK as
//! signed by the miner, and be refused with the right status when forged, tampered with, stale,
//! replayed or bound to another receiver.
//!
//! Needs the Python SDK: run `scripts/setup-python.sh` first (or set `SUBNETKIT_PYTHON`). Without
//! it this test fails, never skips.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use miner::{FileSource, Metagraph, Miner, MinerError, MinerState, Options, Subnet, Task};

use crate::{data_path, miner_key, neuron, validator_key};

#[path = "../interop/python.rs"]
mod python;

/// The interop subnet's netuid and route.
const NETUID: u16 = 11;
const ROUTE: &str = "/echo/task";
/// Any JSON object, both ways: the test is about authentication, not schemas.
const OBJECT_SCHEMA: &str = r#"{ "type": "object" }"#;
/// How long the Python client may take (it starts the SDK and sends nine requests).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);

/// Answers every task with the task itself.
struct Echo;

impl Miner for Echo {
    async fn handle(&self, task: Task) -> Result<serde_json::Value, MinerError> {
        Ok(task.body)
    }
}

/// Runs `command` to completion with its output captured, killing it after `timeout`.
fn run_with_timeout(command: &mut Command, timeout: Duration) -> std::io::Result<Output> {
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    // Drain both pipes on threads of their own, so a chatty child never blocks on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|pipe| Box::new(pipe) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|pipe| Box::new(pipe) as Box<dyn Read + Send>));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > timeout {
            child.kill()?;
            let _ = child.wait();
            return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, format!("killed after {timeout:?}")));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = stdout.join().expect("the stdout reader does not panic");
    let stderr = stderr.join().expect("the stderr reader does not panic");
    Ok(Output { status, stdout, stderr })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_validator_is_served_and_refused_as_the_spec_says() {
    let python = python::find_python().unwrap_or_else(|message| panic!("{message}"));

    // Our miner on a real loopback socket, with the test validator registered with a permit.
    let subnet = Subnet::new("echo", NETUID, OBJECT_SCHEMA, OBJECT_SCHEMA, Echo).expect("the echo subnet is valid");
    let state = MinerState::new(miner_key(), Options::default(), vec![subnet]).expect("the miner is valid");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let metagraph = dir.path().join("metagraph.json");
    let graphs = vec![Metagraph { netuid: NETUID, neurons: vec![neuron(0, &validator_key(), 1_000_000, true)] }];
    std::fs::write(&metagraph, serde_json::to_vec(&graphs).expect("metagraphs serialise")).expect("writable");
    state.refresh_metagraphs(&FileSource::new(&metagraph)).await.expect("the metagraph file loads");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(miner::serve(listener, miner::router(state.clone()), async move {
        let _ = stopped.await;
    }));

    let miner_hotkey = miner_key().account().to_ss58();
    let mut command = Command::new(&python);
    command
        .arg(python::interop_dir().join("client.py"))
        // No __pycache__ left in the source tree.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .args(["--url", &url, "--path", ROUTE, "--miner-hotkey", &miner_hotkey])
        .arg("--wallet-path")
        .arg(data_path("wallets"))
        .args(["--wallet", "validator", "--hotkey", "default"]);
    let output = tokio::task::spawn_blocking(move || run_with_timeout(&mut command, CLIENT_TIMEOUT))
        .await
        .expect("the runner does not panic")
        .expect("client.py runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let context = format!("client.py exited with {}\nstdout:\n{stdout}\nstderr:\n{stderr}", output.status);

    let summary: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("the summary is not JSON ({error}); {context}"));
    assert_eq!(summary["bittensor"], "11.3.0", "{context}");
    assert_eq!(summary["validator"], validator_key().account().to_ss58(), "{context}");

    // Every case ran, in this order, with the status the spec requires.
    let expected = [
        ("valid", 200),
        ("valid_with_query", 200),
        ("forged_signature", 401),
        ("tampered_body", 401),
        ("stale_nonce", 401),
        ("replay_first", 200),
        ("replayed", 401),
        ("wrong_receiver", 403),
        ("no_receiver", 403),
    ];
    let cases = summary["cases"].as_array().unwrap_or_else(|| panic!("no cases; {context}"));
    let seen: Vec<(&str, u64)> =
        cases.iter().map(|case| (case["name"].as_str().unwrap_or("?"), case["status"].as_u64().unwrap_or(0))).collect();
    let wanted: Vec<(&str, u64)> = expected.iter().map(|&(name, status)| (name, status)).collect();
    assert_eq!(seen, wanted, "{context}");
    for case in cases {
        assert_eq!(case["ok"], true, "case {}: {context}", case["name"]);
        if case["status"] == 200 {
            // The SDK verified the answer as the miner's, over the echoed task.
            assert_eq!(case["response_signer"], miner_hotkey.as_str(), "{context}");
            assert_eq!(case["response"]["case"], case["name"], "{context}");
        }
    }
    assert_eq!(summary["ok"], true, "{context}");
    assert!(output.status.success(), "{context}");

    stop.send(()).expect("the server listens for shutdown");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops")
        .expect("the server task does not panic")
        .expect("the server ends cleanly");
}
