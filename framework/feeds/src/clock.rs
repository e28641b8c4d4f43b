//! Wall clocks. Sources take the time as an argument; the registry reads it from a [`Clock`], so
//! tests and simulations drive time explicitly instead of sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A wall clock: ms since the Unix epoch.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time, ms since the Unix epoch.
    fn now_unix_ms(&self) -> u64;
}

/// The system's real-time clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_ms(&self) -> u64 {
        // A clock set before 1970 reads as the epoch; one past year 584 million saturates.
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// A clock that moves only when told to: for tests, simulations and replays driven step by step.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// A clock standing at `unix_ms`.
    pub fn new(unix_ms: u64) -> Self {
        ManualClock(AtomicU64::new(unix_ms))
    }

    /// Sets the time.
    pub fn set(&self, unix_ms: u64) {
        self.0.store(unix_ms, Ordering::SeqCst);
    }

    /// Moves the time forward by `ms` (saturating).
    pub fn advance(&self, ms: u64) {
        // `fetch_update` with a closure that always returns `Some` cannot fail.
        let _ = self.0.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| Some(t.saturating_add(ms)));
    }
}

impl Clock for ManualClock {
    fn now_unix_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}
