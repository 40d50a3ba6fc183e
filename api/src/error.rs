//! How failures become HTTP answers.
//!
//! Policy: every failure a client can meet is an [`ApiError`] with one stable
//! [`ErrorCode`], answered as RFC 9457 `application/problem+json`. МИС errors map onto codes in
//! [`ApiError::from`]; 5xx bodies say what kind of failure it was and nothing internal, and
//! their cause is logged once, here, at `warn` (or `error` for gateway faults). No body or log
//! line carries a value the patient typed: field errors name the field and the rule, never
//! the value, and JSON parse errors are reduced to their kind.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use api_types::{ErrorCode, FieldError, Problem};
use mis::MisError;
use std::fmt;

/// A failed API request.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: Option<String>,
    pub fields: Vec<FieldError>,
    /// The internal cause, logged once and never sent.
    cause: Option<String>,
    /// Seconds after which a retry may succeed (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl ApiError {
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

    /// The error a problem document describes (a kept answer, replayed).
    pub fn from_problem(problem: Problem) -> Self {
        Self {
            detail: problem.detail,
            fields: problem.errors,
            ..Self::new(problem.code)
        }
    }

    pub fn internal(cause: impl fmt::Display) -> Self {
        Self {
            cause: Some(cause.to_string()),
            ..Self::new(ErrorCode::Internal)
        }
    }

    /// The problem document, quoting the current request's id.
    pub fn problem(&self) -> Problem {
        let mut p = Problem::new(self.code).with_errors(self.fields.clone());
        if let Some(d) = &self.detail {
            p = p.with_detail(d.clone());
        }
        p.request_id = crate::request_id::current();
        p
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

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.as_str())?;
        if let Some(c) = &self.cause {
            write!(f, ": {c}")?;
        }
        Ok(())
    }
}

impl From<crate::shared::StateError> for ApiError {
    fn from(e: crate::shared::StateError) -> Self {
        Self {
            cause: Some(e.to_string()),
            retry_after: Some(5),
            ..Self::new(ErrorCode::StateUnavailable).detail(
                "The gateway cannot reach its shared state now; nothing was done. Try again shortly.",
            )
        }
    }
}

impl From<MisError> for ApiError {
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
            MisError::BadResponse(_) | MisError::Rejected { .. } => ErrorCode::MisBadResponse,
            _ => ErrorCode::MisBadResponse,
        };
        let detail = match code {
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
            _ => None,
        };
        Self {
            code,
            detail: detail.map(str::to_owned),
            fields: Vec::new(),
            cause: Some(e.to_string()),
            retry_after: (code == ErrorCode::MisUnavailable).then_some(5),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            let cause = self.cause.as_deref().unwrap_or("");
            if self.code == ErrorCode::Internal {
                tracing::error!(code = self.code.as_str(), cause, "request failed");
            } else {
                tracing::warn!(code = self.code.as_str(), cause, "request failed");
            }
        } else if let Some(cause) = &self.cause {
            tracing::debug!(
                code = self.code.as_str(),
                cause = cause.as_str(),
                "request refused"
            );
        }
        let mut response = HttpResponse::build(status);
        response.content_type("application/problem+json");
        if let Some(secs) = self.retry_after {
            response.insert_header(("Retry-After", secs.to_string()));
        }
        response.json(self.problem())
    }
}

/// Reduces a JSON body error to what is safe to show: its kind and, for missing or unknown
/// fields and fields of the wrong type, the field's name (serde's messages can quote the
/// submitted value, so they are never shown). `path` is where in the body it failed (`.` for
/// the body itself); only a declared field's name is used from it.
pub fn json_error(e: &serde_json::Error, path: &str) -> ApiError {
    let text = e.to_string();
    let quoted_field = |prefix: &str| {
        text.strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    if let Some(field) = quoted_field("missing field `") {
        return ApiError::field(&field, "required", "This field is required.");
    }
    if let Some(field) = quoted_field("unknown field `") {
        // The client's own key: named only if it looks like a field name.
        let field = if is_field_name(&field) {
            field
        } else {
            "body".to_owned()
        };
        return ApiError::field(
            &field,
            "unknown_field",
            "This field is not part of the request.",
        );
    }
    match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            ApiError::field("body", "invalid_json", "The body is not valid JSON.")
        }
        _ if is_field_name(path) => {
            ApiError::field(path, "invalid_type", "This field has the wrong type.")
        }
        _ => ApiError::field("body", "invalid_json", "The body has the wrong shape."),
    }
}

/// A request body's field names are lower-case words joined by `_` (never text the client
/// chose: bodies have no maps).
fn is_field_name(path: &str) -> bool {
    (1..=64).contains(&path.len()) && path.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}
