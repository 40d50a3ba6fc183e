//! `registratura service …`: the gateway as a native Windows service, registered with the
//! Service Control Manager (SCM), started at boot, restarted on failure, stopped as `SIGTERM`
//! stops it. The controls it answers are mapped here by plain functions, tested on every
//! platform; the calls into Windows are in `windows.rs`. On other systems the command says
//! where to look instead (systemd).

#[cfg(windows)]
mod windows;

use crate::startup::Asked;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The service's name when `--name` is not given.
pub const DEFAULT_NAME: &str = "Registratura";

/// What `registratura service` does.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Registers the gateway with the Service Control Manager: started at boot with the
    /// `--config` given (checked first), restarted by the SCM when it fails.
    Install {
        /// The service's name (several gateways on one server need one each).
        #[arg(long, default_value = DEFAULT_NAME)]
        name: String,
    },
    /// Stops the service if it runs, and removes it.
    Uninstall {
        #[arg(long, default_value = DEFAULT_NAME)]
        name: String,
    },
    /// Starts the service, and waits until it runs.
    Start {
        #[arg(long, default_value = DEFAULT_NAME)]
        name: String,
    },
    /// Stops the service gracefully (requests and bookings in flight finish within
    /// `server.shutdown_grace_secs`), and waits until it has stopped.
    Stop {
        #[arg(long, default_value = DEFAULT_NAME)]
        name: String,
    },
    /// What the Service Control Manager starts (not for a console).
    #[command(hide = true)]
    Run {
        #[arg(long, default_value = DEFAULT_NAME)]
        name: String,
    },
}

/// Runs `command` with the configuration file `config`.
pub fn run(
    command: Command,
    config: Option<PathBuf>,
    format: crate::telemetry::LogFormat,
) -> ExitCode {
    #[cfg(windows)]
    {
        windows::run(command, config, format)
    }
    #[cfg(not(windows))]
    {
        let _ = (command, config, format);
        eprintln!("{}", not_on_this_system());
        ExitCode::from(2)
    }
}

/// What `registratura service` says on a system that is not Windows.
pub fn not_on_this_system() -> &'static str {
    "registratura service: this command installs and controls a Windows service, and this is \
     not Windows. On Linux, run the gateway under systemd with \
     examples/deploy/registratura.service (README, «Operating it»)."
}

/// A control the Service Control Manager sends the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Stop,
    /// The system shuts down.
    Shutdown,
    Preshutdown,
    /// `sc.exe control <name> paramchange`.
    ParamChange,
    /// The SCM asks for the service's state.
    Interrogate,
    /// Anything else (pause, power, session, device events).
    Other,
}

/// How the service answers a control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Handled by asking the running gateway this.
    Ask(Asked),
    /// Handled with nothing to do (the SCM reads the state last reported).
    Nothing,
    /// Not a control the service accepts.
    NotImplemented,
}

/// The answer to `control`: a Stop or a Shutdown runs the same graceful stop as `SIGTERM`;
/// "paramchange" reopens the audit trail, as `SIGHUP` does on Linux.
pub fn answer(control: Control) -> Answer {
    match control {
        Control::Stop | Control::Shutdown | Control::Preshutdown => Answer::Ask(Asked::Stop),
        Control::ParamChange => Answer::Ask(Asked::ReopenAudit),
        Control::Interrogate => Answer::Nothing,
        Control::Other => Answer::NotImplemented,
    }
}

/// How long the SCM is told a stop may take: the grace period for requests and bookings in
/// flight (twice: the server's, then the bookings'), and a margin for the rest.
pub fn stop_wait_hint(grace: Duration) -> Duration {
    grace * 2 + Duration::from_secs(5)
}

/// The command line the SCM starts the service with.
pub fn launch_arguments(config: Option<&Path>, name: &str) -> Vec<OsString> {
    let mut args = Vec::new();
    if let Some(config) = config {
        args.push("--config".into());
        args.push(config.as_os_str().to_owned());
    }
    args.extend(["service", "run", "--name", name].map(OsString::from));
    args
}

/// The service's data folder: `%ProgramData%\Registratura` (`C:\ProgramData\Registratura`
/// when the variable is missing).
pub fn data_dir(program_data: Option<OsString>) -> PathBuf {
    program_data
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from(r"C:\ProgramData"), PathBuf::from)
        .join("Registratura")
}

/// The service's log file: `service.log_file`, or `logs\registratura.log` in [`data_dir`].
pub fn log_file(configured: Option<&Path>, program_data: Option<OsString>) -> PathBuf {
    configured.map_or_else(
        || data_dir(program_data).join("logs").join("registratura.log"),
        Path::to_owned,
    )
}

/// A service name the SCM and the Event Log both accept: 1 to 80 characters, no slashes.
pub fn valid_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 80 || name.contains(['/', '\\']) {
        return Err(format!(
            "the service name {name:?} must be 1 to 80 characters, without / or \\"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_or_a_shutdown_stops_gracefully_and_paramchange_reopens_the_audit_trail() {
        for control in [Control::Stop, Control::Shutdown, Control::Preshutdown] {
            assert_eq!(answer(control), Answer::Ask(Asked::Stop), "{control:?}");
        }
        assert_eq!(
            answer(Control::ParamChange),
            Answer::Ask(Asked::ReopenAudit)
        );
        assert_eq!(answer(Control::Interrogate), Answer::Nothing);
        assert_eq!(answer(Control::Other), Answer::NotImplemented);
    }

    #[tokio::test]
    async fn what_a_control_asks_reaches_a_running_gateway_and_stops_it() {
        // The same path the service takes: a control's answer sent to `run_until_asked`.
        let mut config = crate::config::Config::sandbox_default();
        config.server.listen = "127.0.0.1:0".into();
        config.sandbox.listen = "127.0.0.1:0".into();
        config.sandbox.database = ":memory:".into();
        config.demo.enabled = false;
        let app = crate::startup::Application::build(config)
            .await
            .expect("builds");
        let base = format!("http://{}", app.addr());
        let (requests, received) = tokio::sync::mpsc::unbounded_channel();
        let running = tokio::spawn(app.run_until_asked(received));
        let client = reqwest::Client::new();
        let health = client.get(format!("{base}/healthz")).send().await;
        assert_eq!(health.expect("answers").status(), 200);
        // The queue of requests is grown only by the service manager (or signals), one message
        // a control, and read as they come: a flood of them is drained, and the stop after it
        // is still heard.
        let controls = std::iter::repeat_n(Control::ParamChange, 10_000)
            .chain([Control::Interrogate, Control::Stop]);
        for control in controls {
            if let Answer::Ask(asked) = answer(control) {
                requests.send(asked).expect("the gateway listens");
            }
        }
        running.await.expect("joined").expect("stopped cleanly");
        assert!(
            client.get(format!("{base}/healthz")).send().await.is_err(),
            "no longer listening"
        );
    }

    #[test]
    fn the_scm_is_told_a_stop_may_take_both_grace_periods() {
        assert_eq!(
            stop_wait_hint(Duration::from_secs(20)),
            Duration::from_secs(45)
        );
        assert_eq!(stop_wait_hint(Duration::ZERO), Duration::from_secs(5));
    }

    #[test]
    fn the_service_starts_with_its_config_and_name() {
        let config = Path::new(r"C:\ProgramData\Registratura\registratura.toml");
        assert_eq!(
            launch_arguments(Some(config), "Registratura-2"),
            [
                "--config",
                r"C:\ProgramData\Registratura\registratura.toml",
                "service",
                "run",
                "--name",
                "Registratura-2"
            ]
            .map(OsString::from)
        );
        assert_eq!(
            launch_arguments(None, DEFAULT_NAME),
            ["service", "run", "--name", "Registratura"].map(OsString::from)
        );
    }

    #[test]
    fn logs_go_under_program_data_unless_configured() {
        assert_eq!(
            log_file(None, Some(OsString::from(r"D:\Data"))),
            Path::new(r"D:\Data")
                .join("Registratura")
                .join("logs")
                .join("registratura.log")
        );
        assert_eq!(
            log_file(None, None),
            Path::new(r"C:\ProgramData")
                .join("Registratura")
                .join("logs")
                .join("registratura.log")
        );
        assert_eq!(
            log_file(Some(Path::new("/var/log/r.log")), None),
            Path::new("/var/log/r.log")
        );
    }

    #[test]
    fn service_names_are_checked() {
        assert!(valid_name("Registratura").is_ok());
        assert!(valid_name("").is_err());
        assert!(valid_name(r"a\b").is_err());
        assert!(valid_name(&"x".repeat(81)).is_err());
    }

    #[cfg(not(windows))]
    #[test]
    fn elsewhere_the_command_points_to_systemd() {
        assert!(not_on_this_system().contains("examples/deploy/registratura.service"));
        let code = run(
            Command::Install {
                name: DEFAULT_NAME.into(),
            },
            None,
            crate::telemetry::LogFormat::Text,
        );
        assert_eq!(code, ExitCode::from(2));
    }
}
