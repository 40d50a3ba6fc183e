//! Request ids: every answer carries `X-Request-Id`, every log line of the request names it,
//! and every problem body quotes it (`request_id`), so a patient's screenshot leads the
//! operator to the log line.
//!
//! The id is the one a trusted proxy sent in `X-Request-Id` (when it is 1 to 128 letters,
//! digits and `._:-`), else a new one: a random prefix per process and a counter, unique and
//! cheap.

use crate::security::Guards;
use actix_web::HttpMessage;
use actix_web::dev::ServiceRequest;
use actix_web::http::header::{HeaderName, HeaderValue};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The header carrying the id.
pub const HEADER: &str = "x-request-id";

/// A request's id, kept in its extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn valid(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// A new id: `<12 random hex digits>-<counter>`.
pub fn generate() -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| {
        let mut raw = [0u8; 6];
        // Without randomness the ids are still unique within the process.
        let _ = getrandom::fill(&mut raw);
        raw.iter().map(|b| format!("{b:02x}")).collect()
    });
    format!("{prefix}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The id of a request: the one a trusted proxy sent, else a new one. Kept in the request's
/// extensions ([`RequestId`]); the edge (`crate::edge::front`) answers with it and tells the
/// domain it (`gateway_domain::context`) while the request runs.
pub fn assign(req: &ServiceRequest, guards: Option<&Guards>) -> String {
    let trusted_peer = guards.is_some_and(|g| g.from_trusted_proxy(req.request()));
    let forwarded = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| trusted_peer && valid(id))
        .map(str::to_owned);
    let id = forwarded.unwrap_or_else(generate);
    req.extensions_mut().insert(RequestId(id.clone()));
    id
}

/// Answers with the id.
pub fn tell(headers: &mut actix_web::http::header::HeaderMap, id: &str) {
    if let Ok(value) = HeaderValue::from_str(id) {
        headers.insert(HeaderName::from_static(HEADER), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert!(valid(&a) && valid(&b));
        assert!(!valid("a b") && !valid("") && !valid(&"x".repeat(129)));
    }
}
