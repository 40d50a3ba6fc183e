//! The waiting list: joining it, the patient's requests, withdrawing one.

use super::JsonBody;
use crate::error::ApiError;
use crate::ids;
use crate::state::AppState;
use crate::waiting;
use actix_web::{HttpRequest, HttpResponse, web};
use api_types::routes as r;
use api_types::{List, NewWaitingRequest, WaitingRequest};

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
#[tracing::instrument(skip_all, fields(clinic = %path))]
pub async fn join_waiting_list(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
    body: JsonBody<NewWaitingRequest>,
) -> Result<HttpResponse, ApiError> {
    let clinic = state.clinic(&path)?.clone();
    let session = state.session(&req, &clinic).await?;
    let new = waiting::parse(&body.value, clinic.today())?;
    let created = waiting::join(state, clinic, session, new).await?;
    Ok(HttpResponse::Created().json(created))
}

/// The patient's requests on the waiting list, oldest first.
#[utoipa::path(
    get,
    path = r::WAITING_LIST.path,
    tag = "patient",
    security(("bearer" = [])),
    responses((status = 200, body = List<WaitingRequest>))
)]
#[tracing::instrument(skip_all, fields(clinic = %path))]
pub async fn waiting_list(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let clinic = state.clinic(&path)?;
    let session = state.session(&req, clinic).await?;
    let list = waiting::list(clinic, &session).await?;
    Ok(HttpResponse::Ok().json(List::from(list)))
}

/// Withdraws one of the patient's requests from the waiting list.
#[utoipa::path(
    delete,
    path = r::LEAVE_WAITING_LIST.path,
    tag = "patient",
    security(("bearer" = [])),
    responses((status = 204, description = "The request is withdrawn"))
)]
#[tracing::instrument(skip_all, fields(clinic = %path.0))]
pub async fn leave_waiting_list(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (clinic, request) = path.into_inner();
    let clinic = state.clinic(&clinic)?.clone();
    let session = state.session(&req, &clinic).await?;
    let id =
        ids::parse_waiting(&request).ok_or_else(|| ApiError::not_found("waiting-list request"))?;
    waiting::leave(state, clinic, session, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
