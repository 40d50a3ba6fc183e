//! The guard's caches: bounded in bytes, with a time to live, concurrent misses on one key
//! sharing one fetch, evicting key by key (never wholesale). A failure the МИС answered is
//! kept too, for a few seconds: a clinic that fails every call is not asked again by every
//! request meanwhile. A call not made (the breaker open, no place, no budget left) is not an
//! answer, and is not kept.
//!
//! One [`Caches`] serves one clinic, or every clinic of a region (their keys name the clinic),
//! so that a region of ten thousand clinics takes the bytes of one bound, not of ten thousand.

use chrono::NaiveDate;
use mis::{ClinicInfo, Doctor, DoctorId, LpuId, MisError, Slot, Specialty, SpecialtyId};
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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
#[derive(Debug, Clone, Copy)]
struct Lives {
    ttl: Duration,
}

impl<K, V> moka::Expiry<K, Entry<V>> for Lives {
    fn expire_after_create(&self, _: &K, value: &Entry<V>, _: Instant) -> Option<Duration> {
        Some(match value {
            Ok(_) => self.ttl,
            Err(_) => self.ttl.min(FAILURE_TTL),
        })
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

/// A bounded cache with a time to live whose concurrent misses on one key share one fetch.
#[derive(Debug)]
pub(super) struct Cache<K: Hash + Eq + Send + Sync + 'static, V: Clone + Send + Sync + 'static> {
    name: &'static str,
    entries: Option<moka::future::Cache<K, Entry<V>>>,
}

impl<K, V> Cache<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + serde::Serialize + 'static,
{
    /// A cache named `name` (in metrics) keeping values for `ttl` (zero: no caching), within
    /// `bytes`.
    pub(super) fn new(name: &'static str, ttl: Duration, bytes: u64) -> Self {
        Self {
            name,
            entries: (!ttl.is_zero()).then(|| {
                moka::future::Cache::builder()
                    .max_capacity(bytes)
                    .weigher(|_, v: &Entry<V>| weight(v))
                    .expire_after(Lives { ttl })
                    .support_invalidation_closures()
                    .build()
            }),
        }
    }

    /// The value of `key`: kept, or fetched. `fetch` says with its value whether the МИС
    /// answered (a failure it answered is kept; a call not made is not).
    pub(super) async fn get_or_fetch<F, Fut>(&self, key: K, fetch: F) -> Result<V, MisError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = (Result<V, MisError>, Answered)>,
    {
        match &self.entries {
            None => fetch().await.0,
            Some(entries) => {
                let missed = AtomicBool::new(false);
                let result = entries
                    .try_get_with(key, async {
                        missed.store(true, Ordering::Relaxed);
                        match fetch().await {
                            (Ok(v), _) => Ok(Ok(v)),
                            (Err(e), Answered::Yes) => Ok(Err(e)),
                            (Err(e), Answered::No) => Err(e),
                        }
                    })
                    .await
                    .map_err(|e: Arc<MisError>| (*e).clone())
                    .and_then(|entry| entry);
                crate::metrics::cache(self.name, !missed.load(Ordering::Relaxed));
                result
            }
        }
    }

    /// Drops the entries `which` selects.
    pub(super) fn forget(&self, which: impl Fn(&K) -> bool + Send + Sync + 'static) {
        if let Some(entries) = &self.entries
            && entries.invalidate_entries_if(move |k, _| which(k)).is_err()
        {
            entries.invalidate_all();
        }
    }

    /// The bytes its entries take, as counted (after pending evictions).
    pub(super) async fn bytes(&self) -> u64 {
        match &self.entries {
            None => 0,
            Some(e) => {
                e.run_pending_tasks().await;
                e.weighted_size()
            }
        }
    }

    #[cfg(test)]
    pub(super) async fn len(&self) -> u64 {
        match &self.entries {
            None => 0,
            Some(e) => {
                e.run_pending_tasks().await;
                e.entry_count()
            }
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
    pub fn new(directory: Duration, schedule: Duration, bytes: u64) -> Self {
        let share = |sixteenths: u64| bytes / 16 * sixteenths;
        Self {
            clinics: Cache::new("clinics", directory, share(1)),
            specialties: Cache::new("specialties", directory, share(2)),
            doctors: Cache::new("doctors", directory, share(3)),
            dates: Cache::new("dates", schedule, share(3)),
            slots: Cache::new("slots", schedule, share(6)),
            areas: Cache::new("areas", directory, share(1)),
            ttls: (directory, schedule),
        }
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

    #[tokio::test]
    async fn a_flood_of_keys_evicts_key_by_key_and_keeps_the_cache_within_its_bytes() {
        let bytes = 1024 * 1024;
        let cache: Cache<u32, String> = Cache::new("test", Duration::from_secs(60), bytes);
        let value = "x".repeat(1_000);
        for k in 0..10_000u32 {
            let v = value.clone();
            cache
                .get_or_fetch(k, || async move { (Ok(v), Answered::Yes) })
                .await
                .expect("fetched");
        }
        let (len, kept) = (cache.len().await, cache.bytes().await);
        assert!(kept <= bytes, "{kept} bytes");
        assert!(len > 500, "not flushed whole: {len} entries");
        assert!(len < 1_000, "bounded by bytes, not by keys: {len} entries");
    }

    #[tokio::test]
    async fn a_failure_the_mis_answered_is_kept_briefly_and_a_call_not_made_is_not() {
        let cache: Cache<u32, u32> = Cache::new("test", Duration::from_secs(60), 1 << 20);
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let failing = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            (Err(MisError::Rejected { code: 98 }), Answered::Yes)
        };
        assert!(cache.get_or_fetch(1, failing).await.is_err());
        assert!(cache.get_or_fetch(1, failing).await.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1, "the failure was kept");
        let not_made = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            (Err(MisError::Overloaded), Answered::No)
        };
        assert!(cache.get_or_fetch(2, not_made).await.is_err());
        assert!(cache.get_or_fetch(2, not_made).await.is_err());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "nothing kept of a call not made"
        );
    }

    #[test]
    fn a_kept_failure_lives_seconds_and_a_value_its_time_to_live() {
        let lives = |ttl: u64, entry: &Entry<u32>| {
            moka::Expiry::<u32, Entry<u32>>::expire_after_create(
                &Lives {
                    ttl: Duration::from_secs(ttl),
                },
                &1,
                entry,
                Instant::now(),
            )
        };
        let failure = Err(MisError::Rejected { code: 98 });
        assert_eq!(lives(60, &Ok(1)), Some(Duration::from_secs(60)));
        assert_eq!(lives(60, &failure), Some(FAILURE_TTL));
        assert_eq!(lives(3, &failure), Some(Duration::from_secs(3)));
    }
}
