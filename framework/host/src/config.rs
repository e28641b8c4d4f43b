//! Host configuration: limits, fuel budgets, the wall-clock safety net and the artifact cache.

use std::path::PathBuf;
use std::time::Duration;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// Fuel per call: the deterministic CPU budget.
///
/// One unit is roughly one wasm instruction; on the reference 2-core machine 1 G fuel is about
/// 0.12-0.21 s of tight guest code. The budgets are part of a plugin's [`Identity`](crate::Identity):
/// validators must agree on them, because running out is an outcome, not a local fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FuelBudget {
    /// Budget for `manifest`. Default 200 M.
    pub manifest: u64,
    /// Budget for `make-task`. Default 1 G.
    pub make_task: u64,
    /// Budget for `score`, per batch. Default 10 G (a 1,000 x 1 KB ROUGE-L batch takes a few
    /// hundred million).
    pub score: u64,
}

impl Default for FuelBudget {
    fn default() -> Self {
        FuelBudget { manifest: 200_000_000, make_task: 1_000_000_000, score: 10_000_000_000 }
    }
}

/// Resource limits, enforced per call (each call runs in a fresh store).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Linear memory, in bytes, summed over all of an instance's memories. Default 256 MiB.
    pub memory_bytes: u64,
    /// Elements per table. Default 100,000.
    pub table_elements: u64,
    /// Core instances per store. Default 32.
    pub instances: usize,
    /// Tables per store. Default 32.
    pub tables: usize,
    /// Linear memories per store. Default 4 (plugins built by `componentize` have one).
    pub memories: usize,
    /// Bytes a call may return: the scores list (8 bytes each) plus diagnostics, the task's two
    /// payloads, or all manifest strings. The canonical ABI copies a result out of the guest as part
    /// of the call (bounded by [`memory_bytes`](Self::memory_bytes), and charged to the call's fuel);
    /// the host checks this limit before it does anything else with it. Default 16 MiB.
    pub output_bytes: u64,
    /// Diagnostics and plugin error messages are truncated to this many bytes. Default 64 KiB.
    pub diagnostics_bytes: usize,
    /// Size of the plugin file. Checked before reading it. Default 16 MiB.
    pub plugin_bytes: u64,
    /// Size of one function body in any core module of the plugin. Checked before compiling, so a
    /// compile-time bomb is refused in milliseconds. Default 1 MiB.
    pub function_bytes: u64,
    /// Functions defined over all core modules of the plugin. Checked before compiling. Default
    /// 100,000.
    pub functions: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 256 * MIB,
            table_elements: 100_000,
            instances: 32,
            tables: 32,
            memories: 4,
            output_bytes: 16 * MIB,
            diagnostics_bytes: 64 * KIB as usize,
            plugin_bytes: 16 * MIB,
            function_bytes: MIB,
            functions: 100_000,
        }
    }
}

/// The pooling instance allocator: memory and instance slots reserved up front and reused, so a
/// fresh instance per call costs less (a 1 MB batch's memory stays mapped between calls instead
/// of being faulted in again).
///
/// The pool has fixed counts, so the host makes calls beyond [`concurrent_calls`](Self::concurrent_calls)
/// wait rather than fail. Each slot reserves address space (not memory) for a memory of
/// [`Limits::memory_bytes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pooling {
    /// Calls (and loads) that may run at once; further ones wait for a slot.
    pub concurrent_calls: u32,
    /// Bytes of each linear memory kept mapped (zeroed, not returned to the OS) between calls.
    pub keep_resident_bytes: u64,
}

impl Default for Pooling {
    fn default() -> Self {
        Pooling { concurrent_calls: 8, keep_resident_bytes: 8 * MIB }
    }
}

/// Everything a [`Host`](crate::Host) is built from.
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// Where compiled artifacts are kept. Only this host's own artifacts are ever loaded from it,
    /// so it must be a directory that only this user can write.
    pub cache_dir: PathBuf,
    /// Resource limits.
    pub limits: Limits,
    /// Default fuel budgets of loaded plugins ([`Plugin::with_fuel`](crate::Plugin::with_fuel)
    /// overrides them per plugin).
    pub fuel: FuelBudget,
    /// How often the host's ticker thread advances the engine's epoch. Default 10 ms.
    pub epoch_tick: Duration,
    /// Wall-clock safety net per call: a local fault, never a score. Set it far beyond the time the
    /// fuel budget takes. It fires between `deadline` and `deadline` plus one tick (later on an
    /// overloaded machine). Default 30 s.
    pub deadline: Duration,
    /// Native stack for wasm, in bytes. Part of the engine configuration (deep recursion near the
    /// limit depends on it). Plugins must be called on threads with at least this much stack to
    /// spare (Rust's spawned threads have 2 MiB). Default 1 MiB.
    pub max_wasm_stack: usize,
    /// The pooling allocator, for production validators. Default `None`: the on-demand allocator
    /// (copy-on-write memory images), which needs no sizing.
    pub pooling: Option<Pooling>,
}

impl HostConfig {
    /// The defaults, with artifacts cached in `cache_dir`.
    pub fn new(cache_dir: impl Into<PathBuf>) -> HostConfig {
        HostConfig {
            cache_dir: cache_dir.into(),
            limits: Limits::default(),
            fuel: FuelBudget::default(),
            epoch_tick: Duration::from_millis(10),
            deadline: Duration::from_secs(30),
            max_wasm_stack: MIB as usize,
            pooling: None,
        }
    }

    /// The epoch deadline in ticks: the deadline rounded up to whole ticks, plus one, because the
    /// first tick after a call starts can come at once. So it never fires before `deadline`.
    pub(crate) fn deadline_ticks(&self) -> u64 {
        let tick = self.epoch_tick.as_nanos().max(1);
        u64::try_from(self.deadline.as_nanos().div_ceil(tick)).unwrap_or(u64::MAX).saturating_add(1)
    }
}
