//! Builds plugin crates to wasm components from a build script, so tests load plugins built from
//! source (never committed `.wasm` files).
//!
//! [`Build::run`] finds the workspace's `cdylib` packages with `cargo metadata`, builds the
//! chosen ones for `wasm32-unknown-unknown` with one nested `cargo build --locked`, componentises
//! each core module with [`componentize`], and writes `<package>.wasm` into the output
//! directory. The nested build gets a target directory of its own next to the outer one (found
//! by its `CACHEDIR.TAG`), shared by every profile of the outer build, so plugins compile once and
//! the nested build never waits for the outer build's lock.
//!
//! ```no_run
//! let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
//! let built = wasm_build::Build::new("../guests", &out).profile("release").run().unwrap();
//! for plugin in &built {
//!     println!("{} -> {}", plugin.name, plugin.wasm.display());
//! }
//! ```

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target plugins are built for.
pub const TARGET: &str = "wasm32-unknown-unknown";

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

/// Why the plugins could not be built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A cargo command could not run or failed.
    #[error("{0}")]
    Cargo(String),
    /// A package asked for is not a `cdylib` package of the workspace.
    #[error("package `{0}` is not a cdylib package of the workspace")]
    UnknownPackage(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A built module could not be componentised.
    #[error("package `{package}`: {source}")]
    Componentize {
        /// The package.
        package: String,
        /// What `componentize` said.
        source: componentize::Error,
    },
}

/// One nested build: which workspace, which packages, which profile, where the output goes.
#[derive(Clone, Debug)]
pub struct Build {
    workspace: PathBuf,
    out_dir: PathBuf,
    packages: Option<Vec<String>>,
    profile: String,
    target_subdir: String,
}

/// A plugin the build produced.
#[derive(Clone, Debug)]
pub struct Built {
    /// The package name, e.g. `rouge-l`.
    pub name: String,
    /// The core module as cargo produced it (a copy in the output directory).
    pub core: PathBuf,
    /// The loadable plugin: the component, or the core module for packages whose
    /// `[package.metadata.subnetkit] componentize = false`.
    pub wasm: PathBuf,
    /// The package's directory.
    pub dir: PathBuf,
}

impl Build {
    /// Builds every `cdylib` package of the workspace at `workspace` (a directory with a
    /// `Cargo.toml`) in release, writing plugins into `out_dir`.
    pub fn new(workspace: impl Into<PathBuf>, out_dir: impl Into<PathBuf>) -> Self {
        Build {
            workspace: workspace.into(),
            out_dir: out_dir.into(),
            packages: None,
            profile: "release".into(),
            target_subdir: "wasm-plugins".into(),
        }
    }

    /// Builds only these packages.
    pub fn packages<S: Into<String>>(mut self, packages: impl IntoIterator<Item = S>) -> Self {
        self.packages = Some(packages.into_iter().map(Into::into).collect());
        self
    }

    /// The cargo profile (default `release`).
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = profile.into();
        self
    }

    /// The name of the nested target directory next to the outer one (default `wasm-plugins`);
    /// builds of different workspaces need different names.
    pub fn target_subdir(mut self, name: impl Into<String>) -> Self {
        self.target_subdir = name.into();
        self
    }

    /// Runs the build. Inside a build script (`OUT_DIR` set) it prints `cargo:rerun-if-changed`
    /// for every built package's directory.
    pub fn run(&self) -> Result<Vec<Built>, Error> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut packages = self.discover(&cargo)?;
        if let Some(wanted) = &self.packages {
            if let Some(missing) = wanted.iter().find(|w| !packages.iter().any(|p| &p.name == *w)) {
                return Err(Error::UnknownPackage(missing.clone()));
            }
            packages.retain(|p| wanted.contains(&p.name));
        }
        if std::env::var_os("OUT_DIR").is_some() {
            for package in &packages {
                println!("cargo:rerun-if-changed={}", package.dir.display());
            }
        }
        let target_dir = nested_target_dir(&self.out_dir, &self.target_subdir);
        self.cargo_build(&cargo, &packages, &target_dir)?;

        let profile_dir = if self.profile == "dev" { "debug" } else { &self.profile };
        let built_dir = target_dir.join(TARGET).join(profile_dir);
        let core_dir = self.out_dir.join("core");
        fs::create_dir_all(&core_dir).map_err(|source| Error::Io { path: core_dir.clone(), source })?;
        packages
            .into_iter()
            .map(|package| {
                let wasm = built_dir.join(format!("{}.wasm", package.lib));
                let core = fs::read(&wasm).map_err(|source| Error::Io { path: wasm.clone(), source })?;
                let core_path = core_dir.join(format!("{}.wasm", package.name));
                write_if_changed(&core_path, &core)?;
                let out = self.out_dir.join(format!("{}.wasm", package.name));
                if package.componentize {
                    let component = componentize::componentize(&core)
                        .map_err(|source| Error::Componentize { package: package.name.clone(), source })?;
                    write_if_changed(&out, &component)?;
                } else {
                    write_if_changed(&out, &core)?;
                }
                Ok(Built { name: package.name, core: core_path, wasm: out, dir: package.dir })
            })
            .collect()
    }

    /// The workspace's `cdylib` packages, sorted by name.
    fn discover(&self, cargo: &OsString) -> Result<Vec<Package>, Error> {
        let output = Command::new(cargo)
            .current_dir(&self.workspace)
            .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
            .output()
            .map_err(|e| Error::Cargo(format!("cannot run cargo metadata: {e}")))?;
        if !output.status.success() {
            return Err(Error::Cargo(format!(
                "cargo metadata failed in {}:\n{}",
                self.workspace.display(),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        let json: serde_json::Value = serde_json::from_slice(&output.stdout)
            .map_err(|e| Error::Cargo(format!("cargo metadata printed no JSON: {e}")))?;
        let mut packages = Vec::new();
        for package in json["packages"].as_array().into_iter().flatten() {
            let is_cdylib = |t: &&serde_json::Value| {
                t["crate_types"].as_array().is_some_and(|types| types.iter().any(|c| c == "cdylib"))
            };
            let Some(lib) = package["targets"].as_array().into_iter().flatten().find(is_cdylib) else { continue };
            let (Some(name), Some(lib), Some(manifest)) =
                (package["name"].as_str(), lib["name"].as_str(), package["manifest_path"].as_str())
            else {
                continue;
            };
            let componentize = package["metadata"]["subnetkit"]["componentize"].as_bool().unwrap_or(true);
            let dir = Path::new(manifest).parent().map(Path::to_path_buf).unwrap_or_default();
            packages.push(Package { name: name.to_owned(), lib: lib.replace('-', "_"), componentize, dir });
        }
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(packages)
    }

    fn cargo_build(&self, cargo: &OsString, packages: &[Package], target_dir: &Path) -> Result<(), Error> {
        let mut build = Command::new(cargo);
        build
            .current_dir(&self.workspace)
            .args(["build", "--locked", "--target", TARGET, "--profile", &self.profile, "--target-dir"])
            .arg(target_dir);
        for package in packages {
            build.args(["-p", &package.name]);
        }
        for var in CLEARED {
            build.env_remove(var);
        }
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            // Profile overrides and per-target flags of the outer build, and cargo's private variables.
            if key.starts_with("CARGO_PROFILE_") || key.starts_with("CARGO_TARGET_") || key.starts_with("__CARGO") {
                build.env_remove(&*key);
            }
        }
        let status = build.status().map_err(|e| Error::Cargo(format!("cannot run cargo build: {e}")))?;
        if !status.success() {
            return Err(Error::Cargo(format!(
                "cargo build of the plugins in {} failed ({status}); see the output above. The build is --locked: \
                 after adding a plugin or a dependency, refresh the workspace's Cargo.lock with \
                 `cargo metadata --format-version 1 --manifest-path {}/Cargo.toml >/dev/null`",
                self.workspace.display(),
                self.workspace.display()
            )));
        }
        Ok(())
    }
}

/// A `cdylib` package, as `cargo metadata` describes it.
struct Package {
    name: String,
    /// Library target name with `_` for `-`: the wasm file is `<lib>.wasm`.
    lib: String,
    componentize: bool,
    dir: PathBuf,
}

/// `<outer target dir>/<name>`, the outer target directory being the nearest ancestor of
/// `out_dir` holding a `CACHEDIR.TAG`; `out_dir/<name>` if there is none.
fn nested_target_dir(out_dir: &Path, name: &str) -> PathBuf {
    out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(|target| target.join(name))
        .unwrap_or_else(|| out_dir.join(name))
}

/// Writes `bytes` unless the file already holds them (keeps the file's mtime for dependents).
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    fs::write(path, bytes).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}
