//! Region mode over the sandbox's region: the catalogue read from the hub, searched, served
//! with ETags, and kept while the hub is down.

use registratura::config::RegionConfig;
use registratura_e2e::{demo_clinic, expect_problem, gateway_config, start_gateway, start_sandbox};
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
    assert_eq!(districts.items.len(), 1);
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
    assert_eq!(all.items.len(), 1);
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
            1,
        ), // ГОРОДСКАЯ
        (
            "?q=%D0%BF%D0%BE%D0%BB%D0%B8%D0%BA%D0%BB%D0%B8%D0%BD%D0%B8%D0%BA%D0%B0%201",
            1,
        ), // поликлиника 1
        ("?q=%D1%91%D0%BB%D0%BA%D0%B0", 0), // ёлка
        ("?district=1", 1),
        ("?district=2", 0),
        ("?type=1&district=1", 1),
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
    assert_eq!(list.items.len(), 1, "kept");
}
