//! Claims of idempotency keys in the shared state: a request with an `Idempotency-Key` claims
//! it before it runs; the claim answers by itself when the key was seen before (a replay, or a
//! refusal), and is settled on every path when the request runs ([`KeyClaim`]).

use crate::failure::Failure;
use crate::idempotency::{Claimed, Outcome, Scope};
use crate::shared::Idempotency;
use api_types::{ErrorCode, Ticket};
use mis::PatientId;
use std::sync::Arc;
use std::time::Duration;

/// A result, and whether it is the replay of an earlier request's.
#[derive(Debug)]
pub struct Answer<T> {
    pub result: Result<T, Failure>,
    pub replayed: bool,
}

impl<T> Answer<T> {
    pub fn fresh(result: Result<T, Failure>) -> Self {
        Self {
            result,
            replayed: false,
        }
    }
}

/// An `Idempotency-Key` with the fingerprint of its request's body.
#[derive(Debug, Clone)]
pub struct Keyed {
    pub key: String,
    pub fingerprint: [u8; 32],
}

/// Claims `key`, if there is one, for `patient` of `clinic`: `Ok(Some(claim))` to run the
/// request and settle the claim, `Ok(None)` without a key, or `Err` with the answer the key
/// gives by itself (the first request's, replayed; or a refusal).
pub async fn claim(
    store: &Arc<dyn Idempotency>,
    clinic: &str,
    patient: &PatientId,
    key: Option<Keyed>,
) -> Result<Option<KeyClaim>, Answer<Ticket>> {
    let Some(Keyed { key, fingerprint }) = key else {
        return Ok(None);
    };
    let scope = Scope {
        clinic: clinic.to_owned(),
        patient: patient.as_str().to_owned(),
        key,
    };
    match store.claim(&scope, fingerprint).await {
        Err(e) => Err(Answer::fresh(Err(e.into()))),
        Ok(Claimed::Proceed) => Ok(Some(KeyClaim::new(store.clone(), scope))),
        Ok(Claimed::Replay(outcome)) => Err(Answer {
            result: match *outcome {
                Outcome::Booked(ticket) => Ok(ticket),
                Outcome::Refused(problem) => Err(Failure::from_problem(problem)),
            },
            replayed: true,
        }),
        Ok(Claimed::Reused) => Err(Answer::fresh(Err(Failure::new(
            ErrorCode::IdempotencyKeyReused,
        )
        .detail("This Idempotency-Key was used with another request body.")))),
        Ok(Claimed::InUse) => Err(Answer::fresh(Err(Failure::new(
            ErrorCode::IdempotencyKeyInUse,
        )
        .detail("A request with this Idempotency-Key is still running.")))),
    }
}

/// A claimed idempotency key. [`KeyClaim::finish`] keeps the outcome (or releases the key);
/// dropping it unfinished (the work's task was cancelled or panicked) releases the key.
/// Either is retried for a while when the state cannot be reached, so that no claimed key
/// loses its answer or stays claimed.
#[derive(Debug)]
pub struct KeyClaim {
    store: Arc<dyn Idempotency>,
    scope: Option<Scope>,
}

/// How often, and how far apart, settling a key is tried.
const SETTLE_TRIES: u32 = 8;

async fn settle_with_retries(store: Arc<dyn Idempotency>, scope: Scope, outcome: Option<Outcome>) {
    let mut wait = Duration::from_millis(100);
    for attempt in 1..=SETTLE_TRIES {
        match store.settle(&scope, outcome.clone()).await {
            Ok(()) => return,
            Err(e) if attempt == SETTLE_TRIES => {
                tracing::error!(error = %e, "an idempotency key could not be settled");
            }
            Err(_) => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
        }
    }
}

impl KeyClaim {
    /// The claim of `scope` in `store`, made ([`Claimed::Proceed`]).
    pub fn new(store: Arc<dyn Idempotency>, scope: Scope) -> Self {
        Self {
            store,
            scope: Some(scope),
        }
    }

    /// Keeps `outcome` under the key, or releases it with `None`.
    pub async fn finish(mut self, outcome: Option<Outcome>) {
        if let Some(scope) = self.scope.take() {
            settle_with_retries(self.store.clone(), scope, outcome).await;
        }
    }
}

impl Drop for KeyClaim {
    fn drop(&mut self) {
        if let Some(scope) = self.scope.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(settle_with_retries(self.store.clone(), scope, None));
        }
    }
}
