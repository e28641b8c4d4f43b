//! Integration tests of the `subnetkit` binary: run it as a user would, then check exit code and output.
//!
//! One test binary for the package (`tests/it/main.rs` plus modules), so the binary is linked once.

mod bad_input;
mod btauth;
mod check;
mod demo;
mod localnet;
mod miner;
mod plugin;
mod run;
mod subtensor;
mod validator;
mod wallet;
mod weights;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;
use serde_json::Value;

/// Exit code of `--check` when a field differs.
const EXIT_MISMATCH: i32 = 1;
/// Exit code for input the command cannot use.
const EXIT_BAD_INPUT: i32 = 2;

/// The `subnetkit` binary built from this package.
fn subnetkit() -> Command {
    Command::cargo_bin("subnetkit").expect("cargo builds the subnetkit binary for integration tests")
}

/// Path of a committed `yuma-epoch-vector/v1` file.
fn vector_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../yuma/tests/vectors").join(name)
}

/// A committed vector file, parsed as plain JSON so tests can edit it.
fn vector_json(name: &str) -> Value {
    let path = vector_path(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// A file in the system temp dir with a name unique to this process and call, removed on drop.
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    fn with_bytes(tag: &str, bytes: &[u8]) -> TempFile {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("subnetkit-cli-it-{}-{unique}-{tag}.json", std::process::id());
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        TempFile { path }
    }

    fn with_json(tag: &str, value: &Value) -> TempFile {
        TempFile::with_bytes(tag, &serde_json::to_vec(value).expect("a JSON value serialises"))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Stdout, stderr and exit code of a finished run.
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `subnetkit` with `args` and no standard input.
fn run(args: &[&str]) -> Outcome {
    outcome(subnetkit().args(args).output().expect("subnetkit starts"))
}

/// Runs `subnetkit` with `args`, feeding `stdin` to it.
fn run_with_stdin(args: &[&str], stdin: Vec<u8>) -> Outcome {
    outcome(subnetkit().args(args).write_stdin(stdin).output().expect("subnetkit starts"))
}

fn outcome(output: std::process::Output) -> Outcome {
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

impl Outcome {
    /// Panics with the whole outcome unless the run exited with `code`.
    #[track_caller]
    fn assert_code(&self, code: i32) -> &Outcome {
        assert_eq!(self.code, Some(code), "exit code\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }
}
