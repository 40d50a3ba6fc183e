//! The widget's frame: header, summary, the current step, navigation.

use super::common::{HEADING_ID, StepProps, Summary, on_click};
use super::{identify::IdentifyStep, referral, steps, tickets, waiting};
use crate::api::Api;
use crate::flow::{Action, Flow, Picked, Step};
use crate::host::{self, Settings};
use api_types::routes;
use api_types::{Clinic, List};
use std::rc::Rc;
use widget_text::i18n::texts;
use yew::prelude::*;

#[derive(Debug, Properties, PartialEq)]
pub struct AppProps {
    pub settings: Settings,
    /// A session already open (a region's, for every clinic of the region).
    #[prop_or_default]
    pub session: Option<String>,
    /// Region mode: back from the first step, and «В начало», return to the clinic choice.
    #[prop_or_default]
    pub on_home: Option<Callback<()>>,
    /// Region mode: the session as it changes (opened, expired), to keep for other clinics.
    #[prop_or_default]
    pub on_session: Option<Callback<Option<String>>>,
    /// Region mode: a nearest ticket chosen on the clinic choice; the flow starts at its
    /// confirmation (identification first where needed).
    #[prop_or_default]
    pub pick: Option<Rc<Picked>>,
}

/// Tells the region's chooser of every change of the session.
#[hook]
fn use_session_report(flow: &UseReducerHandle<Flow>, report: Option<Callback<Option<String>>>) {
    use_effect_with(flow.session.clone(), move |session| {
        if let Some(report) = report {
            report.emit(session.clone());
        }
    });
}

/// The clinic (preloaded by the page, or asked for), for its name and zone.
#[hook]
fn use_clinic(settings: &Settings, api: &Api) -> UseStateHandle<Option<Clinic>> {
    let preloaded = settings.preload.as_ref().and_then(|d| d.clinic.clone());
    let known = preloaded.is_some();
    let clinic = use_state(move || preloaded);
    {
        let (clinic, api) = (clinic.clone(), api.clone());
        use_effect_with((), move |()| {
            // The widget is on screen and running: a mark for whoever measures it.
            if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
                let _ = performance.mark("registratura:ready");
            }
            if known {
                return;
            }
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(list) = api
                    .get::<List<Clinic>>(&api.route(routes::CLINICS, &[]), None)
                    .await
                {
                    clinic.set(list.items.into_iter().find(|c| c.id == api.clinic));
                }
            });
        });
    }
    clinic
}

/// Each new step announces itself: focus goes to its heading (skipped on the first render,
/// so that the host page's focus is not stolen).
#[hook]
fn use_heading_focus(flow: &UseReducerHandle<Flow>) {
    let first = use_mut_ref(|| true);
    let screen = (
        flow.step,
        flow.session.is_some(),
        flow.referral_number.is_some(),
    );
    use_effect_with(screen, move |_| {
        if std::mem::replace(&mut *first.borrow_mut(), false) {
            return;
        }
        host::focus(HEADING_ID);
    });
}

/// The component of the step shown: the identification step where the patient must identify
/// first (`Flow::needs_identification`).
fn body_of(flow: &Flow, props: &StepProps) -> Html {
    if flow.needs_identification() {
        return html! { <IdentifyStep ..props.clone() /> };
    }
    match flow.step {
        Step::Specialty => html! { <steps::SpecialtyStep ..props.clone() /> },
        Step::Doctor => html! { <steps::DoctorStep ..props.clone() /> },
        Step::Date => html! { <steps::DateStep ..props.clone() /> },
        Step::Time => html! { <steps::TimeStep ..props.clone() /> },
        Step::Identify => html! { <IdentifyStep ..props.clone() /> },
        Step::Confirm => html! { <steps::ConfirmStep ..props.clone() /> },
        Step::Ticket => html! { <tickets::TicketStep ..props.clone() /> },
        Step::MyTickets => html! { <tickets::MyTicketsStep ..props.clone() /> },
        Step::Waiting => html! { <waiting::WaitingForm ..props.clone() /> },
        Step::WaitingDone => html! { <waiting::WaitingDoneStep ..props.clone() /> },
        Step::Referral => html! { <referral::ReferralStep ..props.clone() /> },
    }
}

/// Back and «В начало»: in a region, back from the first step and «В начало» return to the
/// clinic choice (`home`); elsewhere both are the flow's own.
fn navigation(
    flow: &UseReducerHandle<Flow>,
    home: Option<&Callback<()>>,
) -> (Callback<MouseEvent>, Callback<MouseEvent>) {
    let Some(home) = home else {
        return (
            on_click(flow, Action::Back),
            on_click(flow, Action::Restart),
        );
    };
    let back = {
        let (home, flow) = (home.clone(), flow.clone());
        Callback::from(move |_: MouseEvent| {
            if flow.step == Step::Specialty {
                home.emit(());
            } else {
                flow.dispatch(Action::Back);
            }
        })
    };
    let home = home.clone();
    (back, Callback::from(move |_: MouseEvent| home.emit(())))
}

#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let settings = props.settings.clone();
    let t = texts(&settings.lang);
    let flow = {
        let (s, d) = (settings.specialty.clone(), settings.doctor.clone());
        let (session, pick) = (props.session.clone(), props.pick.clone());
        use_reducer(move || {
            let flow = Flow {
                session,
                ..Flow::new(s, d)
            };
            match pick {
                Some(picked) => flow.picked(&picked),
                None => flow,
            }
        })
    };
    use_session_report(&flow, props.on_session.clone());
    let api = Api {
        clinic: settings.clinic.clone(),
        region: settings.region.clone(),
        base: settings.base.clone(),
    };
    let clinic = use_clinic(&settings, &api);
    let low_vision = use_state(host::low_vision);
    use_heading_focus(&flow);
    let step_props = StepProps {
        flow: flow.clone(),
        api: api.clone(),
        t,
        settings: settings.clone(),
        timezone: clinic
            .as_ref()
            .map(|c| c.timezone.clone())
            .unwrap_or_else(|| "Europe/Moscow".into()),
        email: clinic.as_ref().is_some_and(|c| c.email_tickets),
    };
    let step = flow.step;
    let body = body_of(&flow, &step_props);
    let (on_back, on_restart) = navigation(&flow, props.on_home.as_ref());
    let on_my_tickets = on_click(&flow, Action::OpenMyTickets);
    let on_low_vision = {
        let low_vision = low_vision.clone();
        Callback::from(move |_: MouseEvent| {
            let on = !*low_vision;
            host::set_low_vision(on);
            low_vision.set(on);
        })
    };
    html! {
        <div class="rg" data-ready="true">
            <header class="rg-header">
                <div class="rg-titles">
                    <h1 class="rg-title">{ t.title }</h1>
                    if let Some(c) = &*clinic {
                        <p class="rg-clinic">{ &c.name }</p>
                    }
                </div>
                <div class="rg-tools">
                    <button type="button" class="rg-link" aria-pressed={ (*low_vision).to_string() } onclick={on_low_vision}>
                        { if *low_vision { t.low_vision_off } else { t.low_vision_on } }
                    </button>
                    if step != Step::MyTickets {
                        <button type="button" class="rg-link" onclick={on_my_tickets}>{ t.my_tickets }</button>
                    }
                </div>
            </header>
            <main class="rg-main">
                if !matches!(step, Step::Ticket | Step::MyTickets | Step::Waiting | Step::WaitingDone | Step::Referral) {
                    <Summary flow={flow.clone()} t={t} />
                }
                { body }
            </main>
            if step != Step::Specialty || props.on_home.is_some() {
                <nav class="rg-nav" aria-label={ t.title }>
                    if !matches!(step, Step::Ticket | Step::WaitingDone) {
                        <button type="button" class="rg-button rg-secondary" onclick={on_back}>{ "← " }{ t.back }</button>
                    }
                    <button type="button" class="rg-button rg-secondary" onclick={on_restart}>{ t.restart }</button>
                </nav>
            }
        </div>
    }
}
