//! The status page, `/`: in the spirit of the seed's "It works!" — the version, the uptime,
//! each clinic's МИС state (from its circuit breaker), the one tag to paste into the clinic's
//! site with a live preview of the widget, and links to the docs. Which МИС is down and why, and
//! a state store failing over (Sentinel), are shown only to `server.operator_allow`.

use crate::pages::html::escape;
use crate::security::Guards;
use crate::site::Site;
use actix_web::{HttpRequest, HttpResponse, web};
use gateway_domain::Gateway;
use gateway_domain::guard::BreakerState;
use std::fmt::Write as _;

/// The address patients reach this gateway at: `server.public_url`, or where this request
/// reached it ([`Guards::reached_at`]: forwarded headers count from trusted proxies only).
pub fn public_base(site: &Site, guards: &Guards, req: &HttpRequest) -> String {
    match &site.public_url {
        Some(url) => url.clone(),
        None => guards.reached_at(req),
    }
}

fn uptime(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60);
    match (d, h) {
        (0, 0) => format!("{m} мин / {m} min"),
        (0, _) => format!("{h} ч {m} мин / {h} h {m} min"),
        _ => format!("{d} д {h} ч / {d} d {h} h"),
    }
}

/// The page's headline: what is wrong is for an operator only.
fn headline(operator: bool, failing_over: bool, all_up: bool) -> &'static str {
    if !operator || (all_up && !failing_over) {
        "Работает / It works"
    } else if failing_over {
        "Работает, но хранилище состояния переключается на реплику: запись подождёт / Up, but the state store is failing over: bookings wait"
    } else {
        "Работает, но МИС недоступна / Up, but a МИС cannot be reached"
    }
}

/// `GET /`: the status page.
pub async fn page(
    gateway: web::Data<Gateway>,
    site: web::Data<Site>,
    guards: web::Data<Guards>,
    req: HttpRequest,
) -> HttpResponse {
    let operator = guards.is_operator(&req);
    let base = public_base(&site, &guards, &req);
    let mut clinics = String::new();
    let mut all_up = true;
    for c in gateway.clinics() {
        let up = c.mis.breaker_state() == BreakerState::Closed;
        all_up &= up;
        let _ = write!(
            clinics,
            "<tr><td><code>{}</code></td><td>{}</td>",
            escape(&c.info.id),
            escape(&c.info.name)
        );
        // Which clinic's МИС is down, and why, is for the operator only (as `/readyz`'s
        // details are).
        if operator {
            let state_text = if up {
                "<span class=\"up\">работает / up</span>"
            } else {
                "<span class=\"down\">недоступна / down</span>"
            };
            let why = match (up, c.mis.last_outage()) {
                (false, Some((at, reason))) => {
                    let at: chrono::DateTime<chrono::Utc> = at.into();
                    format!(
                        "<br><small>{} — {}</small>",
                        escape(&reason),
                        at.format("%Y-%m-%d %H:%M:%S UTC")
                    )
                }
                _ => String::new(),
            };
            let _ = write!(clinics, "<td>{state_text}{why}</td>");
        }
        clinics.push_str("</tr>");
    }
    let mis_column = if operator { "<th>МИС</th>" } else { "" };
    let first = gateway
        .clinics()
        .first()
        .map(|c| c.info.id.clone())
        .unwrap_or_default();
    let snippet = format!(
        "<script src=\"{}/widget.js\" data-clinic=\"{}\" async></script>",
        escape(&base),
        escape(&first)
    );
    let operator_links = if operator {
        "<li><a href=\"readyz\">/readyz</a> — готовность / readiness (details)</li>\
         <li><a href=\"metrics\">/metrics</a> — Prometheus</li>"
    } else {
        ""
    };
    let headline = headline(operator, gateway.shared.health.failing_over(), all_up);
    let html = format!(
        r##"<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Registratura — {headline}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="status.css">
</head>
<body><main>
<h1>{headline}</h1>
<p>Онлайн-регистратура: шлюз между сайтом поликлиники и её МИС. Registratura {version}, работает / uptime {uptime}.</p>
<h2>Поликлиники / Clinics</h2>
<table><thead><tr><th>id</th><th>название / name</th>{mis_column}</tr></thead><tbody>{clinics}</tbody></table>
<h2>Код для сайта / The snippet for the clinic's site</h2>
<p>Вставьте этот тег туда, где должна быть форма записи / Paste this tag where the booking form goes:</p>
<pre><code>{snippet_shown}</code></pre>
<h2>Как это выглядит / Preview</h2>
<div id="preview"></div>
<script src="widget.js" data-target="#preview" data-clinic="{first}" async></script>
<h2>Ссылки / Links</h2>
<ul>
<li><a href="docs/">API: Swagger UI</a> · <a href="openapi.json">OpenAPI</a></li>
<li><a href="healthz">/healthz</a> — жив / alive</li>
{operator_links}
</ul>
</main></body></html>
"##,
        version = env!("CARGO_PKG_VERSION"),
        uptime = uptime(site.started.elapsed().as_secs()),
        snippet_shown = escape(&snippet),
        first = escape(&first),
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(html)
}

/// `GET /status.css`.
pub async fn styles() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "public, max-age=300"))
        .body(
            "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}\
             main{max-width:52rem;margin:0 auto;padding:1.5rem}\
             table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d9dde3;padding:.4rem;text-align:left}\
             pre{background:#fff;border:1px solid #d9dde3;padding:.75rem;overflow:auto}\
             .up{color:#11702f;font-weight:600}.down{color:#a4161a;font-weight:600}",
        )
}
