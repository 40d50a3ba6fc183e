//! Limits toward the internet hold however a path is spelled, whoever forwards it, and from
//! any address family; the API can be closed to all but some networks, and integrators with
//! a key get their own limits.

use gateway_domain::limits::RateLimitConfig;
use registratura::config::Config;
use registratura::routes::ENDPOINTS;
use registratura::security::keys::{ApiKeyConfig, KeyLimits};
use registratura_e2e::{
    PATIENT_FOUND, demo_clinic, expect_problem, gateway_config, start_gateway,
    start_recording_proxy, start_sandbox,
};

/// Every class allows a burst of `burst` and then about one a minute.
fn tight(burst: u32) -> RateLimitConfig {
    RateLimitConfig {
        identify_per_minute: 1,
        identify_burst: burst,
        across_per_minute: 1,
        across_burst: burst,
        write_per_minute: 1,
        write_burst: burst,
        read_per_minute: 1,
        read_burst: burst,
        ..RateLimitConfig::default()
    }
}

/// A gateway behind a trusted proxy on loopback, so that each test client is the address it
/// puts in `X-Forwarded-For`.
async fn gateway(sandbox_url: &str, limits: RateLimitConfig) -> String {
    start_gateway(config(sandbox_url, limits)).await
}

fn config(sandbox_url: &str, limits: RateLimitConfig) -> Config {
    let mut config = gateway_config(vec![demo_clinic(sandbox_url)]);
    config.rate_limit = limits;
    config.server.trusted_proxies = vec!["127.0.0.1".into()];
    config
}

/// The path with the first letter of every literal segment percent-encoded
/// (`/%61pi/%761/%63linics/demo/%73essions`): the same route to the router.
fn respelled(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            let mut chars = segment.chars();
            match chars.next() {
                Some(c) if c.is_ascii_alphabetic() || c.is_ascii_digit() => {
                    format!("%{:02X}{}", c as u32, chars.as_str())
                }
                _ => segment.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn method_of(m: api_types::routes::Method) -> reqwest::Method {
    match m {
        api_types::routes::Method::Get => reqwest::Method::GET,
        api_types::routes::Method::Post => reqwest::Method::POST,
        api_types::routes::Method::Delete => reqwest::Method::DELETE,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_spelling_of_every_route_counts_in_the_same_bucket() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let burst = 2;
    let base = gateway(&sandbox_url, tight(burst)).await;
    let client = reqwest::Client::new();
    for (i, endpoint) in ENDPOINTS.iter().enumerate() {
        // One client per route, so each starts with a full bucket of its class.
        let xff = format!("198.51.100.{}", i + 1);
        let args: Vec<&str> = endpoint
            .route
            .params()
            .map(|p| if p == "clinic" { "demo" } else { "MQ" })
            .collect();
        let plain = endpoint.route.url(&args);
        let spellings = [
            plain.clone(),
            respelled(&plain),
            plain.replacen("/api/", "/%61%70%69/", 1),
        ];
        let send = |path: String| {
            client
                .request(method_of(endpoint.route.method), format!("{base}{path}"))
                .header("x-forwarded-for", xff.clone())
                .header("content-type", "application/json")
                .body("{}")
                .send()
        };
        for spelling in spellings.iter().take(burst as usize) {
            let r = send(spelling.clone()).await.expect("answers");
            assert_ne!(r.status(), 429, "{} {spelling}", endpoint.route.path);
            let body = r.text().await.unwrap_or_default();
            assert!(
                !body.contains("No such path"),
                "{spelling} is {}",
                endpoint.route.path
            );
        }
        for spelling in &spellings {
            let r = send(spelling.clone()).await.expect("answers");
            assert_eq!(
                r.status(),
                429,
                "{spelling} counts as {} in its class",
                endpoint.route.path
            );
        }
    }
}

#[tokio::test]
async fn identification_is_limited_however_its_path_is_spelled() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let limits = RateLimitConfig {
        identify_burst: 5,
        ..RateLimitConfig::default()
    };
    let base = gateway(&sandbox_url, limits).await;
    let client = reqwest::Client::new();
    let body = serde_json::json!({"document_number": "4599 000000", "policy_number": "7700000000000099", "birth_date": "1970-01-01"});
    let mut statuses = Vec::new();
    for i in 0..12 {
        let path = if i % 2 == 0 {
            "/%61pi/v1/clinics/demo/sessions"
        } else {
            "/api/v1/clinics/d%65mo/%73essions"
        };
        let r = client
            .post(format!("{base}{path}"))
            .header("x-forwarded-for", "203.0.113.50")
            .json(&body)
            .send()
            .await
            .expect("answers");
        statuses.push(r.status().as_u16());
    }
    assert_eq!(
        &statuses[..5],
        &[404; 5],
        "patient_not_found within the burst"
    );
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
}

#[tokio::test]
async fn a_path_that_matches_no_route_gets_the_strictest_limits() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let limits = RateLimitConfig {
        identify_burst: 3,
        ..RateLimitConfig::default()
    };
    let base = gateway(&sandbox_url, limits).await;
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for path in [
        "/nothing",
        "/api/v2/x",
        "//api/v1/clinics",
        "/api/v1/clinics/",
        "/x",
    ] {
        let r = client
            .get(format!("{base}{path}"))
            .header("x-forwarded-for", "203.0.113.60")
            .send()
            .await
            .expect("answers");
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [404, 404, 404, 429, 429]);
    let page = client
        .get(format!("{base}/widget.js"))
        .header("x-forwarded-for", "203.0.113.60")
        .send()
        .await
        .expect("answers");
    assert_eq!(page.status(), 200, "pages have their own class");
}

#[tokio::test]
async fn pages_and_health_checks_are_limited_too() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let base = gateway(&sandbox_url, tight(3)).await;
    let client = reqwest::Client::new();
    for path in ["/healthz", "/readyz", "/widget.js", "/openapi.json", "/"] {
        let xff = format!("203.0.113.{}", path.len());
        let mut last = 0;
        for _ in 0..4 {
            last = client
                .get(format!("{base}{path}"))
                .header("x-forwarded-for", xff.clone())
                .send()
                .await
                .expect("answers")
                .status()
                .as_u16();
        }
        assert_eq!(last, 429, "{path}");
    }
}

#[tokio::test]
async fn forwarded_for_is_read_from_every_line_with_ports() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let base = gateway(&sandbox_url, tight(2)).await;
    let client = reqwest::Client::new();
    let read = |lines: Vec<String>| {
        let mut req = client.get(format!("{base}/api/v1/clinics"));
        for line in lines {
            req = req.header("x-forwarded-for", line);
        }
        req.send()
    };
    // A client forging a first line of its own, a new one each time; the proxy appends the
    // real address as a second line.
    let mut statuses = Vec::new();
    for i in 0..4 {
        let r = read(vec![format!("10.9.9.{i}"), "198.51.100.77".into()])
            .await
            .expect("answers");
        statuses.push(r.status().as_u16());
    }
    assert_eq!(
        statuses,
        [200, 200, 429, 429],
        "the forged line does not win"
    );
    // Hops with ports are addresses, each its own client by address, not the proxy's.
    let mut statuses = Vec::new();
    for port in [1000, 2000, 3000] {
        let r = read(vec![format!("198.51.100.88:{port}")])
            .await
            .expect("answers");
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 429], "one client whatever its port");
    let other = read(vec!["[2001:db8:77::1]:443".into()])
        .await
        .expect("answers");
    assert_eq!(
        other.status(),
        200,
        "a bracketed IPv6 hop is its own client"
    );
}

#[tokio::test]
async fn an_ipv6_client_is_limited_by_its_64() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let limits = RateLimitConfig {
        identify_burst: 3,
        ..RateLimitConfig::default()
    };
    let base = gateway(&sandbox_url, limits).await;
    let client = reqwest::Client::new();
    let body = serde_json::json!({"document_number": "4599 000000", "policy_number": "7700000000000099", "birth_date": "1970-01-01"});
    let mut statuses = Vec::new();
    for i in 1..=6 {
        let r = client
            .post(format!("{base}/api/v1/clinics/demo/sessions"))
            .header("x-forwarded-for", format!("2001:db8:5:6::{i:x}"))
            .json(&body)
            .send()
            .await
            .expect("answers");
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [404, 404, 404, 429, 429, 429]);
    let r = client
        .post(format!("{base}/api/v1/clinics/demo/sessions"))
        .header("x-forwarded-for", "2001:db8:5:7::1")
        .json(&body)
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 404, "another /64 is another client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_readiness_checks_reaches_the_mis_at_most_once() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let (proxy, recording) = start_recording_proxy(sandbox_url);
    let base = start_gateway(gateway_config(vec![demo_clinic(&proxy)])).await;
    let client = reqwest::Client::new();
    let checks = (0..50).map(|_| client.get(format!("{base}/readyz")).send());
    let answers = futures_util::future::join_all(checks).await;
    assert!(
        answers
            .iter()
            .all(|r| r.as_ref().is_ok_and(|r| r.status() == 200))
    );
    let probes = recording
        .lock()
        .expect("not poisoned")
        .iter()
        .filter(|x| {
            x.soap_action
                .as_deref()
                .is_some_and(|a| a.contains("GetVersion"))
        })
        .count();
    assert!(probes <= 1, "{probes} probes for 50 checks");
}

#[tokio::test]
async fn api_allow_closes_the_api_to_other_networks_and_lets_an_allowed_forwarder_through() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let client = reqwest::Client::new();
    let mut closed = gateway_config(vec![demo_clinic(&sandbox_url)]);
    closed.server.api_allow = Some(vec!["192.0.2.0/24".into()]);
    let base = start_gateway(closed).await;
    let r = client
        .get(format!("{base}/api/v1/clinics/demo/specialties"))
        .send()
        .await
        .expect("answers");
    expect_problem(r, 403, "forbidden").await;
    let r = client
        .get(format!("{base}/%61pi/v1/clinics"))
        .send()
        .await
        .expect("answers");
    expect_problem(r, 403, "forbidden").await;
    let health = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("answers");
    assert_eq!(health.status(), 200, "only the API is closed");

    // The seed's topology: the internet reaches the gateway only through a forwarding host,
    // which is trusted and allowed; its clients pass, each with its own address.
    let mut seed = gateway_config(vec![demo_clinic(&sandbox_url)]);
    seed.server.api_allow = Some(vec!["127.0.0.1".into()]);
    seed.server.trusted_proxies = vec!["127.0.0.1".into()];
    let base = start_gateway(seed).await;
    let r = client
        .get(format!("{base}/api/v1/clinics/demo/specialties"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 200);
}

fn key_config(name: &str, key: &str, identify_burst: u32) -> ApiKeyConfig {
    use sha2::Digest;
    ApiKeyConfig {
        name: name.into(),
        sha256: sha2::Sha256::digest(key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        limits: KeyLimits {
            identify_burst,
            ..KeyLimits::default()
        },
    }
}

#[tokio::test]
async fn integrators_with_a_key_have_its_limits_and_a_wrong_key_is_refused() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let limits = RateLimitConfig {
        identify_burst: 2,
        ..RateLimitConfig::default()
    };
    let mut config = config(&sandbox_url, limits);
    config.api_keys = vec![key_config("regional-portal", "portal-secret-1", 30)];
    let base = start_gateway(config).await;
    let client = reqwest::Client::new();
    let body = serde_json::json!({"document_number": PATIENT_FOUND.0, "policy_number": PATIENT_FOUND.1, "birth_date": PATIENT_FOUND.2});
    let identify = |header: Option<(&'static str, &'static str)>| {
        let mut req = client
            .post(format!("{base}/api/v1/clinics/demo/sessions"))
            .header("x-forwarded-for", "203.0.113.70")
            .json(&body);
        if let Some((name, value)) = header {
            req = req.header(name, value);
        }
        req.send()
    };
    for i in 0..20 {
        let header = if i % 2 == 0 {
            ("x-api-key", "portal-secret-1")
        } else {
            ("authorization", "ApiKey portal-secret-1")
        };
        let r = identify(Some(header)).await.expect("answers");
        assert_eq!(r.status(), 201, "a key's own limits (request {i})");
    }
    for _ in 0..2 {
        assert_eq!(identify(None).await.expect("answers").status(), 201);
    }
    let r = identify(None).await.expect("answers");
    expect_problem(r, 429, "too_many_requests").await;
    let other = client
        .get(format!("{base}/api/v1/clinics"))
        .header("x-forwarded-for", "203.0.113.71")
        .header("x-api-key", "not-the-key")
        .send()
        .await
        .expect("answers");
    expect_problem(other, 401, "invalid_api_key").await;
}
