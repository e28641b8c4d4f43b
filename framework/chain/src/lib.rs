//! The chain as validators and miners see it, behind one async trait.
//!
//! [`Chain`] is implemented by the embedded local chain (`localnet`) and by [`Subtensor`], the
//! real chain through subxt (`docs/chain.md`); everything above this crate (validator, miner,
//! CLI) is written against the trait and the plain types here, never against subxt or SQL.
//!
//! Units are the chain's own: balances and stake in rao (10⁻⁹ TAO or alpha), proportions as
//! `u16` fractions of 65535, blocks as `u64`. Errors ([`ChainError`]) carry the names of the
//! subtensor pallet's errors, so a message can be looked up in the chain's documentation.

mod commit;
mod error;
mod subtensor;
mod types;
mod weights;

pub use commit::{BadCommitHash, CommitHash, commit_hash};
pub use error::ChainError;
pub use protocol::{AccountId, Keypair};
pub use subtensor::{Subtensor, keypair_from_uri};
pub use types::{Axon, Hyperparams, Metagraph, NetUid, Neuron, Reveal, Uid, Weights, YumaVariant};
pub use weights::{WeightsError, clip_to_max_weight, normalize, scores_to_weights};

use async_trait::async_trait;

/// Reads and writes of one chain, as a validator or miner needs them.
///
/// Writes are signed by the key they act for: registration and staking by the coldkey that
/// pays, everything else by the neuron's hotkey. A write returns once the chain has applied it
/// (a block containing it exists), or with the chain's reason for refusing it.
#[async_trait]
pub trait Chain: Send + Sync {
    /// The current (best) block number.
    async fn block(&self) -> Result<u64, ChainError>;

    /// Free balance of a coldkey, in rao.
    async fn balance(&self, coldkey: &AccountId) -> Result<u64, ChainError>;

    /// Every uid of subnet `netuid` with its keys, stake, axon and last epoch's results.
    async fn metagraph(&self, netuid: NetUid) -> Result<Metagraph, ChainError>;

    /// The subnet's hyperparameters.
    async fn hyperparams(&self, netuid: NetUid) -> Result<Hyperparams, ChainError>;

    /// Registers `hotkey` on `netuid` by burning the registration cost from `coldkey`, which
    /// becomes the hotkey's owner. Returns the uid it got (a full subnet prunes one first).
    async fn register(&self, coldkey: &Keypair, netuid: NetUid, hotkey: &AccountId) -> Result<Uid, ChainError>;

    /// Publishes where the neuron of `hotkey` on `netuid` serves.
    async fn serve_axon(&self, hotkey: &Keypair, netuid: NetUid, axon: &Axon) -> Result<(), ChainError>;

    /// Moves `amount` rao from `coldkey`'s balance to stake on `hotkey` in `netuid`.
    async fn add_stake(
        &self,
        coldkey: &Keypair,
        hotkey: &AccountId,
        netuid: NetUid,
        amount: u64,
    ) -> Result<(), ChainError>;

    /// Sets the weights of `hotkey`'s neuron (refused while commit-reveal is on).
    async fn set_weights(
        &self,
        hotkey: &Keypair,
        netuid: NetUid,
        weights: &Weights,
        version_key: u64,
    ) -> Result<(), ChainError>;

    /// Commits to weights by their [`commit_hash`], to be revealed one reveal period later.
    async fn commit_weights(&self, hotkey: &Keypair, netuid: NetUid, hash: CommitHash) -> Result<(), ChainError>;

    /// Reveals weights committed earlier; the chain recomputes the hash and checks the window.
    async fn reveal_weights(&self, hotkey: &Keypair, netuid: NetUid, reveal: &Reveal) -> Result<(), ChainError>;
}
