use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::gauge::Gauge;

use super::{Refused, Scheduler};

const LONG: Duration = Duration::from_secs(3600);

fn scheduler(concurrency: usize, capacity: usize) -> Arc<Scheduler> {
    Arc::new(Scheduler::new(concurrency, capacity, Gauge::default()))
}

/// Lets spawned waiters run until they block.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn serves_waiters_by_stake_then_arrival() {
    let queue = scheduler(1, 8);
    let running = queue.acquire(0, LONG).await.expect("a free slot");
    let (order_tx, mut order_rx) = tokio::sync::mpsc::unbounded_channel();
    for (name, stake) in [("low", 1), ("high-first", 9), ("mid", 5), ("high-second", 9)] {
        let queue = Arc::clone(&queue);
        let order_tx = order_tx.clone();
        tokio::spawn(async move {
            let slot = queue.acquire(stake, LONG).await.expect("admitted");
            order_tx.send(name).expect("the test listens");
            drop(slot);
        });
        settle().await;
    }
    assert_eq!(queue.depth(), 4);
    drop(running);
    let mut order = Vec::new();
    for _ in 0..4 {
        order.push(order_rx.recv().await.expect("every waiter runs"));
    }
    assert_eq!(order, ["high-first", "high-second", "mid", "low"]);
    assert_eq!(queue.depth(), 0);
    queue.acquire(0, LONG).await.expect("every slot was given back");
}

#[tokio::test]
async fn a_full_queue_evicts_the_lowest_stake_or_refuses() {
    let queue = scheduler(1, 1);
    let _running = queue.acquire(0, LONG).await.expect("a free slot");
    let low = tokio::spawn({
        let queue = Arc::clone(&queue);
        async move { queue.acquire(1, LONG).await.map(drop) }
    });
    settle().await;
    assert_eq!(queue.acquire(1, LONG).await.err(), Some(Refused::Full), "equal stake does not evict");
    let high = tokio::spawn({
        let queue = Arc::clone(&queue);
        async move { queue.acquire(2, LONG).await.map(drop) }
    });
    settle().await;
    assert_eq!(low.await.expect("no panic"), Err(Refused::Evicted));
    assert_eq!(queue.depth(), 1);
    drop(_running);
    assert_eq!(high.await.expect("no panic"), Ok(()));
}

#[tokio::test(start_paused = true)]
async fn a_waiter_that_times_out_leaves_the_queue() {
    let queue = scheduler(1, 1);
    let running = queue.acquire(0, LONG).await.expect("a free slot");
    assert_eq!(queue.acquire(5, Duration::from_secs(1)).await.err(), Some(Refused::TimedOut));
    assert_eq!(queue.depth(), 0);
    drop(running);
    let again = queue.acquire(0, Duration::from_secs(1)).await;
    assert!(again.is_ok(), "the slot was freed, not leaked");
}

#[tokio::test]
async fn zero_capacity_admits_only_into_free_slots() {
    let queue = scheduler(2, 0);
    let first = queue.acquire(0, LONG).await.expect("slot 1");
    let _second = queue.acquire(0, LONG).await.expect("slot 2");
    assert_eq!(queue.acquire(u64::MAX, LONG).await.err(), Some(Refused::Full));
    drop(first);
    assert!(queue.acquire(0, LONG).await.is_ok());
}
