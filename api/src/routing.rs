//! Routes as data: [`RouteIndex`], which says for any (decoded) path which route the router
//! will choose and its limit class, built at startup from the API's route table and the pages
//! (so that what checks requests never imports what handles them); and the answers every
//! resource shares (`405` with `Allow`).

use crate::error::ApiError;
use actix_web::http::{Method as HttpMethod, header};
use actix_web::web;
use api_types::ErrorCode;
use api_types::routes::Method;
use gateway_domain::limits::Class;

/// One route of the index: its template, and for API routes the method and limit class.
#[derive(Debug, Clone)]
pub struct Indexed {
    pub template: &'static str,
    /// The method and class of an API route; `None` for pages (read for reads, write else).
    pub api: Option<(Method, Class)>,
}

/// Every route the router knows, in its order of matching.
#[derive(Debug, Clone, Default)]
pub struct RouteIndex {
    routes: Vec<Indexed>,
}

/// Whether a route template matches a (decoded) path as actix's router does: literal segments
/// equal, `{name}` one non-empty segment, `{name:.*}` the rest.
fn template_matches(template: &str, path: &str) -> bool {
    let mut segments = template.split('/');
    // Both start with "/": skip the empty first segments.
    let Some(mut rest) = path.strip_prefix('/') else {
        return false;
    };
    if segments.next() != Some("") {
        return false;
    }
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

/// The method of the route table, as HTTP names it.
pub fn http_method(m: Method) -> HttpMethod {
    match m {
        Method::Get => HttpMethod::GET,
        Method::Post => HttpMethod::POST,
        Method::Delete => HttpMethod::DELETE,
    }
}

impl RouteIndex {
    pub fn new(routes: Vec<Indexed>) -> Self {
        Self { routes }
    }

    /// The template of the route the router will choose for a (decoded) path, without the
    /// router's regular expressions.
    pub fn route_of(&self, path: &str) -> Option<&'static str> {
        self.routes
            .iter()
            .map(|r| r.template)
            .find(|t| template_matches(t, path))
    }

    /// The limit class of a request, from the route the router matched: the API route's own
    /// class; for other pages, `read` for reads and `write` otherwise; `unmatched`, the
    /// strictest, for paths matching no route.
    pub fn limit_class(&self, method: &HttpMethod, pattern: Option<&str>) -> Class {
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
        self.routes
            .iter()
            .filter(|r| r.template == pattern)
            .find_map(|r| match r.api {
                Some((m, class)) if http_method(m) == as_table => Some(class),
                _ => None,
            })
            .unwrap_or(if reading { Class::Read } else { Class::Write })
    }
}

/// The `Allow` value of a resource serving `methods` (`HEAD` goes with `GET`).
pub fn allow_header(methods: impl IntoIterator<Item = Method>) -> String {
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
pub fn method_not_allowed(allow: String) -> actix_web::Route {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> RouteIndex {
        RouteIndex::new(vec![
            Indexed {
                template: "/api/v1/clinics/{clinic}/sessions",
                api: Some((Method::Post, Class::Identify)),
            },
            Indexed {
                template: "/api/v1/clinics/{clinic}/tickets",
                api: Some((Method::Post, Class::Write)),
            },
            Indexed {
                template: "/api/v1/clinics/{clinic}/tickets",
                api: Some((Method::Get, Class::Read)),
            },
            Indexed {
                template: "/widget/",
                api: None,
            },
            Indexed {
                template: "/docs/{_:.*}",
                api: None,
            },
        ])
    }

    #[test]
    fn classes_come_from_the_matched_route() {
        let index = index();
        let class = |m: HttpMethod, p: Option<&str>| index.limit_class(&m, p);
        let tickets = Some("/api/v1/clinics/{clinic}/tickets");
        assert_eq!(
            class(HttpMethod::POST, Some("/api/v1/clinics/{clinic}/sessions")),
            Class::Identify
        );
        assert_eq!(class(HttpMethod::POST, tickets), Class::Write);
        assert_eq!(class(HttpMethod::HEAD, tickets), Class::Read);
        assert_eq!(class(HttpMethod::GET, Some("/widget/")), Class::Read);
        assert_eq!(class(HttpMethod::PUT, Some("/widget/")), Class::Write);
        assert_eq!(class(HttpMethod::GET, None), Class::Unmatched);
    }

    #[test]
    fn templates_match_as_the_router_does() {
        let index = index();
        assert_eq!(
            index.route_of("/api/v1/clinics/demo/tickets"),
            Some("/api/v1/clinics/{clinic}/tickets")
        );
        assert_eq!(index.route_of("/api/v1/clinics//tickets"), None);
        assert_eq!(index.route_of("/api/v1/clinics/demo/tickets/"), None);
        assert_eq!(index.route_of("/docs/a/b"), Some("/docs/{_:.*}"));
        assert_eq!(index.route_of("nowhere"), None);
    }

    #[test]
    fn allow_names_head_with_get() {
        assert_eq!(allow_header([Method::Get, Method::Post]), "GET, HEAD, POST");
    }
}
