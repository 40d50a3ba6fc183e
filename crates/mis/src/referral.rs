//! Referrals («направления»): what a referral allows, as the МИС reports it.

use crate::{DoctorId, LpuId, PatientId};
use chrono::NaiveDate;
use std::fmt;
use vocabulary::identity::{self, FieldFault};

/// A referral's number, by the grammar of [`vocabulary::identity::referral`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ReferralNumber(String);

impl ReferralNumber {
    pub fn parse(input: &str) -> Result<Self, FieldFault> {
        identity::referral(input).map(|s| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ReferralNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReferralNumber({:?})", self.0)
    }
}

/// What a referral books.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReferralKind {
    Consultation,
    /// A follow-up visit.
    Repeat,
    /// The МИС does not say.
    Unspecified,
}

/// What became of a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReferralStatus {
    /// It can book.
    Active,
    /// A visit is booked by it.
    Used,
    /// Withdrawn by the clinic.
    Cancelled,
}

/// A doctor a referral sends to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralDoctor {
    pub id: DoctorId,
    pub name: Option<String>,
    /// The federal code of the doctor's specialty, if the МИС gives it.
    pub specialty_code: Option<String>,
}

/// A referral, as the МИС reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    pub number: ReferralNumber,
    /// Whose it is.
    pub patient: PatientId,
    /// The clinic it sends to, if the МИС says.
    pub clinic: Option<LpuId>,
    pub kind: ReferralKind,
    /// The federal code of the specialty it sends to (`FerIdSpesiality`), if given.
    pub specialty_code: Option<String>,
    /// The doctors it may be booked with; at least one.
    pub doctors: Vec<ReferralDoctor>,
    pub issued: Option<NaiveDate>,
    /// Its last valid day.
    pub valid_until: Option<NaiveDate>,
    pub status: ReferralStatus,
}
