//! The hub adapter against a local HTTP server serving canned, real-shaped answers and faults.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use mis::{DateRange, DoctorId, LpuId, Mis, MisError, SpecialtyId};
use mis_hub::{HubClient, HubConfig};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the canned server answers.
#[derive(Clone)]
struct Canned {
    status: u16,
    content_type: &'static str,
    body: Arc<Vec<u8>>,
    delay: Duration,
}

type Seen = Arc<Mutex<Vec<(Option<String>, Option<String>, String)>>>;

/// Starts a server that answers every request with `canned`; returns its endpoint and what
/// it saw (SOAPAction, Content-Type, body).
fn serve(canned: Canned) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("loopback");
    let url = format!(
        "http://{}/HubService.svc",
        listener.local_addr().expect("bound")
    );
    let server = HttpServer::new(move || {
        let (canned, s) = (canned.clone(), s.clone());
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let (canned, s) = (canned.clone(), s.clone());
            async move {
                let header = |n: &str| {
                    req.headers()
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                s.lock().expect("not poisoned").push((
                    header("soapaction"),
                    header("content-type"),
                    String::from_utf8_lossy(&body).into_owned(),
                ));
                tokio::time::sleep(canned.delay).await;
                HttpResponse::build(
                    actix_web::http::StatusCode::from_u16(canned.status).expect("valid"),
                )
                .content_type(canned.content_type)
                .body(canned.body.to_vec())
            }
        }))
    })
    .workers(1)
    .listen(listener)
    .expect("listens")
    .run();
    tokio::spawn(server);
    (url, seen)
}

fn xml(status: u16, body: &str) -> Canned {
    Canned {
        status,
        content_type: "text/xml; charset=utf-8",
        body: Arc::new(body.as_bytes().to_vec()),
        delay: Duration::ZERO,
    }
}

fn client(endpoint: &str) -> HubClient {
    let mut config = HubConfig::new(endpoint, "test-guid");
    config.timeout = Duration::from_millis(800);
    config.connect_timeout = Duration::from_millis(300);
    config.max_response_bytes = 1024 * 1024;
    HubClient::new(config).expect("a client")
}

fn lpu() -> LpuId {
    LpuId::new(1)
}

fn envelope(inner: &str) -> String {
    format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{inner}</s:Body></s:Envelope>"#
    )
}

fn result(op: &str, members: &str) -> String {
    envelope(&format!(
        r#"<{op}Response xmlns="http://tempuri.org/"><{op}Result xmlns:a="http://schemas.datacontract.org/2004/07/HubService2" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">{members}</{op}Result></{op}Response>"#
    ))
}

fn error_result(op: &str, id_error: i32) -> String {
    result(
        op,
        &format!(
            "<a:ErrorList><a:Error><a:ErrorDescription>Пациент Иванов И.И., паспорт 4510 123456</a:ErrorDescription><a:IdError>{id_error}</a:IdError></a:Error></a:ErrorList><a:IdHistory i:nil=\"true\"/><a:Success>false</a:Success>"
        ),
    )
}

fn range() -> DateRange {
    let d = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("a real date");
    DateRange::new(d, d + chrono::Duration::days(13)).expect("ordered")
}

#[tokio::test]
async fn a_wcf_answer_with_other_prefixes_and_nil_members_decodes() {
    let body = envelope(
        r#"<GetDoctorListResponse xmlns="http://tempuri.org/"><GetDoctorListResult xmlns:b="http://schemas.datacontract.org/2004/07/HubService2" xmlns:x="http://www.w3.org/2001/XMLSchema-instance">
        <b:ErrorList x:nil="true"/><b:IdHistory>42</b:IdHistory><b:Success>true</b:Success>
        <b:Docs>
          <b:Doctor><b:AriaNumber x:nil="true"/><b:Comment x:nil="true"/><b:CountFreeParticipantIE>2</b:CountFreeParticipantIE><b:CountFreeTicket>7</b:CountFreeTicket><b:IdDoc>d&amp;1</b:IdDoc><b:LastDate x:nil="true"/><b:Name>Иванова Мария Петровна</b:Name><b:NearestDate>2026-12-02T00:00:00.000+03:00</b:NearestDate><b:Snils x:nil="true"/></b:Doctor>
          <b:Doctor><b:CountFreeParticipantIE>0</b:CountFreeParticipantIE><b:IdDoc>d2</b:IdDoc><b:Name>Петров</b:Name><b:Comment>   </b:Comment></b:Doctor>
        </b:Docs></GetDoctorListResult></GetDoctorListResponse>"#,
    );
    let (url, seen) = serve(xml(200, &body));
    let doctors = client(&url)
        .doctors(lpu(), &SpecialtyId::parse("27").expect("valid"))
        .await
        .expect("decodes");
    assert_eq!(doctors.len(), 2);
    assert_eq!(doctors[0].id.as_str(), "d&1");
    assert_eq!(
        doctors[0].free_tickets,
        Some(2),
        "the internet quota, not every free ticket"
    );
    assert_eq!(doctors[0].comment, None);
    assert_eq!(
        doctors[0].nearest_date,
        chrono::NaiveDate::from_ymd_opt(2026, 12, 2)
    );
    assert_eq!(doctors[1].comment, None, "a blank comment is no comment");

    let seen = seen.lock().expect("not poisoned");
    let (action, content_type, request) = &seen[0];
    assert_eq!(
        action.as_deref(),
        Some("\"http://tempuri.org/IHubService/GetDoctorList\"")
    );
    assert_eq!(content_type.as_deref(), Some("text/xml; charset=utf-8"));
    assert!(request.contains("<guid>test-guid</guid>"), "{request}");
    assert!(
        request.contains("<idSpesiality>27</idSpesiality><idLpu>1</idLpu>"),
        "{request}"
    );
}

#[tokio::test]
async fn id_errors_map_onto_the_port_errors_without_their_descriptions() {
    let cases = [
        (1, MisError::AccessDenied),
        (20, MisError::PatientNotFound),
        (21, MisError::PatientNotUnique),
        (33, MisError::NotAllowed),
        (35, MisError::AlreadyBooked),
        (36, MisError::NotAttached),
        (38, MisError::NoSuchTicket),
        (39, MisError::SlotTaken),
        (75, MisError::NoSuchTicket),
        (4, MisError::Rejected { code: 4 }),
    ];
    for (id_error, expected) in cases {
        let (url, _) = serve(xml(200, &error_result("SetAppointment", id_error)));
        let patient = mis::PatientId::parse("p").expect("valid");
        let slot = mis::AppointmentId::parse("a").expect("valid");
        let err = client(&url)
            .book(lpu(), mis::Booking::new(&patient, &slot))
            .await
            .expect_err("an error");
        assert_eq!(err, expected, "IdError {id_error}");
        assert!(
            !err.to_string().contains("4510"),
            "the МИС's description is not carried: {err}"
        );
    }
    let (url, _) = serve(xml(200, &error_result("GetVersion", 99)));
    assert!(matches!(
        client(&url).version().await,
        Err(MisError::Unavailable(_))
    ));
}

#[tokio::test]
async fn faults_and_broken_answers_give_unavailable_or_bad_response() {
    let server_fault = envelope(
        r#"<s:Fault><faultcode>s:Server</faultcode><faultstring xml:lang="ru-RU">Ошибка БД</faultstring></s:Fault>"#,
    );
    let client_fault = server_fault.replace("s:Server", "s:Client");
    type Case = (Canned, fn(&MisError) -> bool);
    let cases: Vec<Case> = vec![
        (xml(500, &server_fault), |e| {
            matches!(e, MisError::Unavailable(_))
        }),
        (xml(500, &client_fault), |e| {
            matches!(e, MisError::BadResponse(_))
        }),
        (
            Canned {
                status: 500,
                content_type: "text/html",
                body: Arc::new(b"<html>IIS error</html>".to_vec()),
                delay: Duration::ZERO,
            },
            |e| matches!(e, MisError::Unavailable(_)),
        ),
        (
            Canned {
                status: 200,
                content_type: "text/html",
                body: Arc::new(b"<html><p>It works!</html>".to_vec()),
                delay: Duration::ZERO,
            },
            |e| matches!(e, MisError::BadResponse(_)),
        ),
        (
            xml(
                200,
                &result("GetVersion", "<a:Success>true</a:Success>")[..60],
            ),
            |e| matches!(e, MisError::BadResponse(_)),
        ),
        (
            xml(
                200,
                &format!(
                    "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"{}\">]>{}",
                    "a".repeat(100),
                    result("GetVersion", "<a:Success>true</a:Success>")
                ),
            ),
            |e| matches!(e, MisError::BadResponse(_)),
        ),
        (
            xml(
                200,
                &result("GetVersion", "<a:Success>true</a:Success>")
                    .replace("http://tempuri.org/", "http://example.org/"),
            ),
            |e| matches!(e, MisError::BadResponse(_)),
        ),
        (
            xml(200, &result("GetVersion", "<a:Success>yes</a:Success>")),
            |e| matches!(e, MisError::BadResponse(_)),
        ),
        (
            Canned {
                status: 200,
                content_type: "text/xml",
                body: Arc::new(vec![b' '; 3 * 1024 * 1024]),
                delay: Duration::ZERO,
            },
            |e| matches!(e, MisError::BadResponse(_)),
        ),
    ];
    for (i, (canned, check)) in cases.into_iter().enumerate() {
        let (url, _) = serve(canned);
        let err = client(&url).version().await.expect_err("an error");
        assert!(check(&err), "case {i}: {err:?}");
    }
}

#[tokio::test]
async fn a_slow_or_absent_mis_is_unavailable_within_the_deadline() {
    let mut slow = xml(200, &result("GetVersion", "<a:Success>true</a:Success>"));
    slow.delay = Duration::from_secs(5);
    let (url, _) = serve(slow);
    let started = Instant::now();
    let err = client(&url).version().await.expect_err("times out");
    assert!(matches!(err, MisError::Unavailable(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("loopback");
        format!("http://{}/HubService.svc", l.local_addr().expect("bound"))
    };
    assert!(matches!(
        client(&closed).version().await,
        Err(MisError::Unavailable(_))
    ));
}

#[tokio::test]
async fn dates_outside_the_range_and_duplicates_are_dropped() {
    let body = result(
        "GetAvailableDates",
        r#"<a:ErrorList i:nil="true"/><a:IdHistory i:nil="true"/><a:Success>true</a:Success><a:AvailableDateList xmlns:b="http://schemas.microsoft.com/2003/10/Serialization/Arrays"><b:dateTime>2026-12-03T00:00:00</b:dateTime><b:dateTime>2026-12-01T09:00:00</b:dateTime><b:dateTime>2026-12-01T10:00:00</b:dateTime><b:dateTime>2027-01-20T00:00:00</b:dateTime></a:AvailableDateList>"#,
    );
    let (url, _) = serve(xml(200, &body));
    let dates = client(&url)
        .available_dates(lpu(), &DoctorId::parse("d").expect("valid"), range())
        .await
        .expect("decodes");
    let shown: Vec<String> = dates.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["2026-12-01", "2026-12-03"]);
}

#[tokio::test]
async fn a_result_missing_a_required_id_is_a_bad_response() {
    let body = result(
        "GetAvaibleAppointments",
        r#"<a:ErrorList i:nil="true"/><a:IdHistory i:nil="true"/><a:Success>true</a:Success><a:ListAppointments><a:Appointment><a:Address i:nil="true"/><a:IdAppointment i:nil="true"/><a:Num i:nil="true"/><a:Room>5</a:Room><a:VisitEnd>2026-12-01T09:20:00</a:VisitEnd><a:VisitStart>2026-12-01T09:00:00</a:VisitStart></a:Appointment></a:ListAppointments>"#,
    );
    let (url, _) = serve(xml(200, &body));
    let err = client(&url)
        .slots(lpu(), &DoctorId::parse("d").expect("valid"), range())
        .await
        .expect_err("no id");
    assert!(matches!(err, MisError::BadResponse(_)), "{err:?}");
}

#[tokio::test]
async fn a_write_whose_answer_may_be_lost_is_outcome_unknown_and_one_never_sent_is_unavailable() {
    let patient = mis::PatientId::parse("P-1").expect("an id");
    let slot = mis::AppointmentId::parse("A-1").expect("an id");
    let book = |url: String| {
        let (patient, slot) = (patient.clone(), slot.clone());
        async move {
            client(&url)
                .book(LpuId::new(1), mis::Booking::new(&patient, &slot))
                .await
                .expect_err("no booking")
        }
    };
    // Sent, and the answer late, broken or a fault: nobody knows whether the МИС booked.
    let mut slow = xml(
        200,
        &result("SetAppointment", "<a:Success>true</a:Success>"),
    );
    slow.delay = Duration::from_secs(5);
    let server_fault = envelope(
        r#"<s:Fault><faultcode>s:Server</faultcode><faultstring>Ошибка БД</faultstring></s:Fault>"#,
    );
    let lost: Vec<(&str, Canned)> = vec![
        ("an answer later than the timeout", slow),
        ("a SOAP fault", xml(500, &server_fault)),
        (
            "a cut answer",
            xml(
                200,
                &result("SetAppointment", "<a:Success>true</a:Success>")[..50],
            ),
        ),
        (
            "an HTML 500",
            Canned {
                status: 500,
                content_type: "text/html",
                body: Arc::new(b"<html>IIS error</html>".to_vec()),
                delay: Duration::ZERO,
            },
        ),
    ];
    for (what, canned) in lost {
        let (url, seen) = serve(canned);
        let err = book(url).await;
        assert!(
            matches!(err, MisError::OutcomeUnknown(_)),
            "{what}: {err:?}"
        );
        assert_eq!(
            seen.lock().expect("not poisoned").len(),
            1,
            "{what}: sent once"
        );
    }
    // Never sent: the connection was refused.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("loopback");
        format!("http://{}/HubService.svc", l.local_addr().expect("bound"))
    };
    assert!(matches!(book(closed).await, MisError::Unavailable(_)));
    // A refusal is an answer: it stays what it is.
    let taken = xml(
        200,
        &result(
            "SetAppointment",
            "<a:ErrorList><a:Error><a:ErrorDescription>Талон занят</a:ErrorDescription><a:IdError>39</a:IdError></a:Error></a:ErrorList><a:Success>false</a:Success>",
        ),
    );
    let (url, _) = serve(taken);
    assert_eq!(book(url).await, MisError::SlotTaken);
}
