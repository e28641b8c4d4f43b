//! The replay store: which (hotkey, nonce) pairs were accepted recently.
//!
//! Sharded so concurrent requests rarely contend; each shard is a hash map plus a queue in
//! insertion order, so checking, recording and evicting expired entries are O(1) amortised.
//! Memory is bounded: a full store refuses new entries (the caller answers "try again later")
//! rather than forgetting live ones, which would let a replay through.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, PoisonError};

use crate::ss58::AccountId;

/// Number of independently locked shards (a power of two).
const SHARDS: usize = 64;

/// The answer of [`ReplayStore::check_and_record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The pair was not seen before (or its entry had expired); it is now recorded.
    Fresh,
    /// The pair is already recorded and has not expired: a replay.
    Replayed,
    /// The store is at capacity with live entries; nothing was recorded.
    Full,
}

type Key = (AccountId, u64);

/// A bounded, thread-safe set of (hotkey, nonce) pairs, each kept until its expiry time.
pub struct ReplayStore {
    shards: Box<[Mutex<Shard>]>,
    shard_capacity: usize,
    hasher: RandomState,
}

#[derive(Default)]
struct Shard {
    /// Live entries and their expiry, in nanoseconds since the Unix epoch.
    expiry: HashMap<Key, u64>,
    /// Entries in insertion order, for eviction. An entry whose key was re-recorded with a later
    /// expiry is skipped when it reaches the front.
    order: VecDeque<(Key, u64)>,
}

impl ReplayStore {
    /// A store holding at most about `capacity` live entries (at least one per shard).
    pub fn new(capacity: usize) -> ReplayStore {
        let shard_capacity = capacity.div_ceil(SHARDS).max(1);
        ReplayStore {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            shard_capacity,
            hasher: RandomState::new(),
        }
    }

    /// The most live entries the store holds.
    pub fn capacity(&self) -> usize {
        self.shard_capacity * SHARDS
    }

    /// Records `(hotkey, nonce)` until `expires_at_ns` unless it is already recorded and live at
    /// `now_ns`. Entries whose expiry is before `now_ns` are dropped on the way.
    pub fn check_and_record(&self, hotkey: &AccountId, nonce: u64, expires_at_ns: u64, now_ns: u64) -> Recorded {
        let key = (*hotkey, nonce);
        let index = self.hasher.hash_one(key) as usize & (SHARDS - 1);
        let mut shard = self.shards[index].lock().unwrap_or_else(PoisonError::into_inner);
        shard.evict_expired(now_ns);
        match shard.expiry.get(&key) {
            Some(&expiry) if expiry >= now_ns => return Recorded::Replayed,
            Some(_) => {}
            None if shard.expiry.len() >= self.shard_capacity => return Recorded::Full,
            None => {}
        }
        shard.expiry.insert(key, expires_at_ns);
        shard.order.push_back((key, expires_at_ns));
        Recorded::Fresh
    }

    /// Live entries right now (after evicting those expired before `now_ns`).
    pub fn len(&self, now_ns: u64) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
                shard.evict_expired(now_ns);
                shard.expiry.len()
            })
            .sum()
    }

    /// Whether no entry is live at `now_ns`.
    pub fn is_empty(&self, now_ns: u64) -> bool {
        self.len(now_ns) == 0
    }
}

impl Shard {
    /// Drops entries from the front of the queue while they have expired. Entries are recorded
    /// roughly in expiry order, so this stops early; an entry stuck behind a later one only lives
    /// longer than needed, never shorter.
    fn evict_expired(&mut self, now_ns: u64) {
        while let Some(&(key, expiry)) = self.order.front() {
            if expiry >= now_ns {
                break;
            }
            self.order.pop_front();
            // Remove the map entry only if it is this record, not a newer one of the same key.
            if self.expiry.get(&key) == Some(&expiry) {
                self.expiry.remove(&key);
            }
        }
    }
}

impl std::fmt::Debug for ReplayStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayStore").field("capacity", &self.capacity()).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: AccountId = AccountId::from_bytes([1; 32]);

    #[test]
    fn records_then_rejects_until_expiry() {
        let store = ReplayStore::new(1024);
        assert_eq!(store.check_and_record(&ALICE, 5, 100, 10), Recorded::Fresh);
        assert_eq!(store.check_and_record(&ALICE, 5, 100, 50), Recorded::Replayed);
        assert_eq!(store.check_and_record(&ALICE, 5, 100, 100), Recorded::Replayed, "live at its expiry");
        assert_eq!(store.check_and_record(&ALICE, 6, 100, 50), Recorded::Fresh);
        assert_eq!(store.len(100), 2);
        assert_eq!(store.len(101), 0, "both expired and evicted");
        assert_eq!(store.check_and_record(&ALICE, 5, 300, 101), Recorded::Fresh);
    }

    #[test]
    fn full_store_refuses_instead_of_forgetting() {
        let store = ReplayStore::new(1);
        let per_shard = store.shard_capacity;
        // Fill every shard: keep recording distinct nonces until one is refused.
        let mut nonce = 0;
        let full_at = loop {
            match store.check_and_record(&ALICE, nonce, 1_000, 0) {
                Recorded::Fresh => nonce += 1,
                Recorded::Full => break nonce,
                Recorded::Replayed => unreachable!("nonces are distinct"),
            }
        };
        assert!(full_at >= per_shard as u64);
        // Every recorded pair is still rejected as a replay.
        for n in 0..full_at {
            assert_eq!(store.check_and_record(&ALICE, n, 1_000, 1), Recorded::Replayed);
        }
        // After expiry the space is free again.
        assert_eq!(store.check_and_record(&ALICE, full_at, 5_000, 1_001), Recorded::Fresh);
    }

    #[test]
    fn out_of_order_expiries_never_evict_early() {
        let store = ReplayStore::new(1024);
        assert_eq!(store.check_and_record(&ALICE, 1, 500, 0), Recorded::Fresh);
        assert_eq!(store.check_and_record(&ALICE, 2, 100, 0), Recorded::Fresh);
        // At 200 the second entry is expired but sits behind a live one: it may linger, harmlessly.
        assert_eq!(store.check_and_record(&ALICE, 1, 500, 200), Recorded::Replayed);
        assert_eq!(store.check_and_record(&ALICE, 1, 500, 500), Recorded::Replayed);
        assert_eq!(store.check_and_record(&ALICE, 2, 700, 200), Recorded::Fresh, "expired entry is replaced");
    }

    #[test]
    fn is_shared_across_threads() {
        let store = std::sync::Arc::new(ReplayStore::new(100_000));
        let fresh: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let store = &store;
                    scope.spawn(move || {
                        (0..1_000u64)
                            .filter(|&n| store.check_and_record(&ALICE, n, u64::MAX, 0) == Recorded::Fresh)
                            .count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("thread")).sum()
        });
        assert_eq!(fresh, 1_000, "each nonce is accepted exactly once across threads");
    }
}
