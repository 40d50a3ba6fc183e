//! A region at its real size, under hostile clients: a hub that lists 10 000 clinics (the
//! sandbox's region made that large, its made-up clinics served by the seed's), and clients
//! that send what the routes do not know, flood the gateway with distinct queries, burst at
//! one slow clinic, ask across the region with made-up identities, or send garbage. What each
//! may cost is bounded — the gateway's memory, the hub calls of one answer and of one client,
//! the places at other clinics, the log, the metrics — and where the truth cannot be read the
//! answer says so (`503` with `Retry-After`), never an empty list or `slot_taken`.

use api_types::{Across, ClinicFailure, MyClinic, RegionSpecialty, Ticket};
use registratura::config::{Config, RegionConfig};
use registratura_e2e::{
    Api, FaultProxy, GatewayProcess, MisFault, PATIENT_FOUND, PATIENT_FOUND_2, demo_clinic,
    expect_problem, gateway_config, get_each, metric, metrics_text, open_session,
    region_gateway_toml, start_fault_proxy, start_gateway, start_sandbox, start_sandbox_with,
};
use sandbox_mis::SandboxConfig;
use std::time::{Duration, Instant};

/// The clinics a real region's hub lists (the README's stated capacity).
const CLINICS: usize = 10_000;

/// A sandbox whose region lists [`CLINICS`] clinics; its base URL.
fn big_sandbox() -> (sandbox_mis::Sandbox, String) {
    start_sandbox_with(SandboxConfig {
        region_clinics: CLINICS,
        ..SandboxConfig::default()
    })
}

/// A region `id` of the hub at `hub`, read once an hour, each clinic asked within a second.
fn region(id: &str, hub: &str) -> RegionConfig {
    RegionConfig {
        id: id.into(),
        name: "Большой регион".into(),
        endpoint: Some(format!("{hub}/HubService.svc")),
        guid: sandbox_mis::DEFAULT_GUID.into(),
        refresh_secs: 3_600,
        attempt_timeout_ms: 1_000,
        deadline_ms: 1_000,
        across_deadline_ms: 2_000,
        breaker_threshold: 3,
        probe_interval_ms: 60_000,
        ..RegionConfig::default()
    }
}

/// Waits until `region`'s catalogue has been read at `base` (`503` before); its districts'
/// answer.
async fn when_read(base: &str, region: &str) -> reqwest::Response {
    let started = Instant::now();
    loop {
        let r = reqwest::get(format!("{base}/api/v1/regions/{region}/districts"))
            .await
            .expect("answers");
        if r.status() != 503 {
            return r;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the catalogue was never read"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Raised limits for a client of the tests.
const HIGH_LIMITS: &str = "read_per_minute = 6000000\nread_burst = 100000\nacross_per_minute = 600000\nacross_burst = 10000\nidentify_per_minute = 60000\nidentify_burst = 1000\nwrite_per_minute = 60000\nwrite_burst = 1000";

#[tokio::test]
async fn a_region_of_ten_thousand_clinics_is_read_listed_searched_and_booked() {
    let (sandbox, hub) = big_sandbox();
    let proxy = start_fault_proxy(hub).await;
    let mut config = gateway_config(Vec::new());
    config.regions = vec![region("big", &proxy.url)];
    let base = start_gateway(config).await;
    assert_eq!(when_read(&base, "big").await.status(), 200);
    // The clinics are served as soon as their lists are read; the cards (one answer of
    // 10 000, some megabytes) come after.
    let started = Instant::now();
    loop {
        let all: api_types::List<api_types::RegionClinic> =
            reqwest::get(format!("{base}/api/v1/regions/big/clinics"))
                .await
                .expect("answers")
                .json()
                .await
                .expect("JSON");
        assert_eq!(all.items.len(), CLINICS, "every clinic listed");
        let card = all
            .items
            .iter()
            .find(|c| c.id == "big-5123")
            .expect("a made-up clinic");
        if card.address.is_some() && card.phone.is_some() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the cards were never read: {card:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Read once: the districts, each district's clinics, and every card in one answer (some
    // megabytes: within the reader's bounds, which grow with the answer's size).
    assert_eq!(proxy.count("GetDistrictList"), 1);
    assert_eq!(
        proxy.count("GetLPUList"),
        23,
        "3 districts of the seed, 20 made up"
    );
    assert_eq!(proxy.count("GetLPUInfo"), 1, "every card in one answer");
    let found: api_types::List<api_types::RegionClinic> = reqwest::get(format!(
        "{base}/api/v1/regions/big/clinics?q=%D0%BF%D0%BE%D0%BB%D0%B8%D0%BA%D0%BB%D0%B8%D0%BD%D0%B8%D0%BA%D0%B0%205123"
    ))
    .await
    .expect("answers")
    .json()
    .await
    .expect("JSON");
    let ids: Vec<_> = found.items.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["big-5123"], "«поликлиника 5123»");
    // Booked in a made-up clinic, with one identification for the region.
    let token = open_session(
        &reqwest::Client::new(),
        &format!("{base}/api/v1/regions/big/sessions"),
        PATIENT_FOUND,
    )
    .await;
    let api = Api::for_clinic(&base, "big-5123");
    let (_, slot) = api.free_slot("Терапия").await;
    let r = api.book(&token, &slot.id, Some("scale-book")).await;
    assert_eq!(r.status(), 201);
    let ticket: Ticket = r.json().await.expect("a ticket");
    assert_eq!(ticket.clinic.id, "big-5123");
    let served_by = sandbox_mis::RegionSeed::of_size(CLINICS)
        .served_by(5123)
        .expect("made up");
    let held = sandbox
        .clinic_store(served_by)
        .booked_slots()
        .expect("reads");
    assert_eq!(held.len(), 1, "the clinic's МИС holds the booking");
    // A gateway of a region alone serves no demo clinic.
    let clinics: api_types::List<api_types::Clinic> =
        reqwest::get(format!("{base}/api/v1/clinics"))
            .await
            .expect("answers")
            .json()
            .await
            .expect("JSON");
    assert!(clinics.items.is_empty(), "{:?}", clinics.items);
}

#[tokio::test]
async fn a_gateway_of_regions_alone_runs_no_sandbox_nor_demo_and_is_ready_once_read() {
    let (_sandbox, hub) = start_sandbox();
    let switch = registratura_e2e::start_switch(hub);
    switch.set_down(true);
    let mut config = gateway_config(Vec::new());
    config.regions = vec![region("msk", &switch.url)];
    config.sandbox.listen = "127.0.0.1:0".into();
    config.demo.listen = "127.0.0.1:0".into();
    let app = registratura::Application::build(config)
        .await
        .expect("the gateway starts");
    assert!(app.sandbox().is_none(), "no sandbox beside a real region");
    assert!(app.demo_addr().is_none(), "no demo site");
    let base = format!("http://{}", app.addr());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let ready = |client: reqwest::Client, base: String| async move {
        let r = client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .expect("answers");
        let status = r.status().as_u16();
        (status, r.json::<serde_json::Value>().await.expect("JSON"))
    };
    // Never read: not ready, and the operator is told which region.
    let (status, body) = ready(client.clone(), base.clone()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["regions"][0]["catalogue_read"], false, "{body}");
    // The widget's page may be framed by the gateway itself only: nobody wrote otherwise.
    let widget = client
        .get(format!("{base}/widget/?clinic=msk-1"))
        .send()
        .await
        .expect("answers");
    let csp = widget.headers()["content-security-policy"]
        .to_str()
        .expect("text")
        .to_owned();
    assert!(csp.contains("frame-ancestors 'self'"), "{csp}");
    assert!(!csp.contains('*'), "{csp}");
    switch.set_down(false);
    let started = Instant::now();
    loop {
        let (status, body) = ready(client.clone(), base.clone()).await;
        if status == 200 {
            assert_eq!(body["regions"][0]["catalogue_read"], true, "{body}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never ready: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_sandbox_default_frames_its_widget_for_its_demo_site_only() {
    let mut config = Config::sandbox_default();
    config.server.listen = "127.0.0.1:0".into();
    config.sandbox.listen = "127.0.0.1:0".into();
    config.sandbox.database = ":memory:".into();
    config.demo.listen = "127.0.0.1:0".into();
    let app = registratura::Application::build(config)
        .await
        .expect("the gateway starts");
    let demo = app.demo_addr().expect("the demo site runs");
    let base = format!("http://{}", app.addr());
    tokio::spawn(app.run_until_stopped());
    let widget = reqwest::get(format!("{base}/widget/?clinic=demo"))
        .await
        .expect("answers");
    let csp = widget.headers()["content-security-policy"]
        .to_str()
        .expect("text")
        .to_owned();
    assert!(
        csp.contains(&format!("frame-ancestors 'self' http://{demo}")),
        "{csp}"
    );
    assert!(!csp.contains('*'), "{csp}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bursts_at_one_slow_region_clinic_never_refuse_a_booking_at_the_demo_clinic() {
    // The gateway as `cargo run --release` starts it: the demo clinic and the sandbox's
    // region, whose clinic № 6 answers after 30 s; the clients' limits as they are.
    let mut config = Config::sandbox_default();
    config.server.listen = "127.0.0.1:0".into();
    config.server.identify_min_ms = 0;
    config.sandbox.listen = "127.0.0.1:0".into();
    config.sandbox.database = ":memory:".into();
    config.demo.enabled = false;
    let app = registratura::Application::build(config)
        .await
        .expect("the gateway starts");
    let base = format!("http://{}", app.addr());
    tokio::spawn(app.run_until_stopped());
    when_read(&base, "sandbox").await;
    let demo = Api::at(&base);
    let token = demo.login(PATIENT_FOUND).await;
    let (doctor, _) = demo.free_slot("Терапия").await;
    let bursts = {
        let base = base.clone();
        async move {
            let mut refused = 0;
            for burst in 0..5 {
                // Uncached: each asks another range of the slow clinic's doctor.
                let paths = (0..100)
                    .map(|i| {
                        let day = clinic_day(burst * 100 + i);
                        format!(
                            "/api/v1/clinics/sandbox-6/doctors/{}/dates?from={day}&to={day}",
                            doctor.id
                        )
                    })
                    .collect();
                let statuses = get_each(&base, paths, 100).await;
                refused += statuses.iter().filter(|s| **s == 503).count();
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            refused
        }
    };
    let bookings = async {
        let mut answers = Vec::new();
        for i in 0..16 {
            let (_, slot) = demo.free_slot("Терапия").await;
            let r = demo
                .book(&token, &slot.id, Some(&format!("burst-{i}")))
                .await;
            let status = r.status().as_u16();
            answers.push(status);
            if status == 201 {
                let ticket: Ticket = r.json().await.expect("a ticket");
                assert_eq!(demo.cancel(&token, &ticket.id).await.status(), 204);
            }
            // Within the client's limit of writes (20 at once, one a second).
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        answers
    };
    let (refused_reads, answers) = tokio::join!(bursts, bookings);
    assert!(
        refused_reads > 0,
        "the bursts met the slow clinic's own bound"
    );
    assert!(
        answers.iter().all(|s| *s == 201),
        "every booking at the demo clinic booked: {answers:?}"
    );
}

/// A day within the window a dates query may name, `n` days after today.
fn clinic_day(n: usize) -> chrono::NaiveDate {
    registratura_e2e::clinic_today() + chrono::Days::new((n % 300) as u64)
}

/// A gateway of the sandbox's seven-clinic region `msk` behind a [`FaultProxy`], with every
/// bound on calls in flight as `bounds` says (`max_in_flight`, `region_max_in_flight`, the
/// gateway's), nobody waiting for a place when `queue` is 0.
async fn bounded_region(
    bounds: (usize, usize, usize),
    queue: Option<usize>,
) -> (String, FaultProxy) {
    let (_sandbox, hub) = start_sandbox_with(SandboxConfig {
        slow_clinic: Duration::from_secs(3),
        ..SandboxConfig::default()
    });
    // The sandbox lives as long as its server task; the proxy in front counts the calls.
    let proxy = start_fault_proxy(hub).await;
    let mut config = gateway_config(Vec::new());
    let mut msk = region("msk", &proxy.url);
    msk.max_in_flight = bounds.0;
    msk.region_max_in_flight = bounds.1;
    msk.deadline_ms = 4_000;
    msk.attempt_timeout_ms = 4_000;
    msk.across_deadline_ms = 5_000;
    config.regions = vec![msk];
    config.server.max_in_flight = Some(bounds.2);
    config.server.max_queued = queue;
    let base = start_gateway(config).await;
    when_read(&base, "msk").await;
    (base, proxy)
}

#[tokio::test]
async fn an_answer_across_clinics_takes_a_place_at_each_clinic_and_its_areas_go_through_the_guard()
{
    let (base, proxy) = bounded_region((1, 1, 1), None).await;
    let client = reqwest::Client::new();
    let token = open_session(
        &client,
        &format!("{base}/api/v1/regions/msk/sessions"),
        PATIENT_FOUND_2,
    )
    .await;
    let mine = |district: u32| {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        async move {
            client
                .get(format!(
                    "{base}/api/v1/regions/msk/my-clinics?district={district}"
                ))
                .bearer_auth(token)
                .send()
                .await
                .expect("answers")
        }
    };
    proxy.reset_peak();
    let r = mine(1).await;
    assert_eq!(r.status(), 200);
    let answer: Across<MyClinic> = r.json().await.expect("JSON");
    assert_eq!(answer.items.len(), 1, "{answer:?}");
    assert_eq!(answer.items[0].clinic.id, "msk-1");
    // Two clinics asked, each a call to find the patient and one for the areas: never more
    // than the region's one place at once.
    assert_eq!(proxy.peak_in_flight(), 1, "calls at once");
    let (checked, areas) = (proxy.count("CheckPatient"), proxy.count("GetPatientsAreas"));
    assert_eq!(
        (checked, areas),
        (2, 2),
        "the patient found in each clinic, and its areas"
    );
    // Asked again: the patient's clinics and areas are kept, the hub is not asked.
    assert_eq!(mine(1).await.status(), 200);
    assert_eq!(
        (proxy.count("CheckPatient"), proxy.count("GetPatientsAreas")),
        (checked, areas)
    );
    // The areas' calls are counted as every МИС call is, under the region's name.
    let metrics = metrics_text(&client, &base).await;
    assert!(
        metric(
            &metrics,
            r#"registratura_mis_calls_total{clinic="msk",operation="areas",outcome="ok"}"#
        ) >= 1.0,
        "{metrics}"
    );
}

#[tokio::test]
async fn my_clinics_whose_clinics_could_not_be_asked_is_503_overloaded_not_an_empty_list() {
    // One place for the whole region, nobody waits for it.
    let (base, _proxy) = bounded_region((1, 1, 8), Some(0)).await;
    let client = reqwest::Client::new();
    let token = open_session(
        &client,
        &format!("{base}/api/v1/regions/msk/sessions"),
        PATIENT_FOUND_2,
    )
    .await;
    // The slow clinic (3 s) holds the region's one place.
    let holder = {
        let (client, base) = (client.clone(), base.clone());
        tokio::spawn(async move {
            client
                .get(format!("{base}/api/v1/clinics/msk-6/specialties"))
                .send()
                .await
                .expect("answers")
                .status()
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = client
        .get(format!("{base}/api/v1/regions/msk/my-clinics"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    assert!(r.headers().contains_key("retry-after"), "{:?}", r.headers());
    expect_problem(r, 503, "overloaded").await;
    // The same for the other answers across clinics (of a district without the slow clinic,
    // whose specialties the holder is reading, and another request would share).
    let r = client
        .get(format!("{base}/api/v1/regions/msk/specialties?district=1"))
        .send()
        .await
        .expect("answers");
    expect_problem(r, 503, "overloaded").await;
    assert_eq!(holder.await.expect("ends"), 200);
    // The place free again, the answer comes.
    let r = client
        .get(format!("{base}/api/v1/regions/msk/my-clinics?district=1"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn an_answer_across_clinics_costs_at_most_its_budget_and_a_client_at_most_its_rate() {
    let (_sandbox, hub) = big_sandbox();
    let proxy = start_fault_proxy(hub).await;
    // The clients' limits as the gateway's defaults are, but for a burst of answers across
    // clinics large enough for the cases before the flood.
    let mut config = gateway_config(Vec::new());
    config.rate_limit = gateway_domain::limits::RateLimitConfig {
        across_burst: 20,
        ..gateway_domain::limits::RateLimitConfig::default()
    };
    config.regions = vec![region("big", &proxy.url)];
    let base = start_gateway(config).await;
    when_read(&base, "big").await;
    let budget = gateway_domain::region::clinics::DEFAULT_MAX_CALLS as usize;
    let client = reqwest::Client::new();
    let specialties = |query: &'static str| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            client
                .get(format!("{base}/api/v1/regions/big/specialties{query}"))
                .send()
                .await
                .expect("answers")
        }
    };
    // A district of 500 clinics: one answer makes at most its budget of calls, and says which
    // clinics it could not afford; the next goes further.
    let calls = || proxy.count("GetSpesialityList");
    let r = specialties("?district=100").await;
    assert_eq!(r.status(), 200);
    let first: Across<RegionSpecialty> = r.json().await.expect("JSON");
    assert!(calls() <= budget, "{} calls for one answer", calls());
    let not_asked = |a: &Across<RegionSpecialty>| {
        a.clinics_failed
            .iter()
            .filter(|f| f.code == ClinicFailure::Overloaded)
            .count()
    };
    assert!(
        not_asked(&first) > 0,
        "the clinics past the budget are named"
    );
    let r = specialties("?district=100").await;
    let second: Across<RegionSpecialty> = r.json().await.expect("JSON");
    assert!(calls() <= 2 * budget);
    assert!(
        not_asked(&second) < not_asked(&first),
        "the next answer went further"
    );
    // A failing clinic is asked once in a while, not once a request: district 3 has the
    // slow clinic (№ 6) and the failing one (№ 7).
    let before = calls();
    for _ in 0..5 {
        assert_eq!(specialties("?district=3").await.status(), 200);
    }
    assert!(
        calls() - before <= 3,
        "{} calls for 5 answers",
        calls() - before
    );
    // Made-up identities: each session costs one `CheckPatient` a clinic, once.
    let mut tokens = Vec::new();
    for i in 0..3 {
        let made_up = (
            format!("4510 99000{i}"),
            format!("770000000000990{i}"),
            "1980-05-17".to_owned(),
        );
        tokens.push(
            open_session(
                &client,
                &format!("{base}/api/v1/regions/big/sessions"),
                (&made_up.0, &made_up.1, &made_up.2),
            )
            .await,
        );
    }
    let before = proxy.count("CheckPatient");
    for token in tokens.iter().chain(&tokens) {
        let r = client
            .get(format!("{base}/api/v1/regions/big/my-clinics?district=1"))
            .bearer_auth(token)
            .send()
            .await
            .expect("answers");
        expect_problem(r, 404, "patient_not_found").await;
    }
    // District 1 has two clinics: three sessions asked there twice make six calls, not 12.
    assert_eq!(proxy.count("CheckPatient") - before, 6);
    // One client, 200 answers across the region in a few seconds: its limit of answers
    // across clinics (30 a minute, 10 at once) bounds what it costs the hub.
    let before = calls();
    let started = Instant::now();
    let statuses = get_each(
        &base,
        vec!["/api/v1/regions/big/specialties".to_owned(); 200],
        8,
    )
    .await;
    let limited = statuses.iter().filter(|s| **s == 429).count();
    let seconds = started.elapsed().as_secs() as usize + 1;
    assert!(limited > 150, "{limited} of 200 limited");
    let allowed = 200 - limited;
    assert!(allowed <= 20 + seconds, "{allowed} answered in {seconds} s");
    assert!(
        calls() - before <= allowed * budget,
        "{} calls for {allowed} answers",
        calls() - before
    );
}

#[tokio::test]
async fn a_refused_time_whose_owner_cannot_be_read_is_503_never_slot_taken() {
    let (_sandbox, hub) = start_sandbox();
    let proxy = start_fault_proxy(hub).await;
    let base = start_gateway(gateway_config(vec![demo_clinic(&proxy.url)])).await;
    let api = Api::at(&base);
    let token = api.login(PATIENT_FOUND).await;
    let (_, slot) = api.free_slot("Терапия").await;
    let r = api.book(&token, &slot.id, Some("first")).await;
    assert_eq!(r.status(), 201);
    let ticket: Ticket = r.json().await.expect("a ticket");
    // The patient's visits cannot be read: their own time, asked again, is not «taken».
    proxy.fail("GetPatientHistory", MisFault::Down, 100);
    let r = api.book(&token, &slot.id, Some("again")).await;
    assert!(r.headers().contains_key("retry-after"), "{:?}", r.headers());
    let p: api_types::Problem = r.json().await.expect("a problem");
    assert_eq!(p.status, 503, "{p:?}");
    assert_ne!(p.code.as_str(), "slot_taken");
    // Readable again: it is their ticket.
    proxy.clear();
    let r = api.book(&token, &slot.id, Some("again")).await;
    assert!(r.status().is_success(), "{}", r.status());
    let again: Ticket = r.json().await.expect("a ticket");
    assert_eq!(again.id, ticket.id);
}

/// A МИС that answers every call with a SOAP fault whose code carries a line end and a
/// forged log line; its base URL.
async fn forging_mis() -> String {
    let fault = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault>\
        <faultcode>s:Client\n2030-01-01T00:00:00.000000Z  INFO registratura: FORGED booked patient=1 s:Server</faultcode>\
        <faultstring>x</faultstring></s:Fault></s:Body></s:Envelope>";
    registratura_e2e::start_faulty_mis(registratura_e2e::Fault::Answer(
        500,
        "text/xml; charset=utf-8",
        fault.as_bytes().to_vec(),
    ))
    .await
}

#[tokio::test]
async fn a_fault_from_the_mis_cannot_forge_a_log_line() {
    let mis = forging_mis().await;
    let toml = format!(
        r#"
[server]
listen = "127.0.0.1:0"
workers = 1

[demo]
enabled = false

[[clinics]]
id = "demo"
name = "Поликлиника"
address = "Москва"
timezone = "Europe/Moscow"

[clinics.mis]
endpoint = "{mis}/HubService.svc"
guid = "g"
id_lpu = 1
read_retries = 0
"#
    );
    let gateway = GatewayProcess::start(&toml);
    let r = reqwest::get(format!("{}/api/v1/clinics/demo/specialties", gateway.base))
        .await
        .expect("answers");
    assert!(r.status().is_server_error());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log = gateway.log();
    assert!(log.iter().any(|l| l.contains("SOAP fault")), "{log:#?}");
    for line in log.iter().filter(|l| !l.contains("SOAP fault")) {
        assert!(
            !line.starts_with("2030-01-01") && !line.contains("FORGED"),
            "a forged line: {line}"
        );
    }
}

#[tokio::test]
async fn a_flood_of_malformed_heads_writes_a_few_lines_and_counts_the_rest() {
    let (_sandbox, hub) = start_sandbox();
    let toml = region_gateway_toml(&hub, HIGH_LIMITS);
    let gateway = GatewayProcess::start(&toml);
    let addr = gateway.base.trim_start_matches("http://").to_owned();
    let sent = 2_000;
    let started = Instant::now();
    let flood = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        for _ in 0..sent {
            if let Ok(mut socket) = std::net::TcpStream::connect(&addr) {
                let _ = socket.write_all(b"GARBAGE\r\n\r\n");
                let _ = socket.read(&mut [0u8; 1024]);
            }
        }
    });
    flood.await.expect("sent");
    let seconds = started.elapsed().as_secs() + 1;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log = gateway.log();
    let written = log
        .iter()
        .filter(|l| l.contains("refused by the HTTP layer"))
        .count();
    assert!(
        log.iter().all(|l| !l.contains("stream error")),
        "the HTTP layer's own line is not written"
    );
    let most = (seconds as usize + 1) * registratura::telemetry::REFUSALS_PER_SECOND as usize;
    assert!(
        written > 0 && written <= most,
        "{written} lines in {seconds} s"
    );
    let metrics = metrics_text(&reqwest::Client::new(), &gateway.base).await;
    let suppressed = metric(&metrics, "registratura_log_lines_suppressed_total");
    assert_eq!(suppressed as usize + written, sent, "{metrics}");
}

#[tokio::test]
async fn a_flood_of_distinct_queries_keeps_the_gateway_s_memory_bounded() {
    let (_sandbox, hub) = big_sandbox();
    let gateway = GatewayProcess::start(&region_gateway_toml(&hub, HIGH_LIMITS));
    when_read(&gateway.base, "big").await;
    // Every list made once, so that only what the flood keeps is measured.
    get_each(&gateway.base, vec!["/api/v1/regions/big/clinics".into()], 1).await;
    let (before, _) = gateway.memory();
    // Parameters the route does not know: one answer of 10 000 clinics (2.5 MB), however many
    // spellings; searches the route knows, each another answer, kept within the bytes
    // allowed; directory reads of clinics with junk in their queries.
    let mut paths: Vec<String> = (0..400)
        .map(|i| format!("/api/v1/regions/big/clinics?y={i}"))
        .collect();
    for district in 100..120 {
        for kind in ["", "&type=1", "&type=2"] {
            for q in [
                "",
                "&q=%D0%B3%D0%B1%D1%83%D0%B7",
                "&q=%D0%93%D0%91%D0%A3%D0%97",
            ] {
                paths.push(format!(
                    "/api/v1/regions/big/clinics?district={district}{kind}{q}"
                ));
            }
        }
    }
    for i in 0..300 {
        // The first 49 made-up clinics (the 50th is inactive).
        paths.push(format!(
            "/api/v1/clinics/big-{}/specialties?junk={i}",
            1_000 + i % 49
        ));
    }
    let statuses = get_each(&gateway.base, paths, 8).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let (_, peak) = gateway.memory();
    let grew = peak.saturating_sub(before);
    // The answers kept are bounded at 64 MiB for the region, 32 MiB a kind for clinics'
    // directory answers; the rest is what requests hold while they run.
    assert!(
        grew < 200 * 1024 * 1024,
        "grew {} MB (from {} MB)",
        grew / 1_048_576,
        before / 1_048_576
    );
}

#[tokio::test]
async fn touching_thousands_of_region_clinics_keeps_the_metrics_bounded() {
    let (_sandbox, hub) = big_sandbox();
    let gateway = GatewayProcess::start(&region_gateway_toml(&hub, HIGH_LIMITS));
    when_read(&gateway.base, "big").await;
    let client = reqwest::Client::new();
    let touch = |from: usize, to: usize| {
        (from..to)
            .map(|i| format!("/api/v1/clinics/big-{}/specialties", 1_000 + i))
            .collect::<Vec<_>>()
    };
    get_each(&gateway.base, touch(0, 10), 4).await;
    let before = metrics_text(&client, &gateway.base).await.len();
    let statuses = get_each(&gateway.base, touch(10, 1_510), 16).await;
    assert!(statuses.iter().filter(|s| **s == 200).count() > 1_400);
    let after = metrics_text(&client, &gateway.base).await;
    assert!(
        after.len() < before + 32 * 1024,
        "the scrape grew from {before} to {} bytes for 1 500 clinics",
        after.len()
    );
    assert!(
        !after.contains("big-1500"),
        "no series names a region's clinic"
    );
}
