//! `[mail]`: the relay the clinics' tickets are e-mailed through (a clinic may name its own:
//! `[[clinics]] mail = { … }`), how `startup` makes the relays and how `check` tries them.
//!
//! Without `[mail]` no ticket is e-mailed (`501 not_supported`), but in the sandbox demo
//! (`cargo run` with no configuration), whose messages go to a local outbox of `.eml` files:
//! `[sandbox] outbox` (`registratura-outbox/`).

use crate::check::{Level, Report};
use crate::config::{Config, ConfigError};
use crate::startup::StartError;
use gateway_domain::mail::{Mail, Mailer};
use gateway_state::keep::Moka;
use serde::Deserialize;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// `STARTTLS`, which the relay must offer (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// None: a relay on the same host or network only.
    None,
}

/// A mail relay.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    pub host: String,
    /// 587 for `starttls`, 465 for `tls`, 25 for `none` unless written.
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: TlsMode,
    /// The gateway's login at the relay (with `password` or `password_file`).
    pub user: Option<String>,
    pub password: Option<String>,
    /// A file holding the password (its first line), kept out of the configuration.
    pub password_file: Option<PathBuf>,
    /// The sender: `Поликлиника № 1 <noreply@clinic.example>`.
    pub from: String,
    pub reply_to: Option<String>,
    /// Certificates (PEM) to trust beside the public roots, for a relay under a private CA.
    pub ca_file: Option<PathBuf>,
    /// The longest a message may take to be taken by the relay, from the connection to its
    /// last answer (default 10 s).
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_timeout() -> u64 {
    10
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl MailConfig {
    /// The relay's settings, its password read.
    fn settings(&self, section: &str) -> Result<mail::Settings, ConfigError> {
        let password = match (&self.password, &self.password_file) {
            (Some(_), Some(_)) => {
                return Err(ConfigError(format!(
                    "{section}: write password or password_file, not both"
                )));
            }
            (Some(p), None) => Some(p.clone()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| {
                        ConfigError(format!("{section}.password_file {}: {e}", path.display()))
                    })?
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            ),
            (None, None) => None,
        };
        let login = match (&self.user, password) {
            (Some(user), Some(password)) => Some((user.clone(), password)),
            (None, None) => None,
            _ => {
                return Err(ConfigError(format!(
                    "{section}: a login needs both user and a password"
                )));
            }
        };
        let ca_pem =
            match &self.ca_file {
                Some(path) => Some(std::fs::read(path).map_err(|e| {
                    ConfigError(format!("{section}.ca_file {}: {e}", path.display()))
                })?),
                None => None,
            };
        let (security, port) = match self.tls {
            TlsMode::Starttls => (mail::Security::StartTls, 587),
            TlsMode::Tls => (mail::Security::Tls, 465),
            TlsMode::None => (mail::Security::None, 25),
        };
        if self.timeout_secs == 0 || self.timeout_secs > 120 {
            return Err(ConfigError(format!(
                "{section}.timeout_secs must be 1 to 120"
            )));
        }
        Ok(mail::Settings {
            host: self.host.clone(),
            port: self.port.unwrap_or(port),
            security,
            login,
            from: self.from.clone(),
            reply_to: self.reply_to.clone(),
            ca_pem,
            timeout: Duration::from_secs(self.timeout_secs),
        })
    }

    fn relay(&self, section: &str) -> Result<mail::Relay, ConfigError> {
        mail::Relay::new(&self.settings(section)?)
            .map_err(|e| ConfigError(format!("{section}: {e}")))
    }
}

/// Each relay configured, with the section it is written in.
fn relays(config: &Config) -> Vec<(String, Option<String>, &MailConfig)> {
    let mut all = Vec::new();
    if let Some(m) = &config.mail {
        all.push(("mail".to_owned(), None, m));
    }
    for c in &config.clinics {
        if let Some(m) = &c.mail {
            all.push((format!("clinics.{}.mail", c.id), Some(c.id.clone()), m));
        }
    }
    all
}

/// Every relay's settings can be used (its files read, its addresses parse).
pub(crate) fn validate(config: &Config) -> Result<(), ConfigError> {
    for (section, _, m) in relays(config) {
        m.relay(&section)?;
    }
    Ok(())
}

/// The relays of `config`: `[mail]` for every clinic, a clinic's own where it has one, and
/// the sandbox's outbox in the demo.
pub(crate) fn mail_of(config: &Config) -> Result<Mail, StartError> {
    let mut default: Option<Arc<dyn Mailer>> = None;
    let mut clinics: HashMap<String, Arc<dyn Mailer>> = HashMap::new();
    for (section, clinic, m) in relays(config) {
        let relay = m
            .relay(&section)
            .map_err(|e| StartError::Config(e.to_string()))?;
        tracing::info!(section = %section, host = %m.host, "tickets are e-mailed through a relay");
        match clinic {
            Some(id) => {
                clinics.insert(id, Arc::new(relay));
            }
            None => default = Some(Arc::new(relay)),
        }
    }
    if default.is_none() && config.is_sandbox_default() {
        let dir = config.sandbox.outbox.clone();
        tracing::info!(outbox = %dir.display(), "the sandbox's e-mailed tickets are written to its outbox");
        default = Some(Arc::new(mail::Outbox::new(dir)));
    }
    let deadline = relays(config)
        .iter()
        .map(|(_, _, m)| m.timeout_secs)
        .max()
        .unwrap_or(default_timeout());
    // Each relay bounds its own messages; this is the domain's backstop.
    Ok(Mail::new(
        &Moka,
        default,
        clinics,
        Duration::from_secs(deadline) + Duration::from_secs(5),
    ))
}

/// `registratura check` of each relay: it connects, says EHLO, secures the connection and
/// logs in, and sends nothing.
pub(crate) async fn check<W: Write>(report: &mut Report<'_, W>, config: &Config) {
    for (section, _, m) in relays(config) {
        let relay = match m.relay(&section) {
            Ok(relay) => relay,
            Err(e) => {
                report.line(Level::Fail, "mail", &e.to_string(), &e.to_string());
                continue;
            }
        };
        match relay.check().await {
            Ok(()) => report.line(
                Level::Ok,
                "mail",
                &format!("{section}: почтовый сервер {} принимает вход", m.host),
                &format!("{section}: the mail relay {} accepts the login", m.host),
            ),
            Err(e) => report.line(
                Level::Fail,
                "mail",
                &format!(
                    "{section}: почтовый сервер {} — {e}: талоны не будут отправляться на почту",
                    m.host
                ),
                &format!(
                    "{section}: the mail relay {} — {e}: tickets will not be e-mailed",
                    m.host
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sandbox_demo_writes_to_its_outbox_and_a_real_clinic_needs_a_relay() {
        let demo = Config::sandbox_default();
        assert!(mail_of(&demo).expect("made").relay("demo").is_some());
        let text = r#"
            [[clinics]]
            id = "gp1"
            name = "A"
            address = "B"
            timezone = "Europe/Moscow"
            mis = { guid = "g", id_lpu = 1 }
            [[clinics]]
            id = "gp2"
            name = "A"
            address = "B"
            timezone = "Europe/Moscow"
            mis = { guid = "g", id_lpu = 2 }
            mail = { host = "smtp.gp2.example", from = "noreply@gp2.example" }
        "#;
        let config = Config::parse(text).expect("parses");
        config.validate().expect("valid");
        let mail = mail_of(&config).expect("made");
        assert!(mail.relay("gp1").is_none(), "no [mail]: not e-mailed");
        assert!(mail.relay("gp2").is_some(), "its own relay");
    }

    #[test]
    fn a_relay_s_settings_are_checked() {
        let base = "[mail]\nhost = \"h\"\nfrom = \"noreply@clinic.example\"\n";
        for (extra, what) in [
            ("user = \"u\"\n", "a login needs both"),
            ("password = \"p\"\npassword_file = \"/x\"\n", "not both"),
            ("timeout_secs = 0\n", "timeout_secs"),
            (
                "password_file = \"/nonexistent/secret\"\nuser = \"u\"\n",
                "password_file",
            ),
        ] {
            let config = Config::parse(&format!("{base}{extra}")).expect("parses");
            let err = config.validate().expect_err(extra).to_string();
            assert!(err.contains(what), "{extra}: {err}");
        }
        let config =
            Config::parse("[mail]\nhost = \"h\"\nfrom = \"not an address\"\n").expect("parses");
        assert!(config.validate().is_err());
    }
}
