//! For tests: runs the real subtensor runtime (spec 218, from the raw chain spec in
//! `framework/chain/tests/data`) under chopsticks on a free loopback port, and drives it over its
//! JSON-RPC (`dev_newBlock`, `dev_setStorage`).
//!
//! chopsticks is the npm package that `scripts/setup-chopsticks.sh` (run by `scripts/setup.sh`)
//! installs into `framework/chain/tests/chopsticks/node_modules`. Without it [`Chopsticks::start`]
//! fails with a message saying so: tests that need it fail, never skip.
//!
//! Every helper panics with a message on failure: this crate exists for tests.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// How long the runtime may take to answer its first RPC (about 5 s on an idle machine).
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// How long one JSON-RPC call may take (building a block takes up to ~1.5 s on a busy machine).
const RPC_TIMEOUT: Duration = Duration::from_secs(120);
/// Slot length of the runtime's Aura (ms); the first block's timestamp must be a multiple.
const SLOT_MS: u128 = 12_000;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::canonicalize(&root).unwrap_or(root)
}

/// The raw chain spec the runtime comes from (subtensor's `scripts/specs/raonet.json`).
pub fn spec_path() -> PathBuf {
    workspace_root().join("framework/chain/tests/data/subtensor-raonet-spec218.json")
}

/// chopsticks' entry script, installed by `scripts/setup-chopsticks.sh`.
pub fn chopsticks_script() -> PathBuf {
    workspace_root().join("framework/chain/tests/chopsticks/node_modules/@acala-network/chopsticks/chopsticks.cjs")
}

/// A running chopsticks process, killed when dropped (and by the kernel if the test process
/// dies first).
#[derive(Debug)]
pub struct Chopsticks {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Chopsticks {
    /// Starts chopsticks on a free loopback port with the spec-218 genesis, in instant
    /// block-building mode, and waits until its RPC answers.
    ///
    /// Call it from the test's own thread, not from a thread pool's: the kernel's parent-death
    /// signal is tied to the thread that started the process.
    ///
    /// # Panics
    ///
    /// When chopsticks or node is not installed (the message says to run `scripts/setup.sh`), or
    /// when it does not become ready in time (the message has the end of its log).
    pub fn start() -> Chopsticks {
        let mut last_failure = String::new();
        // A free port can be taken between probing it and chopsticks binding it; retry then.
        for _ in 0..3 {
            match Chopsticks::start_on(free_port()) {
                Ok(chopsticks) => return chopsticks,
                Err(failure) => last_failure = failure,
            }
        }
        panic!("chopsticks did not start: {last_failure}");
    }

    /// Stops the chain and starts a fresh one (from genesis again) on the same port: how a test
    /// makes a client lose its connection and find the node again.
    ///
    /// # Panics
    ///
    /// As [`Chopsticks::start`].
    pub fn restart(&mut self) {
        self.stop();
        match Chopsticks::start_on(self.port) {
            Ok(fresh) => *self = fresh,
            Err(failure) => panic!("chopsticks did not restart on port {}: {failure}", self.port),
        }
    }

    fn start_on(port: u16) -> Result<Chopsticks, String> {
        let script = chopsticks_script();
        assert!(
            script.is_file(),
            "chopsticks is not installed ({} is missing): run scripts/setup.sh (or scripts/setup-chopsticks.sh)",
            script.display()
        );
        let spec = spec_path();
        assert!(spec.is_file(), "the chain spec {} is missing", spec.display());
        let log = std::env::temp_dir().join(format!("subnetkit-chopsticks-{}-{port}.log", std::process::id()));
        let child = spawn(&script, &spec, port, &log);
        let mut chopsticks = Chopsticks { child, port, log };
        chopsticks.wait_ready()?;
        Ok(chopsticks)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }

    /// The WebSocket URL of its RPC, `ws://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// The loopback port it serves on (WebSocket and HTTP JSON-RPC alike).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Builds `count` empty blocks.
    pub fn new_blocks(&self, count: u32) {
        self.rpc("dev_newBlock", json!([{ "count": count }]));
    }

    /// Builds one empty block numbered `height` (which must be above the current one), skipping
    /// the blocks in between; how a test passes a rate limit or reaches an epoch in one step.
    pub fn jump_to(&self, height: u64) {
        self.rpc("dev_newBlock", json!([{ "unsafeBlockHeight": height }]));
    }

    /// The best block's number.
    pub fn block(&self) -> u64 {
        let header = self.rpc("chain_getHeader", json!([]));
        let number = header["number"].as_str().unwrap_or_else(|| panic!("header without a number: {header}"));
        u64::from_str_radix(number.trim_start_matches("0x"), 16)
            .unwrap_or_else(|e| panic!("bad block number {number}: {e}"))
    }

    /// Writes storage with `dev_setStorage`: decoded values by pallet and item, e.g.
    /// `{"Sudo": {"Key": "5Grw…"}, "System": {"Account": [[["5Grw…"], {"providers": 1, "data": {"free": 10}}]]}}`.
    pub fn set_storage(&self, storage: Value) {
        self.rpc("dev_setStorage", json!([storage]));
    }

    /// Gives each SS58 address `free` rao of free balance.
    pub fn fund(&self, addresses: &[&str], free: u128) {
        let accounts: Vec<Value> = addresses
            .iter()
            .map(|address| json!([[address], { "providers": 1, "data": { "free": free.to_string() } }]))
            .collect();
        self.set_storage(json!({ "System": { "Account": accounts } }));
    }

    /// Makes the SS58 address the sudo key.
    pub fn set_sudo(&self, address: &str) {
        self.set_storage(json!({ "Sudo": { "Key": address } }));
    }

    /// One JSON-RPC call over HTTP; returns its `result`.
    ///
    /// # Panics
    ///
    /// When the call fails or returns an error.
    pub fn rpc(&self, method: &str, params: Value) -> Value {
        match self.try_rpc(method, &params, RPC_TIMEOUT) {
            Ok(result) => result,
            Err(e) => panic!("chopsticks {method} failed: {e}\n{}", self.log_tail()),
        }
    }

    fn try_rpc(&self, method: &str, params: &Value, timeout: Duration) -> Result<Value, String> {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string();
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut stream = TcpStream::connect_timeout(&address, timeout).map_err(|e| format!("connect: {e}"))?;
        stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
        // HTTP/1.0: the server closes the connection after a plain (not chunked) body.
        let request = format!(
            "POST / HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.port,
            body.len()
        );
        stream.write_all(request.as_bytes()).map_err(|e| format!("send: {e}"))?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).map_err(|e| format!("read: {e}"))?;
        let response = String::from_utf8_lossy(&response);
        let (_, payload) =
            response.split_once("\r\n\r\n").ok_or_else(|| format!("not an HTTP response: {response}"))?;
        let payload: Value = serde_json::from_str(payload).map_err(|e| format!("bad JSON ({e}): {payload}"))?;
        if let Some(error) = payload.get("error") {
            return Err(format!("error {error}"));
        }
        payload.get("result").cloned().ok_or_else(|| format!("no result: {payload}"))
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let start = Instant::now();
        while start.elapsed() < READY_TIMEOUT {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("it exited with {status}\n{}", self.log_tail()));
            }
            if self.try_rpc("chain_getHeader", &json!([]), Duration::from_secs(10)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!("its RPC did not answer within {READY_TIMEOUT:?}\n{}", self.log_tail()))
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        format!("--- end of {} ---\n{tail}", self.log.display())
    }
}

impl Drop for Chopsticks {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap_or_else(|e| panic!("no free port: {e}"));
    listener.local_addr().unwrap_or_else(|e| panic!("no local address: {e}")).port()
}

fn spawn(script: &Path, spec: &Path, port: u16, log: &Path) -> Child {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    // The genesis has no timestamp: without one that is a whole slot, the first block fails
    // with "Timestamp slot must match CurrentSlot".
    let timestamp = now_ms / SLOT_MS * SLOT_MS;
    let log_file = File::create(log).unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
    let log_err = log_file.try_clone().unwrap_or_else(|e| panic!("cannot open {}: {e}", log.display()));
    let mut command = Command::new("node");
    command
        .arg(script)
        .arg("--genesis")
        .arg(spec)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--build-block-mode", "Instant", "--timestamp", &timestamp.to_string()])
        .env("LOG_LEVEL", "warn")
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_err);
    die_with_parent(&mut command);
    command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run node ({e}); install Node.js 20 or newer, then run scripts/setup.sh"))
}

/// Makes the kernel SIGKILL the child when the thread that spawned it exits, so a test killed
/// by its runner (nextest sends SIGKILL on timeout) leaves no chopsticks behind.
#[allow(unsafe_code)]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id();
    // SAFETY: the closure runs in the forked child before exec and only makes async-signal-safe
    // system calls (prctl, getppid, _exit); it allocates nothing and touches no locks.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() as u32 != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}
