//! What the gateway learns of a ticket when it books it, which the hub's patient history does
//! not report (number, room, address, end, the referral it was booked by); kept by the
//! [`crate::shared::Memo`] port.

use chrono::NaiveDateTime;

/// What the gateway learned of a ticket when it booked it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SlotDetails {
    pub number: Option<u32>,
    pub room: Option<String>,
    pub address: Option<String>,
    pub end: NaiveDateTime,
    /// The referral's number, for a visit booked (or moved) by one.
    #[serde(default)]
    pub referral: Option<String>,
}
