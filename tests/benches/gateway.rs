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

fn codec() {
    let start = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
        .expect("a real date")
        .and_hms_opt(8, 0, 0)
        .expect("valid");
    let list: Vec<Appointment> = (0..32)
        .map(|i| Appointment {
            address: Some("г. Москва, ул. Лесная, д. 7".into()),
            id_appointment: Some(format!("101-20261201-{i:04}")),
            num: Some(i + 1),
            room: Some("101".into()),
            visit_end: start + chrono::Duration::minutes(i64::from(i) * 15 + 15),
            visit_start: start + chrono::Duration::minutes(i64::from(i) * 15),
        })
        .collect();
    let xml = contract::encode_response(
        Operation::GetAvaibleAppointments,
        &Response {
            base: MethodResult::ok(),
            body: ResultBody::Appointments(Some(list)),
        },
    );
    let n = 20_000;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(
            contract::decode_response(Operation::GetAvaibleAppointments, xml.as_bytes())
                .expect("decodes"),
        );
    }
    let decode = t.elapsed() / n;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(mis_hub::xml::parse(xml.as_bytes()).expect("parses"));
    }
    let parse = t.elapsed() / n;
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
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(contract::encode_request(&call));
    }
    let encode = t.elapsed() / n;
    println!(
        "codec: decode 32 slots ({} bytes) {decode:?}/message (of which the XML tree {parse:?}); encode a request {encode:?}/message",
        xml.len()
    );
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
