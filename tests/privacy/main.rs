//! Personal data never reach a log line: the whole flow, its failures included, runs with
//! tracing at `trace` level into a buffer, which is then searched for the patients' values.

#![recursion_limit = "256"]

use registratura_e2e::{
    PATIENT_DUPLICATE, PATIENT_FOUND, contains_number, expect_problem, spawn_app,
};
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn no_document_policy_or_birth_date_reaches_a_log_line_at_trace_level() {
    let logs = Buffer::default();
    registratura::telemetry::init_with(tracing_subscriber::EnvFilter::new("trace"), logs.clone());
    let app = spawn_app().await;

    let (_, slot) = app.free_slot("Терапия").await;
    let token = app.login(PATIENT_FOUND).await;
    let ticket: api_types::Ticket = app
        .book(&token, &slot.id, Some("k-1"))
        .await
        .json()
        .await
        .expect("a ticket");
    app.my_tickets(&token).await;
    assert_eq!(app.cancel(&token, &ticket.id).await.status(), 204);

    // The waiting list: the phone goes to the МИС and nowhere else.
    let full = app
        .all_specialties()
        .await
        .into_iter()
        .find(|s| s.name == registratura_e2e::FULL_SPECIALTY)
        .expect("a specialty without tickets");
    let joined = app
        .join_waiting_list(
            &token,
            &serde_json::json!({"specialty_id": full.id, "phone": "+7 (926) 555-01-23"}),
        )
        .await;
    assert_eq!(joined.status(), 201);
    let joined: api_types::WaitingRequest = joined.json().await.expect("a request");
    expect_problem(
        app.join_waiting_list(
            &token,
            &serde_json::json!({"specialty_id": full.id, "phone": "8 937 444-12"}),
        )
        .await,
        422,
        "invalid_input",
    )
    .await;
    app.waiting_list(&token).await;
    assert_eq!(
        app.leave_waiting_list(&token, &joined.id).await.status(),
        204
    );
    // Moving a ticket and booking by referral, for their log lines.
    let (doctor, slot) = app.free_slot("Хирургия").await;
    let first: api_types::Ticket = app
        .book(&token, &slot.id, None)
        .await
        .json()
        .await
        .expect("a ticket");
    let next = app
        .slots(&doctor.id, slot.start.date_naive())
        .await
        .into_iter()
        .find(|s| s.id != slot.id)
        .expect("another time");
    assert_eq!(
        app.reschedule(&token, &first.id, &next.id, Some("k-2"))
            .await
            .status(),
        201
    );
    let by_referral: api_types::List<api_types::Slot> = app
        .get_private(
            &token,
            &format!("/referrals/{}/slots", registratura_e2e::REFERRAL_VALID),
        )
        .await
        .json()
        .await
        .expect("slots");
    assert_eq!(
        app.book_by_referral(
            &token,
            &by_referral.items[0].id,
            registratura_e2e::REFERRAL_VALID
        )
        .await
        .status(),
        201
    );
    expect_problem(
        app.post_session(PATIENT_DUPLICATE).await,
        409,
        "patient_not_unique",
    )
    .await;
    expect_problem(
        app.post_session(("4599 999999", "7799999999999999", "1961-07-21"))
            .await,
        404,
        "patient_not_found",
    )
    .await;
    expect_problem(
        app.post_session(("4598;888888", "77", "1962-13-40")).await,
        422,
        "invalid_input",
    )
    .await;

    // Request logs name the address the limits use and the route matched, never what a
    // client claims in forwarding headers (the peer is not a trusted proxy here).
    let forged = app
        .client
        .get(format!("{}/specialties", app.api))
        .header("forwarded", "for=6.6.6.6")
        .header("x-forwarded-for", "7.7.7.7")
        .header("x-real-ip", "8.8.8.8")
        .send()
        .await
        .expect("answers");
    assert_eq!(forged.status(), 200);

    // An integrator's key is named in logs, never shown.
    let mut config =
        registratura_e2e::gateway_config(vec![registratura_e2e::demo_clinic(&app.sandbox_url)]);
    config.api_keys = vec![registratura::security::keys::ApiKeyConfig {
        name: "call-centre".into(),
        sha256: "8d6f3dbd0d8ee3a8e3cd1fc3d3a9a6bd7bd4a3fdd2e3b56c5e4c5d8c6a5e1f10".into(),
        limits: Default::default(),
    }];
    let keyed = registratura_e2e::start_gateway(config).await;
    let r = app
        .client
        .get(format!("{keyed}/api/v1/clinics"))
        .header("x-api-key", "zz-secret-api-key-zz")
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 401, "not the configured key");

    // Region mode: one identification sealed in the token, found in two clinics, «my clinic».
    let mut config =
        registratura_e2e::gateway_config(vec![registratura_e2e::demo_clinic(&app.sandbox_url)]);
    config.regions = vec![registratura::config::RegionConfig {
        id: "msk".into(),
        name: "Москва".into(),
        endpoint: Some(format!("{}/HubService.svc", app.sandbox_url)),
        guid: sandbox_mis::DEFAULT_GUID.into(),
        attempt_timeout_ms: 1_000,
        deadline_ms: 1_000,
        across_deadline_ms: 1_500,
        ..Default::default()
    }];
    let region = registratura_e2e::start_gateway(config).await;
    let region_token = region_flow(&app.client, &region).await;
    let (audit_trail, metrics) = mail_flow(&app.sandbox_url).await;

    let text = String::from_utf8_lossy(&logs.0.lock().expect("not poisoned")).into_owned();
    let request_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("request done") && l.contains("/specialties"))
        .collect();
    assert!(!request_lines.is_empty(), "one line per request");
    for line in &request_lines {
        assert!(
            line.contains("http.client_ip=127.0.0.1")
                && line.contains("http.route=/api/v1/clinics/{clinic}/specialties"),
            "{line}"
        );
    }
    // Nor does any header: the session token, an API key.
    for forged in [
        "6.6.6.6",
        "7.7.7.7",
        "8.8.8.8",
        "zz-secret-api-key-zz",
        &token,
        &region_token,
    ] {
        let hit = text.lines().find(|l| l.contains(forged));
        assert!(
            hit.is_none(),
            "{forged:?} reached a log line: {}",
            hit.unwrap_or_default()
        );
    }
    assert!(
        text.contains("api_key=(invalid)"),
        "the key's name (or its absence) is logged"
    );
    assert!(
        text.contains("ticket booked"),
        "the buffer holds the gateway's logs"
    );
    assert!(text.lines().count() > 50, "trace level was on");
    // The e-mail address: nowhere, whatever the relay's refusal quoted.
    for text in [&text, &audit_trail, &metrics] {
        let lower = text.to_lowercase();
        for part in [
            MAIL_ADDRESS.to_lowercase().as_str(),
            "mail.patient",
            "example-patient",
        ] {
            assert!(
                !lower.contains(part),
                "{part:?} reached a log, the audit trail or a metric"
            );
        }
    }
    assert!(
        audit_trail.contains("\"email\""),
        "the trail records that a ticket was e-mailed"
    );
    assert!(
        text.contains("<recipient>"),
        "the relay's refusal was logged, its address hidden"
    );
    let secrets = [
        "4510 123456",
        "4510123456",
        "123456",
        "7700000000000001",
        "1980-05-17",
        "1980-05-17T00:00:00",
        "4512",
        "111111",
        "7700000000000003",
        "1990-03-03",
        "4599",
        "999999",
        "7799999999999999",
        "1961-07-21",
        "888888",
        "1962-13-40",
        "79265550123",
        "9265550123",
        "555-01-23",
        "926",
        "937 444-12",
        "93744412",
        "4511 654321",
        "654321",
        "7700000000000002",
        "1955-01-09",
        "4577 000777",
        "9167654321",
        "765-43-21",
        "4957654322",
        "765-43-22",
        "7700000000000777",
        "1977-07-07",
    ];
    for secret in secrets {
        let hit = text.lines().find(|l| contains_number(l, secret));
        assert!(
            hit.is_none(),
            "{secret:?} reached a log line: {}",
            hit.unwrap_or_default()
        );
    }
}

/// The address a patient e-mails a ticket to.
const MAIL_ADDRESS: &str = "Mail.Patient@Example-Patient.ru";

/// A ticket e-mailed through a relay that first refuses the recipient quoting the address,
/// then takes the message, with an audit trail; the trail and the metrics after.
async fn mail_flow(sandbox_url: &str) -> (String, String) {
    use registratura_e2e::smtp::{Behaviour, start_fake_relay};
    let relay = start_fake_relay(|n| {
        if n == 0 {
            Behaviour::RejectRecipient
        } else {
            Behaviour::Accept
        }
    })
    .await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let trail = dir.path().join("audit.log");
    let mut config =
        registratura_e2e::gateway_config(vec![registratura_e2e::demo_clinic(sandbox_url)]);
    config.mail = Some(registratura::config::MailConfig {
        host: "127.0.0.1".into(),
        port: Some(relay.port),
        tls: registratura::config::TlsMode::None,
        user: None,
        password: None,
        password_file: None,
        from: "noreply@clinic.example".into(),
        reply_to: None,
        ca_file: None,
        timeout_secs: 5,
    });
    config.audit.path = Some(trail.clone());
    config.audit.secret = Some("a-secret-of-sixteen-chars".into());
    let base = registratura_e2e::start_gateway(config).await;
    let api = registratura_e2e::Api::at(&base);
    let (_, slot) = api.free_slot("Терапия").await;
    let token = api.login(PATIENT_FOUND).await;
    let ticket: api_types::Ticket = api
        .book(&token, &slot.id, None)
        .await
        .json()
        .await
        .expect("a ticket");
    let path = format!("/tickets/{}/email", ticket.id);
    let body = serde_json::json!({ "email": MAIL_ADDRESS });
    let refused = api.post_private(&token, &path, &body, None).await;
    let problem = expect_problem(refused, 503, "mail_unavailable").await;
    assert!(
        !format!("{problem:?}")
            .to_lowercase()
            .contains("mail.patient")
    );
    assert_eq!(
        api.post_private(&token, &path, &body, None).await.status(),
        200
    );
    assert_eq!(relay.taken.lock().expect("not poisoned").len(), 1);
    // The phone for the clinic's SMS: into the card, nowhere else.
    let phone = serde_json::json!({ "phone": "+7 (916) 765-43-21", "sms_consent": true });
    assert_eq!(
        api.post_private(&token, "/patient/phone", &phone, None)
            .await
            .status(),
        204
    );
    let bad = serde_json::json!({ "phone": "+7 (495) 765-43-22", "sms_consent": true });
    let problem = expect_problem(
        api.post_private(&token, "/patient/phone", &bad, None).await,
        422,
        "invalid_input",
    )
    .await;
    assert!(!format!("{problem:?}").contains("765"));
    let metrics = registratura_e2e::metrics_text(&api.client, &base).await;
    assert!(metrics.contains("registratura_mail_total"), "counted");
    (
        std::fs::read_to_string(&trail).expect("the trail is written"),
        metrics,
    )
}

/// A region session's life on the gateway at `base` (region `msk`, read when it answers): two
/// patients identify once, one books in a clinic and reads «my clinic», one is unknown. The
/// first one's token.
async fn region_flow(client: &reqwest::Client, base: &str) -> String {
    let started = std::time::Instant::now();
    while client
        .get(format!("{base}/api/v1/regions/msk/districts"))
        .send()
        .await
        .expect("answers")
        .status()
        != 200
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "never read"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let url = format!("{base}/api/v1/regions/msk/sessions");
    let login = |patient| registratura_e2e::open_session(client, &url, patient);
    let token = login(registratura_e2e::PATIENT_FOUND_2).await;
    let clinic = registratura_e2e::Api::for_clinic(base, "msk-3");
    let (_, slot) = clinic.free_slot("Терапия").await;
    assert_eq!(
        clinic.book(&token, &slot.id, Some("r-1")).await.status(),
        201
    );
    let mine = client
        .get(format!("{base}/api/v1/regions/msk/my-clinics"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    assert_eq!(mine.status(), 200);
    let unknown = login(("4577 000777", "7700000000000777", "1977-07-07")).await;
    expect_problem(
        clinic.get_private(&unknown, "/tickets").await,
        404,
        "patient_not_found",
    )
    .await;
    token
}

#[test]
fn a_secret_is_found_alone_but_not_inside_a_longer_number() {
    assert!(contains_number("doc=4599 999999", "4599"));
    assert!(contains_number("x\"4599\"", "4599"));
    assert!(!contains_number("token=Token(140254237459968)", "4599"));
    assert!(!contains_number("port 45990", "4599"));
    assert!(!contains_number(
        "due to expire in 4964.926 milliseconds",
        "926"
    ));
    assert!(!contains_number("took 926.5 ms", "926"));
    assert!(!contains_number("request_id=7160e4512f6c-3", "4512"));
    assert!(contains_number("phone (926) 555", "926"));
    assert!(contains_number("the end: 926.", "926"));
}
