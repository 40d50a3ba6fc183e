//! The steps of choosing: specialty, doctor, date, time, and the confirmation.

use super::calendar::Calendar;
use super::common::{
    FailureView, Load, Loading, StepProps, details, failure_text, heading, on_click, use_fetch,
    use_fetch_or,
};
use super::phone::SmsPhone;
use crate::api::Failure;
use crate::flow::{Action, Mode, Notice, WaitFor};
use crate::host;
use api_types::routes;
use api_types::{Doctor, ErrorCode, List, Slot, Specialty, Ticket};
use std::rc::Rc;
use widget_text::format;
use yew::prelude::*;

fn counts(p: &StepProps, free: Option<u32>, nearest: Option<chrono::NaiveDate>) -> String {
    format::availability(p.t, free, nearest)
}

/// A specialty or a doctor, as a list of choices shows it.
trait Choice: Clone + PartialEq + 'static {
    fn id(&self) -> &str;
    fn name(&self) -> &str;
    fn comment(&self) -> Option<&str>;
    /// Its free tickets, where the clinic says how many.
    fn free(&self) -> Option<u32>;
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
    fn free(&self) -> Option<u32> {
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
    fn free(&self) -> Option<u32> {
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

/// What joining the waiting list from a choice asks for.
type Waiter<T> = Rc<dyn Fn(T) -> WaitFor>;

/// One list of choices; with `wait`, each without tickets offers the waiting list instead.
fn choice_list<T: Choice>(
    p: &StepProps,
    items: &[&T],
    chosen: Option<&str>,
    choose: fn(T) -> Action,
    wait: Option<&Waiter<T>>,
) -> Html {
    html! {
        <ul class="rg-choices">
            { for items.iter().map(|c| {
                let (flow, item) = (p.flow.clone(), (*c).clone());
                let current = chosen == Some(c.id());
                let body = html! {
                    <>
                        <span class="rg-choice-name">{ c.name().to_owned() }</span>
                        if let Some(comment) = c.comment() {
                            <span class="rg-choice-comment">{ comment.to_owned() }</span>
                        }
                    </>
                };
                match wait.cloned() {
                    None => {
                        let onclick = on_click(&flow, choose(item));
                        html! {
                            <li key={c.id().to_owned()}>
                                <button type="button" class={classes!("rg-choice", current.then_some("rg-current"))} aria-current={ current.then_some("true") } {onclick}>
                                    { body }
                                    <span class="rg-choice-meta">{ counts(p, c.free(), c.nearest()) }</span>
                                </button>
                            </li>
                        }
                    }
                    Some(wait) => {
                        let onclick = on_click(&flow, Action::Wait(wait(item)));
                        html! {
                            <li key={c.id().to_owned()} class="rg-choice rg-unavailable">
                                { body }
                                <button type="button" class="rg-button rg-secondary" {onclick}>{ p.t.join_waiting }</button>
                            </li>
                        }
                    }
                }
            }) }
        </ul>
    }
}

/// The specialties or doctors with free tickets, and (`wait`) those without in a group of
/// their own that offers the waiting list; or why there is none.
fn choices<T: Choice>(
    p: &StepProps,
    load: &Load<List<T>>,
    reload: &Callback<()>,
    chosen: Option<&str>,
    choose: fn(T) -> Action,
    wait: Option<Waiter<T>>,
) -> Html {
    match load {
        Load::Loading => html! { <Loading t={p.t} /> },
        Load::Failed(f) => {
            html! { <FailureView t={p.t} text={failure_text(p.t, f)} retry={Some(reload.clone())} /> }
        }
        Load::Ready(list) => {
            let (open, full): (Vec<&T>, Vec<&T>) = list
                .items
                .iter()
                .partition(|c| c.free().is_none_or(|n| n > 0));
            html! {
                <>
                    if open.is_empty() {
                        <p class="rg-empty" role="status">{ p.t.no_free_tickets }</p>
                    } else {
                        { choice_list(p, &open, chosen, choose, None) }
                    }
                    if let (Some(wait), false) = (wait, full.is_empty()) {
                        <h3 class="rg-group">{ p.t.unavailable_group }</h3>
                        { choice_list(p, &full, chosen, choose, Some(&wait)) }
                    }
                </>
            }
        }
    }
}

#[function_component(SpecialtyStep)]
pub fn specialty_step(p: &StepProps) -> Html {
    let path = format!(
        "{}?include_unavailable=true",
        p.api.route(routes::SPECIALTIES, &[])
    );
    let initial = p
        .settings
        .preload
        .as_ref()
        .and_then(|d| d.specialties.clone());
    let (data, reload) = use_fetch_or::<List<Specialty>>(&p.api, Some(path), None, initial);
    use_preselect(
        p,
        &data,
        p.flow.preselect_specialty.clone(),
        Action::ChooseSpecialty,
    );
    let chosen = p.flow.specialty.as_ref().map(|s| s.id.as_str());
    let by_referral = on_click(&p.flow, Action::StartReferral);
    html! {
        <section>
            { heading(p.t.step_specialty) }
            <div class="rg-actions rg-top">
                <button type="button" class="rg-button rg-secondary" onclick={by_referral}>{ p.t.by_referral }</button>
            </div>
            { choices(p, &data, &reload, chosen, Action::ChooseSpecialty, Some(Rc::new(|specialty| WaitFor { specialty, doctor: None }))) }
        </section>
    }
}

#[function_component(DoctorStep)]
pub fn doctor_step(p: &StepProps) -> Html {
    let referral = match &p.flow.mode {
        Mode::Referral(r) => Some(r.clone()),
        _ => None,
    };
    let path = match (&referral, &p.flow.specialty) {
        (None, Some(s)) => Some(format!(
            "{}?include_unavailable=true",
            p.api.route(routes::DOCTORS, &[&s.id])
        )),
        _ => None,
    };
    let (data, reload) = use_fetch::<List<Doctor>>(&p.api, path, None);
    use_preselect(
        p,
        &data,
        p.flow.preselect_doctor.clone(),
        Action::ChooseDoctor,
    );
    let chosen = p.flow.doctor.as_ref().map(|d| d.id.as_str());
    let list = match &referral {
        // A referral's doctors: their times are the referral's, not the directory's counts.
        Some(r) => {
            let doctors: Vec<Doctor> = r
                .doctors
                .iter()
                .map(|d| Doctor {
                    id: d.id.clone(),
                    name: d.name.clone(),
                    comment: None,
                    free_tickets: Some(1),
                    nearest_date: None,
                })
                .collect();
            let refs: Vec<&Doctor> = doctors.iter().collect();
            choice_list(p, &refs, chosen, Action::ChooseDoctor, None)
        }
        None => {
            let wait = p.flow.specialty.clone().map(|specialty| {
                Rc::new(move |d| WaitFor {
                    specialty: specialty.clone(),
                    doctor: Some(d),
                }) as Waiter<Doctor>
            });
            choices(p, &data, &reload, chosen, Action::ChooseDoctor, wait)
        }
    };
    html! { <section>{ heading(p.t.step_doctor) }{ list }</section> }
}

/// The referral of the flow (its number and last day, if known), if it books by one or moves
/// a visit booked by one.
fn referral_of(mode: &Mode) -> Option<(String, Option<chrono::NaiveDate>)> {
    match mode {
        Mode::Referral(r) => Some((r.number.clone(), r.valid_until)),
        Mode::Move(t) => t.referral.clone().map(|number| (number, None)),
        Mode::Book => None,
    }
}

/// The free tickets open to the referral, from today to its last day (at most 92 days; the
/// gateway cuts them to the last day it knows).
fn referral_slots_path(
    p: &StepProps,
    number: &str,
    valid_until: Option<chrono::NaiveDate>,
) -> String {
    let today = host::clinic_today();
    let last = today + chrono::Duration::days(91);
    let to = valid_until.map_or(last, |d| d.min(last)).max(today);
    format!(
        "{}?from={}&to={}",
        p.api.route(routes::REFERRAL_SLOTS, &[number]),
        api_types::wire::format_date(today),
        api_types::wire::format_date(to)
    )
}

/// The referral's tickets of the flow's doctor (all of them when the flow books otherwise).
#[hook]
fn use_referral_slots(p: &StepProps) -> (Option<Load<Vec<Slot>>>, Callback<()>) {
    let referral = referral_of(&p.flow.mode);
    let path = referral
        .as_ref()
        .map(|(number, until)| referral_slots_path(p, number, *until));
    let (data, reload) = use_fetch::<List<Slot>>(&p.api, path, p.flow.session.clone());
    let doctor = p.flow.doctor.as_ref().map(|d| d.id.clone());
    let mine = referral.map(|_| match &*data {
        Load::Loading => Load::Loading,
        Load::Failed(f) => Load::Failed(f.clone()),
        Load::Ready(list) => Load::Ready(
            list.items
                .iter()
                .filter(|s| s.doctor.as_ref().map(|d| &d.id) == doctor.as_ref())
                .cloned()
                .collect(),
        ),
    });
    (mine, reload)
}

#[function_component(DateStep)]
pub fn date_step(p: &StepProps) -> Html {
    let (referral_slots, reload) = use_referral_slots(p);
    let Some(doctor) = p.flow.doctor.clone() else {
        return html! {};
    };
    let on_choose = {
        let flow = p.flow.clone();
        Callback::from(move |d| flow.dispatch(Action::ChooseDate(d)))
    };
    let calendar = match referral_slots {
        None => html! {
            <Calendar api={p.api.clone()} t={p.t} doctor={doctor} selected={p.flow.date} {on_choose} />
        },
        Some(Load::Loading) => html! { <Loading t={p.t} /> },
        Some(Load::Failed(f)) => {
            html! { <FailureView t={p.t} text={failure_text(p.t, &f)} retry={Some(reload)} /> }
        }
        Some(Load::Ready(slots)) if slots.is_empty() => {
            html! { <p class="rg-empty" role="status">{ p.t.no_free_tickets }</p> }
        }
        Some(Load::Ready(slots)) => {
            let mut days: Vec<chrono::NaiveDate> =
                slots.iter().map(|s| s.start.date_naive()).collect();
            days.dedup();
            let doctor = Doctor {
                nearest_date: days.first().copied(),
                ..doctor
            };
            html! {
                <Calendar api={p.api.clone()} t={p.t} doctor={doctor} selected={p.flow.date} dates={Some(Rc::new(days))} {on_choose} />
            }
        }
    };
    html! {
        <section>
            { heading(p.t.step_date) }
            { calendar }
        </section>
    }
}

#[function_component(TimeStep)]
pub fn time_step(p: &StepProps) -> Html {
    let (referral_slots, referral_reload) = use_referral_slots(p);
    let path = match (&p.flow.doctor, p.flow.date, &referral_slots) {
        (Some(d), Some(date), None) => Some(format!(
            "{}?date={date}",
            p.api.route(routes::SLOTS, &[&d.id])
        )),
        _ => None,
    };
    let (data, reload) = use_fetch::<List<Slot>>(&p.api, path, None);
    let (load, reload) = match referral_slots {
        Some(load) => {
            let date = p.flow.date;
            let of_day = match load {
                Load::Ready(slots) => Load::Ready(List::from(
                    slots
                        .into_iter()
                        .filter(|s| Some(s.start.date_naive()) == date)
                        .collect::<Vec<_>>(),
                )),
                Load::Loading => Load::Loading,
                Load::Failed(f) => Load::Failed(f),
            };
            (of_day, referral_reload)
        }
        None => ((*data).clone(), reload),
    };
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
    let content = match &load {
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
                        let onclick = on_click(&flow, Action::ChooseSlot(item));
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

/// The old time and the new one, side by side.
fn comparison(p: &StepProps, old: &Ticket, new: &Slot) -> Html {
    let t = p.t;
    let row = |label: &'static str, was: String, will: String| {
        html! { <tr><th scope="row">{ label }</th><td>{ was }</td><td>{ will }</td></tr> }
    };
    html! {
        <table class="rg-compare">
            <caption class="rg-sub">{ &old.specialty.name }{ " — " }{ &old.doctor.name }</caption>
            <thead><tr><td></td><th scope="col">{ t.label_was }</th><th scope="col">{ t.label_will_be }</th></tr></thead>
            <tbody>
                { row(t.label_date, format::long_date(t, old.start.date_naive()), format::long_date(t, new.start.date_naive())) }
                { row(t.label_time, format::time(&old.start), format::time(&new.start)) }
                { row(t.label_room, old.room.clone().unwrap_or_default(), new.room.clone().unwrap_or_default()) }
            </tbody>
        </table>
    }
}

/// What the confirmation shows: the new time beside the old for a move, else the booking's
/// details.
fn confirmation(p: &StepProps, (specialty, doctor, slot): (&Specialty, &Doctor, &Slot)) -> Html {
    let t = p.t;
    if let Mode::Move(old) = &p.flow.mode {
        return comparison(p, old, slot);
    }
    let mut rows = vec![
        (t.label_specialty, specialty.name.clone()),
        (t.label_doctor, doctor.name.clone()),
    ];
    if let Mode::Referral(r) = &p.flow.mode {
        rows.push((t.label_referral, r.number.clone()));
    }
    rows.push((t.label_date, format::long_date(t, slot.start.date_naive())));
    rows.push((
        t.label_time,
        format!("{} ({})", format::time(&slot.start), t.clinic_time),
    ));
    if let Some(room) = &slot.room {
        rows.push((t.label_room, room.clone()));
    }
    if let Some(address) = &slot.address {
        rows.push((t.label_address, address.clone()));
    }
    details(rows)
}

/// What the confirmation shows after an answer that is no ticket.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    /// Nothing more: the flow moved on (a fresh list of times, identification again).
    Nothing,
    /// A message, and the button to try again.
    Failed(&'static str),
    /// The clinic did not confirm whether it booked: the message, and the way to «Мои записи»
    /// (which reads the МИС), never a second booking in the dark.
    Unknown,
}

/// What the answer to a booking does: the ticket (told to the host page), a fresh list of
/// times when it was taken, identification again when the session ended, or a message.
fn on_booked(p: &StepProps, result: Result<Ticket, Failure>) -> Outcome {
    let (flow, settings) = (&p.flow, &p.settings);
    match result {
        Ok(ticket) => {
            if let Mode::Move(old) = &flow.mode {
                host::post(settings, "cancelled", host::TicketEvent::of(old));
                host::post(settings, "booked", host::TicketEvent::of(&ticket));
                flow.dispatch(Action::Moved(ticket));
            } else {
                host::post(settings, "booked", host::TicketEvent::of(&ticket));
                flow.dispatch(Action::Booked(ticket));
            }
            Outcome::Nothing
        }
        // A cut connection after the one retry says nothing of what the clinic did either.
        Err(Failure::Network) => Outcome::Unknown,
        Err(e) => match e.code() {
            Some(ErrorCode::SlotTaken) => {
                flow.dispatch(Action::SlotTaken);
                Outcome::Nothing
            }
            Some(ErrorCode::SessionRequired) => {
                flow.dispatch(Action::SessionExpired);
                Outcome::Nothing
            }
            Some(ErrorCode::OutcomeUnknown) => Outcome::Unknown,
            _ => Outcome::Failed(failure_text(p.t, &e)),
        },
    }
}

/// Books (or moves) under `key`, through a surge ([`crate::api::through_surge`]): a request
/// the gateway could not start (`overloaded`, too many requests) or a connection cut before
/// the answer is sent again with the same key, which the gateway answers from what the clinic
/// holds (it never books twice). `crowded` tells the patient it is trying again; `stop` ends
/// the tries.
async fn book_through_surge(
    p: &StepProps,
    slot_id: String,
    key: &str,
    crowded: &dyn Fn(bool),
    stop: &std::rc::Rc<std::cell::Cell<bool>>,
) -> Result<Ticket, Failure> {
    let (referral, moving) = match &p.flow.mode {
        Mode::Move(old) => (old.referral.clone(), Some(old.id.as_str())),
        Mode::Referral(r) => (Some(r.number.clone()), None),
        _ => (None, None),
    };
    let token = p.flow.session.clone();
    let book = |slot_id: String| {
        p.api
            .book(token.as_deref(), slot_id, referral.clone(), moving, key)
    };
    crate::api::through_surge(|| book(slot_id.clone()), crowded, &|| stop.get()).await
}

#[function_component(ConfirmStep)]
pub fn confirm_step(p: &StepProps) -> Html {
    let busy = use_state(|| false);
    let crowded = use_state(|| false);
    let stop = use_memo((), |()| std::rc::Rc::new(std::cell::Cell::new(false)));
    let outcome = use_state(|| Outcome::Nothing);
    // One key per booking attempt: a retried confirmation cannot book twice.
    let key = use_memo(p.flow.attempt, |_| host::random_key());
    let (Some(spec), Some(doctor), Some(slot)) = (&p.flow.specialty, &p.flow.doctor, &p.flow.slot)
    else {
        return html! {};
    };
    let t = p.t;
    let moving = matches!(p.flow.mode, Mode::Move(_));
    let onclick = {
        let (p, busy, outcome, key) = (p.clone(), busy.clone(), outcome.clone(), key.clone());
        let (crowded, stop) = (crowded.clone(), (*stop).clone());
        let slot_id = slot.id.clone();
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            busy.set(true);
            stop.set(false);
            outcome.set(Outcome::Nothing);
            let (p, busy, outcome, key, slot_id) = (
                p.clone(),
                busy.clone(),
                outcome.clone(),
                key.clone(),
                slot_id.clone(),
            );
            let (crowded, stop) = (crowded.clone(), stop.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let tell = |on: bool| crowded.set(on);
                let result = book_through_surge(&p, slot_id, key.as_str(), &tell, &stop).await;
                busy.set(false);
                outcome.set(on_booked(&p, result));
            });
        })
    };
    let stop_trying = {
        let stop = (*stop).clone();
        Callback::from(move |_: MouseEvent| stop.set(true))
    };
    let (title, button, working) = if moving {
        (t.step_move_confirm, t.confirm_move, t.moving)
    } else {
        (t.step_confirm, t.confirm, t.booking)
    };
    let unknown = *outcome == Outcome::Unknown;
    html! {
        <section>
            { heading(title) }
            { confirmation(p, (spec, doctor, slot)) }
            if moving {
                <p class="rg-sub">{ t.move_note }</p>
            } else {
                <SmsPhone ..p.clone() />
            }
            if let Outcome::Failed(text) = *outcome {
                <FailureView t={t} text={text} />
            }
            if *crowded {
                <div class="rg-notice rg-crowded" role="status">
                    <p>{ t.crowded }</p>
                    <button type="button" class="rg-button" onclick={stop_trying}>{ t.stop_trying }</button>
                </div>
            }
            if unknown {
                <div class="rg-notice rg-unknown" role="alert">
                    <p>{ t.err_outcome_unknown }</p>
                    <button type="button" class="rg-button rg-primary" onclick={on_click(&p.flow, Action::OpenMyTickets)}>{ t.my_tickets }</button>
                </div>
            } else {
                <div class="rg-actions">
                    <button type="button" class="rg-button rg-primary" disabled={*busy} aria-busy={ busy.to_string() } {onclick}>
                        { if *busy { working } else { button } }
                    </button>
                </div>
            }
        </section>
    }
}
