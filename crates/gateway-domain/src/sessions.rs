//! Patient sessions: what opens one (the identity as typed) and the opaque random tokens the
//! gateway holds.
//!
//! A token maps to the clinic and the МИС patient id, never to the document data the patient
//! typed. Tokens are 256 bits from the OS's generator; stores keep only their SHA-256 digests,
//! so lookups compare digests (not secrets) and neither a memory dump nor Redis reveals a
//! token. Where they are kept is the [`crate::shared::Sessions`] port's.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use mis::PatientId;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The patient's identity as typed: the document, the policy and the birth date, parsed by
/// [`crate::identify::identity_of`]. Personal data: its `Debug` shows none of it.
#[derive(Clone, PartialEq, Eq)]
pub struct TypedIdentity {
    pub document_number: String,
    pub policy_number: String,
    pub birth_date: String,
}

impl std::fmt::Debug for TypedIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TypedIdentity(…)")
    }
}

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
