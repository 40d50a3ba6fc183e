//! A month calendar where only days with free tickets can be chosen, usable with the arrow
//! keys (one day is tabbable at a time; arrows move it, Enter or Space chooses it).

use super::common::{FailureView, Load, failure_text, use_fetch};
use crate::api::Api;
use crate::format;
use crate::host;
use crate::i18n::Texts;
use api_types::routes;
use api_types::{AvailableDates, Doctor};
use chrono::{Datelike, Duration, Months, NaiveDate};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct CalendarProps {
    pub api: Api,
    pub t: &'static Texts,
    pub doctor: Doctor,
    pub selected: Option<NaiveDate>,
    pub on_choose: Callback<NaiveDate>,
    /// The days that can be chosen, when the caller knows them (a referral's); otherwise the
    /// doctor's dates are asked for month by month.
    #[prop_or_default]
    pub dates: Option<std::rc::Rc<Vec<NaiveDate>>>,
}

fn month_of(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn month_end(first: NaiveDate) -> NaiveDate {
    first
        .checked_add_months(Months::new(1))
        .map_or(first, |next| next - Duration::days(1))
}

fn day_id(d: NaiveDate) -> String {
    format!("rg-day-{d}")
}

/// How many months ahead of the first one can be shown.
const MONTHS_AHEAD: u32 = 2;

#[function_component(Calendar)]
pub fn calendar(p: &CalendarProps) -> Html {
    let start = p
        .selected
        .or(p.doctor.nearest_date)
        .unwrap_or_else(host::clinic_today);
    let first_month = month_of(p.doctor.nearest_date.unwrap_or(start).min(start));
    let last_month = first_month
        .checked_add_months(Months::new(MONTHS_AHEAD))
        .unwrap_or(first_month);
    let month = use_state(|| month_of(start));
    let focused = use_state(|| start);
    let by_keyboard = use_state(|| false);
    let path = p.dates.is_none().then(|| {
        format!(
            "{}?from={}&to={}",
            p.api.route(routes::DATES, &[&p.doctor.id]),
            *month,
            month_end(*month)
        )
    });
    let (data, reload) = use_fetch::<AvailableDates>(&p.api, path, None);
    let pending = p.dates.is_none() && matches!(*data, Load::Loading);
    {
        let by_keyboard = *by_keyboard;
        use_effect_with(
            (*focused, by_keyboard, !pending),
            move |(day, kb, ready)| {
                if *kb && *ready {
                    host::focus(&day_id(*day));
                }
            },
        );
    }
    let available: Vec<NaiveDate> = match (&p.dates, &*data) {
        (Some(dates), _) => dates.to_vec(),
        (None, Load::Ready(d)) => d.dates.clone(),
        _ => Vec::new(),
    };
    let go = {
        let (month, focused, by_keyboard) = (month.clone(), focused.clone(), by_keyboard.clone());
        move |day: NaiveDate, keyboard: bool| {
            let m = month_of(day);
            if m < first_month || m > last_month {
                return;
            }
            if m != *month {
                month.set(m);
            }
            focused.set(day);
            by_keyboard.set(keyboard);
        }
    };
    let prev = {
        let go = go.clone();
        let target = month.checked_sub_months(Months::new(1)).unwrap_or(*month);
        Callback::from(move |_: MouseEvent| go(target, false))
    };
    let next = {
        let go = go.clone();
        let target = month.checked_add_months(Months::new(1)).unwrap_or(*month);
        Callback::from(move |_: MouseEvent| go(target, false))
    };
    let onkeydown = {
        let (go, focused, available, on_choose) = (
            go.clone(),
            focused.clone(),
            available.clone(),
            p.on_choose.clone(),
        );
        Callback::from(move |e: KeyboardEvent| {
            let day = *focused;
            let target = match e.key().as_str() {
                "ArrowLeft" => day - Duration::days(1),
                "ArrowRight" => day + Duration::days(1),
                "ArrowUp" => day - Duration::days(7),
                "ArrowDown" => day + Duration::days(7),
                "Home" => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
                "End" => day + Duration::days(6 - i64::from(day.weekday().num_days_from_monday())),
                "PageUp" => day.checked_sub_months(Months::new(1)).unwrap_or(day),
                "PageDown" => day.checked_add_months(Months::new(1)).unwrap_or(day),
                "Enter" | " " => {
                    e.prevent_default();
                    if available.contains(&day) {
                        on_choose.emit(day);
                    }
                    return;
                }
                _ => return,
            };
            e.prevent_default();
            go(target, true);
        })
    };

    let first = *month;
    let lead = first.weekday().num_days_from_monday() as usize;
    let days = (month_end(first) - first).num_days() as usize + 1;
    let mut cells: Vec<Option<NaiveDate>> = vec![None; lead];
    cells.extend((0..days).map(|i| Some(first + Duration::days(i as i64))));
    while !cells.len().is_multiple_of(7) {
        cells.push(None);
    }
    // The tabbable day: the focused one if it is in this month, else the month's first.
    let tab_day = if month_of(*focused) == first {
        *focused
    } else {
        first
    };
    let t = p.t;
    let weeks = cells.chunks(7).map(|week| {
        html! {
            <tr>
                { for week.iter().map(|cell| match cell {
                    None => html! { <td></td> },
                    Some(day) => {
                        let day = *day;
                        let free = available.contains(&day);
                        let selected = p.selected == Some(day);
                        let mut label = format::long_date(t, day);
                        if selected {
                            label.push_str(&format!(", {}", t.day_selected));
                        } else if !free {
                            label.push_str(&format!(", {}", t.day_unavailable));
                        }
                        let onclick = {
                            let (on_choose, go) = (p.on_choose.clone(), go.clone());
                            Callback::from(move |_: MouseEvent| {
                                go(day, false);
                                if free {
                                    on_choose.emit(day);
                                }
                            })
                        };
                        html! {
                            <td>
                                <button type="button" id={day_id(day)}
                                    class={classes!("rg-day", free.then_some("rg-free"), selected.then_some("rg-current"))}
                                    tabindex={ if day == tab_day { "0" } else { "-1" } }
                                    aria-disabled={ (!free).then_some("true") }
                                    aria-pressed={ selected.to_string() }
                                    aria-label={label}
                                    onkeydown={onkeydown.clone()}
                                    {onclick}>
                                    { day.day() }
                                </button>
                            </td>
                        }
                    }
                }) }
            </tr>
        }
    });
    html! {
        <div class="rg-calendar">
            <div class="rg-month">
                <button type="button" class="rg-button rg-secondary rg-month-nav" aria-label={t.prev_month} disabled={first <= first_month} onclick={prev}>{ "‹" }</button>
                <p class="rg-month-name" aria-live="polite">{ format::month(t, first) }</p>
                <button type="button" class="rg-button rg-secondary rg-month-nav" aria-label={t.next_month} disabled={first >= last_month} onclick={next}>{ "›" }</button>
            </div>
            <p class="rg-hint" id="rg-calendar-help">{ t.calendar_help }</p>
            if let (None, Load::Failed(f)) = (&p.dates, &*data) {
                <FailureView t={t} text={failure_text(t, f)} retry={Some(reload.clone())} />
            }
            <table class={classes!("rg-days", pending.then_some("rg-pending"))} aria-describedby="rg-calendar-help" aria-busy={ pending.to_string() }>
                <thead><tr>{ for t.weekdays_short.iter().enumerate().map(|(i, d)| html! { <th scope="col" abbr={t.weekdays[i]}>{ *d }</th> }) }</tr></thead>
                <tbody>{ for weeks }</tbody>
            </table>
        </div>
    }
}
