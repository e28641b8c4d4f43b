//! Integration tests of `chain`: the weight conversion checked live against the Python SDK
//! (`bittensor==11.3.0`) on a few hundred generated cases, and the subtensor backend against the
//! real runtime under chopsticks.
//!
//! Needs the SDK's venv and chopsticks: run `scripts/setup.sh` first (or set `SUBNETKIT_PYTHON`).
//! Without them the tests fail, never skip.

mod python;
mod subtensor;
mod weights;
