//! The HTTP server: state, router, the task pipeline, health and metrics.

use std::collections::HashSet;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use protocol::btauth::{self, now_ns};
use protocol::{AccountId, Keypair};
use tokio::sync::Semaphore;

use crate::auth::{AuthConfig, Authenticator};
use crate::error::Refusal;
use crate::metagraph::{MetagraphSource, Snapshot, SnapshotCell, SourceError};
use crate::metrics::Metrics;
use crate::miner::{Task, Validator};
use crate::queue::{Refused, Scheduler, Slot};
use crate::subnet::Subnet;
use protocol::btauth::Authenticated;

/// A per-caller rate limit: a token bucket refilled at `per_second`, holding at most `burst`.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    /// Sustained requests per second, per caller and subnet.
    pub per_second: NonZeroU32,
    /// Requests a caller may send at once after being idle.
    pub burst: NonZeroU32,
}

/// Server-wide settings. Per-subnet ones (deadline, queue) are on [`Subnet`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Largest request body accepted, in bytes (default 1 MiB); larger ones get 413.
    pub max_body_bytes: usize,
    /// Time allowed to receive a request body (default 10 s); slower ones get 408.
    pub body_timeout: Duration,
    /// Most requests being read, authenticated and authorised at once, over all subnets
    /// (default 256); beyond it new requests get 503. With `max_body_bytes` it bounds the memory
    /// that callers not yet known to be validators can hold.
    pub max_unauthenticated: usize,
    /// Least stake, in rao, a validator needs to be served (default 0: a permit is enough).
    pub min_stake: u64,
    /// Per-caller rate limit (default 5 per second, bursts of 20).
    pub rate_limit: RateLimit,
    /// btauth/1 freshness and replay settings.
    pub auth: AuthConfig,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_body_bytes: 1 << 20,
            body_timeout: Duration::from_secs(10),
            max_unauthenticated: 256,
            min_stake: 0,
            rate_limit: RateLimit {
                per_second: NonZeroU32::new(5).expect("5 > 0"),
                burst: NonZeroU32::new(20).expect("20 > 0"),
            },
            auth: AuthConfig::default(),
        }
    }
}

/// Why a [`MinerState`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No subnet to serve.
    #[error("a miner must serve at least one subnet")]
    NoSubnets,
    /// Two subnets share a route name.
    #[error("subnet name {0:?} is used twice")]
    DuplicateName(String),
    /// A limit is zero.
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
}

/// Everything the server shares between requests. Cheap to clone.
#[derive(Clone)]
pub struct MinerState {
    inner: Arc<Inner>,
}

struct Inner {
    keypair: Keypair,
    auth: Authenticator,
    /// Permits for requests not yet authorised (see [`Options::max_unauthenticated`]).
    unauthenticated: Semaphore,
    options: Options,
    metrics: Metrics,
    subnets: Vec<Served>,
}

/// A subnet with its runtime state.
struct Served {
    subnet: Subnet,
    metagraph: SnapshotCell,
    limiter: DefaultKeyedRateLimiter<AccountId>,
    queue: Arc<Scheduler>,
}

impl std::fmt::Debug for MinerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MinerState")
            .field("hotkey", &self.inner.keypair.account())
            .field("subnets", &self.inner.subnets.iter().map(|s| &s.subnet).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl MinerState {
    /// A miner answering as `keypair` (its hotkey: requests must be bound to it, and it signs
    /// every response) for `subnets`. No metagraph is loaded yet: until one is, the subnet's
    /// tasks get 503 (see [`MinerState::refresh_metagraphs`] and
    /// [`MinerState::spawn_metagraph_refresh`]).
    pub fn new(keypair: Keypair, options: Options, subnets: Vec<Subnet>) -> Result<MinerState, ConfigError> {
        if subnets.is_empty() {
            return Err(ConfigError::NoSubnets);
        }
        if options.max_body_bytes == 0 {
            return Err(ConfigError::Zero("the body limit"));
        }
        if options.max_unauthenticated == 0 {
            return Err(ConfigError::Zero("the number of unauthenticated requests"));
        }
        let mut names = HashSet::new();
        for subnet in &subnets {
            if !names.insert(subnet.name.as_str()) {
                return Err(ConfigError::DuplicateName(subnet.name.clone()));
            }
        }
        let metrics = Metrics::new();
        let quota = Quota::per_second(options.rate_limit.per_second).allow_burst(options.rate_limit.burst);
        let subnets = subnets
            .into_iter()
            .map(|subnet| Served {
                metagraph: SnapshotCell::default(),
                limiter: RateLimiter::keyed(quota),
                queue: Arc::new(Scheduler::new(
                    subnet.concurrency,
                    subnet.queue_capacity,
                    metrics.queue_depth(&subnet.name),
                )),
                subnet,
            })
            .collect();
        let auth = Authenticator::new(keypair.account(), &options.auth);
        let unauthenticated = Semaphore::new(options.max_unauthenticated);
        Ok(MinerState { inner: Arc::new(Inner { keypair, auth, unauthenticated, options, metrics, subnets }) })
    }

    /// The miner's hotkey.
    pub fn hotkey(&self) -> AccountId {
        self.inner.keypair.account()
    }

    /// Fetches every served subnet's metagraph from `source` once and swaps in each good one.
    /// A subnet whose fetch fails keeps its last snapshot; the first failure is returned.
    pub async fn refresh_metagraphs<S: MetagraphSource>(&self, source: &S) -> Result<(), SourceError> {
        let mut first_error = None;
        let mut done = HashSet::new();
        for served in &self.inner.subnets {
            let netuid = served.subnet.netuid;
            if !done.insert(netuid) {
                continue;
            }
            let fetched = source.fetch(netuid).await.and_then(|graph| Snapshot::new(netuid, graph));
            match fetched {
                Ok(snapshot) => {
                    tracing::debug!(netuid, neurons = snapshot.len(), "metagraph refreshed");
                    let snapshot = Arc::new(snapshot);
                    for same in self.inner.subnets.iter().filter(|s| s.subnet.netuid == netuid) {
                        same.metagraph.store(Arc::clone(&snapshot));
                    }
                }
                Err(error) => {
                    tracing::warn!(netuid, error = %error_chain(&error), "metagraph refresh failed; keeping the last snapshot");
                    first_error.get_or_insert(error);
                }
            }
        }
        // Forget the rate-limit state of callers that have been idle long enough to be full again.
        for served in &self.inner.subnets {
            served.limiter.retain_recent();
            served.limiter.shrink_to_fit();
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Spawns the background task that refreshes every metagraph from `source` now and then
    /// every `every`. The task stops when the returned handle is dropped.
    pub fn spawn_metagraph_refresh<S: MetagraphSource>(&self, source: S, every: Duration) -> RefreshTask {
        let state = self.clone();
        let handle = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                // Failures are logged by `refresh_metagraphs`; the last good snapshots stay.
                let _ = state.refresh_metagraphs(&source).await;
            }
        });
        RefreshTask(handle)
    }
}

/// The metagraph refresh task; dropping it stops the task.
#[derive(Debug)]
pub struct RefreshTask(tokio::task::JoinHandle<()>);

impl Drop for RefreshTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The miner's HTTP routes: `POST /{subnet}/task` for every served subnet, `GET /health` and
/// `GET /metrics`.
pub fn router(state: MinerState) -> Router {
    let mut router = Router::new().route("/health", get(health)).route("/metrics", get(metrics));
    for (index, served) in state.inner.subnets.iter().enumerate() {
        router = router.route(
            &format!("/{}/task", served.subnet.name),
            post(move |State(state): State<MinerState>, request: Request| task(state, index, request)),
        );
    }
    router.with_state(state)
}

/// One task request, through the whole pipeline, counted in the metrics.
async fn task(state: MinerState, index: usize, request: Request) -> Response {
    let served = &state.inner.subnets[index];
    let name = served.subnet.name.as_str();
    let response = match pipeline(&state.inner, served, request).await {
        Ok(response) => response,
        Err(refusal) => {
            if let Some(reason) = refusal.auth_reason() {
                state.inner.metrics.auth_failure(name, reason);
            }
            tracing::debug!(subnet = name, status = refusal.status().as_u16(), %refusal, "task refused");
            refusal.into_response()
        }
    };
    state.inner.metrics.request(name, response.status().as_u16());
    response
}

/// Body limit → btauth/1 → authorisation → rate limit → task schema → queue → miner with a
/// deadline → response schema → signed response.
async fn pipeline(inner: &Inner, served: &Served, request: Request) -> Result<Response, Refusal> {
    let (parts, body) = request.into_parts();
    let target = parts.uri.path_and_query().map_or_else(|| parts.uri.path(), |target| target.as_str()).to_owned();

    // 0. Bounded work for callers not yet known: refuse rather than wait when at the cap.
    let unverified = inner.unauthenticated.try_acquire().map_err(|_| Refusal::Busy)?;

    // 1. Body size, checked on the declared length first, then while reading.
    let limit = inner.options.max_body_bytes;
    if declared_length(&parts.headers).is_some_and(|length| length > limit as u64) {
        return Err(Refusal::TooLarge { limit });
    }
    let body = read_body(body, limit, inner.options.body_timeout).await?;

    // 2. Authentication (btauth/1 steps 1 to 4).
    let headers = parts.headers.iter().map(|(name, value)| (name.as_str(), value.as_bytes()));
    let request = btauth::Request { method: parts.method.as_str(), target: &target, body: &body };
    let caller = inner.auth.authenticate(headers, &request, now_ns())?;

    // 3. Authorisation from the latest metagraph snapshot, then the replay record (step 5),
    //    so only authorised validators can occupy the replay store.
    let validator = authorise(inner, served, &caller)?;
    inner.auth.record(caller, now_ns())?;
    drop(unverified);

    // 4. Per-caller rate limit.
    if let Err(not_until) = served.limiter.check_key(&validator.hotkey) {
        let retry_after = not_until.wait_time_from(DefaultClock::default().now());
        return Err(Refusal::RateLimited { retry_after });
    }

    // 5. The task must be JSON valid under the subnet's task schema before it takes a queue slot.
    let task: serde_json::Value = serde_json::from_slice(&body).map_err(|error| Refusal::NotJson(error.to_string()))?;
    if let Err(error) = served.subnet.task_schema.validate(&task) {
        return Err(Refusal::Schema {
            pointer: error.instance_path().as_str().to_owned(),
            message: truncate(&error.masked().to_string(), 200),
        });
    }

    // 6. Bounded queue, by stake.
    let deadline = served.subnet.deadline;
    let slot = served.queue.acquire(validator.stake, deadline).await.map_err(|refused| match refused {
        Refused::Full => Refusal::Overloaded,
        Refused::Evicted => Refusal::Displaced,
        Refused::TimedOut => Refusal::QueueTimeout,
    })?;

    // 7. The miner, with a deadline.
    let task = Task { subnet: served.subnet.name.clone(), netuid: served.subnet.netuid, validator, body: task };
    let answer = run_miner(inner, served, slot, task).await?;

    // 8. The response must match the response schema; then it is signed for the caller.
    if let Err(error) = served.subnet.response_schema.validate(&answer) {
        tracing::error!(
            subnet = served.subnet.name,
            pointer = error.instance_path().as_str(),
            error = %error.masked(),
            "the miner's response does not match the response schema; not sent"
        );
        return Err(Refusal::MinerFailed);
    }
    let bytes = serde_json::to_vec(&answer).map_err(|_| Refusal::Internal)?;
    signed_response(&inner.keypair, &target, &validator.hotkey, bytes)
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

async fn read_body(body: Body, limit: usize, timeout: Duration) -> Result<axum::body::Bytes, Refusal> {
    match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
        Err(_) => Err(Refusal::BodyTimeout),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(error)) if error.downcast_ref::<LengthLimitError>().is_some() => Err(Refusal::TooLarge { limit }),
        Ok(Err(_)) => Err(Refusal::BodyRead),
    }
}

fn authorise(inner: &Inner, served: &Served, caller: &Authenticated) -> Result<Validator, Refusal> {
    let netuid = served.subnet.netuid;
    let snapshot = served.metagraph.load().ok_or(Refusal::NoMetagraph { netuid })?;
    let neuron = snapshot.neuron(&caller.caller().hotkey).ok_or(Refusal::NotRegistered { netuid })?;
    if !neuron.validator_permit {
        return Err(Refusal::NoPermit { netuid });
    }
    let min = inner.options.min_stake;
    if neuron.stake < min {
        return Err(Refusal::LowStake { stake: neuron.stake, min });
    }
    Ok(Validator { hotkey: neuron.hotkey, uid: neuron.uid, stake: neuron.stake })
}

/// Runs the miner in a task of its own (a panic is contained and answered with 500), aborted
/// when the deadline passes or this request is dropped (the validator hung up).
async fn run_miner(inner: &Inner, served: &Served, slot: Slot, task: Task) -> Result<serde_json::Value, Refusal> {
    let name = served.subnet.name.as_str();
    let deadline = served.subnet.deadline;
    let miner = Arc::clone(&served.subnet.miner);
    let handle = AbortOnDrop(tokio::spawn(async move { miner.handle_boxed(task).await }));
    let started = Instant::now();
    let outcome = tokio::time::timeout(deadline, &mut { handle }.0).await;
    inner.metrics.handler_seconds(name, started.elapsed().as_secs_f64());
    drop(slot);
    match outcome {
        Err(_) => {
            tracing::warn!(subnet = name, ?deadline, "the miner missed its deadline");
            Err(Refusal::Deadline(deadline))
        }
        Ok(Err(join)) => {
            tracing::error!(subnet = name, error = %join, "the miner panicked");
            Err(Refusal::MinerFailed)
        }
        Ok(Ok(Err(error))) => {
            tracing::warn!(subnet = name, error = %error, "the miner failed");
            Err(Refusal::MinerFailed)
        }
        Ok(Ok(Ok(answer))) => Ok(answer),
    }
}

/// A 200 with `bytes` as its JSON body, signed with btauth/1 by the miner's hotkey for the
/// caller: method `POST`, the request's target, receiver = the calling validator.
fn signed_response(keypair: &Keypair, target: &str, caller: &AccountId, bytes: Vec<u8>) -> Result<Response, Refusal> {
    let request = btauth::Request { method: "POST", target, body: &bytes };
    let signed = btauth::sign(keypair, &request, Some(caller), now_ns()).map_err(|error| {
        tracing::error!(%error, "could not sign the response");
        Refusal::Internal
    })?;
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in signed.to_pairs() {
        let value = HeaderValue::from_str(&value).map_err(|_| Refusal::Internal)?;
        headers.insert(HeaderName::from_static(lowercase_header(name)), value);
    }
    Ok(response)
}

/// The `X-Bittensor-*` names in the lowercase form `HeaderName::from_static` requires.
fn lowercase_header(name: &'static str) -> &'static str {
    match name {
        btauth::HEADER_VERSION => "x-bittensor-version",
        btauth::HEADER_HOTKEY => "x-bittensor-hotkey",
        btauth::HEADER_RECEIVER => "x-bittensor-receiver",
        btauth::HEADER_NONCE => "x-bittensor-nonce",
        btauth::HEADER_CRYPTO => "x-bittensor-crypto",
        _ => "x-bittensor-signature",
    }
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `GET /health`: the served subnets, their queue depth and metagraph age.
async fn health(State(state): State<MinerState>) -> Response {
    let subnets: Vec<serde_json::Value> = state
        .inner
        .subnets
        .iter()
        .map(|served| {
            let snapshot = served.metagraph.load();
            serde_json::json!({
                "name": served.subnet.name,
                "netuid": served.subnet.netuid,
                "queue_depth": served.queue.depth(),
                "metagraph": snapshot.map(|snapshot| serde_json::json!({
                    "age_seconds": snapshot.age().as_secs_f64(),
                    "neurons": snapshot.len(),
                })),
            })
        })
        .collect();
    let body = serde_json::json!({
        "status": "ok",
        "hotkey": state.hotkey().to_ss58(),
        "subnets": subnets,
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// `GET /metrics`: Prometheus text.
async fn metrics(State(state): State<MinerState>) -> Response {
    match state.inner.metrics.encode() {
        Ok(text) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
            text,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
