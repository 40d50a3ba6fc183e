//! The bounded maps the domain keeps things in, in this process: the port. The domain says
//! what it keeps, under which key, for how long and within which bound; the adapter
//! (`gateway_state::keep`, on moka) says how.
//!
//! - [`Fetching`]: bounded in bytes (each entry weighed by the domain), each entry living its
//!   own time, concurrent misses on one key sharing one fetch: the guard's caches of МИС reads
//!   ([`crate::guard::Caches`]).
//! - [`Bounded`]: bounded in entries, the least used going first when full, each entry living
//!   at most a time if given: a region's clinics' guards and its «no card here» pairs
//!   ([`crate::region::RegionClinics`]).
//!
//! The composition root hands a [`Keeps`] to whatever makes them, once, at start.

use futures_util::future::BoxFuture;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

/// What a key of a kept map must be.
pub trait Key: Hash + Eq + Clone + Send + Sync + 'static {}
impl<T: Hash + Eq + Clone + Send + Sync + 'static> Key for T {}

/// What a value of a kept map must be.
pub trait Value: Clone + Send + Sync + 'static {}
impl<T: Clone + Send + Sync + 'static> Value for T {}

/// What a fetch for a [`Fetching`] map came back with.
#[derive(Debug)]
pub enum Fetched<V, E> {
    /// A value to keep, for this long.
    Keep(V, Duration),
    /// A failure not to keep: the callers waiting for this fetch get it, the next one fetches
    /// again.
    Pass(E),
}

/// A map bounded in bytes whose entries live their own time, and whose concurrent misses on
/// one key share one fetch. It evicts entry by entry, never wholesale.
pub trait Fetching<K: Key, V: Value, E: Value>: Send + Sync + Debug {
    /// The value kept under `key`, or what `fetch` (run only on a miss, once for all the
    /// callers missing it together) came back with.
    fn get_or_fetch<'a>(
        &'a self,
        key: K,
        fetch: BoxFuture<'a, Fetched<V, E>>,
    ) -> BoxFuture<'a, Result<V, E>>;

    /// Drops the entries `which` selects.
    fn forget(&self, which: Box<dyn Fn(&K) -> bool + Send + Sync>);

    /// The bytes its entries take, as weighed (after the evictions pending).
    fn bytes(&self) -> BoxFuture<'_, u64>;

    /// How many entries it keeps (after the evictions pending).
    fn entries(&self) -> BoxFuture<'_, u64>;
}

/// A map bounded in entries: when full, the least used goes.
pub trait Bounded<K: Key, V: Value>: Send + Sync + Debug {
    /// The value kept under `key`, or `make`'s, kept.
    fn get_with(&self, key: K, make: &mut dyn FnMut() -> V) -> V;

    /// Whether `key` is kept.
    fn contains(&self, key: &K) -> bool;

    /// Keeps `value` under `key`.
    fn insert(&self, key: K, value: V);

    /// How many entries it keeps (after the evictions pending).
    fn entries(&self) -> u64;

    /// Every value kept.
    fn values(&self) -> Vec<V>;
}

/// What makes the kept maps.
pub trait Keeps {
    /// A [`Fetching`] map within `bytes`, each value weighing what `weigh` says.
    fn fetching<K: Key, V: Value, E: Value>(
        &self,
        bytes: u64,
        weigh: fn(&V) -> u32,
    ) -> Arc<dyn Fetching<K, V, E>>;

    /// A [`Bounded`] map of `entries` at most, each living at most `ttl` if given.
    fn bounded<K: Key, V: Value>(
        &self,
        entries: u64,
        ttl: Option<Duration>,
    ) -> Arc<dyn Bounded<K, V>>;
}
