//! Idempotency keys in this process's memory, by the rules of [`gateway_domain::idempotency`]: at most
//! [`MAX_KEYS_PER_PATIENT`] per patient and [`MAX_KEYS`] in all, the least recently used finished
//! key out first; a running key, or one whose outcome nobody knows, never (a retry must read
//! the МИС first).

use gateway_domain::idempotency::{
    Claimed, MAX_KEYS, MAX_KEYS_PER_PATIENT, Outcome, Scope, Settlement, TTL, new_owner,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

type Owner = (String, String);

fn owner(scope: &Scope) -> Owner {
    (scope.clinic.clone(), scope.patient.clone())
}

#[derive(Debug)]
enum State {
    /// Held by `owner` until `until` (renewed while its request runs).
    Running {
        owner: String,
        until: Instant,
    },
    Done(Box<Outcome>),
    /// Nobody knows whether the МИС acted.
    Unknown,
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

    /// Claims `scope` for a request whose body has `fingerprint`, for `lease`.
    pub fn claim(&self, scope: &Scope, fingerprint: [u8; 32], lease: Duration) -> Claimed {
        let now = Instant::now();
        let mut inner = self.lock();
        if let Some(e) = inner.entries.get_mut(scope) {
            if now.duration_since(e.created) < TTL {
                if e.fingerprint != fingerprint {
                    return Claimed::Reused;
                }
                let answer = match &e.state {
                    State::Done(outcome) => Claimed::Replay(outcome.clone()),
                    State::Running { until, .. } if *until > now => Claimed::InUse {
                        retry_after: *until - now,
                    },
                    // Unknown, or held by a request that stopped renewing it.
                    _ => {
                        let owner = new_owner();
                        e.state = State::Running {
                            owner: owner.clone(),
                            until: now + lease,
                        };
                        Claimed::Resolve { owner }
                    }
                };
                inner.touch(scope);
                return answer;
            }
            inner.remove(scope);
        }
        // Expired keys (a day old, whatever became of them) at the old end go first, then the
        // caps make room.
        while let Some(oldest) = inner.order.values().next().cloned() {
            let (_, old) = inner.finished_and_old(&oldest, now);
            if !old {
                break;
            }
            inner.remove(&oldest);
        }
        let owner_of = owner(scope);
        if inner
            .owners
            .get(&owner_of)
            .is_some_and(|keys| keys.len() >= MAX_KEYS_PER_PATIENT)
        {
            let mine: Vec<Scope> = inner
                .owners
                .get(&owner_of)
                .map(|keys| {
                    keys.values()
                        .map(|key| Scope {
                            clinic: owner_of.0.clone(),
                            patient: owner_of.1.clone(),
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
        let owner = new_owner();
        inner.entries.insert(
            scope.clone(),
            Entry {
                fingerprint,
                state: State::Running {
                    owner: owner.clone(),
                    until: now + lease,
                },
                created: now,
                seq,
            },
        );
        Claimed::Proceed { owner }
    }

    /// Whether `owner` holds `scope` now.
    fn holds(inner: &Inner, scope: &Scope, owner: &str) -> bool {
        inner
            .entries
            .get(scope)
            .is_some_and(|e| matches!(&e.state, State::Running { owner: o, .. } if o == owner))
    }

    /// Extends `owner`'s claim of `scope` to `lease` from now; whether it still held it.
    pub fn renew(&self, scope: &Scope, owner: &str, lease: Duration) -> bool {
        let mut inner = self.lock();
        if !Self::holds(&inner, scope, owner) {
            return false;
        }
        if let Some(e) = inner.entries.get_mut(scope) {
            e.state = State::Running {
                owner: owner.to_owned(),
                until: Instant::now() + lease,
            };
        }
        true
    }

    /// Settles `owner`'s claim of `scope` (a claim it no longer holds is left alone).
    pub fn settle(&self, scope: &Scope, owner: &str, settlement: Settlement) {
        let mut inner = self.lock();
        if !Self::holds(&inner, scope, owner) {
            return;
        }
        match settlement {
            Settlement::Release => inner.remove(scope),
            Settlement::Keep(outcome) => {
                if let Some(e) = inner.entries.get_mut(scope) {
                    e.state = State::Done(outcome);
                }
            }
            Settlement::Unknown => {
                if let Some(e) = inner.entries.get_mut(scope) {
                    e.state = State::Unknown;
                }
            }
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
    use gateway_domain::Failure;
    use gateway_domain::idempotency::{Refusal, fingerprint, valid_key};
    use vocabulary::ErrorCode;

    const LEASE: Duration = Duration::from_secs(10);

    fn scope(patient: &str, key: &str) -> Scope {
        Scope {
            clinic: "c".into(),
            patient: patient.into(),
            key: key.into(),
        }
    }

    fn refused() -> Outcome {
        Outcome::Refused(Refusal::of(&Failure::new(ErrorCode::SlotTaken)))
    }

    /// Claims a fresh key; its owner.
    fn proceed(store: &MemoryIdempotency, s: &Scope, body: &[u8]) -> String {
        match store.claim(s, fingerprint(body), LEASE) {
            Claimed::Proceed { owner } => owner,
            other => panic!("a fresh claim, not {other:?}"),
        }
    }

    #[test]
    fn same_key_same_body_replays_and_another_body_is_refused() {
        let store = MemoryIdempotency::default();
        let body = b"{\"slot_id\":\"a\"}";
        let owner = proceed(&store, &scope("p", "k"), body);
        assert!(matches!(
            store.claim(&scope("p", "k"), fingerprint(body), LEASE),
            Claimed::InUse { retry_after } if retry_after <= LEASE && retry_after > Duration::ZERO
        ));
        store.settle(
            &scope("p", "k"),
            &owner,
            Settlement::Keep(Box::new(refused())),
        );
        assert_eq!(
            store.claim(&scope("p", "k"), fingerprint(body), LEASE),
            Claimed::Replay(Box::new(refused()))
        );
        assert_eq!(
            store.claim(&scope("p", "k"), fingerprint(b"other"), LEASE),
            Claimed::Reused
        );
        proceed(&store, &scope("other-patient", "k"), body);
    }

    #[test]
    fn a_released_key_is_free_and_only_its_owner_settles_it() {
        let store = MemoryIdempotency::default();
        let owner = proceed(&store, &scope("p", "k"), b"x");
        store.settle(&scope("p", "k"), "someone else", Settlement::Release);
        assert_eq!(store.len(), 1, "a stranger cannot settle a claim");
        store.settle(&scope("p", "k"), &owner, Settlement::Release);
        assert!(store.is_empty());
        proceed(&store, &scope("p", "k"), b"x");
    }

    #[test]
    fn an_unknown_outcome_or_an_abandoned_claim_is_resolved_by_the_next_request() {
        let store = MemoryIdempotency::default();
        let owner = proceed(&store, &scope("p", "k"), b"x");
        store.settle(&scope("p", "k"), &owner, Settlement::Unknown);
        let second = match store.claim(&scope("p", "k"), fingerprint(b"x"), LEASE) {
            Claimed::Resolve { owner } => owner,
            other => panic!("{other:?}"),
        };
        assert!(matches!(
            store.claim(&scope("p", "k"), fingerprint(b"x"), LEASE),
            Claimed::InUse { .. }
        ));
        // Its holder stops renewing it: once the lease ends, the next resolves it.
        let short = Duration::from_millis(20);
        assert!(store.renew(&scope("p", "k"), &second, short));
        std::thread::sleep(Duration::from_millis(40));
        let third = match store.claim(&scope("p", "k"), fingerprint(b"x"), LEASE) {
            Claimed::Resolve { owner } => owner,
            other => panic!("{other:?}"),
        };
        assert!(!store.renew(&scope("p", "k"), &second, LEASE), "taken over");
        store.settle(&scope("p", "k"), &second, Settlement::Release);
        store.settle(
            &scope("p", "k"),
            &third,
            Settlement::Keep(Box::new(refused())),
        );
        assert!(matches!(
            store.claim(&scope("p", "k"), fingerprint(b"x"), LEASE),
            Claimed::Replay(_)
        ));
    }

    #[test]
    fn a_patient_flooding_keys_keeps_only_the_latest() {
        let store = MemoryIdempotency::default();
        for i in 0..MAX_KEYS_PER_PATIENT * 5 {
            let s = scope("p", &format!("k{i}"));
            let owner = proceed(&store, &s, b"x");
            store.settle(&s, &owner, Settlement::Keep(Box::new(refused())));
        }
        assert_eq!(store.len(), MAX_KEYS_PER_PATIENT);
        let last = format!("k{}", MAX_KEYS_PER_PATIENT * 5 - 1);
        assert!(matches!(
            store.claim(&scope("p", &last), fingerprint(b"x"), LEASE),
            Claimed::Replay(_)
        ));
        proceed(&store, &scope("p", "k0"), b"x");
    }

    #[test]
    fn many_patients_flooding_keys_stay_under_the_total_cap() {
        let store = MemoryIdempotency::default();
        for i in 0..MAX_KEYS + 2_000 {
            let s = scope(&format!("p{i}"), "k");
            let owner = proceed(&store, &s, b"x");
            store.settle(&s, &owner, Settlement::Keep(Box::new(refused())));
        }
        assert_eq!(store.len(), MAX_KEYS);
        let inner = store.lock();
        assert_eq!(inner.order.len(), MAX_KEYS);
        assert_eq!(inner.owners.len(), MAX_KEYS);
    }

    #[test]
    fn running_and_unknown_keys_are_never_evicted() {
        let store = MemoryIdempotency::default();
        for i in 0..MAX_KEYS_PER_PATIENT + 3 {
            let s = scope("p", &format!("k{i}"));
            let owner = proceed(&store, &s, b"x");
            if i % 2 == 0 {
                store.settle(&s, &owner, Settlement::Unknown);
            }
        }
        assert_eq!(store.len(), MAX_KEYS_PER_PATIENT + 3);
        assert!(matches!(
            store.claim(&scope("p", "k1"), fingerprint(b"x"), LEASE),
            Claimed::InUse { .. }
        ));
        assert!(matches!(
            store.claim(&scope("p", "k0"), fingerprint(b"x"), LEASE),
            Claimed::Resolve { .. }
        ));
    }

    #[test]
    fn keys_are_visible_ascii() {
        assert!(valid_key("3f6c-11"));
        assert!(!valid_key(""));
        assert!(!valid_key("a b"));
        assert!(!valid_key(&"k".repeat(256)));
    }
}
