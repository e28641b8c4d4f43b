//! A stable hash (FNV-1a, 64 bits) for maps and fingerprints that must not depend on the platform.
//!
//! std's `HashMap` seeds its hasher randomly on native targets, so anything that depends on its
//! iteration order (or on `DefaultHasher` values) differs between runs of a native test and
//! between a native build and the plugin. These hashes do not: use [`fnv1a64`] to fingerprint
//! text (e.g. to find duplicate answers across miners) or to bucket tokens, and [`StableHashMap`]
//! where a map is needed.
//!
//! ```
//! use sdk_guest::hash::{fnv1a64, StableHashMap};
//!
//! assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
//! let mut counts: StableHashMap<&str, u32> = StableHashMap::default();
//! *counts.entry("x").or_default() += 1;
//! assert_eq!(counts["x"], 1);
//! ```

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// The FNV-1a 64-bit hash of `bytes`.
pub const fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash = OFFSET;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(PRIME);
        i += 1;
    }
    hash
}

/// A [`Hasher`] computing FNV-1a over the bytes written to it.
#[derive(Clone, Copy, Debug)]
pub struct Fnv1a64(u64);

impl Default for Fnv1a64 {
    fn default() -> Self {
        Fnv1a64(OFFSET)
    }
}

impl Hasher for Fnv1a64 {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(PRIME);
        }
    }
}

/// Builds [`Fnv1a64`] hashers, all with the same (fixed) starting state.
pub type StableBuildHasher = BuildHasherDefault<Fnv1a64>;

/// A `HashMap` whose hashing, and therefore iteration order for the same insertions, is the same
/// on every platform and in every run.
pub type StableHashMap<K, V> = HashMap<K, V, StableBuildHasher>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn fnv1a64_matches_published_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn hasher_agrees_with_the_function() {
        let mut h = Fnv1a64::default();
        h.write(b"foo");
        h.write(b"bar");
        assert_eq!(h.finish(), fnv1a64(b"foobar"));
        let build = StableBuildHasher::default();
        assert_eq!(build.hash_one("x"), build.hash_one("x"));
    }

    #[test]
    fn stable_map_iterates_in_the_same_order_every_time() {
        let keys = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];
        let order = |keys: &[&'static str]| {
            let map: StableHashMap<&str, usize> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
            map.into_keys().collect::<Vec<_>>()
        };
        assert_eq!(order(&keys), order(&keys));
    }
}
