//! `just bench failover`: the failover test's rush (`registratura_e2e::failover`: a primary, a
//! replica and three sentinels; two gateways in this process; 1 000 patients on 100 tickets)
//! with the primary killed 0.3 s in: the seconds without writes, the answers by kind, and the
//! bookings a second before the kill and after writes resumed.

use crate::report::Report;
use std::collections::BTreeMap;
use std::time::Instant;

pub async fn run(report: &mut Report) {
    let Some(rush) = registratura_e2e::failover::rush_through("-KILL").await else {
        report
            .note("SKIPPED failover: redis-server is not installed (apt-get install redis-server)");
        return;
    };
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut booked: Vec<Instant> = Vec::new();
    for told in &rush.told {
        for (n, (status, what)) in told.answers.iter().enumerate() {
            let kind = if *status == 201 {
                "201 booked".to_owned()
            } else {
                format!("{status} {what}")
            };
            *kinds.entry(kind).or_default() += 1;
            if *status == 201 {
                booked.push(told.times[n]);
            }
        }
    }
    booked.sort();
    let before: Vec<&Instant> = booked.iter().filter(|t| **t < rush.lost_at).collect();
    let after: Vec<&Instant> = booked.iter().filter(|t| **t >= rush.lost_at).collect();
    let last_before = before.last().map_or(rush.lost_at, |t| **t);
    let without = after
        .first()
        .map(|first| first.saturating_duration_since(last_before));
    let per_second = |n: usize, secs: f64| {
        if secs > 0.0 {
            format!("{:.0}/s", n as f64 / secs)
        } else {
            "—".to_owned()
        }
    };
    let rate_before = per_second(
        before.len(),
        last_before
            .saturating_duration_since(rush.started)
            .as_secs_f64(),
    );
    let rate_after = match (after.first(), after.last()) {
        (Some(first), Some(last)) if after.len() > 1 => per_second(
            after.len() - 1,
            last.saturating_duration_since(**first).as_secs_f64(),
        ),
        _ => "—".to_owned(),
    };
    report.row(
        "failover: bookings before the kill / after writes resumed",
        &format!(
            "{} at {rate_before} / {} at {rate_after}",
            before.len(),
            after.len()
        ),
        "—",
        "—",
    );
    report.row(
        "failover: every answer by kind (a patient retries a 503 after Retry-After)",
        &kinds
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        "—",
        "—",
    );
    let held = rush.sandbox.store().booked_slots().map_or(0, |s| s.len());
    let what = "failover (SIGKILL of the Redis primary 0.3 s into a rush of 1 000 patients on 100 tickets, two gateways in one process on three sentinels, down-after 1 s): seconds without writes";
    let aim = report.aim(
        what,
        "each ticket booked once, writes back within 12 s",
        Some(
            held == 100
                && booked.len() == 100
                && without.is_some_and(|w| w < registratura_e2e::failover::RESUME_WITHIN),
        ),
    );
    report.row(
        what,
        &without.map_or("no booking after the kill".to_owned(), |w| {
            format!("{:.2} s", w.as_secs_f64())
        }),
        "—",
        &aim,
    );
}
