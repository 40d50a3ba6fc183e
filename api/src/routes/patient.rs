//! The patient's part of the flow: identification (sessions) and tickets. Handlers translate
//! HTTP into the domain's calls (`identify`, `booking`) and back.

use super::JsonBody;
use crate::error::ApiError;
use crate::extract::{Clinic, Patient, Then, bearer};
use crate::site::Site;
use crate::wire::{self, Wire};
use actix_web::{HttpRequest, HttpResponse, web};
use api_types::routes as r;
use api_types::{List, NewSession, NewTicket, Reschedule, Session, Ticket};
use gateway_domain::booking::{self, Plan};
use gateway_domain::claims::{Answer, Keyed};
use gateway_domain::{Gateway, idempotency, identify, ids, referrals, views};

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
#[tracing::instrument(level = "debug", skip_all, fields(clinic = %input.1.0.info.id))]
pub async fn create_session(
    gateway: web::Data<Gateway>,
    input: Then<JsonBody<NewSession>, Clinic>,
) -> Result<HttpResponse, ApiError> {
    let Then(body, Clinic(clinic)) = input;
    let typed = wire::identity(body.value);
    let (token, session) = identify::identify(&gateway, &clinic, &typed).await?;
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
    gateway: web::Data<Gateway>,
    _patient: Patient,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if let Some(token) = bearer(&req) {
        gateway.end_session(token).await?;
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
fn booked(public_url: Option<&str>, clinic: &str, answer: Answer<views::Ticket>) -> HttpResponse {
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
            .json(ticket.wire()),
        Err(e) => actix_web::ResponseError::error_response(&ApiError(e)),
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
#[tracing::instrument(level = "debug", skip_all, fields(clinic = %input.1.clinic.info.id))]
pub async fn create_ticket(
    gateway: web::Data<Gateway>,
    site: web::Data<Site>,
    req: HttpRequest,
    input: Then<JsonBody<NewTicket>, Patient>,
) -> Result<HttpResponse, ApiError> {
    let Then(body, Patient { clinic, session }) = input;
    slot_id_of(&body.value.slot_id)?;
    let plan = match &body.value.referral {
        None => Plan::New,
        Some(number) => Plan::ByReferral(referrals::parse_number("referral", number)?),
    };
    let key = idempotency_key(&req, b"", &body.raw)?;
    let clinic_id = clinic.info.id.clone();
    let answer = booking::book(
        gateway.into_inner(),
        clinic,
        session,
        &body.value.slot_id,
        plan,
        key,
    )
    .await;
    Ok(booked(site.public_url.as_deref(), &clinic_id, answer))
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
#[tracing::instrument(level = "debug", skip_all, fields(clinic = %input.1.clinic.info.id))]
pub async fn reschedule_ticket(
    gateway: web::Data<Gateway>,
    site: web::Data<Site>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    input: Then<JsonBody<Reschedule>, Patient>,
) -> Result<HttpResponse, ApiError> {
    let Then(body, Patient { clinic, session }) = input;
    let ticket = &path.1;
    let old = ids::parse_ticket(ticket).ok_or_else(|| ApiError::not_found("ticket"))?;
    slot_id_of(&body.value.slot_id)?;
    let referral = body
        .value
        .referral
        .as_deref()
        .map(|number| referrals::parse_number("referral", number))
        .transpose()?;
    let key = idempotency_key(&req, ticket.as_bytes(), &body.raw)?;
    let clinic_id = clinic.info.id.clone();
    let answer = booking::book(
        gateway.into_inner(),
        clinic,
        session,
        &body.value.slot_id,
        Plan::Move(old, referral),
        key,
    )
    .await;
    Ok(booked(site.public_url.as_deref(), &clinic_id, answer))
}

/// The patient's upcoming tickets, soonest first.
#[utoipa::path(
    get,
    path = r::TICKETS.path,
    tag = "patient",
    security(("bearer" = [])),
    responses((status = 200, body = List<Ticket>))
)]
#[tracing::instrument(level = "debug", skip_all, fields(clinic = %patient.clinic.info.id))]
pub async fn list_tickets(
    gateway: web::Data<Gateway>,
    patient: Patient,
) -> Result<HttpResponse, ApiError> {
    let list = booking::tickets(&gateway, &patient.clinic, &patient.session).await?;
    Ok(HttpResponse::Ok().json(wire::list(list)))
}

/// One of the patient's tickets.
#[utoipa::path(
    get,
    path = r::TICKET.path,
    tag = "patient",
    security(("bearer" = [])),
    responses((status = 200, body = Ticket))
)]
#[tracing::instrument(level = "debug", skip_all, fields(clinic = %patient.clinic.info.id))]
pub async fn get_ticket(
    gateway: web::Data<Gateway>,
    path: web::Path<(String, String)>,
    patient: Patient,
) -> Result<HttpResponse, ApiError> {
    let id = ids::parse_ticket(&path.1).ok_or_else(|| ApiError::not_found("ticket"))?;
    let ticket = booking::ticket(&gateway, &patient.clinic, &patient.session, &id).await?;
    Ok(HttpResponse::Ok().json(ticket.wire()))
}

/// Cancels one of the patient's upcoming tickets; the time becomes free again.
#[utoipa::path(
    delete,
    path = r::CANCEL.path,
    tag = "patient",
    security(("bearer" = [])),
    responses((status = 204, description = "The ticket is cancelled"))
)]
#[tracing::instrument(level = "debug", skip_all, fields(clinic = %patient.clinic.info.id))]
pub async fn cancel_ticket(
    gateway: web::Data<Gateway>,
    path: web::Path<(String, String)>,
    patient: Patient,
) -> Result<HttpResponse, ApiError> {
    let id = ids::parse_ticket(&path.1).ok_or_else(|| ApiError::not_found("ticket"))?;
    let Patient { clinic, session } = patient;
    booking::cancel(gateway.into_inner(), clinic, session, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
