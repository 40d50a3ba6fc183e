//! Answers across a region's clinics: the clinics are asked at once (at most [`AT_ONCE`] at a
//! time), each through its own guard (its breaker, the region's caches) and as a part of the
//! request with places of its own ([`crate::context::part`]: a place at that clinic, at the
//! region, at the gateway), under one deadline; the answer lists what came and, for the rest,
//! `clinics_failed`. One slow clinic never slows the answer past the deadline, and never
//! fails it.
//!
//! **What an answer costs.** One answer makes at most [`RegionClinics::max_calls`] МИС calls
//! ([`crate::context::budgeted`]; what the caches hold costs none, and a failure a clinic
//! answered is kept a few seconds too): the clinics it could not afford are listed as
//! `overloaded`, and the next answer, finding the first ones kept, goes further. An answer
//! that could ask no clinic at all is `503 overloaded` with `Retry-After`, never an empty
//! list that would tell the patient there is nothing.

use super::session;
use super::{CatalogueClinic, RegionClinics, fold};
use crate::clinic::ClinicEntry;
use crate::directory;
use crate::failure::Failure;
use crate::gateway::Gateway;
use crate::ids::DoctorKey;
use crate::views::{
    Across, ClinicFailed, ClinicFailure, Doctor, MyClinic, Named, RegionSlot, RegionSpecialty,
};
use futures_util::StreamExt;
use mis::Mis;
use std::collections::HashMap;
use std::future::Future;
use vocabulary::ErrorCode;

/// The most clinics asked at once; the others wait their turn (within the same deadline).
pub const AT_ONCE: usize = 16;
/// The most clinics one answer asks (a district rarely has more; a whole large region is
/// asked district by district).
pub const MAX_ASKED: usize = 200;
/// The most tickets an answer of nearest tickets lists.
pub const MAX_SLOTS: usize = 50;

/// How a clinic's failure shows in `clinics_failed`: a read that used its whole deadline
/// timed out.
fn failure_of(e: &Failure, took: std::time::Duration, clinic: &ClinicEntry) -> ClinicFailure {
    match e.code {
        ErrorCode::MisUnavailable if took >= clinic.mis.deadline() => ClinicFailure::MisTimeout,
        ErrorCode::MisUnavailable => ClinicFailure::MisUnavailable,
        ErrorCode::Overloaded => ClinicFailure::Overloaded,
        _ => ClinicFailure::MisBadResponse,
    }
}

/// Asks each of `clinics` with `ask`, at once, under the region's deadline and within its
/// budget of МИС calls: each answer, in the clinics' order, and the clinics that failed.
/// `overloaded` when not one clinic could be asked (none answered, and every one was
/// refused a place or the budget).
pub async fn ask<'c, T, F, Fut>(
    region: &RegionClinics,
    clinics: impl IntoIterator<Item = &'c CatalogueClinic>,
    ask: F,
) -> Result<(Vec<(ClinicEntry, T)>, Vec<ClinicFailed>), Failure>
where
    F: Fn(ClinicEntry) -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let deadline = tokio::time::Instant::now() + region.deadline;
    let entries: Vec<ClinicEntry> = clinics
        .into_iter()
        .take(MAX_ASKED)
        .map(|c| region.entry_of(c))
        .collect();
    let asked = entries.into_iter().enumerate().map(|(i, entry)| {
        let work = crate::context::part(ask(entry.clone()));
        async move {
            let started = std::time::Instant::now();
            let result = tokio::time::timeout_at(deadline, work).await;
            (i, entry, result, started.elapsed())
        }
    });
    let mut done: Vec<_> = crate::context::budgeted(
        region.max_calls,
        futures_util::stream::iter(asked)
            .buffer_unordered(AT_ONCE)
            .collect(),
    )
    .await;
    done.sort_by_key(|(i, ..)| *i);
    let (mut answered, mut failed) = (Vec::new(), Vec::new());
    for (_, entry, result, took) in done {
        let code = match result {
            Ok(Ok(value)) => {
                answered.push((entry, value));
                continue;
            }
            Ok(Err(e)) => failure_of(&e, took, &entry),
            Err(_) => ClinicFailure::MisTimeout,
        };
        tracing::info!(clinic = %entry.info.id, ?code, "a clinic failed an answer across the region");
        failed.push(ClinicFailed {
            clinic: entry.info.id,
            code,
        });
    }
    if answered.is_empty()
        && !failed.is_empty()
        && failed.iter().all(|f| f.code == ClinicFailure::Overloaded)
    {
        return Err(Failure::from(mis::MisError::Overloaded).detail(
            "Many patients are asking at once; the clinics were not asked. Try again in a few seconds.",
        ));
    }
    Ok((answered, failed))
}

/// The most clinics an answer across clinics may name one by one ([`Scope::clinics`]).
pub const MAX_NAMED_CLINICS: usize = 20;

/// Which of a region's clinics an answer across them asks: its active clinics, of a district
/// where one is given, of those named where they are (a patient's own, «Моя поликлиника»).
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope<'a> {
    pub district: Option<i32>,
    /// At most [`MAX_NAMED_CLINICS`] clinics' ids.
    pub clinics: Option<&'a [String]>,
}

impl Scope<'_> {
    /// Every active clinic of the region.
    pub const REGION: Scope<'static> = Scope {
        district: None,
        clinics: None,
    };

    /// The active clinics of a district.
    pub fn district(district: Option<i32>) -> Self {
        Scope {
            district,
            clinics: None,
        }
    }

    fn holds(&self, c: &CatalogueClinic) -> bool {
        c.active
            && self.district.is_none_or(|d| c.district == Some(d))
            && self.clinics.is_none_or(|ids| ids.contains(&c.id))
    }
}

/// The active clinics of `region`'s catalogue in `scope`: `not_found` for a district or a
/// named clinic the region does not have.
fn active(
    region: &RegionClinics,
    scope: Scope<'_>,
) -> Result<std::sync::Arc<super::Snapshot>, Failure> {
    let snapshot = region.catalogue.snapshot().ok_or_else(|| {
        Failure::new(ErrorCode::MisUnavailable)
            .detail("The region's hub has not answered yet; try again in a minute.")
    })?;
    if let Some(d) = scope.district
        && !snapshot.districts.iter().any(|x| x.id == d)
    {
        return Err(Failure::not_found("district"));
    }
    if let Some(ids) = scope.clinics {
        if ids.is_empty() || ids.len() > MAX_NAMED_CLINICS {
            return Err(Failure::new(ErrorCode::InvalidInput)
                .detail(format!("Name from 1 to {MAX_NAMED_CLINICS} clinics.")));
        }
        if !ids
            .iter()
            .all(|id| snapshot.clinics.iter().any(|c| &c.id == id))
        {
            return Err(Failure::not_found("clinic"));
        }
    }
    Ok(snapshot)
}

/// The specialties with free tickets of the region's clinics in `scope`, merged by name
/// (case, «ё» and spacing aside), by name.
pub async fn specialties(
    region: &RegionClinics,
    scope: Scope<'_>,
) -> Result<Across<RegionSpecialty>, Failure> {
    let snapshot = active(region, scope)?;
    let clinics = snapshot.clinics.iter().filter(|c| scope.holds(c));
    let (answered, clinics_failed) = ask(region, clinics, |clinic| async move {
        directory::specialties(&clinic, false).await
    })
    .await?;
    let mut merged: HashMap<String, RegionSpecialty> = HashMap::new();
    for (clinic, list) in answered {
        for s in list {
            let entry = merged
                .entry(fold(&s.name))
                .or_insert_with(|| RegionSpecialty {
                    name: s.name.clone(),
                    free_tickets: Some(0),
                    nearest_date: None,
                    clinics: Vec::new(),
                });
            // A count one clinic does not say makes the sum unknown.
            entry.free_tickets = entry
                .free_tickets
                .zip(s.free_tickets)
                .map(|(a, b)| a.saturating_add(b));
            entry.nearest_date = match (entry.nearest_date, s.nearest_date) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if !entry.clinics.contains(&clinic.info.id) {
                entry.clinics.push(clinic.info.id.clone());
            }
        }
    }
    let mut items: Vec<RegionSpecialty> = merged.into_values().collect();
    items.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Across {
        items,
        clinics_failed,
    })
}

/// How many days of a clinic a nearest-tickets answer tries, soonest first, before it says the
/// clinic has none (a day whose tickets have all passed is the usual reason to try the next).
const DAYS_TRIED: usize = 3;

/// A clinic's nearest free tickets of the specialty named `wanted` (folded): those of the
/// soonest day any of its doctors has a ticket still ahead, at most `limit`. A doctor's days
/// are the nearest date its МИС gives, else (a МИС may leave it out, or it may have passed)
/// the dates it lists for the next two weeks (`GetAvailableDates`, as the clinic's own flow
/// asks them).
async fn nearest_in(
    clinic: &ClinicEntry,
    wanted: &str,
    limit: usize,
) -> Result<Vec<RegionSlot>, Failure> {
    let specialties = directory::specialties(clinic, false).await?;
    let Some(specialty) = specialties.into_iter().find(|s| fold(&s.name) == wanted) else {
        return Ok(Vec::new());
    };
    let doctors: Vec<(DoctorKey, Doctor)> = directory::doctors(clinic, &specialty.id, false)
        .await?
        .into_iter()
        .filter_map(|d| Some((DoctorKey::parse(&d.id)?, d)))
        .collect();
    let (today, now) = (clinic.today(), clinic.now());
    // (day, doctor, whether the doctor's days are all listed or only its nearest one).
    let mut days: Vec<(chrono::NaiveDate, usize, bool)> = Vec::new();
    for (i, (key, doctor)) in doctors.iter().enumerate() {
        match doctor.nearest_date.filter(|d| *d >= today) {
            Some(day) => days.push((day, i, false)),
            None => days.extend(
                dates_of(clinic, key, today)
                    .await?
                    .into_iter()
                    .map(|d| (d, i, true)),
            ),
        }
    }
    for _ in 0..DAYS_TRIED {
        days.sort();
        let Some(&(day, ..)) = days.first() else {
            break;
        };
        let on_day: Vec<(usize, bool)> = days
            .iter()
            .filter(|(d, ..)| *d == day)
            .map(|&(_, i, listed)| (i, listed))
            .collect();
        days.retain(|(d, ..)| *d != day);
        let mut slots = Vec::new();
        for &(i, listed) in &on_day {
            let (key, doctor) = &doctors[i];
            let before = slots.len();
            let free = clinic
                .mis
                .slots(clinic.lpu, &key.doctor, mis::DateRange::day(day))
                .await?;
            slots.extend(
                free.into_iter()
                    .filter(|s| s.start > now && s.start.date() == day)
                    .map(|s| RegionSlot {
                        clinic: Named {
                            id: clinic.info.id.clone(),
                            name: clinic.info.name.clone(),
                        },
                        slot: clinic.slot(key, s, Some(&doctor.name)),
                    }),
            );
            if !listed && slots.len() == before {
                // Only its nearest day was known, and it has passed: its later ones.
                let later = dates_of(clinic, key, today).await?;
                days.extend(later.into_iter().filter(|d| *d > day).map(|d| (d, i, true)));
            }
        }
        if !slots.is_empty() {
            slots.sort_by_key(|s| s.slot.start);
            slots.truncate(limit);
            return Ok(slots);
        }
    }
    Ok(Vec::new())
}

/// The days with free tickets of the doctor `key` from `today` for the default range (two
/// weeks), as the clinic's own flow lists them.
async fn dates_of(
    clinic: &ClinicEntry,
    key: &DoctorKey,
    today: chrono::NaiveDate,
) -> Result<Vec<chrono::NaiveDate>, Failure> {
    let to = today + chrono::Days::new(directory::DEFAULT_DATE_RANGE_DAYS - 1);
    let Some(range) = mis::DateRange::new(today, to) else {
        return Ok(Vec::new());
    };
    Ok(clinic
        .mis
        .available_dates(clinic.lpu, &key.doctor, range)
        .await?)
}

/// The nearest free tickets of the specialty named `specialty` across the region's clinics
/// in `scope`, by time, at most `limit` (1 to [`MAX_SLOTS`]).
pub async fn nearest(
    region: &RegionClinics,
    scope: Scope<'_>,
    specialty: &str,
    limit: usize,
) -> Result<Across<RegionSlot>, Failure> {
    let snapshot = active(region, scope)?;
    let wanted = fold(specialty);
    let limit = limit.clamp(1, MAX_SLOTS);
    let clinics = snapshot.clinics.iter().filter(|c| scope.holds(c));
    let wanted = &wanted;
    let (answered, clinics_failed) = ask(region, clinics, |clinic| async move {
        nearest_in(&clinic, wanted, limit).await
    })
    .await?;
    let mut items: Vec<RegionSlot> = answered.into_iter().flat_map(|(_, s)| s).collect();
    items.sort_by_key(|s| s.slot.start);
    items.truncate(limit);
    Ok(Across {
        items,
        clinics_failed,
    })
}

/// «Моя поликлиника»: the clinics of the region (of `district`) the patient of the region
/// session `token` is attached to, with their areas. `patient_not_found` when no clinic that
/// answered knows the patient and none failed.
pub async fn mine(
    gateway: &Gateway,
    region: &RegionClinics,
    token: &str,
    district: Option<i32>,
) -> Result<Across<MyClinic>, Failure> {
    let base = session::of_region(gateway, region, token).await?;
    let scope = Scope::district(district);
    let snapshot = active(region, scope)?;
    let clinics = snapshot.clinics.iter().filter(|c| scope.holds(c));
    let base = &base;
    let (answered, clinics_failed) = ask(region, clinics, |clinic| async move {
        let session = match session::find_in(gateway, region, token, base, &clinic).await {
            Ok(session) => session,
            Err(e) if e.code == ErrorCode::PatientNotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let areas = clinic
            .mis
            .areas(region.hub.as_ref(), clinic.lpu, &session.patient)
            .await?;
        Ok(Some(areas))
    })
    .await?;
    let known = answered.iter().filter(|(_, a)| a.is_some()).count();
    if known == 0 && clinics_failed.is_empty() {
        return Err(mis::MisError::PatientNotFound.into());
    }
    let items = answered
        .into_iter()
        .filter_map(|(clinic, areas)| {
            let areas = areas.filter(|a| !a.is_empty())?;
            let listed = snapshot.clinics.iter().find(|c| c.id == clinic.info.id)?;
            Some(MyClinic {
                clinic: listed.clone(),
                areas,
            })
        })
        .collect();
    Ok(Across {
        items,
        clinics_failed,
    })
}
