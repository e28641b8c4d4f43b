//! SS58 addresses (Substrate's base58 account encoding), fixed to the Bittensor network prefix.

use std::fmt;
use std::str::FromStr;

use blake2::{Blake2b512, Digest};

/// The SS58 network prefix of every Bittensor address (the generic Substrate prefix).
pub const SS58_PREFIX: u16 = 42;

/// Bytes hashed in front of the payload to make the two checksum bytes.
const CHECKSUM_PREFIX: &[u8] = b"SS58PRE";
/// Checksum bytes kept from the blake2b-512 digest (for 32-byte account ids).
const CHECKSUM_LEN: usize = 2;

/// A 32-byte account id (an sr25519 or ed25519 public key), shown as its SS58 address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId([u8; 32]);

/// Why a string is not a Bittensor SS58 address. Messages never repeat the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Ss58Error {
    /// The string has a character outside the base58 alphabet.
    #[error("not base58")]
    NotBase58,
    /// The decoded bytes have the wrong length for a 32-byte account.
    #[error("wrong length: {0} decoded bytes, expected 35 or 36")]
    BadLength(usize),
    /// The two checksum bytes do not match.
    #[error("bad checksum")]
    BadChecksum,
    /// A valid address of another network.
    #[error("network prefix {found}, expected {SS58_PREFIX}")]
    WrongPrefix {
        /// The prefix the address carries.
        found: u16,
    },
}

impl AccountId {
    /// Wraps raw public-key bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> AccountId {
        AccountId(bytes)
    }

    /// The raw public-key bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses an SS58 address with the Bittensor prefix (42).
    pub fn from_ss58(address: &str) -> Result<AccountId, Ss58Error> {
        let (prefix, account) = decode(address)?;
        if prefix != SS58_PREFIX {
            return Err(Ss58Error::WrongPrefix { found: prefix });
        }
        Ok(account)
    }

    /// The SS58 address with the Bittensor prefix (42).
    pub fn to_ss58(&self) -> String {
        encode(SS58_PREFIX, self)
    }

    /// [`AccountId::from_ss58`], also returning the address as [`AccountId::to_ss58`] spells it:
    /// `address` itself when it is in that form (the one-byte prefix; base58 has one spelling
    /// per byte string), so the common case costs no encoding.
    pub(crate) fn from_ss58_keeping(address: &str) -> Result<(AccountId, String), Ss58Error> {
        let (prefix, account, prefix_len) = decode_with_len(address)?;
        if prefix != SS58_PREFIX {
            return Err(Ss58Error::WrongPrefix { found: prefix });
        }
        let canonical = if prefix_len == 1 { address.to_owned() } else { account.to_ss58() };
        Ok((account, canonical))
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_ss58())
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.to_ss58())
    }
}

impl FromStr for AccountId {
    type Err = Ss58Error;

    fn from_str(address: &str) -> Result<AccountId, Ss58Error> {
        AccountId::from_ss58(address)
    }
}

/// Serialised as its SS58 address.
impl serde::Serialize for AccountId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Deserialised from an SS58 address with the Bittensor prefix.
impl<'de> serde::Deserialize<'de> for AccountId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<AccountId, D::Error> {
        let address = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        AccountId::from_ss58(&address).map_err(serde::de::Error::custom)
    }
}

/// The prefix in its one-byte (< 64) or two-byte (< 16384) SS58 form.
fn prefix_bytes(prefix: u16) -> Vec<u8> {
    assert!(prefix < 16_384, "SS58 prefixes are 14-bit");
    if prefix < 64 {
        vec![prefix as u8]
    } else {
        // Substrate's two-byte form: six low bits of the first byte, then the rest.
        let first = ((prefix & 0b0000_0000_1111_1100) as u8 >> 2) | 0b0100_0000;
        let second = ((prefix >> 8) as u8) | ((prefix & 0b0000_0000_0000_0011) as u8) << 6;
        vec![first, second]
    }
}

fn checksum(prefixed: &[u8]) -> [u8; CHECKSUM_LEN] {
    let digest = Blake2b512::new().chain_update(CHECKSUM_PREFIX).chain_update(prefixed).finalize();
    [digest[0], digest[1]]
}

/// Encodes `account` under `prefix`.
fn encode(prefix: u16, account: &AccountId) -> String {
    let mut bytes = prefix_bytes(prefix);
    bytes.extend_from_slice(&account.0);
    let sum = checksum(&bytes);
    bytes.extend_from_slice(&sum);
    bs58::encode(bytes).into_string()
}

/// Decodes an address of any network into its prefix and account.
fn decode(address: &str) -> Result<(u16, AccountId), Ss58Error> {
    decode_with_len(address).map(|(prefix, account, _)| (prefix, account))
}

/// [`decode`], with the length of the prefix's form (1 or 2 bytes).
fn decode_with_len(address: &str) -> Result<(u16, AccountId, usize), Ss58Error> {
    let bytes = bs58::decode(address).into_vec().map_err(|_| Ss58Error::NotBase58)?;
    let prefix_len = match bytes.first() {
        Some(first) if first & 0b0100_0000 == 0 => 1,
        Some(_) => 2,
        None => return Err(Ss58Error::BadLength(0)),
    };
    if bytes.len() != prefix_len + 32 + CHECKSUM_LEN {
        return Err(Ss58Error::BadLength(bytes.len()));
    }
    let (body, sum) = bytes.split_at(prefix_len + 32);
    if checksum(body) != sum {
        return Err(Ss58Error::BadChecksum);
    }
    let prefix = if prefix_len == 1 {
        u16::from(body[0])
    } else {
        let lower = (u16::from(body[0]) << 2) | (u16::from(body[1]) >> 6);
        let upper = u16::from(body[1] & 0b0011_1111);
        (lower & 0b0000_0000_1111_1111) | (upper << 8)
    };
    let mut account = [0u8; 32];
    account.copy_from_slice(&body[prefix_len..]);
    Ok((prefix, AccountId(account), prefix_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_byte_prefixes_round_trip() {
        let account = AccountId([7; 32]);
        for prefix in [64, 255, 256, 1284, 16_383] {
            let address = encode(prefix, &account);
            assert_eq!(decode(&address), Ok((prefix, account)), "prefix {prefix}");
            assert_eq!(AccountId::from_ss58(&address), Err(Ss58Error::WrongPrefix { found: prefix }));
        }
    }

    #[test]
    fn parsing_keeps_the_canonical_spelling() {
        let account = AccountId([7; 32]);
        let address = account.to_ss58();
        assert_eq!(AccountId::from_ss58_keeping(&address), Ok((account, address.clone())));
        // Prefix 42 in the two-byte form decodes to the same account; kept as re-encoded.
        let mut bytes = vec![0b0100_1010, 0b1000_0000];
        bytes.extend_from_slice(&account.0);
        let sum = checksum(&bytes);
        bytes.extend_from_slice(&sum);
        let long = bs58::encode(&bytes).into_string();
        assert_ne!(long, address);
        assert_eq!(AccountId::from_ss58(&long), Ok(account));
        assert_eq!(AccountId::from_ss58_keeping(&long), Ok((account, address)));
    }

    #[test]
    fn polkadot_address_is_another_network() {
        // The Polkadot (prefix 0) form of the well-known dev account Alice.
        let polkadot = "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5";
        assert_eq!(AccountId::from_ss58(polkadot), Err(Ss58Error::WrongPrefix { found: 0 }));
    }
}
