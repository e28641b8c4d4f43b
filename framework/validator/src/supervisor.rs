//! Runs every hosted subnet's loop side by side: one failing or panicking subnet is logged,
//! counted and carries on; it never stops the others.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;
use tokio::sync::watch;

use crate::metrics::Metrics;
use crate::subnet::{RoundError, SubnetRunner};

/// Runs each runner's rounds at its interval until `shutdown` turns true, then returns.
pub async fn run_subnets(runners: Vec<SubnetRunner>, metrics: Arc<Metrics>, shutdown: watch::Receiver<bool>) {
    let tasks: Vec<_> = runners
        .into_iter()
        .map(|runner| tokio::spawn(run_one(runner, Arc::clone(&metrics), shutdown.clone())))
        .collect();
    for task in tasks {
        if let Err(error) = task.await {
            tracing::error!(%error, "a subnet loop ended abnormally");
        }
    }
}

async fn run_one(mut runner: SubnetRunner, metrics: Arc<Metrics>, mut shutdown: watch::Receiver<bool>) {
    let netuid = runner.netuid();
    let mut failures: u32 = 0;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let wait = match AssertUnwindSafe(runner.round()).catch_unwind().await {
            Ok(Ok(report)) => {
                failures = 0;
                tracing::info!(
                    netuid,
                    round = ?report.round,
                    queried = report.queried,
                    answered = report.answered,
                    settled = report.settled,
                    weights_at = ?report.weights_at,
                    "round"
                );
                runner.round_interval()
            }
            Ok(Err(RoundError::Idle(reason))) => {
                tracing::info!(netuid, %reason, "waiting");
                runner.round_interval()
            }
            Ok(Err(error)) => {
                failures = failures.saturating_add(1);
                metrics.round_error(netuid);
                tracing::warn!(netuid, %error, failures, "round failed");
                backoff(runner.round_interval(), failures)
            }
            Err(panic) => {
                failures = failures.saturating_add(1);
                metrics.panic(netuid);
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|text| (*text).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(no message)".to_owned());
                tracing::error!(netuid, %message, "the subnet loop panicked; it goes on");
                backoff(runner.round_interval(), failures)
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// The interval, doubled per consecutive failure, at most a minute longer than it.
fn backoff(interval: Duration, failures: u32) -> Duration {
    let extra = interval.saturating_mul(1 << failures.min(6)).min(Duration::from_secs(60));
    interval + extra
}
