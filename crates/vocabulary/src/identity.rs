//! The grammar of the identity fields a patient types: one definition for the gateway's
//! parsers (the `mis` crate builds its newtypes on it), the OpenAPI schemas (the patterns
//! below) and the widget's checks at the field. A test holds each pattern and its function to
//! the same answer on any string.
//!
//! Letters are Latin or Cyrillic (the documents of Russian patients), digits are ASCII, and
//! only spaces (not tabs or other blanks) may surround or separate the parts.

/// The longest document number, in characters.
pub const DOCUMENT_MAX_CHARS: usize = 32;
/// A document number: letters, digits, spaces and dashes, with at least one digit.
pub const DOCUMENT_PATTERN: &str = "^[0-9A-Za-zА-Яа-яЁё -]*[0-9][0-9A-Za-zА-Яа-яЁё -]*$";
/// The longest policy number, in characters.
pub const POLICY_MAX_CHARS: usize = 64;
/// An OMS policy: 16 digits (spaces or dashes between them allowed), or an old-form series of
/// 1 to 12 letters or digits, a space or dash, and a number of 1 to 12 digits.
pub const POLICY_PATTERN: &str =
    "^ *(?:(?:[0-9][ -]*){15}[0-9]|[0-9A-Za-zА-Яа-яЁё]{1,12}[ -]+[0-9]{1,12}) *$";
/// A calendar date as the API writes it (the schema also says `format: date`).
pub const DATE_PATTERN: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
/// The longest phone number, in characters (separators included).
pub const PHONE_MAX_CHARS: usize = 24;
/// A Russian phone number: `+7`, `7`, `8` or nothing, then the 10-digit national number
/// (its zone code starts with 3, 4, 8 or 9), with spaces, dashes and parentheses anywhere
/// between.
pub const PHONE_PATTERN: &str =
    r"^[ ()-]*(?:\+[ ()-]*7[ ()-]*|[78][ ()-]*)?[3489](?:[ ()-]*[0-9]){9}[ ()-]*$";
/// The longest referral number, in characters.
pub const REFERRAL_MAX_CHARS: usize = 32;
/// A referral («направление») number: Latin letters, digits and dashes.
pub const REFERRAL_PATTERN: &str = "^[0-9A-Za-z-]+$";

/// What is wrong with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldFault {
    /// Empty (or only spaces).
    Required,
    /// Longer than the field allows.
    TooLong,
    /// Not of the field's form.
    InvalidFormat,
}

impl FieldFault {
    /// The stable reason of an `invalid_input` field error.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::TooLong => "too_long",
            Self::InvalidFormat => "invalid_format",
        }
    }
}

/// A Latin or Cyrillic letter, or an ASCII digit.
pub fn letter_or_digit(c: char) -> bool {
    c.is_ascii_alphanumeric() || ('А'..='я').contains(&c) || c == 'Ё' || c == 'ё'
}

fn blank(s: &str) -> bool {
    s.chars().all(|c| c == ' ')
}

/// A document number split into its series (if any) and number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentParts {
    pub series: Option<String>,
    pub number: String,
}

/// Checks a document number and splits it: a 10-digit Russian passport number
/// (`4510 123456`) into its 4-digit series and 6-digit number; otherwise the last
/// space-separated part is the number and the parts before it the series.
pub fn document(input: &str) -> Result<DocumentParts, FieldFault> {
    if blank(input) {
        return Err(FieldFault::Required);
    }
    if input.chars().count() > DOCUMENT_MAX_CHARS {
        return Err(FieldFault::TooLong);
    }
    let ok = input
        .chars()
        .all(|c| letter_or_digit(c) || c == ' ' || c == '-')
        && input.chars().any(|c| c.is_ascii_digit());
    if !ok {
        return Err(FieldFault::InvalidFormat);
    }
    let compact: String = input.chars().filter(|c| *c != ' ' && *c != '-').collect();
    if compact.len() == 10 && compact.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(DocumentParts {
            series: compact.get(..4).map(str::to_owned),
            number: compact.get(4..).unwrap_or_default().to_owned(),
        });
    }
    let parts: Vec<&str> = input.split(' ').filter(|p| !p.is_empty()).collect();
    Ok(match parts.split_last() {
        Some((last, rest)) if !rest.is_empty() => DocumentParts {
            series: Some(rest.join(" ")),
            number: (*last).to_owned(),
        },
        _ => DocumentParts {
            series: None,
            number: compact,
        },
    })
}

/// An OMS policy split into its series (old form only) and number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyParts {
    pub series: Option<String>,
    pub number: String,
}

/// Checks an OMS policy number and splits it. No check digit is enforced: clinics hold
/// policies whose check digit does not verify, and refusing them would lock those patients
/// out.
pub fn policy(input: &str) -> Result<PolicyParts, FieldFault> {
    if blank(input) {
        return Err(FieldFault::Required);
    }
    if input.chars().count() > POLICY_MAX_CHARS {
        return Err(FieldFault::TooLong);
    }
    let s = input.trim_matches(' ');
    // The single format: 16 digits, spaces or dashes only between them.
    let first_last_digits =
        s.starts_with(|c: char| c.is_ascii_digit()) && s.ends_with(|c: char| c.is_ascii_digit());
    if first_last_digits
        && s.chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
    {
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        if digits.len() == 16 {
            return Ok(PolicyParts {
                series: None,
                number: digits,
            });
        }
    }
    // The old form: series, separators, number.
    let series_end = s.find(|c: char| !letter_or_digit(c)).unwrap_or(s.len());
    let (series, rest) = s.split_at_checked(series_end).unwrap_or((s, ""));
    let number = rest.trim_start_matches([' ', '-']);
    let separated = number.len() < rest.len();
    let series_ok = (1..=12).contains(&series.chars().count());
    let number_ok = (1..=12).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit());
    if separated && series_ok && number_ok {
        Ok(PolicyParts {
            series: Some(series.to_owned()),
            number: number.to_owned(),
        })
    } else {
        Err(FieldFault::InvalidFormat)
    }
}

/// Checks the shape of a date, `YYYY-MM-DD` exactly, and returns year, month and day (whether
/// the day exists is for the caller's calendar).
pub fn date_shape(input: &str) -> Result<(i32, u32, u32), FieldFault> {
    if input.is_empty() {
        return Err(FieldFault::Required);
    }
    let b = input.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return Err(FieldFault::InvalidFormat);
    }
    let num =
        |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |n, c| n * 10 + u32::from(c - b'0'));
    Ok((num(0..4) as i32, num(5..7), num(8..10)))
}

/// Checks a Russian phone number and writes it as E.164 (`+79161234567`).
pub fn phone(input: &str) -> Result<String, FieldFault> {
    if blank(input) {
        return Err(FieldFault::Required);
    }
    if input.chars().count() > PHONE_MAX_CHARS {
        return Err(FieldFault::TooLong);
    }
    let mut plus = false;
    let mut digits = String::with_capacity(11);
    for c in input.chars() {
        match c {
            ' ' | '(' | ')' | '-' => {}
            '+' if digits.is_empty() && !plus => plus = true,
            '0'..='9' => digits.push(c),
            _ => return Err(FieldFault::InvalidFormat),
        }
    }
    let national = match (plus, digits.len()) {
        (true, 11) if digits.starts_with('7') => digits.get(1..).unwrap_or_default(),
        (false, 11) if digits.starts_with(['7', '8']) => digits.get(1..).unwrap_or_default(),
        (false, 10) => digits.as_str(),
        _ => return Err(FieldFault::InvalidFormat),
    };
    if !national.starts_with(['3', '4', '8', '9']) {
        return Err(FieldFault::InvalidFormat);
    }
    Ok(format!("+7{national}"))
}

/// Checks a referral number, as typed (no separators but dashes).
pub fn referral(input: &str) -> Result<&str, FieldFault> {
    if input.is_empty() {
        return Err(FieldFault::Required);
    }
    if input.chars().count() > REFERRAL_MAX_CHARS {
        return Err(FieldFault::TooLong);
    }
    if input.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Ok(input)
    } else {
        Err(FieldFault::InvalidFormat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn passports_split_and_other_documents_keep_their_series() {
        for s in [
            "4510 123456",
            "4510123456",
            "45 10 123456",
            "4510-123456",
            " 4510 123456 ",
        ] {
            let d = document(s).expect("a passport");
            assert_eq!(d.series.as_deref(), Some("4510"), "{s}");
            assert_eq!(d.number, "123456", "{s}");
        }
        let d = document("II-АБ 123456").expect("a birth certificate");
        assert_eq!(
            (d.series.as_deref(), d.number.as_str()),
            (Some("II-АБ"), "123456")
        );
        let d = document("A-1234567").expect("one part");
        assert_eq!((d.series, d.number.as_str()), (None, "A1234567"));
        assert_eq!(document("  "), Err(FieldFault::Required));
        assert_eq!(document("4510;123456"), Err(FieldFault::InvalidFormat));
        assert_eq!(document("паспорт"), Err(FieldFault::InvalidFormat));
        assert_eq!(document("4510\t123456"), Err(FieldFault::InvalidFormat));
        assert_eq!(document(&"1".repeat(33)), Err(FieldFault::TooLong));
    }

    #[test]
    fn policies_in_both_forms() {
        let p = policy("7700 0000 0000 0001").expect("single format");
        assert_eq!((p.series, p.number.as_str()), (None, "7700000000000001"));
        let p = policy("ЕЕ 123456").expect("old form");
        assert_eq!(
            (p.series.as_deref(), p.number.as_str()),
            (Some("ЕЕ"), "123456")
        );
        let p = policy("1234-567").expect("old form with a digit series");
        assert_eq!(
            (p.series.as_deref(), p.number.as_str()),
            (Some("1234"), "567")
        );
        for bad in [
            "12345",
            "ЕЕ АБВ",
            "-7700000000000001",
            "ЕЕ",
            "7700000000000001x",
        ] {
            assert_eq!(policy(bad), Err(FieldFault::InvalidFormat), "{bad}");
        }
        assert_eq!(policy(""), Err(FieldFault::Required));
    }

    fn matches(pattern: &str, max: usize, s: &str) -> bool {
        regex::Regex::new(pattern)
            .expect("a valid pattern")
            .is_match(s)
            && s.chars().count() <= max
    }

    fn phone_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                12 => proptest::char::range('0', '9'),
                1 => Just(' '),
                1 => Just('-'),
                1 => Just('('),
                1 => Just(')'),
                1 => Just('+'),
                1 => Just('x'),
                1 => Just('٣'),
            ],
            0..26,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    #[test]
    fn phones_in_their_usual_forms() {
        for s in [
            "+7 916 123-45-67",
            "8 (916) 123-45-67",
            "89161234567",
            "9161234567",
            "7 916 1234567",
            "+7(916)1234567",
        ] {
            assert_eq!(phone(s).as_deref(), Ok("+79161234567"), "{s}");
        }
        assert_eq!(phone("8 (495) 123-45-67").as_deref(), Ok("+74951234567"));
        assert_eq!(phone("8123456789").as_deref(), Ok("+78123456789"));
        for bad in [
            "+8 916 123 45 67",
            "916 123 45 6",
            "+7 716 123 45 67",
            "1234567",
            "+7 916 123 45 67 8",
            "916+1234567",
            "9161234567 доб. 1",
        ] {
            assert_eq!(phone(bad), Err(FieldFault::InvalidFormat), "{bad}");
        }
        assert_eq!(phone("   "), Err(FieldFault::Required));
        assert_eq!(phone(&"9".repeat(25)), Err(FieldFault::TooLong));
    }

    #[test]
    fn referral_numbers() {
        assert_eq!(referral("0000000001"), Ok("0000000001"));
        assert_eq!(referral("АБ-1"), Err(FieldFault::InvalidFormat));
        assert_eq!(referral("1 2"), Err(FieldFault::InvalidFormat));
        assert_eq!(referral(""), Err(FieldFault::Required));
        assert_eq!(referral(&"1".repeat(33)), Err(FieldFault::TooLong));
    }

    use crate::near::Gen;

    /// What a mutation inserts or puts in place: ASCII digits and letters, separators,
    /// Unicode digits and spaces.
    const POOL: &[char] = &[
        '0', '7', '9', 'a', 'Ж', ' ', '-', '(', '+', '\u{a0}', '\u{2007}', '٣', '７',
    ];

    /// The pattern (what the OpenAPI document and the browser check) and the parser agree on
    /// 4 000 strings near `valid`'s shapes, and a substantial share of them is accepted, so
    /// that both answers are really compared.
    fn agree_near(
        name: &str,
        seed: u64,
        (pattern, max): (&str, usize),
        valid: impl Fn(&mut Gen) -> String,
        parse: impl Fn(&str) -> bool,
    ) {
        let mut g = Gen(seed);
        let mut accepted = 0;
        for _ in 0..4_000 {
            let shape = valid(&mut g);
            let (s, _) = g.mutated(&shape, POOL);
            let parsed = parse(&s);
            assert_eq!(matches(pattern, max, &s), parsed, "{name}: {s:?}");
            accepted += usize::from(parsed);
        }
        assert!(
            (800..=3_800).contains(&accepted),
            "{name}: {accepted} of 4 000 accepted"
        );
    }

    #[test]
    fn near_valid_policies_phones_documents_and_dates_pattern_and_parser_agree() {
        agree_near(
            "policy",
            0x9e37_79b9_7f4a_7c15,
            (POLICY_PATTERN, POLICY_MAX_CHARS),
            |g| match g.below(3) {
                0 => g.digits(16),
                1 => format!(
                    "{} {} {} {}",
                    g.digits(4),
                    g.digits(4),
                    g.digits(4),
                    g.digits(4)
                ),
                _ => format!("ЕЕ {}", g.digits(10)),
            },
            |s| policy(s).is_ok(),
        );
        agree_near(
            "phone",
            0x2545_f491_4f6c_dd1d,
            (PHONE_PATTERN, PHONE_MAX_CHARS),
            |g| {
                let n = format!("9{}", g.digits(9));
                match g.below(3) {
                    0 => format!("+7{n}"),
                    1 => format!("8 ({}) {}-{}-{}", &n[..3], &n[3..6], &n[6..8], &n[8..]),
                    _ => n,
                }
            },
            |s| phone(s).is_ok(),
        );
        agree_near(
            "document",
            0x8f1b_bcdc_bfa5_3e0b,
            (DOCUMENT_PATTERN, DOCUMENT_MAX_CHARS),
            |g| match g.below(2) {
                0 => format!("{} {}", g.digits(4), g.digits(6)),
                _ => format!("II-МЮ {}", g.digits(6)),
            },
            |s| document(s).is_ok(),
        );
        // Days 29 to 31 of every month included: the shape, not the calendar, is checked here.
        agree_near(
            "date",
            0x1234_5678_9abc_def1,
            (DATE_PATTERN, 10),
            |g| {
                format!(
                    "{}-{:02}-{:02}",
                    1900 + g.below(200),
                    1 + g.below(12),
                    1 + g.below(31)
                )
            },
            |s| date_shape(s).is_ok(),
        );
    }

    fn field_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just('1'),
                Just('0'),
                Just('9'),
                Just(' '),
                Just('-'),
                Just('A'),
                Just('z'),
                Just('Ж'),
                Just('ё'),
                Just('\t'),
                Just(';'),
                Just('é'),
                Just('٣'),
                any::<char>(),
            ],
            0..40,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn the_document_pattern_and_parser_agree(s in field_text()) {
            prop_assert_eq!(
                matches(DOCUMENT_PATTERN, DOCUMENT_MAX_CHARS, &s),
                document(&s).is_ok(),
                "{:?}", s
            );
        }

        #[test]
        fn the_policy_pattern_and_parser_agree(s in field_text()) {
            prop_assert_eq!(
                matches(POLICY_PATTERN, POLICY_MAX_CHARS, &s),
                policy(&s).is_ok(),
                "{:?}", s
            );
        }

        #[test]
        fn sixteen_digits_with_separators_are_a_policy(d in "[0-9]{16}", sep in "[ -]{0,2}") {
            let spaced: String = d.chars().flat_map(|c| [c.to_string(), sep.clone()]).collect();
            let spaced = spaced.trim_end_matches(['-', ' ']);
            prop_assert!(matches(POLICY_PATTERN, POLICY_MAX_CHARS, spaced));
            prop_assert_eq!(policy(spaced).map(|p| p.number), Ok(d));
        }

        #[test]
        fn the_phone_pattern_and_parser_agree(s in phone_text()) {
            prop_assert_eq!(
                matches(PHONE_PATTERN, PHONE_MAX_CHARS, &s),
                phone(&s).is_ok(),
                "{:?}", s
            );
        }

        #[test]
        fn the_referral_pattern_and_parser_agree(s in field_text()) {
            prop_assert_eq!(
                matches(REFERRAL_PATTERN, REFERRAL_MAX_CHARS, &s),
                referral(&s).is_ok(),
                "{:?}", s
            );
        }

        #[test]
        fn a_mobile_number_in_any_usual_form_is_one_number(n in "9[0-9]{9}") {
            let dashed = format!("8 ({}) {}-{}-{}", &n[..3], &n[3..6], &n[6..8], &n[8..]);
            for s in [format!("+7{n}"), format!("8{n}"), n.clone(), dashed, format!("+7 {n}")] {
                prop_assert_eq!(phone(&s), Ok(format!("+7{n}")), "{}", s);
            }
        }

        #[test]
        fn the_date_pattern_and_shape_agree(s in "[0-9-]{0,11}|.{0,12}") {
            prop_assert_eq!(matches(DATE_PATTERN, 10, &s), date_shape(&s).is_ok(), "{:?}", s);
        }
    }
}
