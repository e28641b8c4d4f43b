//! The on-disk cache of precompiled plugins.
//!
//! A plugin is compiled once per (wasm sha256, wasmtime version, engine configuration). The artifact
//! is written to a temporary file in the cache directory, synced, and renamed into place, so a
//! concurrent reader (another test process, another validator thread) sees either no artifact or a
//! complete one, never a partial file. Only files this host wrote are ever loaded.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::engine::WASMTIME_VERSION;
use crate::error::{HostError, Result};

pub(crate) struct Cache {
    dir: PathBuf,
    engine_hash: String,
}

impl Cache {
    /// Opens (creating it if needed, private to this user) `<cache_dir>/wasmtime-<version>/`.
    ///
    /// Refuses a directory that others can write to: artifacts are native code, and only this
    /// host's own may ever be loaded.
    pub(crate) fn open(cache_dir: &Path, engine_hash: String) -> Result<Cache> {
        let dir = cache_dir.join(format!("wasmtime-{WASMTIME_VERSION}"));
        private_dir(&dir).map_err(|e| cache_error(&dir, format!("cannot create the directory: {e}")))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&dir).map_err(|e| cache_error(&dir, e.to_string()))?.permissions().mode();
            if mode & 0o022 != 0 {
                return Err(cache_error(
                    &dir,
                    format!(
                        "the directory is writable by other users (mode {:o}); artifacts there cannot be trusted",
                        mode & 0o777
                    ),
                ));
            }
        }
        Ok(Cache { dir, engine_hash })
    }

    /// Where the artifact of a plugin with this sha256 lives.
    pub(crate) fn artifact_path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}-{}.cwasm", &self.engine_hash[..32]))
    }

    /// Loads the plugin's artifact, compiling and storing it first if there is none.
    pub(crate) fn load(&self, engine: &Engine, wasm: &[u8], sha256: &str) -> Result<Component> {
        let path = self.artifact_path(sha256);
        // Our own artifact. Should this engine refuse it anyway (say, a wasmtime build with other
        // settings wrote it under the same key), compile again and replace it.
        if path.is_file()
            && let Ok(component) = deserialize(engine, &path)
        {
            return Ok(component);
        }
        // Compile under an exclusive lock on a per-artifact lock file, so concurrent processes
        // sharing the cache (nextest's process per test, several validators) compile a plugin once:
        // the others wait, then find the artifact.
        let lock_path = path.with_extension("lock");
        let lock = fs::File::create(&lock_path)
            .and_then(|file| file.lock().map(|()| file))
            .map_err(|e| cache_error(&lock_path, format!("cannot lock: {e}")))?;
        if path.is_file()
            && let Ok(component) = deserialize(engine, &path)
        {
            return Ok(component);
        }
        let artifact = engine
            .precompile_component(wasm)
            .map_err(|e| HostError::InvalidModule { reason: format!("compilation failed: {e:#}") })?;
        self.store(&path, &artifact)?;
        drop(lock);
        deserialize(engine, &path).map_err(|e| cache_error(&path, format!("cannot load the fresh artifact: {e:#}")))
    }

    fn store(&self, path: &Path, artifact: &[u8]) -> Result<()> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = self.dir.join(format!(".tmp-{}-{n}", std::process::id()));
        let written = (|| {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(artifact)?;
            file.sync_all()?;
            fs::rename(&tmp, path)
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(cache_error(path, format!("cannot write the artifact: {e}")));
        }
        Ok(())
    }
}

/// Maps a precompiled artifact into memory.
#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: a precompiled artifact is native code that wasmtime trusts. The only files loaded here
    // are artifacts this host compiled itself and wrote into its own cache directory, under a name
    // keyed by the wasm's sha256, the wasmtime version and the engine-configuration hash (which
    // includes wasmtime's compatibility hash for this machine). They are written to a temporary
    // file, synced and renamed into place, so a partial file is never visible under that name.
    // Artifacts are never accepted from anywhere else (not over the network, not from a user).
    unsafe { Component::deserialize_file(engine, path) }
}

/// `create_dir_all`, with the directories it creates readable and writable by this user only.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn cache_error(path: &Path, message: String) -> HostError {
    HostError::Cache { path: path.to_path_buf(), message }
}
