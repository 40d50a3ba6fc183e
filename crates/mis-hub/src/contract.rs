//! The hub contract's messages: what each operation sends and answers, and their XML.
//!
//! Both sides live here so that the client (this crate) and the sandbox МИС (which serves the
//! same contract) can never disagree on a name or an order. Element names keep the contract's
//! misspellings (`Spesiality`, `GetAvaibleAppointments`); request members follow the order of
//! each operation's `xs:sequence`; data-contract members are written base-type first, then
//! alphabetically (WCF `DataContract` rules), with nulls as `i:nil="true"`.

use crate::xml::{self, Element, XSI, XmlError, XmlWriter};
use chrono::{NaiveDate, NaiveDateTime};

/// The SOAP 1.1 envelope namespace.
pub const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The service namespace: operation elements and their parameters.
pub const TEMPURI: &str = "http://tempuri.org/";
/// The data-contract namespace of the result types.
pub const HUB: &str = "http://schemas.datacontract.org/2004/07/HubService2";
/// The WCF arrays namespace (`ArrayOfdateTime`).
pub const ARRAYS: &str = "http://schemas.microsoft.com/2003/10/Serialization/Arrays";

/// The operations this crate speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    GetVersion,
    GetLpuList,
    GetSpesialityList,
    GetDoctorList,
    GetAvailableDates,
    GetAvaibleAppointments,
    GetWorkingTime,
    CheckPatient,
    SetAppointment,
    CreateClaimForRefusal,
    GetPatientHistory,
}

impl Operation {
    pub const ALL: [Operation; 11] = [
        Self::GetVersion,
        Self::GetLpuList,
        Self::GetSpesialityList,
        Self::GetDoctorList,
        Self::GetAvailableDates,
        Self::GetAvaibleAppointments,
        Self::GetWorkingTime,
        Self::CheckPatient,
        Self::SetAppointment,
        Self::CreateClaimForRefusal,
        Self::GetPatientHistory,
    ];

    /// The operation's name in the contract (its request element's name).
    pub fn name(self) -> &'static str {
        match self {
            Self::GetVersion => "GetVersion",
            Self::GetLpuList => "GetLPUList",
            Self::GetSpesialityList => "GetSpesialityList",
            Self::GetDoctorList => "GetDoctorList",
            Self::GetAvailableDates => "GetAvailableDates",
            Self::GetAvaibleAppointments => "GetAvaibleAppointments",
            Self::GetWorkingTime => "GetWorkingTime",
            Self::CheckPatient => "CheckPatient",
            Self::SetAppointment => "SetAppointment",
            Self::CreateClaimForRefusal => "CreateClaimForRefusal",
            Self::GetPatientHistory => "GetPatientHistory",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// The `SOAPAction` header value, quoted as SOAP 1.1 requires.
    pub fn soap_action(self) -> String {
        format!("\"http://tempuri.org/IHubService/{}\"", self.name())
    }
}

/// A patient as `CheckPatient` takes it (`Patient` in the contract). Only the members the
/// gateway fills are modelled; the others are written nil.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct PatientQuery {
    pub birthday: Option<NaiveDateTime>,
    pub document_n: Option<String>,
    pub document_s: Option<String>,
    pub polis_n: Option<String>,
    pub polis_s: Option<String>,
}

impl std::fmt::Debug for PatientQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PatientQuery(<redacted>)")
    }
}

/// The parameters of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    GetVersion,
    GetLpuList {
        id_district: Option<i32>,
    },
    GetSpesialityList {
        id_lpu: i32,
        id_pat: Option<String>,
    },
    GetDoctorList {
        id_spesiality: String,
        id_lpu: i32,
        id_pat: Option<String>,
    },
    GetAvailableDates(Window),
    GetAvaibleAppointments(Window),
    GetWorkingTime {
        id_doc: String,
        id_lpu: i32,
        visit_start: NaiveDateTime,
        visit_end: NaiveDateTime,
    },
    CheckPatient {
        pat: PatientQuery,
        id_lpu: i32,
    },
    SetAppointment {
        id_appointment: String,
        id_lpu: i32,
        id_pat: String,
        id_appointment_prev: Option<String>,
    },
    CreateClaimForRefusal {
        id_lpu: i32,
        id_pat: String,
        id_appointment: String,
    },
    GetPatientHistory {
        id_lpu: i32,
        id_pat: String,
    },
}

/// The parameters of `GetAvailableDates` and `GetAvaibleAppointments`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub id_doc: String,
    pub id_lpu: i32,
    pub id_pat: Option<String>,
    pub visit_start: NaiveDateTime,
    pub visit_end: NaiveDateTime,
}

impl Request {
    pub fn operation(&self) -> Operation {
        match self {
            Self::GetVersion => Operation::GetVersion,
            Self::GetLpuList { .. } => Operation::GetLpuList,
            Self::GetSpesialityList { .. } => Operation::GetSpesialityList,
            Self::GetDoctorList { .. } => Operation::GetDoctorList,
            Self::GetAvailableDates(_) => Operation::GetAvailableDates,
            Self::GetAvaibleAppointments(_) => Operation::GetAvaibleAppointments,
            Self::GetWorkingTime { .. } => Operation::GetWorkingTime,
            Self::CheckPatient { .. } => Operation::CheckPatient,
            Self::SetAppointment { .. } => Operation::SetAppointment,
            Self::CreateClaimForRefusal { .. } => Operation::CreateClaimForRefusal,
            Self::GetPatientHistory { .. } => Operation::GetPatientHistory,
        }
    }
}

/// A call: the request with the caller's key and session number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub guid: Option<String>,
    pub id_history: Option<i32>,
    pub request: Request,
}

/// One entry of `ErrorList`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubError {
    pub description: Option<String>,
    pub id: i32,
}

/// `MethodResult`, the base of every result.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MethodResult {
    pub errors: Option<Vec<HubError>>,
    pub id_history: Option<i32>,
    pub success: bool,
}

impl MethodResult {
    pub fn ok() -> Self {
        Self {
            errors: None,
            id_history: None,
            success: true,
        }
    }

    pub fn error(id: i32, description: impl Into<String>) -> Self {
        Self {
            errors: Some(vec![HubError {
                description: Some(description.into()),
                id,
            }]),
            id_history: None,
            success: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Clinic {
    pub description: Option<String>,
    pub district: Option<i32>,
    pub id_lpu: i32,
    pub is_active: bool,
    pub full_name: Option<String>,
    pub short_name: Option<String>,
    pub lpu_type: i32,
    pub oid: Option<String>,
    pub part_of: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Spesiality {
    pub count_free_participant_ie: i32,
    pub count_free_ticket: i32,
    pub fer_id_spesiality: Option<String>,
    pub id_spesiality: Option<String>,
    pub last_date: Option<NaiveDateTime>,
    pub name_spesiality: Option<String>,
    pub nearest_date: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Doctor {
    pub aria_number: Option<String>,
    pub comment: Option<String>,
    pub count_free_participant_ie: i32,
    pub count_free_ticket: i32,
    pub id_doc: Option<String>,
    pub last_date: Option<NaiveDateTime>,
    pub name: Option<String>,
    pub nearest_date: Option<NaiveDateTime>,
    pub snils: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appointment {
    pub address: Option<String>,
    pub id_appointment: Option<String>,
    pub num: Option<i32>,
    pub room: Option<String>,
    pub visit_end: NaiveDateTime,
    pub visit_start: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingTime {
    pub deny_cause: Option<String>,
    pub recordable_day: bool,
    pub visit_end: NaiveDateTime,
    pub visit_start: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub user_name: Option<String>,
    pub user_position: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryVisit {
    pub date_created_appointment: NaiveDateTime,
    pub doctor_bring_referal: Option<Doctor>,
    pub doctor_rending_consultation: Option<Doctor>,
    pub id_appointment: Option<String>,
    pub speciality_bring_referal: Option<Spesiality>,
    pub speciality_rending_consultation: Option<Spesiality>,
    pub user_created_appointment: Option<User>,
    pub visit_start: NaiveDateTime,
}

/// `SpecialistType`, the kind of doctor booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialistType {
    /// «отсутстствует_неопределено» (sic).
    Undefined,
    /// «широкого_профиля»: a general practitioner.
    General,
    /// «узкий»: a specialist.
    Narrow,
}

impl SpecialistType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Undefined => "отсутстствует_неопределено",
            Self::General => "широкого_профиля",
            Self::Narrow => "узкий",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Undefined, Self::General, Self::Narrow]
            .into_iter()
            .find(|t| t.as_str() == s.trim())
    }
}

/// The members of each result beyond `MethodResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultBody {
    Version {
        database_version: Option<String>,
        service_version: Option<String>,
    },
    LpuList(Option<Vec<Clinic>>),
    SpesialityList {
        list: Option<Vec<Spesiality>>,
        lpu_changes: Option<String>,
    },
    DoctorList(Option<Vec<Doctor>>),
    AvailableDates(Option<Vec<NaiveDateTime>>),
    Appointments(Option<Vec<Appointment>>),
    WorkingTime(Option<Vec<WorkingTime>>),
    CheckPatient {
        id_pat: Option<String>,
    },
    SetAppointment {
        kind: SpecialistType,
    },
    CreateClaimForRefusal,
    PatientHistory {
        refusals: Option<Vec<HistoryVisit>>,
        visits: Option<Vec<HistoryVisit>>,
    },
}

impl ResultBody {
    /// The members of a failed result of `op`: every nillable member nil.
    pub fn empty(op: Operation) -> Self {
        match op {
            Operation::GetVersion => Self::Version {
                database_version: None,
                service_version: None,
            },
            Operation::GetLpuList => Self::LpuList(None),
            Operation::GetSpesialityList => Self::SpesialityList {
                list: None,
                lpu_changes: None,
            },
            Operation::GetDoctorList => Self::DoctorList(None),
            Operation::GetAvailableDates => Self::AvailableDates(None),
            Operation::GetAvaibleAppointments => Self::Appointments(None),
            Operation::GetWorkingTime => Self::WorkingTime(None),
            Operation::CheckPatient => Self::CheckPatient { id_pat: None },
            Operation::SetAppointment => Self::SetAppointment {
                kind: SpecialistType::Undefined,
            },
            Operation::CreateClaimForRefusal => Self::CreateClaimForRefusal,
            Operation::GetPatientHistory => Self::PatientHistory {
                refusals: None,
                visits: None,
            },
        }
    }
}

/// An operation's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub base: MethodResult,
    pub body: ResultBody,
}

/// A SOAP 1.1 fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// `s:Client` or `s:Server` (or whatever the peer wrote).
    pub code: String,
    pub message: String,
}

/// Why a message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("not a SOAP 1.1 envelope with a body")]
    NotSoap,
    #[error("unknown operation {0:?}")]
    UnknownOperation(String),
    #[error("the peer answered a SOAP fault ({}): {}", .0.code, .0.message)]
    Fault(Fault),
    #[error("missing element {0}")]
    Missing(&'static str),
    #[error("invalid value in {0}")]
    Invalid(&'static str),
}

// ---------------------------------------------------------------------------------------------
// Values

/// Formats a local date-time as the hub writes it (no offset): `2026-12-01T09:30:00`.
pub fn format_datetime(dt: NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    // By hand: chrono's format strings are the slowest part of writing a message.
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// Parses an `xs:dateTime` into the clinic's local wall-clock time. Fractional seconds are
/// dropped and an offset, if any, is ignored: the hub's times are the clinic's local times.
pub fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    // A fixed-width parse: chrono's format-driven one is the slowest part of decoding a day
    // of tickets.
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?)?;
    let dt = date.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)?;
    let rest = &s[19..];
    let rest = rest
        .strip_prefix('.')
        .map(|r| r.trim_start_matches(|c: char| c.is_ascii_digit()))
        .unwrap_or(rest);
    let offset_ok = rest.is_empty()
        || rest == "Z"
        || (rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && rest.as_bytes()[3] == b':');
    offset_ok.then_some(dt)
}

/// Midnight of `date`.
pub fn midnight(date: NaiveDate) -> NaiveDateTime {
    date.and_time(chrono::NaiveTime::MIN)
}

fn int(s: &str, what: &'static str) -> Result<i32, DecodeError> {
    s.trim().parse().map_err(|_| DecodeError::Invalid(what))
}

fn boolean(s: &str, what: &'static str) -> Result<bool, DecodeError> {
    match s.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(DecodeError::Invalid(what)),
    }
}

/// Reads the members of an element in one namespace.
struct Members<'d, 'a> {
    el: Element<'d, 'a>,
    ns: &'static str,
}

impl<'d, 'a> Members<'d, 'a> {
    fn of(el: Element<'d, 'a>, ns: &'static str) -> Self {
        Self { el, ns }
    }

    /// A present, non-nil member.
    fn get(&self, name: &'static str) -> Option<Element<'d, 'a>> {
        self.el.child(self.ns, name).filter(|c| !c.nil())
    }

    fn string(&self, name: &'static str) -> Option<String> {
        self.get(name).map(|c| c.text().to_owned())
    }

    fn required_string(&self, name: &'static str) -> Result<String, DecodeError> {
        self.string(name).ok_or(DecodeError::Missing(name))
    }

    fn opt_int(&self, name: &'static str) -> Result<Option<i32>, DecodeError> {
        self.get(name).map(|c| int(c.text(), name)).transpose()
    }

    /// A non-nillable `xs:int`; absent means the default, 0.
    fn int(&self, name: &'static str) -> Result<i32, DecodeError> {
        Ok(self.opt_int(name)?.unwrap_or(0))
    }

    fn required_int(&self, name: &'static str) -> Result<i32, DecodeError> {
        self.opt_int(name)?.ok_or(DecodeError::Missing(name))
    }

    fn boolean(&self, name: &'static str) -> Result<bool, DecodeError> {
        self.get(name)
            .map(|c| boolean(c.text(), name))
            .transpose()
            .map(|b| b.unwrap_or(false))
    }

    fn opt_datetime(&self, name: &'static str) -> Result<Option<NaiveDateTime>, DecodeError> {
        self.get(name)
            .map(|c| parse_datetime(c.text()).ok_or(DecodeError::Invalid(name)))
            .transpose()
    }

    fn datetime(&self, name: &'static str) -> Result<NaiveDateTime, DecodeError> {
        self.opt_datetime(name)?.ok_or(DecodeError::Missing(name))
    }

    /// A nillable list: `None` when nil or absent.
    fn list<T>(
        &self,
        name: &'static str,
        item: &'static str,
        read: impl Fn(Element<'d, 'a>) -> Result<T, DecodeError>,
    ) -> Result<Option<Vec<T>>, DecodeError> {
        self.get(name)
            .map(|l| {
                l.children_named(self.ns, item)
                    .filter(|c| !c.nil())
                    .map(&read)
                    .collect()
            })
            .transpose()
    }

    fn nested<T>(
        &self,
        name: &'static str,
        read: impl Fn(Element<'d, 'a>) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, DecodeError> {
        self.get(name).map(read).transpose()
    }
}

// ---------------------------------------------------------------------------------------------
// Data contracts (prefix `a:` = HUB, `i:` = XSI in scope)

fn write_opt_int(w: &mut XmlWriter, name: &str, v: Option<i32>) {
    w.opt(name, v.map(|v| v.to_string()).as_deref(), "i");
}

fn write_opt_dt(w: &mut XmlWriter, name: &str, v: Option<NaiveDateTime>) {
    w.opt(name, v.map(format_datetime).as_deref(), "i");
}

fn write_list<T>(
    w: &mut XmlWriter,
    name: &str,
    item: &str,
    list: Option<&[T]>,
    f: fn(&mut XmlWriter, &T),
) {
    match list {
        None => {
            w.nil(name, "i");
        }
        Some(items) => {
            w.open(name, &[]);
            for it in items {
                w.open(item, &[]);
                f(w, it);
                w.close(item);
            }
            w.close(name);
        }
    }
}

fn write_nested<T>(w: &mut XmlWriter, name: &str, v: Option<&T>, f: fn(&mut XmlWriter, &T)) {
    match v {
        None => {
            w.nil(name, "i");
        }
        Some(v) => {
            w.open(name, &[]);
            f(w, v);
            w.close(name);
        }
    }
}

fn write_clinic(w: &mut XmlWriter, c: &Clinic) {
    w.opt("a:Description", c.description.as_deref(), "i");
    write_opt_int(w, "a:District", c.district);
    w.leaf("a:IdLPU", &c.id_lpu.to_string());
    w.leaf("a:IsActive", if c.is_active { "true" } else { "false" });
    w.opt("a:LPUFullName", c.full_name.as_deref(), "i");
    w.opt("a:LPUShortName", c.short_name.as_deref(), "i");
    w.leaf("a:LPUType", &c.lpu_type.to_string());
    w.opt("a:Oid", c.oid.as_deref(), "i");
    write_opt_int(w, "a:PartOf", c.part_of);
}

fn read_clinic(el: Element<'_, '_>) -> Result<Clinic, DecodeError> {
    let m = Members::of(el, HUB);
    Ok(Clinic {
        description: m.string("Description"),
        district: m.opt_int("District")?,
        id_lpu: m.required_int("IdLPU")?,
        is_active: m.boolean("IsActive")?,
        full_name: m.string("LPUFullName"),
        short_name: m.string("LPUShortName"),
        lpu_type: m.int("LPUType")?,
        oid: m.string("Oid"),
        part_of: m.opt_int("PartOf")?,
    })
}

fn write_spesiality(w: &mut XmlWriter, s: &Spesiality) {
    w.leaf(
        "a:CountFreeParticipantIE",
        &s.count_free_participant_ie.to_string(),
    );
    w.leaf("a:CountFreeTicket", &s.count_free_ticket.to_string());
    w.opt("a:FerIdSpesiality", s.fer_id_spesiality.as_deref(), "i");
    w.opt("a:IdSpesiality", s.id_spesiality.as_deref(), "i");
    write_opt_dt(w, "a:LastDate", s.last_date);
    w.opt("a:NameSpesiality", s.name_spesiality.as_deref(), "i");
    write_opt_dt(w, "a:NearestDate", s.nearest_date);
}

fn read_spesiality(el: Element<'_, '_>) -> Result<Spesiality, DecodeError> {
    let m = Members::of(el, HUB);
    Ok(Spesiality {
        count_free_participant_ie: m.int("CountFreeParticipantIE")?,
        count_free_ticket: m.int("CountFreeTicket")?,
        fer_id_spesiality: m.string("FerIdSpesiality"),
        id_spesiality: m.string("IdSpesiality"),
        last_date: m.opt_datetime("LastDate")?,
        name_spesiality: m.string("NameSpesiality"),
        nearest_date: m.opt_datetime("NearestDate")?,
    })
}

fn write_doctor(w: &mut XmlWriter, d: &Doctor) {
    w.opt("a:AriaNumber", d.aria_number.as_deref(), "i");
    w.opt("a:Comment", d.comment.as_deref(), "i");
    w.leaf(
        "a:CountFreeParticipantIE",
        &d.count_free_participant_ie.to_string(),
    );
    w.leaf("a:CountFreeTicket", &d.count_free_ticket.to_string());
    w.opt("a:IdDoc", d.id_doc.as_deref(), "i");
    write_opt_dt(w, "a:LastDate", d.last_date);
    w.opt("a:Name", d.name.as_deref(), "i");
    write_opt_dt(w, "a:NearestDate", d.nearest_date);
    w.opt("a:Snils", d.snils.as_deref(), "i");
}

fn read_doctor(el: Element<'_, '_>) -> Result<Doctor, DecodeError> {
    let m = Members::of(el, HUB);
    Ok(Doctor {
        aria_number: m.string("AriaNumber"),
        comment: m.string("Comment"),
        count_free_participant_ie: m.int("CountFreeParticipantIE")?,
        count_free_ticket: m.int("CountFreeTicket")?,
        id_doc: m.string("IdDoc"),
        last_date: m.opt_datetime("LastDate")?,
        name: m.string("Name"),
        nearest_date: m.opt_datetime("NearestDate")?,
        snils: m.string("Snils"),
    })
}

fn write_appointment(w: &mut XmlWriter, a: &Appointment) {
    w.opt("a:Address", a.address.as_deref(), "i");
    w.opt("a:IdAppointment", a.id_appointment.as_deref(), "i");
    write_opt_int(w, "a:Num", a.num);
    w.opt("a:Room", a.room.as_deref(), "i");
    w.leaf("a:VisitEnd", &format_datetime(a.visit_end));
    w.leaf("a:VisitStart", &format_datetime(a.visit_start));
}

fn read_appointment(el: Element<'_, '_>) -> Result<Appointment, DecodeError> {
    let m = Members::of(el, HUB);
    Ok(Appointment {
        address: m.string("Address"),
        id_appointment: m.string("IdAppointment"),
        num: m.opt_int("Num")?,
        room: m.string("Room"),
        visit_end: m.datetime("VisitEnd")?,
        visit_start: m.datetime("VisitStart")?,
    })
}

fn write_working_time(w: &mut XmlWriter, t: &WorkingTime) {
    w.opt("a:DenyCause", t.deny_cause.as_deref(), "i");
    w.leaf(
        "a:RecordableDay",
        if t.recordable_day { "true" } else { "false" },
    );
    w.leaf("a:VisitEnd", &format_datetime(t.visit_end));
    w.leaf("a:VisitStart", &format_datetime(t.visit_start));
}

fn read_working_time(el: Element<'_, '_>) -> Result<WorkingTime, DecodeError> {
    let m = Members::of(el, HUB);
    Ok(WorkingTime {
        deny_cause: m.string("DenyCause"),
        recordable_day: m.boolean("RecordableDay")?,
        visit_end: m.datetime("VisitEnd")?,
        visit_start: m.datetime("VisitStart")?,
    })
}

fn write_user(w: &mut XmlWriter, u: &User) {
    w.opt("a:UserName", u.user_name.as_deref(), "i");
    w.opt("a:UserPosition", u.user_position.as_deref(), "i");
}

fn read_user(el: Element<'_, '_>) -> Result<User, DecodeError> {
    let m = Members::of(el, HUB);
    Ok(User {
        user_name: m.string("UserName"),
        user_position: m.string("UserPosition"),
    })
}

fn write_history_visit(w: &mut XmlWriter, v: &HistoryVisit) {
    w.leaf(
        "a:DateCreatedAppointment",
        &format_datetime(v.date_created_appointment),
    );
    write_nested(
        w,
        "a:DoctorBringReferal",
        v.doctor_bring_referal.as_ref(),
        write_doctor,
    );
    write_nested(
        w,
        "a:DoctorRendingConsultation",
        v.doctor_rending_consultation.as_ref(),
        write_doctor,
    );
    w.opt("a:IdAppointment", v.id_appointment.as_deref(), "i");
    write_nested(
        w,
        "a:SpecialityBringReferal",
        v.speciality_bring_referal.as_ref(),
        write_spesiality,
    );
    write_nested(
        w,
        "a:SpecialityRendingConsultation",
        v.speciality_rending_consultation.as_ref(),
        write_spesiality,
    );
    write_nested(
        w,
        "a:UserCreatedAppointment",
        v.user_created_appointment.as_ref(),
        write_user,
    );
    w.leaf("a:VisitStart", &format_datetime(v.visit_start));
}

fn read_history_visit(el: Element<'_, '_>) -> Result<HistoryVisit, DecodeError> {
    let m = Members::of(el, HUB);
    Ok(HistoryVisit {
        date_created_appointment: m.datetime("DateCreatedAppointment")?,
        doctor_bring_referal: m.nested("DoctorBringReferal", read_doctor)?,
        doctor_rending_consultation: m.nested("DoctorRendingConsultation", read_doctor)?,
        id_appointment: m.string("IdAppointment"),
        speciality_bring_referal: m.nested("SpecialityBringReferal", read_spesiality)?,
        speciality_rending_consultation: m
            .nested("SpecialityRendingConsultation", read_spesiality)?,
        user_created_appointment: m.nested("UserCreatedAppointment", read_user)?,
        visit_start: m.datetime("VisitStart")?,
    })
}

// ---------------------------------------------------------------------------------------------
// Envelopes

const ENVELOPE_OPEN: &str =
    r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>"#;
const ENVELOPE_CLOSE: &str = "</s:Body></s:Envelope>";

/// Writes a call as a SOAP 1.1 envelope, as a WCF client would.
pub fn encode_request(call: &Call) -> String {
    let op = call.request.operation();
    let mut w = XmlWriter::new();
    w.raw(r#"<?xml version="1.0" encoding="utf-8"?>"#)
        .raw(ENVELOPE_OPEN);
    w.open(op.name(), &[("xmlns", TEMPURI), ("xmlns:i", XSI)]);
    let lpu = |w: &mut XmlWriter, id: i32| {
        w.leaf("idLpu", &id.to_string());
    };
    let dt = |w: &mut XmlWriter, name: &str, v: NaiveDateTime| {
        w.leaf(name, &format_datetime(v));
    };
    match &call.request {
        Request::GetVersion => {}
        Request::GetLpuList { id_district } => {
            w.opt(
                "idDistrict",
                id_district.map(|d| d.to_string()).as_deref(),
                "i",
            );
        }
        Request::GetSpesialityList { id_lpu, id_pat } => {
            lpu(&mut w, *id_lpu);
            w.opt("idPat", id_pat.as_deref(), "i");
        }
        Request::GetDoctorList {
            id_spesiality,
            id_lpu,
            id_pat,
        } => {
            w.leaf("idSpesiality", id_spesiality);
            lpu(&mut w, *id_lpu);
            w.opt("idPat", id_pat.as_deref(), "i");
        }
        Request::GetAvailableDates(win) | Request::GetAvaibleAppointments(win) => {
            w.leaf("idDoc", &win.id_doc);
            lpu(&mut w, win.id_lpu);
            w.opt("idPat", win.id_pat.as_deref(), "i");
            dt(&mut w, "visitStart", win.visit_start);
            dt(&mut w, "visitEnd", win.visit_end);
        }
        Request::GetWorkingTime {
            id_doc,
            id_lpu,
            visit_start,
            visit_end,
        } => {
            w.leaf("idDoc", id_doc);
            lpu(&mut w, *id_lpu);
            dt(&mut w, "visitStart", *visit_start);
            dt(&mut w, "visitEnd", *visit_end);
        }
        Request::CheckPatient { pat, id_lpu } => {
            w.open("pat", &[("xmlns:a", HUB)]);
            w.nil("a:AriaNumber", "i");
            write_opt_dt(&mut w, "a:Birthday", pat.birthday);
            w.nil("a:CellPhone", "i");
            w.opt("a:Document_N", pat.document_n.as_deref(), "i");
            w.opt("a:Document_S", pat.document_s.as_deref(), "i");
            w.nil("a:HomePhone", "i");
            w.nil("a:IdPat", "i");
            w.nil("a:Name", "i");
            w.opt("a:Polis_N", pat.polis_n.as_deref(), "i");
            w.opt("a:Polis_S", pat.polis_s.as_deref(), "i");
            w.nil("a:SecondName", "i");
            w.nil("a:Snils", "i");
            w.nil("a:Surname", "i");
            w.close("pat");
            lpu(&mut w, *id_lpu);
        }
        Request::SetAppointment {
            id_appointment,
            id_lpu,
            id_pat,
            id_appointment_prev,
        } => {
            w.leaf("idAppointment", id_appointment);
            lpu(&mut w, *id_lpu);
            w.leaf("idPat", id_pat);
            w.nil("doctorsReferral", "i");
            w.nil("attachedReferral", "i");
            w.opt("idAppointmentPrev", id_appointment_prev.as_deref(), "i");
        }
        Request::CreateClaimForRefusal {
            id_lpu,
            id_pat,
            id_appointment,
        } => {
            lpu(&mut w, *id_lpu);
            w.leaf("idPat", id_pat);
            w.leaf("idAppointment", id_appointment);
        }
        Request::GetPatientHistory { id_lpu, id_pat } => {
            lpu(&mut w, *id_lpu);
            w.leaf("idPat", id_pat);
        }
    }
    // GetVersion takes no parameters at all, not even the key.
    if op != Operation::GetVersion {
        w.opt("guid", call.guid.as_deref(), "i");
        if let Some(h) = call.id_history {
            w.leaf("idHistory", &h.to_string());
        }
    }
    w.close(op.name());
    w.raw(ENVELOPE_CLOSE);
    w.finish()
}

fn body_child<'d, 'a>(doc: &'d xml::Document<'a>) -> Result<Element<'d, 'a>, DecodeError> {
    let root = doc.root();
    if !root.is(SOAP_ENV, "Envelope") {
        return Err(DecodeError::NotSoap);
    }
    let body = root.child(SOAP_ENV, "Body").ok_or(DecodeError::NotSoap)?;
    let child = body.children().next().ok_or(DecodeError::NotSoap)?;
    if child.is(SOAP_ENV, "Fault") {
        let text_of = |name: &str| {
            child
                .children()
                .find(|c| c.name() == name)
                .map(|c| c.text().trim().chars().take(200).collect::<String>())
                .unwrap_or_default()
        };
        return Err(DecodeError::Fault(Fault {
            code: text_of("faultcode"),
            message: text_of("faultstring"),
        }));
    }
    Ok(child)
}

/// Whether `name` is `{prefix}{suffix}` (`GetVersionResponse`), without building it.
fn named(name: &str, prefix: &str, suffix: &str) -> bool {
    name.len() == prefix.len() + suffix.len() && name.starts_with(prefix) && name.ends_with(suffix)
}

/// Reads a call from a SOAP envelope, as the service side does.
pub fn decode_request(bytes: &[u8]) -> Result<Call, DecodeError> {
    let doc = xml::parse(bytes)?;
    let el = body_child(&doc)?;
    if el.ns() != Some(TEMPURI) {
        return Err(DecodeError::UnknownOperation(el.name().to_owned()));
    }
    let op = Operation::from_name(el.name())
        .ok_or_else(|| DecodeError::UnknownOperation(el.name().to_owned()))?;
    let m = Members::of(el, TEMPURI);
    let lpu = || m.required_int("idLpu");
    let dt = |name| m.datetime(name);
    let window = || -> Result<Window, DecodeError> {
        Ok(Window {
            id_doc: m.required_string("idDoc")?,
            id_lpu: lpu()?,
            id_pat: m.string("idPat"),
            visit_start: dt("visitStart")?,
            visit_end: dt("visitEnd")?,
        })
    };
    let request = match op {
        Operation::GetVersion => Request::GetVersion,
        Operation::GetLpuList => Request::GetLpuList {
            id_district: m.opt_int("idDistrict")?,
        },
        Operation::GetSpesialityList => Request::GetSpesialityList {
            id_lpu: lpu()?,
            id_pat: m.string("idPat"),
        },
        Operation::GetDoctorList => Request::GetDoctorList {
            id_spesiality: m.required_string("idSpesiality")?,
            id_lpu: lpu()?,
            id_pat: m.string("idPat"),
        },
        Operation::GetAvailableDates => Request::GetAvailableDates(window()?),
        Operation::GetAvaibleAppointments => Request::GetAvaibleAppointments(window()?),
        Operation::GetWorkingTime => Request::GetWorkingTime {
            id_doc: m.required_string("idDoc")?,
            id_lpu: lpu()?,
            visit_start: dt("visitStart")?,
            visit_end: dt("visitEnd")?,
        },
        Operation::CheckPatient => {
            let pat = m.get("pat").ok_or(DecodeError::Missing("pat"))?;
            let p = Members::of(pat, HUB);
            Request::CheckPatient {
                pat: PatientQuery {
                    birthday: p.opt_datetime("Birthday")?,
                    document_n: p.string("Document_N"),
                    document_s: p.string("Document_S"),
                    polis_n: p.string("Polis_N"),
                    polis_s: p.string("Polis_S"),
                },
                id_lpu: lpu()?,
            }
        }
        Operation::SetAppointment => Request::SetAppointment {
            id_appointment: m.required_string("idAppointment")?,
            id_lpu: lpu()?,
            id_pat: m.required_string("idPat")?,
            id_appointment_prev: m
                .string("idAppointmentPrev")
                .filter(|s| !s.trim().is_empty()),
        },
        Operation::CreateClaimForRefusal => Request::CreateClaimForRefusal {
            id_lpu: lpu()?,
            id_pat: m.required_string("idPat")?,
            id_appointment: m.required_string("idAppointment")?,
        },
        Operation::GetPatientHistory => Request::GetPatientHistory {
            id_lpu: lpu()?,
            id_pat: m.required_string("idPat")?,
        },
    };
    Ok(Call {
        guid: m.string("guid"),
        id_history: m.opt_int("idHistory")?,
        request,
    })
}

/// Writes an operation's result as a SOAP 1.1 envelope, as a WCF service would.
pub fn encode_response(op: Operation, response: &Response) -> String {
    let mut w = XmlWriter::new();
    let wrapper = format!("{}Response", op.name());
    let result = format!("{}Result", op.name());
    w.raw(ENVELOPE_OPEN);
    w.open(&wrapper, &[("xmlns", TEMPURI)]);
    w.open(&result, &[("xmlns:a", HUB), ("xmlns:i", XSI)]);
    let base = &response.base;
    match &base.errors {
        None => {
            w.nil("a:ErrorList", "i");
        }
        Some(errors) => {
            w.open("a:ErrorList", &[]);
            for e in errors {
                w.open("a:Error", &[]);
                w.opt("a:ErrorDescription", e.description.as_deref(), "i");
                w.leaf("a:IdError", &e.id.to_string());
                w.close("a:Error");
            }
            w.close("a:ErrorList");
        }
    }
    write_opt_int(&mut w, "a:IdHistory", base.id_history);
    w.leaf("a:Success", if base.success { "true" } else { "false" });
    match &response.body {
        ResultBody::Version {
            database_version,
            service_version,
        } => {
            w.opt("a:DatabaseVersion", database_version.as_deref(), "i");
            w.opt("a:ServiceVersion", service_version.as_deref(), "i");
        }
        ResultBody::LpuList(list) => write_list(
            &mut w,
            "a:ListLPU",
            "a:Clinic",
            list.as_deref(),
            write_clinic,
        ),
        ResultBody::SpesialityList { list, lpu_changes } => {
            write_list(
                &mut w,
                "a:ListSpesiality",
                "a:Spesiality",
                list.as_deref(),
                write_spesiality,
            );
            w.opt("a:LpuChanges", lpu_changes.as_deref(), "i");
        }
        ResultBody::DoctorList(list) => {
            write_list(&mut w, "a:Docs", "a:Doctor", list.as_deref(), write_doctor)
        }
        ResultBody::AvailableDates(list) => match list {
            None => {
                w.nil("a:AvailableDateList", "i");
            }
            Some(dates) => {
                w.open("a:AvailableDateList", &[("xmlns:b", ARRAYS)]);
                for d in dates {
                    w.leaf("b:dateTime", &format_datetime(*d));
                }
                w.close("a:AvailableDateList");
            }
        },
        ResultBody::Appointments(list) => {
            write_list(
                &mut w,
                "a:ListAppointments",
                "a:Appointment",
                list.as_deref(),
                write_appointment,
            );
        }
        ResultBody::WorkingTime(list) => {
            write_list(
                &mut w,
                "a:WorkingTimeList",
                "a:WorkingTime",
                list.as_deref(),
                write_working_time,
            );
        }
        ResultBody::CheckPatient { id_pat } => {
            w.opt("a:IdPat", id_pat.as_deref(), "i");
        }
        ResultBody::SetAppointment { kind } => {
            w.leaf("a:Type", kind.as_str());
        }
        ResultBody::CreateClaimForRefusal => {}
        ResultBody::PatientHistory { refusals, visits } => {
            write_list(
                &mut w,
                "a:ListHistoryRefusal",
                "a:HistoryRefusal",
                refusals.as_deref(),
                write_history_visit,
            );
            write_list(
                &mut w,
                "a:ListHistoryVisit",
                "a:HistoryVisit",
                visits.as_deref(),
                write_history_visit,
            );
        }
    }
    w.close(&result);
    w.close(&wrapper);
    w.raw(ENVELOPE_CLOSE);
    w.finish()
}

/// Writes a SOAP 1.1 fault envelope.
pub fn encode_fault(fault: &Fault) -> String {
    let mut w = XmlWriter::new();
    w.raw(ENVELOPE_OPEN);
    w.open("s:Fault", &[]);
    w.leaf("faultcode", &fault.code);
    w.open("faultstring", &[("xml:lang", "ru-RU")]);
    w.raw(&xml::escape(&fault.message));
    w.close("faultstring");
    w.close("s:Fault");
    w.raw(ENVELOPE_CLOSE);
    w.finish()
}

/// Reads an operation's result from a SOAP envelope, as the client side does.
pub fn decode_response(op: Operation, bytes: &[u8]) -> Result<Response, DecodeError> {
    let doc = xml::parse(bytes)?;
    let el = body_child(&doc)?;
    if el.ns() != Some(TEMPURI) || !named(el.name(), op.name(), "Response") {
        return Err(DecodeError::Missing("the operation's response element"));
    }
    let result = el
        .children()
        .find(|c| c.ns() == Some(TEMPURI) && named(c.name(), op.name(), "Result"))
        .filter(|r| !r.nil())
        .ok_or(DecodeError::Missing("the operation's result element"))?;
    let m = Members::of(result, HUB);
    let errors = m.list("ErrorList", "Error", |e| {
        let em = Members::of(e, HUB);
        Ok(HubError {
            description: em.string("ErrorDescription"),
            id: em.int("IdError")?,
        })
    })?;
    let base = MethodResult {
        errors,
        id_history: m.opt_int("IdHistory")?,
        success: m.boolean("Success")?,
    };
    let has_errors = base.errors.as_ref().is_some_and(|e| !e.is_empty());
    if has_errors || !base.success {
        // A failed result's other members carry nothing reliable.
        return Ok(Response {
            base,
            body: ResultBody::empty(op),
        });
    }
    let body = match op {
        Operation::GetVersion => ResultBody::Version {
            database_version: m.string("DatabaseVersion"),
            service_version: m.string("ServiceVersion"),
        },
        Operation::GetLpuList => ResultBody::LpuList(m.list("ListLPU", "Clinic", read_clinic)?),
        Operation::GetSpesialityList => ResultBody::SpesialityList {
            list: m.list("ListSpesiality", "Spesiality", read_spesiality)?,
            lpu_changes: m.string("LpuChanges"),
        },
        Operation::GetDoctorList => {
            ResultBody::DoctorList(m.list("Docs", "Doctor", read_doctor)?)
        }
        Operation::GetAvailableDates => ResultBody::AvailableDates(
            m.get("AvailableDateList")
                .map(|l| {
                    l.children_named(ARRAYS, "dateTime")
                        .map(|d| parse_datetime(d.text()).ok_or(DecodeError::Invalid("dateTime")))
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?,
        ),
        Operation::GetAvaibleAppointments => {
            ResultBody::Appointments(m.list("ListAppointments", "Appointment", read_appointment)?)
        }
        Operation::GetWorkingTime => {
            ResultBody::WorkingTime(m.list("WorkingTimeList", "WorkingTime", read_working_time)?)
        }
        Operation::CheckPatient => ResultBody::CheckPatient {
            id_pat: m.string("IdPat"),
        },
        Operation::SetAppointment => ResultBody::SetAppointment {
            kind: match m.get("Type") {
                None => SpecialistType::Undefined,
                Some(t) => SpecialistType::parse(t.text()).ok_or(DecodeError::Invalid("Type"))?,
            },
        },
        Operation::CreateClaimForRefusal => ResultBody::CreateClaimForRefusal,
        Operation::GetPatientHistory => ResultBody::PatientHistory {
            refusals: m.list("ListHistoryRefusal", "HistoryRefusal", read_history_visit)?,
            visits: m.list("ListHistoryVisit", "HistoryVisit", read_history_visit)?,
        },
    };
    Ok(Response { base, body })
}

#[cfg(test)]
mod tests;
