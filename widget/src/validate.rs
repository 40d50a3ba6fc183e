//! Checks of the identity fields before they are sent, so that the patient sees what to fix
//! at the field. The document and policy numbers follow the gateway's own grammar
//! (`api_types::identity`); the birth date is read in the patient's usual forms.

use api_types::identity::{self, FieldFault};
use chrono::NaiveDate;

/// What is wrong with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldProblem {
    Required,
    Invalid,
    Future,
}

impl From<FieldFault> for FieldProblem {
    fn from(f: FieldFault) -> Self {
        match f {
            FieldFault::Required => Self::Required,
            FieldFault::TooLong | FieldFault::InvalidFormat => Self::Invalid,
        }
    }
}

/// The document number, by the gateway's own grammar.
pub fn document(s: &str) -> Result<(), FieldProblem> {
    identity::document(s).map(drop).map_err(Into::into)
}

/// The OMS policy number, by the gateway's own grammar.
pub fn policy(s: &str) -> Result<(), FieldProblem> {
    identity::policy(s).map(drop).map_err(Into::into)
}

/// `ДД.ММ.ГГГГ` or `ГГГГ-ММ-ДД`, by hand: chrono's format-driven parser would double the
/// widget's date code for two fixed shapes.
fn parse_date(s: &str) -> Option<NaiveDate> {
    let num = |p: &str| -> Option<u32> {
        (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let (d, m, y) = if let [d, m, y] = s.split('.').collect::<Vec<_>>()[..] {
        (d, m, y)
    } else if let [y, m, d] = s.split('-').collect::<Vec<_>>()[..] {
        (d, m, y)
    } else {
        return None;
    };
    if y.len() != 4 || d.len() > 2 || m.len() > 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(num(y)?).ok()?, num(m)?, num(d)?)
}

/// Reads `ДД.ММ.ГГГГ` (or `ГГГГ-ММ-ДД`) into a date not after `today`.
pub fn birth_date(s: &str, today: NaiveDate) -> Result<NaiveDate, FieldProblem> {
    let s = s.trim();
    if s.is_empty() {
        return Err(FieldProblem::Required);
    }
    let date = parse_date(s).ok_or(FieldProblem::Invalid)?;
    if date > today {
        return Err(FieldProblem::Future);
    }
    if today.signed_duration_since(date).num_days() > 130 * 366 {
        return Err(FieldProblem::Invalid);
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked_like_the_gateway_does() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).expect("valid");
        assert_eq!(document("4510 123456"), Ok(()));
        assert_eq!(document(""), Err(FieldProblem::Required));
        assert_eq!(document("45;10"), Err(FieldProblem::Invalid));
        assert_eq!(policy("7700 0000 0000 0001"), Ok(()));
        assert_eq!(policy("ЕЕ 123456"), Ok(()));
        assert_eq!(policy("12345"), Err(FieldProblem::Invalid));
        assert_eq!(
            birth_date("17.05.1980", today),
            NaiveDate::from_ymd_opt(1980, 5, 17).ok_or(FieldProblem::Invalid)
        );
        assert_eq!(
            birth_date("1980-05-17", today),
            NaiveDate::from_ymd_opt(1980, 5, 17).ok_or(FieldProblem::Invalid)
        );
        assert_eq!(birth_date("31.02.1980", today), Err(FieldProblem::Invalid));
        assert_eq!(birth_date("01.01.2030", today), Err(FieldProblem::Future));
    }
}
