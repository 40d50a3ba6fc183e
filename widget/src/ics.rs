//! The ticket as a calendar file: the words and the file are `widget_text::ics`'s, shared with
//! the gateway's e-mail.

use api_types::Ticket;
use chrono::{DateTime, Utc};
use widget_text::i18n::Texts;
use widget_text::ics::{Method, Visit};

/// The calendar file of `ticket`; `timezone` is the clinic's IANA zone, `now` the stamp.
pub fn calendar(t: &Texts, ticket: &Ticket, timezone: &str, now: DateTime<Utc>) -> String {
    let visit = Visit {
        id: &ticket.id,
        number: ticket.number,
        clinic: &ticket.clinic.name,
        specialty: &ticket.specialty.name,
        doctor: &ticket.doctor.name,
        room: ticket.room.as_deref(),
        address: ticket.address.as_deref(),
        start: ticket.start,
        end: ticket.end,
    };
    widget_text::ics::calendar(t, &visit, timezone, now, Method::Publish)
}
