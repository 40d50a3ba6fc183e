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
//! retry books for real. A claim is released on every other exit too ([`crate::claims`]).
//!
//! Bounds: at most [`MAX_KEYS_PER_PATIENT`] keys per patient and [`MAX_KEYS`] in all; past
//! either, the least recently used finished key goes (a key still running is never dropped,
//! so no concurrent retry can slip past it). The [`crate::shared::Idempotency`] port keeps
//! them, in this process or in Redis, by the same rules.

use api_types::{Problem, Ticket};
use sha2::{Digest, Sha256};
use std::time::Duration;

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

/// What a claim of an idempotency key found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claimed {
    /// The key is this request's now: run it, then settle it.
    Proceed,
    /// The first request's outcome.
    Replay(Box<Outcome>),
    /// The key was used with another body.
    Reused,
    /// The first request with this key is still running.
    InUse,
}

/// Whose key it is, and the key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub clinic: String,
    pub patient: String,
    pub key: String,
}

/// Whether a key is acceptable: 1 to 255 visible ASCII characters.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The digest a body is compared by.
pub fn fingerprint(body: &[u8]) -> [u8; 32] {
    Sha256::digest(body).into()
}
