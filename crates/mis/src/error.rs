//! What can go wrong when talking to a МИС, in domain terms.
//!
//! Adapters map their protocol's error codes onto these variants; the gateway maps each variant
//! to one HTTP status and one stable API code. Messages never carry personal data.

/// A failed МИС operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MisError {
    #[error("no patient matches the given data")]
    PatientNotFound,
    #[error("the given data match more than one patient")]
    PatientNotUnique,
    #[error("the ticket is already taken")]
    SlotTaken,
    #[error("the patient already has an upcoming booking of this kind")]
    AlreadyBooked,
    #[error("the patient is not attached to this doctor's district")]
    NotAttached,
    #[error("the clinic's rules forbid this booking for this patient")]
    NotAllowed,
    #[error("no such ticket, or it was already cancelled")]
    NoSuchTicket,
    #[error("no such referral")]
    ReferralNotFound,
    #[error("the referral has expired")]
    ReferralExpired,
    #[error("the referral was already used")]
    ReferralUsed,
    #[error("the referral was cancelled")]
    ReferralCancelled,
    #[error("no such request on the waiting list")]
    NoSuchWaitingRequest,
    #[error("the МИС rejected our credentials (guid)")]
    AccessDenied,
    #[error("the МИС is unavailable: {0}")]
    Unavailable(String),
    /// A write may have reached the МИС, and its answer was lost or could not be read (a
    /// timeout after the request left, a connection closed before the answer, an answer that
    /// is no answer). Whether the МИС acted is for the caller to find out by reading it: the
    /// write must not be repeated blindly. A failure before the request left is
    /// [`MisError::Unavailable`].
    #[error("the МИС may have acted; its answer was lost: {0}")]
    OutcomeUnknown(String),
    #[error("the МИС gave an unusable answer: {0}")]
    BadResponse(String),
    /// The call was not made: as many calls to this МИС are in flight as the gateway lets it
    /// take, and none ended soon enough. Nothing reached the МИС; trying again shortly is safe.
    #[error("the МИС is at its capacity: the call was not made")]
    Overloaded,
    /// The clinic's МИС protocol has no such operation (a FHIR clinic's waiting list).
    #[error("not supported: {0}")]
    NotSupported(String),
    /// An error code this port has no variant for. The МИС's description is dropped on
    /// purpose: clinic systems echo patient data in it.
    #[error("the МИС refused the request with error {code}")]
    Rejected { code: i32 },
}
