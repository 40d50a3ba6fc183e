//! The in-memory adapter: one gateway, its state in its own process. The default.

use super::{
    Claimed, Health, Held, Idempotency, Locks, Memo, OutageHint, RateStore, ReadCache, Sessions,
    Shared, StateError,
};
use crate::idempotency::{MemoryIdempotency, Outcome, Scope};
use crate::security::limiter::{Class, Limiter, RateLimitConfig, Subject};
use crate::sessions::{MemorySessions, Session};
use crate::state::{SlotDetails, TicketMemo};
use async_trait::async_trait;
use mis::{AppointmentId, PatientId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The in-memory state.
pub fn shared(
    session_ttl: Duration,
    limits: &RateLimitConfig,
    key_limits: &[RateLimitConfig],
) -> Shared {
    Shared {
        sessions: Arc::new(MemorySessions::new(session_ttl)),
        idempotency: Arc::new(MemoryIdempotency::default()),
        limits: Arc::new(Limiter::new(limits, key_limits)),
        memo: Arc::new(TicketMemo::default()),
        reads: Arc::new(NoSharedCache),
        outages: Arc::new(NoHint),
        health: Arc::new(AlwaysHealthy),
        locks: Arc::new(MemoryLocks::default()),
        kind: "memory",
    }
}

#[async_trait]
impl Sessions for MemorySessions {
    async fn create(
        &self,
        clinic: &str,
        patient: PatientId,
    ) -> Result<(String, Session), StateError> {
        MemorySessions::create(self, clinic, patient).map_err(|e| StateError(e.to_string()))
    }

    async fn get(&self, token: &str) -> Result<Option<Session>, StateError> {
        Ok(MemorySessions::get(self, token))
    }

    async fn end(&self, token: &str) -> Result<bool, StateError> {
        Ok(MemorySessions::end(self, token))
    }

    fn count(&self) -> Option<u64> {
        Some(MemorySessions::len(self))
    }
}

#[async_trait]
impl Idempotency for MemoryIdempotency {
    async fn claim(&self, scope: &Scope, fingerprint: [u8; 32]) -> Result<Claimed, StateError> {
        Ok(MemoryIdempotency::claim(self, scope, fingerprint))
    }

    async fn settle(&self, scope: &Scope, outcome: Option<Outcome>) -> Result<(), StateError> {
        MemoryIdempotency::settle(self, scope, outcome);
        Ok(())
    }

    fn count(&self) -> Option<usize> {
        Some(MemoryIdempotency::len(self))
    }
}

#[async_trait]
impl RateStore for Limiter {
    async fn check(&self, subject: Subject, class: Class) -> Result<(), u64> {
        Limiter::check(self, subject, class)
    }

    fn clients(&self, class: Class) -> usize {
        Limiter::clients(self, class)
    }
}

#[async_trait]
impl Memo for TicketMemo {
    async fn remember(&self, clinic: &str, id: &AppointmentId, details: SlotDetails) {
        TicketMemo::remember(self, clinic, id, details);
    }

    async fn recall(&self, clinic: &str, id: &AppointmentId) -> Option<SlotDetails> {
        TicketMemo::recall(self, clinic, id)
    }

    async fn forget(&self, clinic: &str, id: &AppointmentId) {
        TicketMemo::forget(self, clinic, id);
    }
}

/// No second level: each gateway's own cache is the only one.
#[derive(Debug)]
pub struct NoSharedCache;

#[async_trait]
impl ReadCache for NoSharedCache {
    async fn get(&self, _: &str, _: &str) -> Option<Vec<u8>> {
        None
    }

    async fn put(&self, _: &str, _: &str, _: Vec<u8>, _: Duration) {}

    async fn invalidate(&self, _: &str) {}

    fn enabled(&self) -> bool {
        false
    }
}

/// No other gateway to tell.
#[derive(Debug)]
pub struct NoHint;

#[async_trait]
impl OutageHint for NoHint {
    async fn report_down(&self, _: &str, _: Duration) {}

    async fn report_up(&self, _: &str) {}

    async fn is_down(&self, _: &str) -> bool {
        false
    }

    fn enabled(&self) -> bool {
        false
    }
}

/// Memory is always there.
#[derive(Debug)]
pub struct AlwaysHealthy;

#[async_trait]
impl Health for AlwaysHealthy {
    async fn check(&self) -> Result<(), StateError> {
        Ok(())
    }
}

/// The most patients whose locks may be held or awaited at once in one process: far more than
/// requests in flight; past it, a new patient's request is refused (`state_unavailable`).
pub const MAX_LOCKS: usize = 100_000;

type LockKey = (String, String);
type LockMap = Arc<Mutex<HashMap<LockKey, Arc<tokio::sync::Mutex<()>>>>>;

/// Per-patient locks in this process. A patient's entry lives while its lock is held or
/// awaited, and goes with the last of them: the map holds only patients with a request in
/// flight, at most [`MAX_LOCKS`].
#[derive(Debug, Default)]
pub struct MemoryLocks {
    map: LockMap,
}

/// Drops `key`'s entry if nobody holds or awaits it any more (called under no other lock).
fn forget_if_unused(map: &LockMap, key: &LockKey) {
    let mut map = map
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if map.get(key).is_some_and(|m| Arc::strong_count(m) == 1) {
        map.remove(key);
    }
}

/// A held lock of [`MemoryLocks`]: its guard, released (and the entry forgotten if unused)
/// when dropped.
struct MemoryHeld {
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    map: LockMap,
    key: LockKey,
}

impl Drop for MemoryHeld {
    fn drop(&mut self) {
        drop(self.guard.take());
        forget_if_unused(&self.map, &self.key);
    }
}

impl MemoryLocks {
    /// How many patients' locks are held or awaited.
    pub fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl Locks for MemoryLocks {
    async fn lock(
        &self,
        clinic: &str,
        patient: &PatientId,
        wait: Duration,
    ) -> Result<Option<Held>, StateError> {
        let key = (clinic.to_owned(), patient.as_str().to_owned());
        let mutex = {
            let mut map = self
                .map
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if map.len() >= MAX_LOCKS && !map.contains_key(&key) {
                return Err(StateError(
                    "too many patients' requests in flight at once".into(),
                ));
            }
            map.entry(key.clone()).or_default().clone()
        };
        match tokio::time::timeout(wait, mutex.lock_owned()).await {
            Ok(guard) => Ok(Some(Held::new(MemoryHeld {
                guard: Some(guard),
                map: self.map.clone(),
                key,
            }))),
            Err(_) => {
                forget_if_unused(&self.map, &key);
                Ok(None)
            }
        }
    }

    fn count(&self) -> Option<usize> {
        Some(self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient(n: usize) -> PatientId {
        PatientId::parse(format!("p{n}")).expect("an id")
    }

    #[tokio::test]
    async fn one_patient_s_requests_take_turns_and_others_do_not_wait() {
        let locks = MemoryLocks::default();
        let held = locks
            .lock("c", &patient(1), Duration::from_secs(1))
            .await
            .expect("memory")
            .expect("free");
        let waited = locks
            .lock("c", &patient(1), Duration::from_millis(30))
            .await
            .expect("memory");
        assert!(waited.is_none(), "the second waits, then gives up");
        let other = locks
            .lock("c", &patient(2), Duration::from_millis(30))
            .await
            .expect("memory");
        assert!(other.is_some(), "another patient does not wait");
        drop(other);
        drop(held);
        assert!(locks.is_empty(), "released locks leave nothing behind");
        assert!(
            locks
                .lock("c", &patient(1), Duration::from_millis(30))
                .await
                .expect("memory")
                .is_some()
        );
    }

    #[tokio::test]
    async fn a_flood_of_patients_stays_within_the_cap_and_leaves_nothing() {
        let locks = MemoryLocks::default();
        let mut held = Vec::new();
        for n in 0..MAX_LOCKS {
            held.push(
                locks
                    .lock("c", &patient(n), Duration::ZERO)
                    .await
                    .expect("under the cap")
                    .expect("free"),
            );
        }
        assert_eq!(locks.len(), MAX_LOCKS);
        assert!(
            locks
                .lock("c", &patient(MAX_LOCKS), Duration::ZERO)
                .await
                .is_err(),
            "past the cap a new patient is refused"
        );
        drop(held);
        assert!(locks.is_empty());
    }
}
