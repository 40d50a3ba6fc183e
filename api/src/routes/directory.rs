//! The directory of the flow: clinics, specialties, doctors, dates and free slots.

use crate::error::ApiError;
use crate::ids::{self, DoctorKey};
use crate::state::{AppState, ClinicEntry};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use api_types::routes as r;
use api_types::{AvailableDates, Clinic, Doctor, List, Slot, Specialty};
use chrono::{Days, NaiveDate};
use mis::{DateRange, Mis};
use serde::Deserialize;

/// The longest range of dates one request may ask for.
pub const MAX_DATE_RANGE_DAYS: u64 = 92;
/// The default range of dates: the next two weeks.
pub const DEFAULT_DATE_RANGE_DAYS: u64 = 14;

fn clinic_of<'a>(state: &'a AppState, path: &str) -> Result<&'a ClinicEntry, ApiError> {
    state.clinic(path)
}

fn doctor_of(path: &str) -> Result<DoctorKey, ApiError> {
    DoctorKey::parse(path).ok_or_else(|| ApiError::not_found("doctor"))
}

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
pub async fn clinics(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let list: List<Clinic> = state
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
#[tracing::instrument(skip(state, req))]
pub async fn specialties(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<DirectoryQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let clinic = clinic_of(&state, &path)?;
    let list = specialty_list(clinic, query.include_unavailable()?).await?;
    Ok(tagged(&req, &List::from(list)))
}

/// The clinic's specialties as the API lists them: by name, those with free tickets (with
/// `all`, every one).
pub async fn specialty_list(clinic: &ClinicEntry, all: bool) -> Result<Vec<Specialty>, ApiError> {
    let mut list: Vec<Specialty> = clinic
        .mis
        .specialties(clinic.lpu)
        .await?
        .into_iter()
        .filter(|s| all || s.free_tickets > 0)
        .map(|s| Specialty {
            id: ids::specialty(&s.id),
            name: s.name,
            free_tickets: s.free_tickets,
            nearest_date: s.nearest_date,
        })
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(list)
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
#[tracing::instrument(skip(state, req))]
pub async fn doctors(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<DirectoryQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let all = query.include_unavailable()?;
    let (clinic, specialty) = path.into_inner();
    let clinic = clinic_of(&state, &clinic)?;
    let specialty =
        ids::parse_specialty(&specialty).ok_or_else(|| ApiError::not_found("specialty"))?;
    let mut list: Vec<Doctor> = clinic
        .mis
        .doctors(clinic.lpu, &specialty)
        .await?
        .into_iter()
        .filter(|d| all || d.free_tickets > 0)
        .map(|d| Doctor {
            id: DoctorKey {
                specialty: specialty.clone(),
                doctor: d.id,
            }
            .encode(),
            name: d.name,
            comment: d.comment,
            free_tickets: d.free_tickets,
            nearest_date: d.nearest_date,
        })
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
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

/// Parses a date of the query (`YYYY-MM-DD`) and checks it is in the window around `today`.
fn date_param(
    field: &str,
    value: Option<&str>,
    today: NaiveDate,
) -> Result<Option<NaiveDate>, ApiError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let date = api_types::identity::date_shape(value)
        .ok()
        .and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
        .ok_or_else(|| {
            ApiError::field(
                field,
                "invalid_format",
                "A date must be written YYYY-MM-DD.",
            )
        })?;
    if !crate::state::in_window(date, today) {
        return Err(ApiError::field(
            field,
            "out_of_range",
            "Ask for a date within a year before today and two years after.",
        ));
    }
    Ok(Some(date))
}

/// The range a query names with `from` (default today) and `to` (default 13 days after
/// `from`): at most [`MAX_DATE_RANGE_DAYS`] days, within the window the API serves.
pub(super) fn query_range(
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> Result<DateRange, ApiError> {
    let from = date_param("from", from, today)?.unwrap_or(today);
    let to = match date_param("to", to, today)? {
        Some(to) => to,
        None => from
            .checked_add_days(Days::new(DEFAULT_DATE_RANGE_DAYS - 1))
            .ok_or_else(|| ApiError::field("from", "out_of_range", "The date is too late."))?,
    };
    let range = DateRange::new(from, to)
        .ok_or_else(|| ApiError::field("to", "before_from", "`to` must not be before `from`."))?;
    if range.days() > MAX_DATE_RANGE_DAYS as i64 {
        return Err(ApiError::field(
            "to",
            "range_too_long",
            format!("Ask for at most {MAX_DATE_RANGE_DAYS} days."),
        ));
    }
    Ok(range)
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
#[tracing::instrument(skip(state, req))]
pub async fn dates(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<DatesQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (clinic, doctor) = path.into_inner();
    let clinic = clinic_of(&state, &clinic)?;
    let doctor = doctor_of(&doctor)?;
    let today = clinic.today();
    let range = query_range(query.from.as_deref(), query.to.as_deref(), today)?;
    let (from, to) = (range.from(), range.to());
    let dates = if to < today {
        Vec::new()
    } else {
        let asked = DateRange::new(from.max(today), to).unwrap_or(range);
        clinic
            .mis
            .available_dates(clinic.lpu, &doctor.doctor, asked)
            .await?
    };
    Ok(tagged(&req, &AvailableDates { from, to, dates }))
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
#[tracing::instrument(skip(state, req))]
pub async fn slots(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<SlotsQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (clinic, doctor) = path.into_inner();
    let clinic = clinic_of(&state, &clinic)?;
    let doctor = doctor_of(&doctor)?;
    let date = date_param("date", query.date.as_deref(), clinic.today())?
        .ok_or_else(|| ApiError::field("date", "required", "Name the day: `?date=YYYY-MM-DD`."))?;
    let now = clinic.now();
    let list: Vec<Slot> = if date < now.date() {
        Vec::new()
    } else {
        let day = DateRange::day(date);
        clinic
            .mis
            .slots(clinic.lpu, &doctor.doctor, day)
            .await?
            .into_iter()
            .filter(|s| s.start > now && s.start.date() == date)
            .map(|s| clinic.slot(&doctor, s, None))
            .collect()
    };
    Ok(tagged(&req, &List::from(list)))
}
