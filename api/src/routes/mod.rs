//! The JSON API. Every route is one row of [`ENDPOINTS`]: its method and path (from
//! [`api_types::routes`], which the widget builds its URLs from), its limit class, whether its
//! answers are private, the failures it can answer and its handler. [`configure`] registers
//! the rows, the OpenAPI document describes them (`crate::pages::openapi`), the route index
//! that limits requests is built from them ([`indexed`]), and a test walks them.

mod body;
mod directory;
mod mail;
mod patient;
pub mod ready;
mod referral;
pub mod region;
mod waiting;

pub use body::JsonBody;
pub use directory::{
    __path_clinics, __path_dates, __path_doctors, __path_slots, __path_specialties,
};
pub use mail::{__path_email_ticket, __path_patient_phone};
pub use patient::{
    __path_cancel_ticket, __path_create_session, __path_create_ticket, __path_end_session,
    __path_get_ticket, __path_list_tickets, __path_reschedule_ticket,
};
pub use referral::{__path_get_referral, __path_referral_slots};
pub use region::{
    __path_clinics as __path_region_clinics, __path_create_session as __path_region_create_session,
    __path_districts, __path_end_session as __path_region_end_session, __path_my_clinics,
    __path_slots as __path_region_slots, __path_specialties as __path_region_specialties,
};
pub use waiting::{__path_join_waiting_list, __path_leave_waiting_list, __path_waiting_list};

use crate::error::ApiError;
use crate::routing::{Indexed, allow_header, http_method, method_not_allowed};
use actix_web::http::header;
use actix_web::{middleware, web};
use api_types::ErrorCode::{self, *};
use api_types::routes::{self as r, Route};
use gateway_domain::limits::Class;
use utoipa::openapi::path::Operation;

/// What a booking can meet, whether it books a new time or moves a visit to it: the same
/// `SetAppointment`, the same referral and idempotency rules.
const BOOKING_ERRORS: &[ErrorCode] = &[
    NotFound,
    NotSupported,
    SessionRequired,
    SlotTaken,
    AlreadyBooked,
    NotAttached,
    BookingNotAllowed,
    ReferralNotFound,
    ReferralExpired,
    ReferralUsed,
    ReferralCancelled,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    RequestInProgress,
    InvalidInput,
    Internal,
    MisBadResponse,
    MisUnavailable,
    OutcomeUnknown,
    StateUnavailable,
];

/// One route of the API.
#[derive(Debug)]
pub struct Endpoint {
    pub route: Route,
    /// Its rate-limit class.
    pub class: Class,
    /// Its answers carry a patient's data: `Cache-Control: no-store`.
    pub private: bool,
    /// The failures it may answer, besides [`COMMON_ERRORS`] and (for a route with a body)
    /// [`BODY_ERRORS`]: see [`Endpoint::failures`].
    pub errors: &'static [ErrorCode],
    /// Its OpenAPI description (path, methods, and the operation: parameters, body, success
    /// answers), from its handler's `utoipa::path`.
    pub openapi: fn() -> Described,
    /// Attaches its handler.
    pub handler: fn(actix_web::Route) -> actix_web::Route,
}

/// Failures every API route may answer: too many requests, an address the API does not
/// serve (`server.api_allow`), an API key that is not this gateway's, and what the edge
/// refuses before routing (`crate::edge`, `crate::conn`): a compressed body, a URI too long,
/// a head that is not HTTP, too large or too slow.
pub const COMMON_ERRORS: &[ErrorCode] = &[
    TooManyRequests,
    Forbidden,
    InvalidApiKey,
    UnsupportedMediaType,
    UriTooLong,
    BadRequest,
    HeadersTooLarge,
    RequestTimeout,
];

/// Failures every route under `{clinic}` may answer: the clinic may be a region's, inactive,
/// or not known yet (the region's catalogue not read).
pub const CLINIC_ERRORS: &[ErrorCode] = &[NotFound, ClinicInactive, MisUnavailable];

/// Failures a route with a patient's session may answer besides: a region's token finds the
/// patient in the clinic at its first use there (`CheckPatient`).
pub const REGION_SESSION_ERRORS: &[ErrorCode] = &[
    PatientNotFound,
    PatientNotUnique,
    MisBadResponse,
    MisUnavailable,
];

/// Failures every route with a request body may answer besides: too large, too slow, not JSON,
/// not acceptable.
pub const BODY_ERRORS: &[ErrorCode] = &[
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    InvalidInput,
];

impl Endpoint {
    /// Every failure the route may answer: its own, those of its body (if it takes one), and
    /// the common ones, each once. A route under `{clinic}` may name a region's clinic
    /// ([`CLINIC_ERRORS`]), and one with a session may carry a region's token
    /// ([`REGION_SESSION_ERRORS`]); a route that calls a clinic's МИС may be told to retry
    /// when the МИС is at its capacity (`overloaded`, see `gateway_domain::admission`). A
    /// region's own routes answer from the catalogue read in the background, and what they
    /// ask of its clinics fails into `clinics_failed`, not into the answer's status — but for
    /// `overloaded` when not one clinic could be asked.
    pub fn failures(&self) -> Vec<ErrorCode> {
        let body = (self.openapi)().operation.request_body.is_some();
        let mut all: Vec<ErrorCode> = Vec::new();
        let extra: &[ErrorCode] = if body { BODY_ERRORS } else { &[] };
        let calls_a_clinic = self.route.path.contains("{clinic}");
        let clinic: &[ErrorCode] = if calls_a_clinic { CLINIC_ERRORS } else { &[] };
        let session: &[ErrorCode] = if calls_a_clinic && self.errors.contains(&SessionRequired) {
            REGION_SESSION_ERRORS
        } else {
            &[]
        };
        let mis: &[ErrorCode] =
            if calls_a_clinic && (self.errors.contains(&MisUnavailable) || !session.is_empty()) {
                &[Overloaded]
            } else {
                &[]
            };
        for code in self
            .errors
            .iter()
            .chain(extra)
            .chain(clinic)
            .chain(session)
            .chain(mis)
            .chain(COMMON_ERRORS)
        {
            if !all.contains(code) {
                all.push(*code);
            }
        }
        all
    }
}

/// What a handler's `utoipa::path` says of its route.
pub struct Described {
    pub path: String,
    pub methods: Vec<utoipa::openapi::HttpMethod>,
    pub operation: Operation,
}

impl std::fmt::Debug for Described {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Described")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn op<P: utoipa::Path>() -> Described {
    Described {
        path: P::path(),
        methods: P::methods(),
        operation: P::operation(),
    }
}

/// Every route of the API.
pub static ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        route: r::CLINICS,
        class: Class::Read,
        private: false,
        errors: &[],
        openapi: op::<__path_clinics>,
        handler: |route| route.to(directory::clinics),
    },
    Endpoint {
        route: r::REGION_DISTRICTS,
        class: Class::Read,
        private: false,
        errors: &[NotFound, MisUnavailable],
        openapi: op::<__path_districts>,
        handler: |route| route.to(region::districts),
    },
    Endpoint {
        route: r::REGION_CLINICS,
        class: Class::Read,
        private: false,
        errors: &[NotFound, InvalidInput, MisUnavailable],
        openapi: op::<__path_region_clinics>,
        handler: |route| route.to(region::clinics),
    },
    Endpoint {
        route: r::REGION_SPECIALTIES,
        class: Class::Across,
        private: false,
        errors: &[NotFound, InvalidInput, MisUnavailable, Overloaded],
        openapi: op::<__path_region_specialties>,
        handler: |route| route.to(region::specialties),
    },
    Endpoint {
        route: r::REGION_SLOTS,
        class: Class::Across,
        private: false,
        errors: &[NotFound, InvalidInput, MisUnavailable, Overloaded],
        openapi: op::<__path_region_slots>,
        handler: |route| route.to(region::slots),
    },
    Endpoint {
        route: r::REGION_CREATE_SESSION,
        class: Class::Identify,
        private: true,
        errors: &[
            NotFound,
            PatientNotFound,
            InvalidInput,
            Internal,
            StateUnavailable,
        ],
        openapi: op::<__path_region_create_session>,
        handler: |route| route.to(region::create_session),
    },
    Endpoint {
        route: r::REGION_END_SESSION,
        class: Class::Write,
        private: true,
        errors: &[NotFound, SessionRequired, StateUnavailable],
        openapi: op::<__path_region_end_session>,
        handler: |route| route.to(region::end_session),
    },
    Endpoint {
        route: r::REGION_MY_CLINICS,
        class: Class::Across,
        private: true,
        errors: &[
            NotFound,
            SessionRequired,
            PatientNotFound,
            InvalidInput,
            MisUnavailable,
            Overloaded,
            StateUnavailable,
        ],
        openapi: op::<__path_my_clinics>,
        handler: |route| route.to(region::my_clinics),
    },
    Endpoint {
        route: r::SPECIALTIES,
        class: Class::Read,
        private: false,
        errors: &[NotFound, InvalidInput, MisBadResponse, MisUnavailable],
        openapi: op::<__path_specialties>,
        handler: |route| route.to(directory::specialties),
    },
    Endpoint {
        route: r::DOCTORS,
        class: Class::Read,
        private: false,
        errors: &[NotFound, InvalidInput, MisBadResponse, MisUnavailable],
        openapi: op::<__path_doctors>,
        handler: |route| route.to(directory::doctors),
    },
    Endpoint {
        route: r::DATES,
        class: Class::Read,
        private: false,
        errors: &[NotFound, InvalidInput, MisBadResponse, MisUnavailable],
        openapi: op::<__path_dates>,
        handler: |route| route.to(directory::dates),
    },
    Endpoint {
        route: r::SLOTS,
        class: Class::Read,
        private: false,
        errors: &[NotFound, InvalidInput, MisBadResponse, MisUnavailable],
        openapi: op::<__path_slots>,
        handler: |route| route.to(directory::slots),
    },
    Endpoint {
        route: r::CREATE_SESSION,
        class: Class::Identify,
        private: true,
        errors: &[
            NotFound,
            PatientNotFound,
            PatientNotUnique,
            InvalidInput,
            Internal,
            MisBadResponse,
            MisUnavailable,
            StateUnavailable,
        ],
        openapi: op::<__path_create_session>,
        handler: |route| route.to(patient::create_session),
    },
    Endpoint {
        route: r::END_SESSION,
        class: Class::Write,
        private: true,
        errors: &[NotFound, SessionRequired, StateUnavailable],
        openapi: op::<__path_end_session>,
        handler: |route| route.to(patient::end_session),
    },
    Endpoint {
        route: r::BOOK,
        class: Class::Write,
        private: true,
        errors: BOOKING_ERRORS,
        openapi: op::<__path_create_ticket>,
        handler: |route| route.to(patient::create_ticket),
    },
    Endpoint {
        route: r::TICKETS,
        class: Class::Read,
        private: true,
        errors: &[
            NotFound,
            SessionRequired,
            MisBadResponse,
            MisUnavailable,
            StateUnavailable,
        ],
        openapi: op::<__path_list_tickets>,
        handler: |route| route.to(patient::list_tickets),
    },
    Endpoint {
        route: r::TICKET,
        class: Class::Read,
        private: true,
        errors: &[
            NotFound,
            SessionRequired,
            MisBadResponse,
            MisUnavailable,
            StateUnavailable,
        ],
        openapi: op::<__path_get_ticket>,
        handler: |route| route.to(patient::get_ticket),
    },
    Endpoint {
        route: r::CANCEL,
        class: Class::Write,
        private: true,
        errors: &[
            NotFound,
            SessionRequired,
            Internal,
            MisBadResponse,
            MisUnavailable,
            OutcomeUnknown,
            RequestInProgress,
            StateUnavailable,
        ],
        openapi: op::<__path_cancel_ticket>,
        handler: |route| route.to(patient::cancel_ticket),
    },
    Endpoint {
        route: r::RESCHEDULE,
        class: Class::Write,
        private: true,
        errors: BOOKING_ERRORS,
        openapi: op::<__path_reschedule_ticket>,
        handler: |route| route.to(patient::reschedule_ticket),
    },
    Endpoint {
        route: r::EMAIL_TICKET,
        class: Class::Write,
        private: true,
        errors: &[
            NotSupported,
            NotFound,
            SessionRequired,
            InvalidInput,
            TooManyRequests,
            MailUnavailable,
            MisBadResponse,
            MisUnavailable,
            StateUnavailable,
        ],
        openapi: op::<__path_email_ticket>,
        handler: |route| route.to(mail::email_ticket),
    },
    Endpoint {
        route: r::PATIENT_PHONE,
        class: Class::Write,
        private: true,
        errors: &[
            NotSupported,
            NotFound,
            SessionRequired,
            InvalidInput,
            PatientNotFound,
            Internal,
            MisBadResponse,
            MisUnavailable,
            OutcomeUnknown,
            StateUnavailable,
        ],
        openapi: op::<__path_patient_phone>,
        handler: |route| route.to(mail::patient_phone),
    },
    Endpoint {
        route: r::JOIN_WAITING_LIST,
        class: Class::Write,
        private: true,
        errors: &[
            NotSupported,
            NotFound,
            SessionRequired,
            AlreadyOnWaitingList,
            WaitingListFull,
            InvalidInput,
            Internal,
            MisBadResponse,
            MisUnavailable,
            OutcomeUnknown,
            RequestInProgress,
            StateUnavailable,
        ],
        openapi: op::<__path_join_waiting_list>,
        handler: |route| route.to(waiting::join_waiting_list),
    },
    Endpoint {
        route: r::WAITING_LIST,
        class: Class::Read,
        private: true,
        errors: &[
            NotSupported,
            NotFound,
            SessionRequired,
            MisBadResponse,
            MisUnavailable,
            StateUnavailable,
        ],
        openapi: op::<__path_waiting_list>,
        handler: |route| route.to(waiting::waiting_list),
    },
    Endpoint {
        route: r::LEAVE_WAITING_LIST,
        class: Class::Write,
        private: true,
        errors: &[
            NotSupported,
            NotFound,
            SessionRequired,
            Internal,
            MisBadResponse,
            MisUnavailable,
            OutcomeUnknown,
            RequestInProgress,
            StateUnavailable,
        ],
        openapi: op::<__path_leave_waiting_list>,
        handler: |route| route.to(waiting::leave_waiting_list),
    },
    Endpoint {
        route: r::REFERRAL,
        class: Class::Read,
        private: true,
        errors: &[
            NotSupported,
            NotFound,
            SessionRequired,
            InvalidInput,
            ReferralNotFound,
            ReferralExpired,
            ReferralUsed,
            ReferralCancelled,
            MisBadResponse,
            MisUnavailable,
            StateUnavailable,
        ],
        openapi: op::<__path_get_referral>,
        handler: |route| route.to(referral::get_referral),
    },
    Endpoint {
        route: r::REFERRAL_SLOTS,
        class: Class::Read,
        private: true,
        errors: &[
            NotSupported,
            NotFound,
            SessionRequired,
            InvalidInput,
            ReferralNotFound,
            ReferralExpired,
            ReferralUsed,
            ReferralCancelled,
            MisBadResponse,
            MisUnavailable,
            StateUnavailable,
        ],
        openapi: op::<__path_referral_slots>,
        handler: |route| route.to(referral::referral_slots),
    },
];

/// The index entries of the API's routes (their templates, methods and limit classes).
pub fn indexed() -> impl Iterator<Item = Indexed> {
    ENDPOINTS.iter().map(|e| Indexed {
        template: e.route.path,
        api: Some((e.route.method, e.class)),
    })
}

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Registers every route of the API, with what their extractors refuse answered as problems.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(|e, _| {
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
    .app_data(web::PayloadConfig::new(MAX_BODY_BYTES));
    let mut paths: Vec<&'static str> = Vec::new();
    for e in ENDPOINTS {
        if !paths.contains(&e.route.path) {
            paths.push(e.route.path);
        }
    }
    for path in paths {
        let endpoints: Vec<&Endpoint> = ENDPOINTS.iter().filter(|e| e.route.path == path).collect();
        let mut resource = web::resource(path);
        for e in &endpoints {
            resource = resource.route((e.handler)(web::method(http_method(e.route.method))));
        }
        let private = endpoints.iter().any(|e| e.private);
        let mut headers = middleware::DefaultHeaders::new();
        if private {
            headers = headers.add((header::CACHE_CONTROL, "no-store"));
        }
        cfg.service(
            resource
                .default_service(method_not_allowed(allow_header(
                    endpoints.iter().map(|e| e.route.method),
                )))
                .wrap(headers),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use api_types::routes::Method;

    #[test]
    fn every_route_of_the_wire_types_has_one_endpoint() {
        for route in api_types::routes::ALL {
            let n = ENDPOINTS.iter().filter(|e| e.route == *route).count();
            assert_eq!(n, 1, "{route:?}");
        }
        assert_eq!(ENDPOINTS.len(), api_types::routes::ALL.len());
    }

    #[test]
    fn each_endpoint_s_openapi_operation_is_its_own() {
        // Every row's `utoipa::path` names the row's own route (not a copy of it, nor
        // another row's).
        for e in ENDPOINTS {
            let described = (e.openapi)();
            assert_eq!(described.path, e.route.path);
            let expected = match e.route.method {
                Method::Get => utoipa::openapi::HttpMethod::Get,
                Method::Post => utoipa::openapi::HttpMethod::Post,
                Method::Delete => utoipa::openapi::HttpMethod::Delete,
            };
            assert!(described.methods == [expected], "{}", e.route.path);
        }
    }
}
