//! Dates and times on the wire, written and read by hand: `YYYY-MM-DD` and RFC 3339 with the
//! clinic's offset (`2026-12-01T09:30:00+03:00`), the same text chrono writes.
//!
//! chrono's own parsers are format-string driven and bring its whole parsing machinery (RFC 2822
//! included) into every program that reads a date; the widget reads dates in every answer, so
//! these fixed-width versions keep that out of its WebAssembly. Used through `#[serde(with)]`.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, Timelike};
use serde::{Deserialize, Deserializer, Serializer};

/// `YYYY-MM-DD`.
pub fn format_date(d: NaiveDate) -> String {
    let mut s = String::with_capacity(10);
    push_date(&mut s, d);
    s
}

fn push_num(s: &mut String, n: u32, width: usize) {
    let digits = n.to_string();
    for _ in digits.len()..width {
        s.push('0');
    }
    s.push_str(&digits);
}

fn push_date(s: &mut String, d: NaiveDate) {
    let year = d.year();
    if year < 0 {
        s.push('-');
    }
    push_num(s, year.unsigned_abs(), 4);
    s.push('-');
    push_num(s, d.month(), 2);
    s.push('-');
    push_num(s, d.day(), 2);
}

/// RFC 3339 with the value's own offset: fractions of a second only when there are some (3, 6
/// or 9 digits), `Z` for a zero offset, as chrono's `Serialize` writes it.
pub fn format_datetime(t: &DateTime<FixedOffset>) -> String {
    let mut s = String::with_capacity(25);
    let local = t.naive_local();
    push_date(&mut s, local.date());
    s.push('T');
    push_num(&mut s, local.hour(), 2);
    s.push(':');
    push_num(&mut s, local.minute(), 2);
    s.push(':');
    push_num(&mut s, local.second(), 2);
    let nanos = local.nanosecond() % 1_000_000_000;
    if nanos != 0 {
        s.push('.');
        if nanos.is_multiple_of(1_000_000) {
            push_num(&mut s, nanos / 1_000_000, 3);
        } else if nanos.is_multiple_of(1_000) {
            push_num(&mut s, nanos / 1_000, 6);
        } else {
            push_num(&mut s, nanos, 9);
        }
    }
    let offset = t.offset().local_minus_utc();
    if offset == 0 {
        // As chrono writes it (RFC 3339 allows both; one spelling for one instant).
        s.push('Z');
        return s;
    }
    s.push(if offset < 0 { '-' } else { '+' });
    let offset = offset.unsigned_abs() / 60;
    push_num(&mut s, offset / 60, 2);
    s.push(':');
    push_num(&mut s, offset % 60, 2);
    s
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    b.iter().try_fold(0u32, |n, c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

/// `YYYY-MM-DD`, a real date.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(
        i32::try_from(digits(&b[0..4])?).ok()?,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )
}

/// RFC 3339: `YYYY-MM-DDTHH:MM:SS`, optional fractions of a second, then `Z` or `±HH:MM`.
pub fn parse_datetime(s: &str) -> Option<DateTime<FixedOffset>> {
    let b = s.as_bytes();
    if b.len() < 20 || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date = parse_date(s.get(..10)?)?;
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    let mut rest = &b[19..];
    let mut nanos = 0;
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let kept = &frac[..n.min(9)];
        nanos = digits(kept)? * 10u32.pow(9 - kept.len() as u32);
        rest = &frac[n..];
    }
    let offset = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let minutes = digits(&[*h1, *h2])? * 60 + digits(&[*m1, *m2])?;
            let secs = i32::try_from(minutes * 60).ok()?;
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    date.and_time(time)
        .and_local_timezone(FixedOffset::east_opt(offset)?)
        .single()
}

fn invalid<E: serde::de::Error>(what: &'static str) -> E {
    E::invalid_value(serde::de::Unexpected::Other(what), &what)
}

/// `#[serde(with)]` for a date.
pub mod date {
    use super::*;

    pub fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_date(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse_date(&s).ok_or_else(|| invalid("a date YYYY-MM-DD"))
    }
}

/// `#[serde(with)]` for an optional date.
pub mod opt_date {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&format_date(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        match <Option<std::borrow::Cow<'de, str>>>::deserialize(d)? {
            None => Ok(None),
            Some(s) => parse_date(&s)
                .map(Some)
                .ok_or_else(|| invalid("a date YYYY-MM-DD")),
        }
    }
}

/// `#[serde(with)]` for a list of dates.
pub mod dates {
    use super::*;
    use serde::ser::SerializeSeq;

    pub fn serialize<S: Serializer>(list: &[NaiveDate], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(list.len()))?;
        for d in list {
            seq.serialize_element(&format_date(*d))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<NaiveDate>, D::Error> {
        <Vec<std::borrow::Cow<'de, str>>>::deserialize(d)?
            .iter()
            .map(|s| parse_date(s).ok_or_else(|| invalid("a date YYYY-MM-DD")))
            .collect()
    }
}

/// `#[serde(with)]` for a date and time with its offset.
pub mod datetime {
    use super::*;

    pub fn serialize<S: Serializer>(t: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_datetime(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<FixedOffset>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse_datetime(&s).ok_or_else(|| invalid("an RFC 3339 date-time"))
    }
}

/// `#[serde(with)]` for an optional date and time.
pub mod opt_datetime {
    use super::*;

    pub fn serialize<S: Serializer>(
        t: &Option<DateTime<FixedOffset>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&format_datetime(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<FixedOffset>>, D::Error> {
        match <Option<std::borrow::Cow<'de, str>>>::deserialize(d)? {
            None => Ok(None),
            Some(s) => parse_datetime(&s)
                .map(Some)
                .ok_or_else(|| invalid("an RFC 3339 date-time")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn what_chrono_writes_is_what_this_writes_and_reads() {
        let tz = FixedOffset::east_opt(3 * 3600).expect("valid");
        let t = NaiveDate::from_ymd_opt(2026, 12, 1)
            .and_then(|d| d.and_hms_opt(9, 30, 0))
            .and_then(|d| d.and_local_timezone(tz).single())
            .expect("valid");
        let chrono_json = serde_json::to_string(&t).expect("serializes");
        assert_eq!(format!("\"{}\"", format_datetime(&t)), chrono_json);
        assert_eq!(format_datetime(&t), "2026-12-01T09:30:00+03:00");
        assert_eq!(parse_datetime("2026-12-01T09:30:00+03:00"), Some(t));
        assert_eq!(parse_datetime("2026-12-01T06:30:00Z"), Some(t));
        assert_eq!(
            parse_datetime("2026-12-01T09:30:00.5+03:00").map(|d| d.nanosecond()),
            Some(500_000_000)
        );
        for bad in [
            "2026-12-01 09:30:00+03:00",
            "2026-12-01T09:30:00",
            "2026-12-01T09:30:00+0300",
            "2026-02-30T09:30:00Z",
            "2026-12-01T24:30:00Z",
            "2026-12-01T09:30:00.Z",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
        assert_eq!(format_date(t.date_naive()), "2026-12-01");
        assert_eq!(parse_date("2026-12-01"), Some(t.date_naive()));
        assert_eq!(parse_date("2026-1-01"), None);
    }

    proptest! {
        #[test]
        fn every_time_round_trips_and_matches_chrono(
            secs in -2_000_000_000i64..4_000_000_000,
            nanos in prop_oneof![Just(0u32), 0u32..1_000_000_000, (0u32..1000).prop_map(|m| m * 1_000_000)],
            offset_min in prop_oneof![Just(0i32), -720i32..840],
        ) {
            let tz = FixedOffset::east_opt(offset_min * 60).expect("in range");
            let t = DateTime::from_timestamp(secs, nanos).expect("in range").with_timezone(&tz);
            let ours = format_datetime(&t);
            prop_assert_eq!(format!("\"{ours}\""), serde_json::to_string(&t).expect("serializes"));
            prop_assert_eq!(parse_datetime(&ours), Some(t));
            prop_assert_eq!(parse_date(&format_date(t.date_naive())), Some(t.date_naive()));
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,40}") {
            let _ = parse_datetime(&s);
            let _ = parse_date(&s);
        }
    }
}
