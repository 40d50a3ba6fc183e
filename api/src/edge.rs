//! What the gateway answers at its edge, before any route runs, and what it makes of answers
//! the framework writes itself.
//!
//! - **Nothing a client sends is expanded before it is bounded.** A request whose content is
//!   compressed (`Content-Encoding` other than `identity`) is refused with
//!   `415 unsupported_media_type` before its body is read: actix would otherwise decompress
//!   each chunk whole before the body limit is counted, so 250 bytes of brotli could cost
//!   hundreds of megabytes. The same rule guards every listener of the binary (the sandbox
//!   МИС and the demo site too). A URI longer than [`MAX_URI_BYTES`] is `414 uri_too_long`.
//! - **Every answer is ours.** An error the framework or a library service makes (an empty
//!   `404` under `/docs/`, a plain-text extractor error) becomes a problem document with the
//!   code of its status ([`code_of_status`]); it passes through the same middleware as every
//!   answer, so it carries `X-Request-Id` and the security headers. What actix's HTTP/1
//!   dispatcher writes before any service runs (a malformed head, a head too large, one too
//!   slow) is replaced at the connection by [`crate::conn`].

use crate::error::ApiError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap};
use actix_web::middleware::Next;
use api_types::ErrorCode;

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

/// Turns every error answer made below it that is not a problem document (see [`is_ours`])
/// into one of the code its status names ([`code_of_status`]: a status without a code of its
/// own is `400 bad_request`, or `500 internal`), keeping its `Allow` and `Retry-After`.
pub async fn problems(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse, actix_web::Error> {
    // (The services below answer their errors; none returns one unanswered.)
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    if status.as_u16() < 400 || is_ours(res.headers()) {
        return Ok(res);
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
    Ok(res.into_response(problem))
}

/// The answer to any path the gateway does not serve.
pub async fn not_found() -> actix_web::HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::not_found("path"))
}

/// Serves `HEAD` wherever `GET` is served: the request is routed as a `GET`, and the HTTP
/// layer, which saw the `HEAD`, sends the answer's head without its body.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == actix_web::http::Method::HEAD {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    next.call(req).await
}

/// Response headers every answer carries.
pub fn security_headers(hsts: bool) -> actix_web::middleware::DefaultHeaders {
    let headers = actix_web::middleware::DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"));
    if hsts {
        headers.add(("Strict-Transport-Security", "max-age=31536000"))
    } else {
        headers
    }
}

/// Forbids framing every page but the widget's (whose CSP names who may frame it).
pub async fn deny_framing(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let widget_page = req.path() == "/widget/";
    let mut res = next.call(req).await?;
    if !widget_page {
        res.headers_mut().insert(
            header::X_FRAME_OPTIONS,
            header::HeaderValue::from_static("DENY"),
        );
    }
    Ok(res)
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
