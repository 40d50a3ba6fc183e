//! What a route needs, loaded before its handler runs: the clinic its path names
//! ([`Clinic`]), and the clinic with the patient whose session the request carries
//! ([`Patient`]); [`Then`] runs two of them one after the other.

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use gateway_domain::sessions::Session;
use gateway_domain::{ClinicEntry, Gateway};

/// The domain, as the application holds it.
fn gateway(req: &HttpRequest) -> Result<web::Data<Gateway>, ApiError> {
    req.app_data::<web::Data<Gateway>>()
        .cloned()
        .ok_or_else(|| ApiError(gateway_domain::Failure::internal("no gateway in the app")))
}

/// The clinic the route's `{clinic}` names (`404` when the gateway serves no such clinic).
fn clinic_of(req: &HttpRequest, gateway: &Gateway) -> Result<ClinicEntry, ApiError> {
    let id = req.match_info().get("clinic").unwrap_or_default();
    Ok(gateway.clinic(id)?)
}

/// The bearer token of a request, if it has exactly one.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = crate::headers::credential(req, actix_web::http::header::AUTHORIZATION)?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The clinic of the route.
#[derive(Debug)]
pub struct Clinic(pub ClinicEntry);

impl FromRequest for Clinic {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(gateway(req).and_then(|g| clinic_of(req, &g).map(Self)))
    }
}

/// The clinic of the route, and the live session of the request's `Authorization: Bearer`
/// token for it (`401 session_required` otherwise).
#[derive(Debug)]
pub struct Patient {
    pub clinic: ClinicEntry,
    pub session: Session,
}

impl FromRequest for Patient {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let gateway = gateway(&req)?;
            let clinic = clinic_of(&req, &gateway)?;
            let session =
                gateway_domain::region::session::of_request(&gateway, bearer(&req), &clinic)
                    .await?;
            Ok(Self { clinic, session })
        })
    }
}

/// Two extractors, the first before the second (actix runs a handler's own side by side, so
/// which failure answers would be a race): a body, then the patient, as the gateway has always
/// checked them.
#[derive(Debug)]
pub struct Then<A, B>(pub A, pub B);

impl<A, B> FromRequest for Then<A, B>
where
    A: FromRequest<Error = ApiError> + 'static,
    B: FromRequest<Error = ApiError> + 'static,
{
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let first = A::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let a = first.await?;
            let b = B::from_request(&req, &mut Payload::None).await?;
            Ok(Self(a, b))
        })
    }
}
