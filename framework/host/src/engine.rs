//! The one wasmtime `Engine` all plugins of a host share, and the epoch ticker that drives its
//! wall-clock safety net.

use std::hash::{Hash, Hasher};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

use crate::error::{HostError, Result};
use crate::{HostConfig, Limits, Pooling};

/// The wasmtime version this host is built with (the workspace pins it with `=`; a unit test checks
/// that the two agree). Artifacts, fuel counts and stack use are specific to it.
pub const WASMTIME_VERSION: &str = "48.0.8";

/// The engine settings that decide how a plugin compiles, what it computes, and how much fuel and
/// stack it uses, as one canonical line: part of the artifact cache key.
///
/// Everything not named here is wasmtime's default for the pinned version, which the version in
/// the identity covers. Threads cannot be enabled at all: wasmtime is built without the feature.
pub(crate) fn describe_engine(config: &HostConfig) -> String {
    format!(
        "subnetkit-host/1 wasmtime={WASMTIME_VERSION} component-model=on consume-fuel=on epoch-interruption=on \
         nan-canonicalization=on relaxed-simd=off relaxed-simd-deterministic=on simd=on threads=absent \
         gc=off exceptions=off stack-switching=off memory64=off wide-arithmetic=off opt-level=speed \
         max-wasm-stack={}",
        config.max_wasm_stack
    )
}

/// [`describe_engine`] plus the limits that decide a call's outcome (running out of memory, bad
/// output, truncated diagnostics). Validators compare its hash
/// ([`Identity::engine_config`](crate::Identity)).
pub(crate) fn describe(config: &HostConfig) -> String {
    let l = &config.limits;
    format!(
        "{} memory-bytes={} table-elements={} instances={} tables={} memories={} output-bytes={} \
         diagnostics-bytes={}",
        describe_engine(config),
        l.memory_bytes,
        l.table_elements,
        l.instances,
        l.tables,
        l.memories,
        l.output_bytes,
        l.diagnostics_bytes
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
        // A trap keeps handles to the store's memories, where a panicking guest left its message.
        .coredump_on_trap(true)
        .parallel_compilation(true);
    if let Some(pooling) = &config.pooling {
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling_config(pooling, &config.limits)?));
    }
    Engine::new(&c).map_err(|e| HostError::Config(format!("{e:#}")))
}

/// Sizes the pool from the limits: `2 x concurrent_calls` component slots, each able to hold
/// everything the limiter allows one store.
fn pooling_config(pooling: &Pooling, limits: &Limits) -> Result<PoolingAllocationConfig> {
    let too_big = |what: &str| HostError::Config(format!("pooling: {what} does not fit the pool's counters"));
    let slots = pooling.concurrent_calls.max(1).checked_mul(2).ok_or_else(|| too_big("concurrent_calls"))?;
    let per_slot = |n: usize, what: &str| -> Result<u32> {
        u32::try_from(n).ok().and_then(|n| n.checked_mul(slots)).ok_or_else(|| too_big(what))
    };
    let count = |n: usize, what: &str| u32::try_from(n).map_err(|_| too_big(what));
    let bytes = |n: u64, what: &str| usize::try_from(n).map_err(|_| too_big(what));
    let mut p = PoolingAllocationConfig::new();
    p.total_component_instances(slots)
        .total_core_instances(per_slot(limits.instances, "instances")?)
        .total_memories(per_slot(limits.memories, "memories")?)
        .total_tables(per_slot(limits.tables, "tables")?)
        .max_core_instances_per_component(count(limits.instances, "instances")?)
        .max_memories_per_component(count(limits.memories, "memories")?)
        .max_memories_per_module(count(limits.memories, "memories")?)
        .max_tables_per_component(count(limits.tables, "tables")?)
        .max_tables_per_module(count(limits.tables, "tables")?)
        .table_elements(bytes(limits.table_elements, "table_elements")?)
        .max_memory_size(bytes(limits.memory_bytes, "memory_bytes")?)
        .linear_memory_keep_resident(bytes(pooling.keep_resident_bytes, "keep_resident_bytes")?);
    Ok(p)
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
    fn config_hash_depends_on_stack_and_outcome_limits_only() {
        let a = HostConfig::new("x");
        let hash = |c: &HostConfig| config_hash(&describe(c));
        let mut b = HostConfig::new("x");
        b.max_wasm_stack *= 2;
        assert_ne!(hash(&a), hash(&b));
        let mut c = HostConfig::new("x");
        c.limits.memory_bytes /= 2;
        assert_ne!(hash(&a), hash(&c));
        assert_eq!(describe_engine(&a), describe_engine(&c), "limits do not change the artifacts");
        let mut d = HostConfig::new("y");
        d.deadline *= 2;
        d.limits.plugin_bytes *= 2;
        d.pooling = Some(Pooling::default());
        assert_eq!(hash(&a), hash(&d), "cache dir, deadline, load limits and allocator change no outcome");
    }

    #[test]
    fn shared_memory_is_refused_because_threads_are_compiled_out() {
        let engine = build(&HostConfig::new("x")).unwrap();
        let mut memories = wasm_encoder::MemorySection::new();
        memories.memory(wasm_encoder::MemoryType {
            minimum: 1,
            maximum: Some(1),
            memory64: false,
            shared: true,
            page_size_log2: None,
        });
        let mut module = wasm_encoder::Module::new();
        module.section(&memories);
        let err = wasmtime::Module::new(&engine, module.finish()).unwrap_err();
        assert!(format!("{err:#}").contains("threads"), "{err:#}");
    }

    #[test]
    fn pooling_engine_builds() {
        let config = HostConfig { pooling: Some(Pooling::default()), ..HostConfig::new("x") };
        build(&config).unwrap();
    }

    #[test]
    fn ticker_stops_on_drop() {
        let engine = build(&HostConfig::new("x")).unwrap();
        let ticker = Ticker::start(&engine, Duration::from_millis(1)).unwrap();
        thread::sleep(Duration::from_millis(20));
        drop(ticker); // joins; hangs here if the thread does not stop
    }
}
