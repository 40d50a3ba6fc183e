//! [`Gateway`]: everything the domain's operations share — the clinics with their guarded МИС,
//! the shared state (sessions, idempotency keys, locks, what is remembered), the audit trail and
//! the tracked writes.

use crate::audit::Audit;
use crate::clinic::ClinicEntry;
use crate::failure::Failure;
use crate::region::RegionClinics;
use crate::region::seal::SessionKey;
use crate::sessions::Session;
use crate::shared::{Held, Shared};
use crate::writes::Writes;
use std::sync::Arc;
use std::time::Duration;
use vocabulary::ErrorCode;

/// The gateway's domain, as its shell holds it.
#[derive(Debug)]
pub struct Gateway {
    clinics: Vec<ClinicEntry>,
    /// Sessions, idempotency keys, limits, ticket details, locks: in memory or in Redis.
    pub shared: Shared,
    /// The shortest time an identification answer takes.
    pub identify_min: Duration,
    /// The audit trail, when configured.
    pub audit: Option<Arc<Audit>>,
    pub writes: Writes,
    /// The regions whose clinics are served (region mode).
    pub regions: Vec<Arc<RegionClinics>>,
    /// The key a region's sessions are sealed under (none: region sessions cannot be opened).
    pub session_key: Option<SessionKey>,
    /// How long a session lasts.
    pub session_ttl: Duration,
    /// The clinics' mail relays (none: tickets are not e-mailed).
    pub mail: crate::mail::Mail,
}

impl Gateway {
    pub fn new(clinics: Vec<ClinicEntry>, shared: Shared) -> Self {
        Self {
            clinics,
            shared,
            identify_min: Duration::ZERO,
            audit: None,
            writes: Writes::current(),
            regions: Vec::new(),
            session_key: SessionKey::random().ok(),
            session_ttl: Duration::from_secs(15 * 60),
            mail: crate::mail::Mail::default(),
        }
    }

    /// The clinics of the configuration (not those of a region).
    pub fn clinics(&self) -> &[ClinicEntry] {
        &self.clinics
    }

    /// The clinic `id`: one of the configuration's, or one of a region's catalogue
    /// (`<region>-<idLpu>`; an inactive one is `clinic_inactive`).
    pub fn clinic(&self, id: &str) -> Result<ClinicEntry, Failure> {
        if let Some(clinic) = self.clinics.iter().find(|c| c.info.id == id) {
            return Ok(clinic.clone());
        }
        self.regions
            .iter()
            .find_map(|r| r.lpu_of(id).map(|lpu| r.entry(lpu)))
            .unwrap_or_else(|| Err(Failure::not_found("clinic")))
    }

    /// The region `id`.
    pub fn region(&self, id: &str) -> Result<&Arc<RegionClinics>, Failure> {
        self.regions
            .iter()
            .find(|r| r.id() == id)
            .ok_or_else(|| Failure::not_found("region"))
    }

    /// The region `clinic` belongs to, if it is a region's.
    pub fn region_of(&self, clinic: &ClinicEntry) -> Option<&Arc<RegionClinics>> {
        self.regions
            .iter()
            .find(|r| r.lpu_of(&clinic.info.id).is_some())
    }

    /// The live session of a clinic's own `token` (absent: none was sent), for `clinic`
    /// (a region's token: `region::session::of_request`).
    pub async fn session(
        &self,
        token: Option<&str>,
        clinic: &ClinicEntry,
    ) -> Result<Session, Failure> {
        let token = token.ok_or_else(|| {
            Failure::new(ErrorCode::SessionRequired)
                .detail("Send the session token as `Authorization: Bearer <token>`.")
        })?;
        self.shared
            .sessions
            .get(token)
            .await?
            .filter(|s| s.clinic == clinic.info.id)
            .ok_or_else(|| {
                Failure::new(ErrorCode::SessionRequired)
                    .detail("The session is unknown or has expired.")
            })
    }

    /// Ends the session of `token`.
    pub async fn end_session(&self, token: &str) -> Result<(), Failure> {
        self.shared.sessions.end(token).await?;
        Ok(())
    }

    /// Takes the session's patient's lock, for a step that checks the МИС and then acts on what
    /// it found: another request of the patient waits its turn (as long as one МИС read may
    /// take, and a little more), then is refused with `request_in_progress`.
    pub async fn patient_lock(
        &self,
        clinic: &ClinicEntry,
        session: &Session,
    ) -> Result<Held, Failure> {
        let wait = clinic.mis.deadline() + Duration::from_secs(1);
        match self
            .shared
            .locks
            .lock(&clinic.info.id, &session.patient, wait)
            .await?
        {
            Some(held) => Ok(held),
            None => Err(Failure::new(ErrorCode::RequestInProgress)
                .detail(
                    "Another request of this patient is still being processed; try again in a moment.",
                )
                .retry_after(2)),
        }
    }
}
