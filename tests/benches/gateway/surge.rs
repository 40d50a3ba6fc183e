//! `just bench surge`: the release morning at one gateway. 10 000 identified patients book at
//! once for 1 000 tickets, each on a connection of its own opened at the same moment, and each
//! rides out `503 overloaded`, `429` and resets as the widget does (the same
//! `Idempotency-Key`, pauses of 1, 2, 4, 8 s ±50 %, at most eight tries). Every patient must
//! end with `201` or `409 slot_taken`, each ticket booked once, never a `408` or anything else.

use crate::child::Gateway;
use crate::report::Report;
use futures_util::StreamExt;
use std::path::Path;
use std::time::{Duration, Instant};

const PATIENTS: usize = 10_000;
const TICKETS: usize = 1_000;
/// The widget's tries ([`widget::api::SURGE_TRIES`]).
const TRIES: u32 = 8;

/// How one patient's booking ended.
#[derive(Debug, Default, Clone)]
struct Patient {
    outcome: String,
    tries: u32,
    overloaded: u32,
    resets: u32,
    took: Duration,
}

/// The widget's pause before try `n + 1` (`widget::api::surge_pause_ms`): the gateway's
/// `Retry-After` where it gave one, else 1, 2, 4, 8 s; either ±50 %.
fn pause(n: u32, retry_after: Option<u64>) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let base = retry_after.map_or(1_000u64 << n.min(3), |s| s.clamp(1, 60) * 1_000);
    // A random number from the standard library's randomly keyed hasher.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(n);
    Duration::from_millis(base / 2 + hasher.finish() % (base + 1))
}

async fn book(client: &reqwest::Client, api: &str, token: &str, slot: &str, key: &str) -> Patient {
    let started = Instant::now();
    let mut p = Patient::default();
    loop {
        p.tries += 1;
        let answer = client
            .post(format!("{api}/tickets"))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&serde_json::json!({ "slot_id": slot }))
            .send()
            .await;
        let mut after: Option<u64> = None;
        let passing = match answer {
            Err(_) => {
                p.resets += 1;
                p.outcome = "reset".into();
                true
            }
            Ok(r) if r.status() == 201 => {
                p.outcome = "booked".into();
                false
            }
            Ok(r) => {
                let status = r.status().as_u16();
                after = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()?.parse().ok());
                let code = r
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|v| v["code"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| format!("{status} without a problem"));
                if code == "overloaded" {
                    p.overloaded += 1;
                }
                let passing = matches!(code.as_str(), "overloaded" | "too_many_requests");
                p.outcome = code;
                passing
            }
        };
        if !passing || p.tries == TRIES {
            p.took = started.elapsed();
            return p;
        }
        tokio::time::sleep(pause(p.tries - 1, after)).await;
    }
}

/// The sum of a metric's samples in the gateway at `base`'s `/metrics`.
async fn metric(client: &reqwest::Client, base: &str, prefix: &str) -> f64 {
    registratura_e2e::metric(&registratura_e2e::metrics_text(client, base).await, prefix)
}

/// The surge against the gateway directly, then behind nginx as `nginx-prefix.conf` sets it.
pub async fn run(report: &mut Report, dir: &Path) {
    surge(report, dir, false).await;
    let behind = dir.join("behind-nginx");
    std::fs::create_dir_all(&behind).expect("writable");
    surge(report, &behind, true).await;
}

async fn surge(report: &mut Report, dir: &Path, behind_nginx: bool) {
    let (sandbox, sandbox_url) = registratura_e2e::start_sandbox();
    let gateway = Gateway::start(dir, &crate::gateway_config(&sandbox_url, 300, 0));
    let nginx = behind_nginx
        .then(|| crate::child::Nginx::in_front_of(dir, &gateway.base).expect("nginx starts"));
    let front = nginx.as_ref().map_or(gateway.base.clone(), |n| {
        format!("http://127.0.0.1:{}/registratura", n.port)
    });
    let api = format!("{front}/api/v1/clinics/demo");
    let birth = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
    let people: Vec<(String, String)> = (0..PATIENTS)
        .map(|i| {
            let (document, policy) = (format!("91{i:08}"), format!("91{i:014}"));
            sandbox
                .store()
                .add_patient(&format!("surge-{i}"), &document, &policy, birth)
                .expect("added");
            (document, policy)
        })
        .collect();
    let pooled = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("a client");
    let slots = crate::free_slots(&pooled, &api, TICKETS).await;
    // Identified beforehand, 64 at a time (the morning's patients logged in while waiting).
    let tokens: Vec<String> = futures_util::stream::iter(people.iter())
        .map(|(document, policy)| {
            let (client, api) = (pooled.clone(), api.clone());
            async move {
                loop {
                    let r = client
                        .post(format!("{api}/sessions"))
                        .json(&serde_json::json!({"document_number": document, "policy_number": policy, "birth_date": "1970-01-01"}))
                        .send()
                        .await
                        .expect("answers");
                    if r.status() == 201 {
                        let v: serde_json::Value = r.json().await.expect("a session");
                        return v["token"].as_str().expect("a token").to_owned();
                    }
                    assert_eq!(r.status(), 503, "identified or told to retry");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        })
        .buffered(64)
        .collect()
        .await;
    let calls_before = metric(&pooled, &gateway.base, "registratura_mis_calls_total").await;
    // A connection of its own for every patient, all opened at once.
    let phones = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("a client");
    let started = Instant::now();
    let patients = futures_util::future::join_all(tokens.iter().enumerate().map(|(i, token)| {
        let (client, api, slot) = (phones.clone(), api.clone(), slots[i % TICKETS].clone());
        async move { book(&client, &api, token, &slot, &format!("surge-{i}")).await }
    }))
    .await;
    let wall = started.elapsed();
    let calls = metric(&pooled, &gateway.base, "registratura_mis_calls_total").await - calls_before;

    let count = |what: &str| patients.iter().filter(|p| p.outcome == what).count();
    let (booked, taken) = (count("booked"), count("slot_taken"));
    let others: Vec<&Patient> = patients
        .iter()
        .filter(|p| p.outcome != "booked" && p.outcome != "slot_taken")
        .collect();
    assert!(
        others.is_empty(),
        "every patient ends with a ticket or «taken»: {} did not, e.g. {:?}",
        others.len(),
        others.first()
    );
    assert_eq!((booked, taken), (TICKETS, PATIENTS - TICKETS));
    let held = sandbox.store().booked_slots().expect("readable");
    let unique: std::collections::BTreeSet<&String> = held.iter().collect();
    assert_eq!(unique.len(), held.len(), "each ticket booked once");
    let mut took: Vec<Duration> = patients.iter().map(|p| p.took).collect();
    took.sort();
    let at = |q: f64| took[((took.len() as f64 - 1.0) * q) as usize];
    let overloaded: u32 = patients.iter().map(|p| p.overloaded).sum();
    let resets: u32 = patients.iter().map(|p| p.resets).sum();
    let retried = patients.iter().filter(|p| p.tries > 1).count();
    let most = patients.iter().map(|p| p.tries).max().unwrap_or(0);
    let what = if behind_nginx {
        "the same behind nginx (`examples/deploy/nginx-prefix.conf`, plain HTTP)"
    } else {
        "surge: 10 000 patients book at once for 1 000 tickets, a connection each, retrying as the widget does"
    };
    let verdict = report.aim(
        what,
        "all answered within 10 s",
        Some(wall <= Duration::from_secs(10)),
    );
    report.row(
        what,
        &format!(
            "{booked} booked, {taken} `slot_taken`, nothing else, in {:.1} s (a patient's answer: p50 {:.2} s, p99 {:.2} s)",
            wall.as_secs_f64(),
            at(0.5).as_secs_f64(),
            at(0.99).as_secs_f64()
        ),
        &format!(
            "{overloaded} `503 overloaded` and {resets} resets seen; {retried} patients retried (at most {most} tries); {:.2} МИС calls a patient",
            calls / PATIENTS as f64
        ),
        &verdict,
    );
}
