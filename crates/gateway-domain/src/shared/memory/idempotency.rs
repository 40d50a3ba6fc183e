//! Idempotency keys in this process's memory, by the rules of [`crate::idempotency`]: at most
//! [`MAX_KEYS_PER_PATIENT`] per patient and [`MAX_KEYS`] in all, the least recently used finished
//! key out first, a running key never.

use crate::idempotency::{Claimed, MAX_KEYS, MAX_KEYS_PER_PATIENT, Outcome, Scope, TTL};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Instant;

type Owner = (String, String);

fn owner(scope: &Scope) -> Owner {
    (scope.clinic.clone(), scope.patient.clone())
}

#[derive(Debug)]
enum State {
    Running,
    Done(Box<Outcome>),
}

#[derive(Debug)]
struct Entry {
    fingerprint: [u8; 32],
    state: State,
    created: Instant,
    /// Its place in the use order (higher is more recent).
    seq: u64,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<Scope, Entry>,
    /// Every key by last use, least recent first.
    order: BTreeMap<u64, Scope>,
    /// Each patient's keys by last use.
    owners: HashMap<Owner, BTreeMap<u64, String>>,
    next: u64,
}

impl Inner {
    fn unlink(&mut self, scope: &Scope, seq: u64) {
        self.order.remove(&seq);
        let owner = owner(scope);
        if let Some(keys) = self.owners.get_mut(&owner) {
            keys.remove(&seq);
            if keys.is_empty() {
                self.owners.remove(&owner);
            }
        }
    }

    fn remove(&mut self, scope: &Scope) {
        if let Some(e) = self.entries.remove(scope) {
            self.unlink(scope, e.seq);
        }
    }

    fn link(&mut self, scope: &Scope) -> u64 {
        self.next += 1;
        let seq = self.next;
        self.order.insert(seq, scope.clone());
        self.owners
            .entry(owner(scope))
            .or_default()
            .insert(seq, scope.key.clone());
        seq
    }

    /// Marks a key as just used.
    fn touch(&mut self, scope: &Scope) {
        let Some(old) = self.entries.get(scope).map(|e| e.seq) else {
            return;
        };
        self.unlink(scope, old);
        let seq = self.link(scope);
        if let Some(e) = self.entries.get_mut(scope) {
            e.seq = seq;
        }
    }

    fn finished_and_old(&self, scope: &Scope, now: Instant) -> (bool, bool) {
        self.entries.get(scope).map_or((true, true), |e| {
            (
                matches!(e.state, State::Done(_)),
                now.duration_since(e.created) >= TTL,
            )
        })
    }

    /// Drops the least recently used finished key among `candidates` (in use order).
    fn evict_one<'a>(&mut self, candidates: impl Iterator<Item = &'a Scope>, now: Instant) -> bool
    where
        Self: 'a,
    {
        let mut victim = None;
        for scope in candidates {
            let (finished, _) = self.finished_and_old(scope, now);
            if finished {
                victim = Some(scope.clone());
                break;
            }
        }
        match victim {
            Some(scope) => {
                self.remove(&scope);
                true
            }
            None => false,
        }
    }
}

/// The keys seen, in this process's memory.
#[derive(Debug, Default)]
pub struct MemoryIdempotency {
    inner: Mutex<Inner>,
}

impl MemoryIdempotency {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Each operation leaves the maps consistent before it can panic (none does).
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Claims `scope` for a request whose body has `fingerprint`.
    pub fn claim(&self, scope: &Scope, fingerprint: [u8; 32]) -> Claimed {
        let now = Instant::now();
        let mut inner = self.lock();
        if let Some(e) = inner.entries.get(scope) {
            if now.duration_since(e.created) >= TTL {
                inner.remove(scope);
            } else if e.fingerprint != fingerprint {
                return Claimed::Reused;
            } else {
                let answer = match &e.state {
                    State::Running => Claimed::InUse,
                    State::Done(outcome) => Claimed::Replay(outcome.clone()),
                };
                inner.touch(scope);
                return answer;
            }
        }
        // Expired keys at the old end go first, then the caps make room.
        while let Some(oldest) = inner.order.values().next().cloned() {
            let (finished, old) = inner.finished_and_old(&oldest, now);
            if !(finished && old) {
                break;
            }
            inner.remove(&oldest);
        }
        let owner = owner(scope);
        if inner
            .owners
            .get(&owner)
            .is_some_and(|keys| keys.len() >= MAX_KEYS_PER_PATIENT)
        {
            let mine: Vec<Scope> = inner
                .owners
                .get(&owner)
                .map(|keys| {
                    keys.values()
                        .map(|key| Scope {
                            clinic: owner.0.clone(),
                            patient: owner.1.clone(),
                            key: key.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            inner.evict_one(mine.iter(), now);
        }
        if inner.entries.len() >= MAX_KEYS {
            let all: Vec<Scope> = inner.order.values().take(64).cloned().collect();
            inner.evict_one(all.iter(), now);
        }
        let seq = inner.link(scope);
        inner.entries.insert(
            scope.clone(),
            Entry {
                fingerprint,
                state: State::Running,
                created: now,
                seq,
            },
        );
        Claimed::Proceed
    }

    /// Keeps `outcome` under a claimed key, or releases the key with `None`.
    pub fn settle(&self, scope: &Scope, outcome: Option<Outcome>) {
        let mut inner = self.lock();
        match outcome {
            Some(outcome) => {
                if let Some(e) = inner.entries.get_mut(scope) {
                    e.state = State::Done(Box::new(outcome));
                }
            }
            None => inner.remove(scope),
        }
    }

    /// How many keys are kept.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idempotency::{fingerprint, valid_key};
    use api_types::{ErrorCode, Problem};

    fn scope(patient: &str, key: &str) -> Scope {
        Scope {
            clinic: "c".into(),
            patient: patient.into(),
            key: key.into(),
        }
    }

    fn refused() -> Outcome {
        Outcome::Refused(Problem::new(ErrorCode::SlotTaken))
    }

    #[test]
    fn same_key_same_body_replays_and_another_body_is_refused() {
        let store = MemoryIdempotency::default();
        let fp = fingerprint(b"{\"slot_id\":\"a\"}");
        assert_eq!(store.claim(&scope("p", "k"), fp), Claimed::Proceed);
        assert_eq!(store.claim(&scope("p", "k"), fp), Claimed::InUse);
        store.settle(&scope("p", "k"), Some(refused()));
        assert_eq!(
            store.claim(&scope("p", "k"), fp),
            Claimed::Replay(Box::new(refused()))
        );
        assert_eq!(
            store.claim(&scope("p", "k"), fingerprint(b"other")),
            Claimed::Reused
        );
        assert_eq!(
            store.claim(&scope("other-patient", "k"), fp),
            Claimed::Proceed
        );
    }

    #[test]
    fn settling_with_no_outcome_releases_the_key() {
        let store = MemoryIdempotency::default();
        let fp = fingerprint(b"x");
        assert_eq!(store.claim(&scope("p", "k"), fp), Claimed::Proceed);
        store.settle(&scope("p", "k"), None);
        assert!(store.is_empty());
        assert_eq!(store.claim(&scope("p", "k"), fp), Claimed::Proceed);
    }

    #[test]
    fn a_patient_flooding_keys_keeps_only_the_latest() {
        let store = MemoryIdempotency::default();
        for i in 0..MAX_KEYS_PER_PATIENT * 5 {
            let s = scope("p", &format!("k{i}"));
            assert_eq!(store.claim(&s, fingerprint(b"x")), Claimed::Proceed);
            store.settle(&s, Some(refused()));
        }
        assert_eq!(store.len(), MAX_KEYS_PER_PATIENT);
        let last = format!("k{}", MAX_KEYS_PER_PATIENT * 5 - 1);
        assert!(matches!(
            store.claim(&scope("p", &last), fingerprint(b"x")),
            Claimed::Replay(_)
        ));
        assert_eq!(
            store.claim(&scope("p", "k0"), fingerprint(b"x")),
            Claimed::Proceed
        );
    }

    #[test]
    fn many_patients_flooding_keys_stay_under_the_total_cap() {
        let store = MemoryIdempotency::default();
        for i in 0..MAX_KEYS + 2_000 {
            let s = scope(&format!("p{i}"), "k");
            assert_eq!(store.claim(&s, fingerprint(b"x")), Claimed::Proceed);
            store.settle(&s, Some(refused()));
        }
        assert_eq!(store.len(), MAX_KEYS);
        let inner = store.lock();
        assert_eq!(inner.order.len(), MAX_KEYS);
        assert_eq!(inner.owners.len(), MAX_KEYS);
    }

    #[test]
    fn running_keys_are_never_evicted() {
        let store = MemoryIdempotency::default();
        for i in 0..MAX_KEYS_PER_PATIENT + 3 {
            assert_eq!(
                store.claim(&scope("p", &format!("k{i}")), fingerprint(b"x")),
                Claimed::Proceed
            );
        }
        assert_eq!(store.len(), MAX_KEYS_PER_PATIENT + 3);
        assert_eq!(
            store.claim(&scope("p", "k0"), fingerprint(b"x")),
            Claimed::InUse
        );
    }

    #[test]
    fn keys_are_visible_ascii() {
        assert!(valid_key("3f6c-11"));
        assert!(!valid_key(""));
        assert!(!valid_key("a b"));
        assert!(!valid_key(&"k".repeat(256)));
    }
}
