//! The plain data the chain trait reads and writes.

use std::net::IpAddr;

use protocol::AccountId;
use serde::{Deserialize, Serialize};

/// A subnet's id (`netuid`).
pub type NetUid = u16;

/// A neuron's index within its subnet.
pub type Uid = u16;

/// Where a neuron serves (`AxonInfo`). The chain stores the address as a `u128` plus its family;
/// here it is an [`IpAddr`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axon {
    /// Address miners are reached at.
    pub ip: IpAddr,
    /// TCP port.
    pub port: u16,
    /// Software version the neuron reports (free-form on chain).
    #[serde(default)]
    pub version: u32,
    /// Protocol code (0 for TCP/HTTP, as the SDK sends).
    #[serde(default)]
    pub protocol: u8,
}

impl Axon {
    /// An HTTP axon at `ip:port`, version 0.
    pub fn http(ip: IpAddr, port: u16) -> Axon {
        Axon { ip, port, version: 0, protocol: 0 }
    }

    /// The chain's `ip_type`: 4 or 6.
    pub fn ip_type(&self) -> u8 {
        match self.ip {
            IpAddr::V4(_) => 4,
            IpAddr::V6(_) => 6,
        }
    }

    /// The address as the chain stores it: an IPv4 address widened to `u128`, or the IPv6 bits.
    pub fn ip_bits(&self) -> u128 {
        match self.ip {
            IpAddr::V4(v4) => u128::from(u32::from(v4)),
            IpAddr::V6(v6) => u128::from(v6),
        }
    }
}

/// One uid of a subnet, as the chain stores it after the last epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Neuron {
    /// The uid.
    pub uid: Uid,
    /// The neuron's hotkey.
    pub hotkey: AccountId,
    /// The coldkey that registered (owns) the hotkey.
    pub coldkey: AccountId,
    /// Stake on the hotkey in this subnet, in rao (alpha).
    pub stake: u64,
    /// Whether the last epoch gave it a validator permit.
    pub validator_permit: bool,
    /// Whether it updated weights within the activity cutoff at the last epoch.
    pub active: bool,
    /// Block of its last weights (or of its registration).
    pub last_update: u64,
    /// Block it was registered at.
    pub registered_at: u64,
    /// Where it serves, once it has published an axon.
    pub axon: Option<Axon>,
    /// Last epoch's consensus weight, as a fraction of 65535.
    pub consensus: u16,
    /// Last epoch's incentive (its share of miner emission), as a fraction of 65535.
    pub incentive: u16,
    /// Last epoch's dividends (its share of validator emission), as a fraction of 65535.
    pub dividends: u16,
    /// Last epoch's validator trust, as a fraction of 65535.
    pub validator_trust: u16,
    /// Rao emitted to it at the last epoch.
    pub emission: u64,
}

/// A subnet's neurons at one block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metagraph {
    /// The subnet.
    pub netuid: NetUid,
    /// The block the metagraph was read at.
    pub block: u64,
    /// One entry per uid, in uid order.
    pub neurons: Vec<Neuron>,
}

impl Metagraph {
    /// The neuron registered with `hotkey`, if any.
    pub fn neuron(&self, hotkey: &AccountId) -> Option<&Neuron> {
        self.neurons.iter().find(|neuron| neuron.hotkey == *hotkey)
    }
}

/// Which Yuma Consensus the subnet's epoch runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum YumaVariant {
    /// The original bonds and dividends (`Yuma3On` false).
    Classic,
    /// Yuma 3 bonds and dividends, the default for new subnets (`Yuma3On` true).
    #[default]
    Yuma3,
}

/// A subnet's hyperparameters (chain storage item in brackets). Defaults are what a subnet
/// created on the current chain gets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Hyperparams {
    /// Blocks between epochs (`Tempo`).
    pub tempo: u16,
    /// Blocks a neuron must wait between weight sets or commits (`WeightsSetRateLimit`).
    pub weights_rate_limit: u64,
    /// Lowest weights version key accepted; 0 accepts any (`WeightsVersionKey`).
    pub weights_version_key: u64,
    /// Fewest weights a validator may set (`MinAllowedWeights`).
    pub min_allowed_weights: u16,
    /// Largest single weight as a fraction of 65535 of the row's sum (`MaxWeightsLimit`).
    pub max_weight_limit: u16,
    /// Weights must be committed and revealed instead of set (`CommitRevealWeightsEnabled`).
    pub commit_reveal_enabled: bool,
    /// Epochs between a commit and its reveal (`RevealPeriodEpochs`).
    pub commit_reveal_period: u64,
    /// Blocks after registration during which a uid cannot be pruned (`ImmunityPeriod`).
    pub immunity_period: u16,
    /// Most uids the subnet holds (`MaxAllowedUids`).
    pub max_allowed_uids: u16,
    /// Number of validator permits (`MaxAllowedValidators`).
    pub max_allowed_validators: u16,
    /// Registration cost in rao, burned from the coldkey (`Burn`).
    pub burn: u64,
    /// Blocks between two axon updates of one neuron (`ServingRateLimit`).
    pub serving_rate_limit: u64,
    /// Least stake, in rao, needed to set weights; the owner is exempt (`StakeThreshold`).
    pub stake_threshold: u64,
    /// Which Yuma Consensus the epoch runs (`Yuma3On`).
    pub yuma: YumaVariant,
    /// Per-bond EMA alpha from a sigmoid; acts with Yuma3 only (`LiquidAlphaOn`).
    pub liquid_alpha_enabled: bool,
    /// Consensus majority, as a fraction of 65535 (`Kappa`).
    pub kappa: u16,
    /// Bond EMA memory, per million (`BondsMovingAverage`).
    pub bonds_moving_average: u64,
    /// How much clipping penalises bonds, as a fraction of 65535 (`BondsPenalty`).
    pub bonds_penalty: u16,
    /// Activity cutoff as thousandths of a tempo (`ActivityCutoffFactorMilli`).
    pub activity_cutoff_factor_milli: u32,
    /// Lower liquid alpha, as a fraction of 65535 (`AlphaValues.0`).
    pub alpha_low: u16,
    /// Upper liquid alpha, as a fraction of 65535 (`AlphaValues.1`).
    pub alpha_high: u16,
    /// Steepness of the liquid alpha sigmoid (`AlphaSigmoidSteepness`).
    pub alpha_sigmoid_steepness: i16,
}

impl Default for Hyperparams {
    fn default() -> Hyperparams {
        Hyperparams {
            tempo: 360,
            weights_rate_limit: 100,
            weights_version_key: 0,
            min_allowed_weights: 1,
            max_weight_limit: u16::MAX,
            commit_reveal_enabled: true,
            commit_reveal_period: 1,
            immunity_period: 4096,
            max_allowed_uids: 256,
            max_allowed_validators: 64,
            burn: 1_000_000_000,
            serving_rate_limit: 50,
            stake_threshold: 0,
            yuma: YumaVariant::Yuma3,
            liquid_alpha_enabled: false,
            kappa: 32_767,
            bonds_moving_average: 900_000,
            bonds_penalty: 65_535,
            activity_cutoff_factor_milli: 13_889,
            alpha_low: 45_875,
            alpha_high: 58_982,
            alpha_sigmoid_steepness: 1000,
        }
    }
}

/// Weights as a validator submits them: `values[i]` is the weight on `uids[i]`.
///
/// The chain max-upscales the values on arrival, so only their ratios matter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    /// Target uids.
    pub uids: Vec<Uid>,
    /// One value per target.
    pub values: Vec<u16>,
}

impl Weights {
    /// Weights from `(uid, value)` pairs, in the given order.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (Uid, u16)>) -> Weights {
        let (uids, values) = pairs.into_iter().unzip();
        Weights { uids, values }
    }
}

/// What a validator reveals for an earlier [`commit_weights`](crate::Chain::commit_weights).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reveal {
    /// Target uids.
    pub uids: Vec<Uid>,
    /// One value per target.
    pub values: Vec<u16>,
    /// The salt that was hashed into the commit.
    pub salt: Vec<u16>,
    /// The weights version key that was hashed into the commit.
    pub version_key: u64,
}
