//! The gateway's shared state: the clinics with their МИС ports, sessions, idempotency keys
//! and what the gateway remembers of the tickets it booked.

use crate::error::ApiError;
use crate::guard::GuardedMis;
use crate::idempotency::IdempotencyStore;
use crate::sessions::{Session, SessionStore};
use actix_web::HttpRequest;
use api_types::ErrorCode;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use mis::{AppointmentId, LpuId};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

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

    /// A clinic-local time with the clinic's offset.
    pub fn localize(&self, t: NaiveDateTime) -> DateTime<FixedOffset> {
        match self.tz.from_local_datetime(&t).earliest() {
            Some(dt) => dt.fixed_offset(),
            // A time in a DST gap does not exist locally; the instant an hour later does.
            None => self
                .tz
                .from_local_datetime(&(t + chrono::Duration::hours(1)))
                .earliest()
                .map_or_else(|| t.and_utc().fixed_offset(), |dt| dt.fixed_offset()),
        }
    }
}

/// What the gateway learned of a ticket when it booked it, which the hub's patient history
/// does not report (number, room, address, end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotDetails {
    pub number: Option<u32>,
    pub room: Option<String>,
    pub address: Option<String>,
    pub end: NaiveDateTime,
}

type MemoKey = (String, AppointmentId);
/// The details by ticket, and the tickets in the order they were remembered.
type Memo = (HashMap<MemoKey, SlotDetails>, VecDeque<MemoKey>);

/// A bounded memory of [`SlotDetails`], oldest forgotten first.
#[derive(Debug, Default)]
pub struct TicketMemo {
    inner: Mutex<Memo>,
}

const MEMO_CAPACITY: usize = 100_000;

impl TicketMemo {
    pub fn remember(&self, clinic: &str, id: &AppointmentId, details: SlotDetails) {
        let mut guard = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (map, order) = &mut *guard;
        let key = (clinic.to_owned(), id.clone());
        if map.insert(key.clone(), details).is_none() {
            order.push_back(key);
        }
        while order.len() > MEMO_CAPACITY {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
    }

    pub fn recall(&self, clinic: &str, id: &AppointmentId) -> Option<SlotDetails> {
        let guard = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.0.get(&(clinic.to_owned(), id.clone())).cloned()
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct AppState {
    clinics: Vec<ClinicEntry>,
    pub sessions: SessionStore,
    pub idempotency: IdempotencyStore,
    pub memo: TicketMemo,
    /// The shortest time an identification answer takes.
    pub identify_min: std::time::Duration,
}

impl AppState {
    pub fn new(clinics: Vec<ClinicEntry>, session_ttl: std::time::Duration) -> Self {
        Self {
            clinics,
            sessions: SessionStore::new(session_ttl),
            idempotency: IdempotencyStore::default(),
            memo: TicketMemo::default(),
            identify_min: std::time::Duration::ZERO,
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

    /// The live session named by the request's `Authorization: Bearer` token, for `clinic`.
    pub fn session(&self, req: &HttpRequest, clinic: &ClinicEntry) -> Result<Session, ApiError> {
        let token = bearer(req).ok_or_else(|| {
            ApiError::new(ErrorCode::SessionRequired)
                .detail("Send the session token as `Authorization: Bearer <token>`.")
        })?;
        self.sessions
            .get(token)
            .filter(|s| s.clinic == clinic.info.id)
            .ok_or_else(|| {
                ApiError::new(ErrorCode::SessionRequired)
                    .detail("The session is unknown or has expired.")
            })
    }
}

/// The bearer token of a request, if it has one.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
