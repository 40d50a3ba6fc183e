//! Booking, moving and cancelling against a МИС in memory ([`crate::fake`]).

use crate::fake::{self, FakeMis, Fault, PATIENT, REFERRAL};
use gateway_domain::booking::{Plan, book, cancel, tickets};
use gateway_domain::claims::{Answer, Keyed};
use gateway_domain::gateway::Gateway;
use gateway_domain::ids::{DoctorKey, SlotKey};
use gateway_domain::sessions::Session;
use gateway_domain::views::Ticket;
use mis::{AppointmentId, ReferralNumber};
use mis::{DoctorId, PatientId, SpecialtyId};
use std::sync::Arc;
use std::time::Duration;
use vocabulary::ErrorCode;

fn session(patient: &str) -> Session {
    Session::new(
        "demo",
        PatientId::parse(patient).expect("an id"),
        Duration::from_secs(60),
    )
}

/// The public id of ticket `i` of doctor `doctor` (of `specialty`), tomorrow.
fn slot(specialty: &str, doctor: &str, i: u32) -> String {
    SlotKey {
        doctor: DoctorKey {
            specialty: SpecialtyId::parse(specialty).expect("an id"),
            doctor: DoctorId::parse(doctor).expect("an id"),
        },
        appointment: AppointmentId::parse(format!("{doctor}-{i}")).expect("an id"),
        date: fake::tomorrow(),
    }
    .encode()
}

fn keyed(key: &str, body: &str) -> Option<Keyed> {
    Some(Keyed {
        key: key.into(),
        fingerprint: gateway_domain::idempotency::fingerprint(body.as_bytes()),
    })
}

async fn book_as(
    gateway: &Arc<Gateway>,
    patient: &str,
    slot_id: &str,
    plan: Plan,
    key: Option<Keyed>,
) -> Answer<Ticket> {
    let clinic = gateway.clinics()[0].clone();
    book(
        gateway.clone(),
        clinic,
        session(patient),
        slot_id,
        plan,
        key,
    )
    .await
}

#[tokio::test]
async fn a_free_time_is_booked_once_and_the_next_patient_hears_it_is_taken() {
    let mis = Arc::new(FakeMis::new());
    let gateway = fake::gateway(mis.clone());
    let first = book_as(&gateway, PATIENT, &slot("1", "d1", 0), Plan::New, None).await;
    let ticket = first.result.expect("booked");
    assert_eq!(ticket.specialty.name, "Терапия");
    assert_eq!(ticket.doctor.name, "Иванова");
    assert_eq!(ticket.room.as_deref(), Some("101"));
    assert_eq!(mis.holder("d1-0").as_deref(), Some(PATIENT));
    let second = book_as(&gateway, fake::OTHER, &slot("1", "d1", 0), Plan::New, None).await;
    assert_eq!(second.result.expect_err("taken").code, ErrorCode::SlotTaken);
    // The same patient, another time of the specialty: one upcoming ticket per specialty.
    let again = book_as(&gateway, PATIENT, &slot("1", "d2", 0), Plan::New, None).await;
    assert_eq!(
        again.result.expect_err("one per specialty").code,
        ErrorCode::AlreadyBooked
    );
}

#[tokio::test]
async fn a_key_replays_its_first_answer_and_another_body_under_it_is_refused() {
    let mis = Arc::new(FakeMis::new());
    let gateway = fake::gateway(mis.clone());
    let s = slot("1", "d1", 1);
    let first = book_as(&gateway, PATIENT, &s, Plan::New, keyed("k", "a")).await;
    let ticket = first.result.expect("booked");
    assert!(!first.replayed);
    let replay = book_as(&gateway, PATIENT, &s, Plan::New, keyed("k", "a")).await;
    assert!(replay.replayed);
    assert_eq!(replay.result.expect("the same ticket").id, ticket.id);
    assert_eq!(
        mis.writes.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one write"
    );
    let other = book_as(&gateway, PATIENT, &s, Plan::New, keyed("k", "b")).await;
    assert_eq!(
        other.result.expect_err("another body").code,
        ErrorCode::IdempotencyKeyReused
    );
}

#[tokio::test]
async fn an_unreachable_mis_books_nothing_and_frees_the_key_for_the_retry() {
    let mis = Arc::new(FakeMis::new());
    let gateway = fake::gateway(mis.clone());
    let s = slot("1", "d1", 2);
    mis.fail_next_write(Fault::Unreachable);
    let failed = book_as(&gateway, PATIENT, &s, Plan::New, keyed("k", "a")).await;
    assert_eq!(
        failed.result.expect_err("down").code,
        ErrorCode::MisUnavailable
    );
    assert_eq!(mis.holder("d1-2"), None);
    let retry = book_as(&gateway, PATIENT, &s, Plan::New, keyed("k", "a")).await;
    assert!(!retry.replayed, "the key was released: the retry books");
    retry.result.expect("booked");
}

#[tokio::test]
async fn a_move_takes_the_new_time_frees_the_old_and_a_taken_time_keeps_the_old() {
    let mis = Arc::new(FakeMis::new());
    let gateway = fake::gateway(mis.clone());
    let old = book_as(&gateway, PATIENT, &slot("1", "d1", 0), Plan::New, None)
        .await
        .result
        .expect("booked");
    let taken = book_as(&gateway, fake::OTHER, &slot("1", "d2", 3), Plan::New, None).await;
    taken.result.expect("the other patient books");
    let old_id = gateway_domain::ids::parse_ticket(&old.id).expect("an id");
    let refused = book_as(
        &gateway,
        PATIENT,
        &slot("1", "d2", 3),
        Plan::Move(old_id.clone(), None),
        None,
    )
    .await;
    assert_eq!(
        refused.result.expect_err("taken").code,
        ErrorCode::SlotTaken
    );
    assert_eq!(
        mis.holder("d1-0").as_deref(),
        Some(PATIENT),
        "the old ticket stays"
    );
    let moved = book_as(
        &gateway,
        PATIENT,
        &slot("1", "d2", 4),
        Plan::Move(old_id.clone(), None),
        None,
    )
    .await;
    moved.result.expect("moved");
    assert_eq!(mis.holder("d1-0"), None);
    assert_eq!(mis.holder("d2-4").as_deref(), Some(PATIENT));
    // Into another specialty: refused, nothing asked of the МИС.
    let writes = mis.writes.load(std::sync::atomic::Ordering::SeqCst);
    let new_id = AppointmentId::parse("d2-4").expect("an id");
    let other = book_as(
        &gateway,
        PATIENT,
        &slot("2", "d3", 0),
        Plan::Move(new_id, None),
        None,
    )
    .await;
    let failure = other.result.expect_err("another specialty");
    assert_eq!(failure.fields[0].reason, "other_specialty");
    assert_eq!(mis.writes.load(std::sync::atomic::Ordering::SeqCst), writes);
}

#[tokio::test]
async fn a_ticket_is_cancelled_by_its_own_patient_only() {
    let mis = Arc::new(FakeMis::new());
    let gateway = fake::gateway(mis.clone());
    let ticket = book_as(&gateway, PATIENT, &slot("1", "d1", 5), Plan::New, None)
        .await
        .result
        .expect("booked");
    let id = gateway_domain::ids::parse_ticket(&ticket.id).expect("an id");
    let clinic = gateway.clinics()[0].clone();
    let theirs = cancel(
        gateway.clone(),
        clinic.clone(),
        session(fake::OTHER),
        id.clone(),
    )
    .await;
    assert_eq!(theirs.expect_err("not theirs").code, ErrorCode::NotFound);
    assert_eq!(mis.holder("d1-5").as_deref(), Some(PATIENT));
    cancel(gateway.clone(), clinic.clone(), session(PATIENT), id)
        .await
        .expect("cancelled");
    assert_eq!(mis.holder("d1-5"), None);
    let listed = tickets(&gateway, &clinic, &session(PATIENT))
        .await
        .expect("listed");
    assert!(listed.is_empty());
}

#[tokio::test]
async fn a_referral_books_one_visit_and_moves_it_among_its_times() {
    let mis = Arc::new(FakeMis::new());
    let gateway = fake::gateway(mis.clone());
    let number = ReferralNumber::parse(REFERRAL).expect("a number");
    let first = book_as(
        &gateway,
        PATIENT,
        &slot("2", "d3", 0),
        Plan::ByReferral(number.clone()),
        None,
    )
    .await;
    let ticket = first.result.expect("booked by the referral");
    assert_eq!(ticket.referral.as_deref(), Some(REFERRAL));
    let second = book_as(
        &gateway,
        PATIENT,
        &slot("2", "d3", 1),
        Plan::ByReferral(number),
        None,
    )
    .await;
    assert_eq!(
        second.result.expect_err("used").code,
        ErrorCode::ReferralUsed
    );
    // The visit moves, keeping its referral (remembered with the ticket).
    let old = gateway_domain::ids::parse_ticket(&ticket.id).expect("an id");
    let moved = book_as(
        &gateway,
        PATIENT,
        &slot("2", "d3", 2),
        Plan::Move(old, None),
        None,
    )
    .await;
    assert_eq!(
        moved.result.expect("moved").referral.as_deref(),
        Some(REFERRAL)
    );
    assert_eq!(mis.holder("d3-2").as_deref(), Some(PATIENT));
    assert_eq!(mis.holder("d3-0"), None);
}

#[tokio::test]
async fn a_booking_whose_answer_is_lost_is_read_back_and_answered_as_booked() {
    let mis = Arc::new(FakeMis::new());
    let gateway = fake::gateway(mis.clone());
    let s = slot("1", "d1", 0);
    mis.fail_next_write(Fault::AnswerLost);
    let first = book_as(&gateway, PATIENT, &s, Plan::New, keyed("k", "a")).await;
    let ticket = first.result.expect("the МИС holds it: booked");
    assert_eq!(ticket.room.as_deref(), Some("101"), "the details it booked");
    assert_eq!(mis.holder("d1-0").as_deref(), Some(PATIENT));
    let retry = book_as(&gateway, PATIENT, &s, Plan::New, keyed("k", "a")).await;
    assert!(retry.replayed);
    assert_eq!(retry.result.expect("the same").id, ticket.id);
    assert_eq!(mis.write_count(), 1, "no second write");
}

#[tokio::test]
async fn a_lost_answer_with_nothing_booked_is_the_failure_and_the_retry_books() {
    let mis = Arc::new(FakeMis::new());
    let gateway = fake::gateway(mis.clone());
    let s = slot("1", "d1", 1);
    mis.fail_next_write(Fault::LostUndone);
    let first = book_as(&gateway, PATIENT, &s, Plan::New, keyed("k", "a")).await;
    assert_eq!(
        first.result.expect_err("not booked").code,
        ErrorCode::MisUnavailable
    );
    assert_eq!(mis.holder("d1-1"), None);
    let retry = book_as(&gateway, PATIENT, &s, Plan::New, keyed("k", "a")).await;
    assert!(!retry.replayed);
    retry.result.expect("booked now");
    assert_eq!(mis.write_count(), 2);
}

#[tokio::test]
async fn an_outcome_nobody_can_read_is_outcome_unknown_and_the_retry_reads_before_it_books() {
    let mis = Arc::new(FakeMis::new());
    let gateway = fake::gateway(mis.clone());
    let s = slot("1", "d1", 2);
    mis.fail_next_write(Fault::AnswerLost);
    mis.set_reads_down(true);
    let first = book_as(&gateway, PATIENT, &s, Plan::New, keyed("k", "a")).await;
    let failure = first.result.expect_err("unknown");
    assert_eq!(failure.code, ErrorCode::OutcomeUnknown);
    assert_eq!(failure.retry_after, Some(5));
    mis.set_reads_down(false);
    let retry = book_as(&gateway, PATIENT, &s, Plan::New, keyed("k", "a")).await;
    assert!(retry.replayed, "the earlier request's ticket");
    assert_eq!(retry.result.expect("booked, found").doctor.name, "Иванова");
    assert_eq!(
        mis.write_count(),
        1,
        "the retry read, and did not write again"
    );
    // Unknown and not booked: the retry reads, finds nothing, and books.
    let other = slot("1", "d2", 2);
    let cancel_first = tickets(&gateway, &gateway.clinics()[0], &session(PATIENT)).await;
    for t in cancel_first.expect("listed") {
        let id = gateway_domain::ids::parse_ticket(&t.id).expect("an id");
        cancel(
            gateway.clone(),
            gateway.clinics()[0].clone(),
            session(PATIENT),
            id,
        )
        .await
        .expect("cancelled");
    }
    mis.fail_next_write(Fault::LostUndone);
    mis.set_reads_down(true);
    let lost = book_as(&gateway, PATIENT, &other, Plan::New, keyed("k2", "b")).await;
    assert_eq!(
        lost.result.expect_err("unknown").code,
        ErrorCode::OutcomeUnknown
    );
    mis.set_reads_down(false);
    let retry = book_as(&gateway, PATIENT, &other, Plan::New, keyed("k2", "b")).await;
    assert!(!retry.replayed);
    retry.result.expect("booked by the retry, after reading");
    assert_eq!(mis.holder("d2-2").as_deref(), Some(PATIENT));
}

#[tokio::test]
async fn the_patient_s_own_time_is_never_slot_taken() {
    let mis = Arc::new(FakeMis::new());
    let gateway = fake::gateway(mis.clone());
    let s = slot("1", "d1", 3);
    let ticket = book_as(&gateway, PATIENT, &s, Plan::New, None)
        .await
        .result
        .expect("booked");
    // The patient asks again for the time they hold (a retry without a key).
    let again = book_as(&gateway, PATIENT, &s, Plan::New, None).await;
    assert_eq!(again.result.expect("their own ticket").id, ticket.id);
    let keyed_again = book_as(&gateway, PATIENT, &s, Plan::New, keyed("k", "a")).await;
    assert!(
        keyed_again.replayed,
        "the ticket came through a key: it is an earlier answer"
    );
    assert_eq!(mis.write_count(), 1);
    // Another patient still hears it is taken.
    let theirs = book_as(&gateway, fake::OTHER, &s, Plan::New, None).await;
    assert_eq!(theirs.result.expect_err("taken").code, ErrorCode::SlotTaken);
}

#[tokio::test]
async fn a_move_whose_answer_is_lost_ends_as_the_mis_holds_it() {
    let mis = Arc::new(FakeMis::new());
    let gateway = fake::gateway(mis.clone());
    let old = book_as(&gateway, PATIENT, &slot("1", "d1", 0), Plan::New, None)
        .await
        .result
        .expect("booked");
    let old_id = gateway_domain::ids::parse_ticket(&old.id).expect("an id");
    // Not moved: the old ticket stands, and the answer says so.
    mis.fail_next_write(Fault::LostUndone);
    let kept = book_as(
        &gateway,
        PATIENT,
        &slot("1", "d1", 1),
        Plan::Move(old_id.clone(), None),
        None,
    )
    .await;
    let failure = kept.result.expect_err("not moved");
    assert_eq!(failure.code, ErrorCode::MisUnavailable);
    assert!(
        failure
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("stands")),
        "{failure:?}"
    );
    assert_eq!(mis.holder("d1-0").as_deref(), Some(PATIENT));
    // Moved: the new ticket.
    mis.fail_next_write(Fault::AnswerLost);
    let moved = book_as(
        &gateway,
        PATIENT,
        &slot("1", "d1", 1),
        Plan::Move(old_id.clone(), None),
        None,
    )
    .await;
    moved.result.expect("moved");
    assert_eq!(mis.holder("d1-0"), None);
    // Asked again, the move is done already: its ticket, not «ticket not found».
    let again = book_as(
        &gateway,
        PATIENT,
        &slot("1", "d1", 1),
        Plan::Move(old_id, None),
        None,
    )
    .await;
    assert_eq!(
        again
            .result
            .expect("the new ticket")
            .start
            .format("%H:%M")
            .to_string(),
        "09:20"
    );
}

#[tokio::test]
async fn a_cancellation_whose_answer_is_lost_ends_as_the_mis_holds_it() {
    let mis = Arc::new(FakeMis::new());
    let gateway = fake::gateway(mis.clone());
    let clinic = gateway.clinics()[0].clone();
    let ticket = book_as(&gateway, PATIENT, &slot("1", "d1", 4), Plan::New, None)
        .await
        .result
        .expect("booked");
    let id = gateway_domain::ids::parse_ticket(&ticket.id).expect("an id");
    mis.fail_next_write(Fault::LostUndone);
    let kept = cancel(
        gateway.clone(),
        clinic.clone(),
        session(PATIENT),
        id.clone(),
    )
    .await;
    assert_eq!(
        kept.expect_err("not cancelled").code,
        ErrorCode::MisUnavailable
    );
    assert_eq!(mis.holder("d1-4").as_deref(), Some(PATIENT));
    mis.fail_next_write(Fault::AnswerLostUnread);
    let unknown = cancel(
        gateway.clone(),
        clinic.clone(),
        session(PATIENT),
        id.clone(),
    )
    .await;
    assert_eq!(
        unknown.expect_err("unknown").code,
        ErrorCode::OutcomeUnknown
    );
    mis.set_reads_down(false);
    assert_eq!(mis.holder("d1-4"), None, "the МИС did cancel it");
    let again = book_as(&gateway, PATIENT, &slot("1", "d1", 5), Plan::New, None).await;
    let fresh = again.result.expect("booked");
    let fresh_id = gateway_domain::ids::parse_ticket(&fresh.id).expect("an id");
    mis.fail_next_write(Fault::AnswerLost);
    cancel(gateway.clone(), clinic, session(PATIENT), fresh_id)
        .await
        .expect("gone from the history: cancelled");
}
