//! The gateway's configuration: a TOML file, environment overrides, and defaults that run
//! everything against the built-in sandbox МИС.
//!
//! Environment overrides (each wins over the file): `REGISTRATURA_LISTEN`,
//! `REGISTRATURA_SANDBOX_LISTEN`, `REGISTRATURA_SANDBOX_DATABASE`, `REGISTRATURA_SANDBOX_GUID`,
//! `REGISTRATURA_REDIS_URL`, `REGISTRATURA_REDIS_PASSWORD`,
//! `REGISTRATURA_SESSION_TTL_SECS`.
//!
//! Each section is declared and validated beside its wiring (`crate::wiring`); this module
//! reads the file, applies the overrides and asks each section to validate itself.

pub use crate::wiring::clinics::{CacheConfig, ClinicConfig, MisConfig, Protocol};
pub use crate::wiring::mail::{MailConfig, TlsMode};
pub use crate::wiring::regions::RegionConfig;
pub use crate::wiring::sandbox::SandboxSettings;
pub use crate::wiring::shell::{DemoConfig, ServerConfig, ServiceConfig};
pub use crate::wiring::state::AuditConfig;

use crate::wiring::{clinics, regions, sandbox, shell, state};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::Path;

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
    /// The relay tickets are e-mailed through (a clinic may name its own).
    #[serde(default)]
    pub mail: Option<crate::wiring::mail::MailConfig>,
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
            mail: None,
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
        if let Some(v) = var("REGISTRATURA_REDIS_PASSWORD") {
            self.state.redis_password = Some(v);
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
            None => demo.map(shell::origins_of).unwrap_or_default(),
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
            mis: MisConfig::sandbox(self.sandbox.guid.clone(), sandbox_mis::seed::LPU_ID),
            mail: None,
        }]
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        regions::validate(self)?;
        clinics::validate(self)?;
        shell::validate(self)?;
        sandbox::validate(self)?;
        crate::wiring::mail::validate(self)?;
        state::validate(self)
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
                "mail",
                String::new(),
                "host = \"h\"\nfrom = \"a@b.c\"".to_owned(),
            ),
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
