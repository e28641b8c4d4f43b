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
    http: reqwest::Client,
    keypair: Keypair,
    answers: Verifier,
    limits: QueryLimits,
    in_flight: Arc<Semaphore>,
}

impl MinerClient {
    /// A client signing as `keypair`.
    pub fn new(keypair: Keypair, limits: QueryLimits) -> MinerClient {
        let http =
            reqwest::Client::builder().pool_max_idle_per_host(4).build().unwrap_or_else(|_| reqwest::Client::new());
        // Answers are bound to this validator's hotkey; the window matches the requests'.
        let answers = Verifier::new(keypair.account(), VerifierConfig::default());
        let in_flight = Arc::new(Semaphore::new(limits.max_in_flight.max(1)));
        MinerClient { http, keypair, answers, limits, in_flight }
    }

    /// The hotkey requests are signed with.
    pub fn hotkey(&self) -> AccountId {
        self.keypair.account()
    }

    /// The validator's key, which also signs its chain calls.
    pub fn keypair(&self) -> &Keypair {
        &self.keypair
    }

    /// Sends `body` to `POST /{route}/task?round={tag}` of every target at once and returns one
    /// [`Response`] per target, in the targets' order. A response is [`Outcome::Ok`] only if it
    /// came back 200 within `timeout`, at most the body limit, signed by the target's hotkey for
    /// this validator, and `accept`ed (the schema check); else it says why not.
    pub async fn query(
        &self,
        route: &str,
        tag: &str,
        targets: &[Target],
        body: &[u8],
        timeout: Duration,
        accept: &(dyn Fn(&[u8]) -> bool + Sync),
    ) -> Vec<Response> {
        let target_path = format!("/{route}/task?round={tag}");
        let calls = targets.iter().map(|target| self.query_one(&target_path, target, body, timeout, accept));
        futures_util::future::join_all(calls).await
    }

    async fn query_one(
        &self,
        path: &str,
        target: &Target,
        body: &[u8],
        timeout: Duration,
        accept: &(dyn Fn(&[u8]) -> bool + Sync),
    ) -> Response {
        let started = Instant::now();
        let (outcome, answer) = match tokio::time::timeout(timeout, self.exchange(path, target, body)).await {
            Err(_) => (Outcome::Timeout, None),
            Ok(Err(())) => (Outcome::TransportError, None),
            Ok(Ok(answer)) if accept(&answer) => (Outcome::Ok, Some(answer)),
            // Kept only as UTF-8, so the stored round replays byte for byte.
            Ok(Ok(answer)) => (Outcome::Invalid, String::from_utf8(answer).ok().map(String::into_bytes)),
        };
        let latency_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
        Response { uid: target.uid, hotkey: target.hotkey.to_ss58(), body: answer, outcome, latency_ms }
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
