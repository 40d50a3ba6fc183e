//! The Registratura gateway: the JSON API in front of clinics' МИС, the OpenAPI spec and its
//! docs page, health checks, and the built-in sandbox МИС.
//!
//! [`Application::build`] wires everything from a [`config::Config`]; `main.rs` only parses
//! the command line around it.

pub mod audit;
pub mod booking;
pub mod check;
pub mod config;
mod conn;
pub mod edge;
pub mod error;
pub mod guard;
pub mod headers;
pub mod idempotency;
pub mod ids;
pub mod metrics;
pub mod openapi;
pub mod referrals;
pub mod request_id;
pub mod routes;
pub mod security;
mod server;
pub mod sessions;
pub mod shared;
pub mod state;
pub mod status;
pub mod telemetry;
mod tls;
pub mod waiting;
pub mod widget;

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, middleware, web};
use config::Config;
use mis::{LpuId, Mis};
use mis_hub::{HubClient, HubConfig};
use sandbox_mis::{Sandbox, SandboxConfig};
use state::{AppState, ClinicEntry};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;
use tracing_actix_web::TracingLogger;

/// How long an idle connection is kept open.
const KEEP_ALIVE: Duration = Duration::from_secs(5);

/// Why the gateway could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Sandbox(#[from] sandbox_mis::StoreError),
    #[error("МИС client: {0}")]
    Mis(#[from] mis::MisError),
}

fn bind(addr: &str) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr).map_err(|source| StartError::Listen {
        addr: addr.to_owned(),
        source,
    })
}

/// Response headers every answer carries.
fn security_headers(hsts: bool) -> middleware::DefaultHeaders {
    let headers = middleware::DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"));
    if hsts {
        headers.add(("Strict-Transport-Security", "max-age=31536000"))
    } else {
        headers
    }
}

/// Forbids framing every page but the widget's (whose CSP names who may frame it).
async fn deny_framing(
    req: actix_web::dev::ServiceRequest,
    next: middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let widget_page = req.path() == "/widget/";
    let mut res = next.call(req).await?;
    if !widget_page {
        res.headers_mut().insert(
            actix_web::http::header::X_FRAME_OPTIONS,
            actix_web::http::header::HeaderValue::from_static("DENY"),
        );
    }
    Ok(res)
}

/// A browser's preflight from an origin CORS refuses is answered as every other refusal: a
/// `403 forbidden` problem naming the setting (actix-cors answers `400` in plain text).
async fn cors_refusal(
    req: actix_web::dev::ServiceRequest,
    next: middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse, actix_web::Error> {
    let res = next.call(req).await?;
    let refused = res
        .response()
        .error()
        .is_some_and(|e| e.as_error::<actix_cors::CorsError>().is_some());
    if !refused {
        return Ok(res.map_into_boxed_body());
    }
    let problem = error::ApiError::new(api_types::ErrorCode::Forbidden).detail(
        "This site may not call the API from a browser: its origin is not in server.cors_origins.",
    );
    Ok(res.into_response(actix_web::ResponseError::error_response(&problem)))
}

/// CORS: browsers may call the API from the configured origins and from the gateway's own
/// pages; requests without an `Origin` (integrators' servers) pass untouched.
fn cors(origins: Arc<Vec<String>>) -> actix_cors::Cors {
    use actix_web::http::{Method, header};
    actix_cors::Cors::default()
        .allowed_origin_fn(move |origin, head| {
            let origin = origin.to_str().unwrap_or("");
            let own = head
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .is_some_and(|host| origin.split_once("://").is_some_and(|(_, o)| o == host));
            own || origins.iter().any(|o| o.trim_end_matches('/') == origin)
        })
        .allowed_methods([Method::GET, Method::HEAD, Method::POST, Method::DELETE])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("x-api-key"),
        ])
        .expose_headers([
            header::LOCATION,
            header::RETRY_AFTER,
            header::HeaderName::from_static("idempotent-replayed"),
            header::HeaderName::from_static(request_id::HEADER),
        ])
        .max_age(600)
}

/// Starts the sandbox МИС's HTTP server on `listener`. Signals are the application's to
/// handle ([`Application::run_with_signals`]).
fn sandbox_server(
    sandbox: Sandbox,
    listener: TcpListener,
    workers: usize,
) -> Result<Server, StartError> {
    let server = HttpServer::new(move || {
        let sandbox = sandbox.clone();
        App::new()
            .wrap(TracingLogger::default())
            .configure(move |cfg| sandbox.configure(cfg))
    })
    .workers(workers)
    .disable_signals()
    .shutdown_timeout(5)
    .listen(listener)?
    .run();
    Ok(server)
}

fn workers(configured: usize) -> usize {
    if configured == 0 {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    } else {
        configured
    }
}

/// The sandbox МИС's running server: the sandbox, its address and its server.
pub type RunningSandbox = (Sandbox, SocketAddr, Server);

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
    })?;
    let listener = bind(&config.sandbox.listen)?;
    let addr = listener.local_addr()?;
    let server = sandbox_server(sandbox.clone(), listener, workers)?;
    tracing::warn!(
        "using the built-in SANDBOX МИС at http://{addr}/HubService.svc (demo clinic, test patients; not a real clinic)"
    );
    Ok(Some((sandbox, addr, server)))
}

/// Each clinic served, with a client of its МИС (the sandbox at `sandbox` for those without
/// an endpoint).
pub fn clinic_clients(
    config: &Config,
    sandbox: Option<SocketAddr>,
) -> Result<Vec<(config::ClinicConfig, HubClient)>, StartError> {
    config
        .effective_clinics()
        .into_iter()
        .map(|c| {
            let endpoint = match (&c.mis.endpoint, sandbox) {
                (Some(e), _) => e.clone(),
                (None, Some(addr)) => format!("http://{addr}/HubService.svc"),
                (None, None) => {
                    return Err(StartError::Config(format!(
                        "clinic {:?} has no МИС endpoint",
                        c.id
                    )));
                }
            };
            tracing::info!(clinic = %c.id, %endpoint, "clinic served");
            let hub = HubClient::new(HubConfig {
                endpoint,
                guid: c.mis.guid.clone(),
                connect_timeout: Duration::from_millis(c.mis.connect_timeout_ms),
                timeout: Duration::from_millis(c.mis.attempt_timeout_ms),
                max_response_bytes: c.mis.max_response_bytes,
                waiting_list_source: c.mis.waiting_list_source,
            })?;
            Ok((c, hub))
        })
        .collect()
}

/// The shared state of `config` (in memory, or in Redis), with each API key's limits.
pub async fn shared_state(config: &Config) -> Result<shared::Shared, StartError> {
    let key_limits: Vec<security::limiter::RateLimitConfig> =
        config.api_keys.iter().map(|k| (&k.limits).into()).collect();
    let key_names: Vec<String> = config.api_keys.iter().map(|k| k.name.clone()).collect();
    shared::Shared::build(
        &config.state,
        Duration::from_secs(config.server.session_ttl_secs),
        &config.rate_limit,
        &key_limits,
        &key_names,
    )
    .await
    .map_err(|e| StartError::Config(e.to_string()))
}

/// The running gateway (and its sandbox МИС, when it runs one).
pub struct Application {
    addr: SocketAddr,
    server: Server,
    /// How long requests and writes in flight may take to finish on shutdown.
    grace: Duration,
    state: web::Data<AppState>,
    sandbox: Option<(Sandbox, SocketAddr, Server)>,
    demo: Option<(SocketAddr, Server)>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Binds every listener and builds the servers; they run in [`Self::run_until_stopped`].
    pub async fn build(config: Config) -> Result<Self, StartError> {
        metrics::install();
        let workers = workers(config.server.workers);
        let sandbox = start_sandbox(&config, workers.min(2))?;
        let shared = shared_state(&config).await?;
        tracing::info!(state = shared.kind, "shared state");
        let mut clinics = Vec::new();
        for (c, hub) in clinic_clients(&config, sandbox.as_ref().map(|(_, a, _)| *a))? {
            let tz = c
                .timezone
                .parse()
                .map_err(|_| StartError::Config(format!("bad zone of {:?}", c.id)))?;
            let guard = guard::GuardConfig {
                read_retries: c.mis.read_retries,
                deadline: Duration::from_millis(c.mis.deadline_ms),
                breaker_threshold: c.mis.breaker_threshold.max(1),
                probe_interval: Duration::from_millis(c.mis.probe_interval_ms.max(10)),
                directory_ttl: Duration::from_secs(config.cache.directory_ttl_secs),
                schedule_ttl: Duration::from_secs(config.cache.schedule_ttl_secs),
                clinic: c.id.clone(),
                ..guard::GuardConfig::default()
            };
            clinics.push(ClinicEntry {
                info: api_types::Clinic {
                    id: c.id,
                    name: c.name,
                    address: c.address,
                    timezone: c.timezone,
                },
                lpu: LpuId::new(c.mis.id_lpu),
                tz,
                mis: Arc::new(guard::GuardedMis::with_shared(
                    Arc::new(hub) as Arc<dyn Mis>,
                    guard,
                    shared.reads.clone(),
                    shared.outages.clone(),
                )),
            });
        }
        let mut app_state = AppState::new(clinics, shared.clone());
        app_state.identify_min = Duration::from_millis(config.server.identify_min_ms);
        app_state.body_timeout = Duration::from_secs(config.server.body_timeout_secs);
        app_state.public_url = config
            .server
            .public_url
            .as_ref()
            .map(|u| u.trim_end_matches('/').to_owned());
        if let Some(path) = &config.audit.path {
            let secret = config.audit.secret.as_deref().unwrap_or_default();
            let audit =
                audit::Audit::open(path, secret).map_err(|e| audit::open_error(path, &e))?;
            tracing::info!(path = %path.display(), "audit trail of bookings and cancellations");
            app_state.audit = Some(Arc::new(audit));
        }
        let state = web::Data::new(app_state);
        let state_for_app = state.clone();
        let guards = web::Data::new(security::Guards {
            limits: shared.limits.clone(),
            trusted_proxies: security::parse_networks(&config.server.trusted_proxies)
                .map_err(StartError::Config)?,
            operator_allow: security::parse_networks(&config.server.operator_allow)
                .map_err(StartError::Config)?,
            api_allow: config
                .server
                .api_allow
                .as_deref()
                .map(security::parse_networks)
                .transpose()
                .map_err(StartError::Config)?,
            keys: security::keys::ApiKeys::from_config(&config.api_keys)
                .map_err(StartError::Config)?,
        });
        let tls = match (&config.server.tls_cert, &config.server.tls_key) {
            (Some(cert), Some(key)) => Some(tls::server_config(cert, key)?),
            _ => None,
        };
        let hsts = config.server.hsts.unwrap_or(tls.is_some());
        let cors_origins = Arc::new(config.server.cors_origins.clone());
        let ancestors = web::Data::new(widget::FrameAncestors(config.frame_ancestors()));
        let listener = bind(&config.server.listen)?;
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let settings = server::Settings {
            workers,
            grace: Duration::from_secs(config.server.shutdown_grace_secs),
            head_timeout: Duration::from_secs(config.server.head_timeout_secs),
            keep_alive: KEEP_ALIVE,
            hsts,
            tls: tls.map(Arc::new),
        };
        let server = server::serve(listener, &settings, move || {
            // Middleware, innermost first: the last wrapped sees a request first.
            App::new()
                .wrap(middleware::from_fn(routes::head_as_get))
                .wrap(middleware::Compress::default())
                .wrap(cors(cors_origins.clone()))
                .wrap(middleware::from_fn(cors_refusal))
                .wrap(middleware::from_fn(security::guard))
                .wrap(middleware::from_fn(edge::bound))
                .wrap(middleware::from_fn(edge::problems))
                .wrap(security_headers(hsts))
                .wrap(middleware::from_fn(deny_framing))
                .wrap(TracingLogger::<telemetry::RequestSpan>::new())
                .wrap(middleware::from_fn(request_id::middleware))
                .app_data(state.clone())
                .app_data(guards.clone())
                .app_data(ancestors.clone())
                .configure(routes::configure)
                // The docs fetch the spec by a relative URL, so they work under a path prefix.
                .service(
                    utoipa_swagger_ui::SwaggerUi::new(routes::DOCS)
                        .config(utoipa_swagger_ui::Config::from("../openapi.json")),
                )
                .default_service(web::to(routes::not_found))
        })?;
        tracing::info!(
            "gateway listening on {scheme}://{addr} (API docs at {scheme}://{addr}/docs/)"
        );
        let demo = if config.demo.enabled && config.clinics.is_empty() {
            let listener = bind(&config.demo.listen)?;
            let demo_addr = listener.local_addr()?;
            let page = DEMO_PAGE.replace("{{GATEWAY}}", &format!("{scheme}://{addr}"));
            let server = HttpServer::new(move || {
                let page = page.clone();
                App::new()
                    .wrap(middleware::from_fn(edge::bound))
                    .default_service(web::to(move || {
                        let page = page.clone();
                        async move {
                            HttpResponse::Ok()
                                .content_type("text/html; charset=utf-8")
                                .body(page)
                        }
                    }))
            })
            .workers(1)
            .disable_signals()
            .shutdown_timeout(1)
            .listen(listener)?
            .run();
            tracing::info!("demo clinic site with the widget at http://{demo_addr}/");
            Some((demo_addr, server))
        } else {
            None
        };
        Ok(Self {
            addr,
            server,
            grace: Duration::from_secs(config.server.shutdown_grace_secs),
            state: state_for_app,
            sandbox,
            demo,
        })
    }

    /// The gateway's address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The gateway's shared state (sessions, idempotency keys, what it remembers).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// The sandbox МИС, when this gateway runs it.
    pub fn sandbox(&self) -> Option<&Sandbox> {
        self.sandbox.as_ref().map(|(s, _, _)| s)
    }

    /// The sandbox МИС's address, when this gateway runs it.
    pub fn sandbox_addr(&self) -> Option<SocketAddr> {
        self.sandbox.as_ref().map(|(_, a, _)| *a)
    }

    /// The demo clinic site's address, when this gateway serves it.
    pub fn demo_addr(&self) -> Option<SocketAddr> {
        self.demo.as_ref().map(|(a, _)| *a)
    }

    /// A handle that stops the gateway gracefully (as `SIGTERM` does).
    pub fn stopper(&self) -> Stopper {
        let mut behind = Vec::new();
        behind.extend(self.sandbox.as_ref().map(|(_, _, s)| s.handle()));
        behind.extend(self.demo.as_ref().map(|(_, s)| s.handle()));
        Stopper {
            gateway: Some(self.server.handle()),
            behind,
            writes: Some(self.state.writes.clone()),
            grace: self.grace,
        }
    }

    /// Runs until the servers are stopped (see [`Self::stopper`]), then waits up to the grace
    /// period for the bookings and cancellations still under way.
    pub async fn run_until_stopped(self) -> Result<(), StartError> {
        let (state, grace) = (self.state.clone(), self.grace);
        let mut servers = vec![self.server];
        servers.extend(self.sandbox.map(|(_, _, s)| s));
        servers.extend(self.demo.map(|(_, s)| s));
        futures_util::future::try_join_all(servers).await?;
        if !state.writes.drain(grace).await {
            tracing::warn!(
                left = state.writes.len(),
                "stopping with bookings still under way after the grace period"
            );
        }
        tracing::info!("stopped");
        Ok(())
    }

    /// Runs until `SIGTERM` or `SIGINT` (Ctrl+C, or a Windows service's stop), then stops
    /// gracefully: no new connections, requests in flight finish within
    /// `server.shutdown_grace_secs`, and so does every booking already started. `SIGHUP`
    /// reopens the audit trail (for `logrotate`).
    pub async fn run_with_signals(self) -> Result<(), StartError> {
        let stopper = self.stopper();
        let audit = self.state.audit.clone();
        let signals = tokio::spawn(async move {
            signals::wait_for_stop(audit).await;
            tracing::info!("stop requested: finishing the requests in flight");
            stopper.stop().await;
        });
        let result = self.run_until_stopped().await;
        signals.abort();
        result
    }
}

/// Stops the gateway gracefully: first the gateway's server (no new connections; requests
/// in flight finish), then the bookings still under way, then what stands behind it (the
/// sandbox МИС the last requests may still need, the demo site).
#[derive(Debug, Clone)]
pub struct Stopper {
    gateway: Option<actix_web::dev::ServerHandle>,
    behind: Vec<actix_web::dev::ServerHandle>,
    writes: Option<state::Writes>,
    grace: Duration,
}

impl Stopper {
    /// Stops, in order, within the grace period.
    pub async fn stop(&self) {
        if let Some(gateway) = &self.gateway {
            gateway.stop(true).await;
        }
        if let Some(writes) = &self.writes {
            writes.drain(self.grace).await;
        }
        futures_util::future::join_all(self.behind.iter().map(|h| h.stop(true))).await;
    }
}

mod signals {
    //! The signals the gateway answers.

    use std::sync::Arc;

    /// Waits for a request to stop; reopens the audit trail on each `SIGHUP` meanwhile.
    #[cfg(unix)]
    pub async fn wait_for_stop(audit: Option<Arc<crate::audit::Audit>>) {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            tracing::error!("cannot listen for signals; stop the gateway by killing it");
            return std::future::pending().await;
        };
        loop {
            tokio::select! {
                _ = term.recv() => return,
                _ = int.recv() => return,
                _ = hup.recv() => {
                    if let Some(audit) = &audit {
                        match audit.reopen() {
                            Ok(()) => tracing::info!("audit trail reopened"),
                            Err(e) => tracing::error!(error = %e, "cannot reopen the audit trail"),
                        }
                    }
                }
            }
        }
    }

    /// Waits for Ctrl+C, or a console's close or shutdown (a Windows service's stop).
    #[cfg(windows)]
    pub async fn wait_for_stop(_audit: Option<Arc<crate::audit::Audit>>) {
        use tokio::signal::windows;
        let (Ok(mut c), Ok(mut close), Ok(mut shutdown)) = (
            windows::ctrl_c(),
            windows::ctrl_close(),
            windows::ctrl_shutdown(),
        ) else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = c.recv() => {}
            _ = close.recv() => {}
            _ = shutdown.recv() => {}
        }
    }
}

/// The demo clinic site (`examples/demo-site/index.html`), with `{{GATEWAY}}` to fill in.
const DEMO_PAGE: &str = include_str!("../../examples/demo-site/index.html");

/// Runs the sandbox МИС alone (`registratura sandbox`).
pub async fn run_sandbox_alone(config: SandboxConfig, listen: String) -> Result<(), StartError> {
    let sandbox = Sandbox::open(&config)?;
    let listener = bind(&listen)?;
    let addr = listener.local_addr()?;
    let server = sandbox_server(sandbox, listener, 2)?;
    tracing::info!(
        "sandbox МИС listening on http://{addr}/HubService.svc (WSDL at http://{addr}/HubService.svc?wsdl)"
    );
    let stopper = Stopper {
        gateway: None,
        behind: vec![server.handle()],
        writes: None,
        grace: Duration::ZERO,
    };
    let signals = tokio::spawn(async move {
        signals::wait_for_stop(None).await;
        stopper.stop().await;
    });
    server.await?;
    signals.abort();
    Ok(())
}
