//! Idempotency keys in Redis: each claim, renewal and settlement one Lua script, so that
//! no two gateways run the same key at once, and the caps count every gateway's keys.

use super::{RedisState, hex, state_error};
use async_trait::async_trait;
use gateway_domain::idempotency::{
    Claimed, MAX_KEYS, MAX_KEYS_PER_PATIENT, Outcome, Scope, Settlement, TTL, new_owner,
};
use gateway_domain::shared::{Idempotency, StateError};
use std::time::Duration;

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
