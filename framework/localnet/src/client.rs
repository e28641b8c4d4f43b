//! A client of a running local chain, implementing [`chain::Chain`] over its HTTP API.

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use chain::{
    AccountId, Axon, Chain, ChainError, CommitHash, Hyperparams, Keypair, Metagraph, NetUid, Reveal, Uid, Weights,
};
use protocol::btauth::{self, Request};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;

use crate::server::Info;
use crate::state::{Call, EpochRecord, Issuance, Receipt};

/// Path of the signed endpoint.
const EXTRINSICS: &str = "/v1/extrinsics";

/// A connection to `subnetkit localnet` at a base URL such as `http://127.0.0.1:9944`.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    identity: OnceCell<AccountId>,
    /// Last nonce used, so two calls in the same nanosecond still differ.
    last_nonce: AtomicU64,
}

impl Client {
    /// A client for the chain at `base_url` (`http://host:port`, no path). Connects lazily.
    pub fn new(base_url: &str) -> Result<Client, ChainError> {
        let invalid = |message: String| ChainError::Invalid { field: "url".to_owned(), message };
        let base = Url::parse(base_url).map_err(|error| invalid(format!("{base_url:?}: {error}")))?;
        if base.scheme() != "http" {
            return Err(invalid(format!("{base_url:?}: the local chain speaks plain http")));
        }
        if base.path() != "/" || base.query().is_some() {
            return Err(invalid(format!("{base_url:?}: give the chain's address without a path")));
        }
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|error| ChainError::Transport { message: error.to_string() })?;
        Ok(Client { http, base, identity: OnceCell::new(), last_nonce: AtomicU64::new(0) })
    }

    /// The chain's identity, sudo key, block and subnets.
    pub async fn info(&self) -> Result<Info, ChainError> {
        self.get("/v1/info").await
    }

    /// The subnet's last epoch, or `None` before its first.
    pub async fn last_epoch(&self, netuid: NetUid) -> Result<Option<EpochRecord>, ChainError> {
        let response = self.send(self.http.get(self.url(&format!("/v1/subnets/{netuid}/epoch"))?)).await?;
        if response.status() == StatusCode::NOT_FOUND {
            let body = response.bytes().await.map_err(transport)?;
            return match serde_json::from_slice::<ChainError>(&body) {
                Ok(error) => Err(error),
                Err(_) => Ok(None),
            };
        }
        decode(response).await.map(Some)
    }

    /// Totals of every place rao can be.
    pub async fn issuance(&self) -> Result<Issuance, ChainError> {
        self.get("/v1/issuance").await
    }

    /// Signs `call` with `signer` and applies it.
    pub async fn submit(&self, signer: &Keypair, call: &Call) -> Result<Receipt, ChainError> {
        let identity = *self.identity.get_or_try_init(|| async { self.info().await.map(|info| info.identity) }).await?;
        let body = serde_json::to_vec(call)
            .map_err(|error| ChainError::Invalid { field: "call".to_owned(), message: error.to_string() })?;
        let request = Request { method: "POST", target: EXTRINSICS, body: &body };
        let headers = btauth::sign(signer, &request, Some(&identity), self.next_nonce())
            .map_err(|error| ChainError::Invalid { field: "request".to_owned(), message: error.to_string() })?;
        let mut builder = self.http.post(self.url(EXTRINSICS)?).header("content-type", "application/json").body(body);
        for (name, value) in headers.to_pairs() {
            builder = builder.header(name, value);
        }
        decode(self.send(builder).await?).await
    }

    /// Produces `count` blocks now (sudo only).
    pub async fn advance_blocks(&self, sudo: &Keypair, count: u64) -> Result<u64, ChainError> {
        Ok(self.submit(sudo, &Call::AdvanceBlocks { count }).await?.block)
    }

    /// Mints `amount` rao to `coldkey` (sudo only).
    pub async fn fund(&self, sudo: &Keypair, coldkey: &AccountId, amount: u64) -> Result<(), ChainError> {
        self.submit(sudo, &Call::Fund { coldkey: *coldkey, amount }).await.map(drop)
    }

    /// Replaces a subnet's hyperparameters (its owner or sudo).
    pub async fn set_hyperparams(
        &self,
        owner: &Keypair,
        netuid: NetUid,
        hyperparams: &Hyperparams,
    ) -> Result<(), ChainError> {
        self.submit(owner, &Call::SetHyperparams { netuid, hyperparams: hyperparams.clone() }).await.map(drop)
    }

    fn next_nonce(&self) -> u64 {
        let now = btauth::now_ns();
        let previous = self.last_nonce.fetch_max(now, Ordering::SeqCst);
        if previous < now { now } else { self.last_nonce.fetch_add(1, Ordering::SeqCst) + 1 }
    }

    fn url(&self, path: &str) -> Result<Url, ChainError> {
        self.base
            .join(path)
            .map_err(|error| ChainError::Invalid { field: "url".to_owned(), message: error.to_string() })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ChainError> {
        decode(self.send(self.http.get(self.url(path)?)).await?).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, ChainError> {
        request.send().await.map_err(|error| ChainError::Transport {
            message: format!("{}: {error}", self.base.as_str().trim_end_matches('/')),
        })
    }
}

fn transport(error: reqwest::Error) -> ChainError {
    ChainError::Transport { message: error.to_string() }
}

/// The body as `T` on success, else the chain's refusal it carries.
async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ChainError> {
    let status = response.status();
    let body = response.bytes().await.map_err(transport)?;
    if status.is_success() {
        return serde_json::from_slice(&body)
            .map_err(|error| ChainError::Transport { message: format!("unexpected answer from the chain: {error}") });
    }
    Err(serde_json::from_slice::<ChainError>(&body).unwrap_or_else(|_| ChainError::Transport {
        message: format!("HTTP {status}: {}", String::from_utf8_lossy(&body[..body.len().min(200)])),
    }))
}

#[async_trait]
impl Chain for Client {
    async fn block(&self) -> Result<u64, ChainError> {
        #[derive(serde::Deserialize)]
        struct BlockNumber {
            block: u64,
        }
        Ok(self.get::<BlockNumber>("/v1/block").await?.block)
    }

    async fn balance(&self, coldkey: &AccountId) -> Result<u64, ChainError> {
        #[derive(serde::Deserialize)]
        struct Balance {
            balance: u64,
        }
        Ok(self.get::<Balance>(&format!("/v1/balances/{coldkey}")).await?.balance)
    }

    async fn metagraph(&self, netuid: NetUid) -> Result<Metagraph, ChainError> {
        self.get(&format!("/v1/subnets/{netuid}/metagraph")).await
    }

    async fn hyperparams(&self, netuid: NetUid) -> Result<Hyperparams, ChainError> {
        self.get(&format!("/v1/subnets/{netuid}/hyperparams")).await
    }

    async fn register(&self, coldkey: &Keypair, netuid: NetUid, hotkey: &AccountId) -> Result<Uid, ChainError> {
        let receipt = self.submit(coldkey, &Call::Register { netuid, hotkey: *hotkey }).await?;
        receipt.uid.ok_or_else(|| ChainError::Transport { message: "the chain did not say which uid".to_owned() })
    }

    async fn serve_axon(&self, hotkey: &Keypair, netuid: NetUid, axon: &Axon) -> Result<(), ChainError> {
        self.submit(hotkey, &Call::ServeAxon { netuid, axon: axon.clone() }).await.map(drop)
    }

    async fn add_stake(
        &self,
        coldkey: &Keypair,
        hotkey: &AccountId,
        netuid: NetUid,
        amount: u64,
    ) -> Result<(), ChainError> {
        self.submit(coldkey, &Call::AddStake { netuid, hotkey: *hotkey, amount }).await.map(drop)
    }

    async fn set_weights(
        &self,
        hotkey: &Keypair,
        netuid: NetUid,
        weights: &Weights,
        version_key: u64,
    ) -> Result<(), ChainError> {
        let call = Call::SetWeights { netuid, uids: weights.uids.clone(), values: weights.values.clone(), version_key };
        self.submit(hotkey, &call).await.map(drop)
    }

    async fn commit_weights(&self, hotkey: &Keypair, netuid: NetUid, hash: CommitHash) -> Result<(), ChainError> {
        self.submit(hotkey, &Call::CommitWeights { netuid, hash }).await.map(drop)
    }

    async fn reveal_weights(&self, hotkey: &Keypair, netuid: NetUid, reveal: &Reveal) -> Result<(), ChainError> {
        let Reveal { uids, values, salt, version_key } = reveal.clone();
        self.submit(hotkey, &Call::RevealWeights { netuid, uids, values, salt, version_key }).await.map(drop)
    }
}
