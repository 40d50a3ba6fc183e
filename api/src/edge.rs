//! What the gateway answers at its edge, before any route runs, and what it makes of answers
//! the framework writes itself.
//!
//! - **Nothing a client sends is expanded before it is bounded.** A request whose content is
//!   compressed (`Content-Encoding` other than `identity`) is refused with
//!   `415 unsupported_media_type` before its body is read: actix would otherwise decompress
//!   each chunk whole before the body limit is counted, so 250 bytes of brotli could cost
//!   hundreds of megabytes. The same rule guards every listener of the binary (the sandbox
//!   МИС and the demo site too). A URI longer than [`MAX_URI_BYTES`] is `414 uri_too_long`.
//! - **One pass in front of every route** ([`front`]), its checks in the order of their cost:
//!   the request's id, then the refusals that read nothing but the head ([`refusal`]), then
//!   the limits (`server.api_allow`, API keys, rate limits), then the route; on the way back,
//!   the answer made a problem document if it is not one ([`ours`]), the headers every answer
//!   carries, the request's log line and its metrics.
//! - **Every answer is ours.** An error the framework or a library service makes (an empty
//!   `404` under `/docs/`, a plain-text extractor error) becomes a problem document with the
//!   code of its status ([`code_of_status`]); it passes through the same middleware as every
//!   answer, so it carries `X-Request-Id` and the security headers. What actix's HTTP/1
//!   dispatcher writes before any service runs (a malformed head, a head too large, one too
//!   slow) is replaced at the connection by [`crate::conn`].

use crate::error::ApiError;
use crate::request_id;
use crate::security::{Caller, Guards};
use crate::telemetry;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap};
use actix_web::middleware::Next;
use actix_web::web;
use api_types::ErrorCode;
use tracing::Instrument;

/// The longest request URI (path and query) accepted, in bytes.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Whether a request's content is encoded: a `Content-Encoding` naming anything but
/// `identity` (an unreadable value counts as encoded).
pub fn content_encoded(headers: &HeaderMap) -> bool {
    headers.get_all(header::CONTENT_ENCODING).any(|value| {
        value.to_str().map_or(true, |codings| {
            codings.split(',').any(|coding| {
                let coding = coding.trim();
                !coding.is_empty() && !coding.eq_ignore_ascii_case("identity")
            })
        })
    })
}

/// The refusal of a request the edge does not let in, if it is one.
pub fn refusal(req: &actix_web::HttpRequest) -> Option<ApiError> {
    if content_encoded(req.headers()) {
        return Some(ApiError::new(ErrorCode::UnsupportedMediaType).detail(
            "Send the body uncompressed (no Content-Encoding): compressed request bodies are not accepted.",
        ));
    }
    let uri = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri > MAX_URI_BYTES {
        return Some(
            ApiError::new(ErrorCode::UriTooLong)
                .detail(format!("The URI may be at most {MAX_URI_BYTES} bytes.")),
        );
    }
    None
}

/// Refuses, before anything reads them, requests whose body is compressed or whose URI is
/// too long.
pub async fn bound(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    match refusal(req.request()) {
        None => Ok(next.call(req).await?.map_into_left_body()),
        Some(error) => {
            let response = actix_web::ResponseError::error_response(&error);
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

/// The problem code of an error status the framework answered with.
pub fn code_of_status(status: StatusCode) -> ErrorCode {
    match status.as_u16() {
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        408 => ErrorCode::RequestTimeout,
        413 => ErrorCode::PayloadTooLarge,
        414 => ErrorCode::UriTooLong,
        415 => ErrorCode::UnsupportedMediaType,
        429 => ErrorCode::TooManyRequests,
        431 => ErrorCode::HeadersTooLarge,
        s if s >= 500 => ErrorCode::Internal,
        _ => ErrorCode::BadRequest,
    }
}

/// Whether an error answer is one of ours or a page meant for people: a problem document, the
/// readiness report (JSON) or an HTML page (the widget's page for an unknown clinic). Anything
/// else (no body type, plain text) was made by the framework or a library.
fn is_ours(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            let essence = t.split(';').next().unwrap_or("").trim();
            essence.eq_ignore_ascii_case("application/problem+json")
                || essence.eq_ignore_ascii_case("application/json")
                || essence.eq_ignore_ascii_case("text/html")
        })
}

/// The answer to any path the gateway does not serve.
pub async fn not_found() -> actix_web::HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::not_found("path"))
}

/// How the edge answers (the application's data).
#[derive(Debug, Clone, Copy)]
pub struct Edge {
    /// Whether every answer carries `Strict-Transport-Security`.
    pub hsts: bool,
}

/// The one middleware in front of every route (see the module's documentation).
pub async fn front(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse, actix_web::Error> {
    let started = std::time::Instant::now();
    let guards = req.app_data::<web::Data<Guards>>().cloned();
    let guarded: Option<&Guards> = guards.as_ref().map(|g| g.get_ref());
    let hsts = req.app_data::<web::Data<Edge>>().is_some_and(|e| e.hsts);
    let id = request_id::assign(&req, guarded);
    let caller = guards.as_ref().map(|g| g.caller(req.request()));
    let method = telemetry::method_label(req.method().as_str());
    let line = telemetry::RequestLine::of(&id, method, caller.as_ref(), guarded, req.peer_addr());
    let span = telemetry::request_span(&line);
    // The widget's page names in its CSP who may frame it; no other page may be framed.
    let framed = req.path() == "/widget/";
    let answer = admit_and_route(req, next, guards.clone(), caller).instrument(span.clone());
    let mut res = match gateway_domain::context::scope(id.clone(), answer).await {
        Ok(res) => ours(res),
        Err(error) => {
            // No service below answers with an error unanswered (they answer their errors),
            // and the request is theirs by now: the HTTP layer answers it.
            let status = error.as_response_error().status_code().as_u16();
            telemetry::request_done(&span, &line, status, started.elapsed());
            return Err(error);
        }
    };
    every_answer_s_headers(res.headers_mut(), hsts, framed);
    request_id::tell(res.headers_mut(), &id);
    telemetry::request_done(&span, &line, res.status().as_u16(), started.elapsed());
    Ok(res)
}

/// The request refused at the edge or by the limits, or routed (a `HEAD` as a `GET`: the HTTP
/// layer, which saw the `HEAD`, sends the answer's head without its body).
async fn admit_and_route(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    guards: Option<web::Data<Guards>>,
    caller: Option<Caller>,
) -> Result<ServiceResponse, actix_web::Error> {
    if let Some(error) = refusal(req.request()) {
        return Ok(refuse(req, &error));
    }
    if let (Some(guards), Some(caller)) = (guards, caller)
        && let Err(error) = guards.admit(&caller).await
    {
        return Ok(refuse(req, &error));
    }
    if req.method() == actix_web::http::Method::HEAD {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

fn refuse(req: ServiceRequest, error: &ApiError) -> ServiceResponse {
    let response = actix_web::ResponseError::error_response(error);
    req.into_response(response)
}

/// Every error answer made below the edge that is not a problem document (see [`is_ours`]) made
/// one: a browser's preflight from an origin CORS refuses (actix-cors answers `400` in plain
/// text) is `403 forbidden` naming the setting; anything else gets the code its status names
/// ([`code_of_status`]: a status without a code of its own is `400 bad_request`, or `500
/// internal`), keeping its `Allow` and `Retry-After`.
fn ours(res: ServiceResponse) -> ServiceResponse {
    let status = res.status();
    if status.as_u16() < 400 {
        return res;
    }
    let cors_refused = res
        .response()
        .error()
        .is_some_and(|e| e.as_error::<actix_cors::CorsError>().is_some());
    if cors_refused {
        let problem = ApiError::new(ErrorCode::Forbidden).detail(
            "This site may not call the API from a browser: its origin is not in server.cors_origins.",
        );
        return res.into_response(actix_web::ResponseError::error_response(&problem));
    }
    if is_ours(res.headers()) {
        return res;
    }
    let error = ApiError::new(code_of_status(status)).detail(match status.as_u16() {
        404 => "No such path.".to_owned(),
        _ => format!("The request was refused ({status})."),
    });
    let mut problem = actix_web::ResponseError::error_response(&error);
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(value) = res.headers().get(&name) {
            problem.headers_mut().insert(name, value.clone());
        }
    }
    res.into_response(problem)
}

/// The headers every answer carries (those a route set itself kept), and `X-Frame-Options:
/// DENY` on every page but the widget's.
fn every_answer_s_headers(headers: &mut HeaderMap, hsts: bool, framed: bool) {
    use header::HeaderValue;
    let mut default = |name: header::HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    default(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    default(header::REFERRER_POLICY, "no-referrer");
    if hsts {
        default(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    if !framed {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn only_identity_is_an_unencoded_body() {
        let encoded = |values: &[&str]| {
            let mut req = TestRequest::default();
            for v in values {
                req = req.append_header((header::CONTENT_ENCODING, *v));
            }
            content_encoded(req.to_http_request().headers())
        };
        assert!(!encoded(&[]));
        assert!(!encoded(&["identity"]));
        assert!(!encoded(&["IDENTITY", " identity ,identity"]));
        for bad in [
            "gzip",
            "br",
            "deflate",
            "zstd",
            "x-gzip",
            "identity, gzip",
            "compress",
        ] {
            assert!(encoded(&[bad]), "{bad}");
        }
        assert!(encoded(&["identity", "br"]), "every line counts");
    }

    #[test]
    fn every_error_status_has_a_code_of_that_status() {
        for status in [400, 404, 405, 408, 413, 414, 415, 429, 431, 500] {
            let code = code_of_status(StatusCode::from_u16(status).expect("a status"));
            assert_eq!(code.status(), status, "{code:?}");
        }
        assert_eq!(
            code_of_status(StatusCode::IM_A_TEAPOT),
            ErrorCode::BadRequest
        );
    }
}
