//! The waiting list: joining it, the patient's requests, withdrawing one.

use super::JsonBody;
use crate::error::ApiError;
use crate::extract::{Patient, Then};
use crate::wire::{self, Wire};
use actix_web::{HttpResponse, web};
use api_types::routes as r;
use api_types::{List, NewWaitingRequest, WaitingRequest};
use gateway_domain::{Gateway, ids, waiting};

/// Puts the patient on the waiting list for a specialty (and a doctor of it), within the days
/// that suit: the clinic calls the phone given when a ticket is found. The reason is worked
/// out from the directory. A second request for the same specialty and doctor is
/// `already_on_waiting_list`; more than five at once, `waiting_list_full`.
#[utoipa::path(
    post,
    path = r::JOIN_WAITING_LIST.path,
    tag = "patient",
    request_body = NewWaitingRequest,
    security(("bearer" = [])),
    responses((status = 201, body = WaitingRequest))
)]
#[tracing::instrument(level = "debug", skip_all, fields(clinic = %input.1.clinic.info.id))]
pub async fn join_waiting_list(
    gateway: web::Data<Gateway>,
    input: Then<JsonBody<NewWaitingRequest>, Patient>,
) -> Result<HttpResponse, ApiError> {
    let Then(body, Patient { clinic, session }) = input;
    let new = waiting::parse(&wire::waiting_request(body.value), clinic.today())?;
    let created = waiting::join(gateway.into_inner(), clinic, session, new).await?;
    Ok(HttpResponse::Created().json(created.wire()))
}

/// The patient's requests on the waiting list, oldest first.
#[utoipa::path(
    get,
    path = r::WAITING_LIST.path,
    tag = "patient",
    security(("bearer" = [])),
    responses((status = 200, body = List<WaitingRequest>))
)]
#[tracing::instrument(level = "debug", skip_all, fields(clinic = %patient.clinic.info.id))]
pub async fn waiting_list(patient: Patient) -> Result<HttpResponse, ApiError> {
    let list = waiting::list(&patient.clinic, &patient.session).await?;
    Ok(HttpResponse::Ok().json(wire::list(list)))
}

/// Withdraws one of the patient's requests from the waiting list.
#[utoipa::path(
    delete,
    path = r::LEAVE_WAITING_LIST.path,
    tag = "patient",
    security(("bearer" = [])),
    responses((status = 204, description = "The request is withdrawn"))
)]
#[tracing::instrument(level = "debug", skip_all, fields(clinic = %patient.clinic.info.id))]
pub async fn leave_waiting_list(
    gateway: web::Data<Gateway>,
    path: web::Path<(String, String)>,
    patient: Patient,
) -> Result<HttpResponse, ApiError> {
    let id =
        ids::parse_waiting(&path.1).ok_or_else(|| ApiError::not_found("waiting-list request"))?;
    let Patient { clinic, session } = patient;
    waiting::leave(gateway.into_inner(), clinic, session, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
