//! Signing and identity for subnetkit: Bittensor hotkeys and the `btauth/1` signed-HTTP protocol.
//!
//! - [`AccountId`]: a 32-byte public key shown as an SS58 address (prefix 42).
//! - [`Keypair`]: an sr25519 (or ed25519) signing key, derived from a BIP39 phrase or seed the
//!   way Substrate and the Bittensor wallet derive it; secrets are zeroised and never printed.
//! - [`wallet`]: Bittensor wallet keyfiles on disk (`~/.bittensor/wallets/W/hotkeys/H`).
//! - [`btauth`]: sign requests ([`btauth::sign`]) and verify them ([`btauth::Verifier`]) exactly
//!   as the Python SDK's `bittensor.http_auth` does, with replay protection.
//!
//! The wire contract is `docs/btauth.md`; the vectors in `tests/data/` were signed by the Python
//! SDK and are checked by this crate's tests.

pub mod btauth;
mod keys;
mod replay;
mod ss58;
pub mod wallet;

pub use keys::{CryptoScheme, KeyError, Keypair, UnknownScheme, verify};
pub use replay::{Recorded, ReplayStore};
pub use ss58::{AccountId, SS58_PREFIX, Ss58Error};
