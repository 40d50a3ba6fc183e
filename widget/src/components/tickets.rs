//! The booked ticket (printable, as a calendar file) and «Мои записи».

use super::common::{
    FailureView, Load, Loading, StepProps, details, failure_text, heading, on_click, use_fetch,
};
use super::email::EmailTicket;
use super::requests::MyWaitingList;
use crate::flow::{Action, Notice};
use crate::host;
use crate::ics;
use api_types::routes;
use api_types::{ErrorCode, List, Ticket};
use widget_text::format;
use yew::prelude::*;

fn ticket_rows(p: &StepProps, ticket: &Ticket) -> Vec<(&'static str, String)> {
    let t = p.t;
    let mut rows = Vec::new();
    if let Some(n) = ticket.number {
        rows.push((t.label_number, n.to_string()));
    }
    rows.push((t.label_clinic, ticket.clinic.name.clone()));
    if let Some(a) = &ticket.address {
        rows.push((t.label_address, a.clone()));
    }
    rows.push((t.label_specialty, ticket.specialty.name.clone()));
    rows.push((t.label_doctor, ticket.doctor.name.clone()));
    if let Some(r) = &ticket.room {
        rows.push((t.label_room, r.clone()));
    }
    if let Some(r) = &ticket.referral {
        rows.push((t.label_referral, r.clone()));
    }
    rows.push((
        t.label_date,
        format::long_date(t, ticket.start.date_naive()),
    ));
    rows.push((
        t.label_time,
        format!("{} ({})", format::time(&ticket.start), t.clinic_time),
    ));
    rows
}

#[function_component(TicketStep)]
pub fn ticket_step(p: &StepProps) -> Html {
    let Some(ticket) = p.flow.ticket.clone() else {
        return html! {};
    };
    let t = p.t;
    let on_print = Callback::from(|_: MouseEvent| host::print());
    let on_ics = {
        let (ticket, tz) = (ticket.clone(), p.timezone.clone());
        Callback::from(move |_: MouseEvent| {
            let now = chrono::DateTime::from_timestamp_millis(js_sys::Date::now() as i64)
                .unwrap_or_default();
            let text = ics::calendar(t, &ticket, &tz, now);
            host::download("talon.ics", "text/calendar;charset=utf-8", &text);
        })
    };
    let on_more = on_click(&p.flow, Action::BookMore);
    let on_mine = on_click(&p.flow, Action::OpenMyTickets);
    let moved = p.flow.notice == Some(Notice::Moved);
    html! {
        <section>
            { heading(if moved { t.step_moved } else { t.step_ticket }) }
            <article class="rg-ticket" aria-label={t.step_ticket}>
                <p class="rg-ticket-title">{ t.title }</p>
                { details(ticket_rows(p, &ticket)) }
                <p class="rg-ticket-note">{ t.ticket_note }</p>
            </article>
            <div class="rg-actions rg-no-print">
                <button type="button" class="rg-button rg-primary" onclick={on_print}>{ t.print }</button>
                <button type="button" class="rg-button rg-secondary" onclick={on_ics}>{ t.add_to_calendar }</button>
                <button type="button" class="rg-button rg-secondary" onclick={on_mine}>{ t.my_tickets }</button>
                <button type="button" class="rg-button rg-secondary" onclick={on_more}>{ t.book_more }</button>
            </div>
            <EmailTicket p={p.clone()} ticket={ticket.id.clone()} />
        </section>
    }
}

/// What «Мои записи» shares between its tickets: which one asks «Отменить?», and what went
/// wrong last.
#[derive(Clone)]
struct Listing {
    asking: UseStateHandle<Option<String>>,
    /// The ticket cancelled last, whose cancellation may be e-mailed.
    cancelled: UseStateHandle<Option<String>>,
    failure: UseStateHandle<Option<&'static str>>,
    reload: Callback<()>,
}

/// Cancels `ticket` (told to the host page), then lists again.
fn cancel_of(p: &StepProps, ticket: &Ticket, listing: &Listing) -> Callback<MouseEvent> {
    let (p, ticket, listing) = (p.clone(), ticket.clone(), listing.clone());
    Callback::from(move |_: MouseEvent| {
        let (p, ticket, listing) = (p.clone(), ticket.clone(), listing.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let path = p.api.route(routes::CANCEL, &[&ticket.id]);
            match p.api.delete(&path, p.flow.session.as_deref()).await {
                Ok(()) => {
                    host::post(&p.settings, "cancelled", host::TicketEvent::of(&ticket));
                    listing.asking.set(None);
                    listing.failure.set(None);
                    listing.cancelled.set(Some(ticket.id.clone()));
                    p.flow.dispatch(Action::Cancelled);
                    listing.reload.emit(());
                }
                Err(e) if e.code() == Some(ErrorCode::SessionRequired) => {
                    p.flow.dispatch(Action::SessionExpired)
                }
                Err(e) => listing.failure.set(Some(failure_text(p.t, &e))),
            }
        });
    })
}

/// One upcoming ticket, with «Перенести» and «Отменить» (which asks before it cancels).
fn ticket_item(p: &StepProps, ticket: &Ticket, listing: &Listing) -> Html {
    let t = p.t;
    let id = ticket.id.clone();
    let ask = {
        let (asking, id) = (listing.asking.clone(), id.clone());
        Callback::from(move |_: MouseEvent| asking.set(Some(id.clone())))
    };
    let keep = {
        let asking = listing.asking.clone();
        Callback::from(move |_: MouseEvent| asking.set(None))
    };
    let asked = listing.asking.as_deref() == Some(id.as_str());
    let move_it = on_click(&p.flow, Action::StartMove(ticket.clone()));
    html! {
        <li key={id.clone()} class="rg-ticket-item">
            <p class="rg-ticket-when">{ format::long_date(t, ticket.start.date_naive()) }{ ", " }{ format::time(&ticket.start) }</p>
            <p>{ &ticket.specialty.name }{ " — " }{ &ticket.doctor.name }</p>
            if let Some(room) = &ticket.room {
                <p class="rg-sub">{ t.label_room }{ " " }{ room }</p>
            }
            if let Some(referral) = &ticket.referral {
                <p class="rg-sub">{ t.label_referral }{ " " }{ referral }</p>
            }
            if asked {
                <div class="rg-confirm" role="group" aria-label={t.cancel_question}>
                    <p>{ t.cancel_question }</p>
                    <button type="button" class="rg-button rg-danger" onclick={cancel_of(p, ticket, listing)}>{ t.cancel_yes }</button>
                    <button type="button" class="rg-button rg-secondary" onclick={keep}>{ t.cancel_no }</button>
                </div>
            } else {
                <div class="rg-actions">
                    <button type="button" class="rg-button rg-secondary" onclick={move_it}>{ t.reschedule }</button>
                    <button type="button" class="rg-button rg-secondary" onclick={ask}>{ t.cancel_ticket }</button>
                </div>
                <EmailTicket p={p.clone()} ticket={id.clone()} />
            }
        </li>
    }
}

/// «Мои записи»: the patient's upcoming tickets (each to move or cancel), then the requests on
/// the waiting list.
#[function_component(MyTicketsStep)]
pub fn my_tickets_step(p: &StepProps) -> Html {
    let t = p.t;
    let (data, reload) = use_fetch::<List<Ticket>>(
        &p.api,
        Some(p.api.route(routes::TICKETS, &[])),
        p.flow.session.clone(),
    );
    let listing = Listing {
        asking: use_state(|| None::<String>),
        cancelled: use_state(|| None::<String>),
        failure: use_state(|| None::<&'static str>),
        reload: reload.clone(),
    };
    {
        let flow = p.flow.clone();
        use_effect_with((*data).clone(), move |load| {
            if let Load::Failed(e) = load
                && e.code() == Some(ErrorCode::SessionRequired)
            {
                flow.dispatch(Action::SessionExpired);
            }
        });
    }
    let notice = (p.flow.notice == Some(Notice::Cancelled)).then(|| {
        html! {
            <>
                <p class="rg-notice rg-ok" role="status">{ t.cancelled }</p>
                if let Some(id) = &*listing.cancelled {
                    <EmailTicket key={id.clone()} p={p.clone()} ticket={id.clone()} cancelled=true />
                }
            </>
        }
    });
    let content = match &*data {
        Load::Loading => html! { <Loading t={t} /> },
        Load::Failed(f) => {
            html! { <FailureView t={t} text={failure_text(t, f)} retry={Some(reload.clone())} /> }
        }
        Load::Ready(list) if list.items.is_empty() => {
            html! { <p class="rg-empty">{ t.no_upcoming }</p> }
        }
        Load::Ready(list) => html! {
            <ul class="rg-tickets">
                { for list.items.iter().map(|ticket| ticket_item(p, ticket, &listing)) }
            </ul>
        },
    };
    html! {
        <section>
            { heading(t.step_my_tickets) }
            { notice }
            if let Some(text) = *listing.failure {
                <FailureView t={t} text={text} />
            }
            { content }
            <MyWaitingList ..p.clone() />
        </section>
    }
}
