//! The patient's tickets: the upcoming ones, one of them, and cancelling one (which must be in
//! the patient's own history first: the gateway does not leave ownership to the МИС alone).

use crate::clinic::ClinicEntry;
use crate::failure::Failure;
use crate::gateway::Gateway;
use crate::ids;
use crate::sessions::Session;
use crate::views::{Named, Ticket};
use mis::{AppointmentId, Mis, Visit};
use std::sync::Arc;

/// The session's patient's upcoming visits, soonest first.
pub(super) async fn upcoming(
    clinic: &ClinicEntry,
    session: &Session,
) -> Result<Vec<Visit>, Failure> {
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
    gateway: &Gateway,
    clinic: &ClinicEntry,
    session: &Session,
) -> Result<Vec<Ticket>, Failure> {
    let visits = upcoming(clinic, session).await?;
    Ok(
        futures_util::future::join_all(visits.into_iter().map(|v| ticket_of(gateway, clinic, v)))
            .await,
    )
}

/// One of the patient's tickets (booked, whether upcoming or past).
pub async fn ticket(
    gateway: &Gateway,
    clinic: &ClinicEntry,
    session: &Session,
    id: &AppointmentId,
) -> Result<Ticket, Failure> {
    let visit = clinic
        .mis
        .history(clinic.lpu, &session.patient)
        .await?
        .visits
        .into_iter()
        .find(|v| v.appointment == *id)
        .ok_or_else(|| Failure::not_found("ticket"))?;
    Ok(ticket_of(gateway, clinic, visit).await)
}

/// Cancels one of the patient's upcoming tickets. The ticket must be in the patient's own
/// history first: the gateway does not leave ownership to the МИС alone.
pub async fn cancel(
    gateway: Arc<Gateway>,
    clinic: ClinicEntry,
    session: Session,
    id: AppointmentId,
) -> Result<(), Failure> {
    let clinic_id = clinic.info.id.clone();
    let label = clinic.mis.label().to_owned();
    let audit = gateway.audit.clone();
    let patient = session.patient.clone();
    let ticket = ids::ticket(&id);
    let result = cancel_once(gateway, clinic, session, id).await;
    let outcome = match &result {
        Ok(()) => "cancelled",
        Err(e) => e.code.as_str(),
    };
    crate::metrics::cancellation(&label, outcome);
    if let Some(audit) = audit {
        super::record(
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

/// The patient's visit `id`, if the МИС shows the patient holds it (a read-back: a failure to
/// read is `outcome_unknown`).
pub(super) async fn held(
    clinic: &ClinicEntry,
    session: &Session,
    id: &AppointmentId,
) -> Result<Option<Visit>, Failure> {
    let history = clinic
        .read_back(clinic.mis.history(clinic.lpu, &session.patient))
        .await?;
    Ok(history.visits.into_iter().find(|v| v.appointment == *id))
}

async fn cancel_once(
    gateway: Arc<Gateway>,
    clinic: ClinicEntry,
    session: Session,
    id: AppointmentId,
) -> Result<(), Failure> {
    let lock = gateway.patient_lock(&clinic, &session).await?;
    let visit = upcoming(&clinic, &session)
        .await?
        .into_iter()
        .find(|v| v.appointment == id)
        .ok_or_else(|| Failure::not_found("ticket"))?;
    let writes = gateway.writes.clone();
    writes
        .run(async move {
            let _lock = lock;
            let result = clinic
                .mis
                .cancel(clinic.lpu, &session.patient, &visit.appointment)
                .await;
            clinic
                .mis
                .forget_schedule(clinic.lpu, visit.doctor_id.as_ref());
            match result {
                Ok(()) => {}
                // The answer was lost: the ticket gone from the history is cancelled.
                Err(lost @ mis::MisError::OutcomeUnknown(_)) => {
                    tracing::warn!(clinic = %clinic.info.id, error = %lost, "a cancellation's answer was lost; reading what the МИС holds");
                    if held(&clinic, &session, &visit.appointment).await?.is_some() {
                        return Err(Failure::from(mis::MisError::Unavailable(lost.to_string()))
                            .detail("The clinic's information system did not cancel the ticket; it stands. Try again later."));
                    }
                }
                Err(e) => return Err(e.into()),
            }
            gateway
                .shared
                .memo
                .forget(&clinic.info.id, &visit.appointment)
                .await;
            tracing::info!(clinic = %clinic.info.id, "ticket cancelled");
            Ok(())
        })
        .await
}

/// A ticket as the patient sees it, from a visit in the patient's history.
pub(super) async fn ticket_of(gateway: &Gateway, clinic: &ClinicEntry, v: Visit) -> Ticket {
    let details = gateway
        .shared
        .memo
        .recall(&clinic.info.id, &v.appointment)
        .await;
    // What its МИС leaves out of the visit, the gateway may have learnt when it booked it.
    let v = match &details {
        Some(known) => known.fill(v),
        None => v,
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
        number: details.as_ref().and_then(|d| d.number),
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
        room: details.as_ref().and_then(|d| d.room.clone()),
        address: details
            .as_ref()
            .and_then(|d| d.address.clone())
            .or_else(|| Some(clinic.info.address.clone())),
        start: clinic.localize(v.start),
        end: details
            .as_ref()
            .and_then(|d| d.end)
            .map(|e| clinic.localize(e)),
        created_at: v.created.map(|c| clinic.localize(c)),
        referral: details.and_then(|d| d.referral),
    }
}
