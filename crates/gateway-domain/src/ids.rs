//! URL-safe public ids built from МИС ids.
//!
//! The МИС chooses its ids (any string), so the API never puts them in a path as they are:
//! a public id is the base64url (unpadded) encoding of the МИС ids it needs, joined by U+001F
//! (which [`mis`] ids cannot contain). A doctor's id carries its specialty, and a slot's id
//! carries its doctor and day, so that a booking can find the names and details it reports.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Datelike, NaiveDate};
use mis::{AppointmentId, DoctorId, SpecialtyId, WaitingId};

const SEPARATOR: char = '\u{1f}';
/// The longest public id accepted, in bytes, before decoding.
const MAX_PUBLIC_ID: usize = 2048;

/// Whether `public` has the form of a public id (the OpenAPI pattern
/// `^[A-Za-z0-9_-]{1,2048}$`): whether it names anything is for its parser to say.
pub fn well_formed(public: &str) -> bool {
    (1..=MAX_PUBLIC_ID).contains(&public.len())
        && public
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn encode(parts: &[&str]) -> String {
    URL_SAFE_NO_PAD.encode(parts.join(&SEPARATOR.to_string()))
}

fn decode<const N: usize>(public: &str) -> Option<[String; N]> {
    if public.len() > MAX_PUBLIC_ID {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(public).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let parts: Vec<String> = text.split(SEPARATOR).map(str::to_owned).collect();
    parts.try_into().ok()
}

/// A specialty's public id.
pub fn specialty(id: &SpecialtyId) -> String {
    encode(&[id.as_str()])
}

pub fn parse_specialty(public: &str) -> Option<SpecialtyId> {
    let [s] = decode::<1>(public)?;
    SpecialtyId::parse(s).ok()
}

/// A doctor's public id: the doctor with the specialty it was listed under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorKey {
    pub specialty: SpecialtyId,
    pub doctor: DoctorId,
}

impl DoctorKey {
    pub fn encode(&self) -> String {
        encode(&[self.specialty.as_str(), self.doctor.as_str()])
    }

    pub fn parse(public: &str) -> Option<Self> {
        let [s, d] = decode::<2>(public)?;
        Some(Self {
            specialty: SpecialtyId::parse(s).ok()?,
            doctor: DoctorId::parse(d).ok()?,
        })
    }
}

/// A slot's public id: the ticket with its doctor and day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotKey {
    pub doctor: DoctorKey,
    pub appointment: AppointmentId,
    pub date: NaiveDate,
}

impl SlotKey {
    pub fn encode(&self) -> String {
        encode(&[
            self.doctor.specialty.as_str(),
            self.doctor.doctor.as_str(),
            self.appointment.as_str(),
            &format!(
                "{:04}-{:02}-{:02}",
                self.date.year(),
                self.date.month(),
                self.date.day()
            ),
        ])
    }

    pub fn parse(public: &str) -> Option<Self> {
        let [s, d, a, date] = decode::<4>(public)?;
        Some(Self {
            doctor: DoctorKey {
                specialty: SpecialtyId::parse(s).ok()?,
                doctor: DoctorId::parse(d).ok()?,
            },
            appointment: AppointmentId::parse(a).ok()?,
            // Exactly as `encode` writes it: chrono's parser also takes leading spaces and
            // short years, which would give one slot several ids.
            date: NaiveDate::parse_from_str(&date, "%Y-%m-%d")
                .ok()
                .filter(|d| {
                    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()) == date.as_str()
                })?,
        })
    }
}

/// A booked ticket's public id.
pub fn ticket(id: &AppointmentId) -> String {
    encode(&[id.as_str()])
}

pub fn parse_ticket(public: &str) -> Option<AppointmentId> {
    let [a] = decode::<1>(public)?;
    AppointmentId::parse(a).ok()
}

/// A waiting-list request's public id.
pub fn waiting(id: &WaitingId) -> String {
    encode(&[id.as_str()])
}

pub fn parse_waiting(public: &str) -> Option<WaitingId> {
    let [w] = decode::<1>(public)?;
    WaitingId::parse(w).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_with_any_characters_survive_a_path() {
        let key = SlotKey {
            doctor: DoctorKey {
                specialty: SpecialtyId::parse("1/2 ?#").expect("valid"),
                doctor: DoctorId::parse("Д-1").expect("valid"),
            },
            appointment: AppointmentId::parse("A+B=C").expect("valid"),
            date: NaiveDate::from_ymd_opt(2026, 12, 1).expect("valid"),
        };
        let public = key.encode();
        assert!(
            public
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(SlotKey::parse(&public), Some(key));
    }

    #[test]
    fn a_public_id_of_one_kind_is_not_another() {
        let doctor = DoctorKey {
            specialty: SpecialtyId::parse("1").expect("valid"),
            doctor: DoctorId::parse("2").expect("valid"),
        }
        .encode();
        assert_eq!(SlotKey::parse(&doctor), None);
        assert_eq!(parse_specialty(&doctor), None);
    }

    /// A slot's key from any ids the МИС may use and any real date (the 29th to the 31st
    /// included).
    fn slot_keys() -> impl Strategy<Value = SlotKey> {
        let id = "[0-9A-Za-zА-я]([0-9A-Za-zА-я /?#+=._-]{0,10}[0-9A-Za-zА-я])?";
        (id, id, id, 0i64..20_000).prop_map(|(s, d, a, day)| SlotKey {
            doctor: DoctorKey {
                specialty: SpecialtyId::parse(&s).expect("an id"),
                doctor: DoctorId::parse(&d).expect("an id"),
            },
            appointment: AppointmentId::parse(&a).expect("an id"),
            date: NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date")
                + chrono::Days::new(day as u64),
        })
    }

    proptest! {
        #[test]
        fn a_slot_s_public_id_round_trips_and_a_changed_one_is_refused_or_another_slot(
            key in slot_keys(),
            at in any::<prop::sample::Index>(),
            with in "[0-9A-Za-z_-]",
        ) {
            let public = key.encode();
            prop_assert_eq!(SlotKey::parse(&public), Some(key.clone()));
            // One character changed: refused, or read as another slot whose own id is exactly
            // the changed text (never two ids for one slot).
            let mut chars: Vec<char> = public.chars().collect();
            let i = at.index(chars.len());
            chars[i] = with.chars().next().expect("a character");
            let changed: String = chars.into_iter().collect();
            if let Some(other) = SlotKey::parse(&changed) {
                prop_assert_eq!(other.encode(), changed);
            }
        }

        #[test]
        fn parsing_arbitrary_text_never_panics(s in "\\PC{0,300}") {
            let _ = SlotKey::parse(&s);
            let _ = DoctorKey::parse(&s);
            let _ = parse_specialty(&s);
            let _ = parse_ticket(&s);
        }
    }
}
