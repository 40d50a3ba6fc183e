//! A ticket as a calendar file (RFC 5545), in the clinic's time zone, with two reminders: the
//! day before and two hours before. The widget offers it for download and the gateway attaches
//! it to the ticket it e-mails, so both write the same file.

use crate::i18n::Texts;
use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};

/// What a calendar file says of a visit.
#[derive(Debug, Clone, Copy)]
pub struct Visit<'a> {
    /// The ticket's id: the event's `UID`, so that a cancellation replaces the booking.
    pub id: &'a str,
    pub number: Option<u32>,
    pub clinic: &'a str,
    pub specialty: &'a str,
    pub doctor: &'a str,
    pub room: Option<&'a str>,
    pub address: Option<&'a str>,
    pub start: DateTime<FixedOffset>,
    pub end: Option<DateTime<FixedOffset>>,
}

/// Whether the file books the visit or cancels it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The visit, with its reminders.
    Publish,
    /// The visit is cancelled: calendars that hold it drop it.
    Cancel,
}

/// The reminders of a booked visit, before its start (RFC 5545 durations).
pub const REMINDERS: [&str; 2] = ["-P1D", "-PT2H"];

/// Escapes TEXT as RFC 5545 says: backslash, semicolon and comma get a backslash; a line
/// end (`\r\n`, `\n` or a lone `\r`) becomes `\n`, so no value can end its line early.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace("\r\n", "\\n")
        .replace(['\r', '\n'], "\\n")
}

fn stamp<T: Datelike + Timelike>(t: &T) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn offset(t: &DateTime<FixedOffset>) -> String {
    let secs = t.offset().local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let secs = secs.abs();
    format!("{sign}{:02}{:02}", secs / 3600, (secs % 3600) / 60)
}

/// Folds a content line at 75 octets, as RFC 5545 asks, never inside a character: each
/// continuation starts with a space.
fn fold(line: &str, out: &mut String) {
    let mut taken = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if taken + len > 75 {
            out.push_str("\r\n ");
            taken = 1;
        }
        out.push(c);
        taken += len;
    }
    out.push_str("\r\n");
}

/// The calendar file of `visit`; `timezone` is the clinic's IANA zone, `now` the stamp.
pub fn calendar(
    t: &Texts,
    visit: &Visit<'_>,
    timezone: &str,
    now: DateTime<Utc>,
    method: Method,
) -> String {
    let end = visit
        .end
        .or_else(|| {
            visit
                .start
                .checked_add_signed(chrono::Duration::minutes(20))
        })
        .unwrap_or(visit.start);
    let mut location = visit.address.unwrap_or_default().to_owned();
    if let Some(room) = visit.room {
        location = format!("{location}, {} {room}", t.room_in_address);
    }
    let summary = format!("{}: {} — {}", t.visit, visit.specialty, visit.doctor);
    let mut description = visit.clinic.to_owned();
    if let Some(n) = visit.number {
        description = format!("{description}. {} {n}", t.label_number);
    }
    let off = offset(&visit.start);
    let (method_name, status, sequence) = match method {
        Method::Publish => ("PUBLISH", "CONFIRMED", 0),
        Method::Cancel => ("CANCEL", "CANCELLED", 1),
    };
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Registratura//Ticket//RU".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        format!("METHOD:{method_name}"),
        "BEGIN:VTIMEZONE".to_owned(),
        format!("TZID:{timezone}"),
        "BEGIN:STANDARD".to_owned(),
        "DTSTART:19700101T000000".to_owned(),
        format!("TZOFFSETFROM:{off}"),
        format!("TZOFFSETTO:{off}"),
        "END:STANDARD".to_owned(),
        "END:VTIMEZONE".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}@registratura", escape(visit.id)),
        format!("SEQUENCE:{sequence}"),
        format!("STATUS:{status}"),
        format!("DTSTAMP:{}Z", stamp(&now)),
        format!("DTSTART;TZID={timezone}:{}", stamp(&visit.start)),
        format!("DTEND;TZID={timezone}:{}", stamp(&end)),
        format!("SUMMARY:{}", escape(&summary)),
        format!("LOCATION:{}", escape(&location)),
        format!("DESCRIPTION:{}", escape(&description)),
    ];
    if method == Method::Publish {
        for trigger in REMINDERS {
            lines.extend([
                "BEGIN:VALARM".to_owned(),
                "ACTION:DISPLAY".to_owned(),
                format!("TRIGGER:{trigger}"),
                format!("DESCRIPTION:{}", escape(&summary)),
                "END:VALARM".to_owned(),
            ]);
        }
    }
    lines.extend(["END:VEVENT".to_owned(), "END:VCALENDAR".to_owned()]);
    let mut out = String::new();
    for line in &lines {
        fold(line, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn visit() -> Visit<'static> {
        let moscow = FixedOffset::east_opt(3 * 3600).expect("valid");
        let start = moscow
            .with_ymd_and_hms(2026, 12, 2, 9, 30, 0)
            .single()
            .expect("valid");
        Visit {
            id: "T1",
            number: Some(3),
            clinic: "ГП № 1",
            specialty: "Терапия",
            doctor: "Иванова, М. П.",
            room: Some("101"),
            address: Some("ул. Лесная, 7"),
            start,
            end: Some(start + chrono::Duration::minutes(15)),
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0)
            .single()
            .expect("valid")
    }

    /// The file with its folded lines joined again.
    fn unfolded(ics: &str) -> String {
        ics.replace("\r\n ", "")
    }

    #[test]
    fn the_event_is_in_the_clinics_zone_and_escaped() {
        let ics = calendar(
            crate::i18n::texts("ru"),
            &visit(),
            "Europe/Moscow",
            now(),
            Method::Publish,
        );
        let ics = unfolded(&ics);
        assert!(
            ics.contains("DTSTART;TZID=Europe/Moscow:20261202T093000\r\n"),
            "{ics}"
        );
        assert!(ics.contains("DTEND;TZID=Europe/Moscow:20261202T094500\r\n"));
        assert!(ics.contains("TZOFFSETTO:+0300"));
        assert!(ics.contains("SUMMARY:Приём: Терапия — Иванова\\, М. П."));
        assert!(ics.contains("LOCATION:ул. Лесная\\, 7\\, кабинет 101"));
    }

    #[test]
    fn a_booked_visit_reminds_the_day_before_and_two_hours_before() {
        let ics = calendar(
            crate::i18n::texts("en"),
            &visit(),
            "Europe/Moscow",
            now(),
            Method::Publish,
        );
        assert_eq!(ics.matches("BEGIN:VALARM").count(), 2, "{ics}");
        assert!(ics.contains("TRIGGER:-P1D\r\n") && ics.contains("TRIGGER:-PT2H\r\n"));
        assert!(ics.contains("METHOD:PUBLISH\r\n") && ics.contains("STATUS:CONFIRMED\r\n"));
    }

    #[test]
    fn a_cancellation_has_no_reminders_and_replaces_the_visit() {
        let ics = calendar(
            crate::i18n::texts("ru"),
            &visit(),
            "Europe/Moscow",
            now(),
            Method::Cancel,
        );
        assert!(!ics.contains("VALARM"));
        assert!(ics.contains("METHOD:CANCEL\r\n") && ics.contains("STATUS:CANCELLED\r\n"));
        assert!(ics.contains("UID:T1@registratura\r\n") && ics.contains("SEQUENCE:1\r\n"));
    }

    #[test]
    fn no_line_is_longer_than_75_octets_and_no_character_is_cut() {
        let long = "Очень длинное название поликлиники, которое не помещается в одну строку файла";
        let v = Visit {
            clinic: long,
            address: Some(long),
            ..visit()
        };
        let ics = calendar(
            crate::i18n::texts("ru"),
            &v,
            "Europe/Moscow",
            now(),
            Method::Publish,
        );
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{line:?} is {} octets", line.len());
        }
        assert!(unfolded(&ics).contains(&format!("DESCRIPTION:{}", escape(long))));
    }

    #[test]
    fn no_value_can_break_its_line() {
        assert_eq!(escape("a\r\nb\rc\nd"), "a\\nb\\nc\\nd");
        assert_eq!(escape("x;y,z\\"), "x\\;y\\,z\\\\");
    }
}
