//! The one wasmtime `Engine` all plugins of a host share, and the epoch ticker that drives its
//! wall-clock safety net.

use std::hash::{Hash, Hasher};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::{Config, Engine, OptLevel};

use crate::HostConfig;
use crate::error::{HostError, Result};

/// The wasmtime version this host is built with (the workspace pins it with `=`; a unit test checks
/// that the two agree). Artifacts, fuel counts and stack use are specific to it.
pub const WASMTIME_VERSION: &str = "48.0.8";

/// The engine settings that decide what a plugin computes and how much fuel and stack it uses, as
/// one canonical line. Validators compare its hash ([`Identity::engine_config`](crate::Identity)).
///
/// Everything not named here is wasmtime's default for the pinned version, which the version in
/// the identity covers. Threads cannot be enabled at all: wasmtime is built without the feature.
pub(crate) fn describe(config: &HostConfig) -> String {
    format!(
        "subnetkit-host/1 wasmtime={WASMTIME_VERSION} component-model=on consume-fuel=on epoch-interruption=on \
         nan-canonicalization=on relaxed-simd=off relaxed-simd-deterministic=on simd=on threads=absent \
         gc=off exceptions=off stack-switching=off memory64=off wide-arithmetic=off opt-level=speed \
         max-wasm-stack={}",
        config.max_wasm_stack
    )
}

/// Builds the engine: deterministic, metered, interruptible, no threads, no WASI.
pub(crate) fn build(config: &HostConfig) -> Result<Engine> {
    let mut c = Config::new();
    c.wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .cranelift_nan_canonicalization(true)
        .wasm_relaxed_simd(false)
        .relaxed_simd_deterministic(true)
        .wasm_simd(true)
        .wasm_memory64(false)
        .wasm_wide_arithmetic(false)
        .wasm_stack_switching(false)
        .cranelift_opt_level(OptLevel::Speed)
        .max_wasm_stack(config.max_wasm_stack)
        .parallel_compilation(true);
    Engine::new(&c).map_err(|e| HostError::Config(format!("{e:#}")))
}

/// Hex sha256 of the portable engine description: the `engine_config` of an identity.
pub(crate) fn config_hash(description: &str) -> String {
    hex(&Sha256::digest(description.as_bytes()))
}

/// The cache key part for the engine: the portable description plus wasmtime's own compatibility
/// hash (which also covers this machine's CPU features), so an artifact is only ever looked up by
/// an engine that can run it.
pub(crate) fn cache_hash(engine: &Engine, description: &str) -> String {
    let mut h = ShaHasher(Sha256::new());
    h.0.update(description.as_bytes());
    engine.precompile_compatibility_hash().hash(&mut h);
    hex(&h.0.finalize())
}

struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0 // only the digest is read
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The thread that advances the engine's epoch every tick. Dropping it stops and joins the thread.
pub(crate) struct Ticker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Ticker {
    pub(crate) fn start(engine: &Engine, tick: Duration) -> Result<Ticker> {
        let weak = engine.weak();
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name("subnetkit-epoch".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(tick) {
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => return,
                    }
                }
            })
            .map_err(|e| HostError::Config(format!("cannot start the epoch ticker thread: {e}")))?;
        Ok(Ticker { stop: Some(stop), thread: Some(thread) })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasmtime_version_matches_the_workspace_pin() {
        let manifest = include_str!("../../../Cargo.toml");
        let pin = format!("wasmtime = {{ version = \"={WASMTIME_VERSION}\"");
        assert!(manifest.contains(&pin), "root Cargo.toml does not pin {pin}");
    }

    #[test]
    fn config_hash_depends_on_stack() {
        let a = HostConfig::new("x");
        let mut b = HostConfig::new("x");
        b.max_wasm_stack *= 2;
        assert_ne!(config_hash(&describe(&a)), config_hash(&describe(&b)));
        assert_eq!(config_hash(&describe(&a)), config_hash(&describe(&HostConfig::new("y"))));
    }

    #[test]
    fn ticker_stops_on_drop() {
        let engine = build(&HostConfig::new("x")).unwrap();
        let ticker = Ticker::start(&engine, Duration::from_millis(1)).unwrap();
        thread::sleep(Duration::from_millis(20));
        drop(ticker); // joins; hangs here if the thread does not stop
    }
}
