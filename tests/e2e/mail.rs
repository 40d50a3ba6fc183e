//! The ticket by e-mail, through real servers: a real SMTP server (aiosmtpd, STARTTLS and
//! AUTH) receives the message, which a real MIME parser and a real iCalendar parser read
//! back; relays that refuse the login, hang or drop the connection mid-message get clear
//! answers, and a retry sends the message once.

use registratura::config::{MailConfig, TlsMode};
use registratura_e2e::smtp::{self, Behaviour, SmtpServer, parse, property, start_fake_relay};
use registratura_e2e::{
    Api, PATIENT_FOUND, demo_clinic, expect_problem, gateway_config, start_gateway, start_sandbox,
};
use sandbox_mis::Sandbox;
use std::time::{Duration, Instant};

/// The address the patient types.
const ADDRESS: &str = "Patient.Name@example.ru";

fn relay(port: u16, tls: TlsMode) -> MailConfig {
    MailConfig {
        host: "127.0.0.1".into(),
        port: Some(port),
        tls,
        user: None,
        password: None,
        password_file: None,
        from: "Поликлиника № 1 <noreply@clinic.example>".into(),
        reply_to: Some("registry@clinic.example".into()),
        ca_file: None,
        timeout_secs: 1,
    }
}

/// The real server's relay settings: STARTTLS under its certificate, with its login.
fn real_relay(server: &SmtpServer) -> MailConfig {
    MailConfig {
        user: Some(smtp::USER.into()),
        password: Some(smtp::PASSWORD.into()),
        ca_file: Some(server.ca_file.clone()),
        timeout_secs: 5,
        ..relay(server.port, TlsMode::Starttls)
    }
}

/// A sandbox and a gateway for its demo clinic, sending through `mail`.
async fn gateway(mail: Option<MailConfig>) -> (Sandbox, Api) {
    let (sandbox, url) = start_sandbox();
    let mut config = gateway_config(vec![demo_clinic(&url)]);
    config.mail = mail;
    let base = start_gateway(config).await;
    (sandbox, Api::at(&base))
}

/// A patient's session and a ticket booked in it.
async fn booked(api: &Api, specialty: &str) -> (String, api_types::Ticket) {
    let (_, slot) = api.free_slot(specialty).await;
    let token = api.login(PATIENT_FOUND).await;
    let r = api.book(&token, &slot.id, None).await;
    assert_eq!(r.status(), 201);
    (token, r.json().await.expect("a ticket"))
}

/// The clinics the gateway lists, as the widget reads them.
async fn clinics(api: &Api) -> api_types::List<api_types::Clinic> {
    api.client
        .get(format!("{}/api/v1/clinics", api.base))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("a list")
}

async fn email(api: &Api, token: &str, ticket: &str, body: serde_json::Value) -> reqwest::Response {
    api.post_private(token, &format!("/tickets/{ticket}/email"), &body, None)
        .await
}

#[tokio::test]
async fn a_booked_ticket_e_mailed_arrives_once_with_both_parts_and_its_two_reminders() {
    let Some(server) = SmtpServer::start(false) else {
        return;
    };
    let (_sandbox, api) = gateway(Some(real_relay(&server))).await;
    let (token, ticket) = booked(&api, "Терапия").await;

    let r = email(
        &api,
        &token,
        &ticket.id,
        serde_json::json!({ "email": ADDRESS }),
    )
    .await;
    assert_eq!(r.status(), 200);
    let sent: serde_json::Value = r.json().await.expect("json");
    assert_eq!(sent["kind"], "booked");
    let received = server.wait_for(1);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.received().len(), 1, "one message");
    assert_eq!(received[0].recipients, [ADDRESS], "to that address only");

    let m = parse(&received[0].raw);
    let local = ticket.start.format("%H:%M").to_string();
    assert!(
        m.subject.contains("Терапия") && m.subject.contains(&local),
        "{}",
        m.subject
    );
    assert_eq!(m.from, "noreply@clinic.example");
    for part in [&m.text, &m.html] {
        for needle in [
            ticket.doctor.name.as_str(),
            ticket.clinic.name.as_str(),
            ticket.room.as_deref().expect("a room"),
            local.as_str(),
            "полис",
        ] {
            assert!(part.contains(needle), "{needle:?} in {part}");
        }
    }
    let event = &m.calendar.events[0];
    let start = property(&event.properties, "DTSTART");
    assert_eq!(
        start.value.as_deref(),
        Some(ticket.start.format("%Y%m%dT%H%M%S").to_string().as_str()),
        "the clinic's wall-clock time"
    );
    let tzid = start
        .params
        .as_ref()
        .and_then(|ps| ps.iter().find(|(k, _)| k == "TZID"))
        .map(|(_, v)| v.join(","));
    assert_eq!(tzid.as_deref(), Some("Europe/Moscow"));
    let triggers: Vec<_> = event
        .alarms
        .iter()
        .map(|a| {
            property(&a.properties, "TRIGGER")
                .value
                .clone()
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(triggers, ["-P1D", "-PT2H"]);

    // In English, as the widget asks; then the cancellation, read from the МИС.
    let r = email(
        &api,
        &token,
        &ticket.id,
        serde_json::json!({ "email": ADDRESS, "language": "en" }),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(
        parse(&server.wait_for(2)[1].raw)
            .subject
            .starts_with("Appointment: ")
    );
    assert_eq!(api.cancel(&token, &ticket.id).await.status(), 204);
    let r = email(
        &api,
        &token,
        &ticket.id,
        serde_json::json!({ "email": ADDRESS }),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["kind"],
        "cancelled"
    );
    let cancelled = parse(&server.wait_for(3)[2].raw);
    assert!(
        cancelled.subject.starts_with("Запись отменена"),
        "{}",
        cancelled.subject
    );
    assert!(cancelled.calendar.events[0].alarms.is_empty());
    assert_eq!(
        property(&cancelled.calendar.events[0].properties, "STATUS")
            .value
            .as_deref(),
        Some("CANCELLED")
    );
}

#[tokio::test]
async fn a_relay_that_refuses_the_login_is_mail_unavailable_and_nothing_is_sent() {
    let Some(server) = SmtpServer::start(true) else {
        return;
    };
    let (_sandbox, api) = gateway(Some(real_relay(&server))).await;
    let (token, ticket) = booked(&api, "Терапия").await;
    let r = email(
        &api,
        &token,
        &ticket.id,
        serde_json::json!({ "email": ADDRESS }),
    )
    .await;
    assert!(r.headers().contains_key("retry-after"));
    let p = expect_problem(r, 503, "mail_unavailable").await;
    assert!(!p.detail.unwrap_or_default().contains(ADDRESS));
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn a_relay_that_hangs_is_answered_within_its_timeout() {
    let relay = start_fake_relay(|_| Behaviour::Hang).await;
    let (_sandbox, api) = gateway(Some(relay_at(&relay))).await;
    let (token, ticket) = booked(&api, "Терапия").await;
    let started = Instant::now();
    let r = email(
        &api,
        &token,
        &ticket.id,
        serde_json::json!({ "email": ADDRESS }),
    )
    .await;
    let took = started.elapsed();
    assert!(r.headers().contains_key("retry-after"));
    expect_problem(r, 503, "mail_unavailable").await;
    // The relay's timeout is 1 s: the answer comes after it, and well before a second one.
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(2_500),
        "{took:?}"
    );
}

fn relay_at(fake: &smtp::FakeRelay) -> MailConfig {
    relay(fake.port, TlsMode::None)
}

#[tokio::test]
async fn a_connection_dropped_mid_message_is_mail_unavailable_and_a_retry_sends_it_once() {
    let relay = start_fake_relay(|n| {
        if n == 0 {
            Behaviour::DropInData
        } else {
            Behaviour::Accept
        }
    })
    .await;
    let (_sandbox, api) = gateway(Some(relay_at(&relay))).await;
    let (token, ticket) = booked(&api, "Терапия").await;
    let body = serde_json::json!({ "email": ADDRESS });
    let r = email(&api, &token, &ticket.id, body.clone()).await;
    expect_problem(r, 503, "mail_unavailable").await;
    assert!(relay.taken.lock().expect("not poisoned").is_empty());
    let r = email(&api, &token, &ticket.id, body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(relay.taken.lock().expect("not poisoned").len(), 1);
}

#[tokio::test]
async fn a_ticket_is_e_mailed_a_few_times_at_most_and_only_to_a_real_address() {
    let relay = start_fake_relay(|_| Behaviour::Accept).await;
    let (_sandbox, api) = gateway(Some(relay_at(&relay))).await;
    let listed = clinics(&api).await;
    assert!(listed.items[0].email_tickets, "the widget shows the button");
    let (token, ticket) = booked(&api, "Терапия").await;
    for bad in [
        "",
        "no-at-sign",
        "a@b",
        "a@b.ru\r\nBcc: everyone@example.ru",
        "a b@example.ru",
        &format!("{}@example.ru", "a".repeat(250)),
    ] {
        let r = email(
            &api,
            &token,
            &ticket.id,
            serde_json::json!({ "email": bad }),
        )
        .await;
        let p = expect_problem(r, 422, "invalid_input").await;
        assert_eq!(p.errors[0].field, "email", "{bad:?}");
    }
    let r = email(
        &api,
        &token,
        &ticket.id,
        serde_json::json!({ "email": ADDRESS, "language": "de" }),
    )
    .await;
    expect_problem(r, 422, "invalid_input").await;
    let r = email(
        &api,
        &token,
        &ticket.id,
        serde_json::json!({ "email": ADDRESS, "text": "anything else" }),
    )
    .await;
    assert_eq!(
        r.status(),
        422,
        "the message is the ticket, nothing a client writes"
    );
    // An internationalised domain is sent in its ASCII form.
    let r = email(
        &api,
        &token,
        &ticket.id,
        serde_json::json!({ "email": "пациент@почта.рф" }),
    )
    .await;
    expect_problem(r, 422, "invalid_input").await;
    let r = email(
        &api,
        &token,
        &ticket.id,
        serde_json::json!({ "email": "p@почта.рф" }),
    )
    .await;
    assert_eq!(r.status(), 200);
    let taken = relay.taken.lock().expect("not poisoned")[0].clone();
    assert!(String::from_utf8_lossy(&taken).contains("p@xn--80a1acny.xn--p1ai"));
    for _ in 0..2 {
        let r = email(
            &api,
            &token,
            &ticket.id,
            serde_json::json!({ "email": ADDRESS }),
        )
        .await;
        assert_eq!(r.status(), 200);
    }
    let r = email(
        &api,
        &token,
        &ticket.id,
        serde_json::json!({ "email": ADDRESS }),
    )
    .await;
    assert!(r.headers().contains_key("retry-after"));
    expect_problem(r, 429, "too_many_requests").await;
    assert_eq!(relay.taken.lock().expect("not poisoned").len(), 3);
    // Not a ticket of the patient's; no session.
    let r = email(
        &api,
        &token,
        "1-999999",
        serde_json::json!({ "email": ADDRESS }),
    )
    .await;
    expect_problem(r, 404, "not_found").await;
    let r = api
        .client
        .post(format!("{}/tickets/{}/email", api.api, ticket.id))
        .json(&serde_json::json!({ "email": ADDRESS }))
        .send()
        .await
        .expect("answers");
    expect_problem(r, 401, "session_required").await;
}

#[tokio::test]
async fn without_a_relay_the_route_is_not_supported() {
    let (_sandbox, api) = gateway(None).await;
    let listed = clinics(&api).await;
    assert!(!listed.items[0].email_tickets, "the widget shows no button");
    let (token, ticket) = booked(&api, "Терапия").await;
    let r = email(
        &api,
        &token,
        &ticket.id,
        serde_json::json!({ "email": ADDRESS }),
    )
    .await;
    expect_problem(r, 501, "not_supported").await;
}

#[tokio::test]
async fn check_logs_in_to_the_relay_and_sends_nothing() {
    let (Some(server), Some(refusing)) = (SmtpServer::start(false), SmtpServer::start(true)) else {
        return;
    };
    let (_sandbox, url) = start_sandbox();
    let run = |mail: MailConfig| {
        let mut config = gateway_config(vec![demo_clinic(&url)]);
        config.mail = Some(mail);
        async move {
            let mut out = Vec::new();
            let code = registratura::check::run(
                Ok(config),
                registratura::check::Options::default(),
                &mut out,
                &mut std::io::Cursor::new(Vec::new()),
            )
            .await;
            (code, String::from_utf8_lossy(&out).into_owned())
        }
    };
    let (code, out) = run(real_relay(&server)).await;
    assert!(
        out.contains("OK   mail: mail: почтовый сервер 127.0.0.1 принимает вход"),
        "{out}"
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(real_relay(&refusing)).await;
    assert!(
        out.contains("FAIL mail: mail: почтовый сервер 127.0.0.1"),
        "{out}"
    );
    assert_eq!(code, 1, "{out}");
    // A relay whose certificate is not trusted is refused before the login.
    let (code, out) = run(MailConfig {
        ca_file: None,
        ..real_relay(&server)
    })
    .await;
    assert!(out.contains("FAIL mail"), "{out}");
    assert_eq!(code, 1, "{out}");
    assert!(server.received().is_empty() && refusing.received().is_empty());
}

#[tokio::test]
async fn a_patient_s_mobile_phone_goes_into_their_card_at_the_clinic_with_their_consent() {
    let (sandbox, api) = gateway(None).await;
    let token = api.login(PATIENT_FOUND).await;
    let post = |body: serde_json::Value| {
        let (api, token) = (&api, &token);
        async move { api.post_private(token, "/patient/phone", &body, None).await }
    };
    for (body, field, reason) in [
        (
            serde_json::json!({"phone": "8 916 12", "sms_consent": true}),
            "phone",
            "invalid_format",
        ),
        (
            serde_json::json!({"phone": "+7 495 123-45-67", "sms_consent": true}),
            "phone",
            "not_mobile",
        ),
        (
            serde_json::json!({"phone": "+7 916 765-43-21", "sms_consent": false}),
            "sms_consent",
            "required",
        ),
    ] {
        let p = expect_problem(post(body).await, 422, "invalid_input").await;
        assert_eq!(
            (p.errors[0].field.as_str(), p.errors[0].reason.as_str()),
            (field, reason)
        );
    }
    assert_eq!(
        sandbox.store().cell_phone("P-1001"),
        None,
        "nothing written yet"
    );
    let r = post(serde_json::json!({"phone": "8 (916) 765-43-21", "sms_consent": true})).await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        sandbox.store().cell_phone("P-1001").as_deref(),
        Some("+79167654321")
    );
    // Again, with another number: the card holds the last one.
    let r = post(serde_json::json!({"phone": "+7 926 000-11-22", "sms_consent": true})).await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        sandbox.store().cell_phone("P-1001").as_deref(),
        Some("+79260001122")
    );
    let r = api
        .client
        .post(format!("{}/patient/phone", api.api))
        .json(&serde_json::json!({"phone": "+7 916 765-43-21", "sms_consent": true}))
        .send()
        .await
        .expect("answers");
    expect_problem(r, 401, "session_required").await;
}
