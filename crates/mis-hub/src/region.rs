//! The [`mis::Region`] port over the hub: its districts, their clinics, the clinics' cards and
//! a patient's areas.

use crate::client::HubClient;
use crate::contract::{self, Operation, Request, ResultBody};
use crate::mapping::*;
use async_trait::async_trait;
use mis::{LpuId, MisError, PatientId};

impl HubClient {
    /// `GetLPUInfo`: the card of `clinic`, or every clinic's.
    async fn lpu_info(
        &self,
        clinic: Option<LpuId>,
    ) -> Result<Vec<(LpuId, mis::ClinicCard)>, MisError> {
        let request = Request::GetLpuInfo(contract::GetLpuInfo {
            id_lpu: clinic.map(LpuId::get),
        });
        let ResultBody::GetLpuInfo(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetLpuInfo));
        };
        Ok(r.lpu_collection
            .unwrap_or_default()
            .into_iter()
            // A card without its clinic's id names nothing.
            .filter_map(|c| {
                Some((
                    LpuId::new(c.id?),
                    mis::ClinicCard {
                        address: text(c.address),
                        phone: text(c.phone),
                        email: text(c.email),
                        work_time: text(c.work_time),
                    },
                ))
            })
            .collect())
    }
}

#[async_trait]
impl mis::Region for HubClient {
    #[tracing::instrument(level = "debug", skip(self))]
    async fn districts(&self) -> Result<Vec<mis::District>, MisError> {
        let request = Request::GetDistrictList(contract::GetDistrictList {});
        let ResultBody::GetDistrictList(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetDistrictList));
        };
        Ok(r.districts
            .unwrap_or_default()
            .into_iter()
            .map(|d| mis::District {
                id: d.id,
                // Not said: named by its number.
                name: text(d.name).unwrap_or_else(|| format!("Район {}", d.id)),
                okato: d.okato.map(|o| o.0),
            })
            .collect())
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn clinics_of(&self, district: i32) -> Result<Vec<mis::RegionClinic>, MisError> {
        let request = Request::GetLpuList(contract::GetLpuList {
            id_district: Some(district),
        });
        let ResultBody::GetLpuList(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetLpuList));
        };
        Ok(r.list_lpu
            .unwrap_or_default()
            .into_iter()
            .map(|c| mis::RegionClinic {
                id: LpuId::new(c.id_lpu),
                // Not said: the district it was listed for.
                district: c.district.or(Some(district)),
                full_name: text(c.full_name),
                short_name: text(c.short_name),
                active: c.is_active.unwrap_or(true),
                part_of: c.part_of.filter(|p| *p != c.id_lpu).map(LpuId::new),
                kind: c.lpu_type.unwrap_or_default(),
            })
            .collect())
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn cards(&self) -> Result<Vec<(LpuId, mis::ClinicCard)>, MisError> {
        self.lpu_info(None).await
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn card(&self, clinic: LpuId) -> Result<Option<mis::ClinicCard>, MisError> {
        let cards = self.lpu_info(Some(clinic)).await?;
        // A hub that answers more than asked: the one asked for, if it is there.
        Ok(cards
            .into_iter()
            .find(|(id, _)| *id == clinic)
            .map(|(_, card)| card))
    }

    #[tracing::instrument(level = "debug", skip(self, patient))]
    async fn areas(&self, clinic: LpuId, patient: &PatientId) -> Result<Vec<mis::Area>, MisError> {
        let request = Request::GetPatientsAreas(contract::GetPatientsAreas {
            id_lpu: Some(clinic.get().to_string()),
            id_pat: Some(patient.as_str().to_owned()),
        });
        let ResultBody::GetPatientsAreas(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetPatientsAreas));
        };
        Ok(r.patients_area_list
            .unwrap_or_default()
            .into_iter()
            .filter_map(|a| {
                Some(mis::Area {
                    number: text(a.area)?,
                    kind: a.area_type.as_str().to_owned(),
                })
            })
            .collect())
    }
}
