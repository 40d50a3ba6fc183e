//! The FHIR server of the tests (`tests/fhir/server.js`: Medplum's FHIR router over its
//! in-memory repository, in XML through FHIR.js), seeded with the demo clinic's directory and
//! a week of its schedule, on a free loopback port. Skipped (saying so) where Node or the
//! fixture's packages are missing, failed in CI.

use chrono::{Datelike, Duration, NaiveTime, TimeZone, Weekday};
use sandbox_mis::seed;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The identifier systems of the seeded patients (the FHIR clinic's configuration names them).
pub const POLICY_SYSTEM: &str = "urn:oid:1.2.643.5.1.13.2.1.1.1504.101";
pub const DOCUMENT_SYSTEM: &str = "urn:oid:1.2.643.5.1.13.2.1.1.1504.14";

/// How many weekdays of tickets are seeded.
const DAYS: i64 = 7;

/// A running FHIR server.
#[derive(Debug)]
pub struct FhirServer {
    child: Child,
    /// `http://127.0.0.1:<port>`
    pub url: String,
    _seed: tempfile::NamedTempFile,
}

/// The other answers FHIR R4 allows a server (`tests/fhir/server.js`'s options): its name, and
/// the options (`POST /__options`).
pub const VARIANTS: &[(&str, &str)] = &[
    ("as it is", r#"{}"#),
    ("no body after a create or an update", r#"{"noBody":true}"#),
    (
        "a body after a write only when Prefer asks for it",
        r#"{"prefer":true}"#,
    ),
    (
        "outcome and include entries in every searchset",
        r#"{"outcomes":true}"#,
    ),
    (
        "pages of 10 behind opaque links, whatever _count asks",
        r#"{"page":10}"#,
    ),
    ("times in UTC", r#"{"utc":true}"#),
    (
        "all of them at once",
        r#"{"noBody":true,"outcomes":true,"page":10,"utc":true}"#,
    ),
];

/// A patient of [`seed`]'s `extra` ones: document, policy, birth date.
pub fn extra_patient(i: usize) -> (String, String, &'static str) {
    (format!("93{i:08}"), format!("93{i:014}"), "1970-01-01")
}

impl FhirServer {
    /// Answers from now on as `options` (a [`VARIANTS`] entry's JSON) say.
    pub async fn answer_as(&self, options: &str) {
        let r = reqwest::Client::new()
            .post(format!("{}/__options", self.url))
            .body(options.to_owned())
            .send()
            .await
            .expect("answers");
        assert_eq!(r.status(), 204);
    }

    /// The FHIR base URL.
    pub fn base(&self) -> String {
        format!("{}/fhir", self.url)
    }

    /// What the server refused of what it was sent (invalid, out of order).
    pub async fn violations(&self) -> Vec<String> {
        reqwest::get(format!("{}/__violations", self.url))
            .await
            .expect("answers")
            .json()
            .await
            .expect("a list")
    }

    /// Makes the next `count` `method`s on `resource` act and then lose their answer.
    pub async fn lose_answers(&self, method: &str, resource: &str, count: usize) {
        self.fault(json!({ "method": method, "resource": resource, "count": count }))
            .await;
    }

    /// Makes the next `count` `method`s on `resource` lose their answer before acting (nothing
    /// is done).
    pub async fn lose_requests(&self, method: &str, resource: &str, count: usize) {
        self.fault(
            json!({ "method": method, "resource": resource, "count": count, "before": true }),
        )
        .await;
    }

    /// Makes the next `count` `method`s on `resource` (a `PUT` of a `Slot`) meet another
    /// patient's booking of that slot just before they are handled.
    pub async fn race_for(&self, method: &str, resource: &str, count: usize) {
        self.fault(json!({ "method": method, "resource": resource, "count": count, "race": true }))
            .await;
    }

    async fn fault(&self, fault: Value) {
        let r = reqwest::Client::new()
            .post(format!("{}/__fault", self.url))
            .body(fault.to_string())
            .send()
            .await
            .expect("answers");
        assert_eq!(r.status(), 204);
    }

    /// How many faults asked for have not fired yet.
    pub async fn faults_left(&self) -> u64 {
        let faults: Vec<Value> = reqwest::get(format!("{}/__faults", self.url))
            .await
            .expect("answers")
            .json()
            .await
            .expect("a list");
        faults.iter().filter_map(|f| f["count"].as_u64()).sum()
    }

    /// A resource or a search as the server holds it (JSON), read around the gateway.
    pub async fn read(&self, path: &str) -> Value {
        reqwest::Client::new()
            .get(format!("{}/{path}", self.base()))
            .header("accept", "application/fhir+json")
            .send()
            .await
            .expect("answers")
            .json()
            .await
            .expect("JSON")
    }

    /// How many booked appointments a slot has, as the server holds it.
    pub async fn booked_of(&self, slot: &str) -> usize {
        let bundle = self
            .read(&format!("Appointment?slot=Slot/{slot}&status=booked"))
            .await;
        bundle["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["resource"]["resourceType"] == "Appointment")
            .count()
    }

    /// The statuses of the appointments of a slot, as the server holds them.
    pub async fn appointments_of(&self, slot: &str) -> Vec<String> {
        let bundle = self.read(&format!("Appointment?slot=Slot/{slot}")).await;
        bundle["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["resource"]["status"].as_str().map(str::to_owned))
            .collect()
    }
}

impl Drop for FhirServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fhir")
}

/// The demo clinic as FHIR resources: roles and practitioners of every doctor, a schedule
/// each, free and taken slots for a week of weekdays, the test patients and `extra` more
/// (`fhir-<i>`, policy `93<i:014>`, document `93<i:08>`, born 1970-01-01).
pub fn seed(extra: usize) -> Vec<Value> {
    let tz = seed::LPU_TIMEZONE;
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let mut out = Vec::new();
    for (id, specialty, name, comment, room, minutes, schedule) in seed::DOCTORS {
        let (code, display) = seed::SPECIALTIES
            .iter()
            .find(|s| s.0 == *specialty)
            .map(|s| (s.0, s.1))
            .unwrap_or(("0", "?"));
        out.push(json!({"resourceType": "Practitioner", "id": format!("p-{id}"), "name": [{"text": name}]}));
        let mut role = json!({"resourceType": "PractitionerRole", "id": format!("pr-{id}"), "active": true,
            "practitioner": {"reference": format!("Practitioner/p-{id}"), "display": name},
            "specialty": [{"coding": [{"system": "urn:registratura:specialty", "code": code, "display": display}]}]});
        if let Some(comment) = comment {
            role["availabilityExceptions"] = json!(comment);
        }
        out.push(role);
        out.push(
            json!({"resourceType": "Schedule", "id": format!("sch-{id}"), "active": true,
            "actor": [{"reference": format!("PractitionerRole/pr-{id}")}]}),
        );
        if *schedule == seed::Schedule::NotBuilt {
            continue;
        }
        let mut day = today;
        let mut days = 0;
        while days < DAYS {
            day += Duration::days(1);
            if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                continue;
            }
            days += 1;
            for n in 0..(240 / minutes) {
                let start = day
                    .and_time(NaiveTime::from_hms_opt(8, 0, 0).unwrap_or(NaiveTime::MIN))
                    + Duration::minutes(n * minutes);
                let end = start + Duration::minutes(*minutes);
                let at = |t| {
                    tz.from_local_datetime(&t)
                        .earliest()
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_default()
                };
                let slot_id = format!("s-{id}-{}", start.format("%Y%m%d%H%M"));
                let taken = *schedule == seed::Schedule::FullyBooked
                    || seed::stable_hash(&slot_id).is_multiple_of(4);
                out.push(json!({"resourceType": "Slot", "id": slot_id,
                    "schedule": {"reference": format!("Schedule/sch-{id}")},
                    "status": if taken { "busy" } else { "free" },
                    "start": at(start), "end": at(end), "comment": format!("каб. {room}")}));
            }
        }
    }
    for (id, surname, name, second, birth, document, policy) in seed::PATIENTS {
        out.push(patient(
            id,
            &format!("{surname} {name} {second}"),
            birth,
            document,
            policy,
        ));
    }
    for i in 0..extra {
        let (document, policy, birth) = extra_patient(i);
        out.push(patient(
            &format!("fhir-{i}"),
            "Тестовый Пациент",
            birth,
            &document,
            &policy,
        ));
    }
    out
}

fn patient(id: &str, name: &str, birth: &str, document: &str, policy: &str) -> Value {
    json!({"resourceType": "Patient", "id": id, "name": [{"text": name}], "birthDate": birth,
        "identifier": [{"system": POLICY_SYSTEM, "value": policy}, {"system": DOCUMENT_SYSTEM, "value": document}]})
}

/// Starts the FHIR server with `seed`, and `args` (`--token <t>`, `--client <id>:<secret>`);
/// `None` (skipped) where Node or the fixture's packages are missing, outside CI.
pub fn start_fhir_server(seed: &[Value], args: &[&str]) -> Option<FhirServer> {
    if !crate::require_tool("node", &["--version"], "runs the FHIR server of the tests") {
        return None;
    }
    let dir = fixture_dir();
    if !dir.join("node_modules/@medplum/fhir-router").is_dir() {
        assert!(
            !crate::in_ci(),
            "the FHIR fixture's packages are missing: run `npm ci` in tests/fhir"
        );
        eprintln!("SKIPPED: the FHIR fixture's packages are missing (npm ci in tests/fhir)");
        return None;
    }
    let file = tempfile::NamedTempFile::new().expect("a temp file");
    std::fs::write(file.path(), serde_json::to_vec(seed).expect("JSON")).expect("writable");
    let mut child = Command::new("node")
        .arg(dir.join("server.js"))
        .arg(file.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node starts");
    let stdout = child.stdout.take().expect("its output");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("reads");
    let port = line
        .trim()
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("the FHIR server did not start: {line:?}"))
        .to_owned();
    Some(FhirServer {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _seed: file,
    })
}

/// A FHIR clinic's configuration (id `fhir`) on `server`.
pub fn fhir_clinic(server: &FhirServer) -> registratura::config::ClinicConfig {
    let mut clinic = crate::demo_clinic("http://unused");
    clinic.id = "fhir".into();
    clinic.name = "Поликлиника FHIR".into();
    clinic.mis.protocol = registratura::config::Protocol::Fhir;
    clinic.mis.endpoint = None;
    clinic.mis.guid = String::new();
    clinic.mis.base_url = Some(server.base());
    clinic.mis.policy_system = Some(POLICY_SYSTEM.into());
    clinic.mis.document_system = Some(DOCUMENT_SYSTEM.into());
    clinic
}
