//! The steps of choosing: specialty, doctor, date, time, and the confirmation.

use super::app::HEADING_ID;
use super::calendar::Calendar;
use super::common::{FailureView, Load, Loading, StepProps, failure_text, use_fetch};
use crate::flow::{Action, Notice};
use crate::format;
use crate::host;
use api_types::routes;
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

/// A specialty or a doctor, as a list of choices shows it.
trait Choice: Clone + PartialEq + 'static {
    fn id(&self) -> &str;
    fn name(&self) -> &str;
    fn comment(&self) -> Option<&str>;
    fn free(&self) -> u32;
    fn nearest(&self) -> Option<chrono::NaiveDate>;
}

impl Choice for Specialty {
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn comment(&self) -> Option<&str> {
        None
    }
    fn free(&self) -> u32 {
        self.free_tickets
    }
    fn nearest(&self) -> Option<chrono::NaiveDate> {
        self.nearest_date
    }
}

impl Choice for Doctor {
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }
    fn free(&self) -> u32 {
        self.free_tickets
    }
    fn nearest(&self) -> Option<chrono::NaiveDate> {
        self.nearest_date
    }
}

/// Chooses the item the host page preselected as soon as the list shows it (or forgets the
/// preselection if the list does not have it).
#[hook]
fn use_preselect<T: Choice>(
    p: &StepProps,
    load: &Load<List<T>>,
    wanted: Option<String>,
    choose: fn(T) -> Action,
) {
    let flow = p.flow.clone();
    use_effect_with((load.clone(), wanted), move |(load, wanted)| {
        if let (Load::Ready(list), Some(wanted)) = (load, wanted) {
            match list.items.iter().find(|c| c.id() == wanted) {
                Some(c) => flow.dispatch(choose(c.clone())),
                None => flow.dispatch(Action::ClearPreselection),
            }
        }
    });
}

/// The list of specialties or doctors with free tickets, or why there is none.
fn choices<T: Choice>(
    p: &StepProps,
    load: &Load<List<T>>,
    reload: &Callback<()>,
    chosen: Option<&str>,
    choose: fn(T) -> Action,
) -> Html {
    match load {
        Load::Loading => html! { <Loading t={p.t} /> },
        Load::Failed(f) => {
            html! { <FailureView t={p.t} text={failure_text(p.t, f)} retry={Some(reload.clone())} /> }
        }
        Load::Ready(list) if list.items.is_empty() => {
            html! { <p class="rg-empty" role="status">{ p.t.no_free_tickets }</p> }
        }
        Load::Ready(list) => html! {
            <ul class="rg-choices">
                { for list.items.iter().map(|c| {
                    let (flow, item) = (p.flow.clone(), c.clone());
                    let onclick = Callback::from(move |_: MouseEvent| flow.dispatch(choose(item.clone())));
                    let current = chosen == Some(c.id());
                    html! {
                        <li key={c.id().to_owned()}>
                            <button type="button" class={classes!("rg-choice", current.then_some("rg-current"))} aria-current={ current.then_some("true") } {onclick}>
                                <span class="rg-choice-name">{ c.name().to_owned() }</span>
                                if let Some(comment) = c.comment() {
                                    <span class="rg-choice-comment">{ comment.to_owned() }</span>
                                }
                                <span class="rg-choice-meta">{ counts(p, c.free(), c.nearest()) }</span>
                            </button>
                        </li>
                    }
                }) }
            </ul>
        },
    }
}

#[function_component(SpecialtyStep)]
pub fn specialty_step(p: &StepProps) -> Html {
    let (data, reload) =
        use_fetch::<List<Specialty>>(&p.api, Some(p.api.route(routes::SPECIALTIES, &[])), None);
    use_preselect(
        p,
        &data,
        p.flow.preselect_specialty.clone(),
        Action::ChooseSpecialty,
    );
    let chosen = p.flow.specialty.as_ref().map(|s| s.id.as_str());
    html! { <section>{ heading(p.t.step_specialty) }{ choices(p, &data, &reload, chosen, Action::ChooseSpecialty) }</section> }
}

#[function_component(DoctorStep)]
pub fn doctor_step(p: &StepProps) -> Html {
    let path = p
        .flow
        .specialty
        .as_ref()
        .map(|s| p.api.route(routes::DOCTORS, &[&s.id]));
    let (data, reload) = use_fetch::<List<Doctor>>(&p.api, path, None);
    use_preselect(
        p,
        &data,
        p.flow.preselect_doctor.clone(),
        Action::ChooseDoctor,
    );
    let chosen = p.flow.doctor.as_ref().map(|d| d.id.as_str());
    html! { <section>{ heading(p.t.step_doctor) }{ choices(p, &data, &reload, chosen, Action::ChooseDoctor) }</section> }
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
        (Some(d), Some(date)) => Some(format!(
            "{}?date={date}",
            p.api.route(routes::SLOTS, &[&d.id])
        )),
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
                        &api.route(routes::BOOK, &[]),
                        token.as_deref(),
                        &NewTicket {
                            slot_id,
                            referral: None,
                        },
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
