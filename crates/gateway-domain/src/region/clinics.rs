//! A region's clinics as the gateway serves them: each clinic of the catalogue is usable at
//! the clinic routes under its id `<region>-<idLpu>`, with its МИС (the hub, asked for that
//! clinic) behind a guard of its own — its breaker, its caches, its place among the calls in
//! flight — made when the clinic is first asked for.

use super::{Catalogue, CatalogueClinic};
use crate::clinic::ClinicEntry;
use crate::failure::Failure;
use crate::guard::GuardedMis;
use api_types::ErrorCode;
use chrono_tz::Tz;
use mis::{LpuId, Region};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The most clinics of a region whose guards are kept at once; when full they are dropped
/// together (a guard made anew starts with a closed breaker and empty caches).
pub const MAX_GUARDS: usize = 1_000;

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
    make: Box<MakeGuard>,
    guards: Mutex<HashMap<LpuId, Arc<GuardedMis>>>,
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
    ) -> Self {
        Self {
            catalogue,
            hub,
            tz,
            deadline,
            make,
            guards: Mutex::default(),
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
            info: api_types::Clinic {
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
        let Ok(mut guards) = self.guards.lock() else {
            return Arc::new((self.make)(clinic));
        };
        if let Some(guard) = guards.get(&clinic.lpu) {
            return guard.clone();
        }
        if guards.len() >= MAX_GUARDS {
            guards.clear();
        }
        let guard = Arc::new((self.make)(clinic));
        guards.insert(clinic.lpu, guard.clone());
        guard
    }

    /// How many clinics' guards are kept.
    pub fn guards(&self) -> usize {
        self.guards.lock().map_or(0, |g| g.len())
    }
}
