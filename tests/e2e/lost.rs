//! When the МИС's answer is lost: the patient is told what the МИС holds. The sandbox books
//! (or moves, cancels, registers, withdraws) behind a proxy that holds its answer past the
//! deadline, or closes the connection right after the request went through; the gateway reads
//! the patient's history (or waiting list) and answers from it, and a retry with the same key
//! is answered from the truth, never by writing again blindly.

use registratura_e2e::{
    FULL_SPECIALTY, FaultProxy, MisFault, PATIENT_FOUND, TestApp, demo_clinic, expect_problem,
    gateway_config, start_fault_proxy, start_gateway, start_sandbox,
};
use std::time::Duration;

/// One attempt of a МИС call may take this long; a read, with its retries, twice that.
const ATTEMPT_MS: u64 = 800;

/// Ways an answer goes missing after the МИС acted.
fn losses() -> [(&'static str, MisFault); 2] {
    [
        (
            "held past the deadline",
            MisFault::AnswerHeld(Duration::from_millis(ATTEMPT_MS * 3)),
        ),
        ("dropped at once", MisFault::AnswerDropped),
    ]
}

/// A gateway in front of the sandbox behind a fault proxy.
async fn app_behind_faults() -> (TestApp, FaultProxy) {
    let (sandbox, sandbox_url) = start_sandbox();
    let proxy = start_fault_proxy(sandbox_url.clone()).await;
    let mut clinic = demo_clinic(&proxy.url);
    clinic.mis.attempt_timeout_ms = ATTEMPT_MS;
    clinic.mis.deadline_ms = ATTEMPT_MS * 2;
    clinic.mis.breaker_threshold = 100;
    let base = start_gateway(gateway_config(vec![clinic])).await;
    (TestApp::at(&base, sandbox, sandbox_url), proxy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_whose_answer_is_lost_is_the_ticket_the_mis_holds_and_its_retry_replays_it() {
    let (app, proxy) = app_behind_faults().await;
    let token = app.login(PATIENT_FOUND).await;
    for (i, (how, fault)) in losses().into_iter().enumerate() {
        let specialty = ["Терапия", "Офтальмология"][i];
        let (_, slot) = app.free_slot(specialty).await;
        let key = format!("lost-{i}");
        let writes = proxy.count("SetAppointment");
        proxy.fail("SetAppointment", fault, 1);
        let r = app.book(&token, &slot.id, Some(&key)).await;
        assert_eq!(r.status(), 201, "{how}: {:?}", r.text().await);
        let ticket: api_types::Ticket = r.json().await.expect("a ticket");
        assert_eq!(ticket.start, slot.start, "{how}");
        let mine = app.my_tickets(&token).await;
        assert!(
            mine.iter().any(|t| t.id == ticket.id),
            "{how}: «Мои записи» agrees"
        );
        let retry = app.book(&token, &slot.id, Some(&key)).await;
        assert_eq!(retry.status(), 201, "{how}");
        assert_eq!(
            retry
                .headers()
                .get("idempotent-replayed")
                .and_then(|v| v.to_str().ok()),
            Some("true")
        );
        // Without the key, the patient's own time is still their ticket, not «taken».
        let again = app.book(&token, &slot.id, None).await;
        assert_eq!(
            again.status(),
            201,
            "{how}: never slot_taken for one's own ticket"
        );
        assert_eq!(
            proxy.count("SetAppointment"),
            writes + 1,
            "{how}: one write; the retries read"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_nobody_can_confirm_is_outcome_unknown_and_its_retry_finds_the_truth() {
    let (app, proxy) = app_behind_faults().await;
    let token = app.login(PATIENT_FOUND).await;
    let (_, slot) = app.free_slot("Терапия").await;
    proxy.fail("SetAppointment", MisFault::AnswerDropped, 1);
    proxy.fail("GetPatientHistory", MisFault::Down, 100);
    let r = app.book(&token, &slot.id, Some("unknown-1")).await;
    assert!(r.headers().contains_key("retry-after"));
    let problem = expect_problem(r, 503, "outcome_unknown").await;
    assert!(problem.detail.is_some_and(|d| d.contains("My visits")));
    proxy.clear();
    let retry = app.book(&token, &slot.id, Some("unknown-1")).await;
    assert_eq!(retry.status(), 201);
    let ticket: api_types::Ticket = retry.json().await.expect("a ticket");
    assert_eq!(ticket.start, slot.start);
    assert_eq!(
        proxy.count("SetAppointment"),
        1,
        "read first, never booked twice"
    );
    // Nothing booked, nobody can tell: the retry reads, finds nothing, and books.
    let (_, other) = app.free_slot("Офтальмология").await;
    proxy.fail("SetAppointment", MisFault::Swallowed, 1);
    proxy.fail("GetPatientHistory", MisFault::Down, 100);
    let r = app.book(&token, &other.id, Some("unknown-2")).await;
    expect_problem(r, 503, "outcome_unknown").await;
    proxy.clear();
    let retry = app.book(&token, &other.id, Some("unknown-2")).await;
    assert_eq!(retry.status(), 201);
    assert!(!retry.headers().contains_key("idempotent-replayed"));
    assert_eq!(
        proxy.count("SetAppointment"),
        3,
        "one unseen, then one after reading"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_or_a_cancellation_whose_answer_is_lost_ends_as_the_mis_holds_it() {
    let (app, proxy) = app_behind_faults().await;
    let token = app.login(PATIENT_FOUND).await;
    let (doctor, slot) = app.free_slot("Терапия").await;
    let ticket: api_types::Ticket = app
        .book(&token, &slot.id, None)
        .await
        .json()
        .await
        .expect("a ticket");
    let others: Vec<api_types::Slot> = app
        .slots(&doctor.id, slot.start.date_naive())
        .await
        .into_iter()
        .filter(|s| s.id != slot.id)
        .collect();
    // Not moved (the request never reached the МИС): the old ticket stands, and says so.
    proxy.fail("SetAppointment", MisFault::Swallowed, 1);
    let r = app
        .reschedule(&token, &ticket.id, &others[0].id, None)
        .await;
    let problem = expect_problem(r, 503, "mis_unavailable").await;
    assert!(problem.detail.is_some_and(|d| d.contains("stands")));
    assert_eq!(app.my_tickets(&token).await[0].id, ticket.id);
    // Moved, the answer lost: the new ticket.
    for (i, (how, fault)) in losses().into_iter().enumerate() {
        let from = app.my_tickets(&token).await[0].id.clone();
        proxy.fail("SetAppointment", fault, 1);
        let r = app
            .reschedule(&token, &from, &others[i + 1].id, Some(&format!("move-{i}")))
            .await;
        assert_eq!(r.status(), 201, "{how}");
        let moved: api_types::Ticket = r.json().await.expect("a ticket");
        assert_eq!(moved.start, others[i + 1].start, "{how}");
        let mine = app.my_tickets(&token).await;
        assert_eq!(mine.len(), 1, "{how}: one ticket");
        assert_eq!(mine[0].id, moved.id, "{how}");
    }
    // Cancelled, the answer lost: gone.
    let last = app.my_tickets(&token).await[0].id.clone();
    proxy.fail("CreateClaimForRefusal", MisFault::AnswerDropped, 1);
    assert_eq!(app.cancel(&token, &last).await.status(), 204);
    assert!(app.my_tickets(&token).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_list_change_whose_answer_is_lost_ends_as_the_mis_holds_it() {
    let (app, proxy) = app_behind_faults().await;
    let token = app.login(PATIENT_FOUND).await;
    let full = app
        .all_specialties()
        .await
        .into_iter()
        .find(|s| s.name == FULL_SPECIALTY)
        .expect("a specialty without tickets");
    let body = serde_json::json!({"specialty_id": full.id, "phone": "+7 916 123-45-67"});
    proxy.fail("RegisterPARequest", MisFault::AnswerDropped, 1);
    let r = app.join_waiting_list(&token, &body).await;
    assert_eq!(r.status(), 201);
    let joined: api_types::WaitingRequest = r.json().await.expect("a request");
    let listed = app.waiting_list(&token).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, joined.id, "the request the МИС holds");
    proxy.fail(
        "CancelPARequest",
        MisFault::AnswerHeld(Duration::from_millis(ATTEMPT_MS * 3)),
        1,
    );
    assert_eq!(
        app.leave_waiting_list(&token, &joined.id).await.status(),
        204
    );
    assert!(app.waiting_list(&token).await.is_empty());
    // Not registered (never reached the МИС): the failure, and nothing held.
    proxy.fail("RegisterPARequest", MisFault::Swallowed, 1);
    let r = app.join_waiting_list(&token, &body).await;
    expect_problem(r, 503, "mis_unavailable").await;
    assert!(app.waiting_list(&token).await.is_empty());
}
