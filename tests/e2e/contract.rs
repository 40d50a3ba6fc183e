//! The XML on the wire follows the real hub contract, and generic SOAP toolkits can use the
//! sandbox.

use chrono::Duration;
use mis::{DateRange, LpuId, Mis, PatientIdentity};
use mis_hub::{HubClient, HubConfig};
use registratura_e2e::{
    PATIENT_DUPLICATE, PATIENT_FOUND, contract_dir, require_tool, spawn_app, validate_bodies,
};
use std::path::PathBuf;
use std::process::Command;

fn identity(p: (&str, &str, &str)) -> PatientIdentity {
    let today = registratura_e2e::clinic_today();
    PatientIdentity {
        document: mis::DocumentNumber::parse(p.0).expect("valid"),
        policy: mis::PolicyNumber::parse(p.1).expect("valid"),
        birth_date: mis::BirthDate::parse(p.2, today).expect("valid"),
    }
}

#[tokio::test]
async fn every_body_sent_and_served_validates_against_the_contract_xsds() {
    if contract_dir().is_none()
        || !require_tool(
            "xmllint",
            &["--version"],
            "validates XML against the hub's XSDs",
        )
    {
        return;
    }
    let app = spawn_app().await;

    // The gateway's whole flow, with its failures.
    let (_, slot) = app.free_slot("Терапия").await;
    let token = app.login(PATIENT_FOUND).await;
    let ticket: api_types::Ticket = app
        .book(&token, &slot.id, None)
        .await
        .json()
        .await
        .expect("a ticket");
    let _ = app.book(&token, &slot.id, None).await;
    app.my_tickets(&token).await;
    let phone = serde_json::json!({ "phone": "8 (916) 765-43-21", "sms_consent": true });
    assert_eq!(
        app.post_private(&token, "/patient/phone", &phone, None)
            .await
            .status(),
        204
    );
    app.cancel(&token, &ticket.id).await;
    app.cancel(&token, &ticket.id).await;
    let _ = app.post_session(PATIENT_DUPLICATE).await;
    let _ = app
        .post_session(("1", "7700000000000009", "2000-01-01"))
        .await;

    // Every operation the adapter speaks, including those the gateway does not use yet.
    assert!(
        !app.recording.lock().expect("not poisoned").is_empty(),
        "the proxy recorded the gateway's calls"
    );
    let endpoint = format!("{}/HubService.svc", app.proxy_url);
    let client = HubClient::new(HubConfig::new(endpoint.clone(), sandbox_mis::DEFAULT_GUID))
        .expect("a client");
    let lpu = LpuId::new(1);
    let today = registratura_e2e::clinic_today();
    let range = DateRange::new(today, today + Duration::days(13)).expect("ordered");
    let spec = client.specialties(lpu).await.expect("specialties");
    let open = spec.iter().find(|s| s.name == "Хирургия").expect("surgery");
    let docs = client.doctors(lpu, &open.id).await.expect("doctors");
    client.version().await.expect("version");
    client.clinics().await.expect("clinics");
    client
        .available_dates(lpu, &docs[0].id, range)
        .await
        .expect("dates");
    client
        .working_time(lpu, &docs[0].id, range)
        .await
        .expect("working time");
    let slots = client.slots(lpu, &docs[0].id, range).await.expect("slots");
    let patient = client
        .find_patient(lpu, &identity(PATIENT_FOUND))
        .await
        .expect("found");
    client
        .book(lpu, mis::Booking::new(&patient, &slots[0].id))
        .await
        .expect("booked");
    client
        .book(
            lpu,
            mis::Booking {
                previous: Some(&slots[0].id),
                ..mis::Booking::new(&patient, &slots[1].id)
            },
        )
        .await
        .expect("rescheduled");
    client.history(lpu, &patient).await.expect("history");
    // The region's catalogue.
    let districts = mis::Region::districts(&client).await.expect("districts");
    assert_eq!(districts[0].name, sandbox_mis::seed::DISTRICT_NAME);
    let listed = mis::Region::clinics_of(&client, districts[0].id)
        .await
        .expect("the district's clinics");
    assert_eq!(listed[0].id, lpu);
    // Every district of the sandbox's region: the branch (PartOf), the inactive clinic.
    let mut all = Vec::new();
    for d in &districts {
        all.extend(
            mis::Region::clinics_of(&client, d.id)
                .await
                .expect("the district's clinics"),
        );
    }
    assert_eq!(all.len(), sandbox_mis::seed::CLINICS.len());
    assert!(all.iter().any(|c| c.part_of.is_some()) && all.iter().any(|c| !c.active));
    // Another clinic of the region, and the one that answers every call with an ErrorList.
    client.specialties(LpuId::new(3)).await.expect("clinic 3");
    let refused = client.specialties(LpuId::new(7)).await;
    assert!(
        matches!(
            refused,
            Err(mis::MisError::Rejected {
                code: sandbox_mis::seed::FAULT_ID
            })
        ),
        "{refused:?}"
    );
    let cards = mis::Region::cards(&client).await.expect("cards");
    assert_eq!(
        cards[0].1.phone.as_deref(),
        Some(sandbox_mis::seed::LPU_PHONE)
    );
    let areas = mis::Region::areas(&client, lpu, &patient)
        .await
        .expect("areas");
    assert_eq!(
        (areas[0].number.as_str(), areas[0].kind.as_str()),
        ("12", "Терапевтический")
    );
    client
        .cancel(lpu, &patient, &slots[1].id)
        .await
        .expect("cancelled");
    let number = mis::ReferralNumber::parse("0000000001").expect("valid");
    let referral = client.referral(lpu, &number).await.expect("a referral");
    let by_referral = client
        .referral_slots(lpu, &referral.doctors[0].id, &patient, referral.kind, range)
        .await
        .expect("referral tickets");
    client
        .book(
            lpu,
            mis::Booking {
                referral: Some(&number),
                ..mis::Booking::new(&patient, &by_referral[0].id)
            },
        )
        .await
        .expect("booked by the referral");
    client
        .cancel(lpu, &patient, &by_referral[0].id)
        .await
        .expect("cancelled");
    let closed = spec
        .iter()
        .find(|s| s.free_tickets == Some(0))
        .expect("a full specialty");
    let waiting = client
        .join_waiting_list(
            lpu,
            &mis::WaitingRequest {
                patient: patient.clone(),
                specialty: closed.id.clone(),
                specialty_name: closed.name.clone(),
                specialty_code: closed.federal_code.clone(),
                doctor: None,
                phone: mis::PhoneNumber::parse("+7 916 123-45-67").expect("valid"),
                window: Some(range),
                reason: mis::WaitingReason::NoFreeTickets,
            },
        )
        .await
        .expect("on the waiting list");
    let listed = client.waiting_list(lpu, &patient).await.expect("listed");
    assert!(listed.iter().any(|e| e.id == waiting));
    client
        .leave_waiting_list(lpu, &waiting)
        .await
        .expect("withdrawn");
    let phone = mis::PhoneNumber::parse("+7 916 123-45-67").expect("valid");
    client
        .update_phone(lpu, &patient, &phone)
        .await
        .expect("the phone is written into the card");
    assert_eq!(
        app.sandbox.store().cell_phone(patient.as_str()).as_deref(),
        Some("+79161234567"),
        "the card holds it"
    );
    let stranger = HubClient::new(HubConfig::new(
        endpoint,
        "00000000-0000-0000-0000-000000000000",
    ))
    .expect("a client");
    assert_eq!(
        stranger.specialties(lpu).await,
        Err(mis::MisError::AccessDenied),
        "a wrong guid answers IdError 1"
    );

    let exchanges = app.recording.lock().expect("not poisoned").clone();
    let mut operations = std::collections::BTreeSet::new();
    for x in &exchanges {
        assert_eq!(x.status, 200, "no faults in the flow: {}", x.response);
        if let Some(action) = &x.soap_action {
            operations.insert(
                action
                    .trim_matches('"')
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .to_owned(),
            );
        }
    }
    for op in mis_hub::contract::Operation::ALL {
        assert!(
            operations.contains(op.name()),
            "{} was exercised",
            op.name()
        );
    }
    let validated = validate_bodies(&exchanges).expect("the contract and xmllint are here");
    eprintln!(
        "validated {validated} SOAP bodies ({} exchanges) against the hub XSDs",
        exchanges.len()
    );
}

#[tokio::test]
async fn a_wrong_guid_and_an_unknown_operation_are_answered_as_the_contract_says() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let unknown = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><AddNewPatient xmlns="http://tempuri.org/"/></s:Body></s:Envelope>"#;
    let r = client
        .post(format!("{}/HubService.svc", app.sandbox_url))
        .header("content-type", "text/xml; charset=utf-8")
        .body(unknown)
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 500);
    let text = r.text().await.expect("text");
    assert!(
        text.contains("<s:Fault>") && text.contains("s:Client"),
        "{text}"
    );

    let wsdl = client
        .get(format!("{}/HubService.svc?wsdl", app.sandbox_url))
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("text");
    assert!(
        wsdl.contains(&format!("location=\"{}/HubService.svc\"", app.sandbox_url)),
        "the WSDL points at itself"
    );
    for op in mis_hub::contract::Operation::ALL {
        assert!(wsdl.contains(&format!(
            "soapAction=\"http://tempuri.org/IHubService/{}\"",
            op.name()
        )));
    }
}

#[test]
fn the_sandbox_wsdl_is_what_the_generator_cuts_from_the_contract() {
    let Some(contract) = contract_dir() else {
        return;
    };
    if !require_tool("python3", &["--version"], "runs the WSDL generator") {
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/sandbox-mis/wsdl");
    let output = Command::new("python3")
        .arg(root.join("generate.py"))
        .arg(&contract)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let committed = std::fs::read(root.join("hub.wsdl")).expect("committed");
    assert!(
        output.stdout == committed,
        "crates/sandbox-mis/wsdl/hub.wsdl is stale: run python3 crates/sandbox-mis/wsdl/generate.py ../shared/mis/netrika-hub > crates/sandbox-mis/wsdl/hub.wsdl"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generic_soap_client_built_from_the_wsdl_runs_the_whole_flow() {
    if !require_tool(
        "python3",
        &["-c", "import zeep"],
        "Python's zeep builds a SOAP client from the WSDL",
    ) {
        return;
    }
    let app = spawn_app().await;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("e2e/zeep_flow.py");
    let wsdl = format!("{}/HubService.svc?wsdl", app.sandbox_url);
    let output = tokio::process::Command::new("python3")
        .arg(script)
        .arg(wsdl)
        .arg(sandbox_mis::DEFAULT_GUID)
        .output()
        .await
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("FLOW OK"), "{stdout}");
}
