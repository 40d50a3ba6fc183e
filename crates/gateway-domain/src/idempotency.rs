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

use crate::failure::{Failure, FieldError};
use crate::views::{Named, Ticket};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;
use vocabulary::ErrorCode;

/// How long an outcome is kept.
pub const TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;
/// The most keys kept in all.
pub const MAX_KEYS: usize = 10_000;
/// The most keys kept per patient of a clinic.
pub const MAX_KEYS_PER_PATIENT: usize = 20;

/// What a replay answers: the first request's final outcome. It serializes in the state's own
/// form (the views it holds do not serialize: only the shell writes them for clients).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[expect(
    clippy::large_enum_variant,
    reason = "an outcome travels boxed (Settlement::Keep, Claimed::Replay)"
)]
pub enum Outcome {
    Booked(#[serde(with = "StoredTicket")] Ticket),
    Refused(Refusal),
}

/// A final refusal, as kept to replay: its code, its detail and its fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub code: ErrorCode,
    pub detail: Option<String>,
    #[serde(with = "stored_fields")]
    pub fields: Vec<FieldError>,
}

impl Refusal {
    /// What is kept of `failure`, to replay.
    pub fn of(failure: &Failure) -> Self {
        Self {
            code: failure.code,
            detail: failure.detail.clone(),
            fields: failure.fields.clone(),
        }
    }

    /// The failure replayed.
    pub fn failure(self) -> Failure {
        Failure {
            detail: self.detail,
            fields: self.fields,
            ..Failure::new(self.code)
        }
    }
}

/// A ticket as the state keeps it (the compiler holds it to [`Ticket`]'s fields).
#[derive(Serialize, Deserialize)]
#[serde(remote = "Ticket")]
struct StoredTicket {
    id: String,
    number: Option<u32>,
    #[serde(with = "StoredNamed")]
    clinic: Named,
    #[serde(with = "StoredNamed")]
    specialty: Named,
    #[serde(with = "StoredNamed")]
    doctor: Named,
    room: Option<String>,
    address: Option<String>,
    start: DateTime<FixedOffset>,
    end: Option<DateTime<FixedOffset>>,
    created_at: Option<DateTime<FixedOffset>>,
    referral: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "Named")]
struct StoredNamed {
    id: String,
    name: String,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "FieldError")]
struct StoredField {
    field: String,
    reason: String,
    message: String,
}

/// A refusal's fields as the state keeps them.
mod stored_fields {
    use super::{FieldError, StoredField};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct One(#[serde(with = "StoredField")] FieldError);

    pub(super) fn serialize<S: Serializer>(fields: &[FieldError], s: S) -> Result<S::Ok, S::Error> {
        let owned: Vec<One> = fields.iter().cloned().map(One).collect();
        owned.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<FieldError>, D::Error> {
        Ok(Vec::<One>::deserialize(d)?
            .into_iter()
            .map(|o| o.0)
            .collect())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_state_keeps_reads_back_as_it_was() {
        let named = |id: &str| Named {
            id: id.into(),
            name: format!("имя {id}"),
        };
        let at = DateTime::parse_from_rfc3339("2026-12-08T09:20:00+03:00").expect("a time");
        let booked = Outcome::Booked(Ticket {
            id: "t1".into(),
            number: Some(7),
            clinic: named("demo"),
            specialty: named("s"),
            doctor: named("d"),
            room: None,
            address: Some("Улица, 1".into()),
            start: at,
            end: None,
            created_at: Some(at),
            referral: Some("0000000001".into()),
        });
        let refused = Outcome::Refused(Refusal {
            code: ErrorCode::SlotTaken,
            detail: Some("taken".into()),
            fields: vec![FieldError {
                field: "slot_id".into(),
                reason: "taken".into(),
                message: "Taken.".into(),
            }],
        });
        for outcome in [booked, refused] {
            let kept = serde_json::to_vec(&outcome).expect("serializes");
            let back: Outcome = serde_json::from_slice(&kept).expect("reads back");
            assert_eq!(back, outcome);
        }
    }
}
