//! The request a piece of domain work is done for, as the shell that received it says: its id
//! (quoted by problem documents and the audit trail, so that a patient's screenshot leads to
//! the log line), the places it holds among the МИС calls in flight ([`crate::admission`]),
//! and what it may still spend of МИС calls ([`spend`]). The HTTP shell sets it with [`scope`]
//! around each request; the domain reads it with [`request_id`] and knows nothing of where it
//! came from.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// The request being handled.
#[derive(Debug, Clone)]
struct Request {
    id: String,
    /// Its places among the МИС calls in flight, one for each bound it entered
    /// (`crate::admission`'s, which this module does not need to know), by the bound's
    /// identity: held until the request and every task carried from it ([`carried`]) have
    /// ended.
    places: Arc<Mutex<Vec<(usize, Held)>>>,
    /// How many more МИС calls it may make, where it is bounded ([`budgeted`]).
    budget: Option<Arc<AtomicU32>>,
}

/// What a request holds until it ends.
type Held = Box<dyn std::any::Any + Send + Sync>;

tokio::task_local! {
    static REQUEST: Request;
}

/// Runs `work` as the request `id`.
pub async fn scope<F: Future>(id: String, work: F) -> F::Output {
    let request = Request {
        id,
        places: Arc::default(),
        budget: None,
    };
    REQUEST.scope(request, work).await
}

/// The id of the request being handled, where there is one.
pub fn request_id() -> Option<String> {
    with_request_id(str::to_owned)
}

/// `f` of the id of the request being handled, where there is one (without a copy of it).
/// Work budgeted outside any request ([`budgeted`]) has none.
pub fn with_request_id<R>(f: impl FnOnce(&str) -> R) -> Option<R> {
    REQUEST
        .try_with(|r| (!r.id.is_empty()).then(|| f(&r.id)))
        .ok()
        .flatten()
}

/// Whether the request being handled holds a place in the bound `bound` (an identity);
/// `None` outside a request (background work: probes, refreshes), which is never held back.
pub(crate) fn holds(bound: usize) -> Option<bool> {
    REQUEST
        .try_with(|r| {
            r.places
                .lock()
                .map_or(true, |p| p.iter().any(|(b, _)| *b == bound))
        })
        .ok()
}

/// Gives the request being handled its place in `bound`, kept until it ends (a second one in
/// the same bound, from a call made beside the first, is let go at once).
pub(crate) fn admit(bound: usize, place: Held) {
    let _ = REQUEST.try_with(|r| {
        if let Ok(mut places) = r.places.lock()
            && !places.iter().any(|(b, _)| *b == bound)
        {
            places.push((bound, place));
        }
    });
}

/// Runs `work` as the same request as the caller (for work moved to a task of its own), with
/// the same places among the МИС calls: a booking admitted finishes even when its client has
/// gone.
pub fn carried<F: Future>(work: F) -> impl Future<Output = F::Output> {
    let request = REQUEST.try_with(Clone::clone).ok();
    async move {
        match request {
            Some(request) => REQUEST.scope(request, work).await,
            None => work.await,
        }
    }
}

/// Runs `work`, one part of the request being handled that asks a МИС of its own (one
/// clinic of an answer across a region's), with places of its own among the МИС calls, let
/// go when the part ends: each clinic asked takes a place at that clinic, and an answer
/// across many clinics holds as many places as it has calls in flight, not one. The budget
/// of МИС calls stays the request's.
pub fn part<F: Future>(work: F) -> impl Future<Output = F::Output> {
    let request = REQUEST.try_with(Clone::clone).ok();
    async move {
        match request {
            Some(request) => {
                let part = Request {
                    places: Arc::default(),
                    ..request
                };
                REQUEST.scope(part, work).await
            }
            None => work.await,
        }
    }
}

/// Runs `work` (the request being handled, or a part of it) with at most `calls` МИС calls
/// left to make: the cost a client can cause with one request is bounded.
pub fn budgeted<F: Future>(calls: u32, work: F) -> impl Future<Output = F::Output> {
    let request = REQUEST.try_with(Clone::clone).ok();
    async move {
        let budget = Some(Arc::new(AtomicU32::new(calls)));
        match request {
            Some(request) => REQUEST.scope(Request { budget, ..request }, work).await,
            None => {
                let request = Request {
                    id: String::new(),
                    places: Arc::default(),
                    budget,
                };
                REQUEST.scope(request, work).await
            }
        }
    }
}

/// Takes one МИС call from the request's budget: `false` when none is left (the call is not
/// to be made). Unbounded outside a budget.
pub(crate) fn spend() -> bool {
    REQUEST
        .try_with(|r| {
            r.budget.as_ref().is_none_or(|left| {
                left.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                    .is_ok()
            })
        })
        .unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_budget_is_spent_call_by_call_and_shared_by_the_parts_of_a_request() {
        assert!(spend(), "outside a request: unbounded");
        scope("r".into(), async {
            assert!(spend(), "a request without a budget: unbounded");
            budgeted(3, async {
                assert!(part(async { spend() }).await);
                assert!(part(async { spend() && spend() }).await);
                assert!(!spend(), "spent by the parts");
                assert!(!part(async { spend() }).await);
            })
            .await;
        })
        .await;
    }

    #[tokio::test]
    async fn a_part_holds_places_of_its_own_and_the_request_keeps_its_own() {
        scope("r".into(), async {
            admit(1, Box::new(()));
            assert_eq!(holds(1), Some(true));
            part(async {
                assert_eq!(holds(1), Some(false), "a part starts with no place");
                admit(2, Box::new(()));
                assert_eq!(holds(2), Some(true));
            })
            .await;
            assert_eq!(holds(2), Some(false), "the part's place went with it");
            assert_eq!(holds(1), Some(true));
        })
        .await;
        assert_eq!(holds(1), None, "outside a request");
    }
}
