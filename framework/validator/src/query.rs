//! Querying miners: one `btauth/1`-signed request per miner, concurrently, each bounded in time
//! and size, and every answer checked for the miner's own signature and the response schema.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chain::{AccountId, Axon, Keypair, Uid};
use host::{Outcome, Response};
use protocol::btauth::{self, Headers, Request, Verifier, VerifierConfig};
use tokio::sync::Semaphore;

/// A miner to query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Its uid.
    pub uid: Uid,
    /// Its hotkey: the receiver of the request and the required signer of the answer.
    pub hotkey: AccountId,
    /// Where it serves.
    pub axon: Axon,
}

/// Limits every query obeys.
#[derive(Clone, Debug)]
pub struct QueryLimits {
    /// Largest response body read; a larger one is a transport error.
    pub max_body_bytes: usize,
    /// Most requests in flight at once across all subnets.
    pub max_in_flight: usize,
}

impl Default for QueryLimits {
    fn default() -> QueryLimits {
        QueryLimits { max_body_bytes: 4 << 20, max_in_flight: 256 }
    }
}

/// The validator's HTTP client to miners, shared by every subnet it hosts.
#[derive(Debug)]
pub struct MinerClient {
    inner: Arc<Inner>,
}

/// What every query task shares.
#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    keypair: Keypair,
    answers: Verifier,
    limits: QueryLimits,
    in_flight: Semaphore,
}

/// How one exchange ended, before the schema check.
type Exchanged = (Result<Vec<u8>, Outcome>, u32);

impl MinerClient {
    /// A client signing as `keypair`.
    pub fn new(keypair: Keypair, limits: QueryLimits) -> MinerClient {
        let http =
            reqwest::Client::builder().pool_max_idle_per_host(4).build().unwrap_or_else(|_| reqwest::Client::new());
        // Answers are bound to this validator's hotkey; the window matches the requests'.
        let answers = Verifier::new(keypair.account(), VerifierConfig::default());
        let in_flight = Semaphore::new(limits.max_in_flight.max(1));
        MinerClient { inner: Arc::new(Inner { http, keypair, answers, limits, in_flight }) }
    }

    /// The hotkey requests are signed with.
    pub fn hotkey(&self) -> AccountId {
        self.inner.keypair.account()
    }

    /// The validator's key, which also signs its chain calls.
    pub fn keypair(&self) -> &Keypair {
        &self.inner.keypair
    }

    /// Sends `body` to `POST /{route}/task?round={tag}` of every target at once and returns one
    /// [`Response`] per target, in the targets' order. A response is [`Outcome::Ok`] only if it
    /// came back 200 within `timeout`, at most the body limit, signed by the target's hotkey for
    /// this validator, and `accept`ed (the schema check); else it says why not.
    ///
    /// Each exchange (signing, HTTP, verifying the answer's signature) is a task of its own, so
    /// they spread over the runtime's workers; dropping the future cancels them all.
    pub async fn query(
        &self,
        route: &str,
        tag: &str,
        targets: &[Target],
        body: &[u8],
        timeout: Duration,
        accept: &(dyn Fn(&[u8]) -> bool + Sync),
    ) -> Vec<Response> {
        let path: Arc<str> = format!("/{route}/task?round={tag}").into();
        let body: Arc<[u8]> = body.into();
        let mut tasks = tokio::task::JoinSet::new();
        for (at, target) in targets.iter().enumerate() {
            let (inner, path, body, target) =
                (Arc::clone(&self.inner), Arc::clone(&path), Arc::clone(&body), target.clone());
            tasks.spawn(async move { (at, inner.query_one(&path, &target, &body, timeout).await) });
        }
        let mut exchanged: Vec<Option<Exchanged>> = vec![None; targets.len()];
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((at, result)) => exchanged[at] = Some(result),
                Err(error) => tracing::error!(%error, "a miner query task failed"),
            }
        }
        targets
            .iter()
            .zip(exchanged)
            .map(|(target, exchanged)| {
                let (result, latency_ms) = exchanged.unwrap_or((Err(Outcome::TransportError), 0));
                let (outcome, answer) = match result {
                    Err(outcome) => (outcome, None),
                    Ok(answer) if accept(&answer) => (Outcome::Ok, Some(answer)),
                    // Kept only as UTF-8, so the stored round replays byte for byte.
                    Ok(answer) => (Outcome::Invalid, String::from_utf8(answer).ok().map(String::into_bytes)),
                };
                Response { uid: target.uid, hotkey: target.hotkey.to_ss58(), body: answer, outcome, latency_ms }
            })
            .collect()
    }
}

impl Inner {
    /// One exchange under `timeout`: the answer, or why there is none; and its latency.
    async fn query_one(&self, path: &str, target: &Target, body: &[u8], timeout: Duration) -> Exchanged {
        let started = Instant::now();
        let result = match tokio::time::timeout(timeout, self.exchange(path, target, body)).await {
            Err(_) => Err(Outcome::Timeout),
            Ok(Err(())) => Err(Outcome::TransportError),
            Ok(Ok(answer)) => Ok(answer),
        };
        (result, u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX))
    }

    /// One signed exchange; `Err` for anything a transport error covers (refused, non-200,
    /// oversized, unsigned or signed by someone else).
    async fn exchange(&self, path: &str, target: &Target, body: &[u8]) -> Result<Vec<u8>, ()> {
        let _permit = self.in_flight.acquire().await.map_err(drop)?;
        let url = match target.axon.ip {
            std::net::IpAddr::V4(ip) => format!("http://{ip}:{}{path}", target.axon.port),
            std::net::IpAddr::V6(ip) => format!("http://[{ip}]:{}{path}", target.axon.port),
        };
        let request = Request { method: "POST", target: path, body };
        let headers = btauth::sign(&self.keypair, &request, Some(&target.hotkey), btauth::now_ns()).map_err(drop)?;
        let mut builder = self.http.post(url).header("content-type", "application/json").body(body.to_vec());
        for (name, value) in headers.to_pairs() {
            builder = builder.header(name, value);
        }
        let mut response = builder.send().await.map_err(drop)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(());
        }
        let signed = Headers::parse(response.headers().iter().map(|(name, value)| (name.as_str(), value.as_bytes())))
            .map_err(drop)?;
        let mut answer = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(drop)? {
            if answer.len() + chunk.len() > self.limits.max_body_bytes {
                return Err(());
            }
            answer.extend_from_slice(&chunk);
        }
        let request = Request { method: "POST", target: path, body: &answer };
        let caller = self.answers.verify(&signed, &request, btauth::now_ns()).map_err(drop)?;
        if caller.hotkey != target.hotkey {
            return Err(());
        }
        Ok(answer)
    }
}
