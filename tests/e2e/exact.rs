//! The API contract is exact: walking the route table, every answer a route gives (to good
//! input, malformed input, an unknown clinic, a missing token) is one the OpenAPI document
//! declares for that route, with that problem code.

use registratura::routes::ENDPOINTS;
use registratura_e2e::{
    FULL_SPECIALTY, PATIENT_FOUND, REFERRAL_VALID, RawAnswer, raw_exchange, spawn_app,
};
use serde_json::Value;
use std::path::PathBuf;

fn spec() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("the committed spec")).expect("JSON")
}

/// Checks that `response` is declared for the operation, and that a problem's code is one of
/// its status's codes.
async fn declared(spec: &Value, path: &str, method: &str, what: &str, response: reqwest::Response) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.bytes().await.expect("a body");
    declared_parts(spec, (path, method, what), status, &content_type, &body);
}

/// [`declared`], for an answer read off a raw connection.
fn declared_raw(spec: &Value, path: &str, method: &str, what: &str, answer: &RawAnswer) {
    let content_type = answer.header("content-type").unwrap_or("");
    declared_parts(
        spec,
        (path, method, what),
        answer.status,
        content_type,
        &answer.body,
    );
}

fn declared_parts(
    spec: &Value,
    (path, method, what): (&str, &str, &str),
    status: u16,
    content_type: &str,
    body: &[u8],
) {
    let operation = &spec["paths"][path][method.to_ascii_lowercase()];
    let declared = &operation["responses"][status.to_string()];
    assert!(
        declared.is_object(),
        "{method} {path} ({what}) answered {status}, which it does not declare"
    );
    if status >= 400 {
        assert!(
            content_type.starts_with("application/problem+json"),
            "{what}: {content_type}"
        );
        let problem: api_types::Problem = serde_json::from_slice(body).expect("a problem");
        // What a user or an integrator reads is a sentence, whichever layer wrote it.
        let texts = problem
            .detail
            .iter()
            .chain(problem.errors.iter().map(|e| &e.message));
        for text in texts {
            assert!(
                is_sentence(text),
                "{method} {path} ({what}): {text:?} is not a sentence"
            );
        }
        let codes = declared["description"].as_str().unwrap_or("");
        assert!(
            codes.contains(&format!("`{}`", problem.code.as_str())),
            "{method} {path} ({what}): {status} {} is not declared ({codes})",
            problem.code.as_str()
        );
    }
}

/// `body` with every string value replaced by one too long for any field (but the body
/// within the size limit).
fn too_long_body(body: &str) -> String {
    let mut value: Value = serde_json::from_str(body).expect("JSON");
    for (_, v) in value.as_object_mut().expect("an object").iter_mut() {
        *v = Value::String("9".repeat(2100));
    }
    value.to_string()
}

/// Starts with a capital letter (or a quoted name) and ends with a full stop.
fn is_sentence(text: &str) -> bool {
    let first = text.chars().next();
    first.is_some_and(|c| c.is_uppercase() || c == '`') && text.ends_with(['.', '?', '!'])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_of_every_route_is_declared_in_the_openapi_document() {
    let spec = spec();
    let app = spawn_app().await;
    let (doctor, slot) = app.free_slot("Терапия").await;
    let specialty = app.specialties().await[0].id.clone();
    let token = app.login(PATIENT_FOUND).await;
    let ticket: api_types::Ticket = app
        .book(&token, &slot.id, None)
        .await
        .json()
        .await
        .expect("a ticket");
    let full = app
        .all_specialties()
        .await
        .into_iter()
        .find(|s| s.name == FULL_SPECIALTY)
        .expect("a specialty without tickets");
    let waiting_body = serde_json::json!({"specialty_id": full.id, "phone": "+7 916 123-45-67"});
    let waiting: api_types::WaitingRequest = app
        .join_waiting_list(&token, &waiting_body)
        .await
        .json()
        .await
        .expect("a request");
    let other_slot = app
        .slots(&doctor.id, slot.start.date_naive())
        .await
        .into_iter()
        .find(|s| s.id != slot.id)
        .expect("another free time");
    let good = |name: &str| -> String {
        match name {
            "clinic" => "demo".into(),
            "specialty" => specialty.clone(),
            "doctor" => doctor.id.clone(),
            "ticket" => ticket.id.clone(),
            "request" => waiting.id.clone(),
            "number" => REFERRAL_VALID.into(),
            _ => "x".into(),
        }
    };
    let today = registratura_e2e::clinic_today();
    let mut answers = 0;
    let mut slow_heads = Vec::new();
    for endpoint in ENDPOINTS {
        let route = endpoint.route;
        let method = route.method.as_str();
        let params: Vec<&str> = route.params().collect();
        let url_with = |swap: Option<(&str, &str)>| {
            let args: Vec<String> = params
                .iter()
                .map(|p| match swap {
                    Some((name, value)) if name == *p => value.to_owned(),
                    _ => good(p),
                })
                .collect();
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            format!("{}{}", app.base, route.url(&refs))
        };
        let has_query = route.path.ends_with("/dates") || route.path.ends_with("/slots");
        let good_query = if route.path.ends_with("/slots") {
            format!("?date={today}")
        } else {
            String::new()
        };
        let body_route = route.method == api_types::routes::Method::Post;
        let good_body = if route.path.ends_with("/sessions") {
            serde_json::json!({"document_number": PATIENT_FOUND.0, "policy_number": PATIENT_FOUND.1, "birth_date": PATIENT_FOUND.2})
                .to_string()
        } else if route.path.ends_with("/waiting-list") {
            waiting_body.to_string()
        } else if route.path.ends_with("/reschedule") {
            serde_json::json!({ "slot_id": other_slot.id }).to_string()
        } else {
            serde_json::json!({ "slot_id": slot.id }).to_string()
        };
        // Well-formed JSON of the route's own fields, each refused by its rules.
        let invalid_body = if route.path.ends_with("/sessions") {
            r#"{"document_number":"","policy_number":"1","birth_date":"x"}"#
        } else if route.path.ends_with("/waiting-list") {
            r#"{"specialty_id":"!","doctor_id":"!","phone":"1","from":"x","to":"2020-01-01"}"#
        } else if route.path.ends_with("/reschedule") {
            r#"{"slot_id":"!","referral":""}"#
        } else {
            r#"{"slot_id":"!","referral":"№ 1"}"#
        };
        let send = |url: String, token: Option<&str>, content_type: &str, body: String| {
            let mut req = app.client.request(
                reqwest::Method::from_bytes(method.as_bytes()).expect("a method"),
                url,
            );
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if body_route {
                req = req
                    .header("content-type", content_type.to_owned())
                    .body(body);
            }
            req.send()
        };
        let mut cases: Vec<(String, reqwest::Response)> = Vec::new();
        let json = "application/json";
        let url = url_with(None) + good_query.as_str();
        cases.push((
            "unknown clinic".into(),
            send(
                url_with(Some(("clinic", "nope"))) + good_query.as_str(),
                Some(&token),
                json,
                good_body.clone(),
            )
            .await
            .expect("answers"),
        ));
        cases.push((
            "no token".into(),
            send(url.clone(), None, json, good_body.clone())
                .await
                .expect("answers"),
        ));
        cases.push((
            "a forged token".into(),
            send(url.clone(), Some("forged"), json, good_body.clone())
                .await
                .expect("answers"),
        ));
        for p in params.iter().filter(|p| **p != "clinic") {
            for bad in ["!!", "Zm9v", &"A".repeat(3000)] {
                cases.push((
                    format!("{p} = {bad:.10}"),
                    send(
                        url_with(Some((p, bad))) + good_query.as_str(),
                        Some(&token),
                        json,
                        good_body.clone(),
                    )
                    .await
                    .expect("answers"),
                ));
            }
        }
        if has_query {
            for q in [
                "?date=x",
                "?from=2020-13-01",
                "?to=%2B262142-01-01",
                "?date=2020-01-01&from=x",
            ] {
                cases.push((
                    format!("query {q}"),
                    send(url_with(None) + q, Some(&token), json, String::new())
                        .await
                        .expect("answers"),
                ));
            }
        }
        if body_route {
            for (what, content_type, body) in [
                ("text body", "text/plain", "x".to_owned()),
                ("broken JSON", json, "{".to_owned()),
                (
                    "unknown field",
                    json,
                    r#"{"slot_id":"x","extra":1}"#.to_owned(),
                ),
                ("wrong type", json, r#"{"slot_id":1}"#.to_owned()),
                ("empty object", json, "{}".to_owned()),
                (
                    "huge",
                    json,
                    format!("{{\"slot_id\":\"{}\"}}", "a".repeat(20_000)),
                ),
                ("invalid values", json, invalid_body.to_owned()),
                ("values too long", json, too_long_body(invalid_body)),
                (
                    "an invalid referral",
                    json,
                    r#"{"slot_id":"x","referral":"№ 1"}"#.to_owned(),
                ),
            ] {
                cases.push((
                    what.into(),
                    send(url.clone(), Some(&token), content_type, body)
                        .await
                        .expect("answers"),
                ));
            }
        }
        // What the edge refuses before any route runs: a compressed body, a URI too long.
        let compressed = app
            .client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).expect("a method"),
                url.clone(),
            )
            .bearer_auth(&token)
            .header("content-type", json)
            .header("content-encoding", "gzip")
            .body(vec![0x1f, 0x8b, 8, 0])
            .send()
            .await
            .expect("answers");
        cases.push(("a compressed body".into(), compressed));
        let long = format!(
            "{url}{}pad={}",
            if has_query && !good_query.is_empty() {
                "&"
            } else {
                "?"
            },
            "a".repeat(9 * 1024)
        );
        cases.push((
            "a URI too long".into(),
            send(long, Some(&token), json, good_body.clone())
                .await
                .expect("answers"),
        ));
        cases.push((
            "good input".into(),
            send(url.clone(), Some(&token), json, good_body.clone())
                .await
                .expect("answers"),
        ));
        for (what, response) in cases {
            declared(&spec, route.path, method, what.as_str(), response).await;
            answers += 1;
        }
        // What actix's HTTP layer refuses before any service runs, on this route's path.
        let target = route.url(
            &params
                .iter()
                .map(|p| good(p))
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        let line = format!("{method} {target} HTTP/1.1\r\nHost: x\r\n");
        for (what, bytes) in [
            (
                "a malformed header",
                format!("{line}no colon\r\n\r\n").into_bytes(),
            ),
            (
                "a head of 140 KB",
                format!("{line}X-Big: {}\r\n\r\n", "a".repeat(140 * 1024)).into_bytes(),
            ),
        ] {
            let answer = raw_exchange(&app.base, &bytes).await;
            declared_raw(&spec, route.path, method, what, &answer);
            answers += 1;
        }
        slow_heads.push((route.path, method, line));
    }
    // Heads that never end, all at once: each waits out the head timeout.
    let slow = futures_util::future::join_all(slow_heads.iter().map(|(path, method, line)| {
        let base = app.base.clone();
        async move { (*path, *method, raw_exchange(&base, line.as_bytes()).await) }
    }))
    .await;
    for (path, method, answer) in slow {
        assert_eq!(answer.status, 408, "{method} {path}");
        declared_raw(&spec, path, method, "a head that never ends", &answer);
        answers += 1;
    }
    eprintln!(
        "{answers} answers of {} routes checked against the spec",
        ENDPOINTS.len()
    );
}

/// What the OpenAPI document says a string field accepts: its pattern and length.
fn field_rule(spec: &Value, schema: &str, field: &str) -> (regex::Regex, usize) {
    let f = &spec["components"]["schemas"][schema]["properties"][field];
    let pattern = f["pattern"].as_str().expect("a pattern");
    let max = f["maxLength"].as_u64().map_or(usize::MAX, |m| m as usize);
    (
        regex::Regex::new(pattern).expect("a pattern the Rust regex crate reads"),
        max,
    )
}

#[test]
fn a_schema_valid_request_is_never_invalid_input_and_a_schema_invalid_one_always_is() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let spec = spec();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let app = runtime.block_on(spawn_app());
    let token = runtime.block_on(app.login(PATIENT_FOUND));
    let (doc_re, doc_max) = field_rule(&spec, "NewSession", "document_number");
    let (pol_re, pol_max) = field_rule(&spec, "NewSession", "policy_number");
    let (slot_re, slot_max) = field_rule(&spec, "NewTicket", "slot_id");
    let fits = |re: &regex::Regex, max: usize, s: &str| re.is_match(s) && s.chars().count() <= max;
    let identify = |d: &str, p: &str, b: &str| {
        let r = runtime.block_on(app.post_session((d, p, b)));
        r.status().as_u16()
    };
    let mut runner = TestRunner::new(Config {
        cases: 64,
        ..Config::default()
    });
    let unanchored = |re: &regex::Regex| {
        let p = re.as_str();
        p.strip_prefix('^')
            .and_then(|p| p.strip_suffix('$'))
            .unwrap_or(p)
            .to_owned()
    };
    let doc_valid = proptest::string::string_regex(&unanchored(&doc_re)).expect("a strategy");
    let pol_valid = proptest::string::string_regex(&unanchored(&pol_re)).expect("a strategy");
    let date_valid =
        (1900i32..2100, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"));
    runner
        .run(&(doc_valid, pol_valid, date_valid), |(d, p, b)| {
            prop_assume!(fits(&doc_re, doc_max, &d) && fits(&pol_re, pol_max, &p));
            let status = identify(&d, &p, &b);
            prop_assert!(
                matches!(status, 201 | 404 | 409),
                "{status} for {d:?} {p:?} {b:?}"
            );
            Ok(())
        })
        .expect("schema-valid identities are never invalid_input");
    let anything = proptest::collection::vec(
        prop_oneof![
            Just('1'),
            Just(' '),
            Just('-'),
            Just('Ж'),
            Just('\t'),
            Just('x'),
            any::<char>()
        ],
        0..40,
    )
    .prop_map(|v| v.into_iter().collect::<String>());
    runner
        .run(&anything, |s| {
            if !fits(&doc_re, doc_max, &s) {
                prop_assert_eq!(
                    identify(&s, "7700000000000001", "1980-05-17"),
                    422,
                    "{:?}",
                    s
                );
            }
            if !fits(&pol_re, pol_max, &s) {
                prop_assert_eq!(identify("4510 123456", &s, "1980-05-17"), 422, "{:?}", s);
            }
            Ok(())
        })
        .expect("schema-invalid identities are always invalid_input");
    let slot_valid = proptest::string::string_regex("[A-Za-z0-9_-]{1,64}").expect("a strategy");
    runner
        .run(&slot_valid, |s| {
            prop_assert!(fits(&slot_re, slot_max, &s));
            let r = runtime.block_on(app.book(&token, &s, None));
            prop_assert_ne!(r.status().as_u16(), 422, "{:?}", s);
            Ok(())
        })
        .expect("schema-valid slot ids are never invalid_input");

    // The phone of the waiting list: what the schema accepts, the gateway accepts.
    let (phone_re, phone_max) = field_rule(&spec, "NewWaitingRequest", "phone");
    let full = runtime
        .block_on(app.all_specialties())
        .into_iter()
        .find(|s| s.name == registratura_e2e::FULL_SPECIALTY)
        .expect("a specialty without tickets");
    let join = |phone: &str| {
        let body = serde_json::json!({"specialty_id": full.id, "phone": phone});
        runtime
            .block_on(app.join_waiting_list(&token, &body))
            .status()
            .as_u16()
    };
    let phone_valid = proptest::string::string_regex(&unanchored(&phone_re)).expect("a strategy");
    runner
        .run(&phone_valid, |s| {
            prop_assume!(fits(&phone_re, phone_max, &s));
            let status = join(&s);
            prop_assert!(matches!(status, 201 | 409), "{status} for {s:?}");
            Ok(())
        })
        .expect("schema-valid phones are never invalid_input");
    let phone_like = proptest::collection::vec(
        prop_oneof![
            8 => proptest::char::range('0', '9'),
            1 => Just(' '),
            1 => Just('+'),
            1 => Just('('),
            1 => Just('-'),
            1 => any::<char>(),
        ],
        0..26,
    )
    .prop_map(|v| v.into_iter().collect::<String>());
    runner
        .run(&phone_like, |s| {
            if !fits(&phone_re, phone_max, &s) {
                prop_assert_eq!(join(&s), 422, "{:?}", s);
            }
            Ok(())
        })
        .expect("schema-invalid phones are always invalid_input");
}
