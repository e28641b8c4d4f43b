//! Integration tests of `chain`: the weight conversion checked live against the Python SDK
//! (`bittensor==11.3.0`) on a few hundred generated cases.
//!
//! Needs the SDK's venv: run `scripts/setup.sh` first (or set `SUBNETKIT_PYTHON`). Without it the
//! test fails, never skips.

mod python;
mod weights;
