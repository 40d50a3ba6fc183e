//! The OpenAPI description of the JSON API, generated from the handlers and the wire types.
//! `openapi/openapi.json` is its committed copy; a test fails when that copy is stale.

use crate::routes;
use api_types::{
    AvailableDates, Clinic, Doctor, ErrorCode, FieldError, List, NamedRef, NewSession, NewTicket,
    Problem, Session, Slot, Specialty, Ticket,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Registratura API",
        version = "1.0.0",
        description = "Book a ticket to a doctor in a clinic. Errors are RFC 9457 problem documents \
(`application/problem+json`) whose `code` member is stable; times are RFC 3339 in the clinic's \
local time with its offset; dates are `YYYY-MM-DD` in the clinic's zone.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        routes::clinics,
        routes::specialties,
        routes::doctors,
        routes::dates,
        routes::slots,
        routes::create_session,
        routes::end_session,
        routes::create_ticket,
        routes::list_tickets,
        routes::get_ticket,
        routes::cancel_ticket,
        routes::healthz,
        routes::readyz,
    ),
    components(schemas(
        Clinic, Specialty, Doctor, AvailableDates, Slot, NewSession, Session, NewTicket, Ticket, NamedRef,
        Problem, FieldError, ErrorCode, List<Clinic>, List<Specialty>, List<Doctor>, List<Slot>, List<Ticket>
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "directory", description = "Clinics, specialties, doctors, dates and free tickets"),
        (name = "patient", description = "Identification, booking, the patient's tickets and cancelling"),
        (name = "operations", description = "Health checks"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The token of `POST /api/v1/clinics/{clinic}/sessions`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The spec as pretty JSON, as committed in `openapi/openapi.json`.
pub fn spec_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize the spec: {e}\"}}"))
}
