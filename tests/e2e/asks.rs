//! What patients ask for next, through the API: moving a ticket, the waiting list, booking by
//! referral.

use api_types::{List, Referral, Slot, Ticket, WaitingRequest};
use registratura_e2e::{
    FULL_SPECIALTY, PATIENT_FOUND, PATIENT_FOUND_2, REFERRAL_EXPIRED, REFERRAL_VALID,
    expect_problem, spawn_app,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_moves_to_another_time_in_one_step_and_a_failed_move_keeps_it() {
    let app = spawn_app().await;
    let (doctor, slot) = app.free_slot("Офтальмология").await;
    let token = app.login(PATIENT_FOUND).await;
    let ticket: Ticket = app
        .book(&token, &slot.id, None)
        .await
        .json()
        .await
        .expect("a ticket");
    let day = slot.start.date_naive();
    let free = app.slots(&doctor.id, day).await;
    let (taken_by_other, target) = (&free[0], &free[1]);

    // Someone else takes a time first: the move to it fails, the ticket stays.
    let other = app.login(PATIENT_FOUND_2).await;
    assert_eq!(
        app.book(&other, &taken_by_other.id, None).await.status(),
        201
    );
    expect_problem(
        app.reschedule(&token, &ticket.id, &taken_by_other.id, None)
            .await,
        409,
        "slot_taken",
    )
    .await;
    let mine = app.my_tickets(&token).await;
    assert_eq!(
        mine.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        [ticket.id.as_str()],
        "the old ticket is kept"
    );

    // Its own time, another patient's ticket, a ticket that is not there.
    expect_problem(
        app.reschedule(&token, &ticket.id, &slot.id, None).await,
        422,
        "invalid_input",
    )
    .await;
    let others: Vec<Ticket> = app.my_tickets(&other).await;
    expect_problem(
        app.reschedule(&token, &others[0].id, &target.id, None)
            .await,
        404,
        "not_found",
    )
    .await;

    // The move: a new ticket, the old one gone, its time free again; a retry is a replay.
    let r = app
        .reschedule(&token, &ticket.id, &target.id, Some("move-1"))
        .await;
    assert_eq!(r.status(), 201);
    assert!(r.headers().contains_key("location"));
    let moved: Ticket = r.json().await.expect("the new ticket");
    assert_eq!(moved.start, target.start);
    assert_eq!(moved.doctor.name, doctor.name);
    assert_eq!(moved.room, target.room);
    let again = app
        .reschedule(&token, &ticket.id, &target.id, Some("move-1"))
        .await;
    assert_eq!(again.status(), 201);
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    let mine = app.my_tickets(&token).await;
    assert_eq!(
        mine.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        [moved.id.as_str()]
    );
    assert!(
        app.slots(&doctor.id, day)
            .await
            .iter()
            .any(|s| s.start == slot.start),
        "the old time is free again"
    );
    // The same key for a booking is another request.
    expect_problem(
        app.book(&token, &target.id, Some("move-1")).await,
        422,
        "idempotency_key_reused",
    )
    .await;
    // A ticket that was moved cannot be moved again.
    expect_problem(
        app.reschedule(&token, &ticket.id, &free[2].id, None).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_queues_for_a_specialty_without_tickets_sees_the_request_and_withdraws_it() {
    let app = spawn_app().await;
    let listed = app.specialties().await;
    assert!(!listed.iter().any(|s| s.name == FULL_SPECIALTY));
    let all = app.all_specialties().await;
    let full = all
        .iter()
        .find(|s| s.name == FULL_SPECIALTY)
        .expect("listed with include_unavailable");
    assert_eq!(full.free_tickets, Some(0));
    assert!(all.len() > listed.len());
    let doctors: List<api_types::Doctor> = app
        .get_json(&format!(
            "/specialties/{}/doctors?include_unavailable=true",
            full.id
        ))
        .await;
    let doctor = &doctors.items[0];
    assert_eq!(doctor.free_tickets, Some(0));
    for path in [
        "/specialties?include_unavailable=1".to_owned(),
        format!("/specialties/{}/doctors?include_unavailable=yes", full.id),
    ] {
        let problem = expect_problem(app.get(&path).await, 422, "invalid_input").await;
        assert_eq!(problem.errors[0].field, "include_unavailable", "{path}");
    }

    let token = app.login(PATIENT_FOUND).await;
    let today = registratura_e2e::clinic_today();
    let from = today + chrono::Duration::days(3);
    let to = today + chrono::Duration::days(20);
    let body = serde_json::json!({
        "specialty_id": full.id,
        "doctor_id": doctor.id,
        "phone": "8 (916) 123-45-67",
        "from": from.to_string(),
        "to": to.to_string(),
    });
    let r = app.join_waiting_list(&token, &body).await;
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.headers().get("cache-control").map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    let text = r.text().await.expect("a body");
    assert!(!text.contains("916"), "the phone is never echoed: {text}");
    let created: WaitingRequest = serde_json::from_str(&text).expect("a request");
    assert_eq!(created.specialty.name, FULL_SPECIALTY);
    assert_eq!(
        created.doctor.as_ref().map(|d| d.name.as_str()),
        Some(doctor.name.as_str())
    );
    assert_eq!((created.from, created.to), (Some(from), Some(to)));
    assert_eq!(
        created.reason,
        Some(api_types::WaitingReason::NoFreeTickets)
    );

    expect_problem(
        app.join_waiting_list(&token, &body).await,
        409,
        "already_on_waiting_list",
    )
    .await;
    let listed = app.waiting_list(&token).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, created.id);
    assert_eq!(listed[0].doctor, created.doctor);
    assert_eq!((listed[0].from, listed[0].to), (Some(from), Some(to)));
    // The answer's time is to the second, as the listing's (the МИС's own clock, a moment
    // earlier).
    let (made, listed_at) = (
        created.created_at.expect("the gateway's own time"),
        listed[0].created_at.expect("the sandbox says when"),
    );
    assert_eq!(chrono::Timelike::nanosecond(&made), 0);
    assert!((made - listed_at).num_seconds().abs() <= 2);

    // Another patient neither sees nor withdraws it.
    let other = app.login(PATIENT_FOUND_2).await;
    assert!(app.waiting_list(&other).await.is_empty());
    expect_problem(
        app.leave_waiting_list(&other, &created.id).await,
        404,
        "not_found",
    )
    .await;

    // A bad phone is named without being echoed; a doctor of another specialty is unknown.
    let r = app
        .join_waiting_list(
            &token,
            &serde_json::json!({"specialty_id": full.id, "phone": "+1 555 0100"}),
        )
        .await;
    let mut problem = expect_problem(r, 422, "invalid_input").await;
    assert_eq!(problem.errors[0].field, "phone");
    // (The request id is random hex, where "555" may turn up by chance.)
    problem.request_id = None;
    assert!(
        !serde_json::to_string(&problem)
            .expect("json")
            .contains("555")
    );
    let therapy = app
        .specialties()
        .await
        .into_iter()
        .find(|s| s.name == "Терапия")
        .expect("therapy");
    let therapist = &app.doctors(&therapy.id).await[0];
    expect_problem(
        app.join_waiting_list(
            &token,
            &serde_json::json!({"specialty_id": full.id, "doctor_id": therapist.id, "phone": "+79161234567"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;

    // A specialty with tickets: the reason is that none suits.
    let r = app
        .join_waiting_list(
            &token,
            &serde_json::json!({"specialty_id": therapy.id, "phone": "+79161234567"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let convenient: WaitingRequest = r.json().await.expect("a request");
    assert_eq!(
        convenient.reason,
        Some(api_types::WaitingReason::NoConvenientTime)
    );

    assert_eq!(
        app.leave_waiting_list(&token, &created.id).await.status(),
        204
    );
    expect_problem(
        app.leave_waiting_list(&token, &created.id).await,
        404,
        "not_found",
    )
    .await;
    let left = app.waiting_list(&token).await;
    assert_eq!(
        left.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
        [convenient.id.as_str()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_s_requests_on_the_waiting_list_are_capped() {
    let app = spawn_app().await;
    let token = app.login(PATIENT_FOUND).await;
    let all = app.all_specialties().await;
    let mut joined = 0;
    for s in &all {
        let r = app
            .join_waiting_list(
                &token,
                &serde_json::json!({"specialty_id": s.id, "phone": "+79161234567"}),
            )
            .await;
        if joined < gateway_domain::waiting::MAX_REQUESTS_PER_PATIENT {
            assert_eq!(r.status(), 201);
            joined += 1;
        } else {
            expect_problem(r, 409, "waiting_list_full").await;
        }
    }
    assert_eq!(
        app.waiting_list(&token).await.len(),
        gateway_domain::waiting::MAX_REQUESTS_PER_PATIENT
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_shows_its_doctor_and_times_books_once_and_only_for_its_patient() {
    let app = spawn_app().await;
    let token = app.login(PATIENT_FOUND).await;
    let r = app
        .get_private(&token, &format!("/referrals/{REFERRAL_VALID}"))
        .await;
    assert_eq!(r.status(), 200);
    let referral: Referral = r.json().await.expect("a referral");
    assert_eq!(referral.specialty.name, "Кардиология");
    assert_eq!(referral.kind, api_types::ReferralKind::Consultation);
    assert_eq!(referral.doctors.len(), 1);
    assert!(referral.doctors[0].name.starts_with("Воробьёв"));
    let today = registratura_e2e::clinic_today();
    assert_eq!(
        referral.valid_until,
        Some(today + chrono::Duration::days(30)),
        "valid 30 days"
    );

    // The referral's doctor has no ticket open to self-booking.
    let cardiology = app
        .all_specialties()
        .await
        .into_iter()
        .find(|s| s.name == "Кардиология")
        .expect("cardiology");
    assert!(
        !app.doctors(&cardiology.id)
            .await
            .iter()
            .any(|d| d.id == referral.doctors[0].id),
        "a doctor seen only by referral is not listed for self-booking"
    );
    let slots: List<Slot> = app
        .get_private(&token, &format!("/referrals/{REFERRAL_VALID}/slots"))
        .await
        .json()
        .await
        .expect("slots");
    assert!(slots.items.len() > 3, "{}", slots.items.len());
    assert!(slots.items.windows(2).all(|w| w[0].start <= w[1].start));
    let slot = &slots.items[0];
    // Not bookable without the referral, nor by another patient's.
    expect_problem(app.book(&token, &slot.id, None).await, 409, "slot_taken").await;
    let other = app.login(PATIENT_FOUND_2).await;
    for path in [
        format!("/referrals/{REFERRAL_VALID}"),
        format!("/referrals/{REFERRAL_VALID}/slots"),
        "/referrals/9999999999".to_owned(),
    ] {
        expect_problem(
            app.get_private(&other, &path).await,
            404,
            "referral_not_found",
        )
        .await;
    }
    expect_problem(
        app.book_by_referral(&other, &slot.id, REFERRAL_VALID).await,
        404,
        "referral_not_found",
    )
    .await;
    expect_problem(
        app.get_private(&token, &format!("/referrals/{REFERRAL_EXPIRED}"))
            .await,
        409,
        "referral_expired",
    )
    .await;
    expect_problem(
        app.book_by_referral(&token, &slot.id, REFERRAL_EXPIRED)
            .await,
        409,
        "referral_expired",
    )
    .await;
    expect_problem(
        app.get_private(&token, "/referrals/%E2%84%96%201").await,
        422,
        "invalid_input",
    )
    .await;

    let r = app.book_by_referral(&token, &slot.id, REFERRAL_VALID).await;
    assert_eq!(r.status(), 201);
    let ticket: Ticket = r.json().await.expect("a ticket");
    assert_eq!(ticket.specialty.name, "Кардиология");
    assert_eq!(ticket.doctor.name, referral.doctors[0].name);
    assert_eq!(ticket.start, slot.start);
    assert!(
        app.my_tickets(&token)
            .await
            .iter()
            .any(|t| t.id == ticket.id)
    );
    expect_problem(
        app.get_private(&token, &format!("/referrals/{REFERRAL_VALID}"))
            .await,
        409,
        "referral_used",
    )
    .await;
    expect_problem(
        app.book_by_referral(&token, &slots.items[1].id, REFERRAL_VALID)
            .await,
        409,
        "referral_used",
    )
    .await;
    assert_eq!(ticket.referral.as_deref(), Some(REFERRAL_VALID));

    // The visit moves to another of the referral's times, and keeps its referral: the
    // referral's times are still listed while it is used, and the gateway remembers which
    // referral booked the visit.
    let listed: List<Slot> = app
        .get_private(&token, &format!("/referrals/{REFERRAL_VALID}/slots"))
        .await
        .json()
        .await
        .expect("the times of a used referral");
    assert!(listed.items.iter().any(|s| s.id == slots.items[1].id));
    let r = app
        .reschedule(&token, &ticket.id, &slots.items[1].id, None)
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let moved: Ticket = r.json().await.expect("the moved ticket");
    assert_eq!(moved.start, slots.items[1].start);
    assert_eq!(moved.referral.as_deref(), Some(REFERRAL_VALID));
    // Named in the body (as an integrator whose gateway forgot it would), to a third time.
    let r = app
        .post_private(
            &token,
            &format!("/tickets/{}/reschedule", moved.id),
            &serde_json::json!({ "slot_id": slots.items[2].id, "referral": REFERRAL_VALID }),
            None,
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let ticket: Ticket = r.json().await.expect("the moved ticket");
    assert_eq!(ticket.start, slots.items[2].start);
    let mine = app.my_tickets(&token).await;
    assert_eq!(
        mine.iter()
            .filter(|t| t.specialty.name == "Кардиология")
            .map(|t| (t.id.as_str(), t.referral.as_deref()))
            .collect::<Vec<_>>(),
        vec![(ticket.id.as_str(), Some(REFERRAL_VALID))],
        "one visit, by the referral"
    );
    // A referral's visit does not move into another specialty; it stays.
    let (_, elsewhere) = app.free_slot("Терапия").await;
    let problem = expect_problem(
        app.reschedule(&token, &ticket.id, &elsewhere.id, None)
            .await,
        422,
        "invalid_input",
    )
    .await;
    assert_eq!(problem.errors[0].reason, "other_specialty");
    assert!(
        app.my_tickets(&token)
            .await
            .iter()
            .any(|t| t.id == ticket.id)
    );
    // A used referral cannot move another visit onto its times (here, of another specialty:
    // a move keeps the visit's).
    let (_, own) = app.free_slot("Офтальмология").await;
    let r = app.book(&token, &own.id, None).await;
    assert_eq!(r.status(), 201);
    let eye: Ticket = r.json().await.expect("a ticket");
    let r = app
        .post_private(
            &token,
            &format!("/tickets/{}/reschedule", eye.id),
            &serde_json::json!({ "slot_id": slots.items[3].id, "referral": REFERRAL_VALID }),
            None,
        )
        .await;
    let problem = expect_problem(r, 422, "invalid_input").await;
    assert_eq!(problem.errors[0].field, "slot_id");
    assert_eq!(app.cancel(&token, &eye.id).await.status(), 204);

    // Cancelling the visit frees the referral.
    assert_eq!(app.cancel(&token, &ticket.id).await.status(), 204);
    assert_eq!(
        app.get_private(&token, &format!("/referrals/{REFERRAL_VALID}"))
            .await
            .status(),
        200
    );
    // A referral does not book another doctor's ticket.
    let (_, other_slot) = app.free_slot("Терапия").await;
    expect_problem(
        app.book_by_referral(&token, &other_slot.id, REFERRAL_VALID)
            .await,
        409,
        "booking_not_allowed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_integrator_s_example_script_runs_every_flow() {
    if !registratura_e2e::require_tool("curl", &["--version"], "the example script calls the API")
        || !registratura_e2e::require_tool("python3", &["--version"], "the example reads JSON")
    {
        return;
    }
    let app = spawn_app().await;
    let script =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/integrator.sh");
    let output = tokio::process::Command::new("bash")
        .arg(script)
        .arg(&app.base)
        .output()
        .await
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("ALL FLOWS OK"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The whole number, in any spelling (ticket ids may hold "916" by chance).
    assert!(
        ["916 123", "9161234567", "123-45-67"]
            .iter()
            .all(|phone| !stdout.contains(phone)),
        "the phone is never echoed: {stdout}"
    );
}
