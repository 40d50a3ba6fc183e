//! [`HubClient`]: the МИС port spoken over the hub's SOAP 1.1 contract.

use crate::contract::{
    self, Call, DecodeError, Operation, PatientQuery, Request, Response, ResultBody, Window,
};
use async_trait::async_trait;
use chrono::NaiveDate;
use mis::{
    AppointmentId, ClinicInfo, DateRange, Doctor, DoctorId, History, LpuId, Mis, MisError,
    MisVersion, PatientId, PatientIdentity, Slot, Specialty, SpecialtyId, Visit, WorkingDay,
};
use std::time::{Duration, Instant};

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
}

impl HubConfig {
    pub fn new(endpoint: impl Into<String>, guid: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            guid: guid.into(),
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(8),
            max_response_bytes: 4 * 1024 * 1024,
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

    fn call_of(&self, request: Request) -> Call {
        Call {
            guid: Some(self.config.guid.clone()),
            id_history: None,
            request,
        }
    }

    /// Sends one call and reads its result; hub errors become [`MisError`]s.
    async fn call(&self, request: Request) -> Result<ResultBody, MisError> {
        let op = request.operation();
        let started = Instant::now();
        let result = self.exchange(op, &self.call_of(request)).await;
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

    async fn exchange(&self, op: Operation, call: &Call) -> Result<Response, MisError> {
        let body = contract::encode_request(call);
        let mut response = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("SOAPAction", op.soap_action())
            .body(body)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        if let Some(len) = response.content_length()
            && len > self.config.max_response_bytes as u64
        {
            return Err(MisError::BadResponse(format!(
                "the answer is {len} bytes, over the limit"
            )));
        }
        // The body is gathered chunk by chunk and copied once into a buffer of its exact size,
        // so an answer of n bytes costs at most 2n here (a growing Vec could reach 3n).
        let mut chunks = Vec::new();
        let mut total = 0usize;
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            total += chunk.len();
            if total > self.config.max_response_bytes {
                return Err(MisError::BadResponse(
                    "the answer is over the size limit".into(),
                ));
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
        match contract::decode_response(op, &bytes) {
            Ok(r) if status.is_success() => Ok(r),
            Ok(_) => Err(MisError::BadResponse(format!(
                "a result with HTTP status {status}"
            ))),
            Err(DecodeError::Fault(f)) => {
                if f.code.ends_with("Server") || f.code.ends_with("Receiver") {
                    Err(MisError::Unavailable(format!("SOAP fault {}", f.code)))
                } else {
                    Err(MisError::BadResponse(format!("SOAP fault {}", f.code)))
                }
            }
            Err(_) if status.is_server_error() => {
                Err(MisError::Unavailable(format!("HTTP status {status}")))
            }
            Err(e) => Err(MisError::BadResponse(e.to_string())),
        }
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
        99 => MisError::Unavailable("the МИС reported a technical error (99)".into()),
        code => MisError::Rejected { code },
    }
}

fn check(op: Operation, response: Response) -> Result<ResultBody, MisError> {
    if let Some(first) = response.base.errors.as_ref().and_then(|e| e.first()) {
        return Err(error_of(first.id));
    }
    if !response.base.success {
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

fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
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

fn visit_of(v: contract::HistoryVisit) -> Result<Visit, MisError> {
    let appointment = required_id(v.id_appointment, "IdAppointment", AppointmentId::parse)?;
    let doctor = v.doctor_rending_consultation;
    let specialty = v.speciality_rending_consultation;
    Ok(Visit {
        appointment,
        start: v.visit_start,
        created: Some(v.date_created_appointment),
        doctor_id: doctor
            .as_ref()
            .and_then(|d| d.id_doc.clone())
            .and_then(|id| DoctorId::parse(id).ok()),
        doctor_name: doctor.and_then(|d| d.name),
        specialty_id: specialty
            .as_ref()
            .and_then(|s| s.id_spesiality.clone())
            .and_then(|id| SpecialtyId::parse(id).ok()),
        specialty_name: specialty.and_then(|s| s.name_spesiality),
    })
}

#[async_trait]
impl Mis for HubClient {
    #[tracing::instrument(level = "debug", skip(self))]
    async fn version(&self) -> Result<MisVersion, MisError> {
        match self.call(Request::GetVersion).await? {
            ResultBody::Version {
                database_version,
                service_version,
            } => Ok(MisVersion {
                service: service_version,
                database: database_version,
            }),
            _ => Err(unexpected(Operation::GetVersion)),
        }
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn clinics(&self) -> Result<Vec<ClinicInfo>, MisError> {
        match self.call(Request::GetLpuList { id_district: None }).await? {
            ResultBody::LpuList(list) => Ok(list
                .unwrap_or_default()
                .into_iter()
                .map(|c| ClinicInfo {
                    id: LpuId::new(c.id_lpu),
                    full_name: c.full_name,
                    short_name: c.short_name,
                    active: c.is_active,
                })
                .collect()),
            _ => Err(unexpected(Operation::GetLpuList)),
        }
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn specialties(&self, clinic: LpuId) -> Result<Vec<Specialty>, MisError> {
        let request = Request::GetSpesialityList {
            id_lpu: clinic.get(),
            id_pat: None,
        };
        let ResultBody::SpesialityList { list, .. } = self.call(request).await? else {
            return Err(unexpected(Operation::GetSpesialityList));
        };
        list.unwrap_or_default()
            .into_iter()
            .map(|s| {
                Ok(Specialty {
                    id: required_id(s.id_spesiality, "IdSpesiality", SpecialtyId::parse)?,
                    name: s.name_spesiality.ok_or_else(|| bad("NameSpesiality"))?,
                    free_tickets: count(s.count_free_participant_ie),
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
        let request = Request::GetDoctorList {
            id_spesiality: specialty.as_str().to_owned(),
            id_lpu: clinic.get(),
            id_pat: None,
        };
        let ResultBody::DoctorList(list) = self.call(request).await? else {
            return Err(unexpected(Operation::GetDoctorList));
        };
        list.unwrap_or_default()
            .into_iter()
            .map(|d| {
                Ok(Doctor {
                    id: required_id(d.id_doc, "IdDoc", DoctorId::parse)?,
                    name: d.name.ok_or_else(|| bad("Name"))?,
                    comment: d.comment.filter(|c| !c.trim().is_empty()),
                    free_tickets: count(d.count_free_participant_ie),
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
        let ResultBody::AvailableDates(list) = self.call(request).await? else {
            return Err(unexpected(Operation::GetAvailableDates));
        };
        let mut dates: Vec<NaiveDate> = list
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
        let ResultBody::Appointments(list) = self.call(request).await? else {
            return Err(unexpected(Operation::GetAvaibleAppointments));
        };
        let mut slots = list
            .unwrap_or_default()
            .into_iter()
            .map(|a| {
                Ok(Slot {
                    id: required_id(a.id_appointment, "IdAppointment", AppointmentId::parse)?,
                    start: a.visit_start,
                    end: a.visit_end,
                    room: a.room.filter(|r| !r.trim().is_empty()),
                    address: a.address.filter(|r| !r.trim().is_empty()),
                    number: a.num.and_then(|n| u32::try_from(n).ok()),
                })
            })
            .collect::<Result<Vec<_>, MisError>>()?;
        slots.sort_by_key(|s| s.start);
        Ok(slots)
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn working_time(
        &self,
        clinic: LpuId,
        doctor: &DoctorId,
        range: DateRange,
    ) -> Result<Vec<WorkingDay>, MisError> {
        let request = Request::GetWorkingTime {
            id_doc: doctor.as_str().to_owned(),
            id_lpu: clinic.get(),
            visit_start: range.start(),
            visit_end: range.end(),
        };
        let ResultBody::WorkingTime(list) = self.call(request).await? else {
            return Err(unexpected(Operation::GetWorkingTime));
        };
        Ok(list
            .unwrap_or_default()
            .into_iter()
            .map(|t| WorkingDay {
                start: t.visit_start,
                end: t.visit_end,
                recordable: t.recordable_day,
                deny_cause: t.deny_cause,
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
        };
        let request = Request::CheckPatient {
            pat,
            id_lpu: clinic.get(),
        };
        let ResultBody::CheckPatient { id_pat } = self.call(request).await? else {
            return Err(unexpected(Operation::CheckPatient));
        };
        required_id(id_pat, "IdPat", PatientId::parse)
    }

    #[tracing::instrument(level = "debug", skip(self, patient))]
    async fn book(
        &self,
        clinic: LpuId,
        patient: &PatientId,
        slot: &AppointmentId,
        previous: Option<&AppointmentId>,
    ) -> Result<(), MisError> {
        let request = Request::SetAppointment {
            id_appointment: slot.as_str().to_owned(),
            id_lpu: clinic.get(),
            id_pat: patient.as_str().to_owned(),
            id_appointment_prev: previous.map(|p| p.as_str().to_owned()),
        };
        match self.call(request).await? {
            ResultBody::SetAppointment { .. } => Ok(()),
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
        let request = Request::CreateClaimForRefusal {
            id_lpu: clinic.get(),
            id_pat: patient.as_str().to_owned(),
            id_appointment: slot.as_str().to_owned(),
        };
        match self.call(request).await? {
            ResultBody::CreateClaimForRefusal => Ok(()),
            _ => Err(unexpected(Operation::CreateClaimForRefusal)),
        }
    }

    #[tracing::instrument(level = "debug", skip(self, patient))]
    async fn history(&self, clinic: LpuId, patient: &PatientId) -> Result<History, MisError> {
        let request = Request::GetPatientHistory {
            id_lpu: clinic.get(),
            id_pat: patient.as_str().to_owned(),
        };
        let ResultBody::PatientHistory { refusals, visits } = self.call(request).await? else {
            return Err(unexpected(Operation::GetPatientHistory));
        };
        Ok(History {
            visits: visits
                .unwrap_or_default()
                .into_iter()
                .map(visit_of)
                .collect::<Result<_, _>>()?,
            refusals: refusals
                .unwrap_or_default()
                .into_iter()
                .map(visit_of)
                .collect::<Result<_, _>>()?,
        })
    }
}
