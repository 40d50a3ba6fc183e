//! The steps of choosing: specialty, doctor, date, time, and the confirmation.

use super::app::HEADING_ID;
use super::calendar::Calendar;
use super::common::{FailureView, Load, Loading, StepProps, failure_text, use_fetch};
use crate::flow::{Action, Notice};
use crate::format;
use crate::host;
use api_types::{Doctor, ErrorCode, List, NewTicket, Slot, Specialty, Ticket};
use yew::prelude::*;

/// A step's heading: the focus lands here when the step opens.
pub fn heading(text: &str) -> Html {
    html! { <h2 id={HEADING_ID} class="rg-heading" tabindex="-1">{ text.to_owned() }</h2> }
}

fn counts(p: &StepProps, free: u32, nearest: Option<chrono::NaiveDate>) -> String {
    let mut s = format!("{} {free}", p.t.free);
    if let Some(d) = nearest {
        s.push_str(&format!(
            " · {} {}",
            p.t.nearest,
            format::short_date(p.t, d)
        ));
    }
    s
}

#[function_component(SpecialtyStep)]
pub fn specialty_step(p: &StepProps) -> Html {
    let (data, reload) = use_fetch::<List<Specialty>>(&p.api, Some("/specialties".into()), None);
    // A specialty preselected by the host page is chosen as soon as the list shows it.
    {
        let (flow, data) = (p.flow.clone(), data.clone());
        use_effect_with((*data).clone(), move |load| {
            if let (Load::Ready(list), Some(wanted)) = (load, flow.preselect_specialty.clone()) {
                match list.items.iter().find(|s| s.id == wanted) {
                    Some(s) => flow.dispatch(Action::ChooseSpecialty(s.clone())),
                    None => flow.dispatch(Action::ClearPreselection),
                }
            }
            let _ = data;
        });
    }
    let content = match &*data {
        Load::Loading => html! { <Loading t={p.t} /> },
        Load::Failed(f) => {
            html! { <FailureView t={p.t} text={failure_text(p.t, f)} retry={Some(reload.clone())} /> }
        }
        Load::Ready(list) if list.items.is_empty() => {
            html! { <p class="rg-empty" role="status">{ p.t.no_free_tickets }</p> }
        }
        Load::Ready(list) => {
            let chosen = p.flow.specialty.as_ref().map(|s| s.id.clone());
            html! {
                <ul class="rg-choices">
                    { for list.items.iter().map(|s| {
                        let flow = p.flow.clone();
                        let item = s.clone();
                        let onclick = Callback::from(move |_: MouseEvent| flow.dispatch(Action::ChooseSpecialty(item.clone())));
                        let current = chosen.as_deref() == Some(s.id.as_str());
                        html! {
                            <li key={s.id.clone()}>
                                <button type="button" class={classes!("rg-choice", current.then_some("rg-current"))} aria-current={ current.then_some("true") } {onclick}>
                                    <span class="rg-choice-name">{ &s.name }</span>
                                    <span class="rg-choice-meta">{ counts(p, s.free_tickets, s.nearest_date) }</span>
                                </button>
                            </li>
                        }
                    }) }
                </ul>
            }
        }
    };
    html! { <section>{ heading(p.t.step_specialty) }{ content }</section> }
}

#[function_component(DoctorStep)]
pub fn doctor_step(p: &StepProps) -> Html {
    let path = p
        .flow
        .specialty
        .as_ref()
        .map(|s| format!("/specialties/{}/doctors", s.id));
    let (data, reload) = use_fetch::<List<Doctor>>(&p.api, path, None);
    {
        let flow = p.flow.clone();
        use_effect_with((*data).clone(), move |load| {
            if let (Load::Ready(list), Some(wanted)) = (load, flow.preselect_doctor.clone()) {
                match list.items.iter().find(|d| d.id == wanted) {
                    Some(d) => flow.dispatch(Action::ChooseDoctor(d.clone())),
                    None => flow.dispatch(Action::ClearPreselection),
                }
            }
        });
    }
    let content = match &*data {
        Load::Loading => html! { <Loading t={p.t} /> },
        Load::Failed(f) => {
            html! { <FailureView t={p.t} text={failure_text(p.t, f)} retry={Some(reload.clone())} /> }
        }
        Load::Ready(list) if list.items.is_empty() => {
            html! { <p class="rg-empty" role="status">{ p.t.no_free_tickets }</p> }
        }
        Load::Ready(list) => {
            let chosen = p.flow.doctor.as_ref().map(|d| d.id.clone());
            html! {
                <ul class="rg-choices">
                    { for list.items.iter().map(|d| {
                        let flow = p.flow.clone();
                        let item = d.clone();
                        let onclick = Callback::from(move |_: MouseEvent| flow.dispatch(Action::ChooseDoctor(item.clone())));
                        let current = chosen.as_deref() == Some(d.id.as_str());
                        html! {
                            <li key={d.id.clone()}>
                                <button type="button" class={classes!("rg-choice", current.then_some("rg-current"))} aria-current={ current.then_some("true") } {onclick}>
                                    <span class="rg-choice-name">{ &d.name }</span>
                                    if let Some(c) = &d.comment {
                                        <span class="rg-choice-comment">{ c }</span>
                                    }
                                    <span class="rg-choice-meta">{ counts(p, d.free_tickets, d.nearest_date) }</span>
                                </button>
                            </li>
                        }
                    }) }
                </ul>
            }
        }
    };
    html! { <section>{ heading(p.t.step_doctor) }{ content }</section> }
}

#[function_component(DateStep)]
pub fn date_step(p: &StepProps) -> Html {
    let Some(doctor) = p.flow.doctor.clone() else {
        return html! {};
    };
    let on_choose = {
        let flow = p.flow.clone();
        Callback::from(move |d| flow.dispatch(Action::ChooseDate(d)))
    };
    html! {
        <section>
            { heading(p.t.step_date) }
            <Calendar api={p.api.clone()} t={p.t} doctor={doctor} selected={p.flow.date} {on_choose} />
        </section>
    }
}

#[function_component(TimeStep)]
pub fn time_step(p: &StepProps) -> Html {
    let path = match (&p.flow.doctor, p.flow.date) {
        (Some(d), Some(date)) => Some(format!("/doctors/{}/slots?date={date}", d.id)),
        _ => None,
    };
    let (data, reload) = use_fetch::<List<Slot>>(&p.api, path, None);
    let notice = (p.flow.notice == Some(Notice::SlotTaken)).then(|| {
        html! {
            <p class="rg-notice" role="alert">{ p.t.err_slot_taken }</p>
        }
    });
    let date_line = p.flow.date.map(|d| {
        html! {
            <p class="rg-sub">{ format::long_date(p.t, d) }{ ", " }{ p.t.clinic_time }</p>
        }
    });
    let content = match &*data {
        Load::Loading => html! { <Loading t={p.t} /> },
        Load::Failed(f) => {
            html! { <FailureView t={p.t} text={failure_text(p.t, f)} retry={Some(reload.clone())} /> }
        }
        Load::Ready(list) if list.items.is_empty() => {
            html! { <p class="rg-empty" role="status">{ p.t.no_free_times }</p> }
        }
        Load::Ready(list) => {
            let chosen = p.flow.slot.as_ref().map(|s| s.id.clone());
            html! {
                <ul class="rg-times">
                    { for list.items.iter().map(|s| {
                        let flow = p.flow.clone();
                        let item = s.clone();
                        let onclick = Callback::from(move |_: MouseEvent| flow.dispatch(Action::ChooseSlot(item.clone())));
                        let current = chosen.as_deref() == Some(s.id.as_str());
                        let room = s.room.as_ref().map(|r| format!("{} {r}", p.t.label_room));
                        html! {
                            <li key={s.id.clone()}>
                                <button type="button" class={classes!("rg-time", current.then_some("rg-current"))} aria-current={ current.then_some("true") } {onclick}>
                                    <span class="rg-time-value">{ format::time(&s.start) }</span>
                                    if let Some(room) = room {
                                        <span class="rg-time-room">{ room }</span>
                                    }
                                </button>
                            </li>
                        }
                    }) }
                </ul>
            }
        }
    };
    html! { <section>{ heading(p.t.step_time) }{ notice }{ date_line }{ content }</section> }
}

/// The label-value pairs of a ticket or a choice.
pub fn details(p: &StepProps, rows: Vec<(&'static str, String)>) -> Html {
    let _ = p;
    html! {
        <dl class="rg-details">
            { for rows.into_iter().map(|(k, v)| html! { <><dt>{ k }</dt><dd>{ v }</dd></> }) }
        </dl>
    }
}

#[function_component(ConfirmStep)]
pub fn confirm_step(p: &StepProps) -> Html {
    let busy = use_state(|| false);
    let failure = use_state(|| None::<&'static str>);
    // One key per booking attempt: a retried confirmation cannot book twice.
    let key = use_memo(p.flow.attempt, |_| host::random_key());
    let (Some(spec), Some(doctor), Some(slot)) = (&p.flow.specialty, &p.flow.doctor, &p.flow.slot)
    else {
        return html! {};
    };
    let mut rows = vec![
        (p.t.label_specialty, spec.name.clone()),
        (p.t.label_doctor, doctor.name.clone()),
    ];
    rows.push((
        p.t.label_date,
        format::long_date(p.t, slot.start.date_naive()),
    ));
    rows.push((
        p.t.label_time,
        format!("{} ({})", format::time(&slot.start), p.t.clinic_time),
    ));
    if let Some(room) = &slot.room {
        rows.push((p.t.label_room, room.clone()));
    }
    if let Some(address) = &slot.address {
        rows.push((p.t.label_address, address.clone()));
    }
    let onclick = {
        let (flow, api, busy, failure, key, t, settings) = (
            p.flow.clone(),
            p.api.clone(),
            busy.clone(),
            failure.clone(),
            key.clone(),
            p.t,
            p.settings.clone(),
        );
        let slot_id = slot.id.clone();
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            busy.set(true);
            failure.set(None);
            let (flow, api, busy, failure, key, slot_id, settings) = (
                flow.clone(),
                api.clone(),
                busy.clone(),
                failure.clone(),
                key.clone(),
                slot_id.clone(),
                settings.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let token = flow.session.clone();
                let result = api
                    .post::<Ticket>(
                        "/tickets",
                        token.as_deref(),
                        &NewTicket { slot_id },
                        Some(key.as_str()),
                    )
                    .await;
                busy.set(false);
                match result {
                    Ok(ticket) => {
                        host::post(&settings, "booked", host::TicketEvent::of(&ticket));
                        flow.dispatch(Action::Booked(ticket));
                    }
                    Err(e) => match e.code() {
                        Some(ErrorCode::SlotTaken) => flow.dispatch(Action::SlotTaken),
                        Some(ErrorCode::SessionRequired) => flow.dispatch(Action::SessionExpired),
                        _ => failure.set(Some(failure_text(t, &e))),
                    },
                }
            });
        })
    };
    html! {
        <section>
            { heading(p.t.step_confirm) }
            { details(p, rows) }
            if let Some(text) = *failure {
                <FailureView t={p.t} text={text} />
            }
            <div class="rg-actions">
                <button type="button" class="rg-button rg-primary" disabled={*busy} aria-busy={ busy.to_string() } {onclick}>
                    { if *busy { p.t.booking } else { p.t.confirm } }
                </button>
            </div>
        </section>
    }
}
