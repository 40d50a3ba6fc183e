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
    /// The segments of each route's template, in the same order.
    templates: Vec<Vec<Segment>>,
}

/// One segment of a route template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Matched as it is.
    Literal(&'static str),
    /// `{name}`: one non-empty segment.
    Param,
    /// `{name:.*}`: the rest of the path.
    Rest,
}

/// The segments of a template after its leading `/` (`None` for one without it, which
/// matches nothing).
fn segments_of(template: &'static str) -> Option<Vec<Segment>> {
    let rest = template.strip_prefix('/')?;
    Some(
        rest.split('/')
            .map(|segment| {
                if segment.ends_with(":.*}") {
                    Segment::Rest
                } else if segment.starts_with('{') && segment.ends_with('}') {
                    Segment::Param
                } else {
                    Segment::Literal(segment)
                }
            })
            .collect(),
    )
}

/// The most segments of a path read: a longer path can only match a template ending in a
/// rest segment within them.
const MAX_SEGMENTS: usize = 16;

/// Whether a template matches a path's segments as actix's router does: literal segments
/// equal, `{name}` one non-empty segment, `{name:.*}` the rest (at least an empty segment);
/// `count` is how many segments the path has (more than `path.len()` when it was cut).
fn template_matches(template: &[Segment], path: &[&str], count: usize) -> bool {
    for (i, segment) in template.iter().enumerate() {
        let part = path.get(i);
        match segment {
            Segment::Rest => return i < count,
            Segment::Literal(literal) => {
                if part != Some(literal) {
                    return false;
                }
            }
            Segment::Param => {
                if part.is_none_or(|p| p.is_empty()) {
                    return false;
                }
            }
        }
    }
    template.len() == count
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
        let templates = routes
            .iter()
            // A template without its leading `/` gets no segment, not even the empty one, and
            // so matches nothing.
            .map(|r| segments_of(r.template).unwrap_or_else(|| vec![Segment::Literal("\0")]))
            .collect();
        Self { routes, templates }
    }

    /// The template of the route the router will choose for a (decoded) path, without the
    /// router's regular expressions.
    pub fn route_of(&self, path: &str) -> Option<&'static str> {
        let rest = path.strip_prefix('/')?;
        let mut parts = [""; MAX_SEGMENTS];
        let mut count = 0;
        for part in rest.split('/') {
            if let Some(slot) = parts.get_mut(count) {
                *slot = part;
            }
            count += 1;
        }
        let parts = &parts[..count.min(MAX_SEGMENTS)];
        self.templates
            .iter()
            .position(|t| template_matches(t, parts, count))
            .map(|i| self.routes[i].template)
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
        assert_eq!(index.route_of("/docs"), None);
        assert_eq!(index.route_of("/docs/"), Some("/docs/{_:.*}"));
        assert_eq!(index.route_of("/widget/"), Some("/widget/"));
        assert_eq!(index.route_of("/widget"), None);
        let deep = format!("/docs{}", "/x".repeat(40));
        assert_eq!(index.route_of(&deep), Some("/docs/{_:.*}"));
        let deep = format!("/api/v1/clinics/demo/tickets{}", "/x".repeat(40));
        assert_eq!(index.route_of(&deep), None);
    }

    #[test]
    fn allow_names_head_with_get() {
        assert_eq!(allow_header([Method::Get, Method::Post]), "GET, HEAD, POST");
    }
}
