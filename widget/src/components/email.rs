//! «Отправить талон на e-mail»: the ticket (or, once cancelled, its cancellation) sent to the
//! patient's address by the gateway. The address lives in this form only, and is cleared
//! once the message is sent.

use super::common::{Field, StepProps, failure_text, input_value};
use api_types::{EmailTicket as Body, ErrorCode, MailSent, routes};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct EmailProps {
    pub p: StepProps,
    /// The ticket's id.
    pub ticket: AttrValue,
    /// The ticket was cancelled: the message is its cancellation.
    #[prop_or_default]
    pub cancelled: bool,
}

/// Where the form is.
#[derive(Clone, Copy, PartialEq)]
enum State {
    Closed,
    Open,
    Sending,
    Sent,
}

/// An address worth sending: something, an `@`, no spaces (the gateway checks the rest).
fn plausible(address: &str) -> bool {
    let address = address.trim();
    address.len() <= 254
        && address.contains('@')
        && !address.starts_with('@')
        && !address.ends_with('@')
        && !address.contains(char::is_whitespace)
}

/// The button, then the form; nothing where the clinic does not e-mail tickets.
#[function_component(EmailTicket)]
pub fn email_ticket(props: &EmailProps) -> Html {
    let p = &props.p;
    let t = p.t;
    let state = use_state(|| State::Closed);
    let address = use_state(String::new);
    let problem = use_state(|| None::<&'static str>);
    let failure = use_state(|| None::<&'static str>);
    if !p.email {
        return html! {};
    }
    let kind = if props.cancelled { "cancel" } else { "ticket" };
    let field_id = AttrValue::from(format!("rg-email-{kind}-{}", props.ticket));
    match *state {
        State::Closed => {
            let open = {
                let state = state.clone();
                Callback::from(move |_: MouseEvent| state.set(State::Open))
            };
            let label = if props.cancelled {
                t.email_cancellation
            } else {
                t.email_ticket
            };
            html! {
                <button type="button" class="rg-button rg-secondary rg-no-print" onclick={open}>{ label }</button>
            }
        }
        State::Sent => html! {
            <p class="rg-notice rg-ok rg-no-print" role="status">{ t.email_sent }</p>
        },
        State::Open | State::Sending => {
            let oninput = {
                let (address, problem) = (address.clone(), problem.clone());
                Callback::from(move |e: InputEvent| {
                    address.set(input_value(&e));
                    problem.set(None);
                })
            };
            let onsubmit = send(props, (&state, &address), (&problem, &failure));
            let sending = *state == State::Sending;
            html! {
                <form class="rg-email rg-no-print" novalidate=true onsubmit={onsubmit}>
                    <Field id={field_id} label={t.email_label} hint={Some(t.email_hint)} kind="email" inputmode="email"
                        value={(*address).clone()} problem={*problem} oninput={oninput} />
                    if let Some(text) = *failure {
                        <p class="rg-notice rg-error" role="alert">{ text }</p>
                    }
                    <button type="submit" class="rg-button rg-primary" disabled={sending} aria-busy={sending.to_string()}>
                        { if sending { t.email_sending } else { t.email_send } }
                    </button>
                </form>
            }
        }
    }
}

/// Sends the form: checked first, then `POST …/tickets/{ticket}/email`.
fn send(
    props: &EmailProps,
    (state, address): (&UseStateHandle<State>, &UseStateHandle<String>),
    (problem, failure): (
        &UseStateHandle<Option<&'static str>>,
        &UseStateHandle<Option<&'static str>>,
    ),
) -> Callback<SubmitEvent> {
    let p = props.p.clone();
    let ticket = props.ticket.to_string();
    let (state, address, problem, failure) = (
        state.clone(),
        address.clone(),
        problem.clone(),
        failure.clone(),
    );
    Callback::from(move |e: SubmitEvent| {
        e.prevent_default();
        let t = p.t;
        if *state == State::Sending {
            return;
        }
        if !plausible(&address) {
            problem.set(Some(t.field_email));
            return;
        }
        state.set(State::Sending);
        failure.set(None);
        let (p, ticket) = (p.clone(), ticket.clone());
        let (state, address, problem, failure) = (
            state.clone(),
            address.clone(),
            problem.clone(),
            failure.clone(),
        );
        wasm_bindgen_futures::spawn_local(async move {
            let body = Body {
                email: address.trim().to_owned(),
                language: Some(t.lang.to_owned()),
            };
            let path = p.api.route(routes::EMAIL_TICKET, &[&ticket]);
            let answer: Result<MailSent, _> = p
                .api
                .post(&path, p.flow.session.as_deref(), &body, None)
                .await;
            match answer {
                Ok(_) => {
                    address.set(String::new());
                    state.set(State::Sent);
                }
                Err(e) => {
                    state.set(State::Open);
                    match e.code() {
                        Some(ErrorCode::InvalidInput) => problem.set(Some(t.field_email)),
                        Some(ErrorCode::MailUnavailable) => failure.set(Some(t.err_mail)),
                        Some(ErrorCode::TooManyRequests) => failure.set(Some(t.err_mail_limit)),
                        _ => failure.set(Some(failure_text(t, &e))),
                    }
                }
            }
        });
    })
}

#[cfg(test)]
mod tests {
    use super::plausible;

    #[test]
    fn only_a_plausible_address_is_sent() {
        assert!(plausible("ivanov@mail.ru") && plausible(" p@почта.рф "));
        for bad in ["", "ivanov", "@mail.ru", "ivanov@", "iva nov@mail.ru"] {
            assert!(!plausible(bad), "{bad:?}");
        }
    }
}
