//! What the epoch reads: one subnet's hyperparameters and storage, in the chain's own units.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::InputError;

/// Sparse `u16` rows exactly as the chain stores `Weights` or `Bonds`: `uid → [(target, value)]`.
///
/// Order within a row and zero-valued pairs are significant and kept. A missing key is an empty row.
pub type Rows = BTreeMap<u16, Vec<(u16, u16)>>;

/// The largest subnet the epoch accepts: every uid must fit in a `u16`.
pub const MAX_NEURONS: usize = 1 << 16;

/// Hyperparameters and globals the epoch reads (chain storage item in brackets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Blocks between epochs (`Tempo`).
    pub tempo: u16,
    /// Activity cutoff as thousandths of a tempo (`ActivityCutoffFactorMilli`).
    pub activity_cutoff_factor_milli: u32,
    /// Consensus majority as a fraction of 65535 (`Kappa`).
    pub kappa: u16,
    /// Bond EMA memory, per million (`BondsMovingAverage`).
    pub bonds_moving_average: u64,
    /// How much clipping penalises bonds, as a fraction of 65535 (`BondsPenalty`).
    pub bonds_penalty: u16,
    /// Number of validator permits (`MaxAllowedValidators`).
    pub max_allowed_validators: u16,
    /// Per-bond EMA alpha from a sigmoid; only acts with Yuma3 (`LiquidAlphaOn`).
    pub liquid_alpha_enabled: bool,
    /// Lower liquid alpha, as a fraction of 65535 (`AlphaValues.0`).
    pub alpha_low: u16,
    /// Upper liquid alpha, as a fraction of 65535 (`AlphaValues.1`).
    pub alpha_high: u16,
    /// Steepness of the liquid alpha sigmoid (`AlphaSigmoidSteepness`).
    pub alpha_sigmoid_steepness: i16,
    /// Yuma3 bonds and dividends instead of the classic ones (`Yuma3On`).
    pub yuma3_enabled: bool,
    /// Minimum stake, in rao, to count at all; the owner is exempt (`StakeThreshold`).
    pub stake_threshold: u64,
    /// Weight of root TAO stake, as a fraction of `u64::MAX` (`TaoWeight`).
    pub tao_weight: u64,
    /// Whether weights of unexpired commits are masked (`CommitRevealWeightsEnabled`).
    pub commit_reveal_weights_enabled: bool,
    /// Uid of the subnet owner's hotkey, if it is registered.
    pub subnet_owner_uid: Option<u16>,
}

impl Default for Params {
    /// What a subnet created today gets: the runtime defaults plus `init_new_network`'s overrides.
    fn default() -> Params {
        Params {
            tempo: 360,
            activity_cutoff_factor_milli: 13_889,
            kappa: 32_767,
            bonds_moving_average: 900_000,
            bonds_penalty: 65_535,
            max_allowed_validators: 64,
            liquid_alpha_enabled: false,
            alpha_low: 45_875,
            alpha_high: 58_982,
            alpha_sigmoid_steepness: 1000,
            yuma3_enabled: true,
            stake_threshold: 0,
            tao_weight: 971_718_665_099_567_868,
            commit_reveal_weights_enabled: true,
            subnet_owner_uid: None,
        }
    }
}

/// One registered uid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Neuron {
    /// The uid; must equal the neuron's index.
    pub uid: u16,
    /// Alpha stake on the subnet, in rao, after child/parent redistribution.
    pub stake: u64,
    /// Root TAO stake, in rao, counted through `tao_weight`.
    pub tao_stake: u64,
    /// `ValidatorPermit` as the previous epoch stored it.
    pub validator_permit: bool,
    /// Block of the last weight update, or of registration (`LastUpdate`).
    pub last_update: u64,
    /// Block of the most recent registration (`BlockAtRegistration`).
    pub block_at_registration: u64,
    /// Earliest block of the uid's unexpired weight commits, if any.
    pub commit_block: Option<u64>,
}

/// Everything one epoch of one subnet mechanism reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpochInput {
    /// Hyperparameters and globals.
    pub params: Params,
    /// Block at which the epoch runs.
    pub current_block: u64,
    /// Block of the previous epoch, 0 if none (`LastMechansimStepBlock`).
    pub last_mechanism_step_block: u64,
    /// Alpha, in rao, that this epoch distributes.
    pub rao_emission: u64,
    /// One entry per uid, in uid order.
    pub neurons: Vec<Neuron>,
    /// `Weights` rows as stored.
    pub weights: Rows,
    /// `Bonds` rows as stored.
    pub bonds: Rows,
}

impl EpochInput {
    /// Number of uids in the subnet.
    pub fn n(&self) -> usize {
        self.neurons.len()
    }

    /// Checks what types alone cannot: uids in order, every row and target `< n`, no repeated
    /// target, and a total stake the chain's arithmetic can hold. The proof it returns lets
    /// [`Workspace::run`](crate::Workspace::run) skip the checks.
    pub fn validate(&self) -> Result<ValidInput<'_>, InputError> {
        let n = self.n();
        if n > MAX_NEURONS {
            return Err(InputError::new("neurons", format!("{n} neurons, at most {MAX_NEURONS} fit in u16 uids")));
        }
        for (index, neuron) in self.neurons.iter().enumerate() {
            if usize::from(neuron.uid) != index {
                return Err(InputError::new(
                    format!("neurons[{index}].uid"),
                    format!("expected {index} (uids are the neurons' indices), found {}", neuron.uid),
                ));
            }
        }
        // The chain sums stake in `I64F64`, whose integer part ends at 2⁶³ rao: far more than can
        // exist (21 M TAO is 2.1·10¹⁶ rao). Beyond it the sum wraps and no result is meaningful.
        let total_stake: u128 = self.neurons.iter().map(|x| u128::from(x.stake) + u128::from(x.tao_stake)).sum();
        if total_stake >= 1 << 63 {
            return Err(InputError::new(
                "neurons",
                format!("total stake {total_stake} rao (alpha + TAO) is not below 2^63, more than can exist"),
            ));
        }
        if let Some(owner) = self.params.subnet_owner_uid
            && usize::from(owner) >= n
        {
            return Err(InputError::new("params.subnet_owner_uid", format!("uid {owner} is not registered (n = {n})")));
        }
        validate_rows("weights", &self.weights, n)?;
        validate_rows("bonds", &self.bonds, n)?;
        Ok(ValidInput(self))
    }
}

/// An [`EpochInput`] that passed [`EpochInput::validate`].
#[derive(Clone, Copy, Debug)]
pub struct ValidInput<'a>(&'a EpochInput);

impl<'a> ValidInput<'a> {
    /// The validated input.
    pub fn get(self) -> &'a EpochInput {
        self.0
    }
}

fn validate_rows(field: &str, rows: &Rows, n: usize) -> Result<(), InputError> {
    // `row_of[target]` is the last row that named `target`, so a repeat within a row is one compare.
    let mut row_of = vec![u32::MAX; n];
    for (&uid, row) in rows {
        if usize::from(uid) >= n {
            return Err(InputError::new(format!("{field}.{uid}"), format!("row of uid {uid}, but n = {n}")));
        }
        for (position, &(target, _)) in row.iter().enumerate() {
            if usize::from(target) >= n {
                return Err(InputError::new(
                    format!("{field}.{uid}[{position}]"),
                    format!("target {target} is not < n = {n}"),
                ));
            }
            if std::mem::replace(&mut row_of[usize::from(target)], u32::from(uid)) == u32::from(uid) {
                return Err(InputError::new(
                    format!("{field}.{uid}[{position}]"),
                    format!("duplicate target {target}"),
                ));
            }
        }
    }
    Ok(())
}
