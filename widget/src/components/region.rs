//! Region mode (`data-region`): the patient chooses the clinic first — «Моя поликлиника» (the
//! clinics they are attached to, once identified) or a district and then a clinic from a
//! searchable list with its address and phone — and then goes the flow the widget has. One
//! identification serves every clinic of the region; back from the first step and «В начало»
//! return here.

use super::app::App;
use super::common::{FailureView, Load, Loading, StepProps, failure_text, heading, use_fetch};
use super::identify::IdentifyStep;
use super::nearest::{Nearest, NearestChoice, same_name};
use crate::api::Api;
use crate::flow::{Flow, Picked, Step};
use crate::host::{self, Preload, Settings};
use api_types::routes;
use api_types::{Across, Clinic, District, List, MyClinic, RegionClinic, Specialty};
use std::rc::Rc;
use widget_text::i18n::{Texts, texts};
use yew::prelude::*;

/// The clinic chosen, and the ticket chosen in it among the nearest (if one was).
type Choice = (RegionClinic, Option<Rc<Picked>>);

#[derive(Debug, Properties, PartialEq)]
pub struct RegionProps {
    pub settings: Settings,
}

/// Lower case, «ё» as «е»: how the search compares names.
fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ё' { 'е' } else { c })
        .collect()
}

/// The settings of the flow in the chosen clinic: its id, and what the page knows of it.
fn clinic_settings(settings: &Settings, clinic: &RegionClinic) -> Settings {
    let region = settings.preload.as_ref().and_then(|p| p.region.as_ref());
    let timezone = region.map_or_else(|| "Europe/Moscow".to_owned(), |r| r.timezone.clone());
    Settings {
        clinic: clinic.id.clone(),
        preload: Some(Rc::new(Preload {
            clinic: Some(Clinic {
                id: clinic.id.clone(),
                name: clinic.name.clone(),
                address: clinic.address.clone().unwrap_or_default(),
                timezone,
                email_tickets: region.is_some_and(|r| r.email_tickets),
            }),
            ..Preload::default()
        })),
        ..settings.clone()
    }
}

#[derive(Properties, PartialEq)]
struct ListProps {
    t: &'static Texts,
    clinics: Rc<Vec<RegionClinic>>,
    on_choose: Callback<RegionClinic>,
    /// The areas of each clinic, for «my clinic».
    #[prop_or_default]
    areas: Option<Rc<Vec<String>>>,
}

/// Clinics with their address and phone, each with its «Записаться» (an inactive one says it
/// takes no bookings online).
#[function_component(ClinicList)]
fn clinic_list(p: &ListProps) -> Html {
    let t = p.t;
    html! {
        <ul class="rg-list rg-clinics">
            { for p.clinics.iter().enumerate().map(|(i, c)| {
                let choose = {
                    let (on_choose, c) = (p.on_choose.clone(), c.clone());
                    Callback::from(move |_: MouseEvent| on_choose.emit(c.clone()))
                };
                let area = p.areas.as_ref().and_then(|a| a.get(i).cloned());
                html! {
                    <li class="rg-clinic-item" data-clinic={c.id.clone()}>
                        <p class="rg-choice-name">{ &c.name }</p>
                        if let Some(address) = &c.address { <p class="rg-sub">{ address }</p> }
                        if let Some(phone) = &c.phone { <p class="rg-sub">{ phone }</p> }
                        if let Some(area) = area { <p class="rg-sub">{ format!("{}: {area}", t.label_area) }</p> }
                        if c.active {
                            <button type="button" class="rg-button rg-primary" onclick={choose}
                                aria-label={format!("{} — {}", t.choose_clinic, c.name)}>{ t.choose_clinic }</button>
                        } else {
                            <p class="rg-notice">{ t.clinic_not_online }</p>
                        }
                    </li>
                }
            }) }
        </ul>
    }
}

#[derive(Properties, PartialEq)]
struct MineProps {
    t: &'static Texts,
    api: Api,
    token: String,
    on_choose: Callback<RegionClinic>,
    on_pick: Callback<NearestChoice>,
    on_failed: Callback<()>,
}

/// «Моя поликлиника» of an identified patient.
#[function_component(MyClinics)]
fn my_clinics(p: &MineProps) -> Html {
    let path = p.api.region_route(routes::REGION_MY_CLINICS, "");
    let (data, reload) = use_fetch::<Across<MyClinic>>(&p.api, Some(path), Some(p.token.clone()));
    let t = p.t;
    match &*data {
        Load::Loading => html! { <Loading {t} /> },
        Load::Failed(e) => {
            let retry = if e.code() == Some(api_types::ErrorCode::SessionRequired) {
                let failed = p.on_failed.clone();
                Callback::from(move |()| failed.emit(()))
            } else {
                reload
            };
            html! { <FailureView {t} text={failure_text(t, e)} retry={Some(retry)} /> }
        }
        Load::Ready(mine) => {
            let clinics: Vec<RegionClinic> = mine.items.iter().map(|m| m.clinic.clone()).collect();
            let areas: Vec<String> = mine
                .items
                .iter()
                .map(|m| {
                    m.areas
                        .iter()
                        .map(|a| a.number.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .collect();
            let scope = format!(
                "clinics={}",
                clinics
                    .iter()
                    .filter(|c| c.active)
                    .take(20)
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let any_active = clinics.iter().any(|c| c.active);
            let clinics = Rc::new(clinics);
            html! {
                <>
                    if clinics.is_empty() { <p class="rg-sub">{ t.no_my_clinic }</p> }
                    <ClinicList {t} clinics={clinics.clone()} areas={Some(Rc::new(areas))} on_choose={p.on_choose.clone()} />
                    if !mine.clinics_failed.is_empty() { <p class="rg-sub" role="status">{ t.some_clinics_silent }</p> }
                    if any_active {
                        <Nearest {t} api={p.api.clone()} {scope} {clinics} on_pick={p.on_pick.clone()} />
                    }
                </>
            }
        }
    }
}

#[derive(Properties, PartialEq)]
struct DistrictProps {
    t: &'static Texts,
    api: Api,
    on_choose: Callback<RegionClinic>,
    on_pick: Callback<NearestChoice>,
}

/// District → clinic: the region's districts, then the chosen one's clinics, searchable.
#[function_component(ByDistrict)]
fn by_district(p: &DistrictProps) -> Html {
    let t = p.t;
    let districts_path = p.api.region_route(routes::REGION_DISTRICTS, "");
    let (districts, reload) = use_fetch::<List<District>>(&p.api, Some(districts_path), None);
    let chosen = use_state(|| None::<i32>);
    let search = use_state(String::new);
    let clinics_path = chosen.map(|d| {
        p.api
            .region_route(routes::REGION_CLINICS, &format!("?district={d}"))
    });
    let (clinics, reload_clinics) = use_fetch::<List<RegionClinic>>(&p.api, clinics_path, None);
    let list = match &*districts {
        Load::Loading => return html! { <Loading {t} /> },
        Load::Failed(e) => {
            return html! { <FailureView {t} text={failure_text(t, e)} retry={Some(reload)} /> };
        }
        Load::Ready(list) => list.items.clone(),
    };
    let on_search = {
        let search = search.clone();
        Callback::from(move |e: InputEvent| search.set(super::common::input_value(&e)))
    };
    let clinics_view = match (*chosen, &*clinics) {
        (None, _) => html! {},
        (Some(_), Load::Loading) => html! { <Loading {t} /> },
        (Some(_), Load::Failed(e)) => {
            html! { <FailureView {t} text={failure_text(t, e)} retry={Some(reload_clinics)} /> }
        }
        (Some(district), Load::Ready(all)) => {
            let words: Vec<String> = fold(&search)
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            let found: Vec<RegionClinic> = all
                .items
                .iter()
                .filter(|c| {
                    let name = fold(&format!(
                        "{} {}",
                        c.name,
                        c.full_name.as_deref().unwrap_or_default()
                    ));
                    words.iter().all(|w| name.contains(w.as_str()))
                })
                .cloned()
                .collect();
            let everyone = Rc::new(all.items.clone());
            let any_active = all.items.iter().any(|c| c.active);
            html! {
                <>
                    // The nearest ticket first: a district may list hundreds of clinics.
                    if any_active {
                        <Nearest key={district} {t} api={p.api.clone()} scope={format!("district={district}")}
                            clinics={everyone} on_pick={p.on_pick.clone()} />
                    }
                    <label class="rg-label" for="rg-clinic-search">{ t.label_search_clinic }</label>
                    <input id="rg-clinic-search" class="rg-input" type="search" value={(*search).clone()} oninput={on_search} />
                    if found.is_empty() { <p class="rg-sub" role="status">{ t.no_clinics_found }</p> }
                    <ClinicList {t} clinics={Rc::new(found)} on_choose={p.on_choose.clone()} />
                </>
            }
        }
    };
    html! {
        <section class="rg-districts">
            <h3 class="rg-subheading">{ t.by_district }</h3>
            <ul class="rg-list rg-choices">
                { for list.iter().map(|d| {
                    let pick = {
                        let (chosen, search, id) = (chosen.clone(), search.clone(), d.id);
                        Callback::from(move |_: MouseEvent| { chosen.set(Some(id)); search.set(String::new()); })
                    };
                    let pressed = (*chosen == Some(d.id)).to_string();
                    html! {
                        <li><button type="button" class="rg-choice" aria-pressed={pressed} data-district={d.id.to_string()} onclick={pick}>
                            <span class="rg-choice-name">{ &d.name }</span>
                        </button></li>
                    }
                }) }
            </ul>
            { clinics_view }
        </section>
    }
}

/// The flow in the chosen clinic, with the region's session; its «В начало» and its back from
/// the first step return to the choice.
fn flow_in(
    settings: &Settings,
    (clinic, pick): &Choice,
    chosen: &UseStateHandle<Option<Choice>>,
    session: &UseStateHandle<Option<String>>,
) -> Html {
    let on_home = {
        let chosen = chosen.clone();
        Callback::from(move |()| chosen.set(None))
    };
    let on_session = {
        let session = session.clone();
        Callback::from(move |s: Option<String>| session.set(s))
    };
    html! {
        <App key={clinic.id.clone()} settings={clinic_settings(settings, clinic)}
            session={(**session).clone()} {on_home} {on_session} pick={pick.clone()} />
    }
}

/// «Моя поликлиника»: the patient's clinics once identified, else the way to identify.
fn mine_view(
    t: &'static Texts,
    api: &Api,
    session: &UseStateHandle<Option<String>>,
    identifying: &UseStateHandle<bool>,
    (on_choose, on_pick): (&Callback<RegionClinic>, &Callback<NearestChoice>),
) -> Html {
    match &**session {
        Some(token) => {
            let on_failed = {
                let session = session.clone();
                Callback::from(move |()| session.set(None))
            };
            html! { <MyClinics {t} api={api.clone()} token={token.clone()} on_choose={on_choose.clone()} on_pick={on_pick.clone()} {on_failed} /> }
        }
        None => {
            let start = {
                let identifying = identifying.clone();
                Callback::from(move |_: MouseEvent| identifying.set(true))
            };
            html! {
                <>
                    <p class="rg-sub">{ t.my_clinic_intro }</p>
                    <button type="button" class="rg-button rg-primary" onclick={start}>{ t.find_my_clinic }</button>
                </>
            }
        }
    }
}

/// A nearest ticket chosen: the clinic's own entry of its specialty is found by its name, and
/// the flow starts there at that ticket; where the clinic names it otherwise, the patient
/// chooses in the clinic as usual.
fn pick_in_clinic(chosen: &UseStateHandle<Option<Choice>>, api: &Api) -> Callback<NearestChoice> {
    let (chosen, api) = (chosen.clone(), api.clone());
    Callback::from(move |choice: NearestChoice| {
        let (chosen, api) = (chosen.clone(), api.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let clinic_api = Api {
                clinic: choice.clinic.id.clone(),
                ..api
            };
            let path = clinic_api.route(routes::SPECIALTIES, &[]);
            let specialty = clinic_api
                .get::<List<Specialty>>(&path, None)
                .await
                .ok()
                .and_then(|l| {
                    l.items
                        .into_iter()
                        .find(|s| same_name(&s.name, &choice.specialty))
                });
            let picked = specialty.map(|specialty| {
                Rc::new(Picked {
                    specialty,
                    slot: choice.slot,
                })
            });
            chosen.set(Some((choice.clinic, picked)));
        });
    })
}

/// The region's widget: the clinic choice, then the flow in the chosen clinic.
#[function_component(RegionApp)]
pub fn region_app(props: &RegionProps) -> Html {
    let settings = props.settings.clone();
    let t = texts(&settings.lang);
    let chosen = use_state(|| None::<Choice>);
    let session = use_state(|| None::<String>);
    let identifying = use_state(|| false);
    let identify_flow = use_reducer(|| Flow {
        step: Step::Identify,
        ..Flow::new(None, None)
    });
    let api = Api {
        clinic: String::new(),
        region: settings.region.clone(),
        base: settings.base.clone(),
    };
    {
        // Identified on the chooser: the region's session, for «my clinic» and every clinic.
        let (session, identifying) = (session.clone(), identifying.clone());
        use_effect_with(identify_flow.session.clone(), move |token| {
            if let Some(token) = token {
                session.set(Some(token.clone()));
                identifying.set(false);
            }
        });
    }
    {
        // Each new screen announces itself: focus goes to its heading (not on the first render,
        // so that the host page's focus is not stolen).
        let first = use_mut_ref(|| true);
        use_effect_with((*identifying, chosen.is_some()), move |_| {
            if !std::mem::replace(&mut *first.borrow_mut(), false) {
                host::focus(super::common::HEADING_ID);
            }
        });
    }
    let on_choose = {
        let chosen = chosen.clone();
        Callback::from(move |c: RegionClinic| chosen.set(Some((c, None))))
    };
    let on_pick = pick_in_clinic(&chosen, &api);
    if let Some(choice) = &*chosen {
        return flow_in(&settings, choice, &chosen, &session);
    }
    let region_name = settings
        .preload
        .as_ref()
        .and_then(|p| p.region.as_ref())
        .map(|r| r.name.clone());
    let header = html! {
        <header class="rg-header">
            <div class="rg-titles">
                <h1 class="rg-title">{ t.title }</h1>
                if let Some(name) = region_name { <p class="rg-clinic">{ name }</p> }
            </div>
        </header>
    };
    let region_id = settings.region.clone().unwrap_or_default();
    if *identifying {
        let props = StepProps {
            flow: identify_flow.clone(),
            api: api.clone(),
            t,
            settings: settings.clone(),
            timezone: "Europe/Moscow".into(),
            email: false,
        };
        let back = {
            let identifying = identifying.clone();
            Callback::from(move |_: MouseEvent| identifying.set(false))
        };
        return html! {
            <div class="rg" data-ready="true" data-region={region_id}>
                { header }
                <main class="rg-main"><IdentifyStep ..props /></main>
                <nav class="rg-nav" aria-label={ t.title }>
                    <button type="button" class="rg-button rg-secondary" onclick={back}>{ "← " }{ t.back }</button>
                </nav>
            </div>
        };
    }
    let mine = mine_view(t, &api, &session, &identifying, (&on_choose, &on_pick));
    html! {
        <div class="rg" data-ready="true" data-region={region_id}>
            { header }
            <main class="rg-main">
                { heading(t.step_clinic) }
                <section class="rg-mine">
                    <h3 class="rg-subheading">{ t.my_clinic }</h3>
                    { mine }
                </section>
                <ByDistrict {t} api={api.clone()} on_choose={on_choose} {on_pick} />
            </main>
        </div>
    }
}

/// Whether the widget is a region's: a region named, and no clinic.
pub fn is_region(settings: &Settings) -> bool {
    settings.region.is_some() && settings.clinic.is_empty()
}
