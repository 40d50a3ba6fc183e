//! `registratura check` of each clinic: its МИС answers and how fast, the `guid` is accepted,
//! the clinic exists, and the seed's table 1 of what hides things from patients
//! (specialties and doctors without free tickets, doctors without a schedule); with
//! `--patient`, one identification.

use crate::check::{Level, Report};
use crate::config::ClinicConfig;
use chrono::Days;
use mis::{
    BirthDate, DateRange, DocumentNumber, LpuId, Mis, MisError, PatientIdentity, PolicyNumber,
};
use std::io::{BufRead, Write};
use std::time::Instant;

/// Reads the three identity lines (document, policy, birth date) from `input`.
pub(crate) fn read_identity<W: Write>(
    report: &mut Report<'_, W>,
    input: &mut impl BufRead,
) -> Option<PatientIdentity> {
    let mut lines = Vec::new();
    for _ in 0..3 {
        let mut line = String::new();
        if input.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        lines.push(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let today = chrono::Utc::now().date_naive();
    let parsed = match lines.as_slice() {
        [d, p, b] => (
            DocumentNumber::parse(d),
            PolicyNumber::parse(p),
            BirthDate::parse(b, today),
        ),
        _ => {
            report.line(
                Level::Fail,
                "patient",
                "нужны три строки на входе: документ, полис, дата рождения (ГГГГ-ММ-ДД)",
                "three lines are needed on standard input: document, policy, birth date (YYYY-MM-DD)",
            );
            return None;
        }
    };
    match parsed {
        (Ok(document), Ok(policy), Ok(birth_date)) => Some(PatientIdentity {
            document,
            policy,
            birth_date,
        }),
        (d, p, b) => {
            // Which field is wrong, never its value.
            for (bad, ru, en) in [
                (d.is_err(), "номер документа", "the document number"),
                (p.is_err(), "номер полиса", "the policy number"),
                (b.is_err(), "дата рождения", "the birth date"),
            ] {
                if bad {
                    report.line(
                        Level::Fail,
                        "patient",
                        &format!("{ru} введён неверно"),
                        &format!("{en} is not valid"),
                    );
                }
            }
            None
        }
    }
}

/// A FHIR clinic: its `CapabilityStatement` declares what the adapter needs, and the token
/// (static, or of client credentials) opens a search.
async fn check_fhir<W: Write>(report: &mut Report<'_, W>, clinic: &ClinicConfig) -> bool {
    let id = clinic.id.as_str();
    let client = match super::start::fhir_client(clinic) {
        Ok(c) => c,
        Err(e) => {
            report.line(Level::Fail, id, &e.to_string(), &e.to_string());
            return false;
        }
    };
    match client.missing_capabilities().await {
        Ok(missing) if missing.is_empty() => {
            report.line(
                Level::Ok,
                id,
                "сервер FHIR объявляет всё нужное (ресурсы, поиск, условное создание); токен принят",
                "the FHIR server declares all that is needed (resources, searches, conditional create); the token is accepted",
            );
            true
        }
        Ok(missing) => {
            let list = missing.join(", ");
            report.line(
                Level::Fail,
                id,
                &format!("сервер FHIR не объявляет: {list}"),
                &format!("the FHIR server does not declare: {list}"),
            );
            false
        }
        Err(e) => {
            report.line(
                Level::Fail,
                id,
                &format!("сервер FHIR не принимает запрос с токеном: {e}. Проверьте clinics.mis.token или token_url, client_id, client_secret"),
                &format!("the FHIR server refuses a search with the token: {e}. Check clinics.mis.token or token_url, client_id, client_secret"),
            );
            false
        }
    }
}

/// Whether the МИС answers (and how fast); a failure ends the clinic's check.
async fn check_reachable<W: Write>(report: &mut Report<'_, W>, id: &str, hub: &dyn Mis) -> bool {
    let started = Instant::now();
    match hub.version().await {
        Ok(v) => {
            let ms = started.elapsed().as_millis();
            let version = v.service.unwrap_or_else(|| "?".into());
            report.line(
                Level::Ok,
                id,
                &format!("МИС отвечает за {ms} мс (версия {version})"),
                &format!("the МИС answers in {ms} ms (version {version})"),
            );
            true
        }
        Err(e) => {
            report.line(
                Level::Fail,
                id,
                &format!("МИС недоступна: {e}. Проверьте адрес (clinics.mis.endpoint), сеть и службу МИС"),
                &format!("the МИС cannot be reached: {e}. Check the address (clinics.mis.endpoint), the network and the МИС's service"),
            );
            false
        }
    }
}

fn guid_refused<W: Write>(report: &mut Report<'_, W>, id: &str) {
    report.line(
        Level::Fail,
        id,
        "МИС отклоняет guid (ошибка 1): проверьте clinics.mis.guid",
        "the МИС refuses the guid (error 1): check clinics.mis.guid",
    );
}

/// Whether the МИС accepts the `guid` and knows the clinic (where it lists its clinics).
async fn check_known<W: Write>(
    report: &mut Report<'_, W>,
    id: &str,
    hub: &dyn Mis,
    lpu: LpuId,
) -> bool {
    match hub.clinics().await {
        Ok(list) if list.iter().any(|c| c.id == lpu) => {
            report.line(
                Level::Ok,
                id,
                "МИС принимает guid",
                "the МИС accepts the guid",
            );
            report.line(
                Level::Ok,
                id,
                &format!("учреждение idLpu {} есть в МИС", lpu.get()),
                &format!("the clinic idLpu {} exists in the МИС", lpu.get()),
            );
            true
        }
        Ok(_) => {
            report.line(
                Level::Fail,
                id,
                &format!(
                    "учреждения idLpu {} нет в МИС: проверьте clinics.mis.id_lpu",
                    lpu.get()
                ),
                &format!(
                    "the МИС has no clinic idLpu {}: check clinics.mis.id_lpu",
                    lpu.get()
                ),
            );
            false
        }
        Err(MisError::AccessDenied) => {
            guid_refused(report, id);
            false
        }
        Err(e) => {
            report.line(
                Level::Warn,
                id,
                &format!(
                    "МИС не выдаёт список учреждений ({e}); idLpu проверяется по специальностям"
                ),
                &format!(
                    "the МИС does not list its clinics ({e}); idLpu is checked by its specialties"
                ),
            );
            true
        }
    }
}

/// The clinic's specialties, if the МИС lists them.
async fn check_specialties<W: Write>(
    report: &mut Report<'_, W>,
    id: &str,
    hub: &dyn Mis,
    lpu: LpuId,
) -> Option<Vec<mis::Specialty>> {
    let specialties = match hub.specialties(lpu).await {
        Ok(list) => list,
        Err(MisError::AccessDenied) => {
            guid_refused(report, id);
            return None;
        }
        Err(e) => {
            report.line(
                Level::Fail,
                id,
                &format!(
                    "МИС не выдаёт специальности учреждения idLpu {}: {e}",
                    lpu.get()
                ),
                &format!(
                    "the МИС does not list the specialties of clinic idLpu {}: {e}",
                    lpu.get()
                ),
            );
            return None;
        }
    };
    if specialties.is_empty() {
        report.line(
            Level::Warn,
            id,
            "в МИС нет ни одной специальности",
            "the МИС lists no specialty",
        );
    }
    Some(specialties)
}

/// The next fourteen days of the clinic, from its own today (its schedule is in its zone; the
/// config has checked the zone).
fn fortnight_of(clinic: &ClinicConfig) -> DateRange {
    let today = clinic.timezone.parse::<chrono_tz::Tz>().map_or_else(
        |_| chrono::Utc::now().date_naive(),
        |tz| chrono::Utc::now().with_timezone(&tz).date_naive(),
    );
    fortnight_from(today)
}

/// Fourteen days from `today`, or `today` alone where the calendar ends sooner.
fn fortnight_from(today: chrono::NaiveDate) -> DateRange {
    today
        .checked_add_days(Days::new(13))
        .and_then(|end| DateRange::new(today, end))
        .unwrap_or_else(|| DateRange::day(today))
}

/// The seed's table 1 for one specialty: no free tickets, and each doctor without a schedule
/// or without free tickets. How many doctors it has.
async fn check_doctors<W: Write>(
    report: &mut Report<'_, W>,
    (id, hub, lpu): (&str, &dyn Mis, LpuId),
    s: &mis::Specialty,
    fortnight: DateRange,
) -> usize {
    if s.free_tickets == Some(0) {
        report.line(
            Level::Warn,
            id,
            &format!(
                "{}: нет свободных талонов для записи через интернет — пациентам остаётся лист ожидания",
                s.name
            ),
            &format!(
                "{}: no free tickets open to online booking — patients can only join the waiting list",
                s.name
            ),
        );
    }
    let doctors = match hub.doctors(lpu, &s.id).await {
        Ok(d) => d,
        Err(e) => {
            report.line(
                Level::Warn,
                id,
                &format!("{}: МИС не выдаёт врачей ({e})", s.name),
                &format!("{}: the МИС does not list the doctors ({e})", s.name),
            );
            return 0;
        }
    };
    for d in &doctors {
        let days = hub.working_time(lpu, &d.id, fortnight).await;
        let scheduled = match &days {
            Ok(days) => days.iter().any(|day| day.end > day.start),
            Err(_) => true,
        };
        if !scheduled {
            let cause = days
                .ok()
                .and_then(|days| days.into_iter().find_map(|d| d.deny_cause))
                .map(|c| format!(" (МИС: «{c}»)"))
                .unwrap_or_default();
            report.line(
                Level::Warn,
                id,
                &format!(
                    "{} / {}: расписание на 14 дней не составлено{cause} — пациенты не видят врача",
                    s.name, d.name
                ),
                &format!(
                    "{} / {}: no schedule built for the next 14 days — patients do not see the doctor",
                    s.name, d.name
                ),
            );
        } else if d.free_tickets == Some(0) {
            report.line(
                Level::Warn,
                id,
                &format!(
                    "{} / {}: нет свободных талонов для записи через интернет — пациентам остаётся лист ожидания (или направление)",
                    s.name, d.name
                ),
                &format!(
                    "{} / {}: no free tickets open to online booking — patients can only join the waiting list (or come by referral)",
                    s.name, d.name
                ),
            );
        }
    }
    doctors.len()
}

pub(crate) async fn check_clinic<W: Write>(
    report: &mut Report<'_, W>,
    clinic: &ClinicConfig,
    hub: &dyn Mis,
    identity: Option<&PatientIdentity>,
) {
    let id = clinic.id.as_str();
    let lpu = LpuId::new(clinic.mis.id_lpu);
    if !check_reachable(report, id, hub).await {
        return;
    }
    if clinic.mis.protocol == crate::config::Protocol::Fhir {
        if !check_fhir(report, clinic).await {
            return;
        }
    } else if !check_known(report, id, hub, lpu).await {
        return;
    }
    let Some(specialties) = check_specialties(report, id, hub, lpu).await else {
        return;
    };
    let fortnight = fortnight_of(clinic);
    let mut doctors_seen = 0;
    for s in &specialties {
        doctors_seen += check_doctors(report, (id, hub, lpu), s, fortnight).await;
    }
    report.line(
        Level::Ok,
        id,
        &format!(
            "проверено специальностей: {}, врачей: {doctors_seen}",
            specialties.len()
        ),
        &format!(
            "{} specialties and {doctors_seen} doctors checked",
            specialties.len()
        ),
    );
    if let Some(identity) = identity {
        check_patient(report, id, hub, lpu, identity).await;
    }
}

async fn check_patient<W: Write>(
    report: &mut Report<'_, W>,
    id: &str,
    hub: &dyn Mis,
    lpu: LpuId,
    identity: &PatientIdentity,
) {
    match hub.find_patient(lpu, identity).await {
        Ok(_) => report.line(
            Level::Ok,
            id,
            "идентификация: пациент найден (одна карта)",
            "identification: the patient is found (one card)",
        ),
        Err(MisError::PatientNotFound) => report.line(
            Level::Warn,
            id,
            "идентификация: пациента с этими данными нет в МИС — проверьте данные в картотеке",
            "identification: the МИС has no patient with these data — check the patient's card",
        ),
        Err(MisError::PatientNotUnique) => report.line(
            Level::Warn,
            id,
            "идентификация: данным соответствуют несколько карт (дубли) — объедините карты в МИС",
            "identification: the data match several cards (duplicates) — merge them in the МИС",
        ),
        Err(e) => report.line(
            Level::Fail,
            id,
            &format!("идентификация не удалась: {e}"),
            &format!("identification failed: {e}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fortnight_is_fourteen_days_and_the_calendar_s_end_is_one_day() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 25).expect("a date");
        let range = fortnight_from(day);
        assert_eq!(range.from(), day);
        assert_eq!(
            range.to(),
            chrono::NaiveDate::from_ymd_opt(2027, 1, 7).expect("a date")
        );
        // Where thirteen more days do not exist, the check reads the one day there is.
        for last in [
            chrono::NaiveDate::MAX,
            chrono::NaiveDate::MAX - Days::new(12),
        ] {
            let range = fortnight_from(last);
            assert_eq!((range.from(), range.to()), (last, last));
        }
        let range = fortnight_from(chrono::NaiveDate::MAX - Days::new(13));
        assert_eq!(range.to(), chrono::NaiveDate::MAX);
    }
}
