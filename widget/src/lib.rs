//! The Registratura widget: the patient's booking flow as a Yew app, served by the gateway in
//! an iframe of the clinic's site.
//!
//! It knows the gateway only through the wire types of `api-types` and its JSON API; it keeps
//! the session token and what the patient typed in memory only (never in storage, cookies or
//! URLs), and talks to the host page by origin-checked messages that carry no personal data.
//!
//! A region's screens (the clinic choice, «Моя поликлиника», districts) are behind the
//! `region` feature: the gateway serves two builds, and a clinic's page downloads the one
//! without them.

pub mod api;
mod components;
pub mod flow;
pub mod host;
pub mod ics;
mod js_value;
pub mod validate;

pub use components::App;

/// Starts the widget in the page's `#app` element.
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let query = window.location().search().unwrap_or_default();
    let mut settings = host::Settings::from_query(&query);
    settings.base = host::base_of(&window.location().pathname().unwrap_or_default());
    let named = (!settings.clinic.is_empty()).then(|| settings.clinic.clone());
    #[cfg(feature = "region")]
    if components::region::is_region(&settings) {
        let region = settings.region.clone().unwrap_or_default();
        settings.preload = host::region_preload(&region).map(std::rc::Rc::new);
        host::apply(&settings);
        host::follow_height(settings.clone());
        let Some(root) = window.document().and_then(|d| d.get_element_by_id("app")) else {
            return;
        };
        root.set_inner_html("");
        yew::Renderer::<components::region::RegionApp>::with_root_and_props(
            root,
            components::region::RegionProps { settings },
        )
        .render();
        return;
    }
    settings.preload = host::preload(named.as_deref()).map(std::rc::Rc::new);
    if let Some(offset) = settings.preload.as_ref().and_then(|p| p.utc_offset_secs) {
        host::set_clinic_offset(offset);
    }
    if named.is_none() {
        // Named by none: the clinic the page is for (the gateway's one), else the sandbox's.
        settings.clinic = settings
            .preload
            .as_ref()
            .and_then(|p| p.clinic.as_ref())
            .map_or_else(|| "demo".to_owned(), |c| c.id.clone());
    }
    host::apply(&settings);
    host::follow_height(settings.clone());
    // A specialty chosen on the page's first step before the widget ran.
    if let Some(early) = js_sys::Reflect::get(&window, &"__rgChoice".into())
        .ok()
        .and_then(|v| v.as_string())
    {
        settings.specialty = Some(early);
    }
    let Some(root) = window.document().and_then(|d| d.get_element_by_id("app")) else {
        return;
    };
    // The first step the gateway wrote into the page gives way to the widget's own.
    root.set_inner_html("");
    yew::Renderer::<App>::with_root_and_props(
        root,
        components::app::AppProps {
            settings,
            session: None,
            on_home: None,
            on_session: None,
            pick: None,
        },
    )
    .render();
}
