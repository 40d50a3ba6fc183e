//! `[sandbox]`: the built-in sandbox МИС, which runs when nothing real is configured (or when
//! asked): its settings, and starting it beside the gateway.

use crate::config::{Config, ConfigError};
use crate::startup::StartError;
use crate::wiring::shell::start::bind;
use actix_web::dev::Server;
use actix_web::{App, HttpServer};
use sandbox_mis::{Sandbox, SandboxConfig};
use serde::Deserialize;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

/// The sandbox МИС's running server: the sandbox, its address and its server.
pub type RunningSandbox = (Sandbox, SocketAddr, Server);

/// The built-in sandbox МИС.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxSettings {
    /// Start it even when clinics are configured (it always starts when none are).
    pub enabled: bool,
    pub listen: String,
    pub database: PathBuf,
    pub guid: String,
    /// Added to every answer, milliseconds: to try the gateway against a slow МИС.
    pub latency_ms: u64,
    /// How long the sandbox region's slow clinic (№ 6) takes to answer, milliseconds.
    pub slow_clinic_ms: u64,
    /// How many clinics the sandbox region's hub lists: its seven, and made-up ones up to
    /// this many (10 000 to try a region at its real size).
    pub region_clinics: usize,
    /// Sparse answers: every member the contract allows to be left out is (nil, or absent),
    /// but those the gateway needs: a МИС that says no more than it must.
    pub sparse: bool,
    /// Operations answered with an `ErrorList` whatever is asked (`["GetLPUInfo"]`): a МИС or
    /// a hub without them.
    pub refuse_operations: Vec<String>,
    /// Where the demo's e-mailed tickets are written (`.eml` files; the newest 200 kept),
    /// when no `[mail]` relay is configured.
    pub outbox: PathBuf,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            listen: "127.0.0.1:8090".into(),
            database: PathBuf::from("registratura-sandbox.db"),
            guid: sandbox_mis::DEFAULT_GUID.into(),
            latency_ms: 0,
            slow_clinic_ms: 30_000,
            region_clinics: sandbox_mis::seed::CLINICS.len(),
            sparse: false,
            refuse_operations: Vec::new(),
            outbox: PathBuf::from("registratura-outbox"),
        }
    }
}

/// The operations the sandbox is told to refuse are the contract's.
pub(crate) fn validate(config: &Config) -> Result<(), ConfigError> {
    if let Some(unknown) = config
        .sandbox
        .refuse_operations
        .iter()
        .find(|op| mis_hub::contract::Operation::from_name(op).is_none())
    {
        return Err(ConfigError(format!(
            "sandbox.refuse_operations: {unknown:?} is no operation of the hub contract the sandbox answers"
        )));
    }
    Ok(())
}

/// Starts the sandbox МИС's HTTP server on `listener`. Signals are the application's to
/// handle ([`Application::run_with_signals`]).
pub(crate) fn sandbox_server(
    sandbox: Sandbox,
    listener: TcpListener,
    workers: usize,
) -> Result<Server, StartError> {
    let server = HttpServer::new(move || {
        let sandbox = sandbox.clone();
        App::new().configure(move |cfg| sandbox.configure(cfg))
    })
    .workers(workers)
    .disable_signals()
    .shutdown_timeout(5)
    .listen(listener)?
    .run();
    Ok(server)
}

/// Starts the built-in sandbox МИС when the configuration needs it.
pub fn start_sandbox(
    config: &Config,
    workers: usize,
) -> Result<Option<RunningSandbox>, StartError> {
    if !config.runs_sandbox() {
        return Ok(None);
    }
    let sandbox = Sandbox::open(&SandboxConfig {
        database: config.sandbox.database.clone(),
        guid: config.sandbox.guid.clone(),
        latency: Duration::from_millis(config.sandbox.latency_ms),
        slow_clinic: Duration::from_millis(config.sandbox.slow_clinic_ms),
        region_clinics: config.sandbox.region_clinics,
        sparse: config.sandbox.sparse,
        refuse_operations: config.sandbox.refuse_operations.clone(),
    })?;
    let listener = bind(&config.sandbox.listen)?;
    let addr = listener.local_addr()?;
    let server = sandbox_server(sandbox.clone(), listener, workers)?;
    tracing::warn!(
        "using the built-in SANDBOX МИС at http://{addr}/HubService.svc (demo clinic, test patients; not a real clinic)"
    );
    Ok(Some((sandbox, addr, server)))
}
