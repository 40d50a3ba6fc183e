//! Pieces every step uses: loading data, showing a failure with a retry, the summary line.

use crate::api::{Api, Failure};
use crate::flow::{Action, Flow};
use crate::host::Settings;
use api_types::ErrorCode;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use widget_text::format;
use widget_text::i18n::Texts;
use yew::prelude::*;

/// What every step component gets.
#[derive(Properties, Clone, PartialEq)]
pub struct StepProps {
    pub flow: UseReducerHandle<Flow>,
    pub api: Api,
    pub t: &'static Texts,
    pub settings: Settings,
    /// The clinic's IANA zone (for the calendar file).
    pub timezone: String,
    /// Whether the clinic e-mails tickets (it has a mail relay).
    pub email: bool,
}

/// A click that moves the flow: one closure type for every button that dispatches an action.
pub fn on_click(flow: &UseReducerHandle<Flow>, action: Action) -> Callback<MouseEvent> {
    let dispatcher = flow.dispatcher();
    Callback::from(move |_: MouseEvent| dispatcher.dispatch(action.clone()))
}

/// A value being loaded.
#[derive(Debug, Clone, PartialEq)]
pub enum Load<T> {
    Loading,
    Ready(T),
    Failed(Failure),
}

/// Loads `path` (GET, with the session token if given) whenever `path`, `token` or the
/// returned reload counter change.
#[hook]
pub fn use_fetch<T>(
    api: &Api,
    path: Option<String>,
    token: Option<String>,
) -> (UseStateHandle<Load<T>>, Callback<()>)
where
    T: DeserializeOwned + Clone + PartialEq + 'static,
{
    use_fetch_or(api, path, token, None)
}

/// [`use_fetch`], starting from `initial` when the page brought the answer along (then the
/// first load is skipped; a reload fetches).
#[hook]
pub fn use_fetch_or<T>(
    api: &Api,
    path: Option<String>,
    token: Option<String>,
    initial: Option<T>,
) -> (UseStateHandle<Load<T>>, Callback<()>)
where
    T: DeserializeOwned + Clone + PartialEq + 'static,
{
    let preloaded = initial.is_some();
    let data = use_state(move || initial.map_or(Load::Loading, Load::Ready));
    let generation = use_state(|| 0u32);
    {
        let (data, api) = (data.clone(), api.clone());
        use_effect_with(
            (path, token, *generation),
            move |(path, token, generation)| {
                if preloaded && *generation == 0 {
                    return;
                }
                if let Some(path) = path.clone() {
                    data.set(Load::Loading);
                    let token = token.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        let result = api.get::<T>(&path, token.as_deref()).await;
                        data.set(match result {
                            Ok(v) => Load::Ready(v),
                            Err(e) => Load::Failed(e),
                        });
                    });
                }
            },
        );
    }
    let reload = {
        let generation = generation.clone();
        Callback::from(move |()| generation.set(*generation + 1))
    };
    (data, reload)
}

/// The message for a failure, in the widget's language.
pub fn failure_text(t: &'static Texts, failure: &Failure) -> &'static str {
    match failure.code() {
        None
        | Some(ErrorCode::MisUnavailable | ErrorCode::MisBadResponse | ErrorCode::Internal) => {
            t.err_generic
        }
        Some(ErrorCode::PatientNotFound) => t.err_not_found,
        Some(ErrorCode::PatientNotUnique) => t.err_not_unique,
        Some(ErrorCode::TooManyRequests) => t.err_too_many,
        Some(ErrorCode::Overloaded) => t.err_overloaded,
        Some(ErrorCode::SlotTaken) => t.err_slot_taken,
        Some(ErrorCode::OutcomeUnknown) => t.err_outcome_unknown,
        Some(ErrorCode::AlreadyBooked) => t.err_already_booked,
        Some(ErrorCode::NotAttached | ErrorCode::BookingNotAllowed) => t.err_not_allowed,
        Some(ErrorCode::ClinicInactive) => t.err_clinic_inactive,
        Some(ErrorCode::NotSupported) => t.err_not_supported,
        Some(ErrorCode::SessionRequired) => t.err_session,
        Some(ErrorCode::ReferralNotFound) => t.err_referral_not_found,
        Some(ErrorCode::ReferralExpired) => t.err_referral_expired,
        Some(ErrorCode::ReferralUsed) => t.err_referral_used,
        Some(ErrorCode::ReferralCancelled) => t.err_referral_cancelled,
        Some(ErrorCode::AlreadyOnWaitingList) => t.err_already_waiting,
        Some(ErrorCode::WaitingListFull) => t.err_waiting_full,
        Some(_) => t.err_generic,
    }
}

#[derive(Properties, PartialEq)]
pub struct FailureProps {
    pub t: &'static Texts,
    pub text: AttrValue,
    #[prop_or_default]
    pub retry: Option<Callback<()>>,
}

/// A failure: a plain message (announced) and a way to retry.
/// Where a form stands: untouched, sent and waiting for its answer, or refused with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormStatus {
    Idle,
    Busy,
    Failed(&'static str),
}

/// A form's submit button (`busy_label` while the form is sent) and the live region that
/// tells its failure.
pub fn submit(status: FormStatus, label: &'static str, busy_label: &'static str) -> Html {
    let busy = status == FormStatus::Busy;
    html! {
        <>
            <div class="rg-actions">
                <button type="submit" class="rg-button rg-primary" disabled={busy} aria-busy={busy.to_string()}>
                    { if busy { busy_label } else { label } }
                </button>
            </div>
            <div class="rg-status" role="status" aria-live="polite">
                if let FormStatus::Failed(text) = status {
                    <p class="rg-status-error">{ text }</p>
                }
            </div>
        </>
    }
}

#[function_component(FailureView)]
pub fn failure_view(p: &FailureProps) -> Html {
    let retry = p
        .retry
        .clone()
        .map(|r| Callback::from(move |_: MouseEvent| r.emit(())));
    html! {
        <div class="rg-error" role="alert">
            <p>{ p.text.clone() }</p>
            if let Some(onclick) = retry {
                <button type="button" class="rg-button rg-secondary" {onclick}>{ p.t.retry }</button>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct LoadingProps {
    pub t: &'static Texts,
}

/// A placeholder of the size of a list, so that nothing jumps when the data arrive.
#[function_component(Loading)]
pub fn loading(p: &LoadingProps) -> Html {
    html! {
        <div class="rg-loading" role="status" aria-live="polite">
            <span class="rg-spinner" aria-hidden="true"></span>{ p.t.loading }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct SummaryProps {
    pub flow: UseReducerHandle<Flow>,
    pub t: &'static Texts,
}

/// The choices made so far, on one line.
#[function_component(Summary)]
pub fn summary(p: &SummaryProps) -> Html {
    let f = &*p.flow;
    let mut parts: Vec<String> = Vec::new();
    if let Some(s) = &f.specialty {
        parts.push(s.name.clone());
    }
    if let Some(d) = &f.doctor {
        parts.push(d.name.clone());
    }
    if let Some(d) = f.date {
        parts.push(format::short_date(p.t, d));
    }
    if let Some(s) = &f.slot {
        parts.push(format::time(&s.start));
    }
    if parts.is_empty() {
        return html! {};
    }
    html! {
        <p class="rg-summary"><span class="rg-summary-label">{ p.t.your_choice }{ ": " }</span>{ parts.join(" · ") }</p>
    }
}

/// The id of every step's heading, which takes the focus when the step changes.
pub const HEADING_ID: &str = "rg-step-heading";

/// A step's heading: the focus lands here when the step opens.
pub fn heading(text: &str) -> Html {
    html! { <h2 id={HEADING_ID} class="rg-heading" tabindex="-1">{ text.to_owned() }</h2> }
}

/// The label-value pairs of a ticket or a choice.
pub fn details(rows: Vec<(&'static str, String)>) -> Html {
    html! {
        <dl class="rg-details">
            { for rows.into_iter().map(|(k, v)| html! { <><dt>{ k }</dt><dd>{ v }</dd></> }) }
        </dl>
    }
}

/// The text of the input an event came from.
pub fn input_value(e: &InputEvent) -> String {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .map(|i| i.value())
        .unwrap_or_default()
}

#[derive(Properties, PartialEq)]
pub struct FieldProps {
    pub id: AttrValue,
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
pub fn field(p: &FieldProps) -> Html {
    let hint_id = format!("{}-hint", p.id);
    let error_id = format!("{}-error", p.id);
    let described = if p.problem.is_some() {
        format!("{hint_id} {error_id}")
    } else {
        hint_id.clone()
    };
    html! {
        <div class={classes!("rg-field", p.problem.is_some().then_some("rg-invalid"))}>
            <label for={p.id.clone()}>{ p.label }</label>
            <input id={p.id.clone()} name={p.id.clone()} type={p.kind} inputmode={p.inputmode} autocomplete="off" spellcheck="false"
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
