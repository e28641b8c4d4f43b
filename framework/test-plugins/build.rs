//! Builds every guest crate under `guests/` for `wasm32-unknown-unknown` with one nested
//! `cargo build --release --locked`, componentises each core module with `componentize`, and
//! writes `<package>.wasm` into `OUT_DIR` plus `guests.rs`, the constants `src/lib.rs` includes.
//!
//! Guests are found by directory: `guests/Cargo.toml` is a workspace with `members = ["*"]`, and
//! `cargo metadata` lists its packages. A package whose `[package.metadata.test-plugins]` has
//! `componentize = false` is shipped as its core module (for host tests of modules that are not
//! components).

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const TARGET: &str = "wasm32-unknown-unknown";

/// Environment variables of the outer build that must not reach the nested one: flags meant for
/// the host build (coverage, sanitizers, `-D warnings`), its target directory and target, and the
/// clippy wrapper.
const CLEARED: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTDOCFLAGS",
    "CARGO_ENCODED_RUSTDOCFLAGS",
    "CARGO_BUILD_RUSTDOCFLAGS",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_BUILD_BUILD_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_LLVM_COV",
    "CARGO_LLVM_COV_TARGET_DIR",
    "LLVM_PROFILE_FILE",
];

/// A guest package, as `cargo metadata` describes it.
struct Guest {
    /// Package name, e.g. `rouge-l`.
    name: String,
    /// Library target name, e.g. `rouge_l`: the wasm file is `<lib>.wasm`.
    lib: String,
    /// Whether to turn the core module into a component.
    componentize: bool,
}

fn main() {
    let started = Instant::now();
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let guests_dir = manifest_dir.join("guests");
    let repo = manifest_dir.join("../..");

    println!("cargo:rerun-if-changed={}", guests_dir.display());
    for path in ["sdk-guest/src", "sdk-guest/wit", "sdk-guest/Cargo.toml", "rust-toolchain.toml"] {
        println!("cargo:rerun-if-changed={}", repo.join(path).display());
    }

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let guests = discover(&cargo, &guests_dir);
    let target_dir = nested_target_dir(&out_dir);

    let mut build = Command::new(&cargo);
    build
        .current_dir(&guests_dir)
        .args(["build", "--release", "--locked", "--workspace", "--target", TARGET, "--target-dir"])
        .arg(&target_dir);
    for var in CLEARED {
        build.env_remove(var);
    }
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy();
        // Profile overrides and per-target flags of the outer build, and cargo's private variables.
        if key.starts_with("CARGO_PROFILE_") || key.starts_with("CARGO_TARGET_") || key.starts_with("__CARGO") {
            build.env_remove(&*key);
        }
    }
    let status = build.status().unwrap_or_else(|e| panic!("cannot run cargo build for the guests: {e}"));
    if !status.success() {
        panic!(
            "cargo build of the guests in {} failed ({status}); see the output above. If a guest was added, \
             removed or given a new dependency, refresh guests/Cargo.lock (the build is --locked): \
             cargo metadata --format-version 1 --manifest-path framework/test-plugins/guests/Cargo.toml >/dev/null",
            guests_dir.display()
        );
    }
    let built = started.elapsed();

    let release = target_dir.join(TARGET).join("release");
    let core_dir = out_dir.join("core");
    fs::create_dir_all(&core_dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", core_dir.display()));
    let mut components = BTreeMap::new();
    let mut cores = BTreeMap::new();
    for guest in &guests {
        let wasm = release.join(format!("{}.wasm", guest.lib));
        let core =
            fs::read(&wasm).unwrap_or_else(|e| panic!("guest `{}`: cannot read {}: {e}", guest.name, wasm.display()));
        let core_path = core_dir.join(format!("{}.wasm", guest.name));
        write_if_changed(&core_path, &core);
        cores.insert(guest.name.clone(), core_path.clone());
        let out = out_dir.join(format!("{}.wasm", guest.name));
        if guest.componentize {
            let component = componentize::componentize(&core)
                .unwrap_or_else(|e| panic!("guest `{}`: {}: {e}", guest.name, wasm.display()));
            write_if_changed(&out, &component);
        } else {
            write_if_changed(&out, &core);
        }
        components.insert(guest.name.clone(), out);
    }
    fs::write(out_dir.join("guests.rs"), generate(&out_dir, &components, &cores))
        .unwrap_or_else(|e| panic!("cannot write guests.rs: {e}"));
    // In the build script's `output` file, for whoever wonders where the time went.
    println!(
        "# test-plugins: built {} guest(s) in {:.1}s (nested cargo {:.1}s)",
        guests.len(),
        started.elapsed().as_secs_f64(),
        built.as_secs_f64()
    );
}

/// The guest packages: the members of the `guests/` workspace that build a `cdylib`.
fn discover(cargo: &std::ffi::OsStr, guests_dir: &Path) -> Vec<Guest> {
    let mut metadata = Command::new(cargo);
    metadata.current_dir(guests_dir).args(["metadata", "--format-version", "1", "--no-deps", "--offline"]);
    let output = metadata.output().unwrap_or_else(|e| panic!("cannot run cargo metadata: {e}"));
    if !output.status.success() {
        panic!("cargo metadata failed in {}:\n{}", guests_dir.display(), String::from_utf8_lossy(&output.stderr));
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let mut guests = Vec::new();
    for package in json["packages"].as_array().expect("packages") {
        let name = package["name"].as_str().expect("package name").to_owned();
        let lib = package["targets"]
            .as_array()
            .expect("targets")
            .iter()
            .find(|t| t["crate_types"].as_array().is_some_and(|types| types.iter().any(|c| c == "cdylib")));
        let Some(lib) = lib else {
            panic!("guest `{name}` has no cdylib target; add `[lib] crate-type = [\"cdylib\"]` to its Cargo.toml");
        };
        let componentize = package["metadata"]["test-plugins"]["componentize"].as_bool().unwrap_or(true);
        guests.push(Guest { name, lib: lib["name"].as_str().expect("target name").replace('-', "_"), componentize });
    }
    guests.sort_by(|a, b| a.name.cmp(&b.name));
    guests
}

/// Where the nested build puts its files: `wasm-guests` in the outer target directory (found by
/// its `CACHEDIR.TAG`), shared by every profile of the outer build so the guests are compiled
/// once; `OUT_DIR` if the outer target directory cannot be found. Its lock is its own, so the
/// nested build never waits for the outer one.
fn nested_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(|target| target.join("wasm-guests"))
        .unwrap_or_else(|| out_dir.join("wasm-guests"))
}

/// Writes `bytes` unless the file already holds them (keeps the file's mtime for dependents).
fn write_if_changed(path: &Path, bytes: &[u8]) {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return;
    }
    fs::write(path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

fn constant(name: &str) -> String {
    name.to_uppercase().replace('-', "_")
}

fn generate(out_dir: &Path, components: &BTreeMap<String, PathBuf>, cores: &BTreeMap<String, PathBuf>) -> String {
    let mut s = String::from("// Generated by build.rs.\n\n");
    let _ = writeln!(
        s,
        "/// The directory holding every `<guest>.wasm`.\npub const DIR: &str = {:?};\n",
        out_dir.display().to_string()
    );
    for (name, path) in components {
        let _ = writeln!(
            s,
            "/// Path of the `{name}` guest's plugin (`guests/{name}`), built and componentised.\npub const {}: &str = {:?};\n",
            constant(name),
            path.display().to_string()
        );
    }
    s.push_str(
        "/// Every guest, as `(package name, plugin path)`, sorted by name.\npub const ALL: &[(&str, &str)] = &[\n",
    );
    for name in components.keys() {
        let _ = writeln!(s, "    ({name:?}, {}),", constant(name));
    }
    s.push_str("];\n\n");
    s.push_str(
        "/// Every guest's core module as the nested cargo build produced it (before componentising), as\n\
         /// `(package name, path)`.\npub const CORE_MODULES: &[(&str, &str)] = &[\n",
    );
    for (name, path) in cores {
        let _ = writeln!(s, "    ({name:?}, {:?}),", path.display().to_string());
    }
    s.push_str("];\n\n");
    s.push_str(
        "/// Calls `$m!(ident, CONSTANT)` once per guest (e.g. `$m!(rouge_l, ROUGE_L)`), so a test suite can\n\
         /// require one test per guest.\n#[macro_export]\nmacro_rules! foreach_guest {\n    ($m:ident) => {\n",
    );
    for name in components.keys() {
        let _ = writeln!(s, "        $m!({}, {});", name.replace('-', "_"), constant(name));
    }
    s.push_str("    };\n}\n");
    s
}
