//! Region mode: a region's districts and clinics, from the catalogue its hub gave.

use super::ready::Ready;
use crate::error::ApiError;
use actix_web::{HttpRequest, HttpResponse, web};
use api_types::routes as r;
use api_types::{District, ErrorCode, List, RegionClinic};
use gateway_domain::region::{Catalogue, Search, Snapshot};
use serde::Deserialize;
use std::sync::Arc;

/// The regions this gateway reads the catalogue of.
#[derive(Debug, Default)]
pub struct Regions(pub Vec<Arc<Catalogue>>);

impl Regions {
    /// The catalogue of `region` as last read: `not_found` for an unknown region,
    /// `mis_unavailable` while its hub has never answered.
    fn snapshot(&self, region: &str) -> Result<Arc<Snapshot>, ApiError> {
        let catalogue = self
            .0
            .iter()
            .find(|c| c.id == region)
            .ok_or_else(|| ApiError::not_found("region"))?;
        catalogue.snapshot().ok_or_else(|| {
            ApiError::new(ErrorCode::MisUnavailable)
                .detail("The region's hub has not answered yet; try again in a minute.")
        })
    }
}

/// The region's districts, by the hub's order.
#[utoipa::path(get, path = r::REGION_DISTRICTS.path, tag = "region", responses(
        (status = 200, body = List<District>, headers(("ETag" = String, description = "A digest of the answer; send it back in `If-None-Match`"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current")
    ))]
pub async fn districts(
    regions: web::Data<Regions>,
    region: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let snapshot = regions.snapshot(&region)?;
    let list: List<District> = snapshot
        .districts
        .iter()
        .map(|d| District {
            id: d.id,
            name: d.name.clone(),
        })
        .collect::<Vec<_>>()
        .into();
    Ok(Ready::of(&list).to(&req))
}

/// A search of the region's clinics.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClinicQuery {
    /// Only the clinics of this district (its `id`).
    #[param(value_type = Option<i32>)]
    district: Option<String>,
    /// Only the clinics of this kind (the hub's `LPUType`, `kind` in the answer).
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<i32>)]
    kind: Option<String>,
    /// Words of the clinic's name, in any case, «ё» and «е» alike.
    #[param(max_length = 100)]
    q: Option<String>,
}

fn number(field: &str, value: Option<&str>) -> Result<Option<i32>, ApiError> {
    value
        .map(|v| {
            v.parse().map_err(|_| {
                ApiError::field(
                    field,
                    "invalid_format",
                    format!("`{field}` is a whole number."),
                )
            })
        })
        .transpose()
}

/// The region's clinics, inactive ones included (`active: false`, not bookable), filtered by
/// district, kind and name.
#[utoipa::path(
    get,
    path = r::REGION_CLINICS.path,
    tag = "region",
    params(ClinicQuery),
    responses(
        (status = 200, body = List<RegionClinic>, headers(("ETag" = String, description = "A digest of the answer; send it back in `If-None-Match`"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current")
    )
)]
pub async fn clinics(
    regions: web::Data<Regions>,
    region: web::Path<String>,
    query: web::Query<ClinicQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let district = number("district", query.district.as_deref())?;
    let kind = number("type", query.kind.as_deref())?;
    if query.q.as_deref().is_some_and(|q| q.chars().count() > 100) {
        return Err(ApiError::field(
            "q",
            "too_long",
            "`q` is at most 100 characters.",
        ));
    }
    let snapshot = regions.snapshot(&region)?;
    let search = Search {
        district,
        kind,
        text: query.q.as_deref(),
    };
    let list: List<RegionClinic> = snapshot
        .find(&search)
        .map(|c| RegionClinic {
            id: c.id.clone(),
            district: c.district,
            name: c.name.clone(),
            full_name: c.full_name.clone(),
            active: c.active,
            branch_of: c.branch_of.clone(),
            kind: c.kind,
            address: c.card.address.clone(),
            phone: c.card.phone.clone(),
            email: c.card.email.clone(),
            work_time: c.card.work_time.clone(),
        })
        .collect::<Vec<_>>()
        .into();
    Ok(Ready::of(&list).to(&req))
}
