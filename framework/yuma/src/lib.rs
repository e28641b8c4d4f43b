//! Yuma Consensus: the subtensor chain's per-subnet epoch, bit for bit.
//!
//! [`epoch`] turns one subnet's stored state ([`EpochInput`]: stake, permits, weights, bonds and
//! hyperparameters) into what the chain writes back ([`EpochOutput`]: consensus, incentive,
//! dividends, emissions, new permits and bonds). Every step uses the chain's fixed-point types
//! (`substrate-fixed` `I32F32`, `I64F64`, `I96F32`) with the chain's rounding, so the outputs are
//! identical to the chain's, including the classic, Yuma3 and liquid-alpha variants.
//!
//! The computation is sparse: its cost grows with the number of stored weights and bonds, not
//! with n². The crate does no I/O.
//!
//! # Layout
//! - `input`, `output`: the epoch's data, in the chain's units; `vector`: the test-vector format.
//! - `epoch`: the steps in chain order; `consensus`: the stake-weighted median; `bonds`: bond EMAs.
//! - `sparse`: the row-compressed matrix every step works on; `fixed`: the fixed-point primitives.

mod bonds;
mod consensus;
mod epoch;
mod fixed;
mod input;
mod output;
mod sparse;
mod vector;

pub use epoch::{Options, Workspace, epoch};
pub use input::{EpochInput, MAX_NEURONS, Neuron, Params, Rows, ValidInput};
pub use output::{Derived, EpochOutput, FixedRows, FixedVectors, Matrices, Mismatch};
pub use vector::{VECTOR_FORMAT, VectorEpoch, VectorFile};

/// Input the epoch cannot run on, with the path of the offending field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct InputError {
    /// Path of the field, e.g. `epochs[0].input.weights.3[1]`.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl InputError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> InputError {
        InputError { path: path.into(), message: message.into() }
    }

    /// The same error, with its path placed under `parent`.
    pub(crate) fn within(self, parent: &str) -> InputError {
        InputError { path: format!("{parent}.{}", self.path), message: self.message }
    }
}
