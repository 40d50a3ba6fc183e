//! `Idempotency-Key` for booking, with Stripe's semantics, in bounded memory.
//!
//! The first request with a key claims it and runs; its outcome is kept (24 hours); a retry
//! with the same key and the same body gets that outcome again; the same key with another
//! body is refused (`idempotency_key_reused`); a retry while the first is still running is
//! refused (`idempotency_key_in_use`). Keys are scoped to the clinic and the patient.
//!
//! Only final outcomes are kept: a booked ticket, or a refusal that a retry would meet again
//! (the time is taken, the patient already booked, the clinic's rules). Input errors and
//! failures before anything reached the МИС release the key, so they cost no memory and a
//! retry books for real.
//!
//! An outcome nobody knows is kept as such ([`Settlement::Unknown`]): a write whose answer was
//! lost, and whose read-back failed too. So is a claim whose holder stopped renewing its lease
//! (its gateway died mid-request). The next request with the key then gets
//! [`Claimed::Resolve`]: it reads the МИС before it acts, never writing blindly a second time.
//! A running claim lives by its lease (the clinic's read deadline and a margin), renewed while
//! its request runs ([`crate::claims`]); a retry meanwhile is told how long to wait.
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
    /// The key is this request's now (held by `owner`): run it, then settle it.
    Proceed { owner: String },
    /// An earlier request with this key may have acted at the МИС, and nobody knows how it
    /// ended (its answer was lost, or its gateway stopped). The key is this request's now (held
    /// by `owner`): read the МИС before acting.
    Resolve { owner: String },
    /// The first request's outcome.
    Replay(Box<Outcome>),
    /// The key was used with another body.
    Reused,
    /// The first request with this key is still running, for at most this long.
    InUse { retry_after: Duration },
}

/// How a claimed key is settled.
#[derive(Debug, Clone, PartialEq)]
pub enum Settlement {
    /// A final outcome, replayed to every retry.
    Keep(Box<Outcome>),
    /// Nothing happened that a retry would meet again: the key is free.
    Release,
    /// Nobody knows whether the МИС acted: a retry reads it first.
    Unknown,
}

/// A fresh claim's owner: who may renew and settle it (random, and unique in the process).
pub fn new_owner() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut raw = [0u8; 12];
    // Without randomness the counter still keeps owners apart within the process.
    let _ = getrandom::fill(&mut raw);
    let random: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{random}-{n}")
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
