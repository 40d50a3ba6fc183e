//! The request a piece of domain work is done for, as the shell that received it says: its id
//! (quoted by problem documents and the audit trail, so that a patient's screenshot leads to
//! the log line). The HTTP shell sets it with [`scope`] around each request; the domain reads
//! it with [`request_id`] and knows nothing of where it came from.

use std::future::Future;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Runs `work` as the request `id`.
pub async fn scope<F: Future>(id: String, work: F) -> F::Output {
    REQUEST_ID.scope(id, work).await
}

/// The id of the request being handled, where there is one.
pub fn request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// `f` of the id of the request being handled, where there is one (without a copy of it).
pub fn with_request_id<R>(f: impl FnOnce(&str) -> R) -> Option<R> {
    REQUEST_ID.try_with(|id| f(id)).ok()
}

/// Runs `work` as the same request as the caller (for work moved to a task of its own).
pub fn carried<F: Future>(work: F) -> impl Future<Output = F::Output> {
    let id = request_id();
    async move {
        match id {
            Some(id) => REQUEST_ID.scope(id, work).await,
            None => work.await,
        }
    }
}
