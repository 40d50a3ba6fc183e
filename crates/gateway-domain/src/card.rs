//! The patient's card at the clinic: the mobile phone the clinic's own SMS reminders go to,
//! written into the card with the patient's consent (`UpdatePhoneByIdPat` on the hub) and
//! never kept by the gateway.

use crate::clinic::ClinicEntry;
use crate::failure::{Failure, field_error};
use crate::gateway::Gateway;
use crate::sessions::Session;
use mis::{Mis, MisError, PhoneNumber};

/// A mobile number as a patient typed it: the phone grammar's (`+7` or `8` and ten digits),
/// and a mobile one (`+79…`), since SMS go to it.
pub fn mobile(typed: &str) -> Result<PhoneNumber, Failure> {
    let phone = PhoneNumber::parse(typed).map_err(|e| {
        Failure::invalid(vec![field_error(
            "phone",
            e.reason(),
            "A Russian mobile number: +7 (or 8), then 9 and nine digits.",
        )])
    })?;
    if !phone.e164().starts_with("+79") {
        return Err(Failure::invalid(vec![field_error(
            "phone",
            "not_mobile",
            "SMS go to a mobile number: +7 (or 8), then 9 and nine digits.",
        )]));
    }
    Ok(phone)
}

/// Writes `phone` into the card of the session's patient at `clinic`. Writing the same number
/// twice changes nothing, so a write whose answer was lost is made once more before the
/// patient is told anything.
pub async fn update_phone(
    gateway: &Gateway,
    clinic: &ClinicEntry,
    session: &Session,
    phone: &PhoneNumber,
) -> Result<(), Failure> {
    let write = || clinic.mis.update_phone(clinic.lpu, &session.patient, phone);
    let result = match write().await {
        Err(MisError::OutcomeUnknown(_)) => write().await,
        other => other,
    };
    let outcome = match &result {
        Ok(()) => "written",
        Err(e) => Failure::from(e.clone()).code.as_str(),
    };
    if let Some(audit) = &gateway.audit {
        audit.write(
            &clinic.info.id,
            ("", None),
            ("phone", outcome),
            &session.patient,
        );
    }
    match result {
        Ok(()) => {
            tracing::info!(clinic = %clinic.info.id, "the patient's phone written into their card");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
