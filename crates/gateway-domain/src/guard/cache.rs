//! The guard's caches: bounded, with a time to live, concurrent misses on one key sharing one
//! fetch, evicting key by key (never wholesale).

use mis::MisError;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The most keys each cache holds.
pub const CACHE_CAPACITY: u64 = 10_000;

/// A bounded cache with a time to live whose concurrent misses on one key share one fetch.
#[derive(Debug)]
pub(super) struct Cache<K: Hash + Eq + Send + Sync + 'static, V: Clone + Send + Sync + 'static> {
    name: &'static str,
    entries: Option<moka::future::Cache<K, V>>,
}

impl<K, V> Cache<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A cache named `name` (in metrics) keeping values for `ttl` (zero: no caching).
    pub(super) fn new(name: &'static str, ttl: Duration) -> Self {
        Self {
            name,
            entries: (!ttl.is_zero()).then(|| {
                moka::future::Cache::builder()
                    .max_capacity(CACHE_CAPACITY)
                    .time_to_live(ttl)
                    .support_invalidation_closures()
                    .build()
            }),
        }
    }

    pub(super) async fn get_or_fetch<F, Fut>(&self, key: K, fetch: F) -> Result<V, MisError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, MisError>>,
    {
        match &self.entries {
            None => fetch().await,
            Some(entries) => {
                let missed = AtomicBool::new(false);
                let result = entries
                    .try_get_with(key, async {
                        missed.store(true, Ordering::Relaxed);
                        fetch().await
                    })
                    .await
                    .map_err(|e: Arc<MisError>| (*e).clone());
                crate::metrics::cache(self.name, !missed.load(Ordering::Relaxed));
                result
            }
        }
    }

    pub(super) fn clear(&self) {
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
        }
    }

    /// Drops the entries `which` selects.
    pub(super) fn forget(&self, which: impl Fn(&K) -> bool + Send + Sync + 'static) {
        if let Some(entries) = &self.entries
            && entries.invalidate_entries_if(move |k, _| which(k)).is_err()
        {
            entries.invalidate_all();
        }
    }

    #[cfg(test)]
    pub(super) async fn len(&self) -> u64 {
        match &self.entries {
            None => 0,
            Some(e) => {
                e.run_pending_tasks().await;
                e.entry_count()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_flood_of_keys_evicts_key_by_key_and_keeps_the_cache_bounded() {
        let cache: Cache<u32, u32> = Cache::new("test", Duration::from_secs(60));
        for k in 0..(CACHE_CAPACITY as u32 * 3) {
            cache
                .get_or_fetch(k, || async move { Ok(k) })
                .await
                .expect("fetched");
        }
        let len = cache.len().await;
        assert!(len <= CACHE_CAPACITY, "{len} entries");
        assert!(len > CACHE_CAPACITY / 2, "not flushed whole: {len} entries");
    }
}
