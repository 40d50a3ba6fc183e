//! The patient's waiting-list requests as «Мои записи» and the confirmation show them: one
//! request's lines, and the list with «Отозвать заявку».

use super::common::{FailureView, Load, Loading, StepProps, failure_text, use_fetch};
use crate::flow::{Action, Notice};
use api_types::routes;
use api_types::{ErrorCode, List, WaitingRequest};
use widget_text::format;
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

pub(super) fn rows(p: &StepProps, w: &WaitingRequest) -> Vec<(&'static str, String)> {
    let mut rows = vec![(p.t.label_specialty, w.specialty.name.clone())];
    if let Some(d) = &w.doctor {
        rows.push((p.t.label_doctor, d.name.clone()));
    }
    rows.push((p.t.label_days, days(p, w)));
    rows
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
