//! What the gateway learns of a ticket when it books it, which the hub's patient history does
//! not report (number, room, address, end, the referral it was booked by) or may leave out
//! (the specialty and the doctor); kept by the [`crate::shared::Memo`] port.

use chrono::NaiveDateTime;
use mis::{DoctorId, SpecialtyId, Visit};

/// What the gateway learned of a ticket when it booked it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SlotDetails {
    pub number: Option<u32>,
    pub room: Option<String>,
    pub address: Option<String>,
    /// `None` where the МИС did not say.
    #[serde(default)]
    pub end: Option<NaiveDateTime>,
    /// When the visit starts (how long the details are worth keeping).
    #[serde(default)]
    pub start: Option<NaiveDateTime>,
    /// The referral's number, for a visit booked (or moved) by one.
    #[serde(default)]
    pub referral: Option<String>,
    /// The specialty and the doctor booked, with their names: a МИС's history may leave them
    /// out (the contract allows it).
    #[serde(default)]
    pub specialty: Option<(SpecialtyId, String)>,
    #[serde(default)]
    pub doctor: Option<(DoctorId, String)>,
}

impl SlotDetails {
    /// When the visit is over, as well as it is known: its end, else its start.
    pub fn over(&self) -> Option<NaiveDateTime> {
        self.end.or(self.start)
    }

    /// `visit` with what its МИС left out of it that the gateway learnt at booking.
    pub fn fill(&self, mut visit: Visit) -> Visit {
        if let Some((id, name)) = &self.specialty {
            visit.specialty_id.get_or_insert_with(|| id.clone());
            visit.specialty_name.get_or_insert_with(|| name.clone());
        }
        if let Some((id, name)) = &self.doctor {
            visit.doctor_id.get_or_insert_with(|| id.clone());
            visit.doctor_name.get_or_insert_with(|| name.clone());
        }
        visit
    }
}
