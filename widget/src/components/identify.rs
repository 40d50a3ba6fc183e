//! Identification: document number, OMS policy number and birth date, «Войти», and a status
//! line that says what happened. Fields are checked before sending, with messages at the
//! field; nothing typed is lost on an error; nothing is stored anywhere but in memory.

use super::common::{Field, FormStatus, StepProps, failure_text, heading, input_value};
use crate::api::Failure;
use crate::flow::{Action, IdentityDraft, Notice};
use crate::host;
use crate::validate::{self, FieldProblem};
use api_types::{ErrorCode, NewSession};
use chrono::Datelike;
use widget_text::i18n::Texts;
use yew::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Problems {
    document: Option<FieldProblem>,
    policy: Option<FieldProblem>,
    birth: Option<FieldProblem>,
}

/// What the form's fields hold that cannot be sent, and the birth date when it can.
fn check(d: &IdentityDraft) -> (Problems, Option<chrono::NaiveDate>) {
    let birth = validate::birth_date(&d.birth_date, host::clinic_today());
    let found = Problems {
        document: validate::document(&d.document).err(),
        policy: validate::policy(&d.policy).err(),
        birth: birth.err(),
    };
    (found, birth.ok())
}

/// The identification the draft asks for, with the birth date as the wire writes it.
fn identity_of(d: &IdentityDraft, birth: chrono::NaiveDate) -> NewSession {
    NewSession {
        document_number: d.document.trim().to_owned(),
        policy_number: d.policy.trim().to_owned(),
        birth_date: format!(
            "{:04}-{:02}-{:02}",
            birth.year(),
            birth.month(),
            birth.day()
        ),
    }
}

/// The status line for a failed identification (and the fields the gateway refused).
fn refused(t: &'static Texts, e: &Failure, problems: &UseStateHandle<Problems>) -> &'static str {
    match e.code() {
        // The seed's message: the clinic's server cannot be reached.
        None
        | Some(ErrorCode::MisUnavailable | ErrorCode::MisBadResponse | ErrorCode::Internal) => {
            t.err_unavailable
        }
        Some(ErrorCode::InvalidInput) => {
            if let Failure::Problem { fields, .. } = e {
                let has = |f: &str| {
                    fields
                        .iter()
                        .any(|x| x.field == f)
                        .then_some(FieldProblem::Invalid)
                };
                problems.set(Problems {
                    document: has("document_number"),
                    policy: has("policy_number"),
                    birth: has("birth_date"),
                });
            }
            t.err_generic
        }
        _ => failure_text(t, e),
    }
}

/// Sends the identification once the fields can be sent; otherwise shows why at the fields
/// and puts the focus on the first.
fn login(
    p: &StepProps,
    problems: &UseStateHandle<Problems>,
    status: &UseStateHandle<FormStatus>,
) -> Callback<SubmitEvent> {
    let (flow, api, problems, status) = (
        p.flow.clone(),
        p.api.clone(),
        problems.clone(),
        status.clone(),
    );
    let t = p.t;
    Callback::from(move |e: SubmitEvent| {
        e.prevent_default();
        if *status == FormStatus::Busy {
            return;
        }
        let d: IdentityDraft = flow.identity.clone();
        let (found, birth) = check(&d);
        problems.set(found);
        let first_bad = [
            ("rg-document", found.document),
            ("rg-policy", found.policy),
            ("rg-birth", found.birth),
        ]
        .into_iter()
        .find(|(_, p)| p.is_some());
        if let Some((id, _)) = first_bad {
            host::focus(id);
            return;
        }
        let Some(birth) = birth else { return };
        status.set(FormStatus::Busy);
        let body = identity_of(&d, birth);
        let (flow, api, status, problems) =
            (flow.clone(), api.clone(), status.clone(), problems.clone());
        wasm_bindgen_futures::spawn_local(async move {
            match api.identify(&body).await {
                Ok(session) => {
                    status.set(FormStatus::Idle);
                    flow.dispatch(Action::Identified(session.token));
                }
                Err(e) => status.set(FormStatus::Failed(refused(t, &e, &problems))),
            }
        });
    })
}

#[function_component(IdentifyStep)]
pub fn identify_step(p: &StepProps) -> Html {
    let t = p.t;
    let problems = use_state(Problems::default);
    let status = use_state(|| FormStatus::Idle);
    let draft = p.flow.identity.clone();
    let edit = |which: u8| {
        let flow = p.flow.clone();
        Callback::from(move |e: InputEvent| {
            let mut d = flow.identity.clone();
            let v = input_value(&e);
            match which {
                0 => d.document = v,
                1 => d.policy = v,
                _ => d.birth_date = v,
            }
            flow.dispatch(Action::EditIdentity(d));
        })
    };
    let text_of = |p: Option<FieldProblem>, invalid: &'static str| {
        p.map(|p| match p {
            FieldProblem::Required => t.field_required,
            FieldProblem::Invalid => invalid,
            FieldProblem::Future => t.field_birth_future,
        })
    };
    let onsubmit = login(p, &problems, &status);
    let expired = (p.flow.notice == Some(Notice::SessionExpired)).then(|| {
        html! {
            <p class="rg-notice" role="alert">{ t.err_session }</p>
        }
    });
    let checking = *status == FormStatus::Busy;
    html! {
        <section>
            { heading(t.step_identify) }
            { expired }
            <p class="rg-sub">{ t.identify_intro }</p>
            <form class="rg-form" novalidate=true {onsubmit}>
                <Field id="rg-document" label={t.document_label} hint={Some(t.document_hint)} value={draft.document.clone()}
                    problem={text_of(problems.document, t.field_document)} inputmode="text" oninput={edit(0)} />
                <Field id="rg-policy" label={t.policy_label} hint={Some(t.policy_hint)} value={draft.policy.clone()}
                    problem={text_of(problems.policy, t.field_policy)} inputmode="numeric" oninput={edit(1)} />
                <Field id="rg-birth" label={t.birth_label} hint={Some(t.birth_hint)} value={draft.birth_date.clone()}
                    problem={text_of(problems.birth, t.field_birth)} inputmode="numeric" oninput={edit(2)} />
                <div class="rg-actions">
                    <button type="submit" class="rg-button rg-primary" disabled={checking} aria-busy={checking.to_string()}>{ t.login }</button>
                </div>
                <div class="rg-status" id="rg-login-status" role="status" aria-live="polite">
                    { match &*status {
                        FormStatus::Idle => html! {},
                        FormStatus::Busy => html! { <p>{ t.checking }</p> },
                        FormStatus::Failed(text) => html! { <p class="rg-status-error">{ *text }</p> },
                    } }
                </div>
            </form>
        </section>
    }
}
