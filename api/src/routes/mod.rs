//! The HTTP surface. Every API route is one row of [`ENDPOINTS`]: its method and path (from
//! [`api_types::routes`], which the widget builds its URLs from), its limit class, whether its
//! answers are private, the failures it can answer and its handler. [`configure`] registers
//! the rows, the OpenAPI document describes them (`crate::openapi`), and a test walks them.

mod body;
mod directory;
mod health;
mod patient;
mod referral;
mod waiting;

pub use body::JsonBody;
pub use directory::{
    __path_clinics, __path_dates, __path_doctors, __path_slots, __path_specialties, specialty_list,
};
pub use health::{__path_healthz, __path_metrics, __path_readyz};
pub use patient::{
    __path_cancel_ticket, __path_create_session, __path_create_ticket, __path_end_session,
    __path_get_ticket, __path_list_tickets, __path_reschedule_ticket,
};
pub use referral::{__path_get_referral, __path_referral_slots};
pub use waiting::{__path_join_waiting_list, __path_leave_waiting_list, __path_waiting_list};

use crate::error::ApiError;
use crate::security::limiter::Class;
use actix_web::http::{Method as HttpMethod, header};
use actix_web::{HttpResponse, middleware, web};
use api_types::ErrorCode::{self, *};
use api_types::routes::{self as r, Method, Route};
use utoipa::openapi::path::Operation;

/// What a booking can meet, whether it books a new time or moves a visit to it: the same
/// `SetAppointment`, the same referral and idempotency rules.
const BOOKING_ERRORS: &[ErrorCode] = &[
    NotFound,
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
    /// Its OpenAPI operation (parameters, body, success answers), from its `utoipa::path`.
    pub operation: fn() -> Operation,
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
    /// the common ones, each once.
    pub fn failures(&self) -> Vec<ErrorCode> {
        let body = (self.operation)().request_body.is_some();
        let mut all: Vec<ErrorCode> = Vec::new();
        let extra: &[ErrorCode] = if body { BODY_ERRORS } else { &[] };
        for code in self.errors.iter().chain(extra).chain(COMMON_ERRORS) {
            if !all.contains(code) {
                all.push(*code);
            }
        }
        all
    }
}

fn op<P: utoipa::Path>() -> Operation {
    P::operation()
}

/// Every route of the API.
pub static ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        route: r::CLINICS,
        class: Class::Read,
        private: false,
        errors: &[],
        operation: op::<__path_clinics>,
        handler: |route| route.to(directory::clinics),
    },
    Endpoint {
        route: r::SPECIALTIES,
        class: Class::Read,
        private: false,
        errors: &[NotFound, InvalidInput, MisBadResponse, MisUnavailable],
        operation: op::<__path_specialties>,
        handler: |route| route.to(directory::specialties),
    },
    Endpoint {
        route: r::DOCTORS,
        class: Class::Read,
        private: false,
        errors: &[NotFound, InvalidInput, MisBadResponse, MisUnavailable],
        operation: op::<__path_doctors>,
        handler: |route| route.to(directory::doctors),
    },
    Endpoint {
        route: r::DATES,
        class: Class::Read,
        private: false,
        errors: &[NotFound, InvalidInput, MisBadResponse, MisUnavailable],
        operation: op::<__path_dates>,
        handler: |route| route.to(directory::dates),
    },
    Endpoint {
        route: r::SLOTS,
        class: Class::Read,
        private: false,
        errors: &[NotFound, InvalidInput, MisBadResponse, MisUnavailable],
        operation: op::<__path_slots>,
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
        operation: op::<__path_create_session>,
        handler: |route| route.to(patient::create_session),
    },
    Endpoint {
        route: r::END_SESSION,
        class: Class::Write,
        private: true,
        errors: &[NotFound, SessionRequired, StateUnavailable],
        operation: op::<__path_end_session>,
        handler: |route| route.to(patient::end_session),
    },
    Endpoint {
        route: r::BOOK,
        class: Class::Write,
        private: true,
        errors: BOOKING_ERRORS,
        operation: op::<__path_create_ticket>,
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
        operation: op::<__path_list_tickets>,
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
        operation: op::<__path_get_ticket>,
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
            RequestInProgress,
            StateUnavailable,
        ],
        operation: op::<__path_cancel_ticket>,
        handler: |route| route.to(patient::cancel_ticket),
    },
    Endpoint {
        route: r::RESCHEDULE,
        class: Class::Write,
        private: true,
        errors: BOOKING_ERRORS,
        operation: op::<__path_reschedule_ticket>,
        handler: |route| route.to(patient::reschedule_ticket),
    },
    Endpoint {
        route: r::JOIN_WAITING_LIST,
        class: Class::Write,
        private: true,
        errors: &[
            NotFound,
            SessionRequired,
            AlreadyOnWaitingList,
            WaitingListFull,
            InvalidInput,
            Internal,
            MisBadResponse,
            MisUnavailable,
            RequestInProgress,
            StateUnavailable,
        ],
        operation: op::<__path_join_waiting_list>,
        handler: |route| route.to(waiting::join_waiting_list),
    },
    Endpoint {
        route: r::WAITING_LIST,
        class: Class::Read,
        private: true,
        errors: &[
            NotFound,
            SessionRequired,
            MisBadResponse,
            MisUnavailable,
            StateUnavailable,
        ],
        operation: op::<__path_waiting_list>,
        handler: |route| route.to(waiting::waiting_list),
    },
    Endpoint {
        route: r::LEAVE_WAITING_LIST,
        class: Class::Write,
        private: true,
        errors: &[
            NotFound,
            SessionRequired,
            Internal,
            MisBadResponse,
            MisUnavailable,
            RequestInProgress,
            StateUnavailable,
        ],
        operation: op::<__path_leave_waiting_list>,
        handler: |route| route.to(waiting::leave_waiting_list),
    },
    Endpoint {
        route: r::REFERRAL,
        class: Class::Read,
        private: true,
        errors: &[
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
        operation: op::<__path_get_referral>,
        handler: |route| route.to(referral::get_referral),
    },
    Endpoint {
        route: r::REFERRAL_SLOTS,
        class: Class::Read,
        private: true,
        errors: &[
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
        operation: op::<__path_referral_slots>,
        handler: |route| route.to(referral::referral_slots),
    },
];

/// A page or file the gateway serves with `GET` (and `HEAD`), beside the API.
#[derive(Debug)]
pub struct Page {
    pub path: &'static str,
    pub handler: fn(actix_web::Route) -> actix_web::Route,
}

/// The docs (Swagger UI, served from the binary).
pub const DOCS: &str = "/docs/{_:.*}";

/// Every page and file beside the API (and the docs).
pub static PAGES: &[Page] = &[
    Page {
        path: "/",
        handler: |r| r.to(crate::status::page),
    },
    Page {
        path: "/status.css",
        handler: |r| r.to(crate::status::styles),
    },
    Page {
        path: "/healthz",
        handler: |r| r.to(health::healthz),
    },
    Page {
        path: "/readyz",
        handler: |r| r.to(health::readyz),
    },
    Page {
        path: "/metrics",
        handler: |r| r.to(health::metrics),
    },
    Page {
        path: "/openapi.json",
        handler: |r| r.to(crate::openapi::serve),
    },
    Page {
        path: "/docs",
        // Relative, so that it holds under a proxy's path prefix.
        handler: |r| {
            r.to(|| async {
                HttpResponse::Found()
                    .insert_header((header::LOCATION, "docs/"))
                    .finish()
            })
        },
    },
    Page {
        path: "/favicon.ico",
        handler: |r| r.to(|| async { HttpResponse::NoContent().finish() }),
    },
    Page {
        path: "/widget.js",
        handler: |r| r.to(crate::widget::loader),
    },
    Page {
        path: "/widget",
        handler: |r| r.to(crate::widget::page_redirect),
    },
    Page {
        path: "/widget/",
        handler: |r| r.to(crate::widget::page),
    },
    Page {
        path: "/widget/assets/{name}",
        handler: |r| r.to(crate::widget::hashed),
    },
];

/// Whether a route template matches a (decoded) path as actix's router does: literal segments
/// equal, `{name}` one non-empty segment, `{name:.*}` the rest.
fn template_matches(template: &str, path: &str) -> bool {
    let mut rest = path;
    let mut segments = template.split('/');
    // Both start with "/": skip the empty first segments.
    if segments.next() != Some("") || !rest.starts_with('/') {
        return false;
    }
    rest = &rest[1..];
    let mut segments = segments.peekable();
    while let Some(segment) = segments.next() {
        if segment.ends_with(":.*}") {
            return true;
        }
        let (part, tail) = match rest.split_once('/') {
            Some((part, tail)) => (part, Some(tail)),
            None => (rest, None),
        };
        let ok = if segment.starts_with('{') && segment.ends_with('}') {
            !part.is_empty()
        } else {
            part == segment
        };
        if !ok {
            return false;
        }
        match (segments.peek(), tail) {
            (None, None) => return true,
            (Some(_), Some(tail)) => rest = tail,
            _ => return false,
        }
    }
    false
}

/// The template of the route the router will choose for a (decoded) path, without the
/// router's regular expressions: the API's routes, the pages, the docs.
pub fn route_of(path: &str) -> Option<&'static str> {
    ENDPOINTS
        .iter()
        .map(|e| e.route.path)
        .chain(PAGES.iter().map(|p| p.path))
        .chain(std::iter::once(DOCS))
        .find(|t| template_matches(t, path))
}

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

fn http_method(m: Method) -> HttpMethod {
    match m {
        Method::Get => HttpMethod::GET,
        Method::Post => HttpMethod::POST,
        Method::Delete => HttpMethod::DELETE,
    }
}

/// The limit class of a request, from the route the router matched (see
/// [`crate::security::matched_pattern`]): the endpoint's own class; for other pages, `read`
/// for reads and `write` otherwise; `unmatched`, the strictest, for paths matching no route.
pub fn limit_class(method: &HttpMethod, pattern: Option<&str>) -> Class {
    let Some(pattern) = pattern else {
        return Class::Unmatched;
    };
    let reading = matches!(
        *method,
        HttpMethod::GET | HttpMethod::HEAD | HttpMethod::OPTIONS
    );
    let as_table = if *method == HttpMethod::HEAD {
        HttpMethod::GET
    } else {
        method.clone()
    };
    ENDPOINTS
        .iter()
        .find(|e| e.route.path == pattern && http_method(e.route.method) == as_table)
        .map_or(if reading { Class::Read } else { Class::Write }, |e| {
            e.class
        })
}

/// The `Allow` value of a resource serving `methods` (`HEAD` goes with `GET`).
fn allow_header(methods: impl IntoIterator<Item = Method>) -> String {
    let methods: Vec<Method> = methods.into_iter().collect();
    let mut names = Vec::new();
    for m in [Method::Get, Method::Post, Method::Delete] {
        if methods.contains(&m) {
            names.push(m.as_str());
            if m == Method::Get {
                names.push("HEAD");
            }
        }
    }
    names.join(", ")
}

/// The answer to a method a resource does not serve: `405` naming those it does.
fn method_not_allowed(allow: String) -> actix_web::Route {
    web::to(move || {
        let allow = allow.clone();
        async move {
            let mut response = actix_web::ResponseError::error_response(&ApiError::new(
                ErrorCode::MethodNotAllowed,
            ));
            if let Ok(value) = header::HeaderValue::from_str(&allow) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            response
        }
    })
}

/// A page or file served with `GET` (and `HEAD`), whose other methods answer `405`.
pub fn page(path: &str, handler: fn(actix_web::Route) -> actix_web::Route) -> actix_web::Resource {
    web::resource(path)
        .route(handler(web::get()))
        .default_service(method_not_allowed(allow_header([Method::Get])))
}

/// Registers every route of the API and the health checks.
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
    for p in PAGES {
        cfg.service(page(p.path, p.handler));
    }
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

/// The answer to any path the gateway does not serve.
pub async fn not_found() -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::not_found("path"))
}

/// Serves `HEAD` wherever `GET` is served: the request is routed as a `GET`, and the HTTP
/// layer, which saw the `HEAD`, sends the answer's head without its body.
pub async fn head_as_get(
    mut req: actix_web::dev::ServiceRequest,
    next: middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    if req.method() == HttpMethod::HEAD {
        req.head_mut().method = HttpMethod::GET;
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // The `utoipa::path` of each handler names the table's route (not a copy of it).
        fn check<P: utoipa::Path>(route: Route) {
            assert_eq!(P::path(), route.path);
            let expected = match route.method {
                Method::Get => utoipa::openapi::HttpMethod::Get,
                Method::Post => utoipa::openapi::HttpMethod::Post,
                Method::Delete => utoipa::openapi::HttpMethod::Delete,
            };
            assert!(P::methods() == [expected], "{}", route.path);
        }
        check::<__path_clinics>(r::CLINICS);
        check::<__path_specialties>(r::SPECIALTIES);
        check::<__path_doctors>(r::DOCTORS);
        check::<__path_dates>(r::DATES);
        check::<__path_slots>(r::SLOTS);
        check::<__path_create_session>(r::CREATE_SESSION);
        check::<__path_end_session>(r::END_SESSION);
        check::<__path_create_ticket>(r::BOOK);
        check::<__path_list_tickets>(r::TICKETS);
        check::<__path_get_ticket>(r::TICKET);
        check::<__path_cancel_ticket>(r::CANCEL);
    }

    #[test]
    fn classes_come_from_the_matched_route() {
        let identify = limit_class(&HttpMethod::POST, Some(r::CREATE_SESSION.path));
        assert_eq!(identify, Class::Identify);
        assert_eq!(
            limit_class(&HttpMethod::POST, Some(r::BOOK.path)),
            Class::Write
        );
        assert_eq!(
            limit_class(&HttpMethod::HEAD, Some(r::TICKETS.path)),
            Class::Read
        );
        assert_eq!(limit_class(&HttpMethod::GET, Some("/widget/")), Class::Read);
        assert_eq!(
            limit_class(&HttpMethod::PUT, Some("/healthz")),
            Class::Write
        );
        assert_eq!(limit_class(&HttpMethod::GET, None), Class::Unmatched);
    }

    #[actix_web::test]
    async fn the_route_of_a_path_is_the_one_the_router_matches() {
        use actix_web::dev::Service;
        let app = actix_web::test::init_service(
            actix_web::App::new()
                .wrap_fn(|req, srv| {
                    let router = req.resource_map().match_pattern(req.match_info().as_str());
                    let ours = route_of(req.match_info().as_str());
                    assert_eq!(router.as_deref(), ours, "{}", req.path());
                    srv.call(req)
                })
                .configure(configure)
                .service(utoipa_swagger_ui::SwaggerUi::new(DOCS))
                .default_service(web::to(not_found)),
        )
        .await;
        let mut paths: Vec<String> = vec![
            "/".into(),
            "/docs".into(),
            "/docs/".into(),
            "/docs/swagger-ui.css".into(),
            "/widget".into(),
            "/widget/".into(),
            "/widget/assets/boot-1.js".into(),
            "/widget/assets/".into(),
            "/nowhere".into(),
            "//api/v1/clinics".into(),
            "/api/v1/clinics/".into(),
            "/api/v1/clinics/demo/tickets/a/b".into(),
            "/%61pi/v1/clinics/demo/sessions".into(),
            "/api/v1/clinics/d%65mo/doctors/x/slots".into(),
            "/api/v1/clinics/demo%2Fx/specialties".into(),
        ];
        for e in ENDPOINTS {
            let args: Vec<&str> = e.route.params().map(|_| "MQ").collect();
            let url = e.route.url(&args);
            paths.push(url.clone());
            paths.push(format!("{url}/"));
            paths.push(url.replace("/MQ", "/"));
        }
        for p in PAGES {
            paths.push(p.path.replace("{name}", "x"));
        }
        for path in paths {
            let req = actix_web::test::TestRequest::get().uri(&path).to_request();
            let _ = app.call(req).await;
        }
    }

    #[test]
    fn allow_names_head_with_get() {
        assert_eq!(allow_header([Method::Get, Method::Post]), "GET, HEAD, POST");
    }
}
