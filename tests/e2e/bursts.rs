//! One patient's requests arriving at once never beat a rule that spans two МИС calls: the
//! waiting list's cap and its one request per specialty, a referral's one visit, a ticket's
//! one move. The same checks run on one gateway here and on two gateways sharing Redis in
//! `redis.rs`.

use futures_util::future::join_all;
use registratura_e2e::{PATIENT_FOUND, REFERRAL_VALID, TestApp, spawn_app};
use std::collections::BTreeMap;

/// How many answers of each status a burst got.
async fn statuses(answers: Vec<reqwest::Response>) -> BTreeMap<u16, usize> {
    let mut counts = BTreeMap::new();
    for r in answers {
        *counts.entry(r.status().as_u16()).or_default() += 1;
    }
    counts
}

/// The gateway of the `i`-th request of a burst: the two take turns.
fn gateway(apps: [&TestApp; 2], i: usize) -> &TestApp {
    apps[i % 2]
}

/// A burst of waiting-list requests of one patient: for eight (and then sixteen) different
/// specialties at once, five are held; sixteen copies of one specialty, one.
pub async fn waiting_list_caps_hold(apps: [&TestApp; 2], token: &str) {
    let specialties = apps[0].all_specialties().await;
    assert!(
        specialties.len() >= 8,
        "the demo clinic has enough specialties"
    );
    let burst = join_all(specialties.iter().take(8).enumerate().map(|(i, s)| {
        let body = serde_json::json!({"specialty_id": s.id, "phone": "+7 916 123-45-67"});
        async move { gateway(apps, i).join_waiting_list(token, &body).await }
    }))
    .await;
    let counts = statuses(burst).await;
    assert_eq!(counts.get(&201), Some(&5), "{counts:?}");
    assert_eq!(counts.get(&409), Some(&3), "{counts:?}");
    assert_eq!(apps[1].waiting_list(token).await.len(), 5);
    for request in apps[0].waiting_list(token).await {
        let r = apps[0].leave_waiting_list(token, &request.id).await;
        assert_eq!(r.status(), 204);
    }
    let one = &specialties[0].id;
    let burst = join_all((0..16).map(|i| {
        let body = serde_json::json!({"specialty_id": one, "phone": "+7 916 123-45-67"});
        async move { gateway(apps, i).join_waiting_list(token, &body).await }
    }))
    .await;
    let counts = statuses(burst).await;
    assert_eq!(counts.get(&201), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&409), Some(&15), "{counts:?}");
    let held = apps[0].waiting_list(token).await;
    assert_eq!(held.len(), 1);
    assert_eq!(
        apps[0]
            .leave_waiting_list(token, &held[0].id)
            .await
            .status(),
        204
    );
}

/// A burst of moves of one ticket to eight other times: one moves it, the others find it
/// gone; the МИС holds the patient's one ticket of the specialty, at one of those times.
pub async fn a_ticket_moves_once(apps: [&TestApp; 2], token: &str) {
    let (doctor, slot) = apps[0].free_slot("Терапия").await;
    let booked: api_types::Ticket = apps[0]
        .book(token, &slot.id, None)
        .await
        .json()
        .await
        .expect("a ticket");
    let others: Vec<api_types::Slot> = apps[0]
        .slots(&doctor.id, slot.start.date_naive())
        .await
        .into_iter()
        .filter(|s| s.id != slot.id)
        .take(8)
        .collect();
    assert!(others.len() >= 4, "free times to move to");
    let burst = join_all(others.iter().enumerate().map(|(i, s)| {
        let (ticket, slot) = (booked.id.clone(), s.id.clone());
        async move {
            gateway(apps, i)
                .reschedule(token, &ticket, &slot, None)
                .await
        }
    }))
    .await;
    let counts = statuses(burst).await;
    assert_eq!(counts.get(&201), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&404), Some(&(others.len() - 1)), "{counts:?}");
    let held: Vec<api_types::Ticket> = apps[1]
        .my_tickets(token)
        .await
        .into_iter()
        .filter(|t| t.specialty.name == "Терапия")
        .collect();
    assert_eq!(held.len(), 1, "{held:?}");
    assert!(others.iter().any(|s| s.start == held[0].start));
    assert_eq!(apps[0].cancel(token, &held[0].id).await.status(), 204);
}

/// A burst of bookings by one referral at eight of its times: one visit is booked by it, the
/// others are refused as `referral_used`.
pub async fn a_referral_books_once(apps: [&TestApp; 2], token: &str) {
    let slots: api_types::List<api_types::Slot> = apps[0]
        .get_private(token, &format!("/referrals/{REFERRAL_VALID}/slots"))
        .await
        .json()
        .await
        .expect("the referral's times");
    let times: Vec<&api_types::Slot> = slots.items.iter().take(8).collect();
    assert!(times.len() >= 4, "the referral has times");
    let burst = join_all(times.iter().enumerate().map(|(i, s)| {
        let slot = s.id.clone();
        async move {
            gateway(apps, i)
                .book_by_referral(token, &slot, REFERRAL_VALID)
                .await
        }
    }))
    .await;
    let counts = statuses(burst).await;
    assert_eq!(counts.get(&201), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&409), Some(&(times.len() - 1)), "{counts:?}");
    let by_referral: Vec<api_types::Ticket> = apps[1]
        .my_tickets(token)
        .await
        .into_iter()
        .filter(|t| t.referral.as_deref() == Some(REFERRAL_VALID))
        .collect();
    assert_eq!(by_referral.len(), 1, "{by_referral:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_one_patient_s_requests_beats_no_cap_on_one_gateway() {
    let app = spawn_app().await;
    let token = app.login(PATIENT_FOUND).await;
    waiting_list_caps_hold([&app, &app], &token).await;
    a_ticket_moves_once([&app, &app], &token).await;
    a_referral_books_once([&app, &app], &token).await;
}
