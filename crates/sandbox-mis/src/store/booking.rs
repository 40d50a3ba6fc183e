//! The patient's operations: the areas they are attached to, finding them, booking,
//! moving and cancelling a ticket, and their history.

use super::{Outcome, Refusal, Store, Ticket, code, fmt, parse, referral, unknown_clinic};
use crate::seed::{self};
use chrono::NaiveDateTime;
use mis_hub::contract::{
    CheckPatientResult, Doctor, GetPatientsAreas, HistoryVisit, NoMembers, PatientHistoryResult,
    PatientQuery, PatientsArea, PatientsAreasResult, ResultBody, SetAppointmentResult,
    SpecialistType, Spesiality, User,
};
use rusqlite::{OptionalExtension, params};

impl Store {
    pub(super) fn serves(&self, id_lpu: i32) -> Result<(), Refusal> {
        if id_lpu == self.clinic.lpu {
            Ok(())
        } else {
            Err(unknown_clinic())
        }
    }

    /// The areas the patient `r.id_pat` is attached to in the clinic `r.id_lpu`.
    pub(super) fn patient_areas(&self, r: &GetPatientsAreas) -> Outcome {
        let lpu = r.id_lpu.as_deref().and_then(|l| l.trim().parse().ok());
        self.serves(lpu.unwrap_or(0))?;
        let Some(patient) = r.id_pat.as_deref() else {
            return Err(Refusal(
                code::INCOMPLETE,
                "Не указан идентификатор пациента",
            ));
        };
        let known: Option<i64> = self
            .lock()
            .query_row("SELECT 1 FROM patient WHERE id = ?1", [patient], |row| {
                row.get(0)
            })
            .optional()?;
        if known.is_none() {
            return Err(Refusal(code::PATIENT_NOT_FOUND, "Пациент не найден"));
        }
        Ok(ResultBody::GetPatientsAreas(PatientsAreasResult {
            patients_area_list: Some(
                seed::AREAS
                    .iter()
                    .filter(|(id, lpu, ..)| *id == patient && *lpu == self.clinic.lpu)
                    .map(|(_, _, area, kind)| PatientsArea {
                        area: Some((*area).into()),
                        area_type: *kind,
                    })
                    .collect(),
            ),
        }))
    }

    pub(super) fn check_patient(&self, pat: &PatientQuery) -> Outcome {
        let Some(birthday) = pat.birthday else {
            return Err(Refusal(code::INCOMPLETE, "Не указана дата рождения"));
        };
        let document = seed::normalize(pat.document_s.as_deref(), pat.document_n.as_deref());
        let policy = seed::normalize(pat.polis_s.as_deref(), pat.polis_n.as_deref());
        if document.is_empty() || policy.is_empty() {
            return Err(Refusal(code::INCOMPLETE, "Не указаны документ или полис"));
        }
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id FROM patient WHERE birth_date = ?1 AND document = ?2 AND policy = ?3 LIMIT 2",
        )?;
        let ids = stmt
            .query_map(
                params![
                    birthday.date().format("%Y-%m-%d").to_string(),
                    document,
                    policy
                ],
                |r| r.get::<_, String>(0),
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        match ids.as_slice() {
            [] => Err(Refusal(code::PATIENT_NOT_FOUND, "Пациент не найден")),
            [id] => Ok(ResultBody::CheckPatient(CheckPatientResult {
                id_pat: Some(id.clone()),
            })),
            _ => Err(Refusal(
                code::PATIENT_NOT_UNIQUE,
                "Найдено более одного пациента",
            )),
        }
    }

    /// The free, future ticket `slot`: when it starts is checked; its doctor, the doctor's
    /// specialty, whether that is a general practitioner's, and whether the doctor sees
    /// patients only by referral.
    pub(super) fn open_ticket(
        tx: &rusqlite::Transaction<'_>,
        slot: &str,
        now: NaiveDateTime,
    ) -> Result<Ticket, Refusal> {
        let target: Option<(String, String, String, Option<String>, bool, bool)> = tx
            .query_row(
                "SELECT sl.start, sl.doctor_id, d.specialty_id, sl.patient_id, s.general, d.by_referral
                 FROM slot sl
                 JOIN doctor d ON d.id = sl.doctor_id JOIN specialty s ON s.id = d.specialty_id
                 WHERE sl.id = ?1",
                [slot],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .optional()?;
        let Some((start, doctor, specialty, holder, general, by_referral)) = target else {
            return Err(Refusal(code::INVALID_TICKET, "Талон не найден"));
        };
        if parse(&start) <= now {
            return Err(Refusal(code::INVALID_TICKET, "Время талона прошло"));
        }
        if holder.is_some() {
            return Err(Refusal(code::TICKET_TAKEN, "Талон уже занят"));
        }
        Ok(Ticket {
            doctor,
            specialty,
            general,
            by_referral,
        })
    }

    /// The patient's upcoming booking `previous` (to be moved): the referral it was booked by,
    /// if any.
    pub(super) fn moved_booking(
        tx: &rusqlite::Transaction<'_>,
        previous: &str,
        patient: &str,
        now: NaiveDateTime,
    ) -> Result<Option<String>, Refusal> {
        let held: Option<Option<String>> = tx
            .query_row(
                "SELECT (SELECT number FROM referral WHERE slot_id = sl.id) FROM slot sl
                 WHERE sl.id = ?1 AND sl.patient_id = ?2 AND sl.start > ?3",
                params![previous, patient, fmt(now)],
                |r| r.get(0),
            )
            .optional()?;
        held.ok_or(Refusal(
            code::NOTHING_TO_CANCEL,
            "Переносимая запись не найдена",
        ))
    }

    /// One upcoming booking per specialty: refused if the patient holds another (than the one
    /// moved).
    pub(super) fn one_per_specialty(
        tx: &rusqlite::Transaction<'_>,
        patient: &str,
        specialty: &str,
        previous: Option<&str>,
        now: NaiveDateTime,
    ) -> Result<(), Refusal> {
        let duplicate: Option<String> = tx
            .query_row(
                "SELECT sl.id FROM slot sl JOIN doctor d ON d.id = sl.doctor_id
                 WHERE sl.patient_id = ?1 AND d.specialty_id = ?2 AND sl.start > ?3 AND sl.id IS NOT ?4
                 LIMIT 1",
                params![patient, specialty, fmt(now), previous],
                |r| r.get(0),
            )
            .optional()?;
        match duplicate {
            Some(_) => Err(Refusal(
                code::ALREADY_BOOKED,
                "Пациент уже записан к врачу этой специальности",
            )),
            None => Ok(()),
        }
    }

    /// Books `slot`; with `previous`, moves that booking to it in one transaction (both or
    /// neither); with `referral`, books by it. A doctor who sees patients only by referral
    /// needs one: the one given, or the one the moved booking was made by.
    pub(super) fn set_appointment(
        &self,
        slot: &str,
        patient: &str,
        previous: Option<&str>,
        referral: Option<&str>,
        now: NaiveDateTime,
    ) -> Outcome {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let known: Option<i64> = tx
            .query_row("SELECT 1 FROM patient WHERE id = ?1", [patient], |r| {
                r.get(0)
            })
            .optional()?;
        if known.is_none() {
            return Err(Refusal(code::PATIENT_NOT_FOUND, "Пациент не найден"));
        }
        let ticket = Self::open_ticket(&tx, slot, now)?;
        let carried = match previous {
            Some(prev) => Self::moved_booking(&tx, prev, patient, now)?,
            None => None,
        };
        let doctor = ticket.doctor.as_str();
        let referral = match referral {
            Some(number) => Some(referral::usable(
                &tx, number, patient, doctor, previous, now,
            )?),
            // A moved booking keeps its referral for the same doctor.
            None if ticket.by_referral => carried.filter(|number| {
                referral::doctor_of(&tx, number).ok().flatten().as_deref() == Some(doctor)
            }),
            None => None,
        };
        if ticket.by_referral && referral.is_none() {
            return Err(Refusal(
                code::NOT_ALLOWED,
                "Запись к этому врачу только по направлению",
            ));
        }
        Self::one_per_specialty(&tx, patient, &ticket.specialty, previous, now)?;
        let taken = tx.execute(
            "UPDATE slot SET patient_id = ?2, booked_at = ?3 WHERE id = ?1 AND patient_id IS NULL",
            params![slot, patient, fmt(now)],
        )?;
        if taken != 1 {
            return Err(Refusal(code::TICKET_TAKEN, "Талон уже занят"));
        }
        if let Some(prev) = previous {
            Self::release(&tx, prev, patient, now)?;
        }
        if let Some(number) = &referral {
            tx.execute(
                "UPDATE referral SET slot_id = ?2 WHERE number = ?1",
                params![number, slot],
            )?;
        }
        tx.commit()?;
        Ok(ResultBody::SetAppointment(SetAppointmentResult {
            kind: if ticket.general {
                SpecialistType::General
            } else {
                SpecialistType::Narrow
            },
        }))
    }

    /// Frees the patient's upcoming booking of `slot` (into the refusals), and the referral it
    /// was booked by, if any.
    pub(super) fn release(
        tx: &rusqlite::Transaction<'_>,
        slot: &str,
        patient: &str,
        now: NaiveDateTime,
    ) -> Result<(), Refusal> {
        let freed = tx.execute(
            "INSERT INTO refusal (slot_id, patient_id, doctor_id, start, booked_at, refused_at)
             SELECT id, patient_id, doctor_id, start, COALESCE(booked_at, ?3), ?3 FROM slot
             WHERE id = ?1 AND patient_id = ?2 AND start > ?3",
            params![slot, patient, fmt(now)],
        )?;
        if freed != 1 {
            return Err(Refusal(
                code::NOTHING_TO_CANCEL,
                "Запись не найдена или уже отменена",
            ));
        }
        tx.execute(
            "UPDATE slot SET patient_id = NULL, booked_at = NULL WHERE id = ?1 AND patient_id = ?2",
            params![slot, patient],
        )?;
        tx.execute(
            "UPDATE referral SET slot_id = NULL WHERE slot_id = ?1",
            [slot],
        )?;
        Ok(())
    }

    pub(super) fn refuse(&self, slot: &str, patient: &str, now: NaiveDateTime) -> Outcome {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        Self::release(&tx, slot, patient, now)?;
        tx.commit()?;
        Ok(ResultBody::CreateClaimForRefusal(NoMembers {}))
    }

    /// `UpdatePhoneByIdPat`: the phones written into the patient's card (one left out is not
    /// changed; an empty one is cleared).
    pub(super) fn update_phone(
        &self,
        patient: &str,
        home: Option<&str>,
        cell: Option<&str>,
        now: NaiveDateTime,
    ) -> Outcome {
        if home.is_none() && cell.is_none() {
            return Err(Refusal(code::INCOMPLETE, "Не указан номер телефона"));
        }
        let conn = self.lock();
        let known: Option<String> = conn
            .query_row("SELECT id FROM patient WHERE id = ?1", [patient], |r| {
                r.get(0)
            })
            .optional()?;
        if known.is_none() {
            return Err(Refusal(code::PATIENT_NOT_FOUND, "Пациент не найден"));
        }
        conn.execute(
            "INSERT INTO patient_phone (patient_id, home_phone, cell_phone, updated_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (patient_id) DO UPDATE SET
                 home_phone = COALESCE(?2, home_phone),
                 cell_phone = COALESCE(?3, cell_phone),
                 updated_at = ?4",
            params![
                patient,
                home,
                cell,
                now.format("%Y-%m-%dT%H:%M:%S").to_string()
            ],
        )?;
        Ok(ResultBody::UpdatePhoneByIdPat(NoMembers {}))
    }

    /// The mobile phone the card of `patient` holds (`UpdatePhoneByIdPat` wrote it).
    pub fn cell_phone(&self, patient: &str) -> Option<String> {
        self.lock()
            .query_row(
                "SELECT cell_phone FROM patient_phone WHERE patient_id = ?1",
                [patient],
                |r| r.get::<_, Option<String>>(0),
            )
            .ok()
            .flatten()
            .filter(|p| !p.is_empty())
    }

    pub(super) fn history(&self, patient: &str) -> Outcome {
        let conn = self.lock();
        let visit = |r: &rusqlite::Row<'_>| -> rusqlite::Result<HistoryVisit> {
            Ok(HistoryVisit {
                date_created_appointment: Some(parse(&r.get::<_, String>(2)?)),
                doctor_bring_referal: None,
                doctor_rending_consultation: Some(Doctor {
                    id_doc: Some(r.get(3)?),
                    name: Some(r.get(4)?),
                    comment: r.get(5)?,
                    ..Doctor::default()
                }),
                id_appointment: Some(r.get(0)?),
                speciality_bring_referal: None,
                speciality_rending_consultation: Some(Spesiality {
                    id_spesiality: Some(r.get(6)?),
                    name_spesiality: Some(r.get(7)?),
                    ..Spesiality::default()
                }),
                user_created_appointment: Some(User {
                    user_name: Some("Онлайн-регистратура".into()),
                    user_position: None,
                }),
                visit_start: parse(&r.get::<_, String>(1)?),
            })
        };
        let visits = conn
            .prepare_cached(
                "SELECT sl.id, sl.start, COALESCE(sl.booked_at, sl.start), d.id, d.name, d.comment, s.id, s.name
                 FROM slot sl JOIN doctor d ON d.id = sl.doctor_id JOIN specialty s ON s.id = d.specialty_id
                 WHERE sl.patient_id = ?1 ORDER BY sl.start",
            )?
            .query_map([patient], visit)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let refusals = conn
            .prepare_cached(
                "SELECT r.slot_id, r.start, r.booked_at, d.id, d.name, d.comment, s.id, s.name
                 FROM refusal r JOIN doctor d ON d.id = r.doctor_id JOIN specialty s ON s.id = d.specialty_id
                 WHERE r.patient_id = ?1 ORDER BY r.refused_at",
            )?
            .query_map([patient], visit)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(ResultBody::GetPatientHistory(PatientHistoryResult {
            refusals: Some(refusals),
            visits: Some(visits),
        }))
    }
}
