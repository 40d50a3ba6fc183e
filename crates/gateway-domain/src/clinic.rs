//! A clinic the gateway serves: its public description, its МИС behind the guard, its time
//! zone, and the date window the API serves around its today.

use crate::guard::GuardedMis;
use crate::ids::{DoctorKey, SlotKey};
use crate::views::{Named, Slot};
use chrono::{DateTime, Days, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use mis::LpuId;
use std::sync::Arc;

/// How far back a date may be asked for.
const DAYS_BACK: Days = Days::new(365);
/// How far ahead a date may be asked for.
const DAYS_AHEAD: Days = Days::new(730);

/// Whether a date lies in the window the API serves around `today`: a year back, two ahead.
/// No schedule lies outside it, and nothing computed from a date inside it can overflow.
pub fn in_window(date: NaiveDate, today: NaiveDate) -> bool {
    let first = today.checked_sub_days(DAYS_BACK).unwrap_or(NaiveDate::MIN);
    let last = today.checked_add_days(DAYS_AHEAD).unwrap_or(NaiveDate::MAX);
    (first..=last).contains(&date)
}

/// One clinic served by this gateway.
#[derive(Debug, Clone)]
pub struct ClinicEntry {
    pub info: crate::views::Clinic,
    pub lpu: LpuId,
    pub tz: Tz,
    pub mis: Arc<GuardedMis>,
}

impl ClinicEntry {
    /// The clinic's local time now.
    pub fn now(&self) -> NaiveDateTime {
        chrono::Utc::now().with_timezone(&self.tz).naive_local()
    }

    pub fn today(&self) -> NaiveDate {
        self.now().date()
    }

    /// Whether a date lies in the window the API serves around the clinic's today.
    pub fn in_window(&self, date: NaiveDate) -> bool {
        in_window(date, self.today())
    }

    /// A free ticket of `doctor` as the patient sees it (naming the doctor when `name` is
    /// given).
    pub fn slot(&self, doctor: &DoctorKey, slot: mis::Slot, name: Option<&str>) -> Slot {
        Slot {
            id: SlotKey {
                doctor: doctor.clone(),
                appointment: slot.id,
                date: slot.start.date(),
            }
            .encode(),
            start: self.localize(slot.start),
            end: slot.end.map(|e| self.localize(e)),
            room: slot.room,
            address: slot.address,
            number: slot.number,
            doctor: name.map(|name| Named {
                id: doctor.encode(),
                name: name.to_owned(),
            }),
        }
    }

    /// A clinic-local time with the clinic's offset.
    pub fn localize(&self, t: NaiveDateTime) -> DateTime<FixedOffset> {
        match self.tz.from_local_datetime(&t).earliest() {
            Some(dt) => dt.fixed_offset(),
            // A time in a DST gap does not exist locally; the instant an hour later does.
            None => t
                .checked_add_signed(chrono::Duration::hours(1))
                .and_then(|later| self.tz.from_local_datetime(&later).earliest())
                .map_or_else(|| t.and_utc().fixed_offset(), |dt| dt.fixed_offset()),
        }
    }
}
