//! The local chain over HTTP: JSON reads, and one signed endpoint for every call.
//!
//! | route | what |
//! |---|---|
//! | `GET /v1/info` | identity (the `btauth/1` receiver), sudo key, block, netuids |
//! | `GET /v1/block` | the current block |
//! | `GET /v1/balances/{ss58}` | a coldkey's free balance |
//! | `GET /v1/subnets/{netuid}/metagraph` | [`chain::Metagraph`] |
//! | `GET /v1/subnets/{netuid}/hyperparams` | [`chain::Hyperparams`] |
//! | `GET /v1/subnets/{netuid}/epoch` | the last [`EpochRecord`](crate::EpochRecord) (404 before the first) |
//! | `GET /v1/issuance` | [`Issuance`](crate::Issuance) |
//! | `POST /v1/extrinsics` | a [`Call`] signed with `btauth/1` by the key it acts for → [`Receipt`](crate::Receipt) |
//! | `GET /metrics` | Prometheus text |
//!
//! Refusals are a [`ChainError`] as JSON with the status from [`status_of`].

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chain::{AccountId, ChainError, NetUid};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use protocol::btauth::{self, Headers, Request, Verifier, VerifierConfig};
use serde::{Deserialize, Serialize};

use crate::state::{Call, Localnet, Origin};

/// Largest request body accepted (a weights call for 65 536 uids is under 1 MiB).
const MAX_BODY: usize = 2 << 20;

/// What `GET /v1/info` answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Info {
    /// The account signed requests must name as receiver.
    pub identity: AccountId,
    /// The sudo key.
    pub sudo: AccountId,
    /// The current block.
    pub block: u64,
    /// Every subnet.
    pub netuids: Vec<NetUid>,
}

/// What the server shares between requests.
#[derive(Debug)]
pub struct ServerState {
    chain: Arc<Localnet>,
    verifier: Verifier,
    max_age_ns: u64,
    metrics: Metrics,
}

impl ServerState {
    /// Serves `chain`, accepting requests signed within the default `btauth/1` window (10 s).
    pub fn new(chain: Arc<Localnet>) -> ServerState {
        let config = VerifierConfig::default();
        let max_age_ns = u64::try_from(config.max_age.as_nanos()).unwrap_or(u64::MAX);
        let verifier = Verifier::new(chain.identity(), config);
        let metrics = Metrics::new();
        ServerState { chain, verifier, max_age_ns, metrics }
    }
}

/// The local chain's HTTP API.
pub fn router(state: Arc<ServerState>) -> Router {
    Router::new()
        .route("/v1/info", get(info))
        .route("/v1/block", get(block))
        .route("/v1/balances/{coldkey}", get(balance))
        .route("/v1/subnets/{netuid}/metagraph", get(metagraph))
        .route("/v1/subnets/{netuid}/hyperparams", get(hyperparams))
        .route("/v1/subnets/{netuid}/epoch", get(last_epoch))
        .route("/v1/issuance", get(issuance))
        .route("/v1/extrinsics", post(extrinsic))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// The HTTP status a refusal is answered with.
pub fn status_of(error: &ChainError) -> StatusCode {
    match error {
        ChainError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
        ChainError::BadOrigin | ChainError::NotSubnetOwner | ChainError::NonAssociatedColdKey => StatusCode::FORBIDDEN,
        ChainError::SubnetNotExists { .. } => StatusCode::NOT_FOUND,
        ChainError::Invalid { .. } => StatusCode::BAD_REQUEST,
        ChainError::SettingWeightsTooFast { .. }
        | ChainError::CommittingWeightsTooFast { .. }
        | ChainError::ServingRateLimitExceeded { .. } => StatusCode::TOO_MANY_REQUESTS,
        ChainError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        ChainError::Transport { .. } => StatusCode::BAD_GATEWAY,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// A refusal on the wire.
struct Refusal(ChainError);

impl From<ChainError> for Refusal {
    fn from(error: ChainError) -> Refusal {
        Refusal(error)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        if matches!(self.0, ChainError::Internal { .. }) {
            tracing::error!(error = %self.0, "localnet failure");
        }
        (status_of(&self.0), Json(self.0)).into_response()
    }
}

type Answer<T> = Result<Json<T>, Refusal>;

async fn info(State(state): State<Arc<ServerState>>) -> Answer<Info> {
    Ok(Json(Info {
        identity: state.chain.identity(),
        sudo: state.chain.sudo(),
        block: state.chain.block().await?,
        netuids: state.chain.netuids().await?,
    }))
}

#[derive(Serialize, Deserialize)]
struct BlockNumber {
    block: u64,
}

async fn block(State(state): State<Arc<ServerState>>) -> Answer<BlockNumber> {
    Ok(Json(BlockNumber { block: state.chain.block().await? }))
}

#[derive(Serialize, Deserialize)]
struct Balance {
    balance: u64,
}

async fn balance(State(state): State<Arc<ServerState>>, Path(coldkey): Path<String>) -> Answer<Balance> {
    let coldkey = AccountId::from_ss58(&coldkey)
        .map_err(|error| ChainError::Invalid { field: "coldkey".to_owned(), message: error.to_string() })?;
    Ok(Json(Balance { balance: state.chain.balance(&coldkey).await? }))
}

fn parse_netuid(text: &str) -> Result<NetUid, Refusal> {
    text.parse().map_err(|_| {
        Refusal(ChainError::Invalid { field: "netuid".to_owned(), message: format!("{text:?} is not a u16") })
    })
}

async fn metagraph(State(state): State<Arc<ServerState>>, Path(netuid): Path<String>) -> Answer<chain::Metagraph> {
    Ok(Json(state.chain.metagraph(parse_netuid(&netuid)?).await?))
}

async fn hyperparams(State(state): State<Arc<ServerState>>, Path(netuid): Path<String>) -> Answer<chain::Hyperparams> {
    Ok(Json(state.chain.hyperparams(parse_netuid(&netuid)?).await?))
}

async fn last_epoch(State(state): State<Arc<ServerState>>, Path(netuid): Path<String>) -> Response {
    let netuid = match parse_netuid(&netuid) {
        Ok(netuid) => netuid,
        Err(refusal) => return refusal.into_response(),
    };
    match state.chain.last_epoch(netuid).await {
        Ok(Some(record)) => Json(record).into_response(),
        Ok(None) => {
            (StatusCode::NOT_FOUND, Json(serde_json::json!({"error": "NoEpochYet", "netuid": netuid}))).into_response()
        }
        Err(error) => Refusal(error).into_response(),
    }
}

async fn issuance(State(state): State<Arc<ServerState>>) -> Answer<crate::state::Issuance> {
    Ok(Json(state.chain.issuance().await?))
}

async fn extrinsic(
    State(state): State<Arc<ServerState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Answer<crate::state::Receipt> {
    let outcome = apply_signed(&state, &method, &uri, &headers, &body).await;
    let (call, result) = match outcome {
        Ok((call, receipt)) => (call, Ok(receipt)),
        Err((call, error)) => (call, Err(error)),
    };
    let label = match &result {
        Ok(_) => "ok".to_owned(),
        Err(error) => serde_json::to_value(error)
            .ok()
            .and_then(|value| value.get("error").and_then(|name| name.as_str().map(str::to_owned)))
            .unwrap_or_else(|| "unknown".to_owned()),
    };
    state.metrics.extrinsic(call, &label);
    if let Ok(receipt) = &result {
        state.metrics.block.set(i64::try_from(receipt.block).unwrap_or(i64::MAX));
    }
    Ok(Json(result?))
}

type Failed = (&'static str, ChainError);

async fn apply_signed(
    state: &ServerState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(&'static str, crate::state::Receipt), Failed> {
    let unauthorized = |reason: String| ("unsigned", ChainError::Unauthorized { reason });
    let pairs = headers.iter().map(|(name, value)| (name.as_str(), value.as_bytes()));
    let parsed = Headers::parse(pairs).map_err(|error| unauthorized(error.to_string()))?;
    let target = uri.path_and_query().map_or(uri.path(), |target| target.as_str());
    let request = Request { method: method.as_str(), target, body };
    let now = btauth::now_ns();
    let authenticated =
        state.verifier.authenticate(&parsed, &request, now).map_err(|error| unauthorized(error.to_string()))?;
    let caller = authenticated.caller();
    let call: Call =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body)).map_err(|error| {
            let field = match error.path().to_string() {
                path if path == "." => "body".to_owned(),
                path => format!("body.{path}"),
            };
            ("malformed", ChainError::Invalid { field, message: error.inner().to_string() })
        })?;
    let name = call_name(&call);
    let origin = Origin {
        signer: caller.hotkey,
        nonce: Some((caller.nonce_ns, caller.nonce_ns.saturating_add(state.max_age_ns))),
    };
    let receipt = state.chain.apply(origin, call).await.map_err(|error| (name, error))?;
    Ok((name, receipt))
}

fn call_name(call: &Call) -> &'static str {
    match call {
        Call::Register { .. } => "register",
        Call::ServeAxon { .. } => "serve_axon",
        Call::AddStake { .. } => "add_stake",
        Call::SetWeights { .. } => "set_weights",
        Call::CommitWeights { .. } => "commit_weights",
        Call::RevealWeights { .. } => "reveal_weights",
        Call::SetHyperparams { .. } => "set_hyperparams",
        Call::Fund { .. } => "fund",
        Call::AdvanceBlocks { .. } => "advance_blocks",
    }
}

async fn metrics(State(state): State<Arc<ServerState>>) -> Response {
    if let Ok(block) = state.chain.block().await {
        state.metrics.block.set(i64::try_from(block).unwrap_or(i64::MAX));
    }
    match state.metrics.encode() {
        Ok(text) => ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ExtrinsicLabels {
    call: String,
    outcome: String,
}

/// The server's metrics. Labels are call names and chain error names: a fixed set.
#[derive(Debug)]
struct Metrics {
    registry: Registry,
    block: Gauge,
    extrinsics: Family<ExtrinsicLabels, Counter>,
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("localnet");
        let block = Gauge::default();
        let extrinsics = Family::<ExtrinsicLabels, Counter>::default();
        registry.register("block", "The current block", block.clone());
        registry.register("extrinsics", "Signed calls by call and outcome (ok or the chain error)", extrinsics.clone());
        Metrics { registry, block, extrinsics }
    }

    fn extrinsic(&self, call: &str, outcome: &str) {
        self.extrinsics.get_or_create(&ExtrinsicLabels { call: call.to_owned(), outcome: outcome.to_owned() }).inc();
    }

    fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// Produces a block every `interval` until `shutdown` fires. A failed block is logged and
/// retried at the next tick: the chain stays at its last committed block meanwhile.
pub async fn produce_blocks(chain: Arc<Localnet>, interval: Duration, shutdown: impl Future<Output = ()>) {
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = &mut shutdown => return,
        }
        match chain.advance(1).await {
            Ok(block) => tracing::debug!(block, "block produced"),
            Err(error) => tracing::error!(%error, "block production failed; retrying at the next tick"),
        }
    }
}
