//! Every failure a client can meet, as a stable snake_case code that knows its HTTP status.
//!
//! Clients branch on the code, never on a title or a detail; the widget maps each code to a
//! message in its own language files.

use serde::{Deserialize, Serialize};

/// Every error a client can meet, as a stable snake_case code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The request is malformed or a field cannot be accepted (see `errors`).
    InvalidInput,
    /// No patient of the clinic matches the document, policy and birth date.
    PatientNotFound,
    /// The data match several patient cards; the registry desk must resolve it.
    PatientNotUnique,
    /// A valid `Authorization: Bearer` session token is needed (absent or expired).
    SessionRequired,
    /// The ticket was taken by someone else or is no longer offered.
    SlotTaken,
    /// The patient already has an upcoming ticket to this doctor or specialty.
    AlreadyBooked,
    /// The patient is not attached to this doctor's district.
    NotAttached,
    /// The clinic's rules forbid this booking for this patient (age, sex, profile).
    BookingNotAllowed,
    /// No such clinic, specialty, doctor, ticket or path.
    NotFound,
    /// The region's hub lists the clinic as not taking bookings now (region mode).
    ClinicInactive,
    /// The clinic's МИС has no such service (a FHIR clinic's waiting list and referrals).
    NotSupported,
    /// No referral with this number for this patient.
    ReferralNotFound,
    /// The referral's last valid day has passed.
    ReferralExpired,
    /// A visit is already booked by this referral.
    ReferralUsed,
    /// The clinic has cancelled the referral.
    ReferralCancelled,
    /// The patient is already on the waiting list for this specialty (and doctor).
    AlreadyOnWaitingList,
    /// The patient has as many requests on the waiting list as one may have.
    WaitingListFull,
    /// Another request of the same patient that must not overlap with this one (a booking, a
    /// move, a cancellation, a waiting-list change) is still running; retry after
    /// `Retry-After` seconds.
    RequestInProgress,
    /// The method is not allowed on this path.
    MethodNotAllowed,
    /// The request is not well-formed HTTP.
    BadRequest,
    /// The request's URI is longer than the gateway accepts.
    UriTooLong,
    /// The request's head (its headers) is larger than the gateway accepts.
    HeadersTooLarge,
    /// The `Idempotency-Key` was used before with another request body.
    IdempotencyKeyReused,
    /// A request with this `Idempotency-Key` is still being processed.
    IdempotencyKeyInUse,
    /// The request body is larger than the gateway accepts.
    PayloadTooLarge,
    /// The request's head or body came too slowly (headers within 5 seconds, the body within
    /// `server.body_timeout_secs`); nothing was done.
    RequestTimeout,
    /// The request body is not `application/json`, or is compressed (`Content-Encoding` other
    /// than `identity`).
    UnsupportedMediaType,
    /// Too many requests from this client; retry after `Retry-After` seconds.
    TooManyRequests,
    /// This client's address may not call the API (`server.api_allow`).
    Forbidden,
    /// The API key sent (`Authorization: ApiKey …` or `X-Api-Key`) is not one of this gateway's.
    InvalidApiKey,
    /// The clinic's information system cannot be reached now.
    MisUnavailable,
    /// The gateway is at the capacity of the clinic's information system (many patients at
    /// once, e.g. when new tickets are released); nothing was done. Retry after `Retry-After`
    /// seconds, with the same `Idempotency-Key` for a booking.
    Overloaded,
    /// The clinic's information system answered something the gateway cannot use.
    MisBadResponse,
    /// A booking, a move, a cancellation or a waiting-list change reached the clinic's
    /// information system, its answer was lost, and reading what the system holds failed too:
    /// whether it was done is not known. Check the patient's tickets (or requests) before trying
    /// again; a retry with the same `Idempotency-Key` finds out first, and never books twice.
    OutcomeUnknown,
    /// The state the gateways share (Redis) cannot be reached now; nothing was done. Retry
    /// after `Retry-After` seconds.
    StateUnavailable,
    /// The clinic's mail relay did not take the message (it did not answer in time, refused
    /// the gateway's login or dropped the connection); nothing was sent and nothing kept.
    /// Retry after `Retry-After` seconds.
    MailUnavailable,
    /// An unexpected failure inside the gateway.
    Internal,
}

impl ErrorCode {
    /// The HTTP status that goes with this code.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidInput | Self::IdempotencyKeyReused => 422,
            Self::PatientNotFound | Self::NotFound | Self::ReferralNotFound => 404,
            Self::ReferralExpired
            | Self::ReferralUsed
            | Self::ReferralCancelled
            | Self::AlreadyOnWaitingList
            | Self::WaitingListFull => 409,
            Self::PatientNotUnique
            | Self::SlotTaken
            | Self::AlreadyBooked
            | Self::NotAttached
            | Self::BookingNotAllowed
            | Self::ClinicInactive
            | Self::IdempotencyKeyInUse
            | Self::RequestInProgress => 409,
            Self::BadRequest => 400,
            Self::UriTooLong => 414,
            Self::HeadersTooLarge => 431,
            Self::SessionRequired | Self::InvalidApiKey => 401,
            Self::Forbidden => 403,
            Self::MethodNotAllowed => 405,
            Self::NotSupported => 501,
            Self::PayloadTooLarge => 413,
            Self::RequestTimeout => 408,
            Self::UnsupportedMediaType => 415,
            Self::TooManyRequests => 429,
            Self::MisUnavailable
            | Self::Overloaded
            | Self::StateUnavailable
            | Self::OutcomeUnknown
            | Self::MailUnavailable => 503,
            Self::MisBadResponse => 502,
            Self::Internal => 500,
        }
    }

    /// The snake_case code, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::PatientNotFound => "patient_not_found",
            Self::PatientNotUnique => "patient_not_unique",
            Self::SessionRequired => "session_required",
            Self::SlotTaken => "slot_taken",
            Self::AlreadyBooked => "already_booked",
            Self::NotAttached => "not_attached",
            Self::BookingNotAllowed => "booking_not_allowed",
            Self::NotFound => "not_found",
            Self::ClinicInactive => "clinic_inactive",
            Self::NotSupported => "not_supported",
            Self::ReferralNotFound => "referral_not_found",
            Self::ReferralExpired => "referral_expired",
            Self::ReferralUsed => "referral_used",
            Self::ReferralCancelled => "referral_cancelled",
            Self::AlreadyOnWaitingList => "already_on_waiting_list",
            Self::WaitingListFull => "waiting_list_full",
            Self::RequestInProgress => "request_in_progress",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::BadRequest => "bad_request",
            Self::UriTooLong => "uri_too_long",
            Self::HeadersTooLarge => "headers_too_large",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::IdempotencyKeyInUse => "idempotency_key_in_use",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RequestTimeout => "request_timeout",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::TooManyRequests => "too_many_requests",
            Self::Forbidden => "forbidden",
            Self::InvalidApiKey => "invalid_api_key",
            Self::MisUnavailable => "mis_unavailable",
            Self::Overloaded => "overloaded",
            Self::MisBadResponse => "mis_bad_response",
            Self::OutcomeUnknown => "outcome_unknown",
            Self::StateUnavailable => "state_unavailable",
            Self::MailUnavailable => "mail_unavailable",
            Self::Internal => "internal",
        }
    }

    /// A short English title for the problem document.
    pub fn title(self) -> &'static str {
        match self {
            Self::InvalidInput => "Some fields cannot be accepted",
            Self::PatientNotFound => "The clinic has no patient with these data",
            Self::PatientNotUnique => "The data match several patient records",
            Self::SessionRequired => "A patient session is required",
            Self::SlotTaken => "This ticket is already taken",
            Self::AlreadyBooked => "The patient already has an upcoming ticket of this kind",
            Self::NotAttached => "The patient is not attached to this doctor's district",
            Self::BookingNotAllowed => "The clinic does not allow this booking for this patient",
            Self::NotFound => "Not found",
            Self::ClinicInactive => "The clinic does not take bookings online now",
            Self::NotSupported => "The clinic's system does not offer this",
            Self::ReferralNotFound => "The patient has no referral with this number",
            Self::ReferralExpired => "The referral has expired",
            Self::ReferralUsed => "A visit is already booked by this referral",
            Self::ReferralCancelled => "The referral was cancelled",
            Self::AlreadyOnWaitingList => "The patient is already on this waiting list",
            Self::WaitingListFull => "The patient has too many waiting-list requests",
            Self::RequestInProgress => "Another request of this patient is still running",
            Self::MethodNotAllowed => "Method not allowed",
            Self::BadRequest => "The request is not well-formed HTTP",
            Self::UriTooLong => "The request URI is too long",
            Self::HeadersTooLarge => "The request headers are too large",
            Self::IdempotencyKeyReused => "The idempotency key was used with another request",
            Self::IdempotencyKeyInUse => "A request with this idempotency key is in progress",
            Self::PayloadTooLarge => "The request body is too large",
            Self::RequestTimeout => "The request came too slowly",
            Self::UnsupportedMediaType => "The request body must be uncompressed application/json",
            Self::TooManyRequests => "Too many requests",
            Self::Forbidden => "This address may not call the API",
            Self::InvalidApiKey => "The API key is not valid",
            Self::MisUnavailable => "The clinic's information system is unavailable",
            Self::Overloaded => "Too many patients at once; retrying shortly will work",
            Self::MisBadResponse => "The clinic's information system gave an unusable answer",
            Self::OutcomeUnknown => "The clinic did not confirm whether it was done",
            Self::StateUnavailable => "The gateway's shared state is unavailable",
            Self::MailUnavailable => "The clinic's mail relay did not take the message",
            Self::Internal => "Internal error",
        }
    }

    /// Every code, for documentation and exhaustive tests.
    pub const ALL: [ErrorCode; 37] = [
        Self::InvalidInput,
        Self::PatientNotFound,
        Self::PatientNotUnique,
        Self::SessionRequired,
        Self::SlotTaken,
        Self::AlreadyBooked,
        Self::NotAttached,
        Self::BookingNotAllowed,
        Self::NotFound,
        Self::ClinicInactive,
        Self::NotSupported,
        Self::ReferralNotFound,
        Self::ReferralExpired,
        Self::ReferralUsed,
        Self::ReferralCancelled,
        Self::AlreadyOnWaitingList,
        Self::WaitingListFull,
        Self::RequestInProgress,
        Self::MethodNotAllowed,
        Self::BadRequest,
        Self::UriTooLong,
        Self::HeadersTooLarge,
        Self::IdempotencyKeyReused,
        Self::IdempotencyKeyInUse,
        Self::PayloadTooLarge,
        Self::RequestTimeout,
        Self::UnsupportedMediaType,
        Self::TooManyRequests,
        Self::Forbidden,
        Self::InvalidApiKey,
        Self::MisUnavailable,
        Self::Overloaded,
        Self::MisBadResponse,
        Self::OutcomeUnknown,
        Self::StateUnavailable,
        Self::MailUnavailable,
        Self::Internal,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_serializes_to_its_as_str() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).expect("a unit enum serializes");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: ErrorCode = serde_json::from_str(&json).expect("and parses back");
            assert_eq!(back, code);
        }
    }
}
