//! What the operator sees: metrics, the status page, request ids.

use registratura_e2e::{
    PATIENT_FOUND, demo_clinic, expect_problem, gateway_config, spawn_app, start_gateway,
    start_sandbox,
};

fn value_of(metrics: &str, name_and_labels: &[&str]) -> f64 {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| name_and_labels.iter().all(|part| l.contains(part)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_requests_mis_calls_cache_bookings_and_identifications() {
    let app = spawn_app().await;
    let (_, slot) = app.free_slot("Терапия").await;
    app.specialties().await;
    let token = app.login(PATIENT_FOUND).await;
    assert_eq!(app.book(&token, &slot.id, None).await.status(), 201);
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("answers");
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain"))
    );
    let text = metrics.text().await.expect("text");
    for (name, labels) in [
        (
            "registratura_http_requests_total",
            vec![
                "route=\"/api/v1/clinics/{clinic}/specialties\"",
                "status=\"200\"",
            ],
        ),
        (
            "registratura_http_request_duration_seconds_bucket",
            vec!["le=\"0.005\""],
        ),
        (
            "registratura_mis_calls_total",
            vec!["operation=\"book\"", "outcome=\"ok\""],
        ),
        (
            "registratura_mis_call_duration_seconds_count",
            vec!["operation=\"slots\""],
        ),
        (
            "registratura_cache_requests_total",
            vec!["cache=\"specialties\"", "result=\"hit\""],
        ),
        ("registratura_bookings_total", vec!["outcome=\"booked\""]),
        (
            "registratura_identifications_total",
            vec!["outcome=\"found\""],
        ),
        ("registratura_sessions", vec![]),
        ("registratura_build_info", vec!["version="]),
    ] {
        let mut parts = vec![name];
        parts.extend(labels.iter().copied());
        assert!(
            value_of(&text, &parts) >= 1.0,
            "{name} {labels:?} in:\n{text}"
        );
    }
    assert!(text.contains("registratura_mis_breaker_open{clinic=\"demo\"}"));
    assert!(text.contains("# TYPE registratura_http_request_duration_seconds histogram"));
}

#[tokio::test]
async fn metrics_stay_bounded_whatever_methods_and_paths_clients_invent() {
    let app = spawn_app().await;
    for i in 0..300 {
        let method =
            reqwest::Method::from_bytes(format!("INVENTED{i}").as_bytes()).expect("a token");
        app.client
            .request(method, format!("{}/healthz", app.base))
            .send()
            .await
            .expect("answers");
        app.client
            .get(format!("{}/invented/{i}?q={i}", app.base))
            .send()
            .await
            .expect("answers");
    }
    let text = registratura_e2e::metrics_text(&app.client, &app.base).await;
    assert!(!text.contains("INVENTED") && !text.contains("/invented/"));
    assert!(
        value_of(
            &text,
            &[
                "registratura_http_requests_total",
                "route=\"/healthz\"",
                "method=\"OTHER\"",
                "status=\"405\""
            ]
        ) >= 300.0
    );
    // The recorder is the process's (other tests' requests make series too): the series an
    // invented method or path can land in are the few of `OTHER` and of no route.
    let invented = text
        .lines()
        .filter(|l| l.starts_with("registratura_http_requests_total{"))
        .filter(|l| l.contains("method=\"OTHER\"") || l.contains("route=\"(no route)\""))
        .count();
    assert!(invented < 20, "{invented} series for 600 invented requests");
}

#[tokio::test]
async fn metrics_count_rate_limit_refusals_by_class_and_are_for_operators_only() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let mut config = gateway_config(vec![demo_clinic(&sandbox_url)]);
    config.rate_limit.identify_burst = 1;
    config.rate_limit.identify_per_minute = 1;
    let base = start_gateway(config).await;
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let _ = client
            .post(format!("{base}/api/v1/clinics/demo/sessions"))
            .json(&serde_json::json!({}))
            .send()
            .await;
    }
    let text = registratura_e2e::metrics_text(&client, &base).await;
    assert!(
        value_of(
            &text,
            &["registratura_rate_limited_total", "class=\"identify\""]
        ) >= 2.0
    );

    let mut closed = gateway_config(vec![demo_clinic(&sandbox_url)]);
    closed.server.operator_allow = vec!["192.0.2.0/24".into()];
    let base = start_gateway(closed).await;
    let r = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("answers");
    expect_problem(r, 403, "forbidden").await;
}

#[tokio::test]
async fn the_status_page_says_it_works_and_gives_the_snippet_with_a_live_preview() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let mut config = gateway_config(vec![demo_clinic(&sandbox_url)]);
    config.server.public_url = Some("https://clinic.example.ru/registratura/".into());
    let base = start_gateway(config).await;
    let r = reqwest::get(format!("{base}/")).await.expect("answers");
    assert_eq!(r.status(), 200);
    let html = r.text().await.expect("html");
    for expected in [
        "Работает / It works",
        env!("CARGO_PKG_VERSION"),
        "Городская поликлиника",
        "работает / up",
        "&lt;script src=&quot;https://clinic.example.ru/registratura/widget.js&quot; data-clinic=&quot;demo&quot; async&gt;&lt;/script&gt;",
        "<script src=\"widget.js\" data-target=\"#preview\"",
        "href=\"docs/\"",
        "href=\"metrics\"",
    ] {
        assert!(html.contains(expected), "{expected:?} in:\n{html}");
    }
}

#[tokio::test]
async fn which_mis_is_down_and_why_is_shown_to_operators_only() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        format!("http://{}", l.local_addr().expect("bound"))
    };
    let mut clinic = demo_clinic(&closed);
    clinic.mis.breaker_threshold = 1;
    clinic.mis.read_retries = 0;
    let mut config = gateway_config(vec![clinic.clone()]);
    let base = start_gateway(config.clone()).await;
    let client = reqwest::Client::new();
    let _ = client
        .get(format!("{base}/api/v1/clinics/demo/specialties"))
        .send()
        .await;
    let html = client
        .get(format!("{base}/"))
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("html");
    assert!(html.contains("недоступна / down"), "{html}");
    assert!(
        html.contains("connection failed"),
        "the operator sees why: {html}"
    );

    config.server.operator_allow = vec!["192.0.2.0/24".into()];
    let base = start_gateway(config).await;
    let _ = client
        .get(format!("{base}/api/v1/clinics/demo/specialties"))
        .send()
        .await;
    let html = client
        .get(format!("{base}/"))
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("html");
    assert!(
        !html.contains("недоступна / down"),
        "which МИС is down is for operators: {html}"
    );
    assert!(!html.contains("connection failed"), "others do not: {html}");
    assert!(!html.contains("href=\"metrics\""));
}

#[tokio::test]
async fn every_answer_carries_a_request_id_that_its_problem_quotes() {
    let app = spawn_app().await;
    for path in ["/api/v1/clinics", "/healthz", "/widget.js", "/nowhere"] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("answers");
        let id = r
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("{path} has no X-Request-Id"));
        if r.status() == 404 {
            let p: api_types::Problem = r.json().await.expect("a problem");
            assert_eq!(p.request_id.as_deref(), Some(id.as_str()));
        }
    }
    // From a peer that is not a trusted proxy, a client's own id is not taken.
    let r = app
        .client
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", "forged-1")
        .send()
        .await
        .expect("answers");
    assert_ne!(r.headers()["x-request-id"], "forged-1");
}

#[tokio::test]
async fn directory_answers_carry_an_etag_and_a_current_one_is_not_sent_again() {
    let app = spawn_app().await;
    let first = app.get("/specialties").await;
    let etag = first
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("an ETag")
        .to_owned();
    let again = app
        .client
        .get(format!("{}/specialties", app.api))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("answers");
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.expect("a body").is_empty());
    // A booking changes the counts, so the tag.
    let (_, slot) = app.free_slot("Терапия").await;
    let token = app.login(PATIENT_FOUND).await;
    assert_eq!(app.book(&token, &slot.id, None).await.status(), 201);
    let after = app
        .client
        .get(format!("{}/specialties", app.api))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("answers");
    assert_eq!(after.status(), 200);
    assert_ne!(after.headers()["etag"], etag.as_str());
}

#[tokio::test]
async fn the_widget_page_serves_the_one_clinic_unnamed_and_explains_a_clinic_it_does_not_serve() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let mut clinic = demo_clinic(&sandbox_url);
    clinic.id = "gp1".into();
    let base = start_gateway(gateway_config(vec![clinic.clone()])).await;
    let client = reqwest::Client::new();
    let page = |base: String, query: &'static str| {
        let client = client.clone();
        async move {
            let r = client
                .get(format!("{base}/widget/?wid=rg1{query}"))
                .send()
                .await
                .expect("answers");
            (r.status().as_u16(), r.text().await.expect("text"))
        }
    };
    // No data-clinic: the gateway's one clinic, with its first step.
    let (status, html) = page(base.clone(), "").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"id="rg-data">{"clinic":{"#) && html.contains(r#""id":"gp1""#));
    assert!(html.contains("rg-choice"), "the first step is written");
    // A clinic it does not serve: said to the patient and the webmaster, escaped, no widget.
    let (status, html) = page(base.clone(), "&lang=en&clinic=%3Cb%3Enope").await;
    assert_eq!(status, 404);
    assert!(
        html.contains("registry desk") && html.contains("it serves gp1"),
        "{html}"
    );
    assert!(html.contains("&lt;b&gt;nope") && !html.contains("<b>"));
    assert!(!html.contains("<script"));
    // Several clinics and none named: which to name.
    let mut second = clinic.clone();
    second.id = "gp2".into();
    second.timezone = "Asia/Vladivostok".into();
    let base = start_gateway(gateway_config(vec![clinic, second])).await;
    let (status, html) = page(base.clone(), "").await;
    assert_eq!(status, 404);
    assert!(
        html.contains("data-clinic") && html.contains("gp1, gp2"),
        "{html}"
    );
    // The widget counts the clinic's days in the clinic's zone, from its offset on the page.
    let (status, html) = page(base.clone(), "&clinic=gp2").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#""utc_offset_secs":36000"#), "{html}");
    let (_, html) = page(base, "&clinic=gp1").await;
    assert!(html.contains(r#""utc_offset_secs":10800"#));
}

/// The gateway's binary with its log going to a file, as under systemd with `StandardError=`
/// a file or the journal: stderr is not a terminal and `NO_COLOR` is not set.
#[tokio::test]
async fn logs_written_to_a_file_carry_no_colours_and_lines_dropped_are_counted() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = dir.path().join("registratura.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nworkers = 1\n\n[sandbox]\nlisten = \"127.0.0.1:0\"\ndatabase = \"{}\"\n\n[demo]\nenabled = false\n",
            dir.path().join("sandbox.db").display()
        ),
    )
    .expect("writable");
    let log = dir.path().join("registratura.log");
    let mut child = std::process::Command::new(registratura_e2e::gateway_binary())
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env("REGISTRATURA_LOG", "info")
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).expect("writable"))
        .spawn()
        .expect("the gateway's binary runs");
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let base = loop {
        let text = read();
        if let Some(at) = text.find("gateway listening on http://") {
            break text[at + "gateway listening on ".len()..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect::<String>();
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the gateway stopped ({status}):\n{text}");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no listening line:\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let client = reqwest::Client::new();
    for _ in 0..20 {
        let r = client
            .get(format!("{base}/api/v1/clinics"))
            .send()
            .await
            .expect("answers");
        assert_eq!(r.status(), 200);
    }
    let metrics = registratura_e2e::metrics_text(&client, &base).await;
    // Lines reach the file a few milliseconds after their request (the writer gathers them).
    let mut text = read();
    while text.matches("request done").count() < 20 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        text = read();
    }
    let _ = child.kill();
    let _ = child.wait();

    assert!(
        !text.contains('\u{1b}'),
        "no ANSI escape in a file:\n{text}"
    );
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("request done") && l.contains("http.route=/api/v1/clinics "))
        .collect();
    assert_eq!(lines.len(), 20, "one line per request:\n{text}");
    for line in &lines {
        for field in [
            "INFO ",
            "request_id=",
            "http.method=GET",
            "http.client_ip=127.0.0.1",
            "status=200",
            "elapsed_ms=",
        ] {
            assert!(line.contains(field), "{field} in {line}");
        }
    }
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("registratura_log_lines_dropped_total ")),
        "the dropped lines' count is in /metrics:\n{metrics}"
    );
}
