//! The directory of the flow: clinics, specialties, doctors, dates and free slots.

use crate::error::ApiError;
use crate::extract::Clinic as ExtractClinic;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use api_types::routes as r;
use api_types::{AvailableDates, Clinic, Doctor, List, Slot, Specialty};
use gateway_domain::{Gateway, directory};
use serde::Deserialize;

/// A directory answer with its `ETag` (a digest of its bytes), or `304 Not Modified` when the
/// client already holds it (`If-None-Match`): integrators and browsers revalidate for free.
fn tagged(req: &HttpRequest, value: &impl serde::Serialize) -> HttpResponse {
    use sha2::Digest;
    let Ok(body) = serde_json::to_vec(value) else {
        return HttpResponse::InternalServerError().finish();
    };
    let digest = sha2::Sha256::digest(&body);
    let hex: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
    // Weak: the compression layer may re-encode the bytes.
    let etag = format!("W/\"{hex}\"");
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim() == "*" || t.trim().trim_start_matches("W/") == &etag[2..])
        });
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    if fresh {
        response.finish()
    } else {
        response.content_type("application/json").body(body)
    }
}

/// The clinics this gateway serves.
#[utoipa::path(get, path = r::CLINICS.path, tag = "directory", responses(
        (status = 200, body = List<Clinic>, headers(("ETag" = String, description = "A digest of the answer; send it back in `If-None-Match`"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current")
    ))]
pub async fn clinics(gateway: web::Data<Gateway>, req: HttpRequest) -> HttpResponse {
    let list: List<Clinic> = gateway
        .clinics()
        .iter()
        .map(|c| c.info.clone())
        .collect::<Vec<_>>()
        .into();
    tagged(&req, &list)
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
#[tracing::instrument(skip(clinic, req), fields(clinic = %clinic.0.info.id))]
pub async fn specialties(
    query: web::Query<DirectoryQuery>,
    clinic: ExtractClinic,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let list = directory::specialties(&clinic.0, query.include_unavailable()?).await?;
    Ok(tagged(&req, &List::from(list)))
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
#[tracing::instrument(skip(req))]
pub async fn doctors(
    path: web::Path<(String, String)>,
    query: web::Query<DirectoryQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let all = query.include_unavailable()?;
    let clinic = ExtractClinic::extract(&req).await?;
    let list = directory::doctors(&clinic.0, &path.1, all).await?;
    Ok(tagged(&req, &List::from(list)))
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
#[tracing::instrument(skip(clinic, req))]
pub async fn dates(
    path: web::Path<(String, String)>,
    query: web::Query<DatesQuery>,
    clinic: ExtractClinic,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let dates = directory::dates(
        &clinic.0,
        &path.1,
        query.from.as_deref(),
        query.to.as_deref(),
    )
    .await?;
    Ok(tagged(&req, &dates))
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
#[tracing::instrument(skip(clinic, req))]
pub async fn slots(
    path: web::Path<(String, String)>,
    query: web::Query<SlotsQuery>,
    clinic: ExtractClinic,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let list = directory::slots(&clinic.0, &path.1, query.date.as_deref()).await?;
    Ok(tagged(&req, &List::from(list)))
}
