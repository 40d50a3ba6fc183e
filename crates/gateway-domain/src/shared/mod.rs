//! The state gateways may share: the port. Its adapters are the `gateway-state` crate's.
//!
//! Sessions, idempotency records, rate-limit counters, cached МИС reads, the ticket details
//! remembered at booking, a "МИС is down" hint and the patients' locks are each a trait here.
//! The in-memory adapter (the default: one gateway, nothing to run beside it) keeps them in the
//! process; the Redis adapter (chosen by `[state] redis_url`) keeps them in Redis, so that
//! several gateways behind a load balancer behave as one. The domain cannot tell which is in
//! use (it does not depend on the crate that holds them): the gateway holds a [`Shared`].
//!
//! When Redis cannot be reached, reads go on (from the МИС and each gateway's own cache);
//! whatever could book twice or lose an answer (new sessions, bookings, cancellations) is
//! refused with `503 state_unavailable`; rate limits fall back to each gateway's own counters.
//! The adapter reconnects by itself.

use crate::failure::Failure;
use crate::idempotency::{Claimed, Scope, Settlement};
use crate::limits::{Class, Subject};
use crate::memo::SlotDetails;
use crate::sessions::Session;
use async_trait::async_trait;
use mis::{AppointmentId, PatientId};
use std::sync::Arc;
use std::time::Duration;
use vocabulary::ErrorCode;

/// Why the shared state could not be used (Redis cannot be reached, or answered nonsense).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the shared state is unavailable: {0}")]
pub struct StateError(pub String);

impl From<StateError> for Failure {
    fn from(e: StateError) -> Self {
        Self {
            cause: Some(e.to_string()),
            retry_after: Some(5),
            ..Failure::new(ErrorCode::StateUnavailable).detail(
                "The gateway cannot reach its shared state now; nothing was done. Try again shortly.",
            )
        }
    }
}

/// Patients' sessions, by token.
#[async_trait]
pub trait Sessions: Send + Sync + std::fmt::Debug {
    /// Opens a session for `patient` of `clinic`; its token.
    async fn create(
        &self,
        clinic: &str,
        patient: PatientId,
    ) -> Result<(String, Session), StateError>;
    /// Keeps `session` under `token` (made elsewhere: a region's clinic session) until it
    /// expires.
    async fn put(&self, token: &str, session: &Session) -> Result<(), StateError>;
    /// The live session of a token.
    async fn get(&self, token: &str) -> Result<Option<Session>, StateError>;
    /// Ends a session; whether there was one.
    async fn end(&self, token: &str) -> Result<bool, StateError>;
    /// How many sessions are kept, where that is cheap to know.
    fn count(&self) -> Option<u64>;
}

/// Idempotency keys and the outcomes kept under them.
#[async_trait]
pub trait Idempotency: Send + Sync + std::fmt::Debug {
    /// Claims `scope` for a request whose body has `fingerprint`, for `lease` (renewed while
    /// the request runs).
    async fn claim(
        &self,
        scope: &Scope,
        fingerprint: [u8; 32],
        lease: Duration,
    ) -> Result<Claimed, StateError>;
    /// Extends `owner`'s claim of `scope` to `lease` from now; whether it still held it.
    async fn renew(&self, scope: &Scope, owner: &str, lease: Duration) -> Result<bool, StateError>;
    /// Settles `owner`'s claim of `scope` (a claim taken over by another is left alone).
    async fn settle(
        &self,
        scope: &Scope,
        owner: &str,
        settlement: Settlement,
    ) -> Result<(), StateError>;
    /// How many keys are kept, where that is cheap to know.
    fn count(&self) -> Option<usize>;
}

/// Rate-limit counters. Never fails: an adapter that cannot reach its store counts locally.
#[async_trait]
pub trait RateStore: Send + Sync + std::fmt::Debug {
    /// Counts one request; `Err(seconds)` says when the next may come.
    async fn check(&self, subject: Subject, class: Class) -> Result<(), u64>;
    /// How many clients of a class are remembered in this process.
    fn clients(&self, class: Class) -> usize;
}

/// What the gateway learned of the tickets it booked (best effort: a failure forgets).
#[async_trait]
pub trait Memo: Send + Sync + std::fmt::Debug {
    async fn remember(&self, clinic: &str, id: &AppointmentId, details: SlotDetails);
    async fn recall(&self, clinic: &str, id: &AppointmentId) -> Option<SlotDetails>;
    async fn forget(&self, clinic: &str, id: &AppointmentId);
}

/// A second level of cache for МИС reads, shared by the gateways (each keeps its own first
/// level in memory). Best effort: a failure is a miss.
#[async_trait]
pub trait ReadCache: Send + Sync + std::fmt::Debug {
    async fn get(&self, clinic: &str, key: &str) -> Option<Vec<u8>>;
    async fn put(&self, clinic: &str, key: &str, value: Vec<u8>, ttl: Duration);
    /// Forgets every cached read of a clinic (after a booking or a cancellation).
    async fn invalidate(&self, clinic: &str);
    /// Whether this cache is shared at all (the in-memory adapter has none).
    fn enabled(&self) -> bool;
}

/// A hint, shared by the gateways, that a clinic's МИС is down: one gateway's breaker opens,
/// the others open theirs without each learning it the hard way. Best effort.
#[async_trait]
pub trait OutageHint: Send + Sync + std::fmt::Debug {
    async fn report_down(&self, clinic: &str, for_: Duration);
    async fn report_up(&self, clinic: &str);
    async fn is_down(&self, clinic: &str) -> bool;
    /// Whether there are other gateways to tell (the in-memory adapter has none).
    fn enabled(&self) -> bool;
}

/// A per-patient lock, held while a request of the patient checks the МИС and then acts on
/// what it found (the waiting list's caps, a move, a booking by referral), so that two
/// requests of one patient, on one gateway or on several, never interleave their steps.
/// Dropping the [`Held`] releases it, on every path.
#[async_trait]
pub trait Locks: Send + Sync + std::fmt::Debug {
    /// Takes the lock of `patient` of `clinic`, waiting at most `wait` for another holder to
    /// release it; `None` if it was not released in time.
    async fn lock(
        &self,
        clinic: &str,
        patient: &PatientId,
        wait: Duration,
    ) -> Result<Option<Held>, StateError>;
    /// How many patients' locks are held or awaited, where that is cheap to know.
    fn count(&self) -> Option<usize>;
}

/// A lock held; released when dropped.
pub struct Held(#[expect(dead_code, reason = "held for its Drop")] Box<dyn Send + Sync>);

impl Held {
    pub fn new(release_on_drop: impl Send + Sync + 'static) -> Self {
        Self(Box::new(release_on_drop))
    }
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Held")
    }
}

/// Whether the shared state can be used now.
#[async_trait]
pub trait Health: Send + Sync + std::fmt::Debug {
    async fn check(&self) -> Result<(), StateError>;

    /// Whether the store is failing over: its primary lost and no other named yet.
    fn failing_over(&self) -> bool {
        false
    }
}

/// The shared state, whichever adapter holds it.
#[derive(Debug, Clone)]
pub struct Shared {
    pub sessions: Arc<dyn Sessions>,
    pub idempotency: Arc<dyn Idempotency>,
    pub limits: Arc<dyn RateStore>,
    pub memo: Arc<dyn Memo>,
    pub reads: Arc<dyn ReadCache>,
    pub outages: Arc<dyn OutageHint>,
    pub health: Arc<dyn Health>,
    pub locks: Arc<dyn Locks>,
    /// `memory` or `redis`, for the logs and the status page.
    pub kind: &'static str,
}
