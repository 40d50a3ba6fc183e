//! What a booking takes, and taking it: the free time (in the directory, or among a referral's
//! times), for a move the patient's visit it replaces, and the referral it is booked by; then
//! one `SetAppointment`, and what the gateway remembers of the ticket.

use crate::clinic::ClinicEntry;
use crate::failure::Failure;
use crate::gateway::Gateway;
use crate::ids::SlotKey;
use crate::memo::SlotDetails;
use crate::outcome;
use crate::referrals::Purpose;
use crate::sessions::Session;
use crate::views::Ticket;
use chrono::{NaiveDateTime, Timelike};
use mis::{AppointmentId, DateRange, Mis, ReferralNumber, Visit};
use vocabulary::ErrorCode;

/// What a booking does besides taking a slot.
#[derive(Debug, Clone)]
pub enum Plan {
    /// A new ticket.
    New,
    /// A new ticket by one of the patient's referrals.
    ByReferral(ReferralNumber),
    /// The patient's upcoming ticket moved to the slot; with a referral (given, or the one the
    /// gateway remembers the visit was booked by), to one of the referral's slots.
    Move(AppointmentId, Option<ReferralNumber>),
}

impl Plan {
    pub(super) fn operation(&self) -> &'static str {
        match self {
            Self::New | Self::ByReferral(_) => "book",
            Self::Move(..) => "reschedule",
        }
    }

    pub(super) fn done(&self) -> &'static str {
        match self {
            Self::New | Self::ByReferral(_) => "booked",
            Self::Move(..) => "rescheduled",
        }
    }
}

/// What a booking takes: the free slot and the names it reports.
struct Target {
    slot: mis::Slot,
    specialty_name: String,
    doctor_name: String,
    /// For a booking by referral, the doctors the referral leads to.
    referral_doctors: Vec<mis::DoctorId>,
}

/// A move keeps the visit what it was: a time of the same specialty (where the МИС does not
/// say the visit's specialty, of the same doctor). Anything else is `422` on `slot_id`.
pub(super) fn keeps_its_specialty(visit: &Visit, key: &SlotKey) -> Result<(), Failure> {
    let same = match (&visit.specialty_id, &visit.doctor_id) {
        (Some(specialty), _) => *specialty == key.doctor.specialty,
        (None, Some(doctor)) => *doctor == key.doctor.doctor,
        (None, None) => false,
    };
    if same {
        Ok(())
    } else {
        Err(Failure::field(
            "slot_id",
            "other_specialty",
            "A visit moves to another time of its own specialty; book the other specialty instead.",
        ))
    }
}

/// The referral a visit is moved by: the one it was booked by, as the gateway remembers it
/// (`known`), or as the request names it (`given`) where the gateway does not know. A
/// referral named for a visit known to be booked without one, or another than the visit's
/// own, is refused: a move keeps the visit what it was.
pub(super) fn moved_by(
    known: Option<&SlotDetails>,
    given: Option<&ReferralNumber>,
) -> Result<Option<ReferralNumber>, Failure> {
    let remembered = known.map(|d| {
        d.referral
            .as_deref()
            .and_then(|n| ReferralNumber::parse(n).ok())
    });
    match (remembered, given) {
        (Some(Some(own)), Some(given)) if own != *given => Err(Failure::field(
            "referral",
            "other_referral",
            "This visit was booked by another referral; move it with its own.",
        )),
        (Some(None), Some(_)) => Err(Failure::field(
            "referral",
            "not_by_referral",
            "This visit was not booked by a referral; move it without one.",
        )),
        (Some(own), None) => Ok(own),
        (_, given) => Ok(given.cloned()),
    }
}

fn slot_taken() -> Failure {
    Failure::new(ErrorCode::SlotTaken).detail("This time is no longer free; choose another.")
}

/// The free slot `key` names in the directory, with its specialty's and doctor's names.
async fn open_slot(
    clinic: &ClinicEntry,
    key: &SlotKey,
    now: NaiveDateTime,
) -> Result<Target, Failure> {
    let slot = clinic
        .mis
        .slots(clinic.lpu, &key.doctor.doctor, DateRange::day(key.date))
        .await?
        .into_iter()
        .find(|s| s.id == key.appointment && s.start > now)
        .ok_or_else(slot_taken)?;
    let specialty_name = clinic
        .mis
        .specialties(clinic.lpu)
        .await?
        .into_iter()
        .find(|s| s.id == key.doctor.specialty)
        .map(|s| s.name)
        .ok_or_else(|| Failure::not_found("specialty"))?;
    let doctor_name = clinic
        .mis
        .doctors(clinic.lpu, &key.doctor.specialty)
        .await?
        .into_iter()
        .find(|d| d.id == key.doctor.doctor)
        .map(|d| d.name)
        .ok_or_else(|| Failure::not_found("doctor"))?;
    Ok(Target {
        slot,
        specialty_name,
        doctor_name,
        referral_doctors: Vec::new(),
    })
}

/// The slot `key` names among the tickets open to the patient's referral `number`.
async fn referral_slot(
    clinic: &ClinicEntry,
    session: &Session,
    (number, purpose): (&ReferralNumber, Purpose),
    key: &SlotKey,
    now: NaiveDateTime,
) -> Result<Target, Failure> {
    let resolved = crate::referrals::resolve(clinic, session, number, purpose).await?;
    let doctor_name = resolved
        .doctors
        .iter()
        .find(|(k, _)| k.doctor == key.doctor.doctor)
        .map(|(_, name)| name.clone())
        .ok_or_else(|| {
            Failure::new(ErrorCode::BookingNotAllowed)
                .detail("This referral does not lead to this doctor.")
        })?;
    let slot = clinic
        .mis
        .referral_slots(
            clinic.lpu,
            &key.doctor.doctor,
            &session.patient,
            resolved.referral.kind,
            DateRange::day(key.date),
        )
        .await?
        .into_iter()
        .find(|s| s.id == key.appointment && s.start > now)
        .ok_or_else(slot_taken)?;
    Ok(Target {
        slot,
        specialty_name: resolved.specialty.name,
        doctor_name,
        referral_doctors: resolved
            .doctors
            .into_iter()
            .map(|(k, _)| k.doctor)
            .collect(),
    })
}

/// For a move, the patient's upcoming visit it replaces: another time of its own specialty.
async fn moved_visit(
    gateway: &Gateway,
    clinic: &ClinicEntry,
    session: &Session,
    key: &SlotKey,
    plan: &Plan,
) -> Result<Option<Visit>, Failure> {
    let Plan::Move(old, _) = plan else {
        return Ok(None);
    };
    if *old == key.appointment {
        return Err(Failure::field(
            "slot_id",
            "same_slot",
            "This is the ticket's own time; choose another.",
        ));
    }
    let visit = outcome::upcoming(clinic, session)
        .await?
        .into_iter()
        .find(|v| v.appointment == *old)
        .ok_or_else(|| Failure::not_found("ticket"))?;
    // What its МИС leaves out of the visit, the gateway may have learnt when it booked it.
    let visit = match gateway.shared.memo.recall(&clinic.info.id, old).await {
        Some(known) => known.fill(visit),
        None => visit,
    };
    keeps_its_specialty(&visit, key)?;
    Ok(Some(visit))
}

/// The referral the new visit is booked by: the one given, or for a move, the one the moved
/// visit was booked by (it keeps it).
async fn referral_of(
    gateway: &Gateway,
    clinic: &ClinicEntry,
    plan: &Plan,
) -> Result<Option<(ReferralNumber, Purpose)>, Failure> {
    Ok(match plan {
        Plan::ByReferral(number) => Some((number.clone(), Purpose::Book)),
        Plan::Move(old, given) => {
            let known = gateway.shared.memo.recall(&clinic.info.id, old).await;
            moved_by(known.as_ref(), given.as_ref())?.map(|n| (n, Purpose::Move))
        }
        Plan::New => None,
    })
}

/// The time to book: among the referral's times (where the visit moved by a referral is one
/// it booked: its doctor is one of the referral's), or in the directory.
async fn target_of(
    clinic: &ClinicEntry,
    session: &Session,
    referral: Option<&(ReferralNumber, Purpose)>,
    moved: Option<&Visit>,
    key: &SlotKey,
    now: NaiveDateTime,
) -> Result<Target, Failure> {
    let Some((number, purpose)) = referral else {
        return open_slot(clinic, key, now).await;
    };
    let target = referral_slot(clinic, session, (number, *purpose), key, now).await?;
    if let Some(visit) = moved
        && !target
            .referral_doctors
            .iter()
            .any(|d| Some(d) == visit.doctor_id.as_ref())
    {
        return Err(Failure::field(
            "referral",
            "other_visit",
            "This referral did not book this visit; move the visit without it.",
        ));
    }
    Ok(target)
}

/// What is asked: the time, the plan, and whether an earlier request with the key may have
/// acted unseen (then the МИС is read before anything is written).
#[derive(Debug, Clone, Copy)]
pub(super) struct Booking<'a> {
    pub slot: &'a SlotKey,
    pub plan: &'a Plan,
    pub resolve: bool,
}

/// A booking's ticket, and whether it was booked by an earlier request (found held, not
/// booked now).
#[derive(Debug)]
pub(super) struct Booked {
    pub ticket: Ticket,
    pub earlier: bool,
}

/// The ticket the patient holds at the time `key` names, booked by an earlier request; or
/// how a refusal as taken or already booked stands ([`outcome::unless_own`]).
async fn own_or(
    gateway: &Gateway,
    clinic: &ClinicEntry,
    session: &Session,
    key: &SlotKey,
    refusal: Failure,
) -> Result<Booked, Failure> {
    let ticket = outcome::unless_own(gateway, clinic, session, &key.appointment, refusal).await?;
    Ok(Booked {
        ticket,
        earlier: true,
    })
}

/// The booking itself: the slot must still be free (a move's old ticket, still the
/// patient's); a step that fails books nothing; a step whose outcome is lost is read back.
pub(super) async fn book(
    gateway: &Gateway,
    clinic: &ClinicEntry,
    session: &Session,
    asked: Booking<'_>,
) -> Result<Booked, Failure> {
    let (key, plan) = (asked.slot, asked.plan);
    if asked.resolve
        && let Some(ticket) =
            outcome::held_ticket(gateway, clinic, session, &key.appointment).await?
    {
        // An earlier request with this key booked it, unseen: that is the answer.
        return Ok(Booked {
            ticket,
            earlier: true,
        });
    }
    let now = clinic
        .now()
        .with_nanosecond(0)
        .unwrap_or_else(|| clinic.now());
    let moved = match moved_visit(gateway, clinic, session, key, plan).await {
        Err(e) if e.code == ErrorCode::NotFound && matches!(plan, Plan::Move(..)) => {
            // The visit is gone: moved already, perhaps, to this very time.
            return match outcome::held_ticket(gateway, clinic, session, &key.appointment).await {
                Ok(Some(ticket)) => Ok(Booked {
                    ticket,
                    earlier: true,
                }),
                Ok(None) => Err(e),
                Err(read) => Err(outcome::cannot_tell(read)),
            };
        }
        other => other?,
    };
    let referral = referral_of(gateway, clinic, plan).await?;
    let target = match target_of(clinic, session, referral.as_ref(), moved.as_ref(), key, now).await
    {
        Ok(target) => target,
        Err(e) => return own_or(gateway, clinic, session, key, e).await,
    };
    let booking = mis::Booking {
        patient: &session.patient,
        slot: &target.slot.id,
        previous: moved.as_ref().map(|v| &v.appointment),
        referral: referral.as_ref().map(|(number, _)| number),
    };
    let booked = clinic.mis.book(clinic.lpu, booking).await;
    clinic
        .mis
        .forget_schedule(clinic.lpu, Some(&key.doctor.doctor));
    if let Some(old) = &moved {
        clinic
            .mis
            .forget_schedule(clinic.lpu, old.doctor_id.as_ref());
    }
    match booked {
        Ok(()) => {}
        Err(lost @ mis::MisError::OutcomeUnknown(_)) => {
            outcome::lost_booking(clinic, session, &key.appointment, moved.as_ref(), lost).await?;
        }
        Err(e) => return own_or(gateway, clinic, session, key, e.into()).await,
    }
    let referral = referral.map(|(number, _)| number.as_str().to_owned());
    let details = remember(gateway, clinic, key, &target, referral, moved.as_ref()).await;
    let visit = Visit {
        appointment: target.slot.id,
        start: target.slot.start,
        created: Some(now),
        doctor_id: Some(key.doctor.doctor.clone()),
        doctor_name: Some(target.doctor_name),
        specialty_id: Some(key.doctor.specialty.clone()),
        specialty_name: Some(target.specialty_name),
    };
    Ok(Booked {
        ticket: outcome::ticket(clinic, visit, Some(&details)),
        earlier: false,
    })
}

/// Remembers what the МИС's history will not tell of the new ticket, and forgets the one it
/// replaced; what it remembered.
async fn remember(
    gateway: &Gateway,
    clinic: &ClinicEntry,
    key: &SlotKey,
    target: &Target,
    referral: Option<String>,
    moved: Option<&Visit>,
) -> SlotDetails {
    let slot = &target.slot;
    let details = SlotDetails {
        number: slot.number,
        room: slot.room.clone(),
        address: slot.address.clone(),
        end: slot.end,
        start: Some(slot.start),
        referral,
        specialty: Some((key.doctor.specialty.clone(), target.specialty_name.clone())),
        doctor: Some((key.doctor.doctor.clone(), target.doctor_name.clone())),
    };
    let memo = &gateway.shared.memo;
    memo.remember(&clinic.info.id, &slot.id, details.clone())
        .await;
    if let Some(old) = moved {
        memo.forget(&clinic.info.id, &old.appointment).await;
        tracing::info!(clinic = %clinic.info.id, "ticket rescheduled");
    } else {
        tracing::info!(clinic = %clinic.info.id, "ticket booked");
    }
    details
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids;
    use mis::{DoctorId, SpecialtyId};

    fn key(specialty: &str, doctor: &str) -> SlotKey {
        SlotKey {
            doctor: ids::DoctorKey {
                specialty: SpecialtyId::parse(specialty).expect("an id"),
                doctor: DoctorId::parse(doctor).expect("an id"),
            },
            appointment: AppointmentId::parse("a").expect("an id"),
            date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("a date"),
        }
    }

    fn visit(specialty: Option<&str>, doctor: Option<&str>) -> Visit {
        Visit {
            appointment: AppointmentId::parse("old").expect("an id"),
            start: chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
                .and_then(|d| d.and_hms_opt(9, 0, 0))
                .expect("a time"),
            created: None,
            doctor_id: doctor.map(|d| DoctorId::parse(d).expect("an id")),
            doctor_name: None,
            specialty_id: specialty.map(|s| SpecialtyId::parse(s).expect("an id")),
            specialty_name: None,
        }
    }

    #[test]
    fn a_move_stays_in_its_specialty_or_with_its_doctor_where_the_specialty_is_unknown() {
        assert!(keeps_its_specialty(&visit(Some("1"), Some("d")), &key("1", "e")).is_ok());
        let other = keeps_its_specialty(&visit(Some("1"), Some("d")), &key("2", "d"))
            .expect_err("another specialty");
        assert_eq!(other.fields[0].field, "slot_id");
        assert!(keeps_its_specialty(&visit(None, Some("d")), &key("2", "d")).is_ok());
        assert!(keeps_its_specialty(&visit(None, Some("d")), &key("2", "e")).is_err());
        assert!(keeps_its_specialty(&visit(None, None), &key("1", "d")).is_err());
    }

    #[test]
    fn a_move_keeps_the_referral_the_visit_was_booked_by() {
        let number = |n: &str| ReferralNumber::parse(n).expect("a number");
        let details = |referral: Option<&str>| SlotDetails {
            number: None,
            room: None,
            address: None,
            end: None,
            start: None,
            referral: referral.map(str::to_owned),
            specialty: None,
            doctor: None,
        };
        let by_one = details(Some("0000000001"));
        assert_eq!(
            moved_by(Some(&by_one), None).expect("its own"),
            Some(number("0000000001"))
        );
        assert!(moved_by(Some(&by_one), Some(&number("0000000001"))).is_ok());
        let other = moved_by(Some(&by_one), Some(&number("0000000002"))).expect_err("another");
        assert_eq!(other.fields[0].reason, "other_referral");
        let without = details(None);
        assert_eq!(moved_by(Some(&without), None).expect("none"), None);
        let named = moved_by(Some(&without), Some(&number("0000000001"))).expect_err("named");
        assert_eq!(named.fields[0].reason, "not_by_referral");
        // Unknown to the gateway: the request's word counts (the МИС checks the rest).
        assert_eq!(
            moved_by(None, Some(&number("0000000001"))).expect("given"),
            Some(number("0000000001"))
        );
    }
}
