//! What the domain answers: its own types, with the public ids ([`crate::ids`]) and times in
//! the clinic's zone (with its offset). The shell maps each onto the API's JSON (`api_types`)
//! in one place (`api`'s `wire`), so that neither the wire's serde attributes nor its schema
//! shape what the domain decides, and the wire can change without the domain.
//! None of them serializes: what the state keeps of a [`Ticket`] (under an idempotency key) is
//! `crate::idempotency`'s own storage form, so that no view reaches a client but through the
//! shell's mapping.

use chrono::{DateTime, FixedOffset, NaiveDate};

/// An id with a name to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub id: String,
    pub name: String,
}

/// A clinic served by this gateway, as patients see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clinic {
    /// Its id in the API (from the configuration, or `<region>-<idLpu>`).
    pub id: String,
    pub name: String,
    pub address: String,
    /// The IANA time zone every time of the clinic is in.
    pub timezone: String,
}

/// A specialty of a clinic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Specialty {
    pub id: String,
    pub name: String,
    /// Free tickets open to online booking; `None` where the МИС does not say.
    pub free_tickets: Option<u32>,
    pub nearest_date: Option<NaiveDate>,
}

/// A doctor of a specialty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doctor {
    pub id: String,
    pub name: String,
    pub comment: Option<String>,
    pub free_tickets: Option<u32>,
    pub nearest_date: Option<NaiveDate>,
}

/// The dates with free tickets of a doctor within a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dates {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Ascending.
    pub dates: Vec<NaiveDate>,
}

/// A free ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// What books it.
    pub id: String,
    pub start: DateTime<FixedOffset>,
    pub end: Option<DateTime<FixedOffset>>,
    pub room: Option<String>,
    pub address: Option<String>,
    pub number: Option<u32>,
    /// Its doctor, in lists of several doctors' tickets.
    pub doctor: Option<Named>,
}

/// A booked ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: String,
    pub number: Option<u32>,
    pub clinic: Named,
    pub specialty: Named,
    pub doctor: Named,
    pub room: Option<String>,
    pub address: Option<String>,
    pub start: DateTime<FixedOffset>,
    pub end: Option<DateTime<FixedOffset>>,
    pub created_at: Option<DateTime<FixedOffset>>,
    /// The referral the visit was booked by, when this gateway booked it so.
    pub referral: Option<String>,
}

/// A request of the patient's on the waiting list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingRequest {
    pub id: String,
    pub specialty: Named,
    pub doctor: Option<Named>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub created_at: Option<DateTime<FixedOffset>>,
    pub reason: Option<mis::WaitingReason>,
}

/// What one of the patient's referrals allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    pub number: String,
    pub kind: mis::ReferralKind,
    pub specialty: Named,
    /// The doctors it may be booked with.
    pub doctors: Vec<Named>,
    pub issued_on: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
}

/// Why a clinic is missing from an answer across a region's clinics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClinicFailure {
    /// It did not answer within the answer's deadline.
    MisTimeout,
    /// Its МИС could not be reached (or its breaker is open).
    MisUnavailable,
    /// Its МИС answered with an error or something unusable.
    MisBadResponse,
    /// It was not asked: a bound on the calls in flight, or the answer's budget of calls.
    Overloaded,
}

/// A clinic that did not answer, in an answer across a region's clinics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicFailed {
    /// The clinic's id.
    pub clinic: String,
    pub code: ClinicFailure,
}

/// An answer across a region's clinics: the items of those that answered, and those that did
/// not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Across<T> {
    pub items: Vec<T>,
    pub clinics_failed: Vec<ClinicFailed>,
}

/// A specialty across a region's clinics, merged by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionSpecialty {
    pub name: String,
    /// The sum over the clinics that answered; `None` where one of them does not say.
    pub free_tickets: Option<u32>,
    pub nearest_date: Option<NaiveDate>,
    /// The clinics (ids) that have it.
    pub clinics: Vec<String>,
}

/// A free ticket of one of a region's clinics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionSlot {
    pub clinic: Named,
    pub slot: Slot,
}

/// A clinic of the region a patient is attached to, with the areas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyClinic {
    pub clinic: crate::region::CatalogueClinic,
    pub areas: Vec<mis::Area>,
}
