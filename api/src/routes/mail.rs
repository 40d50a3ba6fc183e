//! The ticket leaves the page: by e-mail (the patient's address checked here, the message sent
//! by the domain through the clinic's relay), and the patient's phone written into their card
//! for the clinic's SMS reminders.

use super::JsonBody;
use crate::error::ApiError;
use crate::extract::{Patient, Then};
use actix_web::{HttpResponse, web};
use api_types::routes as r;
use api_types::{EmailTicket, MailKind, MailSent, PatientPhone};
use gateway_domain::card;
use gateway_domain::mail::{Address, Kind, Language};
use gateway_domain::{Gateway, ids};

/// Sends one of the patient's tickets to an e-mail address: the ticket as the clinic's system
/// holds it (clinic, address, doctor, room, time in the clinic's zone, what to bring) in a
/// plain-text and an HTML part, with its calendar file (`.ics`) reminding the day before and
/// two hours before. A ticket the patient cancelled is sent as its cancellation.
///
/// The address is used for this message and forgotten. A ticket may be e-mailed 3 times an
/// hour, a patient's tickets 10 times. A clinic without a mail relay answers `501
/// not_supported`; a relay that does not take the message in time, `503 mail_unavailable`
/// with `Retry-After` (nothing was sent, nothing kept).
#[utoipa::path(
    post,
    path = r::EMAIL_TICKET.path,
    tag = "patient",
    security(("bearer" = [])),
    request_body = EmailTicket,
    responses((status = 200, body = MailSent))
)]
#[tracing::instrument(level = "debug", skip_all, fields(clinic = %input.1.clinic.info.id))]
pub async fn email_ticket(
    gateway: web::Data<Gateway>,
    path: web::Path<(String, String)>,
    input: Then<JsonBody<EmailTicket>, Patient>,
) -> Result<HttpResponse, ApiError> {
    let Then(body, patient) = input;
    let id = ids::parse_ticket(&path.1).ok_or_else(|| ApiError::not_found("ticket"))?;
    let EmailTicket { email, language } = body.value;
    let language = match language.as_deref() {
        None => Language::default(),
        Some(code) => Language::of(code)
            .ok_or_else(|| ApiError::field("language", "invalid_value", "Use `ru` or `en`."))?,
    };
    if gateway.mail.relay(&patient.clinic.info.id).is_none() {
        return Err(ApiError(
            gateway_domain::Failure::new(api_types::ErrorCode::NotSupported)
                .detail("This clinic does not send tickets by e-mail."),
        ));
    }
    let to = Address::parse(&email)
        .map_err(|bad| ApiError::field("email", bad.reason(), bad.message()))?;
    let kind = gateway_domain::booking::email_ticket(
        &gateway,
        &patient.clinic,
        &patient.session,
        &id,
        (to, language),
    )
    .await?;
    Ok(HttpResponse::Ok().json(MailSent {
        kind: match kind {
            Kind::Booked => MailKind::Booked,
            Kind::Cancelled => MailKind::Cancelled,
        },
    }))
}

/// Writes the patient's mobile phone into their card at the clinic, from which the clinic's
/// own SMS reminders go (`UpdatePhoneByIdPat` on the hub). The gateway does not keep it.
/// `sms_consent` must be `true`. A FHIR clinic answers `501 not_supported`.
#[utoipa::path(
    post,
    path = r::PATIENT_PHONE.path,
    tag = "patient",
    security(("bearer" = [])),
    request_body = PatientPhone,
    responses((status = 204, description = "The phone is in the patient's card"))
)]
#[tracing::instrument(level = "debug", skip_all, fields(clinic = %input.1.clinic.info.id))]
pub async fn patient_phone(
    gateway: web::Data<Gateway>,
    input: Then<JsonBody<PatientPhone>, Patient>,
) -> Result<HttpResponse, ApiError> {
    let Then(body, patient) = input;
    let PatientPhone { phone, sms_consent } = body.value;
    let phone = card::mobile(&phone).map_err(ApiError)?;
    if !sms_consent {
        return Err(ApiError::field(
            "sms_consent",
            "required",
            "The patient's consent to the clinic's SMS reminders is needed.",
        ));
    }
    card::update_phone(&gateway, &patient.clinic, &patient.session, &phone).await?;
    Ok(HttpResponse::NoContent().finish())
}
