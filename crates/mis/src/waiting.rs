//! The waiting list («лист ожидания»): a patient's request for a visit when there is no
//! ticket that suits, kept by the МИС until a ticket is found or the request is withdrawn.

use crate::{DateRange, DoctorId, PatientId, PhoneNumber, SpecialtyId, WaitingId};
use chrono::NaiveDateTime;

/// Why the patient queues (the contract's `ClaimToWaitingListType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaitingReason {
    /// The specialty (or doctor) has no free tickets.
    NoFreeTickets,
    /// There are tickets, but none in the span that suits.
    NoConvenientTime,
    /// The specialty has no doctor.
    NoSpecialist,
}

/// A new request for the waiting list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingRequest {
    pub patient: PatientId,
    pub specialty: SpecialtyId,
    pub specialty_name: String,
    /// The specialty's federal code, if known.
    pub specialty_code: Option<String>,
    /// A doctor, if the patient wants one.
    pub doctor: Option<(DoctorId, String)>,
    /// How the clinic reaches the patient when a ticket is found.
    pub phone: PhoneNumber,
    /// The days that suit, if the patient said.
    pub window: Option<DateRange>,
    pub reason: WaitingReason,
}

/// A request on the waiting list, as the МИС lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingEntry {
    pub id: WaitingId,
    pub specialty_id: Option<SpecialtyId>,
    pub specialty_name: Option<String>,
    pub doctor_id: Option<DoctorId>,
    pub doctor_name: Option<String>,
    pub window: Option<DateRange>,
    /// `None` where the МИС does not say.
    pub created: Option<NaiveDateTime>,
    pub reason: Option<WaitingReason>,
}
