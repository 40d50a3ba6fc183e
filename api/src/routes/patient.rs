//! The patient's part of the flow: identification (sessions) and tickets.

use super::{MisFailures, json_body};
use crate::error::{ApiError, field_error};
use crate::idempotency::{self, Begin, Stored};
use crate::ids::{self, SlotKey};
use crate::sessions::Session as PatientSession;
use crate::state::{AppState, ClinicEntry, SlotDetails};
use actix_web::{HttpRequest, HttpResponse, web};
use api_types::{ErrorCode, List, NamedRef, NewSession, NewTicket, Problem, Session, Ticket};
use chrono::Timelike;
use mis::{BirthDate, DateRange, DocumentNumber, Mis, PatientIdentity, PolicyNumber, Visit};

/// Parses the three identity fields, reporting every field that cannot be accepted.
fn identity_of(new: &NewSession, today: chrono::NaiveDate) -> Result<PatientIdentity, ApiError> {
    let document = DocumentNumber::parse(&new.document_number);
    let policy = PolicyNumber::parse(&new.policy_number);
    let birth_date = BirthDate::parse(&new.birth_date, today);
    match (document, policy, birth_date) {
        (Ok(document), Ok(policy), Ok(birth_date)) => Ok(PatientIdentity {
            document,
            policy,
            birth_date,
        }),
        (d, p, b) => {
            let mut fields = Vec::new();
            if let Err(e) = d {
                fields.push(field_error("document_number", e.reason(), e.to_string()));
            }
            if let Err(e) = p {
                fields.push(field_error("policy_number", e.reason(), e.to_string()));
            }
            if let Err(e) = b {
                fields.push(field_error("birth_date", e.reason(), e.to_string()));
            }
            Err(ApiError::invalid(fields))
        }
    }
}

/// Identifies the patient and opens a session.
///
/// The token maps to the clinic's patient card only; the document data are not kept.
#[utoipa::path(
    post,
    path = "/api/v1/clinics/{clinic}/sessions",
    tag = "patient",
    params(("clinic" = String, Path, description = "The clinic's id")),
    request_body = NewSession,
    responses(
        (status = 201, body = Session),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`patient_not_found` or `not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`patient_not_unique`"),
        (status = 415, body = Problem, content_type = "application/problem+json", description = "`unsupported_media_type`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`invalid_input`"),
        MisFailures,
    )
)]
#[tracing::instrument(skip_all, fields(clinic = %path))]
pub async fn create_session(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let clinic = state.clinic(&path)?;
    let new: NewSession = json_body(&req, &body)?;
    let identity = identity_of(&new, clinic.today())?;
    // Whether the patient exists must not show in how long the answer takes.
    let started = std::time::Instant::now();
    let found = clinic.mis.find_patient(clinic.lpu, &identity).await;
    tokio::time::sleep(state.identify_min.saturating_sub(started.elapsed())).await;
    let patient = found?;
    let (token, session) = state
        .sessions
        .create(&clinic.info.id, patient)
        .map_err(ApiError::internal)?;
    tracing::info!("patient identified, session opened");
    let expires_at = session.expires_at.with_timezone(&clinic.tz).fixed_offset();
    Ok(HttpResponse::Created().json(Session { token, expires_at }))
}

/// Ends the session (logs the patient out).
#[utoipa::path(
    delete,
    path = "/api/v1/clinics/{clinic}/sessions/current",
    tag = "patient",
    params(("clinic" = String, Path, description = "The clinic's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The session is ended"),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "`session_required`"),
    )
)]
pub async fn end_session(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let clinic = state.clinic(&path)?;
    state.session(&req, clinic)?;
    if let Some(token) = crate::state::bearer(&req) {
        state.sessions.end(token);
    }
    Ok(HttpResponse::NoContent().finish())
}

/// A ticket as the API shows it, from a visit in the patient's history.
fn ticket_of(state: &AppState, clinic: &ClinicEntry, v: Visit) -> Ticket {
    let details = state.memo.recall(&clinic.info.id, &v.appointment);
    let specialty_id = v
        .specialty_id
        .as_ref()
        .map(ids::specialty)
        .unwrap_or_default();
    let doctor_id = match (&v.specialty_id, &v.doctor_id) {
        (Some(s), Some(d)) => ids::DoctorKey {
            specialty: s.clone(),
            doctor: d.clone(),
        }
        .encode(),
        _ => String::new(),
    };
    Ticket {
        id: ids::ticket(&v.appointment),
        number: details.as_ref().and_then(|d| d.number),
        clinic: NamedRef {
            id: clinic.info.id.clone(),
            name: clinic.info.name.clone(),
        },
        specialty: NamedRef {
            id: specialty_id,
            name: v.specialty_name.unwrap_or_default(),
        },
        doctor: NamedRef {
            id: doctor_id,
            name: v.doctor_name.unwrap_or_default(),
        },
        room: details.as_ref().and_then(|d| d.room.clone()),
        address: details
            .as_ref()
            .and_then(|d| d.address.clone())
            .or_else(|| Some(clinic.info.address.clone())),
        start: clinic.localize(v.start),
        end: details.as_ref().map(|d| clinic.localize(d.end)),
        created_at: v.created.map(|c| clinic.localize(c)),
    }
}

/// Books a free slot for the session's patient; a step that fails books nothing.
async fn book(
    state: &AppState,
    clinic: &ClinicEntry,
    session: &PatientSession,
    new: &NewTicket,
) -> Result<Ticket, ApiError> {
    let key = SlotKey::parse(&new.slot_id).ok_or_else(|| {
        ApiError::field(
            "slot_id",
            "invalid_format",
            "This is not a slot id from this API.",
        )
    })?;
    let now = clinic
        .now()
        .with_nanosecond(0)
        .unwrap_or_else(|| clinic.now());
    let slot = clinic
        .mis
        .slots(clinic.lpu, &key.doctor.doctor, DateRange::day(key.date))
        .await?
        .into_iter()
        .find(|s| s.id == key.appointment && s.start > now)
        .ok_or_else(|| {
            ApiError::new(ErrorCode::SlotTaken)
                .detail("This time is no longer free; choose another.")
        })?;
    let specialty_name = clinic
        .mis
        .specialties(clinic.lpu)
        .await?
        .into_iter()
        .find(|s| s.id == key.doctor.specialty)
        .map(|s| s.name)
        .ok_or_else(|| ApiError::not_found("specialty"))?;
    let doctor_name = clinic
        .mis
        .doctors(clinic.lpu, &key.doctor.specialty)
        .await?
        .into_iter()
        .find(|d| d.id == key.doctor.doctor)
        .map(|d| d.name)
        .ok_or_else(|| ApiError::not_found("doctor"))?;
    clinic
        .mis
        .book(clinic.lpu, &session.patient, &slot.id, None)
        .await?;
    let details = SlotDetails {
        number: slot.number,
        room: slot.room.clone(),
        address: slot.address.clone(),
        end: slot.end,
    };
    state.memo.remember(&clinic.info.id, &slot.id, details);
    tracing::info!(clinic = %clinic.info.id, "ticket booked");
    Ok(Ticket {
        id: ids::ticket(&slot.id),
        number: slot.number,
        clinic: NamedRef {
            id: clinic.info.id.clone(),
            name: clinic.info.name.clone(),
        },
        specialty: NamedRef {
            id: ids::specialty(&key.doctor.specialty),
            name: specialty_name,
        },
        doctor: NamedRef {
            id: key.doctor.encode(),
            name: doctor_name,
        },
        room: slot.room,
        address: slot.address.or_else(|| Some(clinic.info.address.clone())),
        start: clinic.localize(slot.start),
        end: Some(clinic.localize(slot.end)),
        created_at: Some(clinic.localize(now)),
    })
}

fn stored_of(clinic: &ClinicEntry, result: Result<Ticket, ApiError>) -> Stored {
    match result {
        Ok(ticket) => Stored {
            status: 201,
            location: Some(format!(
                "/api/v1/clinics/{}/tickets/{}",
                clinic.info.id, ticket.id
            )),
            body: serde_json::to_vec(&ticket).unwrap_or_default(),
            content_type: "application/json",
        },
        Err(e) => {
            // Logs the failure as any error answer does.
            drop(actix_web::ResponseError::error_response(&e));
            Stored {
                status: e.code.status(),
                location: None,
                body: serde_json::to_vec(&e.problem()).unwrap_or_default(),
                content_type: "application/problem+json",
            }
        }
    }
}

fn respond(stored: Stored, replayed: bool) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(stored.status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    response.content_type(stored.content_type);
    if let Some(location) = stored.location {
        response.insert_header((actix_web::http::header::LOCATION, location));
    }
    if replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    response.body(stored.body)
}

/// Books a ticket.
///
/// With `Idempotency-Key`, a retry with the same key and body returns the first answer;
/// the same key with another body answers `idempotency_key_reused`.
#[utoipa::path(
    post,
    path = "/api/v1/clinics/{clinic}/tickets",
    tag = "patient",
    params(
        ("clinic" = String, Path, description = "The clinic's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Up to 255 visible ASCII characters, unique per booking attempt"),
    ),
    request_body = NewTicket,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Ticket, headers(("Location" = String, description = "The ticket's URL"))),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "`session_required`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`slot_taken`, `already_booked`, `not_attached`, `booking_not_allowed`, `idempotency_key_in_use`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`invalid_input`, `idempotency_key_reused`"),
        MisFailures,
    )
)]
#[tracing::instrument(skip_all, fields(clinic = %path))]
pub async fn create_ticket(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let clinic = state.clinic(&path)?;
    let session = state.session(&req, clinic)?;
    let new: NewTicket = json_body(&req, &body)?;
    let key = match req.headers().get("Idempotency-Key") {
        None => None,
        Some(v) => match v.to_str() {
            Ok(k) if idempotency::valid_key(k) => Some(k.to_owned()),
            _ => {
                return Err(ApiError::field(
                    "Idempotency-Key",
                    "invalid_format",
                    "Use 1 to 255 visible ASCII characters.",
                ));
            }
        },
    };
    let Some(key) = key else {
        return Ok(respond(
            stored_of(clinic, book(&state, clinic, &session, &new).await),
            false,
        ));
    };
    let (clinic_id, patient) = (clinic.info.id.as_str(), session.patient.as_str());
    match state
        .idempotency
        .begin(clinic_id, patient, &key, idempotency::fingerprint(&body))
    {
        Begin::Proceed => {}
        Begin::Replay(stored) => return Ok(respond(stored, true)),
        Begin::Reused => return Err(ApiError::new(ErrorCode::IdempotencyKeyReused)),
        Begin::InUse => return Err(ApiError::new(ErrorCode::IdempotencyKeyInUse)),
    }
    let stored = stored_of(clinic, book(&state, clinic, &session, &new).await);
    if stored.status >= 500 {
        state.idempotency.abandon(clinic_id, patient, &key);
    } else {
        state
            .idempotency
            .finish(clinic_id, patient, &key, stored.clone());
    }
    Ok(respond(stored, false))
}

/// The patient's upcoming tickets, soonest first.
#[utoipa::path(
    get,
    path = "/api/v1/clinics/{clinic}/tickets",
    tag = "patient",
    params(("clinic" = String, Path, description = "The clinic's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = List<Ticket>),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "`session_required`"),
        MisFailures,
    )
)]
#[tracing::instrument(skip_all, fields(clinic = %path))]
pub async fn list_tickets(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let clinic = state.clinic(&path)?;
    let session = state.session(&req, clinic)?;
    let now = clinic.now();
    let mut visits: Vec<Visit> = clinic
        .mis
        .history(clinic.lpu, &session.patient)
        .await?
        .visits
        .into_iter()
        .filter(|v| v.start > now)
        .collect();
    visits.sort_by_key(|v| v.start);
    let list: Vec<Ticket> = visits
        .into_iter()
        .map(|v| ticket_of(&state, clinic, v))
        .collect();
    Ok(HttpResponse::Ok().json(List::from(list)))
}

/// One of the patient's tickets.
#[utoipa::path(
    get,
    path = "/api/v1/clinics/{clinic}/tickets/{ticket}",
    tag = "patient",
    params(
        ("clinic" = String, Path, description = "The clinic's id"),
        ("ticket" = String, Path, description = "The ticket's id"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Ticket),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "`session_required`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`not_found`"),
        MisFailures,
    )
)]
#[tracing::instrument(skip_all, fields(clinic = %path.0))]
pub async fn get_ticket(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (clinic, ticket) = path.into_inner();
    let clinic = state.clinic(&clinic)?;
    let session = state.session(&req, clinic)?;
    let id = ids::parse_ticket(&ticket).ok_or_else(|| ApiError::not_found("ticket"))?;
    let visit = clinic
        .mis
        .history(clinic.lpu, &session.patient)
        .await?
        .visits
        .into_iter()
        .find(|v| v.appointment == id)
        .ok_or_else(|| ApiError::not_found("ticket"))?;
    Ok(HttpResponse::Ok().json(ticket_of(&state, clinic, visit)))
}

/// Cancels one of the patient's tickets; the time becomes free again.
#[utoipa::path(
    delete,
    path = "/api/v1/clinics/{clinic}/tickets/{ticket}",
    tag = "patient",
    params(
        ("clinic" = String, Path, description = "The clinic's id"),
        ("ticket" = String, Path, description = "The ticket's id"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The ticket is cancelled"),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "`session_required`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`not_found`: no such upcoming ticket of this patient"),
        MisFailures,
    )
)]
#[tracing::instrument(skip_all, fields(clinic = %path.0))]
pub async fn cancel_ticket(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (clinic, ticket) = path.into_inner();
    let clinic = state.clinic(&clinic)?;
    let session = state.session(&req, clinic)?;
    let id = ids::parse_ticket(&ticket).ok_or_else(|| ApiError::not_found("ticket"))?;
    clinic.mis.cancel(clinic.lpu, &session.patient, &id).await?;
    tracing::info!(clinic = %clinic.info.id, "ticket cancelled");
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_identity_field_error_is_reported_at_once() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("a real date");
        let new = NewSession {
            document_number: "".into(),
            policy_number: "12".into(),
            birth_date: "2999-01-01".into(),
        };
        let err = identity_of(&new, today).expect_err("all three are wrong");
        let fields: Vec<_> = err.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["document_number", "policy_number", "birth_date"]);
        let shown = serde_json::to_string(&err.problem()).expect("serializes");
        assert!(!shown.contains("2999"), "{shown}");
    }
}
