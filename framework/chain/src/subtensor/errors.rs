//! subxt's errors and the runtime's dispatch errors as [`ChainError`]s.

use subxt::error::{DispatchError, StorageError};

use super::{Subtensor, reads};
use crate::{AccountId, ChainError, NetUid, Uid};

/// Why a transaction failed: the runtime refused it (by its error's name), or something else
/// went wrong on the way.
#[derive(Debug)]
pub(super) enum Failure {
    /// The runtime refused it: `pallet::name`, or a `DispatchError` variant with pallet `""`.
    Dispatch { pallet: String, name: String },
    /// It did not get that far.
    Chain(ChainError),
}

impl From<ChainError> for Failure {
    fn from(error: ChainError) -> Failure {
        Failure::Chain(error)
    }
}

impl Failure {
    pub(super) fn from_dispatch(error: &DispatchError) -> Failure {
        match error {
            DispatchError::Module(module) => match module.details() {
                Ok(details) => {
                    Failure::Dispatch { pallet: details.pallet.name().to_owned(), name: details.variant.name.clone() }
                }
                Err(e) => Failure::Chain(ChainError::Internal { message: format!("undecodable module error: {e}") }),
            },
            DispatchError::BadOrigin => Failure::Dispatch { pallet: String::new(), name: "BadOrigin".into() },
            other => Failure::Dispatch { pallet: String::new(), name: format!("{other:?}") },
        }
    }
}

/// What a refused call was, for the numbers its error reports.
pub(super) enum Call {
    Register {
        netuid: NetUid,
        coldkey: AccountId,
        hotkey: AccountId,
    },
    ServeAxon {
        netuid: NetUid,
        hotkey: AccountId,
        ip: String,
    },
    AddStake {
        netuid: NetUid,
        coldkey: AccountId,
        amount: u64,
    },
    /// `set_weights` or `reveal_weights`.
    Weights {
        netuid: NetUid,
        hotkey: AccountId,
        uids: Vec<Uid>,
        values: usize,
        version_key: u64,
    },
    Commit {
        netuid: NetUid,
        hotkey: AccountId,
    },
}

impl Call {
    fn netuid(&self) -> NetUid {
        match self {
            Call::Register { netuid, .. }
            | Call::ServeAxon { netuid, .. }
            | Call::AddStake { netuid, .. }
            | Call::Weights { netuid, .. }
            | Call::Commit { netuid, .. } => *netuid,
        }
    }

    /// The key whose neuron the call acts on.
    fn neuron(&self) -> &AccountId {
        match self {
            Call::Register { hotkey, .. }
            | Call::ServeAxon { hotkey, .. }
            | Call::Weights { hotkey, .. }
            | Call::Commit { hotkey, .. } => hotkey,
            Call::AddStake { coldkey, .. } => coldkey,
        }
    }
}

impl Subtensor {
    /// The [`ChainError`] for a failed call: the variant named like the pallet error (with the
    /// numbers it reports read from the chain), [`ChainError::Refused`] for other names.
    pub(super) async fn explain(&self, failure: Failure, call: &Call) -> ChainError {
        let (pallet, name) = match failure {
            Failure::Chain(error) => return error,
            Failure::Dispatch { pallet, name } => (pallet, name),
        };
        match self.named(&name, call).await {
            Ok(Some(error)) => error,
            Ok(None) => ChainError::Refused { pallet, name },
            Err(lookup) => {
                tracing::warn!(%lookup, error = %name, "could not read the details of a refusal");
                ChainError::Refused { pallet, name }
            }
        }
    }

    /// The variant for the pallet error `name`, or `None` when none has that name.
    async fn named(&self, name: &str, call: &Call) -> Result<Option<ChainError>, ChainError> {
        let netuid = call.netuid();
        let at = self.at_best().await?;
        let uid = || async { reads::uid_of(&at, netuid, call.neuron()).await.map(Option::unwrap_or_default) };
        let n = || async { reads::get::<_, u16>(&at, "SubnetworkN", (netuid,)).await.map(usize::from) };
        let weights = match call {
            Call::Weights { uids, values, version_key, .. } => Some((uids, *values, *version_key)),
            _ => None,
        };
        let error = match name {
            "SubnetNotExists" | "SubNetworkDoesNotExist" => ChainError::SubnetNotExists { netuid },
            "HotKeyNotRegisteredInSubNet" | "HotKeyNotRegisteredInNetwork" => {
                ChainError::HotKeyNotRegisteredInSubNet { netuid }
            }
            "HotKeyAlreadyRegisteredInSubNet" => {
                ChainError::HotKeyAlreadyRegisteredInSubNet { netuid, uid: uid().await? }
            }
            "HotKeyAccountNotExists" => ChainError::HotKeyAccountNotExists,
            "NonAssociatedColdKey" => ChainError::NonAssociatedColdKey,
            "NotEnoughBalanceToStake" => {
                let (coldkey, needed) = match call {
                    Call::AddStake { coldkey, amount, .. } => (coldkey, *amount),
                    Call::Register { coldkey, .. } => (coldkey, reads::get(&at, "Burn", (netuid,)).await?),
                    _ => return Ok(None),
                };
                ChainError::NotEnoughBalanceToStake { needed, available: reads::free_balance(&at, coldkey).await? }
            }
            "AmountTooLow" => ChainError::AmountTooLow,
            "NoNeuronIdAvailable" => ChainError::NoNeuronIdAvailable { netuid },
            "InvalidIpAddress" => match call {
                Call::ServeAxon { ip, .. } => ChainError::InvalidIpAddress { ip: ip.clone() },
                _ => return Ok(None),
            },
            "InvalidPort" => ChainError::InvalidPort,
            "ServingRateLimitExceeded" => {
                let limit: u64 = reads::get(&at, "ServingRateLimit", (netuid,)).await?;
                let last = reads::axon_block(&at, netuid, call.neuron()).await?;
                ChainError::ServingRateLimitExceeded { next_block: last.saturating_add(limit) }
            }
            "SettingWeightsTooFast" | "CommittingWeightsTooFast" => {
                let last_update: Vec<u64> = reads::get(&at, "LastUpdate", (netuid,)).await?;
                let last_update = last_update.get(usize::from(uid().await?)).copied().unwrap_or(0);
                let limit: u64 = reads::get(&at, "WeightsSetRateLimit", (netuid,)).await?;
                let next_block = last_update.saturating_add(limit);
                if name == "SettingWeightsTooFast" {
                    ChainError::SettingWeightsTooFast { last_update, next_block }
                } else {
                    ChainError::CommittingWeightsTooFast { last_update, next_block }
                }
            }
            "NotEnoughStakeToSetWeights" => ChainError::NotEnoughStakeToSetWeights {
                stake: reads::get(&at, "TotalHotkeyAlpha", (super::account32(call.neuron()), netuid)).await?,
                threshold: reads::stake_threshold(&at).await?,
            },
            "NeuronNoValidatorPermit" => ChainError::NeuronNoValidatorPermit { uid: uid().await? },
            "CommitRevealEnabled" => ChainError::CommitRevealEnabled { netuid },
            "CommitRevealDisabled" => ChainError::CommitRevealDisabled { netuid },
            "TooManyUnrevealedCommits" => ChainError::TooManyUnrevealedCommits {
                max: reads::pending_commits(&at, netuid, call.neuron()).await?.len(),
            },
            "NoWeightsCommitFound" => ChainError::NoWeightsCommitFound { netuid },
            "InvalidRevealCommitHashNotMatch" => ChainError::InvalidRevealCommitHashNotMatch,
            "RevealTooEarly" | "ExpiredWeightCommit" => {
                let commits = reads::pending_commits(&at, netuid, call.neuron()).await?;
                let Some(oldest) = commits.first() else { return Ok(None) };
                let (from_block, ended_at) = match oldest.window {
                    Some(window) => window,
                    None => {
                        let (tempo, period) = reads::epoch_params(&at, netuid).await?;
                        reveal_window(netuid, tempo, period, oldest.block)
                    }
                };
                if name == "RevealTooEarly" {
                    ChainError::RevealTooEarly { from_block }
                } else {
                    ChainError::ExpiredWeightCommit { ended_at }
                }
            }
            "NotSubnetOwner" => ChainError::NotSubnetOwner,
            "BadOrigin" => ChainError::BadOrigin,
            other => {
                let Some((uids, values, version_key)) = weights else { return Ok(None) };
                match other {
                    "WeightVecNotEqualSize" => ChainError::WeightVecNotEqualSize { uids: uids.len(), values },
                    "UidsLengthExceedUidsInSubNet" => {
                        ChainError::UidsLengthExceedUidsInSubNet { got: uids.len(), n: n().await? }
                    }
                    "IncorrectWeightVersionKey" => ChainError::IncorrectWeightVersionKey {
                        submitted: version_key,
                        required: reads::get(&at, "WeightsVersionKey", (netuid,)).await?,
                    },
                    "DuplicateUids" => ChainError::DuplicateUids { uid: first_duplicate(uids).unwrap_or_default() },
                    "UidVecContainInvalidOne" => {
                        let n = n().await?;
                        let uid = uids.iter().copied().find(|uid| usize::from(*uid) >= n).unwrap_or_default();
                        ChainError::UidVecContainInvalidOne { uid, n }
                    }
                    "WeightVecLengthIsLow" => {
                        let min: u16 = reads::get(&at, "MinAllowedWeights", (netuid,)).await?;
                        ChainError::WeightVecLengthIsLow { got: uids.len(), min: usize::from(min).min(n().await?) }
                    }
                    "MaxWeightExceeded" => {
                        ChainError::MaxWeightExceeded { limit: reads::get(&at, "MaxWeightsLimit", (netuid,)).await? }
                    }
                    _ => return Ok(None),
                }
            }
        };
        Ok(Some(error))
    }
}

/// The first and last block of the epoch in which a commit made at `commit_block` is revealed:
/// epoch `e` of subnet `netuid` holds the blocks `b` with `(b + netuid + 1) / (tempo + 1) == e`.
fn reveal_window(netuid: NetUid, tempo: u64, period: u64, commit_block: u64) -> (u64, u64) {
    let length = tempo + 1;
    let offset = u64::from(netuid) + 1;
    let reveal_epoch = (commit_block + offset) / length + period;
    let first = (reveal_epoch * length).saturating_sub(offset);
    (first, first + tempo)
}

fn first_duplicate(uids: &[Uid]) -> Option<Uid> {
    let mut seen = std::collections::HashSet::new();
    uids.iter().copied().find(|uid| !seen.insert(*uid))
}

/// A storage read that failed: transport when the node did not answer, internal otherwise (the
/// runtime lacks the item, or its shape differs).
pub(super) fn storage(item: &str, error: StorageError) -> ChainError {
    match error {
        StorageError::CannotFetchValue(_) | StorageError::CannotIterateValues(_) | StorageError::StreamFailure(_) => {
            ChainError::Transport { message: format!("reading {item}: {error}") }
        }
        other => ChainError::Internal { message: format!("reading {item}: {other}") },
    }
}

/// Any other subxt error: transport when it came from the RPC connection (including the node
/// refusing a transaction at submission, which is an invalid transaction), internal otherwise.
pub(super) fn classify(url: &str, error: subxt::Error) -> ChainError {
    let message = error.to_string();
    if message.contains("Invalid Transaction") || message.contains("User error") {
        ChainError::Invalid { field: "transaction".into(), message }
    } else if error.is_disconnected_will_reconnect() || message.contains("RPC error") {
        ChainError::Transport { message: format!("{url}: {message}") }
    } else {
        ChainError::Internal { message: format!("{url}: {message}") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reveal_window_is_the_epoch_after_the_commit() {
        // Subnet 1, tempo 10: epochs are 11 blocks long and start at blocks 9, 20, 31, ...
        assert_eq!(reveal_window(1, 10, 1, 12), (20, 30));
        assert_eq!(reveal_window(1, 10, 1, 9), (20, 30));
        assert_eq!(reveal_window(1, 10, 1, 8), (9, 19));
        assert_eq!(reveal_window(1, 10, 2, 12), (31, 41));
    }

    #[test]
    fn first_duplicate_finds_the_repeat() {
        assert_eq!(first_duplicate(&[1, 2, 3, 2, 1]), Some(2));
        assert_eq!(first_duplicate(&[1, 2, 3]), None);
    }
}
