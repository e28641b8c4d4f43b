//! Integration tests of `miner`: every stage of the task pipeline through the router (no
//! socket, `tower::ServiceExt::oneshot`), and the server on a real socket with a real client.
//!
//! The metagraph comes from a real `FileSource` over a file in a temporary directory; keys are
//! the two committed test wallets plus deterministic extra validators.

mod config;
mod interop;
mod pipeline;
mod queue;
mod socket;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{self, StatusCode};
use miner::{FileSource, Metagraph, Miner, MinerError, MinerState, Neuron, Options, Subnet, Task};
use protocol::btauth::{self, Verifier, VerifierConfig};
use protocol::{AccountId, CryptoScheme, Keypair};
use tempfile::TempDir;
use tower::ServiceExt;

/// The test subnet's netuid.
const NETUID: u16 = 7;
/// The test subnet's route.
const TARGET: &str = "/double/task";

const TASK_SCHEMA: &str = r#"{
    "type": "object",
    "required": ["x"],
    "properties": {
        "x": { "type": "integer" },
        "mode": { "enum": ["ok", "bad-output", "fail", "panic", "slow", "gate"] }
    },
    "additionalProperties": false
}"#;

const RESPONSE_SCHEMA: &str = r#"{
    "type": "object",
    "required": ["y"],
    "properties": { "y": { "type": "integer" } },
    "additionalProperties": false
}"#;

/// The test miner: doubles `x`, or misbehaves as `mode` asks.
struct Doubler {
    /// Tasks in `gate` mode wait for a permit here.
    gate: Arc<tokio::sync::Semaphore>,
    /// Tasks that entered `handle`.
    entered: Arc<AtomicUsize>,
    /// The uids of the validators whose tasks entered `handle`, in order.
    order: Arc<Mutex<Vec<u16>>>,
}

impl Miner for Doubler {
    async fn handle(&self, task: Task) -> Result<serde_json::Value, MinerError> {
        self.order.lock().expect("not poisoned").push(task.validator.uid);
        self.entered.fetch_add(1, Ordering::SeqCst);
        let x = task.body["x"].as_i64().ok_or("x is an integer by the schema")?;
        match task.body["mode"].as_str().unwrap_or("ok") {
            "bad-output" => return Ok(serde_json::json!({ "y": "SECRET-not-a-number" })),
            "fail" => return Err("SECRET-miner-failure".into()),
            "panic" => panic!("the miner panicked on purpose"),
            "slow" => tokio::time::sleep(Duration::from_secs(30)).await,
            "gate" => drop(self.gate.acquire().await?),
            _ => {}
        }
        Ok(serde_json::json!({ "y": 2 * x }))
    }
}

fn data_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(relative)
}

/// The miner's hotkey (test wallet `miner`), loaded once (deriving it from the phrase is slow
/// in debug builds).
fn miner_key() -> Keypair {
    static KEY: OnceLock<Keypair> = OnceLock::new();
    KEY.get_or_init(|| {
        protocol::wallet::load_hotkey(&data_path("wallets"), "miner", "default").expect("the miner test wallet loads")
    })
    .clone()
}

/// The registered validator's hotkey (test wallet `validator`), loaded once.
fn validator_key() -> Keypair {
    static KEY: OnceLock<Keypair> = OnceLock::new();
    KEY.get_or_init(|| {
        protocol::wallet::load_hotkey(&data_path("wallets"), "validator", "default")
            .expect("the validator test wallet loads")
    })
    .clone()
}

/// A deterministic extra hotkey.
fn extra_key(seed: u8) -> Keypair {
    Keypair::from_seed(CryptoScheme::Sr25519, &[seed; 32])
}

fn neuron(uid: u16, key: &Keypair, stake: u64, validator_permit: bool) -> Neuron {
    Neuron { uid, hotkey: key.account(), stake, validator_permit }
}

/// A miner serving subnet `double` with a metagraph file in a temporary directory.
struct Fixture {
    state: MinerState,
    router: Router,
    dir: TempDir,
    gate: Arc<tokio::sync::Semaphore>,
    entered: Arc<AtomicUsize>,
    order: Arc<Mutex<Vec<u16>>>,
}

/// How a fixture is set up.
struct Setup {
    options: Options,
    deadline: Duration,
    concurrency: usize,
    queue_capacity: usize,
    neurons: Vec<Neuron>,
}

impl Default for Setup {
    fn default() -> Setup {
        Setup {
            options: Options::default(),
            deadline: Duration::from_secs(5),
            concurrency: 4,
            queue_capacity: 8,
            neurons: vec![
                neuron(0, &validator_key(), 1_000_000, true),
                neuron(1, &miner_key(), 0, false),
                neuron(2, &extra_key(2), 5_000, false),
            ],
        }
    }
}

impl Fixture {
    async fn new() -> Fixture {
        Fixture::with(Setup::default()).await
    }

    async fn with(setup: Setup) -> Fixture {
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let entered = Arc::new(AtomicUsize::new(0));
        let order = Arc::new(Mutex::new(Vec::new()));
        let miner = Doubler { gate: Arc::clone(&gate), entered: Arc::clone(&entered), order: Arc::clone(&order) };
        let subnet = Subnet::new("double", NETUID, TASK_SCHEMA, RESPONSE_SCHEMA, miner)
            .and_then(|s| s.with_deadline(setup.deadline))
            .and_then(|s| s.with_queue(setup.concurrency, setup.queue_capacity))
            .expect("the test subnet is valid");
        let state = MinerState::new(miner_key(), setup.options, vec![subnet]).expect("the test miner is valid");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let fixture = Fixture { router: miner::router(state.clone()), state, dir, gate, entered, order };
        fixture.write_metagraph(setup.neurons);
        fixture.state.refresh_metagraphs(&fixture.source()).await.expect("the metagraph file loads");
        fixture
    }

    fn metagraph_path(&self) -> PathBuf {
        self.dir.path().join("metagraph.json")
    }

    fn source(&self) -> FileSource {
        FileSource::new(self.metagraph_path())
    }

    fn write_metagraph(&self, neurons: Vec<Neuron>) {
        let graphs = vec![Metagraph { netuid: NETUID, neurons }];
        let text = serde_json::to_vec_pretty(&graphs).expect("metagraphs serialise");
        // Write then rename, so a concurrent refresh never reads half a file.
        let partial = self.dir.path().join("metagraph.json.partial");
        std::fs::write(&partial, text).expect("the metagraph file is writable");
        std::fs::rename(partial, self.metagraph_path()).expect("the metagraph file is replaced");
    }

    async fn send(&self, request: http::Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.expect("the router is infallible");
        Reply::read(response).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(http::Request::get(path).body(Body::empty()).expect("a valid request")).await
    }

    /// Waits until `count` tasks have entered the miner.
    async fn entered(&self, count: usize) {
        eventually(|| async { self.entered.load(Ordering::SeqCst) >= count }).await;
    }

    /// Waits until the queue holds `depth` tasks.
    async fn queue_depth(&self, depth: u64) {
        eventually(|| async { self.get("/health").await.json()["subnets"][0]["queue_depth"] == depth }).await;
    }
}

/// Polls `condition` every 10 ms for up to 5 s.
async fn eventually<F, Fut>(mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..500 {
        if condition().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the condition did not hold within 5 s");
}

/// A response with its body read.
struct Reply {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    async fn read(response: http::Response<Body>) -> Reply {
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.expect("the body is readable").to_vec();
        Reply { status: parts.status, headers: parts.headers, body }
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn retry_after(&self) -> Option<u64> {
        self.headers.get(http::header::RETRY_AFTER)?.to_str().ok()?.parse().ok()
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    fn expect(&self, status: StatusCode) -> &Reply {
        assert_eq!(self.status, status, "body: {}", self.text());
        self
    }

    /// Verifies the response's btauth/1 headers as the validator `receiver` would, for a request
    /// to `target`, returning the signer.
    fn verify_signature(&self, receiver: &Keypair, target: &str) -> Result<AccountId, btauth::AuthError> {
        let verifier = Verifier::new(receiver.account(), VerifierConfig::default());
        let pairs = self.headers.iter().map(|(name, value)| (name.as_str(), value.as_bytes()));
        let request = btauth::Request { method: "POST", target, body: &self.body };
        verifier.verify_pairs_now(pairs, &request).map(|caller| caller.hotkey)
    }
}

/// A task request signed by `sender` for the test miner, at the current time.
fn signed(sender: &Keypair, body: &[u8]) -> http::Request<Body> {
    signed_at(sender, &miner_key().account(), TARGET, body, btauth::now_ns())
}

/// A task request signed by `sender` for `receiver` at `target` and `nonce_ns`.
fn signed_at(sender: &Keypair, receiver: &AccountId, target: &str, body: &[u8], nonce_ns: u64) -> http::Request<Body> {
    let request = btauth::Request { method: "POST", target, body };
    let headers = btauth::sign(sender, &request, Some(receiver), nonce_ns).expect("the request signs");
    let mut builder = http::Request::post(target).header(http::header::CONTENT_TYPE, "application/json");
    for (name, value) in headers.to_pairs() {
        builder = builder.header(name, value);
    }
    builder.body(Body::from(body.to_vec())).expect("a valid request")
}

/// A task as JSON bytes.
fn task(value: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&value).expect("JSON serialises")
}
