//! The clinic's SMTP relay: one connection per message (`STARTTLS` or TLS from the first byte,
//! the gateway's login), within the configured timeout.

use crate::letter;
use gateway_domain::mail::{Letter, MailError, Mailer};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain at first, then `STARTTLS`, which the relay must offer (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// None: for a relay on the same host or network only.
    None,
}

/// What a relay is reached with.
#[derive(Clone)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// The login, with its password.
    pub login: Option<(String, String)>,
    /// The sender (`Поликлиника № 1 <noreply@clinic.example>`).
    pub from: String,
    pub reply_to: Option<String>,
    /// Certificates (PEM) to trust beside the public roots: a relay under a private CA.
    pub ca_pem: Option<Vec<u8>>,
    /// The longest a message may take to be taken, all steps included.
    pub timeout: Duration,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("login", &self.login.as_ref().map(|(user, _)| user))
            .finish_non_exhaustive()
    }
}

/// Why a relay's settings cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadSettings(pub String);

/// A clinic's SMTP relay.
#[derive(Debug, Clone)]
pub struct Relay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    /// The longest a message (or a check) may take, all steps included.
    timeout: Duration,
}

impl Relay {
    /// The relay of `settings`, checked (nothing is connected yet).
    pub fn new(settings: &Settings) -> Result<Self, BadSettings> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| BadSettings(format!("from: {e}")))?;
        let reply_to = match &settings.reply_to {
            Some(r) => Some(
                r.parse()
                    .map_err(|e| BadSettings(format!("reply_to: {e}")))?,
            ),
            None => None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .timeout(Some(settings.timeout));
        if settings.security != Security::None {
            let mut tls = TlsParameters::builder(settings.host.clone());
            if let Some(pem) = &settings.ca_pem {
                for cert in pem_certificates(pem) {
                    let cert = Certificate::from_pem(cert.as_bytes())
                        .map_err(|e| BadSettings(format!("ca_file: {e}")))?;
                    tls = tls.add_root_certificate(cert);
                }
            }
            let tls = tls
                .build_rustls()
                .map_err(|e| BadSettings(format!("tls: {e}")))?;
            builder = builder.tls(match settings.security {
                Security::StartTls => Tls::Required(tls),
                _ => Tls::Wrapper(tls),
            });
        }
        if let Some((user, password)) = &settings.login {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            from,
            reply_to,
            timeout: settings.timeout,
        })
    }

    /// Connects, says EHLO, secures the connection and logs in as a message would, and sends
    /// nothing (`registratura check`).
    pub async fn check(&self) -> Result<(), MailError> {
        match tokio::time::timeout(self.timeout, self.transport.test_connection()).await {
            Err(_) => Err(MailError::Timeout),
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(MailError::Failed("the relay closed the connection".into())),
            Ok(Err(e)) => Err(failure(&e, None)),
        }
    }
}

/// Each certificate of a PEM bundle, as its own PEM.
fn pem_certificates(pem: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(pem);
    let end = "-----END CERTIFICATE-----";
    text.split_inclusive(end)
        .filter(|c| c.contains("-----BEGIN CERTIFICATE-----"))
        .map(|c| c.trim().to_owned())
        .collect()
}

/// A relay's error as the domain's, with the recipient's address never in its text (a relay's
/// answer may quote it).
fn failure(e: &lettre::transport::smtp::Error, to: Option<&str>) -> MailError {
    let mut text = e.to_string();
    if let Some(to) = to {
        text = scrub(&text, to);
    }
    if e.is_timeout() {
        MailError::Timeout
    } else if e.is_permanent() || e.is_transient() {
        MailError::Refused(text)
    } else {
        MailError::Failed(text)
    }
}

/// `text` with every spelling of `address` (and of its local part, which a relay may quote
/// alone) replaced, whatever its case. The address is ASCII ([`Address`]), so a match starts
/// and ends on a character's boundary.
///
/// [`Address`]: gateway_domain::mail::Address
pub(crate) fn scrub(text: &str, address: &str) -> String {
    let local = address.split('@').next().unwrap_or(address);
    let mut out = text.to_owned();
    for needle in [address, local] {
        let needle = needle.as_bytes();
        if needle.len() < 3 || !needle.is_ascii() {
            continue;
        }
        let bytes = out.as_bytes();
        let mut result = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes.len() - i >= needle.len()
                && bytes[i..i + needle.len()].eq_ignore_ascii_case(needle)
            {
                result.extend_from_slice(b"<recipient>");
                i += needle.len();
            } else {
                result.push(bytes[i]);
                i += 1;
            }
        }
        out = String::from_utf8(result).unwrap_or_default();
    }
    out
}

#[async_trait::async_trait]
impl Mailer for Relay {
    async fn send(&self, letter: &Letter) -> Result<(), MailError> {
        let message = letter::message(
            letter,
            (&self.from, self.reply_to.as_ref()),
            chrono::Utc::now(),
        )
        .map_err(|e| MailError::Failed(e.to_string()))?;
        // The library's timeout bounds each step but the relay's greeting: the whole message
        // is bounded here.
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Err(_) => Err(MailError::Timeout),
            Ok(sent) => sent
                .map(|_| ())
                .map_err(|e| failure(&e, Some(letter.to.as_str()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_relay_answer_carries_the_address() {
        assert_eq!(scrub("İ ivan@x.ru İ", "ivan@x.ru"), "İ <recipient> İ");
        let text =
            "permanent error (550): 5.1.1 <Ivan.Petrov@Example.ru>: no such user ivan.petrov";
        let out = scrub(text, "ivan.petrov@example.ru");
        assert!(!out.to_lowercase().contains("ivan"), "{out}");
        assert!(out.contains("no such user"));
    }

    #[test]
    fn a_bundle_gives_each_certificate() {
        let one = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
        let bundle = format!("{one}\n{one}\n");
        assert_eq!(pem_certificates(bundle.as_bytes()), vec![one, one]);
    }
}
