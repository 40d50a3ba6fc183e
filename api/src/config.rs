//! The gateway's configuration: a TOML file, environment overrides, and defaults that run
//! everything against the built-in sandbox МИС.
//!
//! Environment overrides (each wins over the file): `REGISTRATURA_LISTEN`,
//! `REGISTRATURA_SANDBOX_LISTEN`, `REGISTRATURA_SANDBOX_DATABASE`, `REGISTRATURA_SANDBOX_GUID`,
//! `REGISTRATURA_SESSION_TTL_SECS`.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Why a configuration cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub sandbox: SandboxSettings,
    #[serde(default)]
    pub cache: CacheConfig,
    #[serde(default)]
    pub rate_limit: gateway_domain::limits::RateLimitConfig,
    /// Integrators' API keys, each with its own limits.
    #[serde(default)]
    pub api_keys: Vec<crate::security::keys::ApiKeyConfig>,
    #[serde(default)]
    pub demo: DemoConfig,
    #[serde(default)]
    pub audit: AuditConfig,
    /// Where the state gateways may share lives: memory (one gateway) or Redis.
    #[serde(default)]
    pub state: gateway_state::StateConfig,
    /// The gateway as a Windows service (`registratura service …`): its log file.
    #[serde(default)]
    pub service: ServiceConfig,
    /// The clinics this gateway serves. With none, the gateway serves the sandbox's demo
    /// clinic (and starts the sandbox).
    #[serde(default)]
    pub clinics: Vec<ClinicConfig>,
    /// Regions whose catalogue (districts, clinics, their cards) the gateway reads from their
    /// hub (region mode).
    #[serde(default)]
    pub regions: Vec<RegionConfig>,
}

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

/// How long МИС answers are reused.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Clinics, specialties and doctors, seconds (0 turns caching off).
    pub directory_ttl_secs: u64,
    /// Dates and free slots, seconds.
    pub schedule_ttl_secs: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            directory_ttl_secs: 30,
            schedule_ttl_secs: 3,
        }
    }
}

/// The audit trail of bookings and cancellations.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// The file lines are appended to; absent: no audit trail.
    pub path: Option<PathBuf>,
    /// The key of the patients' pseudonyms (at least 16 characters; keep it secret and keep it:
    /// a new key gives every patient a new pseudonym). `REGISTRATURA_AUDIT_SECRET` overrides it.
    pub secret: Option<String>,
}

/// A region id: 1 to 32 lower-case letters, digits or dashes.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
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

/// The built-in sandbox МИС.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxSettings {
    /// Start it even when clinics are configured (it always starts when none are).
    pub enabled: bool,
    pub listen: String,
    pub database: PathBuf,
    pub guid: String,
    /// Added to every answer, milliseconds: to try the gateway against a slow МИС.
    pub latency_ms: u64,
    /// How long the sandbox region's slow clinic (№ 6) takes to answer, milliseconds.
    pub slow_clinic_ms: u64,
    /// How many clinics the sandbox region's hub lists: its seven, and made-up ones up to
    /// this many (10 000 to try a region at its real size).
    pub region_clinics: usize,
    /// Sparse answers: every member the contract allows to be left out is (nil, or absent),
    /// but those the gateway needs: a МИС that says no more than it must.
    pub sparse: bool,
    /// Operations answered with an `ErrorList` whatever is asked (`["GetLPUInfo"]`): a МИС or
    /// a hub without them.
    pub refuse_operations: Vec<String>,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            listen: "127.0.0.1:8090".into(),
            database: PathBuf::from("registratura-sandbox.db"),
            guid: sandbox_mis::DEFAULT_GUID.into(),
            latency_ms: 0,
            slow_clinic_ms: 30_000,
            region_clinics: sandbox_mis::seed::CLINICS.len(),
            sparse: false,
            refuse_operations: Vec::new(),
        }
    }
}

/// One clinic and how to reach its МИС.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClinicConfig {
    /// The clinic's id in this API's paths: lower-case letters, digits and dashes.
    pub id: String,
    pub name: String,
    pub address: String,
    /// The IANA zone of the clinic (`Europe/Moscow`); every time shown is in it.
    pub timezone: String,
    pub mis: MisConfig,
}

/// A region whose catalogue the gateway reads from its hub.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionConfig {
    /// The region's id in this API's paths (`/api/v1/regions/<id>/…`) and in its clinics' ids
    /// (`<id>-<idLpu>`): lower-case letters, digits and dashes.
    pub id: String,
    pub name: String,
    /// The hub's service URL (`http://host/HubService.svc`); absent means the built-in sandbox.
    pub endpoint: Option<String>,
    /// The key the hub issued to this gateway.
    pub guid: String,
    /// How often the catalogue is read again, in seconds.
    #[serde(default = "default_refresh_secs")]
    pub refresh_secs: u64,
    /// TCP connect timeout of a call, in milliseconds.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// How long one call may take, in milliseconds (the catalogue is read in the background).
    #[serde(default = "default_region_timeout_ms")]
    pub timeout_ms: u64,
    /// The largest answer accepted, in bytes.
    #[serde(default = "default_region_response_bytes")]
    pub max_response_bytes: usize,
    /// The IANA zone of the region's clinics.
    #[serde(default = "default_region_timezone")]
    pub timezone: String,
    /// Each clinic's МИС calls, through the hub: the longest one attempt may take, ms.
    #[serde(default = "default_region_clinic_ms")]
    pub attempt_timeout_ms: u64,
    /// The longest a read of a clinic may take, all attempts included, ms.
    #[serde(default = "default_region_clinic_ms")]
    pub deadline_ms: u64,
    /// Extra attempts of a clinic's read after a failure to reach it.
    #[serde(default)]
    pub read_retries: u32,
    /// Consecutive failures of a clinic that open its own circuit breaker.
    #[serde(default = "default_breaker_threshold")]
    pub breaker_threshold: u32,
    /// How often an open breaker probes its clinic, ms.
    #[serde(default = "default_probe_interval_ms")]
    pub probe_interval_ms: u64,
    /// How many calls each clinic of the region takes at once.
    #[serde(default = "default_region_clinic_in_flight")]
    pub max_in_flight: usize,
    /// How many calls the region's clinics take at once, together (all go through the one
    /// hub): the region's own bound, within the gateway's. Its clinics never take more, so a
    /// burst at one region leaves the configured clinics' places free.
    #[serde(default = "default_region_in_flight")]
    pub region_max_in_flight: usize,
    /// The one deadline of an answer across clinics (specialties, nearest tickets, «my
    /// clinic»), ms: what has not come by then is listed in `clinics_failed`.
    #[serde(default = "default_across_deadline_ms")]
    pub across_deadline_ms: u64,
    /// The most МИС calls one answer across clinics makes (kept reads cost none): the clinics
    /// past it are listed as `overloaded`, and the next answer goes further.
    #[serde(default = "default_across_max_calls")]
    pub across_max_calls: u32,
    /// The bytes the region's clinics' reads are kept in, together, MiB.
    #[serde(default = "default_region_cache_mib")]
    pub cache_mib: u64,
}

impl Default for RegionConfig {
    /// A region with every default, and no id, name, endpoint or key yet.
    fn default() -> Self {
        Self {
            id: String::new(),
            name: String::new(),
            endpoint: None,
            guid: String::new(),
            refresh_secs: default_refresh_secs(),
            connect_timeout_ms: default_connect_timeout_ms(),
            timeout_ms: default_region_timeout_ms(),
            max_response_bytes: default_region_response_bytes(),
            timezone: default_region_timezone(),
            attempt_timeout_ms: default_region_clinic_ms(),
            deadline_ms: default_region_clinic_ms(),
            read_retries: 0,
            breaker_threshold: default_breaker_threshold(),
            probe_interval_ms: default_probe_interval_ms(),
            max_in_flight: default_region_clinic_in_flight(),
            region_max_in_flight: default_region_in_flight(),
            across_deadline_ms: default_across_deadline_ms(),
            across_max_calls: default_across_max_calls(),
            cache_mib: default_region_cache_mib(),
        }
    }
}

fn default_region_clinic_in_flight() -> usize {
    8
}

fn default_region_in_flight() -> usize {
    64
}

fn default_across_max_calls() -> u32 {
    gateway_domain::region::clinics::DEFAULT_MAX_CALLS
}

fn default_region_cache_mib() -> u64 {
    64
}

/// The origins a page served at `addr` has: `http://127.0.0.1:8000`, and on a loopback
/// address its `localhost` name too.
fn origins_of(addr: SocketAddr) -> Vec<String> {
    let mut origins = vec![format!("http://{addr}")];
    if addr.ip().is_loopback() {
        origins.push(format!("http://localhost:{}", addr.port()));
    }
    origins
}

fn default_region_timezone() -> String {
    "Europe/Moscow".into()
}

fn default_region_clinic_ms() -> u64 {
    2_500
}

fn default_across_deadline_ms() -> u64 {
    3_000
}

fn default_refresh_secs() -> u64 {
    3_600
}

fn default_region_timeout_ms() -> u64 {
    20_000
}

fn default_region_response_bytes() -> usize {
    16 * 1024 * 1024
}

/// The protocol a clinic's МИС speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// The regional appointment hub's SOAP contract (HubService).
    #[default]
    Hub,
    /// HL7 FHIR R4 (XML): Schedule / Slot / Appointment.
    Fhir,
}

/// How to reach a clinic's МИС: over the hub contract (the default), or over FHIR R4.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MisConfig {
    /// `hub` (the default) or `fhir`.
    #[serde(default)]
    pub protocol: Protocol,
    /// Hub: the service URL (`http://host/HubService.svc`); absent means the built-in sandbox.
    pub endpoint: Option<String>,
    /// Hub: the key the hub issued to this gateway (required for the hub).
    #[serde(default)]
    pub guid: String,
    /// The clinic's `idLpu` in the МИС (required for the hub).
    #[serde(default)]
    pub id_lpu: i32,
    /// FHIR: the server's base URL (`https://host/fhir`).
    pub base_url: Option<String>,
    /// FHIR: a static bearer token.
    pub token: Option<String>,
    /// FHIR: the OAuth2 token endpoint of client credentials (SMART Backend Services style),
    /// with `client_id`, `client_secret` and, where the server wants one, `scope`.
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scope: Option<String>,
    /// FHIR: the identifier system of the OMS policy in `Patient.identifier`.
    pub policy_system: Option<String>,
    /// FHIR: the identifier system of the identity document in `Patient.identifier`.
    pub document_system: Option<String>,
    /// FHIR: the identifier system of the appointments this gateway makes.
    #[serde(default = "default_booking_system")]
    pub booking_system: String,
    /// Connection timeout, milliseconds.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// The longest one attempt of a МИС call may take, milliseconds (`timeout_ms` is its
    /// older name).
    #[serde(default = "default_attempt_timeout_ms", alias = "timeout_ms")]
    pub attempt_timeout_ms: u64,
    /// The longest a read may take, all its attempts included, milliseconds. The default lets
    /// two attempts fit.
    #[serde(default = "default_deadline_ms")]
    pub deadline_ms: u64,
    /// The largest МИС answer accepted, bytes.
    #[serde(default = "default_max_response_bytes")]
    pub max_response_bytes: usize,
    /// Extra attempts of a read after a failure to reach the МИС (bookings are never retried).
    #[serde(default = "default_read_retries")]
    pub read_retries: u32,
    /// Consecutive failures to reach the МИС that open its circuit breaker.
    #[serde(default = "default_breaker_threshold")]
    pub breaker_threshold: u32,
    /// How often an open breaker probes the МИС, milliseconds.
    #[serde(default = "default_probe_interval_ms")]
    pub probe_interval_ms: u64,
    /// The number the hub knows this gateway by as a source of waiting-list requests
    /// (`PASource`); ask the hub's operator.
    #[serde(default = "default_waiting_list_source")]
    pub waiting_list_source: i32,
    /// How many calls the МИС takes at once: the gateway lets at most this many requests
    /// have it working for them, and tells the next ones to retry (`503 overloaded`) rather
    /// than letting them queue at the МИС until they time out. Ask the МИС's operator.
    #[serde(default = "default_mis_in_flight")]
    pub max_in_flight: usize,
}

fn default_booking_system() -> String {
    "urn:registratura:appointment".into()
}

fn default_mis_in_flight() -> usize {
    gateway_domain::admission::DEFAULT_IN_FLIGHT
}

fn default_waiting_list_source() -> i32 {
    mis_hub::DEFAULT_WAITING_LIST_SOURCE
}

/// The longest a session may last: a day.
const MAX_SESSION_TTL_SECS: u64 = 24 * 60 * 60;

fn default_read_retries() -> u32 {
    2
}

fn default_breaker_threshold() -> u32 {
    5
}

fn default_probe_interval_ms() -> u64 {
    2_000
}

fn default_connect_timeout_ms() -> u64 {
    2_000
}

fn default_attempt_timeout_ms() -> u64 {
    4_000
}

fn default_deadline_ms() -> u64 {
    9_000
}

fn default_max_response_bytes() -> usize {
    4 * 1024 * 1024
}

impl MisConfig {
    /// What each protocol needs: the hub its key and `id_lpu`, FHIR its base URL, the
    /// identifier systems, and a complete way to authenticate if any.
    fn validate(&self, clinic: &str) -> Result<(), ConfigError> {
        let fail = |what: &str| Err(ConfigError(format!("clinic {clinic:?}: {what}")));
        match self.protocol {
            Protocol::Hub => {
                if self.guid.trim().is_empty() || self.id_lpu <= 0 {
                    return fail("a hub МИС needs mis.guid and a positive mis.id_lpu");
                }
            }
            Protocol::Fhir => {
                let url = self.base_url.as_deref().unwrap_or_default();
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return fail("a FHIR МИС needs mis.base_url, an http(s) URL");
                }
                if self.policy_system.is_none() || self.document_system.is_none() {
                    return fail("a FHIR МИС needs mis.policy_system and mis.document_system");
                }
                let credentials = [&self.token_url, &self.client_id, &self.client_secret];
                let given = credentials.iter().filter(|c| c.is_some()).count();
                if given != 0 && given != 3 {
                    return fail("mis.token_url, mis.client_id and mis.client_secret go together");
                }
                if given == 3 && self.token.is_some() {
                    return fail("mis.token or client credentials, not both");
                }
            }
        }
        Ok(())
    }
}

impl Config {
    /// The configuration with no file: the sandbox and its demo clinic.
    pub fn sandbox_default() -> Self {
        Self {
            server: ServerConfig::default(),
            sandbox: SandboxSettings::default(),
            cache: CacheConfig::default(),
            rate_limit: gateway_domain::limits::RateLimitConfig::default(),
            api_keys: Vec::new(),
            demo: DemoConfig::default(),
            audit: AuditConfig::default(),
            state: gateway_state::StateConfig::default(),
            service: ServiceConfig::default(),
            clinics: Vec::new(),
            regions: Vec::new(),
        }
    }

    /// Reads the file (if any), applies environment overrides and checks the result.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
                Self::parse(&text)?
            }
            None => Self::sandbox_default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        config.validate()?;
        Ok(config)
    }

    /// Parses TOML text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError(e.to_string()))
    }

    fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = var("REGISTRATURA_LISTEN") {
            self.server.listen = v;
        }
        if let Some(v) = var("REGISTRATURA_SANDBOX_LISTEN") {
            self.sandbox.listen = v;
        }
        if let Some(v) = var("REGISTRATURA_SANDBOX_DATABASE") {
            self.sandbox.database = v.into();
        }
        if let Some(v) = var("REGISTRATURA_DEMO_LISTEN") {
            self.demo.listen = v;
        }
        if let Some(v) = var("REGISTRATURA_SANDBOX_GUID") {
            self.sandbox.guid = v;
        }
        if let Some(v) = var("REGISTRATURA_REDIS_URL") {
            self.state.redis_url = Some(v);
        }
        if let Some(v) = var("REGISTRATURA_AUDIT_SECRET") {
            self.audit.secret = Some(v);
        }
        if let Some(v) = var("REGISTRATURA_SESSION_KEY") {
            self.server.session_key = Some(v);
        }
        if let Some(v) = var("REGISTRATURA_SESSION_TTL_SECS") {
            self.server.session_ttl_secs = v.parse().map_err(|_| {
                ConfigError("REGISTRATURA_SESSION_TTL_SECS must be a number".into())
            })?;
        }
        Ok(())
    }

    /// The `frame-ancestors` sources of the widget page: `'self'`, and the origins written
    /// in `server.frame_ancestors` (else in `server.cors_origins`); with neither, in the
    /// sandbox demo, the demo site's origin (`demo`, once it is bound). Never `*` unless the
    /// operator writes it.
    pub fn frame_ancestors(&self, demo: Option<SocketAddr>) -> String {
        let list = match &self.server.frame_ancestors {
            Some(list) => list.clone(),
            None if !self.server.cors_origins.is_empty() => self.server.cors_origins.clone(),
            None => demo.map(origins_of).unwrap_or_default(),
        };
        let mut sources = vec!["'self'".to_owned()];
        sources.extend(list.into_iter().filter(|s| {
            s == "*"
                || s.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || matches!(c, ':' | '/' | '.' | '-' | '*' | '[' | ']')
                })
        }));
        sources.join(" ")
    }

    /// Whether nothing real is configured (no clinic, no region): the gateway then serves
    /// the sandbox's demo clinic and its region, and the demo site.
    pub fn is_sandbox_default(&self) -> bool {
        self.clinics.is_empty() && self.regions.is_empty()
    }

    /// Whether the built-in sandbox МИС runs: with nothing real configured, when it is asked
    /// for, or when a clinic or a region names no endpoint of its own.
    pub fn runs_sandbox(&self) -> bool {
        self.sandbox.enabled
            || self.is_sandbox_default()
            || self
                .clinics
                .iter()
                .any(|c| c.mis.protocol == Protocol::Hub && c.mis.endpoint.is_none())
            || self.regions.iter().any(|r| r.endpoint.is_none())
    }

    /// The regions served: the configured ones, or (with no clinic and no region configured)
    /// the sandbox's region, `sandbox`, whose clinics are `sandbox-1` to `sandbox-7`.
    pub fn effective_regions(&self) -> Vec<RegionConfig> {
        if !self.is_sandbox_default() {
            return self.regions.clone();
        }
        vec![RegionConfig {
            id: "sandbox".into(),
            name: "Демо-регион (песочница)".into(),
            guid: self.sandbox.guid.clone(),
            ..RegionConfig::default()
        }]
    }

    /// The clinics served: the configured ones, or (with nothing real configured) the
    /// sandbox's demo clinic. A gateway of regions only serves their clinics alone.
    pub fn effective_clinics(&self) -> Vec<ClinicConfig> {
        if !self.is_sandbox_default() {
            return self.clinics.clone();
        }
        vec![ClinicConfig {
            id: "demo".into(),
            name: sandbox_mis::seed::LPU_SHORT_NAME.into(),
            address: sandbox_mis::seed::LPU_ADDRESS.into(),
            timezone: sandbox_mis::seed::LPU_TIMEZONE.name().into(),
            mis: MisConfig {
                protocol: Protocol::Hub,
                endpoint: None,
                guid: self.sandbox.guid.clone(),
                id_lpu: sandbox_mis::seed::LPU_ID,
                base_url: None,
                token: None,
                token_url: None,
                client_id: None,
                client_secret: None,
                scope: None,
                policy_system: None,
                document_system: None,
                booking_system: default_booking_system(),
                connect_timeout_ms: default_connect_timeout_ms(),
                attempt_timeout_ms: default_attempt_timeout_ms(),
                deadline_ms: default_deadline_ms(),
                max_response_bytes: default_max_response_bytes(),
                read_retries: default_read_retries(),
                breaker_threshold: default_breaker_threshold(),
                probe_interval_ms: default_probe_interval_ms(),
                waiting_list_source: default_waiting_list_source(),
                max_in_flight: default_mis_in_flight(),
            },
        }]
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.validate_regions()?;
        self.validate_clinics()?;
        self.validate_addresses()?;
        self.validate_server()?;
        self.validate_audit_and_state()
    }

    /// Each clinic: its id, its zone, its МИС's endpoint and timeouts.
    fn validate_regions(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::HashSet::new();
        for r in &self.regions {
            if !valid_id(&r.id) || !seen.insert(r.id.as_str()) {
                return Err(ConfigError(format!(
                    "region id {:?} must be 1 to 32 lower-case letters, digits or dashes, once",
                    r.id
                )));
            }
            if let Some(e) = &r.endpoint
                && !(e.starts_with("http://") || e.starts_with("https://"))
            {
                return Err(ConfigError(format!(
                    "region {:?}: the hub endpoint must be an http(s) URL",
                    r.id
                )));
            }
            if r.refresh_secs < 60 || r.timeout_ms == 0 {
                return Err(ConfigError(format!(
                    "region {:?}: refresh_secs must be at least 60 and timeout_ms positive",
                    r.id
                )));
            }
            if r.timezone.parse::<chrono_tz::Tz>().is_err() {
                return Err(ConfigError(format!(
                    "region {:?}: unknown time zone {:?}",
                    r.id, r.timezone
                )));
            }
            if r.max_in_flight == 0
                || r.region_max_in_flight < r.max_in_flight
                || r.across_max_calls == 0
                || r.cache_mib == 0
            {
                return Err(ConfigError(format!(
                    "region {:?}: 0 < max_in_flight ≤ region_max_in_flight, and across_max_calls and cache_mib positive",
                    r.id
                )));
            }
            if r.attempt_timeout_ms == 0
                || r.deadline_ms < r.attempt_timeout_ms
                || r.across_deadline_ms < r.deadline_ms
            {
                return Err(ConfigError(format!(
                    "region {:?}: attempt_timeout_ms ≤ deadline_ms ≤ across_deadline_ms, and positive",
                    r.id
                )));
            }
            // A region's clinic id (`<region>-<n>`) must not be a configured clinic's.
            if let Some(c) = self.clinics.iter().find(|c| {
                c.id.strip_prefix(r.id.as_str())
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|n| n.parse::<i32>().is_ok())
            }) {
                return Err(ConfigError(format!(
                    "clinic id {:?} would be a clinic of region {:?}",
                    c.id, r.id
                )));
            }
        }
        Ok(())
    }

    fn validate_clinics(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::HashSet::new();
        for c in &self.clinics {
            let id_ok = !c.id.is_empty()
                && c.id.len() <= 64
                && c.id
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
            if !id_ok {
                return Err(ConfigError(format!(
                    "clinic id {:?} must be 1 to 64 lower-case letters, digits or dashes",
                    c.id
                )));
            }
            if !seen.insert(c.id.as_str()) {
                return Err(ConfigError(format!("clinic id {:?} appears twice", c.id)));
            }
            if c.timezone.parse::<chrono_tz::Tz>().is_err() {
                return Err(ConfigError(format!(
                    "clinic {:?}: unknown time zone {:?}",
                    c.id, c.timezone
                )));
            }
            if let Some(e) = &c.mis.endpoint
                && !(e.starts_with("http://") || e.starts_with("https://"))
            {
                return Err(ConfigError(format!(
                    "clinic {:?}: the МИС endpoint must be an http(s) URL",
                    c.id
                )));
            }
        }
        for c in &self.clinics {
            c.mis.validate(&c.id)?;
            if c.mis.attempt_timeout_ms == 0 || c.mis.deadline_ms < c.mis.attempt_timeout_ms {
                return Err(ConfigError(format!(
                    "clinic {:?}: mis.deadline_ms must be at least mis.attempt_timeout_ms, and both positive",
                    c.id
                )));
            }
        }
        Ok(())
    }

    /// The listening addresses.
    fn validate_addresses(&self) -> Result<(), ConfigError> {
        for (key, addr) in [
            ("server.listen", &self.server.listen),
            ("sandbox.listen", &self.sandbox.listen),
            ("demo.listen", &self.demo.listen),
        ] {
            let ok = addr.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty()
                    && !host.contains(char::is_whitespace)
                    && port.parse::<u16>().is_ok()
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
    fn validate_server(&self) -> Result<(), ConfigError> {
        for list in [&self.server.trusted_proxies, &self.server.operator_allow] {
            crate::security::parse_networks(list).map_err(ConfigError)?;
        }
        if let Some(list) = &self.server.api_allow {
            crate::security::parse_networks(list).map_err(ConfigError)?;
        }
        crate::security::keys::ApiKeys::from_config(&self.api_keys).map_err(ConfigError)?;
        for origin in &self.server.cors_origins {
            let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
                && origin.matches('/').count() == 2;
            if !ok {
                return Err(ConfigError(format!(
                    "cors_origins: {origin:?} must be a scheme and host, like https://clinic.example"
                )));
            }
        }
        if self.server.tls_cert.is_some() != self.server.tls_key.is_some() {
            return Err(ConfigError(
                "server.tls_cert and server.tls_key go together".into(),
            ));
        }
        if let Some(key) = &self.server.session_key
            && gateway_domain::region::seal::SessionKey::from_hex(key).is_err()
        {
            return Err(ConfigError(
                "server.session_key (or REGISTRATURA_SESSION_KEY) must be 64 hexadecimal digits (openssl rand -hex 32)".into(),
            ));
        }
        if !(1..=MAX_SESSION_TTL_SECS).contains(&self.server.session_ttl_secs) {
            return Err(ConfigError(format!(
                "server.session_ttl_secs must be from 1 to {MAX_SESSION_TTL_SECS}"
            )));
        }
        Ok(())
    }

    /// The audit trail and the shared state.
    fn validate_audit_and_state(&self) -> Result<(), ConfigError> {
        if let Some(unknown) = self
            .sandbox
            .refuse_operations
            .iter()
            .find(|op| mis_hub::contract::Operation::from_name(op).is_none())
        {
            return Err(ConfigError(format!(
                "sandbox.refuse_operations: {unknown:?} is no operation of the hub contract the sandbox answers"
            )));
        }
        if self.service.log_max_mb == 0 {
            return Err(ConfigError("service.log_max_mb must be at least 1".into()));
        }
        if self.audit.path.is_some()
            && self
                .audit
                .secret
                .as_deref()
                .is_none_or(|s| s.chars().count() < 16)
        {
            return Err(ConfigError(
                "audit.path needs audit.secret (or REGISTRATURA_AUDIT_SECRET) of at least 16 characters".into(),
            ));
        }
        if let Some(url) = &self.state.redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            return Err(ConfigError(
                "state.redis_url must be a redis:// or rediss:// URL".into(),
            ));
        }
        if self.state.prefix.is_empty() || self.state.prefix.contains([' ', ':']) {
            return Err(ConfigError(
                "state.prefix must be a word without spaces or colons".into(),
            ));
        }
        if let Some(url) = &self.server.public_url {
            let ok = (url.starts_with("https://") || url.starts_with("http://"))
                && !url.contains(['?', '#', ' ']);
            if !ok {
                return Err(ConfigError(format!(
                    "server.public_url: {url:?} must be an http(s) URL without query"
                )));
            }
        }
        if !(1..=300).contains(&self.server.body_timeout_secs) {
            return Err(ConfigError(
                "server.body_timeout_secs must be from 1 to 300".into(),
            ));
        }
        if !(1..=60).contains(&self.server.head_timeout_secs) {
            return Err(ConfigError(
                "server.head_timeout_secs must be from 1 to 60".into(),
            ));
        }
        if self.server.max_in_flight == Some(0)
            || self.clinics.iter().any(|c| c.mis.max_in_flight == 0)
        {
            return Err(ConfigError(
                "server.max_in_flight and [clinics.mis] max_in_flight must be at least 1".into(),
            ));
        }
        if self.server.queue_wait_ms > 30_000 {
            return Err(ConfigError(
                "server.queue_wait_ms must be at most 30000".into(),
            ));
        }
        if self.server.backlog == 0 || self.server.max_connections == 0 {
            return Err(ConfigError(
                "server.backlog and server.max_connections must be at least 1".into(),
            ));
        }
        if self.server.identify_min_ms > 10_000 {
            return Err(ConfigError(
                "server.identify_min_ms must be at most 10000".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_annotated_example_parses() {
        let text = include_str!("../../examples/registratura.toml");
        let config = Config::parse(text).expect("the example is valid");
        config.validate().expect("and consistent");
        assert!(!config.clinics.is_empty());
    }

    /// The keys a section accepts, as its refusal of an unknown key lists them.
    fn keys_of(section: &str, prefix: &str, suffix: &str) -> Vec<String> {
        let text = format!("{prefix}\n[{section}]\nnot_a_key_of_any_section = 1\n{suffix}");
        let err = Config::parse(&text).expect_err("an unknown key is refused");
        let message = err.to_string();
        let listed = message
            .split_once(", expected ")
            .map(|(_, rest)| rest)
            .unwrap_or_else(|| panic!("the refusal lists the keys: {message}"));
        listed
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_annotated_example_shows_every_key() {
        let text = include_str!("../../examples/registratura.toml");
        let clinic = "[[clinics]]\nid = \"a\"\nname = \"A\"\naddress = \"B\"\ntimezone = \"UTC\"";
        let mis_tail = "guid = \"g\"\nid_lpu = 1";
        let sections = [
            ("server", String::new(), String::new()),
            ("rate_limit", String::new(), String::new()),
            ("state", String::new(), String::new()),
            ("sandbox", String::new(), String::new()),
            ("cache", String::new(), String::new()),
            ("audit", String::new(), String::new()),
            ("service", String::new(), String::new()),
            (
                "[regions]",
                String::new(),
                "id = \"r\"\nname = \"R\"\nguid = \"g\"".to_owned(),
            ),
            ("demo", String::new(), String::new()),
            ("[api_keys]", String::new(), String::new()),
            ("[clinics]", String::new(), String::new()),
            ("clinics.mis", clinic.to_owned(), mis_tail.to_owned()),
        ];
        let mut missing = Vec::new();
        for (section, prefix, suffix) in &sections {
            let keys = keys_of(section, prefix, suffix);
            assert!(keys.len() > 1, "{section}: {keys:?}");
            for key in keys {
                let shown = text.lines().any(|line| {
                    let line = line.trim_start_matches(['#', ' ']);
                    line.strip_prefix(key.as_str()).is_some_and(|rest| {
                        rest.trim_start().starts_with('=') || rest.starts_with(']')
                    }) || (line.starts_with('[')
                        && line
                            .split(']')
                            .next()
                            .and_then(|table| table.trim_start_matches('[').rsplit('.').next())
                            == Some(key.as_str()))
                });
                if !shown {
                    missing.push(format!("{section}.{key}"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "not in examples/registratura.toml: {missing:?}"
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        assert!(Config::parse("[server]\nlisten_on = \"x\"").is_err());
        let bad_zone = r#"
            [[clinics]]
            id = "a"
            name = "A"
            address = "B"
            timezone = "Mars/Olympus"
            mis = { guid = "g", id_lpu = 1 }
        "#;
        assert!(Config::parse(bad_zone).expect("parses").validate().is_err());
        for listen in [
            "127.0.0.1:99999",
            "127.0.0.1",
            ":8080",
            "127.0.0.1:http",
            "a b:80",
        ] {
            for section in ["server", "sandbox", "demo"] {
                let text = format!("[{section}]\nlisten = {listen:?}");
                let err = Config::parse(&text)
                    .expect("parses")
                    .validate()
                    .expect_err(listen);
                assert!(
                    err.to_string().contains(&format!("{section}.listen")),
                    "{err}"
                );
            }
        }
        for listen in ["0.0.0.0:0", "[::1]:8080", "localhost:65535"] {
            let text = format!("[server]\nlisten = {listen:?}");
            Config::parse(&text)
                .expect("parses")
                .validate()
                .expect(listen);
        }
    }

    #[test]
    fn environment_overrides_win() {
        let mut config = Config::sandbox_default();
        config
            .apply_env(|k| (k == "REGISTRATURA_LISTEN").then(|| "0.0.0.0:9000".to_owned()))
            .expect("valid");
        assert_eq!(config.server.listen, "0.0.0.0:9000");
        assert!(config.runs_sandbox());
        assert_eq!(config.effective_clinics()[0].id, "demo");
    }
}
