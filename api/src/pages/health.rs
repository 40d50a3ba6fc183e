//! Liveness and readiness.

use crate::security::Guards;
use actix_web::{HttpRequest, HttpResponse, web};
use gateway_domain::Gateway;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, `ready` or `not_ready`.
    status: &'static str,
    /// Whether the state the gateways share can be used (`ok`, `unavailable`, or
    /// `failing_over` while Sentinel names no primary that answers; always `ok` when it is in
    /// this process's memory). Without it no session or booking is possible.
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    clinics: Vec<ClinicHealth>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    regions: Vec<RegionHealth>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegionHealth {
    id: String,
    /// Whether its catalogue was ever read from its hub (before, none of its routes and
    /// clinics can answer).
    catalogue_read: bool,
    /// How many of its clinics (of those asked lately) have their breaker open.
    clinics_down: usize,
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
        regions: Vec::new(),
    })
}

/// Ready only while every clinic's МИС answers, every region's catalogue has been read, and
/// the shared state (Redis, when configured) can be used. Answered from each clinic's circuit
/// breaker and a probe cached for a few seconds, so a burst of checks never reaches the МИС.
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
    let regions: Vec<RegionHealth> = gateway
        .regions
        .iter()
        .map(|r| RegionHealth {
            id: r.id().to_owned(),
            catalogue_read: r.catalogue.snapshot().is_some(),
            clinics_down: r.open_breakers(),
        })
        .collect();
    let ready =
        state_ok && clinics.iter().all(|c| c.mis_up) && regions.iter().all(|r| r.catalogue_read);
    // Which clinic's МИС is down is for the operator only.
    let (clinics, regions) = if guards.is_operator(&req) {
        (clinics, regions)
    } else {
        (Vec::new(), Vec::new())
    };
    let body = Health {
        status: if ready { "ready" } else { "not_ready" },
        state: Some(if state_ok {
            "ok"
        } else if gateway.shared.health.failing_over() {
            "failing_over"
        } else {
            "unavailable"
        }),
        clinics,
        regions,
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
    // Lines about clients that never sent a valid request, past the few a second written.
    metrics::counter!("registratura_log_lines_suppressed_total")
        .absolute(crate::telemetry::suppressed_lines());
    gateway_domain::metrics::holdings(
        gateway.shared.sessions.count(),
        gateway.shared.idempotency.count(),
        &clients,
    );
    for region in &gateway.regions {
        gateway_domain::metrics::region_breakers(region.id(), region.open_breakers());
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(gateway_state::metrics::render()))
}
