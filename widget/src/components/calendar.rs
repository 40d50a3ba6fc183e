//! A month calendar where only days with free tickets can be chosen, usable with the arrow
//! keys (one day is tabbable at a time; arrows move it, Enter or Space chooses it).

use super::common::{FailureView, Load, failure_text, use_fetch};
use crate::api::Api;
use crate::host;
use api_types::routes;
use api_types::{AvailableDates, Doctor};
use chrono::{Datelike, Duration, Months, NaiveDate};
use widget_text::format;
use widget_text::i18n::Texts;
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

/// What the keys do on the focused day: Enter or Space chooses it (when it has free tickets),
/// the arrows, Home, End, PageUp and PageDown move it.
fn keys(
    go: Go,
    day: NaiveDate,
    available: Vec<NaiveDate>,
    on_choose: Callback<NaiveDate>,
) -> Callback<KeyboardEvent> {
    Callback::from(move |e: KeyboardEvent| {
        let key = e.key();
        if key == "Enter" || key == " " {
            e.prevent_default();
            if available.contains(&day) {
                on_choose.emit(day);
            }
        } else if let Some(target) = key_target(day, &key) {
            e.prevent_default();
            go(target, true);
        }
    })
}

/// Where a key moves the focused day, if it moves it.
fn key_target(day: NaiveDate, key: &str) -> Option<NaiveDate> {
    let weekday = i64::from(day.weekday().num_days_from_monday());
    Some(match key {
        "ArrowLeft" => day - Duration::days(1),
        "ArrowRight" => day + Duration::days(1),
        "ArrowUp" => day - Duration::days(7),
        "ArrowDown" => day + Duration::days(7),
        "Home" => day - Duration::days(weekday),
        "End" => day + Duration::days(6 - weekday),
        "PageUp" => day.checked_sub_months(Months::new(1)).unwrap_or(day),
        "PageDown" => day.checked_add_months(Months::new(1)).unwrap_or(day),
        _ => return None,
    })
}

/// The month of `first` in weeks from Monday: `None` before its first day and after its last.
fn cells_of(first: NaiveDate) -> Vec<Option<NaiveDate>> {
    let lead = first.weekday().num_days_from_monday() as usize;
    let days = (month_end(first) - first).num_days() as usize + 1;
    let mut cells: Vec<Option<NaiveDate>> = vec![None; lead];
    cells.extend((0..days).map(|i| Some(first + Duration::days(i as i64))));
    while !cells.len().is_multiple_of(7) {
        cells.push(None);
    }
    cells
}

#[derive(Properties, PartialEq)]
struct DayProps {
    t: &'static Texts,
    day: NaiveDate,
    /// It has free tickets.
    free: bool,
    selected: bool,
    /// It is the month's one tabbable day.
    tabbable: bool,
    onkeydown: Callback<KeyboardEvent>,
    onclick: Callback<MouseEvent>,
}

/// One day of the month: a button, chosen only when it has free tickets.
#[function_component(Day)]
fn day(p: &DayProps) -> Html {
    let (t, day) = (p.t, p.day);
    let mut label = format::long_date(t, day);
    if p.selected {
        label.push_str(&format!(", {}", t.day_selected));
    } else if !p.free {
        label.push_str(&format!(", {}", t.day_unavailable));
    }
    html! {
        <td>
            <button type="button" id={day_id(day)}
                class={classes!("rg-day", p.free.then_some("rg-free"), p.selected.then_some("rg-current"))}
                tabindex={ if p.tabbable { "0" } else { "-1" } }
                aria-disabled={ (!p.free).then_some("true") }
                aria-pressed={ p.selected.to_string() }
                aria-label={label}
                onkeydown={p.onkeydown.clone()}
                onclick={p.onclick.clone()}>
                { day.day() }
            </button>
        </td>
    }
}

/// The days of `month` that can be chosen (the caller's, or the doctor's, asked for month by
/// month), whether they are still coming, and what to show if they cannot come.
#[hook]
fn use_free_days(p: &CalendarProps, month: NaiveDate) -> (Vec<NaiveDate>, bool, Html) {
    let path = p.dates.is_none().then(|| {
        format!(
            "{}?from={}&to={}",
            p.api.route(routes::DATES, &[&p.doctor.id]),
            month,
            month_end(month)
        )
    });
    let (data, reload) = use_fetch::<AvailableDates>(&p.api, path, None);
    let pending = p.dates.is_none() && matches!(*data, Load::Loading);
    let available = match (&p.dates, &*data) {
        (Some(dates), _) => dates.to_vec(),
        (None, Load::Ready(d)) => d.dates.clone(),
        _ => Vec::new(),
    };
    let failure = match (&p.dates, &*data) {
        (None, Load::Failed(f)) => {
            html! { <FailureView t={p.t} text={failure_text(p.t, f)} retry={Some(reload)} /> }
        }
        _ => html! {},
    };
    (available, pending, failure)
}

/// Moves the calendar to a day (by the keyboard, or not).
type Go = std::rc::Rc<dyn Fn(NaiveDate, bool)>;

/// The month's name between its «‹» and «›» (each disabled at the end of the months shown).
fn month_bar(
    t: &'static Texts,
    first: NaiveDate,
    (first_month, last_month): (NaiveDate, NaiveDate),
    go: &Go,
) -> Html {
    let to = |target: NaiveDate| {
        let go = go.clone();
        Callback::from(move |_: MouseEvent| go(target, false))
    };
    let prev = to(first.checked_sub_months(Months::new(1)).unwrap_or(first));
    let next = to(first.checked_add_months(Months::new(1)).unwrap_or(first));
    html! {
        <div class="rg-month">
            <button type="button" class="rg-button rg-secondary rg-month-nav" aria-label={t.prev_month} disabled={first <= first_month} onclick={prev}>{ "‹" }</button>
            <p class="rg-month-name" aria-live="polite">{ format::month(t, first) }</p>
            <button type="button" class="rg-button rg-secondary rg-month-nav" aria-label={t.next_month} disabled={first >= last_month} onclick={next}>{ "›" }</button>
        </div>
    }
}

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
    let (available, pending, failure) = use_free_days(p, *month);
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
    let go: Go = {
        let (month, focused, by_keyboard) = (month.clone(), focused.clone(), by_keyboard.clone());
        std::rc::Rc::new(move |day: NaiveDate, keyboard: bool| {
            let m = month_of(day);
            if m < first_month || m > last_month {
                return;
            }
            if m != *month {
                month.set(m);
            }
            focused.set(day);
            by_keyboard.set(keyboard);
        })
    };
    let onkeydown = keys(go.clone(), *focused, available.clone(), p.on_choose.clone());
    let first = *month;
    // The tabbable day: the focused one if it is in this month, else the month's first.
    let tab_day = if month_of(*focused) == first {
        *focused
    } else {
        first
    };
    let t = p.t;
    let day_button = |day: NaiveDate| {
        let free = available.contains(&day);
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
            <Day {t} {day} {free} selected={p.selected == Some(day)} tabbable={day == tab_day}
                onkeydown={onkeydown.clone()} {onclick} />
        }
    };
    let weeks = cells_of(first)
        .chunks(7)
        .map(|week| {
            html! {
                <tr>
                    { for week.iter().map(|cell| match cell {
                        None => html! { <td></td> },
                        Some(day) => day_button(*day),
                    }) }
                </tr>
            }
        })
        .collect::<Html>();
    html! {
        <div class="rg-calendar">
            { month_bar(t, first, (first_month, last_month), &go) }
            <p class="rg-hint" id="rg-calendar-help">{ t.calendar_help }</p>
            { failure }
            <table class={classes!("rg-days", pending.then_some("rg-pending"))} aria-describedby="rg-calendar-help" aria-busy={ pending.to_string() }>
                <thead><tr>{ for t.weekdays_short.iter().enumerate().map(|(i, d)| html! { <th scope="col" abbr={t.weekdays[i]}>{ *d }</th> }) }</tr></thead>
                <tbody>{ weeks }</tbody>
            </table>
        </div>
    }
}
