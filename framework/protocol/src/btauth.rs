//! `btauth/1`: hotkey-signed HTTP requests, as the Bittensor Python SDK (`bittensor.http_auth`)
//! signs and checks them.
//!
//! A client calls [`sign`] and sends [`Headers::to_pairs`] with its request. A server keeps one
//! [`Verifier`] (it is `Sync`; share it behind an `Arc`) and calls [`Verifier::verify_pairs`] on
//! every request, answering a failure with [`AuthError::status`].

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::keys::{self, CryptoScheme, Keypair};
use crate::replay::{Recorded, ReplayStore};
use crate::ss58::{AccountId, Ss58Error};

/// First line of every signed payload.
pub const PROTOCOL: &str = "btauth/1";
/// Header carrying the protocol version, always `1`.
pub const HEADER_VERSION: &str = "X-Bittensor-Version";
/// Header carrying the sender hotkey (SS58).
pub const HEADER_HOTKEY: &str = "X-Bittensor-Hotkey";
/// Header carrying the receiver hotkey (SS58); absent when the request is not bound to one.
pub const HEADER_RECEIVER: &str = "X-Bittensor-Receiver";
/// Header carrying the nonce: nanoseconds since the Unix epoch at signing time, in decimal.
pub const HEADER_NONCE: &str = "X-Bittensor-Nonce";
/// Header naming the signature scheme; absent means sr25519.
pub const HEADER_CRYPTO: &str = "X-Bittensor-Crypto";
/// Header carrying `0x` and the lowercase hex of the 64-byte signature.
pub const HEADER_SIGNATURE: &str = "X-Bittensor-Signature";

/// The only protocol version (`X-Bittensor-Version`).
const VERSION: &str = "1";
/// What line 8 of the payload says when the request is not bound to a receiver.
const UNBOUND: &str = "-";

/// The parsed `X-Bittensor-*` headers of a request: shape-checked, not yet verified.
#[derive(Clone, PartialEq, Eq)]
pub struct Headers {
    hotkey: AccountId,
    receiver: Option<AccountId>,
    /// `hotkey` and `receiver` as SS58 (as `to_ss58` spells them), for the payload and the
    /// headers without encoding them again.
    hotkey_ss58: String,
    receiver_ss58: Option<String>,
    nonce_ns: u64,
    scheme: CryptoScheme,
    /// Whether the request carried `X-Bittensor-Crypto` (re-emitted as received).
    explicit_scheme: bool,
    signature: [u8; 64],
}

/// The parts of an HTTP request that are signed besides the headers.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The HTTP method as sent, upper case (`POST`).
    pub method: &'a str,
    /// The request target exactly as sent: path plus `?query` if any.
    pub target: &'a str,
    /// The raw body bytes (empty for none).
    pub body: &'a [u8],
}

/// What is wrong with the shape of a request's auth headers. Messages name the header, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Malformed {
    /// A required header is missing.
    #[error("missing header {0}")]
    Missing(&'static str),
    /// A header appears more than once.
    #[error("header {0} appears more than once")]
    Duplicate(&'static str),
    /// A header value is not visible ASCII.
    #[error("header {0} is not ASCII text")]
    NotText(&'static str),
    /// `X-Bittensor-Version` is not `1`.
    #[error("unsupported {HEADER_VERSION} (only 1 is known)")]
    Version,
    /// `X-Bittensor-Hotkey` is not a Bittensor SS58 address.
    #[error("{HEADER_HOTKEY} is not a valid ss58 address: {0}")]
    Hotkey(Ss58Error),
    /// `X-Bittensor-Receiver` is not a Bittensor SS58 address.
    #[error("{HEADER_RECEIVER} is not a valid ss58 address: {0}")]
    Receiver(Ss58Error),
    /// `X-Bittensor-Nonce` is not a canonical decimal integer that fits in 64 bits.
    #[error("{HEADER_NONCE} is not a decimal integer of nanoseconds")]
    Nonce,
    /// `X-Bittensor-Crypto` names an unknown scheme.
    #[error("{HEADER_CRYPTO} is neither sr25519 nor ed25519")]
    Crypto,
    /// `X-Bittensor-Signature` is not `0x` and 128 lowercase hex digits.
    #[error("{HEADER_SIGNATURE} is not 0x followed by 128 lowercase hex digits")]
    Signature,
    /// The method or target contains a line break or other control character.
    #[error("the request method or target contains control characters")]
    RequestLine,
}

/// Why a request failed authentication. [`AuthError::status`] gives the HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The headers do not have the protocol's shape.
    #[error("malformed request: {0}")]
    Malformed(#[from] Malformed),
    /// The request is not bound to a receiver and this server requires one.
    #[error("request is not bound to a receiver ({HEADER_RECEIVER} is missing)")]
    MissingReceiver,
    /// The request is bound to another hotkey than this server's.
    #[error("request is bound to another receiver than this hotkey")]
    WrongReceiver,
    /// The nonce is older than the maximum age.
    #[error("stale request: signed {age_ms} ms ago, more than the {max_age_ms} ms allowed")]
    Stale {
        /// How long ago the request was signed, in milliseconds.
        age_ms: u64,
        /// The allowed maximum age, in milliseconds.
        max_age_ms: u64,
    },
    /// The nonce is further in the future than the allowed clock skew.
    #[error("stale request: nonce is {ahead_ms} ms in the future, more than the {skew_ms} ms skew allowed")]
    FromTheFuture {
        /// How far ahead of this server's clock the nonce is, in milliseconds.
        ahead_ms: u64,
        /// The allowed clock skew, in milliseconds.
        skew_ms: u64,
    },
    /// The signature does not verify under the declared scheme and hotkey.
    #[error("bad signature")]
    BadSignature,
    /// This hotkey already used this nonce inside the window.
    #[error("replayed request: this hotkey already used this nonce")]
    Replayed,
    /// The replay store is full of live entries; the request could not be recorded.
    #[error("too many recent requests to record; try again later")]
    Overloaded,
}

/// The category of an [`AuthError`], for logs, metrics and the debugging CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Header shape (step 1).
    Malformed,
    /// Receiver binding (step 2).
    WrongReceiver,
    /// Freshness (step 3).
    Stale,
    /// Signature (step 4).
    BadSignature,
    /// Replay (step 5).
    Replayed,
    /// The server could not record the request.
    Unavailable,
}

impl Reason {
    /// A short lowercase name: `malformed`, `wrong receiver`, `stale`, `bad signature`,
    /// `replayed` or `unavailable`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Malformed => "malformed",
            Reason::WrongReceiver => "wrong receiver",
            Reason::Stale => "stale",
            Reason::BadSignature => "bad signature",
            Reason::Replayed => "replayed",
            Reason::Unavailable => "unavailable",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AuthError {
    /// The failure's category.
    pub fn reason(&self) -> Reason {
        match self {
            AuthError::Malformed(_) => Reason::Malformed,
            AuthError::MissingReceiver | AuthError::WrongReceiver => Reason::WrongReceiver,
            AuthError::Stale { .. } | AuthError::FromTheFuture { .. } => Reason::Stale,
            AuthError::BadSignature => Reason::BadSignature,
            AuthError::Replayed => Reason::Replayed,
            AuthError::Overloaded => Reason::Unavailable,
        }
    }

    /// The HTTP status to answer with, as the spec maps failures: 403 when the request is not
    /// meant for this server (wrong or missing receiver), 503 when the replay store is full, and
    /// 401 for everything else (malformed, stale, bad signature, replayed).
    pub fn status(&self) -> u16 {
        match self.reason() {
            Reason::WrongReceiver => 403,
            Reason::Unavailable => 503,
            Reason::Malformed | Reason::Stale | Reason::BadSignature | Reason::Replayed => 401,
        }
    }
}

/// Why [`sign`] refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The method is empty or not an HTTP token.
    #[error("the HTTP method must be a non-empty token of letters (e.g. POST)")]
    Method,
    /// The target is empty or has spaces or control characters.
    #[error("the request target must be non-empty and free of spaces and control characters")]
    Target,
}

impl Headers {
    /// Parses the `X-Bittensor-*` headers out of all of a request's headers (names matched
    /// case-insensitively; other headers ignored). This is step 1 of verification.
    pub fn parse<'a, I>(headers: I) -> Result<Headers, Malformed>
    where
        I: IntoIterator<Item = (&'a str, &'a [u8])>,
    {
        const NAMES: [&str; 6] =
            [HEADER_VERSION, HEADER_HOTKEY, HEADER_RECEIVER, HEADER_NONCE, HEADER_CRYPTO, HEADER_SIGNATURE];
        let mut values: [Option<&str>; 6] = [None; 6];
        for (name, value) in headers {
            let Some(slot) = NAMES.iter().position(|known| known.eq_ignore_ascii_case(name)) else {
                continue;
            };
            let known = NAMES[slot];
            if values[slot].is_some() {
                return Err(Malformed::Duplicate(known));
            }
            if !value.iter().all(|b| b.is_ascii_graphic()) {
                return Err(Malformed::NotText(known));
            }
            values[slot] = Some(std::str::from_utf8(value).map_err(|_| Malformed::NotText(known))?);
        }
        let [version, hotkey, receiver, nonce, crypto, signature] = values;

        if version.ok_or(Malformed::Missing(HEADER_VERSION))? != VERSION {
            return Err(Malformed::Version);
        }
        let (hotkey, hotkey_ss58) = AccountId::from_ss58_keeping(hotkey.ok_or(Malformed::Missing(HEADER_HOTKEY))?)
            .map_err(Malformed::Hotkey)?;
        let nonce_ns = parse_nonce(nonce.ok_or(Malformed::Missing(HEADER_NONCE))?)?;
        let scheme = match crypto {
            None => CryptoScheme::Sr25519,
            Some(name) => name.parse().map_err(|_| Malformed::Crypto)?,
        };
        let signature = parse_signature(signature.ok_or(Malformed::Missing(HEADER_SIGNATURE))?)?;
        let receiver = receiver.map(AccountId::from_ss58_keeping).transpose().map_err(Malformed::Receiver)?;
        let (receiver, receiver_ss58) = receiver.unzip();
        Ok(Headers {
            hotkey,
            receiver,
            hotkey_ss58,
            receiver_ss58,
            nonce_ns,
            scheme,
            explicit_scheme: crypto.is_some(),
            signature,
        })
    }

    /// The sender's hotkey.
    pub fn hotkey(&self) -> AccountId {
        self.hotkey
    }

    /// The receiver the request is bound to, if any.
    pub fn receiver(&self) -> Option<AccountId> {
        self.receiver
    }

    /// The nonce: nanoseconds since the Unix epoch at signing time.
    pub fn nonce_ns(&self) -> u64 {
        self.nonce_ns
    }

    /// The declared signature scheme.
    pub fn scheme(&self) -> CryptoScheme {
        self.scheme
    }

    /// The 64-byte signature.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The headers as (name, value) pairs to send, in the order the Python SDK writes them.
    /// `X-Bittensor-Crypto` is written only for ed25519 (or when it was received explicitly).
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            (HEADER_VERSION, VERSION.to_owned()),
            (HEADER_HOTKEY, self.hotkey_ss58.clone()),
            (HEADER_NONCE, self.nonce_ns.to_string()),
            (HEADER_SIGNATURE, format!("0x{}", hex::encode(self.signature))),
        ];
        if let Some(receiver) = &self.receiver_ss58 {
            pairs.push((HEADER_RECEIVER, receiver.clone()));
        }
        if self.explicit_scheme || self.scheme != CryptoScheme::Sr25519 {
            pairs.push((HEADER_CRYPTO, self.scheme.as_str().to_owned()));
        }
        pairs
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Headers")
            .field("hotkey", &self.hotkey)
            .field("receiver", &self.receiver)
            .field("nonce_ns", &self.nonce_ns)
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

/// A decimal u64 with no sign, no spaces and no leading zeros (so one nonce has one spelling).
fn parse_nonce(text: &str) -> Result<u64, Malformed> {
    let canonical =
        !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && (text == "0" || !text.starts_with('0'));
    if !canonical {
        return Err(Malformed::Nonce);
    }
    text.parse().map_err(|_| Malformed::Nonce)
}

/// `0x` and exactly 128 lowercase hex digits (one spelling per signature).
fn parse_signature(text: &str) -> Result<[u8; 64], Malformed> {
    let digits = text.strip_prefix("0x").ok_or(Malformed::Signature)?;
    if digits.len() != 128 || !digits.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(Malformed::Signature);
    }
    let mut signature = [0u8; 64];
    hex::decode_to_slice(digits, &mut signature).map_err(|_| Malformed::Signature)?;
    Ok(signature)
}

/// The exact bytes `btauth/1` signs: eight lines joined by `\n`, no trailing newline.
pub fn signed_payload(
    scheme: CryptoScheme,
    request: &Request<'_>,
    nonce_ns: u64,
    sender: &AccountId,
    receiver: Option<&AccountId>,
) -> String {
    let receiver = receiver.map(AccountId::to_ss58);
    payload(scheme, request, nonce_ns, &sender.to_ss58(), receiver.as_deref())
}

/// [`signed_payload`] from the SS58 forms of sender and receiver.
fn payload(scheme: CryptoScheme, request: &Request<'_>, nonce_ns: u64, sender: &str, receiver: Option<&str>) -> String {
    let body_hash = hex::encode(Sha256::digest(request.body));
    [
        PROTOCOL,
        scheme.as_str(),
        request.method,
        request.target,
        &body_hash,
        &nonce_ns.to_string(),
        sender,
        receiver.unwrap_or(UNBOUND),
    ]
    .join("\n")
}

/// Signs `request` with `keypair` for `receiver` (None: unbound, which servers reject by
/// default) at `nonce_ns` (use [`now_ns`]). The method is upper-cased; send it that way.
pub fn sign(
    keypair: &Keypair,
    request: &Request<'_>,
    receiver: Option<&AccountId>,
    nonce_ns: u64,
) -> Result<Headers, SignError> {
    let method = request.method.to_ascii_uppercase();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)) {
        return Err(SignError::Method);
    }
    if request.target.is_empty() || !request.target.bytes().all(|b| b.is_ascii_graphic() || b >= 0x80) {
        return Err(SignError::Target);
    }
    let request = Request { method: &method, ..*request };
    let receiver_ss58 = receiver.map(AccountId::to_ss58);
    let payload = payload(keypair.scheme(), &request, nonce_ns, keypair.ss58(), receiver_ss58.as_deref());
    Ok(Headers {
        hotkey: keypair.account(),
        receiver: receiver.copied(),
        hotkey_ss58: keypair.ss58().to_owned(),
        receiver_ss58,
        nonce_ns,
        scheme: keypair.scheme(),
        explicit_scheme: false,
        signature: keypair.sign(payload.as_bytes()),
    })
}

/// Nanoseconds since the Unix epoch on the system clock (0 before 1970, saturating in 2554).
pub fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| u64::try_from(since.as_nanos()).unwrap_or(u64::MAX))
}

/// How a [`Verifier`] judges requests.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Oldest nonce accepted, relative to this server's clock (default 10 s).
    pub max_age: Duration,
    /// Furthest-ahead nonce accepted, relative to this server's clock (default 2 s).
    pub allowed_skew: Duration,
    /// Reject requests without `X-Bittensor-Receiver` (default true).
    pub require_receiver: bool,
    /// Most (hotkey, nonce) pairs remembered at once (default 262 144); when full, new requests
    /// fail with [`AuthError::Overloaded`] rather than weakening replay protection.
    pub replay_capacity: usize,
}

impl Default for VerifierConfig {
    fn default() -> VerifierConfig {
        VerifierConfig {
            max_age: Duration::from_secs(10),
            allowed_skew: Duration::from_secs(2),
            require_receiver: true,
            replay_capacity: 1 << 18,
        }
    }
}

/// Who sent an authenticated request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// The sender's hotkey.
    pub hotkey: AccountId,
    /// The scheme it signed with.
    pub scheme: CryptoScheme,
    /// The request's nonce (nanoseconds since the Unix epoch).
    pub nonce_ns: u64,
}

/// A request whose signature holds ([`Verifier::authenticate`]) but whose nonce is not yet
/// recorded against replay ([`Verifier::record`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "an authenticated request is accepted only once `Verifier::record` has recorded it"]
pub struct Authenticated(Caller);

impl Authenticated {
    /// Who signed the request.
    pub fn caller(&self) -> &Caller {
        &self.0
    }
}

/// Checks `btauth/1` requests addressed to one hotkey, remembering accepted nonces.
#[derive(Debug)]
pub struct Verifier {
    own: AccountId,
    max_age_ns: u64,
    skew_ns: u64,
    require_receiver: bool,
    replay: ReplayStore,
    keys: KeyCache,
}

/// Most signers' decoded public keys a [`Verifier`] keeps; when full it starts again empty.
const KEY_CACHE_CAPACITY: usize = 4096;

/// The decoded public keys of recent signers: a server sees the same few validators, a
/// validator the same miners, so each key is decompressed once rather than per request.
struct KeyCache(Mutex<HashMap<(AccountId, CryptoScheme), keys::PublicKey>>);

impl KeyCache {
    /// The key of `account` under `scheme`; None when the bytes are not a key (not kept).
    fn get(&self, scheme: CryptoScheme, account: &AccountId) -> Option<keys::PublicKey> {
        let lock = || self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(public) = lock().get(&(*account, scheme)) {
            return Some(public.clone());
        }
        let public = keys::PublicKey::new(scheme, account)?;
        let mut cache = lock();
        if cache.len() >= KEY_CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert((*account, scheme), public.clone());
        Some(public)
    }
}

impl fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.0.lock().map_or(0, |cache| cache.len());
        f.debug_struct("KeyCache").field("keys", &len).finish()
    }
}

impl Verifier {
    /// A verifier for requests addressed to `own` (this server's hotkey).
    pub fn new(own: AccountId, config: VerifierConfig) -> Verifier {
        Verifier {
            own,
            max_age_ns: duration_ns(config.max_age),
            skew_ns: duration_ns(config.allowed_skew),
            require_receiver: config.require_receiver,
            replay: ReplayStore::new(config.replay_capacity),
            keys: KeyCache(Mutex::new(HashMap::new())),
        }
    }

    /// The hotkey requests must be bound to.
    pub fn own_hotkey(&self) -> AccountId {
        self.own
    }

    /// Verifies a request from its raw headers (steps 1 to 5), at `now_ns` on this server's
    /// clock (use [`now_ns`]).
    pub fn verify_pairs<'a, I>(&self, headers: I, request: &Request<'_>, now_ns: u64) -> Result<Caller, AuthError>
    where
        I: IntoIterator<Item = (&'a str, &'a [u8])>,
    {
        let headers = Headers::parse(headers)?;
        self.verify(&headers, request, now_ns)
    }

    /// Verifies a request whose headers are already parsed (steps 2 to 5, plus the request-line
    /// check of step 1). On success the (hotkey, nonce) pair is recorded, so the same request
    /// fails as [`AuthError::Replayed`] afterwards.
    pub fn verify(&self, headers: &Headers, request: &Request<'_>, now_ns: u64) -> Result<Caller, AuthError> {
        let authenticated = self.authenticate(headers, request, now_ns)?;
        self.record(authenticated, now_ns)
    }

    /// Steps 1 to 4 only (request line, receiver binding, freshness, signature), without
    /// recording the nonce. A server that authorises callers (e.g. against a metagraph) does so
    /// between this and [`Verifier::record`], so that only authorised callers can fill the
    /// bounded replay store.
    pub fn authenticate(
        &self,
        headers: &Headers,
        request: &Request<'_>,
        now_ns: u64,
    ) -> Result<Authenticated, AuthError> {
        // 1. Shape (the rest was checked by `Headers::parse`): a line break in the method or
        //    target would let one payload stand for two requests.
        if has_control(request.method) || has_control(request.target) {
            return Err(Malformed::RequestLine.into());
        }
        // 2. Receiver binding.
        match headers.receiver {
            None if self.require_receiver => return Err(AuthError::MissingReceiver),
            Some(receiver) if receiver != self.own => return Err(AuthError::WrongReceiver),
            _ => {}
        }
        // 3. Freshness.
        let nonce = headers.nonce_ns;
        if now_ns >= nonce {
            if now_ns - nonce > self.max_age_ns {
                return Err(AuthError::Stale {
                    age_ms: (now_ns - nonce) / 1_000_000,
                    max_age_ms: self.max_age_ns / 1_000_000,
                });
            }
        } else if nonce - now_ns > self.skew_ns {
            return Err(AuthError::FromTheFuture {
                ahead_ms: (nonce - now_ns) / 1_000_000,
                skew_ms: self.skew_ns / 1_000_000,
            });
        }
        // 4. Signature, under the declared scheme only.
        let payload = payload(headers.scheme, request, nonce, &headers.hotkey_ss58, headers.receiver_ss58.as_deref());
        let public = self.keys.get(headers.scheme, &headers.hotkey);
        if !public.is_some_and(|public| public.verify(payload.as_bytes(), &headers.signature)) {
            return Err(AuthError::BadSignature);
        }
        Ok(Authenticated(Caller { hotkey: headers.hotkey, scheme: headers.scheme, nonce_ns: nonce }))
    }

    /// Step 5: records the (hotkey, nonce) pair of an authenticated request, refusing a replay.
    /// The entry lives until the nonce would fail step 3 anyway, so retention always covers the
    /// window.
    pub fn record(&self, authenticated: Authenticated, now_ns: u64) -> Result<Caller, AuthError> {
        let caller = authenticated.0;
        let expires_at = caller.nonce_ns.saturating_add(self.max_age_ns);
        match self.replay.check_and_record(&caller.hotkey, caller.nonce_ns, expires_at, now_ns) {
            Recorded::Fresh => Ok(caller),
            Recorded::Replayed => Err(AuthError::Replayed),
            Recorded::Full => Err(AuthError::Overloaded),
        }
    }

    /// [`Verifier::verify_pairs`] at the current system time.
    pub fn verify_pairs_now<'a, I>(&self, headers: I, request: &Request<'_>) -> Result<Caller, AuthError>
    where
        I: IntoIterator<Item = (&'a str, &'a [u8])>,
    {
        self.verify_pairs(headers, request, now_ns())
    }
}

fn has_control(text: &str) -> bool {
    text.bytes().any(|b| b.is_ascii_control())
}

fn duration_ns(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
