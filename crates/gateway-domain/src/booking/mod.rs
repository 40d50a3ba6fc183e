//! Booking (a new ticket, one by a referral, or a move of a ticket to another time),
//! cancelling and the patient's tickets, on typed results: the shell only turns its requests
//! into these calls and their results into answers.
//!
//! A booking or a cancellation, once started, runs to its end in a task of its own, whatever
//! the client does: a client that goes away mid-booking cannot leave the МИС booked and the
//! gateway unaware. Its outcome is kept under the request's `Idempotency-Key` (if any), so the
//! retry the client makes gets that answer. A move is one `SetAppointment` with the old
//! ticket named: the МИС moves the visit in one step, and keeps the old ticket if it cannot.
//!
//! What the patient is told about a ticket is what the МИС holds. A write whose answer was
//! lost after it left is not guessed at: the patient's history is read (under a short deadline)
//! and the answer comes from it — the ticket if the time is the patient's, the failure if not
//! (and the key is free); `outcome_unknown` if the history cannot be read either (and the key
//! stays unknown, so that its retry reads before it books). A booking refused as taken or as
//! already booked, for the time the patient's history shows as theirs, is that ticket.
//!
//! [`target`] finds what a booking takes (the free time, a move's visit, the referral) and
//! books it; [`tickets`] lists and cancels. What the МИС holds after a write, and the ticket
//! of a visit, are [`crate::outcome`]'s: both call down into it.

mod email;
mod target;
mod tickets;

pub use email::email_ticket;
pub use target::Plan;
pub use tickets::{cancel, ticket, tickets};

use crate::claims::{self, Answer, KeyClaim, Keyed};
use crate::clinic::ClinicEntry;
use crate::failure::Failure;
use crate::gateway::Gateway;
use crate::idempotency::{Outcome, Refusal, Settlement};
use crate::ids::{self, SlotKey};
use crate::sessions::Session;
use crate::views::Ticket;
use std::sync::Arc;
use vocabulary::ErrorCode;

/// Refusals a retry would meet again: kept under the key. Anything else (input errors, the
/// МИС down) releases it.
fn is_final(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::SlotTaken
            | ErrorCode::AlreadyBooked
            | ErrorCode::NotAttached
            | ErrorCode::BookingNotAllowed
            | ErrorCode::ReferralExpired
            | ErrorCode::ReferralUsed
            | ErrorCode::ReferralCancelled
    )
}

/// How a booking's key is settled: a ticket or a final refusal is kept; an outcome nobody knows
/// stays unknown (a retry reads first); anything else frees the key.
fn settlement_of(result: &Result<Ticket, Failure>) -> Settlement {
    match result {
        Ok(ticket) => Settlement::Keep(Box::new(Outcome::Booked(ticket.clone()))),
        Err(e) if is_final(e.code) => Settlement::Keep(Box::new(Outcome::Refused(Refusal::of(e)))),
        Err(e) if e.code == ErrorCode::OutcomeUnknown => Settlement::Unknown,
        Err(_) => Settlement::Release,
    }
}

/// Books the slot `slot_id` for the session's patient, as `plan` says.
pub async fn book(
    gateway: Arc<Gateway>,
    clinic: ClinicEntry,
    session: Session,
    slot_id: &str,
    plan: Plan,
    key: Option<Keyed>,
) -> Answer<Ticket> {
    let clinic_id = clinic.info.id.clone();
    let label = clinic.mis.label().to_owned();
    let audit = gateway.audit.clone();
    let patient = session.patient.clone();
    let ticket = SlotKey::parse(slot_id).map(|k| ids::ticket(&k.appointment));
    let previous = match &plan {
        Plan::Move(old, _) => Some(ids::ticket(old)),
        _ => None,
    };
    let (operation, done) = (plan.operation(), plan.done());
    let answer = book_once(gateway, clinic, session, slot_id, plan, key).await;
    let outcome = match (&answer.result, answer.replayed) {
        (_, true) => "replayed",
        (Ok(_), false) => done,
        (Err(e), false) => e.code.as_str(),
    };
    if previous.is_some() {
        crate::metrics::reschedule(&label, outcome);
    } else {
        crate::metrics::booking(&label, outcome);
    }
    if let (Some(audit), Some(ticket)) = (audit, ticket) {
        let entry = (ticket.as_str(), previous.as_deref());
        audit.write(&clinic_id, entry, (operation, outcome), &patient);
    }
    answer
}

async fn book_once(
    gateway: Arc<Gateway>,
    clinic: ClinicEntry,
    session: Session,
    slot_id: &str,
    plan: Plan,
    key: Option<Keyed>,
) -> Answer<Ticket> {
    let slot = SlotKey::parse(slot_id).filter(|k| clinic.in_window(k.date));
    let store = gateway.shared.idempotency.clone();
    let owner = (clinic.info.id.as_str(), &session.patient);
    let claim = match claims::claim(&store, owner, key, clinic.mis.deadline()).await {
        Ok(claim) => claim,
        Err(answer) => return answer,
    };
    // The key is claimed first, so that the same key with another body is refused whatever
    // that body names; an unknown slot then releases it.
    let Some(slot) = slot else {
        if let Some(claim) = claim {
            claim.finish(Settlement::Release).await;
        }
        return Answer::fresh(Err(Failure::not_found("slot")));
    };
    let resolve = claim.as_ref().is_some_and(KeyClaim::resolve);
    let keyed = claim.is_some();
    let writes = gateway.writes.clone();
    let result = writes
        .run(async move {
            // The patient's other writes wait: the checks below (the ticket moved is the
            // patient's, the referral is usable) hold until the МИС has acted on them.
            let result = match gateway.patient_lock(&clinic, &session).await {
                Ok(_held) => {
                    let booking = target::Booking {
                        slot: &slot,
                        plan: &plan,
                        resolve,
                    };
                    target::book(&gateway, &clinic, &session, booking).await
                }
                Err(e) => Err(e),
            };
            if let Some(claim) = claim {
                let settled = result
                    .as_ref()
                    .map(|b| b.ticket.clone())
                    .map_err(Clone::clone);
                claim.finish(settlement_of(&settled)).await;
            }
            result
        })
        .await;
    match result {
        // A ticket an earlier request with the key booked is that request's answer.
        Ok(booked) => Answer {
            replayed: booked.earlier && keyed,
            result: Ok(booked.ticket),
        },
        Err(e) => Answer::fresh(Err(e)),
    }
}
