//! The HTTP surface: every route is registered in [`configure`], which tests reuse.

mod directory;
mod health;
mod patient;

pub use directory::{
    __path_clinics, __path_dates, __path_doctors, __path_slots, __path_specialties,
};
pub use health::{__path_healthz, __path_readyz};
pub use patient::{
    __path_cancel_ticket, __path_create_session, __path_create_ticket, __path_end_session,
    __path_get_ticket, __path_list_tickets,
};

use crate::error::{ApiError, json_error};
use actix_web::{HttpRequest, HttpResponse, web};
use api_types::ErrorCode;
use serde::de::DeserializeOwned;

/// The failures of any route that calls a МИС, for the OpenAPI description.
#[derive(Debug, utoipa::IntoResponses)]
pub enum MisFailures {
    /// `mis_bad_response`: the clinic's information system gave an unusable answer.
    #[response(status = 502, content_type = "application/problem+json")]
    BadResponse(api_types::Problem),
    /// `mis_unavailable`: the clinic's information system cannot be reached now (with `Retry-After`).
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(api_types::Problem),
}

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Registers every route of the gateway.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .app_data(web::QueryConfig::default().error_handler(|e, _| {
            ApiError::field(
                "query",
                "invalid_format",
                format!("The query string is invalid: {e}"),
            )
            .into()
        }))
        .app_data(
            web::PathConfig::default().error_handler(|_, _| ApiError::not_found("resource").into()),
        )
        .service(resource("/healthz").route(web::get().to(health::healthz)))
        .service(resource("/readyz").route(web::get().to(health::readyz)))
        .service(
            web::scope("/api/v1")
                .service(resource("/clinics").route(web::get().to(directory::clinics)))
                .service(
                    resource("/clinics/{clinic}/specialties")
                        .route(web::get().to(directory::specialties)),
                )
                .service(
                    resource("/clinics/{clinic}/specialties/{specialty}/doctors")
                        .route(web::get().to(directory::doctors)),
                )
                .service(
                    resource("/clinics/{clinic}/doctors/{doctor}/dates")
                        .route(web::get().to(directory::dates)),
                )
                .service(
                    resource("/clinics/{clinic}/doctors/{doctor}/slots")
                        .route(web::get().to(directory::slots)),
                )
                .service(
                    resource("/clinics/{clinic}/sessions")
                        .route(web::post().to(patient::create_session)),
                )
                .service(
                    resource("/clinics/{clinic}/sessions/current")
                        .route(web::delete().to(patient::end_session)),
                )
                .service(
                    resource("/clinics/{clinic}/tickets")
                        .route(web::get().to(patient::list_tickets))
                        .route(web::post().to(patient::create_ticket)),
                )
                .service(
                    resource("/clinics/{clinic}/tickets/{ticket}")
                        .route(web::get().to(patient::get_ticket))
                        .route(web::delete().to(patient::cancel_ticket)),
                ),
        );
}

/// A resource whose other methods answer `method_not_allowed`.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(|| async {
        ApiError::new(ErrorCode::MethodNotAllowed).error()
    }))
}

/// The answer to any path the gateway does not serve.
pub async fn not_found() -> HttpResponse {
    ApiError::not_found("path").error()
}

impl ApiError {
    fn error(self) -> HttpResponse {
        actix_web::ResponseError::error_response(&self)
    }
}

/// Reads a JSON body: the content type must be JSON, and unknown fields are refused.
pub fn json_body<T: DeserializeOwned>(req: &HttpRequest, body: &[u8]) -> Result<T, ApiError> {
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
    if essence != "application/json"
        && !(essence.starts_with("application/") && essence.ends_with("+json"))
    {
        return Err(ApiError::new(ErrorCode::UnsupportedMediaType)
            .detail("Send the body as application/json."));
    }
    serde_json::from_slice(body).map_err(|e| json_error(&e))
}
