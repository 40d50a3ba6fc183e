//! Dates and times for people, in the widget's language. Times are the clinic's local times
//! (the API gives them with the clinic's offset) and are never converted to the browser's zone.

use crate::i18n::Texts;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Timelike};

/// `среда, 2 декабря 2026` / `Wednesday, 2 December 2026`.
pub fn long_date(t: &Texts, d: NaiveDate) -> String {
    let weekday = t.weekdays[d.weekday().num_days_from_monday() as usize];
    format!(
        "{weekday}, {} {} {}",
        d.day(),
        t.months_of[d.month0() as usize],
        d.year()
    )
}

/// `2 декабря` / `2 December`.
pub fn short_date(t: &Texts, d: NaiveDate) -> String {
    format!("{} {}", d.day(), t.months_of[d.month0() as usize])
}

/// `09:30`, the clinic's wall-clock time.
pub fn time(t: &DateTime<FixedOffset>) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// `свободно 12 · ближайшая дата 2 декабря`: what a specialty or a doctor has.
pub fn availability(t: &Texts, free: Option<u32>, nearest: Option<NaiveDate>) -> String {
    // A count the clinic's МИС does not give is not written (it has some).
    let mut parts = Vec::with_capacity(2);
    if let Some(free) = free {
        parts.push(format!("{} {free}", t.free));
    }
    if let Some(d) = nearest {
        parts.push(format!("{} {}", t.nearest, short_date(t, d)));
    }
    parts.join(" · ")
}

/// `Декабрь 2026`.
pub fn month(t: &Texts, d: NaiveDate) -> String {
    format!("{} {}", t.months[d.month0() as usize], d.year())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::texts;
    use chrono::TimeZone;

    #[test]
    fn dates_read_naturally_in_both_languages() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 2).expect("valid");
        assert_eq!(long_date(texts("ru"), d), "среда, 2 декабря 2026");
        assert_eq!(long_date(texts("en"), d), "Wednesday, 2 December 2026");
        assert_eq!(month(texts("ru"), d), "Декабрь 2026");
    }

    #[test]
    fn times_stay_in_the_clinics_zone() {
        let moscow = FixedOffset::east_opt(3 * 3600).expect("valid");
        let t = moscow
            .with_ymd_and_hms(2026, 12, 2, 9, 5, 0)
            .single()
            .expect("valid");
        assert_eq!(time(&t), "09:05");
    }
}
