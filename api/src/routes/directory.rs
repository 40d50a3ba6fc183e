//! The directory of the flow: clinics, specialties, doctors, dates and free slots.

use super::MisFailures;
use crate::error::ApiError;
use crate::ids::{self, DoctorKey, SlotKey};
use crate::state::{AppState, ClinicEntry};
use actix_web::{HttpResponse, web};
use api_types::{AvailableDates, Clinic, Doctor, List, Problem, Slot, Specialty};
use chrono::NaiveDate;
use mis::{DateRange, Mis};
use serde::Deserialize;

/// The longest range of dates one request may ask for.
pub const MAX_DATE_RANGE_DAYS: i64 = 92;
/// The default range of dates: the next two weeks.
pub const DEFAULT_DATE_RANGE_DAYS: i64 = 14;

fn clinic_of<'a>(state: &'a AppState, path: &str) -> Result<&'a ClinicEntry, ApiError> {
    state.clinic(path)
}

fn doctor_of(path: &str) -> Result<DoctorKey, ApiError> {
    DoctorKey::parse(path).ok_or_else(|| ApiError::not_found("doctor"))
}

/// The clinics this gateway serves.
#[utoipa::path(get, path = "/api/v1/clinics", tag = "directory", responses((status = 200, body = List<Clinic>)))]
pub async fn clinics(state: web::Data<AppState>) -> HttpResponse {
    let list: List<Clinic> = state
        .clinics()
        .iter()
        .map(|c| c.info.clone())
        .collect::<Vec<_>>()
        .into();
    HttpResponse::Ok().json(list)
}

/// The clinic's specialties that have free tickets, by name.
#[utoipa::path(
    get,
    path = "/api/v1/clinics/{clinic}/specialties",
    tag = "directory",
    params(("clinic" = String, Path, description = "The clinic's id")),
    responses(
        (status = 200, body = List<Specialty>),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`not_found`"),
        MisFailures,
    )
)]
#[tracing::instrument(skip(state))]
pub async fn specialties(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let clinic = clinic_of(&state, &path)?;
    let mut list: Vec<Specialty> = clinic
        .mis
        .specialties(clinic.lpu)
        .await?
        .into_iter()
        .filter(|s| s.free_tickets > 0)
        .map(|s| Specialty {
            id: ids::specialty(&s.id),
            name: s.name,
            free_tickets: s.free_tickets,
            nearest_date: s.nearest_date,
        })
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(HttpResponse::Ok().json(List::from(list)))
}

/// The doctors of a specialty that have free tickets, by name.
#[utoipa::path(
    get,
    path = "/api/v1/clinics/{clinic}/specialties/{specialty}/doctors",
    tag = "directory",
    params(
        ("clinic" = String, Path, description = "The clinic's id"),
        ("specialty" = String, Path, description = "The specialty's id"),
    ),
    responses(
        (status = 200, body = List<Doctor>),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`not_found`"),
        MisFailures,
    )
)]
#[tracing::instrument(skip(state))]
pub async fn doctors(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (clinic, specialty) = path.into_inner();
    let clinic = clinic_of(&state, &clinic)?;
    let specialty =
        ids::parse_specialty(&specialty).ok_or_else(|| ApiError::not_found("specialty"))?;
    let mut list: Vec<Doctor> = clinic
        .mis
        .doctors(clinic.lpu, &specialty)
        .await?
        .into_iter()
        .filter(|d| d.free_tickets > 0)
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
    Ok(HttpResponse::Ok().json(List::from(list)))
}

/// The range of `/dates`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DatesQuery {
    /// First date (`YYYY-MM-DD`, clinic zone); default today.
    from: Option<String>,
    /// Last date, included; default 13 days after `from`. At most 92 days in all.
    to: Option<String>,
}

fn date_param(field: &str, value: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    value
        .map(|v| {
            NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| {
                ApiError::field(
                    field,
                    "invalid_format",
                    "A date must be written YYYY-MM-DD.",
                )
            })
        })
        .transpose()
}

/// The dates on which the doctor has free tickets.
#[utoipa::path(
    get,
    path = "/api/v1/clinics/{clinic}/doctors/{doctor}/dates",
    tag = "directory",
    params(
        ("clinic" = String, Path, description = "The clinic's id"),
        ("doctor" = String, Path, description = "The doctor's id"),
        DatesQuery,
    ),
    responses(
        (status = 200, body = AvailableDates),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`not_found`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`invalid_input`"),
        MisFailures,
    )
)]
#[tracing::instrument(skip(state))]
pub async fn dates(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<DatesQuery>,
) -> Result<HttpResponse, ApiError> {
    let (clinic, doctor) = path.into_inner();
    let clinic = clinic_of(&state, &clinic)?;
    let doctor = doctor_of(&doctor)?;
    let today = clinic.today();
    let from = date_param("from", query.from.as_deref())?.unwrap_or(today);
    let to = date_param("to", query.to.as_deref())?
        .unwrap_or(from + chrono::Duration::days(DEFAULT_DATE_RANGE_DAYS - 1));
    let range = DateRange::new(from, to)
        .ok_or_else(|| ApiError::field("to", "before_from", "`to` must not be before `from`."))?;
    if range.days() > MAX_DATE_RANGE_DAYS {
        return Err(ApiError::field(
            "to",
            "range_too_long",
            format!("Ask for at most {MAX_DATE_RANGE_DAYS} days."),
        ));
    }
    let dates = if to < today {
        Vec::new()
    } else {
        let asked = DateRange::new(from.max(today), to).unwrap_or(range);
        clinic
            .mis
            .available_dates(clinic.lpu, &doctor.doctor, asked)
            .await?
    };
    Ok(HttpResponse::Ok().json(AvailableDates { from, to, dates }))
}

/// The day of `/slots`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotsQuery {
    /// The day (`YYYY-MM-DD`, clinic zone).
    date: Option<String>,
}

/// The doctor's free tickets of one day, by time.
#[utoipa::path(
    get,
    path = "/api/v1/clinics/{clinic}/doctors/{doctor}/slots",
    tag = "directory",
    params(
        ("clinic" = String, Path, description = "The clinic's id"),
        ("doctor" = String, Path, description = "The doctor's id"),
        SlotsQuery,
    ),
    responses(
        (status = 200, body = List<Slot>),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`not_found`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`invalid_input`"),
        MisFailures,
    )
)]
#[tracing::instrument(skip(state))]
pub async fn slots(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<SlotsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (clinic, doctor) = path.into_inner();
    let clinic = clinic_of(&state, &clinic)?;
    let doctor = doctor_of(&doctor)?;
    let date = date_param("date", query.date.as_deref())?
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
            .map(|s| Slot {
                id: SlotKey {
                    doctor: doctor.clone(),
                    appointment: s.id,
                    date,
                }
                .encode(),
                start: clinic.localize(s.start),
                end: clinic.localize(s.end),
                room: s.room,
                address: s.address,
                number: s.number,
            })
            .collect()
    };
    Ok(HttpResponse::Ok().json(List::from(list)))
}
