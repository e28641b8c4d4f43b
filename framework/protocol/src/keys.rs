//! Hotkeys: sr25519 (schnorrkel, Substrate signing context) and ed25519 keypairs, derived from
//! BIP39 phrases the way Substrate and the Bittensor wallet derive them.

use std::fmt;
use std::str::FromStr;

use pbkdf2::pbkdf2_hmac;
use sha2::Sha512;
use zeroize::Zeroizing;

use crate::ss58::AccountId;

/// Signing context of every Substrate sr25519 signature.
const SUBSTRATE_CONTEXT: &[u8] = b"substrate";
/// PBKDF2 rounds of BIP39 seed stretching.
const PBKDF2_ROUNDS: u32 = 2048;

/// A signature scheme a hotkey can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CryptoScheme {
    /// Schnorr signatures on Ristretto25519 with the `substrate` signing context; the default.
    Sr25519,
    /// Ed25519 signatures over the raw message.
    Ed25519,
}

impl CryptoScheme {
    /// The scheme's wire name, `sr25519` or `ed25519`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CryptoScheme::Sr25519 => "sr25519",
            CryptoScheme::Ed25519 => "ed25519",
        }
    }
}

impl fmt::Display for CryptoScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scheme name that is neither `sr25519` nor `ed25519`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown signature scheme (expected sr25519 or ed25519)")]
pub struct UnknownScheme;

impl FromStr for CryptoScheme {
    type Err = UnknownScheme;

    /// Parses the exact lowercase wire name.
    fn from_str(name: &str) -> Result<CryptoScheme, UnknownScheme> {
        match name {
            "sr25519" => Ok(CryptoScheme::Sr25519),
            "ed25519" => Ok(CryptoScheme::Ed25519),
            _ => Err(UnknownScheme),
        }
    }
}

/// Why key material could not be turned into a keypair. Messages never repeat secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The phrase is not a valid English BIP39 mnemonic.
    #[error("not a valid BIP39 mnemonic: {0}")]
    BadMnemonic(String),
    /// A secret key has the wrong length or is not a valid scalar.
    #[error("invalid {0} secret key")]
    BadSecretKey(CryptoScheme),
    /// The system random source failed.
    #[error("the system random source failed: {0}")]
    Random(String),
}

/// A signing keypair. Secret material is zeroised on drop and never printed.
#[derive(Clone)]
pub struct Keypair {
    secret: Secret,
    /// The 32-byte mini secret (seed) it was derived from, when known.
    seed: Option<Zeroizing<[u8; 32]>>,
    account: AccountId,
    /// `account` as SS58, encoded once: it goes into every request it signs.
    ss58: String,
}

#[derive(Clone)]
enum Secret {
    Sr25519(Box<schnorrkel::Keypair>),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

impl Keypair {
    /// Derives a keypair from its 32-byte seed (Substrate's "mini secret"; `secretSeed` in a
    /// keyfile). sr25519 expands it in ed25519 mode, as Substrate does.
    pub fn from_seed(scheme: CryptoScheme, seed: &[u8; 32]) -> Keypair {
        let secret = match scheme {
            CryptoScheme::Sr25519 => {
                let mini = schnorrkel::MiniSecretKey::from_bytes(seed)
                    .expect("every 32-byte string is an sr25519 mini secret");
                Secret::Sr25519(Box::new(mini.expand_to_keypair(schnorrkel::ExpansionMode::Ed25519)))
            }
            CryptoScheme::Ed25519 => Secret::Ed25519(Box::new(ed25519_dalek::SigningKey::from_bytes(seed))),
        };
        let account = public_of(&secret);
        Keypair { secret, seed: Some(Zeroizing::new(*seed)), account, ss58: account.to_ss58() }
    }

    /// Derives a keypair from a BIP39 English phrase and password (empty for Bittensor hotkeys),
    /// exactly as Substrate does: the seed is the first 32 bytes of
    /// PBKDF2-HMAC-SHA512(entropy, "mnemonic" + password, 2048 rounds).
    pub fn from_phrase(scheme: CryptoScheme, phrase: &str, password: &str) -> Result<Keypair, KeyError> {
        let seed = seed_from_phrase(phrase, password)?;
        Ok(Keypair::from_seed(scheme, &seed))
    }

    /// An sr25519 keypair from its 64-byte secret key as Bittensor keyfiles store it in
    /// `privateKey`: schnorrkel's canonical layout, the scalar then the nonce.
    pub fn from_sr25519_secret_key(secret_key: &[u8]) -> Result<Keypair, KeyError> {
        let secret =
            schnorrkel::SecretKey::from_bytes(secret_key).map_err(|_| KeyError::BadSecretKey(CryptoScheme::Sr25519))?;
        let secret = Secret::Sr25519(Box::new(secret.to_keypair()));
        let account = public_of(&secret);
        Ok(Keypair { secret, seed: None, account, ss58: account.to_ss58() })
    }

    /// Makes a new keypair from a fresh random phrase of `words` words (12, 15, 18, 21 or 24).
    /// Returns the keypair and its phrase.
    pub fn generate(scheme: CryptoScheme, words: usize) -> Result<(Keypair, Zeroizing<String>), KeyError> {
        if !matches!(words, 12 | 15 | 18 | 21 | 24) {
            return Err(KeyError::BadMnemonic(format!("{words} words; use 12, 15, 18, 21 or 24")));
        }
        let mut entropy = Zeroizing::new([0u8; 32]);
        let entropy = &mut entropy[..words / 3 * 4];
        getrandom::fill(entropy).map_err(|e| KeyError::Random(e.to_string()))?;
        let mnemonic = bip39::Mnemonic::from_entropy_in(bip39::Language::English, entropy)
            .map_err(|e| KeyError::BadMnemonic(e.to_string()))?;
        let phrase = Zeroizing::new(mnemonic.to_string());
        let keypair = Keypair::from_phrase(scheme, &phrase, "")?;
        Ok((keypair, phrase))
    }

    /// The keypair's signature scheme.
    pub fn scheme(&self) -> CryptoScheme {
        match self.secret {
            Secret::Sr25519(_) => CryptoScheme::Sr25519,
            Secret::Ed25519(_) => CryptoScheme::Ed25519,
        }
    }

    /// The public key as an account id (its SS58 form is the hotkey address).
    pub fn account(&self) -> AccountId {
        self.account
    }

    /// The account's SS58 address.
    pub(crate) fn ss58(&self) -> &str {
        &self.ss58
    }

    /// The seed the keypair was derived from, if it was derived from one.
    pub fn seed(&self) -> Option<&[u8; 32]> {
        self.seed.as_deref()
    }

    /// The 64-byte secret key as a keyfile's `privateKey` holds it: for sr25519 schnorrkel's
    /// canonical layout (scalar then nonce), for ed25519 the seed followed by the public key.
    pub fn secret_key_bytes(&self) -> Zeroizing<[u8; 64]> {
        match &self.secret {
            Secret::Sr25519(pair) => Zeroizing::new(pair.secret.to_bytes()),
            Secret::Ed25519(key) => Zeroizing::new(key.to_keypair_bytes()),
        }
    }

    /// Signs `message` (sr25519 signatures are randomised: two signatures of one message differ).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        match &self.secret {
            Secret::Sr25519(pair) => pair.sign_simple(SUBSTRATE_CONTEXT, message).to_bytes(),
            Secret::Ed25519(key) => {
                use ed25519_dalek::Signer as _;
                key.sign(message).to_bytes()
            }
        }
    }
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keypair")
            .field("scheme", &self.scheme())
            .field("account", &self.account)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Checks `signature` over `message` by `account` under `scheme` only.
pub fn verify(scheme: CryptoScheme, account: &AccountId, message: &[u8], signature: &[u8; 64]) -> bool {
    PublicKey::new(scheme, account).is_some_and(|public| public.verify(message, signature))
}

/// A public key decoded for checking signatures (for sr25519 a point decompression, about a
/// fifth of a verification), so that a verifier that sees the same signers again can keep it.
#[derive(Clone)]
pub(crate) enum PublicKey {
    Sr25519(schnorrkel::PublicKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl PublicKey {
    /// `account` as a public key of `scheme`; None when the bytes are not one.
    pub(crate) fn new(scheme: CryptoScheme, account: &AccountId) -> Option<PublicKey> {
        match scheme {
            CryptoScheme::Sr25519 => schnorrkel::PublicKey::from_bytes(account.as_bytes()).ok().map(PublicKey::Sr25519),
            CryptoScheme::Ed25519 => {
                ed25519_dalek::VerifyingKey::from_bytes(account.as_bytes()).ok().map(PublicKey::Ed25519)
            }
        }
    }

    /// Checks `signature` over `message` under this key's scheme only.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        match self {
            PublicKey::Sr25519(public) => schnorrkel::Signature::from_bytes(signature)
                .is_ok_and(|signature| public.verify_simple(SUBSTRATE_CONTEXT, message, &signature).is_ok()),
            PublicKey::Ed25519(public) => {
                let signature = ed25519_dalek::Signature::from_bytes(signature);
                public.verify_strict(message, &signature).is_ok()
            }
        }
    }
}

/// Substrate's mini secret of a BIP39 phrase: PBKDF2 over the phrase's *entropy* (not the phrase
/// text, unlike BIP39's own seed), salt "mnemonic" + password, first 32 of 64 bytes.
pub(crate) fn seed_from_phrase(phrase: &str, password: &str) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let mnemonic = bip39::Mnemonic::parse_in(bip39::Language::English, phrase)
        .map_err(|e| KeyError::BadMnemonic(e.to_string()))?;
    let entropy = Zeroizing::new(mnemonic.to_entropy());
    let salt = Zeroizing::new(format!("mnemonic{password}"));
    let mut stretched = Zeroizing::new([0u8; 64]);
    pbkdf2_hmac::<Sha512>(&entropy, salt.as_bytes(), PBKDF2_ROUNDS, &mut stretched[..]);
    let mut seed = Zeroizing::new([0u8; 32]);
    seed.copy_from_slice(&stretched[..32]);
    Ok(seed)
}

fn public_of(secret: &Secret) -> AccountId {
    match secret {
        Secret::Sr25519(pair) => AccountId::from_bytes(pair.public.to_bytes()),
        Secret::Ed25519(key) => AccountId::from_bytes(key.verifying_key().to_bytes()),
    }
}
