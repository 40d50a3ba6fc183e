//! A surge at one gateway: admission control (`503 overloaded` at once, with `Retry-After`),
//! bookings admitted finish, the wait for a place is never the client's fault, and slow
//! clients are still cut off.

use registratura_e2e::{
    PATIENT_FOUND, PATIENT_FOUND_2, TestApp, demo_clinic, expect_problem, gateway_config, metric,
    metrics_text, raw_exchange, start_delaying_proxy, start_gateway, start_sandbox,
};
use std::time::{Duration, Instant};

/// A gateway for the demo clinic whose МИС takes one call at a time and answers bookings
/// after `delay`; `queued` requests may wait up to `wait` for the place.
async fn one_at_a_time(delay: Duration, queued: usize, wait: Duration, timeouts: u64) -> TestApp {
    let (sandbox, sandbox_url) = start_sandbox();
    let (slow, _) = start_delaying_proxy(sandbox_url.clone(), "SetAppointment", delay);
    let mut clinic = demo_clinic(&slow);
    clinic.mis.max_in_flight = 1;
    let mut config = gateway_config(vec![clinic]);
    config.server.max_queued = Some(queued);
    config.server.queue_wait_ms = u64::try_from(wait.as_millis()).expect("short");
    config.server.head_timeout_secs = timeouts;
    config.server.body_timeout_secs = timeouts;
    let base = start_gateway(config).await;
    TestApp::at(&base, sandbox, sandbox_url)
}

/// The gauge of requests the demo clinic's МИС works for, as `/metrics` shows it.
async fn in_flight(app: &TestApp) -> f64 {
    let text = metrics_text(&app.client, &app.base).await;
    metric(&text, "registratura_mis_in_flight{bound=\"demo\"}")
}

/// A booking of `slot` for the patient of `token`, sent from a task of its own.
fn booking_in_the_background(
    app: &TestApp,
    token: &str,
    slot: &str,
) -> tokio::task::JoinHandle<reqwest::Response> {
    let (client, api, token, slot) = (
        app.client.clone(),
        app.api.clone(),
        token.to_owned(),
        slot.to_owned(),
    );
    tokio::spawn(async move {
        client
            .post(format!("{api}/tickets"))
            .bearer_auth(token)
            .header("Idempotency-Key", format!("background-{slot}"))
            .json(&serde_json::json!({ "slot_id": slot }))
            .send()
            .await
            .expect("answers")
    })
}

/// Waits until the one place of the demo clinic is held.
async fn until_the_place_is_held(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while in_flight(app).await < 1.0 {
        assert!(Instant::now() < deadline, "the first booking never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_mis_s_capacity_a_request_is_told_to_retry_at_once_and_an_admitted_booking_finishes()
 {
    let app = one_at_a_time(Duration::from_millis(1_500), 0, Duration::ZERO, 5).await;
    let first = app.login(PATIENT_FOUND).await;
    let second = app.login(PATIENT_FOUND_2).await;
    let (_, slot_1) = app.free_slot("Терапия").await;
    let (_, slot_2) = app.free_slot("Неврология").await;
    let specialties = format!("{}/specialties", app.api);
    assert_eq!(
        app.client
            .get(&specialties)
            .send()
            .await
            .expect("answers")
            .status(),
        200
    );

    let booking = booking_in_the_background(&app, &first, &slot_1.id);
    until_the_place_is_held(&app).await;

    // The МИС works for the first booking: the second patient is told to retry, at once.
    let refused = app.book(&second, &slot_2.id, Some("surge-second")).await;
    assert!(
        !booking.is_finished(),
        "answered while the first booking runs"
    );
    let retry_after: u64 = refused
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=3).contains(&retry_after), "{retry_after}");
    let problem = expect_problem(refused, 503, "overloaded").await;
    assert!(problem.request_id.is_some(), "a problem like any other");
    // What needs no МИС call is not held back.
    let read = app.client.get(&specialties).send().await.expect("answers");
    assert_eq!(read.status(), 200, "{:?}", read.text().await);

    // The admitted booking finishes; the refused one, retried with its key, books.
    assert_eq!(booking.await.expect("ends").status(), 201);
    let retried = app.book(&second, &slot_2.id, Some("surge-second")).await;
    assert_eq!(retried.status(), 201, "nothing was done the first time");
    assert_eq!(app.my_tickets(&second).await.len(), 1, "booked once");
    // The place is let go (the gauge is the test process's: read until it settles).
    let deadline = Instant::now() + Duration::from_secs(5);
    while in_flight(&app).await != 0.0 {
        assert!(Instant::now() < deadline, "the place is let go");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let metrics = metrics_text(&app.client, &app.base).await;
    assert!(
        metric(&metrics, "registratura_overloaded_total{bound=\"demo\"}") >= 1.0,
        "counted: {metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_waiting_for_a_place_longer_than_the_client_timeouts_is_answered_not_timed_out() {
    // Head and body timeouts of one second; the second booking waits 1.5 s for its place.
    let app = one_at_a_time(Duration::from_millis(1_500), 4, Duration::from_secs(10), 1).await;
    let first = app.login(PATIENT_FOUND).await;
    let second = app.login(PATIENT_FOUND_2).await;
    let (_, slot_1) = app.free_slot("Терапия").await;
    let (_, slot_2) = app.free_slot("Неврология").await;
    let booking = booking_in_the_background(&app, &first, &slot_1.id);
    until_the_place_is_held(&app).await;
    let started = Instant::now();
    let waited = app.book(&second, &slot_2.id, Some("waited")).await;
    assert_eq!(waited.status(), 201, "served after its wait");
    assert!(
        started.elapsed() > Duration::from_secs(1),
        "it did wait longer than the client timeouts"
    );
    assert_eq!(booking.await.expect("ends").status(), 201);

    // A client that is slow itself is still cut off.
    let answer = raw_exchange(&app.base, b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await;
    answer.problem(408, "request_timeout");
}
