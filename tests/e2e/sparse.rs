//! Every legal МИС, not only ours: the sandbox answering as sparsely as the hub's contract
//! allows (every optional member left out or nil, but those the gateway needs), and without the
//! operations a МИС may not have (`GetLPUInfo`, `GetPatientsAreas`, `GetWorkingTime`). The
//! patient's whole path works against it — the clinic's flow, moving and cancelling, the
//! waiting list, referrals, a region's catalogue, its clinics and nearest tickets — never a
//! `502`, never an empty answer where the МИС has tickets; what the МИС did not say, the
//! gateway learns another way or does without. Every body on the wire still validates
//! against the contract's XSDs.

use api_types::{Across, Referral, RegionSlot, RegionSpecialty, Slot, Ticket};
use registratura::config::RegionConfig;
use registratura_e2e::{
    Api, PATIENT_FOUND, PATIENT_FOUND_2, REFERRAL_VALID, TestApp, gateway_config, open_session,
    spawn_app_with, start_gateway, start_recording_proxy, start_sandbox_with, validate_bodies,
};
use sandbox_mis::SandboxConfig;

/// A sandbox answering sparsely, without the operations a МИС may not have.
fn sparse() -> SandboxConfig {
    SandboxConfig {
        sparse: true,
        refuse_operations: ["GetLPUInfo", "GetPatientsAreas", "GetWorkingTime"]
            .map(str::to_owned)
            .to_vec(),
        ..SandboxConfig::default()
    }
}

/// Every body the recording proxy saw validates against the contract.
fn all_valid(app: &TestApp) {
    let exchanges = app.recording.lock().expect("not poisoned").clone();
    assert!(!exchanges.is_empty());
    if let Some(n) = validate_bodies(&exchanges) {
        eprintln!("validated {n} sparse SOAP bodies");
    }
    // Sparse indeed: the directory's answers carry neither counts nor nearest dates.
    let specialties = exchanges
        .iter()
        .find(|x| x.response.contains("GetSpesialityListResult"))
        .expect("the specialties were asked");
    assert!(!specialties.response.contains("CountFreeParticipantIE"));
    assert!(specialties.response.contains("NearestDate i:nil=\"true\""));
}

/// A free slot of the specialty `name` of the gateway's `api`, its doctor's days read from
/// the МИС (the sparse МИС gives no nearest date).
async fn slot_of(api: &Api, name: &str) -> Slot {
    let specialty = api
        .specialties()
        .await
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name} is listed"));
    assert_eq!(
        specialty.free_tickets, None,
        "the МИС does not say how many"
    );
    for doctor in api.doctors(&specialty.id).await {
        let dates: api_types::AvailableDates =
            api.get_json(&format!("/doctors/{}/dates", doctor.id)).await;
        for date in dates.dates {
            if let Some(slot) = api.slots(&doctor.id, date).await.into_iter().last() {
                assert_eq!(slot.end, None, "the МИС does not say when it ends");
                return slot;
            }
        }
    }
    panic!("no free slot of {name}")
}

#[tokio::test]
async fn a_patient_books_moves_and_cancels_at_a_clinic_whose_mis_answers_sparsely() {
    let app = spawn_app_with(sparse()).await;
    let specialties = app.specialties().await;
    assert!(specialties.len() > 3, "{specialties:?}");
    let slot = slot_of(&app, "Терапия").await;
    let token = app.login(PATIENT_FOUND).await;
    let r = app.book(&token, &slot.id, Some("sparse-1")).await;
    assert_eq!(r.status(), 201);
    let ticket: Ticket = r.json().await.expect("a ticket");
    assert_eq!(ticket.start, slot.start);
    let mine = app.my_tickets(&token).await;
    assert!(mine.iter().any(|t| t.id == ticket.id), "{mine:?}");
    // Moved to another time of the same doctor, then cancelled.
    let doctor = ticket.doctor.id.clone();
    let day = slot.start.date_naive();
    let other = app
        .slots(&doctor, day)
        .await
        .into_iter()
        .find(|s| s.id != slot.id)
        .expect("another time");
    let r = app.reschedule(&token, &ticket.id, &other.id, None).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let mine = app.my_tickets(&token).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(app.cancel(&token, &mine[0].id).await.status(), 204);
    assert!(app.my_tickets(&token).await.is_empty());
    all_valid(&app);
}

#[tokio::test]
async fn the_waiting_list_and_a_referral_work_with_a_sparse_mis() {
    let app = spawn_app_with(sparse()).await;
    let token = app.login(PATIENT_FOUND).await;
    let all = app.all_specialties().await;
    let full = all
        .iter()
        .find(|s| s.name == registratura_e2e::FULL_SPECIALTY)
        .expect("listed");
    let body = serde_json::json!({"specialty_id": full.id, "phone": "+7 916 123-45-67"});
    let r = app.join_waiting_list(&token, &body).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let listed = app.waiting_list(&token).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].created_at, None, "the МИС does not say when");
    let r = app.leave_waiting_list(&token, &listed[0].id).await;
    assert_eq!(r.status(), 204);
    // The referral: its patient and its doctor are what the МИС must say; the rest is shown
    // where it says it.
    let r = app
        .get_private(&token, &format!("/referrals/{REFERRAL_VALID}"))
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let referral: Referral = r.json().await.expect("a referral");
    assert!(!referral.doctors.is_empty());
    let slots: api_types::List<Slot> = app
        .get_private(&token, &format!("/referrals/{REFERRAL_VALID}/slots"))
        .await
        .json()
        .await
        .expect("its times");
    let slot = slots.items.first().expect("a time");
    let r = app.book_by_referral(&token, &slot.id, REFERRAL_VALID).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    all_valid(&app);
}

/// A region `msk` of the sparse sandbox at `hub`.
fn region(hub: &str) -> RegionConfig {
    RegionConfig {
        id: "msk".into(),
        name: "Москва".into(),
        endpoint: Some(format!("{hub}/HubService.svc")),
        guid: sandbox_mis::DEFAULT_GUID.into(),
        attempt_timeout_ms: 1_000,
        deadline_ms: 1_000,
        across_deadline_ms: 2_000,
        ..RegionConfig::default()
    }
}

#[tokio::test]
async fn a_region_of_sparse_mis_is_listed_searched_and_its_nearest_tickets_found() {
    let (_sandbox, hub) = start_sandbox_with(sparse());
    let (proxy, recording) = start_recording_proxy(hub);
    let mut config = gateway_config(Vec::new());
    config.regions = vec![region(&proxy)];
    let base = start_gateway(config).await;
    let client = reqwest::Client::new();
    // The hub refuses the cards: the catalogue is served without them.
    let started = std::time::Instant::now();
    let clinics = loop {
        let r = client
            .get(format!("{base}/api/v1/regions/msk/clinics"))
            .send()
            .await
            .expect("answers");
        if r.status() == 200 {
            break r
                .json::<api_types::List<api_types::RegionClinic>>()
                .await
                .expect("JSON");
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "never read"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(clinics.items.len(), 7);
    assert!(
        clinics.items.iter().all(|c| c.address.is_none()),
        "no cards"
    );
    // Districts without names are named by their number.
    let districts: api_types::List<api_types::District> = client
        .get(format!("{base}/api/v1/regions/msk/districts"))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(districts.items.len(), 3);
    // Specialties across the clinics, and the nearest tickets, though no МИС says a nearest
    // date.
    let specialties: Across<RegionSpecialty> = client
        .get(format!("{base}/api/v1/regions/msk/specialties?district=1"))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    let therapy = specialties
        .items
        .iter()
        .find(|s| s.name == "Терапия")
        .expect("merged");
    assert_eq!(therapy.free_tickets, None);
    let r = client
        .get(format!(
            "{base}/api/v1/regions/msk/slots?specialty=%D0%A2%D0%B5%D1%80%D0%B0%D0%BF%D0%B8%D1%8F&district=1"
        ))
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 200);
    let nearest: Across<RegionSlot> = r.json().await.expect("JSON");
    assert!(!nearest.items.is_empty(), "{nearest:?}");
    assert!(nearest.clinics_failed.is_empty(), "{nearest:?}");
    // «My clinic»: the hub has no areas; the clinics that know the patient cannot say their
    // area, and the answer lists them as failed rather than saying the patient is attached
    // nowhere.
    let token = open_session(
        &client,
        &format!("{base}/api/v1/regions/msk/sessions"),
        PATIENT_FOUND_2,
    )
    .await;
    let r = client
        .get(format!("{base}/api/v1/regions/msk/my-clinics?district=1"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 200);
    let mine: Across<api_types::MyClinic> = r.json().await.expect("JSON");
    assert!(mine.items.is_empty());
    let failed: Vec<_> = mine.clinics_failed.iter().map(|f| f.code).collect();
    assert_eq!(
        failed,
        [api_types::ClinicFailure::MisBadResponse; 2],
        "{mine:?}"
    );
    // One of the nearest tickets booked with the region's session.
    let first = &nearest.items[0];
    let api = Api::for_clinic(&base, &first.clinic.id);
    let r = api
        .book(&token, &first.slot.id, Some("sparse-region"))
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let exchanges = recording.lock().expect("not poisoned").clone();
    if let Some(n) = validate_bodies(&exchanges) {
        eprintln!("validated {n} sparse SOAP bodies of the region");
    }
}

#[test]
fn the_readme_names_every_member_the_gateway_needs_from_a_hub() {
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"),
    )
    .expect("the README");
    let table = readme
        .split_once("### What the gateway needs from a МИС")
        .map(|(_, rest)| rest)
        .expect("the README's section");
    for (record, member) in mis_hub::needs::NEEDED {
        assert!(
            table.contains(&format!("`{member}`")),
            "the README's table does not name {record}.{member}"
        );
    }
}
