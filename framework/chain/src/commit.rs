//! The commit-reveal v2 hash, exactly as the chain recomputes it at reveal.

use std::fmt;
use std::str::FromStr;

use blake2::Blake2b;
use blake2::digest::Digest;
use blake2::digest::consts::U32;
use parity_scale_codec::Encode;
use protocol::AccountId;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{NetUid, Reveal};

/// A 32-byte weights commitment (`H256`), shown as `0x`-prefixed hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommitHash(pub [u8; 32]);

/// BLAKE2b-256 of the SCALE encoding of `(hotkey, netuid, uids, values, salt, version_key)`:
/// what `commit_weights` takes and what `reveal_weights` must hash to.
pub fn commit_hash(hotkey: &AccountId, netuid: NetUid, reveal: &Reveal) -> CommitHash {
    let encoded = (hotkey.as_bytes(), netuid, &reveal.uids, &reveal.values, &reveal.salt, reveal.version_key).encode();
    CommitHash(Blake2b::<U32>::digest(&encoded).into())
}

impl fmt::Display for CommitHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl fmt::Debug for CommitHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CommitHash({self})")
    }
}

/// Why a string is not a commit hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a commit hash is 0x followed by 64 hex digits")]
pub struct BadCommitHash;

impl FromStr for CommitHash {
    type Err = BadCommitHash;

    fn from_str(text: &str) -> Result<CommitHash, BadCommitHash> {
        let digits = text.strip_prefix("0x").ok_or(BadCommitHash)?;
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(digits, &mut bytes).map_err(|_| BadCommitHash)?;
        Ok(CommitHash(bytes))
    }
}

impl Serialize for CommitHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CommitHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<CommitHash, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (AccountId, Reveal) {
        let hotkey = AccountId::from_bytes(std::array::from_fn(|i| i as u8));
        let reveal =
            Reveal { uids: vec![0, 3, 5], values: vec![65535, 100, 0], salt: (1..=8).collect(), version_key: 42 };
        (hotkey, reveal)
    }

    /// The SCALE layout written out by hand (account bytes, u16 LE, compact-length vectors of
    /// u16 LE, u64 LE) and its BLAKE2b-256 computed with Python's `hashlib`.
    #[test]
    fn hash_matches_an_independent_encoding() {
        let (hotkey, reveal) = sample();
        assert_eq!(
            commit_hash(&hotkey, 7, &reveal).to_string(),
            "0xc1d587f8e838c01e25f64ea926ac4aa60153df41082445aa4f4d5c0be10e03e7"
        );
    }

    /// The vector observed with the Python SDK (`generate_weight_hash`) for //Alice.
    #[test]
    fn hash_matches_the_python_sdk_vector() {
        let alice = AccountId::from_ss58("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY").unwrap();
        let reveal =
            Reveal { uids: vec![0, 1], values: vec![65535, 32768], salt: (1..=8).collect(), version_key: 10_002_000 };
        assert_eq!(
            commit_hash(&alice, 1, &reveal).to_string(),
            "0xaceee4db57f1360f0c69c649fbfa860cde9c068473fd3c090af292266ffbd69f"
        );
    }

    #[test]
    fn every_field_is_bound() {
        let (hotkey, reveal) = sample();
        let base = commit_hash(&hotkey, 7, &reveal);
        let other_key = AccountId::from_bytes([9; 32]);
        assert_ne!(commit_hash(&other_key, 7, &reveal), base);
        assert_ne!(commit_hash(&hotkey, 8, &reveal), base);
        for change in 0..4 {
            let mut changed = reveal.clone();
            match change {
                0 => changed.uids[1] = 4,
                1 => changed.values[2] = 1,
                2 => changed.salt.pop().map_or((), drop),
                _ => changed.version_key += 1,
            }
            assert_ne!(commit_hash(&hotkey, 7, &changed), base, "change {change}");
        }
    }

    #[test]
    fn text_round_trip_and_refusals() {
        let (hotkey, reveal) = sample();
        let hash = commit_hash(&hotkey, 7, &reveal);
        assert_eq!(hash.to_string().parse::<CommitHash>(), Ok(hash));
        let json = serde_json::to_string(&hash).unwrap();
        assert_eq!(serde_json::from_str::<CommitHash>(&json).unwrap(), hash);
        for bad in ["", "0x", "c1d587", "0xzz", &hash.to_string()[..65]] {
            assert_eq!(bad.parse::<CommitHash>(), Err(BadCommitHash), "{bad:?}");
        }
    }
}
