//! A region's catalogue and its clinics served, against a hub and МИС in memory.

use async_trait::async_trait;
use gateway_domain::guard::{CACHE_BYTES, Caches, GuardConfig, GuardedMis};
use gateway_domain::region::*;
use gateway_state::keep::Moka;
use mis::{Area, ClinicCard, District, LpuId, MisError, PatientId, Region, RegionClinic};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Default)]
struct Hub {
    down: Mutex<bool>,
    /// `GetLPUInfo` of every clinic refused.
    cards_down: Mutex<bool>,
    /// `GetLPUInfo` of one clinic refused too.
    card_down: Mutex<bool>,
    card_calls: std::sync::atomic::AtomicUsize,
    /// Calls of `GetDistrictList`, `GetLPUList` and `GetLPUInfo` (all cards).
    calls: [std::sync::atomic::AtomicUsize; 3],
    clinics: Vec<RegionClinic>,
}

impl Hub {
    fn calls(&self) -> [usize; 3] {
        self.calls
            .each_ref()
            .map(|c| c.load(std::sync::atomic::Ordering::SeqCst))
    }

    fn count(&self, i: usize) {
        self.calls[i].fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

fn clinic(id: i32, district: i32, name: &str) -> RegionClinic {
    RegionClinic {
        id: LpuId::new(id),
        district: Some(district),
        full_name: Some(format!("ГБУЗ «{name}»")),
        short_name: Some(name.into()),
        active: id != 3,
        part_of: (id == 4).then(|| LpuId::new(1)),
        kind: if id == 5 { 2 } else { 1 },
    }
}

/// The one card the hub has: clinic 1's.
fn phone_card() -> ClinicCard {
    ClinicCard {
        phone: Some("+7 812 000-00-01".into()),
        ..ClinicCard::default()
    }
}

#[async_trait]
impl Region for Hub {
    async fn districts(&self) -> Result<Vec<District>, MisError> {
        self.count(0);
        if *self.down.lock().expect("not poisoned") {
            return Err(MisError::Unavailable("down".into()));
        }
        Ok((1..=3)
            .map(|id| District {
                id,
                name: format!("Район {id}"),
                okato: None,
            })
            .collect())
    }

    async fn clinics_of(&self, district: i32) -> Result<Vec<RegionClinic>, MisError> {
        self.count(1);
        Ok(self
            .clinics
            .iter()
            .filter(|c| c.district == Some(district))
            .cloned()
            .collect())
    }

    async fn cards(&self) -> Result<Vec<(LpuId, ClinicCard)>, MisError> {
        self.count(2);
        if *self.cards_down.lock().expect("not poisoned") {
            return Err(MisError::Rejected { code: 98 });
        }
        Ok(vec![(LpuId::new(1), phone_card())])
    }

    async fn card(&self, clinic: LpuId) -> Result<Option<ClinicCard>, MisError> {
        self.card_calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if *self.card_down.lock().expect("not poisoned") {
            return Err(MisError::Rejected { code: 98 });
        }
        Ok((clinic == LpuId::new(1)).then(phone_card))
    }

    async fn areas(&self, _: LpuId, _: &PatientId) -> Result<Vec<Area>, MisError> {
        Ok(Vec::new())
    }
}

fn hub() -> Arc<Hub> {
    Arc::new(Hub {
        clinics: vec![
            clinic(1, 1, "Поликлиника № 1"),
            clinic(2, 1, "Детская поликлиника № 2"),
            clinic(3, 2, "Поликлиника № 3"),
            clinic(4, 2, "Отделение поликлиники № 1"),
            clinic(5, 3, "Женская консультация «Ёлочка»"),
        ],
        ..Hub::default()
    })
}

#[tokio::test]
async fn the_catalogue_lists_every_district_s_clinics_with_stable_ids_and_cards() {
    let catalogue = Catalogue::new("spb", "Санкт-Петербург", hub());
    assert!(
        catalogue.snapshot().is_none(),
        "nothing before the hub answered"
    );
    catalogue.refresh().await.expect("read");
    let s = catalogue.snapshot().expect("read");
    assert_eq!(s.districts.len(), 3);
    let ids: Vec<&str> = s.clinics.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["spb-1", "spb-2", "spb-3", "spb-4", "spb-5"]);
    assert_eq!(s.clinics[3].branch_of.as_deref(), Some("spb-1"));
    assert!(!s.clinics[2].active);
    assert_eq!(s.clinics[0].card.phone.as_deref(), Some("+7 812 000-00-01"));
    assert_eq!(s.clinics[1].card, ClinicCard::default());
}

#[tokio::test]
async fn a_search_ignores_case_and_yo_and_filters_by_district_and_kind() {
    let catalogue = Catalogue::new("spb", "Санкт-Петербург", hub());
    catalogue.refresh().await.expect("read");
    let s = catalogue.snapshot().expect("read");
    let found =
        |search: Search<'_>| -> Vec<String> { s.find(&search).map(|c| c.id.clone()).collect() };
    assert_eq!(
        found(Search {
            text: Some("ЕЛОЧКА"),
            ..Search::default()
        }),
        ["spb-5"]
    );
    assert_eq!(
        found(Search {
            text: Some("ёлочк"),
            ..Search::default()
        }),
        ["spb-5"]
    );
    // Words are found inside words, whatever stands between them.
    assert_eq!(
        found(Search {
            text: Some("Поликлиника №1"),
            ..Search::default()
        }),
        ["spb-1"]
    );
    assert_eq!(
        found(Search {
            text: Some("поликл 1"),
            ..Search::default()
        }),
        ["spb-1", "spb-4"]
    );
    assert_eq!(
        found(Search {
            district: Some(2),
            ..Search::default()
        }),
        ["spb-3", "spb-4"]
    );
    assert_eq!(
        found(Search {
            kind: Some(2),
            ..Search::default()
        }),
        ["spb-5"]
    );
}

#[tokio::test]
async fn what_was_read_is_kept_while_the_hub_is_down() {
    let hub = hub();
    let catalogue = Catalogue::new("spb", "Санкт-Петербург", hub.clone());
    catalogue.refresh().await.expect("read");
    *hub.down.lock().expect("not poisoned") = true;
    assert!(catalogue.refresh().await.is_err());
    assert_eq!(catalogue.snapshot().expect("kept").clinics.len(), 5);
}

#[tokio::test]
async fn a_hub_that_refuses_the_cards_still_serves_the_catalogue_and_gives_them_one_by_one() {
    let hub = hub();
    *hub.cards_down.lock().expect("not poisoned") = true;
    let catalogue = Catalogue::new("spb", "Санкт-Петербург", hub.clone());
    catalogue
        .refresh()
        .await
        .expect("the catalogue is read without the cards");
    let s = catalogue.snapshot().expect("read");
    assert_eq!(s.clinics.len(), 5);
    assert_eq!(
        s.clinics[0].card.phone.as_deref(),
        Some("+7 812 000-00-01"),
        "asked one by one"
    );
    // Refused one by one too: the cards of the last read stay, and the hub is asked a
    // few times only, not once a clinic for ever.
    *hub.card_down.lock().expect("not poisoned") = true;
    let asked = hub.card_calls.load(std::sync::atomic::Ordering::Relaxed);
    catalogue.refresh().await.expect("read again");
    let s = catalogue.snapshot().expect("read");
    assert_eq!(s.clinics[0].card.phone.as_deref(), Some("+7 812 000-00-01"));
    let many = (0..CARD_FAILURES as i32 * 3)
        .map(|i| clinic(i + 10, 1, "Поликлиника"))
        .collect();
    let big = Arc::new(Hub {
        clinics: many,
        ..Hub::default()
    });
    *big.cards_down.lock().expect("not poisoned") = true;
    *big.card_down.lock().expect("not poisoned") = true;
    let catalogue = Catalogue::new("big", "Большой", big.clone());
    catalogue.refresh().await.expect("read without cards");
    assert_eq!(
        catalogue.snapshot().expect("read").clinics.len(),
        CARD_FAILURES * 3
    );
    let calls = big.card_calls.load(std::sync::atomic::Ordering::Relaxed);
    assert!(calls < CARD_FAILURES + CARDS_AT_ONCE, "{calls} calls");
    assert!(hub.card_calls.load(std::sync::atomic::Ordering::Relaxed) > asked);
}

#[tokio::test(start_paused = true)]
async fn the_catalogue_is_read_once_at_start_and_once_each_refresh() {
    let hub = hub();
    let catalogue = Arc::new(Catalogue::new("spb", "Санкт-Петербург", hub.clone()));
    let task = tokio::spawn(catalogue.clone().keep_fresh(Duration::from_secs(3_600)));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(catalogue.snapshot().is_some());
    // The districts once, each of the three districts' clinics once, every card once.
    assert_eq!(hub.calls(), [1, 3, 1]);
    tokio::time::sleep(Duration::from_secs(3_600)).await;
    assert_eq!(hub.calls(), [2, 6, 2], "once more an hour later");
    task.abort();
}

#[tokio::test(start_paused = true)]
async fn a_hub_down_at_start_is_asked_again_within_seconds_not_at_the_next_hour() {
    let hub = hub();
    *hub.down.lock().expect("not poisoned") = true;
    let catalogue = Arc::new(Catalogue::new("spb", "Санкт-Петербург", hub.clone()));
    let task = tokio::spawn(catalogue.clone().keep_fresh(Duration::from_secs(3_600)));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(catalogue.snapshot().is_none());
    *hub.down.lock().expect("not poisoned") = false;
    // Tried again after 5 s, then 10 s: read by 16 s, an hour before the next refresh.
    tokio::time::sleep(Duration::from_secs(16)).await;
    assert!(catalogue.snapshot().is_some(), "read again soon");
    task.abort();
}

#[tokio::test]
async fn a_flood_of_clinics_is_capped() {
    let clinics = (0..MAX_CLINICS as i32 + 500)
        .map(|i| clinic(i + 10, 1 + i % 3, "Поликлиника"))
        .collect();
    let catalogue = Catalogue::new(
        "big",
        "Большой",
        Arc::new(Hub {
            clinics,
            ..Hub::default()
        }),
    );
    catalogue.refresh().await.expect("read");
    assert_eq!(
        catalogue.snapshot().expect("read").clinics.len(),
        MAX_CLINICS
    );
}

/// The region `big` of `clinics`, read, each clinic's МИС a fake one; and how many guards
/// were made.
async fn served(
    clinics: Vec<RegionClinic>,
) -> (RegionClinics, Arc<std::sync::atomic::AtomicUsize>) {
    served_by(clinics, Arc::new(crate::fake::FakeMis::new())).await
}

/// [`served`], each clinic's МИС `mis`.
async fn served_by(
    clinics: Vec<RegionClinic>,
    mis: Arc<crate::fake::FakeMis>,
) -> (RegionClinics, Arc<std::sync::atomic::AtomicUsize>) {
    let hub = Arc::new(Hub {
        clinics,
        ..Hub::default()
    });
    let catalogue = Arc::new(Catalogue::new("big", "Большой", hub.clone()));
    catalogue.refresh().await.expect("read");
    let made = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = made.clone();
    let shared = gateway_state::alone();
    let caches = Caches::of(&Moka, &GuardConfig::default(), &shared, CACHE_BYTES);
    let make = move |c: &CatalogueClinic| {
        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        GuardedMis::new(
            mis.clone(),
            GuardConfig {
                clinic: c.id.clone(),
                ..GuardConfig::default()
            },
            caches.clone(),
            &shared,
        )
    };
    let region = RegionClinics::new(
        catalogue,
        hub,
        chrono_tz::Europe::Moscow,
        Duration::from_secs(1),
        Box::new(make),
        &Moka,
    );
    (region, made)
}

#[tokio::test]
async fn each_clinic_has_one_guard_and_a_flood_of_clinics_keeps_at_most_max_guards() {
    let clinics: Vec<RegionClinic> = (0..clinics::MAX_GUARDS as i32 + 500)
        .map(|i| clinic(i + 10, 1, "Поликлиника"))
        .collect();
    let (region, made) = served(clinics).await;
    let a = region.entry(10).expect("served");
    let b = region.entry(10).expect("served");
    assert!(
        Arc::ptr_eq(&a.mis, &b.mis),
        "one guard (one breaker) per clinic"
    );
    assert_eq!(a.info.id, "big-10");
    for lpu in 10..10 + clinics::MAX_GUARDS as i32 + 500 {
        region.entry(lpu).expect("served");
        assert!(region.guards() <= clinics::MAX_GUARDS);
    }
    assert!(made.load(std::sync::atomic::Ordering::Relaxed) > clinics::MAX_GUARDS);
}

#[tokio::test]
async fn a_region_s_clinic_ids_are_its_own_and_an_inactive_clinic_takes_no_booking() {
    let (region, _) = served(hub().clinics.clone()).await;
    for (id, lpu) in [
        ("big-1", Some(1)),
        ("big-12", Some(12)),
        ("big-", None),
        ("big-1a", None),
        ("bigger-1", None),
        ("big--1", None),
        ("spb-1", None),
    ] {
        assert_eq!(region.lpu_of(id), lpu, "{id}");
    }
    assert!(region.entry(1).is_ok());
    let inactive = region.entry(3).expect_err("clinic 3 is inactive");
    assert_eq!(inactive.code, vocabulary::ErrorCode::ClinicInactive);
    let absent = region.entry(99).expect_err("not in the catalogue");
    assert_eq!(absent.code, vocabulary::ErrorCode::NotFound);
}

#[tokio::test]
async fn the_nearest_tickets_pass_over_a_day_gone_by_and_need_no_nearest_date() {
    let now = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Moscow)
        .naive_local();
    let mis = Arc::new(crate::fake::FakeMis::new());
    // Today's one free ticket has passed: a МИС that counts days gives today as d1's
    // nearest date (and the specialty's).
    let passed = now - chrono::Duration::minutes(1);
    mis.add_ticket("d1-past", "d1", "1", passed);
    let (region, _) = served_by(hub().clinics.clone(), mis.clone()).await;
    let answer = across::nearest(&region, across::Scope::district(Some(1)), "Терапия", 5)
        .await
        .expect("an answer");
    assert!(!answer.items.is_empty(), "{answer:?}");
    assert!(
        answer
            .items
            .iter()
            .all(|s| s.slot.start.naive_local() > now),
        "{answer:?}"
    );
    assert_eq!(
        answer.items[0].slot.start.date_naive(),
        crate::fake::tomorrow(),
        "the next day with tickets ahead"
    );
    // No nearest date at all: the doctors' days are asked.
    mis.no_nearest
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let (region, _) = served_by(hub().clinics.clone(), mis).await;
    let answer = across::nearest(&region, across::Scope::district(Some(1)), "Терапия", 5)
        .await
        .expect("an answer");
    assert_eq!(answer.items.len(), 5, "{answer:?}");
}

#[test]
fn folding_lowers_case_yo_and_separators() {
    assert_eq!(fold("  Ёлки-Палки, «№ 5» "), "елки палки 5");
}
