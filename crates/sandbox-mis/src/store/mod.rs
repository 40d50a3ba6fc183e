//! The sandbox's state in SQLite, and the contract's operations on it.
//!
//! One connection behind a mutex serializes every operation, and booking is a conditional
//! update inside a transaction, so a ticket is taken exactly once whatever the concurrency.
//! Referrals ([`referral`]) and the waiting list ([`waiting`]) have modules of their own.

pub mod catalogue;
mod referral;
mod waiting;

use crate::seed::{self, Schedule};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use mis_hub::contract::{
    self, Appointment, AppointmentsResult, AvailableDatesResult, CheckPatientResult, Doctor,
    DoctorListResult, GetPatientsAreas, HistoryVisit, MethodResult, NoMembers,
    PatientHistoryResult, PatientQuery, PatientsArea, PatientsAreasResult, Request, Response,
    ResultBody, SetAppointmentResult, SpecialistType, Spesiality, SpesialityListResult, User,
    VersionResult, Window, WorkingTime, WorkingTimeResult,
};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

/// The contract's error codes the sandbox answers with.
mod code {
    pub const INCOMPLETE: i32 = 4;
    pub const PATIENT_NOT_FOUND: i32 = 20;
    pub const PATIENT_NOT_UNIQUE: i32 = 21;
    pub const NOT_ALLOWED: i32 = 22;
    pub const ALREADY_BOOKED: i32 = 35;
    pub const INVALID_TICKET: i32 = 38;
    pub const TICKET_TAKEN: i32 = 39;
    pub const NOTHING_TO_CANCEL: i32 = 75;
    pub const TECHNICAL: i32 = 99;
    pub use mis_hub::codes::*;
}

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the sandbox database: {0}")]
pub struct StoreError(#[from] rusqlite::Error);

/// A failed operation: the contract's `IdError` and its description.
struct Refusal(i32, &'static str);

impl From<rusqlite::Error> for Refusal {
    fn from(e: rusqlite::Error) -> Self {
        tracing::error!(error = %e, "sandbox database error");
        Refusal(code::TECHNICAL, "Техническая ошибка")
    }
}

type Outcome = Result<ResultBody, Refusal>;

/// A free ticket about to be booked: its doctor and what the booking rules need of it.
#[derive(Debug)]
struct Ticket {
    doctor: String,
    specialty: String,
    /// The doctor is a general practitioner (`SpecialistType::General`).
    general: bool,
    /// The doctor sees patients only by referral.
    by_referral: bool,
}

const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS specialty (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, fer_id TEXT, general INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS doctor (
    id TEXT PRIMARY KEY, specialty_id TEXT NOT NULL REFERENCES specialty(id), name TEXT NOT NULL,
    comment TEXT, room TEXT, minutes INTEGER NOT NULL, schedule INTEGER NOT NULL, ord INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS schedule_day (
    doctor_id TEXT NOT NULL, day TEXT NOT NULL, PRIMARY KEY (doctor_id, day)
);
CREATE TABLE IF NOT EXISTS slot (
    id TEXT PRIMARY KEY, doctor_id TEXT NOT NULL REFERENCES doctor(id), start TEXT NOT NULL,
    end TEXT NOT NULL, num INTEGER NOT NULL, room TEXT, address TEXT,
    patient_id TEXT, booked_at TEXT
);
CREATE INDEX IF NOT EXISTS slot_by_doctor ON slot (doctor_id, start);
CREATE INDEX IF NOT EXISTS slot_by_patient ON slot (patient_id);
CREATE TABLE IF NOT EXISTS patient (
    id TEXT PRIMARY KEY, surname TEXT NOT NULL, name TEXT NOT NULL, second_name TEXT,
    birth_date TEXT NOT NULL, document TEXT NOT NULL, policy TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS patient_by_identity ON patient (birth_date, document, policy);
CREATE TABLE IF NOT EXISTS refusal (
    slot_id TEXT NOT NULL, patient_id TEXT NOT NULL, doctor_id TEXT NOT NULL,
    start TEXT NOT NULL, booked_at TEXT NOT NULL, refused_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS referral (
    number TEXT PRIMARY KEY, patient_id TEXT NOT NULL, doctor_id TEXT NOT NULL REFERENCES doctor(id),
    kind TEXT NOT NULL, issued TEXT NOT NULL, valid_until TEXT NOT NULL, slot_id TEXT,
    cancelled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS waiting (
    id INTEGER PRIMARY KEY AUTOINCREMENT, patient_id TEXT NOT NULL, specialty_id TEXT NOT NULL,
    specialty_name TEXT, fer_id TEXT, doctor_id TEXT, doctor_name TEXT, claim TEXT, info TEXT,
    phone TEXT, start TEXT, end TEXT, source INTEGER NOT NULL, created TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1, deactivated TEXT, reason INTEGER, comment TEXT
);
CREATE INDEX IF NOT EXISTS waiting_by_patient ON waiting (patient_id, active);
CREATE INDEX IF NOT EXISTS waiting_by_state ON waiting (active, id);
";

/// Columns added after the first release, for databases created before them.
const MIGRATIONS: &[(&str, &str, &str)] = &[(
    "doctor",
    "by_referral",
    "ALTER TABLE doctor ADD COLUMN by_referral INTEGER NOT NULL DEFAULT 0",
)];

fn fmt(dt: NaiveDateTime) -> String {
    contract::format_datetime(dt)
}

fn parse(s: &str) -> NaiveDateTime {
    // Every time in the database was written by `fmt`.
    contract::parse_datetime(s).unwrap_or_default()
}

/// The sandbox's database.
#[derive(Debug)]
pub struct Store {
    /// The clinic of the region whose МИС this is.
    clinic: &'static seed::ClinicSeed,
    conn: Mutex<Connection>,
    built_until: Mutex<Option<NaiveDate>>,
}

impl Store {
    /// Opens (creating and seeding on first use) the demo clinic's database at `path`;
    /// `:memory:` keeps it in memory.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_clinic(path, &seed::CLINICS[0])
    }

    /// Opens the database of the region's clinic `clinic` at `path`.
    pub fn open_clinic(path: &Path, clinic: &'static seed::ClinicSeed) -> Result<Self, StoreError> {
        let conn = if path.as_os_str() == ":memory:" {
            Connection::open_in_memory()?
        } else {
            Connection::open(path)?
        };
        conn.pragma_update(None, "journal_mode", "WAL").ok();
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        for (table, column, alter) in MIGRATIONS {
            let present: i64 = conn.query_row(
                &format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = ?1"),
                [column],
                |r| r.get(0),
            )?;
            if present == 0 {
                conn.execute_batch(alter)?;
            }
        }
        let store = Self {
            clinic,
            conn: Mutex::new(conn),
            built_until: Mutex::new(None),
        };
        store.seed()?;
        Ok(store)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (it rolls back), so
        // a poisoned lock is still safe to use.
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn seed(&self) -> rusqlite::Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let seeded: i64 = tx.query_row("SELECT COUNT(*) FROM specialty", [], |r| r.get(0))?;
        if seeded == 0 {
            let offered = |specialty: &str| {
                self.clinic.specialties.is_empty() || self.clinic.specialties.contains(&specialty)
            };
            for (id, name, fer, general) in seed::SPECIALTIES {
                if !offered(id) {
                    continue;
                }
                tx.execute(
                    "INSERT INTO specialty (id, name, fer_id, general) VALUES (?1, ?2, ?3, ?4)",
                    params![id, name, fer, general],
                )?;
            }
            for (ord, (id, spec, name, comment, room, minutes, schedule)) in
                seed::DOCTORS.iter().enumerate()
            {
                if !offered(spec) {
                    continue;
                }
                tx.execute(
                    "INSERT INTO doctor (id, specialty_id, name, comment, room, minutes, schedule, ord)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![id, spec, name, comment, room, minutes, schedule.code(), ord as i64],
                )?;
            }
            for (id, surname, name, second, birth, doc, policy) in seed::PATIENTS {
                tx.execute(
                    "INSERT INTO patient (id, surname, name, second_name, birth_date, document, policy)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![id, surname, name, second, birth, doc, policy],
                )?;
            }
            tracing::info!(clinic = self.clinic.lpu, "sandbox МИС database seeded");
        }
        // Which doctors see patients only by referral follows the seed, in old databases too.
        for (id, ..) in seed::DOCTORS {
            // Absent doctors (of specialties the clinic has not) are updated nowhere.
            tx.execute(
                "UPDATE doctor SET by_referral = ?2 WHERE id = ?1",
                params![id, seed::BY_REFERRAL.contains(id)],
            )?;
        }
        tx.commit()
    }

    /// Adds a patient card (for tests that need many patients). `document` and `policy` are
    /// normalized as the sandbox compares them.
    pub fn add_patient(
        &self,
        id: &str,
        document: &str,
        policy: &str,
        birth_date: NaiveDate,
    ) -> rusqlite::Result<()> {
        self.lock().execute(
            "INSERT INTO patient (id, surname, name, second_name, birth_date, document, policy)
             VALUES (?1, 'Тестовый', 'Пациент', NULL, ?2, ?3, ?4)",
            params![
                id,
                birth_date.format("%Y-%m-%d").to_string(),
                seed::normalize(None, Some(document)),
                seed::normalize(None, Some(policy))
            ],
        )?;
        Ok(())
    }

    /// The tickets booked by patients (not the seed's occupant), by id: what a test checks
    /// after the fact.
    pub fn booked_slots(&self) -> rusqlite::Result<Vec<String>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT id FROM slot WHERE patient_id IS NOT NULL AND patient_id <> ?1 ORDER BY id",
        )?;
        stmt.query_map([seed::OCCUPANT_ID], |r| r.get(0))?.collect()
    }

    /// Builds the schedule of every doctor whose schedule exists for the days from `today`
    /// on, where it is not built yet. Runs once per day.
    pub fn ensure_schedule(&self, today: NaiveDate) -> rusqlite::Result<()> {
        let mut built = self
            .built_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *built == Some(today) {
            return Ok(());
        }
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let doctors: Vec<(String, Option<String>, i64, i64, i64)> = {
            let mut stmt =
                tx.prepare("SELECT id, room, minutes, schedule, ord FROM doctor ORDER BY ord")?;
            stmt.query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<rusqlite::Result<_>>()?
        };
        let mut added = 0usize;
        for (doctor, room, minutes, schedule, ord) in doctors {
            if schedule == Schedule::NotBuilt.code() {
                continue;
            }
            for offset in 0..seed::SCHEDULE_DAYS {
                let day = today + Duration::days(offset);
                if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                    continue;
                }
                let day_text = day.format("%Y-%m-%d").to_string();
                let fresh = tx.execute(
                    "INSERT OR IGNORE INTO schedule_day (doctor_id, day) VALUES (?1, ?2)",
                    params![doctor, day_text],
                )?;
                if fresh == 0 {
                    continue;
                }
                // Doctors alternate morning and afternoon shifts, four hours each.
                let morning = (ord + i64::from(day.ordinal())) % 2 == 0;
                let first = NaiveTime::from_hms_opt(if morning { 8 } else { 14 }, 0, 0)
                    .unwrap_or(NaiveTime::MIN);
                let count = 240 / minutes.max(1);
                for n in 0..count {
                    let start = day.and_time(first) + Duration::minutes(n * minutes);
                    let end = start + Duration::minutes(minutes);
                    let id = format!("{doctor}-{}", start.format("%Y%m%d-%H%M"));
                    let taken = schedule == Schedule::FullyBooked.code()
                        || seed::stable_hash(&id).is_multiple_of(4);
                    let address = if room.as_deref() == Some("Травмпункт") {
                        format!("{}, корпус 2", self.clinic.address)
                    } else {
                        self.clinic.address.to_owned()
                    };
                    tx.execute(
                        "INSERT OR IGNORE INTO slot (id, doctor_id, start, end, num, room, address, patient_id, booked_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        params![
                            id,
                            doctor,
                            fmt(start),
                            fmt(end),
                            n + 1,
                            room,
                            address,
                            taken.then_some(seed::OCCUPANT_ID),
                            taken.then(|| fmt(day.and_time(NaiveTime::MIN) - Duration::days(3))),
                        ],
                    )?;
                    added += 1;
                }
            }
        }
        if self.clinic.lpu == seed::LPU_ID {
            referral::refresh_seed(&tx, today)?;
        }
        tx.commit()?;
        *built = Some(today);
        if added > 0 {
            tracing::info!(tickets = added, from = %today, "sandbox МИС schedule built");
        }
        Ok(())
    }

    /// Answers one request at the clinic-local time `now`.
    pub fn handle(&self, request: &Request, now: NaiveDateTime) -> Response {
        if let Err(e) = self.ensure_schedule(now.date()) {
            tracing::error!(error = %e, "cannot build the sandbox schedule");
        }
        let op = request.operation();
        let outcome = match request {
            Request::GetVersion(_) => Ok(ResultBody::GetVersion(VersionResult {
                database_version: Some("sandbox-1".into()),
                service_version: Some(
                    concat!("registratura-sandbox ", env!("CARGO_PKG_VERSION")).into(),
                ),
            })),
            Request::GetDistrictList(_) | Request::GetLpuList(_) | Request::GetLpuInfo(_) => {
                // The seed's region: the sandbox's hub answers a larger one before its stores.
                if let Some(answer) = catalogue::RegionSeed::default().answer(request) {
                    return answer;
                }
                Ok(ResultBody::empty(op))
            }
            Request::GetPatientsAreas(r) => self.patient_areas(r),
            Request::GetSpesialityList(r) => {
                self.serves(r.id_lpu).and_then(|()| self.specialties(now))
            }
            Request::GetDoctorList(r) => self
                .serves(r.id_lpu)
                .and_then(|()| self.doctors(&r.id_spesiality, now)),
            Request::GetAvailableDates(w) => self
                .serves(w.id_lpu)
                .and_then(|()| self.available_dates(w, now)),
            Request::GetAvaibleAppointments(w) => self.serves(w.id_lpu).and_then(|()| {
                self.appointments(&w.id_doc, w.visit_start, w.visit_end, false, now)
                    .map(ResultBody::GetAvaibleAppointments)
            }),
            Request::GetWorkingTime(r) => self
                .serves(r.id_lpu)
                .and_then(|()| self.working_time(&r.id_doc, r.visit_start, r.visit_end)),
            Request::CheckPatient(r) => self
                .serves(r.id_lpu)
                .and_then(|()| self.check_patient(&r.pat)),
            Request::SetAppointment(r) => self.serves(r.id_lpu).and_then(|()| {
                self.set_appointment(
                    &r.id_appointment,
                    &r.id_pat,
                    r.id_appointment_prev
                        .as_deref()
                        .filter(|p| !p.trim().is_empty()),
                    r.doctors_referral
                        .as_deref()
                        .filter(|p| !p.trim().is_empty()),
                    now,
                )
            }),
            Request::CreateClaimForRefusal(r) => self
                .serves(r.id_lpu)
                .and_then(|()| self.refuse(&r.id_appointment, &r.id_pat, now)),
            Request::GetPatientHistory(r) => {
                self.serves(r.id_lpu).and_then(|()| self.history(&r.id_pat))
            }
            Request::InspectDoctorsReferal(r) => self
                .serves(r.id_lpu)
                .and_then(|()| self.inspect_referral(r.doctors_referal.as_deref())),
            Request::CheckReferral(r) => self.check_referral(r.doctors_referral.as_deref()),
            Request::GetAppointmentsDemandDoctorsReferal(r) => {
                self.serves(r.id_lpu).and_then(|()| {
                    let doctor = r.id_doc.as_deref().unwrap_or_default();
                    self.appointments(doctor, r.start_visit, r.end_visit, true, now)
                        .map(ResultBody::GetAppointmentsDemandDoctorsReferal)
                })
            }
            Request::RegisterPARequest(r) => self.register_request(r.request.as_ref(), now),
            Request::SearchActivePARequests(r) => self.search_requests(r.filter.as_ref()),
            Request::CancelPARequest(r) => self.cancel_request(r.request.as_ref(), now),
        };
        respond(op, outcome)
    }

    fn specialties(&self, now: NaiveDateTime) -> Outcome {
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

    fn doctors(&self, specialty: &str, now: NaiveDateTime) -> Outcome {
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
    fn known_doctor(conn: &Connection, id: &str) -> Result<bool, Refusal> {
        conn.query_row("SELECT by_referral FROM doctor WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or(Refusal(code::INCOMPLETE, "Врач не найден"))
    }

    fn available_dates(&self, w: &Window, now: NaiveDateTime) -> Outcome {
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
    fn appointments(
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

    fn working_time(&self, doctor: &str, from: NaiveDateTime, to: NaiveDateTime) -> Outcome {
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

    fn serves(&self, id_lpu: i32) -> Result<(), Refusal> {
        if id_lpu == self.clinic.lpu {
            Ok(())
        } else {
            Err(unknown_clinic())
        }
    }

    /// The areas the patient `r.id_pat` is attached to in the clinic `r.id_lpu`.
    fn patient_areas(&self, r: &GetPatientsAreas) -> Outcome {
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

    fn check_patient(&self, pat: &PatientQuery) -> Outcome {
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
    fn open_ticket(
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
    fn moved_booking(
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
    fn one_per_specialty(
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
    fn set_appointment(
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
    fn release(
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

    fn refuse(&self, slot: &str, patient: &str, now: NaiveDateTime) -> Outcome {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        Self::release(&tx, slot, patient, now)?;
        tx.commit()?;
        Ok(ResultBody::CreateClaimForRefusal(NoMembers {}))
    }

    fn history(&self, patient: &str) -> Outcome {
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

/// The answer of `op` to the МИС's `outcome`: its result, or its refusal's `ErrorList`.
fn respond(op: contract::Operation, outcome: Outcome) -> Response {
    match outcome {
        Ok(body) => Response {
            base: MethodResult::ok(),
            body,
        },
        Err(Refusal(id, text)) => Response {
            base: MethodResult::error(id, text),
            body: ResultBody::empty(op),
        },
    }
}

fn unknown_clinic() -> Refusal {
    Refusal(code::INCOMPLETE, "ЛПУ с указанным idLpu не найдено")
}

#[cfg(test)]
mod tests;
