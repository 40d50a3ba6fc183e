//! Rate limits counted in this process: a GCRA limiter (governor's) per class of request,
//! keyed by client, with its memory bounded.
//!
//! The per-client state lives in a bounded cache ([`moka`]): at most `max_clients` entries per
//! class, least recently used out first, and an entry idle for longer than its bucket takes to
//! refill is dropped (it is then indistinguishable from a new client). No insert scans the
//! map, and no global lock is taken.

use gateway_domain::limits::{Class, ClientKey, KeyLimits, Rate, RateLimitConfig, Subject};
use governor::clock::{Clock, DefaultClock};
use governor::nanos::Nanos;
use governor::state::keyed::ShrinkableKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed, StateStore};
use governor::{Quota, RateLimiter};
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// A rate as governor's quota; `None` for no limit.
fn quota(rate: Rate) -> Option<Quota> {
    let per_minute = NonZeroU32::new(rate.per_minute)?;
    let burst = NonZeroU32::new(rate.burst.max(1))?;
    // A cell every 60 s / rate; `with_period` refuses only a zero period.
    Quota::with_period(Duration::from_secs(60) / per_minute.get()).map(|q| q.allow_burst(burst))
}

/// A keyed state store whose size is bounded (see the module's documentation).
#[derive(Debug)]
pub struct BoundedStore<K: Hash + Eq + Send + Sync + 'static> {
    states: moka::sync::Cache<K, Arc<InMemoryState>>,
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> BoundedStore<K> {
    pub fn new(capacity: u64, idle: Duration) -> Self {
        Self {
            states: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_idle(idle.max(Duration::from_secs(1)))
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .build(),
        }
    }

    /// How many clients are remembered (after pending evictions).
    pub fn len(&self) -> u64 {
        self.states.run_pending_tasks();
        self.states.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> ShrinkableKeyedStateStore<K>
    for BoundedStore<K>
{
    fn retain_recent(&self, _drop_below: Nanos) {
        // The cache forgets idle clients by itself.
        self.states.run_pending_tasks();
    }

    fn len(&self) -> usize {
        usize::try_from(BoundedStore::len(self)).unwrap_or(usize::MAX)
    }

    fn is_empty(&self) -> bool {
        BoundedStore::is_empty(self)
    }
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> StateStore for BoundedStore<K> {
    type Key = K;

    fn measure_and_replace<T, F, E>(&self, key: &K, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let state = self
            .states
            .get_with_by_ref(key, || Arc::new(InMemoryState::default()));
        state.measure_and_replace(&NotKeyed::NonKey, f)
    }
}

type Keyed = RateLimiter<ClientKey, BoundedStore<ClientKey>, DefaultClock>;
type Direct = RateLimiter<NotKeyed, InMemoryState, DefaultClock>;

/// The limiters of every class, for anonymous clients and for each API key.
#[derive(Debug)]
pub struct Limiter {
    clock: DefaultClock,
    anonymous: [Option<Keyed>; Class::ALL.len()],
    keys: Vec<[Option<Direct>; Class::ALL.len()]>,
}

impl Limiter {
    /// Limiters for the anonymous limits and, in order, each API key's limits.
    pub fn new(anonymous: &RateLimitConfig, keys: &[KeyLimits]) -> Self {
        let clock = DefaultClock::default();
        let keyed = |class: Class| {
            let rate = anonymous.rate(class);
            let store = BoundedStore::new(
                anonymous.max_clients.max(1),
                rate.refill() + Duration::from_secs(1),
            );
            quota(rate).map(|q| RateLimiter::new(q, store, clock.clone()))
        };
        let direct = |config: &KeyLimits, class: Class| {
            quota(config.rate(class))
                .map(|q| RateLimiter::new(q, InMemoryState::default(), clock.clone()))
        };
        Self {
            anonymous: Class::ALL.map(keyed),
            keys: keys
                .iter()
                .map(|k| Class::ALL.map(|c| direct(k, c)))
                .collect(),
            clock: clock.clone(),
        }
    }

    /// Counts one request; `Err(seconds)` says when the next may come.
    pub fn check(&self, subject: Subject, class: Class) -> Result<(), u64> {
        let verdict = match subject {
            Subject::Client(key) => match &self.anonymous[class.index()] {
                Some(limiter) => limiter.check_key(&key),
                None => return Ok(()),
            },
            Subject::ApiKey(i) => match self.keys.get(i).and_then(|k| k[class.index()].as_ref()) {
                Some(limiter) => limiter.check(),
                None => return Ok(()),
            },
        };
        verdict.map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            wait.as_secs_f64().ceil().max(1.0) as u64
        })
    }

    /// How many anonymous clients the class remembers.
    pub fn clients(&self, class: Class) -> usize {
        self.anonymous[class.index()]
            .as_ref()
            .map_or(0, RateLimiter::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_domain::limits::{Class, ClientKey, KeyLimits, RateLimitConfig, Subject};
    use std::net::IpAddr;

    fn client(s: &str) -> Subject {
        Subject::Client(ClientKey::from(s.parse::<IpAddr>().expect("an address")))
    }

    #[test]
    fn a_bucket_allows_its_burst_then_says_when_to_retry() {
        let limiter = Limiter::new(
            &RateLimitConfig {
                identify_per_minute: 6,
                identify_burst: 3,
                ..RateLimitConfig::default()
            },
            &[],
        );
        let ip = client("192.0.2.1");
        for _ in 0..3 {
            assert!(limiter.check(ip, Class::Identify).is_ok());
        }
        let retry = limiter
            .check(ip, Class::Identify)
            .expect_err("over the burst");
        assert!((1..=10).contains(&retry), "{retry}");
        assert!(
            limiter.check(ip, Class::Read).is_ok(),
            "classes are separate"
        );
        assert!(
            limiter.check(client("192.0.2.2"), Class::Identify).is_ok(),
            "clients are separate"
        );
        assert!(
            limiter.check(ip, Class::Unmatched).is_ok(),
            "unmatched paths have their own bucket with identification's limits"
        );
    }

    #[test]
    fn one_ipv6_64_is_one_client() {
        let limiter = Limiter::new(
            &RateLimitConfig {
                identify_per_minute: 1,
                identify_burst: 1,
                ..RateLimitConfig::default()
            },
            &[],
        );
        assert!(
            limiter
                .check(client("2001:db8:0:1::1"), Class::Identify)
                .is_ok()
        );
        assert!(
            limiter
                .check(client("2001:db8:0:1::2"), Class::Identify)
                .is_err()
        );
        assert!(
            limiter
                .check(client("2001:db8:0:2::1"), Class::Identify)
                .is_ok()
        );
    }

    #[test]
    fn api_keys_have_their_own_limits_shared_by_all_their_clients() {
        let key_limits = KeyLimits {
            identify_per_minute: 600,
            identify_burst: 50,
            ..KeyLimits::default()
        };
        let limiter = Limiter::new(&RateLimitConfig::default(), &[key_limits]);
        for _ in 0..50 {
            assert!(limiter.check(Subject::ApiKey(0), Class::Identify).is_ok());
        }
        assert!(limiter.check(Subject::ApiKey(0), Class::Identify).is_err());
    }

    #[test]
    fn a_rate_of_zero_is_no_limit() {
        let limiter = Limiter::new(
            &RateLimitConfig {
                read_per_minute: 0,
                ..RateLimitConfig::default()
            },
            &[],
        );
        for _ in 0..10_000 {
            assert!(limiter.check(client("192.0.2.9"), Class::Read).is_ok());
        }
    }

    #[test]
    fn a_flood_of_new_clients_stays_within_the_cap() {
        let limiter = Limiter::new(
            &RateLimitConfig {
                max_clients: 1_000,
                ..RateLimitConfig::default()
            },
            &[],
        );
        for i in 0..20_000u32 {
            let _ = limiter.check(Subject::Client(ClientKey::V4(i)), Class::Identify);
        }
        let remembered = limiter.clients(Class::Identify);
        assert!(remembered <= 1_000, "{remembered} clients remembered");
        assert!(remembered > 0);
        // The latest client is still limited: it is among the remembered, not forgotten.
        let latest = Subject::Client(ClientKey::V4(19_999));
        for _ in 0..4 {
            let _ = limiter.check(latest, Class::Identify);
        }
        assert!(limiter.check(latest, Class::Identify).is_err());
    }
}
