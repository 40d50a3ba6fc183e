//! The patient's part of the flow: identification (sessions) and tickets. Handlers translate
//! HTTP into [`crate::booking`]'s calls and back.

use super::JsonBody;
use crate::booking::{self, Answer, Keyed, Plan};
use crate::error::{ApiError, field_error, sentence};
use crate::idempotency;
use crate::ids;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use api_types::routes as r;
use api_types::{ErrorCode, List, NewSession, NewTicket, Reschedule, Session, Ticket};
use mis::{BirthDate, BirthDateError, DocumentNumber, Mis, PatientIdentity, PolicyNumber};

/// Parses the three identity fields, reporting every field that cannot be accepted.
///
/// A birth date of the right form but in the future, or more than 130 years ago, is no
/// input error (the schema accepts it): no patient can have it, so it is `patient_not_found`,
/// answered without asking the МИС.
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
        (Ok(_), Ok(_), Err(BirthDateError::InFuture | BirthDateError::TooOld)) => {
            Err(mis::MisError::PatientNotFound.into())
        }
        (d, p, b) => {
            let mut fields = Vec::new();
            if let Err(e) = d {
                fields.push(field_error("document_number", e.reason(), sentence(e)));
            }
            if let Err(e) = p {
                fields.push(field_error("policy_number", e.reason(), sentence(e)));
            }
            if let Err(e @ (BirthDateError::Empty | BirthDateError::InvalidFormat)) = b {
                fields.push(field_error(
                    "birth_date",
                    e.reason(),
                    "The birth date must be a real date written YYYY-MM-DD.",
                ));
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
    path = r::CREATE_SESSION.path,
    tag = "patient",
    request_body = NewSession,
    responses((status = 201, body = Session))
)]
#[tracing::instrument(skip_all, fields(clinic = %path))]
pub async fn create_session(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: JsonBody<NewSession>,
) -> Result<HttpResponse, ApiError> {
    let clinic = state.clinic(&path)?;
    let started = std::time::Instant::now();
    // Whether the patient exists must not show in how long the answer takes.
    let found = match identity_of(&body.value, clinic.today()) {
        Ok(identity) => clinic.mis.find_patient(clinic.lpu, &identity).await,
        Err(e) if e.code == ErrorCode::PatientNotFound => Err(mis::MisError::PatientNotFound),
        Err(e) => {
            crate::metrics::identification(&clinic.info.id, e.code.as_str());
            return Err(e);
        }
    };
    tokio::time::sleep(state.identify_min.saturating_sub(started.elapsed())).await;
    let patient = found.map_err(|e| {
        let e = ApiError::from(e);
        crate::metrics::identification(&clinic.info.id, e.code.as_str());
        e
    })?;
    crate::metrics::identification(&clinic.info.id, "found");
    let (token, session) = state
        .shared
        .sessions
        .create(&clinic.info.id, patient)
        .await?;
    tracing::info!("patient identified, session opened");
    let expires_at = session.expires_at.with_timezone(&clinic.tz).fixed_offset();
    Ok(HttpResponse::Created().json(Session { token, expires_at }))
}

/// Ends the session (logs the patient out).
#[utoipa::path(
    delete,
    path = r::END_SESSION.path,
    tag = "patient",
    security(("bearer" = [])),
    responses((status = 204, description = "The session is ended"))
)]
pub async fn end_session(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let clinic = state.clinic(&path)?;
    state.session(&req, clinic).await?;
    if let Some(token) = crate::state::bearer(&req) {
        state.shared.sessions.end(token).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The request's `Idempotency-Key`, checked. The fingerprint covers the operation's own
/// parts (`scope`: the ticket a reschedule moves) and the body, so a key cannot replay one
/// operation's answer for another.
fn idempotency_key(
    req: &HttpRequest,
    scope: &[u8],
    body: &[u8],
) -> Result<Option<Keyed>, ApiError> {
    let value = match crate::headers::single(req, "Idempotency-Key") {
        Ok(Some(value)) => value,
        Ok(None) => return Ok(None),
        Err(crate::headers::Repeated) => {
            return Err(ApiError::field(
                "Idempotency-Key",
                "repeated",
                "Send one Idempotency-Key.",
            ));
        }
    };
    match value.to_str() {
        Ok(k) if idempotency::valid_key(k) => Ok(Some(Keyed {
            key: k.to_owned(),
            fingerprint: if scope.is_empty() {
                idempotency::fingerprint(body)
            } else {
                idempotency::fingerprint(&[scope, b"\n", body].concat())
            },
        })),
        _ => Err(ApiError::field(
            "Idempotency-Key",
            "invalid_format",
            "Use 1 to 255 visible ASCII characters.",
        )),
    }
}

/// The answer to a booking: `201` with the ticket and its `Location` (under
/// `server.public_url` when there is one), or the problem; a replay says so in
/// `Idempotent-Replayed`.
fn booked(public_url: Option<&str>, clinic: &str, answer: Answer<Ticket>) -> HttpResponse {
    let mut response = match answer.result {
        Ok(ticket) => HttpResponse::Created()
            .insert_header((
                actix_web::http::header::LOCATION,
                format!(
                    "{}{}",
                    public_url.unwrap_or_default(),
                    r::TICKET.url(&[clinic, &ticket.id])
                ),
            ))
            .json(ticket),
        Err(e) => actix_web::ResponseError::error_response(&e),
    };
    if answer.replayed {
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("idempotent-replayed"),
            actix_web::http::header::HeaderValue::from_static("true"),
        );
    }
    response
}

/// A slot id of a body, checked for form.
fn slot_id_of(slot_id: &str) -> Result<(), ApiError> {
    if ids::well_formed(slot_id) {
        Ok(())
    } else {
        Err(ApiError::field(
            "slot_id",
            "invalid_format",
            "A slot id is 1 to 2048 letters, digits, dashes and underscores.",
        ))
    }
}

/// Books a ticket; with `referral`, by one of the patient's referrals (one of the slots of
/// `GET …/referrals/{number}/slots`).
///
/// With `Idempotency-Key`, a retry with the same key and body returns the first answer (with
/// `Idempotent-Replayed: true`); the same key with another body answers
/// `idempotency_key_reused`. A booking, once started, completes even if the client goes away.
#[utoipa::path(
    post,
    path = r::BOOK.path,
    tag = "patient",
    params(
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$",
            description = "Up to 255 visible ASCII characters, unique per booking attempt"),
    ),
    request_body = NewTicket,
    security(("bearer" = [])),
    responses((status = 201, body = Ticket, headers(("Location" = String, description = "The ticket's URL"))))
)]
#[tracing::instrument(skip_all, fields(clinic = %path))]
pub async fn create_ticket(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
    body: JsonBody<NewTicket>,
) -> Result<HttpResponse, ApiError> {
    let clinic = state.clinic(&path)?.clone();
    let session = state.session(&req, &clinic).await?;
    slot_id_of(&body.value.slot_id)?;
    let plan = match &body.value.referral {
        None => Plan::New,
        Some(number) => Plan::ByReferral(crate::referrals::parse_number("referral", number)?),
    };
    let key = idempotency_key(&req, b"", &body.raw)?;
    let clinic_id = clinic.info.id.clone();
    let public_url = state.public_url.clone();
    let answer = booking::book(state, clinic, session, &body.value.slot_id, plan, key).await;
    Ok(booked(public_url.as_deref(), &clinic_id, answer))
}

/// Moves one of the patient's upcoming tickets to another free time, in one step: if the new
/// time cannot be booked (`slot_taken`, or the clinic refuses), the old ticket is kept. The
/// answer is the new ticket; the old one is gone. A visit booked by referral moves to another
/// of the referral's times (`GET …/referrals/{number}/slots`) and keeps its referral.
///
/// `Idempotency-Key` works as for a booking.
#[utoipa::path(
    post,
    path = r::RESCHEDULE.path,
    tag = "patient",
    params(
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$",
            description = "Up to 255 visible ASCII characters, unique per attempt"),
    ),
    request_body = Reschedule,
    security(("bearer" = [])),
    responses((status = 201, body = Ticket, headers(("Location" = String, description = "The new ticket's URL"))))
)]
#[tracing::instrument(skip_all, fields(clinic = %path.0))]
pub async fn reschedule_ticket(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    body: JsonBody<Reschedule>,
) -> Result<HttpResponse, ApiError> {
    let (clinic, ticket) = path.into_inner();
    let clinic = state.clinic(&clinic)?.clone();
    let session = state.session(&req, &clinic).await?;
    let old = ids::parse_ticket(&ticket).ok_or_else(|| ApiError::not_found("ticket"))?;
    slot_id_of(&body.value.slot_id)?;
    let referral = body
        .value
        .referral
        .as_deref()
        .map(|number| crate::referrals::parse_number("referral", number))
        .transpose()?;
    let key = idempotency_key(&req, ticket.as_bytes(), &body.raw)?;
    let clinic_id = clinic.info.id.clone();
    let public_url = state.public_url.clone();
    let answer = booking::book(
        state,
        clinic,
        session,
        &body.value.slot_id,
        Plan::Move(old, referral),
        key,
    )
    .await;
    Ok(booked(public_url.as_deref(), &clinic_id, answer))
}

/// The patient's upcoming tickets, soonest first.
#[utoipa::path(
    get,
    path = r::TICKETS.path,
    tag = "patient",
    security(("bearer" = [])),
    responses((status = 200, body = List<Ticket>))
)]
#[tracing::instrument(skip_all, fields(clinic = %path))]
pub async fn list_tickets(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let clinic = state.clinic(&path)?;
    let session = state.session(&req, clinic).await?;
    let list = booking::tickets(&state, clinic, &session).await?;
    Ok(HttpResponse::Ok().json(List::from(list)))
}

/// One of the patient's tickets.
#[utoipa::path(
    get,
    path = r::TICKET.path,
    tag = "patient",
    security(("bearer" = [])),
    responses((status = 200, body = Ticket))
)]
#[tracing::instrument(skip_all, fields(clinic = %path.0))]
pub async fn get_ticket(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (clinic, ticket) = path.into_inner();
    let clinic = state.clinic(&clinic)?;
    let session = state.session(&req, clinic).await?;
    let id = ids::parse_ticket(&ticket).ok_or_else(|| ApiError::not_found("ticket"))?;
    let ticket = booking::ticket(&state, clinic, &session, &id).await?;
    Ok(HttpResponse::Ok().json(ticket))
}

/// Cancels one of the patient's upcoming tickets; the time becomes free again.
#[utoipa::path(
    delete,
    path = r::CANCEL.path,
    tag = "patient",
    security(("bearer" = [])),
    responses((status = 204, description = "The ticket is cancelled"))
)]
#[tracing::instrument(skip_all, fields(clinic = %path.0))]
pub async fn cancel_ticket(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (clinic, ticket) = path.into_inner();
    let clinic = state.clinic(&clinic)?.clone();
    let session = state.session(&req, &clinic).await?;
    let id = ids::parse_ticket(&ticket).ok_or_else(|| ApiError::not_found("ticket"))?;
    booking::cancel(state, clinic, session, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("a real date")
    }

    #[test]
    fn every_identity_field_error_is_reported_at_once() {
        let new = NewSession {
            document_number: "".into(),
            policy_number: "12".into(),
            birth_date: "2999-02-30".into(),
        };
        let err = identity_of(&new, today()).expect_err("all three are wrong");
        let fields: Vec<_> = err.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["document_number", "policy_number", "birth_date"]);
        let shown = serde_json::to_string(&err.problem()).expect("serializes");
        assert!(!shown.contains("2999"), "{shown}");
    }

    #[test]
    fn a_birth_date_no_patient_can_have_is_not_found_not_invalid() {
        let new = NewSession {
            document_number: "4510 123456".into(),
            policy_number: "7700000000000001".into(),
            birth_date: "2999-01-01".into(),
        };
        let err = identity_of(&new, today()).expect_err("nobody is born in 2999");
        assert_eq!(err.code, ErrorCode::PatientNotFound);
    }
}
