//! How failures become HTTP answers, once.
//!
//! Policy: every failure a client can meet is a domain [`Failure`] (or one the shell finds
//! itself: a body it cannot read, a header sent twice), with one stable [`ErrorCode`], answered
//! as RFC 9457 `application/problem+json` by [`ApiError`]'s one `ResponseError` impl. 5xx
//! bodies say what kind of failure it was and nothing internal, and their cause is logged once,
//! here, at `warn` (or `error` for the gateway's own faults). No body or log line carries a value
//! the patient typed: field errors name the field and the rule, never the value, and JSON parse
//! errors are reduced to their kind ([`json_error`]).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use api_types::ErrorCode;
use gateway_domain::Failure;
use std::fmt;

/// A failed request: a [`Failure`], as HTTP answers it.
#[derive(Debug)]
pub struct ApiError(pub Failure);

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        Self(Failure::new(code))
    }

    #[must_use]
    pub fn detail(self, detail: impl Into<String>) -> Self {
        Self(self.0.detail(detail))
    }

    /// `invalid_input` for one field.
    pub fn field(field: &str, reason: &str, message: impl Into<String>) -> Self {
        Self(Failure::field(field, reason, message))
    }

    pub fn not_found(what: &str) -> Self {
        Self(Failure::not_found(what))
    }

    /// The code answered.
    pub fn code(&self) -> ErrorCode {
        self.0.code
    }
}

impl From<Failure> for ApiError {
    fn from(failure: Failure) -> Self {
        Self(failure)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let failure = &self.0;
        let status = self.status_code();
        let cause = failure.cause.as_deref();
        if status.is_server_error() {
            let cause = cause.unwrap_or("");
            if failure.code == ErrorCode::Internal {
                tracing::error!(code = failure.code.as_str(), cause, "request failed");
            } else {
                tracing::warn!(code = failure.code.as_str(), cause, "request failed");
            }
        } else if let Some(cause) = cause {
            tracing::debug!(code = failure.code.as_str(), cause, "request refused");
        }
        let mut response = HttpResponse::build(status);
        response.content_type("application/problem+json");
        if let Some(secs) = failure.retry_after {
            response.insert_header(("Retry-After", secs.to_string()));
        }
        response.json(crate::wire::problem(failure))
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
