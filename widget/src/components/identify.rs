//! Identification: document number, OMS policy number and birth date, «Войти», and a status
//! line that says what happened. Fields are checked before sending, with messages at the
//! field; nothing typed is lost on an error; nothing is stored anywhere but in memory.

use super::common::{FormStatus, StepProps, failure_text};
use super::steps::heading;
use crate::flow::{Action, IdentityDraft, Notice};
use crate::host;
use crate::validate::{self, FieldProblem};
use api_types::routes;
use api_types::{ErrorCode, NewSession, Session};
use chrono::Datelike;
use wasm_bindgen::JsCast;
use yew::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Problems {
    document: Option<FieldProblem>,
    policy: Option<FieldProblem>,
    birth: Option<FieldProblem>,
}

pub(super) fn input_value(e: &InputEvent) -> String {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .map(|i| i.value())
        .unwrap_or_default()
}

#[derive(Properties, PartialEq)]
pub(super) struct FieldProps {
    pub id: &'static str,
    pub label: &'static str,
    #[prop_or_default]
    pub hint: Option<&'static str>,
    pub value: String,
    #[prop_or_default]
    pub problem: Option<&'static str>,
    #[prop_or("text")]
    pub inputmode: &'static str,
    /// The input's `type`.
    #[prop_or("text")]
    pub kind: &'static str,
    /// The earliest value (`min`, for dates).
    #[prop_or_default]
    pub min: Option<String>,
    pub oninput: Callback<InputEvent>,
}

/// A labelled text field with its hint and, when it cannot be accepted, why.
#[function_component(Field)]
pub(super) fn field(p: &FieldProps) -> Html {
    let hint_id = format!("{}-hint", p.id);
    let error_id = format!("{}-error", p.id);
    let described = if p.problem.is_some() {
        format!("{hint_id} {error_id}")
    } else {
        hint_id.clone()
    };
    html! {
        <div class={classes!("rg-field", p.problem.is_some().then_some("rg-invalid"))}>
            <label for={p.id}>{ p.label }</label>
            <input id={p.id} name={p.id} type={p.kind} inputmode={p.inputmode} autocomplete="off" spellcheck="false"
                value={p.value.clone()} min={p.min.clone()} aria-describedby={described} aria-invalid={ p.problem.is_some().to_string() }
                oninput={p.oninput.clone()} />
            if let Some(hint) = p.hint {
                <p class="rg-hint" id={hint_id}>{ hint }</p>
            }
            if let Some(problem) = p.problem {
                <p class="rg-field-error" id={error_id}>{ problem }</p>
            }
        </div>
    }
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
    let onsubmit = {
        let (flow, api, problems, status) = (
            p.flow.clone(),
            p.api.clone(),
            problems.clone(),
            status.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *status == FormStatus::Busy {
                return;
            }
            let d: IdentityDraft = flow.identity.clone();
            let today = host::clinic_today();
            let birth = validate::birth_date(&d.birth_date, today);
            let found = Problems {
                document: validate::document(&d.document).err(),
                policy: validate::policy(&d.policy).err(),
                birth: birth.err(),
            };
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
            let Ok(birth) = birth else { return };
            status.set(FormStatus::Busy);
            let body = NewSession {
                document_number: d.document.trim().to_owned(),
                policy_number: d.policy.trim().to_owned(),
                birth_date: format!(
                    "{:04}-{:02}-{:02}",
                    birth.year(),
                    birth.month(),
                    birth.day()
                ),
            };
            let (flow, api, status, problems) =
                (flow.clone(), api.clone(), status.clone(), problems.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api
                    .post::<Session>(&api.route(routes::CREATE_SESSION, &[]), None, &body, None)
                    .await
                {
                    Ok(session) => {
                        status.set(FormStatus::Idle);
                        flow.dispatch(Action::Identified(session.token));
                    }
                    Err(e) => {
                        let text = match e.code() {
                            // The seed's message: the clinic's server cannot be reached.
                            None
                            | Some(
                                ErrorCode::MisUnavailable
                                | ErrorCode::MisBadResponse
                                | ErrorCode::Internal,
                            ) => t.err_unavailable,
                            Some(ErrorCode::InvalidInput) => {
                                if let crate::api::Failure::Problem { fields, .. } = &e {
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
                            _ => failure_text(t, &e),
                        };
                        status.set(FormStatus::Failed(text));
                    }
                }
            });
        })
    };
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
