//! The directory of the flow, as the patient sees it: clinics, specialties and doctors (by name,
//! those with free tickets, or all), the dates a doctor has free tickets, and a day's free
//! tickets; and the date ranges a request may name.

use crate::clinic::{ClinicEntry, in_window};
use crate::failure::Failure;
use crate::ids::{self, DoctorKey};
use crate::views::{Dates, Doctor, Slot, Specialty};
use chrono::{Days, NaiveDate};
use mis::{DateRange, Mis, SpecialtyId};

/// The longest range of dates one request may ask for.
pub const MAX_DATE_RANGE_DAYS: u64 = 92;
/// The default range of dates: the next two weeks.
pub const DEFAULT_DATE_RANGE_DAYS: u64 = 14;

/// The clinic's specialties as the patient sees them: by name, those with free tickets (with
/// `all`, every one).
pub async fn specialties(clinic: &ClinicEntry, all: bool) -> Result<Vec<Specialty>, Failure> {
    let mut list: Vec<Specialty> = clinic
        .mis
        .specialties(clinic.lpu)
        .await?
        .into_iter()
        .filter(|s| all || s.free_tickets.is_none_or(|n| n > 0))
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

/// The doctors of the specialty whose public id is `specialty`, by name: those with free
/// tickets (with `all`, every one).
pub async fn doctors(
    clinic: &ClinicEntry,
    specialty: &str,
    all: bool,
) -> Result<Vec<Doctor>, Failure> {
    let specialty: SpecialtyId =
        ids::parse_specialty(specialty).ok_or_else(|| Failure::not_found("specialty"))?;
    let mut list: Vec<Doctor> = clinic
        .mis
        .doctors(clinic.lpu, &specialty)
        .await?
        .into_iter()
        .filter(|d| all || d.free_tickets.is_none_or(|n| n > 0))
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
    Ok(list)
}

fn doctor_of(public: &str) -> Result<DoctorKey, Failure> {
    DoctorKey::parse(public).ok_or_else(|| Failure::not_found("doctor"))
}

/// The dates from `from` to `to` (as a query names them) on which the doctor whose public id is
/// `doctor` has free tickets.
pub async fn dates(
    clinic: &ClinicEntry,
    doctor: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Dates, Failure> {
    let doctor = doctor_of(doctor)?;
    let today = clinic.today();
    let range = query_range(from, to, today)?;
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
    Ok(Dates { from, to, dates })
}

/// The free tickets of the doctor whose public id is `doctor` on `date` (as a query names it),
/// by time.
pub async fn slots(
    clinic: &ClinicEntry,
    doctor: &str,
    date: Option<&str>,
) -> Result<Vec<Slot>, Failure> {
    let doctor = doctor_of(doctor)?;
    let date = date_param("date", date, clinic.today())?
        .ok_or_else(|| Failure::field("date", "required", "Name the day: `?date=YYYY-MM-DD`."))?;
    let now = clinic.now();
    if date < now.date() {
        return Ok(Vec::new());
    }
    Ok(clinic
        .mis
        .slots(clinic.lpu, &doctor.doctor, DateRange::day(date))
        .await?
        .into_iter()
        .filter(|s| s.start > now && s.start.date() == date)
        .map(|s| clinic.slot(&doctor, s, None))
        .collect())
}

/// Parses a date of the query (`YYYY-MM-DD`) and checks it is in the window around `today`.
fn date_param(
    field: &str,
    value: Option<&str>,
    today: NaiveDate,
) -> Result<Option<NaiveDate>, Failure> {
    let Some(value) = value else {
        return Ok(None);
    };
    let date = vocabulary::identity::date_shape(value)
        .ok()
        .and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
        .ok_or_else(|| {
            Failure::field(
                field,
                "invalid_format",
                "A date must be written YYYY-MM-DD.",
            )
        })?;
    if !in_window(date, today) {
        return Err(Failure::field(
            field,
            "out_of_range",
            "Ask for a date within a year before today and two years after.",
        ));
    }
    Ok(Some(date))
}

/// The range a query names with `from` (default today) and `to` (default 13 days after
/// `from`): at most [`MAX_DATE_RANGE_DAYS`] days, within the window the API serves.
pub fn query_range(
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> Result<DateRange, Failure> {
    let from = date_param("from", from, today)?.unwrap_or(today);
    let to = match date_param("to", to, today)? {
        Some(to) => to,
        None => from
            .checked_add_days(Days::new(DEFAULT_DATE_RANGE_DAYS - 1))
            .ok_or_else(|| Failure::field("from", "out_of_range", "The date is too late."))?,
    };
    let range = DateRange::new(from, to)
        .ok_or_else(|| Failure::field("to", "before_from", "`to` must not be before `from`."))?;
    if range.days() > MAX_DATE_RANGE_DAYS as i64 {
        return Err(Failure::field(
            "to",
            "range_too_long",
            format!("Ask for at most {MAX_DATE_RANGE_DAYS} days."),
        ));
    }
    Ok(range)
}
