//! The patient: finding the card, booking (and moving a booking), cancelling, the history.

use super::codec::{HUB_NS, SERVICE_NS, enumeration, record};
use super::directory::{Doctor, Spesiality};
use super::referral::SearchOneDirectionResult;
use chrono::NaiveDateTime;

record! {
    /// A patient as `CheckPatient` takes it (`Patient` in the contract). It holds personal
    /// data, so its `Debug` says nothing of it.
    #[derive(Clone, PartialEq, Eq, Default)]
    pub struct PatientQuery in HUB_NS as "Patient" {
        aria_number: Option<String> = "AriaNumber",
        birthday: Option<NaiveDateTime> = "Birthday",
        cell_phone: Option<String> = "CellPhone",
        document_n: Option<String> = "Document_N",
        document_s: Option<String> = "Document_S",
        home_phone: Option<String> = "HomePhone",
        id_pat: Option<String> = "IdPat",
        name: Option<String> = "Name",
        polis_n: Option<String> = "Polis_N",
        polis_s: Option<String> = "Polis_S",
        second_name: Option<String> = "SecondName",
        snils: Option<String> = "Snils",
        surname: Option<String> = "Surname",
    }
}

impl std::fmt::Debug for PatientQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PatientQuery(<redacted>)")
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct CheckPatient in SERVICE_NS as "CheckPatient" {
        pat: PatientQuery = "pat",
        id_lpu: i32 = "idLpu",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct CheckPatientResult in HUB_NS as "CheckPatientResult" {
        id_pat: Option<String> = "IdPat",
    }
}

record! {
    /// Books a ticket; with `id_appointment_prev`, moves that booking to it in one step; with
    /// `doctors_referral`, books it by that referral.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct SetAppointment in SERVICE_NS as "SetAppointment" {
        id_appointment: String = "idAppointment",
        id_lpu: i32 = "idLpu",
        id_pat: String = "idPat",
        doctors_referral: Option<String> = "doctorsReferral",
        attached_referral: Option<SearchOneDirectionResult> = "attachedReferral",
        id_appointment_prev: Option<String> = "idAppointmentPrev",
    }
}

enumeration! {
    /// `SpecialistType`, the kind of doctor booked.
    pub enum SpecialistType {
        /// «отсутстствует_неопределено» (sic).
        Undefined = "отсутстствует_неопределено",
        /// A general practitioner.
        General = "широкого_профиля",
        /// A specialist.
        Narrow = "узкий",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct SetAppointmentResult in HUB_NS as "SetAppointmentResult" {
        kind: SpecialistType = "Type",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct CreateClaimForRefusal in SERVICE_NS as "CreateClaimForRefusal" {
        id_lpu: i32 = "idLpu",
        id_pat: String = "idPat",
        id_appointment: String = "idAppointment",
    }
}

record! {
    /// Writes the patient's phones into their card (a member left out is not changed).
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct UpdatePhoneByIdPat in SERVICE_NS as "UpdatePhoneByIdPat" {
        id_lpu: i32 = "idLpu",
        id_pat: String = "idPat",
        home_phone: Option<String> = "homePhone",
        cell_phone: Option<String> = "cellPhone",
    }
}

record! {
    /// A result with nothing beyond `MethodResult`.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct NoMembers in HUB_NS as "MethodResult" {}
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct GetPatientHistory in SERVICE_NS as "GetPatientHistory" {
        id_lpu: i32 = "idLpu",
        id_pat: String = "idPat",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct User in HUB_NS as "User" {
        user_name: Option<String> = "UserName",
        user_position: Option<String> = "UserPosition",
    }
}

record! {
    /// A visit of the history (`HistoryVisit`; a cancelled one is a `HistoryRefusal`, the same
    /// members).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct HistoryVisit in HUB_NS as "HistoryVisit" {
        date_created_appointment: Option<NaiveDateTime> = "DateCreatedAppointment",
        doctor_bring_referal: Option<Doctor> = "DoctorBringReferal",
        doctor_rending_consultation: Option<Doctor> = "DoctorRendingConsultation",
        id_appointment: Option<String> = "IdAppointment",
        speciality_bring_referal: Option<Spesiality> = "SpecialityBringReferal",
        speciality_rending_consultation: Option<Spesiality> = "SpecialityRendingConsultation",
        user_created_appointment: Option<User> = "UserCreatedAppointment",
        visit_start: NaiveDateTime = "VisitStart",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct PatientHistoryResult in HUB_NS as "GetPatientHistoryResult" {
        refusals: Option<Vec<HistoryVisit>> = "ListHistoryRefusal" ["HistoryRefusal"],
        visits: Option<Vec<HistoryVisit>> = "ListHistoryVisit",
    }
}
