//! «Запись по направлению»: the referral's number, then identification, then the referral's
//! doctor and times (the usual steps, booking by the referral).

use super::common::{Field, FormStatus, StepProps, failure_text, heading, input_value, submit};
use crate::flow::Action;
use api_types::routes;
use api_types::{ErrorCode, Referral};
use yew::prelude::*;

#[function_component(ReferralStep)]
pub fn referral_step(p: &StepProps) -> Html {
    let t = p.t;
    let typed = use_state(|| p.flow.referral_number.clone().unwrap_or_default());
    let problem = use_state(|| None::<&'static str>);
    let status = use_state(|| FormStatus::Idle);
    // Once there are a number and a session, the referral is looked up.
    {
        let (flow, api, status) = (p.flow.clone(), p.api.clone(), status.clone());
        use_effect_with(
            (p.flow.referral_number.clone(), p.flow.session.clone()),
            move |(number, session)| {
                if let (Some(number), Some(session)) = (number.clone(), session.clone()) {
                    status.set(FormStatus::Busy);
                    wasm_bindgen_futures::spawn_local(async move {
                        let found = api
                            .get::<Referral>(
                                &api.route(routes::REFERRAL, &[&number]),
                                Some(&session),
                            )
                            .await;
                        match found {
                            Ok(referral) => {
                                status.set(FormStatus::Idle);
                                flow.dispatch(Action::ReferralFound(referral));
                            }
                            Err(e) if e.code() == Some(ErrorCode::SessionRequired) => {
                                status.set(FormStatus::Idle);
                                flow.dispatch(Action::SessionExpired);
                            }
                            Err(e) => {
                                status.set(FormStatus::Failed(failure_text(t, &e)));
                                flow.dispatch(Action::ReferralNumber(None));
                            }
                        }
                    });
                }
            },
        );
    }
    let oninput = {
        let typed = typed.clone();
        Callback::from(move |e: InputEvent| typed.set(input_value(&e)))
    };
    let onsubmit = {
        let (flow, typed, problem, status) = (
            p.flow.clone(),
            typed.clone(),
            problem.clone(),
            status.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *status == FormStatus::Busy {
                return;
            }
            // Spaces are how people copy a number, not part of it.
            let number: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
            match api_types::identity::referral(&number) {
                Ok(_) => {
                    problem.set(None);
                    status.set(FormStatus::Idle);
                    flow.dispatch(Action::ReferralNumber(Some(number)));
                }
                Err(f) => {
                    problem.set(Some(match f {
                        api_types::identity::FieldFault::Required => t.field_required,
                        _ => t.field_referral,
                    }));
                    crate::host::focus("rg-referral");
                }
            }
        })
    };
    html! {
        <section>
            { heading(t.step_referral) }
            <p class="rg-sub">{ t.referral_intro }</p>
            <form class="rg-form" novalidate=true {onsubmit}>
                <Field id="rg-referral" label={t.referral_label} hint={Some(t.referral_hint)} value={(*typed).clone()}
                    problem={*problem} inputmode="numeric" {oninput} />
                { submit(*status, t.find_referral, t.finding_referral) }
            </form>
        </section>
    }
}
