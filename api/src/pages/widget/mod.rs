//! The widget's files, embedded in the binary: the loader (`/widget.js`), the widget page
//! (`/widget/`, with its own strict CSP) and the content-hashed assets (`/widget/assets/…`,
//! brotli-compressed, cached for a year).

mod first_step;

use crate::pages::html;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use gateway_domain::{ClinicEntry, Gateway};

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub raw: &'static [u8],
    pub brotli: &'static [u8],
}

/// The files of one build of the widget, by their hashed names.
#[derive(Debug, Clone, Copy)]
pub struct Build {
    /// The boot module: the page's only script.
    pub boot: &'static str,
    /// The wasm-bindgen glue the boot module imports.
    pub glue: &'static str,
    /// The WebAssembly.
    pub wasm: &'static str,
}

mod generated {
    use super::{Asset, Build};
    include!(concat!(env!("OUT_DIR"), "/widget/assets.rs"));
}

/// The two builds: a clinic's page downloads `CLINIC` (no region's screens), a region's page
/// `REGION`.
pub use generated::{ASSETS, CLINIC, REGION, STYLES};

/// The budgets of what a page downloads, written once: a test holds the builds to them and
/// BENCHMARKS.md to the same numbers. They stand where the widget is (with a kibibyte for
/// what differs between machines: the paths a build embeds), so that it cannot grow unseen;
/// the aims (120 KiB, and 15 KiB for a region's screens) are BENCHMARKS.md's, not met yet.
pub mod budget {
    /// A clinic's page: its build's boot module, glue and WebAssembly, brotli as served.
    pub const CLINIC_BYTES: usize = 149_504;
    /// What a region's screens may add to it, on a region's page only.
    pub const REGION_EXTRA_BYTES: usize = 23_552;
    /// The loader (`/widget.js`) a clinic's site embeds, gzip at its best.
    pub const LOADER_GZIP_BYTES: usize = 1_536;
}

impl Build {
    /// The files a page downloads to run this build, as the gateway sends them to a browser
    /// that takes brotli: the boot module, the glue and the WebAssembly.
    pub fn served_bytes(&self) -> usize {
        [self.boot, self.glue, self.wasm]
            .iter()
            .filter_map(|name| asset(name))
            .map(|a| a.brotli.len())
            .sum()
    }
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
        None => crate::edge::not_found().await,
    }
}

/// The widget page's query: which clinic it books for, in which language.
#[derive(Debug, serde::Deserialize)]
pub struct PageQuery {
    clinic: Option<String>,
    /// A region's page (`data-region`): the patient chooses the clinic first.
    region: Option<String>,
    lang: Option<String>,
}

/// The longest the page waits for the clinic's specialties before it goes without them (the
/// widget then asks for them itself).
const PRELOAD_WAIT: std::time::Duration = std::time::Duration::from_millis(400);

/// The clinic a widget page is for: the one its query names, or, when it names none, the one
/// clinic this gateway serves.
fn page_clinic(state: &Gateway, query: Option<&PageQuery>) -> Result<ClinicEntry, String> {
    match query.and_then(|q| q.clinic.as_deref()) {
        Some(id) => state.clinic(id).map_err(|_| id.to_owned()),
        None => match state.clinics() {
            [only] => Ok(only.clone()),
            _ => Err(String::new()),
        },
    }
}

/// What the page carries for its clinic: the data (the clinic, its offset from UTC now, and
/// its specialties, all of them, as `…/specialties?include_unavailable=true` lists them, if
/// they came in time), and the first step written from them.
async fn preload(
    gateway: &Gateway,
    entry: &ClinicEntry,
    lang: &str,
    raw_query: &str,
) -> (String, Option<String>) {
    let specialties = tokio::time::timeout(
        PRELOAD_WAIT,
        gateway_domain::directory::specialties(entry, true),
    )
    .await
    .ok()
    .and_then(Result::ok);
    let step = specialties.as_deref().map(|specialties| {
        first_step::render(
            widget_text::i18n::texts(lang),
            &entry.info.name,
            specialties,
            raw_query,
        )
    });
    // The clinic's offset from UTC now: the widget counts the clinic's days with it.
    let utc_offset_secs = entry.localize(entry.now()).offset().local_minus_utc();
    let clinic = crate::wire::clinic(gateway, entry.info.clone());
    let mut data = serde_json::json!({ "clinic": clinic, "utc_offset_secs": utc_offset_secs });
    if let Some(specialties) = specialties {
        data["specialties"] = serde_json::json!(crate::wire::list(specialties));
    }
    (script_json(&data), step)
}

/// JSON text to put in a `<script>` element: nothing in it may close the element or open a
/// comment.
fn script_json(data: &serde_json::Value) -> String {
    data.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// What a region's page carries: the region, for the widget's heading and its clinics' zone.
fn region_data(gateway: &Gateway, region: &gateway_domain::region::RegionClinics) -> String {
    script_json(&serde_json::json!({
        "region": {
            "id": region.id(),
            "name": region.catalogue.name,
            "timezone": region.tz.name(),
            "email_tickets": gateway.mail.sends_by_default(),
        }
    }))
}

/// The page for a clinic this gateway does not serve (`named` empty: none named, and the
/// gateway serves several): what is wrong, in the patient's words and the webmaster's.
fn unknown_clinic(
    state: &Gateway,
    named: &str,
    lang: &str,
    css: &str,
    csp: String,
) -> HttpResponse {
    let served = state
        .clinics()
        .iter()
        .map(|c| html::escape(&c.info.id))
        .collect::<Vec<_>>()
        .join(", ");
    let named = html::escape(&named.chars().take(64).collect::<String>());
    let (title, patient, webmaster) = if lang == "en" {
        (
            "Online booking is not available here",
            "This page cannot book a visit: please call the clinic's registry desk.".to_owned(),
            if named.is_empty() {
                format!(
                    "For the site's webmaster: name the clinic with data-clinic (this gateway serves {served})."
                )
            } else {
                format!(
                    "For the site's webmaster: data-clinic=\"{named}\" is not a clinic of this gateway (it serves {served})."
                )
            },
        )
    } else {
        (
            "Запись через интернет здесь недоступна",
            "На этой странице записаться нельзя: позвоните, пожалуйста, в регистратуру.".to_owned(),
            if named.is_empty() {
                format!(
                    "Для администратора сайта: укажите клинику в атрибуте data-clinic (этот сервер записи обслуживает: {served})."
                )
            } else {
                format!(
                    "Для администратора сайта: клиники data-clinic=\"{named}\" на этом сервере записи нет (он обслуживает: {served})."
                )
            },
        )
    };
    let html = format!(
        r#"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<style>{css}</style>
</head>
<body>
<div id="app"><div class="rg"><main class="rg-main"><div role="alert" class="rg-error"><h1 class="rg-heading">{title}</h1><p>{patient}</p><p class="rg-sub">{webmaster}</p></div></main></div></div>
</body>
</html>
"#
    );
    HttpResponse::NotFound()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", csp))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(html)
}

/// The widget's stylesheet, written into its page (so the first step paints without another
/// round trip), and its CSP hash.
fn inline_styles() -> &'static (String, String) {
    static STYLES_INLINE: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    STYLES_INLINE.get_or_init(|| {
        use base64::Engine;
        use sha2::Digest;
        let css = asset(STYLES)
            .map(|a| String::from_utf8_lossy(a.raw).into_owned())
            .unwrap_or_default();
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&css));
        (css, format!("'sha256-{hash}'"))
    })
}

/// `GET /widget/`: the widget page, framed by clinic sites. It names every file the widget
/// needs at once (the boot module, the glue, the WebAssembly, the styles), so the browser
/// fetches them side by side, and carries the clinic's specialties.
pub async fn page(
    ancestors: web::Data<FrameAncestors>,
    state: web::Data<Gateway>,
    req: HttpRequest,
) -> HttpResponse {
    let (css, css_hash) = inline_styles();
    let csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' {css_hash}; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; \
         frame-ancestors {}",
        ancestors.0
    );
    let query = web::Query::<PageQuery>::from_query(req.query_string()).ok();
    let lang = match query.as_ref().and_then(|q| q.lang.as_deref()) {
        Some("en") => "en",
        _ => "ru",
    };
    let region = query
        .as_ref()
        .filter(|q| q.clinic.is_none())
        .and_then(|q| q.region.as_deref());
    let (json, step, build) = match region {
        Some(id) => match state.region(id) {
            Ok(region) => (region_data(&state, region), None, REGION),
            Err(_) => return unknown_clinic(&state, id, lang, css, csp),
        },
        None => match page_clinic(&state, query.as_deref()) {
            Ok(entry) => {
                let (json, step) = preload(&state, &entry, lang, req.query_string()).await;
                (json, step, CLINIC)
            }
            Err(named) => return unknown_clinic(&state, &named, lang, css, csp),
        },
    };
    let Build { boot, glue, wasm } = build;
    let data = format!("<script type=\"application/json\" id=\"rg-data\">{json}</script>\n");
    let step = step.unwrap_or_else(|| {
        format!(
            "<p class=\"rg-loading\">{}</p>",
            widget_text::i18n::texts(lang).loading
        )
    });
    let html = format!(
        r#"<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Запись на приём к врачу</title>
<link rel="icon" href="data:,">
<style>{css}</style>
<link rel="preload" href="assets/{wasm}" as="fetch" type="application/wasm" crossorigin>
<link rel="modulepreload" href="assets/{glue}">
<script type="module" src="assets/{boot}"></script>
{data}</head>
<body>
<div id="app">{step}</div>
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
        for build in [CLINIC, REGION] {
            for name in [build.boot, build.glue, build.wasm, STYLES, "widget.js"] {
                let a = asset(name).unwrap_or_else(|| panic!("{name} is embedded"));
                assert!(!a.raw.is_empty() && !a.brotli.is_empty(), "{name}");
                assert!(
                    a.brotli.len() < a.raw.len() || a.raw.len() < 200,
                    "{name} compresses"
                );
            }
            assert!(
                asset(build.wasm).is_some_and(|a| a.raw.starts_with(b"\0asm")),
                "real WebAssembly"
            );
        }
        assert_ne!(CLINIC.wasm, REGION.wasm, "two builds");
    }
}
