//! The request a piece of domain work is done for, as the shell that received it says: its id
//! (quoted by problem documents and the audit trail, so that a patient's screenshot leads to
//! the log line), and whether it was admitted to the МИС ([`crate::admission`]). The HTTP
//! shell sets it with [`scope`] around each request; the domain reads it with [`request_id`]
//! and knows nothing of where it came from.

use std::future::Future;
use std::sync::{Arc, OnceLock};

/// The request being handled.
#[derive(Debug, Clone)]
struct Request {
    id: String,
    /// Its places among the МИС calls in flight, once it has them (`crate::admission`'s, which
    /// this module does not need to know): held until the request and every task carried
    /// from it ([`carried`]) have ended.
    admitted: Arc<OnceLock<Held>>,
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
        admitted: Arc::default(),
    };
    REQUEST.scope(request, work).await
}

/// The id of the request being handled, where there is one.
pub fn request_id() -> Option<String> {
    REQUEST.try_with(|r| r.id.clone()).ok()
}

/// `f` of the id of the request being handled, where there is one (without a copy of it).
pub fn with_request_id<R>(f: impl FnOnce(&str) -> R) -> Option<R> {
    REQUEST.try_with(|r| f(&r.id)).ok()
}

/// Whether the request being handled holds its places among the МИС calls in flight; `None`
/// outside a request (background work: probes, refreshes), which is never held back.
pub(crate) fn admitted() -> Option<bool> {
    REQUEST.try_with(|r| r.admitted.get().is_some()).ok()
}

/// Gives the request being handled its places (kept until it ends; a second set, from a call
/// made beside the first, is let go at once).
pub(crate) fn admit(places: Held) {
    let _ = REQUEST.try_with(|r| r.admitted.set(places));
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
