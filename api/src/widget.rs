//! The widget's files, embedded in the binary: the loader (`/widget.js`), the widget page
//! (`/widget/`, with its own strict CSP) and the content-hashed assets (`/widget/assets/…`,
//! brotli-compressed, cached for a year).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub raw: &'static [u8],
    pub brotli: &'static [u8],
}

mod generated {
    use super::Asset;
    include!(concat!(env!("OUT_DIR"), "/widget/assets.rs"));
}

pub use generated::{ASSETS, BOOT, GLUE, STYLES, WASM};

/// The wasm's name, for the record (the boot module names it; nothing else needs to).
pub fn wasm_name() -> &'static str {
    WASM
}

/// Which pages may frame the widget (`frame-ancestors` sources).
#[derive(Debug, Clone)]
pub struct FrameAncestors(pub String);

fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

fn accepts_brotli(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|e| e.split(';').next().is_some_and(|e| e.trim() == "br"))
        })
}

fn serve(req: &HttpRequest, a: &'static Asset, cache: &'static str) -> HttpResponse {
    let mut r = HttpResponse::Ok();
    r.content_type(a.content_type)
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header(("Cross-Origin-Resource-Policy", "cross-origin"));
    if accepts_brotli(req) {
        r.insert_header((header::CONTENT_ENCODING, "br"))
            .body(a.brotli)
    } else {
        r.body(a.raw)
    }
}

/// `GET /widget.js`: the loader. Its name is stable, so it is cached briefly.
pub async fn loader(req: HttpRequest) -> HttpResponse {
    match asset("widget.js") {
        Some(a) => serve(&req, a, "public, max-age=300"),
        None => HttpResponse::NotFound().finish(),
    }
}

/// `GET /widget/assets/{name}`: a content-hashed file, cached for a year.
pub async fn hashed(req: HttpRequest, name: web::Path<String>) -> HttpResponse {
    match asset(&name).filter(|a| a.name != "widget.js") {
        Some(a) => serve(&req, a, "public, max-age=31536000, immutable"),
        None => crate::routes::not_found().await,
    }
}

/// `GET /widget/`: the widget page, framed by clinic sites.
pub async fn page(ancestors: web::Data<FrameAncestors>) -> HttpResponse {
    let csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; \
         frame-ancestors {}",
        ancestors.0
    );
    let html = format!(
        r#"<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Запись на приём к врачу</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/{STYLES}">
<link rel="modulepreload" href="assets/{GLUE}">
<script type="module" src="assets/{BOOT}"></script>
</head>
<body>
<div id="app"><p class="rg-loading">Загрузка…</p></div>
<noscript><p>Для записи на приём включите JavaScript или позвоните в регистратуру.</p></noscript>
</body>
</html>
"#
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", csp))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(html)
}

/// `GET /widget`: to the page, with its query.
pub async fn page_redirect(req: HttpRequest) -> HttpResponse {
    // Relative, so that it holds under a proxy's path prefix too.
    let q = req.query_string();
    let to = if q.is_empty() {
        "widget/".to_owned()
    } else {
        format!("widget/?{q}")
    };
    HttpResponse::Found()
        .insert_header((header::LOCATION, to))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_file_is_there_with_its_compressed_twin() {
        for name in [BOOT, GLUE, STYLES, WASM, "widget.js"] {
            let a = asset(name).unwrap_or_else(|| panic!("{name} is embedded"));
            assert!(!a.raw.is_empty() && !a.brotli.is_empty(), "{name}");
            assert!(
                a.brotli.len() < a.raw.len() || a.raw.len() < 200,
                "{name} compresses"
            );
        }
        assert!(wasm_name().ends_with(".wasm"));
        assert!(
            asset(WASM).is_some_and(|a| a.raw.starts_with(b"\0asm")),
            "real WebAssembly"
        );
    }
}
