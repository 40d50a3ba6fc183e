//! The in-memory adapter: one gateway, its state in its own process. The default.

use super::{
    Claimed, Health, Idempotency, Memo, OutageHint, RateStore, ReadCache, Sessions, Shared,
    StateError,
};
use crate::idempotency::{MemoryIdempotency, Outcome, Scope};
use crate::security::limiter::{Class, Limiter, RateLimitConfig, Subject};
use crate::sessions::{MemorySessions, Session};
use crate::state::{SlotDetails, TicketMemo};
use async_trait::async_trait;
use mis::{AppointmentId, PatientId};
use std::sync::Arc;
use std::time::Duration;

/// The in-memory state.
pub fn shared(
    session_ttl: Duration,
    limits: &RateLimitConfig,
    key_limits: &[RateLimitConfig],
) -> Shared {
    Shared {
        sessions: Arc::new(MemorySessions::new(session_ttl)),
        idempotency: Arc::new(MemoryIdempotency::default()),
        limits: Arc::new(Limiter::new(limits, key_limits)),
        memo: Arc::new(TicketMemo::default()),
        reads: Arc::new(NoSharedCache),
        outages: Arc::new(NoHint),
        health: Arc::new(AlwaysHealthy),
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
    async fn claim(&self, scope: &Scope, fingerprint: [u8; 32]) -> Result<Claimed, StateError> {
        Ok(MemoryIdempotency::claim(self, scope, fingerprint))
    }

    async fn settle(&self, scope: &Scope, outcome: Option<Outcome>) -> Result<(), StateError> {
        MemoryIdempotency::settle(self, scope, outcome);
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

/// No second level: each gateway's own cache is the only one.
#[derive(Debug)]
pub struct NoSharedCache;

#[async_trait]
impl ReadCache for NoSharedCache {
    async fn get(&self, _: &str, _: &str) -> Option<Vec<u8>> {
        None
    }

    async fn put(&self, _: &str, _: &str, _: Vec<u8>, _: Duration) {}

    async fn invalidate(&self, _: &str) {}

    fn enabled(&self) -> bool {
        false
    }
}

/// No other gateway to tell.
#[derive(Debug)]
pub struct NoHint;

#[async_trait]
impl OutageHint for NoHint {
    async fn report_down(&self, _: &str, _: Duration) {}

    async fn report_up(&self, _: &str) {}

    async fn is_down(&self, _: &str) -> bool {
        false
    }

    fn enabled(&self) -> bool {
        false
    }
}

/// Memory is always there.
#[derive(Debug)]
pub struct AlwaysHealthy;

#[async_trait]
impl Health for AlwaysHealthy {
    async fn check(&self) -> Result<(), StateError> {
        Ok(())
    }
}
