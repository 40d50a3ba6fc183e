//! Making the HTTP shell: the listeners, the application (middleware, routes, pages) and what
//! its handlers share, the security middleware's setting, and the demo clinic site.

use crate::config::Config;
use crate::routing::RouteIndex;
use crate::site::Site;
use crate::startup::StartError;
use crate::{cors, edge, pages, routes, security};
use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, middleware, web};
use gateway_domain::Gateway;
use gateway_domain::shared::Shared;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

/// How long an idle connection is kept open.
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(5);

pub(crate) fn bind(addr: &str) -> Result<TcpListener, StartError> {
    bind_with_backlog(addr, 1_024)
}

/// Binds `addr` with a listen queue of `backlog` connections (the kernel caps it at
/// `net.core.somaxconn`): what a surge of connections opened at once waits in until the
/// gateway accepts them.
pub(crate) fn bind_with_backlog(addr: &str, backlog: u32) -> Result<TcpListener, StartError> {
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

pub(crate) fn workers(configured: usize) -> usize {
    if configured == 0 {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    } else {
        configured
    }
}

/// How many requests may wait for a place in a bound of `in_flight` places.
pub(crate) fn queued(config: &Config, in_flight: usize) -> usize {
    config
        .server
        .max_queued
        .unwrap_or(in_flight.saturating_mul(64))
}

/// Who may call, who is trusted, and how often: the security middleware's setting, with the
/// route index it judges requests by.
pub(crate) fn guards_of(config: &Config, shared: &Shared) -> Result<security::Guards, StartError> {
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
pub(crate) fn site_of(config: &Config) -> Site {
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
pub(crate) struct Shell {
    pub(crate) gateway: web::Data<Gateway>,
    pub(crate) regions: web::Data<routes::region::Regions>,
    pub(crate) site: web::Data<Site>,
    pub(crate) guards: web::Data<security::Guards>,
    pub(crate) ancestors: web::Data<pages::widget::FrameAncestors>,
    pub(crate) ready: web::Data<routes::ready::ReadyAnswers>,
    pub(crate) cors_origins: Arc<Vec<String>>,
    pub(crate) hsts: bool,
}

impl Shell {
    /// The application: middleware around the API, the pages and the docs.
    pub(crate) fn app(
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
pub(crate) fn ready_answers(gateway: &Gateway) -> routes::ready::ReadyAnswers {
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
pub(crate) fn serve_demo(
    listener: TcpListener,
    gateway: &str,
) -> Result<(SocketAddr, Server), StartError> {
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

/// The demo clinic site (`examples/demo-site/index.html`), with `{{GATEWAY}}` to fill in.
const DEMO_PAGE: &str = include_str!("../../../../examples/demo-site/index.html");

#[cfg(test)]
mod tests {
    use crate::routing::RouteIndex;
    use crate::{edge, pages, routes};
    use actix_web::{App, web};

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
