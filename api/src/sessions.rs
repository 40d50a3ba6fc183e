//! Patient sessions: opaque random tokens held by the gateway.
//!
//! A token maps to the clinic and the МИС patient id, never to the document data the patient
//! typed. Tokens are 256 bits from the OS's generator; stores keep only their SHA-256 digests,
//! so lookups compare digests (not secrets) and neither a memory dump nor Redis reveals a
//! token. [`MemorySessions`] is the in-memory store: at most [`MAX_SESSIONS`] live at once;
//! past that, the least recently used ends first.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use mis::PatientId;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The most sessions kept at once.
pub const MAX_SESSIONS: u64 = 200_000;

/// What a session grants.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Session {
    pub clinic: String,
    pub patient: PatientId,
    pub expires_at: DateTime<Utc>,
}

impl Session {
    /// A session of `patient` at `clinic` lasting `ttl` from now.
    pub fn new(clinic: &str, patient: PatientId, ttl: Duration) -> Self {
        Self {
            clinic: clinic.to_owned(),
            patient,
            expires_at: Utc::now()
                + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::minutes(15)),
        }
    }

    /// Whether it has not expired.
    pub fn is_live(&self) -> bool {
        self.expires_at > Utc::now()
    }
}

/// The live sessions, in this process's memory.
#[derive(Debug)]
pub struct MemorySessions {
    ttl: Duration,
    sessions: moka::sync::Cache<[u8; 32], Session>,
}

/// The digest a token is kept under.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A new token: 256 bits from the OS's generator, in base64url.
pub fn new_token() -> Result<String, NoRandomness> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|_| NoRandomness)?;
    Ok(URL_SAFE_NO_PAD.encode(raw))
}

/// Why a session could not be created.
#[derive(Debug, thiserror::Error)]
#[error("the system's random generator failed")]
pub struct NoRandomness;

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
