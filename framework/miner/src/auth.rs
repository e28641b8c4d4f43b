//! btauth/1 verification split in two, around authorisation.
//!
//! `protocol`'s [`Verifier::verify`] runs all five steps of the spec at once and records the
//! (hotkey, nonce) pair as soon as the signature holds, so anyone with a keypair could fill the
//! bounded replay store with validly signed requests from unregistered hotkeys, after which the
//! store refuses everyone (503) for a window. The server therefore runs steps 1 to 4
//! ([`Verifier::authenticate`]), authorises the caller against the metagraph, and only then
//! records the nonce ([`Verifier::record`]): only registered validators occupy the store.

use std::time::Duration;

use protocol::AccountId;
use protocol::btauth::{AuthError, Authenticated, Headers, Request, Verifier, VerifierConfig};

/// How requests are authenticated.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Oldest nonce accepted, relative to this server's clock (default 10 s).
    pub max_age: Duration,
    /// Furthest-ahead nonce accepted (default 2 s).
    pub allowed_skew: Duration,
    /// Most (hotkey, nonce) pairs remembered at once (default 262 144); when full, requests get
    /// 503 rather than weaker replay protection.
    pub replay_capacity: usize,
}

impl Default for AuthConfig {
    fn default() -> AuthConfig {
        let verifier = VerifierConfig::default();
        AuthConfig {
            max_age: verifier.max_age,
            allowed_skew: verifier.allowed_skew,
            replay_capacity: verifier.replay_capacity,
        }
    }
}

/// Authenticates requests bound to this miner's hotkey; receivers are always required.
#[derive(Debug)]
pub(crate) struct Authenticator(Verifier);

impl Authenticator {
    pub(crate) fn new(own: AccountId, config: &AuthConfig) -> Authenticator {
        Authenticator(Verifier::new(
            own,
            VerifierConfig {
                max_age: config.max_age,
                allowed_skew: config.allowed_skew,
                require_receiver: true,
                replay_capacity: config.replay_capacity,
            },
        ))
    }

    /// Steps 1 to 4 of the spec: shape, receiver binding, freshness, signature.
    pub(crate) fn authenticate<'a, I>(
        &self,
        headers: I,
        request: &Request<'_>,
        now_ns: u64,
    ) -> Result<Authenticated, AuthError>
    where
        I: IntoIterator<Item = (&'a str, &'a [u8])>,
    {
        self.0.authenticate(&Headers::parse(headers)?, request, now_ns)
    }

    /// Step 5: records the (hotkey, nonce) pair until it would be stale anyway, refusing a replay.
    pub(crate) fn record(&self, request: Authenticated, now_ns: u64) -> Result<(), AuthError> {
        self.0.record(request, now_ns).map(drop)
    }
}
