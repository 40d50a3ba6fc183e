//! Per-patient locks in this process.

use async_trait::async_trait;
use gateway_domain::shared::{Held, Locks, StateError};
use mis::PatientId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
