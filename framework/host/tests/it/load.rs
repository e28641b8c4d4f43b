//! Loading: identity, the artifact cache, and everything refused before or at load.

use std::fs;
use std::time::Duration;

use host::{Host, HostConfig, HostError, Limits};

use crate::support::{self, cache_dir, config, good_still_scores, host, plugin_path, timed};
use crate::wasm;

#[track_caller]
fn refused(bytes: &[u8]) -> HostError {
    match host().load_bytes(bytes) {
        Ok(plugin) => panic!("loaded {plugin:?}"),
        Err(e) => e,
    }
}

#[test]
fn identity_names_the_plugin_and_the_engine() {
    let plugin = support::hostile();
    let id = plugin.identity();
    let bytes = fs::read(plugin_path("hostile")).unwrap();
    use sha2::Digest;
    let sha = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(id.sha256, sha);
    assert_eq!(id.abi_version, "0.1.0");
    assert_eq!(id.wasmtime_version, host::WASMTIME_VERSION);
    assert_eq!(id.engine_config, host().engine_config());
    assert_eq!(id.fuel, host::FuelBudget::default());
    let custom = host::FuelBudget { score: 5, ..Default::default() };
    assert_eq!(plugin.clone().with_fuel(custom).identity().fuel, custom);
    assert!(id.to_string().starts_with(&format!("sha256={sha} abi=0.1.0 wasmtime=")), "{id}");
}

/// Every guest that `test-plugins` builds loads, answers `manifest` (whose checks it passes) and
/// makes a task: the host accepts what the SDK and `componentize` produce.
#[test]
fn every_test_plugin_loads() {
    for (name, path) in test_plugins::ALL {
        let plugin = host().load(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(plugin.identity().abi_version, "0.1.0");
        let manifest = plugin.manifest().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&manifest.name, name);
        plugin.make_task(&host::Context { seed: 11, ..Default::default() }).unwrap().unwrap();
    }
}

#[test]
fn manifest_is_read_and_checked() {
    let manifest = support::hostile().manifest().unwrap();
    assert_eq!(manifest.name, "hostile");
    assert_eq!(manifest.task_schema, r#"{"type":"object"}"#);
    assert_eq!(manifest.defaults.moving_average_alpha, 0.1);
    assert!(manifest.feeds.is_empty());
}

#[test]
fn artifact_is_written_once_and_reused_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = Host::new(HostConfig::new(dir.path())).unwrap();
    first.load(plugin_path("hostile")).unwrap();
    let artifacts: Vec<_> = fs::read_dir(dir.path().join(format!("wasmtime-{}", host::WASMTIME_VERSION)))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .collect();
    assert_eq!(artifacts.len(), 1, "{artifacts:?}");
    let written = fs::metadata(&artifacts[0]).unwrap().modified().unwrap();
    drop(first);

    // A restart: a new host (new engine) on the same cache maps the artifact, compiling nothing.
    let second = Host::new(HostConfig::new(dir.path())).unwrap();
    let plugin = second.load(plugin_path("hostile")).unwrap();
    assert_eq!(fs::metadata(&artifacts[0]).unwrap().modified().unwrap(), written);
    assert_eq!(plugin.manifest().unwrap().name, "hostile");
}

#[test]
fn cache_that_others_can_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let versioned = dir.path().join(format!("wasmtime-{}", host::WASMTIME_VERSION));
    fs::create_dir(&versioned).unwrap();
    fs::set_permissions(&versioned, fs::Permissions::from_mode(0o777)).unwrap();
    let err = Host::new(HostConfig::new(dir.path())).unwrap_err();
    assert!(matches!(err, HostError::Cache { .. }), "{err:?}");
    assert!(err.to_string().contains("writable by other users (mode 777)"), "{err}");
    assert!(err.is_local_fault());
}

#[test]
fn cache_directory_is_created_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    Host::new(HostConfig::new(dir.path().join("a/b"))).unwrap();
    let versioned = dir.path().join(format!("a/b/wasmtime-{}", host::WASMTIME_VERSION));
    assert_eq!(fs::metadata(versioned).unwrap().permissions().mode() & 0o777, 0o700);
}

#[test]
fn missing_file_is_an_io_error() {
    let err = host().load("/nonexistent/plugin.wasm").unwrap_err();
    assert!(matches!(err, HostError::Io { .. }), "{err:?}");
    assert!(err.to_string().starts_with("/nonexistent/plugin.wasm: cannot read plugin: "), "{err}");
}

#[test]
fn wrong_abi_version_is_refused_before_compiling() {
    let good = fs::read(plugin_path("hostile")).unwrap();
    let (err, took) = timed(|| refused(&wasm::with_abi(&good, Some("0.2.0"))));
    match &err {
        HostError::AbiMismatch { found: Some(v), .. } => assert_eq!(v, "0.2.0"),
        e => panic!("{e:?}"),
    }
    assert_eq!(err.to_string(), r#"abi mismatch: plugin declares ABI "0.2.0"; this host supports 0.1.0"#);
    assert!(took < Duration::from_secs(5), "{took:?}"); // far less than a compile in this profile
    good_still_scores(host());
}

#[test]
fn missing_abi_section_is_refused() {
    let good = fs::read(plugin_path("hostile")).unwrap();
    let err = refused(&wasm::with_abi(&good, None));
    assert!(matches!(err, HostError::AbiMismatch { found: None, .. }), "{err:?}");
    assert!(err.to_string().contains("no `subnetkit:abi` section"), "{err}");
}

#[test]
fn component_with_an_import_is_refused_naming_it() {
    let err = refused(&wasm::importing("wasi:io/poll@0.2.6"));
    match &err {
        HostError::Imports { names } => assert_eq!(names, &["wasi:io/poll@0.2.6"]),
        e => panic!("{e:?}"),
    }
    assert_eq!(err.to_string(), "plugin imports `wasi:io/poll@0.2.6`, but the host provides no imports");
    good_still_scores(host());
}

#[test]
fn component_importing_only_types_is_refused() {
    // Even an interface of types alone is refused: a plugin imports nothing at all.
    let err = refused(&wasm::importing_types("subnetkit:mechanism/types@0.1.0"));
    match &err {
        HostError::Imports { names } => assert_eq!(names, &["subnetkit:mechanism/types@0.1.0"]),
        e => panic!("{e:?}"),
    }
    assert_eq!(err.to_string(), "plugin imports `subnetkit:mechanism/types@0.1.0`, but the host provides no imports");
    good_still_scores(host());
}

#[test]
fn component_without_the_exports_is_an_abi_mismatch() {
    let err = refused(&wasm::empty_component());
    assert!(matches!(err, HostError::AbiMismatch { .. }), "{err:?}");
    assert_eq!(err.to_string(), "abi mismatch: export `subnetkit:mechanism/mechanism@0.1.0` is missing (ABI 0.1.0)");
}

#[test]
fn core_module_and_garbage_are_invalid() {
    let err = refused(&wasm::plain_module());
    assert!(matches!(err, HostError::AbiMismatch { found: None, .. } | HostError::InvalidModule { .. }), "{err:?}");
    let err = refused(b"\0asm\x0d\0\x01\0garbage");
    assert!(matches!(err, HostError::InvalidModule { .. } | HostError::AbiMismatch { .. }), "{err:?}");
    let err = refused(b"not wasm at all");
    assert!(matches!(err, HostError::InvalidModule { .. } | HostError::AbiMismatch { .. }), "{err:?}");
}

#[test]
fn compile_time_bomb_is_refused_before_compiling() {
    // One 4 MiB function (plus its locals count and `end`): valid wasm, over the 1 MiB limit.
    let (err, took) = timed(|| refused(&wasm::bomb(1, 4 << 20)));
    assert!(matches!(err, HostError::InvalidModule { .. }), "{err:?}");
    assert_eq!(err.to_string(), "invalid plugin: a function body is 4194306 bytes, over the 1048576-byte limit");
    assert!(took < Duration::from_secs(5), "{took:?}");

    // 200,000 tiny functions: over the 100,000-function limit.
    let (err, took) = timed(|| refused(&wasm::bomb(200_000, 1)));
    assert!(err.to_string().contains("over the limit of 100000"), "{err}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    good_still_scores(host());
}

#[test]
fn oversized_file_is_refused_before_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.wasm");
    let file = fs::File::create(&path).unwrap();
    file.set_len(Limits::default().plugin_bytes + 1).unwrap(); // sparse: nothing is written
    let (err, took) = timed(|| host().load(&path).unwrap_err());
    assert_eq!(err.to_string(), "invalid plugin: plugin is 16777217 bytes, over the 16777216-byte limit");
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[test]
fn instantiation_limits_are_checked_at_load() {
    // A host whose memory limit is below the plugin's initial memory cannot instantiate it.
    let limits = Limits { memory_bytes: 64 * 1024, ..Limits::default() };
    let host = Host::new(HostConfig { limits, ..config() }).unwrap();
    let err = host.load(plugin_path("hostile")).unwrap_err();
    assert!(matches!(err, HostError::InvalidModule { .. }), "{err:?}");
    assert!(err.to_string().contains("memory limit exceeded"), "{err}");
    assert!(cache_dir().is_dir());
}
