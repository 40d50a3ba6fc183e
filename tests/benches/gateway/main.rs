//! Benchmarks of the gateway (`just bench`; the table and the machine go to BENCHMARKS.md).
//!
//! Every figure is measured side by side with its reference in the same run, so that a ratio
//! holds on a noisy machine: the gateway against the same SOAP call made directly to the
//! sandbox МИС, against nginx serving the same JSON as a static file, against quick-xml's raw
//! reader. Load comes from `wrk` in a process of its own, against servers in processes of
//! their own; only successful answers count (the gateway runs with its limits raised, in the
//! benchmark's own configuration), and any other answer fails the run.

mod child;
mod codec;
mod failover;
mod region;
mod report;
mod size;
mod surge;
mod wrk;

#[allow(
    dead_code,
    reason = "the browser tests' harness, of which the benchmark uses a part"
)]
#[path = "../../browser/harness.rs"]
mod harness;

use child::{Gateway, Nginx};
use report::Report;
use std::path::Path;
use std::time::{Duration, Instant};

/// The gateway's configuration for benchmarks: the sandbox at `sandbox`, limits off,
/// caches as given.
pub fn gateway_config(sandbox: &str, directory_ttl: u64, schedule_ttl: u64) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
workers = 2
identify_min_ms = 0

[rate_limit]
identify_per_minute = 0
across_per_minute = 0
write_per_minute = 0
read_per_minute = 0

[cache]
directory_ttl_secs = {directory_ttl}
schedule_ttl_secs = {schedule_ttl}

[[clinics]]
id = "demo"
name = "Городская поликлиника № 1"
address = "г. Москва, ул. Лесная, д. 7"
timezone = "Europe/Moscow"
[clinics.mis]
endpoint = "{sandbox}/HubService.svc"
guid = "{guid}"
id_lpu = 1
"#,
        guid = sandbox_mis::DEFAULT_GUID
    )
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// A doctor and a day with free tickets.
async fn a_doctor_and_day(base: &str) -> (String, String) {
    let api = format!("{base}/api/v1/clinics/demo");
    let get = |url: String| async move {
        reqwest::get(url)
            .await
            .expect("answers")
            .json::<serde_json::Value>()
            .await
            .expect("JSON")
    };
    let specialties = get(format!("{api}/specialties")).await;
    let specialty = specialties["items"][0]["id"]
        .as_str()
        .expect("a specialty")
        .to_owned();
    let doctors = get(format!("{api}/specialties/{specialty}/doctors")).await;
    let doctor = doctors["items"][0]["id"]
        .as_str()
        .expect("a doctor")
        .to_owned();
    let dates = get(format!("{api}/doctors/{doctor}/dates")).await;
    let day = dates["dates"][0].as_str().expect("a day").to_owned();
    (doctor, day)
}

/// The latency the gateway adds to a МИС call: `GET .../slots` through the gateway (caches
/// off) against the same `GetAvaibleAppointments` sent to the sandbox directly.
async fn overhead(report: &mut Report, dir: &Path, sandbox_url: &str) {
    let gateway = Gateway::start(dir, &gateway_config(sandbox_url, 0, 0));
    let (doctor, day) = a_doctor_and_day(&gateway.base).await;
    let key = gateway_domain::ids::DoctorKey::parse(&doctor).expect("a doctor id");
    let date = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").expect("a day");
    let body = mis_hub::contract::encode_request(&mis_hub::contract::Call {
        guid: Some(sandbox_mis::DEFAULT_GUID.into()),
        id_history: None,
        request: mis_hub::contract::Request::GetAvaibleAppointments(mis_hub::contract::Window {
            id_doc: key.doctor.as_str().into(),
            id_lpu: 1,
            id_pat: None,
            visit_start: date.and_hms_opt(0, 0, 0).expect("midnight"),
            visit_end: date.and_hms_opt(23, 59, 59).expect("a second"),
        }),
    });
    let action = mis_hub::contract::Operation::GetAvaibleAppointments.soap_action();
    let script = wrk::post_script(
        dir,
        &body,
        &[
            ("Content-Type", "text/xml; charset=utf-8"),
            ("SOAPAction", &action),
        ],
    );
    let direct_url = format!("{sandbox_url}/HubService.svc");
    let through_url = format!(
        "{}/api/v1/clinics/demo/doctors/{doctor}/slots?date={day}",
        gateway.base
    );
    for (connections, threads) in [(1, 1), (16, 2), (64, 2)] {
        // The sandbox runs in this process: its CPU is this process's.
        let sandbox_cpu = || child::cpu_of(&[std::process::id()]);
        let (direct, direct_cpu) = wrk::run_costed(
            &direct_url,
            connections,
            threads,
            5,
            Some(&script),
            sandbox_cpu,
        );
        let (through, cpu) = wrk::run_costed(&through_url, connections, threads, 5, None, || {
            gateway.cpu()
        });
        let what = format!(
            "latency of a МИС call (`GET .../slots`, caches off), {connections} connection(s), p50 / p99"
        );
        let added = (
            through.p50.saturating_sub(direct.p50),
            through.p99.saturating_sub(direct.p99),
        );
        // The aim holds for one connection: with more, both sides wait for the same two cores
        // (BENCHMARKS.md, «Reading them»).
        let verdict = report.aim(
            &what,
            "< 0.5 / 2 ms",
            (connections == 1).then(|| {
                added.0 < Duration::from_micros(500) && added.1 < Duration::from_millis(2)
            }),
        );
        report.row(
            &what,
            &format!(
                "{} / {} through the gateway (its CPU: {} a call)",
                ms(through.p50),
                ms(through.p99),
                us(cpu)
            ),
            &format!(
                "{} / {} to the sandbox directly (its CPU: {} a call)",
                ms(direct.p50),
                ms(direct.p99),
                us(direct_cpu)
            ),
            &format!("**+{} / +{}** added ({verdict})", ms(added.0), ms(added.1)),
        );
    }
}

/// How many rounds a side-by-side figure is measured in.
const ROUNDS: usize = 3;

/// The round of median throughput (its CPU per request with it).
fn median(mut rounds: Vec<(wrk::Run, Duration)>) -> (wrk::Run, Duration) {
    rounds.sort_by(|a, b| a.0.per_second.total_cmp(&b.0.per_second));
    rounds.swap_remove(rounds.len() / 2)
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

/// One cached-read row: the gateway at `url` against nginx at `static_url`, measured one after
/// the other with the same generator, threads and connections, with the CPU each used per
/// request.
fn cached_row(
    report: &mut Report,
    what: &str,
    (url, gateway): (&str, &Gateway),
    (static_url, nginx): (&str, &Nginx),
    aim: f64,
) {
    // One warm-up each, then rounds taken in turn, so that a change in the machine's pace
    // falls on both sides; the median round of each counts.
    wrk::run(url, 64, 1, 2, None);
    wrk::run(static_url, 64, 1, 2, None);
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        ours.push(wrk::run_costed(url, 64, 1, 4, None, || gateway.cpu()));
        theirs.push(wrk::run_costed(static_url, 64, 1, 4, None, || nginx.cpu()));
    }
    let ((ours, our_cpu), (theirs, their_cpu)) = (median(ours), median(theirs));
    let ratio = ours.per_second / theirs.per_second;
    let verdict = report.aim(what, &format!("≥ {aim}×"), Some(ratio >= aim));
    report.row(
        what,
        &format!(
            "{:.0} requests/s (p50 {}; CPU {} a request)",
            ours.per_second,
            ms(ours.p50),
            us(our_cpu)
        ),
        &format!(
            "nginx, the same JSON as a file: {:.0} requests/s (p50 {}; CPU {} a request)",
            theirs.per_second,
            ms(theirs.p50),
            us(their_cpu)
        ),
        &format!("**{ratio:.2}×** nginx ({verdict})"),
    );
}

/// Cached directory reads against nginx serving the same JSON as a static file: the gateway at
/// `warn` (no line a request) against nginx without an access log, then at its default `info`
/// (a line a request, to a file) against nginx with its access log on to a file.
async fn cached_reads(report: &mut Report, dir: &Path, sandbox_url: &str) {
    let config = gateway_config(sandbox_url, 300, 300);
    let gateway = Gateway::start(dir, &config);
    let url = format!("{}/api/v1/clinics/demo/specialties", gateway.base);
    let json = reqwest::get(&url)
        .await
        .expect("answers")
        .bytes()
        .await
        .expect("a body");
    // Idle: started and warm (one answer cached), before any load.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let gateway_idle = gateway.rss();
    let root = dir.join("www");
    std::fs::create_dir_all(&root).expect("writable");
    std::fs::write(root.join("specialties.json"), &json).expect("writable");
    let Some(nginx) = Nginx::start(&dir.join("nginx-quiet"), &root, None) else {
        report.note(
            "SKIPPED cached reads against nginx: nginx is not installed (apt-get install nginx)",
        );
        return;
    };
    let static_url = format!("http://127.0.0.1:{}/specialties.json", nginx.port);
    let what = |level: &str, nginx_log: &str| {
        format!(
            "cached `GET .../specialties` ({} bytes), wrk 1 thread × 64 connections, log level `{level}` (nginx: access log {nginx_log})",
            json.len()
        )
    };
    cached_row(
        report,
        &what("warn", "off"),
        (&url, &gateway),
        (&static_url, &nginx),
        0.9,
    );
    memory(
        report,
        (&url, &gateway, gateway_idle),
        (&static_url, &nginx),
    );
    drop((gateway, nginx));

    // At `info`, as operators run it: one line a request, to a file (not a terminal).
    let log = dir.join("gateway-info.log");
    let gateway = Gateway::start_logging(dir, &config, "info", Some(&log));
    let access_log = dir.join("nginx-access.log");
    let Some(nginx) = Nginx::start(&dir.join("nginx-logged"), &root, Some(&access_log)) else {
        report.note("SKIPPED cached reads at `info`: nginx did not start a second time");
        return;
    };
    let url = format!("{}/api/v1/clinics/demo/specialties", gateway.base);
    let static_url = format!("http://127.0.0.1:{}/specialties.json", nginx.port);
    cached_row(
        report,
        &what("info", "on, to a file"),
        (&url, &gateway),
        (&static_url, &nginx),
        0.8,
    );
    drop(gateway);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let lines = text.lines().filter(|l| l.contains("request done")).count();
    assert!(
        lines > 1000,
        "the gateway at `info` logged {lines} requests"
    );
    assert!(
        !text.contains('\x1b'),
        "no colours in a log written to a file"
    );
}

/// Memory: idle, then under 1 000 open connections, next to nginx's.
fn memory(
    report: &mut Report,
    (url, gateway, gateway_idle): (&str, &Gateway, child::Memory),
    (static_url, nginx): (&str, &Nginx),
) {
    let idle = (gateway_idle, nginx.rss());
    let sample = |g: &Gateway, n: &Nginx| {
        let stop = Instant::now() + Duration::from_secs(5);
        let (mut gw, mut ng) = (child::Memory::default(), 0);
        while Instant::now() < stop {
            let now = g.rss();
            if now.rss_kb > gw.rss_kb {
                gw = now;
            }
            ng = ng.max(n.rss().rss_kb);
            std::thread::sleep(Duration::from_millis(100));
        }
        (gw, ng)
    };
    let (gw_busy, ng_busy) = std::thread::scope(|s| {
        let sampler = s.spawn(|| sample(gateway, nginx));
        std::thread::sleep(Duration::from_millis(200));
        let a = s.spawn(|| wrk::run(url, 1000, 2, 4, None));
        a.join().expect("wrk ran");
        let g = sampler.join().expect("sampled");
        let sampler = s.spawn(|| sample(gateway, nginx));
        std::thread::sleep(Duration::from_millis(200));
        wrk::run(static_url, 1000, 2, 4, None);
        let n = sampler.join().expect("sampled");
        (g.0, n.1)
    });
    let mb = |kb: u64| format!("{:.0} MB", kb as f64 / 1024.0);
    let met = idle.0.rss_kb <= 15 * 1024 && gw_busy.rss_kb <= 40 * 1024;
    let what = "resident memory, idle / under 1 000 open connections";
    let verdict = report.aim(what, "≤ 15 / 40 MB", Some(met));
    report.row(
        what,
        &format!(
            "{} / {} (its own memory {} / {}; the rest is the executable's code pages)",
            mb(idle.0.rss_kb),
            mb(gw_busy.rss_kb),
            mb(idle.0.anon_kb),
            mb(gw_busy.anon_kb)
        ),
        &format!(
            "nginx (master and 2 workers): {} / {}",
            mb(idle.1.rss_kb),
            mb(ng_busy)
        ),
        &format!(
            "{:.1}× / {:.1}× ({verdict})",
            idle.0.rss_kb as f64 / idle.1.rss_kb.max(1) as f64,
            gw_busy.rss_kb as f64 / ng_busy.max(1) as f64,
        ),
    );
}

/// `n` free tickets of the demo clinic at `api`, from as many doctors and days as it takes.
pub async fn free_slots(client: &reqwest::Client, api: &str, n: usize) -> Vec<String> {
    let mut slots = Vec::new();
    let specialties: serde_json::Value = client
        .get(format!("{api}/specialties"))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    'find: for s in specialties["items"].as_array().expect("a list") {
        let doctors: serde_json::Value = client
            .get(format!(
                "{api}/specialties/{}/doctors",
                s["id"].as_str().expect("an id")
            ))
            .send()
            .await
            .expect("answers")
            .json()
            .await
            .expect("JSON");
        for d in doctors["items"].as_array().expect("a list") {
            let doctor = d["id"].as_str().expect("an id");
            let dates: serde_json::Value = client
                .get(format!("{api}/doctors/{doctor}/dates"))
                .send()
                .await
                .expect("answers")
                .json()
                .await
                .expect("JSON");
            for day in dates["dates"].as_array().expect("a list") {
                let list: serde_json::Value = client
                    .get(format!(
                        "{api}/doctors/{doctor}/slots?date={}",
                        day.as_str().expect("a day")
                    ))
                    .send()
                    .await
                    .expect("answers")
                    .json()
                    .await
                    .expect("JSON");
                for slot in list["items"].as_array().expect("a list") {
                    slots.push(slot["id"].as_str().expect("an id").to_owned());
                    if slots.len() == n {
                        break 'find;
                    }
                }
            }
        }
    }
    assert_eq!(slots.len(), n, "{n} free tickets");
    slots
}

/// What a rush measured.
struct Rush {
    wall: Duration,
}

/// 1 000 patients at once for 100 tickets, 10 for each, through the gateways at `bases`
/// (taken in turn).
async fn rush_through(sandbox: &sandbox_mis::Sandbox, bases: &[String], tag: &str) -> Rush {
    let apis: Vec<String> = bases
        .iter()
        .map(|b| format!("{b}/api/v1/clinics/demo"))
        .collect();
    let api = apis[0].clone();
    let birth = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
    let patients: Vec<(String, String)> = (0..1000)
        .map(|i| {
            let (document, policy) = (format!("{tag}{i:08}"), format!("{tag}{i:014}"));
            sandbox
                .store()
                .add_patient(&format!("{tag}-{i}"), &document, &policy, birth)
                .expect("added");
            (document, policy)
        })
        .collect();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1000)
        .build()
        .expect("a client");
    let slots = free_slots(&client, &api, 100).await;
    let logins = patients.iter().enumerate().map(|(i, (document, policy))| {
        let (client, api) = (client.clone(), apis[i % apis.len()].clone());
        async move {
            let r: serde_json::Value = client
                .post(format!("{api}/sessions"))
                .json(&serde_json::json!({"document_number": document, "policy_number": policy, "birth_date": "1970-01-01"}))
                .send()
                .await
                .expect("answers")
                .json()
                .await
                .expect("a session");
            r["token"].as_str().expect("a token").to_owned()
        }
    });
    let tokens = futures_util::future::join_all(logins).await;
    let started = Instant::now();
    let bookings = tokens.iter().enumerate().map(|(i, token)| {
        let (client, api, slot) = (
            client.clone(),
            apis[i % apis.len()].clone(),
            slots[i % 100].clone(),
        );
        async move {
            let r = client
                .post(format!("{api}/tickets"))
                .bearer_auth(token)
                .json(&serde_json::json!({ "slot_id": slot }))
                .send()
                .await
                .expect("answers");
            let status = r.status().as_u16();
            if status == 201 {
                "booked".to_owned()
            } else {
                r.json::<serde_json::Value>()
                    .await
                    .map(|p| p["code"].as_str().unwrap_or("?").to_owned())
                    .unwrap_or_default()
            }
        }
    });
    let outcomes = futures_util::future::join_all(bookings).await;
    let wall = started.elapsed();
    let booked = outcomes.iter().filter(|c| *c == "booked").count();
    let taken = outcomes.iter().filter(|c| *c == "slot_taken").count();
    assert_eq!(
        (booked, taken),
        (100, 900),
        "exactly one booking per ticket and a clear «taken» for everyone else: {outcomes:?}"
    );
    Rush { wall }
}

/// 1 000 patients at once for 100 tickets, 10 for each.
async fn rush(report: &mut Report, dir: &Path) {
    let (sandbox, sandbox_url) = registratura_e2e::start_sandbox();
    let gateway = Gateway::start(dir, &gateway_config(&sandbox_url, 300, 0));
    let r = rush_through(&sandbox, std::slice::from_ref(&gateway.base), "81").await;
    report.row(
        "rush: 1 000 patients at once for 100 tickets",
        &format!(
            "100 booked, 900 `slot_taken`, nothing else, in {}",
            ms(r.wall)
        ),
        "—",
        &format!("{:.0} bookings/s", 1000.0 / r.wall.as_secs_f64()),
    );
}

/// A `redis-server` of the benchmark's own, on a free port.
struct Redis(std::process::Child, u16);

impl Redis {
    fn start(dir: &Path) -> Option<Redis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let redis = Redis(child, port);
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(redis);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        None
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One gateway against two sharing one Redis, on the same machine: cached reads and a rush.
async fn scale(report: &mut Report, dir: &Path) {
    let Some(redis) = Redis::start(dir) else {
        report.note("SKIPPED one gateway against two: redis-server is not installed (apt-get install redis-server)");
        return;
    };
    let (sandbox, sandbox_url) = registratura_e2e::start_sandbox();
    let on_redis = |prefix: &str| {
        gateway_config(&sandbox_url, 300, 0).replace(
            "[cache]",
            &format!(
                "[state]\nredis_url = \"redis://127.0.0.1:{}/0\"\nprefix = \"{prefix}\"\n\n[cache]",
                redis.1
            ),
        )
    };
    let one = Gateway::start(dir, &gateway_config(&sandbox_url, 300, 0));
    let (a, b) = (
        Gateway::start(dir, &on_redis("bench")),
        Gateway::start(dir, &on_redis("bench")),
    );
    let path = "/api/v1/clinics/demo/specialties";
    for g in [&one, &a, &b] {
        reqwest::get(format!("{}{path}", g.base))
            .await
            .expect("warm");
    }
    let single = wrk::run(&format!("{}{path}", one.base), 64, 1, 5, None);
    let (x, y) = std::thread::scope(|s| {
        let x = s.spawn(|| wrk::run(&format!("{}{path}", a.base), 32, 1, 5, None));
        let y = s.spawn(|| wrk::run(&format!("{}{path}", b.base), 32, 1, 5, None));
        (x.join().expect("wrk"), y.join().expect("wrk"))
    });
    let pair = x.per_second + y.per_second;
    report.row(
        "cached `GET .../specialties`, 64 connections in all",
        &format!("two gateways on one Redis: {pair:.0} requests/s"),
        &format!(
            "one gateway, state in memory: {:.0} requests/s",
            single.per_second
        ),
        &format!(
            "{:.2}× (the same two cores for both)",
            pair / single.per_second
        ),
    );
    let solo = rush_through(&sandbox, std::slice::from_ref(&one.base), "82").await;
    let shared = rush_through(&sandbox, &[a.base.clone(), b.base.clone()], "83").await;
    report.row(
        "rush of 1 000 patients for 100 tickets (identification, then booking)",
        &format!(
            "two gateways on one Redis: {:.0} bookings/s ({}), 100 booked once each",
            1000.0 / shared.wall.as_secs_f64(),
            ms(shared.wall)
        ),
        &format!(
            "one gateway, state in memory: {:.0} bookings/s ({})",
            1000.0 / solo.wall.as_secs_f64(),
            ms(solo.wall)
        ),
        &format!(
            "{:.2}×",
            solo.wall.as_secs_f64() / shared.wall.as_secs_f64()
        ),
    );
}

/// The widget's sizes and its time to the first interactive step.
async fn widget(report: &mut Report) {
    use std::io::Write as _;
    let asset = |name: &str| {
        registratura::pages::widget::ASSETS
            .iter()
            .find(|a| a.name == name)
            .expect("embedded")
    };
    let loader = asset("widget.js");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(loader.raw).expect("compresses");
    let loader_gz = gz.finish().expect("compresses").len();
    use registratura::pages::widget::{CLINIC, REGION};
    let raw = |b: registratura::pages::widget::Build| -> usize {
        [b.boot, b.glue, b.wasm]
            .iter()
            .map(|n| asset(n).raw.len())
            .sum()
    };
    let kib = |bytes: usize| bytes as f64 / 1024.0;
    report.row(
        "widget: loader (gzip) / a clinic's boot + glue + wasm (brotli, as served) / a region's",
        &format!(
            "{loader_gz} B / {:.1} KiB / {:.1} KiB",
            kib(CLINIC.served_bytes()),
            kib(REGION.served_bytes())
        ),
        &format!(
            "raw {} B / {:.1} KiB / {:.1} KiB",
            loader.raw.len(),
            kib(raw(CLINIC)),
            kib(raw(REGION))
        ),
        "—",
    );
    let Some(browser) = harness::Browser::start().await else {
        report.note("SKIPPED the widget's time to interactive: no chromium / chromedriver");
        return;
    };
    let stack = harness::Stack::start(None).await;
    let mut loads = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        browser
            .driver
            .goto(&stack.demo_url)
            .await
            .expect("navigates");
        browser.enter_widget().await;
        browser.wait_css(".rg[data-ready] .rg-choice").await;
        loads.push(started.elapsed());
        browser.driver.enter_default_frame().await.expect("back");
    }
    loads.sort();
    report.row(
        "widget: from the host page's navigation to the widget running (headless Chromium, loopback)",
        &format!(
            "median {} of 7 (first, compiling the wasm: {})",
            ms(loads[3]),
            ms(loads[6])
        ),
        "—",
        "—",
    );
    // A phone: Lighthouse's mobile throttling (150 ms round trip, 1.6 Mbit/s), Chrome's own
    // network emulation; cold (cache emptied) and cached.
    for cold in [true, false] {
        let mut phone = Vec::new();
        for _ in 0..5 {
            phone.push(browser.load_on_a_phone_network(&stack.demo_url, cold).await);
        }
        phone.sort();
        let (shown, live) = phone[2];
        report.row(
            &format!(
                "widget on a phone network, {}: first step shown (written by the gateway) / widget running",
                if cold { "cold" } else { "cached" }
            ),
            &format!("{} / {} (median of 5)", ms(shown), ms(live)),
            "—",
            "—",
        );
    }
    browser.quit().await;
}

fn main() {
    if child::serve_if_asked() {
        return;
    }
    let only = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let wants = |section: &str| only.as_deref().is_none_or(|o| o == section);
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut report = Report::default();
    if wants("codec") {
        codec::run(&mut report);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let (_sandbox, sandbox_url) = registratura_e2e::start_sandbox();
        if wrk::available() {
            if wants("overhead") {
                overhead(&mut report, dir.path(), &sandbox_url).await;
            }
            if wants("cached") {
                cached_reads(&mut report, dir.path(), &sandbox_url).await;
            }
        } else {
            report.note("SKIPPED the load benchmarks: wrk is not installed (apt-get install wrk)");
        }
        if wants("rush") {
            rush(&mut report, dir.path()).await;
        }
        if wants("surge") {
            surge::run(&mut report, dir.path()).await;
        }
        if wants("scale") && wrk::available() {
            scale(&mut report, dir.path()).await;
        }
        if wants("region") {
            region::run(&mut report, dir.path()).await;
        }
        if wants("size") {
            size::run(&mut report, dir.path()).await;
        }
        if wants("widget") {
            widget(&mut report).await;
        }
        if wants("failover") {
            failover::run(&mut report).await;
        }
    });
    println!("\n{}", report.markdown(&report::machine()));
    // Benchmarks run by hand, on a quiet machine (not in CI): a missed aim fails the run.
    let (met, missed) = report.aims();
    println!("aims: {} met, {} missed", met.len(), missed.len());
    for what in &missed {
        println!("  missed: {what}");
    }
    if !missed.is_empty() {
        std::process::exit(1);
    }
}
