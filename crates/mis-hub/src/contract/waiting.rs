//! The waiting list: requests for a visit when there is no ticket («журнал отложенной
//! записи», the `PARequest` family), which can be registered, listed and withdrawn.
//!
//! The request types live in the `ContractsClasses.PostAppointment` namespace. The reason of a
//! request is written in `PARequestInfo.Claim` as the contract's `ClaimToWaitingListType`.

use super::codec::{POST_APPOINTMENT_NS, SERVICE_NS, enumeration, record};
use chrono::NaiveDateTime;

enumeration! {
    /// `ClaimToWaitingListType`: why the patient queues.
    pub enum ClaimToWaitingListType {
        /// No free tickets.
        NoFreeTickets = "отсутствуют_свободные_талоны",
        /// Tickets, but none at a time that suits.
        NoConvenientTime = "нет_удобного_времени",
        /// No such specialist in the clinic.
        NoSpecialist = "отсутствует_специалист",
    }
}

record! {
    /// What the patient waits for: a clinic's specialty, and a doctor of it if one is wanted.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct PaRequest in POST_APPOINTMENT_NS as "PARequest" {
        fer_id_speciality: Option<String> = "FerIdSpeciality",
        id_doc: Option<String> = "IdDoc",
        id_lpu: Option<String> = "IdLpu",
        id_nsi_lpu: Option<String> = "IdNsiLpu",
        id_speciality: Option<String> = "IdSpeciality",
        name_doc: Option<String> = "NameDoc",
        name_speciality: Option<String> = "NameSpeciality",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct PaRequestInfo in POST_APPOINTMENT_NS as "PARequestInfo" {
        /// A `ClaimToWaitingListType` value.
        claim: Option<String> = "Claim",
        info: Option<String> = "Info",
    }
}

record! {
    /// The patient of a request. Personal data: its `Debug` says nothing of it.
    #[derive(Clone, PartialEq, Eq, Default)]
    pub struct PaRequestPatient in POST_APPOINTMENT_NS as "PARequestPatient" {
        birth_date: Option<NaiveDateTime> = "BirthDate",
        first_name: Option<String> = "FirstName",
        id_patient: Option<String> = "IdPatient",
        last_name: Option<String> = "LastName",
        middle_name: Option<String> = "MiddleName",
        contacts: Option<PaRequestPatientContacts> = "PARequestPatientContacts",
    }
}

impl std::fmt::Debug for PaRequestPatient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PaRequestPatient(<redacted>)")
    }
}

record! {
    /// How to reach the patient. Personal data: its `Debug` says nothing of it.
    #[derive(Clone, PartialEq, Eq, Default)]
    pub struct PaRequestPatientContacts in POST_APPOINTMENT_NS as "PARequestPatientContacts" {
        additional_information: Option<String> = "AdditionalInformation",
        email: Option<String> = "Email",
        phone: Option<String> = "Phone",
    }
}

impl std::fmt::Debug for PaRequestPatientContacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PaRequestPatientContacts(<redacted>)")
    }
}

record! {
    /// A span of time that suits the patient.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct PaRequestInterval in POST_APPOINTMENT_NS as "PARequestInterval" {
        end_date: Option<NaiveDateTime> = "EndDate",
        start_date: Option<NaiveDateTime> = "StartDate",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct RegisterPARequestRequest in POST_APPOINTMENT_NS as "RegisterPARequestRequest" {
        pa_request: Option<PaRequest> = "PARequest",
        pa_request_info: Option<PaRequestInfo> = "PARequestInfo",
        pa_request_patient: Option<PaRequestPatient> = "PARequestPatient",
        /// Who registers it: the system's number in the hub.
        pa_source: i32 = "PASource",
        preferred_intervals: Option<Vec<PaRequestInterval>> = "PreferredIntervals",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct RegisterPARequest in SERVICE_NS as "RegisterPARequest" {
        request: Option<RegisterPARequestRequest> = "request",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct RegisterPARequestResult in POST_APPOINTMENT_NS as "RegisterPARequestResult" {
        id_par: Option<String> = "IdPar",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct SearchActivePARequestsRequest in POST_APPOINTMENT_NS as "SearchActivePARequestsRequest" {
        claim: Option<String> = "Claim",
        fer_id_speciality: Option<String> = "FerIdSpeciality",
        id_doc: Option<String> = "IdDoc",
        id_lpu: Option<String> = "IdLpu",
        id_nsi_lpu: Option<String> = "IdNsiLpu",
        id_par: Option<String> = "IdPar",
        id_patients: Option<Vec<String>> = "IdPatients",
        id_speciality: Option<String> = "IdSpeciality",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct SearchActivePARequests in SERVICE_NS as "SearchActivePARequests" {
        filter: Option<SearchActivePARequestsRequest> = "filter",
    }
}

record! {
    /// An active request.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ActivePaRequestInfo in POST_APPOINTMENT_NS as "ActivePARequestInfo" {
        created_date: Option<NaiveDateTime> = "CreatedDate",
        id_par: Option<String> = "IdPar",
        pa_request: Option<PaRequest> = "PARequest",
        pa_request_info: Option<PaRequestInfo> = "PARequestInfo",
        pa_request_patient: Option<PaRequestPatient> = "PARequestPatient",
        pa_source_created: i32 = "PASourceCreated",
        preferred_intervals: Option<Vec<PaRequestInterval>> = "PreferredIntervals",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct SearchActivePARequestsResult in POST_APPOINTMENT_NS as "SearchActivePARequestsResult" {
        active_pa_requests: Option<Vec<ActivePaRequestInfo>> = "ActivePARequests",
        count: i32 = "Count",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct CancelPARequestRequest in POST_APPOINTMENT_NS as "CancelPARequestRequest" {
        deactivation_comment: Option<String> = "DeactivationComment",
        deactivation_reason: i32 = "DeactivationReason",
        id_par: Option<String> = "IdPar",
        linked_id_par: Option<String> = "LinkedIdPar",
        pa_source: i32 = "PASource",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct CancelPARequest in SERVICE_NS as "CancelPARequest" {
        request: Option<CancelPARequestRequest> = "request",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct CancelPARequestResult in POST_APPOINTMENT_NS as "CancelPARequestResult" {
        cancellation_result: Option<bool> = "CancellationResult",
        id_par: Option<String> = "IdPar",
    }
}
