//! CORS: browsers may call the API from the configured origins (`server.cors_origins`) and
//! from the gateway's own pages; requests without an `Origin` (integrators' servers) pass
//! untouched. A refused preflight is answered as every other refusal.

use crate::error::ApiError;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use std::sync::Arc;

/// A browser's preflight from an origin CORS refuses is answered as every other refusal: a
/// `403 forbidden` problem naming the setting (actix-cors answers `400` in plain text).
pub async fn refusal(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse, actix_web::Error> {
    let res = next.call(req).await?;
    let refused = res
        .response()
        .error()
        .is_some_and(|e| e.as_error::<actix_cors::CorsError>().is_some());
    if !refused {
        return Ok(res.map_into_boxed_body());
    }
    let problem = ApiError::new(api_types::ErrorCode::Forbidden).detail(
        "This site may not call the API from a browser: its origin is not in server.cors_origins.",
    );
    Ok(res.into_response(actix_web::ResponseError::error_response(&problem)))
}

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
