//! Error responses: RFC 9457 problem details with a stable machine-readable `code`.
//!
//! Clients branch on `code`, never on `title` or `detail`; the widget maps each code to a
//! message in its own language files.

use serde::{Deserialize, Serialize};
use vocabulary::ErrorCode;

/// One field that could not be accepted, for `invalid_input`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The field's name in the request (`document_number`, `slot_id`, `date`, ...).
    pub field: String,
    /// A stable snake_case reason (`required`, `invalid_format`, `in_future`, ...).
    pub reason: String,
    /// A human-readable explanation; never echoes the submitted value.
    pub message: String,
}

/// An RFC 9457 problem document (`application/problem+json`) with the `code` extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI naming the problem type: `urn:registratura:error:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub code: ErrorCode,
    /// The offending fields, for `invalid_input`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The request's id (also in its `X-Request-Id` header and the gateway's log): quote it
    /// to the clinic's IT to find what happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Problem {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            kind: format!("urn:registratura:error:{}", code.as_str()),
            title: code.title().to_owned(),
            status: code.status(),
            detail: None,
            code,
            errors: Vec::new(),
            request_id: None,
        }
    }

    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    #[must_use]
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_type_names_the_code() {
        let p = Problem::new(ErrorCode::SlotTaken);
        assert_eq!(p.status, 409);
        assert_eq!(p.kind, "urn:registratura:error:slot_taken");
    }
}
