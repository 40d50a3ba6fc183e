use actix_web::{App, HttpResponse, HttpServer, web};
use registratura_e2e::{
    PATIENT_DUPLICATE, PATIENT_FOUND, PATIENT_FOUND_2, demo_clinic, expect_problem, gateway_config,
    loopback, spawn_app, start_gateway,
};

#[tokio::test]
async fn identity_fields_that_cannot_be_accepted_are_named_without_their_values() {
    let app = spawn_app().await;
    let r = app.post_session(("4510;123456", "12", "1980-02-30")).await;
    let mut p = expect_problem(r, 422, "invalid_input").await;
    let fields: Vec<_> = p.errors.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["document_number", "policy_number", "birth_date"]);
    // (The request id is random hex, where digits may turn up by chance.)
    p.request_id = None;
    let body = serde_json::to_string(&p).expect("serializes");
    assert!(!body.contains("123456") && !body.contains("1980"), "{body}");

    let r = app
        .client
        .post(format!("{}/sessions", app.api))
        .json(&serde_json::json!({"document_number": 4510123456_u64, "policy_number": "7700000000000001", "birth_date": "1980-05-17"}))
        .send()
        .await
        .expect("answers");
    let p = expect_problem(r, 422, "invalid_input").await;
    assert!(
        !serde_json::to_string(&p)
            .expect("json")
            .contains("4510123456"),
        "serde's message is not echoed"
    );
    // The field of the wrong type is named, not its value.
    assert_eq!(
        (p.errors[0].field.as_str(), p.errors[0].reason.as_str()),
        ("document_number", "invalid_type")
    );

    // A key that is not a field name (here a document number) is not echoed either.
    let r = app
        .client
        .post(format!("{}/sessions", app.api))
        .json(&serde_json::json!({"document_number": "1", "policy_number": "1", "birth_date": "1980-05-17", "4510 123456": 1}))
        .send()
        .await
        .expect("answers");
    let p = expect_problem(r, 422, "invalid_input").await;
    assert_eq!(
        (p.errors[0].field.as_str(), p.errors[0].reason.as_str()),
        ("body", "unknown_field")
    );
    assert!(!serde_json::to_string(&p).expect("json").contains("123456"));

    let r = app
        .client
        .post(format!("{}/sessions", app.api))
        .json(&serde_json::json!({"document_number": "1", "policy_number": "1", "birth_date": "1980-05-17", "snils": "x"}))
        .send()
        .await
        .expect("answers");
    let p = expect_problem(r, 422, "invalid_input").await;
    assert_eq!(p.errors[0].field, "snils");
    assert_eq!(p.errors[0].reason, "unknown_field");
}

#[tokio::test]
async fn unknown_and_duplicate_patients_get_their_own_codes() {
    let app = spawn_app().await;
    expect_problem(
        app.post_session(("4510 000000", "7700000000000001", "1980-05-17"))
            .await,
        404,
        "patient_not_found",
    )
    .await;
    expect_problem(
        app.post_session(PATIENT_DUPLICATE).await,
        409,
        "patient_not_unique",
    )
    .await;
    assert_eq!(app.post_session(PATIENT_FOUND_2).await.status(), 201);
}

#[tokio::test]
async fn patient_calls_need_a_live_session_of_the_same_clinic() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(format!("{}/tickets", app.api))
        .send()
        .await
        .expect("answers");
    expect_problem(r, 401, "session_required").await;
    let r = app
        .client
        .get(format!("{}/tickets", app.api))
        .bearer_auth("forged")
        .send()
        .await
        .expect("answers");
    expect_problem(r, 401, "session_required").await;
    let token = app.login(PATIENT_FOUND).await;
    let r = app
        .client
        .delete(format!("{}/sessions/current", app.api))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 204);
    let r = app
        .client
        .get(format!("{}/tickets", app.api))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    expect_problem(r, 401, "session_required").await;
}

#[tokio::test]
async fn booking_a_taken_slot_returns_409_slot_taken() {
    let app = spawn_app().await;
    let (_, slot) = app.free_slot("Кардиология").await;
    let first = app.login(PATIENT_FOUND).await;
    let second = app.login(PATIENT_FOUND_2).await;
    assert_eq!(app.book(&first, &slot.id, None).await.status(), 201);
    expect_problem(app.book(&second, &slot.id, None).await, 409, "slot_taken").await;
}

#[tokio::test]
async fn a_second_upcoming_ticket_of_the_same_specialty_returns_409_already_booked() {
    let app = spawn_app().await;
    let token = app.login(PATIENT_FOUND).await;
    let (doctor, slot) = app.free_slot("Урология").await;
    assert_eq!(app.book(&token, &slot.id, None).await.status(), 201);
    let dates: api_types::AvailableDates =
        app.get_json(&format!("/doctors/{}/dates", doctor.id)).await;
    let other = app
        .slots(&doctor.id, dates.dates[0])
        .await
        .into_iter()
        .next()
        .expect("another slot");
    expect_problem(
        app.book(&token, &other.id, None).await,
        409,
        "already_booked",
    )
    .await;
}

#[tokio::test]
async fn unknown_things_are_404_not_found_and_wrong_requests_say_why() {
    let app = spawn_app().await;
    let get = |url: String| {
        let client = app.client.clone();
        async move { client.get(url).send().await.expect("answers") }
    };
    expect_problem(
        get(format!("{}/api/v1/clinics/nope/specialties", app.base)).await,
        404,
        "not_found",
    )
    .await;
    expect_problem(
        get(format!("{}/api/v1/nothing-here", app.base)).await,
        404,
        "not_found",
    )
    .await;
    expect_problem(
        get(format!("{}/specialties/%%%/doctors", app.api)).await,
        404,
        "not_found",
    )
    .await;
    expect_problem(
        get(format!("{}/doctors/bogus/slots?date=2026-12-01", app.api)).await,
        404,
        "not_found",
    )
    .await;
    let (doctor, _) = app.free_slot("Терапия").await;
    let p = expect_problem(
        get(format!("{}/doctors/{}/slots", app.api, doctor.id)).await,
        422,
        "invalid_input",
    )
    .await;
    assert_eq!(p.errors[0].field, "date");
    let p = expect_problem(
        get(format!(
            "{}/doctors/{}/dates?from=2026-13-01",
            app.api, doctor.id
        ))
        .await,
        422,
        "invalid_input",
    )
    .await;
    assert_eq!(p.errors[0].field, "from");
    let p = expect_problem(
        get(format!(
            "{}/doctors/{}/dates?from=2026-12-01&to=2027-12-01",
            app.api, doctor.id
        ))
        .await,
        422,
        "invalid_input",
    )
    .await;
    assert_eq!(p.errors[0].reason, "range_too_long");

    let token = app.login(PATIENT_FOUND).await;
    // Of the right form, but no slot of this API: not found, not invalid.
    expect_problem(app.book(&token, "not-a-slot", None).await, 404, "not_found").await;
    let p = expect_problem(
        app.book(&token, "not a slot!", None).await,
        422,
        "invalid_input",
    )
    .await;
    assert_eq!(p.errors[0].field, "slot_id");
    expect_problem(app.cancel(&token, "MTAx").await, 404, "not_found").await;
    let r = app
        .client
        .post(format!("{}/tickets", app.api))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("slot_id=1")
        .send()
        .await
        .expect("answers");
    expect_problem(r, 415, "unsupported_media_type").await;
    let r = app
        .client
        .put(format!("{}/tickets", app.api))
        .send()
        .await
        .expect("answers");
    expect_problem(r, 405, "method_not_allowed").await;
    let r = app
        .client
        .post(format!("{}/sessions", app.api))
        .header("content-type", "application/json")
        .body(vec![b' '; 64 * 1024])
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 413, "an oversized body is refused");
    let deep = "[".repeat(4000) + "]".repeat(4000).as_str();
    let r = app
        .client
        .post(format!("{}/sessions", app.api))
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .await
        .expect("answers");
    expect_problem(r, 422, "invalid_input").await;
}

#[tokio::test]
async fn a_cancelled_ticket_cannot_be_cancelled_twice() {
    let app = spawn_app().await;
    let token = app.login(PATIENT_FOUND).await;
    let (_, slot) = app.free_slot("Эндокринология").await;
    let ticket: api_types::Ticket = app
        .book(&token, &slot.id, None)
        .await
        .json()
        .await
        .expect("a ticket");
    assert_eq!(app.cancel(&token, &ticket.id).await.status(), 204);
    expect_problem(app.cancel(&token, &ticket.id).await, 404, "not_found").await;
}

#[tokio::test]
async fn a_mis_that_cannot_be_reached_gives_503_mis_unavailable_and_readyz_says_so() {
    let closed = {
        let l = loopback();
        format!("http://{}", l.local_addr().expect("bound"))
    };
    let base = start_gateway(gateway_config(vec![demo_clinic(&closed)])).await;
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{base}/api/v1/clinics/demo/specialties"))
        .send()
        .await
        .expect("answers");
    let p = expect_problem(r, 503, "mis_unavailable").await;
    assert!(
        !serde_json::to_string(&p)
            .expect("json")
            .contains("127.0.0.1"),
        "nothing internal leaks"
    );
    let r = client
        .post(format!("{base}/api/v1/clinics/demo/sessions"))
        .json(&serde_json::json!({"document_number": PATIENT_FOUND.0, "policy_number": PATIENT_FOUND.1, "birth_date": PATIENT_FOUND.2}))
        .send()
        .await
        .expect("answers");
    let r = expect_problem(r, 503, "mis_unavailable").await;
    assert!(r.detail.is_some());
    let r = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 503);
}

#[tokio::test]
async fn a_mis_answering_garbage_gives_502_mis_bad_response() {
    let listener = loopback();
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    let server = HttpServer::new(|| {
        App::new().default_service(web::to(|| async {
            HttpResponse::Ok()
                .content_type("text/html")
                .body("<html><body>It works!</body></html>")
        }))
    })
    .workers(1)
    .listen(listener)
    .expect("listens")
    .run();
    tokio::spawn(server);
    let base = start_gateway(gateway_config(vec![demo_clinic(&url)])).await;
    let r = reqwest::get(format!("{base}/api/v1/clinics/demo/specialties"))
        .await
        .expect("answers");
    expect_problem(r, 502, "mis_bad_response").await;
}

#[tokio::test]
async fn a_key_or_a_credential_sent_twice_counts_as_neither() {
    let app = spawn_app().await;
    let (_, slot) = app.free_slot("Терапия").await;
    let token = app.login(PATIENT_FOUND).await;
    let r = app
        .client
        .post(format!("{}/tickets", app.api))
        .bearer_auth(&token)
        .header("Idempotency-Key", "first")
        .header("Idempotency-Key", "second")
        .json(&serde_json::json!({ "slot_id": slot.id }))
        .send()
        .await
        .expect("answers");
    let p = expect_problem(r, 422, "invalid_input").await;
    assert_eq!(
        (p.errors[0].field.as_str(), p.errors[0].reason.as_str()),
        ("Idempotency-Key", "repeated")
    );
    assert!(
        app.my_tickets(&token).await.is_empty(),
        "nothing was booked"
    );
    let r = app
        .client
        .get(format!("{}/tickets", app.api))
        .header("Authorization", format!("Bearer {token}"))
        .header("Authorization", "Bearer another")
        .send()
        .await
        .expect("answers");
    expect_problem(r, 401, "session_required").await;
}
