//! A hostile or broken МИС cannot exhaust the gateway's memory: answers just under the size
//! limit, built to make an XML reader allocate (long namespaces, many small elements, many
//! attributes and declarations, many references), cost the client a small multiple of their
//! size, measured with a counting allocator.
//!
//! This binary holds one test so that nothing else allocates while it measures.

use mis::{DateRange, LpuId, Mis, MisError};
use mis_hub::{HubClient, HubConfig};
use peak_alloc::PeakAlloc;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// The client's answer size limit, as in the default configuration.
const LIMIT: usize = 4 * 1024 * 1024;
/// The most one answer may cost the client (the issue's bound).
const BUDGET: usize = 16 * 1024 * 1024;

const OPEN: &str = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>"#;
const CLOSE: &str = "</s:Body></s:Envelope>";

/// An answer of `GetAvaibleAppointments` whose list is `items` repeated to just under the limit.
fn answer(ns_decl: &str, item: &str) -> Vec<u8> {
    let head = format!(
        r#"{OPEN}<GetAvaibleAppointmentsResponse xmlns="http://tempuri.org/"><GetAvaibleAppointmentsResult {ns_decl} xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><a:ErrorList i:nil="true"/><a:IdHistory i:nil="true"/><a:Success>true</a:Success><a:ListAppointments>"#
    );
    let tail = format!(
        "</a:ListAppointments></GetAvaibleAppointmentsResult></GetAvaibleAppointmentsResponse>{CLOSE}"
    );
    let room = LIMIT - 1 - head.len() - tail.len();
    let mut body = head.into_bytes();
    for _ in 0..room / item.len() {
        body.extend_from_slice(item.as_bytes());
    }
    body.extend_from_slice(tail.as_bytes());
    assert!(body.len() < LIMIT && body.len() > LIMIT - 1024);
    body
}

fn hostile_answers() -> Vec<(&'static str, Vec<u8>)> {
    let long_ns = format!("urn:{}", "x".repeat(2_000));
    let hub = r#"xmlns:a="http://schemas.datacontract.org/2004/07/HubService2""#;
    let long = format!(r#"xmlns:a="{long_ns}""#);
    let slot = r#"<a:Appointment><a:Address i:nil="true"/><a:IdAppointment>1</a:IdAppointment><a:Num>1</a:Num><a:Room>1</a:Room><a:VisitEnd>2026-12-01T09:15:00</a:VisitEnd><a:VisitStart>2026-12-01T09:00:00</a:VisitStart></a:Appointment>"#;
    let attrs: String = (0..15).map(|i| format!(" x{i}=\"1\"")).collect();
    vec![
        (
            "a 2 000-character namespace on tiny elements",
            answer(&long, "<a:A/>"),
        ),
        (
            "a long namespace redeclared on every element",
            answer(hub, &format!(r#"<a:A xmlns:b="{long_ns}"/>"#)),
        ),
        ("many attributes", answer(hub, &format!("<a:A{attrs}/>"))),
        (
            "references everywhere",
            answer(hub, "<a:A>&amp;&#x410;</a:A>"),
        ),
        ("text split by references", answer(hub, "&amp;")),
        ("a legitimate shape, enormous", answer(hub, slot)),
        (
            "distinct namespaces",
            answer(hub, &format!(r#"<a:A xmlns:c="urn:{}"/>"#, "y".repeat(64))),
        ),
    ]
}

/// Serves each answer once per connection, as a МИС would.
async fn serve(body: Arc<Vec<u8>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback");
    let url = format!(
        "http://{}/HubService.svc",
        listener.local_addr().expect("bound")
    );
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut request).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    url
}

#[tokio::test(flavor = "current_thread")]
async fn a_hostile_answer_under_the_size_limit_costs_a_small_multiple_of_its_size() {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("a date");
    for (name, body) in hostile_answers() {
        let size = body.len();
        let url = serve(Arc::new(body)).await;
        let client = HubClient::new(HubConfig::new(url, "g")).expect("a client");
        let doctor = mis::DoctorId::parse("1").expect("an id");
        // Warm up the connection machinery, so that only the answer's cost is measured.
        let _ = client
            .slots(LpuId::new(1), &doctor, DateRange::day(today))
            .await;
        let before = ALLOCATOR.current_usage();
        ALLOCATOR.reset_peak_usage();
        let started = Instant::now();
        let result = client
            .slots(LpuId::new(1), &doctor, DateRange::day(today))
            .await;
        let took = started.elapsed();
        let cost = ALLOCATOR.peak_usage().saturating_sub(before);
        eprintln!(
            "{name}: {size} bytes -> {} in {took:?}, peak {:.1} MB",
            match &result {
                Ok(slots) => format!("{} slots", slots.len()),
                Err(e) => format!("{e}"),
            },
            cost as f64 / 1_048_576.0
        );
        assert!(
            matches!(result, Ok(_) | Err(MisError::BadResponse(_))),
            "{name}: {result:?}"
        );
        assert!(
            cost < BUDGET,
            "{name}: peak {cost} bytes for a {size}-byte answer"
        );
        // How long it took is printed, not asserted: a time depends on the machine and its
        // load, and is read in BENCHMARKS.md; the memory bound above is the resource bound.
    }
}
