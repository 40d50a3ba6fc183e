//! The ticket as a calendar file (RFC 5545), in the clinic's time zone.

use api_types::Ticket;
use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};
use widget_text::i18n::Texts;

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

fn local(t: &DateTime<FixedOffset>) -> String {
    stamp(t)
}

fn offset(t: &DateTime<FixedOffset>) -> String {
    let secs = t.offset().local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let secs = secs.abs();
    format!("{sign}{:02}{:02}", secs / 3600, (secs % 3600) / 60)
}

/// The calendar file of `ticket`; `timezone` is the clinic's IANA zone, `now` the stamp.
pub fn calendar(t: &Texts, ticket: &Ticket, timezone: &str, now: DateTime<Utc>) -> String {
    let end = ticket
        .end
        .or_else(|| {
            ticket
                .start
                .checked_add_signed(chrono::Duration::minutes(20))
        })
        .unwrap_or(ticket.start);
    let mut location = ticket.address.clone().unwrap_or_default();
    if let Some(room) = &ticket.room {
        location = format!("{location}, {} {room}", t.room_in_address);
    }
    let summary = format!(
        "{}: {} — {}",
        t.visit, ticket.specialty.name, ticket.doctor.name
    );
    let mut description = ticket.clinic.name.clone();
    if let Some(n) = ticket.number {
        description = format!("{description}. {} {n}", t.label_number);
    }
    let off = offset(&ticket.start);
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Registratura//Widget//RU".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "BEGIN:VTIMEZONE".to_owned(),
        format!("TZID:{timezone}"),
        "BEGIN:STANDARD".to_owned(),
        "DTSTART:19700101T000000".to_owned(),
        format!("TZOFFSETFROM:{off}"),
        format!("TZOFFSETTO:{off}"),
        "END:STANDARD".to_owned(),
        "END:VTIMEZONE".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}@registratura", ticket.id),
        format!("DTSTAMP:{}Z", stamp(&now)),
        format!("DTSTART;TZID={timezone}:{}", local(&ticket.start)),
        format!("DTEND;TZID={timezone}:{}", local(&end)),
        format!("SUMMARY:{}", escape(&summary)),
        format!("LOCATION:{}", escape(&location)),
        format!("DESCRIPTION:{}", escape(&description)),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    lines.join("\r\n") + "\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use api_types::NamedRef;
    use chrono::TimeZone;

    #[test]
    fn the_event_is_in_the_clinics_zone_and_escaped() {
        let moscow = FixedOffset::east_opt(3 * 3600).expect("valid");
        let start = moscow
            .with_ymd_and_hms(2026, 12, 2, 9, 30, 0)
            .single()
            .expect("valid");
        let named = |n: &str| NamedRef {
            id: "x".into(),
            name: n.into(),
        };
        let ticket = Ticket {
            id: "T1".into(),
            number: Some(3),
            clinic: named("ГП № 1"),
            specialty: named("Терапия"),
            doctor: named("Иванова, М. П."),
            room: Some("101".into()),
            address: Some("ул. Лесная, 7".into()),
            start,
            end: Some(start + chrono::Duration::minutes(15)),
            created_at: None,
            referral: None,
        };
        let now = Utc
            .with_ymd_and_hms(2026, 11, 25, 10, 0, 0)
            .single()
            .expect("valid");
        let ics = calendar(
            widget_text::i18n::texts("ru"),
            &ticket,
            "Europe/Moscow",
            now,
        );
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
    fn no_value_can_break_its_line() {
        assert_eq!(escape("a\r\nb\rc\nd"), "a\\nb\\nc\\nd");
        assert_eq!(escape("x;y,z\\"), "x\\;y\\,z\\\\");
    }
}
