//! Storage reads by name: the metagraph, hyperparameters, balances and uids.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use futures_util::future::try_join_all;
use subxt::ext::frame_decode::storage::{IntoDecodableValues, IntoEncodableValues};
use subxt::ext::scale_decode::DecodeAsType;
use subxt::utils::AccountId32;

use super::{At, account32};
use crate::{AccountId, Axon, ChainError, Hyperparams, Metagraph, NetUid, Neuron, Uid, YumaVariant};

const PALLET: &str = "SubtensorModule";

/// `AxonInfo`, the fields a client needs (decoded by name; the rest is skipped).
#[derive(DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct AxonInfo {
    block: u64,
    version: u32,
    ip: u128,
    port: u16,
    ip_type: u8,
    protocol: u8,
}

/// `System::Account`'s `AccountInfo`, down to the free balance.
#[derive(DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct AccountInfo {
    data: AccountData,
}

#[derive(DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct AccountData {
    free: u128,
}

fn internal(message: String) -> ChainError {
    ChainError::Internal { message }
}

/// Whether the runtime has the storage item (newer items are absent from older runtimes).
fn has_item(at: &At, item: &str) -> bool {
    at.metadata_ref()
        .pallet_by_name(PALLET)
        .and_then(|pallet| pallet.storage())
        .is_some_and(|storage| storage.entry_by_name(item).is_some())
}

/// Reads `pallet::item` at `keys`; a missing entry reads as the item's default.
async fn get_in<K, V>(at: &At, pallet: &str, item: &str, keys: K) -> Result<V, ChainError>
where
    K: IntoEncodableValues + IntoDecodableValues,
    V: DecodeAsType,
{
    let address = subxt::dynamic::storage::<K, V>(pallet, item);
    let value = at.storage().fetch(address, keys).await.map_err(|e| super::errors::storage(item, e))?;
    value.decode().map_err(|e| internal(format!("cannot decode {pallet}::{item}: {e}")))
}

/// Reads the `SubtensorModule` item at `keys`.
pub(super) async fn get<K, V>(at: &At, item: &str, keys: K) -> Result<V, ChainError>
where
    K: IntoEncodableValues + IntoDecodableValues,
    V: DecodeAsType,
{
    get_in(at, PALLET, item, keys).await
}

/// Reads the `SubtensorModule` item at `keys`, or `None` when this runtime has no such item.
async fn get_if_present<K, V>(at: &At, item: &str, keys: K) -> Result<Option<V>, ChainError>
where
    K: IntoEncodableValues + IntoDecodableValues,
    V: DecodeAsType,
{
    if has_item(at, item) { get(at, item, keys).await.map(Some) } else { Ok(None) }
}

/// Every `(key, value)` of the `SubtensorModule` map `item` under `netuid`.
async fn entries<K, V>(at: &At, item: &str, netuid: NetUid) -> Result<Vec<(K, V)>, ChainError>
where
    K: IntoEncodableValues + IntoDecodableValues,
    (NetUid,): subxt::storage::PrefixOf<K>,
    V: DecodeAsType,
{
    let address = subxt::dynamic::storage::<K, V>(PALLET, item);
    let mut stream = at.storage().iter(address, (netuid,)).await.map_err(|e| super::errors::storage(item, e))?;
    let mut out = Vec::new();
    while let Some(entry) = stream.next().await {
        let entry = entry.map_err(|e| super::errors::storage(item, e))?;
        let key = entry
            .key()
            .and_then(|key| key.decode())
            .map_err(|e| internal(format!("cannot decode a key of {PALLET}::{item}: {e}")))?;
        let value = entry.value().decode().map_err(|e| internal(format!("cannot decode {PALLET}::{item}: {e}")))?;
        out.push((key, value));
    }
    Ok(out)
}

/// Free balance of `account`, in rao.
pub(super) async fn free_balance(at: &At, account: &AccountId) -> Result<u64, ChainError> {
    let info: AccountInfo = get_in(at, "System", "Account", (account32(account),)).await?;
    u64::try_from(info.data.free).map_err(|_| internal(format!("the balance of {account} exceeds u64")))
}

/// The uid of `hotkey` on `netuid`, if it is registered there.
pub(super) async fn uid_of(at: &At, netuid: NetUid, hotkey: &AccountId) -> Result<Option<Uid>, ChainError> {
    let address = subxt::dynamic::storage::<(NetUid, AccountId32), Uid>(PALLET, "Uids");
    let value = at
        .storage()
        .try_fetch(address, (netuid, account32(hotkey)))
        .await
        .map_err(|e| super::errors::storage("Uids", e))?;
    value.map(|v| v.decode().map_err(|e| internal(format!("cannot decode {PALLET}::Uids: {e}")))).transpose()
}

/// Fails with [`ChainError::SubnetNotExists`] unless `netuid` exists.
pub(super) async fn ensure_subnet(at: &At, netuid: NetUid) -> Result<(), ChainError> {
    let added: bool = get(at, "NetworksAdded", (netuid,)).await?;
    if added { Ok(()) } else { Err(ChainError::SubnetNotExists { netuid }) }
}

/// The subnet's neurons from its storage maps, at one block.
pub(super) async fn metagraph(at: &At, netuid: NetUid) -> Result<Metagraph, ChainError> {
    ensure_subnet(at, netuid).await?;
    let keys: Vec<((NetUid, Uid), AccountId32)> = entries(at, "Keys", netuid).await?;
    let registered: BTreeMap<Uid, u64> = entries::<(NetUid, Uid), u64>(at, "BlockAtRegistration", netuid)
        .await?
        .into_iter()
        .map(|((_, uid), b)| (uid, b))
        .collect();
    let axons: BTreeMap<[u8; 32], AxonInfo> = entries::<(NetUid, AccountId32), AxonInfo>(at, "Axons", netuid)
        .await?
        .into_iter()
        .map(|((_, hotkey), axon)| (hotkey.0, axon))
        .collect();
    let permits: Vec<bool> = get(at, "ValidatorPermit", (netuid,)).await?;
    let active: Vec<bool> = get(at, "Active", (netuid,)).await?;
    let last_update: Vec<u64> = get(at, "LastUpdate", (netuid,)).await?;
    let consensus: Vec<u16> = get(at, "Consensus", (netuid,)).await?;
    let incentive: Vec<u16> = get(at, "Incentive", (netuid,)).await?;
    let dividends: Vec<u16> = get(at, "Dividends", (netuid,)).await?;
    let validator_trust: Vec<u16> = get(at, "ValidatorTrust", (netuid,)).await?;
    let emission: Vec<u64> = get(at, "Emission", (netuid,)).await?;

    let per_hotkey = try_join_all(keys.iter().map(|(_, hotkey)| async move {
        let owner: AccountId32 = get(at, "Owner", (*hotkey,)).await?;
        let stake: u64 = get(at, "TotalHotkeyAlpha", (*hotkey, netuid)).await?;
        Ok::<_, ChainError>((owner, stake))
    }))
    .await?;

    let mut neurons: Vec<Neuron> = keys
        .iter()
        .zip(per_hotkey)
        .map(|(((_, uid), hotkey), (owner, stake))| {
            let i = usize::from(*uid);
            Neuron {
                uid: *uid,
                hotkey: AccountId::from_bytes(hotkey.0),
                coldkey: AccountId::from_bytes(owner.0),
                stake,
                validator_permit: permits.get(i).copied().unwrap_or(false),
                active: active.get(i).copied().unwrap_or(false),
                last_update: last_update.get(i).copied().unwrap_or(0),
                registered_at: registered.get(uid).copied().unwrap_or(0),
                axon: axons.get(&hotkey.0).and_then(axon),
                consensus: consensus.get(i).copied().unwrap_or(0),
                incentive: incentive.get(i).copied().unwrap_or(0),
                dividends: dividends.get(i).copied().unwrap_or(0),
                validator_trust: validator_trust.get(i).copied().unwrap_or(0),
                emission: emission.get(i).copied().unwrap_or(0),
            }
        })
        .collect();
    neurons.sort_by_key(|neuron| neuron.uid);
    Ok(Metagraph { netuid, block: at.block_number(), neurons })
}

/// The stored axon as an [`Axon`]; `None` for an address the chain could not have accepted.
fn axon(info: &AxonInfo) -> Option<Axon> {
    let ip = match info.ip_type {
        4 => IpAddr::V4(Ipv4Addr::from(u32::try_from(info.ip).ok()?)),
        6 => IpAddr::V6(Ipv6Addr::from(info.ip)),
        _ => return None,
    };
    Some(Axon { ip, port: info.port, version: info.version, protocol: info.protocol })
}

/// The subnet's hyperparameters. Items this runtime lacks keep [`Hyperparams::default`]'s value,
/// except the Yuma variant: a runtime without `Yuma3On` runs the classic epoch.
pub(super) async fn hyperparams(at: &At, netuid: NetUid) -> Result<Hyperparams, ChainError> {
    ensure_subnet(at, netuid).await?;
    let defaults = Hyperparams::default();
    let key = (netuid,);
    let tempo: u16 = get(at, "Tempo", key).await?;
    let activity_cutoff_factor_milli = match get_if_present::<_, u32>(at, "ActivityCutoffFactorMilli", key).await? {
        Some(factor) => factor,
        // Older runtimes store the cutoff in blocks.
        None => match get_if_present::<_, u16>(at, "ActivityCutoff", key).await? {
            Some(blocks) if tempo > 0 => u32::try_from(u64::from(blocks) * 1000 / u64::from(tempo)).unwrap_or(u32::MAX),
            _ => defaults.activity_cutoff_factor_milli,
        },
    };
    let (alpha_low, alpha_high) = get_if_present::<_, (u16, u16)>(at, "AlphaValues", key)
        .await?
        .unwrap_or((defaults.alpha_low, defaults.alpha_high));
    Ok(Hyperparams {
        tempo,
        weights_rate_limit: get(at, "WeightsSetRateLimit", key).await?,
        weights_version_key: get(at, "WeightsVersionKey", key).await?,
        min_allowed_weights: get(at, "MinAllowedWeights", key).await?,
        max_weight_limit: get(at, "MaxWeightsLimit", key).await?,
        commit_reveal_enabled: get(at, "CommitRevealWeightsEnabled", key).await?,
        commit_reveal_period: get_if_present(at, "RevealPeriodEpochs", key)
            .await?
            .unwrap_or(defaults.commit_reveal_period),
        immunity_period: get(at, "ImmunityPeriod", key).await?,
        max_allowed_uids: get(at, "MaxAllowedUids", key).await?,
        max_allowed_validators: get(at, "MaxAllowedValidators", key).await?,
        burn: get(at, "Burn", key).await?,
        serving_rate_limit: get(at, "ServingRateLimit", key).await?,
        stake_threshold: stake_threshold(at).await?,
        yuma: match get_if_present::<_, bool>(at, "Yuma3On", key).await? {
            Some(true) => YumaVariant::Yuma3,
            Some(false) | None => YumaVariant::Classic,
        },
        liquid_alpha_enabled: get_if_present(at, "LiquidAlphaOn", key).await?.unwrap_or(defaults.liquid_alpha_enabled),
        kappa: get(at, "Kappa", key).await?,
        bonds_moving_average: get(at, "BondsMovingAverage", key).await?,
        bonds_penalty: get_if_present(at, "BondsPenalty", key).await?.unwrap_or(defaults.bonds_penalty),
        activity_cutoff_factor_milli,
        alpha_low,
        alpha_high,
        alpha_sigmoid_steepness: get_if_present(at, "AlphaSigmoidSteepness", key)
            .await?
            .unwrap_or(defaults.alpha_sigmoid_steepness),
    })
}

/// The block of the neuron's last axon update (0 when it never served one).
pub(super) async fn axon_block(at: &At, netuid: NetUid, hotkey: &AccountId) -> Result<u64, ChainError> {
    let address = subxt::dynamic::storage::<(NetUid, AccountId32), AxonInfo>(PALLET, "Axons");
    let value = at
        .storage()
        .try_fetch(address, (netuid, account32(hotkey)))
        .await
        .map_err(|e| super::errors::storage("Axons", e))?;
    match value {
        Some(value) => {
            value.decode().map(|axon| axon.block).map_err(|e| internal(format!("cannot decode {PALLET}::Axons: {e}")))
        }
        None => Ok(0),
    }
}

/// The least stake needed to set weights (`StakeThreshold`; `WeightsMinStake` in older runtimes).
pub(super) async fn stake_threshold(at: &At) -> Result<u64, ChainError> {
    match get_if_present(at, "StakeThreshold", ()).await? {
        Some(threshold) => Ok(threshold),
        None => get(at, "WeightsMinStake", ()).await,
    }
}

/// The subnet's epoch length and the reveal period (for explaining reveal-window errors).
pub(super) async fn epoch_params(at: &At, netuid: NetUid) -> Result<(u64, u64), ChainError> {
    let tempo: u16 = get(at, "Tempo", (netuid,)).await?;
    let period = get_if_present(at, "RevealPeriodEpochs", (netuid,)).await?.unwrap_or(1);
    Ok((u64::from(tempo), period))
}

/// One pending weight commit: its block, and its reveal window when the runtime stores it.
pub(super) struct PendingCommit {
    pub(super) block: u64,
    pub(super) window: Option<(u64, u64)>,
}

/// `hotkey`'s pending weight commits on `netuid`, oldest first. `WeightCommits` holds
/// `(hash, commit_block, first_reveal_block, last_reveal_block)` tuples.
pub(super) async fn pending_commits(
    at: &At,
    netuid: NetUid,
    hotkey: &AccountId,
) -> Result<Vec<PendingCommit>, ChainError> {
    use subxt::dynamic::{At as _, Value};
    if !has_item(at, "WeightCommits") {
        return Ok(Vec::new());
    }
    let address = subxt::dynamic::storage::<(NetUid, AccountId32), Vec<Value>>(PALLET, "WeightCommits");
    let value = at
        .storage()
        .try_fetch(address, (netuid, account32(hotkey)))
        .await
        .map_err(|e| super::errors::storage("WeightCommits", e))?;
    let Some(value) = value else { return Ok(Vec::new()) };
    let commits = value.decode().map_err(|e| internal(format!("cannot decode {PALLET}::WeightCommits: {e}")))?;
    let number = |commit: &Value, i: usize| commit.at(i).and_then(Value::as_u128).and_then(|n| u64::try_from(n).ok());
    Ok(commits
        .iter()
        .filter_map(|commit| {
            let block = number(commit, 1)?;
            Some(PendingCommit { block, window: number(commit, 2).zip(number(commit, 3)) })
        })
        .collect())
}
