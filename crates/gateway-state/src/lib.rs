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
            prefix: "registratura".into(),
            pool_size: 4,
            timeout_ms: 500,
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
    match &config.redis_url {
        None => Ok(memory::shared(session_ttl, limits, key_limits)),
        Some(url) => {
            self::redis::shared(config, url, session_ttl, limits, key_limits, key_names).await
        }
    }
}
