//! [`Host`] (one engine, its epoch ticker and artifact cache) and [`Plugin`] (one loaded plugin).

use std::fmt;
use std::fs;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use sha2::{Digest, Sha256};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{
    Component, ComponentExportIndex, ComponentNamedList, Instance, InstancePre, Lift, Linker, Lower,
};
use wasmtime::{Engine, Store, Trap, WasmBacktrace, WasmCoreDump};

use crate::abi::{self, Context, Manifest, Response, Scores, Task};
use crate::cache::Cache;
use crate::engine::{self, Ticker, WASMTIME_VERSION};
use crate::error::{BadOutput, Call, HostError, Result};
use crate::limiter::{LimitError, Limiter};
use crate::{FuelBudget, HostConfig, check};

/// The plugin host: one wasmtime engine shared by every plugin it loads, the thread that drives
/// the engine's wall-clock safety net, and the artifact cache.
///
/// Cheap to clone (a reference count); `Send` and `Sync`. The ticker thread stops when the host and
/// every plugin loaded from it are dropped.
#[derive(Clone)]
pub struct Host {
    inner: Arc<HostInner>,
}

struct HostInner {
    engine: Engine,
    linker: Linker<State>,
    config: HostConfig,
    description: String,
    engine_config: String,
    cache: Cache,
    /// With the pooling allocator: the calls that may run at once.
    slots: Option<Slots>,
    _ticker: Ticker,
}

/// A counting semaphore: with the pooling allocator, calls wait for a free slot instead of failing
/// on an exhausted pool.
struct Slots {
    free: Mutex<u32>,
    freed: Condvar,
}

impl Slots {
    fn new(count: u32) -> Slots {
        Slots { free: Mutex::new(count), freed: Condvar::new() }
    }

    fn acquire(&self) -> SlotGuard<'_> {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        SlotGuard(self)
    }
}

struct SlotGuard<'a>(&'a Slots);

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.0.freed.notify_one();
    }
}

/// What every validator running a plugin must agree on, to be recorded with every score set: the
/// same identity and the same inputs give the same bytes out.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Identity {
    /// Hex sha256 of the plugin file.
    pub sha256: String,
    /// The plugin's ABI version (its `subnetkit:abi` section), e.g. `0.1.0`.
    pub abi_version: String,
    /// The wasmtime version that compiles and runs it.
    pub wasmtime_version: String,
    /// Hex sha256 of the engine settings and limits that decide results, fuel and stack use
    /// ([`Host::engine_description`]). The same on every machine for the same host build and
    /// configuration.
    pub engine_config: String,
    /// The fuel budgets.
    pub fuel: FuelBudget,
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sha256={} abi={} wasmtime={} engine-config={} fuel=manifest:{},make-task:{},score:{}",
            self.sha256,
            self.abi_version,
            self.wasmtime_version,
            self.engine_config,
            self.fuel.manifest,
            self.fuel.make_task,
            self.fuel.score
        )
    }
}

impl Host {
    /// Builds the engine, starts the epoch ticker and opens (creates) the cache directory.
    pub fn new(config: HostConfig) -> Result<Host> {
        if config.epoch_tick.is_zero() {
            return Err(HostError::Config("epoch_tick must be positive".into()));
        }
        let engine = engine::build(&config)?;
        let description = engine::describe(&config);
        let engine_config = engine::config_hash(&description);
        let cache = Cache::open(&config.cache_dir, engine::cache_hash(&engine, &engine::describe_engine(&config)))?;
        let slots = config.pooling.map(|p| Slots::new(p.concurrent_calls.max(1)));
        let ticker = Ticker::start(&engine, config.epoch_tick)?;
        // Nothing is defined in the linker: plugins import nothing.
        let linker = Linker::new(&engine);
        Ok(Host {
            inner: Arc::new(HostInner {
                engine,
                linker,
                config,
                description,
                engine_config,
                cache,
                slots,
                _ticker: ticker,
            }),
        })
    }

    /// The configuration the host was built with.
    pub fn config(&self) -> &HostConfig {
        &self.inner.config
    }

    /// The engine settings and limits that decide outcomes, as one canonical line.
    pub fn engine_description(&self) -> &str {
        &self.inner.description
    }

    /// Hex sha256 of [`engine_description`](Self::engine_description): the identity's
    /// `engine_config`.
    pub fn engine_config(&self) -> &str {
        &self.inner.engine_config
    }

    /// Loads a plugin file: checks its size, ABI version and static limits before compiling, compiles
    /// it once into the artifact cache (or maps the cached artifact), refuses it if it imports
    /// anything, type-checks its exports against the ABI, and instantiates it once under the limits
    /// to prove it can be.
    pub fn load(&self, path: impl AsRef<Path>) -> Result<Plugin> {
        let path = path.as_ref();
        let io = |source| HostError::Io { path: path.to_path_buf(), source };
        let size = fs::metadata(path).map_err(io)?.len();
        self.check_size(size)?;
        let wasm = fs::read(path).map_err(io)?;
        self.load_bytes(&wasm)
    }

    /// [`load`](Self::load) for a plugin already in memory.
    pub fn load_bytes(&self, wasm: &[u8]) -> Result<Plugin> {
        self.check_size(wasm.len() as u64)?;
        let abi_version = check::check(wasm, &self.inner.config.limits)?;
        let sha256 = engine::hex(&Sha256::digest(wasm));
        let component = self.inner.cache.load(&self.inner.engine, wasm, &sha256)?;
        let imports = import_names(&self.inner.engine, &component);
        if !imports.is_empty() {
            return Err(HostError::Imports { names: imports });
        }
        let pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .map_err(|e| HostError::InvalidModule { reason: format!("cannot pre-instantiate: {e:#}") })?;
        let exports = Exports::new(&pre, &abi_version)?;
        let identity = Identity {
            sha256,
            abi_version,
            wasmtime_version: WASMTIME_VERSION.to_string(),
            engine_config: self.inner.engine_config.clone(),
            fuel: self.inner.config.fuel,
        };
        let plugin = Plugin { inner: Arc::new(PluginInner { host: self.clone(), pre, exports }), identity };
        plugin.try_instantiate().map_err(|e| match e {
            HostError::OutOfMemory { resource, requested, limit, .. } => HostError::InvalidModule {
                reason: format!(
                    "cannot be instantiated: {resource} limit exceeded: asked for {requested}, limit {limit}"
                ),
            },
            HostError::InvalidModule { .. } => e,
            e => HostError::InvalidModule { reason: format!("cannot be instantiated under the host's limits: {e}") },
        })?;
        Ok(plugin)
    }

    fn check_size(&self, size: u64) -> Result<()> {
        let limit = self.inner.config.limits.plugin_bytes;
        if size > limit {
            return Err(HostError::InvalidModule {
                reason: format!("plugin is {size} bytes, over the {limit}-byte limit"),
            });
        }
        Ok(())
    }
}

/// The names of everything `component` imports. A plugin imports nothing (not even types: the
/// `plugin` world defines its types inside the exported `mechanism` interface), so any name here
/// refuses it.
fn import_names(engine: &Engine, component: &Component) -> Vec<String> {
    component.component_type().imports(engine).map(|(name, _)| name.to_string()).collect()
}

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Host")
            .field("config", &self.inner.config)
            .field("engine_config", &self.inner.engine_config)
            .finish()
    }
}

/// Per-call store state.
struct State {
    limiter: Limiter,
}

/// The plugin's exports, found and type-checked against the ABI once, at load.
struct Exports {
    manifest: ComponentExportIndex,
    make_task: ComponentExportIndex,
    score: ComponentExportIndex,
}

impl Exports {
    fn new(pre: &InstancePre<State>, abi_version: &str) -> Result<Exports> {
        let component = pre.component();
        let instance_type = pre.instance_type();
        let mismatch = |name: &str, detail: &str| HostError::AbiMismatch {
            found: Some(abi_version.to_string()),
            detail: format!("export `{name}` {detail} (ABI {abi_version})"),
        };
        let interface = match component.get_export(None, abi::INTERFACE) {
            Some((ComponentItem::ComponentInstance(_), index)) => index,
            Some(_) => return Err(mismatch(abi::INTERFACE, "is not an instance")),
            None => return Err(mismatch(abi::INTERFACE, "is missing")),
        };
        let find = |name: &str, check: &dyn Fn(&wasmtime::component::types::ComponentFunc) -> wasmtime::Result<()>| {
            let qualified = format!("{}#{name}", abi::INTERFACE);
            match component.get_export(Some(&interface), name) {
                Some((ComponentItem::ComponentFunc(func), index)) => {
                    check(&func).map_err(|e| mismatch(&qualified, &format!("has the wrong type: {e:#}")))?;
                    Ok(index)
                }
                Some(_) => Err(mismatch(&qualified, "is not a function")),
                None => Err(mismatch(&qualified, "is missing")),
            }
        };
        Ok(Exports {
            manifest: find("manifest", &|f| f.typecheck::<abi::ManifestParams, abi::ManifestResults>(&instance_type))?,
            make_task: find("make-task", &|f| {
                f.typecheck::<abi::MakeTaskParams<'_>, abi::MakeTaskResults>(&instance_type)
            })?,
            score: find("score", &|f| f.typecheck::<abi::ScoreParams<'_>, abi::ScoreResults>(&instance_type))?,
        })
    }
}

/// A loaded plugin. Every call runs in a fresh store and instance under the host's limits, so no
/// state carries over between calls and a call that faults leaves nothing behind.
///
/// Cheap to clone; `Send` and `Sync`: calls from several threads run in parallel.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<PluginInner>,
    identity: Identity,
}

struct PluginInner {
    host: Host,
    pre: InstancePre<State>,
    exports: Exports,
}

/// Why a call failed, before classification: a wasmtime error needs the store to be classified.
enum Fault {
    Wasm(wasmtime::Error),
    Host(HostError),
}

impl From<wasmtime::Error> for Fault {
    fn from(e: wasmtime::Error) -> Self {
        Fault::Wasm(e)
    }
}

impl Plugin {
    /// What validators must agree on; record it with every score set.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The same plugin with other fuel budgets (they are part of the identity).
    pub fn with_fuel(mut self, fuel: FuelBudget) -> Plugin {
        self.identity.fuel = fuel;
        self
    }

    /// Calls `manifest`. The host checks that the schemas are JSON and the defaults in range.
    pub fn manifest(&self) -> Result<Manifest> {
        let limits = &self.inner.host.inner.config.limits;
        self.run(Call::Manifest, self.identity.fuel.manifest, |store, instance| {
            let (manifest,) = self.call::<abi::ManifestParams, abi::ManifestResults>(
                store,
                instance,
                &self.inner.exports.manifest,
                (),
            )?;
            check_manifest(&manifest, limits.output_bytes).map_err(|problem| bad(Call::Manifest, problem))?;
            Ok(manifest)
        })
    }

    /// Calls `make-task`. `Ok(Err(message))` is the plugin declining with its own error message.
    pub fn make_task(&self, context: &Context) -> Result<Result<Task, String>> {
        let limits = &self.inner.host.inner.config.limits;
        self.run(Call::MakeTask, self.identity.fuel.make_task, |store, instance| {
            let (result,) = self.call::<abi::MakeTaskParams<'_>, abi::MakeTaskResults>(
                store,
                instance,
                &self.inner.exports.make_task,
                (context,),
            )?;
            let bad = |problem| bad(Call::MakeTask, problem);
            let task = match result {
                Err(message) => return Ok(Err(plugin_error(message, limits))),
                Ok(task) => task,
            };
            let bytes = (task.public.len() + task.private.len()) as u64;
            if bytes > limits.output_bytes {
                return Err(bad(BadOutput::TooLarge { what: "task", bytes, limit: limits.output_bytes }));
            }
            json(&task.public, "task public part").map_err(bad)?;
            json(&task.private, "task private part").map_err(bad)?;
            Ok(Ok(task))
        })
    }

    /// Calls `score` on a batch (with the truth, for delayed settlement). The host checks that there is
    /// exactly one finite score in [0, 1] per response, and bounds the diagnostics.
    /// `Ok(Err(message))` is the plugin declining with its own error message.
    pub fn score(&self, task: &Task, responses: &[Response], truth: Option<&[u8]>) -> Result<Result<Scores, String>> {
        let limits = &self.inner.host.inner.config.limits;
        let budget = self.identity.fuel.score;
        self.run(Call::Score, budget, |store, instance| {
            let (result,) = self.call::<abi::ScoreParams<'_>, abi::ScoreResults>(
                store,
                instance,
                &self.inner.exports.score,
                (task, responses, truth),
            )?;
            let fuel_used = budget - store.get_fuel().unwrap_or(0);
            let bad = |problem| bad(Call::Score, problem);
            let raw = match result {
                Err(message) => return Ok(Err(plugin_error(message, limits))),
                Ok(raw) => raw,
            };
            let bytes = raw.values.len() as u64 * 8 + raw.diagnostics.len() as u64;
            if bytes > limits.output_bytes {
                return Err(bad(BadOutput::TooLarge { what: "scores", bytes, limit: limits.output_bytes }));
            }
            if raw.values.len() != responses.len() {
                return Err(bad(BadOutput::ScoreCount { expected: responses.len(), got: raw.values.len() }));
            }
            let values = raw
                .values
                .iter()
                .enumerate()
                .map(|(index, &value)| check_score(index, value))
                .collect::<std::result::Result<Vec<f64>, _>>()
                .map_err(bad)?;
            let diagnostics = truncate(raw.diagnostics, limits.diagnostics_bytes);
            Ok(Ok(Scores { values, diagnostics, fuel_used }))
        })
    }

    /// Instantiates the plugin in a fresh store, as every call does, without calling anything.
    ///
    /// Loading does this once, so a plugin that cannot even be instantiated under the limits is
    /// refused at load. Useful as a health check, and to measure instantiation on its own.
    pub fn try_instantiate(&self) -> Result<()> {
        self.run(Call::Instantiate, self.identity.fuel.manifest, |_, _| Ok(()))
    }

    fn store(&self, fuel: u64) -> Store<State> {
        let host = &self.inner.host.inner;
        let mut store = Store::new(&host.engine, State { limiter: Limiter::new(&host.config.limits) });
        store.limiter(|state| &mut state.limiter);
        store.set_fuel(fuel).expect("fuel is enabled in the engine");
        store.set_epoch_deadline(host.config.deadline_ticks());
        store
    }

    /// Runs `f` on a fresh instance in a fresh store with `fuel`, and classifies what went wrong.
    fn run<R>(
        &self,
        call: Call,
        fuel: u64,
        f: impl FnOnce(&mut Store<State>, &Instance) -> std::result::Result<R, Fault>,
    ) -> Result<R> {
        let _slot = self.inner.host.inner.slots.as_ref().map(Slots::acquire);
        let mut store = self.store(fuel);
        let instance =
            self.inner.pre.instantiate(&mut store).map_err(|e| match self.classify(call, fuel, &store, e) {
                // Not a trap or a limit: the instance could not be built (a count limit, say).
                HostError::BadOutput { problem: BadOutput::Malformed(reason), .. } => {
                    HostError::InvalidModule { reason: format!("cannot be instantiated: {reason}") }
                }
                e => e,
            })?;
        f(&mut store, &instance).map_err(|fault| match fault {
            Fault::Host(e) => e,
            Fault::Wasm(e) => self.classify(call, fuel, &store, e),
        })
    }

    fn call<'a, P, R>(
        &self,
        store: &mut Store<State>,
        instance: &Instance,
        index: &ComponentExportIndex,
        params: P,
    ) -> std::result::Result<R, Fault>
    where
        P: ComponentNamedList + Lower + 'a,
        R: ComponentNamedList + Lift + 'static,
    {
        let func = instance.get_typed_func::<P, R>(&mut *store, index)?;
        // No `post_return`: the store, and the instance with it, is dropped after this call.
        Ok(func.call(&mut *store, params)?)
    }

    fn classify(&self, call: Call, fuel: u64, store: &Store<State>, e: wasmtime::Error) -> HostError {
        let exceeded = store.data().limiter.exceeded.or_else(|| e.downcast_ref::<LimitError>().map(|l| l.0));
        if let Some(x) = exceeded {
            return HostError::OutOfMemory { call, resource: x.resource, requested: x.requested, limit: x.limit };
        }
        match e.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => HostError::OutOfFuel { call, budget: fuel },
            Some(Trap::Interrupt) => HostError::Interrupted { call, deadline: self.inner.host.inner.config.deadline },
            Some(trap) => {
                let backtrace = e.downcast_ref::<WasmBacktrace>();
                // A Rust guest's panic runs the panic machinery, then aborts with `unreachable`.
                let panicked = backtrace.is_some_and(|b| {
                    b.frames().iter().filter_map(|f| f.func_name()).any(|name| name.contains("rust_panic"))
                });
                let message = match panicked.then(|| panic_message(store, &e)) {
                    Some(Some(message)) => format!("the plugin panicked: {message}"),
                    Some(None) => {
                        format!("the plugin panicked ({trap}) and left no message; the backtrace shows where")
                    }
                    None => trap.to_string(),
                };
                HostError::Trap { call, message, backtrace: backtrace.map(|b| b.to_string()) }
            }
            // Not a trap: the canonical ABI could not lift what the plugin returned.
            None => HostError::BadOutput { call, problem: malformed(e) },
        }
    }
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin").field("identity", &self.identity).finish_non_exhaustive()
    }
}

/// The message a panicking `sdk-guest` plugin left in its memory: the SDK's panic hook writes a
/// record (marker, u32 little-endian length, UTF-8 message of at most [`PANIC_CAPACITY`] bytes)
/// into a static, and the trap's core dump still holds the store's memories.
fn panic_message(store: &Store<State>, e: &wasmtime::Error) -> Option<String> {
    let dump = e.downcast_ref::<WasmCoreDump>()?;
    dump.memories().iter().find_map(|memory| {
        let data = memory.data(store);
        let at = memchr::memmem::find(data, PANIC_MARKER)? + PANIC_MARKER.len();
        let len = u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?) as usize;
        let message = data.get(at + 4..at + 4 + len.min(PANIC_CAPACITY))?;
        Some(String::from_utf8_lossy(message).into_owned())
    })
}

/// The marker of a panic record (`sdk-guest`'s `panic` module).
const PANIC_MARKER: &[u8; 16] = b"subnetkit:panic\0";

/// Most bytes of a panic message the host reports.
const PANIC_CAPACITY: usize = 1024;

fn bad(call: Call, problem: BadOutput) -> Fault {
    Fault::Host(HostError::BadOutput { call, problem })
}

fn malformed(e: wasmtime::Error) -> BadOutput {
    BadOutput::Malformed(format!("{e:#}"))
}

/// A score as the host passes it on: finite, in [0, 1], with negative zero made positive.
fn check_score(index: usize, value: f64) -> std::result::Result<f64, BadOutput> {
    if !value.is_finite() {
        return Err(BadOutput::NotFinite { index, value });
    }
    if !(0.0..=1.0).contains(&value) {
        return Err(BadOutput::OutOfRange { index, value });
    }
    Ok(if value == 0.0 { 0.0 } else { value })
}

/// The plugin's own error message, bounded like diagnostics.
fn plugin_error(message: String, limits: &crate::Limits) -> String {
    truncate(message, limits.diagnostics_bytes)
}

/// At most `limit` bytes of `s`, cut at a character boundary, with a note saying how long it was.
fn truncate(mut s: String, limit: usize) -> String {
    if s.len() <= limit {
        return s;
    }
    let note = format!(" [truncated: {} bytes in all]", s.len());
    let mut end = limit.saturating_sub(note.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s.push_str(&note);
    s
}

fn json(bytes: &[u8], what: &'static str) -> std::result::Result<(), BadOutput> {
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map(drop)
        .map_err(|e| BadOutput::InvalidJson { what, error: e.to_string() })
}

fn check_manifest(manifest: &Manifest, output_bytes: u64) -> std::result::Result<(), BadOutput> {
    let strings = [&manifest.name, &manifest.version, &manifest.description, &manifest.task_schema]
        .into_iter()
        .chain([&manifest.private_schema, &manifest.response_schema])
        .chain(&manifest.truth_schema)
        .chain(&manifest.feeds);
    let bytes = strings.map(|s| s.len() as u64).sum::<u64>();
    if bytes > output_bytes {
        return Err(BadOutput::TooLarge { what: "manifest", bytes, limit: output_bytes });
    }
    schema(&manifest.task_schema, "task-schema")?;
    schema(&manifest.private_schema, "private-schema")?;
    schema(&manifest.response_schema, "response-schema")?;
    if let Some(truth) = &manifest.truth_schema {
        schema(truth, "truth-schema")?;
    }
    let alpha = manifest.defaults.moving_average_alpha;
    if !(alpha > 0.0 && alpha <= 1.0) {
        return Err(BadOutput::Manifest {
            field: "defaults.moving-average-alpha",
            problem: format!("is {alpha}, outside (0, 1]"),
        });
    }
    if manifest.name.is_empty() {
        return Err(BadOutput::Manifest { field: "name", problem: "is empty".into() });
    }
    Ok(())
}

/// A JSON Schema is a JSON object or a boolean.
fn schema(text: &str, what: &'static str) -> std::result::Result<(), BadOutput> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(_) | serde_json::Value::Bool(_)) => Ok(()),
        Ok(_) => Err(BadOutput::InvalidJson { what, error: "a JSON Schema must be an object or a boolean".into() }),
        Err(e) => Err(BadOutput::InvalidJson { what, error: e.to_string() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_must_be_finite_and_in_range() {
        assert_eq!(check_score(0, 0.5), Ok(0.5));
        assert_eq!(check_score(0, 1.0), Ok(1.0));
        assert_eq!(check_score(0, -0.0).unwrap().to_bits(), 0.0f64.to_bits());
        assert!(matches!(check_score(3, f64::NAN), Err(BadOutput::NotFinite { index: 3, .. })));
        assert!(matches!(check_score(0, f64::INFINITY), Err(BadOutput::NotFinite { .. })));
        assert!(matches!(check_score(1, -0.1), Err(BadOutput::OutOfRange { index: 1, .. })));
        assert!(matches!(check_score(0, 1.000_000_1), Err(BadOutput::OutOfRange { .. })));
    }

    #[test]
    fn truncation_respects_char_boundaries_and_limit() {
        assert_eq!(truncate("short".into(), 100), "short");
        let long = "é".repeat(1000); // 2000 bytes
        let t = truncate(long, 100);
        assert!(t.len() <= 100, "{}", t.len());
        assert!(t.ends_with(" [truncated: 2000 bytes in all]"), "{t}");
    }

    #[test]
    fn schemas_are_objects_or_booleans() {
        assert!(schema(r#"{"type":"object"}"#, "x").is_ok());
        assert!(schema("true", "x").is_ok());
        assert!(schema("42", "x").is_err());
        assert!(schema("{", "x").is_err());
    }
}
