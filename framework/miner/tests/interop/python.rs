//! Finding the Python interpreter with the Bittensor SDK (`bittensor==11.3.0`), shared by the
//! interop test (`tests/it/interop.rs`) and the benchmark (`benches/verified_rps.rs`).

use std::path::{Path, PathBuf};

/// This directory: the Python side of the interop test and the benchmark.
pub(crate) fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// The interpreter with `bittensor.http_auth` (see `test_python::find_python`).
pub(crate) fn find_python() -> Result<PathBuf, String> {
    test_python::find_python("import bittensor; from bittensor import http_auth; http_auth.sign; http_auth.verify")
}
