//! The HTTP shell: `[server]` (its listener, TLS, who is trusted and allowed, sessions, its
//! timeouts and bounds), `[demo]` (the demo clinic site) and `[service]` (the Windows
//! service's log); how the shell is made ([`start`]) and tried ([`check`]).

pub mod check;
pub mod start;
pub mod tls;

use crate::config::{Config, ConfigError};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The HTTP server of the gateway.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// The address of the JSON API (`host:port`).
    pub listen: String,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// How long a patient session lasts, in seconds.
    pub session_ttl_secs: u64,
    /// The shortest time an identification answer takes, milliseconds, so that "found" and
    /// "not found" cannot be told apart by timing.
    pub identify_min_ms: u64,
    /// Origins (`https://clinic.example`) whose pages may call the API from a browser. The
    /// gateway's own pages (the widget) are always allowed; clients without a browser are not
    /// affected.
    pub cors_origins: Vec<String>,
    /// Origins that may frame the widget page (CSP `frame-ancestors`). Default: the
    /// `cors_origins`; with none, the demo site in the sandbox demo and only the gateway
    /// itself otherwise (never any site unless written here: `["*"]`).
    pub frame_ancestors: Option<Vec<String>>,
    /// Proxies (addresses or CIDR networks) whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<String>,
    /// Addresses or networks that may see the operator surfaces (`/readyz` details).
    pub operator_allow: Vec<String>,
    /// Addresses or networks allowed to call the API at all (absent: everyone). A request
    /// passes when its client, or a trusted proxy it came through, is in one.
    pub api_allow: Option<Vec<String>>,
    /// Serve HTTPS directly with this PEM certificate chain (and `tls_key`).
    pub tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key of `tls_cert`.
    pub tls_key: Option<std::path::PathBuf>,
    /// Send `Strict-Transport-Security`: on by default with `tls_cert`; set it when a TLS
    /// proxy stands in front.
    pub hsts: Option<bool>,
    /// How long requests in flight may take to finish after `SIGTERM` or `SIGINT`, seconds.
    pub shutdown_grace_secs: u64,
    /// How long a request's body may take to arrive once its headers have, seconds (a client
    /// that sends it slower gets `408 request_timeout`).
    pub body_timeout_secs: u64,
    /// How long a client may take to send a connection's first request head, seconds (a
    /// client that sends it slower gets `408 request_timeout`). Only the client's slowness
    /// counts: a head that waited for a busy server is read, not refused.
    pub head_timeout_secs: u64,
    /// How many requests the МИС may be working for at once, all clinics together (each
    /// clinic has its own bound too: `[clinics.mis] max_in_flight`, and each region:
    /// `[[regions]] region_max_in_flight`). Absent: the clinics' and the regions' bounds
    /// added up. A request past it waits up to `queue_wait_ms` for a place, then is
    /// answered `503 overloaded` with a `Retry-After`; what needs no МИС call (a cached
    /// directory read) is never held back.
    pub max_in_flight: Option<usize>,
    /// How many requests may wait for a place at once, for each bound (beyond them, a request
    /// is told to retry at once; below it, one that cannot expect a place within
    /// `queue_wait_ms`, from how long requests hold one, is told at once too). Absent: 64
    /// times the bound.
    pub max_queued: Option<usize>,
    /// How long a request waits for a place among the МИС calls in flight, milliseconds.
    pub queue_wait_ms: u64,
    /// The listen queue: connections the kernel holds until the gateway accepts them (the
    /// kernel caps it at `net.core.somaxconn`).
    pub backlog: u32,
    /// The most connections each worker keeps open; beyond them new ones wait in the listen
    /// queue.
    pub max_connections: usize,
    /// The address patients and integrators reach the gateway at, when it differs from
    /// `listen` (behind a proxy, possibly under a path: `https://clinic.example.ru/registratura`).
    /// Used where an absolute link is needed: the snippet on the status page, `Location`,
    /// the docs' spec URL and the OpenAPI `servers`.
    pub public_url: Option<String>,
    /// The key region sessions are sealed under: 64 hexadecimal digits (`openssl rand -hex
    /// 32`), the same on every gateway of a region (`REGISTRATURA_SESSION_KEY` overrides it).
    /// Absent: a key of this process, and a region's sessions end when it restarts.
    pub session_key: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            workers: 0,
            session_ttl_secs: 15 * 60,
            identify_min_ms: 400,
            cors_origins: Vec::new(),
            frame_ancestors: None,
            trusted_proxies: Vec::new(),
            operator_allow: vec!["127.0.0.0/8".into(), "::1".into()],
            api_allow: None,
            tls_cert: None,
            tls_key: None,
            hsts: None,
            shutdown_grace_secs: 30,
            body_timeout_secs: 10,
            head_timeout_secs: 5,
            max_in_flight: None,
            max_queued: None,
            queue_wait_ms: 1_000,
            backlog: 16_384,
            max_connections: 25_000,
            public_url: None,
            session_key: None,
        }
    }
}

/// The gateway as a Windows service: it has no console, so its log goes to a file rotated
/// by size (and its start, stop and fatal errors to the Windows Event Log too).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceConfig {
    /// The log file. Default: `logs\registratura.log` under `%ProgramData%\Registratura`
    /// (`C:\ProgramData\Registratura`).
    pub log_file: Option<PathBuf>,
    /// The size at which the log file is rotated, in megabytes.
    pub log_max_mb: u64,
    /// How many rotated files are kept beside it (`registratura.log.1`, …).
    pub log_keep: usize,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            log_file: None,
            log_max_mb: 10,
            log_keep: 5,
        }
    }
}

/// The demo clinic site that embeds the widget from another origin (sandbox mode only).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DemoConfig {
    /// Serve it when the gateway runs the sandbox's demo clinic.
    pub enabled: bool,
    pub listen: String,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: "127.0.0.1:8000".into(),
        }
    }
}

/// The origins a page served at `addr` has: `http://127.0.0.1:8000`, and on a loopback
/// address its `localhost` name too.
pub(crate) fn origins_of(addr: SocketAddr) -> Vec<String> {
    let mut origins = vec![format!("http://{addr}")];
    if addr.ip().is_loopback() {
        origins.push(format!("http://localhost:{}", addr.port()));
    }
    origins
}

/// The longest a session may last: a day.
const MAX_SESSION_TTL_SECS: u64 = 24 * 60 * 60;

/// The listening addresses.
fn validate_addresses(config: &Config) -> Result<(), ConfigError> {
    for (key, addr) in [
        ("server.listen", &config.server.listen),
        ("sandbox.listen", &config.sandbox.listen),
        ("demo.listen", &config.demo.listen),
    ] {
        let ok = addr.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && !host.contains(char::is_whitespace) && port.parse::<u16>().is_ok()
        });
        if !ok {
            return Err(ConfigError(format!(
                "{key}: {addr:?} must be an address and a port from 0 to 65535, like 127.0.0.1:8080"
            )));
        }
    }
    Ok(())
}

/// Who is trusted and allowed, TLS, sessions, public address, timeouts.
pub(crate) fn validate(config: &Config) -> Result<(), ConfigError> {
    for list in [
        &config.server.trusted_proxies,
        &config.server.operator_allow,
    ] {
        crate::security::parse_networks(list).map_err(ConfigError)?;
    }
    if let Some(list) = &config.server.api_allow {
        crate::security::parse_networks(list).map_err(ConfigError)?;
    }
    crate::security::keys::ApiKeys::from_config(&config.api_keys).map_err(ConfigError)?;
    for origin in &config.server.cors_origins {
        let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
            && origin.matches('/').count() == 2;
        if !ok {
            return Err(ConfigError(format!(
                "cors_origins: {origin:?} must be a scheme and host, like https://clinic.example"
            )));
        }
    }
    if config.server.tls_cert.is_some() != config.server.tls_key.is_some() {
        return Err(ConfigError(
            "server.tls_cert and server.tls_key go together".into(),
        ));
    }
    if let Some(key) = &config.server.session_key
        && gateway_domain::region::seal::SessionKey::from_hex(key).is_err()
    {
        return Err(ConfigError(
            "server.session_key (or REGISTRATURA_SESSION_KEY) must be 64 hexadecimal digits (openssl rand -hex 32)".into(),
        ));
    }
    validate_addresses(config)?;
    if !(1..=MAX_SESSION_TTL_SECS).contains(&config.server.session_ttl_secs) {
        return Err(ConfigError(format!(
            "server.session_ttl_secs must be from 1 to {MAX_SESSION_TTL_SECS}"
        )));
    }
    if config.service.log_max_mb == 0 {
        return Err(ConfigError("service.log_max_mb must be at least 1".into()));
    }
    if let Some(url) = &config.server.public_url {
        let ok = (url.starts_with("https://") || url.starts_with("http://"))
            && !url.contains(['?', '#', ' ']);
        if !ok {
            return Err(ConfigError(format!(
                "server.public_url: {url:?} must be an http(s) URL without query"
            )));
        }
    }
    if !(1..=300).contains(&config.server.body_timeout_secs) {
        return Err(ConfigError(
            "server.body_timeout_secs must be from 1 to 300".into(),
        ));
    }
    if !(1..=60).contains(&config.server.head_timeout_secs) {
        return Err(ConfigError(
            "server.head_timeout_secs must be from 1 to 60".into(),
        ));
    }
    if config.server.max_in_flight == Some(0)
        || config.clinics.iter().any(|c| c.mis.max_in_flight == 0)
    {
        return Err(ConfigError(
            "server.max_in_flight and [clinics.mis] max_in_flight must be at least 1".into(),
        ));
    }
    if config.server.queue_wait_ms > 30_000 {
        return Err(ConfigError(
            "server.queue_wait_ms must be at most 30000".into(),
        ));
    }
    if config.server.backlog == 0 || config.server.max_connections == 0 {
        return Err(ConfigError(
            "server.backlog and server.max_connections must be at least 1".into(),
        ));
    }
    if config.server.identify_min_ms > 10_000 {
        return Err(ConfigError(
            "server.identify_min_ms must be at most 10000".into(),
        ));
    }
    Ok(())
}
