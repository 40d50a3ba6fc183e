//! Booking, cancelling and the patient's tickets, as a service on typed results: handlers only
//! turn HTTP into these calls and their results into HTTP.
//!
//! A booking or a cancellation, once started, runs to its end in a task of its own, whatever
//! the client does: a client that goes away mid-booking cannot leave the МИС booked and the
//! gateway unaware. Its outcome is kept under the request's `Idempotency-Key` (if any), so the
//! retry the client makes gets that answer.

use crate::audit::Audit;
use crate::error::ApiError;
use crate::idempotency::{Outcome, Scope};
use crate::ids::{self, SlotKey};
use crate::sessions::Session;
use crate::shared::{Claimed, Idempotency};
use crate::state::{AppState, ClinicEntry, SlotDetails};
use actix_web::web;
use api_types::{ErrorCode, NamedRef, Ticket};
use chrono::Timelike;
use mis::{AppointmentId, DateRange, Mis, Visit};
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

/// Refusals a retry would meet again: kept under the key. Anything else (input errors, the
/// МИС down) releases it.
fn is_final(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::SlotTaken
            | ErrorCode::AlreadyBooked
            | ErrorCode::NotAttached
            | ErrorCode::BookingNotAllowed
    )
}

fn outcome_of(result: &Result<Ticket, ApiError>) -> Option<Outcome> {
    match result {
        Ok(ticket) => Some(Outcome::Booked(ticket.clone())),
        Err(e) if is_final(e.code) => Some(Outcome::Refused(e.problem())),
        Err(_) => None,
    }
}

/// Books the slot `slot_id` for the session's patient.
pub async fn book(
    state: web::Data<AppState>,
    clinic: ClinicEntry,
    session: Session,
    slot_id: &str,
    key: Option<Keyed>,
) -> Answer<Ticket> {
    let clinic_id = clinic.info.id.clone();
    let audit = state.audit.clone();
    let patient = session.patient.clone();
    let ticket = SlotKey::parse(slot_id).map(|k| ids::ticket(&k.appointment));
    let answer = book_once(state, clinic, session, slot_id, key).await;
    let outcome = match (&answer.result, answer.replayed) {
        (_, true) => "replayed",
        (Ok(_), false) => "booked",
        (Err(e), false) => e.code.as_str(),
    };
    crate::metrics::booking(&clinic_id, outcome);
    if let (Some(audit), Some(ticket)) = (audit, ticket) {
        record(&audit, &clinic_id, &ticket, "book", outcome, &patient);
    }
    answer
}

async fn book_once(
    state: web::Data<AppState>,
    clinic: ClinicEntry,
    session: Session,
    slot_id: &str,
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
            let result = execute_booking(&state, &clinic, &session, &slot).await;
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

/// The booking itself: the slot must still be free; a step that fails books nothing.
async fn execute_booking(
    state: &AppState,
    clinic: &ClinicEntry,
    session: &Session,
    key: &SlotKey,
) -> Result<Ticket, ApiError> {
    let now = clinic
        .now()
        .with_nanosecond(0)
        .unwrap_or_else(|| clinic.now());
    let slot = clinic
        .mis
        .slots(clinic.lpu, &key.doctor.doctor, DateRange::day(key.date))
        .await?
        .into_iter()
        .find(|s| s.id == key.appointment && s.start > now)
        .ok_or_else(|| {
            ApiError::new(ErrorCode::SlotTaken)
                .detail("This time is no longer free; choose another.")
        })?;
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
    let booked = clinic
        .mis
        .book(clinic.lpu, mis::Booking::new(&session.patient, &slot.id))
        .await;
    clinic
        .mis
        .forget_schedule(clinic.lpu, Some(&key.doctor.doctor));
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
            },
        )
        .await;
    tracing::info!(clinic = %clinic.info.id, "ticket booked");
    Ok(Ticket {
        id: ids::ticket(&slot.id),
        number: slot.number,
        clinic: NamedRef {
            id: clinic.info.id.clone(),
            name: clinic.info.name.clone(),
        },
        specialty: NamedRef {
            id: ids::specialty(&key.doctor.specialty),
            name: specialty_name,
        },
        doctor: NamedRef {
            id: key.doctor.encode(),
            name: doctor_name,
        },
        room: slot.room,
        address: slot.address.or_else(|| Some(clinic.info.address.clone())),
        start: clinic.localize(slot.start),
        end: Some(clinic.localize(slot.end)),
        created_at: Some(clinic.localize(now)),
    })
}

/// Appends a booking or a cancellation to the audit trail.
fn record(
    audit: &Audit,
    clinic: &str,
    ticket: &str,
    operation: &'static str,
    outcome: &str,
    patient: &mis::PatientId,
) {
    audit.record(&crate::audit::Entry {
        time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        clinic,
        ticket,
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
        record(&audit, &clinic_id, &ticket, "cancel", outcome, &patient);
    }
    result
}

async fn cancel_once(
    state: web::Data<AppState>,
    clinic: ClinicEntry,
    session: Session,
    id: AppointmentId,
) -> Result<(), ApiError> {
    let visit = upcoming(&clinic, &session)
        .await?
        .into_iter()
        .find(|v| v.appointment == id)
        .ok_or_else(|| ApiError::not_found("ticket"))?;
    let writes = state.writes.clone();
    let task = writes.spawn(
        async move {
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
    }
}
