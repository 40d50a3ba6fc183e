//! Facing the internet: who the client is ([`client`]), who may call the API at all
//! (`server.api_allow`, [`keys`]), how often ([`limiter`]), and who may see the operator
//! surfaces.
//!
//! Every check is made on the route the request will actually reach: the router's own
//! matching of the decoded path, so that `/%61pi/v1/...` is `/api/v1/...` here too. A path that
//! matches no route gets the strictest limits.

pub mod client;
pub mod keys;

use crate::error::ApiError;
use crate::routing::RouteIndex;
use actix_web::{HttpMessage, HttpRequest};
use api_types::ErrorCode;
use client::Origin;
use gateway_domain::limits::{Class, ClientKey, Subject};
use ipnet::IpNet;
use keys::ApiKeys;
use std::net::{IpAddr, Ipv4Addr};

pub use client::parse_networks;

/// What the middleware needs.
#[derive(Debug)]
pub struct Guards {
    /// The rate-limit counters (this process's, or shared).
    pub limits: std::sync::Arc<dyn gateway_domain::shared::RateStore>,
    /// Which route a path reaches, and its limit class.
    pub routes: RouteIndex,
    pub trusted_proxies: Vec<IpNet>,
    pub operator_allow: Vec<IpNet>,
    /// Networks allowed to call the API; `None` allows everyone.
    pub api_allow: Option<Vec<IpNet>>,
    pub keys: ApiKeys,
}

/// The API key a request presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    None,
    Valid(usize),
    Invalid,
}

/// What the gateway knows of a request before it runs: where it came from, which route it
/// matches and its limit class. Computed once per request and kept in its extensions.
#[derive(Debug, Clone)]
pub struct Caller {
    pub origin: Origin,
    pub key: Key,
    /// The pattern of the route the router will choose (`/api/v1/clinics/{clinic}/tickets`).
    pub route: Option<&'static str>,
    pub class: Class,
    /// Whether the decoded path is under `/api/`.
    pub api: bool,
}

impl Caller {
    /// The address limits and logs use.
    pub fn ip(&self) -> IpAddr {
        self.origin.client
    }
}

impl Guards {
    /// The request's origin: its peer, seen through the trusted proxies.
    pub fn origin_of(&self, req: &HttpRequest) -> Origin {
        let peer = req
            .peer_addr()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        let lines = req
            .headers()
            .get_all("x-forwarded-for")
            .map(|v| v.to_str().unwrap_or("?"));
        client::resolve(peer, lines, &self.trusted_proxies)
    }

    /// The pattern of the route the router will match for this request, if any. The router
    /// matches the decoded (re-quoted) path, which `match_info` holds before routing.
    pub fn matched_pattern(&self, req: &HttpRequest) -> Option<&'static str> {
        self.routes.route_of(req.match_info().as_str())
    }

    fn caller_of(&self, req: &HttpRequest) -> Caller {
        let route = self.matched_pattern(req);
        let api = req.match_info().as_str().starts_with("/api/");
        let class = self.routes.limit_class(req.method(), route);
        let key = match ApiKeys::presented(req) {
            None => Key::None,
            Some(k) => self.keys.find(k).map_or(Key::Invalid, Key::Valid),
        };
        Caller {
            origin: self.origin_of(req),
            key,
            route,
            class,
            api,
        }
    }

    /// The request's [`Caller`], computed on first use.
    pub fn caller(&self, req: &HttpRequest) -> Caller {
        if let Some(c) = req.extensions().get::<Caller>() {
            return c.clone();
        }
        let caller = self.caller_of(req);
        req.extensions_mut().insert(caller.clone());
        caller
    }

    /// Whether the request's peer is one of the trusted proxies.
    pub fn from_trusted_proxy(&self, req: &HttpRequest) -> bool {
        req.peer_addr()
            .is_some_and(|peer| client::contains(&self.trusted_proxies, peer.ip()))
    }

    /// The scheme and host this request reached the gateway at (`https://clinic.example`):
    /// what a trusted proxy says it forwarded (`Forwarded`, `X-Forwarded-Host`,
    /// `X-Forwarded-Proto`), else the request's own `Host` and the listener's scheme. A
    /// forwarded header from any other peer counts for nothing, here as for the client's
    /// address and the request id.
    pub fn reached_at(&self, req: &HttpRequest) -> String {
        if self.from_trusted_proxy(req) {
            let info = req.connection_info();
            return format!("{}://{}", info.scheme(), info.host());
        }
        own_base(req)
    }

    /// Whether the request comes from an address allowed to see operator surfaces.
    pub fn is_operator(&self, req: &HttpRequest) -> bool {
        client::contains(&self.operator_allow, self.caller(req).ip())
    }

    /// Whether `server.api_allow` lets this origin call the API: its client, or a trusted
    /// proxy it came through, is in an allowed network (so that with a forwarding host in
    /// front, allowing that host lets its clients through, and nobody else).
    pub fn api_allowed(&self, origin: &Origin) -> bool {
        match &self.api_allow {
            None => true,
            Some(nets) => origin.path().any(|ip| client::contains(nets, ip)),
        }
    }

    /// The verdict on a request, before it runs.
    pub async fn admit(&self, caller: &Caller) -> Result<(), ApiError> {
        if caller.api && !self.api_allowed(&caller.origin) {
            return Err(ApiError::new(ErrorCode::Forbidden)
                .detail("This address may not call this gateway's API."));
        }
        let subject = match caller.key {
            Key::Valid(i) => Subject::ApiKey(i),
            Key::None | Key::Invalid => Subject::Client(ClientKey::from(caller.ip())),
        };
        if let Err(retry_after) = self.limits.check(subject, caller.class).await {
            tracing::info!(class = caller.class.as_str(), "request refused: rate limit");
            gateway_domain::metrics::rate_limited(caller.class.as_str());
            return Err(ApiError(
                gateway_domain::Failure::new(ErrorCode::TooManyRequests)
                    .detail(format!(
                        "Too many requests from this client; retry in {retry_after} s."
                    ))
                    .retry_after(retry_after),
            ));
        }
        if caller.key == Key::Invalid {
            return Err(ApiError::new(ErrorCode::InvalidApiKey)
                .detail("The API key is not one of this gateway's."));
        }
        Ok(())
    }
}

/// The scheme and host a request was sent to, from the request itself: its `Host` (when it
/// is a plausible host name) and whether the listener speaks TLS.
pub fn own_base(req: &HttpRequest) -> String {
    let config = req.app_config();
    let scheme = if config.secure() { "https" } else { "http" };
    let host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(vocabulary::host::plausible)
        .unwrap_or(config.host());
    format!("{scheme}://{host}")
}
