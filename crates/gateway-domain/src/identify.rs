//! Identification: the patient's document, policy and birth date, checked and given to the МИС
//! once (`CheckPatient`), then forgotten; what is kept is a session naming the МИС patient id.
//! Whether a patient exists does not show in how long the answer takes.

use crate::clinic::ClinicEntry;
use crate::failure::{Failure, field_error, sentence};
use crate::gateway::Gateway;
use crate::sessions::{Session, TypedIdentity};
use mis::{BirthDate, BirthDateError, DocumentNumber, Mis, PatientIdentity, PolicyNumber};
use vocabulary::ErrorCode;

/// Parses the three identity fields, reporting every field that cannot be accepted.
///
/// A birth date of the right form but in the future, or more than 130 years ago, is no
/// input error (the schema accepts it): no patient can have it, so it is `patient_not_found`,
/// answered without asking the МИС.
pub fn identity_of(
    new: &TypedIdentity,
    today: chrono::NaiveDate,
) -> Result<PatientIdentity, Failure> {
    let document = DocumentNumber::parse(&new.document_number);
    let policy = PolicyNumber::parse(&new.policy_number);
    let birth_date = BirthDate::parse(&new.birth_date, today);
    match (document, policy, birth_date) {
        (Ok(document), Ok(policy), Ok(birth_date)) => Ok(PatientIdentity {
            document,
            policy,
            birth_date,
        }),
        (Ok(_), Ok(_), Err(BirthDateError::InFuture | BirthDateError::TooOld)) => {
            Err(mis::MisError::PatientNotFound.into())
        }
        (d, p, b) => {
            let mut fields = Vec::new();
            if let Err(e) = d {
                fields.push(field_error("document_number", e.reason(), sentence(e)));
            }
            if let Err(e) = p {
                fields.push(field_error("policy_number", e.reason(), sentence(e)));
            }
            if let Err(e @ (BirthDateError::Empty | BirthDateError::InvalidFormat)) = b {
                fields.push(field_error(
                    "birth_date",
                    e.reason(),
                    "The birth date must be a real date written YYYY-MM-DD.",
                ));
            }
            Err(Failure::invalid(fields))
        }
    }
}

/// Identifies the patient in `clinic` and opens a session: its token and the session.
pub async fn identify(
    gateway: &Gateway,
    clinic: &ClinicEntry,
    new: &TypedIdentity,
) -> Result<(String, Session), Failure> {
    let started = std::time::Instant::now();
    let found = match identity_of(new, clinic.today()) {
        Ok(identity) => clinic.mis.find_patient(clinic.lpu, &identity).await,
        Err(e) if e.code == ErrorCode::PatientNotFound => Err(mis::MisError::PatientNotFound),
        Err(e) => {
            crate::metrics::identification(clinic.mis.label(), e.code.as_str());
            return Err(e);
        }
    };
    tokio::time::sleep(gateway.identify_min.saturating_sub(started.elapsed())).await;
    let patient = found.map_err(|e| {
        let e = Failure::from(e);
        crate::metrics::identification(clinic.mis.label(), e.code.as_str());
        e
    })?;
    crate::metrics::identification(clinic.mis.label(), "found");
    let opened = gateway
        .shared
        .sessions
        .create(&clinic.info.id, patient)
        .await?;
    tracing::info!("patient identified, session opened");
    Ok(opened)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("a real date")
    }

    #[test]
    fn every_identity_field_error_is_reported_at_once() {
        let new = TypedIdentity {
            document_number: "".into(),
            policy_number: "12".into(),
            birth_date: "2999-02-30".into(),
        };
        let err = identity_of(&new, today()).expect_err("all three are wrong");
        let fields: Vec<_> = err.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["document_number", "policy_number", "birth_date"]);
        let shown = format!("{err:?} {err}");
        assert!(!shown.contains("2999"), "{shown}");
        assert!(
            !format!("{new:?}").contains("12"),
            "the typed identity's Debug shows none"
        );
    }

    #[test]
    fn a_birth_date_no_patient_can_have_is_not_found_not_invalid() {
        let new = TypedIdentity {
            document_number: "4510 123456".into(),
            policy_number: "7700000000000001".into(),
            birth_date: "2999-01-01".into(),
        };
        let err = identity_of(&new, today()).expect_err("nobody is born in 2999");
        assert_eq!(err.code, ErrorCode::PatientNotFound);
    }
}
