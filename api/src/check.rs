//! `registratura check`: what an operator runs after installing or changing the gateway, and
//! whenever patients complain. It validates the configuration, then, against each configured
//! МИС (the sandbox by default), prints one plain line per finding, in Russian and English:
//! the МИС answers and how fast, the `guid` is accepted, the clinic exists; and the cases of
//! the seed's table 1 that hide things from patients: specialties and doctors without free
//! tickets, doctors without a schedule for the next 14 days. With `--patient` it tries one
//! identification (three lines on standard input) without ever printing what was typed.
//!
//! Before the МИС, what the gateway needs beside it: the TLS certificate and key, a writable
//! audit trail, a Redis that answers. Each subsystem's check is beside its wiring
//! (`crate::wiring`); this module runs them and keeps the report.
//!
//! Exit status: 1 when the gateway cannot work (bad configuration, an unreadable certificate,
//! an audit trail that cannot be written, Redis not answering, a МИС that cannot be reached, a
//! refused `guid`, a missing clinic); data findings are warnings (0), unless
//! `--strict` (then 2).

use crate::config::Config;
use crate::wiring::clinics::check::{check_clinic, read_identity};
use crate::wiring::clinics::start::clinic_clients;
use crate::wiring::regions::check::check_region;
use crate::wiring::sandbox::start_sandbox;
use crate::wiring::{shell, state};
use std::io::{BufRead, Write};

/// What to check beyond the МИС and its data.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Warnings fail the check too.
    pub strict: bool,
    /// Try one identification, read from standard input.
    pub patient: bool,
}

/// How a finding weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Ok,
    Warn,
    Fail,
}

/// The findings so far; each subsystem's check (`crate::wiring`) writes its own.
pub(crate) struct Report<'a, W: Write> {
    out: &'a mut W,
    failures: usize,
    warnings: usize,
}

impl<W: Write> Report<'_, W> {
    pub(crate) fn line(&mut self, level: Level, clinic: &str, russian: &str, english: &str) {
        let tag = match level {
            Level::Ok => "OK  ",
            Level::Warn => {
                self.warnings += 1;
                "WARN"
            }
            Level::Fail => {
                self.failures += 1;
                "FAIL"
            }
        };
        let _ = writeln!(self.out, "{tag} {clinic}: {russian} / {english}");
    }

    /// A finding the gateway would refuse to start on: `error` is the start-up error it gives.
    pub(crate) fn wont_start(&mut self, what: &str, error: &dyn std::fmt::Display) {
        self.line(
            Level::Fail,
            what,
            &format!("гейт не запустится: {error}"),
            &format!("the gateway will not start: {error}"),
        );
    }
}

/// The exit status of a check.
pub fn exit_code(failures: usize, warnings: usize, strict: bool) -> u8 {
    if failures > 0 {
        1
    } else if strict && warnings > 0 {
        2
    } else {
        0
    }
}

/// Runs the check and returns the exit status.
pub async fn run(
    config: Result<Config, crate::config::ConfigError>,
    options: Options,
    out: &mut impl Write,
    input: &mut impl BufRead,
) -> u8 {
    let mut report = Report {
        out,
        failures: 0,
        warnings: 0,
    };
    let config = match config {
        Ok(c) => {
            report.line(
                Level::Ok,
                "config",
                "конфигурация верна",
                "the configuration is valid",
            );
            c
        }
        Err(e) => {
            report.line(
                Level::Fail,
                "config",
                &format!("ошибка в конфигурации: {e}"),
                &format!("the configuration is wrong: {e}"),
            );
            return 1;
        }
    };
    shell::check::check(&mut report, &config);
    state::check(&mut report, &config).await;
    crate::wiring::mail::check(&mut report, &config).await;
    // The check reads the sandbox's data through a server of its own, beside a gateway that
    // may be running with the configured port.
    let mut config = config;
    config.sandbox.listen = "127.0.0.1:0".into();
    let sandbox = match start_sandbox(&config, 1) {
        Ok(s) => s,
        Err(e) => {
            report.line(
                Level::Fail,
                "sandbox",
                &format!("песочница МИС не запускается: {e}"),
                &format!("the sandbox МИС cannot start: {e}"),
            );
            return 1;
        }
    };
    let sandbox_addr = sandbox.as_ref().map(|(_, addr, _)| *addr);
    let sandbox_handle = sandbox.as_ref().map(|(_, _, s)| s.handle());
    if let Some((_, _, server)) = sandbox {
        tokio::spawn(server);
    }
    let clients = match clinic_clients(&config, sandbox_addr) {
        Ok(c) => c,
        Err(e) => {
            report.line(Level::Fail, "config", &e.to_string(), &e.to_string());
            return 1;
        }
    };
    let mut identity = None;
    if options.patient {
        identity = read_identity(&mut report, input);
    }
    for (clinic, hub) in &clients {
        check_clinic(&mut report, clinic, hub.as_ref(), identity.as_ref()).await;
    }
    for region in &config.effective_regions() {
        check_region(&mut report, region, sandbox_addr).await;
    }
    if let Some(h) = sandbox_handle {
        h.stop(false).await;
    }
    let (failures, warnings) = (report.failures, report.warnings);
    let _ = writeln!(
        report.out,
        "Итог: ошибок {failures}, предупреждений {warnings} / Summary: {failures} failures, {warnings} warnings"
    );
    exit_code(failures, warnings, options.strict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_fail_and_warnings_fail_only_when_strict() {
        assert_eq!(exit_code(0, 0, true), 0);
        assert_eq!(exit_code(0, 3, false), 0);
        assert_eq!(exit_code(0, 3, true), 2);
        assert_eq!(exit_code(1, 0, false), 1);
    }
}
