//! `registratura check` of the shell: its TLS certificate and key can be read.

use crate::check::{Level, Report};
use crate::config::Config;
use std::io::Write;

/// The TLS certificate and key, where configured, can be read.
pub(crate) fn check<W: Write>(report: &mut Report<'_, W>, config: &Config) {
    if let (Some(cert), Some(key)) = (&config.server.tls_cert, &config.server.tls_key) {
        match super::tls::server_config(cert, key) {
            Ok(_) => report.line(
                Level::Ok,
                "tls",
                "сертификат и ключ TLS читаются",
                "the TLS certificate and key are readable",
            ),
            Err(e) => report.wont_start("tls", &e),
        }
    }
}
