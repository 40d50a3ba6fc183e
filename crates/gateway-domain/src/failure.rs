//! What the domain answers when it cannot do what was asked: a [`Failure`], carrying one stable
//! [`ErrorCode`] (which knows its HTTP status, and is actix-free), the offending fields, a
//! detail for people, and, never shown, the internal cause. The shell writes it as a problem
//! document (RFC 9457), once (`api`'s `wire`).
//!
//! Policy: МИС errors map onto codes in [`Failure::from`]; a failure of the МИС or of the shared
//! state says what kind of failure it was and nothing internal (its cause is logged once, where
//! the answer is written). No detail or field message carries a value the patient typed: field
//! errors name the field and the rule, never the value.

use mis::MisError;
use std::fmt;
use vocabulary::ErrorCode;

/// One field that could not be accepted, for `invalid_input`: its name, a stable reason, and a
/// message that never quotes the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
    pub message: String,
}

/// A failed operation of the domain.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: ErrorCode,
    pub detail: Option<String>,
    pub fields: Vec<FieldError>,
    /// The internal cause, logged once and never sent.
    pub cause: Option<String>,
    /// Seconds after which a retry may succeed (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl Failure {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            detail: None,
            fields: Vec::new(),
            cause: None,
            retry_after: None,
        }
    }

    #[must_use]
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    #[must_use]
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// `invalid_input` naming the offending fields.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        Self {
            fields,
            ..Self::new(ErrorCode::InvalidInput)
        }
    }

    /// `invalid_input` for one field.
    pub fn field(field: &str, reason: &str, message: impl Into<String>) -> Self {
        Self::invalid(vec![field_error(field, reason, message)])
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound).detail(format!("No such {what}."))
    }

    pub fn internal(cause: impl fmt::Display) -> Self {
        Self {
            cause: Some(cause.to_string()),
            ..Self::new(ErrorCode::Internal)
        }
    }
}

/// A domain error's message (a lower-case fragment, as Rust's errors are) as the sentence an
/// integrator reads in a problem body.
pub fn sentence(fault: impl fmt::Display) -> String {
    let text = fault.to_string();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).chain(['.']).collect(),
        None => text,
    }
}

pub fn field_error(field: &str, reason: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        reason: reason.to_owned(),
        message: message.into(),
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.as_str())?;
        if let Some(c) = &self.cause {
            write!(f, ": {c}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

/// The detail people read for a МИС failure of `code`, where it needs one.
fn mis_detail(code: ErrorCode) -> Option<&'static str> {
    match code {
        ErrorCode::MisUnavailable => {
            Some("The clinic's information system cannot be reached now; try again later.")
        }
        ErrorCode::MisBadResponse => {
            Some("The clinic's information system gave an answer the gateway cannot use.")
        }
        ErrorCode::PatientNotFound => {
            Some("Check the document, policy and birth date, or contact the registry desk.")
        }
        ErrorCode::PatientNotUnique => {
            Some("The data match several patient records; the registry desk must resolve it.")
        }
        ErrorCode::ReferralNotFound => Some(
            "The patient has no referral with this number in this clinic; check the number on the referral.",
        ),
        ErrorCode::ReferralUsed => Some(
            "A visit is already booked by this referral; see «My visits» to move or cancel it.",
        ),
        ErrorCode::ReferralCancelled => {
            Some("The clinic has cancelled this referral; ask the doctor who issued it.")
        }
        ErrorCode::ReferralExpired => {
            Some("The referral's last valid day has passed; ask the doctor for a new one.")
        }
        ErrorCode::Overloaded => Some(
            "Many patients are booking at once; nothing was done. Try again in a few seconds (a booking with the same Idempotency-Key).",
        ),
        ErrorCode::OutcomeUnknown => Some(
            "The clinic did not confirm whether it was done; check «My visits» before trying again.",
        ),
        _ => None,
    }
}

impl From<MisError> for Failure {
    fn from(e: MisError) -> Self {
        let code = match &e {
            MisError::PatientNotFound => ErrorCode::PatientNotFound,
            MisError::PatientNotUnique => ErrorCode::PatientNotUnique,
            MisError::SlotTaken => ErrorCode::SlotTaken,
            MisError::AlreadyBooked => ErrorCode::AlreadyBooked,
            MisError::NotAttached => ErrorCode::NotAttached,
            MisError::NotAllowed => ErrorCode::BookingNotAllowed,
            MisError::NoSuchTicket | MisError::NoSuchWaitingRequest => ErrorCode::NotFound,
            MisError::ReferralNotFound => ErrorCode::ReferralNotFound,
            MisError::ReferralExpired => ErrorCode::ReferralExpired,
            MisError::ReferralUsed => ErrorCode::ReferralUsed,
            MisError::ReferralCancelled => ErrorCode::ReferralCancelled,
            MisError::AccessDenied | MisError::Unavailable(_) => ErrorCode::MisUnavailable,
            MisError::OutcomeUnknown(_) => ErrorCode::OutcomeUnknown,
            MisError::BadResponse(_) | MisError::Rejected { .. } => ErrorCode::MisBadResponse,
            MisError::Overloaded => ErrorCode::Overloaded,
            MisError::NotSupported(_) => ErrorCode::NotSupported,
            _ => ErrorCode::MisBadResponse,
        };
        Self {
            code,
            detail: mis_detail(code).map(str::to_owned),
            fields: Vec::new(),
            cause: Some(e.to_string()),
            retry_after: match code {
                ErrorCode::MisUnavailable | ErrorCode::OutcomeUnknown => Some(5),
                ErrorCode::Overloaded => Some(crate::admission::retry_after()),
                _ => None,
            },
        }
    }
}
