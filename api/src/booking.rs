//! Booking (a new ticket, one by a referral, or a move of a ticket to another time),
//! cancelling and the patient's tickets, as a service on typed results: handlers only turn
//! HTTP into these calls and their results into HTTP.
//!
//! A booking or a cancellation, once started, runs to its end in a task of its own, whatever
//! the client does: a client that goes away mid-booking cannot leave the МИС booked and the
//! gateway unaware. Its outcome is kept under the request's `Idempotency-Key` (if any), so the
//! retry the client makes gets that answer. A move is one `SetAppointment` with the old
//! ticket named: the МИС moves the visit in one step, and keeps the old ticket if it cannot.

use crate::audit::Audit;
use crate::error::ApiError;
use crate::idempotency::{Outcome, Scope};
use crate::ids::{self, SlotKey};
use crate::referrals::Purpose;
use crate::sessions::Session;
use crate::shared::{Claimed, Idempotency};
use crate::state::{AppState, ClinicEntry, SlotDetails};
use actix_web::web;
use api_types::{ErrorCode, NamedRef, Ticket};
use chrono::Timelike;
use mis::{AppointmentId, DateRange, Mis, ReferralNumber, Visit};
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// A result, and whether it is the replay of an earlier request's.
#[derive(Debug)]
pub struct Answer<T> {
    pub result: Result<T, ApiError>,
    pub replayed: bool,
}

impl<T> Answer<T> {
    fn fresh(result: Result<T, ApiError>) -> Self {
        Self {
            result,
            replayed: false,
        }
    }
}

/// An `Idempotency-Key` with the fingerprint of its request's body.
#[derive(Debug, Clone)]
pub struct Keyed {
    pub key: String,
    pub fingerprint: [u8; 32],
}

/// What a booking does besides taking a slot.
#[derive(Debug, Clone)]
pub enum Plan {
    /// A new ticket.
    New,
    /// A new ticket by one of the patient's referrals.
    ByReferral(ReferralNumber),
    /// The patient's upcoming ticket moved to the slot; with a referral (given, or the one the
    /// gateway remembers the visit was booked by), to one of the referral's slots.
    Move(AppointmentId, Option<ReferralNumber>),
}

impl Plan {
    fn operation(&self) -> &'static str {
        match self {
            Self::New | Self::ByReferral(_) => "book",
            Self::Move(..) => "reschedule",
        }
    }

    fn done(&self) -> &'static str {
        match self {
            Self::New | Self::ByReferral(_) => "booked",
            Self::Move(..) => "rescheduled",
        }
    }
}

/// Refusals a retry would meet again: kept under the key. Anything else (input errors, the
/// МИС down) releases it.
fn is_final(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::SlotTaken
            | ErrorCode::AlreadyBooked
            | ErrorCode::NotAttached
            | ErrorCode::BookingNotAllowed
            | ErrorCode::ReferralExpired
            | ErrorCode::ReferralUsed
            | ErrorCode::ReferralCancelled
    )
}

fn outcome_of(result: &Result<Ticket, ApiError>) -> Option<Outcome> {
    match result {
        Ok(ticket) => Some(Outcome::Booked(ticket.clone())),
        Err(e) if is_final(e.code) => Some(Outcome::Refused(e.problem())),
        Err(_) => None,
    }
}

/// Books the slot `slot_id` for the session's patient, as `plan` says.
pub async fn book(
    state: web::Data<AppState>,
    clinic: ClinicEntry,
    session: Session,
    slot_id: &str,
    plan: Plan,
    key: Option<Keyed>,
) -> Answer<Ticket> {
    let clinic_id = clinic.info.id.clone();
    let audit = state.audit.clone();
    let patient = session.patient.clone();
    let ticket = SlotKey::parse(slot_id).map(|k| ids::ticket(&k.appointment));
    let previous = match &plan {
        Plan::Move(old, _) => Some(ids::ticket(old)),
        _ => None,
    };
    let (operation, done) = (plan.operation(), plan.done());
    let answer = book_once(state, clinic, session, slot_id, plan, key).await;
    let outcome = match (&answer.result, answer.replayed) {
        (_, true) => "replayed",
        (Ok(_), false) => done,
        (Err(e), false) => e.code.as_str(),
    };
    if previous.is_some() {
        crate::metrics::reschedule(&clinic_id, outcome);
    } else {
        crate::metrics::booking(&clinic_id, outcome);
    }
    if let (Some(audit), Some(ticket)) = (audit, ticket) {
        let entry = (ticket.as_str(), previous.as_deref());
        record(&audit, &clinic_id, entry, operation, outcome, &patient);
    }
    answer
}

fn now_utc() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn book_once(
    state: web::Data<AppState>,
    clinic: ClinicEntry,
    session: Session,
    slot_id: &str,
    plan: Plan,
    key: Option<Keyed>,
) -> Answer<Ticket> {
    let slot = SlotKey::parse(slot_id).filter(|k| clinic.in_window(k.date));
    let guard = match key {
        None => None,
        Some(Keyed { key, fingerprint }) => {
            let scope = Scope {
                clinic: clinic.info.id.clone(),
                patient: session.patient.as_str().to_owned(),
                key,
            };
            match state.shared.idempotency.claim(&scope, fingerprint).await {
                Err(e) => return Answer::fresh(Err(e.into())),
                Ok(Claimed::Proceed) => Some(KeyClaim {
                    store: state.shared.idempotency.clone(),
                    scope: Some(scope),
                }),
                Ok(Claimed::Replay(outcome)) => {
                    return Answer {
                        result: match *outcome {
                            Outcome::Booked(ticket) => Ok(ticket),
                            Outcome::Refused(problem) => Err(ApiError::from_problem(problem)),
                        },
                        replayed: true,
                    };
                }
                Ok(Claimed::Reused) => {
                    return Answer::fresh(Err(ApiError::new(ErrorCode::IdempotencyKeyReused)
                        .detail("This Idempotency-Key was used with another request body.")));
                }
                Ok(Claimed::InUse) => {
                    return Answer::fresh(Err(ApiError::new(ErrorCode::IdempotencyKeyInUse)
                        .detail("A request with this Idempotency-Key is still running.")));
                }
            }
        }
    };
    // The key is claimed first, so that the same key with another body is refused whatever
    // that body names; an unknown slot then releases it.
    let Some(slot) = slot else {
        if let Some(guard) = guard {
            guard.finish(None).await;
        }
        return Answer::fresh(Err(ApiError::not_found("slot")));
    };
    let writes = state.writes.clone();
    let task = writes.spawn(
        async move {
            // The patient's other writes wait: the checks below (the ticket moved is the
            // patient's, the referral is usable) hold until the МИС has acted on them.
            let result = match state.patient_lock(&clinic, &session).await {
                Ok(_held) => execute_booking(&state, &clinic, &session, &slot, &plan).await,
                Err(e) => Err(e),
            };
            if let Some(guard) = guard {
                guard.finish(outcome_of(&result)).await;
            }
            result
        }
        .instrument(tracing::Span::current()),
    );
    Answer::fresh(task.await.unwrap_or_else(|e| Err(ApiError::internal(e))))
}

/// A claimed idempotency key. [`KeyClaim::finish`] keeps the outcome (or releases the key);
/// dropping it unfinished (the booking's task was cancelled or panicked) releases the key.
/// Either is retried for a while when the state cannot be reached, so that no claimed key
/// loses its answer or stays claimed.
struct KeyClaim {
    store: Arc<dyn Idempotency>,
    scope: Option<Scope>,
}

/// How often, and how far apart, settling a key is tried.
const SETTLE_TRIES: u32 = 8;

async fn settle_with_retries(store: Arc<dyn Idempotency>, scope: Scope, outcome: Option<Outcome>) {
    let mut wait = Duration::from_millis(100);
    for attempt in 1..=SETTLE_TRIES {
        match store.settle(&scope, outcome.clone()).await {
            Ok(()) => return,
            Err(e) if attempt == SETTLE_TRIES => {
                tracing::error!(error = %e, "an idempotency key could not be settled");
            }
            Err(_) => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
        }
    }
}

impl KeyClaim {
    async fn finish(mut self, outcome: Option<Outcome>) {
        if let Some(scope) = self.scope.take() {
            settle_with_retries(self.store.clone(), scope, outcome).await;
        }
    }
}

impl Drop for KeyClaim {
    fn drop(&mut self) {
        if let Some(scope) = self.scope.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(settle_with_retries(self.store.clone(), scope, None));
        }
    }
}

/// What a booking takes: the free slot and the names it reports.
struct Target {
    slot: mis::Slot,
    specialty_name: String,
    doctor_name: String,
    /// For a booking by referral, the doctors the referral leads to.
    referral_doctors: Vec<mis::DoctorId>,
}

/// A move keeps the visit what it was: a time of the same specialty (where the МИС does not
/// say the visit's specialty, of the same doctor). Anything else is `422` on `slot_id`.
fn keeps_its_specialty(visit: &Visit, key: &SlotKey) -> Result<(), ApiError> {
    let same = match (&visit.specialty_id, &visit.doctor_id) {
        (Some(specialty), _) => *specialty == key.doctor.specialty,
        (None, Some(doctor)) => *doctor == key.doctor.doctor,
        (None, None) => false,
    };
    if same {
        Ok(())
    } else {
        Err(ApiError::field(
            "slot_id",
            "other_specialty",
            "A visit moves to another time of its own specialty; book the other specialty instead.",
        ))
    }
}

/// The referral a visit is moved by: the one it was booked by, as the gateway remembers it
/// (`known`), or as the request names it (`given`) where the gateway does not know. A
/// referral named for a visit known to be booked without one, or another than the visit's
/// own, is refused: a move keeps the visit what it was.
fn moved_by(
    known: Option<&SlotDetails>,
    given: Option<&ReferralNumber>,
) -> Result<Option<ReferralNumber>, ApiError> {
    let remembered = known.map(|d| {
        d.referral
            .as_deref()
            .and_then(|n| ReferralNumber::parse(n).ok())
    });
    match (remembered, given) {
        (Some(Some(own)), Some(given)) if own != *given => Err(ApiError::field(
            "referral",
            "other_referral",
            "This visit was booked by another referral; move it with its own.",
        )),
        (Some(None), Some(_)) => Err(ApiError::field(
            "referral",
            "not_by_referral",
            "This visit was not booked by a referral; move it without one.",
        )),
        (Some(own), None) => Ok(own),
        (_, given) => Ok(given.cloned()),
    }
}

fn slot_taken() -> ApiError {
    ApiError::new(ErrorCode::SlotTaken).detail("This time is no longer free; choose another.")
}

/// The free slot `key` names in the directory, with its specialty's and doctor's names.
async fn open_slot(
    clinic: &ClinicEntry,
    key: &SlotKey,
    now: chrono::NaiveDateTime,
) -> Result<Target, ApiError> {
    let slot = clinic
        .mis
        .slots(clinic.lpu, &key.doctor.doctor, DateRange::day(key.date))
        .await?
        .into_iter()
        .find(|s| s.id == key.appointment && s.start > now)
        .ok_or_else(slot_taken)?;
    let specialty_name = clinic
        .mis
        .specialties(clinic.lpu)
        .await?
        .into_iter()
        .find(|s| s.id == key.doctor.specialty)
        .map(|s| s.name)
        .ok_or_else(|| ApiError::not_found("specialty"))?;
    let doctor_name = clinic
        .mis
        .doctors(clinic.lpu, &key.doctor.specialty)
        .await?
        .into_iter()
        .find(|d| d.id == key.doctor.doctor)
        .map(|d| d.name)
        .ok_or_else(|| ApiError::not_found("doctor"))?;
    Ok(Target {
        slot,
        specialty_name,
        doctor_name,
        referral_doctors: Vec::new(),
    })
}

/// The slot `key` names among the tickets open to the patient's referral `number`.
async fn referral_slot(
    clinic: &ClinicEntry,
    session: &Session,
    number: &ReferralNumber,
    purpose: Purpose,
    key: &SlotKey,
    now: chrono::NaiveDateTime,
) -> Result<Target, ApiError> {
    let resolved = crate::referrals::resolve(clinic, session, number, purpose).await?;
    let doctor_name = resolved
        .doctors
        .iter()
        .find(|(k, _)| k.doctor == key.doctor.doctor)
        .map(|(_, name)| name.clone())
        .ok_or_else(|| {
            ApiError::new(ErrorCode::BookingNotAllowed)
                .detail("This referral does not lead to this doctor.")
        })?;
    let slot = clinic
        .mis
        .referral_slots(
            clinic.lpu,
            &key.doctor.doctor,
            &session.patient,
            resolved.referral.kind,
            DateRange::day(key.date),
        )
        .await?
        .into_iter()
        .find(|s| s.id == key.appointment && s.start > now)
        .ok_or_else(slot_taken)?;
    Ok(Target {
        slot,
        specialty_name: resolved.specialty.name,
        doctor_name,
        referral_doctors: resolved
            .doctors
            .into_iter()
            .map(|(k, _)| k.doctor)
            .collect(),
    })
}

/// The booking itself: the slot must still be free (a move's old ticket, still the
/// patient's); a step that fails books nothing.
async fn execute_booking(
    state: &AppState,
    clinic: &ClinicEntry,
    session: &Session,
    key: &SlotKey,
    plan: &Plan,
) -> Result<Ticket, ApiError> {
    let now = clinic
        .now()
        .with_nanosecond(0)
        .unwrap_or_else(|| clinic.now());
    let moved = match plan {
        Plan::Move(old, _) => {
            if *old == key.appointment {
                return Err(ApiError::field(
                    "slot_id",
                    "same_slot",
                    "This is the ticket's own time; choose another.",
                ));
            }
            let visit = upcoming(clinic, session)
                .await?
                .into_iter()
                .find(|v| v.appointment == *old)
                .ok_or_else(|| ApiError::not_found("ticket"))?;
            keeps_its_specialty(&visit, key)?;
            Some(visit)
        }
        _ => None,
    };
    // The referral the new visit is booked by: the one given, or for a move, the one the
    // moved visit was booked by (it keeps it).
    let referral = match plan {
        Plan::ByReferral(number) => Some((number.clone(), Purpose::Book)),
        Plan::Move(old, given) => {
            let known = state.shared.memo.recall(&clinic.info.id, old).await;
            moved_by(known.as_ref(), given.as_ref())?.map(|n| (n, Purpose::Move))
        }
        Plan::New => None,
    };
    let target = match &referral {
        Some((number, purpose)) => {
            let target = referral_slot(clinic, session, number, *purpose, key, now).await?;
            if let Some(visit) = &moved {
                // The visit moved by a referral is the one it booked: its doctor is one of
                // the referral's.
                if !target
                    .referral_doctors
                    .iter()
                    .any(|d| Some(d) == visit.doctor_id.as_ref())
                {
                    return Err(ApiError::field(
                        "referral",
                        "other_visit",
                        "This referral did not book this visit; move the visit without it.",
                    ));
                }
            }
            target
        }
        None => open_slot(clinic, key, now).await?,
    };
    let slot = target.slot;
    let booking = mis::Booking {
        patient: &session.patient,
        slot: &slot.id,
        previous: moved.as_ref().map(|v| &v.appointment),
        referral: referral.as_ref().map(|(number, _)| number),
    };
    let referral_number = referral
        .as_ref()
        .map(|(number, _)| number.as_str().to_owned());
    let booked = clinic.mis.book(clinic.lpu, booking).await;
    clinic
        .mis
        .forget_schedule(clinic.lpu, Some(&key.doctor.doctor));
    if let Some(old) = &moved {
        clinic
            .mis
            .forget_schedule(clinic.lpu, old.doctor_id.as_ref());
    }
    booked?;
    state
        .shared
        .memo
        .remember(
            &clinic.info.id,
            &slot.id,
            SlotDetails {
                number: slot.number,
                room: slot.room.clone(),
                address: slot.address.clone(),
                end: slot.end,
                referral: referral_number.clone(),
            },
        )
        .await;
    if let Some(old) = &moved {
        state
            .shared
            .memo
            .forget(&clinic.info.id, &old.appointment)
            .await;
        tracing::info!(clinic = %clinic.info.id, "ticket rescheduled");
    } else {
        tracing::info!(clinic = %clinic.info.id, "ticket booked");
    }
    Ok(Ticket {
        id: ids::ticket(&slot.id),
        number: slot.number,
        clinic: NamedRef {
            id: clinic.info.id.clone(),
            name: clinic.info.name.clone(),
        },
        specialty: NamedRef {
            id: ids::specialty(&key.doctor.specialty),
            name: target.specialty_name,
        },
        doctor: NamedRef {
            id: key.doctor.encode(),
            name: target.doctor_name,
        },
        room: slot.room,
        address: slot.address.or_else(|| Some(clinic.info.address.clone())),
        start: clinic.localize(slot.start),
        end: Some(clinic.localize(slot.end)),
        created_at: Some(clinic.localize(now)),
        referral: referral_number,
    })
}

/// Appends a booking or a cancellation to the audit trail.
/// `(ticket, previous)`: the ticket, and for a move the ticket it replaced.
fn record(
    audit: &Audit,
    clinic: &str,
    (ticket, previous): (&str, Option<&str>),
    operation: &'static str,
    outcome: &str,
    patient: &mis::PatientId,
) {
    audit.record(&crate::audit::Entry {
        time: now_utc(),
        clinic,
        ticket,
        previous,
        operation,
        outcome,
        request_id: crate::request_id::current(),
        patient: audit.pseudonym(patient),
    });
}

/// The session's patient's upcoming visits, soonest first.
async fn upcoming(clinic: &ClinicEntry, session: &Session) -> Result<Vec<Visit>, ApiError> {
    let now = clinic.now();
    let mut visits: Vec<Visit> = clinic
        .mis
        .history(clinic.lpu, &session.patient)
        .await?
        .visits
        .into_iter()
        .filter(|v| v.start > now)
        .collect();
    visits.sort_by_key(|v| v.start);
    Ok(visits)
}

/// The patient's upcoming tickets, soonest first.
pub async fn tickets(
    state: &AppState,
    clinic: &ClinicEntry,
    session: &Session,
) -> Result<Vec<Ticket>, ApiError> {
    let visits = upcoming(clinic, session).await?;
    Ok(
        futures_util::future::join_all(visits.into_iter().map(|v| ticket_of(state, clinic, v)))
            .await,
    )
}

/// One of the patient's tickets (booked, whether upcoming or past).
pub async fn ticket(
    state: &AppState,
    clinic: &ClinicEntry,
    session: &Session,
    id: &AppointmentId,
) -> Result<Ticket, ApiError> {
    let visit = clinic
        .mis
        .history(clinic.lpu, &session.patient)
        .await?
        .visits
        .into_iter()
        .find(|v| v.appointment == *id)
        .ok_or_else(|| ApiError::not_found("ticket"))?;
    Ok(ticket_of(state, clinic, visit).await)
}

/// Cancels one of the patient's upcoming tickets. The ticket must be in the patient's own
/// history first: the gateway does not leave ownership to the МИС alone.
pub async fn cancel(
    state: web::Data<AppState>,
    clinic: ClinicEntry,
    session: Session,
    id: AppointmentId,
) -> Result<(), ApiError> {
    let clinic_id = clinic.info.id.clone();
    let audit = state.audit.clone();
    let patient = session.patient.clone();
    let ticket = ids::ticket(&id);
    let result = cancel_once(state, clinic, session, id).await;
    let outcome = match &result {
        Ok(()) => "cancelled",
        Err(e) => e.code.as_str(),
    };
    crate::metrics::cancellation(&clinic_id, outcome);
    if let Some(audit) = audit {
        record(
            &audit,
            &clinic_id,
            (&ticket, None),
            "cancel",
            outcome,
            &patient,
        );
    }
    result
}

async fn cancel_once(
    state: web::Data<AppState>,
    clinic: ClinicEntry,
    session: Session,
    id: AppointmentId,
) -> Result<(), ApiError> {
    let held = state.patient_lock(&clinic, &session).await?;
    let visit = upcoming(&clinic, &session)
        .await?
        .into_iter()
        .find(|v| v.appointment == id)
        .ok_or_else(|| ApiError::not_found("ticket"))?;
    let writes = state.writes.clone();
    let task = writes.spawn(
        async move {
            let _held = held;
            let result = clinic
                .mis
                .cancel(clinic.lpu, &session.patient, &visit.appointment)
                .await;
            clinic
                .mis
                .forget_schedule(clinic.lpu, visit.doctor_id.as_ref());
            result?;
            state
                .shared
                .memo
                .forget(&clinic.info.id, &visit.appointment)
                .await;
            tracing::info!(clinic = %clinic.info.id, "ticket cancelled");
            Ok(())
        }
        .instrument(tracing::Span::current()),
    );
    task.await.unwrap_or_else(|e| Err(ApiError::internal(e)))
}

/// A ticket as the API shows it, from a visit in the patient's history.
async fn ticket_of(state: &AppState, clinic: &ClinicEntry, v: Visit) -> Ticket {
    let details = state
        .shared
        .memo
        .recall(&clinic.info.id, &v.appointment)
        .await;
    let specialty_id = v
        .specialty_id
        .as_ref()
        .map(ids::specialty)
        .unwrap_or_default();
    let doctor_id = match (&v.specialty_id, &v.doctor_id) {
        (Some(s), Some(d)) => ids::DoctorKey {
            specialty: s.clone(),
            doctor: d.clone(),
        }
        .encode(),
        _ => String::new(),
    };
    Ticket {
        id: ids::ticket(&v.appointment),
        number: details.as_ref().and_then(|d| d.number),
        clinic: NamedRef {
            id: clinic.info.id.clone(),
            name: clinic.info.name.clone(),
        },
        specialty: NamedRef {
            id: specialty_id,
            name: v.specialty_name.unwrap_or_default(),
        },
        doctor: NamedRef {
            id: doctor_id,
            name: v.doctor_name.unwrap_or_default(),
        },
        room: details.as_ref().and_then(|d| d.room.clone()),
        address: details
            .as_ref()
            .and_then(|d| d.address.clone())
            .or_else(|| Some(clinic.info.address.clone())),
        start: clinic.localize(v.start),
        end: details.as_ref().map(|d| clinic.localize(d.end)),
        created_at: v.created.map(|c| clinic.localize(c)),
        referral: details.and_then(|d| d.referral),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mis::{DoctorId, SpecialtyId};

    fn key(specialty: &str, doctor: &str) -> SlotKey {
        SlotKey {
            doctor: ids::DoctorKey {
                specialty: SpecialtyId::parse(specialty).expect("an id"),
                doctor: DoctorId::parse(doctor).expect("an id"),
            },
            appointment: AppointmentId::parse("a").expect("an id"),
            date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("a date"),
        }
    }

    fn visit(specialty: Option<&str>, doctor: Option<&str>) -> Visit {
        Visit {
            appointment: AppointmentId::parse("old").expect("an id"),
            start: chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
                .and_then(|d| d.and_hms_opt(9, 0, 0))
                .expect("a time"),
            created: None,
            doctor_id: doctor.map(|d| DoctorId::parse(d).expect("an id")),
            doctor_name: None,
            specialty_id: specialty.map(|s| SpecialtyId::parse(s).expect("an id")),
            specialty_name: None,
        }
    }

    #[test]
    fn a_move_stays_in_its_specialty_or_with_its_doctor_where_the_specialty_is_unknown() {
        assert!(keeps_its_specialty(&visit(Some("1"), Some("d")), &key("1", "e")).is_ok());
        let other = keeps_its_specialty(&visit(Some("1"), Some("d")), &key("2", "d"))
            .expect_err("another specialty");
        assert_eq!(other.fields[0].field, "slot_id");
        assert!(keeps_its_specialty(&visit(None, Some("d")), &key("2", "d")).is_ok());
        assert!(keeps_its_specialty(&visit(None, Some("d")), &key("2", "e")).is_err());
        assert!(keeps_its_specialty(&visit(None, None), &key("1", "d")).is_err());
    }

    #[test]
    fn a_move_keeps_the_referral_the_visit_was_booked_by() {
        let number = |n: &str| ReferralNumber::parse(n).expect("a number");
        let details = |referral: Option<&str>| SlotDetails {
            number: None,
            room: None,
            address: None,
            end: chrono::NaiveDateTime::MIN,
            referral: referral.map(str::to_owned),
        };
        let by_one = details(Some("0000000001"));
        assert_eq!(
            moved_by(Some(&by_one), None).expect("its own"),
            Some(number("0000000001"))
        );
        assert!(moved_by(Some(&by_one), Some(&number("0000000001"))).is_ok());
        let other = moved_by(Some(&by_one), Some(&number("0000000002"))).expect_err("another");
        assert_eq!(other.fields[0].reason, "other_referral");
        let without = details(None);
        assert_eq!(moved_by(Some(&without), None).expect("none"), None);
        let named = moved_by(Some(&without), Some(&number("0000000001"))).expect_err("named");
        assert_eq!(named.fields[0].reason, "not_by_referral");
        // Unknown to the gateway: the request's word counts (the МИС checks the rest).
        assert_eq!(
            moved_by(None, Some(&number("0000000001"))).expect("given"),
            Some(number("0000000001"))
        );
    }
}
