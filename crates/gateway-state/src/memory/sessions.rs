//! Sessions in this process's memory: at most [`MAX_SESSIONS`] live at once; past that, the
//! least recently used ends first.

use gateway_domain::sessions::{NoRandomness, Session, digest, new_token};
use mis::PatientId;
use std::time::Duration;

/// The most sessions kept at once.
pub const MAX_SESSIONS: u64 = 200_000;

/// The live sessions, in this process's memory.
#[derive(Debug)]
pub struct MemorySessions {
    ttl: Duration,
    sessions: moka::sync::Cache<[u8; 32], Session>,
}

impl MemorySessions {
    pub fn new(ttl: Duration) -> Self {
        Self::with_capacity(ttl, MAX_SESSIONS)
    }

    pub fn with_capacity(ttl: Duration, capacity: u64) -> Self {
        Self {
            ttl,
            sessions: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .build(),
        }
    }

    /// How many sessions are kept.
    pub fn len(&self) -> u64 {
        self.sessions.run_pending_tasks();
        self.sessions.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Opens a session and returns its token.
    pub fn create(
        &self,
        clinic: &str,
        patient: PatientId,
    ) -> Result<(String, Session), NoRandomness> {
        let token = new_token()?;
        let session = Session::new(clinic, patient, self.ttl);
        self.sessions.insert(digest(&token), session.clone());
        Ok((token, session))
    }

    /// Keeps `session` under `token` (expired by its own time, at the latest by the store's).
    pub fn put(&self, token: &str, session: Session) {
        self.sessions.insert(digest(token), session);
    }

    /// The live session of `token`, if any.
    pub fn get(&self, token: &str) -> Option<Session> {
        self.sessions.get(&digest(token)).filter(Session::is_live)
    }

    /// Ends the session of `token`; whether there was one.
    pub fn end(&self, token: &str) -> bool {
        self.sessions.remove(&digest(token)).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient() -> PatientId {
        PatientId::parse("P-1").expect("valid")
    }

    #[test]
    fn tokens_are_long_random_and_distinct() {
        let store = MemorySessions::new(Duration::from_secs(60));
        let (a, _) = store.create("demo", patient()).expect("random");
        let (b, _) = store.create("demo", patient()).expect("random");
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "256 bits in base64url");
        assert_eq!(store.get(&a).map(|s| s.patient), Some(patient()));
        assert!(store.get("not-a-token").is_none());
    }

    #[test]
    fn a_flood_of_sessions_stays_within_the_cap() {
        let store = MemorySessions::with_capacity(Duration::from_secs(60), 500);
        let tokens: Vec<String> = (0..5_000)
            .map(|_| store.create("demo", patient()).expect("random").0)
            .collect();
        assert!(store.len() <= 500, "{}", store.len());
        assert!(
            store.get(&tokens[4_999]).is_some(),
            "the latest session lives"
        );
    }

    #[test]
    fn sessions_expire_and_can_be_ended() {
        let store = MemorySessions::new(Duration::from_millis(1));
        let (t, _) = store.create("demo", patient()).expect("random");
        std::thread::sleep(Duration::from_millis(5));
        assert!(store.get(&t).is_none());
        let store = MemorySessions::new(Duration::from_secs(60));
        let (t, _) = store.create("demo", patient()).expect("random");
        assert!(store.end(&t));
        assert!(store.get(&t).is_none());
    }
}
