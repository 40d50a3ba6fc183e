//! `registratura serve`: JSON logs and request ids, the audit trail and `SIGHUP`, graceful
//! shutdown on `SIGTERM`.

use crate::process::{PATIENT, PATIENT_2, Served, config};
use serde_json::Value;
use std::time::Duration;

/// A few free slots of different specialties (a patient may hold one per specialty), looked
/// up in parallel (the МИС may be slow).
async fn free_slots(client: &reqwest::Client, api: &str, n: usize) -> Vec<String> {
    let get = |url: String| {
        let client = client.clone();
        async move {
            client
                .get(url)
                .send()
                .await
                .expect("answers")
                .json::<Value>()
                .await
                .expect("JSON")
        }
    };
    let specialties = get(format!("{api}/specialties")).await;
    let lookups = specialties["items"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| {
            let id = s["id"].as_str().expect("an id").to_owned();
            async move {
                let doctors = get(format!("{api}/specialties/{id}/doctors")).await;
                let doctor = doctors["items"][0]["id"].as_str()?.to_owned();
                let dates = get(format!("{api}/doctors/{doctor}/dates")).await;
                let date = dates["dates"].as_array()?.last()?.as_str()?.to_owned();
                let list = get(format!("{api}/doctors/{doctor}/slots?date={date}")).await;
                Some(list["items"].as_array()?.last()?["id"].as_str()?.to_owned())
            }
        });
    futures_util::future::join_all(lookups)
        .await
        .into_iter()
        .flatten()
        .take(n)
        .collect()
}

async fn login(client: &reqwest::Client, api: &str, p: (&str, &str, &str)) -> String {
    let r: Value = client
        .post(format!("{api}/sessions"))
        .json(&serde_json::json!({"document_number": p.0, "policy_number": p.1, "birth_date": p.2}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("a session");
    r["token"].as_str().expect("a token").to_owned()
}

#[tokio::test]
async fn json_logs_carry_the_request_id_the_answer_and_its_problem_quote() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = config(dir.path(), "trusted_proxies = [\"127.0.0.1\"]", "");
    let mut served = Served::start(&config, &["--log-format", "json"]);
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{}/api/v1/clinics/nope/specialties", served.base))
        .send()
        .await
        .expect("answers");
    let id = r
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("every answer has an id")
        .to_owned();
    let problem: Value = r.json().await.expect("a problem");
    assert_eq!(problem["request_id"], id.as_str(), "the problem quotes it");
    let r = client
        .get(format!("{}/healthz", served.base))
        .header("x-request-id", "lb-7f3a.42")
        .send()
        .await
        .expect("answers");
    assert_eq!(
        r.headers().get("x-request-id").map(|v| v.as_bytes()),
        Some(&b"lb-7f3a.42"[..]),
        "a trusted proxy's id is kept"
    );
    let line = served.wait_for(&id);
    let json: Value = serde_json::from_str(&line).expect("a JSON line");
    assert_eq!(json["span"]["request_id"], id.as_str(), "{line}");
    served.wait_for("lb-7f3a.42");
    for line in served.drain() {
        assert!(
            serde_json::from_str::<Value>(line).is_ok_and(|v| v.is_object()),
            "not one JSON object: {line}"
        );
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_audit_trail_names_bookings_without_personal_data_and_reopens_on_sighup() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let audit = dir.path().join("audit.jsonl");
    let config = config(
        dir.path(),
        "",
        &format!(
            "[audit]\npath = \"{}\"\nsecret = \"a long enough audit secret\"",
            audit.display()
        ),
    );
    let mut served = Served::start(&config, &[]);
    let client = reqwest::Client::new();
    let api = format!("{}/api/v1/clinics/demo", served.base);
    let slots = free_slots(&client, &api, 2).await;
    let token = login(&client, &api, PATIENT).await;
    let book = |slot: String| {
        client
            .post(format!("{api}/tickets"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "slot_id": slot }))
            .send()
    };
    let first = book(slots[0].clone()).await.expect("answers");
    assert_eq!(first.status(), 201);
    let request_id = first.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    std::fs::rename(&audit, dir.path().join("audit.jsonl.1")).expect("rotated");
    served.signal("HUP");
    served.wait_for("audit trail reopened");
    assert_eq!(book(slots[1].clone()).await.expect("answers").status(), 201);
    let old = std::fs::read_to_string(dir.path().join("audit.jsonl.1")).expect("the old file");
    let new = std::fs::read_to_string(&audit).expect("a new file");
    assert_eq!((old.lines().count(), new.lines().count()), (1, 1));
    let entry: Value = serde_json::from_str(old.trim()).expect("a JSON line");
    assert_eq!(entry["operation"], "book");
    assert_eq!(entry["outcome"], "booked");
    assert_eq!(entry["clinic"], "demo");
    assert_eq!(entry["request_id"], request_id.as_str());
    let second: Value = serde_json::from_str(new.trim()).expect("a JSON line");
    assert_eq!(
        entry["patient"], second["patient"],
        "one patient, one pseudonym"
    );
    assert_eq!(entry["patient"].as_str().map(str::len), Some(32));
    for secret in ["4510", "123456", "7700000000000001", "1980"] {
        assert!(!old.contains(secret) && !new.contains(secret), "{secret}");
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_every_started_booking_finish_and_answer() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = config(dir.path(), "shutdown_grace_secs = 20", "");
    // A slow МИС: every call takes 1.5 s, so bookings are in flight when the signal comes.
    let config_text = std::fs::read_to_string(&config)
        .expect("reads")
        .replace("[sandbox]\n", "[sandbox]\nlatency_ms = 1500\n");
    std::fs::write(&config, config_text).expect("writes");
    let served = Served::start(&config, &[]);
    let client = reqwest::Client::new();
    let api = format!("{}/api/v1/clinics/demo", served.base);
    let slots = free_slots(&client, &api, 8).await;
    assert!(slots.len() >= 6, "enough slots");
    let (first, second) = tokio::join!(
        login(&client, &api, PATIENT),
        login(&client, &api, PATIENT_2)
    );
    let tokens = [first, second];
    let bookings: Vec<_> = slots
        .iter()
        .enumerate()
        .map(|(i, slot)| {
            let (client, api, token, slot) = (
                client.clone(),
                api.clone(),
                tokens[i % 2].clone(),
                slot.clone(),
            );
            tokio::spawn(async move {
                let r = client
                    .post(format!("{api}/tickets"))
                    .bearer_auth(token)
                    .json(&serde_json::json!({ "slot_id": slot }))
                    .send()
                    .await;
                (slot, r.map(|r| r.status().as_u16()))
            })
        })
        .collect();
    // Both patients' bookings are at the МИС (each holds a place among the calls in flight, as
    // `/metrics` shows; a patient's others wait for their turn in the gateway): now the
    // gateway is asked to stop.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let metrics = client
            .get(format!("{}/metrics", served.base))
            .send()
            .await
            .expect("answers")
            .text()
            .await
            .expect("a body");
        let in_flight = metrics
            .lines()
            .find_map(|l| l.strip_prefix("registratura_mis_in_flight{bound=\"all\"} "))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        if in_flight >= 2.0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the bookings never reached the МИС:\n{metrics}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    served.signal("TERM");
    let mut answered = Vec::new();
    for b in bookings {
        let (slot, status) = b.await.expect("the task ends");
        let status = status.expect("every booking started before the signal is answered");
        assert!(matches!(status, 201 | 409), "{status}");
        if status == 201 {
            answered.push(slot);
        }
    }
    let mut served = served;
    assert_eq!(
        served.wait_exit(Duration::from_secs(30)),
        Some(0),
        "a clean exit"
    );
    let refused = client.get(format!("{}/healthz", served.base)).send().await;
    assert!(refused.is_err(), "no new connections after the stop");
    // The МИС holds exactly the bookings that were answered.
    let sandbox = sandbox_mis::Sandbox::open(&sandbox_mis::SandboxConfig {
        database: dir.path().join("sandbox.db"),
        ..sandbox_mis::SandboxConfig::default()
    })
    .expect("the sandbox's file opens");
    let booked = sandbox.store().booked_slots().expect("reads");
    assert_eq!(booked.len(), answered.len(), "{booked:?}");
}
