//! Booking by referral: what a referral allows and the tickets open to it. Booking itself is
//! `POST …/tickets` with `referral`.

use super::directory::DatesQuery;
use crate::error::ApiError;
use crate::extract::Patient;
use crate::wire::{self, Wire};
use actix_web::{HttpResponse, web};
use api_types::routes as r;
use api_types::{List, Referral, Slot};
use gateway_domain::directory::query_range;
use gateway_domain::referrals::{self, Purpose};

/// What one of the patient's referrals allows: the specialty, the doctors, the last valid
/// day. Another patient's referral, or one to another clinic, is `referral_not_found`; one
/// that can no longer book is `referral_expired`, `referral_used` or `referral_cancelled`.
#[utoipa::path(
    get,
    path = r::REFERRAL.path,
    tag = "patient",
    security(("bearer" = [])),
    responses((status = 200, body = Referral))
)]
#[tracing::instrument(level = "debug", skip_all, fields(clinic = %patient.clinic.info.id))]
pub async fn get_referral(
    path: web::Path<(String, String)>,
    patient: Patient,
) -> Result<HttpResponse, ApiError> {
    let number = referrals::parse_number("number", &path.1)?;
    let resolved =
        referrals::resolve(&patient.clinic, &patient.session, &number, Purpose::Book).await?;
    Ok(HttpResponse::Ok().json(resolved.view().wire()))
}

/// The free tickets open to one of the patient's referrals, by time, from `from` to `to`
/// (default the next two weeks; never past the referral's last valid day). Book one with
/// `POST …/tickets` and `{"slot_id", "referral"}`. A referral that has booked a visit still
/// lists its times, so that the visit can be moved to one of them
/// (`POST …/tickets/{ticket}/reschedule`); booking another visit by it is `referral_used`.
#[utoipa::path(
    get,
    path = r::REFERRAL_SLOTS.path,
    tag = "patient",
    params(DatesQuery),
    security(("bearer" = [])),
    responses((status = 200, body = List<Slot>))
)]
#[tracing::instrument(level = "debug", skip_all, fields(clinic = %patient.clinic.info.id))]
pub async fn referral_slots(
    path: web::Path<(String, String)>,
    query: web::Query<DatesQuery>,
    patient: Patient,
) -> Result<HttpResponse, ApiError> {
    let Patient { clinic, session } = &patient;
    let number = referrals::parse_number("number", &path.1)?;
    let range = query_range(query.from.as_deref(), query.to.as_deref(), clinic.today())?;
    let resolved = referrals::resolve(clinic, session, &number, Purpose::Move).await?;
    let slots = referrals::slots(clinic, session, &resolved, range).await?;
    Ok(HttpResponse::Ok().json(wire::list(slots)))
}
