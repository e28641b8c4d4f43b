//! Key derivation matches Substrate and the Bittensor wallet.

use protocol::{AccountId, CryptoScheme, KeyError, Keypair};

use crate::vectors;

#[test]
fn phrases_derive_the_recorded_keys() {
    let vectors = vectors();
    for party in [&vectors.sender, &vectors.receiver] {
        let keypair = Keypair::from_phrase(CryptoScheme::Sr25519, &party.mnemonic, "").expect("the phrase is valid");
        assert_eq!(keypair.account().to_ss58(), party.ss58);
        if let Some(public) = &party.public_key_hex {
            assert_eq!(hex::encode(keypair.account().as_bytes()), *public);
        }
    }
}

#[test]
fn substrate_dev_phrase_gives_its_well_known_seed() {
    // The Substrate development phrase's mini secret, as `subkey inspect` prints it.
    let keypair = Keypair::from_phrase(
        CryptoScheme::Sr25519,
        "bottom drive obey lake curtain smoke basket hold race lonely fit walk",
        "",
    )
    .expect("valid phrase");
    assert_eq!(
        hex::encode(keypair.seed().expect("derived from a seed")),
        "fac7959dbfe72f052e5a0c3c8d6530f202b02fd8f9f5ca3580ec8deb7797479e"
    );
}

#[test]
fn a_password_changes_the_key() {
    let phrase = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
    let plain = Keypair::from_phrase(CryptoScheme::Sr25519, phrase, "").expect("valid");
    let salted = Keypair::from_phrase(CryptoScheme::Sr25519, phrase, "password").expect("valid");
    assert_ne!(plain.account(), salted.account());
}

#[test]
fn bad_phrases_are_refused() {
    for phrase in ["", "bottom drive obey", "bottom drive obey lake curtain smoke basket hold race lonely fit fit"] {
        assert!(
            matches!(Keypair::from_phrase(CryptoScheme::Sr25519, phrase, ""), Err(KeyError::BadMnemonic(_))),
            "{phrase:?}"
        );
    }
}

#[test]
fn generated_keys_sign_and_verify_under_their_scheme_only() {
    for scheme in [CryptoScheme::Sr25519, CryptoScheme::Ed25519] {
        for words in [12, 24] {
            let (keypair, phrase) = Keypair::generate(scheme, words).expect("generates");
            assert_eq!(phrase.split_whitespace().count(), words);
            assert_eq!(Keypair::from_phrase(scheme, &phrase, "").expect("valid").account(), keypair.account());
            let signature = keypair.sign(b"message");
            assert!(protocol::verify(scheme, &keypair.account(), b"message", &signature));
            assert!(!protocol::verify(scheme, &keypair.account(), b"messagf", &signature));
            let other = if scheme == CryptoScheme::Sr25519 { CryptoScheme::Ed25519 } else { CryptoScheme::Sr25519 };
            assert!(!protocol::verify(other, &keypair.account(), b"message", &signature));
        }
    }
    assert!(matches!(Keypair::generate(CryptoScheme::Sr25519, 13), Err(KeyError::BadMnemonic(_))));
}

#[test]
fn sr25519_secret_key_round_trips() {
    let keypair = Keypair::from_seed(CryptoScheme::Sr25519, &[3; 32]);
    let again = Keypair::from_sr25519_secret_key(&keypair.secret_key_bytes()[..]).expect("valid secret key");
    assert_eq!(again.account(), keypair.account());
    assert!(again.seed().is_none());
    assert!(protocol::verify(CryptoScheme::Sr25519, &keypair.account(), b"m", &again.sign(b"m")));
    assert!(Keypair::from_sr25519_secret_key(&[0; 63]).is_err());
}

#[test]
fn invalid_public_keys_never_verify() {
    // Not a valid Ristretto / Edwards point encoding.
    let bogus = AccountId::from_bytes([0xff; 32]);
    for scheme in [CryptoScheme::Sr25519, CryptoScheme::Ed25519] {
        assert!(!protocol::verify(scheme, &bogus, b"m", &[0; 64]));
    }
}

#[test]
fn debug_output_redacts_secrets() {
    let keypair = Keypair::from_seed(CryptoScheme::Sr25519, &[0xab; 32]);
    let debug = format!("{keypair:?}");
    assert!(debug.contains(&keypair.account().to_ss58()), "{debug}");
    assert!(!debug.to_lowercase().contains("abab"), "{debug}");
    assert!(debug.contains("redacted"));
}

#[test]
fn scheme_names() {
    assert_eq!("sr25519".parse(), Ok(CryptoScheme::Sr25519));
    assert_eq!("ed25519".parse(), Ok(CryptoScheme::Ed25519));
    assert!("Sr25519".parse::<CryptoScheme>().is_err());
    assert_eq!(CryptoScheme::Ed25519.to_string(), "ed25519");
}
