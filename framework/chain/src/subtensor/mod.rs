//! The real chain: subtensor over its JSON-RPC, through subxt's dynamic API.
//!
//! Everything is addressed by name (`SubtensorModule::Keys`, `SubtensorModule::set_weights`) and
//! encoded or decoded against the metadata the node serves, so no metadata file is compiled in
//! and a runtime upgrade that keeps the names and shapes keeps working.

mod errors;
mod keys;
mod reads;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use protocol::Keypair;
use subxt::backend::BlockRef;
use subxt::backend::LegacyBackend;
use subxt::ext::scale_encode::EncodeAsFields;
use subxt::rpcs::client::ReconnectingRpcClient;
use subxt::rpcs::client::reconnecting_rpc_client::FibonacciBackoff;
use subxt::rpcs::{LegacyRpcMethods, RpcClient};
use subxt::transactions::TransactionStatus;
use subxt::utils::{AccountId32, H256};
use subxt::{OnlineClient, OnlineClientAtBlock, SubstrateConfig};

pub use keys::keypair_from_uri;

use crate::{AccountId, Axon, Chain, ChainError, CommitHash, Hyperparams, Metagraph, NetUid, Reveal, Uid, Weights};
use errors::{Call, Failure};

/// How long a transaction may take from submission to inclusion in a block.
const INCLUSION_TIMEOUT: Duration = Duration::from_secs(120);
/// How long one RPC request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest wait between two reconnection attempts.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(10);

type Config = SubstrateConfig;
type At = OnlineClientAtBlock<Config>;

/// A subtensor node (finney, testnet or a local one) as a [`Chain`].
///
/// Reads are made at the node's best block. Writes are signed with the caller's key and return
/// once the transaction is in a block; the chain's refusal comes back as the [`ChainError`]
/// variant of the same name. A dropped WebSocket connection is re-established in the
/// background; calls made meanwhile fail with [`ChainError::Transport`].
#[derive(Clone)]
pub struct Subtensor {
    url: String,
    client: OnlineClient<Config>,
    rpc: LegacyRpcMethods<subxt::config::RpcConfigFor<Config>>,
}

impl std::fmt::Debug for Subtensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subtensor").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Subtensor {
    /// Connects to the node at `url`: `wss://…`, or `ws://…` on a loopback address.
    pub async fn connect(url: &str) -> Result<Subtensor, ChainError> {
        let invalid = |message: String| ChainError::Invalid { field: "url".into(), message };
        if !(url.starts_with("ws://") || url.starts_with("wss://")) {
            return Err(invalid(format!("{url} is not a ws:// or wss:// URL")));
        }
        match subxt::rpcs::utils::url_is_secure(url) {
            Ok(true) => {}
            Ok(false) => {
                return Err(invalid(format!("{url}: plain ws:// is only allowed to a loopback address; use wss://")));
            }
            Err(e) => return Err(invalid(format!("{url}: {e}"))),
        }
        // Reconnect with backoff once connected, but fail the first connection at once.
        let connected = Arc::new(AtomicBool::new(false));
        let policy = Backoff {
            connected: connected.clone(),
            delays: FibonacciBackoff::from_millis(100).max_delay(MAX_RECONNECT_DELAY),
        };
        let rpc_client = ReconnectingRpcClient::builder()
            .retry_policy(policy)
            .request_timeout(REQUEST_TIMEOUT)
            .connection_timeout(Duration::from_secs(10))
            .build(url)
            .await
            .map_err(|e| ChainError::Transport { message: format!("cannot connect to {url}: {e}") })?;
        connected.store(true, Ordering::Relaxed);
        let rpc_client = RpcClient::new(rpc_client);
        let backend = LegacyBackend::builder().build(rpc_client.clone());
        let client = OnlineClient::from_backend(Arc::new(backend))
            .await
            .map_err(|e| ChainError::Transport { message: format!("cannot connect to {url}: {e}") })?;
        let subtensor = Subtensor { url: url.to_owned(), client, rpc: LegacyRpcMethods::new(rpc_client) };
        let at = subtensor.at_best().await?;
        tracing::info!(url, block = at.block_number(), spec_version = at.spec_version(), "connected to subtensor");
        Ok(subtensor)
    }

    /// The URL it is connected to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A view of the chain at the node's best block.
    async fn at_best(&self) -> Result<At, ChainError> {
        let hash = self.rpc.chain_get_block_hash(None).await.map_err(|e| self.transport(e))?;
        let hash = hash.ok_or_else(|| self.transport("the node has no best block"))?;
        self.client.at_block(BlockRef::from_hash(hash)).await.map_err(|e| errors::classify(&self.url, e.into()))
    }

    fn transport(&self, error: impl std::fmt::Display) -> ChainError {
        ChainError::Transport { message: format!("{}: {error}", self.url) }
    }

    /// Signs `call` with `keypair`, submits it and waits until it is in a block. Returns the
    /// block number, or why it failed (a dispatch error by its pallet error's name).
    async fn submit<Args: EncodeAsFields>(&self, keypair: &Keypair, call: &str, args: Args) -> Result<u64, Failure> {
        let payload = subxt::dynamic::tx("SubtensorModule", call, args);
        let at = self.at_best().await?;
        let signer = keys::Signer(keypair);
        let mut transactions = at.transactions();
        let mut progress = transactions
            .sign_and_submit_then_watch_default(&payload, &signer)
            .await
            .map_err(|e| errors::classify(&self.url, e.into()))?;
        let who = keypair.account();
        let included = tokio::time::timeout(INCLUSION_TIMEOUT, async {
            while let Some(status) = progress.next().await {
                match status.map_err(|e| errors::classify(&self.url, e.into()))? {
                    TransactionStatus::InBestBlock(block) | TransactionStatus::InFinalizedBlock(block) => {
                        return Ok(block);
                    }
                    TransactionStatus::Invalid { message } => {
                        return Err(ChainError::Invalid { field: "transaction".into(), message });
                    }
                    TransactionStatus::Error { message } | TransactionStatus::Dropped { message } => {
                        return Err(self.transport(format!("transaction {call}: {message}")));
                    }
                    _ => {}
                }
            }
            Err(self.transport(format!("transaction {call}: the status stream ended before inclusion")))
        })
        .await
        .map_err(|_| self.transport(format!("transaction {call} not in a block after {INCLUSION_TIMEOUT:?}")))??;

        let block = included.at().await.map_err(|e| errors::classify(&self.url, e.into()))?.block_number();
        match included.wait_for_success().await {
            Ok(events) => {
                let names: Vec<String> = events
                    .iter()
                    .filter_map(Result::ok)
                    .map(|event| format!("{}::{}", event.pallet_name(), event.event_name()))
                    .collect();
                tracing::info!(call, %who, block, events = ?names, "transaction applied");
                Ok(block)
            }
            Err(subxt::error::TransactionEventsError::ExtrinsicFailed(dispatch)) => {
                let failure = Failure::from_dispatch(&dispatch);
                tracing::info!(call, %who, block, error = %dispatch, "transaction refused");
                Err(failure)
            }
            Err(e) => Err(errors::classify(&self.url, e.into()).into()),
        }
    }

    /// [`Subtensor::submit`], a refusal read into the [`ChainError`] of `what` it concerns.
    async fn write<Args: EncodeAsFields>(
        &self,
        keypair: &Keypair,
        call: &str,
        args: Args,
        what: &Call,
    ) -> Result<u64, ChainError> {
        match self.submit(keypair, call, args).await {
            Ok(block) => Ok(block),
            Err(failure) => Err(self.explain(failure, what).await),
        }
    }
}

/// The reconnecting client's retry policy: no retries until the first connection succeeded
/// (so an unreachable URL fails at once), then Fibonacci backoff from 100 ms up to
/// [`MAX_RECONNECT_DELAY`], without end.
#[derive(Clone)]
struct Backoff {
    connected: Arc<AtomicBool>,
    delays: FibonacciBackoff,
}

impl Iterator for Backoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if !self.connected.load(Ordering::Relaxed) {
            return None;
        }
        Some(self.delays.next().unwrap_or(MAX_RECONNECT_DELAY).min(MAX_RECONNECT_DELAY))
    }
}

fn account32(account: &AccountId) -> AccountId32 {
    AccountId32(*account.as_bytes())
}

#[async_trait]
impl Chain for Subtensor {
    async fn block(&self) -> Result<u64, ChainError> {
        let header = self.rpc.chain_get_header(None).await.map_err(|e| self.transport(e))?;
        let header = header.ok_or_else(|| self.transport("the node has no best block"))?;
        Ok(header.number)
    }

    async fn balance(&self, coldkey: &AccountId) -> Result<u64, ChainError> {
        let at = self.at_best().await?;
        reads::free_balance(&at, coldkey).await
    }

    async fn metagraph(&self, netuid: NetUid) -> Result<Metagraph, ChainError> {
        let at = self.at_best().await?;
        reads::metagraph(&at, netuid).await
    }

    async fn hyperparams(&self, netuid: NetUid) -> Result<Hyperparams, ChainError> {
        let at = self.at_best().await?;
        reads::hyperparams(&at, netuid).await
    }

    async fn register(&self, coldkey: &Keypair, netuid: NetUid, hotkey: &AccountId) -> Result<Uid, ChainError> {
        let call = Call::Register { netuid, coldkey: coldkey.account(), hotkey: *hotkey };
        let block = self.write(coldkey, "burned_register", (netuid, account32(hotkey)), &call).await?;
        let at = self.at_best().await?;
        let uid = reads::uid_of(&at, netuid, hotkey).await?;
        let uid = uid.ok_or_else(|| ChainError::Internal {
            message: format!("registered in block {block}, but the hotkey has no uid on subnet {netuid}"),
        })?;
        tracing::info!(netuid, %hotkey, uid, block, "registered");
        Ok(uid)
    }

    async fn serve_axon(&self, hotkey: &Keypair, netuid: NetUid, axon: &Axon) -> Result<(), ChainError> {
        let call = Call::ServeAxon { netuid, hotkey: hotkey.account(), ip: axon.ip.to_string() };
        let args = (netuid, axon.version, axon.ip_bits(), axon.port, axon.ip_type(), axon.protocol, 0u8, 0u8);
        self.write(hotkey, "serve_axon", args, &call).await.map(drop)
    }

    async fn add_stake(
        &self,
        coldkey: &Keypair,
        hotkey: &AccountId,
        netuid: NetUid,
        amount: u64,
    ) -> Result<(), ChainError> {
        let call = Call::AddStake { netuid, coldkey: coldkey.account(), amount };
        self.write(coldkey, "add_stake", (account32(hotkey), netuid, amount), &call).await.map(drop)
    }

    async fn set_weights(
        &self,
        hotkey: &Keypair,
        netuid: NetUid,
        weights: &Weights,
        version_key: u64,
    ) -> Result<(), ChainError> {
        let call = Call::Weights {
            netuid,
            hotkey: hotkey.account(),
            uids: weights.uids.clone(),
            values: weights.values.len(),
            version_key,
        };
        let args = (netuid, weights.uids.clone(), weights.values.clone(), version_key);
        self.write(hotkey, "set_weights", args, &call).await.map(drop)
    }

    async fn commit_weights(&self, hotkey: &Keypair, netuid: NetUid, hash: CommitHash) -> Result<(), ChainError> {
        let call = Call::Commit { netuid, hotkey: hotkey.account() };
        self.write(hotkey, "commit_weights", (netuid, H256(hash.0)), &call).await.map(drop)
    }

    async fn reveal_weights(&self, hotkey: &Keypair, netuid: NetUid, reveal: &Reveal) -> Result<(), ChainError> {
        let call = Call::Weights {
            netuid,
            hotkey: hotkey.account(),
            uids: reveal.uids.clone(),
            values: reveal.values.len(),
            version_key: reveal.version_key,
        };
        let args = (netuid, reveal.uids.clone(), reveal.values.clone(), reveal.salt.clone(), reveal.version_key);
        self.write(hotkey, "reveal_weights", args, &call).await.map(drop)
    }
}
