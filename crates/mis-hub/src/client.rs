//! [`HubClient`]: the МИС port spoken over the hub's SOAP 1.1 contract.

use crate::contract::{
    self, Call, DecodeError, Operation, PatientQuery, Request, Response, ResultBody, Window,
};
use async_trait::async_trait;
use chrono::NaiveDate;
use mis::{
    AppointmentId, Booking, ClinicInfo, DateRange, Doctor, DoctorId, History, LpuId, Mis, MisError,
    MisVersion, PatientId, PatientIdentity, Referral, ReferralDoctor, ReferralKind, ReferralNumber,
    ReferralStatus, Slot, Specialty, SpecialtyId, Visit, WaitingEntry, WaitingId, WaitingReason,
    WaitingRequest, WorkingDay,
};
use std::time::{Duration, Instant};

/// The `PASource` written unless configured: the online registry of a clinic's site.
pub const DEFAULT_WAITING_LIST_SOURCE: i32 = 2;

/// `DeactivationReason` of a request the patient withdraws.
const WITHDRAWN_BY_PATIENT: i32 = 1;

/// How to reach one hub endpoint.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// The service URL, e.g. `http://mis.local/HubService.svc`.
    pub endpoint: String,
    /// The key the hub issued to this gateway.
    pub guid: String,
    /// The longest wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// The longest a whole call may take, from sending to the last byte of the answer.
    pub timeout: Duration,
    /// The largest answer accepted, in bytes.
    pub max_response_bytes: usize,
    /// The number the hub knows this system by as a source of waiting-list requests
    /// (`PASource`).
    pub waiting_list_source: i32,
}

impl HubConfig {
    pub fn new(endpoint: impl Into<String>, guid: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            guid: guid.into(),
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(8),
            max_response_bytes: 4 * 1024 * 1024,
            waiting_list_source: DEFAULT_WAITING_LIST_SOURCE,
        }
    }
}

/// A client of one hub endpoint, implementing [`Mis`].
#[derive(Debug, Clone)]
pub struct HubClient {
    http: reqwest::Client,
    /// The endpoint, parsed once (not on every call).
    url: reqwest::Url,
    config: HubConfig,
}

impl HubClient {
    pub fn new(config: HubConfig) -> Result<Self, MisError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("registratura/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| MisError::Unavailable(format!("cannot build the HTTP client: {e}")))?;
        let url = reqwest::Url::parse(&config.endpoint)
            .map_err(|e| MisError::Unavailable(format!("the endpoint is not a URL: {e}")))?;
        Ok(Self { http, url, config })
    }

    /// The endpoint it calls.
    pub fn endpoint(&self) -> &str {
        &self.config.endpoint
    }

    fn call_of(&self, request: Request) -> Call {
        Call {
            guid: Some(self.config.guid.clone()),
            id_history: None,
            request,
        }
    }

    /// Sends one call and reads its result; hub errors become [`MisError`]s. A write whose
    /// request may have reached the МИС and whose answer is missing or unusable is
    /// [`MisError::OutcomeUnknown`] (see [`after_sending`]).
    async fn call(&self, request: Request) -> Result<ResultBody, MisError> {
        let op = request.operation();
        let started = Instant::now();
        let result = self
            .exchange(op, &self.call_of(request))
            .await
            .map_err(|e| {
                if is_write(op) {
                    after_sending(e)
                } else {
                    e.into()
                }
            });
        let elapsed_ms = started.elapsed().as_millis();
        match &result {
            Ok(_) => tracing::debug!(operation = op.name(), elapsed_ms, "МИС call succeeded"),
            Err(e) => {
                tracing::warn!(operation = op.name(), elapsed_ms, error = %e, "МИС call failed")
            }
        }
        let response = result?;
        check(op, response)
    }

    async fn exchange(&self, op: Operation, call: &Call) -> Result<Response, Lost> {
        let body = contract::encode_request(call);
        let mut response = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("SOAPAction", op.soap_action())
            .body(body)
            .send()
            .await
            .map_err(|e| {
                // Only a connection never made is sure to have carried nothing.
                if e.is_connect() {
                    Lost::Before(transport_error(e))
                } else {
                    Lost::After(transport_error(e))
                }
            })?;
        let status = response.status();
        if let Some(len) = response.content_length()
            && len > self.config.max_response_bytes as u64
        {
            return Err(Lost::After(MisError::BadResponse(format!(
                "the answer is {len} bytes, over the limit"
            ))));
        }
        // The body is gathered chunk by chunk and copied once into a buffer of its exact size,
        // so an answer of n bytes costs at most 2n here (a growing Vec could reach 3n).
        let mut chunks = Vec::new();
        let mut total = 0usize;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Lost::After(transport_error(e)))?
        {
            total += chunk.len();
            if total > self.config.max_response_bytes {
                return Err(Lost::After(MisError::BadResponse(
                    "the answer is over the size limit".into(),
                )));
            }
            chunks.push(chunk);
        }
        let bytes = match chunks.len() {
            1 => chunks.pop().unwrap_or_default(),
            _ => {
                let mut joined = Vec::with_capacity(total);
                for chunk in chunks.drain(..) {
                    joined.extend_from_slice(&chunk);
                }
                joined.into()
            }
        };
        let failed = match contract::decode_response(op, &bytes) {
            Ok(r) if status.is_success() => return Ok(r),
            Ok(_) => MisError::BadResponse(format!("a result with HTTP status {status}")),
            Err(DecodeError::Fault(f)) => {
                let code = clipped(&f.code);
                if f.code.ends_with("Server") || f.code.ends_with("Receiver") {
                    MisError::Unavailable(format!("SOAP fault {code}"))
                } else {
                    MisError::BadResponse(format!("SOAP fault {code}"))
                }
            }
            Err(_) if status.is_server_error() => {
                MisError::Unavailable(format!("HTTP status {status}"))
            }
            Err(e) => MisError::BadResponse(e.to_string()),
        };
        Err(Lost::After(failed))
    }
}

/// What the МИС wrote, as an error may quote it: at most 64 characters, without control
/// characters (it goes into logs).
fn clipped(text: &str) -> String {
    text.chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Why an exchange failed, and whether its request may have reached the МИС.
#[derive(Debug)]
enum Lost {
    /// Nothing was sent: the connection was never made.
    Before(MisError),
    /// The request was (or may have been) sent: the answer is missing or unusable.
    After(MisError),
}

impl From<Lost> for MisError {
    fn from(lost: Lost) -> Self {
        match lost {
            Lost::Before(e) | Lost::After(e) => e,
        }
    }
}

/// The operations that change what the МИС holds.
fn is_write(op: Operation) -> bool {
    matches!(
        op,
        Operation::SetAppointment
            | Operation::CreateClaimForRefusal
            | Operation::RegisterPARequest
            | Operation::CancelPARequest
    )
}

/// A write's failure: after its request may have left, no answer is a known outcome (a SOAP
/// fault or an HTTP 500 from a front end says nothing sure of what the МИС did behind it).
fn after_sending(lost: Lost) -> MisError {
    match lost {
        Lost::Before(e) => e,
        Lost::After(e) => MisError::OutcomeUnknown(e.to_string()),
    }
}

fn transport_error(e: reqwest::Error) -> MisError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "transport error"
    };
    MisError::Unavailable(what.to_owned())
}

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

fn check(op: Operation, response: Response) -> Result<ResultBody, MisError> {
    if let Some(first) = response.base.errors.as_ref().and_then(|e| e.first()) {
        return Err(error_of(first.id));
    }
    if !response.base.succeeded() {
        return Err(MisError::BadResponse(format!(
            "{} failed without an error code",
            op.name()
        )));
    }
    Ok(response.body)
}

fn unexpected(op: Operation) -> MisError {
    MisError::BadResponse(format!("unexpected result shape for {}", op.name()))
}

fn bad(what: &str) -> MisError {
    MisError::BadResponse(format!("invalid {what}"))
}

/// A required id member, parsed into its newtype.
fn required_id<T>(
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
fn optional_id<T>(
    value: Option<String>,
    parse: impl FnOnce(String) -> Result<T, mis::IdError>,
) -> Option<T> {
    value.and_then(|v| parse(v).ok())
}

fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

/// A text member, `None` when blank.
fn text(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.trim().is_empty())
}

fn window(clinic: LpuId, doctor: &DoctorId, range: DateRange) -> Window {
    Window {
        id_doc: doctor.as_str().to_owned(),
        id_lpu: clinic.get(),
        id_pat: None,
        visit_start: range.start(),
        visit_end: range.end(),
    }
}

fn slots_of(list: Option<Vec<contract::Appointment>>) -> Result<Vec<Slot>, MisError> {
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

fn visit_of(v: contract::HistoryVisit) -> Result<Visit, MisError> {
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

fn kind_of(t: contract::AppointmentType) -> ReferralKind {
    match t {
        contract::AppointmentType::Consultation => ReferralKind::Consultation,
        contract::AppointmentType::Repeat => ReferralKind::Repeat,
        contract::AppointmentType::Undefined => ReferralKind::Unspecified,
    }
}

fn appointment_type(kind: ReferralKind) -> contract::AppointmentType {
    match kind {
        ReferralKind::Consultation => contract::AppointmentType::Consultation,
        ReferralKind::Repeat => contract::AppointmentType::Repeat,
        ReferralKind::Unspecified => contract::AppointmentType::Undefined,
    }
}

fn claim_of(reason: WaitingReason) -> contract::ClaimToWaitingListType {
    match reason {
        WaitingReason::NoFreeTickets => contract::ClaimToWaitingListType::NoFreeTickets,
        WaitingReason::NoConvenientTime => contract::ClaimToWaitingListType::NoConvenientTime,
        WaitingReason::NoSpecialist => contract::ClaimToWaitingListType::NoSpecialist,
    }
}

fn reason_of(claim: contract::ClaimToWaitingListType) -> WaitingReason {
    match claim {
        contract::ClaimToWaitingListType::NoFreeTickets => WaitingReason::NoFreeTickets,
        contract::ClaimToWaitingListType::NoConvenientTime => WaitingReason::NoConvenientTime,
        contract::ClaimToWaitingListType::NoSpecialist => WaitingReason::NoSpecialist,
    }
}

/// A person's name, «Фамилия Имя Отчество».
fn full_name(person: Option<&contract::Person>) -> Option<String> {
    let name = person?.human_name.as_ref()?;
    let parts: Vec<&str> = [&name.family_name, &name.given_name, &name.middle_name]
        .into_iter()
        .filter_map(|p| p.as_deref().map(str::trim).filter(|p| !p.is_empty()))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// A referral from what `InspectDoctorsReferal` says (whose, to which doctor, what kind) and,
/// where the МИС answers it, what `CheckReferral` adds (doctors, specialty, dates, state).
fn referral_of(
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

fn entry_of(
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

#[async_trait]
impl Mis for HubClient {
    #[tracing::instrument(level = "debug", skip(self))]
    async fn version(&self) -> Result<MisVersion, MisError> {
        let ResultBody::GetVersion(r) = self.call(Request::GetVersion(Default::default())).await?
        else {
            return Err(unexpected(Operation::GetVersion));
        };
        Ok(MisVersion {
            service: r.service_version,
            database: r.database_version,
        })
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn clinics(&self) -> Result<Vec<ClinicInfo>, MisError> {
        let request = Request::GetLpuList(contract::GetLpuList { id_district: None });
        let ResultBody::GetLpuList(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetLpuList));
        };
        Ok(r.list_lpu
            .unwrap_or_default()
            .into_iter()
            .map(|c| ClinicInfo {
                id: LpuId::new(c.id_lpu),
                full_name: c.full_name,
                short_name: c.short_name,
                // Not said: listed, as active (a booking it refuses is refused).
                active: c.is_active.unwrap_or(true),
            })
            .collect())
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn specialties(&self, clinic: LpuId) -> Result<Vec<Specialty>, MisError> {
        let request = Request::GetSpesialityList(contract::GetSpesialityList {
            id_lpu: clinic.get(),
            id_pat: None,
        });
        let ResultBody::GetSpesialityList(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetSpesialityList));
        };
        r.list_spesiality
            .unwrap_or_default()
            .into_iter()
            .map(|s| {
                Ok(Specialty {
                    id: required_id(s.id_spesiality, "IdSpesiality", SpecialtyId::parse)?,
                    name: s.name_spesiality.ok_or_else(|| bad("NameSpesiality"))?,
                    federal_code: text(s.fer_id_spesiality),
                    free_tickets: s.count_free_participant_ie.map(count),
                    nearest_date: s.nearest_date.map(|d| d.date()),
                })
            })
            .collect()
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn doctors(
        &self,
        clinic: LpuId,
        specialty: &SpecialtyId,
    ) -> Result<Vec<Doctor>, MisError> {
        let request = Request::GetDoctorList(contract::GetDoctorList {
            id_spesiality: specialty.as_str().to_owned(),
            id_lpu: clinic.get(),
            id_pat: None,
        });
        let ResultBody::GetDoctorList(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetDoctorList));
        };
        r.docs
            .unwrap_or_default()
            .into_iter()
            .map(|d| {
                Ok(Doctor {
                    id: required_id(d.id_doc, "IdDoc", DoctorId::parse)?,
                    name: d.name.ok_or_else(|| bad("Name"))?,
                    comment: text(d.comment),
                    free_tickets: d.count_free_participant_ie.map(count),
                    nearest_date: d.nearest_date.map(|d| d.date()),
                })
            })
            .collect()
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn available_dates(
        &self,
        clinic: LpuId,
        doctor: &DoctorId,
        range: DateRange,
    ) -> Result<Vec<NaiveDate>, MisError> {
        let request = Request::GetAvailableDates(window(clinic, doctor, range));
        let ResultBody::GetAvailableDates(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetAvailableDates));
        };
        let mut dates: Vec<NaiveDate> = r
            .available_date_list
            .unwrap_or_default()
            .into_iter()
            .map(|d| d.date())
            .filter(|d| (range.from()..=range.to()).contains(d))
            .collect();
        dates.sort_unstable();
        dates.dedup();
        Ok(dates)
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn slots(
        &self,
        clinic: LpuId,
        doctor: &DoctorId,
        range: DateRange,
    ) -> Result<Vec<Slot>, MisError> {
        let request = Request::GetAvaibleAppointments(window(clinic, doctor, range));
        let ResultBody::GetAvaibleAppointments(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetAvaibleAppointments));
        };
        slots_of(r.list_appointments)
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn working_time(
        &self,
        clinic: LpuId,
        doctor: &DoctorId,
        range: DateRange,
    ) -> Result<Vec<WorkingDay>, MisError> {
        let request = Request::GetWorkingTime(contract::GetWorkingTime {
            id_doc: doctor.as_str().to_owned(),
            id_lpu: clinic.get(),
            visit_start: range.start(),
            visit_end: range.end(),
        });
        let ResultBody::GetWorkingTime(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetWorkingTime));
        };
        Ok(r.working_time_list
            .unwrap_or_default()
            .into_iter()
            // A day the МИС does not date says nothing.
            .filter_map(|t| {
                let start = t.visit_start?;
                Some(WorkingDay {
                    start,
                    end: t.visit_end.unwrap_or(start),
                    recordable: t.recordable_day.unwrap_or(true),
                    deny_cause: t.deny_cause,
                })
            })
            .collect())
    }

    #[tracing::instrument(level = "debug", skip(self, identity))]
    async fn find_patient(
        &self,
        clinic: LpuId,
        identity: &PatientIdentity,
    ) -> Result<PatientId, MisError> {
        let pat = PatientQuery {
            birthday: Some(contract::midnight(identity.birth_date.date())),
            document_n: Some(identity.document.number().to_owned()),
            document_s: identity.document.series().map(str::to_owned),
            polis_n: Some(identity.policy.number().to_owned()),
            polis_s: identity.policy.series().map(str::to_owned),
            ..PatientQuery::default()
        };
        let request = Request::CheckPatient(contract::CheckPatient {
            pat,
            id_lpu: clinic.get(),
        });
        let ResultBody::CheckPatient(r) = self.call(request).await? else {
            return Err(unexpected(Operation::CheckPatient));
        };
        required_id(r.id_pat, "IdPat", PatientId::parse)
    }

    #[tracing::instrument(level = "debug", skip(self, booking))]
    async fn book(&self, clinic: LpuId, booking: Booking<'_>) -> Result<(), MisError> {
        let request = Request::SetAppointment(contract::SetAppointment {
            id_appointment: booking.slot.as_str().to_owned(),
            id_lpu: clinic.get(),
            id_pat: booking.patient.as_str().to_owned(),
            doctors_referral: booking.referral.map(|r| r.as_str().to_owned()),
            attached_referral: None,
            id_appointment_prev: booking.previous.map(|p| p.as_str().to_owned()),
        });
        match self.call(request).await? {
            ResultBody::SetAppointment(_) => Ok(()),
            _ => Err(unexpected(Operation::SetAppointment)),
        }
    }

    #[tracing::instrument(level = "debug", skip(self, patient))]
    async fn cancel(
        &self,
        clinic: LpuId,
        patient: &PatientId,
        slot: &AppointmentId,
    ) -> Result<(), MisError> {
        let request = Request::CreateClaimForRefusal(contract::CreateClaimForRefusal {
            id_lpu: clinic.get(),
            id_pat: patient.as_str().to_owned(),
            id_appointment: slot.as_str().to_owned(),
        });
        match self.call(request).await? {
            ResultBody::CreateClaimForRefusal(_) => Ok(()),
            _ => Err(unexpected(Operation::CreateClaimForRefusal)),
        }
    }

    #[tracing::instrument(level = "debug", skip(self, patient))]
    async fn history(&self, clinic: LpuId, patient: &PatientId) -> Result<History, MisError> {
        let request = Request::GetPatientHistory(contract::GetPatientHistory {
            id_lpu: clinic.get(),
            id_pat: patient.as_str().to_owned(),
        });
        let ResultBody::GetPatientHistory(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetPatientHistory));
        };
        Ok(History {
            visits: r
                .visits
                .unwrap_or_default()
                .into_iter()
                .map(visit_of)
                .collect::<Result<_, _>>()?,
            refusals: r
                .refusals
                .unwrap_or_default()
                .into_iter()
                .map(visit_of)
                .collect::<Result<_, _>>()?,
        })
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn referral(&self, clinic: LpuId, number: &ReferralNumber) -> Result<Referral, MisError> {
        let inspect = self.call(Request::InspectDoctorsReferal(
            contract::InspectDoctorsReferal {
                id_lpu: clinic.get(),
                doctors_referal: Some(number.as_str().to_owned()),
            },
        ));
        let check = self.call(Request::CheckReferral(contract::CheckReferral {
            doctors_referral: Some(number.as_str().to_owned()),
        }));
        let (inspected, checked) = tokio::join!(inspect, check);
        let ResultBody::InspectDoctorsReferal(inspected) = inspected? else {
            return Err(unexpected(Operation::InspectDoctorsReferal));
        };
        // The details are a bonus: a МИС that validates codes but cannot describe a referral
        // still books by it.
        let details = match checked {
            Ok(ResultBody::CheckReferral(r)) => r.referral,
            Ok(_) => return Err(unexpected(Operation::CheckReferral)),
            Err(e @ MisError::Unavailable(_)) => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "CheckReferral failed; the referral is described by InspectDoctorsReferal alone");
                None
            }
        };
        referral_of(number, inspected, details)
    }

    #[tracing::instrument(level = "debug", skip(self, patient))]
    async fn referral_slots(
        &self,
        clinic: LpuId,
        doctor: &DoctorId,
        patient: &PatientId,
        kind: ReferralKind,
        range: DateRange,
    ) -> Result<Vec<Slot>, MisError> {
        let request = Request::GetAppointmentsDemandDoctorsReferal(
            contract::GetAppointmentsDemandDoctorsReferal {
                id_doc: Some(doctor.as_str().to_owned()),
                id_lpu: clinic.get(),
                id_pat: Some(patient.as_str().to_owned()),
                app_type: appointment_type(kind),
                start_visit: range.start(),
                end_visit: range.end(),
            },
        );
        let ResultBody::GetAppointmentsDemandDoctorsReferal(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetAppointmentsDemandDoctorsReferal));
        };
        slots_of(r.list_appointments)
    }

    #[tracing::instrument(level = "debug", skip(self, request))]
    async fn join_waiting_list(
        &self,
        clinic: LpuId,
        request: &WaitingRequest,
    ) -> Result<WaitingId, MisError> {
        let body = contract::RegisterPARequestRequest {
            pa_request: Some(contract::PaRequest {
                fer_id_speciality: request.specialty_code.clone(),
                id_doc: request
                    .doctor
                    .as_ref()
                    .map(|(id, _)| id.as_str().to_owned()),
                id_lpu: Some(clinic.get().to_string()),
                id_nsi_lpu: None,
                id_speciality: Some(request.specialty.as_str().to_owned()),
                name_doc: request.doctor.as_ref().map(|(_, name)| name.clone()),
                name_speciality: Some(request.specialty_name.clone()),
            }),
            pa_request_info: Some(contract::PaRequestInfo {
                claim: Some(claim_of(request.reason).as_str().to_owned()),
                info: None,
            }),
            pa_request_patient: Some(contract::PaRequestPatient {
                id_patient: Some(request.patient.as_str().to_owned()),
                contacts: Some(contract::PaRequestPatientContacts {
                    phone: Some(request.phone.e164().to_owned()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            pa_source: self.config.waiting_list_source,
            preferred_intervals: request.window.map(|w| {
                vec![contract::PaRequestInterval {
                    end_date: Some(w.end()),
                    start_date: Some(w.start()),
                }]
            }),
        };
        let call = Request::RegisterPARequest(contract::RegisterPARequest {
            request: Some(body),
        });
        let ResultBody::RegisterPARequest(r) = self.call(call).await? else {
            return Err(unexpected(Operation::RegisterPARequest));
        };
        required_id(r.id_par, "IdPar", WaitingId::parse)
    }

    #[tracing::instrument(level = "debug", skip(self, patient))]
    async fn waiting_list(
        &self,
        clinic: LpuId,
        patient: &PatientId,
    ) -> Result<Vec<WaitingEntry>, MisError> {
        let request = Request::SearchActivePARequests(contract::SearchActivePARequests {
            filter: Some(contract::SearchActivePARequestsRequest {
                id_lpu: Some(clinic.get().to_string()),
                id_patients: Some(vec![patient.as_str().to_owned()]),
                ..Default::default()
            }),
        });
        let ResultBody::SearchActivePARequests(r) = self.call(request).await? else {
            return Err(unexpected(Operation::SearchActivePARequests));
        };
        let mut entries = r
            .active_pa_requests
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| entry_of(clinic, patient, e))
            .collect::<Result<Vec<_>, _>>()?;
        entries.sort_by_key(|e| e.created);
        Ok(entries)
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn leave_waiting_list(&self, _clinic: LpuId, id: &WaitingId) -> Result<(), MisError> {
        let request = Request::CancelPARequest(contract::CancelPARequest {
            request: Some(contract::CancelPARequestRequest {
                deactivation_comment: Some("Отозван пациентом".into()),
                deactivation_reason: WITHDRAWN_BY_PATIENT,
                id_par: Some(id.as_str().to_owned()),
                linked_id_par: None,
                pa_source: self.config.waiting_list_source,
            }),
        });
        let ResultBody::CancelPARequest(r) = self.call(request).await? else {
            return Err(unexpected(Operation::CancelPARequest));
        };
        // Not said (and no error listed): done.
        if r.cancellation_result != Some(false) {
            Ok(())
        } else {
            Err(MisError::NoSuchWaitingRequest)
        }
    }
}

impl HubClient {
    /// `GetLPUInfo`: the card of `clinic`, or every clinic's.
    async fn lpu_info(
        &self,
        clinic: Option<LpuId>,
    ) -> Result<Vec<(LpuId, mis::ClinicCard)>, MisError> {
        let request = Request::GetLpuInfo(contract::GetLpuInfo {
            id_lpu: clinic.map(LpuId::get),
        });
        let ResultBody::GetLpuInfo(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetLpuInfo));
        };
        Ok(r.lpu_collection
            .unwrap_or_default()
            .into_iter()
            // A card without its clinic's id names nothing.
            .filter_map(|c| {
                Some((
                    LpuId::new(c.id?),
                    mis::ClinicCard {
                        address: text(c.address),
                        phone: text(c.phone),
                        email: text(c.email),
                        work_time: text(c.work_time),
                    },
                ))
            })
            .collect())
    }
}

#[async_trait]
impl mis::Region for HubClient {
    #[tracing::instrument(level = "debug", skip(self))]
    async fn districts(&self) -> Result<Vec<mis::District>, MisError> {
        let request = Request::GetDistrictList(contract::GetDistrictList {});
        let ResultBody::GetDistrictList(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetDistrictList));
        };
        Ok(r.districts
            .unwrap_or_default()
            .into_iter()
            .map(|d| mis::District {
                id: d.id,
                // Not said: named by its number.
                name: text(d.name).unwrap_or_else(|| format!("Район {}", d.id)),
                okato: d.okato.map(|o| o.0),
            })
            .collect())
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn clinics_of(&self, district: i32) -> Result<Vec<mis::RegionClinic>, MisError> {
        let request = Request::GetLpuList(contract::GetLpuList {
            id_district: Some(district),
        });
        let ResultBody::GetLpuList(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetLpuList));
        };
        Ok(r.list_lpu
            .unwrap_or_default()
            .into_iter()
            .map(|c| mis::RegionClinic {
                id: LpuId::new(c.id_lpu),
                // Not said: the district it was listed for.
                district: c.district.or(Some(district)),
                full_name: text(c.full_name),
                short_name: text(c.short_name),
                active: c.is_active.unwrap_or(true),
                part_of: c.part_of.filter(|p| *p != c.id_lpu).map(LpuId::new),
                kind: c.lpu_type.unwrap_or_default(),
            })
            .collect())
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn cards(&self) -> Result<Vec<(LpuId, mis::ClinicCard)>, MisError> {
        self.lpu_info(None).await
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn card(&self, clinic: LpuId) -> Result<Option<mis::ClinicCard>, MisError> {
        let cards = self.lpu_info(Some(clinic)).await?;
        // A hub that answers more than asked: the one asked for, if it is there.
        Ok(cards
            .into_iter()
            .find(|(id, _)| *id == clinic)
            .map(|(_, card)| card))
    }

    #[tracing::instrument(level = "debug", skip(self, patient))]
    async fn areas(&self, clinic: LpuId, patient: &PatientId) -> Result<Vec<mis::Area>, MisError> {
        let request = Request::GetPatientsAreas(contract::GetPatientsAreas {
            id_lpu: Some(clinic.get().to_string()),
            id_pat: Some(patient.as_str().to_owned()),
        });
        let ResultBody::GetPatientsAreas(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetPatientsAreas));
        };
        Ok(r.patients_area_list
            .unwrap_or_default()
            .into_iter()
            .filter_map(|a| {
                Some(mis::Area {
                    number: text(a.area)?,
                    kind: a.area_type.as_str().to_owned(),
                })
            })
            .collect())
    }
}
