//! The Redis adapter: several gateways behind a load balancer share their state in Redis (or
//! any Redis-compatible service), through the `redis` crate's connection managers (a small
//! pool, each multiplexed, reconnecting by itself, every command with a timeout).
//!
//! Keys, all under `[state] prefix` (`P`):
//!
//! | key | holds | lives |
//! | --- | --- | --- |
//! | `P:session:<SHA-256 of the token>` | clinic, МИС patient id, expiry | the session's time |
//! | `P:idem:<clinic>:<patient digest>:<key>` | the body's fingerprint, the claim's owner and lease while it runs, then the outcome (or "unknown") | 24 h |
//! | `P:idem-owner:<clinic>:<patient digest>`, `P:idem-all` | keys by last use, for the caps | 24 h |
//! | `P:rl:<class>:<client or key>` | the GCRA's theoretical arrival time | until its bucket is full |
//! | `P:memo:<clinic>:<ticket>` | what was learned of a ticket at booking | until a day after the visit |
//! | `P:gen:<clinic>`, `P:read:<clinic>:<gen>:<what>` | shared МИС reads, by generation | their cache time |
//! | `P:down:<clinic>` | a gateway found the МИС down | a few probe intervals |
//! | `P:lock:<clinic>:<patient digest>` | the token of the request holding the patient's lock | its lease, renewed while held |
//!
//! No personal data: sessions hold the МИС patient id only, idempotency keys a digest of it.
//! Every operation that could book twice is one Lua script (atomic in Redis); limits are
//! counted by a Lua GCRA on Redis's own clock, so all gateways count together.

mod idempotency;
mod limiter;
mod locks;
pub mod sentinel;
mod sessions;

use crate::StateConfig;
use crate::memory::Limiter;
use async_trait::async_trait;
use gateway_domain::limits::{KeyLimits, RateLimitConfig};
use gateway_domain::memo::SlotDetails;
use gateway_domain::shared::{Health, Memo, OutageHint, ReadCache, Shared, StateError};
use mis::AppointmentId;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn state_error(e: redis::RedisError) -> StateError {
    StateError(format!("Redis: {e}"))
}

fn is_connection_error(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout()
}

/// Whether the node answered as a replica (a demoted primary): the primary has moved.
fn is_read_only(e: &redis::RedisError) -> bool {
    e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::ReadOnly)
}

/// The pool's connections: one client's, swapped whole when the primary moves.
type Pool = Arc<Vec<ConnectionManager>>;

/// The connections and the names.
#[derive(Clone)]
pub struct RedisState {
    pool: Arc<std::sync::RwLock<Pool>>,
    /// With Sentinel: the sentinels and what is known of the primary.
    follow: Option<Arc<sentinel::Follow>>,
    manager_config: ConnectionManagerConfig,
    pool_size: usize,
    next: Arc<AtomicUsize>,
    prefix: Arc<str>,
    session_ttl: Duration,
    /// Each class's limits, for anonymous clients and then for each key.
    limits: Arc<(RateLimitConfig, Vec<KeyLimits>, Vec<String>)>,
    /// Counts limits here while Redis cannot be reached.
    fallback: Arc<Limiter>,
}

impl std::fmt::Debug for RedisState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisState")
            .field("prefix", &self.prefix)
            .field("pool", &self.pool_size)
            .field("follow", &self.follow)
            .finish_non_exhaustive()
    }
}

/// Where the primary is: one address, or wherever the sentinels say.
#[derive(Debug, Clone)]
pub enum Primary<'a> {
    Url(&'a str),
    Sentinels(&'a sentinel::SentinelSettings),
}

/// The pool of `size` connections to `client`.
fn pool_of(
    client: &redis::Client,
    size: usize,
    config: &ConnectionManagerConfig,
) -> Result<Pool, StateError> {
    (0..size)
        .map(|_| ConnectionManager::new_lazy_with_config(client.clone(), config.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map(Arc::new)
        .map_err(state_error)
}

/// The state in Redis, its primary at a URL or found through Sentinel.
pub async fn shared(
    config: &StateConfig,
    primary: Primary<'_>,
    session_ttl: Duration,
    limits: &RateLimitConfig,
    key_limits: &[KeyLimits],
    key_names: &[String],
) -> Result<Shared, StateError> {
    let timeout = Duration::from_millis(config.timeout_ms.max(1));
    let manager_config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(1));
    let pool_size = config.pool_size.max(1);
    let (client, follow) = match primary {
        Primary::Url(url) => (redis::Client::open(url).map_err(state_error)?, None),
        // Until the sentinels name a primary, the pool leads nowhere: every command fails
        // as `state_unavailable`, and the watch moves it as soon as one is named.
        Primary::Sentinels(settings) => (
            redis::Client::open("redis://127.0.0.1:1/").map_err(state_error)?,
            Some(Arc::new(
                sentinel::Follow::new(settings).map_err(state_error)?,
            )),
        ),
    };
    let state = RedisState {
        pool: Arc::new(std::sync::RwLock::new(pool_of(
            &client,
            pool_size,
            &manager_config,
        )?)),
        follow,
        manager_config,
        pool_size,
        next: Arc::default(),
        prefix: config.prefix.as_str().into(),
        session_ttl,
        limits: Arc::new((limits.clone(), key_limits.to_vec(), key_names.to_vec())),
        fallback: Arc::new(Limiter::new(limits, key_limits)),
    };
    if state.follow.is_some() {
        state.follow_primary().await;
        let watching = state.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(sentinel::WATCH).await;
                watching.follow_primary().await;
            }
        });
    }
    if let Err(e) = Health::check(&state).await {
        // The gateway starts anyway: reads work, and the pool connects when Redis is back.
        tracing::error!(error = %e, "Redis cannot be reached yet; sessions and bookings wait for it");
    }
    let shared = Arc::new(state);
    Ok(Shared {
        sessions: shared.clone(),
        idempotency: shared.clone(),
        limits: shared.clone(),
        memo: shared.clone(),
        reads: shared.clone(),
        outages: shared.clone(),
        locks: shared.clone(),
        health: shared,
        kind: "redis",
    })
}

impl RedisState {
    fn connection(&self) -> ConnectionManager {
        let pool = self.pool.read().unwrap_or_else(|p| p.into_inner());
        let i = self.next.fetch_add(1, Ordering::Relaxed) % pool.len();
        pool[i].clone()
    }

    /// With Sentinel: asks for the primary and moves the pool to it if it moved.
    async fn follow_primary(&self) {
        let Some(follow) = &self.follow else {
            return;
        };
        if let Ok(sentinel::Found::Moved(client)) = follow.ask().await {
            match pool_of(&client, self.pool_size, &self.manager_config) {
                Ok(pool) => *self.pool.write().unwrap_or_else(|p| p.into_inner()) = pool,
                Err(e) => {
                    tracing::error!(error = %e, "cannot connect to the state store's new primary")
                }
            }
        }
    }

    fn key(&self, parts: &[&str]) -> String {
        let mut key = self.prefix.to_string();
        for p in parts {
            key.push(':');
            key.push_str(p);
        }
        key
    }

    fn patient_digest(patient: &str) -> String {
        hex(&Sha256::digest(patient.as_bytes())[..12])
    }

    /// Runs a command that may safely run twice, on a second connection if the first has
    /// lost Redis (each connection reconnects by itself, on its first use after a failure).
    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StateError> {
        match cmd.query_async(&mut self.connection()).await {
            Ok(v) => Ok(v),
            Err(e) if self.follow.is_some() && (is_connection_error(&e) || is_read_only(&e)) => {
                // The primary may have moved: the sentinels are asked at once, in the
                // background, and this request fails as the domain's `state_unavailable`.
                let state = self.clone();
                tokio::spawn(async move { state.follow_primary().await });
                Err(state_error(e))
            }
            Err(e) if is_connection_error(&e) => {
                self.nudge();
                cmd.query_async(&mut self.connection())
                    .await
                    .map_err(state_error)
            }
            Err(e) => Err(state_error(e)),
        }
    }

    /// After a connection was lost, has every connection of the pool try Redis again in the
    /// background, so that the requests after Redis comes back find them reconnected.
    fn nudge(&self) {
        let pool = self.pool.read().unwrap_or_else(|p| p.into_inner()).clone();
        for connection in pool.iter() {
            let mut connection = connection.clone();
            tokio::spawn(async move {
                let _: Result<String, _> = redis::cmd("PING").query_async(&mut connection).await;
            });
        }
    }
}

#[async_trait]
impl Health for RedisState {
    fn failing_over(&self) -> bool {
        self.follow
            .as_ref()
            .is_some_and(|f| f.failing_over().is_some())
    }

    async fn check(&self) -> Result<(), StateError> {
        if let Some(without) = self.follow.as_ref().and_then(|f| f.failing_over()) {
            return Err(StateError(format!(
                "failing over: the sentinels have named no primary that answers for {} s",
                without.as_secs()
            )));
        }
        let pong: String = self.query(&redis::cmd("PING")).await?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(StateError(format!("Redis answered {pong:?} to PING")))
        }
    }
}

#[async_trait]
impl Memo for RedisState {
    async fn remember(&self, clinic: &str, id: &AppointmentId, details: SlotDetails) {
        let Ok(value) = serde_json::to_string(&details) else {
            return;
        };
        // Kept until a day after the visit (a day at least).
        let now = chrono::Utc::now().naive_utc();
        let ttl_secs = (details.over().unwrap_or(now) - now)
            .num_seconds()
            .clamp(0, 3 * 366 * 86_400)
            + 86_400;
        let key = self.key(&["memo", clinic, id.as_str()]);
        let result: Result<(), _> = self
            .query(
                redis::cmd("SET")
                    .arg(&key)
                    .arg(value)
                    .arg("EX")
                    .arg(ttl_secs),
            )
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot remember a ticket's details");
        }
    }

    async fn recall(&self, clinic: &str, id: &AppointmentId) -> Option<SlotDetails> {
        let key = self.key(&["memo", clinic, id.as_str()]);
        let value: Option<String> = self.query(redis::cmd("GET").arg(&key)).await.ok()?;
        serde_json::from_str(&value?).ok()
    }

    async fn forget(&self, clinic: &str, id: &AppointmentId) {
        let key = self.key(&["memo", clinic, id.as_str()]);
        let _: Result<u64, _> = self.query(redis::cmd("DEL").arg(&key)).await;
    }
}

/// Reads a cached value of the clinic's current generation (KEYS = generation; ARGV = the
/// value's key before and after the generation).
const READ: &str = r"
local g = redis.call('GET', KEYS[1]) or '0'
return redis.call('GET', ARGV[1] .. g .. ARGV[2])
";

/// Writes one (KEYS = generation; ARGV = key parts, value, ttl ms).
const WRITE: &str = r"
local g = redis.call('GET', KEYS[1]) or '0'
redis.call('SET', ARGV[1] .. g .. ARGV[2], ARGV[3], 'PX', ARGV[4])
return 1
";

#[async_trait]
impl ReadCache for RedisState {
    async fn get(&self, clinic: &str, key: &str) -> Option<Vec<u8>> {
        let value: Option<Vec<u8>> = redis::Script::new(READ)
            .key(self.key(&["gen", clinic]))
            .arg(self.key(&["read", clinic, ""]))
            .arg(format!(":{key}"))
            .invoke_async(&mut self.connection())
            .await
            .ok()?;
        value
    }

    async fn put(&self, clinic: &str, key: &str, value: Vec<u8>, ttl: Duration) {
        let _: Result<i64, _> = redis::Script::new(WRITE)
            .key(self.key(&["gen", clinic]))
            .arg(self.key(&["read", clinic, ""]))
            .arg(format!(":{key}"))
            .arg(value)
            .arg(ttl.as_millis().max(1) as u64)
            .invoke_async(&mut self.connection())
            .await;
    }

    async fn invalidate(&self, clinic: &str) {
        let _: Result<u64, _> = self
            .query(redis::cmd("INCR").arg(self.key(&["gen", clinic])))
            .await;
    }

    fn enabled(&self) -> bool {
        true
    }
}

#[async_trait]
impl OutageHint for RedisState {
    async fn report_down(&self, clinic: &str, for_: Duration) {
        let _: Result<(), _> = self
            .query(
                redis::cmd("SET")
                    .arg(self.key(&["down", clinic]))
                    .arg(1)
                    .arg("PX")
                    .arg(for_.as_millis().max(1) as u64),
            )
            .await;
    }

    async fn report_up(&self, clinic: &str) {
        let _: Result<u64, _> = self
            .query(redis::cmd("DEL").arg(self.key(&["down", clinic])))
            .await;
    }

    async fn is_down(&self, clinic: &str) -> bool {
        let n: Result<u64, _> = self
            .query(redis::cmd("EXISTS").arg(self.key(&["down", clinic])))
            .await;
        n.is_ok_and(|n| n > 0)
    }

    fn enabled(&self) -> bool {
        true
    }
}
