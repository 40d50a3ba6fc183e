//! `Idempotency-Key` for booking, with Stripe's semantics, in bounded memory.
//!
//! The first request with a key claims it and runs; its outcome is kept (24 hours); a retry
//! with the same key and the same body gets that outcome again; the same key with another
//! body is refused (`idempotency_key_reused`); a retry while the first is still running is
//! refused (`idempotency_key_in_use`). Keys are scoped to the clinic and the patient.
//!
//! Only final outcomes are kept: a booked ticket, or a refusal that a retry would meet again
//! (the time is taken, the patient already booked, the clinic's rules). Input errors and
//! failures worth retrying (the МИС down) release the key, so they cost no memory and a
//! retry books for real. A claim is released on every other exit too ([`ClaimGuard`]'s drop).
//!
//! Bounds: at most [`MAX_KEYS_PER_PATIENT`] keys per patient and [`MAX_KEYS`] in all; past
//! either, the least recently used finished key goes (a key still running is never dropped,
//! so no concurrent retry can slip past it).

use api_types::{Problem, Ticket};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an outcome is kept.
pub const TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;
/// The most keys kept in all.
pub const MAX_KEYS: usize = 10_000;
/// The most keys kept per patient of a clinic.
pub const MAX_KEYS_PER_PATIENT: usize = 20;

/// What a replay answers: the first request's final outcome.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Outcome {
    Booked(Ticket),
    Refused(Problem),
}

/// Whose key it is, and the key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub clinic: String,
    pub patient: String,
    pub key: String,
}

type Owner = (String, String);

impl Scope {
    fn owner(&self) -> Owner {
        (self.clinic.clone(), self.patient.clone())
    }
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
        let owner = scope.owner();
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
            .entry(scope.owner())
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

/// What to do with a request that carries a key.
#[derive(Debug)]
pub enum Claim {
    /// Run it; the guard keeps the outcome (or releases the key).
    Proceed(ClaimGuard),
    /// Answer this again.
    Replay(Outcome),
    /// The key was used with another body.
    Reused,
    /// The first request with this key is still running.
    InUse,
}

/// The keys seen.
#[derive(Debug, Default)]
pub struct IdempotencyStore {
    inner: Mutex<Inner>,
}

/// Whether a key is acceptable: 1 to 255 visible ASCII characters.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The digest a body is compared by.
pub fn fingerprint(body: &[u8]) -> [u8; 32] {
    Sha256::digest(body).into()
}

impl IdempotencyStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Each operation leaves the maps consistent before it can panic (none does).
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Claims `scope` for a request whose body has `fingerprint`.
    pub fn claim(self: &Arc<Self>, scope: Scope, fingerprint: [u8; 32]) -> Claim {
        let now = Instant::now();
        let mut inner = self.lock();
        if let Some(e) = inner.entries.get(&scope) {
            if now.duration_since(e.created) >= TTL {
                inner.remove(&scope);
            } else if e.fingerprint != fingerprint {
                return Claim::Reused;
            } else {
                let answer = match &e.state {
                    State::Running => Claim::InUse,
                    State::Done(outcome) => Claim::Replay(Outcome::clone(outcome)),
                };
                inner.touch(&scope);
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
        let owner = scope.owner();
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
        let seq = inner.link(&scope);
        inner.entries.insert(
            scope.clone(),
            Entry {
                fingerprint,
                state: State::Running,
                created: now,
                seq,
            },
        );
        Claim::Proceed(ClaimGuard {
            store: self.clone(),
            scope: Some(scope),
        })
    }

    fn settle(&self, scope: &Scope, outcome: Option<Outcome>) {
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

/// A claimed key. [`ClaimGuard::finish`] keeps the outcome; dropping the guard unfinished
/// (the request failed in a way worth retrying, or its task was cancelled) releases the key.
#[derive(Debug)]
pub struct ClaimGuard {
    store: Arc<IdempotencyStore>,
    scope: Option<Scope>,
}

impl ClaimGuard {
    /// Keeps `outcome` under the key, or releases the key with `None`.
    pub fn finish(mut self, outcome: Option<Outcome>) {
        if let Some(scope) = self.scope.take() {
            self.store.settle(&scope, outcome);
        }
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if let Some(scope) = self.scope.take() {
            self.store.settle(&scope, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use api_types::ErrorCode;

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
        let store = Arc::new(IdempotencyStore::default());
        let fp = fingerprint(b"{\"slot_id\":\"a\"}");
        let Claim::Proceed(guard) = store.claim(scope("p", "k"), fp) else {
            panic!("the first claim proceeds");
        };
        assert!(matches!(store.claim(scope("p", "k"), fp), Claim::InUse));
        guard.finish(Some(refused()));
        assert!(matches!(store.claim(scope("p", "k"), fp), Claim::Replay(o) if o == refused()));
        assert!(matches!(
            store.claim(scope("p", "k"), fingerprint(b"other")),
            Claim::Reused
        ));
        assert!(matches!(
            store.claim(scope("other-patient", "k"), fp),
            Claim::Proceed(_)
        ));
    }

    #[test]
    fn a_claim_dropped_unfinished_releases_its_key() {
        let store = Arc::new(IdempotencyStore::default());
        let fp = fingerprint(b"x");
        let claim = store.claim(scope("p", "k"), fp);
        drop(claim);
        assert!(store.is_empty());
        let Claim::Proceed(guard) = store.claim(scope("p", "k"), fp) else {
            panic!("released");
        };
        guard.finish(None);
        assert!(store.is_empty(), "finishing with no outcome releases too");
    }

    #[test]
    fn a_patient_flooding_keys_keeps_only_the_latest() {
        let store = Arc::new(IdempotencyStore::default());
        for i in 0..MAX_KEYS_PER_PATIENT * 5 {
            let Claim::Proceed(g) = store.claim(scope("p", &format!("k{i}")), fingerprint(b"x"))
            else {
                panic!("a fresh key proceeds");
            };
            g.finish(Some(refused()));
        }
        assert_eq!(store.len(), MAX_KEYS_PER_PATIENT);
        let last = format!("k{}", MAX_KEYS_PER_PATIENT * 5 - 1);
        assert!(matches!(
            store.claim(scope("p", &last), fingerprint(b"x")),
            Claim::Replay(_)
        ));
        assert!(matches!(
            store.claim(scope("p", "k0"), fingerprint(b"x")),
            Claim::Proceed(_)
        ));
    }

    #[test]
    fn many_patients_flooding_keys_stay_under_the_total_cap() {
        let store = Arc::new(IdempotencyStore::default());
        for i in 0..MAX_KEYS + 2_000 {
            let Claim::Proceed(g) = store.claim(scope(&format!("p{i}"), "k"), fingerprint(b"x"))
            else {
                panic!("a fresh key proceeds");
            };
            g.finish(Some(refused()));
        }
        assert_eq!(store.len(), MAX_KEYS);
        let inner = store.lock();
        assert_eq!(inner.order.len(), MAX_KEYS);
        assert_eq!(inner.owners.len(), MAX_KEYS);
    }

    #[test]
    fn running_keys_are_never_evicted() {
        let store = Arc::new(IdempotencyStore::default());
        let mut guards = Vec::new();
        for i in 0..MAX_KEYS_PER_PATIENT + 3 {
            match store.claim(scope("p", &format!("k{i}")), fingerprint(b"x")) {
                Claim::Proceed(g) => guards.push(g),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(store.len(), MAX_KEYS_PER_PATIENT + 3);
        assert!(matches!(
            store.claim(scope("p", "k0"), fingerprint(b"x")),
            Claim::InUse
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
