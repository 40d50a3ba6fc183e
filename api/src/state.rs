//! The gateway's shared state: the clinics with their МИС ports, sessions, idempotency keys
//! and what the gateway remembers of the tickets it booked.

use crate::error::ApiError;
use crate::guard::GuardedMis;
use crate::sessions::Session;
use actix_web::HttpRequest;
use api_types::ErrorCode;
use chrono::{DateTime, Days, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use mis::{AppointmentId, LpuId};
use std::sync::Arc;

/// How far back a date may be asked for.
const DAYS_BACK: Days = Days::new(365);
/// How far ahead a date may be asked for.
const DAYS_AHEAD: Days = Days::new(730);

/// Whether a date lies in the window the API serves around `today`: a year back, two ahead.
/// No schedule lies outside it, and nothing computed from a date inside it can overflow.
pub fn in_window(date: NaiveDate, today: NaiveDate) -> bool {
    let first = today.checked_sub_days(DAYS_BACK).unwrap_or(NaiveDate::MIN);
    let last = today.checked_add_days(DAYS_AHEAD).unwrap_or(NaiveDate::MAX);
    (first..=last).contains(&date)
}

/// One clinic served by this gateway.
#[derive(Debug, Clone)]
pub struct ClinicEntry {
    pub info: api_types::Clinic,
    pub lpu: LpuId,
    pub tz: Tz,
    pub mis: Arc<GuardedMis>,
}

impl ClinicEntry {
    /// The clinic's local time now.
    pub fn now(&self) -> NaiveDateTime {
        chrono::Utc::now().with_timezone(&self.tz).naive_local()
    }

    pub fn today(&self) -> NaiveDate {
        self.now().date()
    }

    /// Whether a date lies in the window the API serves around the clinic's today.
    pub fn in_window(&self, date: NaiveDate) -> bool {
        in_window(date, self.today())
    }

    /// A free ticket of `doctor` as the API shows it (naming the doctor when `name` is given).
    pub fn slot(
        &self,
        doctor: &crate::ids::DoctorKey,
        slot: mis::Slot,
        name: Option<&str>,
    ) -> api_types::Slot {
        api_types::Slot {
            id: crate::ids::SlotKey {
                doctor: doctor.clone(),
                appointment: slot.id,
                date: slot.start.date(),
            }
            .encode(),
            start: self.localize(slot.start),
            end: self.localize(slot.end),
            room: slot.room,
            address: slot.address,
            number: slot.number,
            doctor: name.map(|name| api_types::NamedRef {
                id: doctor.encode(),
                name: name.to_owned(),
            }),
        }
    }

    /// A clinic-local time with the clinic's offset.
    pub fn localize(&self, t: NaiveDateTime) -> DateTime<FixedOffset> {
        match self.tz.from_local_datetime(&t).earliest() {
            Some(dt) => dt.fixed_offset(),
            // A time in a DST gap does not exist locally; the instant an hour later does.
            None => t
                .checked_add_signed(chrono::Duration::hours(1))
                .and_then(|later| self.tz.from_local_datetime(&later).earliest())
                .map_or_else(|| t.and_utc().fixed_offset(), |dt| dt.fixed_offset()),
        }
    }
}

/// What the gateway learned of a ticket when it booked it, which the hub's patient history
/// does not report (number, room, address, end, the referral it was booked by).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SlotDetails {
    pub number: Option<u32>,
    pub room: Option<String>,
    pub address: Option<String>,
    pub end: NaiveDateTime,
    /// The referral's number, for a visit booked (or moved) by one.
    #[serde(default)]
    pub referral: Option<String>,
}

type MemoKey = (String, AppointmentId);

/// A bounded memory of [`SlotDetails`]: at most [`MEMO_CAPACITY`] tickets, the least used
/// forgotten first.
#[derive(Debug)]
pub struct TicketMemo {
    details: moka::sync::Cache<MemoKey, SlotDetails>,
}

/// The most tickets whose details are remembered.
pub const MEMO_CAPACITY: u64 = 100_000;

impl Default for TicketMemo {
    fn default() -> Self {
        Self::with_capacity(MEMO_CAPACITY)
    }
}

impl TicketMemo {
    /// A memory of at most `capacity` tickets.
    pub fn with_capacity(capacity: u64) -> Self {
        Self {
            details: moka::sync::Cache::new(capacity),
        }
    }

    pub fn remember(&self, clinic: &str, id: &AppointmentId, details: SlotDetails) {
        self.details
            .insert((clinic.to_owned(), id.clone()), details);
    }

    /// Forgets a ticket (cancelled).
    pub fn forget(&self, clinic: &str, id: &AppointmentId) {
        self.details.invalidate(&(clinic.to_owned(), id.clone()));
    }

    pub fn recall(&self, clinic: &str, id: &AppointmentId) -> Option<SlotDetails> {
        self.details.get(&(clinic.to_owned(), id.clone()))
    }
}

/// Where bookings and cancellations run: in tasks of their own on the runtime that built the
/// gateway (which outlives its HTTP workers), tracked, so that a shutdown waits for every one
/// that started, even one whose client went away.
#[derive(Debug, Clone)]
pub struct Writes {
    handle: tokio::runtime::Handle,
    tracker: tokio_util::task::TaskTracker,
}

impl Writes {
    /// Writes on the current runtime.
    pub fn current() -> Self {
        Self {
            handle: tokio::runtime::Handle::current(),
            tracker: tokio_util::task::TaskTracker::new(),
        }
    }

    /// Runs `task` to its end, whatever becomes of the request that started it.
    pub fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.tracker.spawn_on(task, &self.handle)
    }

    /// Waits up to `grace` for the writes under way; whether all finished.
    pub async fn drain(&self, grace: std::time::Duration) -> bool {
        self.tracker.close();
        tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_ok()
    }

    /// How many writes are under way.
    pub fn len(&self) -> usize {
        self.tracker.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tracker.is_empty()
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct AppState {
    clinics: Vec<ClinicEntry>,
    /// Sessions, idempotency keys, limits, ticket details: in memory or in Redis.
    pub shared: crate::shared::Shared,
    /// The shortest time an identification answer takes.
    pub identify_min: std::time::Duration,
    /// The audit trail, when configured.
    pub audit: Option<Arc<crate::audit::Audit>>,
    pub writes: Writes,
    /// When the gateway started (for the status page).
    pub started: std::time::Instant,
    /// The address patients reach the gateway at (`server.public_url`), without a final `/`.
    pub public_url: Option<String>,
    /// How long a request's body may take to arrive (`server.body_timeout_secs`).
    pub body_timeout: std::time::Duration,
}

impl AppState {
    pub fn new(clinics: Vec<ClinicEntry>, shared: crate::shared::Shared) -> Self {
        Self {
            clinics,
            shared,
            identify_min: std::time::Duration::ZERO,
            audit: None,
            writes: Writes::current(),
            started: std::time::Instant::now(),
            public_url: None,
            body_timeout: std::time::Duration::from_secs(10),
        }
    }

    pub fn clinics(&self) -> &[ClinicEntry] {
        &self.clinics
    }

    pub fn clinic(&self, id: &str) -> Result<&ClinicEntry, ApiError> {
        self.clinics
            .iter()
            .find(|c| c.info.id == id)
            .ok_or_else(|| ApiError::not_found("clinic"))
    }

    /// Takes the session's patient's lock, for a step that checks the МИС and then acts on what
    /// it found: another request of the patient waits its turn (as long as one МИС read may
    /// take, and a little more), then is refused with `request_in_progress`.
    pub async fn patient_lock(
        &self,
        clinic: &ClinicEntry,
        session: &Session,
    ) -> Result<crate::shared::Held, ApiError> {
        let wait = clinic.mis.deadline() + std::time::Duration::from_secs(1);
        match self
            .shared
            .locks
            .lock(&clinic.info.id, &session.patient, wait)
            .await?
        {
            Some(held) => Ok(held),
            None => {
                let mut error = ApiError::new(ErrorCode::RequestInProgress).detail(
                    "Another request of this patient is still being processed; try again in a moment.",
                );
                error.retry_after = Some(2);
                Err(error)
            }
        }
    }

    /// The live session named by the request's `Authorization: Bearer` token, for `clinic`.
    pub async fn session(
        &self,
        req: &HttpRequest,
        clinic: &ClinicEntry,
    ) -> Result<Session, ApiError> {
        let token = bearer(req).ok_or_else(|| {
            ApiError::new(ErrorCode::SessionRequired)
                .detail("Send the session token as `Authorization: Bearer <token>`.")
        })?;
        self.shared
            .sessions
            .get(token)
            .await?
            .filter(|s| s.clinic == clinic.info.id)
            .ok_or_else(|| {
                ApiError::new(ErrorCode::SessionRequired)
                    .detail("The session is unknown or has expired.")
            })
    }
}

/// The bearer token of a request, if it has one.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = crate::headers::credential(req, actix_web::http::header::AUTHORIZATION)?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_tickets_stays_within_the_memo_s_cap() {
        let memo = TicketMemo::with_capacity(100);
        let end = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .expect("a time");
        let details = SlotDetails {
            number: Some(1),
            room: None,
            address: None,
            end,
            referral: Some("0000000001".into()),
        };
        for i in 0..5_000 {
            let id = AppointmentId::parse(format!("a{i}")).expect("an id");
            memo.remember("demo", &id, details.clone());
        }
        memo.details.run_pending_tasks();
        assert!(
            memo.details.entry_count() <= 100,
            "{}",
            memo.details.entry_count()
        );
        let last = AppointmentId::parse("a4999").expect("an id");
        memo.forget("demo", &last);
        assert_eq!(memo.recall("demo", &last), None);
    }
}
