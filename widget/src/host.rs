//! The widget's side of the page: its settings from the URL, messages to the host page, the
//! accent colour, the low-vision mode and the frame's height.
//!
//! Messages go to the host page's origin only (never `"*"`) and carry no personal data: the
//! ticket's id, start, specialty and doctor names.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

/// What the host page asked for (the loader passes it in the frame's URL).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Settings {
    /// The clinic's id: the one the query names (empty when it names none, until the page's
    /// own clinic is known).
    pub clinic: String,
    /// The region whose clinics the patient chooses from (`data-region`), when no clinic is
    /// named.
    pub region: Option<String>,
    pub lang: String,
    pub specialty: Option<String>,
    pub doctor: Option<String>,
    pub accent: Option<String>,
    /// The host page's origin, to which messages are posted.
    pub parent_origin: Option<String>,
    /// Which widget of the host page this is.
    pub widget_id: String,
    /// The path the gateway is served under (`/registratura` behind a proxy's prefix; empty
    /// at the root), from the widget page's own address.
    pub base: String,
    /// What the widget page brought along, so that the first step needs no call.
    pub preload: Option<std::rc::Rc<Preload>>,
}

/// The clinic and its specialties (all, those without tickets too), as the widget page
/// carries them in `<script type="application/json" id="rg-data">`.
#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize)]
pub struct Preload {
    pub clinic: Option<api_types::Clinic>,
    /// The clinic's offset from UTC when the page was written, seconds.
    pub utc_offset_secs: Option<i32>,
    pub specialties: Option<api_types::List<api_types::Specialty>>,
    /// The region, on a region's page (`?region=`).
    pub region: Option<RegionInfo>,
}

/// A region, as its widget page names it.
#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize)]
pub struct RegionInfo {
    pub id: String,
    pub name: String,
    /// The IANA zone of its clinics.
    pub timezone: String,
    /// Whether its clinics e-mail their tickets.
    #[serde(default)]
    pub email_tickets: bool,
}

/// What the page brought along, as it wrote it.
fn page_data() -> Option<Preload> {
    let text = web_sys::window()?
        .document()?
        .get_element_by_id("rg-data")?
        .text_content()?;
    let value = js_sys::JSON::parse(&text).ok()?;
    crate::js_value::from_value(value).ok()
}

/// The region page's data: the region the query named.
#[cfg(feature = "region")]
pub fn region_preload(region: &str) -> Option<Preload> {
    page_data().filter(|d| d.region.as_ref().is_some_and(|r| r.id == region))
}

/// The page's preloaded data: for the clinic the query named, or (`None`: it named none) for
/// the clinic the gateway chose, the one it serves.
pub fn preload(clinic: Option<&str>) -> Option<Preload> {
    let data = page_data()?;
    data.clinic
        .as_ref()
        .is_some_and(|c| clinic.is_none_or(|named| c.id == named))
        .then_some(data)
}

/// The gateway's path prefix, from the widget page's path (`/registratura/widget/`).
pub fn base_of(page_path: &str) -> String {
    page_path
        .rfind("/widget/")
        .and_then(|at| page_path.get(..at))
        .map(str::to_owned)
        .unwrap_or_default()
}

fn is_origin(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    (scheme == "http" || scheme == "https")
        && !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

/// A colour safe to put in a CSS custom property: `#rgb`, `#rrggbb` or a colour keyword.
pub fn valid_colour(s: &str) -> bool {
    let hex = s.strip_prefix('#').is_some_and(|h| {
        (h.len() == 3 || h.len() == 6) && h.chars().all(|c| c.is_ascii_hexdigit())
    });
    hex || (!s.is_empty() && s.len() <= 20 && s.chars().all(|c| c.is_ascii_lowercase()))
}

fn param(query: &str, name: &str) -> Option<String> {
    query
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| {
                js_sys::decode_uri_component(v)
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_default()
            })
        })
        .filter(|v| !v.is_empty())
}

impl Settings {
    /// Reads the settings from the page's query string.
    pub fn from_query(query: &str) -> Self {
        let clean_id = |s: String| {
            s.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .take(64)
                .collect::<String>()
        };
        Self {
            clinic: param(query, "clinic")
                .map(clean_id)
                .filter(|s| !s.is_empty())
                .unwrap_or_default(),
            region: param(query, "region")
                .map(clean_id)
                .filter(|s| !s.is_empty()),
            lang: if param(query, "lang").as_deref() == Some("en") {
                "en".into()
            } else {
                "ru".into()
            },
            specialty: param(query, "specialty").map(clean_id),
            doctor: param(query, "doctor").map(clean_id),
            accent: param(query, "accent").filter(|c| valid_colour(c)),
            parent_origin: param(query, "origin").filter(|o| is_origin(o)),
            widget_id: param(query, "wid").map(clean_id).unwrap_or_default(),
            base: String::new(),
            preload: None,
        }
    }
}

fn root() -> Option<web_sys::HtmlElement> {
    web_sys::window()?
        .document()?
        .document_element()?
        .dyn_into()
        .ok()
}

/// Applies the accent colour and the language to the page.
pub fn apply(settings: &Settings) {
    let Some(root) = root() else { return };
    let _ = root.set_attribute("lang", &settings.lang);
    if let Some(accent) = &settings.accent {
        let _ = root.style().set_property("--accent", accent);
    }
    if low_vision() {
        let _ = root.class_list().add_1("low-vision");
    }
}

const LOW_VISION_KEY: &str = "registratura-low-vision";

/// Whether the low-vision mode is on (it lasts for the visit: session storage, no personal data).
pub fn low_vision() -> bool {
    web_sys::window()
        .and_then(|w| w.session_storage().ok().flatten())
        .and_then(|s| s.get_item(LOW_VISION_KEY).ok().flatten())
        .is_some_and(|v| v == "1")
}

pub fn set_low_vision(on: bool) {
    if let Some(root) = root() {
        let _ = if on {
            root.class_list().add_1("low-vision")
        } else {
            root.class_list().remove_1("low-vision")
        };
    }
    if let Some(storage) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) {
        let _ = if on {
            storage.set_item(LOW_VISION_KEY, "1")
        } else {
            storage.remove_item(LOW_VISION_KEY)
        };
    }
}

/// What a booking or cancelling event tells the host page: no personal data.
#[derive(Debug, serde::Serialize)]
pub struct TicketEvent<'a> {
    pub ticket_id: &'a str,
    pub start: String,
    pub specialty: &'a str,
    pub doctor: &'a str,
}

impl<'a> TicketEvent<'a> {
    pub fn of(ticket: &'a api_types::Ticket) -> Self {
        Self {
            ticket_id: &ticket.id,
            start: api_types::wire::format_datetime(&ticket.start),
            specialty: &ticket.specialty.name,
            doctor: &ticket.doctor.name,
        }
    }
}

#[derive(serde::Serialize)]
struct Message<'a, T: serde::Serialize> {
    source: &'static str,
    #[serde(rename = "type")]
    kind: &'a str,
    widget: &'a str,
    detail: T,
}

#[derive(serde::Serialize)]
struct Height {
    height: i32,
}

/// Posts a message to the host page, if the page told its origin.
pub fn post<T: serde::Serialize>(settings: &Settings, kind: &str, detail: T) {
    let Some(origin) = &settings.parent_origin else {
        return;
    };
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(Some(parent)) = window.parent() else {
        return;
    };
    let message = Message {
        source: "registratura",
        kind,
        widget: &settings.widget_id,
        detail,
    };
    if let Ok(value) = serde_wasm_bindgen::to_value(&message) {
        let _ = parent.post_message(&value, origin);
    }
}

/// Tells the host page the content's height whenever it changes.
pub fn follow_height(settings: Settings) {
    let Some(root) = root() else { return };
    let callback = Closure::<dyn FnMut()>::new(move || {
        if let Some(root) = self::root() {
            let height = root.scroll_height().max(root.offset_height());
            post(&settings, "resize", Height { height });
        }
    });
    if let Ok(observer) = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()) {
        observer.observe(&root);
    }
    // The observer lives as long as the page.
    callback.forget();
}

/// Downloads `text` as a file.
pub fn download(name: &str, mime: &str, text: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Ok(a) = document.create_element("a").and_then(|a| {
        a.dyn_into::<web_sys::HtmlAnchorElement>()
            .map_err(Into::into)
    }) {
        a.set_href(&url);
        a.set_download(name);
        if let Some(body) = document.body() {
            let _ = body.append_child(&a);
            a.click();
            let _ = body.remove_child(&a);
        }
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// Prints the page (the print stylesheet shows the ticket only).
pub fn print() {
    if let Some(w) = web_sys::window() {
        let _ = w.print();
    }
}

/// Moves focus to the element with this id (a step's heading, a day of the calendar).
pub fn focus(id: &str) {
    let element = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(e) = element {
        let _ = e.focus();
    }
}

/// A fresh random key (for `Idempotency-Key`).
pub fn random_key() -> String {
    let a = (js_sys::Math::random() * 1e15) as u64;
    let b = (js_sys::Math::random() * 1e15) as u64;
    format!("w-{a:x}-{b:x}")
}

/// The clinic's offset from UTC, seconds: from the page, Moscow's until it is known.
static CLINIC_OFFSET: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(3 * 3600);

/// Counts days in the clinic's zone from now on: `offset_secs` from UTC.
pub fn set_clinic_offset(offset_secs: i32) {
    CLINIC_OFFSET.store(offset_secs, std::sync::atomic::Ordering::Relaxed);
}

/// Today in the clinic's zone, from the browser's clock.
pub fn clinic_today() -> chrono::NaiveDate {
    today_at(CLINIC_OFFSET.load(std::sync::atomic::Ordering::Relaxed))
}

/// Today at `offset_secs` from UTC, from the browser's clock.
pub fn today_at(offset_secs: i32) -> chrono::NaiveDate {
    let now_ms = js_sys::Date::now();
    let secs = (now_ms / 1000.0) as i64 + i64::from(offset_secs);
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_colours_and_real_origins_are_taken() {
        assert!(valid_colour("#0a7"));
        assert!(valid_colour("teal"));
        assert!(!valid_colour("red;background:url(x)"));
        assert!(is_origin("https://clinic.example:8443"));
        assert!(!is_origin("javascript:alert(1)"));
        assert!(!is_origin("https://a/b"));
    }

    #[test]
    fn the_prefix_is_what_stands_before_the_widget_page() {
        assert_eq!(base_of("/widget/"), "");
        assert_eq!(base_of("/registratura/widget/"), "/registratura");
        assert_eq!(base_of("/a/widget/b/widget/"), "/a/widget/b");
        assert_eq!(base_of("/elsewhere"), "");
    }
}
