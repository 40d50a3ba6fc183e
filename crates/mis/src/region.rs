//! The catalogue of a region, as a regional hub knows it: its districts, their clinics, each
//! clinic's card, and the areas a patient is attached to in a clinic.

use crate::{LpuId, MisError, PatientId};
use async_trait::async_trait;

/// A district of the region.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct District {
    pub id: i32,
    pub name: String,
    /// Its OKATO code, where the hub gives it.
    pub okato: Option<u64>,
}

/// A clinic of the region's catalogue, as the hub lists it for a district.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RegionClinic {
    pub id: LpuId,
    pub district: Option<i32>,
    pub full_name: Option<String>,
    pub short_name: Option<String>,
    /// Whether it takes bookings now.
    pub active: bool,
    /// The larger clinic this one is a branch of.
    pub part_of: Option<LpuId>,
    /// The hub's kind of clinic (`LPUType`).
    pub kind: i32,
}

/// A clinic's card: where it is and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ClinicCard {
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Working hours, as the hub writes them.
    pub work_time: Option<String>,
}

/// An area (участок) a patient is attached to in a clinic.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Area {
    pub number: String,
    /// Its kind as the hub names it («Терапевтический», «Педиатрический», …).
    pub kind: String,
}

/// The region's catalogue. One implementation per hub protocol.
#[async_trait]
pub trait Region: Send + Sync + std::fmt::Debug {
    async fn districts(&self) -> Result<Vec<District>, MisError>;
    /// The clinics of `district`.
    async fn clinics_of(&self, district: i32) -> Result<Vec<RegionClinic>, MisError>;
    /// Every clinic's card the hub has, by clinic.
    async fn cards(&self) -> Result<Vec<(LpuId, ClinicCard)>, MisError>;
    /// One clinic's card (`None`: the hub has none).
    async fn card(&self, clinic: LpuId) -> Result<Option<ClinicCard>, MisError>;
    /// The areas `patient` (that clinic's id of them) is attached to in `clinic`.
    async fn areas(&self, clinic: LpuId, patient: &PatientId) -> Result<Vec<Area>, MisError>;
}
