//! The region's catalogue as the sandbox's hub answers it (`GetDistrictList`, `GetLPUList`,
//! `GetLPUInfo`): the seven clinics of the seed and, where the sandbox is asked to list more
//! (`region_clinics`), as many more as a real region has, so that a gateway can be tried and
//! tested against a region of its real size (a regional hub lists thousands of clinics).
//!
//! The clinics beyond the seed's are made up from their `idLpu` alone (nothing is stored for
//! them): 500 a district, every tenth a children's clinic, every fiftieth inactive. Each has
//! the МИС of one of the seed's ordinary clinics behind it ([`RegionSeed::served_by`]), so
//! that it can be browsed and booked; its patients are attached to no area.

use super::{Outcome, respond, unknown_clinic};
use crate::seed;
use mis_hub::contract::{
    Clinic, District, DistrictResult, LpuInfo, LpuInformationResult, LpuListResult, Okato, Request,
    Response, ResultBody,
};

/// The `idLpu` of the first clinic beyond the seed's.
pub const FIRST_MADE_UP: i32 = 1_000;
/// The id of the first district beyond the seed's.
const FIRST_MADE_UP_DISTRICT: i32 = 100;
/// How many made-up clinics a made-up district has.
const PER_DISTRICT: usize = 500;
/// The seed's clinics that answer for the made-up ones (ordinary, active, not a branch's
/// only shape).
const SERVED_BY: [i32; 4] = [1, 2, 3, 5];

/// The sandbox region's size: the seed's seven clinics and `extra` made up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegionSeed {
    extra: usize,
}

/// A made-up clinic, as its `idLpu` makes it.
struct MadeUp {
    lpu: i32,
    district: i32,
    kind: i32,
    active: bool,
}

impl MadeUp {
    fn short_name(&self) -> String {
        if self.kind == 2 {
            format!("Детская поликлиника № {}", self.lpu)
        } else {
            format!("Городская поликлиника № {}", self.lpu)
        }
    }

    fn full_name(&self) -> String {
        format!("ГБУЗ «{}»", self.short_name())
    }

    fn address(&self) -> String {
        format!(
            "г. Москва, ул. Районная-{}, д. {}",
            self.district,
            self.lpu % 200 + 1
        )
    }
}

impl RegionSeed {
    /// A region of `clinics` clinics in all (never fewer than the seed's).
    pub fn of_size(clinics: usize) -> Self {
        Self {
            extra: clinics.saturating_sub(seed::CLINICS.len()),
        }
    }

    /// How many clinics the region lists.
    pub fn clinics(&self) -> usize {
        seed::CLINICS.len() + self.extra
    }

    fn made_up(&self, lpu: i32) -> Option<MadeUp> {
        let index = usize::try_from(lpu.checked_sub(FIRST_MADE_UP)?).ok()?;
        (index < self.extra).then(|| MadeUp {
            lpu,
            district: FIRST_MADE_UP_DISTRICT + (index / PER_DISTRICT) as i32,
            kind: if index % 10 == 9 { 2 } else { 1 },
            active: index % 50 != 49,
        })
    }

    fn made_up_districts(&self) -> impl Iterator<Item = i32> {
        (0..self.extra.div_ceil(PER_DISTRICT)).map(|i| FIRST_MADE_UP_DISTRICT + i as i32)
    }

    /// The seed's clinic whose МИС answers for the made-up clinic `lpu` (`None`: `lpu` is
    /// none of them).
    pub fn served_by(&self, lpu: i32) -> Option<i32> {
        let made_up = self.made_up(lpu)?;
        Some(SERVED_BY[made_up.lpu as usize % SERVED_BY.len()])
    }

    /// The answer to a request for the catalogue (`None`: it is not one).
    pub fn answer(&self, request: &Request) -> Option<Response> {
        let op = request.operation();
        let outcome = match request {
            Request::GetDistrictList(_) => Ok(self.districts()),
            Request::GetLpuList(r) => Ok(self.lpu_list(r.id_district)),
            Request::GetLpuInfo(r) => self.lpu_info(r.id_lpu),
            _ => return None,
        };
        Some(respond(op, outcome))
    }

    fn districts(&self) -> ResultBody {
        let seeded = seed::DISTRICTS.iter().map(|(id, name, okato)| District {
            name: Some((*name).into()),
            id: *id,
            okato: Some(Okato(*okato)),
        });
        let made_up = self.made_up_districts().map(|id| District {
            name: Some(format!("Район № {id}")),
            id,
            okato: None,
        });
        ResultBody::GetDistrictList(DistrictResult {
            districts: Some(seeded.chain(made_up).collect()),
        })
    }

    fn made_up_in(&self, district: Option<i32>) -> impl Iterator<Item = MadeUp> + '_ {
        (0..self.extra)
            .filter_map(|i| self.made_up(FIRST_MADE_UP + i as i32))
            .filter(move |c| district.is_none_or(|d| d == c.district))
    }

    fn lpu_list(&self, district: Option<i32>) -> ResultBody {
        let seeded = seed::CLINICS
            .iter()
            .filter(|c| district.is_none_or(|d| d == c.district))
            .map(|c| Clinic {
                description: Some(c.address.into()),
                district: Some(c.district),
                id_lpu: c.lpu,
                is_active: Some(c.active),
                full_name: Some(c.full_name.into()),
                short_name: Some(c.short_name.into()),
                lpu_type: Some(c.kind),
                oid: Some(c.oid.into()),
                part_of: c.part_of,
            });
        let made_up = self.made_up_in(district).map(|c| Clinic {
            description: Some(c.address()),
            district: Some(c.district),
            id_lpu: c.lpu,
            is_active: Some(c.active),
            full_name: Some(c.full_name()),
            short_name: Some(c.short_name()),
            lpu_type: Some(c.kind),
            oid: None,
            part_of: None,
        });
        ResultBody::GetLpuList(LpuListResult {
            list_lpu: Some(seeded.chain(made_up).collect()),
        })
    }

    /// The card of the region's clinic `lpu` (every clinic's without one).
    fn lpu_info(&self, lpu: Option<i32>) -> Outcome {
        if let Some(lpu) = lpu
            && seed::clinic(lpu).is_none()
            && self.made_up(lpu).is_none()
        {
            return Err(unknown_clinic());
        }
        let seeded = seed::CLINICS
            .iter()
            .filter(|c| lpu.is_none_or(|l| l == c.lpu))
            .map(|c| LpuInfo {
                address: Some(c.address.into()),
                commentary: None,
                district_id: Some(c.district),
                district_name: seed::district_name(c.district).map(Into::into),
                district_okato: seed::DISTRICTS
                    .iter()
                    .find(|d| d.0 == c.district)
                    .map(|d| Okato(d.2)),
                email: Some(c.email.into()),
                full_name: Some(c.full_name.into()),
                id: Some(c.lpu),
                oid: Some(c.oid.into()),
                phone: Some(c.phone.into()),
                public_guid: None,
                short_name: Some(c.short_name.into()),
                lpu_type: Some(kind_name(c.kind).into()),
                work_time: Some(c.work_time.into()),
            });
        let made_up = self
            .made_up_in(None)
            .filter(|c| lpu.is_none_or(|l| l == c.lpu))
            .map(|c| LpuInfo {
                address: Some(c.address()),
                commentary: None,
                district_id: Some(c.district),
                district_name: Some(format!("Район № {}", c.district)),
                district_okato: None,
                email: None,
                full_name: Some(c.full_name()),
                id: Some(c.lpu),
                oid: None,
                phone: Some(format!(
                    "+7 (495) {:03}-{:02}-{:02}",
                    c.district,
                    c.lpu / 100 % 100,
                    c.lpu % 100
                )),
                public_guid: None,
                short_name: Some(c.short_name()),
                lpu_type: Some(kind_name(c.kind).into()),
                work_time: Some("пн–пт 8:00–20:00".into()),
            });
        Ok(ResultBody::GetLpuInfo(LpuInformationResult {
            lpu_collection: Some(seeded.chain(made_up).collect()),
        }))
    }
}

fn kind_name(kind: i32) -> &'static str {
    if kind == 2 {
        "Детская поликлиника"
    } else {
        "Поликлиника"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mis_hub::contract::{GetLpuInfo, GetLpuList};

    fn listed(region: RegionSeed, district: Option<i32>) -> Vec<Clinic> {
        let Some(ResultBody::GetLpuList(r)) = region
            .answer(&Request::GetLpuList(GetLpuList {
                id_district: district,
            }))
            .map(|r| r.body)
        else {
            panic!("a list");
        };
        r.list_lpu.expect("clinics")
    }

    #[test]
    fn a_region_of_ten_thousand_lists_every_clinic_once_in_districts_of_five_hundred() {
        let region = RegionSeed::of_size(10_000);
        assert_eq!(region.clinics(), 10_000);
        let Some(ResultBody::GetDistrictList(d)) = region
            .answer(&Request::GetDistrictList(Default::default()))
            .map(|r| r.body)
        else {
            panic!("districts");
        };
        let districts = d.districts.expect("a list");
        assert_eq!(districts.len(), 3 + 20);
        let all: Vec<Clinic> = districts
            .iter()
            .flat_map(|d| listed(region, Some(d.id)))
            .collect();
        assert_eq!(all.len(), 10_000);
        let ids: std::collections::HashSet<i32> = all.iter().map(|c| c.id_lpu).collect();
        assert_eq!(ids.len(), 10_000, "each once");
        assert_eq!(listed(region, Some(FIRST_MADE_UP_DISTRICT)).len(), 500);
        assert!(
            all.iter()
                .any(|c| c.is_active == Some(false) && c.id_lpu >= FIRST_MADE_UP)
        );
        let Some(ResultBody::GetLpuInfo(cards)) = region
            .answer(&Request::GetLpuInfo(GetLpuInfo { id_lpu: None }))
            .map(|r| r.body)
        else {
            panic!("cards");
        };
        assert_eq!(cards.lpu_collection.expect("cards").len(), 10_000);
        let one = region
            .answer(&Request::GetLpuInfo(GetLpuInfo {
                id_lpu: Some(FIRST_MADE_UP + 9_992),
            }))
            .expect("an answer");
        assert!(one.base.succeeded());
        let beyond = region
            .answer(&Request::GetLpuInfo(GetLpuInfo {
                id_lpu: Some(FIRST_MADE_UP + 9_993),
            }))
            .expect("an answer");
        assert!(!beyond.base.succeeded(), "past the region's end");
    }

    #[test]
    fn a_made_up_clinic_is_served_by_an_ordinary_clinic_of_the_seed_and_the_seed_s_by_none() {
        let region = RegionSeed::of_size(100);
        for lpu in FIRST_MADE_UP..FIRST_MADE_UP + 93 {
            let by = region.served_by(lpu).expect("made up");
            let seed = seed::clinic(by).expect("of the seed");
            assert!(seed.active && seed.behaviour == seed::Behaviour::Normal);
        }
        assert_eq!(region.served_by(FIRST_MADE_UP + 93), None);
        assert_eq!(region.served_by(1), None);
        assert_eq!(RegionSeed::default().clinics(), 7);
        assert_eq!(RegionSeed::default().served_by(FIRST_MADE_UP), None);
    }
}
