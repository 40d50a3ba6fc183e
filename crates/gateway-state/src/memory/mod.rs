//! The in-memory adapter: one gateway, its state in its own process. The default.
//!
//! Each store is a module of its own ([`sessions`], [`idempotency`], [`limiter`], [`memo`],
//! [`locks`]); what there is nothing to share with is [`null`]'s. This module fits them to the
//! port's traits.

mod idempotency;
mod limiter;
mod locks;
mod memo;
pub mod null;
mod sessions;

pub use idempotency::MemoryIdempotency;
pub use limiter::Limiter;
pub use locks::{MAX_LOCKS, MemoryLocks};
pub use memo::{MEMO_CAPACITY, TicketMemo};
pub use sessions::{MAX_SESSIONS, MemorySessions};

use async_trait::async_trait;
use gateway_domain::idempotency::{Claimed, Scope, Settlement};
use gateway_domain::limits::{Class, KeyLimits, RateLimitConfig, Subject};
use gateway_domain::memo::SlotDetails;
use gateway_domain::sessions::Session;
use gateway_domain::shared::{Idempotency, Memo, RateStore, Sessions, Shared, StateError};
use mis::{AppointmentId, PatientId};
use null::{AlwaysHealthy, NoHint, NoSharedCache};
use std::sync::Arc;
use std::time::Duration;

/// The in-memory state.
pub fn shared(session_ttl: Duration, limits: &RateLimitConfig, key_limits: &[KeyLimits]) -> Shared {
    Shared {
        sessions: Arc::new(MemorySessions::new(session_ttl)),
        idempotency: Arc::new(MemoryIdempotency::default()),
        limits: Arc::new(Limiter::new(limits, key_limits)),
        memo: Arc::new(TicketMemo::default()),
        reads: Arc::new(NoSharedCache),
        outages: Arc::new(NoHint),
        health: Arc::new(AlwaysHealthy),
        locks: Arc::new(MemoryLocks::default()),
        kind: "memory",
    }
}

#[async_trait]
impl Sessions for MemorySessions {
    async fn create(
        &self,
        clinic: &str,
        patient: PatientId,
    ) -> Result<(String, Session), StateError> {
        MemorySessions::create(self, clinic, patient).map_err(|e| StateError(e.to_string()))
    }

    async fn put(&self, token: &str, session: &Session) -> Result<(), StateError> {
        MemorySessions::put(self, token, session.clone());
        Ok(())
    }

    async fn get(&self, token: &str) -> Result<Option<Session>, StateError> {
        Ok(MemorySessions::get(self, token))
    }

    async fn end(&self, token: &str) -> Result<bool, StateError> {
        Ok(MemorySessions::end(self, token))
    }

    fn count(&self) -> Option<u64> {
        Some(MemorySessions::len(self))
    }
}

#[async_trait]
impl Idempotency for MemoryIdempotency {
    async fn claim(
        &self,
        scope: &Scope,
        fingerprint: [u8; 32],
        lease: Duration,
    ) -> Result<Claimed, StateError> {
        Ok(MemoryIdempotency::claim(self, scope, fingerprint, lease))
    }

    async fn renew(&self, scope: &Scope, owner: &str, lease: Duration) -> Result<bool, StateError> {
        Ok(MemoryIdempotency::renew(self, scope, owner, lease))
    }

    async fn settle(
        &self,
        scope: &Scope,
        owner: &str,
        settlement: Settlement,
    ) -> Result<(), StateError> {
        MemoryIdempotency::settle(self, scope, owner, settlement);
        Ok(())
    }

    fn count(&self) -> Option<usize> {
        Some(MemoryIdempotency::len(self))
    }
}

#[async_trait]
impl RateStore for Limiter {
    async fn check(&self, subject: Subject, class: Class) -> Result<(), u64> {
        Limiter::check(self, subject, class)
    }

    fn clients(&self, class: Class) -> usize {
        Limiter::clients(self, class)
    }
}

#[async_trait]
impl Memo for TicketMemo {
    async fn remember(&self, clinic: &str, id: &AppointmentId, details: SlotDetails) {
        TicketMemo::remember(self, clinic, id, details);
    }

    async fn recall(&self, clinic: &str, id: &AppointmentId) -> Option<SlotDetails> {
        TicketMemo::recall(self, clinic, id)
    }

    async fn forget(&self, clinic: &str, id: &AppointmentId) {
        TicketMemo::forget(self, clinic, id);
    }
}
