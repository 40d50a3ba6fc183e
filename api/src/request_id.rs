//! Request ids: every answer carries `X-Request-Id`, every log line of the request names it,
//! and every problem body quotes it (`request_id`), so a patient's screenshot leads the
//! operator to the log line.
//!
//! The id is the one a trusted proxy sent in `X-Request-Id` (when it is 1 to 128 letters,
//! digits and `._:-`), else a new one: a random prefix per process and a counter, unique and
//! cheap.

use crate::security::Guards;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
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

/// Gives every request its id, answers with it, and tells the domain it
/// (`gateway_domain::context`) while the request runs.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let trusted_peer = req
        .app_data::<web::Data<Guards>>()
        .is_some_and(|g| g.from_trusted_proxy(req.request()));
    let forwarded = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| trusted_peer && valid(id))
        .map(str::to_owned);
    let id = forwarded.unwrap_or_else(generate);
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut response = gateway_domain::context::scope(id.clone(), next.call(req)).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(HEADER), value);
    }
    Ok(response)
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
