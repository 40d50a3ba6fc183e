//! The Prometheus exporter of the metrics the domain and the shell record through the
//! `metrics` facade (their names and labels are listed in `gateway_domain::metrics`): the
//! process's recorder, and the text the shell serves at `GET /metrics`.
//!
//! Bounded: the exporter keeps each duration recorded (8 bytes) until it is counted into its
//! buckets, so with nobody reading `/metrics` they would grow without bound. The recorder
//! installed here counts the durations recorded, and the one that makes [`SAMPLES_KEPT`] waiting
//! counts them all into their buckets (a scrape counts them too): no thread of its own.

use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// Buckets of the duration histograms, in seconds: from a cached answer to a slow МИС.
const BUCKETS: &[f64] = &[
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How many durations may be recorded between two countings, at most.
pub const SAMPLES_KEPT: u64 = 64 * 1024;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
static SAMPLES: AtomicU64 = AtomicU64::new(0);

/// Counts the durations waiting to be counted into their buckets.
fn sampled(count: u64) {
    let waiting = SAMPLES.fetch_add(count, Ordering::Relaxed);
    if waiting + count >= SAMPLES_KEPT
        && let Some(handle) = HANDLE.get().and_then(Option::as_ref)
    {
        SAMPLES.store(0, Ordering::Relaxed);
        handle.run_upkeep();
    }
}

/// A histogram of the exporter's, each of whose records is counted.
struct Counted(Histogram);

impl HistogramFn for Counted {
    fn record(&self, value: f64) {
        self.0.record(value);
        sampled(1);
    }

    fn record_many(&self, value: f64, count: usize) {
        self.0.record_many(value, count);
        sampled(u64::try_from(count).unwrap_or(u64::MAX));
    }
}

/// The exporter's recorder, its histograms counted.
#[derive(Debug)]
struct Counting<R>(R);

impl<R: Recorder> Recorder for Counting<R> {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_counter(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_gauge(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_histogram(key, unit, description);
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        self.0.register_counter(key, metadata)
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.0.register_gauge(key, metadata)
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(Counted(self.0.register_histogram(key, metadata))))
    }
}

/// Installs the process's recorder (once); later calls reuse it.
pub fn install() {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .ok()?
            .build_recorder();
        let handle = recorder.handle();
        metrics::set_global_recorder(Counting(recorder)).ok()?;
        metrics::gauge!("registratura_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        Some(handle)
    });
}

/// The metrics in the Prometheus text format (empty before [`install`]).
pub fn render() -> String {
    match HANDLE.get().and_then(Option::as_ref) {
        Some(handle) => {
            handle.run_upkeep();
            handle.render()
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_durations_is_counted_into_buckets_without_a_scrape() {
        install();
        for i in 0..3 * SAMPLES_KEPT {
            metrics::histogram!("registratura_test_flood_seconds").record(i as f64 * 1e-6);
            assert!(
                SAMPLES.load(Ordering::Relaxed) < SAMPLES_KEPT,
                "durations wait to be counted past the bound"
            );
        }
        let text = render();
        assert!(
            text.contains(&format!(
                "registratura_test_flood_seconds_count {}",
                3 * SAMPLES_KEPT
            )),
            "every duration counted: {}",
            text.lines()
                .filter(|l| l.contains("flood"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert!(text.contains("registratura_build_info"));
    }
}
