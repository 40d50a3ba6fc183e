//! The guard's circuit breaker: after repeated failures to reach the МИС it answers at once;
//! a probe in the background closes it when the МИС answers again; other gateways are told, and
//! told this one, through the [`OutageHint`] port.

use crate::shared::OutageHint;
use mis::{Mis, MisError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

/// The breaker's state, for `/readyz` and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
}

#[derive(Debug, Default)]
pub(super) struct Breaker {
    pub(super) failures: AtomicU32,
    pub(super) open: AtomicBool,
}

/// Failures that say the МИС cannot be reached (as opposed to a refusal or a bad answer).
pub(super) fn is_outage(e: &MisError) -> bool {
    matches!(e, MisError::Unavailable(_) | MisError::OutcomeUnknown(_))
}

/// Probes the МИС every `interval` until it answers, then closes the breaker (and tells the
/// other gateways). `gauged`: the clinic's breaker is a series of its own in the metrics (a
/// region's clinics are counted at a scrape instead).
pub(super) fn spawn_probe(
    inner: Arc<dyn Mis>,
    breaker: Arc<Breaker>,
    interval: Duration,
    clinic: String,
    gauged: bool,
    outages: Arc<dyn OutageHint>,
) {
    tokio::spawn(async move {
        loop {
            if outages.enabled() {
                outages.report_down(&clinic, interval * 5).await;
            }
            tokio::time::sleep(interval).await;
            if inner.version().await.is_ok() {
                breaker.failures.store(0, Ordering::Release);
                breaker.open.store(false, Ordering::Release);
                tracing::info!(%clinic, "МИС answers again; circuit breaker closed");
                if gauged {
                    crate::metrics::breaker(&clinic, false);
                }
                if outages.enabled() {
                    outages.report_up(&clinic).await;
                }
                return;
            }
        }
    });
}

/// Opens `breaker` when another gateway reports the МИС down (checked every second, while
/// the breaker lives), and probes until the МИС answers.
pub(super) fn watch_outages(
    breaker: &Arc<Breaker>,
    inner: Arc<dyn Mis>,
    outages: Arc<dyn OutageHint>,
    interval: Duration,
    clinic: String,
    gauged: bool,
) {
    let breaker = Arc::downgrade(breaker);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let Some(breaker) = breaker.upgrade() else {
                return;
            };
            if !breaker.open.load(Ordering::Acquire) && outages.is_down(&clinic).await {
                if breaker.open.swap(true, Ordering::AcqRel) {
                    continue;
                }
                tracing::warn!(%clinic, "another gateway found the МИС down; circuit breaker opened");
                if gauged {
                    crate::metrics::breaker(&clinic, true);
                }
                spawn_probe(
                    inner.clone(),
                    breaker,
                    interval,
                    clinic.clone(),
                    gauged,
                    outages.clone(),
                );
            }
        }
    });
}
