//! Facing the internet: who the client is, how often it may ask, and who may see the
//! operator surfaces.
//!
//! The client's address is the peer's, unless the peer is a configured trusted proxy; then it
//! is the right-most address of `X-Forwarded-For` that is not itself a trusted proxy (the
//! left-most entries are whatever the client claims). Rate limits are token buckets per
//! client address and class of request: strict for identification (guessing patients' data),
//! looser for other writes, loosest for reads.

use crate::error::ApiError;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use api_types::ErrorCode;
use ipnet::IpNet;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Parses a list of addresses or CIDR networks (`127.0.0.1`, `10.0.0.0/8`, `::1`).
pub fn parse_networks(list: &[String]) -> Result<Vec<IpNet>, String> {
    list.iter()
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{s:?} is not an address or a network"))
        })
        .collect()
}

fn contains(nets: &[IpNet], ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    nets.iter().any(|n| n.contains(&ip))
}

/// The client's address, given the peer's and the trusted proxies.
pub fn client_ip(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer?;
    if !contains(trusted, peer) {
        return Some(peer);
    }
    let Some(chain) = forwarded_for else {
        return Some(peer);
    };
    let mut client = peer;
    for hop in chain.rsplit(',') {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !contains(trusted, ip) {
            break;
        }
    }
    Some(client)
}

/// Limits per class of request: a sustained rate and a burst.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// `POST .../sessions`, per client per minute.
    pub identify_per_minute: u32,
    pub identify_burst: u32,
    /// Other writes (booking, cancelling, ending a session).
    pub write_per_minute: u32,
    pub write_burst: u32,
    /// Reads.
    pub read_per_minute: u32,
    pub read_burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            identify_per_minute: 10,
            identify_burst: 5,
            write_per_minute: 60,
            write_burst: 20,
            read_per_minute: 1200,
            read_burst: 300,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Class {
    Identify,
    Write,
    Read,
}

fn class_of(method: &Method, path: &str) -> Option<Class> {
    if !path.starts_with("/api/") {
        return None;
    }
    if *method == Method::POST && path.ends_with("/sessions") {
        Some(Class::Identify)
    } else if *method == Method::GET || *method == Method::HEAD {
        Some(Class::Read)
    } else if *method == Method::OPTIONS {
        None
    } else {
        Some(Class::Write)
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets per client and class.
#[derive(Debug)]
pub struct RateLimiter {
    config: RateLimitConfig,
    buckets: Mutex<HashMap<(IpAddr, Class), Bucket>>,
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig) -> Self {
        Self {
            config,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn limits(&self, class: Class) -> (f64, f64) {
        let c = &self.config;
        let (per_minute, burst) = match class {
            Class::Identify => (c.identify_per_minute, c.identify_burst),
            Class::Write => (c.write_per_minute, c.write_burst),
            Class::Read => (c.read_per_minute, c.read_burst),
        };
        (f64::from(per_minute) / 60.0, f64::from(burst.max(1)))
    }

    /// Takes a token; `Err(seconds)` says when the next one comes.
    fn take(&self, ip: IpAddr, class: Class) -> Result<(), u64> {
        let (rate, burst) = self.limits(class);
        if rate <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > 100_000 {
            // Forget clients whose buckets have refilled: they are indistinguishable from new.
            buckets.retain(|(_, c), b| {
                let (rate, burst) = self.limits(*c);
                b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst
            });
        }
        let bucket = buckets.entry((ip, class)).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        bucket.tokens =
            (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / rate;
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

/// What the middleware needs.
#[derive(Debug)]
pub struct Guards {
    pub limiter: RateLimiter,
    pub trusted_proxies: Vec<IpNet>,
    pub operator_allow: Vec<IpNet>,
}

impl Guards {
    /// The client's address of a request.
    pub fn client_of(&self, req: &actix_web::HttpRequest) -> Option<IpAddr> {
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        client_ip(
            req.peer_addr().map(|a| a.ip()),
            forwarded,
            &self.trusted_proxies,
        )
    }

    /// Whether the request comes from an address allowed to see operator surfaces.
    pub fn is_operator(&self, req: &actix_web::HttpRequest) -> bool {
        self.client_of(req)
            .is_some_and(|ip| contains(&self.operator_allow, ip))
    }
}

/// Rate-limits API requests per client address.
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, actix_web::Error> {
    let verdict = match (
        req.app_data::<web::Data<Guards>>(),
        class_of(req.method(), req.path()),
    ) {
        (Some(guards), Some(class)) => match guards.client_of(req.request()) {
            Some(ip) => guards.limiter.take(ip, class),
            None => Ok(()),
        },
        _ => Ok(()),
    };
    match verdict {
        Ok(()) => Ok(next.call(req).await?.map_into_left_body()),
        Err(retry_after) => {
            let mut error = ApiError::new(ErrorCode::TooManyRequests).detail(format!(
                "Too many requests from this address; retry in {retry_after} s."
            ));
            error.retry_after = Some(retry_after);
            let response = actix_web::ResponseError::error_response(&error);
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        parse_networks(&list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).expect("valid")
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = nets(&["10.0.0.0/8", "127.0.0.1"]);
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        assert_eq!(
            client_ip(ip("203.0.113.9"), Some("1.2.3.4"), &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(ip("127.0.0.1"), Some("1.2.3.4"), &trusted),
            ip("1.2.3.4")
        );
        assert_eq!(
            client_ip(
                ip("127.0.0.1"),
                Some("6.6.6.6, 1.2.3.4, 10.0.0.7"),
                &trusted
            ),
            ip("1.2.3.4")
        );
        assert_eq!(
            client_ip(ip("127.0.0.1"), Some("junk"), &trusted),
            ip("127.0.0.1")
        );
        assert_eq!(
            client_ip(ip("::ffff:127.0.0.1"), Some("1.2.3.4"), &trusted),
            ip("1.2.3.4")
        );
    }

    #[test]
    fn a_bucket_allows_its_burst_then_says_when_to_retry() {
        let limiter = RateLimiter::new(RateLimitConfig {
            identify_per_minute: 6,
            identify_burst: 3,
            ..RateLimitConfig::default()
        });
        let ip: IpAddr = [192, 0, 2, 1].into();
        for _ in 0..3 {
            assert!(limiter.take(ip, Class::Identify).is_ok());
        }
        assert_eq!(limiter.take(ip, Class::Identify), Err(10));
        assert!(
            limiter.take(ip, Class::Read).is_ok(),
            "classes are separate"
        );
        assert!(
            limiter.take([192, 0, 2, 2].into(), Class::Identify).is_ok(),
            "clients are separate"
        );
    }

    #[test]
    fn bad_networks_are_refused() {
        assert!(parse_networks(&["10.0.0.0/33".into()]).is_err());
        assert!(parse_networks(&["localhost".into()]).is_err());
    }
}
