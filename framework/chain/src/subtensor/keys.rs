//! Signing subxt transactions with a `protocol::Keypair`, and dev keys from secret URIs.

use std::str::FromStr;

use protocol::{CryptoScheme, Keypair};
use schnorrkel::derive::{ChainCode, Derivation};
use subxt::SubstrateConfig;
use subxt::utils::{AccountId32, MultiSignature};
use subxt_signer::{DeriveJunction, ExposeSecret, SecretUri};

use crate::ChainError;

/// A `protocol::Keypair` as subxt's signer: the extrinsic payload signed as `Keypair::sign`
/// signs (sr25519 with the `substrate` context, or ed25519), in a `MultiSignature`.
pub(super) struct Signer<'a>(pub(super) &'a Keypair);

impl subxt::transactions::Signer<SubstrateConfig> for Signer<'_> {
    fn account_id(&self) -> AccountId32 {
        AccountId32(*self.0.account().as_bytes())
    }

    fn sign(&self, payload: &[u8]) -> MultiSignature {
        let signature = self.0.sign(payload);
        match self.0.scheme() {
            CryptoScheme::Sr25519 => MultiSignature::Sr25519(signature),
            CryptoScheme::Ed25519 => MultiSignature::Ed25519(signature),
        }
    }
}

/// An sr25519 keypair from a Substrate secret URI: a BIP39 phrase or `0x` seed (the development
/// phrase when omitted), `//hard` and `/soft` derivation junctions, and `///password`. So
/// `//Alice` is the well-known development account.
///
/// The derived public key is checked against subxt-signer's derivation of the same URI.
pub fn keypair_from_uri(uri: &str) -> Result<Keypair, ChainError> {
    let invalid = |message: String| ChainError::Invalid { field: "uri".into(), message };
    let parsed = SecretUri::from_str(uri).map_err(|e| invalid(e.to_string()))?;
    let phrase = parsed.phrase.expose_secret();
    let root = match phrase.strip_prefix("0x") {
        Some(hex_seed) => {
            let seed: [u8; 32] = hex::decode(hex_seed)
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or_else(|| invalid("a 0x seed must be 32 bytes of hex".into()))?;
            Keypair::from_seed(CryptoScheme::Sr25519, &seed)
        }
        None => {
            let password = parsed.password.as_ref().map(|p| p.expose_secret()).unwrap_or("");
            Keypair::from_phrase(CryptoScheme::Sr25519, phrase, password).map_err(|e| invalid(e.to_string()))?
        }
    };
    let keypair = derive(&root, &parsed.junctions)?;

    let expected = subxt_signer::sr25519::Keypair::from_uri(&parsed).map_err(|e| invalid(e.to_string()))?;
    if keypair.account().as_bytes() != &expected.public_key().0 {
        return Err(ChainError::Internal { message: "sr25519 derivation disagrees with subxt-signer's".into() });
    }
    Ok(keypair)
}

/// Substrate's sr25519 derivation: a hard junction derives a new mini secret (expanded in
/// ed25519 mode), a soft one derives the secret key directly.
fn derive(root: &Keypair, junctions: &[DeriveJunction]) -> Result<Keypair, ChainError> {
    let Some(last) = junctions.last() else {
        return Ok(root.clone());
    };
    let bad_key = || ChainError::Internal { message: "invalid sr25519 secret key".into() };
    let mut secret = schnorrkel::SecretKey::from_bytes(&root.secret_key_bytes()[..]).map_err(|_| bad_key())?;
    let mut mini = None;
    for junction in junctions {
        match junction {
            DeriveJunction::Hard(code) => {
                let (derived, _) = secret.hard_derive_mini_secret_key(Some(ChainCode(*code)), b"");
                secret = derived.expand(schnorrkel::ExpansionMode::Ed25519);
                mini = Some(derived);
            }
            DeriveJunction::Soft(code) => {
                secret = secret.derived_key_simple(ChainCode(*code), []).0;
                mini = None;
            }
        }
    }
    match (last, mini) {
        // Ends in a hard junction: keep the seed, as Substrate's `Pair::from_string` does.
        (DeriveJunction::Hard(_), Some(mini)) => Ok(Keypair::from_seed(CryptoScheme::Sr25519, &mini.to_bytes())),
        _ => Keypair::from_sr25519_secret_key(&secret.to_bytes()).map_err(|_| bad_key()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alice_is_the_well_known_dev_account() {
        let alice = keypair_from_uri("//Alice").unwrap();
        assert_eq!(alice.account().to_ss58(), "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
        assert_eq!(alice.account().as_bytes(), &subxt_signer::sr25519::dev::alice().public_key().0);
    }

    #[test]
    fn soft_hard_and_password_junctions_match_subxt_signer() {
        for uri in [
            "//Bob",
            "//Alice/stash",
            "//Alice//stash/1",
            "//Charlie///secret",
            "0x0101010101010101010101010101010101010101010101010101010101010101//x",
        ] {
            let ours = keypair_from_uri(uri).unwrap();
            let theirs = subxt_signer::sr25519::Keypair::from_uri(&SecretUri::from_str(uri).unwrap()).unwrap();
            assert_eq!(ours.account().as_bytes(), &theirs.public_key().0, "{uri}");
        }
    }

    #[test]
    fn signatures_verify_under_the_substrate_context() {
        let alice = keypair_from_uri("//Alice").unwrap();
        let signer = Signer(&alice);
        let MultiSignature::Sr25519(signature) =
            <Signer<'_> as subxt::transactions::Signer<SubstrateConfig>>::sign(&signer, b"payload")
        else {
            panic!("not an sr25519 signature");
        };
        let public = subxt_signer::sr25519::PublicKey(*alice.account().as_bytes());
        assert!(subxt_signer::sr25519::verify(&subxt_signer::sr25519::Signature(signature), b"payload", &public));
    }

    #[test]
    fn bad_uris_are_invalid() {
        assert!(matches!(keypair_from_uri("not a phrase//x"), Err(ChainError::Invalid { .. })));
        assert!(matches!(keypair_from_uri("0x1234"), Err(ChainError::Invalid { .. })));
    }
}
