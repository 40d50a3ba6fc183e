//! The reads of the schedule: specialties, doctors, the days and times they have free and
//! their working hours.

use super::{Outcome, Refusal, Store, code, fmt, parse};
use crate::seed::Schedule;
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use mis_hub::contract::{
    self, Appointment, AppointmentsResult, AvailableDatesResult, Doctor, DoctorListResult,
    ResultBody, Spesiality, SpesialityListResult, Window, WorkingTime, WorkingTimeResult,
};
use rusqlite::{Connection, OptionalExtension, params};

impl Store {
    pub(super) fn specialties(&self, now: NaiveDateTime) -> Outcome {
        let conn = self.lock();
        // Every free ticket counts in CountFreeTicket; those open to self-booking (not of a
        // doctor who sees patients only by referral) in CountFreeParticipantIE.
        let mut stmt = conn.prepare_cached(
            "SELECT s.id, s.name, s.fer_id, COUNT(sl.id), SUM(sl.id IS NOT NULL AND d.by_referral = 0),
                    MIN(CASE WHEN d.by_referral = 0 THEN sl.start END),
                    MAX(CASE WHEN d.by_referral = 0 THEN sl.start END)
             FROM specialty s
             LEFT JOIN doctor d ON d.specialty_id = s.id
             LEFT JOIN slot sl ON sl.doctor_id = d.id AND sl.patient_id IS NULL AND sl.start > ?1
             GROUP BY s.id ORDER BY s.name",
        )?;
        let list = stmt
            .query_map([fmt(now)], |r| {
                let nearest: Option<String> = r.get(5)?;
                let last: Option<String> = r.get(6)?;
                let open: Option<i32> = r.get(4)?;
                Ok(Spesiality {
                    count_free_participant_ie: Some(open.unwrap_or(0)),
                    count_free_ticket: r.get(3)?,
                    fer_id_spesiality: r.get(2)?,
                    id_spesiality: Some(r.get(0)?),
                    last_date: last.map(|s| contract::midnight(parse(&s).date())),
                    name_spesiality: Some(r.get(1)?),
                    nearest_date: nearest.map(|s| contract::midnight(parse(&s).date())),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(ResultBody::GetSpesialityList(SpesialityListResult {
            list_spesiality: Some(list),
            lpu_changes: None,
        }))
    }

    pub(super) fn doctors(&self, specialty: &str, now: NaiveDateTime) -> Outcome {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT d.id, d.name, d.comment, COUNT(sl.id), MIN(sl.start), MAX(sl.start), d.by_referral
             FROM doctor d
             LEFT JOIN slot sl ON sl.doctor_id = d.id AND sl.patient_id IS NULL AND sl.start > ?2
             WHERE d.specialty_id = ?1
             GROUP BY d.id ORDER BY d.name",
        )?;
        let list = stmt
            .query_map(params![specialty, fmt(now)], |r| {
                let free: i32 = r.get(3)?;
                let by_referral: bool = r.get(6)?;
                let nearest: Option<String> = r.get(4)?;
                let last: Option<String> = r.get(5)?;
                let open = !by_referral;
                Ok(Doctor {
                    aria_number: None,
                    comment: r.get(2)?,
                    count_free_participant_ie: Some(if open { free } else { 0 }),
                    count_free_ticket: Some(free),
                    id_doc: Some(r.get(0)?),
                    last_date: last
                        .filter(|_| open)
                        .map(|s| contract::midnight(parse(&s).date())),
                    name: Some(r.get(1)?),
                    nearest_date: nearest
                        .filter(|_| open)
                        .map(|s| contract::midnight(parse(&s).date())),
                    snils: None,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(ResultBody::GetDoctorList(DoctorListResult {
            docs: Some(list),
        }))
    }

    /// Whether the doctor exists, and whether they see patients only by referral.
    pub(super) fn known_doctor(conn: &Connection, id: &str) -> Result<bool, Refusal> {
        conn.query_row("SELECT by_referral FROM doctor WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or(Refusal(code::INCOMPLETE, "Врач не найден"))
    }

    pub(super) fn available_dates(&self, w: &Window, now: NaiveDateTime) -> Outcome {
        let conn = self.lock();
        if Self::known_doctor(&conn, &w.id_doc)? {
            // Only by referral: no date is open to self-booking.
            return Ok(ResultBody::GetAvailableDates(AvailableDatesResult {
                available_date_list: Some(Vec::new()),
            }));
        }
        let from = fmt(w.visit_start.max(now));
        let mut stmt = conn.prepare_cached(
            "SELECT DISTINCT substr(start, 1, 10) FROM slot
             WHERE doctor_id = ?1 AND patient_id IS NULL AND start > ?2 AND start <= ?3
             ORDER BY 1",
        )?;
        let dates = stmt
            .query_map(params![w.id_doc, from, fmt(w.visit_end)], |r| {
                r.get::<_, String>(0)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .filter_map(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
            .map(contract::midnight)
            .collect();
        Ok(ResultBody::GetAvailableDates(AvailableDatesResult {
            available_date_list: Some(dates),
        }))
    }

    /// The doctor's free tickets in the window: those open to self-booking, or (`by_referral`)
    /// those that need a referral.
    pub(super) fn appointments(
        &self,
        doctor: &str,
        from: NaiveDateTime,
        to: NaiveDateTime,
        by_referral: bool,
        now: NaiveDateTime,
    ) -> Result<AppointmentsResult, Refusal> {
        let conn = self.lock();
        if Self::known_doctor(&conn, doctor)? != by_referral {
            return Ok(AppointmentsResult {
                list_appointments: Some(Vec::new()),
            });
        }
        let mut stmt = conn.prepare_cached(
            "SELECT id, start, end, num, room, address FROM slot
             WHERE doctor_id = ?1 AND patient_id IS NULL AND start > ?2 AND start <= ?3
             ORDER BY start",
        )?;
        let list = stmt
            .query_map(params![doctor, fmt(from.max(now)), fmt(to)], |r| {
                Ok(Appointment {
                    address: r.get(5)?,
                    id_appointment: Some(r.get(0)?),
                    num: Some(r.get(3)?),
                    room: r.get(4)?,
                    visit_end: Some(parse(&r.get::<_, String>(2)?)),
                    visit_start: parse(&r.get::<_, String>(1)?),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(AppointmentsResult {
            list_appointments: Some(list),
        })
    }

    pub(super) fn working_time(
        &self,
        doctor: &str,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Outcome {
        let conn = self.lock();
        let by_referral = Self::known_doctor(&conn, doctor)?;
        let schedule: i64 =
            conn.query_row("SELECT schedule FROM doctor WHERE id = ?1", [doctor], |r| {
                r.get(0)
            })?;
        let mut days = Vec::new();
        if schedule == Schedule::NotBuilt.code() {
            let mut day = from.date();
            while day <= to.date() && days.len() < 366 {
                if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                    days.push(WorkingTime {
                        deny_cause: Some("Расписание врача не сформировано".into()),
                        recordable_day: Some(false),
                        visit_end: Some(day.and_time(NaiveTime::MIN)),
                        visit_start: Some(day.and_time(NaiveTime::MIN)),
                    });
                }
                let Some(next) = day.succ_opt() else {
                    break;
                };
                day = next;
            }
        } else {
            let mut stmt = conn.prepare_cached(
                "SELECT MIN(start), MAX(end), SUM(patient_id IS NULL) FROM slot
                 WHERE doctor_id = ?1 AND start >= ?2 AND start <= ?3
                 GROUP BY substr(start, 1, 10) ORDER BY 1",
            )?;
            days = stmt
                .query_map(params![doctor, fmt(from), fmt(to)], |r| {
                    let free: i64 = r.get(2)?;
                    let deny_cause = if by_referral {
                        Some("Приём только по направлению".to_owned())
                    } else {
                        (free == 0).then(|| "Нет свободных талонов".to_owned())
                    };
                    Ok(WorkingTime {
                        deny_cause,
                        recordable_day: Some(free > 0 && !by_referral),
                        visit_end: Some(parse(&r.get::<_, String>(1)?)),
                        visit_start: Some(parse(&r.get::<_, String>(0)?)),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
        }
        Ok(ResultBody::GetWorkingTime(WorkingTimeResult {
            working_time_list: Some(days),
        }))
    }
}
