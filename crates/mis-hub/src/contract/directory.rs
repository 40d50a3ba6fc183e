//! The directory: the service's version, clinics, specialties, doctors, their dates, tickets
//! and working days.

use super::codec::{HUB_NS, Okato, SERVICE_NS, enumeration, record};
use chrono::NaiveDateTime;

record! {
    /// No parameters (`GetVersion`).
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct NoParams in SERVICE_NS as "NoParams" {}
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct VersionResult in HUB_NS as "GetVersionResult" {
        database_version: Option<String> = "DatabaseVersion",
        service_version: Option<String> = "ServiceVersion",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct GetLpuList in SERVICE_NS as "GetLPUList" {
        id_district: Option<i32> = "idDistrict",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Clinic in HUB_NS as "Clinic" {
        description: Option<String> = "Description",
        district: Option<i32> = "District",
        id_lpu: i32 = "IdLPU",
        is_active: Option<bool> = "IsActive",
        full_name: Option<String> = "LPUFullName",
        short_name: Option<String> = "LPUShortName",
        lpu_type: Option<i32> = "LPUType",
        oid: Option<String> = "Oid",
        part_of: Option<i32> = "PartOf",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct LpuListResult in HUB_NS as "GetLPUListResult" {
        list_lpu: Option<Vec<Clinic>> = "ListLPU",
    }
}

record! {
    /// No parameters but the key (`GetDistrictList`).
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct GetDistrictList in SERVICE_NS as "GetDistrictList" {}
}

record! {
    /// A district of the region.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct District in HUB_NS as "District" {
        name: Option<String> = "DistrictName",
        id: i32 = "IdDistrict",
        okato: Option<Okato> = "Okato",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct DistrictResult in HUB_NS as "GetDistrictListResult" {
        districts: Option<Vec<District>> = "Districts",
    }
}

record! {
    /// One clinic's card, or every clinic's (`idLpu` absent).
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct GetLpuInfo in SERVICE_NS as "GetLPUInfo" {
        id_lpu: Option<i32> = "idLpu",
    }
}

record! {
    /// A clinic's card: where it is, how to reach it, when it works.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct LpuInfo in HUB_NS as "LpuInfo" {
        address: Option<String> = "Address",
        commentary: Option<String> = "Commentary",
        district_id: Option<i32> = "DistrictId",
        district_name: Option<String> = "DistrictName",
        district_okato: Option<Okato> = "DistrictOkato",
        email: Option<String> = "Email",
        full_name: Option<String> = "FullName",
        id: Option<i32> = "Id",
        oid: Option<String> = "Oid",
        phone: Option<String> = "Phone",
        public_guid: Option<String> = "PublicGuid",
        short_name: Option<String> = "ShortName",
        lpu_type: Option<String> = "Type",
        work_time: Option<String> = "WorkTime",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct LpuInformationResult in HUB_NS as "GetLPUInfoResult" {
        lpu_collection: Option<Vec<LpuInfo>> = "LpuCollection",
    }
}

enumeration! {
    /// `AreaType`: the kind of a patient's attachment area.
    pub enum AreaType {
        Feldsher = "Фельдшерский",
        Therapeutic = "Терапевтический",
        GeneralPractice = "ВрачОбщейПрактики",
        Complex = "Комплексный",
        Obstetric = "Акушерский",
        Assigned = "Приписной",
        Paediatric = "Педиатрический",
        Phthisiatric = "Фтизиатрический",
    }
}

record! {
    /// The areas a patient is attached to in a clinic (`GetPatientsAreas`; the contract takes
    /// no key for it).
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct GetPatientsAreas in SERVICE_NS as "GetPatientsAreas" {
        id_lpu: Option<String> = "idLpu",
        id_pat: Option<String> = "idPat",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct PatientsArea in HUB_NS as "PatientsArea" {
        area: Option<String> = "Area",
        area_type: AreaType = "AreaType",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct PatientsAreasResult in HUB_NS as "GetPatientsAreasResult" {
        patients_area_list: Option<Vec<PatientsArea>> = "PatientsAreaList",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct GetSpesialityList in SERVICE_NS as "GetSpesialityList" {
        id_lpu: i32 = "idLpu",
        id_pat: Option<String> = "idPat",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Spesiality in HUB_NS as "Spesiality" {
        count_free_participant_ie: Option<i32> = "CountFreeParticipantIE",
        count_free_ticket: Option<i32> = "CountFreeTicket",
        fer_id_spesiality: Option<String> = "FerIdSpesiality",
        id_spesiality: Option<String> = "IdSpesiality",
        last_date: Option<NaiveDateTime> = "LastDate",
        name_spesiality: Option<String> = "NameSpesiality",
        nearest_date: Option<NaiveDateTime> = "NearestDate",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct SpesialityListResult in HUB_NS as "GetSpesialityListResult" {
        list_spesiality: Option<Vec<Spesiality>> = "ListSpesiality",
        lpu_changes: Option<String> = "LpuChanges",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct GetDoctorList in SERVICE_NS as "GetDoctorList" {
        id_spesiality: String = "idSpesiality",
        id_lpu: i32 = "idLpu",
        id_pat: Option<String> = "idPat",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Doctor in HUB_NS as "Doctor" {
        aria_number: Option<String> = "AriaNumber",
        comment: Option<String> = "Comment",
        count_free_participant_ie: Option<i32> = "CountFreeParticipantIE",
        count_free_ticket: Option<i32> = "CountFreeTicket",
        id_doc: Option<String> = "IdDoc",
        last_date: Option<NaiveDateTime> = "LastDate",
        name: Option<String> = "Name",
        nearest_date: Option<NaiveDateTime> = "NearestDate",
        snils: Option<String> = "Snils",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct DoctorListResult in HUB_NS as "GetDoctorListResult" {
        docs: Option<Vec<Doctor>> = "Docs",
    }
}

record! {
    /// The parameters of `GetAvailableDates` and `GetAvaibleAppointments`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Window in SERVICE_NS as "Window" {
        id_doc: String = "idDoc",
        id_lpu: i32 = "idLpu",
        id_pat: Option<String> = "idPat",
        visit_start: NaiveDateTime = "visitStart",
        visit_end: NaiveDateTime = "visitEnd",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct AvailableDatesResult in HUB_NS as "GetAvailableDatesResult" {
        available_date_list: Option<Vec<NaiveDateTime>> = "AvailableDateList",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Appointment in HUB_NS as "Appointment" {
        address: Option<String> = "Address",
        id_appointment: Option<String> = "IdAppointment",
        num: Option<i32> = "Num",
        room: Option<String> = "Room",
        visit_end: Option<NaiveDateTime> = "VisitEnd",
        visit_start: NaiveDateTime = "VisitStart",
    }
}

record! {
    /// `GetAvaibleAppointmentsResult`, also the answer of `GetAppointmentsDemandDoctorsReferal`.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct AppointmentsResult in HUB_NS as "GetAvaibleAppointmentsResult" {
        list_appointments: Option<Vec<Appointment>> = "ListAppointments",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct GetWorkingTime in SERVICE_NS as "GetWorkingTime" {
        id_doc: String = "idDoc",
        id_lpu: i32 = "idLpu",
        visit_start: NaiveDateTime = "visitStart",
        visit_end: NaiveDateTime = "visitEnd",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct WorkingTime in HUB_NS as "WorkingTime" {
        deny_cause: Option<String> = "DenyCause",
        recordable_day: Option<bool> = "RecordableDay",
        visit_end: Option<NaiveDateTime> = "VisitEnd",
        visit_start: Option<NaiveDateTime> = "VisitStart",
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct WorkingTimeResult in HUB_NS as "GetWorkingTimeResult" {
        working_time_list: Option<Vec<WorkingTime>> = "WorkingTimeList",
    }
}
