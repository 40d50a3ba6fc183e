//! The adapters under the domain's ports (`gateway_domain::shared`, `gateway_domain::keep`,
//! and the `metrics` facade the domain records through): what the domain states, this crate
//! holds, in this process's memory or in Redis.
//!
//! - [`memory`]: the state of one gateway alone, in its own process (the default).
//! - [`redis`]: the state several gateways share in Redis (`[state] redis_url`).
//! - [`keep`]: the bounded in-process caches the domain keeps МИС reads and clinics' guards
//!   in (moka).
//! - [`metrics`]: the Prometheus exporter of what the domain and the shell record.
//!
//! Only the composition root (`api`'s `startup`) names this crate: it picks the adapter from
//! `[state]` ([`build`]) and hands the domain a [`Shared`].

pub mod keep;
pub mod memory;
pub mod metrics;
pub mod redis;

use gateway_domain::limits::{KeyLimits, RateLimitConfig};
use gateway_domain::shared::{Shared, StateError};
use serde::Deserialize;
use std::time::Duration;

/// `[state]`: where the shared state lives.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// `redis://host:6379/0` or `rediss://…` (TLS); absent: in this process's memory.
    /// `REGISTRATURA_REDIS_URL` overrides it.
    pub redis_url: Option<String>,
    /// Instead of `redis_url`: the Sentinel nodes (`host:port`) that name the primary and
    /// fail over to a replica when it dies.
    pub redis_sentinels: Vec<String>,
    /// The name the sentinels monitor the primary under.
    pub redis_master: String,
    /// With Sentinel: the Redis nodes' password (`REGISTRATURA_REDIS_PASSWORD` overrides it).
    pub redis_password: Option<String>,
    /// With Sentinel: TLS to the nodes and the sentinels.
    pub redis_tls: bool,
    /// The prefix of every key, so that several deployments can share one Redis.
    pub prefix: String,
    /// Connections to Redis (each multiplexes many requests).
    pub pool_size: usize,
    /// The longest a Redis command may take, milliseconds.
    pub timeout_ms: u64,
}

impl Default for StateConfig {
    fn default() -> Self {
        Self {
            redis_url: None,
            redis_sentinels: Vec::new(),
            redis_master: "registratura".into(),
            redis_password: None,
            redis_tls: false,
            prefix: "registratura".into(),
            pool_size: 4,
            timeout_ms: 500,
        }
    }
}

impl StateConfig {
    /// Whether the state is shared (in Redis, at a URL or through Sentinel).
    pub fn shared(&self) -> bool {
        self.redis_url.is_some() || !self.redis_sentinels.is_empty()
    }

    /// What reaching the sentinels takes.
    pub fn sentinel_settings(&self) -> redis::sentinel::SentinelSettings {
        redis::sentinel::SentinelSettings {
            sentinels: self.redis_sentinels.clone(),
            master: self.redis_master.clone(),
            password: self.redis_password.clone(),
            tls: self.redis_tls,
        }
    }
}

/// The state of one gateway alone, in its memory, with default limits (for tools and tests).
pub fn alone() -> Shared {
    memory::shared(
        Duration::from_secs(15 * 60),
        &RateLimitConfig::default(),
        &[],
    )
}

/// The state of `config`: in memory, or in Redis.
pub async fn build(
    config: &StateConfig,
    session_ttl: Duration,
    limits: &RateLimitConfig,
    key_limits: &[KeyLimits],
    key_names: &[String],
) -> Result<Shared, StateError> {
    let primary = match &config.redis_url {
        _ if !config.redis_sentinels.is_empty() => {
            let settings = config.sentinel_settings();
            return self::redis::shared(
                config,
                self::redis::Primary::Sentinels(&settings),
                session_ttl,
                limits,
                key_limits,
                key_names,
            )
            .await;
        }
        None => return Ok(memory::shared(session_ttl, limits, key_limits)),
        Some(url) => self::redis::Primary::Url(url),
    };
    self::redis::shared(config, primary, session_ttl, limits, key_limits, key_names).await
}
