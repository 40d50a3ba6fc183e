//! Rate limits in Redis: a GCRA on Redis's own clock, so that every gateway counts together;
//! while Redis cannot be reached, each gateway counts on its own.

use super::RedisState;
use async_trait::async_trait;
use gateway_domain::limits::{Class, ClientKey, Subject};
use gateway_domain::shared::RateStore;

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
