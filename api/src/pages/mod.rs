//! The pages and files beside the JSON API: the status page, the health checks and metrics,
//! the OpenAPI document and its docs, the widget's loader, page and files. Each is one row of
//! [`PAGES`]; [`configure`] registers them (and the docs), [`indexed`] lists them for the route
//! index.

pub mod health;
pub use widget_text::html;
pub mod openapi;
pub mod status;
pub mod widget;

use crate::routing::{Indexed, allow_header, method_not_allowed};
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use api_types::routes::Method;

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
        handler: |r| r.to(status::page),
    },
    Page {
        path: "/status.css",
        handler: |r| r.to(status::styles),
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
        handler: |r| r.to(openapi::serve),
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
        handler: |r| r.to(widget::loader),
    },
    Page {
        path: "/widget",
        handler: |r| r.to(widget::page_redirect),
    },
    Page {
        path: "/widget/",
        handler: |r| r.to(widget::page),
    },
    Page {
        path: "/widget/assets/{name}",
        handler: |r| r.to(widget::hashed),
    },
];

/// The index entries of the pages (and the docs): a page is read with `GET`, and anything
/// else counts as a write.
pub fn indexed() -> impl Iterator<Item = Indexed> {
    PAGES
        .iter()
        .map(|p| p.path)
        .chain(std::iter::once(DOCS))
        .map(|template| Indexed {
            template,
            api: None,
        })
}

/// A page or file served with `GET` (and `HEAD`), whose other methods answer `405`.
fn page(path: &str, handler: fn(actix_web::Route) -> actix_web::Route) -> actix_web::Resource {
    web::resource(path)
        .route(handler(web::get()))
        .default_service(method_not_allowed(allow_header([Method::Get])))
}

/// Registers every page, and the docs (Swagger UI, served from the binary).
pub fn configure(cfg: &mut web::ServiceConfig) {
    for p in PAGES {
        cfg.service(page(p.path, p.handler));
    }
    // The docs fetch the spec by a relative URL, so they work under a path prefix.
    cfg.service(
        utoipa_swagger_ui::SwaggerUi::new(DOCS)
            .config(utoipa_swagger_ui::Config::from("../openapi.json")),
    );
}
