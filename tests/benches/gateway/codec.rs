//! The hub codec: decoding a large answer next to quick-xml's raw event reader on the same
//! bytes (the limit), and encoding a request.

use crate::report::Report;
use mis_hub::contract::{
    self, Appointment, MethodResult, Operation, Request, Response, ResultBody, Window,
};
use std::time::{Duration, Instant};

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

pub fn run(report: &mut Report) {
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
                visit_end: Some(start + chrono::Duration::minutes(i64::from(i) * 15 + 15)),
                visit_start: start + chrono::Duration::minutes(i64::from(i) * 15),
            })
            .collect();
        contract::encode_response(
            Operation::GetAvaibleAppointments,
            &Response {
                base: MethodResult::ok(),
                body: ResultBody::GetAvaibleAppointments(contract::AppointmentsResult {
                    list_appointments: Some(list),
                }),
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
        let what = format!(
            "decode `GetAvaibleAppointments`, {} slots ({} KB), vs quick-xml's raw event reader",
            days * 32,
            bytes.len() / 1000
        );
        let ratio = mb_s(decode) / mb_s(raw);
        let verdict = report.aim(&what, "≥ 0.5×", Some(ratio >= 0.5));
        report.row(
            &what,
            &format!(
                "{:.0} MB/s ({decode:.0?}; the tree {tree:.0?})",
                mb_s(decode)
            ),
            &format!("{:.0} MB/s ({raw:.0?})", mb_s(raw)),
            &format!("**{ratio:.2}×** ({verdict})"),
        );
    }
    fhir(report, start);
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
    report.note(&format!("encoding a request takes {encode:.1?}"));
}

/// A FHIR searchset of `n` free slots, as a server writes it.
fn fhir_slots(n: usize, start: chrono::NaiveDateTime) -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><Bundle xmlns="http://hl7.org/fhir"><type value="searchset"/>"#,
    );
    xml.push_str(&format!(r#"<total value="{n}"/><link><relation value="self"/><url value="/Slot?schedule=Schedule/sch-101&amp;status=free"/></link>"#));
    for i in 0..n {
        let at = |m: i64| {
            (start + chrono::Duration::minutes(m))
                .format("%Y-%m-%dT%H:%M:%S+03:00")
                .to_string()
        };
        xml.push_str(&format!(
            r#"<entry><fullUrl value="Slot/s-101-{i}"/><resource><Slot><id value="s-101-{i}"/><meta><versionId value="7b1c2f0e-{i:04}"/><lastUpdated value="2026-12-01T05:00:00.000Z"/></meta><schedule><reference value="Schedule/sch-101"/></schedule><status value="free"/><start value="{}"/><end value="{}"/><comment value="каб. 101"/></Slot></resource></entry>"#,
            at(i as i64 * 15),
            at(i as i64 * 15 + 15)
        ));
    }
    xml.push_str("</Bundle>");
    xml
}

/// The FHIR reader on a fortnight of one doctor's slots, beside quick-xml's raw reader.
fn fhir(report: &mut Report, start: chrono::NaiveDateTime) {
    let xml = fhir_slots(14 * 32, start);
    let bytes = xml.as_bytes();
    let n = 1_000;
    let decode = best_of_three(n, || {
        std::hint::black_box(mis_fhir::tree::from_xml(bytes).expect("reads"));
    });
    let raw = best_of_three(n, || {
        std::hint::black_box(raw_events(bytes));
    });
    let mb_s = |d: Duration| bytes.len() as f64 / d.as_secs_f64() / 1e6;
    let what = format!(
        "decode a FHIR `Slot` searchset, 448 slots ({} KB), vs quick-xml's raw event reader",
        bytes.len() / 1000
    );
    let ratio = mb_s(decode) / mb_s(raw);
    let verdict = report.aim(&what, "≥ 0.5×", Some(ratio >= 0.5));
    report.row(
        &what,
        &format!("{:.0} MB/s ({decode:.0?})", mb_s(decode)),
        &format!("{:.0} MB/s ({raw:.0?})", mb_s(raw)),
        &format!("**{ratio:.2}×** ({verdict})"),
    );
}
