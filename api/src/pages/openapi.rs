//! The OpenAPI description of the JSON API, built from the route table
//! ([`crate::routes::ENDPOINTS`]): each route's path and method from the table, its
//! parameters, body and success answers from its handler's `utoipa::path`, and every failure
//! it can answer, with its problem codes, from the table's error list. Request schemas carry
//! the parsers' own rules (`api_types::identity`, `gateway_domain::ids`).
//! `openapi/openapi.json` is its committed copy; a test fails when that copy is stale.

use super::health;
use crate::routes::{self, ENDPOINTS};
use api_types::routes::Method;
use api_types::{
    Across, Area, AvailableDates, Clinic, ClinicFailed, ClinicFailure, District, Doctor,
    EmailTicket, ErrorCode, FieldError, List, MailKind, MailSent, MyClinic, NamedRef, NewSession,
    NewTicket, NewWaitingRequest, PatientPhone, Problem, Referral, ReferralKind, RegionClinic,
    RegionSlot, RegionSpecialty, Reschedule, Session, Slot, Specialty, Ticket, WaitingReason,
    WaitingRequest,
};
use std::collections::BTreeMap;
use utoipa::openapi::path::{HttpMethod, Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, HeaderBuilder, PathItem, Ref, RefOr, Required, Schema};
use utoipa::{Modify, OpenApi};

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Registratura API",
        version = "1.0.0",
        description = "Book a ticket to a doctor in a clinic. Errors are RFC 9457 problem documents \
(`application/problem+json`) whose `code` member is stable; times are RFC 3339 in the clinic's \
local time with its offset; dates are `YYYY-MM-DD` in the clinic's zone. Every route answers \
`429 too_many_requests` (with `Retry-After`) past its client's limits, `403 forbidden` to an \
address `server.api_allow` does not serve, and `401 invalid_api_key` to an API key that is not \
this gateway's. Integrators may send an API key (`Authorization: ApiKey <key>`, or \
`X-Api-Key: <key>` with a patient's session) to be limited by their key's own limits.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(health::healthz, health::readyz, health::metrics),
    components(schemas(
        Clinic, Specialty, Doctor, AvailableDates, Slot, NewSession, Session, NewTicket, Ticket, NamedRef,
        Reschedule, NewWaitingRequest, WaitingRequest, WaitingReason, Referral, ReferralKind,
        Problem, FieldError, ErrorCode, List<Clinic>, List<Specialty>, List<Doctor>, List<Slot>, List<Ticket>,
        List<WaitingRequest>, District, RegionClinic, List<District>, List<RegionClinic>,
        RegionSpecialty, RegionSlot, Area, MyClinic, ClinicFailed, ClinicFailure,
        Across<RegionSpecialty>, Across<RegionSlot>, Across<MyClinic>, EmailTicket, MailKind, MailSent, PatientPhone
    )),
    modifiers(&Security, &Routes, &InputRules),
    tags(
        (name = "directory", description = "Clinics, specialties, doctors, dates and free tickets"),
        (name = "patient", description = "Identification, booking (by referral too), the patient's tickets, moving and cancelling them, the waiting list"),
        (name = "region", description = "Region mode: a region's districts and clinics from its hub, one identification for all its clinics, «my clinic», and specialties and nearest tickets across its clinics with partial answers"),
        (name = "operations", description = "Health checks"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The token of `POST /api/v1/clinics/{clinic}/sessions`, or of `POST /api/v1/regions/{region}/sessions` (for every clinic of the region).",
                    ))
                    .build(),
            ),
        );
    }
}

/// The pattern of the URL-safe public ids (specialties, doctors, slots, tickets): what
/// `gateway_domain::ids::well_formed` accepts.
pub const PUBLIC_ID_PATTERN: &str = "^[A-Za-z0-9_-]{1,2048}$";
/// The pattern of a clinic's id.
pub const CLINIC_ID_PATTERN: &str = "^[a-z0-9-]{1,64}$";

fn string_schema(pattern: &str, max: Option<usize>, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .max_length(max)
        .description(Some(description))
        .into()
}

/// A path parameter of the route table's templates.
fn path_parameter(name: &str) -> Parameter {
    use api_types::identity::{REFERRAL_MAX_CHARS, REFERRAL_PATTERN};
    let (pattern, max, description) = match name {
        "clinic" => (
            CLINIC_ID_PATTERN,
            None,
            "The clinic's id (`GET /api/v1/clinics`)",
        ),
        "specialty" => (PUBLIC_ID_PATTERN, None, "A specialty's id"),
        "doctor" => (PUBLIC_ID_PATTERN, None, "A doctor's id"),
        "ticket" => (PUBLIC_ID_PATTERN, None, "A ticket's id"),
        "request" => (PUBLIC_ID_PATTERN, None, "A waiting-list request's id"),
        "number" => (
            REFERRAL_PATTERN,
            Some(REFERRAL_MAX_CHARS),
            "The referral's number, as printed on it",
        ),
        _ => (PUBLIC_ID_PATTERN, None, "An id"),
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(string_schema(pattern, max, description)))
        .build()
}

fn http_method(m: Method) -> HttpMethod {
    match m {
        Method::Get => HttpMethod::Get,
        Method::Post => HttpMethod::Post,
        Method::Delete => HttpMethod::Delete,
    }
}

/// The problem answer of one status, naming its codes.
fn problem_response(codes: &[ErrorCode]) -> Response {
    let list: Vec<String> = codes.iter().map(|c| format!("`{}`", c.as_str())).collect();
    let mut response = ResponseBuilder::new().description(list.join(", ")).content(
        "application/problem+json",
        Content::new(Some(Ref::from_schema_name("Problem"))),
    );
    if codes.iter().any(|c| {
        matches!(
            c,
            ErrorCode::TooManyRequests | ErrorCode::MisUnavailable | ErrorCode::Overloaded
        )
    }) {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1))
                        .into_array_or_object(),
                )
                .description(Some("Seconds after which a retry may succeed".to_owned()))
                .build(),
        );
    }
    response.build()
}

trait IntoArrayOrObject {
    fn into_array_or_object(self) -> Schema;
}

impl IntoArrayOrObject for ObjectBuilder {
    fn into_array_or_object(self) -> Schema {
        Schema::Object(self.build())
    }
}

/// Adds the failures `codes` to an operation, one response per status.
fn add_failures(operation: &mut Operation, codes: impl IntoIterator<Item = ErrorCode>) {
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for code in codes {
        let list = by_status.entry(code.status()).or_default();
        if !list.contains(&code) {
            list.push(code);
        }
    }
    for (status, codes) in by_status {
        operation
            .responses
            .responses
            .insert(status.to_string(), RefOr::T(problem_response(&codes)));
    }
}

/// Every route of the table, with its parameters and failures.
struct Routes;

impl Modify for Routes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for endpoint in ENDPOINTS {
            let mut operation = (endpoint.openapi)().operation;
            let mut parameters: Vec<Parameter> =
                endpoint.route.params().map(path_parameter).collect();
            parameters.extend(operation.parameters.take().unwrap_or_default());
            operation.parameters = Some(parameters);
            add_failures(&mut operation, endpoint.failures());
            let item = openapi
                .paths
                .paths
                .entry(endpoint.route.path.to_owned())
                .or_default();
            item.merge_operations(PathItem::new(http_method(endpoint.route.method), operation));
        }
        // The health checks are limited as reads, refuse a key that is not this gateway's, and
        // meet the edge as every route does.
        for path in ["/healthz", "/readyz", "/metrics"] {
            if let Some(op) = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.get.as_mut())
            {
                let common = routes::COMMON_ERRORS.iter().copied();
                add_failures(op, common.filter(|c| *c != ErrorCode::Forbidden));
            }
        }
    }
}

/// The parsers' rules on the request schemas: what the schema accepts, the gateway accepts.
struct InputRules;

impl Modify for InputRules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use api_types::identity::{
            DATE_PATTERN, DOCUMENT_MAX_CHARS, DOCUMENT_PATTERN, PHONE_MAX_CHARS, PHONE_PATTERN,
            POLICY_MAX_CHARS, POLICY_PATTERN, REFERRAL_MAX_CHARS, REFERRAL_PATTERN,
        };
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let mut set = |schema: &str, field: &str, rule: &dyn Fn(ObjectBuilder) -> ObjectBuilder| {
            let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema) else {
                return;
            };
            let description = match object.properties.get(field) {
                Some(RefOr::T(Schema::Object(o))) => o.description.clone(),
                _ => None,
            };
            let field_schema = rule(ObjectBuilder::new().schema_type(Type::String))
                .description(description)
                .build();
            object
                .properties
                .insert(field.to_owned(), RefOr::T(Schema::Object(field_schema)));
        };
        set("NewSession", "document_number", &|o| {
            o.pattern(Some(DOCUMENT_PATTERN))
                .max_length(Some(DOCUMENT_MAX_CHARS))
        });
        set("NewSession", "policy_number", &|o| {
            o.pattern(Some(POLICY_PATTERN))
                .max_length(Some(POLICY_MAX_CHARS))
        });
        set("NewSession", "birth_date", &|o| {
            o.format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
                .pattern(Some(DATE_PATTERN))
        });
        let date = |o: ObjectBuilder| {
            o.format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
                .pattern(Some(DATE_PATTERN))
        };
        let public_id = |o: ObjectBuilder| o.pattern(Some(PUBLIC_ID_PATTERN));
        set("NewTicket", "slot_id", &public_id);
        let referral = |o: ObjectBuilder| {
            o.pattern(Some(REFERRAL_PATTERN))
                .max_length(Some(REFERRAL_MAX_CHARS))
        };
        set("NewTicket", "referral", &referral);
        set("Reschedule", "slot_id", &public_id);
        set("Reschedule", "referral", &referral);
        set("NewWaitingRequest", "specialty_id", &public_id);
        set("NewWaitingRequest", "doctor_id", &public_id);
        set("NewWaitingRequest", "phone", &|o| {
            o.pattern(Some(PHONE_PATTERN))
                .max_length(Some(PHONE_MAX_CHARS))
        });
        set("NewWaitingRequest", "from", &date);
        set("NewWaitingRequest", "to", &date);
    }
}

/// The spec as pretty JSON, as committed in `openapi/openapi.json`.
pub fn spec_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize the spec: {e}\"}}"))
}

/// `GET /openapi.json`: the spec, naming this gateway's public address (`server.public_url`)
/// as its server when there is one.
pub async fn serve(site: actix_web::web::Data<crate::site::Site>) -> actix_web::HttpResponse {
    let mut doc = ApiDoc::openapi();
    if let Some(url) = &site.public_url {
        doc.servers = Some(vec![utoipa::openapi::Server::new(url.clone())]);
    }
    actix_web::HttpResponse::Ok().json(doc)
}
