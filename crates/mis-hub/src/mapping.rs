//! What the hub's answers mean for the port: its `IdError`s as [`MisError`]s, and its results
//! (slots, visits, referrals, waiting-list requests, …) as the port's types, parsed strictly
//! where a member is required and leniently where the contract makes it optional.

use crate::contract::{self, Operation, Window};
use mis::{
    AppointmentId, DateRange, DoctorId, LpuId, MisError, PatientId, Referral, ReferralDoctor,
    ReferralKind, ReferralNumber, ReferralStatus, Slot, SpecialtyId, Visit, WaitingEntry,
    WaitingId, WaitingReason,
};

/// The `IdError`s of referrals and the waiting list. No public table of them exists for the
/// hub; these are the sandbox's, and a МИС that answers others gets
/// [`MisError::Rejected`] (the gateway checks a referral's state itself before booking by it).
pub mod codes {
    pub const REFERRAL_NOT_FOUND: i32 = 51;
    pub const REFERRAL_EXPIRED: i32 = 52;
    pub const REFERRAL_USED: i32 = 53;
    pub const REFERRAL_CANCELLED: i32 = 54;
    pub const NO_SUCH_WAITING_REQUEST: i32 = 61;
}

/// Maps a hub `IdError` onto the port's errors.
pub fn error_of(id_error: i32) -> MisError {
    match id_error {
        1 => MisError::AccessDenied,
        20 => MisError::PatientNotFound,
        21 => MisError::PatientNotUnique,
        22 | 33 | 34 => MisError::NotAllowed,
        35 => MisError::AlreadyBooked,
        36 | 41 => MisError::NotAttached,
        38 | 75 => MisError::NoSuchTicket,
        39 => MisError::SlotTaken,
        codes::REFERRAL_NOT_FOUND => MisError::ReferralNotFound,
        codes::REFERRAL_EXPIRED => MisError::ReferralExpired,
        codes::REFERRAL_USED => MisError::ReferralUsed,
        codes::REFERRAL_CANCELLED => MisError::ReferralCancelled,
        codes::NO_SUCH_WAITING_REQUEST => MisError::NoSuchWaitingRequest,
        99 => MisError::Unavailable("the МИС reported a technical error (99)".into()),
        code => MisError::Rejected { code },
    }
}

pub(crate) fn unexpected(op: Operation) -> MisError {
    MisError::BadResponse(format!("unexpected result shape for {}", op.name()))
}

pub(crate) fn bad(what: &str) -> MisError {
    MisError::BadResponse(format!("invalid {what}"))
}

/// A required id member, parsed into its newtype.
pub(crate) fn required_id<T>(
    value: Option<String>,
    what: &str,
    parse: impl FnOnce(String) -> Result<T, mis::IdError>,
) -> Result<T, MisError> {
    value
        .map(parse)
        .transpose()
        .map_err(|_| bad(what))?
        .ok_or_else(|| bad(what))
}

/// An optional id member: kept when well formed.
pub(crate) fn optional_id<T>(
    value: Option<String>,
    parse: impl FnOnce(String) -> Result<T, mis::IdError>,
) -> Option<T> {
    value.and_then(|v| parse(v).ok())
}

pub(crate) fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

/// A text member, `None` when blank.
pub(crate) fn text(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.trim().is_empty())
}

pub(crate) fn window(clinic: LpuId, doctor: &DoctorId, range: DateRange) -> Window {
    Window {
        id_doc: doctor.as_str().to_owned(),
        id_lpu: clinic.get(),
        id_pat: None,
        visit_start: range.start(),
        visit_end: range.end(),
    }
}

pub(crate) fn slots_of(list: Option<Vec<contract::Appointment>>) -> Result<Vec<Slot>, MisError> {
    let mut slots = list
        .unwrap_or_default()
        .into_iter()
        .map(|a| {
            Ok(Slot {
                id: required_id(a.id_appointment, "IdAppointment", AppointmentId::parse)?,
                start: a.visit_start,
                end: a.visit_end,
                room: text(a.room),
                address: text(a.address),
                number: a.num.and_then(|n| u32::try_from(n).ok()),
            })
        })
        .collect::<Result<Vec<_>, MisError>>()?;
    slots.sort_by_key(|s| s.start);
    Ok(slots)
}

pub(crate) fn visit_of(v: contract::HistoryVisit) -> Result<Visit, MisError> {
    let appointment = required_id(v.id_appointment, "IdAppointment", AppointmentId::parse)?;
    let doctor = v.doctor_rending_consultation;
    let specialty = v.speciality_rending_consultation;
    Ok(Visit {
        appointment,
        start: v.visit_start,
        created: v.date_created_appointment,
        doctor_id: doctor
            .as_ref()
            .and_then(|d| optional_id(d.id_doc.clone(), DoctorId::parse)),
        doctor_name: doctor.and_then(|d| d.name),
        specialty_id: specialty
            .as_ref()
            .and_then(|s| optional_id(s.id_spesiality.clone(), SpecialtyId::parse)),
        specialty_name: specialty.and_then(|s| s.name_spesiality),
    })
}

pub(crate) fn kind_of(t: contract::AppointmentType) -> ReferralKind {
    match t {
        contract::AppointmentType::Consultation => ReferralKind::Consultation,
        contract::AppointmentType::Repeat => ReferralKind::Repeat,
        contract::AppointmentType::Undefined => ReferralKind::Unspecified,
    }
}

pub(crate) fn appointment_type(kind: ReferralKind) -> contract::AppointmentType {
    match kind {
        ReferralKind::Consultation => contract::AppointmentType::Consultation,
        ReferralKind::Repeat => contract::AppointmentType::Repeat,
        ReferralKind::Unspecified => contract::AppointmentType::Undefined,
    }
}

pub(crate) fn claim_of(reason: WaitingReason) -> contract::ClaimToWaitingListType {
    match reason {
        WaitingReason::NoFreeTickets => contract::ClaimToWaitingListType::NoFreeTickets,
        WaitingReason::NoConvenientTime => contract::ClaimToWaitingListType::NoConvenientTime,
        WaitingReason::NoSpecialist => contract::ClaimToWaitingListType::NoSpecialist,
    }
}

pub(crate) fn reason_of(claim: contract::ClaimToWaitingListType) -> WaitingReason {
    match claim {
        contract::ClaimToWaitingListType::NoFreeTickets => WaitingReason::NoFreeTickets,
        contract::ClaimToWaitingListType::NoConvenientTime => WaitingReason::NoConvenientTime,
        contract::ClaimToWaitingListType::NoSpecialist => WaitingReason::NoSpecialist,
    }
}

/// A person's name, «Фамилия Имя Отчество».
pub(crate) fn full_name(person: Option<&contract::Person>) -> Option<String> {
    let name = person?.human_name.as_ref()?;
    let parts: Vec<&str> = [&name.family_name, &name.given_name, &name.middle_name]
        .into_iter()
        .filter_map(|p| p.as_deref().map(str::trim).filter(|p| !p.is_empty()))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// A referral from what `InspectDoctorsReferal` says (whose, to which doctor, what kind) and,
/// where the МИС answers it, what `CheckReferral` adds (doctors, specialty, dates, state).
pub(crate) fn referral_of(
    number: &ReferralNumber,
    inspected: contract::InspectDoctorsReferalResult,
    details: Option<contract::Referral>,
) -> Result<Referral, MisError> {
    let patient = required_id(inspected.id_patient, "Id_Patient", PatientId::parse)?;
    let details = details.unwrap_or_default();
    let info = details.referral_info.unwrap_or_default();
    let events = details.events_info.unwrap_or_default();
    let mut doctors: Vec<ReferralDoctor> = details
        .target
        .and_then(|t| t.doctors)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|d| {
            let id = optional_id(
                d.person.as_ref().and_then(|p| p.id_person_mis.clone()),
                DoctorId::parse,
            )?;
            Some(ReferralDoctor {
                id,
                name: full_name(d.person.as_ref()),
                specialty_code: d.speciality.and_then(|c| text(c.code)),
            })
        })
        .collect();
    if let Some(id) = optional_id(inspected.id_doc, DoctorId::parse)
        && !doctors.iter().any(|d| d.id == id)
    {
        doctors.insert(
            0,
            ReferralDoctor {
                id,
                name: None,
                specialty_code: None,
            },
        );
    }
    if doctors.is_empty() {
        return Err(bad("referral without a doctor"));
    }
    let specialty_code = info
        .profile_med_service
        .and_then(|c| text(c.code))
        .or_else(|| doctors.iter().find_map(|d| d.specialty_code.clone()));
    let source = events.source.unwrap_or_default();
    let status = if events.cancellation.is_some() {
        ReferralStatus::Cancelled
    } else if events
        .target
        .is_some_and(|t| t.reception_appoint_date.is_some())
    {
        ReferralStatus::Used
    } else {
        ReferralStatus::Active
    };
    Ok(Referral {
        number: number.clone(),
        patient,
        clinic: (inspected.id_lpu != 0).then(|| LpuId::new(inspected.id_lpu)),
        kind: kind_of(inspected.kind),
        specialty_code,
        doctors,
        issued: info.date.or(source.referral_create_date).map(|d| d.date()),
        valid_until: source.planned_date.map(|d| d.date()),
        status,
    })
}

pub(crate) fn entry_of(
    clinic: LpuId,
    patient: &PatientId,
    e: contract::ActivePaRequestInfo,
) -> Option<Result<WaitingEntry, MisError>> {
    let request = e.pa_request.unwrap_or_default();
    // Defensively, only this clinic's requests of this patient, whatever filter the МИС applied.
    let other_clinic = request
        .id_lpu
        .as_deref()
        .is_some_and(|l| l.trim() != clinic.get().to_string());
    let other_patient = e
        .pa_request_patient
        .as_ref()
        .and_then(|p| p.id_patient.as_deref())
        .is_some_and(|p| p != patient.as_str());
    if other_clinic || other_patient {
        return None;
    }
    let id = match required_id(e.id_par, "IdPar", WaitingId::parse) {
        Ok(id) => id,
        Err(err) => return Some(Err(err)),
    };
    let window = e
        .preferred_intervals
        .unwrap_or_default()
        .into_iter()
        .next()
        .and_then(|i| DateRange::new(i.start_date?.date(), i.end_date?.date()));
    Some(Ok(WaitingEntry {
        id,
        specialty_id: optional_id(request.id_speciality, SpecialtyId::parse),
        specialty_name: text(request.name_speciality),
        doctor_id: optional_id(request.id_doc, DoctorId::parse),
        doctor_name: text(request.name_doc),
        window,
        created: e.created_date,
        reason: e
            .pa_request_info
            .and_then(|i| i.claim)
            .and_then(|c| contract::ClaimToWaitingListType::parse(&c))
            .map(reason_of),
    }))
}
