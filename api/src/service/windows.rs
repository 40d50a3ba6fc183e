//! The calls into Windows: the Service Control Manager (through the `windows-service` crate),
//! the Event Log and its source's registration (through `windows-sys`).

use super::{Answer, Command, Control, answer, launch_arguments, log_file, stop_wait_hint};
use crate::config::Config;
use crate::startup::{Application, Asked, StartError};
use crate::telemetry::{self, LogFormat, rotate::RotatingFile};
use std::ffi::{OsStr, OsString};
use std::os::windows::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use windows_service::service::{
    ServiceAccess, ServiceAction, ServiceActionType, ServiceControl, ServiceControlAccept,
    ServiceErrorControl, ServiceExitCode, ServiceFailureActions, ServiceFailureResetPeriod,
    ServiceInfo, ServiceStartType, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{
    self, ServiceControlHandlerResult, ServiceStatusHandle,
};
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};
use windows_service::{define_windows_service, service_dispatcher};

/// Runs `registratura service <command>`.
pub fn run(command: Command, config: Option<PathBuf>, format: LogFormat) -> ExitCode {
    let result = match command {
        Command::Install { name } => install(&name, config.as_deref()),
        Command::Uninstall { name } => uninstall(&name),
        Command::Start { name } => start(&name),
        Command::Stop { name } => stop(&name),
        Command::Run { name } => return dispatch(name, config, format),
    };
    match result {
        Ok(said) => {
            println!("{said}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("registratura service: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What went wrong in a call to the SCM, in words (the crate's own say only "IO error").
fn describe(e: &windows_service::Error) -> String {
    match e {
        windows_service::Error::Winapi(io) if io.raw_os_error() == Some(5) => {
            "access denied (run it from an administrator's console)".to_owned()
        }
        windows_service::Error::Winapi(io) => io.to_string(),
        _ => e.to_string(),
    }
}

fn scm_error(what: &str) -> impl Fn(windows_service::Error) -> String + '_ {
    move |e| format!("{what}: {}", describe(&e))
}

fn install(name: &str, config: Option<&Path>) -> Result<String, String> {
    super::valid_name(name)?;
    // The configuration is checked now, not at the next boot.
    let config = config
        .map(|c| std::path::absolute(c).map_err(|e| format!("{}: {e}", c.display())))
        .transpose()?;
    let loaded =
        Config::load(config.as_deref()).map_err(|e| format!("the configuration is wrong: {e}"))?;
    let exe = std::env::current_exe().map_err(|e| format!("where am I: {e}"))?;
    let manager = ServiceManager::local_computer(
        None::<&str>,
        ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE,
    )
    .map_err(scm_error("cannot reach the Service Control Manager"))?;
    let info = ServiceInfo {
        name: name.into(),
        display_name: format!("{name} (Registratura, online registry gateway)").into(),
        service_type: ServiceType::OWN_PROCESS,
        start_type: ServiceStartType::AutoStart,
        error_control: ServiceErrorControl::Normal,
        executable_path: exe.clone(),
        launch_arguments: launch_arguments(config.as_deref(), name),
        dependencies: Vec::new(),
        account_name: None,
        account_password: None,
    };
    let service = manager
        .create_service(
            &info,
            ServiceAccess::CHANGE_CONFIG | ServiceAccess::QUERY_STATUS,
        )
        .map_err(scm_error("cannot create the service"))?;
    let _ = service.set_description(
        "Online booking of tickets to the clinic's doctors: the gateway between patients and the clinic's МИС.",
    );
    // Restarted by the SCM when it fails: at once, then after 10 s, then every minute; the
    // count starts again after a day without failure.
    let restart = |secs| ServiceAction {
        action_type: ServiceActionType::Restart,
        delay: Duration::from_secs(secs),
    };
    let recovery = service
        .update_failure_actions(ServiceFailureActions {
            reset_period: ServiceFailureResetPeriod::After(Duration::from_secs(24 * 3600)),
            reboot_msg: None,
            command: None,
            actions: Some(vec![restart(1), restart(10), restart(60)]),
        })
        .and_then(|()| service.set_failure_actions_on_non_crash_failures(true));
    // The service is installed either way; without recovery actions, say how to set them.
    let recovery = match recovery {
        Ok(()) => {
            "recovery: restarted after 1 s, 10 s, then every 60 s (the count resets after a day)"
                .to_owned()
        }
        Err(e) => format!(
            "recovery actions NOT set ({}): set them with \
             sc.exe failure {name} reset= 86400 actions= restart/1000/restart/10000/restart/60000",
            describe(&e)
        ),
    };
    let source = match event_log::register(name) {
        Ok(()) => format!("Event Log source «{name}» registered (Application log)"),
        Err(e) => {
            format!("Event Log source not registered ({e}): its entries show without a description")
        }
    };
    Ok(format!(
        "service «{name}» installed: starts at boot\n\
         program: {}\nconfiguration: {}\nlog: {}\n{recovery}\n{source}\nstart it: registratura service start --name {name}",
        exe.display(),
        config.as_deref().map_or_else(
            || "none (the built-in sandbox МИС)".to_owned(),
            |c| c.display().to_string()
        ),
        log_file(
            loaded.service.log_file.as_deref(),
            std::env::var_os("ProgramData")
        )
        .display(),
    ))
}

fn open(name: &str, access: ServiceAccess) -> Result<windows_service::service::Service, String> {
    super::valid_name(name)?;
    let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)
        .map_err(scm_error("cannot reach the Service Control Manager"))?;
    manager
        .open_service(name, access)
        .map_err(scm_error(&format!("no service «{name}»")))
}

/// Waits until the service reaches `state`, up to `within`.
fn wait_for(
    service: &windows_service::service::Service,
    state: ServiceState,
    within: Duration,
) -> Result<(), String> {
    let started = Instant::now();
    loop {
        let now = service
            .query_status()
            .map_err(scm_error("cannot read its state"))?;
        if now.current_state == state {
            return Ok(());
        }
        if now.current_state == ServiceState::Stopped && state == ServiceState::Running {
            return Err(format!(
                "it stopped ({:?}): see the Event Log and the log file",
                now.exit_code
            ));
        }
        if started.elapsed() > within {
            return Err(format!(
                "still {:?} after {} s",
                now.current_state,
                within.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn start(name: &str) -> Result<String, String> {
    let service = open(name, ServiceAccess::START | ServiceAccess::QUERY_STATUS)?;
    service
        .start::<&OsStr>(&[])
        .map_err(scm_error("cannot start it"))?;
    wait_for(&service, ServiceState::Running, Duration::from_secs(60))?;
    Ok(format!("service «{name}» running"))
}

/// Asks the service to stop, and waits as long as it said its graceful stop may take.
fn stop_and_wait(service: &windows_service::service::Service) -> Result<(), String> {
    let status = service.stop().map_err(scm_error("cannot stop it"))?;
    wait_for(
        service,
        ServiceState::Stopped,
        status.wait_hint + Duration::from_secs(10),
    )
}

fn stop(name: &str) -> Result<String, String> {
    let service = open(name, ServiceAccess::STOP | ServiceAccess::QUERY_STATUS)?;
    stop_and_wait(&service)?;
    Ok(format!(
        "service «{name}» stopped (requests and bookings in flight finished)"
    ))
}

fn uninstall(name: &str) -> Result<String, String> {
    let service = open(
        name,
        ServiceAccess::STOP | ServiceAccess::QUERY_STATUS | ServiceAccess::DELETE,
    )?;
    let mut said = Vec::new();
    let state = service
        .query_status()
        .map_err(scm_error("cannot read its state"))?;
    if state.current_state != ServiceState::Stopped {
        stop_and_wait(&service)?;
        said.push(format!("service «{name}» stopped"));
    }
    service.delete().map_err(scm_error("cannot remove it"))?;
    let _ = event_log::unregister(name);
    said.push(format!(
        "service «{name}» removed (its log and audit trail are kept)"
    ));
    Ok(said.join("\n"))
}

/// The service's name, configuration file and log format, for the SCM's callback.
static SERVICE: OnceLock<(String, Option<PathBuf>, LogFormat)> = OnceLock::new();

define_windows_service!(ffi_service_main, service_main);

/// Hands the process to the SCM, which calls [`service_main`].
fn dispatch(name: String, config: Option<PathBuf>, format: LogFormat) -> ExitCode {
    let _ = SERVICE.set((name.clone(), config, format));
    match service_dispatcher::start(&name, ffi_service_main) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "registratura service run: {e}. This is what the Service Control Manager starts; \
                 from a console, run `registratura serve`."
            );
            ExitCode::FAILURE
        }
    }
}

fn control_of(control: &ServiceControl) -> Control {
    match control {
        ServiceControl::Stop => Control::Stop,
        ServiceControl::Shutdown => Control::Shutdown,
        ServiceControl::Preshutdown => Control::Preshutdown,
        ServiceControl::ParamChange => Control::ParamChange,
        ServiceControl::Interrogate => Control::Interrogate,
        _ => Control::Other,
    }
}

fn status(state: ServiceState, exit: ServiceExitCode, wait_hint: Duration) -> ServiceStatus {
    ServiceStatus {
        service_type: ServiceType::OWN_PROCESS,
        current_state: state,
        controls_accepted: if state == ServiceState::Running {
            ServiceControlAccept::STOP
                | ServiceControlAccept::SHUTDOWN
                | ServiceControlAccept::PARAM_CHANGE
        } else {
            ServiceControlAccept::empty()
        },
        exit_code: exit,
        checkpoint: 0,
        wait_hint,
        process_id: None,
    }
}

fn service_main(_arguments: Vec<OsString>) {
    let Some((name, config, format)) = SERVICE.get() else {
        return;
    };
    let (controls, asked) = tokio::sync::mpsc::unbounded_channel();
    let handler = move |control: ServiceControl| match answer(control_of(&control)) {
        Answer::Ask(a) => {
            let _ = controls.send(a);
            ServiceControlHandlerResult::NoError
        }
        Answer::Nothing => ServiceControlHandlerResult::NoError,
        Answer::NotImplemented => ServiceControlHandlerResult::NotImplemented,
    };
    let handle = match service_control_handler::register(name, handler) {
        Ok(h) => h,
        Err(e) => {
            event_log::write(
                name,
                event_log::Kind::Error,
                &format!("cannot register with the SCM: {e}"),
            );
            return;
        }
    };
    let report = |state, exit, hint| {
        let _ = handle.set_service_status(status(state, exit, hint));
    };
    report(
        ServiceState::StartPending,
        ServiceExitCode::Win32(0),
        Duration::from_secs(30),
    );
    let outcome = serve(name, config.as_deref(), *format, handle, asked);
    match &outcome {
        Ok(()) => event_log::write(name, event_log::Kind::Information, "stopped"),
        Err(e) => event_log::write(name, event_log::Kind::Error, &format!("stopped: {e}")),
    }
    let exit = match outcome {
        Ok(()) => ServiceExitCode::Win32(0),
        // A failure the SCM's recovery actions answer (a restart).
        Err(_) => ServiceExitCode::ServiceSpecific(1),
    };
    report(ServiceState::Stopped, exit, Duration::ZERO);
}

/// Runs the gateway until a Stop or Shutdown control, with its log in a file rotated by size.
fn serve(
    name: &str,
    config: Option<&Path>,
    format: LogFormat,
    handle: ServiceStatusHandle,
    mut controls: tokio::sync::mpsc::UnboundedReceiver<Asked>,
) -> Result<(), String> {
    let config = Config::load(config).map_err(|e| format!("the configuration is wrong: {e}"))?;
    let path = log_file(
        config.service.log_file.as_deref(),
        std::env::var_os("ProgramData"),
    );
    let file = RotatingFile::open(
        &path,
        config.service.log_max_mb.saturating_mul(1024 * 1024),
        config.service.log_keep,
    )
    .map_err(|e| format!("cannot open the log file {}: {e}", path.display()))?;
    let logging = telemetry::init_to_file("info", format, file);
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    let result = actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config).await?;
        let addr = app.addr();
        let (asked, received) = tokio::sync::mpsc::unbounded_channel();
        // Controls pass through here, so that the SCM hears at once that a stop has begun
        // and how long it may take.
        tokio::spawn(async move {
            while let Some(a) = controls.recv().await {
                if a == Asked::Stop {
                    let _ = handle.set_service_status(status(
                        ServiceState::StopPending,
                        ServiceExitCode::Win32(0),
                        stop_wait_hint(grace),
                    ));
                }
                if asked.send(a).is_err() {
                    return;
                }
            }
        });
        let _ = handle.set_service_status(status(
            ServiceState::Running,
            ServiceExitCode::Win32(0),
            Duration::ZERO,
        ));
        tracing::info!(service = name, "running as a Windows service");
        event_log::write(
            name,
            event_log::Kind::Information,
            &format!(
                "started: listening on http://{addr}; log: {}",
                path.display()
            ),
        );
        app.run_until_asked(received).await
    });
    drop(logging);
    result.map_err(|e: StartError| e.to_string())
}

// The only unsafe code of the workspace: three Win32 calls with NUL-terminated strings.
#[allow(unsafe_code)]
mod event_log {
    //! Entries in the Windows Event Log (the Application log), under a source named as the
    //! service. The source is registered at install with .NET's generic message file, so that
    //! the Event Viewer shows each entry's text as written.

    use super::wide;
    use windows_sys::Win32::Foundation::ERROR_SUCCESS;
    use windows_sys::Win32::System::EventLog::{
        DeregisterEventSource, EVENTLOG_ERROR_TYPE, EVENTLOG_INFORMATION_TYPE,
        RegisterEventSourceW, ReportEventW,
    };
    use windows_sys::Win32::System::Registry::{
        HKEY, HKEY_LOCAL_MACHINE, KEY_WRITE, REG_DWORD, REG_EXPAND_SZ, REG_OPTION_NON_VOLATILE,
        RegCloseKey, RegCreateKeyExW, RegDeleteTreeW, RegSetValueExW,
    };

    pub enum Kind {
        Information,
        Error,
    }

    fn key_of(name: &str) -> Vec<u16> {
        wide(&format!(
            r"SYSTEM\CurrentControlSet\Services\EventLog\Application\{name}"
        ))
    }

    /// Writes one entry; a log that cannot be written is not the service's failure.
    pub fn write(name: &str, kind: Kind, text: &str) {
        let source = wide(name);
        let text = wide(text);
        let strings = [text.as_ptr()];
        // SAFETY: the strings are NUL-terminated UTF-16 that outlive the calls; the handle is
        // checked and released.
        unsafe {
            let log = RegisterEventSourceW(std::ptr::null(), source.as_ptr());
            if log.is_null() {
                return;
            }
            let kind = match kind {
                Kind::Information => EVENTLOG_INFORMATION_TYPE,
                Kind::Error => EVENTLOG_ERROR_TYPE,
            };
            ReportEventW(
                log,
                kind,
                0,
                1,
                std::ptr::null_mut(),
                1,
                0,
                strings.as_ptr(),
                std::ptr::null(),
            );
            DeregisterEventSource(log);
        }
    }

    /// Registers the source (administrators only, as the install is).
    pub fn register(name: &str) -> Result<(), String> {
        let key = key_of(name);
        let mut handle: HKEY = std::ptr::null_mut();
        // SAFETY: the key name is NUL-terminated UTF-16; `handle` is written by the call and
        // closed below; the values' data are of the sizes given.
        unsafe {
            let created = RegCreateKeyExW(
                HKEY_LOCAL_MACHINE,
                key.as_ptr(),
                0,
                std::ptr::null(),
                REG_OPTION_NON_VOLATILE,
                KEY_WRITE,
                std::ptr::null(),
                &mut handle,
                std::ptr::null_mut(),
            );
            if created != ERROR_SUCCESS {
                return Err(format!("error {created}"));
            }
            let file =
                wide(r"%SystemRoot%\Microsoft.NET\Framework64\v4.0.30319\EventLogMessages.dll");
            let types: u32 = 7;
            let set = [
                RegSetValueExW(
                    handle,
                    wide("EventMessageFile").as_ptr(),
                    0,
                    REG_EXPAND_SZ,
                    file.as_ptr().cast(),
                    (file.len() * 2) as u32,
                ),
                RegSetValueExW(
                    handle,
                    wide("TypesSupported").as_ptr(),
                    0,
                    REG_DWORD,
                    (&raw const types).cast(),
                    4,
                ),
            ];
            RegCloseKey(handle);
            match set.iter().find(|r| **r != ERROR_SUCCESS) {
                Some(e) => Err(format!("error {e}")),
                None => Ok(()),
            }
        }
    }

    pub fn unregister(name: &str) -> Result<(), String> {
        let key = key_of(name);
        // SAFETY: a NUL-terminated UTF-16 key name under a predefined key.
        let deleted = unsafe { RegDeleteTreeW(HKEY_LOCAL_MACHINE, key.as_ptr()) };
        if deleted == ERROR_SUCCESS {
            Ok(())
        } else {
            Err(format!("error {deleted}"))
        }
    }
}

/// `text` as NUL-terminated UTF-16.
fn wide(text: &str) -> Vec<u16> {
    OsStr::new(text).encode_wide().chain([0]).collect()
}
