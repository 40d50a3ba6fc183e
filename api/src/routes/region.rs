//! Region mode: a region's districts and clinics, from the catalogue its hub gave; one
//! identification for all its clinics; answers across its clinics.

use super::JsonBody;
use super::ready::Ready;
use crate::error::ApiError;
use crate::extract::bearer;
use crate::wire::Wire;
use actix_web::{HttpRequest, HttpResponse, web};
use api_types::routes as r;
use api_types::{
    Across, District, ErrorCode, List, MyClinic, NewSession, RegionClinic, RegionSlot,
    RegionSpecialty, Session,
};
use gateway_domain::Gateway;
use gateway_domain::region::{Catalogue, Search, Snapshot, across, fold, session};
use serde::Deserialize;
use std::sync::{Arc, Weak};

/// The regions this gateway reads the catalogue of, and the answers made from what was last
/// read.
#[derive(Debug)]
pub struct Regions {
    catalogues: Vec<Arc<Catalogue>>,
    made: moka::sync::Cache<Arc<str>, Made>,
}

/// An answer made, and the read of the catalogue it was made from.
type Made = (Weak<Snapshot>, Ready);

/// The most bytes of answers kept made: a region's catalogue can be large (10 000 clinics
/// make some megabytes of JSON), so each answer is made once per read of the catalogue and
/// kept under what it depends on (the region, the district, the kind and the words of the
/// search as it compares them), never under the raw query: a parameter the route does not
/// know makes no new answer. The least used are dropped first.
pub const MADE_BYTES: u64 = 64 * 1024 * 1024;

impl Default for Regions {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl Regions {
    pub fn new(catalogues: Vec<Arc<Catalogue>>) -> Self {
        Self::within(catalogues, MADE_BYTES)
    }

    /// The regions of `catalogues`, their answers kept within `bytes`.
    fn within(catalogues: Vec<Arc<Catalogue>>, bytes: u64) -> Self {
        Self {
            catalogues,
            made: moka::sync::Cache::builder()
                .max_capacity(bytes)
                .weigher(|key: &Arc<str>, (_, ready): &Made| {
                    u32::try_from(ready.weight() + key.len() as u64).unwrap_or(u32::MAX)
                })
                .build(),
        }
    }

    /// How many answers are kept made.
    pub fn made(&self) -> u64 {
        self.made.run_pending_tasks();
        self.made.entry_count()
    }

    /// The bytes the answers kept made take, as counted.
    pub fn made_bytes(&self) -> u64 {
        self.made.run_pending_tasks();
        self.made.weighted_size()
    }

    /// The answer `key` names made from `snapshot`: kept from an earlier request while the
    /// catalogue was not read again, or made by `make` now.
    fn answer<T: serde::Serialize>(
        &self,
        snapshot: &Arc<Snapshot>,
        key: &[&str],
        make: impl FnOnce() -> T,
    ) -> Ready {
        use std::fmt::Write as _;
        let mut named = String::new();
        for part in key {
            let _ = write!(named, "{}:{part};", part.len());
        }
        let named: Arc<str> = named.into();
        if let Some((of, ready)) = self.made.get(&named)
            && of.upgrade().is_some_and(|s| Arc::ptr_eq(&s, snapshot))
        {
            return ready;
        }
        let ready = Ready::of(&make());
        self.made
            .insert(named, (Arc::downgrade(snapshot), ready.clone()));
        ready
    }

    /// The catalogue of `region` as last read: `not_found` for an unknown region,
    /// `mis_unavailable` while its hub has never answered.
    fn snapshot(&self, region: &str) -> Result<Arc<Snapshot>, ApiError> {
        let catalogue = self
            .catalogues
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
    let ready = regions.answer(&snapshot, &[r::REGION_DISTRICTS.path, &region], || {
        List::from(
            snapshot
                .districts
                .iter()
                .map(|d| District {
                    id: d.id,
                    name: d.name.clone(),
                })
                .collect::<Vec<_>>(),
        )
    });
    Ok(ready.to(&req))
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
    let (district, kind) = (district.map(|d| d.to_string()), kind.map(|k| k.to_string()));
    let words = query.q.as_deref().map(fold).unwrap_or_default();
    let key = [
        r::REGION_CLINICS.path,
        &region,
        district.as_deref().unwrap_or_default(),
        kind.as_deref().unwrap_or_default(),
        &words,
    ];
    let ready = regions.answer(&snapshot, &key, || {
        List::from(snapshot.find(&search).map(Wire::wire).collect::<Vec<_>>())
    });
    Ok(ready.to(&req))
}

/// Which of a region's clinics an answer across them asks.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AcrossQuery {
    /// Only the clinics of this district (its `id`); absent: every active clinic of the
    /// region (at most 200).
    #[param(value_type = Option<i32>)]
    district: Option<String>,
    /// Only these clinics: their ids, comma-separated, 1 to 20 (a patient's own, as
    /// `my-clinics` lists them); with `district`, those of them in it.
    #[param(max_length = 1000)]
    clinics: Option<String>,
}

/// The clinics a query names one by one (`?clinics=spb-1,spb-2`), if it does.
fn named_clinics(value: Option<&str>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let ids: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    if ids.is_empty() || ids.len() > across::MAX_NAMED_CLINICS || value.len() > 1000 {
        return Err(ApiError::field(
            "clinics",
            "out_of_range",
            format!(
                "`clinics` names 1 to {} clinics, comma-separated.",
                across::MAX_NAMED_CLINICS
            ),
        ));
    }
    Ok(Some(ids))
}

/// The specialties with free tickets of the region's active clinics (of a district), merged by
/// name. The clinics are asked at once under one deadline (`across_deadline_ms`); those that
/// did not answer in time, or failed, are listed in `clinics_failed` and the answer is made of
/// the others.
#[utoipa::path(
    get,
    path = r::REGION_SPECIALTIES.path,
    tag = "region",
    params(AcrossQuery),
    responses((status = 200, body = Across<RegionSpecialty>))
)]
pub async fn specialties(
    gateway: web::Data<Gateway>,
    region: web::Path<String>,
    query: web::Query<AcrossQuery>,
) -> Result<HttpResponse, ApiError> {
    let district = number("district", query.district.as_deref())?;
    let clinics = named_clinics(query.clinics.as_deref())?;
    let region = gateway.region(&region)?;
    let scope = across::Scope {
        district,
        clinics: clinics.as_deref(),
    };
    let answer = across::specialties(region, scope).await?;
    Ok(HttpResponse::Ok().json(answer.wire()))
}

/// The nearest free tickets of a specialty across a region's clinics.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotsQuery {
    /// The specialty's name, as the region's specialties list it (case and «ё» aside).
    #[param(required = true, max_length = 100)]
    specialty: Option<String>,
    /// Only the clinics of this district (its `id`).
    #[param(value_type = Option<i32>)]
    district: Option<String>,
    /// Only these clinics: their ids, comma-separated, 1 to 20; with `district`, those of
    /// them in it.
    #[param(max_length = 1000)]
    clinics: Option<String>,
    /// How many tickets at most: 1 to 50, 10 by default.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 50)]
    limit: Option<String>,
}

/// The nearest free tickets of a specialty across the region's active clinics (of a
/// district), by time: in each clinic, the tickets of the nearest day its doctors of the
/// specialty have. Each names its clinic (book it at that clinic's `tickets`) and doctor.
/// Asked at once under one deadline, with `clinics_failed` for the clinics that did not
/// answer.
#[utoipa::path(
    get,
    path = r::REGION_SLOTS.path,
    tag = "region",
    params(SlotsQuery),
    responses((status = 200, body = Across<RegionSlot>))
)]
pub async fn slots(
    gateway: web::Data<Gateway>,
    region: web::Path<String>,
    query: web::Query<SlotsQuery>,
) -> Result<HttpResponse, ApiError> {
    let district = number("district", query.district.as_deref())?;
    let specialty = query
        .specialty
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::field(
                "specialty",
                "required",
                "Name the specialty: `?specialty=Терапия`.",
            )
        })?;
    if specialty.chars().count() > 100 {
        return Err(ApiError::field(
            "specialty",
            "too_long",
            "`specialty` is at most 100 characters.",
        ));
    }
    let limit = match number("limit", query.limit.as_deref())? {
        None => 10,
        Some(n @ 1..=50) => n as usize,
        Some(_) => {
            return Err(ApiError::field(
                "limit",
                "out_of_range",
                "`limit` is from 1 to 50.",
            ));
        }
    };
    let clinics = named_clinics(query.clinics.as_deref())?;
    let region = gateway.region(&region)?;
    let scope = across::Scope {
        district,
        clinics: clinics.as_deref(),
    };
    let answer = across::nearest(region, scope, specialty, limit).await?;
    Ok(HttpResponse::Ok().json(answer.wire()))
}

/// Identifies the patient once for every clinic of the region.
///
/// The document, policy and birth date are checked and sealed into the token (an
/// authenticated cipher under the gateways' key): the gateway keeps none of them. The patient
/// is found in a clinic when a request for that clinic first needs them (a clinic with no card
/// of theirs answers `patient_not_found`); `my-clinics` finds those they are attached to. The
/// token works at `/api/v1/clinics/<region>-<idLpu>/…` for every clinic of the region.
#[utoipa::path(
    post,
    path = r::REGION_CREATE_SESSION.path,
    tag = "region",
    request_body = NewSession,
    responses((status = 201, body = Session))
)]
pub async fn create_session(
    gateway: web::Data<Gateway>,
    region: web::Path<String>,
    body: JsonBody<NewSession>,
) -> Result<HttpResponse, ApiError> {
    let region = gateway.region(&region)?;
    let typed = crate::wire::identity(body.value);
    let (token, opened) = session::open(&gateway, region, &typed).await?;
    let expires_at = opened.expires_at.with_timezone(&region.tz).fixed_offset();
    Ok(HttpResponse::Created().json(Session { token, expires_at }))
}

/// The region session of the request's bearer token.
async fn region_session<'g>(
    gateway: &'g Gateway,
    region: &str,
    req: &HttpRequest,
) -> Result<(&'g gateway_domain::region::RegionClinics, String), ApiError> {
    let region = gateway.region(region)?;
    let token = bearer(req).ok_or_else(|| {
        ApiError::new(ErrorCode::SessionRequired)
            .detail("Send the region's session token as `Authorization: Bearer <token>`.")
    })?;
    session::of_region(gateway, region, token).await?;
    Ok((region, token.to_owned()))
}

/// Ends the region's session, in every clinic of the region.
#[utoipa::path(
    delete,
    path = r::REGION_END_SESSION.path,
    tag = "region",
    security(("bearer" = [])),
    responses((status = 204, description = "The session is ended"))
)]
pub async fn end_session(
    gateway: web::Data<Gateway>,
    region: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (_, token) = region_session(&gateway, &region, &req).await?;
    gateway.end_session(&token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// «Моя поликлиника»: the region's clinics (of a district) the patient is attached to, with
/// their areas (`GetPatientsAreas`), to offer first. The clinics are asked at once under one
/// deadline; `clinics_failed` lists those that did not answer. `patient_not_found` when no
/// clinic that answered has a card of the patient.
#[utoipa::path(
    get,
    path = r::REGION_MY_CLINICS.path,
    tag = "region",
    params(AcrossQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Across<MyClinic>))
)]
pub async fn my_clinics(
    gateway: web::Data<Gateway>,
    region: web::Path<String>,
    query: web::Query<AcrossQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let district = number("district", query.district.as_deref())?;
    let (region, token) = region_session(&gateway, &region, &req).await?;
    let answer = across::mine(&gateway, region, &token, district).await?;
    Ok(HttpResponse::Ok().json(answer.wire()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use std::cell::Cell;

    #[test]
    fn an_answer_is_made_once_per_read_of_the_catalogue_and_the_made_ones_are_bounded() {
        let regions = Regions::new(Vec::new());
        let first = Arc::new(Snapshot::default());
        let req = TestRequest::with_uri("/api/v1/regions/spb/clinics?q=a").to_http_request();
        let key = ["clinics", "spb", "", "", "a"];
        let made = Cell::new(0);
        let make = || {
            made.set(made.get() + 1);
            List::from(vec![made.get()])
        };
        let a = regions.answer(&first, &key, make);
        let b = regions.answer(&first, &key, make);
        assert_eq!(made.get(), 1, "made once");
        let etag = |r: &Ready| r.to(&req).headers().get("etag").cloned();
        assert!(etag(&a).is_some());
        assert_eq!(etag(&a), etag(&b));
        // A new read of the catalogue makes it anew (the old one's is not served).
        let second = Arc::new(Snapshot::default());
        regions.answer(&second, &key, make);
        assert_eq!(made.get(), 2);
        drop(first);
        // A flood of different searches, each answer large, keeps at most the bytes allowed.
        let bounded = Regions::within(Vec::new(), 4 * 1024 * 1024);
        let large = || List::from(vec!["x".repeat(100_000)]);
        for i in 0..400 {
            let words = i.to_string();
            bounded.answer(&second, &["clinics", "spb", "", "", &words], large);
        }
        let kept = bounded.made_bytes();
        assert!(kept <= 4 * 1024 * 1024, "{kept} bytes");
        assert!(bounded.made() > 10, "not flushed whole");
        assert!(bounded.made() < 60, "bounded by bytes: {}", bounded.made());
    }
}
