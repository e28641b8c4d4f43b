//! Finding the Python interpreter with the Bittensor SDK (`bittensor==11.3.0`), as the miner's
//! interop test does.

use std::path::{Path, PathBuf};

/// This crate's Python side (`tests/interop`).
pub(crate) fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// The interpreter with the SDK's weight code (see `test_python::find_python`).
pub(crate) fn find_python() -> Result<PathBuf, String> {
    test_python::find_python("from bittensor.intents.weights import clip_to_max_weight, normalize, _conform")
}
