//! Test support: start a sandbox МИС, a recording proxy in front of it and a gateway, all on
//! loopback with port 0, and talk to them through typed helpers.
//!
//! Tracing stays quiet unless `TEST_LOG` is set. Tests that need an outside tool call
//! [`require_tool`], which skips them (saying why) unless `REGISTRATURA_CI=1`.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use api_types::{Doctor, List, Session, Slot, Specialty, Ticket};
use gateway_domain::limits::RateLimitConfig;
use registratura::config::{
    CacheConfig, ClinicConfig, Config, MisConfig, SandboxSettings, ServerConfig,
};
use sandbox_mis::{Sandbox, SandboxConfig};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Once};

pub mod failover;
pub mod fhir;
pub mod smtp;

/// The three test patients of the README.
pub const PATIENT_FOUND: (&str, &str, &str) = ("4510 123456", "7700000000000001", "1980-05-17");
pub const PATIENT_FOUND_2: (&str, &str, &str) = ("4511 654321", "7700000000000002", "1955-01-09");
pub const PATIENT_DUPLICATE: (&str, &str, &str) = ("4512 111111", "7700000000000003", "1990-03-03");

static TRACING: Once = Once::new();

fn init_tracing() {
    TRACING.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            // Kept for the whole test process.
            std::mem::forget(registratura::telemetry::init(
                "debug",
                registratura::telemetry::LogFormat::Text,
            ));
        }
    });
}

/// Today in the demo clinic's zone (Europe/Moscow), as the gateway and the sandbox count days:
/// near midnight it is not the UTC date.
pub fn clinic_today() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&sandbox_mis::seed::LPU_TIMEZONE)
        .date_naive()
}

/// Whether `line` holds `secret` as a number of its own: not inside a longer number or word (a
/// port, a time, a decimal such as `4964.926` ms, a random hex id such as `e4512f`), where it
/// could turn up by chance.
pub fn contains_number(line: &str, secret: &str) -> bool {
    line.match_indices(secret).any(|(at, _)| {
        let mut before = line[..at].chars().rev();
        let mut after = line[at + secret.len()..].chars();
        // A neighbour continues the number if it is a letter or a digit, or a decimal point
        // with a digit beyond it.
        let continues = |next: Option<char>, beyond: Option<char>| {
            next.is_some_and(|c| c.is_ascii_alphanumeric())
                || (next == Some('.') && beyond.is_some_and(|c| c.is_ascii_digit()))
        };
        !continues(before.next(), before.next()) && !continues(after.next(), after.next())
    })
}

/// Whether the tests run in CI, where every optional tool must be present.
pub fn in_ci() -> bool {
    std::env::var("REGISTRATURA_CI").is_ok_and(|v| v == "1")
}

/// Whether `program` can be run; if not, says the test is skipped (or fails in CI).
pub fn require_tool(program: &str, args: &[&str], why: &str) -> bool {
    let ok = std::process::Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            !in_ci(),
            "{program} is required when REGISTRATURA_CI=1 ({why})"
        );
        eprintln!("SKIPPED: {program} is not available ({why})");
    }
    ok
}

/// The hub contract's folder in `../shared`, if present; otherwise says the test is skipped
/// (or fails in CI).
pub fn contract_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/mis/netrika-hub");
    if dir.join("xsd0.xsd").is_file() {
        Some(dir)
    } else {
        assert!(
            !in_ci(),
            "../shared/mis/netrika-hub is required when REGISTRATURA_CI=1"
        );
        eprintln!(
            "SKIPPED: ../shared/mis/netrika-hub is not here (it exists only in development and CI)"
        );
        None
    }
}

/// The element inside `<s:Body>` of an envelope written by the hub's codec.
pub fn body_element(envelope: &str) -> Option<&str> {
    let open = envelope.find("<s:Body")?;
    let start = open + envelope[open..].find('>')? + 1;
    let end = envelope.rfind("</s:Body>")?;
    envelope.get(start..end)
}

/// Validates every SOAP body of `exchanges` (requests and answers) against the hub contract's
/// XSDs with `xmllint`: how many were validated, or `None` where the contract or `xmllint` is
/// not here (said, and a failure in CI). Panics on a body that does not validate.
pub fn validate_bodies(exchanges: &[Exchange]) -> Option<usize> {
    let contract = contract_dir()?;
    if !require_tool(
        "xmllint",
        &["--version"],
        "validates XML against the hub's XSDs",
    ) {
        return None;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut files: Vec<PathBuf> = Vec::new();
    for (i, x) in exchanges.iter().enumerate() {
        for (kind, text) in [("request", &x.request), ("response", &x.response)] {
            let body = body_element(text).unwrap_or_else(|| panic!("a SOAP body in {text}"));
            let path = dir.path().join(format!("{i:03}-{kind}.xml"));
            std::fs::write(&path, body).expect("writable");
            files.push(path);
        }
    }
    let output = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(contract.join("xsd0.xsd"))
        .args(&files)
        .output()
        .expect("xmllint runs");
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "bodies that do not validate:\n{report}"
    );
    Some(files.len())
}

/// One SOAP exchange seen by the recording proxy.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub soap_action: Option<String>,
    pub request: String,
    pub status: u16,
    pub response: String,
}

/// The exchanges recorded so far.
pub type Recording = Arc<Mutex<Vec<Exchange>>>;

/// Binds loopback on port 0. For a server run as a child process, hold it until the child is
/// about to bind the port ([`port_of_listener`]): a port merely looked up and let go can be
/// given to a server another test starts meanwhile, and the test then talks to that one.
pub fn loopback() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("loopback is available")
}

/// The port `listener` holds.
pub fn port_of_listener(listener: &TcpListener) -> u16 {
    listener.local_addr().expect("bound").port()
}

/// Starts the sandbox МИС on loopback; returns it and its base URL.
pub fn start_sandbox() -> (Sandbox, String) {
    start_sandbox_with(SandboxConfig::default())
}

/// Starts the sandbox МИС on loopback as `config` says (in memory, with the default key,
/// whatever it says of those); returns it and its base URL.
pub fn start_sandbox_with(config: SandboxConfig) -> (Sandbox, String) {
    let sandbox = Sandbox::open(&SandboxConfig {
        database: ":memory:".into(),
        guid: sandbox_mis::DEFAULT_GUID.into(),
        ..config
    })
    .expect("an in-memory sandbox opens");
    let listener = loopback();
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    let sb = sandbox.clone();
    let server = HttpServer::new(move || {
        let sb = sb.clone();
        App::new().configure(move |cfg| sb.configure(cfg))
    })
    .workers(2)
    .listen(listener)
    .expect("listens")
    .run();
    tokio::spawn(server);
    (sandbox, url)
}

/// Starts a proxy that forwards every request to `upstream` and records SOAP exchanges.
pub fn start_recording_proxy(upstream: String) -> (String, Recording) {
    start_proxy(upstream, None)
}

/// Starts a recording proxy that holds each request whose `SOAPAction` names `operation`
/// for `delay` before forwarding it (a slow МИС).
pub fn start_delaying_proxy(
    upstream: String,
    operation: &'static str,
    delay: std::time::Duration,
) -> (String, Recording) {
    start_proxy(upstream, Some((operation, delay)))
}

fn start_proxy(
    upstream: String,
    slow: Option<(&'static str, std::time::Duration)>,
) -> (String, Recording) {
    let recording: Recording = Arc::default();
    let rec = recording.clone();
    let client = reqwest::Client::new();
    let listener = loopback();
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    let server = HttpServer::new(move || {
        let (rec, client, upstream) = (rec.clone(), client.clone(), upstream.clone());
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let (rec, client, upstream) = (rec.clone(), client.clone(), upstream.clone());
            async move {
                let action = req
                    .headers()
                    .get("soapaction")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if let Some((operation, delay)) = slow
                    && action.contains(operation)
                {
                    tokio::time::sleep(delay).await;
                }
                let url = format!("{upstream}{}", req.uri());
                let mut forward = client
                    .request(
                        reqwest::Method::from_bytes(req.method().as_str().as_bytes())
                            .unwrap_or(reqwest::Method::POST),
                        url,
                    )
                    .body(body.to_vec());
                for name in ["content-type", "soapaction"] {
                    if let Some(v) = req.headers().get(name) {
                        forward = forward.header(name, v.as_bytes());
                    }
                }
                let Ok(answer) = forward.send().await else {
                    return HttpResponse::BadGateway().finish();
                };
                let status = answer.status().as_u16();
                let content_type = answer
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("text/xml")
                    .to_owned();
                let bytes = answer.bytes().await.unwrap_or_default();
                if req.method() == actix_web::http::Method::POST {
                    rec.lock().expect("not poisoned").push(Exchange {
                        soap_action: req
                            .headers()
                            .get("soapaction")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned),
                        request: String::from_utf8_lossy(&body).into_owned(),
                        status,
                        response: String::from_utf8_lossy(&bytes).into_owned(),
                    });
                }
                HttpResponse::build(
                    actix_web::http::StatusCode::from_u16(status).unwrap_or_default(),
                )
                .content_type(content_type)
                .body(bytes)
            }
        }))
    })
    .workers(1)
    .listen(listener)
    .expect("listens")
    .run();
    tokio::spawn(server);
    (url, recording)
}

/// The identity of `patient` (document, policy, birth date) as a session's body.
pub fn identity_json(patient: (&str, &str, &str)) -> serde_json::Value {
    serde_json::json!({
        "document_number": patient.0,
        "policy_number": patient.1,
        "birth_date": patient.2,
    })
}

/// Opens a session of `patient` at `url` (a clinic's or a region's `…/sessions`): its token.
pub async fn open_session(
    client: &reqwest::Client,
    url: &str,
    patient: (&str, &str, &str),
) -> String {
    let r = client
        .post(url)
        .json(&identity_json(patient))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(r.status(), 201, "a session at {url}");
    r.json::<Session>().await.expect("a session").token
}

/// The JSON API of a gateway, for the demo clinic, spoken over HTTP only (wherever the gateway
/// runs: in this process, as a process of its own, under Wine).
#[derive(Debug, Clone)]
pub struct Api {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// `http://127.0.0.1:<port>/api/v1/clinics/demo`
    pub api: String,
    pub client: reqwest::Client,
}

/// A running gateway with its sandbox МИС behind a recording proxy; its API's calls are
/// [`Api`]'s.
#[derive(Debug)]
pub struct TestApp {
    pub http: Api,
    pub sandbox: Sandbox,
    pub sandbox_url: String,
    /// The recording proxy in front of the sandbox, which the gateway's clinic points at.
    pub proxy_url: String,
    pub recording: Recording,
}

/// The demo clinic's configuration pointing at `endpoint`.
pub fn demo_clinic(endpoint: &str) -> ClinicConfig {
    ClinicConfig {
        id: "demo".into(),
        name: sandbox_mis::seed::LPU_SHORT_NAME.into(),
        address: sandbox_mis::seed::LPU_ADDRESS.into(),
        timezone: "Europe/Moscow".into(),
        mis: MisConfig {
            protocol: registratura::config::Protocol::Hub,
            base_url: None,
            token: None,
            token_url: None,
            client_id: None,
            client_secret: None,
            scope: None,
            policy_system: None,
            document_system: None,
            booking_system: "urn:registratura:appointment".into(),
            endpoint: Some(format!("{endpoint}/HubService.svc")),
            guid: sandbox_mis::DEFAULT_GUID.into(),
            id_lpu: sandbox_mis::seed::LPU_ID,
            connect_timeout_ms: 1_000,
            attempt_timeout_ms: 5_000,
            deadline_ms: 10_000,
            max_response_bytes: 4 * 1024 * 1024,
            read_retries: 2,
            breaker_threshold: 5,
            probe_interval_ms: 200,
            waiting_list_source: mis_hub::DEFAULT_WAITING_LIST_SOURCE,
            max_in_flight: gateway_domain::admission::DEFAULT_IN_FLIGHT,
        },
        mail: None,
    }
}

/// A gateway configuration on loopback with the given clinics and no sandbox of its own.
pub fn gateway_config(clinics: Vec<ClinicConfig>) -> Config {
    Config {
        server: ServerConfig {
            listen: "127.0.0.1:0".into(),
            workers: 2,
            session_ttl_secs: 900,
            identify_min_ms: 0,
            ..ServerConfig::default()
        },
        sandbox: SandboxSettings::default(),
        demo: registratura::config::DemoConfig::default(),
        audit: registratura::config::AuditConfig::default(),
        state: gateway_state::StateConfig::default(),
        service: registratura::config::ServiceConfig::default(),
        mail: None,
        cache: CacheConfig::default(),
        rate_limit: RateLimitConfig {
            identify_per_minute: 60_000,
            identify_burst: 1_000,
            write_per_minute: 60_000,
            write_burst: 1_000,
            read_per_minute: 600_000,
            read_burst: 10_000,
            ..RateLimitConfig::default()
        },
        api_keys: Vec::new(),
        clinics,
        regions: Vec::new(),
    }
}

/// Starts a gateway with `config`; returns its base URL.
pub async fn start_gateway(config: Config) -> String {
    start_gateway_with_state(config).await.0
}

/// Starts a gateway with `config`; returns its base URL and its state.
pub async fn start_gateway_with_state(
    config: Config,
) -> (String, web::Data<gateway_domain::Gateway>) {
    init_tracing();
    let app = registratura::Application::build(config)
        .await
        .expect("the gateway starts");
    let base = format!("http://{}", app.addr());
    let state = app.gateway();
    tokio::spawn(app.run_until_stopped());
    (base, state)
}

/// Starts a sandbox, a recording proxy and a gateway for the demo clinic.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(SandboxConfig::default()).await
}

/// [`spawn_app`] with a sandbox as `sandbox` says (sparse answers, refused operations).
pub async fn spawn_app_with(sandbox: SandboxConfig) -> TestApp {
    init_tracing();
    let (sandbox, sandbox_url) = start_sandbox_with(sandbox);
    let (proxy, recording) = start_recording_proxy(sandbox_url.clone());
    let base = start_gateway(gateway_config(vec![demo_clinic(&proxy)])).await;
    let proxy_url = proxy;
    TestApp {
        http: Api::at(&base),
        sandbox,
        sandbox_url,
        proxy_url,
        recording,
    }
}

impl TestApp {
    /// A test app for a gateway already started at `base` in front of `sandbox` (directly,
    /// or through proxies that record nothing here).
    pub fn at(base: &str, sandbox: Sandbox, sandbox_url: String) -> Self {
        Self {
            http: Api::at(base),
            sandbox,
            proxy_url: sandbox_url.clone(),
            sandbox_url,
            recording: Arc::default(),
        }
    }
}

impl std::ops::Deref for TestApp {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.http
    }
}

impl Api {
    /// The API of the gateway at `base`.
    pub fn at(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            api: format!("{base}/api/v1/clinics/demo"),
            client: reqwest::Client::new(),
        }
    }

    /// The API of the gateway at `base`, for the clinic `clinic` (a region's, say).
    pub fn for_clinic(base: &str, clinic: &str) -> Self {
        Self {
            api: format!("{base}/api/v1/clinics/{clinic}"),
            ..Self::at(base)
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.api))
            .send()
            .await
            .expect("the gateway answers")
    }

    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.expect("valid JSON")
    }

    pub async fn specialties(&self) -> Vec<Specialty> {
        self.get_json::<List<Specialty>>("/specialties").await.items
    }

    pub async fn doctors(&self, specialty: &str) -> Vec<Doctor> {
        self.get_json::<List<Doctor>>(&format!("/specialties/{specialty}/doctors"))
            .await
            .items
    }

    pub async fn slots(&self, doctor: &str, date: chrono::NaiveDate) -> Vec<Slot> {
        self.get_json::<List<Slot>>(&format!("/doctors/{doctor}/slots?date={date}"))
            .await
            .items
    }

    /// Some free slot of the first doctor of the named specialty.
    pub async fn free_slot(&self, specialty_name: &str) -> (Doctor, Slot) {
        let specialty = self
            .specialties()
            .await
            .into_iter()
            .find(|s| s.name == specialty_name)
            .expect("the specialty has free tickets");
        let doctor = self
            .doctors(&specialty.id)
            .await
            .into_iter()
            .next()
            .expect("a doctor");
        let dates: api_types::AvailableDates = self
            .get_json(&format!("/doctors/{}/dates", doctor.id))
            .await;
        let date = *dates.dates.last().expect("a date with free tickets");
        let slot = self
            .slots(&doctor.id, date)
            .await
            .into_iter()
            .last()
            .expect("a free slot");
        (doctor, slot)
    }

    pub async fn post_session(&self, patient: (&str, &str, &str)) -> reqwest::Response {
        self.client
            .post(format!("{}/sessions", self.api))
            .json(&identity_json(patient))
            .send()
            .await
            .expect("the gateway answers")
    }

    /// Identifies the patient; returns the session token.
    pub async fn login(&self, patient: (&str, &str, &str)) -> String {
        let r = self.post_session(patient).await;
        assert_eq!(r.status(), 201);
        r.json::<Session>().await.expect("a session").token
    }

    fn book_request(
        &self,
        token: &str,
        slot_id: &str,
        key: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut req = self
            .client
            .post(format!("{}/tickets", self.api))
            .bearer_auth(token)
            .json(&serde_json::json!({ "slot_id": slot_id }));
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        req
    }

    pub async fn book(&self, token: &str, slot_id: &str, key: Option<&str>) -> reqwest::Response {
        self.book_request(token, slot_id, key)
            .send()
            .await
            .expect("the gateway answers")
    }

    /// Books as an integrator does whose answer is lost on the way (a kept-alive connection
    /// the server closed as the request went out, a reset under load): the same request again
    /// with the same `Idempotency-Key`, which makes it book at most once; the answer that came.
    pub async fn book_again_if_lost(
        &self,
        token: &str,
        slot_id: &str,
        key: &str,
    ) -> reqwest::Response {
        let mut lost = 0;
        loop {
            match self.book_request(token, slot_id, Some(key)).send().await {
                Ok(r) => return r,
                Err(e) if lost < 5 && (e.is_request() || e.is_connect()) => {
                    lost += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(e) => panic!("the gateway answers: {e:?}"),
            }
        }
    }

    pub async fn my_tickets(&self, token: &str) -> Vec<Ticket> {
        let r = self
            .client
            .get(format!("{}/tickets", self.api))
            .bearer_auth(token)
            .send()
            .await
            .expect("the gateway answers");
        assert_eq!(r.status(), 200);
        r.json::<List<Ticket>>().await.expect("a list").items
    }

    pub async fn cancel(&self, token: &str, ticket: &str) -> reqwest::Response {
        self.client
            .delete(format!("{}/tickets/{ticket}", self.api))
            .bearer_auth(token)
            .send()
            .await
            .expect("the gateway answers")
    }

    /// A `GET` of the API with the patient's session.
    pub async fn get_private(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.api))
            .bearer_auth(token)
            .send()
            .await
            .expect("the gateway answers")
    }

    /// A `POST` of a JSON body to the API with the patient's session (and a key).
    pub async fn post_private(
        &self,
        token: &str,
        path: &str,
        body: &serde_json::Value,
        key: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(format!("{}{path}", self.api))
            .bearer_auth(token)
            .json(body);
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        req.send().await.expect("the gateway answers")
    }

    /// Moves the patient's `ticket` to `slot_id`.
    pub async fn reschedule(
        &self,
        token: &str,
        ticket: &str,
        slot_id: &str,
        key: Option<&str>,
    ) -> reqwest::Response {
        self.post_private(
            token,
            &format!("/tickets/{ticket}/reschedule"),
            &serde_json::json!({ "slot_id": slot_id }),
            key,
        )
        .await
    }

    /// Books `slot_id` by the referral `number`.
    pub async fn book_by_referral(
        &self,
        token: &str,
        slot_id: &str,
        number: &str,
    ) -> reqwest::Response {
        self.post_private(
            token,
            "/tickets",
            &serde_json::json!({ "slot_id": slot_id, "referral": number }),
            None,
        )
        .await
    }

    /// Every specialty, those without free tickets too.
    pub async fn all_specialties(&self) -> Vec<Specialty> {
        self.get_json::<List<Specialty>>("/specialties?include_unavailable=true")
            .await
            .items
    }

    /// Puts the patient on the waiting list.
    pub async fn join_waiting_list(
        &self,
        token: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.post_private(token, "/waiting-list", body, None).await
    }

    /// The patient's requests on the waiting list.
    pub async fn waiting_list(&self, token: &str) -> Vec<api_types::WaitingRequest> {
        let r = self.get_private(token, "/waiting-list").await;
        assert_eq!(r.status(), 200);
        r.json::<List<api_types::WaitingRequest>>()
            .await
            .expect("a list")
            .items
    }

    pub async fn leave_waiting_list(&self, token: &str, id: &str) -> reqwest::Response {
        self.client
            .delete(format!("{}/waiting-list/{id}", self.api))
            .bearer_auth(token)
            .send()
            .await
            .expect("the gateway answers")
    }
}

/// The sandbox's valid referral (to Кардиология) of [`PATIENT_FOUND`], and its expired one.
pub const REFERRAL_VALID: &str = "0000000001";
pub const REFERRAL_EXPIRED: &str = "0000000002";

/// The sandbox's specialty without free tickets.
pub const FULL_SPECIALTY: &str = "Гастроэнтерология";

/// Reads a problem document and checks its status and code.
pub async fn expect_problem(r: reqwest::Response, status: u16, code: &str) -> api_types::Problem {
    assert_eq!(r.status(), status, "expected {status} {code}");
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(
        ct.starts_with("application/problem+json"),
        "content type {ct}"
    );
    let p: api_types::Problem = r.json().await.expect("a problem document");
    assert_eq!(p.code.as_str(), code);
    assert_eq!(p.status, status);
    p
}

/// How a fake МИС misbehaves.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Accepts the connection, reads the request and never answers.
    Hang,
    /// Sends headers, then one byte of body every 100 ms.
    Drip,
    /// Answers this status, content type and body.
    Answer(u16, &'static str, Vec<u8>),
    /// Streams a chunked body of this many bytes.
    Flood(usize),
    /// Hangs on the first connection, then answers as `Answer` does.
    HangOnce(u16, &'static str, Vec<u8>),
}

/// Starts a fake МИС on loopback that misbehaves as told; returns its base URL.
pub async fn start_faulty_mis(fault: Fault) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback");
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    tokio::spawn(async move {
        let mut held = Vec::new();
        let mut first = true;
        while let Ok((mut socket, _)) = listener.accept().await {
            let fault = match fault.clone() {
                Fault::HangOnce(..) if first => Fault::Hang,
                Fault::HangOnce(status, content_type, body) => {
                    Fault::Answer(status, content_type, body)
                }
                other => other,
            };
            first = false;
            let mut buf = vec![0u8; 64 * 1024];
            let _ = socket.read(&mut buf).await;
            match fault {
                Fault::Hang | Fault::HangOnce(..) => held.push(socket),
                Fault::Drip => {
                    tokio::spawn(async move {
                        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n<";
                        if socket.write_all(head.as_bytes()).await.is_err() {
                            return;
                        }
                        for _ in 0..600 {
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                            if socket.write_all(b" ").await.is_err() {
                                return;
                            }
                        }
                    });
                }
                Fault::Answer(status, content_type, body) => {
                    let head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(&body).await;
                    let _ = socket.shutdown().await;
                }
                Fault::Flood(total) => {
                    tokio::spawn(async move {
                        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n";
                        if socket.write_all(head.as_bytes()).await.is_err() {
                            return;
                        }
                        let chunk = vec![b' '; 64 * 1024];
                        let mut sent = 0;
                        while sent < total {
                            let frame = format!("{:x}\r\n", chunk.len());
                            if socket.write_all(frame.as_bytes()).await.is_err()
                                || socket.write_all(&chunk).await.is_err()
                                || socket.write_all(b"\r\n").await.is_err()
                            {
                                return;
                            }
                            sent += chunk.len();
                        }
                        let _ = socket.write_all(b"0\r\n\r\n").await;
                    });
                }
            }
        }
    });
    url
}

/// A proxy to the sandbox that can be switched "down" (answering 500 with HTML, as a broken
/// IIS would) and counts the requests it saw.
#[derive(Debug, Clone)]
pub struct Switch {
    pub url: String,
    down: Arc<std::sync::atomic::AtomicBool>,
    hits: Arc<std::sync::atomic::AtomicUsize>,
}

impl Switch {
    pub fn set_down(&self, down: bool) {
        self.down.store(down, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Starts a [`Switch`] in front of `upstream`.
pub fn start_switch(upstream: String) -> Switch {
    let (forward_url, _) = start_recording_proxy(upstream);
    let switch = Switch {
        url: String::new(),
        down: Arc::default(),
        hits: Arc::default(),
    };
    let (down, hits) = (switch.down.clone(), switch.hits.clone());
    let client = reqwest::Client::new();
    let listener = loopback();
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    let server = HttpServer::new(move || {
        let (down, hits, client, forward_url) = (
            down.clone(),
            hits.clone(),
            client.clone(),
            forward_url.clone(),
        );
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let (down, hits, client, forward_url) = (
                down.clone(),
                hits.clone(),
                client.clone(),
                forward_url.clone(),
            );
            async move {
                hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if down.load(std::sync::atomic::Ordering::SeqCst) {
                    return HttpResponse::InternalServerError()
                        .content_type("text/html")
                        .body("<html>Service Unavailable</html>");
                }
                let mut forward = client
                    .post(format!("{forward_url}{}", req.uri()))
                    .body(body.to_vec());
                for name in ["content-type", "soapaction"] {
                    if let Some(v) = req.headers().get(name) {
                        forward = forward.header(name, v.as_bytes());
                    }
                }
                match forward.send().await {
                    Ok(answer) => {
                        let status = answer.status().as_u16();
                        let bytes = answer.bytes().await.unwrap_or_default();
                        HttpResponse::build(
                            actix_web::http::StatusCode::from_u16(status).unwrap_or_default(),
                        )
                        .content_type("text/xml; charset=utf-8")
                        .body(bytes)
                    }
                    Err(_) => HttpResponse::BadGateway().finish(),
                }
            }
        }))
    })
    .workers(1)
    .listen(listener)
    .expect("listens")
    .run();
    tokio::spawn(server);
    Switch { url, ..switch }
}

/// An answer read off a raw connection: its status, its head's lines (header names in lower
/// case) and its body.
#[derive(Debug, Clone)]
pub struct RawAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawAnswer {
    /// A header's value, if the answer has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as a problem document, with its status and code checked.
    pub fn problem(&self, status: u16, code: &str) -> api_types::Problem {
        assert_eq!(self.status, status, "{self:?}");
        assert!(
            self.header("content-type")
                .is_some_and(|t| t.starts_with("application/problem+json")),
            "{self:?}"
        );
        let p: api_types::Problem = serde_json::from_slice(&self.body).expect("a problem");
        assert_eq!(p.code.as_str(), code);
        assert_eq!(p.status, status);
        p
    }
}

/// Sends `bytes` on a new connection to `base` (`http://host:port`), then reads one answer
/// (or until the server closes, within 30 s). Nothing more is sent, so a request left
/// incomplete stays so.
pub async fn raw_exchange(base: &str, bytes: &[u8]) -> RawAnswer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(addr)
        .await
        .expect("the gateway accepts");
    // A server that answers before reading everything may reset the rest: that is fine.
    let _ = socket.write_all(bytes).await;
    let mut got = Vec::new();
    let read = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
            if let Some(answer) = parse_answer(&got)
                && answer.header("connection") != Some("close")
            {
                return;
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), read).await;
    parse_answer(&got).unwrap_or_else(|| {
        panic!(
            "no whole answer in {:?}",
            String::from_utf8_lossy(&got[..got.len().min(400)])
        )
    })
}

/// One whole answer at the start of `bytes`, if they hold one.
fn parse_answer(bytes: &[u8]) -> Option<RawAnswer> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let body = bytes.get(end + 4..end + 4 + length)?.to_vec();
    Some(RawAnswer {
        status,
        headers,
        body,
    })
}

/// What a [`FaultProxy`] does to a request of the operation it is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MisFault {
    /// The МИС acts; its answer is held this long, then the connection is dropped without it.
    AnswerHeld(std::time::Duration),
    /// The МИС acts; the connection is closed at once, without its answer.
    AnswerDropped,
    /// The request reaches the proxy only: the connection is closed without an answer, and the
    /// МИС never sees it.
    Swallowed,
    /// The request reaches the proxy only, which holds it this long, then closes the
    /// connection: the МИС never sees it.
    Held(std::time::Duration),
    /// The МИС is down: `500` with an HTML page, the request not forwarded.
    Down,
}

/// A proxy in front of a МИС that misbehaves for the operations it is told to (each fault for
/// a number of requests), and counts every operation it saw.
#[derive(Debug, Clone)]
pub struct FaultProxy {
    pub url: String,
    plan: Arc<Mutex<Vec<(String, MisFault, usize)>>>,
    seen: Arc<Mutex<Vec<String>>>,
    /// Requests in flight now, and the most seen at once.
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
    peak: Arc<std::sync::atomic::AtomicUsize>,
}

/// Counts a request in flight through a [`FaultProxy`] until it is dropped.
struct InFlight(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl FaultProxy {
    /// The most requests it had in flight at once (since the last [`Self::reset_peak`]).
    pub fn peak_in_flight(&self) -> usize {
        self.peak.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Forgets the peak of requests in flight.
    pub fn reset_peak(&self) {
        self.peak.store(0, std::sync::atomic::Ordering::SeqCst);
    }

    /// How many requests it saw in all.
    pub fn total(&self) -> usize {
        self.seen.lock().expect("not poisoned").len()
    }

    fn entered(&self) -> InFlight {
        use std::sync::atomic::Ordering;
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        InFlight(self.in_flight.clone())
    }

    /// The next `times` requests of `operation` (a `SOAPAction`'s last part) meet `fault`.
    pub fn fail(&self, operation: &str, fault: MisFault, times: usize) {
        self.plan
            .lock()
            .expect("not poisoned")
            .push((operation.to_owned(), fault, times));
    }

    /// No more faults.
    pub fn clear(&self) {
        self.plan.lock().expect("not poisoned").clear();
    }

    /// How many requests of `operation` it saw (forwarded or not).
    pub fn count(&self, operation: &str) -> usize {
        self.seen
            .lock()
            .expect("not poisoned")
            .iter()
            .filter(|op| op.as_str() == operation)
            .count()
    }

    fn fault_for(&self, operation: &str) -> Option<MisFault> {
        let mut plan = self.plan.lock().expect("not poisoned");
        let at = plan
            .iter()
            .position(|(op, _, times)| op == operation && *times > 0)?;
        plan[at].2 -= 1;
        Some(plan[at].1)
    }
}

/// Reads one HTTP/1.1 request (its head and a `Content-Length` body) off a socket.
async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let head_end = loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        got.extend_from_slice(&buf[..n]);
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
    };
    let head = String::from_utf8_lossy(&got[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    while got.len() < head_end + 4 + length {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        got.extend_from_slice(&buf[..n]);
    }
    Some((head, got[head_end + 4..head_end + 4 + length].to_vec()))
}

/// Starts a [`FaultProxy`] in front of `upstream` (`http://host:port`).
pub async fn start_fault_proxy(upstream: String) -> FaultProxy {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback");
    let proxy = FaultProxy {
        url: format!("http://{}", listener.local_addr().expect("bound")),
        plan: Arc::default(),
        seen: Arc::default(),
        in_flight: Arc::default(),
        peak: Arc::default(),
    };
    let handle = proxy.clone();
    let client = reqwest::Client::new();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (proxy, client, upstream) = (handle.clone(), client.clone(), upstream.clone());
            tokio::spawn(async move {
                let Some((head, body)) = read_request(&mut socket).await else {
                    return;
                };
                let target = head.split(' ').nth(1).unwrap_or("/").to_owned();
                let action = head
                    .lines()
                    .filter_map(|l| l.split_once(':'))
                    .find(|(n, _)| n.trim().eq_ignore_ascii_case("soapaction"))
                    .map(|(_, v)| v.trim().trim_matches('"').to_owned())
                    .unwrap_or_default();
                let operation = action.rsplit('/').next().unwrap_or("").to_owned();
                proxy
                    .seen
                    .lock()
                    .expect("not poisoned")
                    .push(operation.clone());
                let _in_flight = proxy.entered();
                let fault = proxy.fault_for(&operation);
                match fault {
                    Some(MisFault::Swallowed) => return,
                    Some(MisFault::Held(hold)) => {
                        tokio::time::sleep(hold).await;
                        return;
                    }
                    Some(MisFault::Down) => {
                        let page = "<html>Service Unavailable</html>";
                        let answer = format!(
                            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                            page.len()
                        );
                        let _ = socket.write_all(answer.as_bytes()).await;
                        return;
                    }
                    _ => {}
                }
                let forwarded = client
                    .post(format!("{upstream}{target}"))
                    .header("content-type", "text/xml; charset=utf-8")
                    .header("soapaction", format!("\"{action}\""))
                    .body(body)
                    .send()
                    .await;
                let Ok(answer) = forwarded else { return };
                let status = answer.status().as_u16();
                let bytes = answer.bytes().await.unwrap_or_default();
                match fault {
                    Some(MisFault::AnswerDropped) => return,
                    Some(MisFault::AnswerHeld(hold)) => {
                        tokio::time::sleep(hold).await;
                        return;
                    }
                    _ => {}
                }
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    bytes.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&bytes).await;
            });
        }
    });
    proxy
}

/// The `registratura` binary of this build (built first if it is not there yet).
pub fn gateway_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    // target/<profile>/deps/<test> -> target/<profile>/registratura
    let profile = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("a target folder");
    let binary = profile.join(format!("registratura{}", std::env::consts::EXE_SUFFIX));
    if !binary.is_file() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let built = std::process::Command::new(cargo)
            .args(["build", "-p", "registratura", "--bin", "registratura"])
            .status()
            .expect("cargo runs");
        assert!(built.success(), "the gateway's binary builds");
    }
    binary
}

/// A gateway running as a process of its own (to be killed as an operator's machine would
/// kill it), with its log lines as they come.
#[derive(Debug)]
pub struct GatewayProcess {
    pub child: std::process::Child,
    pub base: String,
    /// Every line it wrote to its log (stderr) so far.
    log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl GatewayProcess {
    /// Starts the binary with `toml` as its configuration and waits until it listens.
    pub fn start(toml: &str) -> Self {
        use std::io::BufRead;
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("registratura.toml");
        std::fs::write(&path, toml).expect("writable");
        let child = std::process::Command::new(gateway_binary())
            .arg("--config")
            .arg(&path)
            .arg("serve")
            .env("REGISTRATURA_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the gateway's binary runs");
        // Owned at once, so that it is killed and waited for on every path (a panic too).
        let mut process = Self {
            child,
            base: String::new(),
            log: Arc::default(),
            _dir: dir,
        };
        let stderr = process.child.stderr.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        let log = process.log.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                log.lock().expect("not poisoned").push(line.clone());
                let _ = tx.send(line);
            }
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut seen = Vec::new();
        while std::time::Instant::now() < deadline {
            let Ok(line) = rx.recv_timeout(std::time::Duration::from_millis(100)) else {
                if let Ok(Some(status)) = process.child.try_wait() {
                    panic!("the gateway stopped ({status}):\n{}", seen.join("\n"));
                }
                continue;
            };
            if let Some(at) = line.find("gateway listening on http://") {
                process.base = line[at + "gateway listening on ".len()..]
                    .chars()
                    .take_while(|c| !c.is_whitespace())
                    .collect();
                return process;
            }
            seen.push(line);
        }
        panic!("the gateway did not listen:\n{}", seen.join("\n"));
    }

    /// The lines it wrote to its log so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().expect("not poisoned").clone()
    }

    /// Its resident memory now and at its peak, in bytes.
    pub fn memory(&self) -> (u64, u64) {
        resident_memory(self.child.id())
    }

    /// Kills it at once (`SIGKILL`): nothing of its own runs after.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The gateway at `base`'s `/metrics`, as text.
pub async fn metrics_text(client: &reqwest::Client, base: &str) -> String {
    client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("the gateway answers")
        .text()
        .await
        .expect("a body")
}

/// The sum of the samples in `metrics` whose line starts with `prefix` (a name, with its
/// labels or the start of them); 0 when there is none.
pub fn metric(metrics: &str, prefix: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A process's resident memory now and at its peak (`VmRSS`, `VmHWM`), in bytes.
pub fn resident_memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The TOML of a gateway serving the region `big` of the hub at `hub` alone (no demo site),
/// with the clients' limits `limits` (lines of `[rate_limit]`; empty: the defaults).
pub fn region_gateway_toml(hub: &str, limits: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
workers = 2
identify_min_ms = 0

[demo]
enabled = false

[rate_limit]
{limits}

[[regions]]
id = "big"
name = "Большой регион"
endpoint = "{hub}/HubService.svc"
guid = "{guid}"
"#,
        guid = sandbox_mis::DEFAULT_GUID,
    )
}

/// `GET`s each of `paths` at `base`, `at_once` at a time, reading every answer whole; their
/// statuses.
pub async fn get_each(base: &str, paths: Vec<String>, at_once: usize) -> Vec<u16> {
    use futures_util::StreamExt;
    let client = reqwest::Client::new();
    futures_util::stream::iter(paths)
        .map(|path| {
            let (client, url) = (client.clone(), format!("{base}{path}"));
            async move {
                let r = client.get(url).send().await.expect("answers");
                let status = r.status().as_u16();
                let _ = r.bytes().await;
                status
            }
        })
        .buffer_unordered(at_once)
        .collect()
        .await
}

/// The children of a process (nginx's workers).
pub fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| {
                    let after = s.rsplit_once(')')?.1;
                    after.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// Stops a server that runs workers of its own (nginx): `SIGTERM` to the master, which stops
/// its workers and exits; if it has not within 5 s, the workers and the master are killed. A
/// master killed outright leaves its workers serving (and busy) after the test.
pub fn stop_with_workers(child: &mut std::process::Child) {
    let workers = children_of(child.id());
    let signal = |name: &str, pid: u32| {
        let _ = std::process::Command::new("kill")
            .args([name, &pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status();
    };
    signal("-TERM", child.id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for worker in workers {
        signal("-KILL", worker);
    }
    let _ = child.kill();
    let _ = child.wait();
}
