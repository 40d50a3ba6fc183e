//! What the gateway keeps: `[state]` (the state gateways share: in this process, or in
//! Redis; `gateway_state::StateConfig`) and `[audit]` (the trail of bookings and
//! cancellations); the domain made with them ([`gateway_of`]); and their check (Redis
//! answers, the trail can be written).

use crate::check::{Level, Report};
use crate::config::{Config, ConfigError};
use crate::startup::StartError;
use gateway_domain::audit::Audit;
use gateway_domain::region::RegionClinics;
use gateway_domain::region::seal::SessionKey;
use gateway_domain::shared::Shared;
use gateway_domain::{ClinicEntry, Gateway};
use serde::Deserialize;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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

/// The audit trail (a path needs a secret) and the shared state (a Redis URL, a prefix).
pub(crate) fn validate(config: &Config) -> Result<(), ConfigError> {
    if config.audit.path.is_some()
        && config
            .audit
            .secret
            .as_deref()
            .is_none_or(|s| s.chars().count() < 16)
    {
        return Err(ConfigError(
            "audit.path needs audit.secret (or REGISTRATURA_AUDIT_SECRET) of at least 16 characters".into(),
        ));
    }
    if let Some(url) = &config.state.redis_url
        && !(url.starts_with("redis://") || url.starts_with("rediss://"))
    {
        return Err(ConfigError(
            "state.redis_url must be a redis:// or rediss:// URL".into(),
        ));
    }
    if config.state.redis_url.is_some() && !config.state.redis_sentinels.is_empty() {
        return Err(ConfigError(
            "state: write redis_url or redis_sentinels, not both".into(),
        ));
    }
    for s in &config.state.redis_sentinels {
        gateway_state::redis::sentinel::address(s, config.state.redis_tls)
            .map_err(|e| ConfigError(format!("state.redis_sentinels: {e}")))?;
    }
    if config.state.redis_master.trim().is_empty() {
        return Err(ConfigError(
            "state.redis_master must name the primary".into(),
        ));
    }
    if config.state.prefix.is_empty() || config.state.prefix.contains([' ', ':']) {
        return Err(ConfigError(
            "state.prefix must be a word without spaces or colons".into(),
        ));
    }
    Ok(())
}

/// The shared state of `config` (in memory, or in Redis), with each API key's limits.
pub async fn shared_state(config: &Config) -> Result<Shared, StartError> {
    let key_limits: Vec<gateway_domain::limits::KeyLimits> =
        config.api_keys.iter().map(|k| k.limits.clone()).collect();
    let key_names: Vec<String> = config.api_keys.iter().map(|k| k.name.clone()).collect();
    gateway_state::build(
        &config.state,
        Duration::from_secs(config.server.session_ttl_secs),
        &config.rate_limit,
        &key_limits,
        &key_names,
    )
    .await
    .map_err(|e| StartError::Config(e.to_string()))
}

/// The domain of `config`: its clinics, its shared state, its audit trail.
pub(crate) fn gateway_of(
    config: &Config,
    clinics: Vec<ClinicEntry>,
    regions: Vec<Arc<RegionClinics>>,
    shared: Shared,
) -> Result<Gateway, StartError> {
    let mut gateway = Gateway::new(clinics, shared);
    gateway.identify_min = Duration::from_millis(config.server.identify_min_ms);
    gateway.session_ttl = Duration::from_secs(config.server.session_ttl_secs);
    if let Some(key) = &config.server.session_key {
        gateway.session_key = Some(
            SessionKey::from_hex(key)
                .map_err(|e| StartError::Config(format!("server.session_key: {e}")))?,
        );
    } else if !regions.is_empty() && config.state.shared() {
        tracing::warn!(
            "regions are served with shared state but no server.session_key: a region session opened on one gateway will not open on another; set the same key on every gateway"
        );
    }
    gateway.regions = regions;
    gateway.mail = crate::wiring::mail::mail_of(config)?;
    if let Some(path) = &config.audit.path {
        let secret = config.audit.secret.as_deref().unwrap_or_default();
        let audit = Audit::open(path, secret).map_err(|e| audit_error(path, &e))?;
        tracing::info!(path = %path.display(), "audit trail of bookings and cancellations");
        gateway.audit = Some(Arc::new(audit));
    }
    Ok(gateway)
}

/// Why the audit trail at `path` cannot be opened, as a start-up error.
pub fn audit_error(path: &std::path::Path, e: &std::io::Error) -> StartError {
    StartError::Config(format!(
        "cannot open the audit trail {}: {e}",
        path.display()
    ))
}

/// `registratura check` of what the gateway keeps: the audit trail can be written, Redis
/// answers.
pub(crate) async fn check<W: Write>(report: &mut Report<'_, W>, config: &Config) {
    if let Some(path) = &config.audit.path {
        match gateway_domain::audit::probe(path) {
            Ok(()) => report.line(
                Level::Ok,
                "audit",
                &format!("журнал аудита {} доступен для записи", path.display()),
                &format!("the audit trail {} can be written", path.display()),
            ),
            Err(e) => report.wont_start("audit", &audit_error(path, &e)),
        }
    }
    if !config.state.redis_sentinels.is_empty() {
        let settings = config.state.sentinel_settings();
        let found = gateway_state::redis::sentinel::topology(&settings).await;
        let total = settings.sentinels.len();
        let level = if found.sentinels_answering * 2 > total {
            Level::Ok
        } else {
            Level::Fail
        };
        report.line(
            level,
            "sentinel",
            &format!(
                "отвечают {} из {total} Sentinel; основной узел «{}»: {}; реплики: {}",
                found.sentinels_answering,
                settings.master,
                found.primary.as_deref().unwrap_or("не назван"),
                if found.replicas.is_empty() {
                    "нет".to_owned()
                } else {
                    found.replicas.join(", ")
                }
            ),
            &format!(
                "{} of {total} sentinels answer; the primary of {:?}: {}; replicas: {}",
                found.sentinels_answering,
                settings.master,
                found.primary.as_deref().unwrap_or("none named"),
                if found.replicas.is_empty() {
                    "none".to_owned()
                } else {
                    found.replicas.join(", ")
                }
            ),
        );
    }
    if config.state.shared() {
        let answer = match shared_state(config).await {
            Ok(shared) => shared.health.check().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match answer {
            Ok(()) => report.line(Level::Ok, "redis", "Redis отвечает", "Redis answers"),
            Err(e) => report.line(
                Level::Fail,
                "redis",
                &format!("Redis не отвечает ({e}): вход пациентов и запись будут отклоняться"),
                &format!("Redis does not answer ({e}): identification and booking will be refused"),
            ),
        }
    }
}
