//! `just bench size`: a region at its real size. The sandbox's hub lists 10 000 clinics
//! (`region_clinics`); the gateway (the release binary) reads the catalogue, is flooded with
//! distinct queries by one client with its limits raised, and answers across clinics for one
//! client with the default limits. Measured: the catalogue's read, the gateway's memory after
//! it and at its peak under the flood, the hub calls of one answer across clinics (cold and
//! kept), and of one client in a minute. Every hub call is counted by a proxy in front of the
//! hub; only `2xx` (and, for the client within its limits, `429`) answers are accepted.

use crate::child::Gateway;
use crate::report::Report;
use registratura_e2e::{get_each, region_gateway_toml};
use std::path::Path;
use std::time::{Duration, Instant};

const CLINICS: usize = 10_000;

const NO_LIMITS: &str =
    "identify_per_minute = 0\nacross_per_minute = 0\nwrite_per_minute = 0\nread_per_minute = 0";

/// Waits until every clinic is listed with its card; how long it took.
async fn read(base: &str) -> Duration {
    let started = Instant::now();
    loop {
        let r = reqwest::get(format!("{base}/api/v1/regions/big/clinics?district=119"))
            .await
            .expect("answers");
        if r.status() == 200 {
            let v: serde_json::Value = r.json().await.expect("JSON");
            let items = v["items"].as_array().cloned().unwrap_or_default();
            if items.last().is_some_and(|c| c["phone"].is_string()) {
                return started.elapsed();
            }
        }
        assert!(started.elapsed() < Duration::from_secs(120), "never read");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn mb(kb: u64) -> String {
    format!("{:.0} MB", kb as f64 / 1024.0)
}

pub async fn run(report: &mut Report, dir: &Path) {
    let (_sandbox, hub) = registratura_e2e::start_sandbox_with(sandbox_mis::SandboxConfig {
        region_clinics: CLINICS,
        ..sandbox_mis::SandboxConfig::default()
    });
    let proxy = registratura_e2e::start_fault_proxy(hub).await;
    let gateway = Gateway::start(dir, &region_gateway_toml(&proxy.url, NO_LIMITS));
    let took = read(&gateway.base).await;
    let after_read = gateway.rss();
    report.row(
        "a region of 10 000 clinics: its catalogue read (23 districts' lists, 10 000 cards in one answer) / the gateway's memory after",
        &format!(
            "{} / {} resident ({} its own)",
            crate::ms(took),
            mb(after_read.rss_kb),
            mb(after_read.anon_kb)
        ),
        "—",
        "—",
    );
    // The flood: parameters the route does not know on the whole list (2.5 MB), searches it
    // knows, and directory reads of 2 000 clinics with junk in their queries.
    let mut paths: Vec<String> = (0..1_000)
        .map(|i| format!("/api/v1/regions/big/clinics?y={i}"))
        .collect();
    for district in 100..120 {
        for kind in ["", "&type=1", "&type=2"] {
            for q in ["", "&q=%D0%B3%D0%B1%D1%83%D0%B7", "&q=1", "&q=2", "&q=3"] {
                paths.push(format!(
                    "/api/v1/regions/big/clinics?district={district}{kind}{q}"
                ));
            }
        }
    }
    for i in 0..2_000 {
        // Every fiftieth made-up clinic is inactive: those are left out.
        let lpu = 1_000 + i + i / 49;
        paths.push(format!("/api/v1/clinics/big-{lpu}/specialties?junk={i}"));
    }
    let sent = paths.len();
    let statuses = get_each(&gateway.base, paths, 16).await;
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(ok, sent, "every answer 200");
    let after_flood = gateway.rss();
    report.row(
        "the same gateway under a flood of 3 300 distinct queries (1 000 unknown parameters on the whole list, 300 searches, 2 000 clinics' reads): peak resident",
        &mb(after_flood.peak_kb),
        &format!("after the read: {}", mb(after_read.rss_kb)),
        &format!(
            "+{} (bounded: 64 MiB of the catalogue's answers, 64 MiB of the region's reads, 2 × 32 MiB of directory answers)",
            mb(after_flood.peak_kb.saturating_sub(after_read.rss_kb))
        ),
    );
    drop(gateway);
    // Hub calls: one answer across a district of 500 clinics, cold and then kept.
    let gateway = Gateway::start(dir, &region_gateway_toml(&proxy.url, NO_LIMITS));
    read(&gateway.base).await;
    let calls = || proxy.total();
    let before = calls();
    get_each(
        &gateway.base,
        vec!["/api/v1/regions/big/specialties?district=101".into()],
        1,
    )
    .await;
    let cold = calls() - before;
    let mut later = Vec::new();
    for _ in 0..2 {
        let before = calls();
        get_each(
            &gateway.base,
            vec!["/api/v1/regions/big/specialties?district=101".into()],
            1,
        )
        .await;
        later.push(calls() - before);
    }
    report.row(
        "hub calls of one answer across a district of 500 clinics (specialties; 200 asked at most): cold / again / a third time",
        &format!("{cold} / {} / {}", later[0], later[1]),
        "at most 128 an answer (across_max_calls); what is kept costs none",
        "—",
    );
    drop(gateway);
    // One client within the default limits, asking across clinics (a random district each
    // time, nearest tickets or specialties) as fast as it is answered, for a minute.
    let gateway = Gateway::start(dir, &region_gateway_toml(&proxy.url, ""));
    read(&gateway.base).await;
    let before = calls();
    let started = Instant::now();
    let mut answered = 0;
    let mut limited = 0;
    let mut i = 0u32;
    while started.elapsed() < Duration::from_secs(60) {
        i += 1;
        let district = 100 + (i * 7) % 20;
        let path = if i.is_multiple_of(2) {
            format!("/api/v1/regions/big/specialties?district={district}")
        } else {
            format!(
                "/api/v1/regions/big/slots?specialty=%D0%A2%D0%B5%D1%80%D0%B0%D0%BF%D0%B8%D1%8F&district={district}"
            )
        };
        match get_each(&gateway.base, vec![path], 1).await[0] {
            200 => answered += 1,
            429 => {
                limited += 1;
                // A client told to wait, waiting a little (as the widget does).
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!("unexpected {other}"),
        }
    }
    report.row(
        "one client within the default limits, answers across clinics as fast as answered for a minute: hub calls",
        &format!(
            "{} ({answered} answers, {limited} refused 429)",
            calls() - before
        ),
        "at most 5 120 in the first minute (10 at once + 30 a minute = 40 answers × 128), 3 840 a minute after",
        "—",
    );
}
