//! A write's outcome, in one place: what the МИС holds after a booking, a move, a
//! cancellation or a waiting-list change, and the ticket of a visit as the patient sees it.
//!
//! A write whose answer was lost after it left is not guessed at: what the МИС holds is read
//! back, under [`READ_BACK`], and says how it ended ([`lost_booking`], [`lost_cancellation`],
//! [`lost_join`], [`lost_leave`]); a failure to read it is `outcome_unknown`. A refusal of a
//! time the patient already holds is that ticket ([`unless_own`]). Booking, the patient's
//! tickets and the waiting list call down into this module; it calls nothing of theirs.

use crate::clinic::ClinicEntry;
use crate::failure::Failure;
use crate::gateway::Gateway;
use crate::ids;
use crate::memo::SlotDetails;
use crate::sessions::Session;
use crate::views::{Named, Ticket};
use mis::{AppointmentId, Mis, MisError, PatientId, Visit, WaitingEntry, WaitingId};
use std::future::Future;
use std::time::Duration;
use vocabulary::ErrorCode;

/// The longest a read-back may take: what the МИС holds after a write's answer was lost is
/// asked quickly, and a failure to read it is said as such.
pub const READ_BACK: Duration = Duration::from_secs(5);

/// Reads what the МИС holds after a write whose answer was lost (under [`READ_BACK`], within
/// the clinic's deadline). A failure to read is `outcome_unknown`: whether the write was done is
/// not known.
pub async fn read_back<T>(
    clinic: &ClinicEntry,
    read: impl Future<Output = Result<T, MisError>>,
) -> Result<T, Failure> {
    let deadline = READ_BACK.min(clinic.mis.deadline());
    let read = tokio::time::timeout(deadline, read)
        .await
        .unwrap_or_else(|_| Err(MisError::Unavailable("the read-back took too long".into())));
    read.map_err(|e| Failure {
        cause: Some(format!("reading what the МИС holds failed: {e}")),
        ..Failure::from(MisError::OutcomeUnknown(e.to_string()))
    })
}

/// The session's patient's upcoming visits, soonest first.
pub async fn upcoming(clinic: &ClinicEntry, session: &Session) -> Result<Vec<Visit>, Failure> {
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

/// The patient's visit `id`, if the МИС shows the patient holds it (read back).
pub async fn held(
    clinic: &ClinicEntry,
    session: &Session,
    id: &AppointmentId,
) -> Result<Option<Visit>, Failure> {
    let history = read_back(clinic, clinic.mis.history(clinic.lpu, &session.patient)).await?;
    Ok(history.visits.into_iter().find(|v| v.appointment == *id))
}

/// The ticket the patient holds at `id`, if the МИС shows one (read back).
pub async fn held_ticket(
    gateway: &Gateway,
    clinic: &ClinicEntry,
    session: &Session,
    id: &AppointmentId,
) -> Result<Option<Ticket>, Failure> {
    Ok(match held(clinic, session, id).await? {
        Some(visit) => {
            tracing::info!(clinic = %clinic.info.id, "the patient already holds the time asked for");
            Some(ticket_of(gateway, clinic, visit).await)
        }
        None => None,
    })
}

/// A refusal as taken or as already booked is no refusal when the time `id` is the patient's
/// own: that ticket is the answer. Any other refusal stands.
pub async fn unless_own(
    gateway: &Gateway,
    clinic: &ClinicEntry,
    session: &Session,
    id: &AppointmentId,
    refusal: Failure,
) -> Result<Ticket, Failure> {
    if !matches!(
        refusal.code,
        ErrorCode::SlotTaken | ErrorCode::AlreadyBooked
    ) {
        return Err(refusal);
    }
    match held_ticket(gateway, clinic, session, id).await {
        Ok(Some(ticket)) => Ok(ticket),
        // Not theirs: what the МИС said stands.
        Ok(None) => Err(refusal),
        Err(read) => Err(cannot_tell(read)),
    }
}

/// A refusal whose truth could not be read (the patient's visits could not be read): the
/// patient is told to ask again in a moment, never told that their own time is taken.
pub fn cannot_tell(read: Failure) -> Failure {
    tracing::warn!(error = %read, "a refusal could not be checked against the patient's visits");
    if read.code == ErrorCode::Overloaded {
        return read;
    }
    Failure {
        retry_after: Some(read.retry_after.unwrap_or(5)),
        ..Failure::new(ErrorCode::MisUnavailable).detail(
            "The clinic refused the time, and whether it is already yours could not be read; nothing was changed. Try again in a few seconds.",
        )
    }
}

/// The write was not done, the МИС holds as it did: `mis_unavailable`, saying what stands.
fn not_done(lost: &MisError, stands: String) -> Failure {
    Failure::from(MisError::Unavailable(lost.to_string())).detail(stands)
}

/// After a booking (or a move from `moved`) of the time `id` whose answer was lost: the time
/// is the patient's, booked (or moved); it is not, the booking failed (for a move, the old
/// ticket stands).
pub async fn lost_booking(
    clinic: &ClinicEntry,
    session: &Session,
    id: &AppointmentId,
    moved: Option<&Visit>,
    lost: MisError,
) -> Result<(), Failure> {
    tracing::warn!(clinic = %clinic.info.id, error = %lost, "a booking's answer was lost; reading what the МИС holds");
    if held(clinic, session, id).await?.is_some() {
        return Ok(());
    }
    Err(match moved {
        Some(old) => not_done(
            &lost,
            format!(
                "The clinic's information system did not move the ticket; the ticket of {} stands. Try again later.",
                old.start.format("%Y-%m-%d %H:%M")
            ),
        ),
        None => Failure::from(MisError::Unavailable(lost.to_string())),
    })
}

/// After a cancellation of the visit `id` whose answer was lost: the visit gone from the
/// history is cancelled; still there, it stands.
pub async fn lost_cancellation(
    clinic: &ClinicEntry,
    session: &Session,
    id: &AppointmentId,
    lost: MisError,
) -> Result<(), Failure> {
    tracing::warn!(clinic = %clinic.info.id, error = %lost, "a cancellation's answer was lost; reading what the МИС holds");
    if held(clinic, session, id).await?.is_some() {
        return Err(not_done(
            &lost,
            "The clinic's information system did not cancel the ticket; it stands. Try again later."
                .into(),
        ));
    }
    Ok(())
}

/// The patient's requests on the waiting list, read back.
async fn waiting(clinic: &ClinicEntry, patient: &PatientId) -> Result<Vec<WaitingEntry>, Failure> {
    read_back(clinic, clinic.mis.waiting_list(clinic.lpu, patient)).await
}

/// After a request for the waiting list whose answer was lost: a request of its specialty and
/// doctor that was not among `before` is this one; none, it was not made.
pub async fn lost_join(
    clinic: &ClinicEntry,
    request: &mis::WaitingRequest,
    before: &[WaitingId],
    lost: MisError,
) -> Result<WaitingId, Failure> {
    tracing::warn!(clinic = %clinic.info.id, error = %lost, "a waiting-list request's answer was lost; reading what the МИС holds");
    waiting(clinic, &request.patient)
        .await?
        .into_iter()
        .find(|e| {
            !before.contains(&e.id)
                && e.specialty_id.as_ref() == Some(&request.specialty)
                && e.doctor_id.as_ref() == request.doctor.as_ref().map(|(d, _)| d)
        })
        .map(|e| e.id)
        .ok_or_else(|| MisError::Unavailable(lost.to_string()).into())
}

/// After a withdrawal of the request `id` whose answer was lost: the request gone from the
/// list is withdrawn; still there, it stands.
pub async fn lost_leave(
    clinic: &ClinicEntry,
    patient: &PatientId,
    id: &WaitingId,
    lost: MisError,
) -> Result<(), Failure> {
    tracing::warn!(clinic = %clinic.info.id, error = %lost, "a withdrawal's answer was lost; reading what the МИС holds");
    if waiting(clinic, patient).await?.iter().any(|e| e.id == *id) {
        return Err(not_done(
            &lost,
            "The clinic's information system did not withdraw the request; it stands. Try again later."
                .into(),
        ));
    }
    Ok(())
}

/// A visit of the patient's history as a ticket, with what the gateway learnt of it when it
/// booked it (its МИС may leave that out of the history).
pub async fn ticket_of(gateway: &Gateway, clinic: &ClinicEntry, visit: Visit) -> Ticket {
    let details = gateway
        .shared
        .memo
        .recall(&clinic.info.id, &visit.appointment)
        .await;
    ticket(clinic, visit, details.as_ref())
}

/// A visit as a ticket, filled with `details` where given: the one way a ticket is made, for
/// one just booked as for one read from the history.
pub fn ticket(clinic: &ClinicEntry, visit: Visit, details: Option<&SlotDetails>) -> Ticket {
    let v = match details {
        Some(known) => known.fill(visit),
        None => visit,
    };
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
        number: details.and_then(|d| d.number),
        clinic: Named {
            id: clinic.info.id.clone(),
            name: clinic.info.name.clone(),
        },
        specialty: Named {
            id: specialty_id,
            name: v.specialty_name.unwrap_or_default(),
        },
        doctor: Named {
            id: doctor_id,
            name: v.doctor_name.unwrap_or_default(),
        },
        room: details.and_then(|d| d.room.clone()),
        address: details
            .and_then(|d| d.address.clone())
            .or_else(|| Some(clinic.info.address.clone())),
        start: clinic.localize(v.start),
        end: details.and_then(|d| d.end).map(|e| clinic.localize(e)),
        created_at: v.created.map(|c| clinic.localize(c)),
        referral: details.and_then(|d| d.referral.clone()),
    }
}
