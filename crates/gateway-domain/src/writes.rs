//! Where writes to the МИС run: in tasks of their own on the runtime that built the gateway
//! (which outlives any request), tracked, so that a shutdown waits for every one that started,
//! even one whose client went away.

/// The tracked tasks of writes (bookings, moves, cancellations, waiting-list changes).
#[derive(Debug, Clone)]
pub struct Writes {
    handle: tokio::runtime::Handle,
    tracker: tokio_util::task::TaskTracker,
}

impl Writes {
    /// Writes on the current runtime.
    pub fn current() -> Self {
        Self {
            handle: tokio::runtime::Handle::current(),
            tracker: tokio_util::task::TaskTracker::new(),
        }
    }

    /// Runs `task` to its end, whatever becomes of the request that started it (as the same
    /// request: its id goes with it).
    pub fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.tracker
            .spawn_on(crate::context::carried(task), &self.handle)
    }

    /// Runs `write` to its end in a task of its own, whatever becomes of the request that
    /// started it, and waits for its result.
    pub async fn run<T, F>(&self, write: F) -> Result<T, crate::failure::Failure>
    where
        F: std::future::Future<Output = Result<T, crate::failure::Failure>> + Send + 'static,
        T: Send + 'static,
    {
        use tracing::Instrument;
        self.spawn(write.instrument(tracing::Span::current()))
            .await
            .unwrap_or_else(|e| Err(crate::failure::Failure::internal(e)))
    }

    /// Waits up to `grace` for the writes under way; whether all finished.
    pub async fn drain(&self, grace: std::time::Duration) -> bool {
        self.tracker.close();
        tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_ok()
    }

    /// How many writes are under way.
    pub fn len(&self) -> usize {
        self.tracker.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tracker.is_empty()
    }
}
