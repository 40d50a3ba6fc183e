//! The JSON request and response types of the Registratura API (`/api/v1`) and its error codes.
//!
//! The gateway serializes these and the widget deserializes them, so the two can never drift.
//! This crate depends on serde and chrono only (and utoipa behind the `openapi` feature), and it
//! compiles for `wasm32-unknown-unknown`.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

mod error;
pub mod routes;
pub mod wire;

pub use error::{FieldError, Problem};
#[cfg(feature = "testing")]
pub use vocabulary::near;
pub use vocabulary::{ErrorCode, identity};

/// A clinic served by this gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Clinic {
    /// The clinic's id in this API (from the gateway's configuration), used in every path.
    #[cfg_attr(feature = "openapi", schema(example = "demo"))]
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(example = "Городская поликлиника № 1"))]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(example = "г. Москва, ул. Лесная, д. 7"))]
    pub address: String,
    /// The IANA time zone of the clinic; every time in this API is the clinic's local time.
    #[cfg_attr(feature = "openapi", schema(example = "Europe/Moscow"))]
    pub timezone: String,
    /// Whether the clinic e-mails its tickets (`POST …/tickets/{ticket}/email`; without, that
    /// route answers `501 not_supported`).
    #[serde(default)]
    pub email_tickets: bool,
}

/// A specialty that has free tickets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Specialty {
    /// Opaque, URL-safe id.
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(example = "Терапия"))]
    pub name: String,
    /// Free tickets open to online booking; `null` where the clinic's МИС does not say how
    /// many (it has some: those without are listed only with `include_unavailable`).
    pub free_tickets: Option<u32>,
    /// The nearest date with a free ticket, in the clinic's zone.
    #[serde(with = "wire::opt_date", default)]
    pub nearest_date: Option<NaiveDate>,
}

/// A doctor that has free tickets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Doctor {
    /// Opaque, URL-safe id.
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(example = "Иванова Мария Петровна"))]
    pub name: String,
    /// A note from the clinic (qualification, district, ...), shown to the patient.
    pub comment: Option<String>,
    /// Free tickets open to online booking; `null` where the clinic's МИС does not say.
    pub free_tickets: Option<u32>,
    #[serde(with = "wire::opt_date", default)]
    pub nearest_date: Option<NaiveDate>,
}

/// The dates with free tickets of one doctor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AvailableDates {
    #[serde(with = "wire::date")]
    pub from: NaiveDate,
    #[serde(with = "wire::date")]
    pub to: NaiveDate,
    /// Dates (clinic zone) in `[from, to]` that have at least one free ticket, ascending.
    #[serde(with = "wire::dates")]
    pub dates: Vec<NaiveDate>,
}

/// A free ticket (a time slot of a doctor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Slot {
    /// Opaque, URL-safe id; pass it as `slot_id` to book this ticket.
    pub id: String,
    /// Start, in the clinic's local time with its offset.
    #[serde(with = "wire::datetime")]
    pub start: DateTime<FixedOffset>,
    /// End; `null` where the clinic's МИС does not say.
    #[serde(with = "wire::opt_datetime", default)]
    pub end: Option<DateTime<FixedOffset>>,
    pub room: Option<String>,
    pub address: Option<String>,
    /// The ticket's number in the doctor's day, when the clinic numbers them.
    pub number: Option<u32>,
    /// Whose ticket it is, in lists of several doctors' tickets (a referral's); absent in a
    /// doctor's own list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctor: Option<NamedRef>,
}

/// The patient's identity, as typed. The gateway parses every field and answers
/// `invalid_input` naming the fields it could not accept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    /// Identity document: Latin or Cyrillic letters, digits, spaces and dashes, with at least
    /// one digit. A 10-digit Russian passport number is split into series and number.
    #[cfg_attr(feature = "openapi", schema(example = "4510 123456"))]
    pub document_number: String,
    /// OMS policy: 16 digits (single format; spaces or dashes between them allowed), or the
    /// old series (1 to 12 letters or digits) and number (1 to 12 digits).
    #[cfg_attr(feature = "openapi", schema(example = "7700000000000001"))]
    pub policy_number: String,
    /// `YYYY-MM-DD`, a real calendar date. A date no patient can have (in the future, or more
    /// than 130 years ago) is answered `patient_not_found`.
    #[cfg_attr(feature = "openapi", schema(example = "1980-05-17"))]
    pub birth_date: String,
}

/// A patient session: pass the token as `Authorization: Bearer <token>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    pub token: String,
    #[serde(with = "wire::datetime")]
    pub expires_at: DateTime<FixedOffset>,
}

/// A booking request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    /// The `id` of a free slot (for a booking by referral, one of the referral's slots).
    pub slot_id: String,
    /// The number of the patient's referral that books this slot
    /// (`GET …/referrals/{number}/slots`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "0000000001"))]
    pub referral: Option<String>,
}

/// Moving a ticket to another time: the old one is kept if the new one cannot be booked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Reschedule {
    /// The `id` of the free slot to move to (for a visit booked by referral, one of the
    /// referral's slots).
    pub slot_id: String,
    /// The referral the visit was booked by, when the ticket does not say it (`Ticket.referral`
    /// is known for visits booked through this gateway): the new time is then one of the
    /// referral's (`GET …/referrals/{number}/slots`) and the visit keeps its referral.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "0000000001"))]
    pub referral: Option<String>,
}

/// Sending one of the patient's tickets by e-mail. The address is used for that message and
/// forgotten: it is not kept, logged or audited.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EmailTicket {
    /// The patient's address: at most 254 characters, its domain possibly internationalised
    /// (`почта.рф`).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "ivanov@example.ru", max_length = 254)
    )]
    pub email: String,
    /// The language of the message: `ru` (the default) or `en`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "ru"))]
    pub language: Option<String>,
}

impl std::fmt::Debug for EmailTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailTicket")
            .field("email", &"<hidden>")
            .field("language", &self.language)
            .finish()
    }
}

/// The patient's mobile phone for the clinic's SMS reminders, written into their card at the
/// clinic (never kept by the gateway), with their consent.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PatientPhone {
    /// A Russian mobile number: `+7` or `8`, then `9` and nine digits (spaces, dashes and
    /// brackets allowed).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "+7 916 123-45-67", max_length = 25)
    )]
    pub phone: String,
    /// The patient agrees to receive the clinic's SMS reminders («Согласен получать
    /// SMS-напоминания от поликлиники»): must be `true`.
    pub sms_consent: bool,
}

impl std::fmt::Debug for PatientPhone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatientPhone")
            .field("phone", &"<hidden>")
            .field("sms_consent", &self.sms_consent)
            .finish()
    }
}

/// What the message e-mailed says of its ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// The ticket, with its calendar file and two reminders.
    Booked,
    /// The ticket was cancelled: the calendar file removes the visit.
    Cancelled,
}

/// A ticket e-mailed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MailSent {
    pub kind: MailKind,
}

/// A request to be put on the waiting list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewWaitingRequest {
    /// The specialty's `id` (`GET …/specialties?include_unavailable=true` lists those
    /// without free tickets).
    pub specialty_id: String,
    /// A doctor of that specialty, if the patient wants one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctor_id: Option<String>,
    /// How the clinic reaches the patient: a Russian phone number (`+7 916 123-45-67`,
    /// `8 (495) 123-45-67`, ...). Personal data: never echoed.
    #[cfg_attr(feature = "openapi", schema(example = "+7 916 123-45-67"))]
    pub phone: String,
    /// The first day that suits (`YYYY-MM-DD`); default today when `to` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = Date, example = "2026-12-10"))]
    pub from: Option<String>,
    /// The last day that suits; default 91 days after `from` when `from` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = Date, example = "2026-12-24"))]
    pub to: Option<String>,
}

/// Why a patient is on the waiting list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WaitingReason {
    /// The specialty or doctor has no free ticket.
    NoFreeTickets,
    /// There are tickets, none at a time that suits.
    NoConvenientTime,
    /// The clinic has no doctor of the specialty.
    NoSpecialist,
}

/// A request on the waiting list: the clinic calls the patient when a ticket is found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitingRequest {
    /// Opaque, URL-safe id.
    pub id: String,
    pub specialty: NamedRef,
    pub doctor: Option<NamedRef>,
    /// The days that suit, if the patient said.
    #[serde(with = "wire::opt_date", default)]
    pub from: Option<NaiveDate>,
    #[serde(with = "wire::opt_date", default)]
    pub to: Option<NaiveDate>,
    /// When it was made; `null` where the clinic's МИС does not say.
    #[serde(with = "wire::opt_datetime", default)]
    pub created_at: Option<DateTime<FixedOffset>>,
    pub reason: Option<WaitingReason>,
}

/// What a referral books.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReferralKind {
    Consultation,
    /// A follow-up visit.
    Repeat,
    /// The clinic's system does not say.
    Unspecified,
}

/// What one of the patient's referrals («направление») allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Referral {
    #[cfg_attr(feature = "openapi", schema(example = "0000000001"))]
    pub number: String,
    pub kind: ReferralKind,
    /// The specialty it sends to.
    pub specialty: NamedRef,
    /// The doctors it may be booked with (their ids are the directory's).
    pub doctors: Vec<NamedRef>,
    #[serde(with = "wire::opt_date", default)]
    pub issued_on: Option<NaiveDate>,
    /// Its last valid day; booking ends then.
    #[serde(with = "wire::opt_date", default)]
    pub valid_until: Option<NaiveDate>,
}

/// An id with a name to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NamedRef {
    pub id: String,
    pub name: String,
}

/// A booked ticket.
///
/// `number`, `room`, `address` and `end` are known for tickets booked through this gateway;
/// for tickets booked elsewhere the clinic's system may not tell them, and they are `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ticket {
    /// Opaque, URL-safe id.
    pub id: String,
    pub number: Option<u32>,
    pub clinic: NamedRef,
    pub specialty: NamedRef,
    pub doctor: NamedRef,
    pub room: Option<String>,
    pub address: Option<String>,
    #[serde(with = "wire::datetime")]
    pub start: DateTime<FixedOffset>,
    #[serde(with = "wire::opt_datetime", default)]
    pub end: Option<DateTime<FixedOffset>>,
    #[serde(with = "wire::opt_datetime", default)]
    pub created_at: Option<DateTime<FixedOffset>>,
    /// The number of the referral the visit was booked by, when this gateway booked it so:
    /// moving the visit keeps it, and the new time is one of the referral's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral: Option<String>,
}

/// A district of a region (region mode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct District {
    /// The hub's id of the district, for `?district=` of the region's clinics.
    #[cfg_attr(feature = "openapi", schema(example = 1))]
    pub id: i32,
    #[cfg_attr(feature = "openapi", schema(example = "Адмиралтейский район"))]
    pub name: String,
}

/// A clinic of a region's catalogue (region mode), as the regional hub describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegionClinic {
    /// Its id: `<region>-<the hub's idLpu>`, stable across restarts.
    #[cfg_attr(feature = "openapi", schema(example = "spb-14"))]
    pub id: String,
    /// The district it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<i32>,
    #[cfg_attr(feature = "openapi", schema(example = "Городская поликлиника № 14"))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// `false`: listed by the hub, not taking bookings now.
    pub active: bool,
    /// The clinic (its id) this one is a branch of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch_of: Option<String>,
    /// The hub's kind of clinic (`LPUType`), for `?type=`.
    pub kind: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Working hours, as the hub writes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_time: Option<String>,
}

/// Why a clinic is missing from an answer across a region's clinics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClinicFailure {
    /// It did not answer within the answer's deadline.
    MisTimeout,
    /// Its МИС could not be reached (or its breaker is open).
    MisUnavailable,
    /// Its МИС answered with an error or something unusable.
    MisBadResponse,
    /// It was not asked now: its МИС, its region or the gateway had as many calls in flight
    /// as they take, or the answer had spent its budget of МИС calls. Ask again in a moment
    /// (what was asked is kept, so the next answer goes further), or narrow the answer to a
    /// district.
    Overloaded,
}

/// A clinic that did not answer, in an answer across a region's clinics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClinicFailed {
    /// The clinic's id.
    #[cfg_attr(feature = "openapi", schema(example = "spb-14"))]
    pub clinic: String,
    pub code: ClinicFailure,
}

/// A specialty across a region's clinics, merged by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegionSpecialty {
    /// The name, as the first clinic that has it writes it; pass it as `?specialty=` of the
    /// region's nearest tickets.
    #[cfg_attr(feature = "openapi", schema(example = "Терапия"))]
    pub name: String,
    /// Free tickets open to online booking, in every clinic that answered; `null` where one of
    /// them does not say how many.
    pub free_tickets: Option<u32>,
    /// The nearest date with a free ticket in any of them.
    #[serde(with = "wire::opt_date", default)]
    pub nearest_date: Option<NaiveDate>,
    /// The clinics (ids) that have it with free tickets.
    pub clinics: Vec<String>,
}

/// A free ticket in one of a region's clinics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegionSlot {
    /// The clinic whose ticket it is: book it at `POST /api/v1/clinics/{clinic.id}/tickets`.
    pub clinic: NamedRef,
    /// The ticket, naming its doctor.
    pub slot: Slot,
}

/// An area (участок) a patient is attached to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Area {
    #[cfg_attr(feature = "openapi", schema(example = "12"))]
    pub number: String,
    /// Its kind, as the hub names it.
    #[cfg_attr(feature = "openapi", schema(example = "Терапевтический"))]
    pub kind: String,
}

/// A clinic the patient is attached to («Моя поликлиника»).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyClinic {
    pub clinic: RegionClinic,
    pub areas: Vec<Area>,
}

/// What came of an answer across a region's clinics: the items of those that answered, and
/// the clinics that did not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Across<T> {
    pub items: Vec<T>,
    /// The clinics asked that did not answer in time, or answered a failure.
    pub clinics_failed: Vec<ClinicFailed>,
}

/// A list of items, wrapped so that members can be added later without breaking clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct List<T> {
    pub items: Vec<T>,
}

impl<T> From<Vec<T>> for List<T> {
    fn from(items: Vec<T>) -> Self {
        Self { items }
    }
}
