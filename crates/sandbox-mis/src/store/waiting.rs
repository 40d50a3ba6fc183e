//! The waiting list: requests registered, listed and withdrawn (the `PARequest` family).

use super::{Outcome, Refusal, Store, code, fmt, parse};
use crate::seed;
use chrono::NaiveDateTime;
use mis_hub::contract::{
    ActivePaRequestInfo, CancelPARequestRequest, CancelPARequestResult, ClaimToWaitingListType,
    PaRequest, PaRequestInfo, PaRequestInterval, PaRequestPatient, PaRequestPatientContacts,
    RegisterPARequestRequest, RegisterPARequestResult, ResultBody, SearchActivePARequestsRequest,
    SearchActivePARequestsResult,
};
use rusqlite::{OptionalExtension, params};

/// The most active requests one patient may have; more is refused.
pub const MAX_ACTIVE_PER_PATIENT: i64 = 20;

/// How many withdrawn requests are kept (the oldest go first).
pub(super) const KEEP_WITHDRAWN: i64 = 10_000;

fn id_text(id: i64) -> String {
    format!("W-{id:06}")
}

fn id_number(s: &str) -> Option<i64> {
    s.trim().strip_prefix("W-")?.parse().ok()
}

fn present(s: Option<&String>) -> Option<&str> {
    s.map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// One request, from a row of the `waiting` table (as `search_requests` selects it).
fn request_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<ActivePaRequestInfo> {
    let start: Option<String> = r.get(10)?;
    let end: Option<String> = r.get(11)?;
    let patient: String = r.get(1)?;
    Ok(ActivePaRequestInfo {
        created_date: Some(parse(&r.get::<_, String>(13)?)),
        id_par: Some(id_text(r.get(0)?)),
        pa_request: Some(PaRequest {
            fer_id_speciality: r.get(4)?,
            id_doc: r.get(5)?,
            id_lpu: Some(seed::LPU_ID.to_string()),
            id_nsi_lpu: None,
            id_speciality: r.get(2)?,
            name_doc: r.get(6)?,
            name_speciality: r.get(3)?,
        }),
        pa_request_info: Some(PaRequestInfo {
            claim: r.get(7)?,
            info: r.get(8)?,
        }),
        pa_request_patient: Some(PaRequestPatient {
            id_patient: Some(patient),
            contacts: Some(PaRequestPatientContacts {
                phone: r.get(9)?,
                ..PaRequestPatientContacts::default()
            }),
            ..PaRequestPatient::default()
        }),
        pa_source_created: r.get(12)?,
        preferred_intervals: Some(
            start
                .zip(end)
                .map(|(s, e)| PaRequestInterval {
                    end_date: Some(parse(&e)),
                    start_date: Some(parse(&s)),
                })
                .into_iter()
                .collect(),
        ),
    })
}

/// The names of the specialty and the doctor (of that specialty) a request names.
fn names_of(
    conn: &rusqlite::Connection,
    specialty: &str,
    doctor: Option<&str>,
) -> Result<(String, Option<String>), Refusal> {
    let incomplete = |what| Refusal(code::INCOMPLETE, what);
    let specialty_name: String = conn
        .query_row(
            "SELECT name FROM specialty WHERE id = ?1",
            [specialty],
            |r| r.get(0),
        )
        .optional()?
        .ok_or(incomplete("Специальность не найдена"))?;
    let doctor_name: Option<String> = match doctor {
        None => None,
        Some(d) => Some(
            conn.query_row(
                "SELECT name FROM doctor WHERE id = ?1 AND specialty_id = ?2",
                params![d, specialty],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(incomplete("Врач этой специальности не найден"))?,
        ),
    };
    Ok((specialty_name, doctor_name))
}

impl Store {
    /// `RegisterPARequest`: a new request, for a specialty of the clinic (and a doctor of it).
    pub(super) fn register_request(
        &self,
        request: Option<&RegisterPARequestRequest>,
        now: NaiveDateTime,
    ) -> Outcome {
        let incomplete = |what| Refusal(code::INCOMPLETE, what);
        let request = request.ok_or(incomplete("Не передана заявка"))?;
        let wanted = request
            .pa_request
            .as_ref()
            .ok_or(incomplete("Не указано, к кому заявка"))?;
        let patient = request
            .pa_request_patient
            .as_ref()
            .ok_or(incomplete("Не указан пациент"))?;
        let patient_id =
            present(patient.id_patient.as_ref()).ok_or(incomplete("Не указан пациент"))?;
        let phone = present(patient.contacts.as_ref().and_then(|c| c.phone.as_ref()))
            .ok_or(incomplete("Не указан телефон"))?;
        if present(wanted.id_lpu.as_ref()) != Some(seed::LPU_ID.to_string().as_str()) {
            return Err(incomplete("ЛПУ с указанным IdLpu не найдено"));
        }
        let specialty =
            present(wanted.id_speciality.as_ref()).ok_or(incomplete("Не указана специальность"))?;
        let claim = request
            .pa_request_info
            .as_ref()
            .and_then(|i| i.claim.as_deref())
            .and_then(ClaimToWaitingListType::parse)
            .ok_or(incomplete("Не указана причина (Claim)"))?;
        let interval = request
            .preferred_intervals
            .as_ref()
            .and_then(|i| i.first())
            .and_then(|i| Some((fmt(i.start_date?), fmt(i.end_date?))));
        let conn = self.lock();
        let known: Option<i64> = conn
            .query_row("SELECT 1 FROM patient WHERE id = ?1", [patient_id], |r| {
                r.get(0)
            })
            .optional()?;
        if known.is_none() {
            return Err(Refusal(code::PATIENT_NOT_FOUND, "Пациент не найден"));
        }
        let doctor = present(wanted.id_doc.as_ref());
        let (specialty_name, doctor_name) = names_of(&conn, specialty, doctor)?;
        let active: i64 = conn.query_row(
            "SELECT COUNT(*) FROM waiting WHERE patient_id = ?1 AND active = 1",
            [patient_id],
            |r| r.get(0),
        )?;
        if active >= MAX_ACTIVE_PER_PATIENT {
            return Err(Refusal(
                code::NOT_ALLOWED,
                "У пациента слишком много заявок в листе ожидания",
            ));
        }
        conn.execute(
            "INSERT INTO waiting (patient_id, specialty_id, specialty_name, fer_id, doctor_id,
                 doctor_name, claim, info, phone, start, end, source, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                patient_id,
                specialty,
                specialty_name,
                present(wanted.fer_id_speciality.as_ref()),
                doctor,
                doctor_name,
                claim.as_str(),
                request
                    .pa_request_info
                    .as_ref()
                    .and_then(|i| i.info.clone()),
                phone,
                interval.as_ref().map(|i| i.0.clone()),
                interval.as_ref().map(|i| i.1.clone()),
                request.pa_source,
                fmt(now),
            ],
        )?;
        let id = conn.last_insert_rowid();
        Ok(ResultBody::RegisterPARequest(RegisterPARequestResult {
            id_par: Some(id_text(id)),
        }))
    }

    /// `SearchActivePARequests`: the active requests that match every filter given.
    pub(super) fn search_requests(
        &self,
        filter: Option<&SearchActivePARequestsRequest>,
    ) -> Outcome {
        let filter = filter.cloned().unwrap_or_default();
        let empty = || {
            Ok(ResultBody::SearchActivePARequests(
                SearchActivePARequestsResult {
                    active_pa_requests: Some(Vec::new()),
                    count: 0,
                },
            ))
        };
        if let Some(lpu) = present(filter.id_lpu.as_ref())
            && lpu != seed::LPU_ID.to_string()
        {
            return empty();
        }
        let id = match present(filter.id_par.as_ref()) {
            None => None,
            Some(s) => match id_number(s) {
                Some(n) => Some(n),
                None => return empty(),
            },
        };
        let patients = filter.id_patients.unwrap_or_default();
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, patient_id, specialty_id, specialty_name, fer_id, doctor_id, doctor_name,
                    claim, info, phone, start, end, source, created
             FROM waiting
             WHERE active = 1 AND (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR specialty_id = ?2)
               AND (?3 IS NULL OR doctor_id = ?3) AND (?4 IS NULL OR claim = ?4)
             ORDER BY id",
        )?;
        let rows = stmt
            .query_map(
                params![
                    id,
                    present(filter.id_speciality.as_ref()),
                    present(filter.id_doc.as_ref()),
                    present(filter.claim.as_ref()),
                ],
                request_of,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let list: Vec<ActivePaRequestInfo> = rows
            .into_iter()
            .filter(|r| {
                patients.is_empty()
                    || r.pa_request_patient
                        .as_ref()
                        .and_then(|p| p.id_patient.as_ref())
                        .is_some_and(|p| patients.contains(p))
            })
            .collect();
        Ok(ResultBody::SearchActivePARequests(
            SearchActivePARequestsResult {
                count: i32::try_from(list.len()).unwrap_or(i32::MAX),
                active_pa_requests: Some(list),
            },
        ))
    }

    /// `CancelPARequest`: withdraws an active request.
    pub(super) fn cancel_request(
        &self,
        request: Option<&CancelPARequestRequest>,
        now: NaiveDateTime,
    ) -> Outcome {
        let not_found = || {
            Refusal(
                code::NO_SUCH_WAITING_REQUEST,
                "Заявка не найдена или уже закрыта",
            )
        };
        let request = request.ok_or(Refusal(code::INCOMPLETE, "Не передана заявка"))?;
        let text = present(request.id_par.as_ref()).ok_or(not_found())?;
        let id = id_number(text).ok_or(not_found())?;
        let conn = self.lock();
        let closed = conn.execute(
            "UPDATE waiting SET active = 0, deactivated = ?2, reason = ?3, comment = ?4
             WHERE id = ?1 AND active = 1",
            params![
                id,
                fmt(now),
                request.deactivation_reason,
                request.deactivation_comment
            ],
        )?;
        if closed != 1 {
            return Err(not_found());
        }
        conn.execute(
            "DELETE FROM waiting WHERE active = 0 AND id <=
                 (SELECT id FROM waiting WHERE active = 0 ORDER BY id DESC LIMIT 1 OFFSET ?1)",
            [KEEP_WITHDRAWN],
        )?;
        Ok(ResultBody::CancelPARequest(CancelPARequestResult {
            cancellation_result: Some(true),
            id_par: Some(id_text(id)),
        }))
    }
}
