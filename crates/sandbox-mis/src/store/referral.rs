//! Referrals: checking one, describing one, and whether one can book a ticket.

use super::{Outcome, Refusal, Store, code};
use crate::seed;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use mis_hub::contract::{
    AppointmentType, CancellationData, CheckReferralResult, Coding, EventSource, EventTarget,
    EventsInfo, HumanName, InspectDoctorsReferalResult, Person, Referral, ReferralDoctor,
    ReferralInfo, ReferralPatient, ReferralTarget, ResultBody,
};
use rusqlite::{OptionalExtension, Transaction, params};

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_day(s: &str) -> Option<NaiveDateTime> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(mis_hub::contract::midnight)
}

/// Adds the seed's referrals and renews their dates for `today` (whether they were used or
/// cancelled stays as it is).
pub(super) fn refresh_seed(tx: &Transaction<'_>, today: NaiveDate) -> rusqlite::Result<()> {
    for (number, patient, doctor, kind, issued, valid) in seed::REFERRALS {
        let issued = day(today + Duration::days(*issued));
        let valid = day(today + Duration::days(*valid));
        tx.execute(
            "INSERT INTO referral (number, patient_id, doctor_id, kind, issued, valid_until)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (number) DO UPDATE SET issued = ?5, valid_until = ?6",
            params![number, patient, doctor, kind, issued, valid],
        )?;
    }
    Ok(())
}

/// The doctor a referral sends to.
pub(super) fn doctor_of(tx: &Transaction<'_>, number: &str) -> rusqlite::Result<Option<String>> {
    tx.query_row(
        "SELECT doctor_id FROM referral WHERE number = ?1",
        [number],
        |r| r.get(0),
    )
    .optional()
}

/// Checks that the referral can book a ticket of `doctor` for `patient` now; a referral held
/// by `previous` (the booking being moved) counts as free.
pub(super) fn usable(
    tx: &Transaction<'_>,
    number: &str,
    patient: &str,
    doctor: &str,
    previous: Option<&str>,
    now: NaiveDateTime,
) -> Result<String, Refusal> {
    let row: Option<(String, String, String, Option<String>, bool)> = tx
        .query_row(
            "SELECT patient_id, doctor_id, valid_until, slot_id, cancelled FROM referral
             WHERE number = ?1",
            [number],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((owner, to, valid_until, slot, cancelled)) = row else {
        return Err(Refusal(code::REFERRAL_NOT_FOUND, "Направление не найдено"));
    };
    if owner != patient {
        return Err(Refusal(code::REFERRAL_NOT_FOUND, "Направление не найдено"));
    }
    if cancelled {
        return Err(Refusal(
            code::REFERRAL_CANCELLED,
            "Направление аннулировано",
        ));
    }
    if valid_until < day(now.date()) {
        return Err(Refusal(
            code::REFERRAL_EXPIRED,
            "Срок действия направления истёк",
        ));
    }
    if slot.is_some() && slot.as_deref() != previous {
        return Err(Refusal(
            code::REFERRAL_USED,
            "По этому направлению уже есть запись",
        ));
    }
    if to != doctor {
        return Err(Refusal(
            code::NOT_ALLOWED,
            "Направление выписано к другому врачу",
        ));
    }
    Ok(number.to_owned())
}

/// A referral's row, with its doctor and specialty.
struct Row {
    patient: String,
    doctor: String,
    doctor_name: String,
    fer_id: Option<String>,
    kind: String,
    issued: String,
    valid_until: String,
    used_at: Option<String>,
    cancelled: bool,
}

impl Store {
    fn referral_row(&self, number: Option<&str>) -> Result<Row, Refusal> {
        let number = number.map(str::trim).unwrap_or_default();
        let conn = self.lock();
        conn.query_row(
            "SELECT r.patient_id, r.doctor_id, d.name, s.fer_id, r.kind, r.issued, r.valid_until,
                    (SELECT start FROM slot WHERE id = r.slot_id), r.cancelled
             FROM referral r JOIN doctor d ON d.id = r.doctor_id
             JOIN specialty s ON s.id = d.specialty_id
             WHERE r.number = ?1",
            [number],
            |r| {
                Ok(Row {
                    patient: r.get(0)?,
                    doctor: r.get(1)?,
                    doctor_name: r.get(2)?,
                    fer_id: r.get(3)?,
                    kind: r.get(4)?,
                    issued: r.get(5)?,
                    valid_until: r.get(6)?,
                    used_at: r.get(7)?,
                    cancelled: r.get(8)?,
                })
            },
        )
        .optional()?
        .ok_or(Refusal(code::REFERRAL_NOT_FOUND, "Направление не найдено"))
    }

    /// `InspectDoctorsReferal`: whose a referral is, to which doctor, of what kind.
    pub(super) fn inspect_referral(&self, number: Option<&str>) -> Outcome {
        let row = self.referral_row(number)?;
        Ok(ResultBody::InspectDoctorsReferal(
            InspectDoctorsReferalResult {
                id_doc: Some(row.doctor),
                id_lpu: seed::LPU_ID,
                id_patient: Some(row.patient),
                kind: AppointmentType::parse(&row.kind).unwrap_or_default(),
            },
        ))
    }

    /// `CheckReferral`: the referral described.
    pub(super) fn check_referral(&self, number: Option<&str>) -> Outcome {
        let row = self.referral_row(number)?;
        let specialty = row.fer_id.map(|code| Coding {
            code: Some(code),
            system: None,
            version: None,
        });
        let mut names = row.doctor_name.split_whitespace().map(str::to_owned);
        let doctor = ReferralDoctor {
            person: Some(Person {
                human_name: Some(HumanName {
                    family_name: names.next(),
                    given_name: names.next(),
                    middle_name: names.next(),
                }),
                id_person_mis: Some(row.doctor),
                ..Person::default()
            }),
            speciality: specialty.clone(),
        };
        let issued = parse_day(&row.issued);
        Ok(ResultBody::CheckReferral(CheckReferralResult {
            referral: Some(Referral {
                events_info: Some(EventsInfo {
                    cancellation: row.cancelled.then(|| CancellationData {
                        date: None,
                        reason_comment: Some("Направление аннулировано".into()),
                    }),
                    source: Some(EventSource {
                        planned_date: parse_day(&row.valid_until),
                        referral_create_date: issued,
                    }),
                    target: row.used_at.map(|start| EventTarget {
                        reception_appoint_date: mis_hub::contract::parse_datetime(&start),
                    }),
                }),
                patient: Some(ReferralPatient {
                    person: Some(Person {
                        id_patient_mis: Some(row.patient),
                        ..Person::default()
                    }),
                }),
                referral_info: Some(ReferralInfo {
                    date: issued,
                    profile_med_service: specialty,
                    ..ReferralInfo::default()
                }),
                target: Some(ReferralTarget {
                    doctors: Some(vec![doctor]),
                    lpu: Some(Coding {
                        code: Some(seed::LPU_ID.to_string()),
                        system: None,
                        version: None,
                    }),
                }),
            }),
        }))
    }
}
