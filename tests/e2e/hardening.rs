//! A down, slow or hostile world: faults from the МИС, limits toward the internet.

use registratura_e2e::{
    Fault, PATIENT_FOUND, demo_clinic, expect_problem, gateway_config, loopback, spawn_app,
    start_faulty_mis, start_gateway, start_sandbox,
};
use std::time::{Duration, Instant};

const DEADLINE_MS: u64 = 1_000;

async fn gateway_facing(mis: &str) -> String {
    let mut clinic = demo_clinic(mis);
    clinic.mis.attempt_timeout_ms = DEADLINE_MS;
    clinic.mis.deadline_ms = DEADLINE_MS;
    clinic.mis.connect_timeout_ms = 300;
    clinic.mis.read_retries = 1;
    clinic.mis.breaker_threshold = 100;
    let mut config = gateway_config(vec![clinic]);
    config.cache.directory_ttl_secs = 0;
    start_gateway(config).await
}

fn envelope(inner: &str) -> Vec<u8> {
    format!(r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{inner}</s:Body></s:Envelope>"#)
        .into_bytes()
}

fn specialties_answer(ns: &str) -> Vec<u8> {
    envelope(&format!(
        r#"<GetSpesialityListResponse xmlns="{ns}"><GetSpesialityListResult xmlns:a="http://schemas.datacontract.org/2004/07/HubService2" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><a:ErrorList i:nil="true"/><a:IdHistory i:nil="true"/><a:Success>true</a:Success><a:ListSpesiality i:nil="true"/><a:LpuChanges i:nil="true"/></GetSpesialityListResult></GetSpesialityListResponse>"#
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_mis_fault_gets_its_code_within_the_deadline_and_the_gateway_stays_healthy() {
    let closed = {
        let l = loopback();
        format!("http://{}", l.local_addr().expect("bound"))
    };
    let valid = specialties_answer("http://tempuri.org/");
    let bomb = format!(
        r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>{}"#,
        String::from_utf8_lossy(&valid).replace(
            "<a:LpuChanges i:nil=\"true\"/>",
            "<a:LpuChanges>&lol2;</a:LpuChanges>"
        )
    );
    let fault = envelope(
        r#"<s:Fault><faultcode>s:Server</faultcode><faultstring>Object reference not set</faultstring></s:Fault>"#,
    );
    let cases: Vec<(&str, Option<Fault>, u16, &str)> = vec![
        ("refused connection", None, 503, "mis_unavailable"),
        (
            "accept then hang",
            Some(Fault::Hang),
            503,
            "mis_unavailable",
        ),
        ("slow drip", Some(Fault::Drip), 503, "mis_unavailable"),
        (
            "500 with HTML",
            Some(Fault::Answer(
                500,
                "text/html",
                b"<html><h1>Server Error</h1></html>".to_vec(),
            )),
            503,
            "mis_unavailable",
        ),
        (
            "truncated XML",
            Some(Fault::Answer(
                200,
                "text/xml",
                valid[..valid.len() / 2].to_vec(),
            )),
            502,
            "mis_bad_response",
        ),
        (
            "a 50 MB body",
            Some(Fault::Flood(50 * 1024 * 1024)),
            502,
            "mis_bad_response",
        ),
        (
            "entity expansion",
            Some(Fault::Answer(200, "text/xml", bomb.into_bytes())),
            502,
            "mis_bad_response",
        ),
        (
            "wrong namespaces",
            Some(Fault::Answer(
                200,
                "text/xml",
                specialties_answer("http://example.org/"),
            )),
            502,
            "mis_bad_response",
        ),
        (
            "a SOAP fault",
            Some(Fault::Answer(500, "text/xml", fault)),
            503,
            "mis_unavailable",
        ),
    ];
    for (name, fault, status, code) in cases {
        let mis = match fault {
            None => closed.clone(),
            Some(f) => start_faulty_mis(f).await,
        };
        let base = gateway_facing(&mis).await;
        let client = reqwest::Client::new();
        // The condition is an answer at all: a hanging МИС would hold a gateway without a read
        // deadline forever, and the client gives up only after a minute, far past any load.
        let r = client
            .get(format!("{base}/api/v1/clinics/demo/specialties"))
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: no answer, the deadline did not hold: {e}"));
        assert_eq!(r.status(), status, "{name}");
        let p = expect_problem(r, status, code).await;
        assert!(p.detail.is_some(), "{name}");
        let health = client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .expect("answers");
        assert_eq!(health.status(), 200, "{name}: the gateway stays healthy");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_opens_when_the_mis_goes_down_and_closes_when_it_is_back() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let switch = registratura_e2e::start_switch(sandbox_url);
    let mut clinic = demo_clinic(&switch.url);
    clinic.mis.read_retries = 0;
    clinic.mis.breaker_threshold = 2;
    clinic.mis.probe_interval_ms = 100;
    let mut config = gateway_config(vec![clinic]);
    config.cache.directory_ttl_secs = 0;
    let base = start_gateway(config).await;
    let client = reqwest::Client::new();
    let specialties = || {
        client
            .get(format!("{base}/api/v1/clinics/demo/specialties"))
            .send()
    };
    assert_eq!(specialties().await.expect("answers").status(), 200);
    assert_eq!(
        client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .expect("answers")
            .status(),
        200
    );

    switch.set_down(true);
    for _ in 0..2 {
        assert_eq!(specialties().await.expect("answers").status(), 503);
    }
    let seen = switch.hits();
    let r = specialties().await.expect("answers");
    expect_problem(r, 503, "mis_unavailable").await;
    assert!(
        switch.hits() <= seen + 1,
        "an open breaker answers without calling the МИС (but for a probe)"
    );
    assert_eq!(
        client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .expect("answers")
            .status(),
        503
    );

    switch.set_down(false);
    // Waits for the probe that closes the breaker (every 100 ms), bounded only against a hang.
    let started = Instant::now();
    while client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("answers")
        .status()
        != 200
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the breaker closed by itself"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(specialties().await.expect("answers").status(), 200);
}

#[tokio::test]
async fn identification_is_rate_limited_per_client_and_forwarded_for_is_believed_only_from_trusted_proxies()
 {
    let (_sandbox, sandbox_url) = start_sandbox();
    let strict = |trusted: Vec<String>| {
        let mut config = gateway_config(vec![demo_clinic(&sandbox_url)]);
        config.rate_limit.identify_burst = 2;
        config.rate_limit.identify_per_minute = 2;
        config.server.trusted_proxies = trusted;
        config
    };
    let body = serde_json::json!({"document_number": PATIENT_FOUND.0, "policy_number": PATIENT_FOUND.1, "birth_date": PATIENT_FOUND.2});
    let client = reqwest::Client::new();

    let base = start_gateway(strict(Vec::new())).await;
    let login = |xff: &'static str| {
        client
            .post(format!("{base}/api/v1/clinics/demo/sessions"))
            .header("x-forwarded-for", xff)
            .json(&body)
            .send()
    };
    assert_eq!(login("198.51.100.1").await.expect("answers").status(), 201);
    assert_eq!(login("198.51.100.2").await.expect("answers").status(), 201);
    let r = login("198.51.100.3").await.expect("answers");
    let retry_after: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After");
    assert!((1..=60).contains(&retry_after));
    expect_problem(r, 429, "too_many_requests").await;
    let read = client
        .get(format!("{base}/api/v1/clinics/demo/specialties"))
        .send()
        .await
        .expect("answers");
    assert_eq!(read.status(), 200, "reads have their own, looser limit");

    let base = start_gateway(strict(vec!["127.0.0.1".into()])).await;
    for i in 0..4 {
        let r = client
            .post(format!("{base}/api/v1/clinics/demo/sessions"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .json(&body)
            .send()
            .await
            .expect("answers");
        assert_eq!(
            r.status(),
            201,
            "behind a trusted proxy, each forwarded client has its own bucket"
        );
    }
}

#[tokio::test]
async fn browsers_may_call_only_from_configured_origins_and_integrators_are_unaffected() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let mut config = gateway_config(vec![demo_clinic(&sandbox_url)]);
    config.server.cors_origins = vec!["https://clinic.example".into()];
    let base = start_gateway(config).await;
    let client = reqwest::Client::new();
    let url = format!("{base}/api/v1/clinics/demo/specialties");

    let allowed = client
        .get(&url)
        .header("origin", "https://clinic.example")
        .send()
        .await
        .expect("answers");
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.as_bytes()),
        Some(&b"https://clinic.example"[..])
    );
    let preflight = client
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://clinic.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, idempotency-key",
        )
        .send()
        .await
        .expect("answers");
    assert!(preflight.status().is_success(), "{}", preflight.status());

    let refused = client
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("answers");
    assert_eq!(refused.status(), 403);
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert!(refused.headers().contains_key("x-request-id"));
    let problem: api_types::Problem = refused.json().await.expect("a problem");
    assert_eq!(problem.code, api_types::ErrorCode::Forbidden);
    assert!(
        problem
            .detail
            .is_some_and(|d| d.contains("server.cors_origins")),
        "the refusal names the setting"
    );

    let foreign = client
        .get(&url)
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("answers");
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let own = client
        .get(&url)
        .header("origin", base.clone())
        .send()
        .await
        .expect("answers");
    assert_eq!(
        own.status(),
        200,
        "the gateway's own pages are always allowed"
    );
    let server = client.get(&url).send().await.expect("answers");
    assert_eq!(server.status(), 200);
    assert!(
        server
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn readiness_details_are_shown_only_to_operator_addresses() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let client = reqwest::Client::new();
    let base = start_gateway(gateway_config(vec![demo_clinic(&sandbox_url)])).await;
    let body: serde_json::Value = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(
        body["clinics"][0]["id"], "demo",
        "loopback is an operator address by default"
    );

    let mut config = gateway_config(vec![demo_clinic(&sandbox_url)]);
    config.server.operator_allow = vec!["192.0.2.0/24".into()];
    let base = start_gateway(config).await;
    let r = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["status"], "ready");
    assert!(body.get("clinics").is_none(), "{body}");
}

#[tokio::test]
async fn identification_takes_about_as_long_whether_or_not_the_patient_exists() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let mut config = gateway_config(vec![demo_clinic(&sandbox_url)]);
    config.server.identify_min_ms = 300;
    let base = start_gateway(config).await;
    let client = reqwest::Client::new();
    let time = |patient: (&str, &str, &str)| {
        let (client, base) = (client.clone(), base.clone());
        let body = serde_json::json!({"document_number": patient.0, "policy_number": patient.1, "birth_date": patient.2});
        async move {
            let started = Instant::now();
            let r = client
                .post(format!("{base}/api/v1/clinics/demo/sessions"))
                .json(&body)
                .send()
                .await
                .expect("answers");
            (r.status().as_u16(), started.elapsed())
        }
    };
    let (found, t_found) = time(PATIENT_FOUND).await;
    let (missing, t_missing) = time(("4599 000000", "7700000000000099", "1970-01-01")).await;
    assert_eq!((found, missing), (201, 404));
    // The floor holds for both answers (a sleep guarantees it; only the upper side of a
    // timing depends on the machine, so it is not asserted).
    for t in [t_found, t_missing] {
        assert!(t >= Duration::from_millis(300), "{t:?}");
    }
}

#[tokio::test]
async fn security_headers_are_on_every_answer() {
    let app = spawn_app().await;
    for path in ["/api/v1/clinics", "/api/v1/nowhere", "/healthz", "/docs/"] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("answers");
        let h = r.headers();
        assert_eq!(
            h.get("x-content-type-options").map(|v| v.as_bytes()),
            Some(&b"nosniff"[..]),
            "{path}"
        );
        assert_eq!(
            h.get("referrer-policy").map(|v| v.as_bytes()),
            Some(&b"no-referrer"[..]),
            "{path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_load_of_sessions_and_bookings_gives_no_5xx_and_no_lost_or_doubled_ticket() {
    let app = spawn_app().await;
    let birth = chrono::NaiveDate::from_ymd_opt(1975, 6, 1).expect("a real date");
    let patients: Vec<(String, String)> = (0..40)
        .map(|i| {
            let (document, policy) = (format!("70{i:08}"), format!("66{i:014}"));
            app.sandbox
                .store()
                .add_patient(&format!("L-{i}"), &document, &policy, birth)
                .expect("added");
            (document, policy)
        })
        .collect();
    let specialties = app.specialties().await;
    let mut slots = Vec::new();
    for s in specialties.iter().take(4) {
        for d in app.doctors(&s.id).await.iter().take(1) {
            let dates: api_types::AvailableDates =
                app.get_json(&format!("/doctors/{}/dates", d.id)).await;
            for date in dates.dates.iter().rev().take(2) {
                slots.extend(
                    app.slots(&d.id, *date)
                        .await
                        .into_iter()
                        .take(3)
                        .map(|s| s.id),
                );
            }
        }
    }
    assert!(slots.len() >= 12, "enough slots to fight over");
    let app = &app;
    let slots = &slots;
    let runs = patients
        .iter()
        .enumerate()
        .map(|(i, (document, policy))| async move {
            let token = app.login((document, policy, "1975-06-01")).await;
            // Every patient tries three slots, overlapping with others'.
            let mut mine = Vec::new();
            for k in 0..3 {
                let slot = &slots[(i + k * 5) % slots.len()];
                let r = app.book(&token, slot, Some(&format!("load-{i}-{k}"))).await;
                let status = r.status().as_u16();
                assert!(status < 500, "no 5xx under load (got {status})");
                if status == 201 {
                    mine.push(r.json::<api_types::Ticket>().await.expect("a ticket").id);
                }
            }
            let listed: Vec<String> = app
                .my_tickets(&token)
                .await
                .into_iter()
                .map(|t| t.id)
                .collect();
            let mut sorted = mine.clone();
            sorted.sort();
            let mut listed_sorted = listed.clone();
            listed_sorted.sort();
            assert_eq!(
                sorted, listed_sorted,
                "every booked ticket is listed once, and nothing else"
            );
            mine
        });
    let booked: Vec<String> = futures_util::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect();
    let mut unique = booked.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), booked.len(), "no ticket was booked twice");
    assert!(!booked.is_empty());
    eprintln!(
        "load smoke: 40 patients, {} tickets booked out of {} slots",
        booked.len(),
        slots.len()
    );
}

#[tokio::test]
async fn the_gateway_serves_https_itself_with_hsts_when_given_a_certificate() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("a certificate");
    let dir = tempfile::tempdir().expect("a temp dir");
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).expect("writable");
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).expect("writable");
    let mut config = gateway_config(vec![demo_clinic(&sandbox_url)]);
    config.server.tls_cert = Some(cert_path);
    config.server.tls_key = Some(key_path);
    let base = start_gateway(config).await.replace("http://", "https://");
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .expect("a client");
    let r = client
        .get(format!("{base}/api/v1/clinics/demo/specialties"))
        .send()
        .await
        .expect("answers over TLS");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()
            .get("strict-transport-security")
            .map(|v| v.as_bytes()),
        Some(&b"max-age=31536000"[..])
    );
}

#[tokio::test]
async fn a_hostile_answer_built_to_exhaust_memory_is_a_bad_response() {
    let long_ns = format!("urn:{}", "n".repeat(2_000));
    let mut body = format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetSpesialityListResponse xmlns="http://tempuri.org/"><GetSpesialityListResult xmlns:a="{long_ns}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">"#
    );
    while body.len() < 3 * 1024 * 1024 {
        body.push_str("<a:X/>");
    }
    body.push_str("</GetSpesialityListResult></GetSpesialityListResponse></s:Body></s:Envelope>");
    let mis = start_faulty_mis(Fault::Answer(200, "text/xml", body.into_bytes())).await;
    let base = gateway_facing(&mis).await;
    let r = reqwest::get(format!("{base}/api/v1/clinics/demo/specialties"))
        .await
        .expect("answers");
    expect_problem(r, 502, "mis_bad_response").await;
}

/// A public id built as the gateway builds them: base64url of the parts joined by U+001F.
fn public_id(parts: &[&str]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(parts.join("\u{1f}"))
}

#[tokio::test]
async fn dates_outside_the_window_are_refused_and_never_reach_the_mis() {
    let app = spawn_app().await;
    let (doctor, _) = app.free_slot("Терапия").await;
    let today = registratura_e2e::clinic_today();
    let far = today + chrono::Duration::days(800);
    let cases = [
        (
            format!("/doctors/{}/dates?from=%2B262142-12-31", doctor.id),
            "from",
        ),
        (
            format!("/doctors/{}/dates?from=2020-01-01", doctor.id),
            "from",
        ),
        (format!("/doctors/{}/dates?to={far}", doctor.id), "to"),
        (
            format!("/doctors/{}/slots?date=%2B262142-12-31", doctor.id),
            "date",
        ),
        (
            format!("/doctors/{}/slots?date=-0001-01-01", doctor.id),
            "date",
        ),
        (format!("/doctors/{}/slots?date={far}", doctor.id), "date"),
    ];
    for (path, field) in cases {
        let p = expect_problem(app.get(&path).await, 422, "invalid_input").await;
        assert_eq!(p.errors[0].field, field, "{path}");
    }
    // A slot id of the right form whose day lies far away names no slot.
    let token = app.login(PATIENT_FOUND).await;
    for date in ["9999-12-31", "1000-01-01"] {
        let slot = public_id(&["1", "101", "x", date]);
        expect_problem(app.book(&token, &slot, None).await, 404, "not_found").await;
    }
    let recorded = app.recording.lock().expect("not poisoned").clone();
    for x in &recorded {
        for year in ["262142", "9999-", "1000-01", "2020-01-01"] {
            assert!(!x.request.contains(year), "{year} reached the МИС");
        }
    }
    let health = app.client.get(format!("{}/healthz", app.base)).send().await;
    assert_eq!(health.expect("answers").status(), 200);
}

#[tokio::test]
async fn input_errors_keep_no_idempotency_key_and_one_patient_s_keys_are_capped() {
    let (sandbox, sandbox_url) = start_sandbox();
    let (base, state) =
        registratura_e2e::start_gateway_with_state(gateway_config(vec![demo_clinic(&sandbox_url)]))
            .await;
    let app = registratura_e2e::TestApp::at(&base, sandbox, sandbox_url);
    let token = app.login(PATIENT_FOUND).await;
    for i in 0..200 {
        let r = app
            .book(&token, &format!("unknownslot{i}"), Some(&format!("k-{i}")))
            .await;
        assert_eq!(r.status(), 404);
        let r = app
            .book(&token, "not a slot", Some(&format!("j-{i}")))
            .await;
        assert_eq!(r.status(), 422);
    }
    assert_eq!(
        state.shared.idempotency.count(),
        Some(0),
        "input errors are not kept"
    );

    let (_, slot) = app.free_slot("Кардиология").await;
    let other = app.login(registratura_e2e::PATIENT_FOUND_2).await;
    assert_eq!(app.book(&other, &slot.id, None).await.status(), 201);
    for i in 0..50 {
        let r = app.book(&token, &slot.id, Some(&format!("t-{i}"))).await;
        expect_problem(r, 409, "slot_taken").await;
    }
    assert_eq!(
        state.shared.idempotency.count(),
        Some(gateway_domain::idempotency::MAX_KEYS_PER_PATIENT),
        "a patient's keys are capped, the oldest out"
    );
    let replay = app.book(&token, &slot.id, Some("t-49")).await;
    assert_eq!(
        replay
            .headers()
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_abandoned_by_its_client_completes_and_its_key_answers_the_retry() {
    let (sandbox, sandbox_url) = start_sandbox();
    let (slow, _) = registratura_e2e::start_delaying_proxy(
        sandbox_url.clone(),
        "SetAppointment",
        Duration::from_millis(800),
    );
    let base = start_gateway(gateway_config(vec![demo_clinic(&slow)])).await;
    let app = registratura_e2e::TestApp::at(&base, sandbox, sandbox_url);
    let token = app.login(PATIENT_FOUND).await;
    let (_, slot) = app.free_slot("Неврология").await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .expect("a client");
    let gone = impatient
        .post(format!("{}/tickets", app.api))
        .bearer_auth(&token)
        .header("Idempotency-Key", "abandoned-1")
        .json(&serde_json::json!({ "slot_id": slot.id }))
        .send()
        .await;
    assert!(gone.is_err(), "the client gave up before the МИС answered");
    let started = Instant::now();
    let replay = loop {
        let r = app.book(&token, &slot.id, Some("abandoned-1")).await;
        if r.status() != 409 || started.elapsed() > Duration::from_secs(20) {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        replay.status(),
        201,
        "the booking completed and its key answers"
    );
    assert_eq!(
        replay
            .headers()
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    let tickets = app.my_tickets(&token).await;
    assert_eq!(tickets.len(), 1, "booked once");
}

#[tokio::test]
async fn a_patient_cannot_cancel_another_s_ticket_and_the_mis_is_not_even_asked() {
    let app = spawn_app().await;
    let owner = app.login(PATIENT_FOUND).await;
    let stranger = app.login(registratura_e2e::PATIENT_FOUND_2).await;
    let (_, slot) = app.free_slot("Эндокринология").await;
    let ticket: api_types::Ticket = app
        .book(&owner, &slot.id, None)
        .await
        .json()
        .await
        .expect("a ticket");
    app.recording.lock().expect("not poisoned").clear();
    expect_problem(app.cancel(&stranger, &ticket.id).await, 404, "not_found").await;
    let asked = app
        .recording
        .lock()
        .expect("not poisoned")
        .iter()
        .any(|x| x.request.contains("CreateClaimForRefusal"));
    assert!(
        !asked,
        "ownership is checked before the МИС is asked to cancel"
    );
    assert_eq!(app.my_tickets(&owner).await.len(), 1);
}

#[tokio::test]
async fn private_answers_are_not_stored_and_every_failure_is_a_problem() {
    let app = spawn_app().await;
    let no_store = |r: &reqwest::Response| {
        r.headers().get("cache-control").map(|v| v.as_bytes()) == Some(&b"no-store"[..])
    };
    let r = app.post_session(PATIENT_FOUND).await;
    assert!(no_store(&r));
    let token: api_types::Session = r.json().await.expect("a session");
    let r = app
        .client
        .get(format!("{}/tickets", app.api))
        .bearer_auth(&token.token)
        .send()
        .await
        .expect("answers");
    assert!(no_store(&r));

    let r = app
        .client
        .post(format!("{}/sessions", app.api))
        .header("content-type", "application/json")
        .body(vec![b' '; 64 * 1024])
        .send()
        .await
        .expect("answers");
    expect_problem(r, 413, "payload_too_large").await;

    let r = app
        .client
        .put(format!("{}/tickets", app.api))
        .send()
        .await
        .expect("answers");
    assert_eq!(
        r.headers().get("allow").map(|v| v.as_bytes()),
        Some(&b"GET, HEAD, POST"[..])
    );
    expect_problem(r, 405, "method_not_allowed").await;
    let r = app
        .client
        .delete(format!("{}/healthz", app.base))
        .send()
        .await
        .expect("answers");
    assert_eq!(
        r.headers().get("allow").map(|v| v.as_bytes()),
        Some(&b"GET, HEAD"[..])
    );
    expect_problem(r, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn head_works_wherever_get_does() {
    let app = spawn_app().await;
    let (doctor, _) = app.free_slot("Терапия").await;
    for path in [
        "/api/v1/clinics".to_owned(),
        "/api/v1/clinics/demo/specialties".to_owned(),
        format!("/api/v1/clinics/demo/doctors/{}/dates", doctor.id),
        "/healthz".to_owned(),
        "/readyz".to_owned(),
        "/widget.js".to_owned(),
        "/widget/".to_owned(),
        "/docs/".to_owned(),
        "/openapi.json".to_owned(),
        "/".to_owned(),
    ] {
        let get = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("answers");
        let head = app
            .client
            .head(format!("{}{path}", app.base))
            .send()
            .await
            .expect("answers");
        assert_eq!(head.status(), get.status(), "{path}");
        assert_eq!(head.status(), 200, "{path}");
        assert!(head.bytes().await.expect("a body").is_empty(), "{path}");
    }
    let r = app
        .client
        .head(format!("{}/tickets", app.api))
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn characters_xml_cannot_carry_are_refused_at_input_and_never_sent() {
    let app = spawn_app().await;
    let r = app
        .post_session(("4510\u{FFFE}123456", "7700000000000001", "1980-05-17"))
        .await;
    expect_problem(r, 422, "invalid_input").await;
    let r = app
        .client
        .post(format!("{}/sessions", app.api))
        .header("content-type", "application/json")
        .body(r#"{"document_number":"4510 12345\ud800","policy_number":"7700000000000001","birth_date":"1980-05-17"}"#)
        .send()
        .await
        .expect("answers");
    expect_problem(r, 422, "invalid_input").await;
    let token = app.login(PATIENT_FOUND).await;
    for bad in ["\u{FFFE}", "\u{FFFF}", "\u{1}"] {
        let slot = public_id(&["1", "101", &format!("101-{bad}"), "2026-12-01"]);
        let r = app.book(&token, &slot, None).await;
        assert_eq!(r.status(), 404, "no such slot");
        let ticket = public_id(&[&format!("T{bad}")]);
        assert_eq!(app.cancel(&token, &ticket).await.status(), 404);
        let doctor = public_id(&["1", &format!("D{bad}")]);
        assert_eq!(
            app.get(&format!("/doctors/{doctor}/slots?date=2026-12-01"))
                .await
                .status(),
            404
        );
    }
    for x in app.recording.lock().expect("not poisoned").iter() {
        assert!(
            !x.request
                .contains(['\u{FFFE}', '\u{FFFF}', '\u{1}', '\u{FFFD}']),
            "sent to the МИС: {}",
            x.request
        );
    }
}

#[tokio::test]
async fn a_read_whose_first_attempt_times_out_is_tried_again_within_the_deadline() {
    let mis = start_faulty_mis(Fault::HangOnce(
        200,
        "text/xml",
        specialties_answer("http://tempuri.org/"),
    ))
    .await;
    let mut clinic = demo_clinic(&mis);
    clinic.mis.attempt_timeout_ms = 300;
    clinic.mis.deadline_ms = 5_000;
    clinic.mis.breaker_threshold = 100;
    let mut config = gateway_config(vec![clinic]);
    config.cache.directory_ttl_secs = 0;
    let base = start_gateway(config).await;
    let r = reqwest::get(format!("{base}/api/v1/clinics/demo/specialties"))
        .await
        .expect("answers");
    assert_eq!(r.status(), 200, "the second attempt answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_sent_drop_by_drop_is_cut_off_with_408_request_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_sandbox, sandbox_url) = start_sandbox();
    let mut config = gateway_config(vec![demo_clinic(&sandbox_url)]);
    config.server.body_timeout_secs = 1;
    let base = start_gateway(config).await;
    let addr = base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connects");
    stream
        .write_all(
            b"POST /api/v1/clinics/demo/sessions HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
        )
        .await
        .expect("writes");
    let started = Instant::now();
    let mut answer = Vec::new();
    // One byte every 200 ms, for as long as the gateway keeps listening (at most 30 s).
    while started.elapsed() < Duration::from_secs(30) {
        let mut buf = [0u8; 4096];
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => {
                if stream.write_all(b" ").await.is_err() {
                    break;
                }
            }
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("application/problem+json")
            && answer.contains("\"code\":\"request_timeout\""),
        "{answer}"
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the connection was closed after the answer"
    );
    // A body sent at once is read as ever.
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/clinics/demo/sessions"))
        .json(&serde_json::json!({"document_number": "1"}))
        .send()
        .await
        .expect("answers");
    expect_problem(r, 422, "invalid_input").await;
}
