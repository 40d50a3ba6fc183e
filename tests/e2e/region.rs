//! Region mode over the sandbox's region (three districts, seven clinics: one inactive, one
//! a branch, one slow past any deadline, one answering an `ErrorList`): the catalogue read
//! from the hub, searched, served with ETags, and kept while the hub is down; one
//! identification for every clinic; answers across clinics with the slow and the failing one
//! in `clinics_failed`.

use api_types::{Across, ClinicFailure, MyClinic, RegionSlot, RegionSpecialty, Ticket};
use registratura::config::RegionConfig;
use registratura_e2e::{
    Api, PATIENT_FOUND, PATIENT_FOUND_2, demo_clinic, expect_problem, gateway_config,
    start_gateway, start_sandbox,
};
use std::time::{Duration, Instant};

fn region(endpoint: &str, refresh_secs: u64) -> RegionConfig {
    RegionConfig {
        id: "msk".into(),
        name: "Москва".into(),
        endpoint: Some(format!("{endpoint}/HubService.svc")),
        guid: sandbox_mis::DEFAULT_GUID.into(),
        refresh_secs,
        connect_timeout_ms: 300,
        timeout_ms: 2_000,
        max_response_bytes: 1024 * 1024,
        attempt_timeout_ms: 1_000,
        deadline_ms: 1_000,
        across_deadline_ms: 1_500,
        breaker_threshold: 2,
        probe_interval_ms: 60_000,
        ..RegionConfig::default()
    }
}

/// Waits until the region's catalogue has been read (`503 mis_unavailable` before).
async fn districts_when_read(client: &reqwest::Client, base: &str) -> reqwest::Response {
    let started = Instant::now();
    loop {
        let r = client
            .get(format!("{base}/api/v1/regions/msk/districts"))
            .send()
            .await
            .expect("answers");
        if r.status() != 503 {
            return r;
        }
        expect_problem(r, 503, "mis_unavailable").await;
        assert!(started.elapsed() < Duration::from_secs(30), "never read");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_region_s_districts_and_clinics_are_read_from_the_hub_and_searched() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let mut config = gateway_config(vec![demo_clinic(&sandbox_url)]);
    config.regions = vec![region(&sandbox_url, 3_600)];
    let base = start_gateway(config).await;
    let client = reqwest::Client::new();
    let r = districts_when_read(&client, &base).await;
    assert_eq!(r.status(), 200);
    let etag = r.headers()["etag"].clone();
    let districts: api_types::List<api_types::District> = r.json().await.expect("JSON");
    assert_eq!(districts.items.len(), 3);
    assert_eq!(districts.items[0].name, sandbox_mis::seed::DISTRICT_NAME);
    let again = client
        .get(format!("{base}/api/v1/regions/msk/districts"))
        .header("if-none-match", etag)
        .send()
        .await
        .expect("answers");
    assert_eq!(again.status(), 304);

    let clinics = |query: &str| {
        let (client, base) = (client.clone(), base.clone());
        let query = query.to_owned();
        async move {
            client
                .get(format!("{base}/api/v1/regions/msk/clinics{query}"))
                .send()
                .await
                .expect("answers")
        }
    };
    let all: api_types::List<api_types::RegionClinic> =
        clinics("").await.json().await.expect("JSON");
    assert_eq!(all.items.len(), 7);
    let inactive: Vec<_> = all
        .items
        .iter()
        .filter(|c| !c.active)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(inactive, ["msk-4"]);
    let branches: Vec<_> = all
        .items
        .iter()
        .filter_map(|c| Some((c.id.as_str(), c.branch_of.as_deref()?)))
        .collect();
    assert_eq!(branches, [("msk-2", "msk-1")]);
    let c = &all.items[0];
    assert_eq!(c.id, format!("msk-{}", sandbox_mis::seed::LPU_ID));
    assert_eq!(c.name, sandbox_mis::seed::LPU_SHORT_NAME);
    assert_eq!(c.district, Some(sandbox_mis::seed::DISTRICT_ID));
    assert!(c.active);
    assert_eq!(c.address.as_deref(), Some(sandbox_mis::seed::LPU_ADDRESS));
    assert_eq!(c.phone.as_deref(), Some(sandbox_mis::seed::LPU_PHONE));
    assert_eq!(
        c.work_time.as_deref(),
        Some(sandbox_mis::seed::LPU_WORK_TIME)
    );
    for (query, found) in [
        (
            "?q=%D0%93%D0%9E%D0%A0%D0%9E%D0%94%D0%A1%D0%9A%D0%90%D0%AF",
            7,
        ), // ГОРОДСКАЯ
        (
            "?q=%D0%BF%D0%BE%D0%BB%D0%B8%D0%BA%D0%BB%D0%B8%D0%BD%D0%B8%D0%BA%D0%B0%201",
            2,
        ), // поликлиника 1: the clinic and its branch
        ("?q=%D0%B4%D0%B5%D1%82%D1%81%D0%BA%D0%B0%D1%8F", 1), // детская
        ("?q=%D1%91%D0%BB%D0%BA%D0%B0", 0),                   // ёлка
        ("?district=1", 2),
        ("?district=2", 2),
        ("?district=3", 3),
        ("?district=4", 0),
        ("?type=1&district=1", 2),
        ("?type=2", 1),
        ("?type=7", 0),
    ] {
        let list: api_types::List<api_types::RegionClinic> =
            clinics(query).await.json().await.expect("JSON");
        assert_eq!(list.items.len(), found, "{query}");
    }
    let p = expect_problem(clinics("?district=one").await, 422, "invalid_input").await;
    assert_eq!(p.errors[0].field, "district");
    let p = expect_problem(
        clinics(&format!("?q={}", "a".repeat(101))).await,
        422,
        "invalid_input",
    )
    .await;
    assert_eq!(p.errors[0].field, "q");
    let r = client
        .get(format!("{base}/api/v1/regions/nowhere/clinics"))
        .send()
        .await
        .expect("answers");
    expect_problem(r, 404, "not_found").await;
}

#[tokio::test]
async fn the_catalogue_is_kept_while_the_hub_is_down_and_unread_until_it_answers() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let switch = registratura_e2e::start_switch(sandbox_url.clone());
    switch.set_down(true);
    let mut config = gateway_config(vec![demo_clinic(&sandbox_url)]);
    // Read again every second (the configuration allows a minute at least).
    config.regions = vec![region(&switch.url, 1)];
    let base = start_gateway(config).await;
    let client = reqwest::Client::new();
    // Never read: the region's hub has not answered.
    let r = client
        .get(format!("{base}/api/v1/regions/msk/clinics"))
        .send()
        .await
        .expect("answers");
    expect_problem(r, 503, "mis_unavailable").await;
    switch.set_down(false);
    assert_eq!(districts_when_read(&client, &base).await.status(), 200);
    // Down again across several reads: what was read is still served.
    switch.set_down(true);
    let seen = switch.hits();
    let started = Instant::now();
    while switch.hits() < seen + 2 {
        assert!(started.elapsed() < Duration::from_secs(30), "read again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let list: api_types::List<api_types::RegionClinic> = client
        .get(format!("{base}/api/v1/regions/msk/clinics"))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(list.items.len(), 7, "kept");
    // Its clinics are still known; their calls go through the hub, which is down.
    let specialties = Api::for_clinic(&base, "msk-1").get("/specialties").await;
    expect_problem(specialties, 503, "mis_unavailable").await;
}

/// A gateway serving the demo clinic and the sandbox's region `msk`, read; its base URL and
/// the sandbox.
async fn region_gateway() -> (String, sandbox_mis::Sandbox) {
    let (sandbox, sandbox_url) = start_sandbox();
    let mut config = gateway_config(vec![demo_clinic(&sandbox_url)]);
    config.regions = vec![region(&sandbox_url, 3_600)];
    let base = start_gateway(config).await;
    let client = reqwest::Client::new();
    assert_eq!(districts_when_read(&client, &base).await.status(), 200);
    (base, sandbox)
}

/// Opens a region session of `patient`.
async fn region_login(base: &str, patient: (&str, &str, &str)) -> String {
    let url = format!("{base}/api/v1/regions/msk/sessions");
    let token = registratura_e2e::open_session(&reqwest::Client::new(), &url, patient).await;
    assert!(token.starts_with("r1."));
    token
}

async fn region_get(base: &str, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(format!("{base}/api/v1/regions/msk{path}"));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.expect("answers")
}

#[tokio::test]
async fn one_identification_books_in_two_clinics_of_different_districts() {
    let (base, sandbox) = region_gateway().await;
    let token = region_login(&base, PATIENT_FOUND).await;
    // Nothing of the identity in the token.
    for part in ["4510", "123456", "7700000000000001", "1980-05-17"] {
        assert!(!token.contains(part));
    }
    for (clinic, lpu) in [("msk-1", 1), ("msk-3", 3)] {
        let api = Api::for_clinic(&base, clinic);
        let (_, slot) = api.free_slot("Терапия").await;
        let r = api
            .book(&token, &slot.id, Some(&format!("key-{clinic}")))
            .await;
        assert_eq!(r.status(), 201, "{clinic}");
        let ticket: Ticket = r.json().await.expect("a ticket");
        assert_eq!(ticket.clinic.id, clinic);
        let mine = api.my_tickets(&token).await;
        assert!(mine.iter().any(|t| t.id == ticket.id), "{clinic}: {mine:?}");
        let held = sandbox.clinic_store(lpu).booked_slots().expect("reads");
        assert_eq!(
            held.len(),
            1,
            "{clinic}: the clinic's МИС holds one booking"
        );
    }
    // The other clinics' МИС hold none.
    for lpu in [2, 5] {
        assert!(
            sandbox
                .clinic_store(lpu)
                .booked_slots()
                .expect("reads")
                .is_empty()
        );
    }
    // A region's token is no session of a configured clinic, nor of another region.
    let r = Api::at(&base).get_private(&token, "/tickets").await;
    expect_problem(r, 401, "session_required").await;
    // Ended once, it ends in every clinic of the region.
    let r = reqwest::Client::new()
        .delete(format!("{base}/api/v1/regions/msk/sessions/current"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 204);
    for clinic in ["msk-1", "msk-3", "msk-5"] {
        let r = Api::for_clinic(&base, clinic)
            .get_private(&token, "/tickets")
            .await;
        expect_problem(r, 401, "session_required").await;
    }
    // A token altered by one character opens nothing.
    let mut forged = token.into_bytes();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).expect("ascii");
    let r = Api::for_clinic(&base, "msk-1")
        .get_private(&forged, "/tickets")
        .await;
    expect_problem(r, 401, "session_required").await;
}

#[tokio::test]
async fn a_patient_unknown_to_every_clinic_is_told_so_where_it_matters() {
    let (base, _sandbox) = region_gateway().await;
    let token = region_login(&base, ("4510 999999", "7700000000009999", "1980-05-17")).await;
    let r = Api::for_clinic(&base, "msk-1")
        .get_private(&token, "/tickets")
        .await;
    expect_problem(r, 404, "patient_not_found").await;
    // «My clinic» asks the districts' clinics: none that answered knows them.
    let r = region_get(&base, "/my-clinics?district=1", Some(&token)).await;
    expect_problem(r, 404, "patient_not_found").await;
    // Bad identity fields are refused at once, as for a clinic.
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/regions/msk/sessions"))
        .json(&serde_json::json!({"document_number": "", "policy_number": "1", "birth_date": "x"}))
        .send()
        .await
        .expect("answers");
    let p = expect_problem(r, 422, "invalid_input").await;
    assert_eq!(p.errors.len(), 3);
    let r = region_get(&base, "/my-clinics", None).await;
    expect_problem(r, 401, "session_required").await;
}

#[tokio::test]
async fn inactive_clinics_are_listed_and_not_bookable() {
    let (base, _sandbox) = region_gateway().await;
    let token = region_login(&base, PATIENT_FOUND).await;
    let api = Api::for_clinic(&base, "msk-4");
    expect_problem(api.get("/specialties").await, 409, "clinic_inactive").await;
    let r = api.book(&token, "AAAA", None).await;
    expect_problem(r, 409, "clinic_inactive").await;
    // A clinic the catalogue has not is not found.
    let r = Api::for_clinic(&base, "msk-99").get("/specialties").await;
    expect_problem(r, 404, "not_found").await;
}

/// The failed clinics of an answer, by id.
fn failed<T>(answer: &Across<T>) -> Vec<(&str, ClinicFailure)> {
    answer
        .clinics_failed
        .iter()
        .map(|f| (f.clinic.as_str(), f.code))
        .collect()
}

#[tokio::test]
async fn answers_across_clinics_come_by_the_deadline_without_the_slow_and_the_failing_clinic() {
    let (base, _sandbox) = region_gateway().await;
    // The slow clinic answers after 30 s: the answer does not wait for it.
    let started = Instant::now();
    let r = region_get(&base, "/specialties", None).await;
    assert_eq!(r.status(), 200);
    let took = started.elapsed();
    let answer: Across<RegionSpecialty> = r.json().await.expect("JSON");
    assert!(
        took < Duration::from_secs(20),
        "waited for the slow clinic: {took:?}"
    );
    assert_eq!(
        failed(&answer),
        [
            ("msk-6", ClinicFailure::MisTimeout),
            ("msk-7", ClinicFailure::MisBadResponse)
        ]
    );
    let therapy = answer
        .items
        .iter()
        .find(|s| s.name == "Терапия")
        .expect("merged by name");
    assert_eq!(therapy.clinics, ["msk-1", "msk-2", "msk-3", "msk-5"]);
    // Names are merged once: no specialty twice.
    let mut names: Vec<_> = answer.items.iter().map(|s| s.name.as_str()).collect();
    names.dedup();
    assert_eq!(names.len(), answer.items.len());
    // The nearest tickets of a district, the slow and the failing clinic left out.
    let r = region_get(
        &base,
        "/slots?specialty=%D1%82%D0%B5%D1%80%D0%B0%D0%BF%D0%B8%D1%8F&district=3&limit=5",
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    let nearest: Across<RegionSlot> = r.json().await.expect("JSON");
    assert!(!nearest.items.is_empty() && nearest.items.len() <= 5);
    assert!(
        nearest
            .items
            .iter()
            .all(|s| s.clinic.id == "msk-5" && s.slot.doctor.is_some())
    );
    assert!(
        nearest
            .items
            .windows(2)
            .all(|w| w[0].slot.start <= w[1].slot.start)
    );
    assert_eq!(failed(&nearest).len(), 2);
    // One of them is booked with a region token.
    let token = region_login(&base, PATIENT_FOUND).await;
    let api = Api::for_clinic(&base, "msk-5");
    let r = api.book(&token, &nearest.items[0].slot.id, None).await;
    assert_eq!(r.status(), 201);
    // The slow clinic's own breaker opened after its failures: it fails at once now.
    let r = region_get(&base, "/specialties?district=3", None).await;
    let again: Across<RegionSpecialty> = r.json().await.expect("JSON");
    assert!(
        failed(&again).contains(&("msk-6", ClinicFailure::MisUnavailable)),
        "{again:?}"
    );
    for bad in [
        "/slots",
        "/slots?specialty=x&limit=0",
        "/specialties?district=x",
    ] {
        expect_problem(region_get(&base, bad, None).await, 422, "invalid_input").await;
    }
    expect_problem(
        region_get(&base, "/specialties?district=9", None).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn my_clinic_lists_the_clinics_the_patient_is_attached_to() {
    let (base, _sandbox) = region_gateway().await;
    let token = region_login(&base, PATIENT_FOUND_2).await;
    let r = region_get(&base, "/my-clinics", Some(&token)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let mine: Across<MyClinic> = r.json().await.expect("JSON");
    let found: Vec<_> = mine
        .items
        .iter()
        .map(|m| {
            let areas: Vec<_> = m.areas.iter().map(|a| a.number.as_str()).collect();
            (m.clinic.id.as_str(), areas)
        })
        .collect();
    assert_eq!(found, [("msk-1", vec!["7", "2"]), ("msk-5", vec!["4"])]);
    assert_eq!(
        mine.items[0].clinic.phone.as_deref(),
        Some(sandbox_mis::seed::LPU_PHONE)
    );
    assert_eq!(failed(&mine).len(), 2, "the slow and the failing clinic");
}

#[tokio::test]
async fn a_region_s_page_downloads_the_build_with_the_region_s_screens() {
    use registratura::pages::widget::{CLINIC, REGION};
    let (base, _sandbox) = region_gateway().await;
    let html = reqwest::get(format!("{base}/widget/?region=msk"))
        .await
        .expect("answers")
        .text()
        .await
        .expect("text");
    for name in [REGION.boot, REGION.glue, REGION.wasm] {
        assert!(html.contains(&format!("assets/{name}")), "names {name}");
    }
    for name in [CLINIC.boot, CLINIC.glue, CLINIC.wasm] {
        assert!(
            !html.contains(name),
            "a region's page names the clinic's {name}"
        );
    }
}

#[tokio::test]
async fn answers_across_clinics_ask_only_the_clinics_a_query_names() {
    let (base, _sandbox) = region_gateway().await;
    // A patient's own clinics, as `my-clinics` lists them: only those are asked.
    let r = region_get(&base, "/specialties?clinics=msk-1,msk-5", None).await;
    assert_eq!(r.status(), 200);
    let answer: Across<RegionSpecialty> = r.json().await.expect("JSON");
    assert!(
        failed(&answer).is_empty(),
        "the slow and faulty ones not asked"
    );
    let therapy = answer
        .items
        .iter()
        .find(|s| s.name == "Терапия")
        .expect("in both");
    assert_eq!(therapy.clinics, ["msk-1", "msk-5"]);
    let r = region_get(
        &base,
        "/slots?specialty=%D0%A2%D0%B5%D1%80%D0%B0%D0%BF%D0%B8%D1%8F&clinics=msk-5&limit=3",
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    let nearest: Across<RegionSlot> = r.json().await.expect("JSON");
    assert!(!nearest.items.is_empty());
    assert!(nearest.items.iter().all(|s| s.clinic.id == "msk-5"));
    // With a district: those of them in it (msk-1 is not in the southern district).
    let r = region_get(&base, "/specialties?clinics=msk-1,msk-5&district=3", None).await;
    let answer: Across<RegionSpecialty> = r.json().await.expect("JSON");
    assert!(
        answer.items.iter().all(|s| s.clinics == ["msk-5"]),
        "{answer:?}"
    );
    // A clinic the region does not have, none, or too many.
    expect_problem(
        region_get(&base, "/specialties?clinics=msk-1,nowhere-9", None).await,
        404,
        "not_found",
    )
    .await;
    let many = (1..=21)
        .map(|i| format!("msk-{i}"))
        .collect::<Vec<_>>()
        .join(",");
    for bad in [
        "/specialties?clinics=".to_owned(),
        "/specialties?clinics=,,".to_owned(),
        format!("/specialties?clinics={many}"),
    ] {
        expect_problem(region_get(&base, &bad, None).await, 422, "invalid_input").await;
    }
}
