//! The composition root: [`Application::build`] wires the gateway from a [`Config`] — the
//! sandbox МИС when it runs one, the clients of each clinic's МИС and their guards, the shared
//! state's adapter, the domain, the HTTP shell's middleware and routes, the servers — and runs
//! it until it is told to stop. Only this module (and `check`, the other command) names
//! concrete adapters.

use crate::config::{self, Config};
use crate::routing::RouteIndex;
use crate::site::Site;
use crate::{cors, edge, pages, routes, security, server, tls};
use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, middleware, web};
use gateway_domain::admission::Admission;
use gateway_domain::audit::Audit;
use gateway_domain::guard::{CACHE_BYTES, Caches, GuardConfig, GuardedMis};
use gateway_domain::region::RegionClinics;
use gateway_domain::region::seal::SessionKey;
use gateway_domain::shared::Shared;
use gateway_domain::writes::Writes;
use gateway_domain::{ClinicEntry, Gateway};
use gateway_state::keep::Moka;
use mis::{LpuId, Mis};
use mis_hub::{HubClient, HubConfig};
use sandbox_mis::{Sandbox, SandboxConfig};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

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

impl From<config::ConfigError> for StartError {
    fn from(e: config::ConfigError) -> Self {
        Self::Config(e.0)
    }
}

fn bind(addr: &str) -> Result<TcpListener, StartError> {
    bind_with_backlog(addr, 1_024)
}

/// Binds `addr` with a listen queue of `backlog` connections (the kernel caps it at
/// `net.core.somaxconn`): what a surge of connections opened at once waits in until the
/// gateway accepts them.
fn bind_with_backlog(addr: &str, backlog: u32) -> Result<TcpListener, StartError> {
    let failed = |source: std::io::Error| StartError::Listen {
        addr: addr.to_owned(),
        source,
    };
    let mut last = std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address");
    for candidate in std::net::ToSocketAddrs::to_socket_addrs(addr).map_err(failed)? {
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(candidate),
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )
        .map_err(failed)?;
        #[cfg(unix)]
        socket.set_reuse_address(true).map_err(failed)?;
        let bound = socket
            .bind(&candidate.into())
            .and_then(|()| socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX)));
        match bound {
            Ok(()) => return Ok(socket.into()),
            Err(e) => last = e,
        }
    }
    Err(failed(last))
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
        App::new().configure(move |cfg| sandbox.configure(cfg))
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

/// The hub endpoint configured, or the sandbox's where none is.
fn endpoint_of(configured: Option<&String>, sandbox: Option<SocketAddr>) -> Option<String> {
    configured
        .cloned()
        .or_else(|| sandbox.map(|addr| format!("http://{addr}/HubService.svc")))
}

/// A client of a FHIR clinic's server.
pub fn fhir_client(c: &config::ClinicConfig) -> Result<mis_fhir::FhirClient, StartError> {
    let m = &c.mis;
    let auth = match (&m.token, &m.token_url, &m.client_id, &m.client_secret) {
        (Some(token), ..) => mis_fhir::Auth::Bearer(token.clone()),
        (None, Some(token_url), Some(client_id), Some(client_secret)) => {
            mis_fhir::Auth::ClientCredentials {
                token_url: token_url.clone(),
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
                scope: m.scope.clone(),
            }
        }
        _ => mis_fhir::Auth::None,
    };
    let timezone = c
        .timezone
        .parse()
        .map_err(|_| StartError::Config(format!("bad zone of {:?}", c.id)))?;
    let base_url = m.base_url.clone().unwrap_or_default();
    tracing::info!(clinic = %c.id, %base_url, "clinic served (FHIR)");
    Ok(mis_fhir::FhirClient::new(mis_fhir::FhirConfig {
        base_url: base_url.trim_end_matches('/').to_owned(),
        auth,
        connect_timeout: Duration::from_millis(m.connect_timeout_ms),
        timeout: Duration::from_millis(m.attempt_timeout_ms),
        max_response_bytes: m.max_response_bytes,
        policy_system: m.policy_system.clone().unwrap_or_default(),
        document_system: m.document_system.clone().unwrap_or_default(),
        booking_system: m.booking_system.clone(),
        timezone,
        clinic_name: c.name.clone(),
        lpu: LpuId::new(m.id_lpu),
    })?)
}

/// A clinic's configuration and the client of its МИС.
pub type ClinicClient = (config::ClinicConfig, Arc<dyn Mis>);

/// Each clinic served, with a client of its МИС: the hub's (the sandbox at `sandbox` for
/// those without an endpoint) or a FHIR server's.
pub fn clinic_clients(
    config: &Config,
    sandbox: Option<SocketAddr>,
) -> Result<Vec<ClinicClient>, StartError> {
    config
        .effective_clinics()
        .into_iter()
        .map(|c| {
            if c.mis.protocol == config::Protocol::Fhir {
                let client = fhir_client(&c)?;
                return Ok((c, Arc::new(client) as Arc<dyn Mis>));
            }
            let endpoint = endpoint_of(c.mis.endpoint.as_ref(), sandbox).ok_or_else(|| {
                StartError::Config(format!("clinic {:?} has no МИС endpoint", c.id))
            })?;
            tracing::info!(clinic = %c.id, %endpoint, "clinic served");
            let hub = HubClient::new(HubConfig {
                endpoint,
                guid: c.mis.guid.clone(),
                connect_timeout: Duration::from_millis(c.mis.connect_timeout_ms),
                timeout: Duration::from_millis(c.mis.attempt_timeout_ms),
                max_response_bytes: c.mis.max_response_bytes,
                waiting_list_source: c.mis.waiting_list_source,
            })?;
            Ok((c, Arc::new(hub) as Arc<dyn Mis>))
        })
        .collect()
}

/// The shared state of `config` (in memory, or in Redis), with each API key's limits.
pub async fn shared_state(config: &Config) -> Result<Shared, StartError> {
    let key_limits: Vec<gateway_domain::limits::RateLimitConfig> =
        config.api_keys.iter().map(|k| (&k.limits).into()).collect();
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

/// The running gateway (and its sandbox МИС, when it runs one).
pub struct Application {
    addr: SocketAddr,
    server: Server,
    /// How long requests and writes in flight may take to finish on shutdown.
    grace: Duration,
    gateway: web::Data<Gateway>,
    sandbox: Option<(Sandbox, SocketAddr, Server)>,
    demo: Option<(SocketAddr, Server)>,
    /// The tasks that keep each region's catalogue fresh.
    refreshers: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// A client of `region`'s hub (the sandbox at `sandbox` when it names no endpoint).
pub fn region_hub(
    region: &config::RegionConfig,
    sandbox: Option<SocketAddr>,
) -> Result<HubClient, StartError> {
    let endpoint = endpoint_of(region.endpoint.as_ref(), sandbox)
        .ok_or_else(|| StartError::Config(format!("region {:?} has no hub endpoint", region.id)))?;
    Ok(HubClient::new(HubConfig {
        endpoint,
        guid: region.guid.clone(),
        connect_timeout: Duration::from_millis(region.connect_timeout_ms),
        timeout: Duration::from_millis(region.timeout_ms),
        max_response_bytes: region.max_response_bytes,
        waiting_list_source: 0,
    })?)
}

/// Each region's catalogue, of its hub. Not read yet: [`Application::build`] starts the
/// tasks that keep them fresh.
pub fn region_catalogues(
    config: &Config,
    sandbox: Option<SocketAddr>,
) -> Result<Vec<Arc<gateway_domain::region::Catalogue>>, StartError> {
    config
        .effective_regions()
        .iter()
        .map(|r| {
            let hub = region_hub(r, sandbox)?;
            tracing::info!(region = %r.id, endpoint = %hub.endpoint(), "region served");
            Ok(Arc::new(gateway_domain::region::Catalogue::new(
                &r.id,
                &r.name,
                Arc::new(hub),
            )))
        })
        .collect()
}

/// Each region of `config` with its clinics, each clinic's МИС (the hub, asked for it) behind
/// a guard of its own made at its first use, sharing `all` places with every clinic.
fn region_clinics(
    config: &Config,
    shared: &Shared,
    sandbox: Option<SocketAddr>,
    all: &Arc<Admission>,
) -> Result<Vec<Arc<RegionClinics>>, StartError> {
    let catalogues = region_catalogues(config, sandbox)?;
    let wait = Duration::from_millis(config.server.queue_wait_ms);
    catalogues
        .into_iter()
        .zip(config.effective_regions())
        .map(|(catalogue, r)| {
            let tz: chrono_tz::Tz = r
                .timezone
                .parse()
                .map_err(|_| StartError::Config(format!("bad zone of region {:?}", r.id)))?;
            let calls = Arc::new(region_hub(
                &config::RegionConfig {
                    timeout_ms: r.attempt_timeout_ms,
                    ..r.clone()
                },
                sandbox,
            )?);
            let across = Duration::from_millis(r.across_deadline_ms);
            let directory_ttl = Duration::from_secs(config.cache.directory_ttl_secs);
            let schedule_ttl = Duration::from_secs(config.cache.schedule_ttl_secs);
            let mis = calls.clone() as Arc<dyn Mis>;
            let template = GuardConfig {
                read_retries: r.read_retries,
                deadline: Duration::from_millis(r.deadline_ms),
                breaker_threshold: r.breaker_threshold.max(1),
                probe_interval: Duration::from_millis(r.probe_interval_ms.max(10)),
                directory_ttl,
                schedule_ttl,
                // Each clinic's own bound; their refusals count under the region's name.
                admission: Arc::new(Admission::unbounded("")),
                region: Some(Arc::new(Admission::new(
                    &r.id,
                    r.region_max_in_flight,
                    queued(config, r.region_max_in_flight),
                    wait,
                ))),
                all: all.clone(),
                label: r.id.clone(),
                watch_outages: false,
                ..GuardConfig::default()
            };
            let caches = Caches::of(
                &Moka,
                &template,
                shared,
                r.cache_mib.saturating_mul(1024 * 1024),
            );
            let (shared, clinics_name) = (shared.clone(), format!("{}:clinics", r.id));
            let (in_flight, queue) = (r.max_in_flight, queued(config, r.max_in_flight));
            let make = move |c: &gateway_domain::region::CatalogueClinic| {
                let guard = GuardConfig {
                    clinic: c.id.clone(),
                    admission: Arc::new(Admission::ungauged(&clinics_name, in_flight, queue, wait)),
                    ..template.clone()
                };
                GuardedMis::new(mis.clone(), guard, caches.clone(), &shared)
            };
            let mut clinics =
                RegionClinics::new(catalogue, calls, tz, across, Box::new(make), &Moka);
            clinics.max_calls = r.across_max_calls;
            Ok(Arc::new(clinics))
        })
        .collect()
}

/// How many requests may wait for a place in a bound of `in_flight` places.
fn queued(config: &Config, in_flight: usize) -> usize {
    config
        .server
        .max_queued
        .unwrap_or(in_flight.saturating_mul(64))
}

/// Each clinic of `config`, its МИС behind a guard that shares what `shared` shares; and the
/// places among the МИС calls in flight all clinics share.
fn clinic_entries(
    config: &Config,
    shared: &Shared,
    sandbox: Option<SocketAddr>,
) -> Result<(Vec<ClinicEntry>, Arc<Admission>), StartError> {
    let mut clinics = Vec::new();
    let clients = clinic_clients(config, sandbox)?;
    let wait = Duration::from_millis(config.server.queue_wait_ms);
    let queued = |in_flight: usize| queued(config, in_flight);
    let total = config.server.max_in_flight.unwrap_or_else(|| {
        let clinics: usize = clients.iter().map(|(c, _)| c.mis.max_in_flight).sum();
        let regions: usize = config
            .effective_regions()
            .iter()
            .map(|r| r.region_max_in_flight)
            .sum();
        clinics + regions
    });
    let all = Arc::new(Admission::new("all", total, queued(total), wait));
    for (c, hub) in clients {
        let tz = c
            .timezone
            .parse()
            .map_err(|_| StartError::Config(format!("bad zone of {:?}", c.id)))?;
        let guard = GuardConfig {
            read_retries: c.mis.read_retries,
            deadline: Duration::from_millis(c.mis.deadline_ms),
            breaker_threshold: c.mis.breaker_threshold.max(1),
            probe_interval: Duration::from_millis(c.mis.probe_interval_ms.max(10)),
            directory_ttl: Duration::from_secs(config.cache.directory_ttl_secs),
            schedule_ttl: Duration::from_secs(config.cache.schedule_ttl_secs),
            clinic: c.id.clone(),
            admission: Arc::new(Admission::new(
                &c.id,
                c.mis.max_in_flight,
                queued(c.mis.max_in_flight),
                wait,
            )),
            all: all.clone(),
            ..GuardConfig::default()
        };
        clinics.push(ClinicEntry {
            info: gateway_domain::views::Clinic {
                id: c.id,
                name: c.name,
                address: c.address,
                timezone: c.timezone,
            },
            lpu: LpuId::new(c.mis.id_lpu),
            tz,
            mis: Arc::new(GuardedMis::new(
                hub,
                guard.clone(),
                Caches::of(&Moka, &guard, shared, CACHE_BYTES),
                shared,
            )),
        });
    }
    Ok((clinics, all))
}

/// The domain of `config`: its clinics, its shared state, its audit trail.
fn gateway_of(
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
    } else if !regions.is_empty() && config.state.redis_url.is_some() {
        tracing::warn!(
            "regions are served with shared state but no server.session_key: a region session opened on one gateway will not open on another; set the same key on every gateway"
        );
    }
    gateway.regions = regions;
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

/// Who may call, who is trusted, and how often: the security middleware's setting, with the
/// route index it judges requests by.
fn guards_of(config: &Config, shared: &Shared) -> Result<security::Guards, StartError> {
    let networks = |list: &[String]| security::parse_networks(list).map_err(StartError::Config);
    Ok(security::Guards {
        limits: shared.limits.clone(),
        routes: RouteIndex::new(routes::indexed().chain(pages::indexed()).collect()),
        trusted_proxies: networks(&config.server.trusted_proxies)?,
        operator_allow: networks(&config.server.operator_allow)?,
        api_allow: config
            .server
            .api_allow
            .as_deref()
            .map(networks)
            .transpose()?,
        keys: security::keys::ApiKeys::from_config(&config.api_keys).map_err(StartError::Config)?,
    })
}

/// The HTTP shell's own state.
fn site_of(config: &Config) -> Site {
    Site {
        public_url: config
            .server
            .public_url
            .as_ref()
            .map(|u| u.trim_end_matches('/').to_owned()),
        body_timeout: Duration::from_secs(config.server.body_timeout_secs),
        started: std::time::Instant::now(),
    }
}

/// Everything the application's handlers and middleware share.
#[derive(Clone)]
struct Shell {
    gateway: web::Data<Gateway>,
    regions: web::Data<routes::region::Regions>,
    site: web::Data<Site>,
    guards: web::Data<security::Guards>,
    ancestors: web::Data<pages::widget::FrameAncestors>,
    ready: web::Data<routes::ready::ReadyAnswers>,
    cors_origins: Arc<Vec<String>>,
    hsts: bool,
}

impl Shell {
    /// The application: middleware around the API, the pages and the docs.
    fn app(
        self,
    ) -> App<
        impl actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
            Error = actix_web::Error,
            InitError = (),
        >,
    > {
        // Middleware, innermost first: the last wrapped sees a request first.
        App::new()
            .wrap(middleware::Compress::default())
            .wrap(cors::cors(self.cors_origins))
            .wrap(middleware::from_fn(edge::front))
            .app_data(web::Data::new(edge::Edge { hsts: self.hsts }))
            .app_data(self.gateway)
            .app_data(self.regions)
            .app_data(self.site)
            .app_data(self.guards)
            .app_data(self.ancestors)
            .app_data(self.ready)
            .configure(routes::configure)
            .configure(pages::configure)
            .default_service(web::to(edge::not_found))
    }
}

/// Ready answers kept no longer than the shortest-lived reads of any clinic they are made of.
fn ready_answers(gateway: &Gateway) -> routes::ready::ReadyAnswers {
    let shortest = |pick: fn((Duration, Duration)) -> Duration| {
        gateway
            .clinics()
            .iter()
            .map(|c| pick(c.mis.cache_ttls()))
            .min()
            .unwrap_or_default()
    };
    routes::ready::ReadyAnswers::new(shortest(|t| t.0), shortest(|t| t.1))
}

/// The demo clinic site on `listener`, embedding the widget of the gateway at `gateway`.
fn serve_demo(listener: TcpListener, gateway: &str) -> Result<(SocketAddr, Server), StartError> {
    let demo_addr = listener.local_addr()?;
    let page = DEMO_PAGE.replace("{{GATEWAY}}", gateway);
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
    Ok((demo_addr, server))
}

impl Application {
    /// Binds every listener and builds the servers; they run in [`Self::run_until_stopped`].
    pub async fn build(config: Config) -> Result<Self, StartError> {
        gateway_state::metrics::install();
        let workers = workers(config.server.workers);
        let sandbox = start_sandbox(&config, workers.min(2))?;
        let shared = shared_state(&config).await?;
        tracing::info!(state = shared.kind, "shared state");
        let sandbox_addr = sandbox.as_ref().map(|(_, a, _)| *a);
        let (clinics, all) = clinic_entries(&config, &shared, sandbox_addr)?;
        let regions = region_clinics(&config, &shared, sandbox_addr, &all)?;
        let tls = match (&config.server.tls_cert, &config.server.tls_key) {
            (Some(cert), Some(key)) => Some(tls::server_config(cert, key)?),
            _ => None,
        };
        let hsts = config.server.hsts.unwrap_or(tls.is_some());
        let guards = guards_of(&config, &shared)?;
        let catalogues: Vec<_> = regions.iter().map(|r| r.catalogue.clone()).collect();
        let refreshers = catalogues
            .iter()
            .zip(config.effective_regions())
            .map(|(c, r)| tokio::spawn(c.clone().keep_fresh(Duration::from_secs(r.refresh_secs))))
            .collect();
        let gateway = gateway_of(&config, clinics, regions, shared)?;
        // The demo site is bound first: its origin is the one that may frame the widget.
        let demo_listener = (config.demo.enabled && config.is_sandbox_default())
            .then(|| bind(&config.demo.listen))
            .transpose()?;
        let demo_addr = demo_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()?;
        let shell = Shell {
            regions: web::Data::new(routes::region::Regions::new(catalogues)),
            guards: web::Data::new(guards),
            ready: web::Data::new(ready_answers(&gateway)),
            gateway: web::Data::new(gateway),
            site: web::Data::new(site_of(&config)),
            ancestors: web::Data::new(pages::widget::FrameAncestors(
                config.frame_ancestors(demo_addr),
            )),
            cors_origins: Arc::new(config.server.cors_origins.clone()),
            hsts,
        };
        let gateway = shell.gateway.clone();
        let listener = bind_with_backlog(&config.server.listen, config.server.backlog)?;
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let settings = server::Settings {
            workers,
            grace: Duration::from_secs(config.server.shutdown_grace_secs),
            head_timeout: Duration::from_secs(config.server.head_timeout_secs),
            keep_alive: KEEP_ALIVE,
            max_connections: config.server.max_connections,
            hsts,
            tls: tls.map(Arc::new),
        };
        let server = server::serve(listener, &settings, move || shell.clone().app())?;
        tracing::info!(
            "gateway listening on {scheme}://{addr} (API docs at {scheme}://{addr}/docs/)"
        );
        let demo = demo_listener
            .map(|listener| serve_demo(listener, &format!("{scheme}://{addr}")))
            .transpose()?;
        Ok(Self {
            addr,
            server,
            grace: Duration::from_secs(config.server.shutdown_grace_secs),
            gateway,
            sandbox,
            demo,
            refreshers,
        })
    }

    /// The gateway's address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The gateway's domain (its clinics, and the state it shares: sessions, idempotency
    /// keys, what it remembers).
    pub fn gateway(&self) -> web::Data<Gateway> {
        self.gateway.clone()
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
            writes: Some(self.gateway.writes.clone()),
            grace: self.grace,
        }
    }

    /// Runs until the servers are stopped (see [`Self::stopper`]), then waits up to the grace
    /// period for the bookings and cancellations still under way.
    pub async fn run_until_stopped(self) -> Result<(), StartError> {
        let (gateway, grace) = (self.gateway.clone(), self.grace);
        let refreshers = self.refreshers;
        let mut servers = vec![self.server];
        servers.extend(self.sandbox.map(|(_, _, s)| s));
        servers.extend(self.demo.map(|(_, s)| s));
        let served = futures_util::future::try_join_all(servers).await;
        for r in refreshers {
            r.abort();
        }
        served?;
        if !gateway.writes.drain(grace).await {
            tracing::warn!(
                left = gateway.writes.len(),
                "stopping with bookings still under way after the grace period"
            );
        }
        tracing::info!("stopped");
        Ok(())
    }

    /// Runs until `SIGTERM` or `SIGINT` (Ctrl+C, or a console's close on Windows), then stops
    /// gracefully: no new connections, requests in flight finish within
    /// `server.shutdown_grace_secs`, and so does every booking already started. `SIGHUP`
    /// reopens the audit trail (for `logrotate`).
    pub async fn run_with_signals(self) -> Result<(), StartError> {
        let (requests, received) = tokio::sync::mpsc::unbounded_channel();
        let signals = tokio::spawn(signals::forward(requests));
        let result = self.run_until_asked(received).await;
        signals.abort();
        result
    }

    /// Runs until asked to stop (or until every sender of `requests` is gone), then stops as
    /// [`Self::run_with_signals`] does; reopens the audit trail when asked meanwhile. Signals
    /// and a Windows service's controls both come here.
    pub async fn run_until_asked(
        self,
        mut requests: tokio::sync::mpsc::UnboundedReceiver<Asked>,
    ) -> Result<(), StartError> {
        let stopper = self.stopper();
        let audit = self.gateway.audit.clone();
        let listener = tokio::spawn(async move {
            while let Some(Asked::ReopenAudit) = requests.recv().await {
                if let Some(audit) = &audit {
                    match audit.reopen() {
                        Ok(()) => tracing::info!("audit trail reopened"),
                        Err(e) => tracing::error!(error = %e, "cannot reopen the audit trail"),
                    }
                }
            }
            tracing::info!("stop requested: finishing the requests in flight");
            stopper.stop().await;
        });
        let result = self.run_until_stopped().await;
        listener.abort();
        result
    }
}

/// What a running gateway is asked to do, by a signal or by the Windows service manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// Stop gracefully (`SIGTERM`, `SIGINT`, a service's Stop or Shutdown).
    Stop,
    /// Reopen the audit trail (`SIGHUP`, a service's "paramchange").
    ReopenAudit,
}

/// Stops the gateway gracefully: first the gateway's server (no new connections; requests
/// in flight finish), then the bookings still under way, then what stands behind it (the
/// sandbox МИС the last requests may still need, the demo site).
#[derive(Debug, Clone)]
pub struct Stopper {
    gateway: Option<actix_web::dev::ServerHandle>,
    behind: Vec<actix_web::dev::ServerHandle>,
    writes: Option<Writes>,
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
    //! The signals the gateway answers, as requests to the running gateway.

    use super::Asked;
    use tokio::sync::mpsc::UnboundedSender;

    /// Sends [`Asked::ReopenAudit`] on each `SIGHUP`, and [`Asked::Stop`] on `SIGTERM` or
    /// `SIGINT`.
    #[cfg(unix)]
    pub async fn forward(requests: UnboundedSender<Asked>) {
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
            let asked = tokio::select! {
                _ = term.recv() => Asked::Stop,
                _ = int.recv() => Asked::Stop,
                _ = hup.recv() => Asked::ReopenAudit,
            };
            if requests.send(asked).is_err() || asked == Asked::Stop {
                return;
            }
        }
    }

    /// Sends [`Asked::Stop`] on Ctrl+C, or on the console's close or the system's shutdown
    /// (a console program; the service gets its controls from the service manager instead).
    #[cfg(windows)]
    pub async fn forward(requests: UnboundedSender<Asked>) {
        use tokio::signal::windows;
        let (Ok(mut c), Ok(mut close), Ok(mut shutdown)) = (
            windows::ctrl_c(),
            windows::ctrl_close(),
            windows::ctrl_shutdown(),
        ) else {
            tracing::error!("cannot listen for Ctrl+C; stop the gateway by ending its process");
            return std::future::pending().await;
        };
        tokio::select! {
            _ = c.recv() => {}
            _ = close.recv() => {}
            _ = shutdown.recv() => {}
        }
        let _ = requests.send(Asked::Stop);
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
        let (requests, mut received) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(signals::forward(requests));
        // The sandbox alone has no audit trail: anything but a reopen stops it.
        while let Some(Asked::ReopenAudit) = received.recv().await {}
        stopper.stop().await;
    });
    server.await?;
    signals.abort();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn the_route_index_names_the_route_the_router_matches() {
        use actix_web::dev::Service;
        let index = RouteIndex::new(routes::indexed().chain(pages::indexed()).collect());
        let app = actix_web::test::init_service(
            App::new()
                .wrap_fn(move |req, srv| {
                    let router = req.resource_map().match_pattern(req.match_info().as_str());
                    let ours = index.route_of(req.match_info().as_str());
                    assert_eq!(router.as_deref(), ours, "{}", req.path());
                    srv.call(req)
                })
                .configure(routes::configure)
                .configure(pages::configure)
                .default_service(web::to(edge::not_found)),
        )
        .await;
        let mut paths: Vec<String> = vec![
            "/".into(),
            "/docs".into(),
            "/docs/".into(),
            "/docs/swagger-ui.css".into(),
            "/widget".into(),
            "/widget/".into(),
            "/widget/assets/boot-1.js".into(),
            "/widget/assets/".into(),
            "/nowhere".into(),
            "//api/v1/clinics".into(),
            "/api/v1/clinics/".into(),
            "/api/v1/clinics/demo/tickets/a/b".into(),
            "/%61pi/v1/clinics/demo/sessions".into(),
            "/api/v1/clinics/d%65mo/doctors/x/slots".into(),
            "/api/v1/clinics/demo%2Fx/specialties".into(),
        ];
        for e in routes::ENDPOINTS {
            let args: Vec<&str> = e.route.params().map(|_| "MQ").collect();
            let url = e.route.url(&args);
            paths.push(url.clone());
            paths.push(format!("{url}/"));
            paths.push(url.replace("/MQ", "/"));
        }
        for p in pages::PAGES {
            paths.push(p.path.replace("{name}", "x"));
        }
        for path in paths {
            let req = actix_web::test::TestRequest::get().uri(&path).to_request();
            let _ = app.call(req).await;
        }
    }
}
