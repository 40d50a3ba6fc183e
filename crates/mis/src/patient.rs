//! A patient's identity as typed on the clinic's site: document, OMS policy and birth date.
//!
//! These are personal data. Their `Debug` output is redacted and they have no `Display`, so
//! that a stray `?identity` in a log line prints nothing a patient typed; adapters read the
//! values through the explicit accessors when they build a МИС request.

use chrono::{Datelike, NaiveDate};
use std::fmt;

use vocabulary::identity::{self, FieldFault};

/// Why a document number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("the document number is empty")]
    Empty,
    #[error("the document number is too long")]
    TooLong,
    #[error(
        "the document number may hold only Latin or Cyrillic letters, digits, spaces and dashes, and at least one digit"
    )]
    InvalidFormat,
}

impl DocumentError {
    /// A stable snake_case reason for API errors.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Empty => "required",
            Self::TooLong => "too_long",
            Self::InvalidFormat => "invalid_format",
        }
    }
}

impl From<FieldFault> for DocumentError {
    fn from(f: FieldFault) -> Self {
        match f {
            FieldFault::Required => Self::Empty,
            FieldFault::TooLong => Self::TooLong,
            FieldFault::InvalidFormat => Self::InvalidFormat,
        }
    }
}

/// An identity document's series and number, by the grammar of
/// [`vocabulary::identity::document`]: a 10-digit Russian passport number (`4510 123456`) is
/// split into its 4-digit series and 6-digit number.
#[derive(Clone, PartialEq, Eq)]
pub struct DocumentNumber {
    series: Option<String>,
    number: String,
}

impl DocumentNumber {
    pub fn parse(input: &str) -> Result<Self, DocumentError> {
        let parts = identity::document(input)?;
        Ok(Self {
            series: parts.series,
            number: parts.number,
        })
    }

    /// The series (`Document_S`), if the document has one.
    pub fn series(&self) -> Option<&str> {
        self.series.as_deref()
    }

    /// The number (`Document_N`).
    pub fn number(&self) -> &str {
        &self.number
    }
}

impl fmt::Debug for DocumentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DocumentNumber(<redacted>)")
    }
}

/// Why a policy number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the policy number is empty")]
    Empty,
    #[error("the policy number is too long")]
    TooLong,
    #[error("the policy number must be 16 digits, or an old series and number")]
    InvalidFormat,
}

impl PolicyError {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Empty => "required",
            Self::TooLong => "too_long",
            Self::InvalidFormat => "invalid_format",
        }
    }
}

impl From<FieldFault> for PolicyError {
    fn from(f: FieldFault) -> Self {
        match f {
            FieldFault::Required => Self::Empty,
            FieldFault::TooLong => Self::TooLong,
            FieldFault::InvalidFormat => Self::InvalidFormat,
        }
    }
}

/// An OMS policy, by the grammar of [`vocabulary::identity::policy`]: a 16-digit
/// single-format number, or an old-form series and number (`ЕЕ 1234567890`).
#[derive(Clone, PartialEq, Eq)]
pub struct PolicyNumber {
    series: Option<String>,
    number: String,
}

impl PolicyNumber {
    pub fn parse(input: &str) -> Result<Self, PolicyError> {
        let parts = identity::policy(input)?;
        Ok(Self {
            series: parts.series,
            number: parts.number,
        })
    }

    /// The series (`Polis_S`) of an old-form policy.
    pub fn series(&self) -> Option<&str> {
        self.series.as_deref()
    }

    /// The number (`Polis_N`).
    pub fn number(&self) -> &str {
        &self.number
    }
}

impl fmt::Debug for PolicyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PolicyNumber(<redacted>)")
    }
}

/// Why a birth date was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BirthDateError {
    #[error("the birth date is empty")]
    Empty,
    #[error("the birth date must be a real date written YYYY-MM-DD")]
    InvalidFormat,
    #[error("the birth date is in the future")]
    InFuture,
    #[error("the birth date is too far in the past")]
    TooOld,
}

impl BirthDateError {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Empty => "required",
            Self::InvalidFormat => "invalid_format",
            Self::InFuture => "in_future",
            Self::TooOld => "too_old",
        }
    }
}

/// A birth date: a real calendar date, not after today and not more than 130 years ago.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BirthDate(NaiveDate);

impl BirthDate {
    /// Parses `YYYY-MM-DD` (exactly that form) and checks it against `today`.
    pub fn parse(input: &str, today: NaiveDate) -> Result<Self, BirthDateError> {
        let (y, m, d) = identity::date_shape(input).map_err(|f| match f {
            FieldFault::Required => BirthDateError::Empty,
            _ => BirthDateError::InvalidFormat,
        })?;
        let date = NaiveDate::from_ymd_opt(y, m, d).ok_or(BirthDateError::InvalidFormat)?;
        if date > today {
            return Err(BirthDateError::InFuture);
        }
        if today.year() - date.year() > 130 {
            return Err(BirthDateError::TooOld);
        }
        Ok(Self(date))
    }

    pub fn date(self) -> NaiveDate {
        self.0
    }
}

impl fmt::Debug for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BirthDate(<redacted>)")
    }
}

/// Why a phone number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("the phone number is empty")]
    Empty,
    #[error("the phone number is too long")]
    TooLong,
    #[error("the phone number must be a Russian number: +7 and ten digits")]
    InvalidFormat,
}

impl PhoneError {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Empty => "required",
            Self::TooLong => "too_long",
            Self::InvalidFormat => "invalid_format",
        }
    }
}

impl From<FieldFault> for PhoneError {
    fn from(f: FieldFault) -> Self {
        match f {
            FieldFault::Required => Self::Empty,
            FieldFault::TooLong => Self::TooLong,
            FieldFault::InvalidFormat => Self::InvalidFormat,
        }
    }
}

/// A Russian phone number, by the grammar of [`vocabulary::identity::phone`], kept as E.164
/// (`+79161234567`). Personal data: redacted in `Debug`, no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        Ok(Self(identity::phone(input)?))
    }

    /// The number as E.164.
    pub fn e164(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PhoneNumber(<redacted>)")
    }
}

/// The three things a patient types to be identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientIdentity {
    pub document: DocumentNumber,
    pub policy: PolicyNumber,
    pub birth_date: BirthDate,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).expect("a real date")
    }

    #[test]
    fn a_passport_is_split_into_series_and_number() {
        for s in ["4510 123456", "4510123456", "45 10 123456", "4510-123456"] {
            let d = DocumentNumber::parse(s).expect("a passport");
            assert_eq!(d.series(), Some("4510"), "{s}");
            assert_eq!(d.number(), "123456", "{s}");
        }
    }

    #[test]
    fn other_documents_keep_their_series() {
        let d = DocumentNumber::parse("II-АБ 123456").expect("a birth certificate");
        assert_eq!(d.series(), Some("II-АБ"));
        assert_eq!(d.number(), "123456");
        let d = DocumentNumber::parse("A1234567").expect("a single part");
        assert_eq!(d.series(), None);
        assert_eq!(d.number(), "A1234567");
    }

    #[test]
    fn bad_documents_are_refused_with_a_reason() {
        assert_eq!(DocumentNumber::parse("  "), Err(DocumentError::Empty));
        assert_eq!(
            DocumentNumber::parse("4510;123456"),
            Err(DocumentError::InvalidFormat)
        );
        assert_eq!(
            DocumentNumber::parse("паспорт"),
            Err(DocumentError::InvalidFormat)
        );
        assert_eq!(
            DocumentNumber::parse(&"1".repeat(40)),
            Err(DocumentError::TooLong)
        );
    }

    #[test]
    fn policies_in_both_forms_are_accepted_without_a_check_digit() {
        let p = PolicyNumber::parse("7700 0000 0000 0001").expect("single format");
        assert_eq!((p.series(), p.number()), (None, "7700000000000001"));
        let p = PolicyNumber::parse("1234567890123456").expect("any 16 digits");
        assert_eq!(p.number(), "1234567890123456");
        let p = PolicyNumber::parse("ЕЕ 123456").expect("old form");
        assert_eq!((p.series(), p.number()), (Some("ЕЕ"), "123456"));
        assert_eq!(
            PolicyNumber::parse("12345"),
            Err(PolicyError::InvalidFormat)
        );
        assert_eq!(
            PolicyNumber::parse("ЕЕ АБВ"),
            Err(PolicyError::InvalidFormat)
        );
        assert_eq!(PolicyNumber::parse(""), Err(PolicyError::Empty));
    }

    #[test]
    fn birth_dates_must_be_real_and_past() {
        assert_eq!(
            BirthDate::parse("1980-05-17", today()).map(BirthDate::date),
            Ok(NaiveDate::from_ymd_opt(1980, 5, 17).expect("a real date"))
        );
        assert_eq!(
            BirthDate::parse("1980-02-30", today()),
            Err(BirthDateError::InvalidFormat)
        );
        assert_eq!(
            BirthDate::parse("17.05.1980", today()),
            Err(BirthDateError::InvalidFormat)
        );
        assert_eq!(
            BirthDate::parse("+1980-05-17", today()),
            Err(BirthDateError::InvalidFormat)
        );
        assert_eq!(
            BirthDate::parse("2026-11-26", today()),
            Err(BirthDateError::InFuture)
        );
        assert_eq!(
            BirthDate::parse("1890-01-01", today()),
            Err(BirthDateError::TooOld)
        );
    }

    #[test]
    fn debug_output_never_shows_the_values() {
        let identity = PatientIdentity {
            document: DocumentNumber::parse("4510 123456").expect("valid"),
            policy: PolicyNumber::parse("7700000000000001").expect("valid"),
            birth_date: BirthDate::parse("1980-05-17", today()).expect("valid"),
        };
        let shown = format!("{identity:?}");
        for secret in ["4510", "123456", "7700000000000001", "1980"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let phone = PhoneNumber::parse("+7 916 123-45-67").expect("valid");
        assert_eq!(phone.e164(), "+79161234567");
        assert!(!format!("{phone:?}").contains("916"));
    }

    use vocabulary::near::Gen;

    /// What a mutation inserts or puts in place: ASCII digits and letters, separators,
    /// Unicode digits and spaces.
    const POOL: &[char] = &[
        '0', '5', '9', 'a', 'Я', ' ', '-', '.', '/', '\u{a0}', '\u{2007}', '٣', '７',
    ];

    /// Checks that both branches of a parser are really exercised: between a fifth and
    /// nineteen twentieths of the cases accepted.
    fn substantial(name: &str, accepted: usize, of: usize) {
        let share = accepted as f64 / of as f64;
        assert!(
            (0.2..=0.95).contains(&share),
            "{name}: {accepted} of {of} accepted"
        );
    }

    #[test]
    fn documents_near_the_valid_shapes_are_accepted_with_their_digits_or_refused() {
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        let mut accepted = 0;
        for _ in 0..4_000 {
            let valid = match g.below(3) {
                0 => format!("{} {}", g.digits(4), g.digits(6)),
                1 => g.digits(10),
                _ => format!("{}-{}", g.digits(2), g.digits(8)),
            };
            let (input, changed) = g.mutated(&valid, POOL);
            match DocumentNumber::parse(&input) {
                Ok(d) => {
                    accepted += 1;
                    let kept: String = d
                        .series()
                        .unwrap_or("")
                        .chars()
                        .chain(d.number().chars())
                        .filter(char::is_ascii_digit)
                        .collect();
                    let given: String = input.chars().filter(char::is_ascii_digit).collect();
                    assert_eq!(kept, given, "{input:?}");
                }
                Err(_) => assert!(changed, "a valid shape refused: {input:?}"),
            }
        }
        substantial("documents", accepted, 4_000);
    }

    #[test]
    fn policies_near_the_valid_shapes_are_accepted_with_their_digits_or_refused() {
        let mut g = Gen(0x2545_f491_4f6c_dd1d);
        let mut accepted = 0;
        for _ in 0..4_000 {
            let valid = g.digits(16);
            let (input, changed) = g.mutated(&valid, POOL);
            match PolicyNumber::parse(&input) {
                Ok(p) => {
                    accepted += 1;
                    assert!(p.number().chars().all(|c| c.is_ascii_digit()), "{input:?}");
                    if !changed {
                        assert_eq!(p.number(), valid);
                    }
                }
                Err(_) => assert!(changed, "a valid policy refused: {input:?}"),
            }
        }
        substantial("policies", accepted, 4_000);
    }

    #[test]
    fn birth_dates_near_real_ones_are_accepted_as_written_or_refused() {
        let mut g = Gen(0x8f1b_bcdc_bfa5_3e0b);
        let mut accepted = 0;
        for _ in 0..4_000 {
            // Any day of any month, the 29th to the 31st included, of the last 130 years.
            let (year, month, day) = (
                1900 + g.below(126) as i32,
                1 + g.below(12) as u32,
                1 + g.below(31) as u32,
            );
            let text = format!("{year:04}-{month:02}-{day:02}");
            let real = NaiveDate::from_ymd_opt(year, month, day);
            let (input, changed) = g.mutated(&text, POOL);
            match BirthDate::parse(&input, today()) {
                Ok(d) => {
                    accepted += 1;
                    assert!(d.date() <= today(), "{input:?}");
                    assert_eq!(d.date().format("%Y-%m-%d").to_string(), input);
                    if !changed {
                        assert_eq!(Some(d.date()), real);
                    }
                }
                Err(_) => assert!(
                    changed || real.is_none_or(|r| r > today() || year < 1900),
                    "a real past date refused: {input:?}"
                ),
            }
        }
        substantial("birth dates", accepted, 4_000);
    }

    proptest! {
        #[test]
        fn document_parse_never_panics_and_keeps_the_digits(s in any::<String>()) {
            if let Ok(d) = DocumentNumber::parse(&s) {
                let all: String = d.series().unwrap_or("").chars().chain(d.number().chars())
                    .filter(char::is_ascii_digit).collect();
                let input: String = s.chars().filter(char::is_ascii_digit).collect();
                prop_assert_eq!(all, input);
            }
        }

        #[test]
        fn policy_parse_never_panics(s in any::<String>()) {
            if let Ok(p) = PolicyNumber::parse(&s) {
                prop_assert!(p.number().chars().all(|c| c.is_ascii_digit()));
            }
        }

        #[test]
        fn sixteen_digits_are_always_a_policy(n in "[0-9]{16}") {
            let p = PolicyNumber::parse(&n).expect("16 digits");
            prop_assert_eq!(p.number(), n.as_str());
        }

        #[test]
        fn birth_date_parse_never_panics(s in any::<String>()) {
            if let Ok(d) = BirthDate::parse(&s, today()) {
                prop_assert!(d.date() <= today());
            }
        }

        #[test]
        fn every_past_date_round_trips(days in 0i64..47000) {
            let date = today() - chrono::Duration::days(days);
            let parsed = BirthDate::parse(&date.format("%Y-%m-%d").to_string(), today());
            prop_assert_eq!(parsed.map(BirthDate::date), Ok(date));
        }
    }
}
