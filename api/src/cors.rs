//! CORS: browsers may call the API from the configured origins (`server.cors_origins`) and
//! from the gateway's own pages; requests without an `Origin` (integrators' servers) pass
//! untouched. A refused preflight is answered as every other refusal (`crate::edge::front`).

use std::sync::Arc;

/// The CORS rules of `origins`.
pub fn cors(origins: Arc<Vec<String>>) -> actix_cors::Cors {
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
            header::HeaderName::from_static(crate::request_id::HEADER),
        ])
        .max_age(600)
}
