//! The regions a gateway serves: `[[regions]]`, each a regional hub whose catalogue (districts,
//! clinics, their cards) the gateway reads and whose clinics it serves; how they are made
//! ([`start`]) and tried by `registratura check` ([`check`]).

pub mod check;
pub mod start;

use crate::config::{Config, ConfigError};
use crate::wiring::clinics::{
    default_breaker_threshold, default_connect_timeout_ms, default_probe_interval_ms,
};
use serde::Deserialize;

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

/// A region id: 1 to 32 lower-case letters, digits or dashes.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
}

/// Each region: its id (once, and no configured clinic's id of its form), its hub, its zone,
/// its bounds and its deadlines.
pub(crate) fn validate(config: &Config) -> Result<(), ConfigError> {
    let mut seen = std::collections::HashSet::new();
    for r in &config.regions {
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
        if let Some(c) = config.clinics.iter().find(|c| {
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
