//! Referrals («направления»): what one of the session's patient's referrals allows, and the
//! tickets open to it.
//!
//! A referral is shown only to its own patient: another patient's referral, or one to
//! another clinic, is `referral_not_found`, as an unknown number is, so that numbers cannot be
//! probed. A referral that can no longer book (used, cancelled, past its last day) is refused
//! with its own code wherever it is used.

use crate::clinic::ClinicEntry;
use crate::failure::Failure;
use crate::ids::DoctorKey;
use crate::sessions::Session;
use crate::views::{Named, Referral, Slot};
use mis::{DateRange, Mis, MisError, ReferralNumber, ReferralStatus, Specialty};

/// A usable referral with its specialty and doctors placed in the clinic's directory.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub referral: mis::Referral,
    pub specialty: Specialty,
    /// Each doctor's directory key and name.
    pub doctors: Vec<(DoctorKey, String)>,
}

impl Resolved {
    /// As the patient sees it.
    pub fn view(&self) -> Referral {
        Referral {
            number: self.referral.number.as_str().to_owned(),
            kind: self.referral.kind,
            specialty: Named {
                id: crate::ids::specialty(&self.specialty.id),
                name: self.specialty.name.clone(),
            },
            doctors: self
                .doctors
                .iter()
                .map(|(key, name)| Named {
                    id: key.encode(),
                    name: name.clone(),
                })
                .collect(),
            issued_on: self.referral.issued,
            valid_until: self.referral.valid_until,
        }
    }
}

/// Parses a referral number of a request (`field` names it in an error).
pub fn parse_number(field: &str, input: &str) -> Result<ReferralNumber, Failure> {
    ReferralNumber::parse(input).map_err(|f| {
        Failure::field(
            field,
            f.reason(),
            "A referral number is 1 to 32 Latin letters, digits and dashes.",
        )
    })
}

/// What a referral is resolved for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Booking a new visit by it (or showing what it allows): a used referral is refused.
    Book,
    /// Listing its times or moving the visit booked by it: a used referral is accepted (the
    /// МИС refuses a move of any visit but the one the referral booked).
    Move,
}

/// The session's patient's referral `number`, if it can still book (or, for
/// [`Purpose::Move`], move the visit it booked).
pub async fn resolve(
    clinic: &ClinicEntry,
    session: &Session,
    number: &ReferralNumber,
    purpose: Purpose,
) -> Result<Resolved, Failure> {
    let referral = clinic.mis.referral(clinic.lpu, number).await?;
    if referral.patient != session.patient || referral.clinic.is_some_and(|c| c != clinic.lpu) {
        return Err(MisError::ReferralNotFound.into());
    }
    match referral.status {
        ReferralStatus::Active => {}
        ReferralStatus::Used if purpose == Purpose::Move => {}
        ReferralStatus::Used => return Err(MisError::ReferralUsed.into()),
        ReferralStatus::Cancelled => return Err(MisError::ReferralCancelled.into()),
    }
    if referral.valid_until.is_some_and(|d| d < clinic.today()) {
        return Err(MisError::ReferralExpired.into());
    }
    let specialties = clinic.mis.specialties(clinic.lpu).await?;
    let first_doctor = referral.doctors.first().map(|d| d.id.clone());
    let mut specialty = referral.specialty_code.as_deref().and_then(|code| {
        specialties
            .iter()
            .find(|s| s.federal_code.as_deref() == Some(code))
            .cloned()
    });
    if specialty.is_none() {
        // No federal code to go by: the specialty that lists the referral's doctor.
        for s in &specialties {
            let doctors = clinic.mis.doctors(clinic.lpu, &s.id).await?;
            if doctors.iter().any(|d| Some(&d.id) == first_doctor.as_ref()) {
                specialty = Some(s.clone());
                break;
            }
        }
    }
    let specialty = specialty.ok_or_else(|| {
        Failure::from(mis::MisError::BadResponse(
            "the referral's specialty is not one of the clinic's".into(),
        ))
    })?;
    let listed = clinic.mis.doctors(clinic.lpu, &specialty.id).await?;
    let doctors: Vec<(DoctorKey, String)> = referral
        .doctors
        .iter()
        .filter_map(|d| {
            let name = d
                .name
                .clone()
                .or_else(|| listed.iter().find(|l| l.id == d.id).map(|l| l.name.clone()))?;
            Some((
                DoctorKey {
                    specialty: specialty.id.clone(),
                    doctor: d.id.clone(),
                },
                name,
            ))
        })
        .collect();
    if doctors.is_empty() {
        return Err(mis::MisError::BadResponse("the referral names no known doctor".into()).into());
    }
    Ok(Resolved {
        referral,
        specialty,
        doctors,
    })
}

/// The free tickets open to the referral in `range` (cut to its last valid day), by time.
pub async fn slots(
    clinic: &ClinicEntry,
    session: &Session,
    resolved: &Resolved,
    range: DateRange,
) -> Result<Vec<Slot>, Failure> {
    let now = clinic.now();
    let last = resolved
        .referral
        .valid_until
        .map_or(range.to(), |d| d.min(range.to()));
    let Some(range) = DateRange::new(range.from().max(now.date()), last) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (key, name) in &resolved.doctors {
        let slots = clinic
            .mis
            .referral_slots(
                clinic.lpu,
                &key.doctor,
                &session.patient,
                resolved.referral.kind,
                range,
            )
            .await?;
        out.extend(
            slots
                .into_iter()
                .filter(|s| s.start > now && (range.from()..=range.to()).contains(&s.start.date()))
                .map(|s| clinic.slot(key, s, Some(name))),
        );
    }
    out.sort_by_key(|s| s.start);
    Ok(out)
}
