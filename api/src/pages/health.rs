//! Liveness and readiness.

use crate::security::Guards;
use actix_web::{HttpRequest, HttpResponse, web};
use gateway_domain::Gateway;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, `ready` or `not_ready`.
    status: &'static str,
    /// Whether the state the gateways share can be used (`ok` or `unavailable`; always `ok`
    /// when it is in this process's memory). Without it no session or booking is possible.
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    clinics: Vec<ClinicHealth>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClinicHealth {
    id: String,
    /// Whether its МИС answers (its breaker is closed and a probe of a few seconds ago got an
    /// answer).
    mis_up: bool,
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        state: None,
        clinics: Vec::new(),
    })
}

/// Ready only while every clinic's МИС answers and the shared state (Redis, when configured)
/// can be used. Answered from each clinic's circuit breaker and a probe cached for a few
/// seconds, so a burst of checks never reaches the МИС.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = Health))
)]
pub async fn readyz(
    gateway: web::Data<Gateway>,
    guards: web::Data<Guards>,
    req: HttpRequest,
) -> HttpResponse {
    let probes = gateway.clinics().iter().map(|c| async move {
        ClinicHealth {
            id: c.info.id.clone(),
            mis_up: c.mis.ready().await,
        }
    });
    let (clinics, state_ok) = futures_util::future::join(
        futures_util::future::join_all(probes),
        gateway.shared.health.check(),
    )
    .await;
    let state_ok = state_ok.is_ok();
    let ready = state_ok && clinics.iter().all(|c| c.mis_up);
    // Which clinic's МИС is down is for the operator only.
    let clinics = if guards.is_operator(&req) {
        clinics
    } else {
        Vec::new()
    };
    let body = Health {
        status: if ready { "ready" } else { "not_ready" },
        state: Some(if state_ok { "ok" } else { "unavailable" }),
        clinics,
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Metrics in the Prometheus text format, for operators (`server.operator_allow`) only.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, content_type = "text/plain", body = String, description = "The Prometheus text format"),
        (status = 403, body = api_types::Problem, content_type = "application/problem+json", description = "`forbidden`: not an operator's address"),
    )
)]
pub async fn metrics(
    gateway: web::Data<Gateway>,
    guards: web::Data<Guards>,
    req: HttpRequest,
) -> Result<HttpResponse, crate::error::ApiError> {
    if !guards.is_operator(&req) {
        return Err(crate::error::ApiError::new(api_types::ErrorCode::Forbidden)
            .detail("Metrics are for the operator's addresses (server.operator_allow)."));
    }
    let clients =
        gateway_domain::limits::Class::ALL.map(|c| (c.as_str(), gateway.shared.limits.clients(c)));
    // Log lines the writer could not keep up with, dropped rather than waited for.
    metrics::counter!("registratura_log_lines_dropped_total")
        .absolute(crate::telemetry::dropped_lines());
    gateway_domain::metrics::holdings(
        gateway.shared.sessions.count(),
        gateway.shared.idempotency.count(),
        &clients,
    );
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(gateway_domain::metrics::render()))
}
