//! Region mode's nearest ticket: a specialty chosen among those the clinics in view have
//! (merged across them, with their free tickets), then the nearest free tickets across those
//! clinics, each with its clinic, address, doctor and time. A ticket chosen leads straight to
//! identification and confirmation in its clinic; clinics that did not answer are named.

use super::common::{FailureView, Load, Loading, failure_text, use_fetch};
use crate::api::Api;
use api_types::routes;
use api_types::{Across, RegionClinic, RegionSlot, RegionSpecialty, Slot};
use std::rc::Rc;
use widget_text::format;
use widget_text::i18n::Texts;
use yew::prelude::*;

/// A ticket chosen: its clinic, the specialty's name as the region lists it, the ticket.
#[derive(Debug, Clone)]
pub struct NearestChoice {
    pub clinic: RegionClinic,
    pub specialty: String,
    pub slot: Slot,
}

/// Whether two names of a specialty are one: case, «ё» and everything but letters and digits
/// aside, as the region merges them.
pub fn same_name(a: &str, b: &str) -> bool {
    let fold = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .map(|c| if c == 'ё' { 'е' } else { c })
            .collect()
    };
    fold(a) == fold(b)
}

#[derive(Properties, PartialEq)]
pub struct NearestProps {
    pub t: &'static Texts,
    pub api: Api,
    /// Which clinics: `district=<id>` or `clinics=<id>,<id>` (a patient's own).
    pub scope: String,
    /// Those clinics, for their names and addresses.
    pub clinics: Rc<Vec<RegionClinic>>,
    pub on_pick: Callback<NearestChoice>,
}

fn encoded(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}

/// What failed to answer, by the clinics' names: «Поликлиника № 6 не ответила».
fn silent(t: &'static Texts, clinics: &[RegionClinic], failed: &[api_types::ClinicFailed]) -> Html {
    html! {
        { for failed.iter().map(|f| {
            let name = clinics
                .iter()
                .find(|c| c.id == f.clinic)
                .map_or(f.clinic.as_str(), |c| c.name.as_str());
            html! { <p class="rg-sub" role="status">{ format!("{name} {}", t.did_not_answer) }</p> }
        }) }
    }
}

#[derive(Properties, PartialEq)]
struct TicketsProps {
    t: &'static Texts,
    api: Api,
    scope: String,
    specialty: String,
    clinics: Rc<Vec<RegionClinic>>,
    on_pick: Callback<NearestChoice>,
}

/// The nearest free tickets of one specialty.
#[function_component(NearestTickets)]
fn nearest_tickets(p: &TicketsProps) -> Html {
    let t = p.t;
    let path = p.api.region_route(
        routes::REGION_SLOTS,
        &format!("?{}&specialty={}&limit=10", p.scope, encoded(&p.specialty)),
    );
    let (slots, reload) = use_fetch::<Across<RegionSlot>>(&p.api, Some(path), None);
    let answer = match &*slots {
        Load::Loading => return html! { <Loading {t} /> },
        Load::Failed(e) => {
            return html! { <FailureView {t} text={failure_text(t, e)} retry={Some(reload)} /> };
        }
        Load::Ready(answer) => answer,
    };
    html! {
        <>
            if answer.items.is_empty() { <p class="rg-sub" role="status">{ t.nearest_none }</p> }
            <ul class="rg-list rg-nearest">
                { for answer.items.iter().filter_map(|item| {
                    let clinic = p.clinics.iter().find(|c| c.id == item.clinic.id)?.clone();
                    let doctor = item.slot.doctor.as_ref().map(|d| d.name.clone()).unwrap_or_default();
                    let when = format!(
                        "{}, {}",
                        format::long_date(t, item.slot.start.date_naive()),
                        format::time(&item.slot.start)
                    );
                    let label = format!("{} — {when}, {doctor}, {}", t.book_ticket, clinic.name);
                    let pick = {
                        let on_pick = p.on_pick.clone();
                        let choice = NearestChoice {
                            clinic: clinic.clone(),
                            specialty: p.specialty.clone(),
                            slot: item.slot.clone(),
                        };
                        Callback::from(move |_: MouseEvent| on_pick.emit(choice.clone()))
                    };
                    Some(html! {
                        <li class="rg-nearest-item" data-slot={item.slot.id.clone()}>
                            <p class="rg-choice-name">{ when }</p>
                            <p class="rg-sub">{ doctor }</p>
                            <p class="rg-sub">{ &clinic.name }</p>
                            if let Some(address) = &clinic.address { <p class="rg-sub">{ address }</p> }
                            <button type="button" class="rg-button rg-primary" onclick={pick} aria-label={label}>{ t.book_ticket }</button>
                        </li>
                    })
                }) }
            </ul>
            { silent(t, &p.clinics, &answer.clinics_failed) }
        </>
    }
}

/// The nearest free ticket across the clinics in view: a specialty, then its tickets.
#[function_component(Nearest)]
pub fn nearest(p: &NearestProps) -> Html {
    let t = p.t;
    let path = p
        .api
        .region_route(routes::REGION_SPECIALTIES, &format!("?{}", p.scope));
    let (specialties, reload) = use_fetch::<Across<RegionSpecialty>>(&p.api, Some(path), None);
    let chosen = use_state(|| None::<String>);
    let list = match &*specialties {
        Load::Loading => html! { <Loading {t} /> },
        Load::Failed(e) => {
            html! { <FailureView {t} text={failure_text(t, e)} retry={Some(reload)} /> }
        }
        Load::Ready(answer) => html! {
            <>
                <ul class="rg-list rg-choices">
                    { for answer.items.iter().map(|s| {
                        let choose = {
                            let (chosen, name) = (chosen.clone(), s.name.clone());
                            Callback::from(move |_: MouseEvent| chosen.set(Some(name.clone())))
                        };
                        let pressed = (chosen.as_deref() == Some(s.name.as_str())).to_string();
                        html! {
                            <li><button type="button" class="rg-choice" aria-pressed={pressed} data-specialty={s.name.clone()} onclick={choose}>
                                <span class="rg-choice-name">{ &s.name }</span>
                                <span class="rg-sub">{ format::availability(t, s.free_tickets, s.nearest_date) }</span>
                            </button></li>
                        }
                    }) }
                </ul>
                { silent(t, &p.clinics, &answer.clinics_failed) }
            </>
        },
    };
    html! {
        <section class="rg-nearest-section">
            <h3 class="rg-subheading">{ t.nearest_heading }</h3>
            <p class="rg-sub">{ t.nearest_intro }</p>
            { list }
            if let Some(specialty) = &*chosen {
                <NearestTickets key={specialty.clone()} {t} api={p.api.clone()} scope={p.scope.clone()}
                    specialty={specialty.clone()} clinics={p.clinics.clone()} on_pick={p.on_pick.clone()} />
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::same_name;

    #[test]
    fn a_specialty_s_names_are_one_whatever_their_case_ё_and_spacing() {
        assert!(same_name("Терапия", " терапия "));
        assert!(same_name("Врач-офтальмолог", "врач офтальмолог"));
        assert!(same_name(
            "Детская хирургия (ёлки)",
            "детская хирургия (елки)"
        ));
        assert!(!same_name("Терапия", "Хирургия"));
    }
}
