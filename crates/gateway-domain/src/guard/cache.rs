//! The guard's caches: bounded in bytes, with a time to live, concurrent misses on one key
//! sharing one fetch, evicting key by key (never wholesale). A failure the МИС answered is
//! kept too, for a few seconds: a clinic that fails every call is not asked again by every
//! request meanwhile. A call not made (the breaker open, no place, no budget left) is not an
//! answer, and is not kept.
//!
//! One [`Caches`] serves one clinic, or every clinic of a region (their keys name the clinic),
//! so that a region of ten thousand clinics takes the bytes of one bound, not of ten thousand.

use crate::keep::{Fetched, Fetching, Keeps};
use chrono::NaiveDate;
use mis::{ClinicInfo, Doctor, DoctorId, LpuId, MisError, Slot, Specialty, SpecialtyId};
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The bytes one clinic's caches take at most, unless configured otherwise.
pub const CACHE_BYTES: u64 = 16 * 1024 * 1024;
/// How long a failure the МИС answered is kept, at most.
pub const FAILURE_TTL: Duration = Duration::from_secs(5);
/// What an entry costs beside its value (the key, the map's own).
const ENTRY_OVERHEAD: u32 = 160;

pub(super) type ScheduleKey = (LpuId, DoctorId, NaiveDate, NaiveDate);

/// A value kept, or a failure the МИС answered.
type Entry<V> = Result<V, MisError>;

/// How long an entry lives: a value its time to live, a failure a few seconds of it.
fn lives<V>(entry: &Entry<V>, ttl: Duration) -> Duration {
    match entry {
        Ok(_) => ttl,
        Err(_) => ttl.min(FAILURE_TTL),
    }
}

/// Counts the bytes a value would take as JSON: near enough its size in memory, where
/// strings make most of it.
#[derive(Default)]
struct Counted(u64);

impl std::io::Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn weight<V: serde::Serialize>(value: &Entry<V>) -> u32 {
    let bytes = match value {
        Ok(v) => {
            let mut counted = Counted::default();
            let _ = serde_json::to_writer(&mut counted, v);
            counted.0
        }
        Err(_) => 64,
    };
    u32::try_from(bytes)
        .unwrap_or(u32::MAX)
        .saturating_add(ENTRY_OVERHEAD)
}

/// A cache of one kind of read, with a time to live (zero: none kept), whose concurrent
/// misses on one key share one fetch.
#[derive(Debug)]
pub(super) struct Cache<K: crate::keep::Key, V: crate::keep::Value> {
    name: &'static str,
    ttl: Duration,
    entries: Option<Arc<dyn Fetching<K, Entry<V>, MisError>>>,
}

impl<K, V> Cache<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + serde::Serialize + 'static,
{
    /// A cache named `name` (in metrics) keeping values for `ttl` (zero: no caching), within
    /// `bytes`.
    pub(super) fn new(keeps: &impl Keeps, name: &'static str, ttl: Duration, bytes: u64) -> Self {
        Self {
            name,
            ttl,
            entries: (!ttl.is_zero()).then(|| keeps.fetching(bytes, weight::<V>)),
        }
    }

    /// The value of `key`: kept, or fetched. `fetch` says with its value whether the МИС
    /// answered (a failure it answered is kept; a call not made is not).
    pub(super) async fn get_or_fetch<F, Fut>(&self, key: K, fetch: F) -> Result<V, MisError>
    where
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = (Result<V, MisError>, Answered)> + Send,
    {
        match &self.entries {
            None => fetch().await.0,
            Some(entries) => {
                let missed = AtomicBool::new(false);
                let ttl = self.ttl;
                let fetched = Box::pin(async {
                    missed.store(true, Ordering::Relaxed);
                    match fetch().await {
                        (Ok(v), _) => {
                            let entry = Ok(v);
                            let lives = lives(&entry, ttl);
                            Fetched::Keep(entry, lives)
                        }
                        (Err(e), Answered::Yes) => {
                            let entry = Err(e);
                            let lives = lives(&entry, ttl);
                            Fetched::Keep(entry, lives)
                        }
                        (Err(e), Answered::No) => Fetched::Pass(e),
                    }
                });
                let result = entries.get_or_fetch(key, fetched).await.and_then(|e| e);
                crate::metrics::cache(self.name, !missed.load(Ordering::Relaxed));
                result
            }
        }
    }

    /// Drops the entries `which` selects.
    pub(super) fn forget(&self, which: impl Fn(&K) -> bool + Send + Sync + 'static) {
        if let Some(entries) = &self.entries {
            entries.forget(Box::new(which));
        }
    }

    /// The bytes its entries take, as counted (after pending evictions).
    pub(super) async fn bytes(&self) -> u64 {
        match &self.entries {
            None => 0,
            Some(e) => e.bytes().await,
        }
    }

    /// How many entries it keeps.
    pub(super) async fn len(&self) -> u64 {
        match &self.entries {
            None => 0,
            Some(e) => e.entries().await,
        }
    }
}

/// Whether a fetch reached the МИС and got its answer (a failure it answered is kept for a
/// few seconds; one the gateway made without asking is not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Answered {
    Yes,
    No,
}

/// The reads one guard keeps, or every guard of a region (the keys name the clinic).
#[derive(Debug)]
pub struct Caches {
    pub(super) clinics: Cache<(), Vec<ClinicInfo>>,
    pub(super) specialties: Cache<LpuId, Vec<Specialty>>,
    pub(super) doctors: Cache<(LpuId, SpecialtyId), Vec<Doctor>>,
    pub(super) dates: Cache<ScheduleKey, Vec<NaiveDate>>,
    pub(super) slots: Cache<ScheduleKey, Vec<Slot>>,
    pub(super) areas: Cache<(LpuId, mis::PatientId), Vec<mis::Area>>,
    /// How long a read of the directory, and of a schedule, is kept.
    pub(super) ttls: (Duration, Duration),
}

impl Caches {
    /// Caches keeping the directory's reads for `directory`, the schedules' for `schedule`,
    /// all within `bytes` (shared out among the kinds of read: most to the schedules).
    pub fn new(keeps: &impl Keeps, directory: Duration, schedule: Duration, bytes: u64) -> Self {
        let share = |sixteenths: u64| bytes / 16 * sixteenths;
        Self {
            clinics: Cache::new(keeps, "clinics", directory, share(1)),
            specialties: Cache::new(keeps, "specialties", directory, share(2)),
            doctors: Cache::new(keeps, "doctors", directory, share(3)),
            dates: Cache::new(keeps, "dates", schedule, share(3)),
            slots: Cache::new(keeps, "slots", schedule, share(6)),
            areas: Cache::new(keeps, "areas", directory, share(1)),
            ttls: (directory, schedule),
        }
    }

    /// The caches of one guard of `config` (or of every guard of a region made from it),
    /// within `bytes`: keeping reads as long as the guard would in this gateway
    /// ([`super::GuardedMis::local_ttls`]: briefly when the gateways share their reads).
    pub fn of(
        keeps: &impl Keeps,
        config: &super::GuardConfig,
        shared: &crate::shared::Shared,
        bytes: u64,
    ) -> Arc<Self> {
        let (directory, schedule) = super::GuardedMis::local_ttls(config, shared.reads.as_ref());
        Arc::new(Self::new(keeps, directory, schedule, bytes))
    }

    /// How many reads of schedules (free tickets) it keeps.
    pub async fn slots_kept(&self) -> u64 {
        self.slots.len().await
    }

    /// The bytes every kind of read takes, as counted.
    pub async fn bytes(&self) -> u64 {
        self.clinics.bytes().await
            + self.specialties.bytes().await
            + self.doctors.bytes().await
            + self.dates.bytes().await
            + self.slots.bytes().await
            + self.areas.bytes().await
    }

    /// Drops what a write at `clinic` may have changed: the counts of its directory, and the
    /// schedules of `doctor` (of every doctor of the clinic, without one).
    pub(super) fn forget_after_write(&self, clinic: LpuId) {
        self.specialties.forget(move |k| *k == clinic);
        self.doctors.forget(move |k| k.0 == clinic);
    }

    pub(super) fn forget_schedule(&self, clinic: LpuId, doctor: Option<&DoctorId>) {
        match doctor {
            Some(doctor) => {
                let (d1, d2) = (doctor.clone(), doctor.clone());
                self.dates.forget(move |k| k.0 == clinic && k.1 == d1);
                self.slots.forget(move |k| k.0 == clinic && k.1 == d2);
            }
            None => {
                self.dates.forget(move |k| k.0 == clinic);
                self.slots.forget(move |k| k.0 == clinic);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_failure_lives_seconds_and_a_value_its_time_to_live() {
        let failure: Entry<u32> = Err(MisError::Rejected { code: 98 });
        let minute = Duration::from_secs(60);
        assert_eq!(lives(&Ok(1), minute), minute);
        assert_eq!(lives(&failure, minute), FAILURE_TTL);
        assert_eq!(
            lives(&failure, Duration::from_secs(3)),
            Duration::from_secs(3)
        );
    }
}
