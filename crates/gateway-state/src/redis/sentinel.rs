//! Following the primary through Redis Sentinel (`[state] redis_sentinels`): the `redis`
//! crate's `SentinelClient` asks the sentinels for the primary of `redis_master` and checks
//! its `ROLE`; the gateway asks again every [`WATCH`] and at once when a write meets a demoted
//! primary (`READONLY`) or a lost connection, and moves its pool to the new primary.
//!
//! While no primary answers (between the old one's death and the sentinels' promotion),
//! every command fails and the domain answers `state_unavailable` with `Retry-After`: nothing
//! is told that Redis did not hold.

use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{ConnectionAddr, RedisError};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often the sentinels are asked for the primary.
pub const WATCH: Duration = Duration::from_millis(500);
/// The longest asking takes (the sentinels, then the primary's `ROLE`): a paused primary
/// accepts connections and never answers.
const ASK_TIMEOUT: Duration = Duration::from_secs(1);

/// What reaching the sentinels and the primary takes.
#[derive(Clone)]
pub struct SentinelSettings {
    /// `host:port` of each sentinel.
    pub sentinels: Vec<String>,
    /// The name the sentinels monitor the primary under.
    pub master: String,
    /// The password of the Redis nodes (and of the sentinels, unless they have none).
    pub password: Option<String>,
    /// TLS to the nodes and the sentinels.
    pub tls: bool,
}

impl std::fmt::Debug for SentinelSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentinelSettings")
            .field("sentinels", &self.sentinels)
            .field("master", &self.master)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

/// `host:port` as a connection address.
pub fn address(text: &str, tls: bool) -> Result<ConnectionAddr, String> {
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("{text:?} is not host:port"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| format!("{text:?} has no valid port"))?;
    if host.is_empty() {
        return Err(format!("{text:?} has no host"));
    }
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    Ok(if tls {
        ConnectionAddr::TcpTls {
            host,
            port,
            insecure: false,
            tls_params: None,
        }
    } else {
        ConnectionAddr::Tcp(host, port)
    })
}

fn client_of(settings: &SentinelSettings) -> Result<SentinelClient, RedisError> {
    let sentinels = settings
        .sentinels
        .iter()
        .map(|s| address(s, settings.tls))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| RedisError::from((redis::ErrorKind::InvalidClientConfig, "sentinel", e)))?;
    let mut builder =
        SentinelClientBuilder::new(sentinels, &settings.master, SentinelServerType::Master)?;
    if settings.tls {
        builder = builder
            .set_client_to_redis_tls_mode(redis::TlsMode::Secure)
            .set_client_to_sentinel_tls_mode(redis::TlsMode::Secure);
    }
    if let Some(password) = &settings.password {
        builder = builder.set_client_to_redis_password(password);
    }
    builder.build()
}

/// The sentinels, and what the gateway knows of the primary.
pub(super) struct Follow {
    client: tokio::sync::Mutex<SentinelClient>,
    settings: SentinelSettings,
    /// The primary the pool is on (`host:port`).
    primary: Mutex<Option<String>>,
    /// Since when no primary answers, if none does.
    lost_at: Mutex<Option<Instant>>,
    failovers: AtomicU64,
}

impl std::fmt::Debug for Follow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follow")
            .field("settings", &self.settings)
            .field("primary", &self.primary)
            .finish_non_exhaustive()
    }
}

/// What asking the sentinels found.
pub(super) enum Found {
    /// The primary the pool is on already.
    Same,
    /// Another primary than the pool's (or the first): its client.
    Moved(Box<redis::Client>),
}

impl Follow {
    pub(super) fn new(settings: &SentinelSettings) -> Result<Self, RedisError> {
        Ok(Self {
            client: tokio::sync::Mutex::new(client_of(settings)?),
            settings: settings.clone(),
            primary: Mutex::new(None),
            lost_at: Mutex::new(None),
            failovers: AtomicU64::new(0),
        })
    }

    /// Asks the sentinels for the primary (its `ROLE` checked). A failure starts the clock of
    /// the time without a primary; an answer stops it.
    pub(super) async fn ask(&self) -> Result<Found, RedisError> {
        let asked = match tokio::time::timeout(ASK_TIMEOUT, async {
            self.client.lock().await.async_get_client().await
        })
        .await
        {
            Ok(asked) => asked,
            Err(_) => Err(RedisError::from((
                redis::ErrorKind::Io,
                "the sentinels or the primary they name did not answer in time",
            ))),
        };
        let client = match asked {
            Ok(client) => client,
            Err(e) => {
                let mut lost = self.lost_at.lock().unwrap_or_else(|p| p.into_inner());
                if lost.is_none() {
                    *lost = Some(Instant::now());
                    tracing::warn!(error = %e, "the state store has no primary the sentinels name: failing over");
                }
                return Err(e);
            }
        };
        if let Some(since) = self
            .lost_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            let without = since.elapsed();
            metrics::counter!("registratura_state_without_primary_seconds_total")
                .increment(without.as_secs().max(1));
            tracing::warn!(
                seconds = without.as_secs_f64(),
                "the state store has a primary again"
            );
        }
        let at = client.get_connection_info().addr().to_string();
        let mut primary = self.primary.lock().unwrap_or_else(|p| p.into_inner());
        if primary.as_deref() == Some(at.as_str()) {
            return Ok(Found::Same);
        }
        if primary.is_some() {
            self.failovers.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("registratura_state_failovers_total").increment(1);
            tracing::warn!(primary = %at, "the state store's primary moved: following it");
        } else {
            tracing::info!(primary = %at, "the state store's primary, as the sentinels name it");
        }
        *primary = Some(at);
        Ok(Found::Moved(Box::new(client)))
    }

    /// Whether no primary answers now, and for how long.
    pub(super) fn failing_over(&self) -> Option<Duration> {
        self.lost_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map(|since| since.elapsed())
    }
}

/// The sentinels, the primary and the replicas as the sentinels see them
/// (`registratura check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// The sentinels that answered, of those configured.
    pub sentinels_answering: usize,
    pub primary: Option<String>,
    pub replicas: Vec<String>,
}

/// Asks each sentinel of `settings` what it knows of the primary and its replicas.
pub async fn topology(settings: &SentinelSettings) -> Topology {
    let mut found = Topology {
        sentinels_answering: 0,
        primary: None,
        replicas: Vec::new(),
    };
    for sentinel in &settings.sentinels {
        let Ok(addr) = address(sentinel, settings.tls) else {
            continue;
        };
        let Ok(client) = redis::Client::open(addr) else {
            continue;
        };
        let asked = tokio::time::timeout(Duration::from_secs(2), async {
            let mut c = client.get_multiplexed_async_connection().await?;
            let primary: Vec<String> = redis::cmd("SENTINEL")
                .arg("get-master-addr-by-name")
                .arg(&settings.master)
                .query_async(&mut c)
                .await?;
            let replicas: Vec<std::collections::HashMap<String, String>> = redis::cmd("SENTINEL")
                .arg("replicas")
                .arg(&settings.master)
                .query_async(&mut c)
                .await?;
            Ok::<_, RedisError>((primary, replicas))
        })
        .await;
        let Ok(Ok((primary, replicas))) = asked else {
            continue;
        };
        found.sentinels_answering += 1;
        if let [host, port] = primary.as_slice() {
            found.primary.get_or_insert(format!("{host}:{port}"));
        }
        if found.replicas.is_empty() {
            found.replicas = replicas
                .iter()
                .filter(|r| !r.get("flags").is_some_and(|f| f.contains("down")))
                .filter_map(|r| Some(format!("{}:{}", r.get("ip")?, r.get("port")?)))
                .collect();
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentinel_is_host_and_port() {
        assert!(matches!(
            address("10.0.0.1:26379", false),
            Ok(ConnectionAddr::Tcp(h, 26379)) if h == "10.0.0.1"
        ));
        assert!(matches!(
            address("[::1]:26379", true),
            Ok(ConnectionAddr::TcpTls { host, port: 26379, .. }) if host == "::1"
        ));
        for bad in ["10.0.0.1", ":26379", "h:port", "h:99999"] {
            assert!(address(bad, false).is_err(), "{bad}");
        }
    }
}
