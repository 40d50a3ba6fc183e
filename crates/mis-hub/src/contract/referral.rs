//! Referrals («направления»): checking a referral's code, reading what it allows, the tickets
//! open to it. Booking by a referral is `SetAppointment` with `doctorsReferral`.
//!
//! `Referral` and its parts live in the `HubService2.Dto` namespace. Only the members the
//! gateway reads are modelled; the others are left out when written (every member is optional
//! in the schema) and ignored when read.

use super::codec::{DTO_NS, HUB_NS, SERVICE_NS, enumeration, record};
use chrono::NaiveDateTime;

record! {
    /// Checks a referral's code (`InspectDoctorsReferal`, «только для сайта и инфомата»).
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct InspectDoctorsReferal in SERVICE_NS as "InspectDoctorsReferal" {
        id_lpu: i32 = "idLpu",
        doctors_referal: Option<String> = "doctorsReferal",
    }
}

enumeration! {
    /// `AppointmentType`: what a referral books.
    pub enum AppointmentType {
        /// «отсутстствует_неопределено» (sic).
        Undefined = "отсутстствует_неопределено",
        /// A follow-up visit.
        Repeat = "повторный",
        /// A consultation.
        Consultation = "консультация",
    }
}

record! {
    /// The doctor a referral sends to, and whose patient it is.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct InspectDoctorsReferalResult in HUB_NS as "InspectDoctorsReferalResult" {
        id_doc: Option<String> = "IdDoc",
        id_lpu: i32 = "IdLpu",
        id_patient: Option<String> = "Id_Patient",
        kind: AppointmentType = "Type",
    }
}

record! {
    /// Reads a referral (`CheckReferral`).
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct CheckReferral in SERVICE_NS as "CheckReferral" {
        doctors_referral: Option<String> = "doctorsReferral",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct CheckReferralResult in HUB_NS as "CheckReferralResult" {
        referral: Option<Referral> = "Referral",
    }
}

record! {
    /// A code of a dictionary (`Coding`).
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Coding in DTO_NS as "Coding" {
        code: Option<String> = "Code",
        system: Option<String> = "System",
        version: Option<String> = "Version",
    }
}

record! {
    /// A referral: whose, what for, to whom, and what became of it.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Referral in DTO_NS as "Referral" {
        events_info: Option<EventsInfo> = "EventsInfo",
        patient: Option<ReferralPatient> = "Patient",
        referral_info: Option<ReferralInfo> = "ReferralInfo",
        target: Option<ReferralTarget> = "Target",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct EventsInfo in DTO_NS as "EventsInfo" {
        /// Present when the referral was cancelled.
        cancellation: Option<CancellationData> = "Cancellation",
        source: Option<EventSource> = "Source",
        target: Option<EventTarget> = "Target",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct CancellationData in DTO_NS as "CancellationData" {
        date: Option<NaiveDateTime> = "Date",
        reason_comment: Option<String> = "ReasonComment",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct EventSource in DTO_NS as "EventSource" {
        /// The date by which the visit is planned: the referral's last valid day.
        planned_date: Option<NaiveDateTime> = "PlannedDate",
        referral_create_date: Option<NaiveDateTime> = "ReferralCreateDate",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct EventTarget in DTO_NS as "EventTarget" {
        /// The visit booked by the referral: set once it is used.
        reception_appoint_date: Option<NaiveDateTime> = "ReceptionAppointDate",
    }
}

record! {
    /// The referral's patient (`Patient` of the `Dto` namespace).
    #[derive(Clone, PartialEq, Eq, Default)]
    pub struct ReferralPatient in DTO_NS as "Patient" {
        person: Option<Person> = "Person",
    }
}

impl std::fmt::Debug for ReferralPatient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReferralPatient(<redacted>)")
    }
}

record! {
    /// A person: a patient or a doctor.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Person in DTO_NS as "Person" {
        birth_date: Option<NaiveDateTime> = "BirthDate",
        human_name: Option<HumanName> = "HumanName",
        id_patient_mis: Option<String> = "IdPatientMis",
        id_person_mis: Option<String> = "IdPersonMis",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct HumanName in DTO_NS as "HumanName" {
        family_name: Option<String> = "FamilyName",
        given_name: Option<String> = "GivenName",
        middle_name: Option<String> = "MiddleName",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct ReferralInfo in DTO_NS as "ReferralInfo" {
        comment: Option<String> = "Comment",
        /// When it was issued.
        date: Option<NaiveDateTime> = "Date",
        /// The medical profile it sends to; its code is the federal specialty code.
        profile_med_service: Option<Coding> = "ProfileMedService",
        reason: Option<String> = "Reason",
        referral_type: Option<Coding> = "ReferralType",
    }
}

record! {
    /// Where the referral sends the patient.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct ReferralTarget in DTO_NS as "ReferralTarget" {
        doctors: Option<Vec<ReferralDoctor>> = "Doctors",
        lpu: Option<Coding> = "Lpu",
    }
}

record! {
    /// A doctor of a referral (`Doctor` of the `Dto` namespace).
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct ReferralDoctor in DTO_NS as "Doctor" {
        person: Option<Person> = "Person",
        speciality: Option<Coding> = "Speciality",
    }
}

record! {
    /// A referral found by the hub (`SearchOneDirectionResult`), as `SetAppointment` may carry
    /// it in `attachedReferral`.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct SearchOneDirectionResult in HUB_NS as "SearchOneDirectionResult" {
        id_mq: Option<String> = "IdMq",
        referral: Option<Referral> = "Referral",
    }
}

record! {
    /// The tickets of a doctor that need a referral (`GetAppointmentsDemandDoctorsReferal`).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct GetAppointmentsDemandDoctorsReferal in SERVICE_NS as "GetAppointmentsDemandDoctorsReferal" {
        id_doc: Option<String> = "idDoc",
        id_lpu: i32 = "idLpu",
        id_pat: Option<String> = "idPat",
        app_type: AppointmentType = "appType",
        start_visit: NaiveDateTime = "startVisit",
        end_visit: NaiveDateTime = "endVisit",
    }
}
