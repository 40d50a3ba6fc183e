//! `registratura check`: what an operator runs after installing or changing the gateway, and
//! whenever patients complain. It validates the configuration, then, against each configured
//! МИС (the sandbox by default), prints one plain line per finding, in Russian and English:
//! the МИС answers and how fast, the `guid` is accepted, the clinic exists; and the cases of
//! the seed's table 1 that hide things from patients: specialties and doctors without free
//! tickets, doctors without a schedule for the next 14 days. With `--patient` it tries one
//! identification (three lines on standard input) without ever printing what was typed.
//!
//! Before the МИС, what the gateway needs beside it: the TLS certificate and key, a writable
//! audit trail, a Redis that answers.
//!
//! Exit status: 1 when the gateway cannot work (bad configuration, an unreadable certificate,
//! an audit trail that cannot be written, Redis not answering, a МИС that cannot be reached, a
//! refused `guid`, a missing clinic); data findings are warnings (0), unless
//! `--strict` (then 2).

use crate::config::{ClinicConfig, Config};
use crate::startup::{clinic_clients, region_hub, start_sandbox};
use chrono::Days;
use mis::{
    BirthDate, DateRange, DocumentNumber, LpuId, Mis, MisError, PatientIdentity, PolicyNumber,
};
use std::io::{BufRead, Write};
use std::time::Instant;

/// What to check beyond the МИС and its data.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Warnings fail the check too.
    pub strict: bool,
    /// Try one identification, read from standard input.
    pub patient: bool,
}

/// How a finding weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    Warn,
    Fail,
}

/// The findings so far.
struct Report<'a, W: Write> {
    out: &'a mut W,
    failures: usize,
    warnings: usize,
}

impl<W: Write> Report<'_, W> {
    fn line(&mut self, level: Level, clinic: &str, russian: &str, english: &str) {
        let tag = match level {
            Level::Ok => "OK  ",
            Level::Warn => {
                self.warnings += 1;
                "WARN"
            }
            Level::Fail => {
                self.failures += 1;
                "FAIL"
            }
        };
        let _ = writeln!(self.out, "{tag} {clinic}: {russian} / {english}");
    }

    /// A finding the gateway would refuse to start on: `error` is the start-up error it gives.
    fn wont_start(&mut self, what: &str, error: &dyn std::fmt::Display) {
        self.line(
            Level::Fail,
            what,
            &format!("гейт не запустится: {error}"),
            &format!("the gateway will not start: {error}"),
        );
    }
}

/// The exit status of a check.
pub fn exit_code(failures: usize, warnings: usize, strict: bool) -> u8 {
    if failures > 0 {
        1
    } else if strict && warnings > 0 {
        2
    } else {
        0
    }
}

/// Runs the check and returns the exit status.
pub async fn run(
    config: Result<Config, crate::config::ConfigError>,
    options: Options,
    out: &mut impl Write,
    input: &mut impl BufRead,
) -> u8 {
    let mut report = Report {
        out,
        failures: 0,
        warnings: 0,
    };
    let config = match config {
        Ok(c) => {
            report.line(
                Level::Ok,
                "config",
                "конфигурация верна",
                "the configuration is valid",
            );
            c
        }
        Err(e) => {
            report.line(
                Level::Fail,
                "config",
                &format!("ошибка в конфигурации: {e}"),
                &format!("the configuration is wrong: {e}"),
            );
            return 1;
        }
    };
    check_host(&mut report, &config).await;
    // The check reads the sandbox's data through a server of its own, beside a gateway that
    // may be running with the configured port.
    let mut config = config;
    config.sandbox.listen = "127.0.0.1:0".into();
    let sandbox = match start_sandbox(&config, 1) {
        Ok(s) => s,
        Err(e) => {
            report.line(
                Level::Fail,
                "sandbox",
                &format!("песочница МИС не запускается: {e}"),
                &format!("the sandbox МИС cannot start: {e}"),
            );
            return 1;
        }
    };
    let sandbox_addr = sandbox.as_ref().map(|(_, addr, _)| *addr);
    let sandbox_handle = sandbox.as_ref().map(|(_, _, s)| s.handle());
    if let Some((_, _, server)) = sandbox {
        tokio::spawn(server);
    }
    let clients = match clinic_clients(&config, sandbox_addr) {
        Ok(c) => c,
        Err(e) => {
            report.line(Level::Fail, "config", &e.to_string(), &e.to_string());
            return 1;
        }
    };
    let mut identity = None;
    if options.patient {
        identity = read_identity(&mut report, input);
    }
    for (clinic, hub) in &clients {
        check_clinic(&mut report, clinic, hub.as_ref(), identity.as_ref()).await;
    }
    for region in &config.effective_regions() {
        check_region(&mut report, region, sandbox_addr).await;
    }
    if let Some(h) = sandbox_handle {
        h.stop(false).await;
    }
    let (failures, warnings) = (report.failures, report.warnings);
    let _ = writeln!(
        report.out,
        "Итог: ошибок {failures}, предупреждений {warnings} / Summary: {failures} failures, {warnings} warnings"
    );
    exit_code(failures, warnings, options.strict)
}

/// A region: whether its hub gives the catalogue, how many clinics it lists, and which of
/// the active ones answer (their specialties, asked eight at a time).
async fn check_region<W: Write>(
    report: &mut Report<'_, W>,
    region: &crate::config::RegionConfig,
    sandbox: Option<std::net::SocketAddr>,
) {
    use futures_util::StreamExt;
    let what = format!("region {}", region.id);
    let hub = match region_hub(region, sandbox) {
        Ok(h) => std::sync::Arc::new(h),
        Err(e) => return report.line(Level::Fail, &what, &e.to_string(), &e.to_string()),
    };
    let catalogue = gateway_domain::region::Catalogue::new(&region.id, &region.name, hub.clone());
    if let Err(e) = catalogue.refresh().await {
        return report.line(
            Level::Fail,
            &what,
            &format!("концентратор региона не отдаёт справочник: {e}"),
            &format!("the region's hub gives no catalogue: {e}"),
        );
    }
    let snapshot = catalogue.snapshot().unwrap_or_default();
    let active: Vec<_> = snapshot.clinics.iter().filter(|c| c.active).collect();
    // A clinic is asked as the gateway asks it: within one attempt's time.
    let calls = crate::config::RegionConfig {
        timeout_ms: region.attempt_timeout_ms,
        ..region.clone()
    };
    let hub = match region_hub(&calls, sandbox) {
        Ok(h) => std::sync::Arc::new(h),
        Err(e) => return report.line(Level::Fail, &what, &e.to_string(), &e.to_string()),
    };
    report.line(
        Level::Ok,
        &what,
        &format!(
            "районов: {}, учреждений: {} (работают: {})",
            snapshot.districts.len(),
            snapshot.clinics.len(),
            active.len()
        ),
        &format!(
            "{} districts, {} clinics ({} active)",
            snapshot.districts.len(),
            snapshot.clinics.len(),
            active.len()
        ),
    );
    let mut silent: Vec<String> = futures_util::stream::iter(active)
        .map(|c| {
            let hub = hub.clone();
            async move {
                match Mis::specialties(&*hub, c.lpu).await {
                    Ok(_) => None,
                    Err(e) => Some(format!("{} ({e})", c.id)),
                }
            }
        })
        .buffer_unordered(8)
        .filter_map(std::future::ready)
        .collect()
        .await;
    silent.sort();
    if silent.is_empty() {
        report.line(
            Level::Ok,
            &what,
            "все работающие учреждения отвечают",
            "every active clinic answers",
        );
    } else {
        let shown = silent
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        report.line(
            Level::Warn,
            &what,
            &format!("не отвечают {}: {shown}", silent.len()),
            &format!("{} do not answer: {shown}", silent.len()),
        );
    }
}

/// What the gateway needs beside its МИС: the TLS certificate, the audit trail, Redis.
async fn check_host<W: Write>(report: &mut Report<'_, W>, config: &Config) {
    if let (Some(cert), Some(key)) = (&config.server.tls_cert, &config.server.tls_key) {
        match crate::tls::server_config(cert, key) {
            Ok(_) => report.line(
                Level::Ok,
                "tls",
                "сертификат и ключ TLS читаются",
                "the TLS certificate and key are readable",
            ),
            Err(e) => report.wont_start("tls", &e),
        }
    }
    if let Some(path) = &config.audit.path {
        match gateway_domain::audit::probe(path) {
            Ok(()) => report.line(
                Level::Ok,
                "audit",
                &format!("журнал аудита {} доступен для записи", path.display()),
                &format!("the audit trail {} can be written", path.display()),
            ),
            Err(e) => report.wont_start("audit", &crate::startup::audit_error(path, &e)),
        }
    }
    if config.state.redis_url.is_some() {
        let answer = match crate::startup::shared_state(config).await {
            Ok(shared) => shared.health.check().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match answer {
            Ok(()) => report.line(Level::Ok, "redis", "Redis отвечает", "Redis answers"),
            Err(e) => report.line(
                Level::Fail,
                "redis",
                &format!("Redis не отвечает ({e}): вход пациентов и запись будут отклоняться"),
                &format!("Redis does not answer ({e}): identification and booking will be refused"),
            ),
        }
    }
}

/// Reads the three identity lines (document, policy, birth date) from `input`.
fn read_identity<W: Write>(
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
    let client = match crate::startup::fhir_client(clinic) {
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

async fn check_clinic<W: Write>(
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
    fn failures_fail_and_warnings_fail_only_when_strict() {
        assert_eq!(exit_code(0, 0, true), 0);
        assert_eq!(exit_code(0, 3, false), 0);
        assert_eq!(exit_code(0, 3, true), 2);
        assert_eq!(exit_code(1, 0, false), 1);
    }

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
