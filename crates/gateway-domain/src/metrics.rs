//! Metrics in the Prometheus text format (the shell serves them at `GET /metrics`), with the
//! ecosystem's `metrics` facade and its Prometheus exporter: the recorder, and what the domain
//! records. Every name starts with `registratura_`; counters end in `_total`, durations in
//! `_seconds` (histograms). The shell records its requests' own through the same recorder.
//!
//! A series is never made per thing a client or a МИС can multiply: a region's clinics are
//! labelled with the region's id (`clinic="spb"`: a region of ten thousand clinics is one
//! series, not ten thousand), and which of them fails is in the log and on the status page.
//!
//! | metric | labels |
//! | --- | --- |
//! | `registratura_http_requests_total` | `route` (the pattern matched), `method` (HTTP's own, else `OTHER`), `status` |
//! | `registratura_http_request_duration_seconds` | `route`, `method` |
//! | `registratura_mis_calls_total` | `clinic`, `operation`, `outcome` (`ok`, `refused`, `unavailable`, `unknown`: a write's answer lost, `bad_response`) |
//! | `registratura_mis_call_duration_seconds` | `clinic`, `operation` |
//! | `registratura_mis_breaker_open` | `clinic` (1 open, 0 closed; for a region, how many of its clinics' breakers are open) |
//! | `registratura_mis_in_flight` | `bound` (a clinic, a region, or `all`): requests holding a place among the МИС calls |
//! | `registratura_overloaded_total` | `bound` (a clinic, a region, `<region>:clinics` for its clinics' own bounds, `all`, or `budget`: an answer across clinics that spent its calls): calls not made |
//! | `registratura_cache_requests_total` | `cache`, `result` (`hit`, `miss`) |
//! | `registratura_rate_limited_total` | `class` |
//! | `registratura_identifications_total` | `clinic`, `outcome` |
//! | `registratura_bookings_total` | `clinic`, `outcome` (`booked` or the problem code) |
//! | `registratura_cancellations_total` | `clinic`, `outcome` |
//! | `registratura_reschedules_total` | `clinic`, `outcome` (`rescheduled`, `replayed` or the problem code) |
//! | `registratura_waiting_list_total` | `clinic`, `operation` (`join`, `leave`), `outcome` |
//! | `registratura_sessions`, `registratura_idempotency_keys` | |
//! | `registratura_rate_limit_clients` | `class` (clients remembered) |
//! | `registratura_build_info` | `version` |
//! | `registratura_log_lines_dropped_total` | (log lines dropped because the writer fell behind) |
//! | `registratura_log_lines_suppressed_total` | (lines about clients that never sent a valid request, past the few a second written) |

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// Buckets of the duration histograms, in seconds: from a cached answer to a slow МИС.
const BUCKETS: &[f64] = &[
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// How many durations may be recorded between two countings, at most: the exporter keeps each
/// one (8 bytes) until it is counted, so with nobody reading `/metrics` and no counting they
/// would grow without bound. The thread that records the one that reaches this counts them
/// itself (a scrape of `/metrics` counts them too), so no thread of its own is needed.
const SAMPLES_KEPT: u64 = 64 * 1024;

static SAMPLES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Installs the process's recorder (once); later calls reuse it.
pub fn install() {
    HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .ok()?
            .install_recorder()
            .ok()?;
        gauge!("registratura_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        Some(handle)
    });
}

fn upkeep(handle: &PrometheusHandle) {
    SAMPLES.store(0, std::sync::atomic::Ordering::Relaxed);
    handle.run_upkeep();
}

/// Notes that a duration was recorded (every `histogram!` of the process calls it), counting
/// the recorded ones into their buckets when [`SAMPLES_KEPT`] are waiting.
pub fn sampled() {
    let waiting = SAMPLES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if waiting + 1 >= SAMPLES_KEPT
        && let Some(handle) = HANDLE.get().and_then(Option::as_ref)
    {
        upkeep(handle);
    }
}

/// The metrics in the Prometheus text format.
pub fn render() -> String {
    match HANDLE.get().and_then(Option::as_ref) {
        Some(handle) => {
            handle.run_upkeep();
            handle.render()
        }
        None => String::new(),
    }
}

pub fn mis_call(clinic: &str, operation: &'static str, outcome: &'static str, took: Duration) {
    counter!("registratura_mis_calls_total", "clinic" => clinic.to_owned(), "operation" => operation, "outcome" => outcome)
        .increment(1);
    histogram!("registratura_mis_call_duration_seconds", "clinic" => clinic.to_owned(), "operation" => operation)
        .record(took.as_secs_f64());
    sampled();
}

/// A request told to retry: the МИС of `bound` (a clinic, or `all`) was at its capacity.
pub fn overloaded(bound: &str) {
    counter!("registratura_overloaded_total", "bound" => bound.to_owned()).increment(1);
}

/// How many requests hold a place among the МИС calls of `bound` (a clinic, or `all`).
pub fn in_flight(bound: &str, count: usize) {
    gauge!("registratura_mis_in_flight", "bound" => bound.to_owned()).set(count as f64);
}

pub fn breaker(clinic: &str, open: bool) {
    gauge!("registratura_mis_breaker_open", "clinic" => clinic.to_owned())
        .set(f64::from(u8::from(open)));
}

/// How many of `region`'s clinics have their breaker open (counted when the metrics are read).
pub fn region_breakers(region: &str, open: usize) {
    gauge!("registratura_mis_breaker_open", "clinic" => region.to_owned()).set(open as f64);
}

pub fn cache(cache: &'static str, hit: bool) {
    counter!("registratura_cache_requests_total", "cache" => cache, "result" => if hit { "hit" } else { "miss" })
        .increment(1);
}

pub fn rate_limited(class: &'static str) {
    counter!("registratura_rate_limited_total", "class" => class).increment(1);
}

pub fn identification(clinic: &str, outcome: &'static str) {
    counter!("registratura_identifications_total", "clinic" => clinic.to_owned(), "outcome" => outcome)
        .increment(1);
}

pub fn booking(clinic: &str, outcome: &'static str) {
    counter!("registratura_bookings_total", "clinic" => clinic.to_owned(), "outcome" => outcome)
        .increment(1);
}

pub fn reschedule(clinic: &str, outcome: &'static str) {
    counter!("registratura_reschedules_total", "clinic" => clinic.to_owned(), "outcome" => outcome)
        .increment(1);
}

pub fn waiting_list(clinic: &str, operation: &'static str, outcome: &'static str) {
    counter!("registratura_waiting_list_total", "clinic" => clinic.to_owned(), "operation" => operation, "outcome" => outcome)
        .increment(1);
}

pub fn cancellation(clinic: &str, outcome: &'static str) {
    counter!("registratura_cancellations_total", "clinic" => clinic.to_owned(), "outcome" => outcome)
        .increment(1);
}

/// Sets the gauges of what the gateway holds (what a shared store holds is not counted here).
pub fn holdings(
    sessions: Option<u64>,
    idempotency_keys: Option<usize>,
    clients: &[(&'static str, usize)],
) {
    if let Some(n) = sessions {
        gauge!("registratura_sessions").set(n as f64);
    }
    if let Some(n) = idempotency_keys {
        gauge!("registratura_idempotency_keys").set(n as f64);
    }
    for (class, n) in clients {
        gauge!("registratura_rate_limit_clients", "class" => *class).set(*n as f64);
    }
}
