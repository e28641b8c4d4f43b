//! What the epoch writes, as the chain stores it, plus the raw intermediates used to debug a mismatch.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Rows;

/// Sparse rows of raw `I32F32` bits: `row → [(column, bits)]`, empty rows omitted.
pub type FixedRows = BTreeMap<u16, Vec<(u16, i64)>>;

/// The result of one epoch, field for field as in the vector format's `expected`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpochOutput {
    /// `Active`: `last_update + cutoff >= current_block`.
    pub active: Vec<bool>,
    /// New `ValidatorPermit`: top-k non-zero stake, owner forced; the next epoch's input.
    pub validator_permit: Vec<bool>,
    /// `floor(stake + tao_stake × tao_weight)`, before the threshold.
    pub stake: Vec<u64>,
    /// `StakeWeight`: normalised, threshold-filtered stake as `u16`.
    pub stake_weight: Vec<u16>,
    /// `Consensus`: the stake-weighted median weight of each uid.
    pub consensus: Vec<u16>,
    /// `Incentive`: normalised ranks.
    pub incentive: Vec<u16>,
    /// `Dividends`.
    pub dividends: Vec<u16>,
    /// `ValidatorTrust`: sum of each validator's clipped weights.
    pub validator_trust: Vec<u16>,
    /// Rao to each uid as a miner.
    pub server_emission: Vec<u64>,
    /// Rao to each uid as a validator (dividend share, or the stake fallback).
    pub validator_emission: Vec<u64>,
    /// `Emission`: combined, normalised, in rao.
    pub emission: Vec<u64>,
    /// `Bonds` rows after the epoch; uids without the new permit have none.
    pub bonds: Rows,
    /// Scalars derived from the parameters.
    pub derived: Derived,
    /// Raw `I32F32` bits of the main intermediate vectors.
    pub fixed: FixedVectors,
    /// Intermediate matrices, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrices: Option<Matrices>,
}

/// Scalars the epoch derives from its parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Derived {
    /// Activity cutoff in blocks.
    pub activity_cutoff_blocks: u64,
    /// Bonds to uids registered at or after this block are dropped before the EMA.
    pub last_tempo: u64,
    /// `I32F32` bits of `kappa / 65535`.
    pub kappa: i64,
    /// `I32F32` bits of `bonds_penalty / 65535`.
    pub bonds_penalty: i64,
}

/// Raw `I32F32` bits (value = bits / 2³²) of the epoch's intermediate vectors.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedVectors {
    /// Normalised, threshold-filtered stake.
    pub stake: Vec<i64>,
    /// Stake of active, permitted uids, re-normalised.
    pub active_stake: Vec<i64>,
    /// Consensus weights.
    pub consensus: Vec<i64>,
    /// Validator trust.
    pub validator_trust: Vec<i64>,
    /// Ranks before normalisation.
    pub ranks: Vec<i64>,
    /// Incentive (normalised ranks).
    pub incentive: Vec<i64>,
    /// Dividends.
    pub dividends: Vec<i64>,
    /// Miner share of the emission.
    pub normalized_server_emission: Vec<i64>,
    /// Validator share of the emission.
    pub normalized_validator_emission: Vec<i64>,
    /// Combined share of the emission.
    pub normalized_combined_emission: Vec<i64>,
}

/// The epoch's intermediate sparse matrices, for debugging.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matrices {
    /// Weights after every mask and row normalisation.
    pub weights: FixedRows,
    /// Weights clipped at consensus.
    pub clipped_weights: FixedRows,
    /// Weights after the bonds penalty.
    pub weights_for_bonds: FixedRows,
    /// Stored bonds after the re-registration mask (classic: also column-normalised).
    pub bonds_in: FixedRows,
    /// Classic: the column-normalised EMA; Yuma3: the EMA as stored, before `u16` quantisation.
    pub ema_bonds: FixedRows,
}

/// The first field where two outputs differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Field path, e.g. `consensus` or `matrices.weights`.
    pub field: String,
    /// Uid (or matrix row) where the field differs, if it is per uid.
    pub uid: Option<usize>,
    /// The expected value, rendered.
    pub expected: String,
    /// The value found, rendered.
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field `{}`", self.field)?;
        if let Some(uid) = self.uid {
            write!(f, ", uid {uid}")?;
        }
        write!(f, ": expected {}, got {}", self.expected, self.actual)
    }
}

impl EpochOutput {
    /// The first field (in the vector format's order) where `self` differs from `expected`.
    ///
    /// `matrices` are compared only when `expected` has them.
    pub fn first_mismatch(&self, expected: &EpochOutput) -> Option<Mismatch> {
        let (a, e) = (self, expected);
        let (af, ef) = (&a.fixed, &e.fixed);
        let (ad, ed) = (&a.derived, &e.derived);
        compare_vec("active", &a.active, &e.active)
            .or_else(|| compare_vec("validator_permit", &a.validator_permit, &e.validator_permit))
            .or_else(|| compare_vec("stake", &a.stake, &e.stake))
            .or_else(|| compare_vec("stake_weight", &a.stake_weight, &e.stake_weight))
            .or_else(|| compare_vec("consensus", &a.consensus, &e.consensus))
            .or_else(|| compare_vec("incentive", &a.incentive, &e.incentive))
            .or_else(|| compare_vec("dividends", &a.dividends, &e.dividends))
            .or_else(|| compare_vec("validator_trust", &a.validator_trust, &e.validator_trust))
            .or_else(|| compare_vec("server_emission", &a.server_emission, &e.server_emission))
            .or_else(|| compare_vec("validator_emission", &a.validator_emission, &e.validator_emission))
            .or_else(|| compare_vec("emission", &a.emission, &e.emission))
            .or_else(|| compare_rows("bonds", &a.bonds, &e.bonds))
            .or_else(|| {
                let scalar = |field: &str, x: i128, y: i128| {
                    (x != y).then(|| Mismatch {
                        field: format!("derived.{field}"),
                        uid: None,
                        expected: y.to_string(),
                        actual: x.to_string(),
                    })
                };
                scalar("activity_cutoff_blocks", ad.activity_cutoff_blocks.into(), ed.activity_cutoff_blocks.into())
                    .or_else(|| scalar("last_tempo", ad.last_tempo.into(), ed.last_tempo.into()))
                    .or_else(|| scalar("kappa", ad.kappa.into(), ed.kappa.into()))
                    .or_else(|| scalar("bonds_penalty", ad.bonds_penalty.into(), ed.bonds_penalty.into()))
            })
            .or_else(|| compare_vec("fixed.stake", &af.stake, &ef.stake))
            .or_else(|| compare_vec("fixed.active_stake", &af.active_stake, &ef.active_stake))
            .or_else(|| compare_vec("fixed.consensus", &af.consensus, &ef.consensus))
            .or_else(|| compare_vec("fixed.validator_trust", &af.validator_trust, &ef.validator_trust))
            .or_else(|| compare_vec("fixed.ranks", &af.ranks, &ef.ranks))
            .or_else(|| compare_vec("fixed.incentive", &af.incentive, &ef.incentive))
            .or_else(|| compare_vec("fixed.dividends", &af.dividends, &ef.dividends))
            .or_else(|| {
                compare_vec(
                    "fixed.normalized_server_emission",
                    &af.normalized_server_emission,
                    &ef.normalized_server_emission,
                )
            })
            .or_else(|| {
                compare_vec(
                    "fixed.normalized_validator_emission",
                    &af.normalized_validator_emission,
                    &ef.normalized_validator_emission,
                )
            })
            .or_else(|| {
                compare_vec(
                    "fixed.normalized_combined_emission",
                    &af.normalized_combined_emission,
                    &ef.normalized_combined_emission,
                )
            })
            .or_else(|| compare_matrices(a.matrices.as_ref(), e.matrices.as_ref()))
    }
}

fn compare_matrices(actual: Option<&Matrices>, expected: Option<&Matrices>) -> Option<Mismatch> {
    let expected = expected?;
    let Some(actual) = actual else {
        return Some(Mismatch {
            field: "matrices".into(),
            uid: None,
            expected: "intermediate matrices".into(),
            actual: "none (not computed)".into(),
        });
    };
    let (a, e) = (actual, expected);
    compare_rows("matrices.weights", &a.weights, &e.weights)
        .or_else(|| compare_rows("matrices.clipped_weights", &a.clipped_weights, &e.clipped_weights))
        .or_else(|| compare_rows("matrices.weights_for_bonds", &a.weights_for_bonds, &e.weights_for_bonds))
        .or_else(|| compare_rows("matrices.bonds_in", &a.bonds_in, &e.bonds_in))
        .or_else(|| compare_rows("matrices.ema_bonds", &a.ema_bonds, &e.ema_bonds))
}

fn compare_vec<T: PartialEq + fmt::Debug>(field: &str, actual: &[T], expected: &[T]) -> Option<Mismatch> {
    if let Some(uid) = actual.iter().zip(expected).position(|(a, e)| a != e) {
        return Some(Mismatch {
            field: field.into(),
            uid: Some(uid),
            expected: format!("{:?}", expected[uid]),
            actual: format!("{:?}", actual[uid]),
        });
    }
    (actual.len() != expected.len()).then(|| Mismatch {
        field: field.into(),
        uid: None,
        expected: format!("{} entries", expected.len()),
        actual: format!("{} entries", actual.len()),
    })
}

fn compare_rows<V: PartialEq + fmt::Debug>(
    field: &str,
    actual: &BTreeMap<u16, Vec<(u16, V)>>,
    expected: &BTreeMap<u16, Vec<(u16, V)>>,
) -> Option<Mismatch> {
    let empty = Vec::new();
    let uids = actual.keys().chain(expected.keys()).copied().collect::<std::collections::BTreeSet<_>>();
    uids.into_iter().find_map(|uid| {
        let a = actual.get(&uid).unwrap_or(&empty);
        let e = expected.get(&uid).unwrap_or(&empty);
        (a != e).then(|| Mismatch {
            field: field.into(),
            uid: Some(usize::from(uid)),
            expected: format!("{e:?}"),
            actual: format!("{a:?}"),
        })
    })
}
