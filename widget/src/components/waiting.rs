//! The waiting list: joining it (a phone and, if the patient likes, the days that suit), the
//! confirmation, and the patient's requests in «Мои записи». The phone is held by the form
//! only, in memory, and forgotten once sent.

use super::common::{
    FailureView, FormStatus, Load, Loading, StepProps, failure_text, on_click, submit, use_fetch,
};
use super::identify::{Field, IdentifyStep, input_value};
use super::steps::{details, heading};
use crate::api::Failure;
use crate::flow::{Action, Notice};
use crate::format;
use api_types::routes;
use api_types::{ErrorCode, List, NewWaitingRequest, WaitingRequest};
use yew::prelude::*;

fn days(p: &StepProps, w: &WaitingRequest) -> String {
    match (w.from, w.to) {
        (Some(from), Some(to)) => format!(
            "{} — {}",
            format::short_date(p.t, from),
            format::short_date(p.t, to)
        ),
        _ => p.t.any_day.to_owned(),
    }
}

fn rows(p: &StepProps, w: &WaitingRequest) -> Vec<(&'static str, String)> {
    let mut rows = vec![(p.t.label_specialty, w.specialty.name.clone())];
    if let Some(d) = &w.doctor {
        rows.push((p.t.label_doctor, d.name.clone()));
    }
    rows.push((p.t.label_days, days(p, w)));
    rows
}

#[function_component(WaitingStep)]
pub fn waiting_step(p: &StepProps) -> Html {
    if p.flow.session.is_none() {
        return html! { <IdentifyStep ..p.clone() /> };
    }
    html! { <WaitingForm ..p.clone() /> }
}

#[function_component(WaitingForm)]
fn waiting_form(p: &StepProps) -> Html {
    let t = p.t;
    let phone = use_state(String::new);
    let from = use_state(String::new);
    let to = use_state(String::new);
    let phone_problem = use_state(|| None::<&'static str>);
    let status = use_state(|| FormStatus::Idle);
    let Some(wait) = p.flow.wait_for.clone() else {
        return html! {};
    };
    let set = |field: &UseStateHandle<String>| {
        let field = field.clone();
        Callback::from(move |e: InputEvent| field.set(input_value(&e)))
    };
    let mut chosen = vec![(t.label_specialty, wait.specialty.name.clone())];
    if let Some(d) = &wait.doctor {
        chosen.push((t.label_doctor, d.name.clone()));
    }
    let onsubmit = {
        let (flow, api, phone, from, to, phone_problem, status) = (
            p.flow.clone(),
            p.api.clone(),
            phone.clone(),
            from.clone(),
            to.clone(),
            phone_problem.clone(),
            status.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *status == FormStatus::Busy {
                return;
            }
            if let Err(f) = api_types::identity::phone(&phone) {
                phone_problem.set(Some(match f {
                    api_types::identity::FieldFault::Required => t.field_required,
                    _ => t.field_phone,
                }));
                crate::host::focus("rg-phone");
                return;
            }
            phone_problem.set(None);
            status.set(FormStatus::Busy);
            let optional = |s: &str| (!s.is_empty()).then(|| s.to_owned());
            let body = NewWaitingRequest {
                specialty_id: wait.specialty.id.clone(),
                doctor_id: wait.doctor.as_ref().map(|d| d.id.clone()),
                phone: phone.trim().to_owned(),
                from: optional(&from),
                to: optional(&to),
            };
            let (flow, api, status, phone, phone_problem) = (
                flow.clone(),
                api.clone(),
                status.clone(),
                phone.clone(),
                phone_problem.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let result = api
                    .post::<WaitingRequest>(
                        &api.route(routes::JOIN_WAITING_LIST, &[]),
                        flow.session.as_deref(),
                        &body,
                        None,
                    )
                    .await;
                match result {
                    Ok(request) => {
                        phone.set(String::new());
                        status.set(FormStatus::Idle);
                        flow.dispatch(Action::Waited(request));
                    }
                    Err(e) if e.code() == Some(ErrorCode::SessionRequired) => {
                        status.set(FormStatus::Idle);
                        flow.dispatch(Action::SessionExpired);
                    }
                    Err(Failure::Problem { code, fields })
                        if code == ErrorCode::InvalidInput
                            && fields.iter().any(|f| f.field == "phone") =>
                    {
                        phone_problem.set(Some(t.field_phone));
                        status.set(FormStatus::Idle);
                    }
                    Err(e) => status.set(FormStatus::Failed(failure_text(t, &e))),
                }
            });
        })
    };
    let today = api_types::wire::format_date(crate::host::clinic_today());
    html! {
        <section>
            { heading(t.step_waiting) }
            { details(p, chosen) }
            <p class="rg-sub">{ t.waiting_intro }</p>
            <form class="rg-form" novalidate=true {onsubmit}>
                <Field id="rg-phone" label={t.phone_label} hint={Some(t.phone_hint)} value={(*phone).clone()}
                    problem={*phone_problem} inputmode="tel" kind="tel" oninput={set(&phone)} />
                <Field id="rg-from" label={t.waiting_from} value={(*from).clone()} kind="date" min={Some(today.clone())} oninput={set(&from)} />
                <Field id="rg-to" label={t.waiting_to} value={(*to).clone()} kind="date" min={Some(today)} oninput={set(&to)} />
                { submit(*status, t.join, t.joining) }
            </form>
        </section>
    }
}

#[function_component(WaitingDoneStep)]
pub fn waiting_done_step(p: &StepProps) -> Html {
    let Some(request) = p.flow.waiting.clone() else {
        return html! {};
    };
    let on_mine = on_click(&p.flow, Action::OpenMyTickets);
    html! {
        <section>
            { heading(p.t.step_waiting_done) }
            { details(p, rows(p, &request)) }
            <p class="rg-sub">{ p.t.waiting_note }</p>
            <div class="rg-actions">
                <button type="button" class="rg-button rg-secondary" onclick={on_mine}>{ p.t.my_tickets }</button>
            </div>
        </section>
    }
}

/// The patient's requests on the waiting list, each with «Отозвать заявку».
#[function_component(MyWaitingList)]
pub fn my_waiting_list(p: &StepProps) -> Html {
    let t = p.t;
    let (data, reload) = use_fetch::<List<WaitingRequest>>(
        &p.api,
        Some(p.api.route(routes::WAITING_LIST, &[])),
        p.flow.session.clone(),
    );
    let failure = use_state(|| None::<&'static str>);
    let content = match &*data {
        Load::Loading => html! { <Loading t={t} /> },
        Load::Failed(f) => {
            html! { <FailureView t={t} text={failure_text(t, f)} retry={Some(reload.clone())} /> }
        }
        Load::Ready(list) if list.items.is_empty() => {
            html! { <p class="rg-empty">{ t.no_waiting }</p> }
        }
        Load::Ready(list) => html! {
            <ul class="rg-tickets">
                { for list.items.iter().map(|w| {
                    let withdraw = {
                        let (api, flow, reload, failure, id) =
                            (p.api.clone(), p.flow.clone(), reload.clone(), failure.clone(), w.id.clone());
                        Callback::from(move |_: MouseEvent| {
                            let (api, flow, reload, failure, id) =
                                (api.clone(), flow.clone(), reload.clone(), failure.clone(), id.clone());
                            wasm_bindgen_futures::spawn_local(async move {
                                match api.delete(&api.route(routes::LEAVE_WAITING_LIST, &[&id]), flow.session.as_deref()).await {
                                    Ok(()) => {
                                        failure.set(None);
                                        flow.dispatch(Action::Withdrawn);
                                        reload.emit(());
                                    }
                                    Err(e) if e.code() == Some(ErrorCode::SessionRequired) => flow.dispatch(Action::SessionExpired),
                                    Err(e) => failure.set(Some(failure_text(t, &e))),
                                }
                            });
                        })
                    };
                    html! {
                        <li key={w.id.clone()} class="rg-ticket-item">
                            <p class="rg-ticket-when">{ &w.specialty.name }
                                if let Some(d) = &w.doctor {
                                    { " — " }{ &d.name }
                                }
                            </p>
                            <p class="rg-sub">{ t.label_days }{ ": " }{ days(p, w) }</p>
                            <button type="button" class="rg-button rg-secondary" onclick={withdraw}>{ t.withdraw }</button>
                        </li>
                    }
                }) }
            </ul>
        },
    };
    html! {
        <section aria-labelledby="rg-waiting-heading">
            <h3 id="rg-waiting-heading" class="rg-group">{ t.my_waiting }</h3>
            if p.flow.notice == Some(Notice::Withdrawn) {
                <p class="rg-notice rg-ok" role="status">{ t.withdrawn }</p>
            }
            if let Some(text) = *failure {
                <FailureView t={t} text={text} />
            }
            { content }
        </section>
    }
}
