//! A ticket e-mailed to the patient: the port of a clinic's mail relay ([`Mailer`]), the
//! address a patient gives ([`Address`]), and the counts that bound how often (the operation is
//! `crate::booking::email_ticket`).
//!
//! The message is the ticket as the clinic's МИС holds it, and nothing a client writes: the
//! gateway is no relay for anyone's text. The address is used for that one message and
//! forgotten: it is not kept, logged, audited (the trail records that the ticket was e-mailed)
//! or counted in a metric. A relay that does not take the message within the deadline is
//! `mail_unavailable`; nothing is queued.

use crate::failure::Failure;
use crate::keep::{Bounded, Keeps};
use crate::views::{Clinic, Ticket};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use vocabulary::ErrorCode;

/// The most messages of one ticket within [`WINDOW`].
pub const PER_TICKET: u32 = 3;
/// The most messages of one patient of a clinic within [`WINDOW`].
pub const PER_PATIENT: u32 = 10;
/// The window the counts above are kept for.
pub const WINDOW: Duration = Duration::from_secs(60 * 60);
/// The most tickets and patients counted at once (each map; the least used go first).
pub const COUNTED: u64 = 100_000;
/// What `Retry-After` says when the relay did not take a message.
pub const RETRY_AFTER_SECS: u64 = 30;

/// An e-mail address as a patient typed it, checked: at most 254 characters, one `@`, a local
/// part of RFC 5322's dot-atoms in ASCII, and a domain of labels that may be internationalised
/// (kept as its ASCII, IDNA form, which every relay takes). No spaces, no control characters,
/// so no line of a message can be ended or added through it.
#[derive(Clone, PartialEq, Eq)]
pub struct Address(String);

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Address(hidden)")
    }
}

/// Why an address was refused (the field error's `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadAddress {
    Empty,
    TooLong,
    Format,
}

impl BadAddress {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Empty => "required",
            Self::TooLong => "too_long",
            Self::Format => "invalid_format",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::Empty => "Write the e-mail address to send the ticket to.",
            Self::TooLong => "An e-mail address has at most 254 characters.",
            Self::Format => "Write an e-mail address like name@example.ru.",
        }
    }
}

fn atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

impl Address {
    /// The address `typed`, checked (see [`Address`]).
    pub fn parse(typed: &str) -> Result<Self, BadAddress> {
        if typed.is_empty() {
            return Err(BadAddress::Empty);
        }
        if typed.len() > 254 {
            return Err(BadAddress::TooLong);
        }
        let (local, domain) = typed.rsplit_once('@').ok_or(BadAddress::Format)?;
        let dot_atom = |s: &str, ok: fn(char) -> bool| {
            !s.is_empty()
                && s.split('.')
                    .all(|part| !part.is_empty() && part.chars().all(ok))
        };
        if local.len() > 64 || !dot_atom(local, atext) {
            return Err(BadAddress::Format);
        }
        if domain.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(BadAddress::Format);
        }
        let ascii = idna::domain_to_ascii_strict(domain).map_err(|_| BadAddress::Format)?;
        let label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if !ascii.contains('.') || ascii.len() > 253 || !ascii.split('.').all(label) {
            return Err(BadAddress::Format);
        }
        let address = format!("{local}@{ascii}");
        if address.len() > 254 {
            return Err(BadAddress::TooLong);
        }
        Ok(Self(address))
    }

    /// The address, its domain in ASCII.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The language of a message: the widget's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    Ru,
    En,
}

impl Language {
    /// The language of `code` (`ru`, `en`); `None` for any other.
    pub fn of(code: &str) -> Option<Self> {
        match code {
            "ru" => Some(Self::Ru),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Ru => "ru",
            Self::En => "en",
        }
    }
}

/// What a message says of its ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The ticket, booked (or moved to this time).
    Booked,
    /// The ticket was cancelled.
    Cancelled,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One message to send: a ticket, to one address.
#[derive(Debug, Clone)]
pub struct Letter {
    pub to: Address,
    pub kind: Kind,
    pub language: Language,
    pub clinic: Clinic,
    pub ticket: Ticket,
}

/// Why a relay did not take a message. Its text names the relay's answer, never the address.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MailError {
    #[error("the mail relay did not answer in time")]
    Timeout,
    #[error("the mail relay refused: {0}")]
    Refused(String),
    #[error("the mail relay failed: {0}")]
    Failed(String),
}

/// A clinic's mail relay (the port; adapters: the `mail` crate's SMTP relay and outbox).
#[async_trait::async_trait]
pub trait Mailer: Send + Sync + fmt::Debug {
    /// Sends `letter`, or says why it was not taken.
    async fn send(&self, letter: &Letter) -> Result<(), MailError>;
}

/// The relays of the gateway's clinics, and the counts that bound what each ticket and each
/// patient may send.
#[derive(Debug, Default)]
pub struct Mail {
    default: Option<Arc<dyn Mailer>>,
    clinics: HashMap<String, Arc<dyn Mailer>>,
    counts: Option<Counts>,
    deadline: Duration,
}

impl Mail {
    /// The longest a message may take, its relay's own timeout aside.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }
}

#[derive(Debug)]
struct Counts {
    tickets: Arc<dyn Bounded<(String, String), Arc<AtomicU32>>>,
    patients: Arc<dyn Bounded<(String, String), Arc<AtomicU32>>>,
}

impl Mail {
    /// The relays: `default` for every clinic but those `clinics` names; a message not taken
    /// within `deadline` is `mail_unavailable`.
    pub fn new(
        keeps: &impl Keeps,
        default: Option<Arc<dyn Mailer>>,
        clinics: HashMap<String, Arc<dyn Mailer>>,
        deadline: Duration,
    ) -> Self {
        Self {
            default,
            clinics,
            counts: Some(Counts {
                tickets: keeps.bounded(COUNTED, Some(WINDOW)),
                patients: keeps.bounded(COUNTED, Some(WINDOW)),
            }),
            deadline,
        }
    }

    /// Whether clinics without a relay of their own (a region's) e-mail their tickets.
    pub fn sends_by_default(&self) -> bool {
        self.default.is_some()
    }

    /// How many tickets and patients are counted now (after the evictions pending).
    pub fn counted(&self) -> (u64, u64) {
        self.counts
            .as_ref()
            .map_or((0, 0), |c| (c.tickets.entries(), c.patients.entries()))
    }

    /// The relay of clinic `id`, if it sends e-mail.
    pub fn relay(&self, id: &str) -> Option<&Arc<dyn Mailer>> {
        self.clinics.get(id).or(self.default.as_ref())
    }

    /// Counts one message of `ticket` of `patient` at `clinic`; the counters taken (to give
    /// back if the message was not sent), or `too_many_requests`.
    pub fn count(&self, clinic: &str, patient: &str, ticket: &str) -> Result<Taken, Failure> {
        let Some(counts) = &self.counts else {
            return Ok(Taken(Vec::new()));
        };
        let mut taken = Vec::new();
        for (map, key, most) in [
            (&counts.tickets, ticket, PER_TICKET),
            (&counts.patients, patient, PER_PATIENT),
        ] {
            let counter = map.get_with((clinic.to_owned(), key.to_owned()), &mut || {
                Arc::new(AtomicU32::new(0))
            });
            if counter.fetch_add(1, Ordering::SeqCst) >= most {
                counter.fetch_sub(1, Ordering::SeqCst);
                Taken(taken).give_back();
                return Err(Failure::new(ErrorCode::TooManyRequests)
                    .detail("This ticket has been e-mailed as many times as it may be for now.")
                    .retry_after(WINDOW.as_secs()));
            }
            taken.push(counter);
        }
        Ok(Taken(taken))
    }
}

/// Counters taken for a message: given back when it was not sent after all.
#[derive(Debug)]
pub struct Taken(Vec<Arc<AtomicU32>>);

impl Taken {
    pub fn give_back(self) {
        for counter in self.0 {
            counter.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_checked_and_its_domain_kept_in_ascii() {
        let ok = |s: &str| Address::parse(s).map(|a| a.as_str().to_owned());
        assert_eq!(
            ok("ivan.petrov@example.ru").as_deref(),
            Ok("ivan.petrov@example.ru")
        );
        assert_eq!(
            ok("a+b@почта.рф").as_deref(),
            Ok("a+b@xn--80a1acny.xn--p1ai")
        );
        for bad in [
            "no-at.example.ru",
            "a@b",
            "a@@b.ru",
            ".a@b.ru",
            "a..b@b.ru",
            "a b@b.ru",
            "a@b.ru\r\nBcc: x@y.ru",
            "a@b.ru\n",
            "a@-b.ru",
            "иван@b.ru",
            "a@b_c.ru",
            "\"quoted\"@b.ru",
        ] {
            assert_eq!(Address::parse(bad), Err(BadAddress::Format), "{bad:?}");
        }
        assert_eq!(Address::parse(""), Err(BadAddress::Empty));
        let long = format!("{}@{}.ru", "a".repeat(64), "b".repeat(190));
        assert_eq!(Address::parse(&long), Err(BadAddress::TooLong));
        assert_eq!(
            Address::parse(&format!("{}@b.ru", "a".repeat(65))),
            Err(BadAddress::Format)
        );
    }

    #[test]
    fn an_address_never_shows_in_a_debug_line() {
        let a = Address::parse("ivan@example.ru").expect("valid");
        assert!(!format!("{a:?}").contains("ivan"));
    }
}
