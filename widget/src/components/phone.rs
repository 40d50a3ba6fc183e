//! The phone for the clinic's SMS reminders, on the confirmation screen: optional, with the
//! patient's consent, written into their card at the clinic (the gateway keeps nothing).

use super::common::{Field, StepProps, failure_text, input_value};
use api_types::{ErrorCode, PatientPhone, routes};
use yew::prelude::*;

/// A number worth sending: `+7` or `8` and then ten digits starting with 9 (the gateway
/// checks it again).
fn mobile(typed: &str) -> bool {
    let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
    let national = match digits.len() {
        11 if digits.starts_with(['7', '8']) => &digits[1..],
        10 => digits.as_str(),
        _ => return false,
    };
    national.starts_with('9')
        && typed
            .chars()
            .all(|c| c.is_ascii_digit() || " +()-".contains(c))
}

/// The optional phone, its consent and its button; the answer under them.
#[function_component(SmsPhone)]
pub fn sms_phone(p: &StepProps) -> Html {
    let t = p.t;
    let phone = use_state(String::new);
    let consent = use_state(|| false);
    let problem = use_state(|| None::<&'static str>);
    let state = use_state(|| None::<Result<(), &'static str>>);
    let busy = use_state(|| false);
    let oninput = {
        let (phone, problem) = (phone.clone(), problem.clone());
        Callback::from(move |e: InputEvent| {
            phone.set(input_value(&e));
            problem.set(None);
        })
    };
    let onchange = {
        let (consent, state) = (consent.clone(), state.clone());
        Callback::from(move |_: Event| {
            consent.set(!*consent);
            state.set(None);
        })
    };
    let onclick = {
        let (p, phone, consent) = (p.clone(), phone.clone(), consent.clone());
        let (problem, state, busy) = (problem.clone(), state.clone(), busy.clone());
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            if !mobile(&phone) {
                problem.set(Some(t.field_mobile));
                return;
            }
            if !*consent {
                state.set(Some(Err(t.field_consent)));
                return;
            }
            busy.set(true);
            state.set(None);
            let body = PatientPhone {
                phone: (*phone).clone(),
                sms_consent: true,
            };
            let (p, state, busy, phone) = (p.clone(), state.clone(), busy.clone(), phone.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let path = p.api.route(routes::PATIENT_PHONE, &[]);
                let answer: Result<(), _> = p
                    .api
                    .post(&path, p.flow.session.as_deref(), &body, None)
                    .await;
                busy.set(false);
                match answer {
                    Ok(()) => {
                        phone.set(String::new());
                        state.set(Some(Ok(())));
                    }
                    Err(e) if e.code() == Some(ErrorCode::InvalidInput) => {
                        state.set(Some(Err(t.field_mobile)))
                    }
                    Err(e) => state.set(Some(Err(failure_text(t, &e)))),
                }
            });
        })
    };
    if *state == Some(Ok(())) {
        return html! { <p class="rg-notice rg-ok" role="status">{ t.sms_saved }</p> };
    }
    html! {
        <fieldset class="rg-sms">
            <legend>{ t.sms_heading }</legend>
            <Field id="rg-mobile" label={t.sms_phone_label} hint={Some(t.sms_phone_hint)} kind="tel" inputmode="tel"
                value={(*phone).clone()} problem={*problem} oninput={oninput} />
            <div class="rg-check">
                <input type="checkbox" id="rg-sms-consent" checked={*consent} {onchange} />
                <label for="rg-sms-consent">{ t.sms_consent }</label>
            </div>
            if let Some(Err(text)) = *state {
                <p class="rg-notice rg-error" role="alert">{ text }</p>
            }
            <button type="button" class="rg-button rg-secondary" disabled={*busy} aria-busy={busy.to_string()} {onclick}>
                { if *busy { t.sms_saving } else { t.sms_save } }
            </button>
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::mobile;

    #[test]
    fn only_a_mobile_number_is_sent() {
        for ok in ["+7 916 123-45-67", "8 (916) 123-45-67", "9161234567"] {
            assert!(mobile(ok), "{ok}");
        }
        for bad in ["+7 495 123-45-67", "916 123", "+7 916 123-45-67 доб. 1", ""] {
            assert!(!mobile(bad), "{bad}");
        }
    }
}
