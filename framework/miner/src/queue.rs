//! A bounded admission queue with priority by stake.
//!
//! At most `concurrency` tasks run at once; up to `capacity` more wait, the highest stake first
//! (first come first served within one stake). When the queue is full, a newcomer with more stake
//! than the lowest-stake waiter takes its place (that waiter is refused), otherwise the newcomer
//! is refused. Memory is bounded by `capacity`; a waiter that gives up (timeout or a dropped
//! connection) leaves the queue at once.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::oneshot;

/// Waiters ordered by priority: the last key is served first, the first key is evicted first.
type Key = (u64, Reverse<u64>);

/// Why a task was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The queue is full of waiters with at least this much stake.
    Full,
    /// A caller with more stake took this waiter's place.
    Evicted,
    /// No slot freed up in time.
    TimedOut,
}

enum Admission {
    Granted,
    Evicted,
}

#[derive(Default)]
struct State {
    running: usize,
    waiting: BTreeMap<Key, oneshot::Sender<Admission>>,
    next_seq: u64,
}

/// The queue of one subnet.
pub(crate) struct Scheduler {
    concurrency: usize,
    capacity: usize,
    state: Mutex<State>,
    depth: Gauge,
}

/// A running slot, given back on drop (to the best waiter, if any).
pub(crate) struct Slot {
    scheduler: Arc<Scheduler>,
}

impl Scheduler {
    pub(crate) fn new(concurrency: usize, capacity: usize, depth: Gauge) -> Scheduler {
        Scheduler { concurrency, capacity, state: Mutex::new(State::default()), depth }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Tasks waiting right now.
    pub(crate) fn depth(&self) -> usize {
        self.lock().waiting.len()
    }

    /// Waits for a slot for a caller with `stake`, at most `timeout`.
    pub(crate) async fn acquire(self: &Arc<Self>, stake: u64, timeout: Duration) -> Result<Slot, Refused> {
        let (key, rx) = {
            let mut state = self.lock();
            if state.running < self.concurrency && state.waiting.is_empty() {
                state.running += 1;
                return Ok(Slot { scheduler: Arc::clone(self) });
            }
            if state.waiting.len() >= self.capacity {
                match state.waiting.first_key_value() {
                    Some((&(lowest, _), _)) if lowest < stake => {
                        if let Some((_, evicted)) = state.waiting.pop_first() {
                            // The waiter may have just given up; then there is no one to tell.
                            let _ = evicted.send(Admission::Evicted);
                        }
                    }
                    _ => return Err(Refused::Full),
                }
            }
            let key = (stake, Reverse(state.next_seq));
            state.next_seq += 1;
            let (tx, rx) = oneshot::channel();
            state.waiting.insert(key, tx);
            self.depth.set(state.waiting.len() as i64);
            (key, rx)
        };
        let mut waiting = Waiting { scheduler: self, key, rx, settled: false };
        let outcome = tokio::time::timeout(timeout, &mut waiting.rx).await;
        match outcome {
            Ok(Ok(Admission::Granted)) => {
                waiting.settled = true;
                Ok(Slot { scheduler: Arc::clone(self) })
            }
            Ok(Ok(Admission::Evicted)) | Ok(Err(_)) => {
                waiting.settled = true;
                Err(Refused::Evicted)
            }
            // `waiting` leaves the queue (or hands back a slot granted meanwhile) on drop.
            Err(_) => Err(Refused::TimedOut),
        }
    }

    /// Gives a slot to the best waiter still listening, or frees it.
    fn release(&self, state: &mut State) {
        while let Some((_, waiter)) = state.waiting.pop_last() {
            if waiter.send(Admission::Granted).is_ok() {
                self.depth.set(state.waiting.len() as i64);
                return;
            }
        }
        self.depth.set(0);
        state.running -= 1;
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = self.scheduler.lock();
        self.scheduler.release(&mut state);
    }
}

/// A caller in the queue; leaves it when dropped unless admitted or evicted.
struct Waiting<'a> {
    scheduler: &'a Scheduler,
    key: Key,
    rx: oneshot::Receiver<Admission>,
    settled: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let mut state = self.scheduler.lock();
        if state.waiting.remove(&self.key).is_some() {
            self.scheduler.depth.set(state.waiting.len() as i64);
        } else if let Ok(Admission::Granted) = self.rx.try_recv() {
            // Granted after the caller gave up: pass the slot on.
            self.scheduler.release(&mut state);
        }
    }
}

#[cfg(test)]
mod tests;
