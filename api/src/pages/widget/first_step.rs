//! The widget's first step, written into its page by the gateway: on a phone the WebAssembly
//! takes a second to arrive, and the patient sees the clinic's specialties before it does.
//!
//! The markup is the widget's own (the same elements, classes and words, from `widget-text`),
//! so nothing moves when the widget takes over. Until then each specialty is a link to the
//! page with that specialty chosen: it works with no script at all, and the boot module keeps
//! a click made early for the widget to carry out.

use crate::pages::html::escape;
use gateway_domain::views::Specialty;
use widget_text::{format, i18n::Texts};

/// The page's query with `specialty` set to `id` (every other parameter kept).
fn with_specialty(query: &str, id: &str) -> String {
    let mut parts: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("specialty="))
        .collect();
    let chosen = format!("specialty={id}");
    parts.push(&chosen);
    format!("?{}", parts.join("&"))
}

/// The widget's frame with its first step: the clinic's specialties with free tickets, and
/// those without in their own group.
pub fn render(t: &Texts, clinic: &str, specialties: &[Specialty], query: &str) -> String {
    let (open, full): (Vec<&Specialty>, Vec<&Specialty>) = specialties
        .iter()
        .partition(|s| s.free_tickets.is_none_or(|n| n > 0));
    let mut html = String::with_capacity(4096);
    html.push_str(&format!(
        "<div class=\"rg\"><header class=\"rg-header\"><div class=\"rg-titles\"><h1 class=\"rg-title\">{}</h1><p class=\"rg-clinic\">{}</p></div>\
         <div class=\"rg-tools\"><button type=\"button\" class=\"rg-link\" aria-pressed=\"false\">{}</button><button type=\"button\" class=\"rg-link\">{}</button></div></header>\
         <main class=\"rg-main\"><section><h2 id=\"rg-step-heading\" class=\"rg-heading\" tabindex=\"-1\">{}</h2>\
         <div class=\"rg-actions rg-top\"><button type=\"button\" class=\"rg-button rg-secondary\">{}</button></div>",
        escape(t.title),
        escape(clinic),
        escape(t.low_vision_on),
        escape(t.my_tickets),
        escape(t.step_specialty),
        escape(t.by_referral),
    ));
    if open.is_empty() {
        html.push_str(&format!(
            "<p class=\"rg-empty\" role=\"status\">{}</p>",
            escape(t.no_free_tickets)
        ));
    } else {
        html.push_str("<ul class=\"rg-choices\">");
        for s in open {
            html.push_str(&format!(
                "<li><a class=\"rg-choice\" href=\"{}\" data-rg-specialty=\"{}\"><span class=\"rg-choice-name\">{}</span><span class=\"rg-choice-meta\">{}</span></a></li>",
                escape(&with_specialty(query, &s.id)),
                escape(&s.id),
                escape(&s.name),
                escape(&format::availability(t, s.free_tickets, s.nearest_date)),
            ));
        }
        html.push_str("</ul>");
    }
    if !full.is_empty() {
        html.push_str(&format!(
            "<h3 class=\"rg-group\">{}</h3><ul class=\"rg-choices\">",
            escape(t.unavailable_group)
        ));
        for s in full {
            html.push_str(&format!(
                "<li class=\"rg-choice rg-unavailable\"><span class=\"rg-choice-name\">{}</span><button type=\"button\" class=\"rg-button rg-secondary\">{}</button></li>",
                escape(&s.name),
                escape(t.join_waiting),
            ));
        }
        html.push_str("</ul>");
    }
    html.push_str("</section></main></div>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specialty(id: &str, name: &str, free: u32) -> Specialty {
        Specialty {
            id: id.into(),
            name: name.into(),
            free_tickets: Some(free),
            nearest_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 2),
        }
    }

    #[test]
    fn specialties_are_links_that_keep_the_page_s_query_and_names_are_escaped() {
        let t = widget_text::i18n::texts("ru");
        let html = render(
            t,
            "ГП <1>",
            &[
                specialty("MQ", "Терапия", 5),
                specialty("MTA", "<b>Хирургия</b>", 0),
            ],
            "clinic=demo&wid=rg1&specialty=old",
        );
        assert!(
            html.contains("href=\"?clinic=demo&amp;wid=rg1&amp;specialty=MQ\""),
            "{html}"
        );
        assert!(
            html.contains("свободно 5 · ближайшая дата 2 декабря"),
            "{html}"
        );
        assert!(html.contains("&lt;b&gt;Хирургия&lt;/b&gt;"));
        assert!(html.contains("ГП &lt;1&gt;"));
        assert!(html.contains(t.unavailable_group) && html.contains(t.join_waiting));
        assert!(!html.contains("specialty=old"));
    }
}
