//! The patient's tickets: the upcoming ones, one of them, and cancelling one (which must be in
//! the patient's own history first: the gateway does not leave ownership to the МИС alone).

use crate::clinic::ClinicEntry;
use crate::failure::Failure;
use crate::gateway::Gateway;
use crate::ids;
use crate::outcome::{self, ticket_of, upcoming};
use crate::sessions::Session;
use crate::views::Ticket;
use mis::{AppointmentId, Mis};
use std::sync::Arc;

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
        audit.write(&clinic_id, (&ticket, None), ("cancel", outcome), &patient);
    }
    result
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
                Err(lost @ mis::MisError::OutcomeUnknown(_)) => {
                    outcome::lost_cancellation(&clinic, &session, &visit.appointment, lost).await?;
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
