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

use crate::StateConfig;
use crate::memory::Limiter;
use async_trait::async_trait;
use gateway_domain::idempotency::{
    Claimed, MAX_KEYS, MAX_KEYS_PER_PATIENT, Outcome, Scope, Settlement, TTL, new_owner,
};
use gateway_domain::limits::{Class, ClientKey, RateLimitConfig, Subject};
use gateway_domain::memo::SlotDetails;
use gateway_domain::sessions::{Session, digest, new_token};
use gateway_domain::shared::{
    Health, Held, Idempotency, Locks, Memo, OutageHint, RateStore, ReadCache, Sessions, Shared,
    StateError,
};
use mis::{AppointmentId, PatientId};
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

/// The connections and the names.
#[derive(Clone)]
pub struct RedisState {
    pool: Arc<Vec<ConnectionManager>>,
    next: Arc<AtomicUsize>,
    prefix: Arc<str>,
    session_ttl: Duration,
    /// Each class's limits, for anonymous clients and then for each key.
    limits: Arc<(RateLimitConfig, Vec<RateLimitConfig>, Vec<String>)>,
    /// Counts limits here while Redis cannot be reached.
    fallback: Arc<Limiter>,
}

impl std::fmt::Debug for RedisState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisState")
            .field("prefix", &self.prefix)
            .field("pool", &self.pool.len())
            .finish_non_exhaustive()
    }
}

/// The state in Redis at `url`.
pub async fn shared(
    config: &StateConfig,
    url: &str,
    session_ttl: Duration,
    limits: &RateLimitConfig,
    key_limits: &[RateLimitConfig],
    key_names: &[String],
) -> Result<Shared, StateError> {
    let client = redis::Client::open(url).map_err(state_error)?;
    let timeout = Duration::from_millis(config.timeout_ms.max(1));
    let manager_config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(1));
    let pool = (0..config.pool_size.max(1))
        .map(|_| ConnectionManager::new_lazy_with_config(client.clone(), manager_config.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(state_error)?;
    let state = RedisState {
        pool: Arc::new(pool),
        next: Arc::default(),
        prefix: config.prefix.as_str().into(),
        session_ttl,
        limits: Arc::new((limits.clone(), key_limits.to_vec(), key_names.to_vec())),
        fallback: Arc::new(Limiter::new(limits, key_limits)),
    };
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
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.pool.len();
        self.pool[i].clone()
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
        for connection in self.pool.iter() {
            let mut connection = connection.clone();
            tokio::spawn(async move {
                let _: Result<String, _> = redis::cmd("PING").query_async(&mut connection).await;
            });
        }
    }
}

#[async_trait]
impl Health for RedisState {
    async fn check(&self) -> Result<(), StateError> {
        let pong: String = self.query(&redis::cmd("PING")).await?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(StateError(format!("Redis answered {pong:?} to PING")))
        }
    }
}

#[async_trait]
impl Sessions for RedisState {
    async fn create(
        &self,
        clinic: &str,
        patient: PatientId,
    ) -> Result<(String, Session), StateError> {
        let token = new_token().map_err(|e| StateError(e.to_string()))?;
        let session = Session::new(clinic, patient, self.session_ttl);
        let value = serde_json::to_string(&session).map_err(|e| StateError(e.to_string()))?;
        let key = self.key(&["session", &hex(&digest(&token))]);
        let ttl = u64::try_from(self.session_ttl.as_millis()).unwrap_or(u64::MAX);
        let () = self
            .query(redis::cmd("SET").arg(&key).arg(value).arg("PX").arg(ttl))
            .await?;
        Ok((token, session))
    }

    async fn put(&self, token: &str, session: &Session) -> Result<(), StateError> {
        let left = (session.expires_at - chrono::Utc::now()).num_milliseconds();
        if left <= 0 {
            return Ok(());
        }
        let value = serde_json::to_string(session).map_err(|e| StateError(e.to_string()))?;
        let key = self.key(&["session", &hex(&digest(token))]);
        let () = self
            .query(redis::cmd("SET").arg(&key).arg(value).arg("PX").arg(left))
            .await?;
        Ok(())
    }

    async fn get(&self, token: &str) -> Result<Option<Session>, StateError> {
        let key = self.key(&["session", &hex(&digest(token))]);
        let value: Option<String> = self.query(redis::cmd("GET").arg(&key)).await?;
        Ok(value
            .and_then(|v| serde_json::from_str::<Session>(&v).ok())
            .filter(Session::is_live))
    }

    async fn end(&self, token: &str) -> Result<bool, StateError> {
        let key = self.key(&["session", &hex(&digest(token))]);
        let n: u64 = self.query(redis::cmd("DEL").arg(&key)).await?;
        Ok(n > 0)
    }

    fn count(&self) -> Option<u64> {
        None
    }
}

/// Claims a key atomically: KEYS = record, the owner's keys, all keys; ARGV = fingerprint,
/// lease (ms), cap per patient, cap in all, a new owner, the record's life (ms). Answers
/// `proceed`, `resolve` (an unknown outcome, or a claim whose lease its holder let lapse: read
/// the МИС first), `reused`, `in_use` with the lease left (ms), or `replay` with the outcome.
/// Time is Redis's own, so every gateway counts leases alike. The caps drop the least recently
/// used finished keys; a running or unknown key is never dropped.
const CLAIM: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[2])
local rec = redis.call('GET', KEYS[1])
if rec then
  local r = cjson.decode(rec)
  if r.fp ~= ARGV[1] then return {'reused'} end
  redis.call('ZADD', KEYS[2], now, KEYS[1])
  redis.call('ZADD', KEYS[3], now, KEYS[1])
  if r.state == 'done' then return {'replay', r.outcome} end
  if r.state == 'running' and tonumber(r.exp) > now then
    return {'in_use', tostring(tonumber(r.exp) - now)}
  end
  r.state = 'running'
  r.owner = ARGV[5]
  r.exp = now + lease
  redis.call('SET', KEYS[1], cjson.encode(r), 'PX', ARGV[6])
  return {'resolve'}
end
redis.call('SET', KEYS[1], cjson.encode({fp = ARGV[1], state = 'running', owner = ARGV[5], exp = now + lease}), 'PX', ARGV[6])
redis.call('ZADD', KEYS[2], now, KEYS[1])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('ZADD', KEYS[3], now, KEYS[1])
local function evict(set, other, cap)
  local over = redis.call('ZCARD', set) - cap
  if over <= 0 then return end
  local candidates = redis.call('ZRANGE', set, 0, over + 63)
  for _, k in ipairs(candidates) do
    if over <= 0 then return end
    local v = redis.call('GET', k)
    if (not v) or cjson.decode(v).state == 'done' then
      redis.call('DEL', k)
      redis.call('ZREM', set, k)
      if other then redis.call('ZREM', other, k) end
      over = over - 1
    end
  end
end
evict(KEYS[2], KEYS[3], tonumber(ARGV[3]))
evict(KEYS[3], nil, tonumber(ARGV[4]))
return {'proceed'}
";

/// Extends a claim's lease if its owner still holds it (KEYS = record; ARGV = owner, lease
/// ms, the record's life ms): 1 if it did.
const RENEW_CLAIM: &str = r"
local rec = redis.call('GET', KEYS[1])
if not rec then return 0 end
local r = cjson.decode(rec)
if r.state ~= 'running' or r.owner ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
r.exp = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2])
redis.call('SET', KEYS[1], cjson.encode(r), 'PX', ARGV[3])
return 1
";

/// Settles a claim its owner still holds (KEYS = record, the owner's keys, all keys; ARGV =
/// owner, `keep` with the outcome, `unknown`, or `release`, the record's life ms).
const SETTLE: &str = r"
local rec = redis.call('GET', KEYS[1])
if not rec then return 0 end
local r = cjson.decode(rec)
if r.state ~= 'running' or r.owner ~= ARGV[1] then return 0 end
if ARGV[2] == 'release' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], KEYS[1])
  redis.call('ZREM', KEYS[3], KEYS[1])
  return 1
end
if ARGV[2] == 'keep' then
  r.state = 'done'
  r.outcome = ARGV[3]
else
  r.state = 'unknown'
end
r.owner = nil
r.exp = nil
redis.call('SET', KEYS[1], cjson.encode(r), 'PX', ARGV[4])
return 1
";

impl RedisState {
    fn idempotency_keys(&self, scope: &Scope) -> [String; 3] {
        let patient = Self::patient_digest(&scope.patient);
        [
            self.key(&["idem", &scope.clinic, &patient, &scope.key]),
            self.key(&["idem-owner", &scope.clinic, &patient]),
            self.key(&["idem-all"]),
        ]
    }
}

#[async_trait]
impl Idempotency for RedisState {
    async fn claim(
        &self,
        scope: &Scope,
        fingerprint: [u8; 32],
        lease: Duration,
    ) -> Result<Claimed, StateError> {
        let [record, owner_keys, all] = self.idempotency_keys(scope);
        let owner = new_owner();
        let answer: Vec<String> = redis::Script::new(CLAIM)
            .key(&record)
            .key(&owner_keys)
            .key(&all)
            .arg(hex(&fingerprint))
            .arg(lease.as_millis().max(1) as u64)
            .arg(MAX_KEYS_PER_PATIENT)
            .arg(MAX_KEYS)
            .arg(&owner)
            .arg(TTL.as_millis() as u64)
            .invoke_async(&mut self.connection())
            .await
            .map_err(state_error)?;
        match answer.first().map(String::as_str) {
            Some("proceed") => Ok(Claimed::Proceed { owner }),
            Some("resolve") => Ok(Claimed::Resolve { owner }),
            Some("reused") => Ok(Claimed::Reused),
            Some("in_use") => Ok(Claimed::InUse {
                retry_after: Duration::from_millis(
                    answer
                        .get(1)
                        .and_then(|ms| ms.parse().ok())
                        .unwrap_or(1_000),
                ),
            }),
            Some("replay") => answer
                .get(1)
                .and_then(|o| serde_json::from_str::<Outcome>(o).ok())
                .map(|o| Claimed::Replay(Box::new(o)))
                .ok_or_else(|| StateError("an unreadable outcome in Redis".into())),
            other => Err(StateError(format!("an unexpected claim: {other:?}"))),
        }
    }

    async fn renew(&self, scope: &Scope, owner: &str, lease: Duration) -> Result<bool, StateError> {
        let [record, _, _] = self.idempotency_keys(scope);
        let renewed: i64 = redis::Script::new(RENEW_CLAIM)
            .key(&record)
            .arg(owner)
            .arg(lease.as_millis().max(1) as u64)
            .arg(TTL.as_millis() as u64)
            .invoke_async(&mut self.connection())
            .await
            .map_err(state_error)?;
        Ok(renewed == 1)
    }

    async fn settle(
        &self,
        scope: &Scope,
        owner: &str,
        settlement: Settlement,
    ) -> Result<(), StateError> {
        let [record, owner_keys, all] = self.idempotency_keys(scope);
        let (how, outcome) = match settlement {
            Settlement::Keep(outcome) => (
                "keep",
                serde_json::to_string(&outcome).map_err(|e| StateError(e.to_string()))?,
            ),
            Settlement::Unknown => ("unknown", String::new()),
            Settlement::Release => ("release", String::new()),
        };
        let _: i64 = redis::Script::new(SETTLE)
            .key(&record)
            .key(&owner_keys)
            .key(&all)
            .arg(owner)
            .arg(how)
            .arg(outcome)
            .arg(TTL.as_millis() as u64)
            .invoke_async(&mut self.connection())
            .await
            .map_err(state_error)?;
        Ok(())
    }

    fn count(&self) -> Option<usize> {
        None
    }
}

/// GCRA on Redis's clock: KEYS = the counter; ARGV = emission interval (µs), burst. Answers
/// 0 (allowed) or the microseconds to wait.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local emission = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local tolerance = emission * (burst - 1)
if tat - now > tolerance then
  return tat - now - tolerance
end
local new_tat = tat + emission
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return 0
";

impl RedisState {
    fn rate_of(&self, subject: Subject, class: Class) -> (String, gateway_domain::limits::Rate) {
        let (anonymous, keys, names) = &*self.limits;
        match subject {
            Subject::Client(ClientKey::V4(ip)) => (format!("ip4-{ip:08x}"), anonymous.rate(class)),
            Subject::Client(ClientKey::V6Net64(net)) => {
                (format!("ip6-{net:016x}"), anonymous.rate(class))
            }
            Subject::ApiKey(i) => (
                format!("key-{}", names.get(i).map_or("?", String::as_str)),
                keys.get(i).map_or(anonymous.rate(class), |k| k.rate(class)),
            ),
        }
    }
}

#[async_trait]
impl RateStore for RedisState {
    async fn check(&self, subject: Subject, class: Class) -> Result<(), u64> {
        let (who, rate) = self.rate_of(subject, class);
        if rate.per_minute == 0 {
            return Ok(());
        }
        let emission_us = 60_000_000 / u64::from(rate.per_minute);
        let key = self.key(&["rl", class.as_str(), &who]);
        let verdict: Result<u64, _> = redis::Script::new(GCRA)
            .key(&key)
            .arg(emission_us)
            .arg(rate.burst.max(1))
            .invoke_async(&mut self.connection())
            .await;
        match verdict {
            Ok(0) => Ok(()),
            Ok(wait_us) => Err(wait_us.div_ceil(1_000_000).max(1)),
            // Redis is away: count here, as a single gateway would.
            Err(_) => self.fallback.check(subject, class),
        }
    }

    fn clients(&self, class: Class) -> usize {
        self.fallback.clients(class)
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

/// How long a patient's lock lives unless renewed: a gateway that dies holding one blocks
/// that patient for at most this long. Its holder renews it every third of it.
const LOCK_LEASE: Duration = Duration::from_secs(6);

/// Takes a lock (KEYS = lock; ARGV = token, lease ms): 1 if this token holds it now (taken,
/// or already taken by this token on an attempt whose answer was lost), else 0.
const LOCK: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0
";

/// Extends a lock's lease if this token still holds it (KEYS = lock; ARGV = token, lease ms).
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
";

/// Releases a lock if this token still holds it (KEYS = lock; ARGV = token).
const UNLOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// A patient's lock held in Redis: renewed while held, released when dropped.
struct RedisHeld {
    state: RedisState,
    key: String,
    token: String,
    renewal: tokio::task::JoinHandle<()>,
}

impl Drop for RedisHeld {
    fn drop(&mut self) {
        self.renewal.abort();
        let (state, key, token) = (self.state.clone(), self.key.clone(), self.token.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                // Not released (Redis away): the lease ends it.
                let _: Result<i64, _> = redis::Script::new(UNLOCK)
                    .key(&key)
                    .arg(&token)
                    .invoke_async(&mut state.connection())
                    .await;
            });
        }
    }
}

#[async_trait]
impl Locks for RedisState {
    async fn lock(
        &self,
        clinic: &str,
        patient: &PatientId,
        wait: Duration,
    ) -> Result<Option<Held>, StateError> {
        let key = self.key(&["lock", clinic, &Self::patient_digest(patient.as_str())]);
        let token = new_token().map_err(|e| StateError(e.to_string()))?;
        let lease = LOCK_LEASE.as_millis() as u64;
        let deadline = tokio::time::Instant::now() + wait;
        let mut pause = Duration::from_millis(10);
        loop {
            let taken: i64 = redis::Script::new(LOCK)
                .key(&key)
                .arg(&token)
                .arg(lease)
                .invoke_async(&mut self.connection())
                .await
                .map_err(state_error)?;
            if taken == 1 {
                break;
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
        let renewal = {
            let (state, key, token) = (self.clone(), key.clone(), token.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(LOCK_LEASE / 3).await;
                    let renewed: Result<i64, _> = redis::Script::new(RENEW)
                        .key(&key)
                        .arg(&token)
                        .arg(lease)
                        .invoke_async(&mut state.connection())
                        .await;
                    if matches!(renewed, Ok(0)) {
                        return;
                    }
                }
            })
        };
        Ok(Some(Held::new(RedisHeld {
            state: self.clone(),
            key,
            token,
            renewal,
        })))
    }

    fn count(&self) -> Option<usize> {
        None
    }
}
