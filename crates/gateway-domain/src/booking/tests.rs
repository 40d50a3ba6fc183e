//! Booking, moving and cancelling against a МИС in memory ([`crate::fake`]).

use super::*;
use crate::fake::{self, FakeMis, Fault, PATIENT, REFERRAL};
use crate::ids::DoctorKey;
use api_types::ErrorCode;
use mis::{DoctorId, PatientId, SpecialtyId};
use std::time::Duration;

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
        fingerprint: crate::idempotency::fingerprint(body.as_bytes()),
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
    let old_id = crate::ids::parse_ticket(&old.id).expect("an id");
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
    let id = crate::ids::parse_ticket(&ticket.id).expect("an id");
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
    let old = crate::ids::parse_ticket(&ticket.id).expect("an id");
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
