//! The waiting list: joining it (a phone and, if the patient likes, the days that suit) and
//! the confirmation. The phone is held by the form only, in memory, and forgotten once sent.
//! (The patient's requests in «Мои записи» are `requests`'.)

use super::common::{
    Field, FormStatus, StepProps, details, failure_text, heading, input_value, on_click, submit,
};
use super::requests::rows;
use crate::api::Failure;
use crate::flow::{Action, WaitFor};
use api_types::routes;
use api_types::{ErrorCode, NewWaitingRequest, WaitingRequest};
use widget_text::i18n::Texts;
use yew::prelude::*;

/// Whether the typed phone can be sent; if not, why (shown at the field).
fn phone_problem(t: &'static Texts, phone: &str) -> Option<&'static str> {
    api_types::identity::phone(phone).err().map(|f| match f {
        api_types::identity::FieldFault::Required => t.field_required,
        _ => t.field_phone,
    })
}

/// What the form holds: the phone, the days, and the state of its sending.
#[derive(Clone)]
struct Form {
    phone: UseStateHandle<String>,
    from: UseStateHandle<String>,
    to: UseStateHandle<String>,
    phone_problem: UseStateHandle<Option<&'static str>>,
    status: UseStateHandle<FormStatus>,
}

impl Form {
    /// The request the form describes for `wait`.
    fn request(&self, wait: &WaitFor) -> NewWaitingRequest {
        let optional = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        NewWaitingRequest {
            specialty_id: wait.specialty.id.clone(),
            doctor_id: wait.doctor.as_ref().map(|d| d.id.clone()),
            phone: self.phone.trim().to_owned(),
            from: optional(&self.from),
            to: optional(&self.to),
        }
    }

    /// Shows what the gateway answered: the request made, or why not.
    fn answered(&self, p: &StepProps, result: Result<WaitingRequest, Failure>) {
        match result {
            Ok(request) => {
                self.phone.set(String::new());
                self.status.set(FormStatus::Idle);
                p.flow.dispatch(Action::Waited(request));
            }
            Err(e) if e.code() == Some(ErrorCode::SessionRequired) => {
                self.status.set(FormStatus::Idle);
                p.flow.dispatch(Action::SessionExpired);
            }
            Err(Failure::Problem { code, fields, .. })
                if code == ErrorCode::InvalidInput && fields.iter().any(|f| f.field == "phone") =>
            {
                self.phone_problem.set(Some(p.t.field_phone));
                self.status.set(FormStatus::Idle);
            }
            Err(e) => self.status.set(FormStatus::Failed(failure_text(p.t, &e))),
        }
    }
}

/// Sends the form (once the phone can be sent).
fn send(p: &StepProps, form: &Form, wait: &WaitFor) -> Callback<SubmitEvent> {
    let (p, form, wait) = (p.clone(), form.clone(), wait.clone());
    Callback::from(move |e: SubmitEvent| {
        e.prevent_default();
        if *form.status == FormStatus::Busy {
            return;
        }
        if let Some(problem) = phone_problem(p.t, &form.phone) {
            form.phone_problem.set(Some(problem));
            crate::host::focus("rg-phone");
            return;
        }
        form.phone_problem.set(None);
        form.status.set(FormStatus::Busy);
        let body = form.request(&wait);
        let (p, form) = (p.clone(), form.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let path = p.api.route(routes::JOIN_WAITING_LIST, &[]);
            let result = p
                .api
                .post::<WaitingRequest>(&path, p.flow.session.as_deref(), &body, None)
                .await;
            form.answered(&p, result);
        });
    })
}

/// The waiting list's form: the phone and, if the patient likes, the days that suit.
#[function_component(WaitingForm)]
pub fn waiting_form(p: &StepProps) -> Html {
    let t = p.t;
    let form = Form {
        phone: use_state(String::new),
        from: use_state(String::new),
        to: use_state(String::new),
        phone_problem: use_state(|| None::<&'static str>),
        status: use_state(|| FormStatus::Idle),
    };
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
    let onsubmit = send(p, &form, &wait);
    let today = api_types::wire::format_date(crate::host::clinic_today());
    html! {
        <section>
            { heading(t.step_waiting) }
            { details(chosen) }
            <p class="rg-sub">{ t.waiting_intro }</p>
            <form class="rg-form" novalidate=true {onsubmit}>
                <Field id="rg-phone" label={t.phone_label} hint={Some(t.phone_hint)} value={(*form.phone).clone()}
                    problem={*form.phone_problem} inputmode="tel" kind="tel" oninput={set(&form.phone)} />
                <Field id="rg-from" label={t.waiting_from} value={(*form.from).clone()} kind="date" min={Some(today.clone())} oninput={set(&form.from)} />
                <Field id="rg-to" label={t.waiting_to} value={(*form.to).clone()} kind="date" min={Some(today)} oninput={set(&form.to)} />
                { submit(*form.status, t.join, t.joining) }
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
            { details(rows(p, &request)) }
            <p class="rg-sub">{ p.t.waiting_note }</p>
            <div class="rg-actions">
                <button type="button" class="rg-button rg-secondary" onclick={on_mine}>{ p.t.my_tickets }</button>
            </div>
        </section>
    }
}
