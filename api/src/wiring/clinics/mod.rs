//! The clinics a gateway serves: `[[clinics]]`, each with its МИС (the regional hub, or a
//! FHIR server), and `[cache]`, how long their reads are kept; how they are made
//! ([`start`]) and tried by `registratura check` ([`check`]).

pub mod check;
pub mod start;

use crate::config::{Config, ConfigError};
use serde::Deserialize;

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
    /// The clinic's own mail relay, instead of `[mail]`'s.
    #[serde(default)]
    pub mail: Option<crate::wiring::mail::MailConfig>,
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

fn default_read_retries() -> u32 {
    2
}

pub(crate) fn default_breaker_threshold() -> u32 {
    5
}

pub(crate) fn default_probe_interval_ms() -> u64 {
    2_000
}

pub(crate) fn default_connect_timeout_ms() -> u64 {
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
    /// The sandbox's hub, for its clinic `id_lpu`, under `guid`: every other setting its
    /// default.
    pub fn sandbox(guid: String, id_lpu: i32) -> Self {
        Self {
            protocol: Protocol::Hub,
            endpoint: None,
            guid,
            id_lpu,
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
        }
    }

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

/// Each clinic: its id (once), its zone, its МИС's endpoint and timeouts.
pub(crate) fn validate(config: &Config) -> Result<(), ConfigError> {
    let mut seen = std::collections::HashSet::new();
    for c in &config.clinics {
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
    for c in &config.clinics {
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
