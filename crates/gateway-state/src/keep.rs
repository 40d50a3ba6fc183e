//! The bounded maps of the domain's `keep` port, on moka: [`Moka`] makes them.
//!
//! A [`Fetching`] map is a `moka::future::Cache` weighed in bytes, each entry expiring at the
//! time its fetch gave it, concurrent misses joined by `try_get_with`; a [`Bounded`] map a
//! `moka::sync::Cache` bounded in entries (TinyLFU admission, least recently used out).

use futures_util::future::BoxFuture;
use gateway_domain::keep::{Bounded, Fetched, Fetching, Keeps, Key, Value};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Makes the domain's kept maps with moka.
#[derive(Debug, Clone, Copy, Default)]
pub struct Moka;

/// An entry of a [`Fetching`] map: its value, and how long it lives.
#[derive(Clone)]
struct Timed<V> {
    value: V,
    ttl: Duration,
}

/// Each entry lives the time its fetch gave it.
struct Lives;

impl<K, V> moka::Expiry<K, Timed<V>> for Lives {
    fn expire_after_create(&self, _: &K, entry: &Timed<V>, _: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }
}

struct MokaFetching<K: Key, V: Value>(moka::future::Cache<K, Timed<V>>);

impl<K: Key, V: Value> fmt::Debug for MokaFetching<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MokaFetching")
            .field("entries", &self.0.entry_count())
            .finish()
    }
}

impl<K: Key, V: Value, E: Value> Fetching<K, V, E> for MokaFetching<K, V> {
    fn get_or_fetch<'a>(
        &'a self,
        key: K,
        fetch: BoxFuture<'a, Fetched<V, E>>,
    ) -> BoxFuture<'a, Result<V, E>> {
        Box::pin(async move {
            self.0
                .try_get_with(key, async move {
                    match fetch.await {
                        Fetched::Keep(value, ttl) => Ok(Timed { value, ttl }),
                        Fetched::Pass(e) => Err(e),
                    }
                })
                .await
                .map(|entry| entry.value)
                .map_err(|e: Arc<E>| (*e).clone())
        })
    }

    fn forget(&self, which: Box<dyn Fn(&K) -> bool + Send + Sync>) {
        if self.0.invalidate_entries_if(move |k, _| which(k)).is_err() {
            self.0.invalidate_all();
        }
    }

    fn bytes(&self) -> BoxFuture<'_, u64> {
        Box::pin(async {
            self.0.run_pending_tasks().await;
            self.0.weighted_size()
        })
    }

    fn entries(&self) -> BoxFuture<'_, u64> {
        Box::pin(async {
            self.0.run_pending_tasks().await;
            self.0.entry_count()
        })
    }
}

struct MokaBounded<K: Key, V: Value>(moka::sync::Cache<K, V>);

impl<K: Key, V: Value> fmt::Debug for MokaBounded<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MokaBounded")
            .field("entries", &self.0.entry_count())
            .finish()
    }
}

impl<K: Key, V: Value> Bounded<K, V> for MokaBounded<K, V> {
    fn get_with(&self, key: K, make: &mut dyn FnMut() -> V) -> V {
        self.0.get_with(key, make)
    }

    fn contains(&self, key: &K) -> bool {
        self.0.contains_key(key)
    }

    fn insert(&self, key: K, value: V) {
        self.0.insert(key, value);
    }

    fn entries(&self) -> u64 {
        self.0.run_pending_tasks();
        self.0.entry_count()
    }

    fn values(&self) -> Vec<V> {
        self.0.iter().map(|(_, v)| v).collect()
    }
}

impl Keeps for Moka {
    fn fetching<K: Key, V: Value, E: Value>(
        &self,
        bytes: u64,
        weigh: fn(&V) -> u32,
    ) -> Arc<dyn Fetching<K, V, E>> {
        Arc::new(MokaFetching(
            moka::future::Cache::builder()
                .max_capacity(bytes)
                .weigher(move |_, entry: &Timed<V>| weigh(&entry.value))
                .expire_after(Lives)
                .support_invalidation_closures()
                .build(),
        ))
    }

    fn bounded<K: Key, V: Value>(
        &self,
        entries: u64,
        ttl: Option<Duration>,
    ) -> Arc<dyn Bounded<K, V>> {
        let mut builder = moka::sync::Cache::builder().max_capacity(entries);
        if let Some(ttl) = ttl {
            builder = builder.time_to_live(ttl);
        }
        Arc::new(MokaBounded(builder.build()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn kept(value: String) -> BoxFuture<'static, Fetched<String, String>> {
        Box::pin(async move { Fetched::Keep(value, Duration::from_secs(60)) })
    }

    #[tokio::test]
    async fn a_flood_of_keys_evicts_key_by_key_and_keeps_the_map_within_its_bytes() {
        let bytes = 1024 * 1024;
        let map: Arc<dyn Fetching<u32, String, String>> = Moka.fetching(bytes, |v: &String| {
            u32::try_from(v.len()).unwrap_or(u32::MAX)
        });
        let value = "x".repeat(1_000);
        for k in 0..10_000u32 {
            map.get_or_fetch(k, kept(value.clone()))
                .await
                .expect("fetched");
        }
        let (len, weighed) = (map.entries().await, map.bytes().await);
        assert!(weighed <= bytes, "{weighed} bytes");
        assert!(len > 500, "not flushed whole: {len} entries");
        assert!(len <= 1_048, "bounded by bytes, not by keys: {len} entries");
    }

    #[tokio::test]
    async fn concurrent_misses_share_one_fetch_and_a_failure_passed_is_not_kept() {
        let map: Arc<dyn Fetching<u32, u32, String>> = Moka.fetching(1 << 20, |_| 8);
        let calls = Arc::new(AtomicUsize::new(0));
        let fetch = |calls: Arc<AtomicUsize>| -> BoxFuture<'static, Fetched<u32, String>> {
            Box::pin(async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Fetched::Keep(7, Duration::from_secs(60))
            })
        };
        let (a, b) = tokio::join!(
            map.get_or_fetch(1, fetch(calls.clone())),
            map.get_or_fetch(1, fetch(calls.clone()))
        );
        assert_eq!((a, b), (Ok(7), Ok(7)));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "one fetch for both");
        let passing = |calls: Arc<AtomicUsize>| -> BoxFuture<'static, Fetched<u32, String>> {
            Box::pin(async move {
                calls.fetch_add(1, Ordering::SeqCst);
                Fetched::Pass("not asked".into())
            })
        };
        assert!(map.get_or_fetch(2, passing(calls.clone())).await.is_err());
        assert!(map.get_or_fetch(2, passing(calls.clone())).await.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 3, "nothing kept of a pass");
    }

    #[tokio::test]
    async fn an_entry_lives_the_time_its_fetch_gave_it() {
        let map: Arc<dyn Fetching<u32, u32, String>> = Moka.fetching(1 << 20, |_| 8);
        let brief = Box::pin(async { Fetched::Keep(1, Duration::from_millis(100)) });
        let long = Box::pin(async { Fetched::Keep(2, Duration::from_secs(60)) });
        map.get_or_fetch(1, brief).await.expect("kept");
        map.get_or_fetch(2, long).await.expect("kept");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let again = |v| -> BoxFuture<'static, Fetched<u32, String>> {
            Box::pin(async move { Fetched::Keep(v, Duration::from_secs(60)) })
        };
        assert_eq!(map.get_or_fetch(1, again(10)).await, Ok(10), "expired");
        assert_eq!(map.get_or_fetch(2, again(20)).await, Ok(2), "still kept");
    }

    #[test]
    fn a_bounded_map_flooded_keeps_at_most_its_entries_and_forgets_after_its_time() {
        let map: Arc<dyn Bounded<u32, u32>> = Moka.bounded(100, None);
        for k in 0..10_000 {
            assert_eq!(map.get_with(k, &mut || k * 2), k * 2);
        }
        assert!(map.entries() <= 100, "{} entries", map.entries());
        assert!(map.values().len() <= 100);
        let brief: Arc<dyn Bounded<u32, ()>> = Moka.bounded(10, Some(Duration::from_millis(50)));
        brief.insert(1, ());
        assert!(brief.contains(&1));
        std::thread::sleep(Duration::from_millis(150));
        assert!(!brief.contains(&1), "forgotten after its time");
    }
}
