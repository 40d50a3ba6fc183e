//! The directory of the flow: clinics, specialties, doctors, dates and free slots.

use super::ready::{Key, Kind, Ready, ReadyAnswers};
use crate::error::ApiError;
use crate::extract::Clinic as ExtractClinic;
use crate::wire::{Wire, list};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use api_types::routes as r;
use api_types::{AvailableDates, Clinic, Doctor, List, Slot, Specialty};
use gateway_domain::{Gateway, directory};
use serde::Deserialize;

/// The clinics this gateway serves.
#[utoipa::path(get, path = r::CLINICS.path, tag = "directory", responses(
        (status = 200, body = List<Clinic>, headers(("ETag" = String, description = "A digest of the answer; send it back in `If-None-Match`"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current")
    ))]
pub async fn clinics(gateway: web::Data<Gateway>, req: HttpRequest) -> HttpResponse {
    let list: List<Clinic> = gateway
        .clinics()
        .iter()
        .map(|c| crate::wire::clinic(&gateway, c.info.clone()))
        .collect::<Vec<_>>()
        .into();
    // Made from the configuration, not from the МИС: nothing to keep.
    Ready::of(&list).to(&req)
}

/// Whether a directory read lists entries without free tickets too.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectoryQuery {
    /// Also list those without free tickets (`free_tickets: 0`), for the waiting list.
    /// Default `false`: only those a patient can book now.
    #[param(value_type = Option<bool>)]
    include_unavailable: Option<String>,
}

/// A flag as a key's value.
fn flag(on: bool) -> &'static str {
    if on { "1" } else { "0" }
}

impl DirectoryQuery {
    /// `include_unavailable`: `true` or `false` (absent: `false`).
    fn include_unavailable(&self) -> Result<bool, ApiError> {
        match self.include_unavailable.as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(ApiError::field(
                "include_unavailable",
                "invalid_format",
                "`include_unavailable` is `true` or `false`.",
            )),
        }
    }
}

/// The clinic's specialties that have free tickets (with `include_unavailable=true`, all of
/// them), by name.
#[utoipa::path(
    get,
    path = r::SPECIALTIES.path,
    tag = "directory",
    params(DirectoryQuery),
    responses(
        (status = 200, body = List<Specialty>, headers(("ETag" = String, description = "A digest of the answer; send it back in `If-None-Match`"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current")
    )
)]
#[tracing::instrument(level = "debug", skip(clinic, ready, req), fields(clinic = %clinic.0.info.id))]
pub async fn specialties(
    query: web::Query<DirectoryQuery>,
    clinic: ExtractClinic,
    ready: web::Data<ReadyAnswers>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let all = query.include_unavailable()?;
    let key = Key::of(r::SPECIALTIES.path, &clinic.0, &[flag(all)]);
    let list = async { Ok(list(directory::specialties(&clinic.0, all).await?)) };
    ready
        .answer(Kind::Directory, &clinic.0, key, &req, list)
        .await
}

/// The doctors of a specialty that have free tickets (with `include_unavailable=true`, all of
/// them), by name.
#[utoipa::path(
    get,
    path = r::DOCTORS.path,
    tag = "directory",
    params(DirectoryQuery),
    responses(
        (status = 200, body = List<Doctor>, headers(("ETag" = String, description = "A digest of the answer; send it back in `If-None-Match`"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current")
    )
)]
#[tracing::instrument(level = "debug", skip(ready, req))]
pub async fn doctors(
    path: web::Path<(String, String)>,
    query: web::Query<DirectoryQuery>,
    ready: web::Data<ReadyAnswers>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let all = query.include_unavailable()?;
    let clinic = ExtractClinic::extract(&req).await?;
    let key = Key::of(r::DOCTORS.path, &clinic.0, &[&path.1, flag(all)]);
    let list = async { Ok(list(directory::doctors(&clinic.0, &path.1, all).await?)) };
    ready
        .answer(Kind::Directory, &clinic.0, key, &req, list)
        .await
}

/// The range of `/dates`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DatesQuery {
    /// First date (`YYYY-MM-DD`, clinic zone); default today. Within a year before today and
    /// two years after.
    #[param(format = Date)]
    pub(super) from: Option<String>,
    /// Last date, included; default 13 days after `from`. At most 92 days in all, and within
    /// two years after today.
    #[param(format = Date)]
    pub(super) to: Option<String>,
}

/// The dates on which the doctor has free tickets.
#[utoipa::path(
    get,
    path = r::DATES.path,
    tag = "directory",
    params(DatesQuery),
    responses(
        (status = 200, body = AvailableDates, headers(("ETag" = String, description = "A digest of the answer; send it back in `If-None-Match`"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current")
    )
)]
#[tracing::instrument(level = "debug", skip(clinic, ready, req))]
pub async fn dates(
    path: web::Path<(String, String)>,
    query: web::Query<DatesQuery>,
    clinic: ExtractClinic,
    ready: web::Data<ReadyAnswers>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (from, to) = (query.from.as_deref(), query.to.as_deref());
    let values = [
        path.1.as_str(),
        from.unwrap_or_default(),
        to.unwrap_or_default(),
    ];
    let key = Key::of(r::DATES.path, &clinic.0, &values);
    let dates = async { Ok(directory::dates(&clinic.0, &path.1, from, to).await?.wire()) };
    ready
        .answer(Kind::Schedule, &clinic.0, key, &req, dates)
        .await
}

/// The day of `/slots`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotsQuery {
    /// The day (`YYYY-MM-DD`, clinic zone), within a year before today and two years after.
    #[param(required = true, format = Date)]
    date: Option<String>,
}

/// The doctor's free tickets of one day, by time.
#[utoipa::path(
    get,
    path = r::SLOTS.path,
    tag = "directory",
    params(SlotsQuery),
    responses(
        (status = 200, body = List<Slot>, headers(("ETag" = String, description = "A digest of the answer; send it back in `If-None-Match`"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current")
    )
)]
#[tracing::instrument(level = "debug", skip(clinic, ready, req))]
pub async fn slots(
    path: web::Path<(String, String)>,
    query: web::Query<SlotsQuery>,
    clinic: ExtractClinic,
    ready: web::Data<ReadyAnswers>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let date = query.date.as_deref();
    let key = Key::of(
        r::SLOTS.path,
        &clinic.0,
        &[&path.1, date.unwrap_or_default()],
    );
    let list = async { Ok(list(directory::slots(&clinic.0, &path.1, date).await?)) };
    ready
        .answer(Kind::Schedule, &clinic.0, key, &req, list)
        .await
}
