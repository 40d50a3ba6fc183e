//! The ticket as a message: its subject, a plain-text and an HTML part laid out as the printed
//! ticket, and its calendar file, in the patient's language. Every value comes from the
//! ticket the МИС holds; none from the client.

use chrono::{DateTime, Utc};
use gateway_domain::mail::{Kind, Letter};
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use widget_text::format;
use widget_text::html::escape;
use widget_text::i18n::{Texts, texts};
use widget_text::ics::{self, Method, Visit};

/// The parts of a message, written.
#[derive(Debug, Clone)]
pub struct Written {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The calendar file: the visit with its two reminders, or its cancellation.
    pub ics: String,
    pub method: Method,
}

/// The rows of the ticket, as the printed ticket lists them: label and value.
fn rows(t: &Texts, letter: &Letter) -> Vec<(&'static str, String)> {
    let ticket = &letter.ticket;
    let mut rows = vec![(t.label_clinic, ticket.clinic.name.clone())];
    if let Some(address) = ticket.address.as_ref().or(Some(&letter.clinic.address))
        && !address.is_empty()
    {
        rows.push((t.label_address, address.clone()));
    }
    rows.extend([
        (t.label_specialty, ticket.specialty.name.clone()),
        (t.label_doctor, ticket.doctor.name.clone()),
        (
            t.label_date,
            format::long_date(t, ticket.start.date_naive()),
        ),
        (
            t.label_time,
            format!("{} ({})", format::time(&ticket.start), t.clinic_time),
        ),
    ]);
    if let Some(room) = &ticket.room {
        rows.push((t.label_room, room.clone()));
    }
    if let Some(n) = ticket.number {
        rows.push((t.label_number, n.to_string()));
    }
    rows
}

/// The message's parts for `letter`, stamped `now`.
pub fn write(letter: &Letter, now: DateTime<Utc>) -> Written {
    let t = texts(letter.language.code());
    let ticket = &letter.ticket;
    let (heading, method, calendar_note) = match letter.kind {
        Kind::Booked => (t.visit, Method::Publish, t.mail_calendar),
        Kind::Cancelled => (t.mail_cancelled, Method::Cancel, t.mail_cancel_calendar),
    };
    let when = format!(
        "{}, {}",
        format::short_date(t, ticket.start.date_naive()),
        format::time(&ticket.start)
    );
    let subject = format!("{heading}: {}, {when}", ticket.specialty.name);
    let rows = rows(t, letter);
    let title = match letter.kind {
        Kind::Booked => t.step_ticket,
        Kind::Cancelled => t.cancelled,
    };
    let mut text = format!("{title}\n\n");
    for (label, value) in &rows {
        text.push_str(&format!("{label}: {value}\n"));
    }
    if letter.kind == Kind::Booked {
        text.push_str(&format!("\n{}\n", t.ticket_note));
    }
    text.push_str(&format!("\n{calendar_note}\n\n-- \n{}\n", t.mail_footer));
    let html = html(t, letter, title, &rows, calendar_note);
    let visit = Visit {
        id: &ticket.id,
        number: ticket.number,
        clinic: &ticket.clinic.name,
        specialty: &ticket.specialty.name,
        doctor: &ticket.doctor.name,
        room: ticket.room.as_deref(),
        address: ticket.address.as_deref().or(Some(&letter.clinic.address)),
        start: ticket.start,
        end: ticket.end,
    };
    let ics = ics::calendar(t, &visit, &letter.clinic.timezone, now, method);
    Written {
        subject,
        text,
        html,
        ics,
        method,
    }
}

/// The HTML part: the printed ticket's layout, every value escaped.
fn html(
    t: &Texts,
    letter: &Letter,
    title: &str,
    rows: &[(&'static str, String)],
    calendar_note: &str,
) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body style=\"font-family:Arial,sans-serif;font-size:16px;color:#1a1a1a\">\n\
         <div style=\"max-width:560px;border:2px solid #1a1a1a;padding:16px\">\n\
         <p style=\"margin:0 0 4px;font-size:14px\">{app}</p>\n<h1 style=\"font-size:22px;margin:0 0 12px\">{title}</h1>\n\
         <table style=\"border-collapse:collapse\">\n",
        lang = letter.language.code(),
        title = escape(title),
        app = escape(t.title),
    );
    for (label, value) in rows {
        out.push_str(&format!(
            "<tr><th scope=\"row\" style=\"text-align:left;padding:4px 16px 4px 0;font-weight:normal;color:#555\">{}</th>\
             <td style=\"padding:4px 0;font-weight:bold\">{}</td></tr>\n",
            escape(label),
            escape(value)
        ));
    }
    out.push_str("</table>\n");
    if letter.kind == Kind::Booked {
        out.push_str(&format!("<p>{}</p>\n", escape(t.ticket_note)));
    }
    out.push_str(&format!(
        "</div>\n<p>{}</p>\n<p style=\"font-size:13px;color:#555\">{}</p>\n</body></html>\n",
        escape(calendar_note),
        escape(t.mail_footer)
    ));
    out
}

/// Why a message could not be built (an address the relay's library refuses).
#[derive(Debug, thiserror::Error)]
#[error("the message cannot be built: {0}")]
pub struct Unbuildable(String);

/// The message of `letter` from `from` (replies to `reply_to`), stamped `now`.
pub fn message(
    letter: &Letter,
    (from, reply_to): (&Mailbox, Option<&Mailbox>),
    now: DateTime<Utc>,
) -> Result<Message, Unbuildable> {
    let written = write(letter, now);
    let to: lettre::Address = letter
        .to
        .as_str()
        .parse()
        .map_err(|_| Unbuildable("the recipient's address".into()))?;
    let method = match written.method {
        Method::Publish => "PUBLISH",
        Method::Cancel => "CANCEL",
    };
    let calendar = ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
        .map_err(|e| Unbuildable(e.to_string()))?;
    let mut builder = Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to))
        .subject(written.subject)
        .date(now.into());
    if let Some(reply_to) = reply_to {
        builder = builder.reply_to(reply_to.clone());
    }
    builder
        .multipart(
            MultiPart::mixed()
                .multipart(
                    MultiPart::alternative()
                        .singlepart(SinglePart::plain(written.text))
                        .singlepart(SinglePart::html(written.html)),
                )
                .singlepart(Attachment::new("talon.ics".into()).body(written.ics, calendar)),
        )
        .map_err(|e| Unbuildable(e.to_string()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};
    use gateway_domain::mail::{Address, Language};
    use gateway_domain::views::{Clinic, Named, Ticket};

    pub(crate) fn letter(kind: Kind, language: Language) -> Letter {
        let moscow = FixedOffset::east_opt(3 * 3600).expect("valid");
        let start = moscow
            .with_ymd_and_hms(2026, 12, 2, 9, 30, 0)
            .single()
            .expect("valid");
        let named = |n: &str| Named {
            id: "1".into(),
            name: n.into(),
        };
        Letter {
            to: Address::parse("ivan@example.ru").expect("valid"),
            kind,
            language,
            clinic: Clinic {
                id: "demo".into(),
                name: "ГП № 1".into(),
                address: "ул. Лесная, 7".into(),
                timezone: "Europe/Moscow".into(),
            },
            ticket: Ticket {
                id: "T1".into(),
                number: Some(3),
                clinic: named("ГП № 1"),
                specialty: named("Терапия"),
                doctor: named("Иванова <М. П.>"),
                room: Some("101".into()),
                address: None,
                start,
                end: None,
                created_at: None,
                referral: None,
            },
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn a_booked_ticket_reads_as_the_printed_ticket_in_both_parts() {
        let w = write(&letter(Kind::Booked, Language::Ru), now());
        assert_eq!(w.subject, "Приём: Терапия, 2 декабря, 09:30");
        for needle in [
            "ГП № 1",
            "ул. Лесная, 7",
            "Кабинет: 101",
            "Талон №: 3",
            "09:30",
        ] {
            assert!(w.text.contains(needle), "{needle} in {}", w.text);
        }
        assert!(w.text.contains("Возьмите паспорт"));
        assert!(w.html.contains("Иванова &lt;М. П.&gt;"), "{}", w.html);
        assert!(!w.html.contains("<М. П.>"));
        assert!(w.ics.contains("BEGIN:VALARM"));
    }

    #[test]
    fn a_cancellation_says_so_in_english_too() {
        let w = write(&letter(Kind::Cancelled, Language::En), now());
        assert_eq!(
            w.subject,
            "Appointment cancelled: Терапия, 2 December, 09:30"
        );
        assert!(w.text.starts_with("The appointment is cancelled."));
        assert!(w.ics.contains("METHOD:CANCEL") && !w.ics.contains("VALARM"));
    }

    #[test]
    fn the_message_has_both_parts_and_the_calendar_file() {
        let from: Mailbox = "Поликлиника <noreply@clinic.example>"
            .parse()
            .expect("valid");
        let m = message(&letter(Kind::Booked, Language::Ru), (&from, None), now()).expect("builds");
        let raw = String::from_utf8(m.formatted()).expect("utf-8");
        for needle in [
            "multipart/mixed",
            "multipart/alternative",
            "text/plain",
            "text/html",
            "text/calendar; charset=utf-8; method=PUBLISH",
            "filename=\"talon.ics\"",
            "To: ivan@example.ru",
        ] {
            assert!(raw.contains(needle), "{needle} in {raw}");
        }
    }
}
