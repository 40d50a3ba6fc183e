//! The composition root's lifecycle: [`Application::build`] makes the gateway from a
//! [`Config`], subsystem by subsystem (`crate::wiring`: the sandbox МИС when it runs one, the
//! shared state, the clinics and the regions, the domain, the HTTP shell), binds its
//! listeners, and runs it until it is told to stop; [`Stopper`] stops it in order.

use crate::config::{self, Config};
use crate::wiring::clinics::start::clinic_entries;
use crate::wiring::regions::start::region_clinics;
use crate::wiring::sandbox::{sandbox_server, start_sandbox};
use crate::wiring::shell::start::{
    KEEP_ALIVE, Shell, bind, bind_with_backlog, guards_of, ready_answers, serve_demo, site_of,
    workers,
};
use crate::wiring::shell::tls;
use crate::wiring::state::{gateway_of, shared_state};
use crate::{pages, routes, server};
use actix_web::dev::Server;
use actix_web::web;
use gateway_domain::Gateway;
use gateway_domain::writes::Writes;
use sandbox_mis::{Sandbox, SandboxConfig};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

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
