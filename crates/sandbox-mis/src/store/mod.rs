//! The sandbox's state in SQLite, and the contract's operations on it.
//!
//! One connection behind a mutex serializes every operation, and booking is a conditional
//! update inside a transaction, so a ticket is taken exactly once whatever the concurrency.
//! The schedule's reads ([`schedule`]), the patient's bookings ([`booking`]), referrals
//! ([`referral`]) and the waiting list ([`waiting`]) have modules of their own; this one opens,
//! seeds and migrates the database and routes each request to its operation.

mod booking;
pub mod catalogue;
mod referral;
mod schedule;
mod waiting;

use crate::seed::{self, Schedule};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use mis_hub::contract::{self, MethodResult, Request, Response, ResultBody, VersionResult};
use rusqlite::{Connection, params};
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
CREATE TABLE IF NOT EXISTS patient_phone (
    patient_id TEXT PRIMARY KEY, home_phone TEXT, cell_phone TEXT, updated_at TEXT NOT NULL
);
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
            Request::UpdatePhoneByIdPat(r) => self.serves(r.id_lpu).and_then(|()| {
                self.update_phone(
                    &r.id_pat,
                    r.home_phone.as_deref(),
                    r.cell_phone.as_deref(),
                    now,
                )
            }),
        };
        respond(op, outcome)
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
