//! A region's clinics as the gateway serves them: each clinic of the catalogue is usable at
//! the clinic routes under its id `<region>-<idLpu>`, with its МИС (the hub, asked for that
//! clinic) behind a guard of its own — its breaker, its places among the calls in flight —
//! made when the clinic is first asked for; the guards of a region share its caches (bounded
//! in bytes) and its bound on calls in flight.

use super::{Catalogue, CatalogueClinic};
use crate::clinic::ClinicEntry;
use crate::failure::Failure;
use crate::guard::GuardedMis;
use crate::keep::{Bounded, Keeps};
use chrono_tz::Tz;
use mis::{LpuId, Region};
use std::sync::Arc;
use std::time::Duration;
use vocabulary::ErrorCode;

/// The most clinics of a region whose guards are kept at once; when full, the one least used
/// is dropped (a guard made anew starts with a closed breaker). The caches are the region's,
/// and stay.
pub const MAX_GUARDS: usize = 1_000;

/// The most (session, clinic) pairs remembered as «no card here» (100 bytes each), and how
/// long: a patient whose card is made meanwhile is found after that.
const MAX_UNKNOWN: u64 = 100_000;
const UNKNOWN_TTL: Duration = Duration::from_secs(600);

/// The most МИС calls an answer across a region's clinics makes, unless configured otherwise.
pub const DEFAULT_MAX_CALLS: u32 = 128;

/// Makes the guard of one of the region's clinics.
pub type MakeGuard = dyn Fn(&CatalogueClinic) -> GuardedMis + Send + Sync;

/// One region's clinics, served.
pub struct RegionClinics {
    pub catalogue: Arc<Catalogue>,
    /// The hub, asked for what is not a clinic's own МИС call (a patient's areas).
    pub hub: Arc<dyn Region>,
    /// The region's zone (every clinic of a region shares it).
    pub tz: Tz,
    /// The one deadline of an answer across clinics.
    pub deadline: Duration,
    /// The most МИС calls one answer across clinics makes (what was kept costs none).
    pub max_calls: u32,
    make: Box<MakeGuard>,
    guards: Arc<dyn Bounded<LpuId, Arc<GuardedMis>>>,
    /// The region sessions a clinic has no card of, by the digest of the token and the clinic:
    /// a made-up identity costs one `CheckPatient` a clinic, not one a request.
    unknown: Arc<dyn Bounded<[u8; 32], ()>>,
}

impl std::fmt::Debug for RegionClinics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegionClinics")
            .field("region", &self.catalogue.id)
            .field("tz", &self.tz)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl RegionClinics {
    pub fn new(
        catalogue: Arc<Catalogue>,
        hub: Arc<dyn Region>,
        tz: Tz,
        deadline: Duration,
        make: Box<MakeGuard>,
        keeps: &impl Keeps,
    ) -> Self {
        Self {
            catalogue,
            hub,
            tz,
            deadline,
            max_calls: DEFAULT_MAX_CALLS,
            make,
            guards: keeps.bounded(MAX_GUARDS as u64, None),
            unknown: keeps.bounded(MAX_UNKNOWN, Some(UNKNOWN_TTL)),
        }
    }

    /// The region's id.
    pub fn id(&self) -> &str {
        &self.catalogue.id
    }

    /// The `idLpu` an id of this region's form names (`None`: not of this region).
    pub fn lpu_of(&self, id: &str) -> Option<i32> {
        let rest = id.strip_prefix(self.id())?.strip_prefix('-')?;
        if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        rest.parse().ok()
    }

    /// The clinic `lpu` of the catalogue as last read: `not_found` when the catalogue has
    /// none, `mis_unavailable` before the hub first answered, `clinic_inactive` for a clinic
    /// not taking bookings.
    pub fn entry(&self, lpu: i32) -> Result<ClinicEntry, Failure> {
        let snapshot = self.catalogue.snapshot().ok_or_else(|| {
            Failure::new(ErrorCode::MisUnavailable)
                .detail("The region's hub has not answered yet; try again in a minute.")
        })?;
        let clinic = snapshot
            .clinics
            .iter()
            .find(|c| c.lpu.get() == lpu)
            .ok_or_else(|| Failure::not_found("clinic"))?;
        if !clinic.active {
            return Err(Failure::new(ErrorCode::ClinicInactive).detail(format!(
                "{} does not take bookings online now.",
                clinic.name
            )));
        }
        Ok(self.entry_of(clinic))
    }

    /// The served clinic of a catalogue entry (active or not: the caller decides).
    pub fn entry_of(&self, clinic: &CatalogueClinic) -> ClinicEntry {
        ClinicEntry {
            info: crate::views::Clinic {
                id: clinic.id.clone(),
                name: clinic.name.clone(),
                address: clinic.card.address.clone().unwrap_or_default(),
                timezone: self.tz.name().to_owned(),
            },
            lpu: clinic.lpu,
            tz: self.tz,
            mis: self.guard(clinic),
        }
    }

    fn guard(&self, clinic: &CatalogueClinic) -> Arc<GuardedMis> {
        self.guards
            .get_with(clinic.lpu, &mut || Arc::new((self.make)(clinic)))
    }

    /// How many clinics' guards are kept.
    pub fn guards(&self) -> usize {
        usize::try_from(self.guards.entries()).unwrap_or(usize::MAX)
    }

    /// Whether `clinic` was found to have no card of the region session `token`'s patient.
    pub fn unknown_in(&self, token: &str, clinic: &str) -> bool {
        self.unknown.contains(&pair(token, clinic))
    }

    /// Remembers that `clinic` has no card of the region session `token`'s patient.
    pub fn remember_unknown(&self, token: &str, clinic: &str) {
        self.unknown.insert(pair(token, clinic), ());
    }

    /// How many (session, clinic) pairs are remembered as «no card here».
    pub fn unknowns(&self) -> u64 {
        self.unknown.entries()
    }

    /// How many of the region's clinics kept have their breaker open (a region's clinics
    /// are one series in the metrics, counted at a scrape).
    pub fn open_breakers(&self) -> usize {
        self.guards
            .values()
            .iter()
            .filter(|g| g.breaker_state() == crate::guard::BreakerState::Open)
            .count()
    }
}

/// The digest a (session, clinic) pair is remembered under: no token is kept.
fn pair(token: &str, clinic: &str) -> [u8; 32] {
    use sha2::Digest;
    let mut digest = sha2::Sha256::new();
    digest.update(token.as_bytes());
    digest.update(b"\n");
    digest.update(clinic.as_bytes());
    digest.finalize().into()
}
