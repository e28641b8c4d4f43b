//! Why the chain refused a call, named as the subtensor pallet names it.

use serde::{Deserialize, Serialize};

use crate::{NetUid, Uid};

/// A refused or failed chain call. Chain-rule variants carry the pallet error's name (shown
/// first in the message) and the numbers needed to act on it; `Refused` keeps the name of any
/// other pallet error, and the last four are about reaching the chain rather than its rules.
///
/// Serialised with the variant name in an `error` field, so a client can rebuild it exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", deny_unknown_fields)]
#[non_exhaustive]
pub enum ChainError {
    /// No subnet with this netuid.
    #[error("SubnetNotExists: subnet {netuid} does not exist")]
    SubnetNotExists {
        /// The netuid asked for.
        netuid: NetUid,
    },
    /// The hotkey has no uid on the subnet.
    #[error("HotKeyNotRegisteredInSubNet: the hotkey is not registered on subnet {netuid}")]
    HotKeyNotRegisteredInSubNet {
        /// The subnet.
        netuid: NetUid,
    },
    /// The hotkey already has a uid on the subnet.
    #[error("HotKeyAlreadyRegisteredInSubNet: the hotkey already has uid {uid} on subnet {netuid}")]
    HotKeyAlreadyRegisteredInSubNet {
        /// The subnet.
        netuid: NetUid,
        /// Its uid there.
        uid: Uid,
    },
    /// The hotkey is not registered on any subnet, so it cannot be staked to.
    #[error("HotKeyAccountNotExists: the hotkey is not registered on any subnet")]
    HotKeyAccountNotExists,
    /// The hotkey belongs to another coldkey.
    #[error("NonAssociatedColdKey: the hotkey is owned by another coldkey")]
    NonAssociatedColdKey,
    /// The coldkey cannot pay.
    #[error("NotEnoughBalanceToStake: needs {needed} rao, the coldkey has {available}")]
    NotEnoughBalanceToStake {
        /// Rao required.
        needed: u64,
        /// Rao available.
        available: u64,
    },
    /// A stake of zero rao.
    #[error("AmountTooLow: the amount must be above zero")]
    AmountTooLow,
    /// The subnet is full and every uid is immune or the owner's.
    #[error("NoNeuronIdAvailable: subnet {netuid} is full and no uid can be pruned")]
    NoNeuronIdAvailable {
        /// The subnet.
        netuid: NetUid,
    },
    /// The axon's address is not one the chain accepts (unspecified, loopback 127.0.0.1 or ::1, broadcast).
    #[error("InvalidIpAddress: {ip} cannot be served")]
    InvalidIpAddress {
        /// The refused address.
        ip: String,
    },
    /// Port 0.
    #[error("InvalidPort: the axon port must not be 0")]
    InvalidPort,
    /// The axon was updated too recently.
    #[error("ServingRateLimitExceeded: the axon can next be updated at block {next_block}")]
    ServingRateLimitExceeded {
        /// First block at which the update is accepted.
        next_block: u64,
    },
    /// `uids` and `values` differ in length.
    #[error("WeightVecNotEqualSize: {uids} uids but {values} values")]
    WeightVecNotEqualSize {
        /// Number of uids.
        uids: usize,
        /// Number of values.
        values: usize,
    },
    /// More weights than the subnet has uids.
    #[error("UidsLengthExceedUidsInSubNet: {got} weights for a subnet of {n}")]
    UidsLengthExceedUidsInSubNet {
        /// Number of weights.
        got: usize,
        /// Number of uids in the subnet.
        n: usize,
    },
    /// The neuron's stake is below the subnet's threshold.
    #[error("NotEnoughStakeToSetWeights: stake {stake} rao is below the threshold of {threshold}")]
    NotEnoughStakeToSetWeights {
        /// The neuron's stake.
        stake: u64,
        /// The threshold.
        threshold: u64,
    },
    /// The version key is below the subnet's.
    #[error("IncorrectWeightVersionKey: version key {submitted} is below the subnet's {required}")]
    IncorrectWeightVersionKey {
        /// The key sent.
        submitted: u64,
        /// The subnet's `WeightsVersionKey`.
        required: u64,
    },
    /// Weights set again within the rate limit.
    #[error("SettingWeightsTooFast: last update at block {last_update}, next allowed at block {next_block}")]
    SettingWeightsTooFast {
        /// The neuron's `LastUpdate`.
        last_update: u64,
        /// First block at which weights are accepted.
        next_block: u64,
    },
    /// Weights committed again within the rate limit.
    #[error("CommittingWeightsTooFast: last update at block {last_update}, next commit allowed at block {next_block}")]
    CommittingWeightsTooFast {
        /// The neuron's `LastUpdate`.
        last_update: u64,
        /// First block at which a commit is accepted.
        next_block: u64,
    },
    /// Weights on other uids without a validator permit (only a self-weight is allowed).
    #[error("NeuronNoValidatorPermit: uid {uid} has no validator permit, so it may only weight itself")]
    NeuronNoValidatorPermit {
        /// The caller's uid.
        uid: Uid,
    },
    /// A uid appears twice.
    #[error("DuplicateUids: uid {uid} appears more than once")]
    DuplicateUids {
        /// The repeated uid.
        uid: Uid,
    },
    /// A uid is not registered.
    #[error("UidVecContainInvalidOne: uid {uid} does not exist (n = {n})")]
    UidVecContainInvalidOne {
        /// The unknown uid.
        uid: Uid,
        /// Number of uids in the subnet.
        n: usize,
    },
    /// Fewer weights than the subnet requires.
    #[error("WeightVecLengthIsLow: {got} weights, at least {min} required")]
    WeightVecLengthIsLow {
        /// Number of weights.
        got: usize,
        /// The minimum (`min(n, MinAllowedWeights)`).
        min: usize,
    },
    /// One weight exceeds the subnet's maximum share.
    #[error("MaxWeightExceeded: a weight exceeds {limit}/65535 of the total")]
    MaxWeightExceeded {
        /// The subnet's `MaxWeightsLimit`.
        limit: u16,
    },
    /// `set_weights` on a subnet that requires commit-reveal.
    #[error("CommitRevealEnabled: subnet {netuid} requires commit and reveal instead of set_weights")]
    CommitRevealEnabled {
        /// The subnet.
        netuid: NetUid,
    },
    /// Commit or reveal on a subnet without commit-reveal.
    #[error("CommitRevealDisabled: subnet {netuid} has commit-reveal off; use set_weights")]
    CommitRevealDisabled {
        /// The subnet.
        netuid: NetUid,
    },
    /// Too many commits waiting for their reveal.
    #[error("TooManyUnrevealedCommits: at most {max} unrevealed commits per neuron")]
    TooManyUnrevealedCommits {
        /// The limit.
        max: usize,
    },
    /// No commit matches the reveal's neuron.
    #[error("NoWeightsCommitFound: no unrevealed commit for this hotkey on subnet {netuid}")]
    NoWeightsCommitFound {
        /// The subnet.
        netuid: NetUid,
    },
    /// The reveal does not hash to any of the neuron's commits.
    #[error("InvalidRevealCommitHashNotMatch: the revealed weights do not hash to a pending commit")]
    InvalidRevealCommitHashNotMatch,
    /// The commit's reveal epoch has not started.
    #[error("RevealTooEarly: the commit can be revealed from block {from_block}")]
    RevealTooEarly {
        /// First block of the reveal epoch.
        from_block: u64,
    },
    /// The commit's reveal epoch is over.
    #[error("ExpiredWeightCommit: the commit's reveal window ended at block {ended_at}")]
    ExpiredWeightCommit {
        /// Last block of the reveal epoch.
        ended_at: u64,
    },
    /// An owner or sudo call from another key.
    #[error("NotSubnetOwner: the call must be signed by the subnet owner or the sudo key")]
    NotSubnetOwner,
    /// A call only the sudo key may make.
    #[error("BadOrigin: the call must be signed by the sudo key")]
    BadOrigin,
    /// A refusal by a pallet error (or dispatch error) that has no variant of its own, by name.
    #[error("{name}: refused by the chain ({pallet}::{name})")]
    Refused {
        /// The pallet whose error it is (empty for a `DispatchError` such as `Token(FundsUnavailable)`).
        pallet: String,
        /// The error's name.
        name: String,
    },
    /// The request's signature, receiver or freshness was refused.
    #[error("unauthorized: {reason}")]
    Unauthorized {
        /// What was wrong.
        reason: String,
    },
    /// A request the chain cannot decode or that breaks a limit before any rule applies.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The offending field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The chain could not be reached or answered with something unexpected.
    #[error("chain unreachable: {message}")]
    Transport {
        /// What failed.
        message: String,
    },
    /// The chain failed internally (its storage, for instance); nothing was applied.
    #[error("chain failure: {message}")]
    Internal {
        /// What failed.
        message: String,
    },
}

impl ChainError {
    /// Whether the call may succeed unchanged later (rate limits, windows, transport).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ChainError::ServingRateLimitExceeded { .. }
                | ChainError::SettingWeightsTooFast { .. }
                | ChainError::CommittingWeightsTooFast { .. }
                | ChainError::RevealTooEarly { .. }
                | ChainError::Transport { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_names_the_pallet_error_and_round_trips() {
        let error = ChainError::SettingWeightsTooFast { last_update: 10, next_block: 110 };
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json, serde_json::json!({"error": "SettingWeightsTooFast", "last_update": 10, "next_block": 110}));
        assert_eq!(serde_json::from_value::<ChainError>(json).unwrap(), error);
        assert!(error.to_string().starts_with("SettingWeightsTooFast: "));
        let unit = serde_json::to_value(ChainError::InvalidPort).unwrap();
        assert_eq!(unit, serde_json::json!({"error": "InvalidPort"}));
    }
}
