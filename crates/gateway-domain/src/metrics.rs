//! What the domain records, through the ecosystem's `metrics` facade (the recorder, a
//! Prometheus exporter, is `gateway_state::metrics`'s; the shell serves its text at
//! `GET /metrics`). Every name starts with `registratura_`; counters end in `_total`, durations
//! in `_seconds` (histograms). The shell records its requests' own through the same recorder.
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
use std::time::Duration;

pub fn mis_call(clinic: &str, operation: &'static str, outcome: &'static str, took: Duration) {
    counter!("registratura_mis_calls_total", "clinic" => clinic.to_owned(), "operation" => operation, "outcome" => outcome)
        .increment(1);
    histogram!("registratura_mis_call_duration_seconds", "clinic" => clinic.to_owned(), "operation" => operation)
        .record(took.as_secs_f64());
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

/// Counts a ticket e-mailed (`kind`: booked, cancelled) and its outcome (`sent`,
/// `mail_unavailable`). No address is ever a label.
pub fn mail(kind: &'static str, outcome: &'static str) {
    counter!("registratura_mail_total", "kind" => kind, "outcome" => outcome).increment(1);
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
