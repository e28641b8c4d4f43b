//! Integration tests of `protocol`: the Python SDK's vectors and wallets, and the public API.
//!
//! One test binary for the package (`tests/it/main.rs` plus modules).

mod btauth;
mod keys;
mod ss58;
mod vectors;
mod wallet;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use protocol::{AccountId, Keypair};
use serde::Deserialize;

/// A committed test data file.
fn data_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(relative)
}

/// `tests/data/wallets`, the two Bittensor test wallets.
fn wallets_root() -> PathBuf {
    data_path("wallets")
}

/// The sender of the vectors (wallet `validator`), loaded once.
fn validator() -> &'static Keypair {
    static KEY: OnceLock<Keypair> = OnceLock::new();
    KEY.get_or_init(|| {
        protocol::wallet::load_hotkey(&wallets_root(), "validator", "default").expect("the validator test wallet loads")
    })
}

/// The receiver of the vectors (wallet `miner`), loaded once.
fn miner() -> &'static Keypair {
    static KEY: OnceLock<Keypair> = OnceLock::new();
    KEY.get_or_init(|| {
        protocol::wallet::load_hotkey(&wallets_root(), "miner", "default").expect("the miner test wallet loads")
    })
}

/// `vectors.json`, as the Python SDK wrote it.
#[derive(Deserialize)]
struct Vectors {
    protocol: String,
    sender: Party,
    receiver: Party,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Party {
    mnemonic: String,
    ss58: String,
    public_key_hex: Option<String>,
}

#[derive(Deserialize, Clone)]
struct Case {
    method: String,
    path: String,
    body_utf8: String,
    nonce_ns: u64,
    headers: serde_json::Map<String, serde_json::Value>,
    signed_payload_utf8: String,
    body_sha256_hex: String,
    expect: String,
}

impl Case {
    /// The headers as (name, value) byte pairs.
    fn header_pairs(&self) -> Vec<(String, Vec<u8>)> {
        self.headers
            .iter()
            .map(|(name, value)| (name.clone(), value.as_str().expect("header values are strings").as_bytes().to_vec()))
            .collect()
    }
}

fn vectors() -> Vectors {
    let bytes = std::fs::read(data_path("vectors.json")).expect("vectors.json is readable");
    serde_json::from_slice(&bytes).expect("vectors.json parses")
}

/// The receiver the vectors were signed for.
fn vector_receiver() -> AccountId {
    static RECEIVER: OnceLock<AccountId> = OnceLock::new();
    *RECEIVER.get_or_init(|| vectors().receiver.ss58.parse().expect("the receiver address parses"))
}

/// Borrowed view of owned header pairs, as `Verifier::verify_pairs` takes them.
fn borrowed(pairs: &[(String, Vec<u8>)]) -> impl Iterator<Item = (&str, &[u8])> {
    pairs.iter().map(|(name, value)| (name.as_str(), value.as_slice()))
}
