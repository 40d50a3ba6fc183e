//! `Idempotency-Key` for booking, with Stripe's semantics.
//!
//! The first request with a key runs and its answer is kept (24 hours); a retry with the same
//! key and the same body gets that answer again; the same key with another body is refused
//! (`idempotency_key_reused`); a retry while the first is still running is refused
//! (`idempotency_key_in_use`). Keys are scoped to the clinic and the patient. Answers that
//! say "try again" (5xx) are not kept, so a retry after a МИС outage books for real.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// A kept answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub status: u16,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub location: Option<String>,
}

#[derive(Debug)]
enum State {
    Running,
    Done(Stored),
}

#[derive(Debug)]
struct Entry {
    fingerprint: [u8; 32],
    state: State,
    created: Instant,
}

type Scope = (String, String, String);

/// What to do with a request that carries a key.
#[derive(Debug)]
pub enum Begin {
    /// Run it, then call [`IdempotencyStore::finish`] (or [`IdempotencyStore::abandon`]).
    Proceed,
    /// Answer this again.
    Replay(Stored),
    /// The key was used with another body.
    Reused,
    /// The first request with this key is still running.
    InUse,
}

/// The keys seen.
#[derive(Debug, Default)]
pub struct IdempotencyStore {
    entries: Mutex<HashMap<Scope, Entry>>,
}

/// Whether a key is acceptable: 1 to 255 visible ASCII characters.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic())
}

pub fn fingerprint(body: &[u8]) -> [u8; 32] {
    Sha256::digest(body).into()
}

impl IdempotencyStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Scope, Entry>> {
        // Every update is a single insert or remove: a panic cannot leave it half-done.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn begin(&self, clinic: &str, patient: &str, key: &str, fingerprint: [u8; 32]) -> Begin {
        let scope = (clinic.to_owned(), patient.to_owned(), key.to_owned());
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.len() % 1024 == 1023 {
            entries.retain(|_, e| now.duration_since(e.created) < TTL);
        }
        if let Some(e) = entries.get(&scope)
            && now.duration_since(e.created) < TTL
        {
            if e.fingerprint != fingerprint {
                return Begin::Reused;
            }
            return match &e.state {
                State::Running => Begin::InUse,
                State::Done(stored) => Begin::Replay(stored.clone()),
            };
        }
        entries.insert(
            scope,
            Entry {
                fingerprint,
                state: State::Running,
                created: now,
            },
        );
        Begin::Proceed
    }

    /// Keeps the answer of a request that [`Begin::Proceed`]ed.
    pub fn finish(&self, clinic: &str, patient: &str, key: &str, stored: Stored) {
        let scope = (clinic.to_owned(), patient.to_owned(), key.to_owned());
        if let Some(e) = self.lock().get_mut(&scope) {
            e.state = State::Done(stored);
        }
    }

    /// Forgets a key whose request failed in a way worth retrying.
    pub fn abandon(&self, clinic: &str, patient: &str, key: &str) {
        let scope = (clinic.to_owned(), patient.to_owned(), key.to_owned());
        self.lock().remove(&scope);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_body_replays_and_another_body_is_refused() {
        let store = IdempotencyStore::default();
        let fp = fingerprint(b"{\"slot_id\":\"a\"}");
        assert!(matches!(store.begin("c", "p", "k", fp), Begin::Proceed));
        assert!(matches!(store.begin("c", "p", "k", fp), Begin::InUse));
        let stored = Stored {
            status: 201,
            body: b"{}".to_vec(),
            content_type: "application/json",
            location: None,
        };
        store.finish("c", "p", "k", stored.clone());
        assert!(matches!(store.begin("c", "p", "k", fp), Begin::Replay(s) if s == stored));
        assert!(matches!(
            store.begin("c", "p", "k", fingerprint(b"other")),
            Begin::Reused
        ));
        assert!(matches!(
            store.begin("c", "other-patient", "k", fp),
            Begin::Proceed
        ));
        store.abandon("c", "other-patient", "k");
        assert!(matches!(
            store.begin("c", "other-patient", "k", fp),
            Begin::Proceed
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
