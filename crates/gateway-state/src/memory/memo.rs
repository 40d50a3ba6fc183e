//! What the gateway learned of the tickets it booked, in this process's memory: at most
//! [`MEMO_CAPACITY`] tickets, the least used forgotten first.

use gateway_domain::memo::SlotDetails;
use mis::AppointmentId;

type MemoKey = (String, AppointmentId);

/// A bounded memory of [`SlotDetails`]: at most [`MEMO_CAPACITY`] tickets, the least used
/// forgotten first.
#[derive(Debug)]
pub struct TicketMemo {
    details: moka::sync::Cache<MemoKey, SlotDetails>,
}

/// The most tickets whose details are remembered.
pub const MEMO_CAPACITY: u64 = 100_000;

impl Default for TicketMemo {
    fn default() -> Self {
        Self::with_capacity(MEMO_CAPACITY)
    }
}

impl TicketMemo {
    /// A memory of at most `capacity` tickets.
    pub fn with_capacity(capacity: u64) -> Self {
        Self {
            details: moka::sync::Cache::new(capacity),
        }
    }

    pub fn remember(&self, clinic: &str, id: &AppointmentId, details: SlotDetails) {
        self.details
            .insert((clinic.to_owned(), id.clone()), details);
    }

    /// Forgets a ticket (cancelled).
    pub fn forget(&self, clinic: &str, id: &AppointmentId) {
        self.details.invalidate(&(clinic.to_owned(), id.clone()));
    }

    pub fn recall(&self, clinic: &str, id: &AppointmentId) -> Option<SlotDetails> {
        self.details.get(&(clinic.to_owned(), id.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_tickets_stays_within_the_memo_s_cap() {
        let memo = TicketMemo::with_capacity(100);
        let end = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .expect("a time");
        let details = SlotDetails {
            number: Some(1),
            room: None,
            address: None,
            end: Some(end),
            start: None,
            specialty: None,
            doctor: None,
            referral: Some("0000000001".into()),
        };
        for i in 0..5_000 {
            let id = AppointmentId::parse(format!("a{i}")).expect("an id");
            memo.remember("demo", &id, details.clone());
        }
        memo.details.run_pending_tasks();
        assert!(
            memo.details.entry_count() <= 100,
            "{}",
            memo.details.entry_count()
        );
        let last = AppointmentId::parse("a4999").expect("an id");
        memo.forget("demo", &last);
        assert_eq!(memo.recall("demo", &last), None);
    }
}
