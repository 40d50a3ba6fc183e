//! Many gateways, one region: two gateways sharing one Redis and one sandbox МИС behave as one.
//! Each test starts its own `redis-server` on a free loopback port (skipped, saying so, where
//! there is none; CI installs it).

use gateway_domain::limits::RateLimitConfig;
use registratura::config::Config;
use registratura_e2e::{
    PATIENT_FOUND, PATIENT_FOUND_2, TestApp, demo_clinic, expect_problem, gateway_config,
    require_tool, start_gateway, start_recording_proxy, start_sandbox, start_switch,
};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` of the test's own.
struct Redis {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Redis {
    fn start() -> Option<Redis> {
        if !require_tool("redis-server", &["--version"], "shares the gateways' state") {
            return None;
        }
        let reserved = registratura_e2e::loopback();
        let port = registratura_e2e::port_of_listener(&reserved);
        // Past the skip rule, nothing returns early: a test that cannot run fails.
        let dir = tempfile::tempdir().expect("a temp dir");
        drop(reserved);
        let child = Self::spawn(port, dir.path());
        Some(Redis { child, port, dir })
    }

    fn spawn(port: u16, dir: &std::path::Path) -> Child {
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        for _ in 0..200 {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("redis-server stopped ({status}) before it opened port {port}");
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        child
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn restart(&mut self) {
        self.kill();
        self.child = Self::spawn(self.port, self.dir.path());
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn shared_config(endpoint: &str, redis: &Redis) -> Config {
    let mut config = gateway_config(vec![demo_clinic(endpoint)]);
    config.state.redis_url = Some(redis.url());
    config.state.timeout_ms = 300;
    config.server.trusted_proxies = vec!["127.0.0.1".into()];
    config
}

/// Two gateways on one Redis and one sandbox МИС (behind a recording proxy).
async fn two_gateways(
    redis: &Redis,
    tune: impl Fn(&mut Config),
) -> (TestApp, TestApp, registratura_e2e::Recording) {
    let (sandbox, sandbox_url) = start_sandbox();
    let (proxy, recording) = start_recording_proxy(sandbox_url.clone());
    let mut config = shared_config(&proxy, redis);
    tune(&mut config);
    let a = start_gateway(config.clone()).await;
    let b = start_gateway(config).await;
    (
        TestApp::at(&a, sandbox.clone(), sandbox_url.clone()),
        TestApp::at(&b, sandbox, sandbox_url),
        recording,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_and_a_ticket_s_details_made_on_one_gateway_are_known_to_the_other() {
    let Some(redis) = Redis::start() else { return };
    let (a, b, _) = two_gateways(&redis, |_| {}).await;
    let token = a.login(PATIENT_FOUND).await;
    assert!(b.my_tickets(&token).await.is_empty(), "B knows A's session");
    let (_, slot) = a.free_slot("Кардиология").await;
    let booked: api_types::Ticket = a
        .book(&token, &slot.id, None)
        .await
        .json()
        .await
        .expect("a ticket");
    let on_b = b.my_tickets(&token).await;
    assert_eq!(on_b.len(), 1);
    assert_eq!(on_b[0].id, booked.id);
    assert_eq!(on_b[0].number, booked.number, "the details remembered on A");
    assert_eq!(on_b[0].room, booked.room);
    assert_eq!(on_b[0].end, booked.end);
    let r = b
        .client
        .delete(format!("{}/sessions/current", b.api))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 204);
    let r = a
        .client
        .get(format!("{}/tickets", a.api))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    expect_problem(r, 401, "session_required").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_replayed_on_the_other_gateway_answers_the_first_ticket() {
    let Some(redis) = Redis::start() else { return };
    let (a, b, _) = two_gateways(&redis, |_| {}).await;
    let token = a.login(PATIENT_FOUND).await;
    let (_, slot) = a.free_slot("Неврология").await;
    let first = a.book(&token, &slot.id, Some("shared-key-1")).await;
    assert_eq!(first.status(), 201);
    let first: api_types::Ticket = first.json().await.expect("a ticket");
    let replay = b.book(&token, &slot.id, Some("shared-key-1")).await;
    assert_eq!(replay.status(), 201);
    assert_eq!(
        replay
            .headers()
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    let replayed: api_types::Ticket = replay.json().await.expect("a ticket");
    assert_eq!(replayed, first);
    // A key B has never seen, used on A, then sent to B with another body: only the record A
    // left in Redis can tell B (a replay above could also be answered by reading the МИС).
    let (_, slot) = a.free_slot("Кардиология").await;
    let booked = a.book(&token, &slot.id, Some("shared-key-2")).await;
    assert_eq!(booked.status(), 201);
    let other = b
        .client
        .post(format!("{}/tickets", b.api))
        .bearer_auth(&token)
        .header("Idempotency-Key", "shared-key-2")
        .json(&serde_json::json!({"slot_id": "c29tZXRoaW5nLWVsc2U"}))
        .send()
        .await
        .expect("answers");
    expect_problem(other, 422, "idempotency_key_reused").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_key_sent_to_both_gateways_at_once_books_once() {
    let Some(redis) = Redis::start() else { return };
    let (a, b, _) = two_gateways(&redis, |_| {}).await;
    let token = a.login(PATIENT_FOUND).await;
    let specialties = a.specialties().await;
    for (i, s) in specialties.iter().take(5).enumerate() {
        let (_, slot) = a.free_slot(&s.name).await;
        let key = format!("race-{i}");
        let (x, y) = tokio::join!(
            a.book(&token, &slot.id, Some(&key)),
            b.book(&token, &slot.id, Some(&key))
        );
        // One books; the other is the same ticket replayed, or told the key is in use. A
        // `slot_taken` would mean the second request reached the МИС: the key was not shared.
        let mut booked = Vec::new();
        let mut answers = Vec::new();
        for r in [x, y] {
            let status = r.status().as_u16();
            let replayed = r
                .headers()
                .get("idempotent-replayed")
                .is_some_and(|v| v.as_bytes() == b"true");
            let body: serde_json::Value = r.json().await.expect("JSON");
            answers.push((status, replayed, body["code"].as_str().map(str::to_owned)));
            if status == 201 {
                booked.push((
                    replayed,
                    body["id"].as_str().expect("a ticket id").to_owned(),
                ));
            }
        }
        let fresh: Vec<&(bool, String)> = booked.iter().filter(|(r, _)| !r).collect();
        assert_eq!(fresh.len(), 1, "exactly one fresh booking: {answers:?}");
        for (status, replayed, code) in &answers {
            match (status, code.as_deref()) {
                (201, _) => {}
                (409, Some("idempotency_key_in_use")) => {}
                _ => panic!("neither the ticket nor «in use» ({status}, {replayed}): {answers:?}"),
            }
        }
        assert!(
            booked.iter().all(|(_, id)| *id == fresh[0].1),
            "a replay is the same ticket: {booked:?}"
        );
    }
    let tickets = a.my_tickets(&token).await;
    assert_eq!(tickets.len(), 5, "each key booked once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identification_limits_are_counted_across_both_gateways() {
    let Some(redis) = Redis::start() else { return };
    let (a, b, _) = two_gateways(&redis, |c| {
        c.rate_limit = RateLimitConfig {
            identify_per_minute: 1,
            identify_burst: 3,
            ..c.rate_limit.clone()
        };
    })
    .await;
    let body = serde_json::json!({"document_number": "4599 000000", "policy_number": "7700000000000099", "birth_date": "1970-01-01"});
    let mut statuses = Vec::new();
    for i in 0..6 {
        let app = if i % 2 == 0 { &a } else { &b };
        let r = app
            .client
            .post(format!("{}/sessions", app.api))
            .header("x-forwarded-for", "203.0.113.77")
            .json(&body)
            .send()
            .await
            .expect("answers");
        statuses.push(r.status().as_u16());
    }
    assert_eq!(
        statuses,
        [404, 404, 404, 429, 429, 429],
        "one budget for both"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_gateway_s_read_serves_the_other_and_a_booking_refreshes_both() {
    let Some(redis) = Redis::start() else { return };
    let (a, b, recording) = two_gateways(&redis, |_| {}).await;
    let before = a.specialties().await;
    let calls = |op: &str| {
        recording
            .lock()
            .expect("not poisoned")
            .iter()
            .filter(|x| x.soap_action.as_deref().is_some_and(|s| s.contains(op)))
            .count()
    };
    let asked = calls("GetSpesialityList");
    assert_eq!(b.specialties().await, before, "B serves A's read");
    assert_eq!(calls("GetSpesialityList"), asked, "without asking the МИС");
    let token = a.login(PATIENT_FOUND_2).await;
    let (_, slot) = a.free_slot("Урология").await;
    assert_eq!(a.book(&token, &slot.id, None).await.status(), 201);
    // B's own cache keeps a value two seconds at most when the cache is shared.
    let started = Instant::now();
    loop {
        let now = b.specialties().await;
        let count = |list: &[api_types::Specialty]| {
            list.iter()
                .find(|s| s.name == "Урология")
                .and_then(|s| s.free_tickets)
                .unwrap_or(0)
        };
        if count(&now) + 1 == count(&before) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "B shows the booking made on A"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mis_found_down_by_one_gateway_is_down_for_the_other() {
    let Some(redis) = Redis::start() else { return };
    let (_sandbox, sandbox_url) = start_sandbox();
    let switch = start_switch(sandbox_url);
    let mut config = shared_config(&switch.url, &redis);
    config.cache.directory_ttl_secs = 0;
    config.clinics[0].mis.breaker_threshold = 1;
    config.clinics[0].mis.read_retries = 0;
    config.clinics[0].mis.probe_interval_ms = 300;
    let a = start_gateway(config.clone()).await;
    let b = start_gateway(config).await;
    let client = reqwest::Client::new();
    let specialties = |base: &str| {
        client
            .get(format!("{base}/api/v1/clinics/demo/specialties"))
            .send()
    };
    assert_eq!(specialties(&b).await.expect("answers").status(), 200);
    switch.set_down(true);
    assert_eq!(specialties(&a).await.expect("answers").status(), 503);
    // B learns it from A: its breaker opens without its own failures.
    let started = Instant::now();
    loop {
        let ready: serde_json::Value = client
            .get(format!("{b}/readyz"))
            .send()
            .await
            .expect("answers")
            .json()
            .await
            .expect("JSON");
        if ready["clinics"][0]["mis_up"] == false {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{ready}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let hits = switch.hits();
    expect_problem(
        specialties(&b).await.expect("answers"),
        503,
        "mis_unavailable",
    )
    .await;
    assert!(switch.hits() <= hits + 2, "B answered from its breaker");
    switch.set_down(false);
    let started = Instant::now();
    while specialties(&b).await.expect("answers").status() != 200 {
        assert!(started.elapsed() < Duration::from_secs(15), "both recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_reads_go_on_sessions_and_bookings_wait_and_all_recovers() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let (a, b, _) = two_gateways(&redis, |_| {}).await;
    let token = a.login(PATIENT_FOUND).await;
    let (_, slot) = a.free_slot("Эндокринология").await;
    redis.kill();
    // Reads: from the МИС and each gateway's own cache.
    assert_eq!(a.get("/specialties").await.status(), 200);
    assert_eq!(b.get("/specialties").await.status(), 200);
    // What could book twice or lose an answer waits, and says when to retry.
    let r = a.post_session(PATIENT_FOUND_2).await;
    assert!(r.headers().contains_key("retry-after"));
    expect_problem(r, 503, "state_unavailable").await;
    let r = b.book(&token, &slot.id, Some("while-down")).await;
    assert!(r.headers().contains_key("retry-after"));
    expect_problem(r, 503, "state_unavailable").await;
    let ready = a
        .client
        .get(format!("{}/readyz", a.base))
        .send()
        .await
        .expect("answers");
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.expect("JSON");
    assert_eq!(body["state"], "unavailable");
    // Nothing was booked meanwhile.
    let history = a
        .sandbox
        .store()
        .booked_slots()
        .expect("the sandbox answers");
    assert!(history.is_empty(), "{history:?}");

    redis.restart();
    let started = Instant::now();
    let token = loop {
        let r = a.post_session(PATIENT_FOUND).await;
        if r.status() == 201 {
            break r
                .json::<api_types::Session>()
                .await
                .expect("a session")
                .token;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "recovers by itself"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // A connection of the pool may meet the restart once; a retry then books.
    let started = Instant::now();
    let first = loop {
        let r = b.book(&token, &slot.id, Some("after")).await;
        if r.status() != 503 || started.elapsed() > Duration::from_secs(20) {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(first.status(), 201);
    let again = a.book(&token, &slot.id, Some("after")).await;
    assert_eq!(again.status(), 201);
    assert!(again.headers().contains_key("idempotent-replayed"));
    assert_eq!(a.my_tickets(&token).await.len(), 1, "booked once");
    let ready = a
        .client
        .get(format!("{}/readyz", a.base))
        .send()
        .await
        .expect("answers");
    assert_eq!(ready.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_one_patient_s_requests_across_two_gateways_beats_no_cap() {
    let Some(redis) = Redis::start() else { return };
    let (a, b, _) = two_gateways(&redis, |_| {}).await;
    let token = a.login(PATIENT_FOUND).await;
    crate::bursts::waiting_list_caps_hold([&a, &b], &token).await;
    crate::bursts::a_ticket_moves_once([&a, &b], &token).await;
    crate::bursts::a_referral_books_once([&a, &b], &token).await;
}

/// The configuration of a gateway process sharing `redis` and facing the МИС at `mis`.
fn process_config(redis: &Redis, mis: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
workers = 2
identify_min_ms = 0

[sandbox]
enabled = false

[demo]
enabled = false

[rate_limit]
identify_per_minute = 60000
identify_burst = 1000
write_per_minute = 60000
write_burst = 1000
read_per_minute = 600000
read_burst = 10000

[state]
redis_url = "{redis}"
timeout_ms = 300

[[clinics]]
id = "demo"
name = "{name}"
address = "{address}"
timezone = "Europe/Moscow"

[clinics.mis]
endpoint = "{mis}/HubService.svc"
guid = "{guid}"
id_lpu = {lpu}
attempt_timeout_ms = {attempt}
deadline_ms = {deadline}
breaker_threshold = 100
"#,
        redis = redis.url(),
        name = sandbox_mis::seed::LPU_SHORT_NAME,
        address = sandbox_mis::seed::LPU_ADDRESS,
        guid = sandbox_mis::DEFAULT_GUID,
        lpu = sandbox_mis::seed::LPU_ID,
        attempt = KILLED_ATTEMPT_MS,
        deadline = KILLED_ATTEMPT_MS * 2,
    )
}

const KILLED_ATTEMPT_MS: u64 = 800;

/// Retries `book` (with its key) on `b` until it is not `409 idempotency_key_in_use`, waiting
/// as `Retry-After` says each time; the answer.
async fn retry_until_answered(
    b: &TestApp,
    token: &str,
    slot: &str,
    key: &str,
) -> reqwest::Response {
    let started = Instant::now();
    loop {
        let r = b.book(token, slot, Some(key)).await;
        if r.status() != 409 {
            return r;
        }
        let wait: u64 = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("idempotency_key_in_use says when to retry");
        let problem: api_types::Problem = r.json().await.expect("a problem");
        assert_eq!(
            problem.code.as_str(),
            "idempotency_key_in_use",
            "never slot_taken"
        );
        assert!(wait <= 5, "the lease follows the deadline: {wait} s");
        tokio::time::sleep(Duration::from_secs(wait)).await;
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "answered in time"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_killed_mid_booking_leaves_a_key_the_other_gateway_resolves_by_reading() {
    let Some(redis) = Redis::start() else { return };
    let (sandbox, sandbox_url) = start_sandbox();
    let proxy = registratura_e2e::start_fault_proxy(sandbox_url.clone()).await;
    let mut config = shared_config(&proxy.url, &redis);
    config.clinics[0].mis.attempt_timeout_ms = KILLED_ATTEMPT_MS;
    config.clinics[0].mis.deadline_ms = KILLED_ATTEMPT_MS * 2;
    let b = TestApp::at(
        &start_gateway(config).await,
        sandbox.clone(),
        sandbox_url.clone(),
    );
    let token = b.login(PATIENT_FOUND).await;
    let cases = [
        (
            "the МИС booked",
            registratura_e2e::MisFault::AnswerHeld(Duration::from_secs(60)),
            "Терапия",
        ),
        (
            "the МИС never saw it",
            registratura_e2e::MisFault::Held(Duration::from_secs(60)),
            "Офтальмология",
        ),
    ];
    for (i, (what, fault, specialty)) in cases.into_iter().enumerate() {
        let mut a = registratura_e2e::GatewayProcess::start(&process_config(&redis, &proxy.url));
        let (_, slot) = b.free_slot(specialty).await;
        let key = format!("killed-{i}");
        let writes = proxy.count("SetAppointment");
        proxy.fail("SetAppointment", fault, 1);
        let on_a = {
            let (url, token, slot, key) = (
                format!("{}/api/v1/clinics/demo/tickets", a.base),
                token.clone(),
                slot.id.clone(),
                key.clone(),
            );
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(url)
                    .bearer_auth(token)
                    .header("Idempotency-Key", key)
                    .json(&serde_json::json!({ "slot_id": slot }))
                    .send()
                    .await
            })
        };
        let started = Instant::now();
        while proxy.count("SetAppointment") == writes {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{what}: A wrote"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Let the МИС act on it (or not), then kill A mid-booking.
        tokio::time::sleep(Duration::from_millis(300)).await;
        a.kill();
        assert!(
            on_a.await.expect("joined").is_err(),
            "{what}: A's client got no answer"
        );
        // The lease A left runs out by itself: B answers (retry_until_answered gives up, and
        // fails, only past any lease: 30 s), and every 409 on the way said when to retry.
        let r = retry_until_answered(&b, &token, &slot.id, &key).await;
        assert_eq!(r.status(), 201, "{what}: {:?}", r.text().await);
        let ticket: api_types::Ticket = r.json().await.expect("a ticket");
        assert_eq!(ticket.start, slot.start, "{what}");
        let expected_writes = if i == 0 { writes + 1 } else { writes + 2 };
        assert_eq!(
            proxy.count("SetAppointment"),
            expected_writes,
            "{what}: B read before it wrote"
        );
        assert!(b.my_tickets(&token).await.iter().any(|t| t.id == ticket.id));
    }
}

/// A region's configuration on the sandbox at `endpoint`, sealing sessions under `key`.
fn region_config(endpoint: &str, redis: &Redis, key: &str) -> Config {
    let mut config = shared_config(endpoint, redis);
    config.server.session_key = Some(key.to_owned());
    config.regions = vec![registratura::config::RegionConfig {
        id: "msk".into(),
        name: "Москва".into(),
        endpoint: Some(format!("{endpoint}/HubService.svc")),
        guid: sandbox_mis::DEFAULT_GUID.into(),
        attempt_timeout_ms: 1_000,
        deadline_ms: 1_000,
        across_deadline_ms: 1_500,
        ..Default::default()
    }];
    config
}

/// Waits until the gateway at `base` has read the region `msk`.
async fn region_read(base: &str) {
    let started = Instant::now();
    while reqwest::get(format!("{base}/api/v1/regions/msk/districts"))
        .await
        .expect("answers")
        .status()
        != 200
    {
        assert!(started.elapsed() < Duration::from_secs(30), "never read");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_session_opened_on_one_gateway_works_on_the_other_with_the_same_key_only() {
    let Some(redis) = Redis::start() else { return };
    let (_sandbox, sandbox_url) = start_sandbox();
    let key = "ab".repeat(32);
    let a = start_gateway(region_config(&sandbox_url, &redis, &key)).await;
    let b = start_gateway(region_config(&sandbox_url, &redis, &key)).await;
    // A third gateway of the same Redis with another key: the token is not its to open.
    let c = start_gateway(region_config(&sandbox_url, &redis, &"cd".repeat(32))).await;
    for base in [&a, &b, &c] {
        region_read(base).await;
    }
    let client = reqwest::Client::new();
    let token = registratura_e2e::open_session(
        &client,
        &format!("{a}/api/v1/regions/msk/sessions"),
        PATIENT_FOUND,
    )
    .await;
    // On B, in a clinic A never asked: the identity is opened from the token there.
    let on_b = registratura_e2e::Api::for_clinic(&b, "msk-3");
    let (_, slot) = on_b.free_slot("Терапия").await;
    assert_eq!(
        on_b.book(&token, &slot.id, Some("region-r1"))
            .await
            .status(),
        201
    );
    assert_eq!(on_b.my_tickets(&token).await.len(), 1);
    // C shares the session record, not the key: it cannot find the patient in a new clinic.
    let on_c = registratura_e2e::Api::for_clinic(&c, "msk-5");
    expect_problem(
        on_c.get_private(&token, "/tickets").await,
        401,
        "session_required",
    )
    .await;
    // Ended on B, it is ended on A.
    let r = client
        .delete(format!("{b}/api/v1/regions/msk/sessions/current"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 204);
    let on_a = registratura_e2e::Api::for_clinic(&a, "msk-3");
    expect_problem(
        on_a.get_private(&token, "/tickets").await,
        401,
        "session_required",
    )
    .await;
}
