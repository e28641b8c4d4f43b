//! The chain's rules as pure functions of the state they read: epoch schedule, axon addresses,
//! weight checks and storage form, pruning, emission split. The store applies them in order.

use std::net::IpAddr;

use chain::{Axon, ChainError, Hyperparams, NetUid, Uid};
use substrate_fixed::types::I32F32;

/// Most unrevealed commits one neuron may hold (the chain's limit).
pub(crate) const MAX_UNREVEALED_COMMITS: usize = 10;

/// The subnet owner's share of each block's emission, as a fraction of 65535 (`SubnetOwnerCut`).
pub(crate) const OWNER_CUT: u64 = 11_796;

/// The epoch index of `block` on a subnet: epochs end where `(block + netuid + 1)` is a multiple
/// of `tempo + 1`, so subnets do not all run on the same block.
pub(crate) fn epoch_index(block: u64, netuid: NetUid, tempo: u16) -> u64 {
    (block + u64::from(netuid) + 1) / (u64::from(tempo) + 1)
}

/// First block of epoch `index` (0 for epochs that would start before genesis).
pub(crate) fn epoch_start(index: u64, netuid: NetUid, tempo: u16) -> u64 {
    (index * (u64::from(tempo) + 1)).saturating_sub(u64::from(netuid) + 1)
}

/// Whether the subnet's epoch runs at `block`.
pub(crate) fn is_epoch_block(block: u64, netuid: NetUid, tempo: u16) -> bool {
    (block + u64::from(netuid) + 1).is_multiple_of(u64::from(tempo) + 1)
}

/// Addresses the chain refuses for an axon: unspecified, broadcast, exactly 127.0.0.1 or ::1
/// (127.0.0.2 passes, as on the chain), and port 0.
pub(crate) fn check_axon(axon: &Axon) -> Result<(), ChainError> {
    let refused = match axon.ip {
        IpAddr::V4(v4) => v4.is_unspecified() || v4.is_broadcast() || v4 == std::net::Ipv4Addr::LOCALHOST,
        IpAddr::V6(v6) => v6.is_unspecified() || v6 == std::net::Ipv6Addr::LOCALHOST,
    };
    if refused {
        return Err(ChainError::InvalidIpAddress { ip: axon.ip.to_string() });
    }
    if axon.port == 0 {
        return Err(ChainError::InvalidPort);
    }
    Ok(())
}

/// What the weight checks read about the subnet and the signing hotkey.
pub(crate) struct WeightContext<'a> {
    pub(crate) netuid: NetUid,
    pub(crate) params: &'a Hyperparams,
    /// Number of uids in the subnet.
    pub(crate) n: usize,
    pub(crate) block: u64,
    /// The signing hotkey's neuron, if it is registered.
    pub(crate) caller: Option<WeightsCaller>,
}

/// The signing hotkey's neuron, as the weight checks read it.
#[derive(Clone, Copy)]
pub(crate) struct WeightsCaller {
    pub(crate) uid: Uid,
    pub(crate) stake: u64,
    pub(crate) is_owner: bool,
    pub(crate) validator_permit: bool,
    pub(crate) last_update: u64,
}

/// How a weights call reached the checks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum WeightsCall {
    /// `set_weights`: refused under commit-reveal, rate-limited.
    Set,
    /// `reveal_weights`: the commit was rate-limited already.
    Reveal,
}

/// `set_weights`' checks in the chain's order.
pub(crate) fn check_weights(
    context: &WeightContext<'_>,
    call: WeightsCall,
    uids: &[Uid],
    values: &[u16],
    version_key: u64,
) -> Result<(), ChainError> {
    let params = context.params;
    if call == WeightsCall::Set && params.commit_reveal_enabled {
        return Err(ChainError::CommitRevealEnabled { netuid: context.netuid });
    }
    if uids.len() != values.len() {
        return Err(ChainError::WeightVecNotEqualSize { uids: uids.len(), values: values.len() });
    }
    if uids.len() > context.n {
        return Err(ChainError::UidsLengthExceedUidsInSubNet { got: uids.len(), n: context.n });
    }
    let Some(caller) = context.caller else {
        return Err(ChainError::HotKeyNotRegisteredInSubNet { netuid: context.netuid });
    };
    if !caller.is_owner && caller.stake < params.stake_threshold {
        return Err(ChainError::NotEnoughStakeToSetWeights { stake: caller.stake, threshold: params.stake_threshold });
    }
    if params.weights_version_key != 0 && version_key < params.weights_version_key {
        return Err(ChainError::IncorrectWeightVersionKey {
            submitted: version_key,
            required: params.weights_version_key,
        });
    }
    if call == WeightsCall::Set {
        check_rate_limit(caller.last_update, params.weights_rate_limit, context.block)
            .map_err(|next_block| ChainError::SettingWeightsTooFast { last_update: caller.last_update, next_block })?;
    }
    let self_weight_only = uids == [caller.uid];
    if !caller.validator_permit && !self_weight_only {
        return Err(ChainError::NeuronNoValidatorPermit { uid: caller.uid });
    }
    let mut seen = std::collections::HashSet::with_capacity(uids.len());
    if let Some(&uid) = uids.iter().find(|&&uid| !seen.insert(uid)) {
        return Err(ChainError::DuplicateUids { uid });
    }
    if let Some(&uid) = uids.iter().find(|&&uid| usize::from(uid) >= context.n) {
        return Err(ChainError::UidVecContainInvalidOne { uid, n: context.n });
    }
    let min = usize::from(params.min_allowed_weights).min(context.n);
    if !self_weight_only && uids.len() < min {
        return Err(ChainError::WeightVecLengthIsLow { got: uids.len(), min });
    }
    if !self_weight_only && params.max_weight_limit != u16::MAX {
        let max = u128::from(values.iter().copied().max().unwrap_or(0));
        let sum: u128 = values.iter().map(|&v| u128::from(v)).sum();
        if max * 65_535 > u128::from(params.max_weight_limit) * sum {
            return Err(ChainError::MaxWeightExceeded { limit: params.max_weight_limit });
        }
    }
    Ok(())
}

/// `Ok` when `rate_limit` blocks have passed since `last`, else the first block that passes.
pub(crate) fn check_rate_limit(last: u64, rate_limit: u64, block: u64) -> Result<(), u64> {
    if block.saturating_sub(last) >= rate_limit { Ok(()) } else { Err(last + rate_limit) }
}

/// Weights as the chain stores them: max-upscaled so the largest is 65535, in the submitted
/// order with zeros kept, in the chain's `I32F32` arithmetic (above 32768 the ratio
/// `65535 / max` is taken first; rounding is half away from zero).
pub(crate) fn max_upscale(values: &[u16]) -> Vec<u16> {
    let max = values.iter().copied().max().unwrap_or(0);
    if max == 0 {
        return values.to_vec();
    }
    let u16_max = I32F32::from_num(u16::MAX);
    let max = I32F32::from_num(max);
    let scale = |value: I32F32| -> u16 { value.round().saturating_to_num::<u16>() };
    if max > I32F32::from_num(32_768) {
        let ratio = u16_max.saturating_div(max);
        values.iter().map(|&value| scale(I32F32::from_num(value).saturating_mul(ratio))).collect()
    } else {
        values.iter().map(|&value| scale(I32F32::from_num(value).saturating_mul(u16_max).saturating_div(max))).collect()
    }
}

/// One uid as pruning sees it.
pub(crate) struct PruneCandidate {
    pub(crate) uid: Uid,
    pub(crate) emission: u64,
    pub(crate) registered_at: u64,
    pub(crate) is_owner: bool,
}

/// The uid a full subnet replaces: the owner's never; non-immune uids before immune ones; then
/// the lowest emission, the earliest registration, the lowest uid.
pub(crate) fn uid_to_prune(candidates: &[PruneCandidate], block: u64, immunity_period: u16) -> Option<Uid> {
    candidates
        .iter()
        .filter(|candidate| !candidate.is_owner)
        .min_by_key(|candidate| {
            let immune = block.saturating_sub(candidate.registered_at) < u64::from(immunity_period);
            (immune, candidate.emission, candidate.registered_at, candidate.uid)
        })
        .map(|candidate| candidate.uid)
}

/// One block's emission of a subnet: `(owner, server, validator)` rao. The owner's cut comes off
/// first; the rest is halved between miners and validators (no root stake here).
pub(crate) fn split_block_emission(emission: u64) -> (u64, u64, u64) {
    let owner = u64::try_from(u128::from(emission) * u128::from(OWNER_CUT) / 65_535).unwrap_or(emission);
    let rest = emission - owner;
    let server = rest / 2;
    (owner, server, rest - server)
}

/// Shares `pool` rao in proportion to `weights`, flooring each share; the dust stays unpaid.
pub(crate) fn pro_rata(pool: u64, weights: &[u64]) -> Vec<u64> {
    let total: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if total == 0 {
        return vec![0; weights.len()];
    }
    weights.iter().map(|&w| u64::try_from(u128::from(pool) * u128::from(w) / total).unwrap_or(0)).collect()
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn epochs_follow_the_chains_offset_schedule() {
        // netuid 1, tempo 9: (block + 2) % 10 == 0.
        let runs: Vec<u64> = (0..40).filter(|&b| is_epoch_block(b, 1, 9)).collect();
        assert_eq!(runs, [8, 18, 28, 38]);
        assert_eq!(epoch_index(7, 1, 9), 0);
        assert_eq!(epoch_index(8, 1, 9), 1);
        assert_eq!(epoch_start(1, 1, 9), 8);
        assert_eq!(epoch_start(2, 1, 9), 18);
        assert_eq!(epoch_start(0, 3, 9), 0);
    }

    #[test]
    fn axon_addresses_as_the_chain_judges_them() {
        let axon = |ip: IpAddr, port| Axon::http(ip, port);
        for ip in [Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST, Ipv4Addr::LOCALHOST] {
            assert!(matches!(check_axon(&axon(ip.into(), 80)), Err(ChainError::InvalidIpAddress { .. })), "{ip}");
        }
        for ip in [Ipv6Addr::UNSPECIFIED, Ipv6Addr::LOCALHOST] {
            assert!(matches!(check_axon(&axon(ip.into(), 80)), Err(ChainError::InvalidIpAddress { .. })), "{ip}");
        }
        assert_eq!(check_axon(&axon(Ipv4Addr::new(127, 0, 0, 2).into(), 80)), Ok(()));
        assert_eq!(check_axon(&axon(Ipv4Addr::new(10, 0, 0, 1).into(), 0)), Err(ChainError::InvalidPort));
    }

    #[test]
    fn upscaling_matches_the_chain_on_both_branches() {
        assert_eq!(max_upscale(&[0, 0]), [0, 0]);
        assert_eq!(max_upscale(&[1, 2, 0]), [32_768, 65_535, 0]);
        assert_eq!(max_upscale(&[65_535, 100]), [65_535, 100]);
        // max > 32768: the ratio 65535 / 40000 is truncated first, so 20000 lands just below
        // 32767.5 and rounds down, where the exact 20000 × 65535 / 40000 would round up.
        assert_eq!(max_upscale(&[40_000, 20_000, 1]), [65_535, 32_767, 2]);
        assert_eq!(max_upscale(&[3, 1]), [65_535, 21_845]);
    }

    #[test]
    fn pruning_spares_the_owner_and_the_immune() {
        let candidate =
            |uid, emission, registered_at, is_owner| PruneCandidate { uid, emission, registered_at, is_owner };
        let all = [
            candidate(0, 0, 0, true),
            candidate(1, 5, 10, false),
            candidate(2, 3, 95, false), // immune at block 100 with a period of 10
            candidate(3, 5, 5, false),
        ];
        assert_eq!(uid_to_prune(&all, 100, 10), Some(3));
        assert_eq!(uid_to_prune(&all, 100, 0), Some(2));
        assert_eq!(uid_to_prune(&all[..1], 100, 10), None);
        // Everyone immune: the lowest emission among them.
        assert_eq!(uid_to_prune(&all[1..3], 12, 100), Some(2));
    }

    proptest! {
        #[test]
        fn upscaled_weights_keep_order_and_top_out(values in proptest::collection::vec(any::<u16>(), 1..40)) {
            let scaled = max_upscale(&values);
            let max = values.iter().copied().max().unwrap();
            prop_assert_eq!(scaled.len(), values.len());
            if max > 0 {
                let top = values.iter().position(|&v| v == max).unwrap();
                prop_assert_eq!(scaled[top], 65_535);
            }
            for i in 0..values.len() {
                for j in 0..values.len() {
                    if values[i] <= values[j] {
                        prop_assert!(scaled[i] <= scaled[j]);
                    }
                }
            }
        }

        #[test]
        fn emission_split_and_shares_never_create_rao(emission in any::<u32>(), weights in proptest::collection::vec(any::<u32>(), 0..20)) {
            let (owner, server, validator) = split_block_emission(u64::from(emission));
            prop_assert_eq!(owner + server + validator, u64::from(emission));
            let weights: Vec<u64> = weights.into_iter().map(u64::from).collect();
            let shares = pro_rata(u64::from(emission), &weights);
            prop_assert!(shares.iter().sum::<u64>() <= u64::from(emission));
        }
    }
}
