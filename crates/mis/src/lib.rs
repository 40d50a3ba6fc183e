//! The port to a clinic information system (МИС).
//!
//! The gateway talks to every МИС through the [`Mis`] trait, in the domain types of this crate
//! only; each protocol (the regional hub's SOAP contract first) is an adapter crate that
//! implements it. Values that come from outside (typed by a patient or read from a МИС) are
//! parsed into newtypes here, so that code holding a [`PolicyNumber`] knows it is well formed.
//! The values a gateway may cache (clinics, specialties, doctors, slots) serialize with serde,
//! so that gateways can share them; ids deserialize through their parsers.

mod error;
mod ids;
mod patient;
mod referral;
mod region;
mod waiting;

use async_trait::async_trait;
use chrono::{NaiveDate, NaiveDateTime};

pub use error::MisError;
pub use ids::{AppointmentId, DoctorId, IdError, LpuId, PatientId, SpecialtyId, WaitingId};
pub use patient::{
    BirthDate, BirthDateError, DocumentError, DocumentNumber, PatientIdentity, PhoneError,
    PhoneNumber, PolicyError, PolicyNumber,
};
pub use referral::{Referral, ReferralDoctor, ReferralKind, ReferralNumber, ReferralStatus};
pub use region::{Area, ClinicCard, District, Region, RegionClinic};
pub use waiting::{WaitingEntry, WaitingReason, WaitingRequest};

/// The version of the МИС service, as it reports it (also its liveness probe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MisVersion {
    pub service: Option<String>,
    pub database: Option<String>,
}

/// A clinic (ЛПУ) as the МИС lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClinicInfo {
    pub id: LpuId,
    pub full_name: Option<String>,
    pub short_name: Option<String>,
    pub active: bool,
}

/// A specialty of a clinic, with its free tickets.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Specialty {
    pub id: SpecialtyId,
    pub name: String,
    /// The federal code of the specialty (`FerIdSpesiality`), if the МИС gives it.
    #[serde(default)]
    pub federal_code: Option<String>,
    /// Free tickets open to this (internet) booking channel; `None` where the МИС does not
    /// say (it lists the specialty: it has some).
    pub free_tickets: Option<u32>,
    pub nearest_date: Option<NaiveDate>,
}

/// A doctor of a specialty, with free tickets.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Doctor {
    pub id: DoctorId,
    pub name: String,
    pub comment: Option<String>,
    /// `None` where the МИС does not say.
    pub free_tickets: Option<u32>,
    pub nearest_date: Option<NaiveDate>,
}

/// A free ticket of a doctor. Times are the clinic's local wall-clock times.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Slot {
    pub id: AppointmentId,
    pub start: NaiveDateTime,
    /// `None` where the МИС does not say when the visit ends.
    pub end: Option<NaiveDateTime>,
    pub room: Option<String>,
    pub address: Option<String>,
    pub number: Option<u32>,
}

/// A day of a doctor's schedule and whether it can be booked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingDay {
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub recordable: bool,
    pub deny_cause: Option<String>,
}

/// A booked visit from the patient's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub appointment: AppointmentId,
    pub start: NaiveDateTime,
    pub created: Option<NaiveDateTime>,
    pub doctor_id: Option<DoctorId>,
    pub doctor_name: Option<String>,
    pub specialty_id: Option<SpecialtyId>,
    pub specialty_name: Option<String>,
}

/// The patient's history: visits booked, and visits cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct History {
    pub visits: Vec<Visit>,
    pub refusals: Vec<Visit>,
}

/// A booking to make: a ticket for a patient; with `previous`, that booking is moved to it in
/// one step (kept if the move fails); with `referral`, the ticket is booked by that referral.
#[derive(Debug, Clone, Copy)]
pub struct Booking<'a> {
    pub patient: &'a PatientId,
    pub slot: &'a AppointmentId,
    pub previous: Option<&'a AppointmentId>,
    pub referral: Option<&'a ReferralNumber>,
}

impl<'a> Booking<'a> {
    /// A plain booking of `slot`.
    pub fn new(patient: &'a PatientId, slot: &'a AppointmentId) -> Self {
        Self {
            patient,
            slot,
            previous: None,
            referral: None,
        }
    }
}

/// An inclusive range of dates in the clinic's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    from: NaiveDate,
    to: NaiveDate,
}

impl DateRange {
    /// A range from `from` to `to`, both included; `None` if `to` is before `from`.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Option<Self> {
        (from <= to).then_some(Self { from, to })
    }

    /// The range of one day.
    pub fn day(date: NaiveDate) -> Self {
        Self {
            from: date,
            to: date,
        }
    }

    pub fn from(self) -> NaiveDate {
        self.from
    }

    pub fn to(self) -> NaiveDate {
        self.to
    }

    /// The first instant of the range.
    pub fn start(self) -> NaiveDateTime {
        self.from.and_time(chrono::NaiveTime::MIN)
    }

    /// The last second of the range.
    pub fn end(self) -> NaiveDateTime {
        // 23:59:59 is a valid time of every day.
        self.to
            .and_hms_opt(23, 59, 59)
            .unwrap_or(self.to.and_time(chrono::NaiveTime::MIN))
    }

    /// The number of days in the range.
    pub fn days(self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}

/// The operations of the patient flow, in domain terms. One implementation per МИС protocol.
#[async_trait]
pub trait Mis: Send + Sync + std::fmt::Debug {
    /// The service's version; a cheap call used as the readiness probe.
    async fn version(&self) -> Result<MisVersion, MisError>;

    /// The clinics this МИС serves.
    async fn clinics(&self) -> Result<Vec<ClinicInfo>, MisError>;

    /// The clinic's specialties with their free-ticket counts (including those with none).
    async fn specialties(&self, clinic: LpuId) -> Result<Vec<Specialty>, MisError>;

    /// The doctors of a specialty with their free-ticket counts (including those with none).
    async fn doctors(
        &self,
        clinic: LpuId,
        specialty: &SpecialtyId,
    ) -> Result<Vec<Doctor>, MisError>;

    /// The dates in `range` on which the doctor has free tickets.
    async fn available_dates(
        &self,
        clinic: LpuId,
        doctor: &DoctorId,
        range: DateRange,
    ) -> Result<Vec<NaiveDate>, MisError>;

    /// The doctor's free tickets in `range`.
    async fn slots(
        &self,
        clinic: LpuId,
        doctor: &DoctorId,
        range: DateRange,
    ) -> Result<Vec<Slot>, MisError>;

    /// The doctor's working days in `range` and whether each can be booked.
    async fn working_time(
        &self,
        clinic: LpuId,
        doctor: &DoctorId,
        range: DateRange,
    ) -> Result<Vec<WorkingDay>, MisError>;

    /// Finds the one patient card matching the identity.
    async fn find_patient(
        &self,
        clinic: LpuId,
        identity: &PatientIdentity,
    ) -> Result<PatientId, MisError>;

    /// Makes the booking (a new one, a move, or one by a referral).
    async fn book(&self, clinic: LpuId, booking: Booking<'_>) -> Result<(), MisError>;

    /// Cancels the patient's booking of `slot`.
    async fn cancel(
        &self,
        clinic: LpuId,
        patient: &PatientId,
        slot: &AppointmentId,
    ) -> Result<(), MisError>;

    /// The patient's booked and cancelled visits.
    async fn history(&self, clinic: LpuId, patient: &PatientId) -> Result<History, MisError>;

    /// What the referral `number` allows, and whose it is.
    async fn referral(&self, clinic: LpuId, number: &ReferralNumber) -> Result<Referral, MisError>;

    /// The doctor's tickets in `range` that are open to a referral of this kind.
    async fn referral_slots(
        &self,
        clinic: LpuId,
        doctor: &DoctorId,
        patient: &PatientId,
        kind: ReferralKind,
        range: DateRange,
    ) -> Result<Vec<Slot>, MisError>;

    /// Puts a request on the waiting list.
    async fn join_waiting_list(
        &self,
        clinic: LpuId,
        request: &WaitingRequest,
    ) -> Result<WaitingId, MisError>;

    /// The patient's active requests on the waiting list.
    async fn waiting_list(
        &self,
        clinic: LpuId,
        patient: &PatientId,
    ) -> Result<Vec<WaitingEntry>, MisError>;

    /// Withdraws a request from the waiting list. Whose it is, is the caller's to check.
    async fn leave_waiting_list(&self, clinic: LpuId, id: &WaitingId) -> Result<(), MisError>;

    /// Writes the patient's mobile phone into their card, from which the clinic's own SMS
    /// reminders go. Writing the same number again changes nothing.
    async fn update_phone(
        &self,
        clinic: LpuId,
        patient: &PatientId,
        phone: &PhoneNumber,
    ) -> Result<(), MisError>;
}
