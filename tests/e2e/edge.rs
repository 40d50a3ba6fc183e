//! The edge of the gateway: every answer is a problem document of ours (the framework's own
//! refusals too), forwarded headers count only from trusted proxies, and a move keeps the
//! visit what it was.

use registratura_e2e::{
    PATIENT_FOUND, REFERRAL_EXPIRED, REFERRAL_VALID, TestApp, demo_clinic, expect_problem,
    gateway_config, raw_exchange, spawn_app, start_gateway, start_sandbox,
};
use std::time::{Duration, Instant};

/// Checks what every answer of the gateway carries.
fn ours(answer: &registratura_e2e::RawAnswer) {
    for header in [
        "x-request-id",
        "x-content-type-options",
        "referrer-policy",
        "x-frame-options",
    ] {
        assert!(answer.header(header).is_some(), "{header} in {answer:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_http_layer_refuses_is_a_problem_document_of_ours() {
    let app = spawn_app().await;
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "a header line without a colon",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n".to_vec(),
            400,
            "bad_request",
        ),
        (
            "a request line that is not HTTP",
            b"HELLO THERE\r\n\r\n".to_vec(),
            400,
            "bad_request",
        ),
        (
            "a space in a header name",
            b"POST /api/v1/clinics/demo/sessions HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n"
                .to_vec(),
            400,
            "bad_request",
        ),
        (
            "a head of 140 KB",
            format!(
                "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
                "a".repeat(140 * 1024)
            )
            .into_bytes(),
            431,
            "headers_too_large",
        ),
        (
            "a URI of 9 KB",
            format!(
                "GET /api/v1/clinics?x={} HTTP/1.1\r\nHost: x\r\n\r\n",
                "a".repeat(9 * 1024)
            )
            .into_bytes(),
            414,
            "uri_too_long",
        ),
        (
            "a compressed body",
            b"POST /api/v1/clinics/demo/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: br\r\nContent-Length: 4\r\n\r\nabcd"
                .to_vec(),
            415,
            "unsupported_media_type",
        ),
    ];
    for (what, bytes, status, code) in cases {
        let answer = raw_exchange(&app.base, &bytes).await;
        let problem = answer.problem(status, code);
        ours(&answer);
        assert_eq!(
            problem.request_id.as_deref(),
            answer.header("x-request-id"),
            "{what}: the body quotes the id"
        );
    }
    let docs = app
        .client
        .get(format!("{}/docs/nope", app.base))
        .send()
        .await
        .expect("answers");
    assert!(docs.headers().contains_key("x-request-id"));
    expect_problem(docs, 404, "not_found").await;
}

/// A gateway whose clients have `head_timeout_secs` to send a head.
async fn gateway_with_head_timeout(secs: u64) -> String {
    let (_sandbox, url) = start_sandbox();
    let mut config = gateway_config(vec![demo_clinic(&url)]);
    config.server.head_timeout_secs = secs;
    start_gateway(config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_head_is_cut_off_with_a_problem_and_a_slowly_typed_one_in_time_is_served() {
    let base = gateway_with_head_timeout(1).await;
    let started = Instant::now();
    let answer = raw_exchange(&base, b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await;
    answer.problem(408, "request_timeout");
    ours(&answer);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "cut off at the timeout, not before"
    );
    // A head dripped within the timeout is a request like any other.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .expect("connects");
    for part in [
        "GET /healthz HTTP/1.1\r\n",
        "Host: x\r\n",
        "Connection: close\r\n",
        "\r\n",
    ] {
        socket.write_all(part.as_bytes()).await.expect("writes");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let mut got = String::new();
    socket.read_to_string(&mut got).await.expect("reads");
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
}

/// The status page's snippet.
async fn snippet(base: &str, headers: &[(&str, &str)]) -> String {
    let mut req = reqwest::Client::new().get(format!("{base}/"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let page = req
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("text");
    let start = page.find("&lt;script src=&quot;").expect("the snippet");
    page[start..start + 120].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_headers_count_only_from_trusted_proxies_and_the_mis_state_only_for_operators() {
    let (_sandbox, url) = start_sandbox();
    let forged: [(&str, &str); 4] = [
        ("Forwarded", "host=evil.example;proto=https"),
        ("X-Forwarded-Host", "evil.example"),
        ("X-Forwarded-Proto", "https"),
        ("X-Real-IP", "6.6.6.6"),
    ];
    // Nobody trusted, nobody an operator.
    let mut config = gateway_config(vec![demo_clinic(&url)]);
    config.server.operator_allow = vec!["192.0.2.1".into()];
    let base = start_gateway(config.clone()).await;
    for header in forged {
        let shown = snippet(&base, &[header]).await;
        assert!(!shown.contains("evil"), "{header:?}: {shown}");
        assert!(shown.contains(&base), "{header:?}: {shown}");
    }
    let page = reqwest::get(format!("{base}/"))
        .await
        .expect("answers")
        .text()
        .await
        .expect("text");
    for operator_only in [
        "<span class=\"up\">",
        "<span class=\"down\">",
        "МИС недоступна",
        "<th>МИС</th>",
    ] {
        assert!(
            !page.contains(operator_only),
            "{operator_only} shown to anyone"
        );
    }
    // Loopback trusted as a proxy: what it forwards counts.
    config.server.trusted_proxies = vec!["127.0.0.1".into()];
    let trusted = start_gateway(config.clone()).await;
    let shown = snippet(&trusted, &[forged[0]]).await;
    assert!(shown.contains("https://evil.example/widget.js"), "{shown}");
    let shown = snippet(&trusted, &[forged[1], forged[2]]).await;
    assert!(shown.contains("https://evil.example/widget.js"), "{shown}");
    // `public_url` wins over anything forwarded.
    config.server.public_url = Some("https://clinic.example/registry".into());
    let public = start_gateway(config.clone()).await;
    let shown = snippet(&public, &[forged[0]]).await;
    assert!(
        shown.contains("https://clinic.example/registry/widget.js"),
        "{shown}"
    );
    // Operators see each clinic's МИС.
    config.server.operator_allow = vec!["127.0.0.1".into()];
    config.server.public_url = None;
    let operated = start_gateway(config).await;
    let page = reqwest::get(format!("{operated}/"))
        .await
        .expect("answers")
        .text()
        .await
        .expect("text");
    assert!(page.contains("<span class=\"up\">работает / up</span>"));
}

/// Books a free ticket of `specialty`; its id.
async fn book(app: &TestApp, token: &str, specialty: &str) -> String {
    let (_, slot) = app.free_slot(specialty).await;
    let r = app.book(token, &slot.id, None).await;
    assert_eq!(r.status(), 201);
    r.json::<api_types::Ticket>().await.expect("a ticket").id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_keeps_the_visit_s_specialty_and_its_referral() {
    let app = spawn_app().await;
    let token = app.login(PATIENT_FOUND).await;
    let therapy = book(&app, &token, "Терапия").await;
    // Into another specialty: refused on `slot_id`, the ticket kept.
    let (_, urology) = app.free_slot("Урология").await;
    let r = app.reschedule(&token, &therapy, &urology.id, None).await;
    let problem = expect_problem(r, 422, "invalid_input").await;
    assert_eq!(problem.errors[0].field, "slot_id");
    assert_eq!(problem.errors[0].reason, "other_specialty");
    // Into a referral doctor's time, by a referral, for a visit booked without one.
    let times: api_types::List<api_types::Slot> = app
        .get_private(&token, &format!("/referrals/{REFERRAL_VALID}/slots"))
        .await
        .json()
        .await
        .expect("the referral's times");
    let body = serde_json::json!({"slot_id": times.items[0].id, "referral": REFERRAL_VALID});
    let r = app
        .post_private(
            &token,
            &format!("/tickets/{therapy}/reschedule"),
            &body,
            None,
        )
        .await;
    let problem = expect_problem(r, 422, "invalid_input").await;
    assert_eq!(problem.errors[0].field, "slot_id", "{problem:?}");
    let tickets = app.my_tickets(&token).await;
    assert_eq!(tickets.len(), 1, "nothing moved: {tickets:?}");
    assert_eq!(tickets[0].id, therapy);
    // A visit booked by referral moves with its own referral only.
    let r = app
        .book_by_referral(&token, &times.items[0].id, REFERRAL_VALID)
        .await;
    assert_eq!(r.status(), 201);
    let by_referral = r.json::<api_types::Ticket>().await.expect("a ticket").id;
    let body = serde_json::json!({"slot_id": times.items[1].id, "referral": REFERRAL_EXPIRED});
    let r = app
        .post_private(
            &token,
            &format!("/tickets/{by_referral}/reschedule"),
            &body,
            None,
        )
        .await;
    let problem = expect_problem(r, 422, "invalid_input").await;
    assert_eq!(problem.errors[0].field, "referral");
    assert_eq!(problem.errors[0].reason, "other_referral");
    // A visit booked without one cannot be moved "by" a referral of its own specialty either.
    let (_, other_therapy) = app.free_slot("Терапия").await;
    let body = serde_json::json!({"slot_id": other_therapy.id, "referral": REFERRAL_VALID});
    let r = app
        .post_private(
            &token,
            &format!("/tickets/{therapy}/reschedule"),
            &body,
            None,
        )
        .await;
    let problem = expect_problem(r, 422, "invalid_input").await;
    assert_eq!(problem.errors[0].field, "referral");
    assert_eq!(problem.errors[0].reason, "not_by_referral");
    // Within its specialty it moves.
    let r = app
        .reschedule(&token, &therapy, &other_therapy.id, None)
        .await;
    assert_eq!(r.status(), 201);
}

/// What the README's «Headers» promises, page by page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_but_the_widget_s_refuses_framing_and_the_widget_page_has_its_own_csp() {
    let app = spawn_app().await;
    let get = |path: &str| {
        let (client, url) = (app.client.clone(), format!("{}{path}", app.base));
        async move { client.get(url).send().await.expect("answers") }
    };
    for path in [
        "/",
        "/healthz",
        "/api/v1/clinics",
        "/api/v1/clinics/demo/specialties",
        "/docs/",
        "/nope",
    ] {
        let r = get(path).await;
        let h = r.headers();
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
    }
    let widget = get("/widget/?clinic=demo").await;
    assert_eq!(widget.status(), 200);
    let h = widget.headers();
    assert!(h.get("x-frame-options").is_none(), "the widget is framed");
    let csp = h["content-security-policy"].to_str().expect("text");
    for part in [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "frame-ancestors",
    ] {
        assert!(csp.contains(part), "{part} in {csp}");
    }
    assert!(
        !csp.contains("'unsafe-inline'"),
        "no inline scripts or styles allowed: {csp}"
    );
}
