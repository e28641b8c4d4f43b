//! Signing and verification through the public API: round trips and each rejection in order.

use std::time::Duration;

use proptest::prelude::*;
use protocol::btauth::{self, AuthError, Headers, Malformed, Reason, Request, SignError, Verifier, VerifierConfig};
use protocol::{AccountId, CryptoScheme, Keypair};

use crate::{miner, validator};

const NOW: u64 = 1_764_000_000_000_000_000;
const SECOND: u64 = 1_000_000_000;

fn request(body: &[u8]) -> Request<'_> {
    Request { method: "POST", target: "/text-generation/task?x=1", body }
}

/// Headers as owned (name, value) pairs, as a server would receive them.
fn wire(headers: &Headers) -> Vec<(String, Vec<u8>)> {
    headers.to_pairs().into_iter().map(|(name, value)| (name.to_owned(), value.into_bytes())).collect()
}

fn verify_at(verifier: &Verifier, pairs: &[(String, Vec<u8>)], body: &[u8], now: u64) -> Result<AccountId, AuthError> {
    verifier.verify_pairs(crate::borrowed(pairs), &request(body), now).map(|caller| caller.hotkey)
}

fn signed(keypair: &Keypair, receiver: Option<&AccountId>, nonce: u64, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    wire(&btauth::sign(keypair, &request(body), receiver, nonce).expect("the request signs"))
}

fn miner_verifier() -> Verifier {
    Verifier::new(miner().account(), VerifierConfig::default())
}

#[test]
fn sign_then_verify_round_trips() {
    let verifier = miner_verifier();
    let pairs = signed(validator(), Some(&miner().account()), NOW, b"{}");
    assert_eq!(verify_at(&verifier, &pairs, b"{}", NOW), Ok(validator().account()));
}

#[test]
fn sr25519_signatures_are_randomised_yet_both_verify() {
    let receiver = miner().account();
    let a = signed(validator(), Some(&receiver), NOW, b"x");
    let b = signed(validator(), Some(&receiver), NOW, b"x");
    assert_ne!(a, b, "two sr25519 signatures of the same bytes differ");
    assert!(verify_at(&miner_verifier(), &a, b"x", NOW).is_ok());
    assert!(verify_at(&miner_verifier(), &b, b"x", NOW).is_ok());
}

#[test]
fn signer_writes_the_python_header_set() {
    let headers = btauth::sign(validator(), &request(b""), Some(&miner().account()), NOW).expect("signs");
    let names: Vec<_> = headers.to_pairs().into_iter().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        [
            "X-Bittensor-Version",
            "X-Bittensor-Hotkey",
            "X-Bittensor-Nonce",
            "X-Bittensor-Signature",
            "X-Bittensor-Receiver"
        ]
    );
    let unbound = btauth::sign(validator(), &request(b""), None, NOW).expect("signs");
    assert!(unbound.to_pairs().iter().all(|(name, _)| *name != "X-Bittensor-Receiver"));
}

#[test]
fn method_is_upper_cased_when_signing() {
    let lower = Request { method: "post", target: "/t", body: b"" };
    let headers = btauth::sign(validator(), &lower, Some(&miner().account()), NOW).expect("signs");
    let upper = Request { method: "POST", ..lower };
    assert!(miner_verifier().verify(&headers, &upper, NOW).is_ok());
    assert_eq!(miner_verifier().verify(&headers, &lower, NOW), Err(AuthError::BadSignature));
}

#[test]
fn sign_refuses_requests_that_cannot_be_sent() {
    let key = validator();
    for method in ["", "PO ST", "GET\n"] {
        let result = btauth::sign(key, &Request { method, target: "/", body: b"" }, None, NOW);
        assert_eq!(result.unwrap_err(), SignError::Method, "{method:?}");
    }
    for target in ["", "/a b", "/a\nb", "/a\r"] {
        let result = btauth::sign(key, &Request { method: "GET", target, body: b"" }, None, NOW);
        assert_eq!(result.unwrap_err(), SignError::Target, "{target:?}");
    }
}

#[test]
fn replay_is_rejected_until_it_would_be_stale_anyway() {
    let verifier = miner_verifier();
    let pairs = signed(validator(), Some(&miner().account()), NOW, b"a");
    assert!(verify_at(&verifier, &pairs, b"a", NOW).is_ok());
    for later in [0, 1, 5 * SECOND, 10 * SECOND] {
        assert_eq!(verify_at(&verifier, &pairs, b"a", NOW + later), Err(AuthError::Replayed), "+{later} ns");
    }
    assert_eq!(verify_at(&verifier, &pairs, b"a", NOW + 10 * SECOND + 1).map_err(|e| e.reason()), Err(Reason::Stale));
}

#[test]
fn another_nonce_of_the_same_sender_is_not_a_replay() {
    let verifier = miner_verifier();
    let receiver = miner().account();
    for nonce in [NOW, NOW + 1, NOW - 1] {
        let pairs = signed(validator(), Some(&receiver), nonce, b"a");
        assert!(verify_at(&verifier, &pairs, b"a", NOW).is_ok(), "nonce {nonce}");
    }
}

#[test]
fn failed_requests_do_not_poison_the_replay_store() {
    let verifier = miner_verifier();
    let pairs = signed(validator(), Some(&miner().account()), NOW, b"real");
    // Same hotkey and nonce, wrong body: fails the signature and must not be recorded.
    assert_eq!(verify_at(&verifier, &pairs, b"forged", NOW), Err(AuthError::BadSignature));
    assert!(verify_at(&verifier, &pairs, b"real", NOW).is_ok());
}

#[test]
fn freshness_window_edges() {
    let receiver = miner().account();
    let cases = [
        (NOW - 10 * SECOND, Ok(())),
        (NOW - 10 * SECOND - 1, Err(Reason::Stale)),
        (NOW + 2 * SECOND, Ok(())),
        (NOW + 2 * SECOND + 1, Err(Reason::Stale)),
        (0, Err(Reason::Stale)),
        (u64::MAX, Err(Reason::Stale)),
    ];
    for (nonce, expected) in cases {
        let pairs = signed(validator(), Some(&receiver), nonce, b"");
        let result = verify_at(&miner_verifier(), &pairs, b"", NOW).map(|_| ()).map_err(|e| e.reason());
        assert_eq!(result, expected, "nonce {nonce}");
    }
    let stale = signed(validator(), Some(&receiver), NOW - 12 * SECOND, b"");
    assert_eq!(
        verify_at(&miner_verifier(), &stale, b"", NOW),
        Err(AuthError::Stale { age_ms: 12_000, max_age_ms: 10_000 })
    );
    let future = signed(validator(), Some(&receiver), NOW + 3 * SECOND, b"");
    assert_eq!(
        verify_at(&miner_verifier(), &future, b"", NOW),
        Err(AuthError::FromTheFuture { ahead_ms: 3_000, skew_ms: 2_000 })
    );
}

#[test]
fn configured_window_is_respected() {
    let config =
        VerifierConfig { max_age: Duration::from_secs(60), allowed_skew: Duration::ZERO, ..VerifierConfig::default() };
    let verifier = Verifier::new(miner().account(), config);
    let receiver = miner().account();
    assert!(verify_at(&verifier, &signed(validator(), Some(&receiver), NOW - 59 * SECOND, b""), b"", NOW).is_ok());
    let ahead = signed(validator(), Some(&receiver), NOW + 1, b"");
    assert_eq!(verify_at(&verifier, &ahead, b"", NOW).map_err(|e| e.reason()), Err(Reason::Stale));
}

#[test]
fn receiver_binding() {
    let validator = validator();
    let miner_key = miner().account();
    // Bound to someone else: 403, before freshness or signature are looked at.
    let elsewhere = signed(validator, Some(&validator.account()), 0, b"");
    let result = verify_at(&miner_verifier(), &elsewhere, b"", NOW);
    assert_eq!(result, Err(AuthError::WrongReceiver));
    assert_eq!(result.unwrap_err().status(), 403);
    // Unbound: rejected by default, accepted when the server opts out.
    let unbound = signed(validator, None, NOW, b"");
    assert_eq!(verify_at(&miner_verifier(), &unbound, b"", NOW), Err(AuthError::MissingReceiver));
    let lenient = Verifier::new(miner_key, VerifierConfig { require_receiver: false, ..VerifierConfig::default() });
    assert_eq!(verify_at(&lenient, &unbound, b"", NOW), Ok(validator.account()));
    // Opting out does not relax a wrong binding.
    assert_eq!(verify_at(&lenient, &elsewhere, b"", NOW), Err(AuthError::WrongReceiver));
    // Removing the receiver header from a bound request breaks its signature.
    let bound = signed(validator, Some(&miner_key), NOW, b"");
    let stripped: Vec<_> = bound.into_iter().filter(|(name, _)| name != "X-Bittensor-Receiver").collect();
    assert_eq!(verify_at(&lenient, &stripped, b"", NOW), Err(AuthError::BadSignature));
}

#[test]
fn checks_run_in_the_spec_order() {
    // A request that is stale, has a bad signature and a wrong receiver fails as wrong receiver;
    // stale plus bad signature fails as stale; a malformed one fails as malformed first.
    let validator = validator();
    let mut wrong_everything = signed(validator, Some(&validator.account()), NOW - 60 * SECOND, b"x");
    assert_eq!(verify_at(&miner_verifier(), &wrong_everything, b"y", NOW), Err(AuthError::WrongReceiver));
    let stale_forged = signed(validator, Some(&miner().account()), NOW - 60 * SECOND, b"x");
    assert_eq!(verify_at(&miner_verifier(), &stale_forged, b"y", NOW).map_err(|e| e.reason()), Err(Reason::Stale));
    wrong_everything.retain(|(name, _)| name != "X-Bittensor-Version");
    assert_eq!(
        verify_at(&miner_verifier(), &wrong_everything, b"y", NOW),
        Err(AuthError::Malformed(Malformed::Missing("X-Bittensor-Version")))
    );
}

#[test]
fn declared_scheme_only_is_tried() {
    // An sr25519 signature declared as ed25519 fails, and the other way round.
    let receiver = miner().account();
    let mut pairs = signed(validator(), Some(&receiver), NOW, b"");
    pairs.push(("X-Bittensor-Crypto".into(), b"ed25519".to_vec()));
    assert_eq!(verify_at(&miner_verifier(), &pairs, b"", NOW), Err(AuthError::BadSignature));

    let ed = Keypair::from_seed(CryptoScheme::Ed25519, &[9; 32]);
    let mut pairs = signed(&ed, Some(&receiver), NOW, b"");
    assert!(pairs.iter().any(|(name, value)| name == "X-Bittensor-Crypto" && value == b"ed25519"));
    assert_eq!(verify_at(&miner_verifier(), &pairs, b"", NOW), Ok(ed.account()));
    pairs.retain(|(name, _)| name != "X-Bittensor-Crypto");
    assert_eq!(verify_at(&miner_verifier(), &pairs, b"", NOW), Err(AuthError::BadSignature));
}

#[test]
fn explicit_sr25519_crypto_header_verifies() {
    let mut pairs = signed(validator(), Some(&miner().account()), NOW, b"");
    pairs.push(("x-bittensor-crypto".into(), b"sr25519".to_vec()));
    assert!(verify_at(&miner_verifier(), &pairs, b"", NOW).is_ok());
}

/// Replaces (or with `None` removes) the header `name` of a valid request and returns the error.
fn malformed_by(name: &str, value: Option<&[u8]>) -> AuthError {
    let mut pairs = signed(validator(), Some(&miner().account()), NOW, b"");
    pairs.retain(|(n, _)| n != name);
    if let Some(value) = value {
        pairs.push((name.to_owned(), value.to_vec()));
    }
    verify_at(&miner_verifier(), &pairs, b"", NOW).expect_err("the request is malformed")
}

#[test]
fn malformed_header_shapes() {
    use Malformed as M;
    let sig = format!("0x{}", "ab".repeat(64));
    let cases: Vec<(&str, Option<Vec<u8>>, Malformed)> = vec![
        ("X-Bittensor-Version", None, M::Missing("X-Bittensor-Version")),
        ("X-Bittensor-Version", Some(b"2".to_vec()), M::Version),
        ("X-Bittensor-Version", Some(b"1.0".to_vec()), M::Version),
        ("X-Bittensor-Version", Some(b"".to_vec()), M::Version),
        ("X-Bittensor-Hotkey", None, M::Missing("X-Bittensor-Hotkey")),
        ("X-Bittensor-Hotkey", Some(b"not-an-address".to_vec()), M::Hotkey(protocol::Ss58Error::NotBase58)),
        ("X-Bittensor-Nonce", None, M::Missing("X-Bittensor-Nonce")),
        ("X-Bittensor-Nonce", Some(b"-1".to_vec()), M::Nonce),
        ("X-Bittensor-Nonce", Some(b"+1764000000000000000".to_vec()), M::Nonce),
        ("X-Bittensor-Nonce", Some(b"01764000000000000000".to_vec()), M::Nonce),
        ("X-Bittensor-Nonce", Some(b"1.5".to_vec()), M::Nonce),
        ("X-Bittensor-Nonce", Some(b"99999999999999999999".to_vec()), M::Nonce),
        ("X-Bittensor-Nonce", Some(b"".to_vec()), M::Nonce),
        ("X-Bittensor-Crypto", Some(b"ecdsa".to_vec()), M::Crypto),
        ("X-Bittensor-Crypto", Some(b"SR25519".to_vec()), M::Crypto),
        ("X-Bittensor-Signature", None, M::Missing("X-Bittensor-Signature")),
        ("X-Bittensor-Signature", Some(sig.as_bytes()[2..].to_vec()), M::Signature),
        ("X-Bittensor-Signature", Some(sig.to_uppercase().into_bytes()), M::Signature),
        ("X-Bittensor-Signature", Some(format!("0x{}", "AB".repeat(64)).into_bytes()), M::Signature),
        ("X-Bittensor-Signature", Some(format!("{sig}00").into_bytes()), M::Signature),
        ("X-Bittensor-Signature", Some(sig.as_bytes()[..128].to_vec()), M::Signature),
        ("X-Bittensor-Signature", Some(format!("0x{}", "zz".repeat(64)).into_bytes()), M::Signature),
        (
            "X-Bittensor-Receiver",
            Some(b"5Hp5m7HeK6vGv7Emr9ZeL2XdXGQpUWL971errQkXz1Se23H6".to_vec()),
            M::Receiver(protocol::Ss58Error::BadChecksum),
        ),
        ("X-Bittensor-Nonce", Some(b" 1764000000000000000".to_vec()), M::NotText("X-Bittensor-Nonce")),
        ("X-Bittensor-Hotkey", Some("5Dfh\u{e9}".as_bytes().to_vec()), M::NotText("X-Bittensor-Hotkey")),
    ];
    for (name, value, expected) in cases {
        let error = malformed_by(name, value.as_deref());
        assert_eq!(error, AuthError::Malformed(expected.clone()), "{name}: {value:?}");
        assert_eq!(error.reason(), Reason::Malformed);
        assert_eq!(error.status(), 401);
    }
}

#[test]
fn duplicate_headers_are_malformed_even_when_equal() {
    let mut pairs = signed(validator(), Some(&miner().account()), NOW, b"");
    let nonce = pairs.iter().find(|(name, _)| name == "X-Bittensor-Nonce").cloned().expect("nonce header");
    pairs.push(("x-bittensor-nonce".into(), nonce.1));
    assert_eq!(
        verify_at(&miner_verifier(), &pairs, b"", NOW),
        Err(AuthError::Malformed(Malformed::Duplicate("X-Bittensor-Nonce")))
    );
}

#[test]
fn control_characters_in_the_request_line_are_malformed() {
    let pairs = signed(validator(), Some(&miner().account()), NOW, b"");
    for (method, target) in [("POST\n", "/x"), ("POST", "/x\nPOST"), ("POST", "/x\r")] {
        let result =
            miner_verifier().verify_pairs(crate::borrowed(&pairs), &Request { method, target, body: b"" }, NOW);
        assert_eq!(result, Err(AuthError::Malformed(Malformed::RequestLine)));
    }
}

#[test]
fn error_messages_never_echo_the_signature_or_payload() {
    let pairs = signed(validator(), Some(&miner().account()), NOW, b"secret body");
    let signature =
        String::from_utf8(pairs.iter().find(|(n, _)| n == "X-Bittensor-Signature").unwrap().1.clone()).unwrap();
    let mut errors = vec![
        verify_at(&miner_verifier(), &pairs, b"other body", NOW).unwrap_err(),
        verify_at(&miner_verifier(), &pairs, b"secret body", NOW + 60 * SECOND).unwrap_err(),
        malformed_by("X-Bittensor-Signature", Some(format!("{signature}0").as_bytes())),
        malformed_by("X-Bittensor-Hotkey", Some(b"secret body")),
    ];
    let verifier = miner_verifier();
    verify_at(&verifier, &pairs, b"secret body", NOW).expect("verifies");
    errors.push(verify_at(&verifier, &pairs, b"secret body", NOW).unwrap_err());
    for error in errors {
        let message = error.to_string();
        assert!(!message.contains(&signature[2..20]), "{message}");
        assert!(!message.contains("secret body"), "{message}");
    }
}

#[test]
fn verifier_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Verifier>();
    let verifier = miner_verifier();
    let receiver = miner().account();
    let requests: Vec<_> = (0..32).map(|i| signed(validator(), Some(&receiver), NOW + i, b"")).collect();
    let accepted: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| requests.iter().filter(|pairs| verify_at(&verifier, pairs, b"", NOW).is_ok()).count())
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    assert_eq!(accepted, 32, "each request is accepted once across all threads");
}

#[test]
fn full_replay_store_answers_503_not_a_silent_accept() {
    let config = VerifierConfig { replay_capacity: 1, ..VerifierConfig::default() };
    let verifier = Verifier::new(miner().account(), config);
    let receiver = miner().account();
    let mut outcomes = Vec::new();
    for i in 0..80 {
        let pairs = signed(validator(), Some(&receiver), NOW + i, b"");
        outcomes.push(verify_at(&verifier, &pairs, b"", NOW));
    }
    let overloaded = outcomes.iter().filter(|r| **r == Err(AuthError::Overloaded)).count();
    assert!(overloaded > 0, "a one-per-shard store fills up");
    assert_eq!(AuthError::Overloaded.status(), 503);
    assert_eq!(AuthError::Overloaded.reason(), Reason::Unavailable);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn any_body_target_and_nonce_round_trip(
        body in proptest::collection::vec(any::<u8>(), 0..256),
        target in "/[a-zA-Z0-9/_.?=&%-]{0,40}",
        offset in 0u64..12 * SECOND,
    ) {
        let nonce = NOW - 10 * SECOND + offset;
        let verifier = miner_verifier();
        let request = Request { method: "PUT", target: &target, body: &body };
        let headers = btauth::sign(validator(), &request, Some(&miner().account()), nonce).expect("signs");
        prop_assert_eq!(verifier.verify(&headers, &request, NOW).map(|c| c.hotkey), Ok(validator().account()));
        prop_assert_eq!(verifier.verify(&headers, &request, NOW), Err(AuthError::Replayed));
    }

    #[test]
    fn any_other_body_fails(body in proptest::collection::vec(any::<u8>(), 0..64), other in proptest::collection::vec(any::<u8>(), 0..64)) {
        prop_assume!(body != other);
        let headers = btauth::sign(validator(), &request(&body), Some(&miner().account()), NOW).expect("signs");
        prop_assert_eq!(miner_verifier().verify(&headers, &request(&other), NOW), Err(AuthError::BadSignature));
    }
}
