//! The Python SDK's vectors: each verifies, and every single-byte change of any signed part fails.

use protocol::btauth::{self, AuthError, Reason, Request, Verifier, VerifierConfig};
use protocol::{AccountId, CryptoScheme};

use crate::{Case, borrowed, vector_receiver, vectors};

/// A moment after signing, as the vectors' README asks.
const SETTLE_NS: u64 = 1_000_000;

/// A verifier for the vectors' receiver that accepts unbound requests (one case is unbound).
fn verifier() -> Verifier {
    Verifier::new(vector_receiver(), VerifierConfig { require_receiver: false, ..VerifierConfig::default() })
}

/// Verifies `case` with a fresh replay store, with its headers, body, method and path replaced.
fn check(case: &Case, headers: &[(String, Vec<u8>)], method: &str, path: &str, body: &[u8]) -> Result<(), AuthError> {
    let request = Request { method, target: path, body };
    verifier().verify_pairs(borrowed(headers), &request, case.nonce_ns + SETTLE_NS).map(|_| ())
}

#[test]
fn file_is_what_the_tests_expect() {
    let vectors = vectors();
    assert_eq!(vectors.protocol, "btauth/1");
    assert_eq!(vectors.cases.len(), 4);
    assert!(vectors.cases.iter().all(|case| case.expect == "valid"));
}

#[test]
fn every_case_verifies_and_names_the_sender() {
    let vectors = vectors();
    let sender: AccountId = vectors.sender.ss58.parse().expect("sender parses");
    for case in &vectors.cases {
        let request = Request { method: &case.method, target: &case.path, body: case.body_utf8.as_bytes() };
        let caller = verifier()
            .verify_pairs(borrowed(&case.header_pairs()), &request, case.nonce_ns + SETTLE_NS)
            .unwrap_or_else(|e| panic!("{} {}: {e}", case.method, case.path));
        assert_eq!(caller.hotkey, sender);
        assert_eq!(caller.scheme, CryptoScheme::Sr25519);
        assert_eq!(caller.nonce_ns, case.nonce_ns);
    }
}

#[test]
fn our_payload_and_body_hash_match_the_python_sdk() {
    for case in vectors().cases {
        let headers = btauth::Headers::parse(borrowed(&case.header_pairs())).expect("vector headers parse");
        let request = Request { method: &case.method, target: &case.path, body: case.body_utf8.as_bytes() };
        let payload = btauth::signed_payload(
            headers.scheme(),
            &request,
            headers.nonce_ns(),
            &headers.hotkey(),
            headers.receiver().as_ref(),
        );
        assert_eq!(payload, case.signed_payload_utf8);
        assert_eq!(payload.lines().nth(4), Some(case.body_sha256_hex.as_str()));
    }
}

#[test]
fn default_verifier_rejects_the_unbound_case_only() {
    let strict = Verifier::new(vector_receiver(), VerifierConfig::default());
    for case in vectors().cases {
        let request = Request { method: &case.method, target: &case.path, body: case.body_utf8.as_bytes() };
        let result = strict.verify_pairs(borrowed(&case.header_pairs()), &request, case.nonce_ns + SETTLE_NS);
        if case.headers.contains_key("X-Bittensor-Receiver") {
            assert!(result.is_ok(), "{}: {result:?}", case.path);
        } else {
            assert_eq!(result, Err(AuthError::MissingReceiver));
            assert_eq!(result.unwrap_err().status(), 403);
        }
    }
}

#[test]
fn header_names_match_case_insensitively() {
    for case in vectors().cases {
        let pairs: Vec<_> = case
            .header_pairs()
            .into_iter()
            .enumerate()
            .map(|(i, (name, value))| {
                (if i % 2 == 0 { name.to_ascii_lowercase() } else { name.to_ascii_uppercase() }, value)
            })
            .collect();
        check(&case, &pairs, &case.method, &case.path, case.body_utf8.as_bytes()).expect("case-folded names verify");
    }
}

/// Which replacement values of a byte to try.
#[derive(Clone, Copy)]
enum Tamper {
    /// Every single-bit flip (8 values, crossing between digits, letters, punctuation, controls
    /// and non-ASCII): affordable in a debug build, where each try that reaches the signature
    /// check costs milliseconds.
    Bits,
    /// All 255 other values (run in release: `cargo test --release -p protocol -- --ignored`).
    Exhaustive,
}

impl Tamper {
    fn substitutes(self, original: u8) -> Vec<u8> {
        let mut values: Vec<u8> = match self {
            Tamper::Exhaustive => (0..=255u8).collect(),
            Tamper::Bits => (0..8).map(|bit| original ^ (1 << bit)).collect(),
        };
        values.retain(|&b| b != original);
        values.sort_unstable();
        values.dedup();
        values
    }
}

/// Changes one byte of one header value at a time, in every position, and checks each is rejected.
fn header_values_tampered(tamper: Tamper) {
    for case in vectors().cases {
        let pairs = case.header_pairs();
        let mut tried = 0usize;
        for header in 0..pairs.len() {
            for at in 0..pairs[header].1.len() {
                for value in tamper.substitutes(pairs[header].1[at]) {
                    let mut tampered = pairs.clone();
                    tampered[header].1[at] = value;
                    let result = check(&case, &tampered, &case.method, &case.path, case.body_utf8.as_bytes());
                    assert!(result.is_err(), "{} byte {at} -> {value:#04x} accepted ({})", pairs[header].0, case.path);
                    tried += 1;
                }
            }
        }
        let bytes: usize = pairs.iter().map(|(_, value)| value.len()).sum();
        assert!(tried >= bytes * 8, "every byte of every header value was changed ({tried} tries)");
    }
}

/// Renames one header by one byte at a time (case-only changes excepted: names are case-insensitive).
fn header_names_tampered(tamper: Tamper) {
    for case in vectors().cases {
        let pairs = case.header_pairs();
        for header in 0..pairs.len() {
            let name = pairs[header].0.as_bytes();
            for at in 0..name.len() {
                for value in tamper.substitutes(name[at]) {
                    if value.eq_ignore_ascii_case(&name[at]) {
                        continue;
                    }
                    let mut renamed = name.to_vec();
                    renamed[at] = value;
                    let Ok(renamed) = String::from_utf8(renamed) else { continue }; // header names are ASCII
                    let mut tampered = pairs.clone();
                    tampered[header].0 = renamed;
                    let result = check(&case, &tampered, &case.method, &case.path, case.body_utf8.as_bytes());
                    assert!(result.is_err(), "header {} renamed {:?} accepted", pairs[header].0, tampered[header].0);
                }
            }
        }
    }
}

/// Changes one byte of the method, the path or the body at a time, in every position.
fn request_tampered(tamper: Tamper) {
    for case in vectors().cases {
        let pairs = case.header_pairs();
        let body = case.body_utf8.as_bytes();
        for at in 0..case.method.len() {
            for value in tamper.substitutes(case.method.as_bytes()[at]) {
                let mut method = case.method.as_bytes().to_vec();
                method[at] = value;
                let Ok(method) = String::from_utf8(method) else { continue }; // servers only see UTF-8 methods
                assert!(check(&case, &pairs, &method, &case.path, body).is_err(), "method {method:?}");
            }
        }
        for at in 0..case.path.len() {
            for value in tamper.substitutes(case.path.as_bytes()[at]) {
                let mut path = case.path.as_bytes().to_vec();
                path[at] = value;
                let Ok(path) = String::from_utf8(path) else { continue };
                assert!(check(&case, &pairs, &case.method, &path, body).is_err(), "path {path:?}");
            }
        }
        for at in 0..body.len() {
            for value in tamper.substitutes(body[at]) {
                let mut tampered = body.to_vec();
                tampered[at] = value;
                assert!(check(&case, &pairs, &case.method, &case.path, &tampered).is_err(), "body byte {at}");
            }
        }
        // A byte added or removed at either end of the body changes it too.
        let mut longer = body.to_vec();
        longer.push(b' ');
        assert_eq!(check(&case, &pairs, &case.method, &case.path, &longer), Err(AuthError::BadSignature));
        if let Some((_, shorter)) = body.split_last() {
            assert_eq!(check(&case, &pairs, &case.method, &case.path, shorter), Err(AuthError::BadSignature));
        }
    }
}

#[test]
fn every_byte_of_every_header_value_changed_is_rejected() {
    header_values_tampered(Tamper::Bits);
}

#[test]
fn every_byte_of_every_header_name_changed_is_rejected() {
    header_names_tampered(Tamper::Bits);
}

#[test]
fn every_byte_of_method_path_and_body_changed_is_rejected() {
    request_tampered(Tamper::Bits);
}

#[test]
fn every_single_byte_tamper_exhaustively() {
    header_values_tampered(Tamper::Exhaustive);
    header_names_tampered(Tamper::Exhaustive);
    request_tampered(Tamper::Exhaustive);
}

#[test]
fn tampered_signature_digits_fail_as_bad_signature() {
    // Changing one hex digit of the signature to another lowercase digit keeps the shape, so the
    // rejection must come from the signature check itself.
    for case in vectors().cases {
        let pairs = case.header_pairs();
        let index = pairs.iter().position(|(name, _)| name == "X-Bittensor-Signature").expect("signature header");
        for at in 2..pairs[index].1.len() {
            let mut tampered = pairs.clone();
            tampered[index].1[at] = if tampered[index].1[at] == b'0' { b'1' } else { b'0' };
            let result = check(&case, &tampered, &case.method, &case.path, case.body_utf8.as_bytes());
            assert_eq!(result.map_err(|e| e.reason()), Err(Reason::BadSignature), "digit {at}");
        }
    }
}

#[test]
fn a_vector_replayed_is_rejected() {
    let verifier = verifier();
    for case in vectors().cases {
        let request = Request { method: &case.method, target: &case.path, body: case.body_utf8.as_bytes() };
        let pairs = case.header_pairs();
        let now = case.nonce_ns + SETTLE_NS;
        verifier.verify_pairs(borrowed(&pairs), &request, now).expect("first use verifies");
        let again = verifier.verify_pairs(borrowed(&pairs), &request, now + 5_000_000_000);
        assert_eq!(again, Err(AuthError::Replayed));
        assert_eq!(again.unwrap_err().status(), 401);
    }
}
