//! `just bench region`: a region's release morning. 2 000 tickets of four clinics of the
//! sandbox's region are free at the start (released at once); 20 000 patients arrive over 60
//! seconds, spread over the region's districts and clinics. Each browses (the districts, a
//! district's clinics, a clinic's specialties), identifies once for the region and books one
//! ticket with an `Idempotency-Key`; a tenth of them are bots that send the same booking again
//! every second (five times in all, to either gateway). Run on one gateway (state in memory)
//! and on two sharing one Redis, side by side. The run fails unless every ticket is booked
//! exactly once (the sandbox's МИС holds each once, none lost) and every answer is a `2xx`,
//! `409 slot_taken` or `429`.

use crate::child::Gateway;
use crate::report::Report;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PATIENTS: usize = 20_000;
const TICKETS: usize = 2_000;
const ARRIVAL: Duration = Duration::from_secs(60);
/// The clinics whose tickets are released, with their districts (the slow and the failing
/// clinic, and the inactive one, take none).
const CLINICS: [(i32, i32); 4] = [(1, 1), (2, 1), (3, 2), (5, 3)];
/// A bot's tries of the same booking, a second apart.
const BOT_TRIES: u32 = 5;

/// The gateways' configuration: the benchmark's own sandbox as the region `msk`, no client
/// limits, one session key for all gateways; on Redis at `redis` when given.
fn config(sandbox: &str, redis: Option<(u16, &str)>) -> String {
    let mut text = crate::gateway_config(sandbox, 300, 0).replace(
        "identify_min_ms = 0",
        &format!("identify_min_ms = 0\nsession_key = \"{}\"", "5e".repeat(32)),
    );
    if let Some((port, prefix)) = redis {
        text = text.replace(
            "[cache]",
            &format!("[state]\nredis_url = \"redis://127.0.0.1:{port}/0\"\nprefix = \"{prefix}\"\n\n[cache]"),
        );
    }
    text.push_str(&format!(
        r#"
[[regions]]
id = "msk"
name = "Москва"
endpoint = "{sandbox}/HubService.svc"
guid = "{guid}"
"#,
        guid = sandbox_mis::DEFAULT_GUID
    ));
    text
}

/// What one patient met.
#[derive(Debug, Default)]
struct Patient {
    /// The booking's outcome (`booked`, or the problem's code).
    outcome: String,
    /// The first booking call's time.
    booking: Duration,
    /// Every answer that was not a `2xx`, `409 slot_taken` or `429`: `status code`.
    unexpected: Vec<String>,
    /// A bot's later answers that differed from its first.
    changed: u32,
}

/// The code of an answer: `ok` for a `2xx`, else its problem's code.
async fn code_of(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    if (200..300).contains(&status) {
        return (status, "ok".into());
    }
    let code = r
        .json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "(no problem document)".into());
    (status, code)
}

fn expected(status: u16, code: &str) -> bool {
    (200..300).contains(&status) || code == "slot_taken" || status == 429
}

/// A `GET` that must answer as a patient's browsing does.
async fn browse(client: &reqwest::Client, url: String, p: &mut Patient) {
    match client.get(&url).send().await {
        Ok(r) => {
            let (status, code) = code_of(r).await;
            if !expected(status, &code) {
                p.unexpected.push(format!("{status} {code} ({url})"));
            }
        }
        Err(e) => p.unexpected.push(format!("no answer: {e}")),
    }
}

/// A region session; `None` when it could not be opened.
async fn identify(
    client: &reqwest::Client,
    base: &str,
    i: usize,
    p: &mut Patient,
) -> Option<String> {
    for _ in 0..5 {
        let r = client
            .post(format!("{base}/api/v1/regions/msk/sessions"))
            .json(&serde_json::json!({
                "document_number": format!("92{i:08}"),
                "policy_number": format!("92{i:014}"),
                "birth_date": "1970-01-01",
            }))
            .send()
            .await;
        match r {
            Ok(r) if r.status() == 201 => {
                let v: serde_json::Value = r.json().await.ok()?;
                return v["token"].as_str().map(str::to_owned);
            }
            Ok(r) => {
                let (status, code) = code_of(r).await;
                if status != 429 {
                    p.unexpected
                        .push(format!("{status} {code} (identification)"));
                    return None;
                }
            }
            Err(e) => p.unexpected.push(format!("no answer: {e}")),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    None
}

/// One patient's morning, against `bases` (a bot's later tries go to the next gateway).
async fn patient(
    client: reqwest::Client,
    bases: Arc<Vec<String>>,
    i: usize,
    (lpu, district, slot): (i32, i32, String),
) -> Patient {
    let mut p = Patient::default();
    let base = &bases[i % bases.len()];
    browse(
        &client,
        format!("{base}/api/v1/regions/msk/districts"),
        &mut p,
    )
    .await;
    browse(
        &client,
        format!("{base}/api/v1/regions/msk/clinics?district={district}"),
        &mut p,
    )
    .await;
    browse(
        &client,
        format!("{base}/api/v1/clinics/msk-{lpu}/specialties"),
        &mut p,
    )
    .await;
    let Some(token) = identify(&client, base, i, &mut p).await else {
        p.outcome = "not identified".into();
        return p;
    };
    let bot = i.is_multiple_of(10);
    let tries = if bot { BOT_TRIES } else { 1 };
    let mut first: Option<(u16, String)> = None;
    for n in 0..tries {
        let base = &bases[(i + n as usize) % bases.len()];
        let started = Instant::now();
        let answer = client
            .post(format!("{base}/api/v1/clinics/msk-{lpu}/tickets"))
            .bearer_auth(&token)
            .header("Idempotency-Key", format!("region-{i}"))
            .json(&serde_json::json!({ "slot_id": slot }))
            .send()
            .await;
        let took = started.elapsed();
        let (status, code) = match answer {
            Ok(r) => code_of(r).await,
            Err(e) => (0, format!("no answer: {e}")),
        };
        if !expected(status, &code) {
            p.unexpected.push(format!("{status} {code} (booking)"));
        }
        match &first {
            None => {
                p.booking = took;
                p.outcome = if status == 201 {
                    "booked".into()
                } else {
                    code.clone()
                };
                first = Some((status, code));
            }
            Some(f) if *f != (status, code) && status != 429 => p.changed += 1,
            Some(_) => {}
        }
        if n + 1 < tries {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    p
}

/// The sum over `bases` of the МИС calls counted by `registratura_mis_calls_total` whose
/// labels contain `filter` (all with `""`).
async fn calls(client: &reqwest::Client, bases: &[String], filter: &str) -> f64 {
    let mut sum = 0.0;
    for base in bases {
        let text = registratura_e2e::metrics_text(client, base).await;
        sum += text
            .lines()
            .filter(|l| l.starts_with("registratura_mis_calls_total") && l.contains(filter))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>();
    }
    sum
}

/// What one setting measured.
struct Morning {
    booked: usize,
    taken: usize,
    unexpected: Vec<String>,
    changed: u32,
    p50: Duration,
    p99: Duration,
    writes_per_booking: f64,
    reads_per_booking: f64,
    memory_mb: f64,
    wall: Duration,
}

/// The morning on `gateways` (all of one setting), over a fresh sandbox region.
async fn morning(dir: &Path, redis: Option<u16>, gateways: usize) -> Morning {
    let (sandbox, sandbox_url) = registratura_e2e::start_sandbox();
    let birth = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
    for (lpu, _) in CLINICS {
        let store = sandbox.clinic_store(lpu);
        for i in 0..PATIENTS {
            let (document, policy) = (format!("92{i:08}"), format!("92{i:014}"));
            store
                .add_patient(&format!("region-{i}"), &document, &policy, birth)
                .expect("added");
        }
    }
    let text = config(&sandbox_url, redis.map(|port| (port, "region-morning")));
    let running: Vec<Gateway> = (0..gateways).map(|_| Gateway::start(dir, &text)).collect();
    let bases: Vec<String> = running.iter().map(|g| g.base.clone()).collect();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("a client");
    for base in &bases {
        let started = Instant::now();
        while client
            .get(format!("{base}/api/v1/regions/msk/districts"))
            .send()
            .await
            .map_or(true, |r| r.status() != 200)
        {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the region was never read"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let mut tickets = Vec::new();
    for (lpu, district) in CLINICS {
        let api = format!("{}/api/v1/clinics/msk-{lpu}", bases[0]);
        for slot in crate::free_slots(&client, &api, TICKETS / CLINICS.len()).await {
            tickets.push((lpu, district, slot));
        }
    }
    assert_eq!(
        tickets.len(),
        TICKETS,
        "the sandbox's region has the tickets"
    );
    let before = (
        calls(&client, &bases, "").await,
        calls(&client, &bases, "operation=\"book\"").await,
    );
    let bases = Arc::new(bases);
    let started = Instant::now();
    let tasks: Vec<_> = (0..PATIENTS)
        .map(|i| {
            let (client, bases, ticket) =
                (client.clone(), bases.clone(), tickets[i % TICKETS].clone());
            let at = started + ARRIVAL.mul_f64(i as f64 / PATIENTS as f64);
            tokio::spawn(async move {
                tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
                patient(client, bases, i, ticket).await
            })
        })
        .collect();
    let mut patients = Vec::with_capacity(PATIENTS);
    for t in tasks {
        patients.push(t.await.expect("a patient's task"));
    }
    let wall = started.elapsed();
    let all = calls(&client, &bases, "").await - before.0;
    let writes = calls(&client, &bases, "operation=\"book\"").await - before.1;
    let booked = patients.iter().filter(|p| p.outcome == "booked").count();
    let taken = patients
        .iter()
        .filter(|p| p.outcome == "slot_taken")
        .count();
    // What the МИС holds: each released ticket once, none lost.
    let mut held = Vec::new();
    for (lpu, _) in CLINICS {
        held.extend(
            sandbox
                .clinic_store(lpu)
                .booked_slots()
                .expect("readable")
                .into_iter()
                .map(|s| (lpu, s)),
        );
    }
    let unique: std::collections::BTreeSet<&(i32, String)> = held.iter().collect();
    assert_eq!(unique.len(), held.len(), "a ticket held twice");
    assert_eq!(
        held.len(),
        TICKETS,
        "the МИС holds every released ticket, once"
    );
    assert_eq!(booked, TICKETS, "every ticket booked, told to one patient");
    let mut took: Vec<Duration> = patients.iter().map(|p| p.booking).collect();
    took.sort();
    let at = |q: f64| took[((took.len() as f64 - 1.0) * q) as usize];
    let memory_mb = running.iter().map(|g| g.rss().peak_kb).sum::<u64>() as f64 / 1024.0;
    Morning {
        booked,
        taken,
        unexpected: patients.iter().flat_map(|p| p.unexpected.clone()).collect(),
        changed: patients.iter().map(|p| p.changed).sum(),
        p50: at(0.5),
        p99: at(0.99),
        writes_per_booking: writes / booked as f64,
        reads_per_booking: (all - writes) / booked as f64,
        memory_mb,
        wall,
    }
}

fn line(m: &Morning) -> String {
    format!(
        "{} booked once each, {} `slot_taken`, {} other answers, {} bot replays that differed; booking p50 {:.1} ms, p99 {:.1} ms; МИС calls a booking: {:.2} writes + {:.2} reads; peak memory {:.0} MB; {:.0} s",
        m.booked,
        m.taken,
        m.unexpected.len(),
        m.changed,
        m.p50.as_secs_f64() * 1e3,
        m.p99.as_secs_f64() * 1e3,
        m.writes_per_booking,
        m.reads_per_booking,
        m.memory_mb,
        m.wall.as_secs_f64()
    )
}

/// One gateway, then two on one Redis.
pub async fn run(report: &mut Report, dir: &Path) {
    let one = morning(dir, None, 1).await;
    let what = "region's morning: 20 000 patients over 60 s, 2 000 tickets, a tenth bots";
    let Some(redis) = crate::Redis::start(dir) else {
        report.note("SKIPPED the region's morning on two gateways: redis-server is not installed");
        return;
    };
    let two = morning(dir, Some(redis.1), 2).await;
    for m in [&one, &two] {
        if let Some(first) = m.unexpected.first() {
            eprintln!(
                "unexpected answers: {} (first: {first})",
                m.unexpected.len()
            );
        }
    }
    let verdict = report.aim(
        what,
        "no answer but 2xx, slot_taken, 429; one write a booking",
        Some(
            one.unexpected.is_empty()
                && two.unexpected.is_empty()
                && one.changed == 0
                && two.changed == 0
                && one.writes_per_booking <= 1.0
                && two.writes_per_booking <= 1.0,
        ),
    );
    report.row(
        what,
        &format!("two gateways on one Redis: {}", line(&two)),
        &format!("one gateway, state in memory: {}", line(&one)),
        &format!(
            "p99 {:.2}×; {verdict}",
            two.p99.as_secs_f64() / one.p99.as_secs_f64().max(1e-9)
        ),
    );
}
