//! The waiting list («лист ожидания»): the patient asks to be called when a ticket of a
//! specialty (or of one doctor) is found, within the days that suit; the МИС keeps the
//! request (the hub's `PARequest` family) until it is served or withdrawn.
//!
//! The phone number is personal data, under the same rules as the identity fields: parsed
//! here, passed to the МИС, never logged, echoed or kept by the gateway.

use crate::clinic::ClinicEntry;
use crate::failure::FieldError;
use crate::failure::{Failure, field_error};
use crate::gateway::Gateway;
use crate::ids::{self, DoctorKey};
use crate::outcome;
use crate::sessions::Session;
use crate::views::{Named, WaitingRequest};
use chrono::{Days, NaiveDate};
use mis::{DateRange, Doctor, Mis, PhoneNumber, Specialty, SpecialtyId, WaitingId, WaitingReason};
use std::sync::Arc;
use vocabulary::ErrorCode;

/// The most requests one patient may have on a clinic's waiting list at once.
pub const MAX_REQUESTS_PER_PATIENT: usize = 5;

/// The longest span of days a request may name.
pub const MAX_WINDOW_DAYS: u64 = 92;

/// A request as typed: the specialty's and the doctor's public ids, the phone, and the days
/// that suit (`YYYY-MM-DD`), parsed by [`parse`]. Personal data: its `Debug` shows no phone.
#[derive(Clone, PartialEq, Eq)]
pub struct TypedRequest {
    pub specialty_id: String,
    pub doctor_id: Option<String>,
    pub phone: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl std::fmt::Debug for TypedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedRequest")
            .field("specialty_id", &self.specialty_id)
            .field("doctor_id", &self.doctor_id)
            .field("from", &self.from)
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

/// A request, parsed.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub specialty: SpecialtyId,
    pub doctor: Option<DoctorKey>,
    pub phone: PhoneNumber,
    pub window: Option<DateRange>,
}

fn date_field(field: &str, value: &str, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    let date = vocabulary::identity::date_shape(value)
        .ok()
        .and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
        .ok_or_else(|| {
            field_error(
                field,
                "invalid_format",
                "A date must be written YYYY-MM-DD.",
            )
        })?;
    if date < today {
        return Err(field_error(field, "in_past", "Name a day from today on."));
    }
    if !crate::clinic::in_window(date, today) {
        return Err(field_error(
            field,
            "out_of_range",
            "Name a day within two years after today.",
        ));
    }
    Ok(date)
}

/// Parses a request, reporting every field that cannot be accepted.
pub fn parse(new: &TypedRequest, today: NaiveDate) -> Result<NewRequest, Failure> {
    let mut fields = Vec::new();
    let specialty = if ids::well_formed(&new.specialty_id) {
        ids::parse_specialty(&new.specialty_id)
    } else {
        fields.push(field_error(
            "specialty_id",
            "invalid_format",
            "A specialty id is 1 to 2048 letters, digits, dashes and underscores.",
        ));
        None
    };
    let doctor = match &new.doctor_id {
        None => None,
        Some(d) if ids::well_formed(d) => Some(DoctorKey::parse(d)),
        Some(_) => {
            fields.push(field_error(
                "doctor_id",
                "invalid_format",
                "A doctor id is 1 to 2048 letters, digits, dashes and underscores.",
            ));
            None
        }
    };
    let phone = PhoneNumber::parse(&new.phone)
        .map_err(|e| {
            fields.push(field_error(
                "phone",
                e.reason(),
                "A Russian phone number: +7 (or 8) and ten digits.",
            ));
        })
        .ok();
    let from = new
        .from
        .as_deref()
        .map(|v| date_field("from", v, today))
        .transpose()
        .map_err(|e| fields.push(e))
        .ok()
        .flatten();
    let to = new
        .to
        .as_deref()
        .map(|v| date_field("to", v, today))
        .transpose()
        .map_err(|e| fields.push(e))
        .ok()
        .flatten();
    let window = match (from, to, new.from.is_some() || new.to.is_some()) {
        (_, _, false) => None,
        (from, to, true) => {
            let from = from.unwrap_or(today);
            let to = to.or_else(|| from.checked_add_days(Days::new(MAX_WINDOW_DAYS - 1)));
            match to.and_then(|to| DateRange::new(from, to)) {
                Some(w) if w.days() <= MAX_WINDOW_DAYS as i64 => Some(w),
                Some(_) => {
                    fields.push(field_error(
                        "to",
                        "range_too_long",
                        format!("Name at most {MAX_WINDOW_DAYS} days."),
                    ));
                    None
                }
                None => {
                    if fields.iter().all(|f| f.field != "to" && f.field != "from") {
                        fields.push(field_error(
                            "to",
                            "before_from",
                            "`to` must not be before `from`.",
                        ));
                    }
                    None
                }
            }
        }
    };
    if !fields.is_empty() {
        return Err(Failure::invalid(fields));
    }
    let specialty = specialty.ok_or_else(|| Failure::not_found("specialty"))?;
    let doctor = match doctor {
        None => None,
        Some(Some(key)) if key.specialty == specialty => Some(key),
        Some(_) => return Err(Failure::not_found("doctor of this specialty")),
    };
    let phone = phone.ok_or_else(|| Failure::internal("a phone error was not reported"))?;
    Ok(NewRequest {
        specialty,
        doctor,
        phone,
        window,
    })
}

/// Puts the session's patient on the waiting list. The reason follows from the directory: no
/// doctor of the specialty, no free ticket (of the doctor, or of the specialty), or tickets at
/// times that do not suit.
pub async fn join(
    gateway: Arc<Gateway>,
    clinic: ClinicEntry,
    session: Session,
    new: NewRequest,
) -> Result<WaitingRequest, Failure> {
    let result = join_once(&gateway, &clinic, session, new).await;
    let outcome = match &result {
        Ok(_) => "joined",
        Err(e) => e.code.as_str(),
    };
    crate::metrics::waiting_list(clinic.mis.label(), "join", outcome);
    result
}

/// What a request waits for: the specialty, the doctor (if one is named) and why.
struct Wanted {
    specialty: Specialty,
    doctor: Option<Doctor>,
    reason: WaitingReason,
}

/// The specialty and doctor `new` names, from the directory, and why the patient waits.
async fn wanted(clinic: &ClinicEntry, new: &NewRequest) -> Result<Wanted, Failure> {
    let specialty = clinic
        .mis
        .specialties(clinic.lpu)
        .await?
        .into_iter()
        .find(|s| s.id == new.specialty)
        .ok_or_else(|| Failure::not_found("specialty"))?;
    let doctors = clinic.mis.doctors(clinic.lpu, &specialty.id).await?;
    let doctor = match &new.doctor {
        None => None,
        Some(key) => Some(
            doctors
                .iter()
                .find(|d| d.id == key.doctor)
                .cloned()
                .ok_or_else(|| Failure::not_found("doctor"))?,
        ),
    };
    let free = doctor
        .as_ref()
        .map_or(specialty.free_tickets, |d| d.free_tickets);
    let reason = if doctors.is_empty() {
        WaitingReason::NoSpecialist
    } else if free == Some(0) {
        WaitingReason::NoFreeTickets
    } else {
        WaitingReason::NoConvenientTime
    };
    Ok(Wanted {
        specialty,
        doctor,
        reason,
    })
}

/// The waiting list's rules for the patient's `active` requests: one per specialty and
/// doctor, at most [`MAX_REQUESTS_PER_PATIENT`].
fn admits(active: &[mis::WaitingEntry], wanted: &Wanted) -> Result<(), Failure> {
    let doctor = wanted.doctor.as_ref().map(|d| &d.id);
    if active.iter().any(|e| {
        e.specialty_id.as_ref() == Some(&wanted.specialty.id) && e.doctor_id.as_ref() == doctor
    }) {
        return Err(Failure::new(ErrorCode::AlreadyOnWaitingList).detail(
            "The patient is already waiting for this specialty (and doctor); see «My visits».",
        ));
    }
    if active.len() >= MAX_REQUESTS_PER_PATIENT {
        return Err(Failure::new(ErrorCode::WaitingListFull).detail(format!(
            "A patient may wait for at most {MAX_REQUESTS_PER_PATIENT} things at once; withdraw one first."
        )));
    }
    Ok(())
}

async fn join_once(
    gateway: &Gateway,
    clinic: &ClinicEntry,
    session: Session,
    new: NewRequest,
) -> Result<WaitingRequest, Failure> {
    let wanted = wanted(clinic, &new).await?;
    // From the list to the registration, the patient's other requests wait: the caps hold
    // however many arrive at once.
    let held = gateway.patient_lock(clinic, &session).await?;
    let active = clinic
        .mis
        .waiting_list(clinic.lpu, &session.patient)
        .await?;
    admits(&active, &wanted)?;
    let Wanted {
        specialty,
        doctor,
        reason,
    } = wanted;
    let request = mis::WaitingRequest {
        patient: session.patient.clone(),
        specialty: specialty.id.clone(),
        specialty_name: specialty.name.clone(),
        specialty_code: specialty.federal_code.clone(),
        doctor: doctor.as_ref().map(|d| (d.id.clone(), d.name.clone())),
        phone: new.phone,
        window: new.window,
        reason,
    };
    // Once asked, the МИС call runs to its end whatever the client does; a lost answer is read
    // back: a request of this specialty and doctor that was not there before is this one.
    let (task_clinic, before): (ClinicEntry, Vec<WaitingId>) = (
        clinic.clone(),
        active.iter().map(|e| e.id.clone()).collect(),
    );
    let id = gateway
        .writes
        .run(async move {
            let _held = held;
            let clinic = task_clinic;
            match clinic.mis.join_waiting_list(clinic.lpu, &request).await {
                Ok(id) => Ok(id),
                Err(lost @ mis::MisError::OutcomeUnknown(_)) => {
                    outcome::lost_join(&clinic, &request, &before, lost).await
                }
                Err(e) => Err(e.into()),
            }
        })
        .await?;
    tracing::info!(clinic = %clinic.info.id, "patient put on the waiting list");
    Ok(WaitingRequest {
        id: ids::waiting(&id),
        specialty: Named {
            id: ids::specialty(&specialty.id),
            name: specialty.name,
        },
        doctor: doctor.map(|d| Named {
            id: DoctorKey {
                specialty: specialty.id.clone(),
                doctor: d.id,
            }
            .encode(),
            name: d.name,
        }),
        from: new.window.map(DateRange::from),
        to: new.window.map(DateRange::to),
        // To the second, as the МИС lists it.
        created_at: Some(clinic.localize(
            chrono::Timelike::with_nanosecond(&clinic.now(), 0).unwrap_or_else(|| clinic.now()),
        )),
        reason: Some(reason),
    })
}

/// The session's patient's requests on the waiting list, oldest first.
pub async fn list(clinic: &ClinicEntry, session: &Session) -> Result<Vec<WaitingRequest>, Failure> {
    let entries = clinic
        .mis
        .waiting_list(clinic.lpu, &session.patient)
        .await?;
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let specialties = clinic.mis.specialties(clinic.lpu).await?;
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let Some(specialty_id) = e.specialty_id.clone() else {
            continue;
        };
        let specialty_name = e.specialty_name.clone().or_else(|| {
            specialties
                .iter()
                .find(|s| s.id == specialty_id)
                .map(|s| s.name.clone())
        });
        let doctor = match &e.doctor_id {
            None => None,
            Some(id) => {
                let name = match &e.doctor_name {
                    Some(n) => Some(n.clone()),
                    None => clinic
                        .mis
                        .doctors(clinic.lpu, &specialty_id)
                        .await?
                        .into_iter()
                        .find(|d| d.id == *id)
                        .map(|d| d.name),
                };
                Some(Named {
                    id: DoctorKey {
                        specialty: specialty_id.clone(),
                        doctor: id.clone(),
                    }
                    .encode(),
                    name: name.unwrap_or_default(),
                })
            }
        };
        out.push(WaitingRequest {
            id: ids::waiting(&e.id),
            specialty: Named {
                id: ids::specialty(&specialty_id),
                name: specialty_name.unwrap_or_default(),
            },
            doctor,
            from: e.window.map(DateRange::from),
            to: e.window.map(DateRange::to),
            created_at: e.created.map(|c| clinic.localize(c)),
            reason: e.reason,
        });
    }
    Ok(out)
}

/// Withdraws one of the session's patient's requests: it must be the patient's own.
pub async fn leave(
    gateway: Arc<Gateway>,
    clinic: ClinicEntry,
    session: Session,
    id: WaitingId,
) -> Result<(), Failure> {
    let result = leave_once(&gateway, &clinic, &session, id).await;
    let outcome = match &result {
        Ok(()) => "left",
        Err(e) => e.code.as_str(),
    };
    crate::metrics::waiting_list(clinic.mis.label(), "leave", outcome);
    result
}

async fn leave_once(
    gateway: &Gateway,
    clinic: &ClinicEntry,
    session: &Session,
    id: WaitingId,
) -> Result<(), Failure> {
    let held = gateway.patient_lock(clinic, session).await?;
    let own = clinic
        .mis
        .waiting_list(clinic.lpu, &session.patient)
        .await?
        .into_iter()
        .any(|e| e.id == id);
    if !own {
        return Err(Failure::not_found("waiting-list request"));
    }
    let (clinic_of_task, patient) = (clinic.clone(), session.patient.clone());
    gateway
        .writes
        .run(async move {
            let _held = held;
            let clinic = clinic_of_task;
            match clinic.mis.leave_waiting_list(clinic.lpu, &id).await {
                Ok(()) => Ok(()),
                Err(lost @ mis::MisError::OutcomeUnknown(_)) => {
                    outcome::lost_leave(&clinic, &patient, &id, lost).await
                }
                Err(e) => Err(e.into()),
            }
        })
        .await?;
    tracing::info!(clinic = %clinic.info.id, "waiting-list request withdrawn");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).expect("a real date")
    }

    fn request(phone: &str, from: Option<&str>, to: Option<&str>) -> TypedRequest {
        TypedRequest {
            specialty_id: ids::specialty(&SpecialtyId::parse("10").expect("an id")),
            doctor_id: None,
            phone: phone.into(),
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
        }
    }

    #[test]
    fn every_field_error_is_reported_at_once_without_the_values() {
        let mut bad = request("12345", Some("2026-11-20"), Some("2026-02-30"));
        bad.specialty_id = "not an id!".into();
        let err = parse(&bad, today()).expect_err("four faults");
        let fields: Vec<_> = err
            .fields
            .iter()
            .map(|f| (f.field.as_str(), f.reason.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("specialty_id", "invalid_format"),
                ("phone", "invalid_format"),
                ("from", "in_past"),
                ("to", "invalid_format")
            ]
        );
        let shown = format!("{err:?} {err}");
        assert!(!shown.contains("12345"), "{shown}");
    }

    /// The window a request names, by the rules written out once more here: `from` and `to`
    /// each a day from today within the clinic's window, `from` today by default, `to` 91
    /// days after `from` by default, `to` not before `from`, at most 92 days.
    fn expected_window(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Option<Option<(NaiveDate, NaiveDate)>> {
        let day_ok = |d: Option<NaiveDate>| {
            d.is_none_or(|d| d >= today() && crate::clinic::in_window(d, today()))
        };
        if !day_ok(from) || !day_ok(to) {
            return None;
        }
        if from.is_none() && to.is_none() {
            return Some(None);
        }
        let f = from.unwrap_or(today());
        let t = to.unwrap_or(f + Days::new(MAX_WINDOW_DAYS - 1));
        (t >= f && (t - f).num_days() < MAX_WINDOW_DAYS as i64).then_some(Some((f, t)))
    }

    #[test]
    fn windows_near_the_bounds_are_accepted_exactly_as_the_rules_say() {
        // A fixed generator: the same 4 000 cases every run.
        let mut g = vocabulary::near::Gen(0x9e37_79b9_7f4a_7c15);
        let mut below = |n: u64| g.below(n);
        let mut accepted = 0;
        for _ in 0..4_000 {
            // Days around today, the month ends (29th to 31st) and the window's bounds.
            let from = (below(4) > 0).then(|| today() + Days::new(below(800)) - Days::new(20));
            let to = (below(4) > 0)
                .then(|| from.unwrap_or(today()) + Days::new(below(110)) - Days::new(8));
            let text = |d: Option<NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
            let got = parse(
                &request("+79161234567", text(from).as_deref(), text(to).as_deref()),
                today(),
            )
            .map(|r| r.window.map(|w| (w.from(), w.to())))
            .ok();
            assert_eq!(got, expected_window(from, to), "from {from:?}, to {to:?}");
            accepted += usize::from(got.is_some());
        }
        assert!(
            (800..=3_800).contains(&accepted),
            "{accepted} of 4 000 accepted"
        );
    }

    #[test]
    fn a_window_is_completed_from_either_end_and_bounded() {
        let w = parse(&request("+79161234567", Some("2026-12-01"), None), today())
            .expect("valid")
            .window
            .expect("a window");
        assert_eq!(
            (w.from(), w.days()),
            (NaiveDate::from_ymd_opt(2026, 12, 1).expect("a date"), 92)
        );
        let w = parse(&request("+79161234567", None, Some("2026-12-01")), today())
            .expect("valid")
            .window
            .expect("a window");
        assert_eq!(w.from(), today());
        assert!(
            parse(&request("+79161234567", None, None), today())
                .expect("valid")
                .window
                .is_none()
        );
        let err = parse(
            &request("+79161234567", Some("2026-12-10"), Some("2026-12-01")),
            today(),
        )
        .expect_err("reversed");
        assert_eq!(err.fields[0].reason, "before_from");
        let err = parse(
            &request("+79161234567", Some("2026-12-01"), Some("2027-06-01")),
            today(),
        )
        .expect_err("too long");
        assert_eq!(err.fields[0].reason, "range_too_long");
    }

    #[test]
    fn a_sixth_request_is_refused_and_a_second_for_the_same_thing_too() {
        let specialty = |id: &str| mis::Specialty {
            id: SpecialtyId::parse(id).expect("an id"),
            name: "Терапия".into(),
            federal_code: None,
            free_tickets: Some(0),
            nearest_date: None,
        };
        let entry = |i: u32| mis::WaitingEntry {
            id: mis::WaitingId::parse(format!("w{i}")).expect("an id"),
            specialty_id: Some(SpecialtyId::parse(i.to_string()).expect("an id")),
            specialty_name: None,
            doctor_id: None,
            doctor_name: None,
            window: None,
            created: None,
            reason: None,
        };
        let wanted = |id: &str| Wanted {
            specialty: specialty(id),
            doctor: None,
            reason: WaitingReason::NoFreeTickets,
        };
        let four: Vec<_> = (1..=4).map(entry).collect();
        assert!(admits(&four, &wanted("9")).is_ok());
        let same = admits(&four, &wanted("2")).expect_err("waits for it already");
        assert_eq!(same.code, ErrorCode::AlreadyOnWaitingList);
        let five: Vec<_> = (1..=5).map(entry).collect();
        let full = admits(&five, &wanted("9")).expect_err("full");
        assert_eq!(full.code, ErrorCode::WaitingListFull);
    }

    #[test]
    fn debug_output_never_shows_the_phone() {
        let parsed = parse(&request("+7 916 123-45-67", None, None), today()).expect("valid");
        assert!(!format!("{parsed:?}").contains("916"));
    }
}
