//! The hub contract's messages: what each operation sends and answers, and their XML.
//!
//! Both sides live here so that the client (this crate) and the sandbox МИС (which serves the
//! same contract) can never disagree on a name or an order. Each type's members are declared
//! once ([`codec`]'s `record!`), in the order of its `xs:sequence` (data contracts: base type
//! first, then alphabetically, the WCF `DataContract` rules), and that one declaration reads
//! and writes them; nulls are written `i:nil="true"`. The operations are one table
//! ([`operations!`]): name, parameters, result. Element names keep the contract's misspellings
//! (`Spesiality`, `GetAvaibleAppointments`, `InspectDoctorsReferal`).
//!
//! The types are grouped by what they are for: [`directory`] (clinics, specialties, doctors,
//! tickets), [`patient`] (the card, booking, cancelling, the history), [`referral`] and
//! [`waiting`] (the waiting list).

pub(crate) mod codec;
pub mod directory;
pub mod patient;
pub mod referral;
pub mod waiting;

use crate::xml::{self, Element, XmlError};
use codec::{HUB_NS, Members, Out, Record, SERVICE_NS, Value, record};

pub use codec::{
    ARRAYS, DTO, HUB, Member, Okato, POST_APPOINTMENT, Sparse, TEMPURI, format_datetime, midnight,
    parse_datetime,
};
pub use directory::*;
pub use patient::*;
pub use referral::*;
pub use waiting::*;

/// The SOAP 1.1 envelope namespace.
pub const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// The operations: each one's name in the contract, its parameters and its result members
/// (beyond `MethodResult`). Writes [`Operation`], [`Request`] and [`ResultBody`] and how each
/// is read and written.
macro_rules! operations {
    ($( $(#[$meta:meta])* $op:ident = $name:literal ($params:ty) -> $result:ty ),+ $(,)?) => {
        /// The operations this crate speaks.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $( $(#[$meta])* $op, )+
        }

        impl Operation {
            pub const ALL: &'static [Operation] = &[$(Self::$op),+];

            /// The operation's name in the contract (its request element's name).
            pub fn name(self) -> &'static str {
                match self {
                    $( Self::$op => $name, )+
                }
            }
        }

        /// The parameters of one call.
        // One value per call, moved once into the encoder: its size does not matter.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Request {
            $( $op($params), )+
        }

        impl Request {
            pub fn operation(&self) -> Operation {
                match self {
                    $( Self::$op(_) => Operation::$op, )+
                }
            }

            fn write_params(&self, out: &mut Out) {
                match self {
                    $( Self::$op(p) => p.write_members(out), )+
                }
            }

            fn read_params(op: Operation, el: Element<'_, '_>) -> Result<Self, DecodeError> {
                match op {
                    $( Operation::$op => Ok(Self::$op(<$params>::read_from(el)?)), )+
                }
            }
        }

        /// The members of each result beyond `MethodResult`.
        // One value per call, read once: its size does not matter.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum ResultBody {
            $( $op($result), )+
        }

        impl ResultBody {
            /// The members of a failed result of `op`: every nillable member nil.
            pub fn empty(op: Operation) -> Self {
                match op {
                    $( Operation::$op => Self::$op(<$result>::default()), )+
                }
            }

            pub fn operation(&self) -> Operation {
                match self {
                    $( Self::$op(_) => Operation::$op, )+
                }
            }

            fn ns(&self) -> codec::Ns {
                match self {
                    $( Self::$op(_) => <$result as Record>::NS, )+
                }
            }

            fn write(&self, out: &mut Out) {
                match self {
                    $( Self::$op(r) => r.write_members(out), )+
                }
            }

            fn read(op: Operation, el: Element<'_, '_>) -> Result<Self, DecodeError> {
                match op {
                    $( Operation::$op => Ok(Self::$op(<$result>::read_from(el)?)), )+
                }
            }
        }
    };
}

operations! {
    GetVersion = "GetVersion" (NoParams) -> VersionResult,
    GetDistrictList = "GetDistrictList" (GetDistrictList) -> DistrictResult,
    GetLpuList = "GetLPUList" (GetLpuList) -> LpuListResult,
    GetLpuInfo = "GetLPUInfo" (GetLpuInfo) -> LpuInformationResult,
    GetPatientsAreas = "GetPatientsAreas" (GetPatientsAreas) -> PatientsAreasResult,
    GetSpesialityList = "GetSpesialityList" (GetSpesialityList) -> SpesialityListResult,
    GetDoctorList = "GetDoctorList" (GetDoctorList) -> DoctorListResult,
    GetAvailableDates = "GetAvailableDates" (Window) -> AvailableDatesResult,
    GetAvaibleAppointments = "GetAvaibleAppointments" (Window) -> AppointmentsResult,
    GetWorkingTime = "GetWorkingTime" (GetWorkingTime) -> WorkingTimeResult,
    CheckPatient = "CheckPatient" (CheckPatient) -> CheckPatientResult,
    SetAppointment = "SetAppointment" (SetAppointment) -> SetAppointmentResult,
    CreateClaimForRefusal = "CreateClaimForRefusal" (CreateClaimForRefusal) -> NoMembers,
    GetPatientHistory = "GetPatientHistory" (GetPatientHistory) -> PatientHistoryResult,
    InspectDoctorsReferal = "InspectDoctorsReferal" (InspectDoctorsReferal)
        -> InspectDoctorsReferalResult,
    CheckReferral = "CheckReferral" (CheckReferral) -> CheckReferralResult,
    GetAppointmentsDemandDoctorsReferal = "GetAppointmentsDemandDoctorsReferal"
        (GetAppointmentsDemandDoctorsReferal) -> AppointmentsResult,
    RegisterPARequest = "RegisterPARequest" (RegisterPARequest) -> RegisterPARequestResult,
    SearchActivePARequests = "SearchActivePARequests" (SearchActivePARequests)
        -> SearchActivePARequestsResult,
    CancelPARequest = "CancelPARequest" (CancelPARequest) -> CancelPARequestResult,
    UpdatePhoneByIdPat = "UpdatePhoneByIdPat" (UpdatePhoneByIdPat) -> NoMembers,
}

impl Operation {
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|op| op.name() == name)
    }

    /// The `SOAPAction` header value, quoted as SOAP 1.1 requires.
    pub fn soap_action(self) -> String {
        format!("\"http://tempuri.org/IHubService/{}\"", self.name())
    }
}

/// A call: the request with the caller's key and session number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub guid: Option<String>,
    pub id_history: Option<i32>,
    pub request: Request,
}

record! {
    /// One entry of `ErrorList`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct HubError in HUB_NS as "Error" {
        description: Option<String> = "ErrorDescription",
        id: i32 = "IdError",
    }
}

record! {
    /// `MethodResult`, the base of every result.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct MethodResult in HUB_NS as "MethodResult" {
        errors: Option<Vec<HubError>> = "ErrorList",
        id_history: Option<i32> = "IdHistory",
        success: Option<bool> = "Success",
    }
}

impl MethodResult {
    pub fn ok() -> Self {
        Self {
            errors: None,
            id_history: None,
            success: Some(true),
        }
    }

    pub fn error(id: i32, description: impl Into<String>) -> Self {
        Self {
            errors: Some(vec![HubError {
                description: Some(description.into()),
                id,
            }]),
            id_history: None,
            success: Some(false),
        }
    }

    /// Whether the call succeeded: no error listed, and `Success` not false (a МИС may leave
    /// `Success` out, as the contract allows: then its `ErrorList` says).
    pub fn succeeded(&self) -> bool {
        self.errors.as_ref().is_none_or(Vec::is_empty) && self.success != Some(false)
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
// Envelopes

const ENVELOPE_OPEN: &str =
    r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>"#;
const ENVELOPE_CLOSE: &str = "</s:Body></s:Envelope>";

/// Writes a call as a SOAP 1.1 envelope, as a WCF client would.
pub fn encode_request(call: &Call) -> String {
    let op = call.request.operation();
    let mut out = Out::new();
    out.raw(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    out.raw(ENVELOPE_OPEN);
    let saved = out.open(SERVICE_NS, op.name(), &[], true);
    call.request.write_params(&mut out);
    // GetVersion takes no parameters at all, not even the key; GetPatientsAreas no key.
    if op != Operation::GetVersion {
        if op != Operation::GetPatientsAreas {
            call.guid.write(&mut out, SERVICE_NS, "guid", None);
        }
        if let Some(h) = call.id_history {
            h.write(&mut out, SERVICE_NS, "idHistory", None);
        }
    }
    out.close(SERVICE_NS, op.name(), saved);
    out.raw(ENVELOPE_CLOSE);
    out.finish()
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
    let request = Request::read_params(op, el)?;
    let m = Members::of(el, TEMPURI);
    Ok(Call {
        guid: Value::read(&m, "guid", None)?,
        id_history: Value::read(&m, "idHistory", None)?,
        request,
    })
}

/// Writes an operation's result as a SOAP 1.1 envelope, as a WCF service would.
pub fn encode_response(op: Operation, response: &Response) -> String {
    write_response(Out::new(), op, response)
}

/// Writes an operation's result as [`encode_response`] does, its members as `sparse` says: a
/// МИС that leaves out what the contract allows it to.
pub fn encode_response_sparse(op: Operation, response: &Response, sparse: Sparse) -> String {
    write_response(Out::sparse(sparse), op, response)
}

fn write_response(mut out: Out, op: Operation, response: &Response) -> String {
    let wrapper = format!("{}Response", op.name());
    let result = format!("{}Result", op.name());
    out.raw(ENVELOPE_OPEN);
    let outer = out.open(SERVICE_NS, &wrapper, &[], false);
    let inner = out.open(SERVICE_NS, &result, &[HUB_NS, response.body.ns()], true);
    response.base.write_members(&mut out);
    response.body.write(&mut out);
    out.close(SERVICE_NS, &result, inner);
    out.close(SERVICE_NS, &wrapper, outer);
    out.raw(ENVELOPE_CLOSE);
    out.finish()
}

/// Writes a SOAP 1.1 fault envelope.
pub fn encode_fault(fault: &Fault) -> String {
    let mut out = Out::new();
    out.raw(ENVELOPE_OPEN);
    out.raw("<s:Fault><faultcode>");
    out.raw(&xml::escape(&fault.code));
    out.raw(r#"</faultcode><faultstring xml:lang="ru-RU">"#);
    out.raw(&xml::escape(&fault.message));
    out.raw("</faultstring></s:Fault>");
    out.raw(ENVELOPE_CLOSE);
    out.finish()
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
    let base = MethodResult::read_from(result)?;
    if !base.succeeded() {
        // A failed result's other members carry nothing reliable.
        return Ok(Response {
            base,
            body: ResultBody::empty(op),
        });
    }
    let body = ResultBody::read(op, result)?;
    Ok(Response { base, body })
}

#[cfg(test)]
mod tests;
