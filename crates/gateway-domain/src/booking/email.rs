//! A ticket e-mailed to the patient (the relays and the address: `crate::mail`).

use crate::clinic::ClinicEntry;
use crate::failure::Failure;
use crate::gateway::Gateway;
use crate::mail::{Address, Kind, Language, Letter, MailError, RETRY_AFTER_SECS};
use crate::sessions::Session;
use mis::{AppointmentId, Mis};
use vocabulary::ErrorCode;

/// E-mails the patient's ticket `id` at `clinic` to `to`: the ticket as the МИС holds it,
/// booked or, when the patient cancelled it, its cancellation.
pub async fn email_ticket(
    gateway: &Gateway,
    clinic: &ClinicEntry,
    session: &Session,
    id: &AppointmentId,
    (to, language): (Address, Language),
) -> Result<Kind, Failure> {
    let relay = gateway.mail.relay(&clinic.info.id).ok_or_else(|| {
        Failure::new(ErrorCode::NotSupported).detail("This clinic does not send tickets by e-mail.")
    })?;
    let history = clinic.mis.history(clinic.lpu, &session.patient).await?;
    let (visit, kind) = match history.visits.into_iter().find(|v| v.appointment == *id) {
        Some(visit) => (visit, Kind::Booked),
        None => history
            .refusals
            .into_iter()
            .find(|v| v.appointment == *id)
            .map(|v| (v, Kind::Cancelled))
            .ok_or_else(|| Failure::not_found("ticket"))?,
    };
    let ticket_id = crate::ids::ticket(id);
    let taken = gateway
        .mail
        .count(&clinic.info.id, session.patient.as_str(), &ticket_id)?;
    let letter = Letter {
        to,
        kind,
        language,
        clinic: clinic.info.clone(),
        ticket: crate::outcome::ticket_of(gateway, clinic, visit).await,
    };
    let sent = match tokio::time::timeout(gateway.mail.deadline(), relay.send(&letter)).await {
        Ok(result) => result,
        Err(_) => Err(MailError::Timeout),
    };
    let outcome = match &sent {
        Ok(()) => "sent",
        Err(_) => ErrorCode::MailUnavailable.as_str(),
    };
    crate::metrics::mail(kind.as_str(), outcome);
    if let Some(audit) = &gateway.audit {
        audit.write(
            &clinic.info.id,
            (&ticket_id, None),
            ("email", outcome),
            &session.patient,
        );
    }
    match sent {
        Ok(()) => {
            tracing::info!(clinic = %clinic.info.id, kind = kind.as_str(), "ticket e-mailed");
            Ok(kind)
        }
        Err(e) => {
            taken.give_back();
            tracing::warn!(clinic = %clinic.info.id, error = %e, "the ticket could not be e-mailed");
            Err(Failure::new(ErrorCode::MailUnavailable)
                .detail("The clinic's mail relay did not take the message; nothing was sent. Try again later.")
                .retry_after(RETRY_AFTER_SECS))
        }
    }
}
