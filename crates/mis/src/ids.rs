//! Identifiers chosen by the clinic's system: opaque strings (and the integer clinic id).

use std::fmt;

/// Why an identifier was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("the identifier is empty")]
    Empty,
    #[error("the identifier is longer than {MAX_ID_LEN} bytes")]
    TooLong,
    #[error("the identifier contains control characters or noncharacters")]
    ControlCharacters,
}

/// The longest identifier accepted from a МИС or a client, in bytes.
pub const MAX_ID_LEN: usize = 256;

fn check_opaque(s: &str) -> Result<(), IdError> {
    if s.trim().is_empty() {
        Err(IdError::Empty)
    } else if s.len() > MAX_ID_LEN {
        Err(IdError::TooLong)
    } else if s
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}'))
    {
        // Controls and the noncharacters U+FFFE and U+FFFF: no МИС protocol (XML 1.0 least
        // of all) can carry them, so they are refused here, at input, never sent.
        Err(IdError::ControlCharacters)
    } else {
        Ok(())
    }
}

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = IdError;

            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl $name {
            /// Accepts a non-empty string of at most 256 bytes without control characters.
            pub fn parse(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                check_opaque(&s)?;
                Ok(Self(s))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

opaque_id!(
    /// A specialty's id in the МИС (`IdSpesiality`).
    SpecialtyId
);
opaque_id!(
    /// A doctor's id in the МИС (`IdDoc`).
    DoctorId
);
opaque_id!(
    /// A ticket's id in the МИС (`IdAppointment`).
    AppointmentId
);
opaque_id!(
    /// A patient card's id in the МИС (`IdPat`). Not personal data by itself, but the gateway
    /// keeps it server-side (in sessions) and never shows it to clients.
    PatientId
);
opaque_id!(
    /// A waiting-list request's id in the МИС (`IdPar`).
    WaitingId
);

/// A clinic's id in the МИС (`idLpu`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct LpuId(i32);

impl LpuId {
    pub fn new(id: i32) -> Self {
        Self(id)
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

impl fmt::Display for LpuId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn blank_long_and_control_ids_are_refused() {
        assert_eq!(DoctorId::parse("  ").unwrap_err(), IdError::Empty);
        assert_eq!(
            DoctorId::parse("x".repeat(257)).unwrap_err(),
            IdError::TooLong
        );
        for bad in ["a\nb", "a\u{FFFE}", "\u{FFFF}", "\u{85}x"] {
            assert_eq!(
                DoctorId::parse(bad).unwrap_err(),
                IdError::ControlCharacters,
                "{bad:?}"
            );
        }
        assert_eq!(DoctorId::parse("T-01").unwrap().as_str(), "T-01");
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_keeps_what_it_accepts(s in any::<String>()) {
            if let Ok(id) = AppointmentId::parse(s.clone()) {
                prop_assert_eq!(id.as_str(), s.as_str());
            }
        }
    }
}
