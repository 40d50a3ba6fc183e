//! Request bodies: JSON only, at most [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES), arrived
//! within `server.body_timeout_secs`, unknown fields refused; every failure an API problem
//! (`415`, `413`, `408`, `422`), never a plain-text one.

use crate::error::{ApiError, json_error};
use crate::site::Site;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use api_types::ErrorCode;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

/// How long a body may take to arrive where no gateway state says otherwise.
const DEFAULT_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A JSON body, parsed, with its raw bytes (for idempotency fingerprints).
#[derive(Debug)]
pub struct JsonBody<T> {
    pub value: T,
    pub raw: web::Bytes,
}

fn is_json(req: &HttpRequest) -> bool {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = is_json(req);
        let bytes = web::Bytes::from_request(req, payload);
        let deadline = req
            .app_data::<web::Data<Site>>()
            .map_or(DEFAULT_BODY_TIMEOUT, |site| site.body_timeout);
        Box::pin(async move {
            if !json {
                return Err(ApiError::new(ErrorCode::UnsupportedMediaType)
                    .detail("Send the body as application/json."));
            }
            // A client that sends its body slower than this holds nothing longer.
            let read = tokio::time::timeout(deadline, bytes).await.map_err(|_| {
                ApiError::new(ErrorCode::RequestTimeout).detail(format!(
                    "The body must arrive within {} seconds; nothing was done.",
                    deadline.as_secs()
                ))
            })?;
            let raw = read.map_err(|e| {
                if e.as_response_error().status_code()
                    == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE
                {
                    ApiError::new(ErrorCode::PayloadTooLarge).detail(format!(
                        "The body may be at most {} bytes.",
                        super::MAX_BODY_BYTES
                    ))
                } else {
                    ApiError::field("body", "unreadable", "The body could not be read.")
                }
            })?;
            let value =
                serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(&raw))
                    .map_err(|e| json_error(e.inner(), &e.path().to_string()))?;
            Ok(Self { value, raw })
        })
    }
}
