//! Claims of idempotency keys in the shared state: a request with an `Idempotency-Key` claims
//! it before it runs; the claim answers by itself when the key was seen before (a replay, a
//! refusal, a request still running), or tells the request to read the МИС first when an
//! earlier one may have acted unseen ([`KeyClaim::resolve`]). A claim is renewed while its
//! request runs and settled on every path ([`KeyClaim`]).

use crate::failure::Failure;
use crate::idempotency::{Claimed, Outcome, Scope, Settlement};
use crate::shared::Idempotency;
use crate::views::Ticket;
use mis::PatientId;
use std::sync::Arc;
use std::time::Duration;
use vocabulary::ErrorCode;

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

/// The margin a claim's lease has over the clinic's read deadline.
const LEASE_MARGIN: Duration = Duration::from_secs(2);

/// Claims `key`, if there is one, for `patient` of `clinic`, whose reads take at most
/// `deadline`: `Ok(Some(claim))` to run the request and settle the claim, `Ok(None)` without a
/// key, or `Err` with the answer the key gives by itself (the first request's, replayed; or a
/// refusal).
pub async fn claim(
    store: &Arc<dyn Idempotency>,
    (clinic, patient): (&str, &PatientId),
    key: Option<Keyed>,
    deadline: Duration,
) -> Result<Option<KeyClaim>, Answer<Ticket>> {
    let Some(Keyed { key, fingerprint }) = key else {
        return Ok(None);
    };
    let scope = Scope {
        clinic: clinic.to_owned(),
        patient: patient.as_str().to_owned(),
        key,
    };
    let lease = deadline + LEASE_MARGIN;
    let claimed = store.claim(&scope, fingerprint, lease).await;
    let (owner, resolve) = match claimed {
        Err(e) => return Err(Answer::fresh(Err(e.into()))),
        Ok(Claimed::Proceed { owner }) => (owner, false),
        Ok(Claimed::Resolve { owner }) => (owner, true),
        Ok(Claimed::Replay(outcome)) => {
            return Err(Answer {
                result: match *outcome {
                    Outcome::Booked(ticket) => Ok(ticket),
                    Outcome::Refused(refusal) => Err(refusal.failure()),
                },
                replayed: true,
            });
        }
        Ok(Claimed::Reused) => {
            return Err(Answer::fresh(Err(Failure::new(
                ErrorCode::IdempotencyKeyReused,
            )
            .detail("This Idempotency-Key was used with another request body."))));
        }
        Ok(Claimed::InUse { retry_after }) => {
            return Err(Answer::fresh(Err(Failure::new(
                ErrorCode::IdempotencyKeyInUse,
            )
            .detail("A request with this Idempotency-Key is still running.")
            .retry_after(retry_after.as_secs_f64().ceil().max(1.0) as u64))));
        }
    };
    Ok(Some(KeyClaim::new(
        store.clone(),
        scope,
        owner,
        lease,
        resolve,
    )))
}

/// A claimed idempotency key, renewed in the background while its request runs.
/// [`KeyClaim::finish`] settles it; dropping it unfinished (the work's task was cancelled or
/// panicked, perhaps after it wrote) leaves its outcome unknown, so that a retry reads the МИС
/// first. Settling is retried for a while when the state cannot be reached, so that no claimed
/// key loses its answer.
#[derive(Debug)]
pub struct KeyClaim {
    store: Arc<dyn Idempotency>,
    scope: Option<Scope>,
    owner: String,
    /// An earlier request with the key may have acted: read before acting.
    resolve: bool,
    renewal: tokio::task::JoinHandle<()>,
}

/// How often, and how far apart, settling a key is tried.
const SETTLE_TRIES: u32 = 8;

async fn settle_with_retries(
    store: Arc<dyn Idempotency>,
    scope: Scope,
    owner: String,
    settlement: Settlement,
) {
    let mut wait = Duration::from_millis(100);
    for attempt in 1..=SETTLE_TRIES {
        match store.settle(&scope, &owner, settlement.clone()).await {
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
    fn new(
        store: Arc<dyn Idempotency>,
        scope: Scope,
        owner: String,
        lease: Duration,
        resolve: bool,
    ) -> Self {
        let renewal = {
            let (store, scope, owner) = (store.clone(), scope.clone(), owner.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(lease / 3).await;
                    if matches!(store.renew(&scope, &owner, lease).await, Ok(false)) {
                        return;
                    }
                }
            })
        };
        Self {
            store,
            scope: Some(scope),
            owner,
            resolve,
            renewal,
        }
    }

    /// Whether an earlier request with this key may have acted at the МИС unseen: the request
    /// must read the МИС before it acts.
    pub fn resolve(&self) -> bool {
        self.resolve
    }

    /// Settles the key.
    pub async fn finish(mut self, settlement: Settlement) {
        self.renewal.abort();
        if let Some(scope) = self.scope.take() {
            settle_with_retries(self.store.clone(), scope, self.owner.clone(), settlement).await;
        }
    }
}

impl Drop for KeyClaim {
    fn drop(&mut self) {
        self.renewal.abort();
        if let Some(scope) = self.scope.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(settle_with_retries(
                self.store.clone(),
                scope,
                self.owner.clone(),
                Settlement::Unknown,
            ));
        }
    }
}
