//! SS58 addresses: round trips and every way an address can be wrong.

use proptest::prelude::*;
use protocol::{AccountId, Ss58Error};

const SENDER: &str = "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV";
const SENDER_HEX: &str = "46ebddef8cd9bb167dc30878d7113b7e168e6f0646beffd77d69d39bad76b47a";

#[test]
fn known_address_decodes_to_its_public_key() {
    let account: AccountId = SENDER.parse().expect("valid address");
    assert_eq!(hex::encode(account.as_bytes()), SENDER_HEX);
    assert_eq!(account.to_string(), SENDER);
    assert_eq!(format!("{account:?}"), format!("AccountId({SENDER})"));
}

#[test]
fn errors() {
    assert_eq!(AccountId::from_ss58(""), Err(Ss58Error::BadLength(0)));
    assert_eq!(AccountId::from_ss58("0OIl"), Err(Ss58Error::NotBase58));
    assert_eq!(AccountId::from_ss58(&SENDER[..SENDER.len() - 1]), Err(Ss58Error::BadLength(34)));
    assert!(matches!(
        AccountId::from_ss58(&format!("{SENDER}1")),
        Err(Ss58Error::BadLength(_) | Ss58Error::BadChecksum)
    ));
    // Kusama (prefix 2) form of the same key.
    let kusama = bs58_with_prefix(2, SENDER_HEX);
    assert_eq!(AccountId::from_ss58(&kusama), Err(Ss58Error::WrongPrefix { found: 2 }));
}

#[test]
fn every_single_character_change_is_caught() {
    const ALPHABET: &str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    for at in 0..SENDER.len() {
        for c in ALPHABET.chars() {
            let mut changed: Vec<char> = SENDER.chars().collect();
            if changed[at] == c {
                continue;
            }
            changed[at] = c;
            let changed: String = changed.into_iter().collect();
            // A change either breaks the checksum or, rarely, lands on another valid address;
            // it must never decode to the original key.
            if let Ok(account) = AccountId::from_ss58(&changed) {
                assert_ne!(account.to_ss58(), SENDER);
            }
        }
    }
}

/// An SS58 string for a one-byte `prefix`, built independently of the crate (for error tests).
fn bs58_with_prefix(prefix: u8, public_hex: &str) -> String {
    use blake2::{Blake2b512, Digest};
    let mut bytes = vec![prefix];
    bytes.extend(hex::decode(public_hex).expect("hex"));
    let digest = Blake2b512::new().chain_update(b"SS58PRE").chain_update(&bytes).finalize();
    bytes.extend_from_slice(&digest[..2]);
    bs58::encode(bytes).into_string()
}

proptest! {
    #[test]
    fn round_trip(bytes in any::<[u8; 32]>()) {
        let account = AccountId::from_bytes(bytes);
        let address = account.to_ss58();
        prop_assert!(address.starts_with('5'));
        prop_assert_eq!(address.len(), 48);
        prop_assert_eq!(AccountId::from_ss58(&address), Ok(account));
        prop_assert_eq!(address, bs58_with_prefix(42, &hex::encode(bytes)));
    }
}
