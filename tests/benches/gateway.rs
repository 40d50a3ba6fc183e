//! Benchmarks of the gateway on loopback (run with `just bench`; figures in BENCHMARKS.md).
//!
//! - codec: encoding a request and decoding a day's free tickets (32 slots), per message;
//! - overhead: the latency the gateway adds to a МИС call (cache off), median and p99 of
//!   sequential requests, against the same call made directly to the sandbox;
//! - cached reads: requests per second of `GET .../specialties` served from the cache, with
//!   64 concurrent clients in the same process (they share the machine's cores with the
//!   server, so the figure is a floor).

use mis_hub::contract::{
    self, Appointment, MethodResult, Operation, Request, Response, ResultBody, Window,
};
use registratura_e2e::{demo_clinic, gateway_config, start_gateway, start_sandbox};
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Runs `f` `n` times and returns the time per run.
fn per_run(n: u32, mut f: impl FnMut()) -> Duration {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed() / n
}

/// The best of three measurements, to keep a noisy neighbour's pause out of the figure.
fn best_of_three(n: u32, mut f: impl FnMut()) -> Duration {
    (0..3).map(|_| per_run(n, &mut f)).min().unwrap_or_default()
}

/// quick-xml's raw event reader over the same bytes: the UTF-8 check and every event, with
/// no namespaces, no tree and no values. No decoder built on it can go faster.
fn raw_events(bytes: &[u8]) -> usize {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return 0;
    };
    let mut reader = quick_xml::Reader::from_str(text);
    let mut events = 0;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) | Err(_) => return events,
            Ok(e) => {
                std::hint::black_box(&e);
                events += 1;
            }
        }
    }
}

fn codec() {
    let start = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
        .expect("a real date")
        .and_hms_opt(8, 0, 0)
        .expect("valid");
    let answer = |days: i32| {
        let list: Vec<Appointment> = (0..days * 32)
            .map(|i| Appointment {
                address: Some("г. Москва, ул. Лесная, д. 7".into()),
                id_appointment: Some(format!("101-20261201-{i:04}")),
                num: Some(i % 32 + 1),
                room: Some("101".into()),
                visit_end: start + chrono::Duration::minutes(i64::from(i) * 15 + 15),
                visit_start: start + chrono::Duration::minutes(i64::from(i) * 15),
            })
            .collect();
        contract::encode_response(
            Operation::GetAvaibleAppointments,
            &Response {
                base: MethodResult::ok(),
                body: ResultBody::Appointments(Some(list)),
            },
        )
    };
    for (days, n) in [(1, 20_000), (14, 1_000)] {
        let xml = answer(days);
        let bytes = xml.as_bytes();
        let decode = best_of_three(n, || {
            std::hint::black_box(
                contract::decode_response(Operation::GetAvaibleAppointments, bytes)
                    .expect("decodes"),
            );
        });
        let tree = best_of_three(n, || {
            std::hint::black_box(mis_hub::xml::parse(bytes).expect("parses"));
        });
        let raw = best_of_three(n, || {
            std::hint::black_box(raw_events(bytes));
        });
        let mb_s = |d: Duration| bytes.len() as f64 / d.as_secs_f64() / 1e6;
        println!(
            "decode GetAvaibleAppointments, {} slots ({} bytes): {decode:?} = {:.0} MB/s (tree alone {tree:?}); quick-xml raw events {raw:?} = {:.0} MB/s; decoder / raw = {:.2}",
            days * 32,
            bytes.len(),
            mb_s(decode),
            mb_s(raw),
            mb_s(decode) / mb_s(raw)
        );
    }
    let call = contract::Call {
        guid: Some("g".into()),
        id_history: None,
        request: Request::GetAvaibleAppointments(Window {
            id_doc: "101".into(),
            id_lpu: 1,
            id_pat: None,
            visit_start: start,
            visit_end: start,
        }),
    };
    let encode = best_of_three(20_000, || {
        std::hint::black_box(contract::encode_request(&call));
    });
    println!("encode a request: {encode:?}");
}

async fn overhead() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let mut config = gateway_config(vec![demo_clinic(&sandbox_url)]);
    config.cache.directory_ttl_secs = 0;
    config.cache.schedule_ttl_secs = 0;
    let base = start_gateway(config).await;
    let client = reqwest::Client::new();
    let direct_body = contract::encode_request(&contract::Call {
        guid: Some(sandbox_mis::DEFAULT_GUID.into()),
        id_history: None,
        request: Request::GetSpesialityList {
            id_lpu: 1,
            id_pat: None,
        },
    });
    let n = 400;
    let mut direct = Vec::with_capacity(n);
    let mut through = Vec::with_capacity(n);
    for _ in 0..50 {
        let _ = client
            .get(format!("{base}/api/v1/clinics/demo/specialties"))
            .send()
            .await;
    }
    for _ in 0..n {
        let t = Instant::now();
        let r = client
            .post(format!("{sandbox_url}/HubService.svc"))
            .header("content-type", "text/xml; charset=utf-8")
            .header("soapaction", Operation::GetSpesialityList.soap_action())
            .body(direct_body.clone())
            .send()
            .await
            .expect("answers");
        r.bytes().await.expect("a body");
        direct.push(t.elapsed());
        let t = Instant::now();
        let r = client
            .get(format!("{base}/api/v1/clinics/demo/specialties"))
            .send()
            .await
            .expect("answers");
        assert_eq!(r.status(), 200);
        r.bytes().await.expect("a body");
        through.push(t.elapsed());
    }
    direct.sort();
    through.sort();
    let (d50, t50) = (percentile(&direct, 0.5), percentile(&through, 0.5));
    println!(
        "overhead (GetSpesialityList, cache off, {n} sequential calls): direct МИС median {d50:?} p99 {:?}; through the gateway median {t50:?} p99 {:?}; added median {:?}",
        percentile(&direct, 0.99),
        percentile(&through, 0.99),
        t50.saturating_sub(d50)
    );
}

async fn cached_reads() {
    let (_sandbox, sandbox_url) = start_sandbox();
    let base = start_gateway(gateway_config(vec![demo_clinic(&sandbox_url)])).await;
    let url = format!("{base}/api/v1/clinics/demo/specialties");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .build()
        .expect("a client");
    client.get(&url).send().await.expect("warm");
    let duration = Duration::from_secs(5);
    let started = Instant::now();
    let workers = (0..64).map(|_| {
        let (client, url) = (client.clone(), url.clone());
        tokio::spawn(async move {
            let mut done = 0u64;
            while started.elapsed() < duration {
                let r = client.get(&url).send().await.expect("answers");
                assert_eq!(r.status(), 200);
                r.bytes().await.expect("a body");
                done += 1;
            }
            done
        })
    });
    let mut total = 0;
    for w in workers {
        total += w.await.expect("a worker");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "cached reads: {total} requests in {secs:.1} s = {:.0} requests/s (64 clients in-process)",
        total as f64 / secs
    );
}

fn main() {
    codec();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        overhead().await;
        cached_reads().await;
    });
}
