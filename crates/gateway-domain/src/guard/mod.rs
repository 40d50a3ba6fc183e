//! [`GuardedMis`]: what stands between the gateway and a clinic's МИС, which is often slow or
//! down. It wraps the protocol adapter (any [`Mis`]) with, from the outside in:
//!
//! - a cache ([`Caches`]): directory reads (clinics, specialties, doctors) for tens of
//!   seconds, dates and slots for a few seconds; concurrent identical misses share one МИС
//!   call; bounded in bytes (keys are chosen by callers: doctors, date ranges) and evicting key
//!   by key, never wholesale; a failure the МИС answered is kept a few seconds too; a booking
//!   or a cancellation drops what it may have changed (the counts, and that doctor's
//!   schedule). A region's clinics share one cache, whose keys name the clinic;
//! - a circuit breaker: after repeated failures to reach the МИС (or, for a read that names
//!   no patient, a refusal or an unusable answer: a МИС that answers every call with an
//!   error is broken) it answers `Unavailable` at once, probes the МИС in the background and
//!   closes by itself when the МИС answers again;
//! - admission ([`crate::admission`]): every call takes a place at its clinic, its region
//!   (where it has one) and the gateway, and spends one of the request's budget of calls
//!   where it has one ([`crate::context::budgeted`]);
//! - retries of reads (never of booking or cancelling) with exponential backoff and jitter,
//!   all within one deadline; each attempt has its own, shorter timeout (the adapter's), so a
//!   read that times out once is tried again;
//! - readiness: the breaker's state and a probe of the МИС cached for a few seconds, so that
//!   no burst of `/readyz` reaches the МИС.

mod breaker;
mod cache;
mod port;
mod retry;

pub use breaker::BreakerState;
pub use cache::{CACHE_BYTES, Caches, FAILURE_TTL};

use crate::admission::Admission;
use crate::shared::{OutageHint, ReadCache, Shared};
use breaker::{Breaker, is_outage};
use cache::{Answered, Cache};
use retry::jitter;

use mis::{DoctorId, LpuId, Mis, MisError, PatientId};
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How hard to try and how long to remember.
#[derive(Debug, Clone)]
pub struct GuardConfig {
    /// Extra attempts of a read after a failure to reach the МИС.
    pub read_retries: u32,
    /// The first backoff; each next one doubles, plus up to 50 % jitter.
    pub backoff: Duration,
    /// The longest a read may take, all attempts included (each attempt is bounded by the
    /// adapter's own timeout).
    pub deadline: Duration,
    /// Consecutive failures that open the breaker.
    pub breaker_threshold: u32,
    /// How often an open breaker probes the МИС.
    pub probe_interval: Duration,
    /// How long clinics, specialties and doctors are cached.
    pub directory_ttl: Duration,
    /// How long dates and slots are cached.
    pub schedule_ttl: Duration,
    /// The clinic's id, for metrics and logs.
    pub clinic: String,
    /// How many requests this clinic's МИС works for at once ([`crate::admission`]).
    pub admission: Arc<Admission>,
    /// How many its region's clinics work for at once, together (a region's clinic only).
    pub region: Option<Arc<Admission>>,
    /// How many the gateway lets the МИС work for at once, all clinics together.
    pub all: Arc<Admission>,
    /// The name its metrics carry: the clinic's id, or its region's (a region's ten
    /// thousand clinics are one series, not ten thousand).
    pub label: String,
    /// Whether it listens for other gateways' word that its МИС is down (once a second, in a
    /// task of its own, while the shared state is Redis). A region's clinics do not: there
    /// may be a thousand guards, and each learns an outage from its own calls.
    pub watch_outages: bool,
}

impl Default for GuardConfig {
    fn default() -> Self {
        Self {
            read_retries: 2,
            backoff: Duration::from_millis(100),
            deadline: Duration::from_secs(9),
            breaker_threshold: 5,
            probe_interval: Duration::from_secs(2),
            directory_ttl: Duration::from_secs(30),
            schedule_ttl: Duration::from_secs(3),
            clinic: String::new(),
            admission: Arc::new(Admission::unbounded("")),
            region: None,
            all: Arc::new(Admission::unbounded("all")),
            label: String::new(),
            watch_outages: true,
        }
    }
}

/// How long a readiness probe's answer is reused.
const READY_TTL: Duration = Duration::from_secs(5);
/// The longest a readiness probe waits for the МИС.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// A [`Mis`] guarded by a cache, a circuit breaker and retries.
#[derive(Debug)]
pub struct GuardedMis {
    inner: Arc<dyn Mis>,
    config: GuardConfig,
    breaker: Arc<Breaker>,
    caches: Arc<Caches>,
    /// The last readiness probe: when, and whether the МИС answered.
    probed: Mutex<Option<(Instant, bool)>>,
    /// Held by the one request probing readiness.
    probing: tokio::sync::Mutex<()>,
    last_outage: Mutex<Option<(std::time::SystemTime, String)>>,
    /// The reads the gateways share (a second level behind this one's own cache).
    reads: Arc<dyn ReadCache>,
    /// What the gateways tell each other of an МИС that is down.
    outages: Arc<dyn OutageHint>,
    /// Moves on with every write that may change the directory or a schedule: what was read
    /// at an older generation may be stale.
    generation: AtomicU64,
}

/// How long this gateway's own cache keeps a value when the gateways share a cache: short,
/// so that a booking made through another gateway shows here soon.
const LOCAL_TTL_WHEN_SHARED: Duration = Duration::from_secs(2);

impl GuardedMis {
    /// A guard of `inner` keeping its reads in `caches` (its own, or its region's), sharing
    /// its reads and outages with other gateways where `shared` reaches them.
    pub fn new(
        inner: Arc<dyn Mis>,
        mut config: GuardConfig,
        caches: Arc<Caches>,
        shared: &Shared,
    ) -> Self {
        let (reads, outages) = (shared.reads.clone(), shared.outages.clone());
        if config.label.is_empty() {
            config.label.clone_from(&config.clinic);
        }
        if config.label == config.clinic {
            crate::metrics::breaker(&config.clinic, false);
        }
        let guard = Self {
            generation: AtomicU64::new(0),
            caches,
            inner,
            config,
            breaker: Arc::default(),
            probed: Mutex::new(None),
            probing: tokio::sync::Mutex::new(()),
            last_outage: Mutex::new(None),
            reads,
            outages,
        };
        if guard.outages.enabled() && guard.config.watch_outages {
            breaker::watch_outages(
                &guard.breaker,
                guard.inner.clone(),
                guard.outages.clone(),
                guard.config.probe_interval,
                guard.config.clinic.clone(),
                guard.gauged(),
            );
        }
        guard
    }

    /// How long a gateway keeps a read of the directory, and of a schedule, in its own
    /// memory: as configured, or at most two seconds when the gateways share their reads (so
    /// that a booking made through another gateway shows here soon).
    pub fn local_ttls(config: &GuardConfig, reads: &dyn ReadCache) -> (Duration, Duration) {
        let local = |ttl: Duration| {
            if reads.enabled() {
                ttl.min(LOCAL_TTL_WHEN_SHARED)
            } else {
                ttl
            }
        };
        (local(config.directory_ttl), local(config.schedule_ttl))
    }

    /// A cached read of `operation`, a read that names no patient (a refusal counts toward
    /// the breaker): this gateway's cache, then the shared one, then the МИС.
    async fn cached<K, V, F, Fut>(
        &self,
        cache: &Cache<K, V>,
        key: K,
        shared_key: impl FnOnce() -> String,
        ttl: Duration,
        operation: &'static str,
        call: F,
    ) -> Result<V, MisError>
    where
        K: Hash + Eq + Clone + Send + Sync + 'static,
        V: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
        F: Fn() -> Fut + Sync,
        Fut: Future<Output = Result<V, MisError>> + Send,
    {
        let fetch = || self.asked(Reading::Directory, operation, &call);
        if !self.reads.enabled() || ttl.is_zero() {
            return cache.get_or_fetch(key, fetch).await;
        }
        let clinic = &self.config.clinic;
        let shared_key = shared_key();
        cache
            .get_or_fetch(key, || async {
                if let Some(bytes) = self.reads.get(clinic, &shared_key).await
                    && let Ok(value) = serde_json::from_slice::<V>(&bytes)
                {
                    return (Ok(value), Answered::Yes);
                }
                let (value, answered) = fetch().await;
                if let Ok(value) = &value
                    && let Ok(bytes) = serde_json::to_vec(value)
                {
                    self.reads.put(clinic, &shared_key, bytes, ttl).await;
                }
                (value, answered)
            })
            .await
    }

    /// Whether the МИС is ready: the breaker is closed and a recent probe (at most a few
    /// seconds old, made by one request at a time) got an answer.
    pub async fn ready(&self) -> bool {
        if self.breaker_state() == BreakerState::Open {
            return false;
        }
        let last = *self
            .probed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((at, up)) = last
            && at.elapsed() < READY_TTL
        {
            return up;
        }
        let Ok(_probing) = self.probing.try_lock() else {
            // Another request is probing: answer from what is known meanwhile.
            return last.is_none_or(|(_, up)| up);
        };
        let up = matches!(
            tokio::time::timeout(PROBE_TIMEOUT, self.version()).await,
            Ok(Ok(_))
        );
        *self
            .probed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((Instant::now(), up));
        up
    }

    /// Runs one call to the adapter, measured.
    async fn observe<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T, MisError>>,
    ) -> Result<T, MisError> {
        let started = Instant::now();
        let result = call.await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(MisError::Unavailable(_) | MisError::AccessDenied) => "unavailable",
            Err(MisError::OutcomeUnknown(_)) => "unknown",
            Err(MisError::BadResponse(_)) => "bad_response",
            Err(_) => "refused",
        };
        crate::metrics::mis_call(&self.config.label, operation, outcome, started.elapsed());
        result
    }

    /// Drops the cached schedule of `doctor` (of every doctor, without one) after a booking
    /// or a cancellation changed it.
    pub fn forget_schedule(&self, clinic: LpuId, doctor: Option<&DoctorId>) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.caches.forget_schedule(clinic, doctor);
    }

    /// The generation of what this guard read: it moves on with every booking or
    /// cancellation (which may change the counts and a schedule). An answer made of reads of an
    /// older generation may be stale.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// How long this gateway keeps a read of the directory, and of a schedule (short when the
    /// gateways share their reads, so that another's booking shows soon).
    pub fn cache_ttls(&self) -> (Duration, Duration) {
        self.caches.ttls
    }

    /// The caches it keeps its reads in (its region's, for a region's clinic).
    pub fn caches(&self) -> &Arc<Caches> {
        &self.caches
    }

    /// The name its metrics carry (its clinic's id, or its region's).
    pub fn label(&self) -> &str {
        &self.config.label
    }

    /// Whether its breaker is a series of its own (a clinic's metrics carry its own name).
    fn gauged(&self) -> bool {
        self.config.label == self.config.clinic
    }

    /// The longest a read may take, all its attempts included.
    pub fn deadline(&self) -> Duration {
        self.config.deadline
    }

    pub fn breaker_state(&self) -> BreakerState {
        if self.breaker.open.load(Ordering::Acquire) {
            BreakerState::Open
        } else {
            BreakerState::Closed
        }
    }

    /// Why the МИС was last found unreachable, and when (for the operator).
    pub fn last_outage(&self) -> Option<(std::time::SystemTime, String)> {
        self.last_outage
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Counts a call's result toward the breaker: a failure to reach the МИС, and for a read
    /// that names no patient (`Reading::Directory`) a refusal or an unusable answer too (a
    /// МИС that answers every call with an `ErrorList` is no more usable than one that does
    /// not answer); anything else resets the count.
    fn record<T>(&self, result: &Result<T, MisError>, reading: Reading) {
        match result {
            Err(e) if is_outage(e) || (reading == Reading::Directory && is_broken(e)) => {
                *self
                    .last_outage
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) =
                    Some((std::time::SystemTime::now(), e.to_string()));
                let failures = self.breaker.failures.fetch_add(1, Ordering::AcqRel) + 1;
                if failures >= self.config.breaker_threshold
                    && !self.breaker.open.swap(true, Ordering::AcqRel)
                {
                    tracing::warn!(
                        failures,
                        clinic = %self.config.clinic,
                        "МИС circuit breaker opened; probing in the background"
                    );
                    if self.gauged() {
                        crate::metrics::breaker(&self.config.clinic, true);
                    }
                    self.spawn_probe();
                }
            }
            // Not a call at all: it says nothing of the МИС.
            Err(MisError::Overloaded) => {}
            _ => {
                self.breaker.failures.store(0, Ordering::Release);
            }
        }
    }

    fn spawn_probe(&self) {
        breaker::spawn_probe(
            self.inner.clone(),
            self.breaker.clone(),
            self.config.probe_interval,
            self.config.clinic.clone(),
            self.gauged(),
            self.outages.clone(),
        );
    }

    /// Refuses a call while the breaker is open, or when the request has spent its budget of
    /// calls; else admits the request to it (see [`crate::admission`]).
    async fn refuse_if_open(&self) -> Result<(), MisError> {
        if self.breaker.open.load(Ordering::Acquire) {
            return Err(MisError::Unavailable("the circuit breaker is open".into()));
        }
        if !crate::context::spend() {
            crate::metrics::overloaded("budget");
            return Err(MisError::Overloaded);
        }
        let mut bounds = Vec::with_capacity(3);
        bounds.push(&self.config.admission);
        bounds.extend(self.config.region.as_ref());
        bounds.push(&self.config.all);
        crate::admission::enter(&bounds)
            .await
            .map_err(|crate::admission::Overloaded| MisError::Overloaded)
    }

    /// A read: retried on outages with backoff and jitter, within the read deadline. A call
    /// the deadline cuts short is a failure to reach the МИС, counted as one: else a МИС that
    /// never answers (its attempts as long as the deadline, as the region's defaults are)
    /// would never open the breaker. Each attempt spends one of the request's budget.
    async fn read<T, F, Fut>(&self, reading: Reading, call: F) -> Result<T, MisError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, MisError>>,
    {
        self.refuse_if_open().await?;
        let calling = AtomicBool::new(false);
        let attempts = async {
            let mut attempt = 0;
            loop {
                calling.store(true, Ordering::Release);
                let result = call().await;
                calling.store(false, Ordering::Release);
                self.record(&result, reading);
                match result {
                    Err(e)
                        if is_outage(&e)
                            && attempt < self.config.read_retries
                            && !self.breaker.open.load(Ordering::Acquire) =>
                    {
                        let backoff = retry::backoff(self.config.backoff, attempt);
                        tokio::time::sleep(backoff + jitter(backoff / 2)).await;
                        if !crate::context::spend() {
                            return Err(e);
                        }
                        attempt += 1;
                    }
                    other => return other,
                }
            }
        };
        match tokio::time::timeout(self.config.deadline, attempts).await {
            Ok(result) => result,
            Err(_) => {
                let cut = Err(MisError::Unavailable("the read deadline passed".into()));
                if calling.load(Ordering::Acquire) {
                    self.record(&cut, reading);
                }
                cut
            }
        }
    }

    /// A call tried once: a write that changes no ticket, or the МИС's version.
    async fn once<T, Fut>(&self, call: Fut) -> Result<T, MisError>
    where
        Fut: Future<Output = Result<T, MisError>>,
    {
        self.refuse_if_open().await?;
        self.made(call).await
    }

    /// A call made (the breaker and admission passed): its result recorded.
    async fn made<T, Fut>(&self, call: Fut) -> Result<T, MisError>
    where
        Fut: Future<Output = Result<T, MisError>>,
    {
        let result = call.await;
        self.record(&result, Reading::Patient);
        result
    }

    /// A write at `clinic`: tried once (a booking must not be repeated blindly). Its
    /// free-ticket counts are dropped from the cache; the caller knows whose schedule changed
    /// ([`Self::forget_schedule`]).
    async fn write<T, Fut>(&self, clinic: LpuId, call: Fut) -> Result<T, MisError>
    where
        Fut: Future<Output = Result<T, MisError>>,
    {
        // A write not made (the breaker open, the МИС at its capacity) changed nothing: what
        // is kept stays.
        self.refuse_if_open().await?;
        let result = self.made(call).await;
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.caches.forget_after_write(clinic);
        self.reads.invalidate(&self.config.clinic).await;
        result
    }

    /// The areas `patient` (the clinic's id of them) is attached to in `clinic`, which
    /// `region`'s hub knows (`GetPatientsAreas`): through this guard, as every call of the
    /// clinic goes (its breaker, its place, the request's budget, a cache).
    pub async fn areas(
        &self,
        region: &dyn mis::Region,
        clinic: LpuId,
        patient: &PatientId,
    ) -> Result<Vec<mis::Area>, MisError> {
        self.caches
            .areas
            .get_or_fetch((clinic, patient.clone()), || {
                self.asked(Reading::Patient, "areas", || region.areas(clinic, patient))
            })
            .await
    }

    /// A read of `operation` ([`Self::read`]), and whether the МИС answered it (a call not
    /// made — the breaker open, no place, no budget — is no answer, and a cache keeps none).
    async fn asked<T, F, Fut>(
        &self,
        reading: Reading,
        operation: &'static str,
        call: F,
    ) -> (Result<T, MisError>, Answered)
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, MisError>>,
    {
        let answered = AtomicBool::new(false);
        let result = self
            .read(reading, || async {
                answered.store(true, Ordering::Relaxed);
                self.observe(operation, call()).await
            })
            .await;
        let answered = if answered.load(Ordering::Relaxed) {
            Answered::Yes
        } else {
            Answered::No
        };
        (result, answered)
    }
}

/// What a read names: nothing of a patient (the directory, schedules: any failure says the
/// МИС is not usable), or a patient (a refusal may be about that patient alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    Directory,
    Patient,
}

/// A failure that says a МИС answered but is not usable, for a read that names no patient.
fn is_broken(e: &MisError) -> bool {
    matches!(e, MisError::BadResponse(_) | MisError::Rejected { .. })
}
