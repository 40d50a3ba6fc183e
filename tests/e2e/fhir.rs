//! A FHIR clinic beside a hub clinic in one gateway: the same flow against a real FHIR server
//! (Medplum's router in memory, spoken in XML), everything the adapter sends validated by
//! FHIR.js and checked for element order — and the flow, lost answers and the rush again
//! under each other way FHIR R4 allows a server to answer ([`VARIANTS`]: no body after a
//! write, outcome and include entries in searchsets, small pages behind opaque links, times
//! in UTC).

use registratura_e2e::fhir::{
    FhirServer, VARIANTS, extra_patient, fhir_clinic, seed, start_fhir_server,
};
use registratura_e2e::{
    Api, PATIENT_DUPLICATE, PATIENT_FOUND, PATIENT_FOUND_2, demo_clinic, expect_problem,
    gateway_config, start_gateway, start_sandbox,
};

/// A gateway with the FHIR clinic `fhir` on `server` and the demo clinic on a sandbox.
async fn gateway(server: &FhirServer) -> (String, sandbox_mis::Sandbox) {
    let (sandbox, sandbox_url) = start_sandbox();
    let base = start_gateway(gateway_config(vec![
        demo_clinic(&sandbox_url),
        fhir_clinic(server),
    ]))
    .await;
    (base, sandbox)
}

#[tokio::test]
async fn a_patient_books_moves_and_cancels_in_a_fhir_clinic_beside_a_hub_clinic() {
    let Some(server) = start_fhir_server(&seed(VARIANTS.len()), &[]) else {
        return;
    };
    let (base, sandbox) = gateway(&server).await;
    let fhir = Api::for_clinic(&base, "fhir");
    let specialties = fhir.specialties().await;
    assert!(
        specialties.iter().any(|s| s.name == "Терапия"),
        "{specialties:?}"
    );
    let mut token = String::new();
    for (i, (variant, options)) in VARIANTS.iter().enumerate() {
        server.answer_as(options).await;
        let (document, policy, birth) = extra_patient(i);
        token = fhir.login((&document, &policy, birth)).await;
        let (doctor, slot) = fhir.free_slot("Терапия").await;
        let key = format!("fhir-{i}");
        let r = fhir.book(&token, &slot.id, Some(&key)).await;
        assert_eq!(r.status(), 201, "{variant}");
        let ticket: api_types::Ticket = r.json().await.expect("a ticket");
        assert_eq!(ticket.start, slot.start, "{variant}");
        let mine = fhir.my_tickets(&token).await;
        assert_eq!(mine.len(), 1, "{variant}: {mine:?}");
        assert_eq!(mine[0].doctor.name, doctor.name, "{variant}");
        assert_eq!(mine[0].start, slot.start, "{variant}");
        // The same key again: the same ticket, no second appointment.
        assert_eq!(
            fhir.book(&token, &slot.id, Some(&key)).await.status(),
            201,
            "{variant}"
        );
        assert_eq!(fhir.my_tickets(&token).await.len(), 1, "{variant}");
        assert_eq!(
            server.booked_of(&fhir_slot(&slot.id)).await,
            1,
            "{variant}: one booked appointment"
        );
        // Another patient cannot have it.
        let other = fhir.login(PATIENT_FOUND_2).await;
        expect_problem(fhir.book(&other, &slot.id, None).await, 409, "slot_taken").await;
        // Moved to another time of the same doctor, then cancelled.
        let next = fhir
            .slots(&doctor.id, slot.start.date_naive())
            .await
            .into_iter()
            .find(|s| s.id != slot.id)
            .expect("another time");
        let moved = fhir
            .reschedule(&token, &mine[0].id, &next.id, Some(&format!("move-{i}")))
            .await;
        assert_eq!(moved.status(), 201, "{variant}");
        let moved: api_types::Ticket = moved.json().await.expect("a ticket");
        assert_eq!(moved.start, next.start, "{variant}");
        let mine = fhir.my_tickets(&token).await;
        assert_eq!(mine.len(), 1, "{variant}");
        assert_eq!(
            fhir.cancel(&token, &mine[0].id).await.status(),
            204,
            "{variant}"
        );
        assert!(fhir.my_tickets(&token).await.is_empty(), "{variant}");
        // The freed time is free again.
        assert!(
            fhir.slots(&doctor.id, slot.start.date_naive())
                .await
                .iter()
                .any(|s| s.id == next.id),
            "{variant}"
        );
    }
    // What the hub does and FHIR does not: said so, not pretended.
    let r = fhir
        .join_waiting_list(
            &token,
            &serde_json::json!({"specialty_id": specialties[0].id, "phone": "+7 926 555-01-23"}),
        )
        .await;
    expect_problem(r, 501, "not_supported").await;
    let r = fhir.get_private(&token, "/referrals/0000000001").await;
    expect_problem(r, 501, "not_supported").await;
    // The hub clinic beside it works as ever.
    let hub = Api::for_clinic(&base, "demo");
    let (_, hub_slot) = hub.free_slot("Терапия").await;
    let hub_token = hub.login(PATIENT_FOUND).await;
    assert_eq!(hub.book(&hub_token, &hub_slot.id, None).await.status(), 201);
    assert_eq!(sandbox.store().booked_slots().expect("reads").len(), 1);
    // Everything the adapter sent was valid R4, its elements in the specification's order.
    assert_eq!(server.violations().await, Vec::<String>::new());
}

/// The FHIR id of the slot a public slot id names.
fn fhir_slot(public: &str) -> String {
    gateway_domain::ids::SlotKey::parse(public)
        .expect("a slot id")
        .appointment
        .as_str()
        .to_owned()
}

/// Books a free surgeon's ticket with `faults` set on the server, under each of
/// [`VARIANTS`]: every fault fires, the patient's first answer is the ticket, the slot is busy
/// and holds one booked appointment.
async fn book_through(faults: &[(bool, &str, &str, usize)]) {
    let Some(server) = start_fhir_server(&seed(VARIANTS.len()), &[]) else {
        return;
    };
    let (base, _sandbox) = gateway(&server).await;
    let fhir = Api::for_clinic(&base, "fhir");
    for (i, (variant, options)) in VARIANTS.iter().enumerate() {
        server.answer_as(options).await;
        let (_, slot) = fhir.free_slot("Хирургия").await;
        let (document, policy, birth) = extra_patient(i);
        let token = fhir.login((&document, &policy, birth)).await;
        for &(before, method, resource, count) in faults {
            if before {
                server.lose_requests(method, resource, count).await;
            } else {
                server.lose_answers(method, resource, count).await;
            }
        }
        let key = format!("lost-{i}");
        let first = fhir.book(&token, &slot.id, Some(&key)).await;
        assert_eq!(first.status(), 201, "{variant}: {faults:?}");
        assert_eq!(
            server.faults_left().await,
            0,
            "{variant}: every fault fired: {faults:?}"
        );
        let id = fhir_slot(&slot.id);
        let held = server.read(&format!("Slot/{id}")).await;
        assert_eq!(held["status"], "busy", "{variant}: {faults:?}");
        assert_eq!(
            server.appointments_of(&id).await,
            ["booked"],
            "{variant}: {faults:?}"
        );
        // The same request again is the same ticket, nothing more.
        let again = fhir.book(&token, &slot.id, Some(&key)).await;
        assert_eq!(again.status(), 201, "{variant}");
        assert_eq!(fhir.my_tickets(&token).await.len(), 1, "{variant}");
        assert_eq!(server.appointments_of(&id).await, ["booked"], "{variant}");
    }
    assert_eq!(server.violations().await, Vec::<String>::new());
}

#[tokio::test]
async fn a_lost_answer_to_the_appointment_is_read_back_and_the_booking_goes_on() {
    book_through(&[(false, "POST", "Appointment", 1)]).await;
}

#[tokio::test]
async fn a_lost_answer_to_the_slot_applied_or_not_is_read_back_and_the_booking_goes_on() {
    book_through(&[(false, "PUT", "Slot", 1)]).await;
    book_through(&[(true, "PUT", "Slot", 1)]).await;
}

#[tokio::test]
async fn a_lost_answer_to_the_confirmation_is_read_back() {
    book_through(&[(false, "PUT", "Appointment", 1)]).await;
    book_through(&[
        (true, "PUT", "Appointment", 1),
        (false, "POST", "Appointment", 1),
    ])
    .await;
}

#[tokio::test]
async fn a_slot_update_that_never_goes_through_books_nothing_and_a_retry_books_or_finds_it_taken() {
    let Some(server) = start_fhir_server(&seed(2 * VARIANTS.len()), &[]) else {
        return;
    };
    let (base, _sandbox) = gateway(&server).await;
    let fhir = Api::for_clinic(&base, "fhir");
    for (i, (variant, options)) in VARIANTS.iter().enumerate() {
        server.answer_as(options).await;
        let login = |n: usize| {
            let fhir = fhir.clone();
            async move {
                let (document, policy, birth) = extra_patient(n);
                fhir.login((&document, &policy, birth)).await
            }
        };
        let (token, other) = (login(2 * i).await, login(2 * i + 1).await);
        let (_, first_slot) = fhir.free_slot("Хирургия").await;
        let (_, second_slot) = fhir.free_slot("Терапия").await;
        for (slot, taken_meanwhile) in [(first_slot, false), (second_slot, true)] {
            let id = fhir_slot(&slot.id);
            // Every try of the slot's update lost before it acts: the slot is still free, the
            // appointment made for it is cancelled, and the patient is told that nothing is
            // booked.
            server
                .lose_requests("PUT", "Slot", mis_fhir::booking::TRIES)
                .await;
            let first = fhir.book(&token, &slot.id, Some(&id)).await;
            expect_problem(first, 503, "mis_unavailable").await;
            assert_eq!(server.faults_left().await, 0, "{variant}");
            assert!(!holds(&fhir, &token, &slot.id).await, "{variant}");
            assert_eq!(
                server.appointments_of(&id).await,
                ["cancelled"],
                "{variant}"
            );
            assert_eq!(
                server.read(&format!("Slot/{id}")).await["status"],
                "free",
                "{variant}"
            );
            if taken_meanwhile {
                // Another patient books the slot meanwhile: the retry finds it taken.
                assert_eq!(
                    fhir.book(&other, &slot.id, Some(&format!("other-{i}")))
                        .await
                        .status(),
                    201,
                    "{variant}"
                );
                let again = fhir.book(&token, &slot.id, Some(&id)).await;
                expect_problem(again, 409, "slot_taken").await;
                let mut statuses = server.appointments_of(&id).await;
                statuses.sort();
                assert_eq!(statuses, ["booked", "cancelled"], "{variant}");
                assert!(!holds(&fhir, &token, &slot.id).await, "{variant}");
                continue;
            }
            let again = fhir.book(&token, &slot.id, Some(&id)).await;
            assert_eq!(again.status(), 201, "{variant}");
            assert!(holds(&fhir, &token, &slot.id).await, "{variant}");
            let mut statuses = server.appointments_of(&id).await;
            statuses.sort();
            assert_eq!(statuses, ["booked", "cancelled"], "{variant}");
            assert_eq!(
                server.read(&format!("Slot/{id}")).await["status"],
                "busy",
                "{variant}"
            );
        }
    }
    assert_eq!(server.violations().await, Vec::<String>::new());
}

#[tokio::test]
async fn a_booking_that_loses_the_race_for_its_slot_is_undone_and_the_winner_s_stands() {
    let Some(server) = start_fhir_server(&seed(VARIANTS.len()), &[]) else {
        return;
    };
    let (base, _sandbox) = gateway(&server).await;
    let fhir = Api::for_clinic(&base, "fhir");
    for (i, (variant, options)) in VARIANTS.iter().enumerate() {
        server.answer_as(options).await;
        let (_, slot) = fhir.free_slot("Хирургия").await;
        let (document, policy, birth) = extra_patient(i);
        let token = fhir.login((&document, &policy, birth)).await;
        // Another booking lands between the adapter's read of the slot and its update: the
        // update's If-Match no longer matches.
        server.race_for("PUT", "Slot", 1).await;
        let r = fhir
            .book(&token, &slot.id, Some(&format!("race-{i}")))
            .await;
        expect_problem(r, 409, "slot_taken").await;
        assert_eq!(
            server.faults_left().await,
            0,
            "{variant}: the race happened"
        );
        let id = fhir_slot(&slot.id);
        let mut statuses = server.appointments_of(&id).await;
        statuses.sort();
        assert_eq!(
            statuses,
            ["booked", "cancelled"],
            "{variant}: the winner's booked, the loser's undone"
        );
        assert_eq!(server.read(&format!("Slot/{id}")).await["status"], "busy");
        assert!(!holds(&fhir, &token, &slot.id).await, "{variant}");
    }
    assert_eq!(server.violations().await, Vec::<String>::new());
}

/// Whether the patient's tickets («Мои записи») hold the ticket of `slot`.
async fn holds(api: &Api, token: &str, slot: &str) -> bool {
    let wanted = fhir_slot(slot);
    api.my_tickets(token)
        .await
        .iter()
        .any(|t| gateway_domain::ids::parse_ticket(&t.id).is_some_and(|a| a.as_str() == wanted))
}

#[tokio::test]
async fn the_flow_s_other_answers_are_the_hub_clinic_s() {
    let Some(server) = start_fhir_server(&seed(2 * VARIANTS.len()), &[]) else {
        return;
    };
    let (base, _sandbox) = gateway(&server).await;
    let fhir = Api::for_clinic(&base, "fhir");
    for (i, (variant, options)) in VARIANTS.iter().enumerate() {
        server.answer_as(options).await;
        // Identification: unknown, a wrong birth date, two cards of one person.
        let unknown = ("4599 000000", "7799999999999999", "1980-05-17");
        expect_problem(fhir.post_session(unknown).await, 404, "patient_not_found").await;
        let (document, policy, _) = PATIENT_FOUND;
        let wrong_birth = (document, policy, "1980-05-18");
        expect_problem(
            fhir.post_session(wrong_birth).await,
            404,
            "patient_not_found",
        )
        .await;
        expect_problem(
            fhir.post_session(PATIENT_DUPLICATE).await,
            409,
            "patient_not_unique",
        )
        .await;
        // A ticket read alone; a move to a time someone holds is refused and the ticket
        // stands.
        let login = |n: usize| {
            let fhir = fhir.clone();
            async move {
                let (document, policy, birth) = extra_patient(n);
                fhir.login((&document, &policy, birth)).await
            }
        };
        let (token, other) = (login(2 * i).await, login(2 * i + 1).await);
        let (doctor, slot) = fhir.free_slot("Хирургия").await;
        let ticket: api_types::Ticket = fhir
            .book(&token, &slot.id, None)
            .await
            .json()
            .await
            .expect("a ticket");
        let one: api_types::Ticket = fhir
            .get_private(&token, &format!("/tickets/{}", ticket.id))
            .await
            .json()
            .await
            .expect("a ticket");
        assert_eq!(
            (one.id.as_str(), one.start),
            (ticket.id.as_str(), slot.start),
            "{variant}"
        );
        let day = fhir.slots(&doctor.id, slot.start.date_naive()).await;
        let (held, free) = (&day[0], &day[1]);
        assert_eq!(fhir.book(&other, &held.id, None).await.status(), 201);
        let r = fhir.reschedule(&token, &ticket.id, &held.id, None).await;
        expect_problem(r, 409, "slot_taken").await;
        let mine = fhir.my_tickets(&token).await;
        assert_eq!(mine.len(), 1, "{variant}");
        assert_eq!(mine[0].id, ticket.id, "{variant}: the old ticket stands");
        // Someone else's ticket is not one's own to cancel.
        let theirs = fhir.my_tickets(&other).await;
        expect_problem(fhir.cancel(&token, &theirs[0].id).await, 404, "not_found").await;
        // A move whose every answer is lost ends as the server holds it: the new time, once.
        server.lose_answers("PUT", "Appointment", 2).await;
        let r = fhir
            .reschedule(
                &token,
                &ticket.id,
                &free.id,
                Some(&format!("move-lost-{i}")),
            )
            .await;
        assert_eq!(r.status(), 201, "{variant}");
        assert_eq!(server.faults_left().await, 0, "{variant}");
        let mine = fhir.my_tickets(&token).await;
        assert_eq!(mine.len(), 1, "{variant}");
        assert_eq!(mine[0].start, free.start, "{variant}");
        assert_eq!(
            server.booked_of(&fhir_slot(&slot.id)).await,
            0,
            "{variant}: the old time's appointment cancelled"
        );
        assert_eq!(
            server.read(&format!("Slot/{}", fhir_slot(&slot.id))).await["status"],
            "free",
            "{variant}"
        );
        // A cancellation whose answer is lost: gone all the same; and not twice.
        server.lose_answers("PUT", "Appointment", 1).await;
        assert_eq!(fhir.cancel(&token, &mine[0].id).await.status(), 204);
        assert_eq!(server.faults_left().await, 0, "{variant}");
        assert!(fhir.my_tickets(&token).await.is_empty(), "{variant}");
        expect_problem(fhir.cancel(&token, &mine[0].id).await, 404, "not_found").await;
        assert_eq!(
            server.booked_of(&fhir_slot(&free.id)).await,
            0,
            "{variant}: cancelled"
        );
    }
    assert_eq!(server.violations().await, Vec::<String>::new());
}

#[tokio::test]
async fn a_token_of_client_credentials_is_fetched_and_sent() {
    let Some(server) = start_fhir_server(&seed(0), &["--client", "registratura:s3cret"]) else {
        return;
    };
    let (sandbox, sandbox_url) = start_sandbox();
    let mut clinic = fhir_clinic(&server);
    clinic.mis.token_url = Some(format!("{}/oauth2/token", server.url));
    clinic.mis.client_id = Some("registratura".into());
    clinic.mis.client_secret = Some("s3cret".into());
    let base = start_gateway(gateway_config(vec![demo_clinic(&sandbox_url), clinic])).await;
    let fhir = Api::for_clinic(&base, "fhir");
    assert!(!fhir.specialties().await.is_empty());
    // Without credentials the server refuses: the clinic is unavailable, not empty.
    let base = start_gateway(gateway_config(vec![fhir_clinic(&server)])).await;
    let r = Api::for_clinic(&base, "fhir").get("/specialties").await;
    expect_problem(r, 503, "mis_unavailable").await;
    drop(sandbox);
}

/// Books `slot` for the session `token` with `key`, as an integrator does in a surge: the same
/// request (the same key) again after a `503` (`overloaded`, or `mis_unavailable` when the
/// server did not answer in time), after the `Retry-After` it was told (at most two seconds),
/// for up to two minutes (a machine running the other tests beside this one serves the rush
/// slowly). The final status and problem code.
async fn book_riding_out_a_surge(api: &Api, token: &str, slot: &str, key: &str) -> (u16, String) {
    let started = std::time::Instant::now();
    loop {
        let r = api.book_again_if_lost(token, slot, key).await;
        let status = r.status().as_u16();
        if status == 201 {
            return (201, String::new());
        }
        let wait = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            .map_or(200, |secs| (secs * 1_000).min(2_000));
        let p: api_types::Problem = r.json().await.expect("a problem");
        if status != 503 || started.elapsed() > std::time::Duration::from_secs(120) {
            return (status, p.code.as_str().to_owned());
        }
        tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rush_of_a_thousand_patients_on_a_hundred_fhir_tickets_books_each_once() {
    let Some(server) = start_fhir_server(&seed(1_000), &[]) else {
        return;
    };
    let (base, _sandbox) = gateway(&server).await;
    let fhir = Api::for_clinic(&base, "fhir");
    let tokens: Vec<String> = {
        use futures_util::StreamExt;
        futures_util::stream::iter(0..1_000)
            .map(|i| {
                let fhir = fhir.clone();
                async move {
                    let (document, policy, birth) = extra_patient(i);
                    fhir.login((&document, &policy, birth)).await
                }
            })
            .buffered(32)
            .collect()
            .await
    };
    // The server as it is, then answering every other way R4 allows at once.
    for (round, (variant, options)) in [VARIANTS[0], VARIANTS[VARIANTS.len() - 1]]
        .into_iter()
        .enumerate()
    {
        server.answer_as(options).await;
        rush(&server, &fhir, &tokens, round, variant).await;
    }
    assert_eq!(server.violations().await, Vec::<String>::new());
}

/// 1 000 patients (`tokens`) rush the next 100 free tickets of the FHIR clinic: each booked
/// once, 900 `slot_taken`, nothing else, and the server holds one booked appointment a slot.
async fn rush(server: &FhirServer, fhir: &Api, tokens: &[String], round: usize, variant: &str) {
    let mut slots = Vec::new();
    'found: for specialty in fhir.specialties().await {
        for doctor in fhir.doctors(&specialty.id).await {
            let dates: api_types::AvailableDates = fhir
                .get_json(&format!("/doctors/{}/dates", doctor.id))
                .await;
            for date in dates.dates {
                slots.extend(fhir.slots(&doctor.id, date).await.into_iter().map(|s| s.id));
                if slots.len() >= 100 {
                    break 'found;
                }
            }
        }
    }
    slots.truncate(100);
    assert_eq!(slots.len(), 100, "{variant}");
    let answers = futures_util::future::join_all(tokens.iter().enumerate().map(|(i, token)| {
        let (fhir, slot) = (fhir.clone(), slots[i % 100].clone());
        let key = format!("rush-{round}-{i}");
        async move { book_riding_out_a_surge(&fhir, token, &slot, &key).await }
    }))
    .await;
    let booked = answers.iter().filter(|a| a.0 == 201).count();
    let taken = answers.iter().filter(|a| a.1 == "slot_taken").count();
    let other: Vec<_> = answers
        .iter()
        .filter(|a| a.0 != 201 && a.1 != "slot_taken")
        .collect();
    assert!(
        other.is_empty(),
        "{variant}: {} other answers, e.g. {:?}",
        other.len(),
        other.first()
    );
    assert_eq!((booked, taken), (100, 900), "{variant}");
    // The server holds one booked appointment for each of these slots, and each slot busy.
    for slot in &slots {
        let id = fhir_slot(slot);
        assert_eq!(
            server.booked_of(&id).await,
            1,
            "{variant}: one booked appointment of {id}"
        );
        assert_eq!(server.read(&format!("Slot/{id}")).await["status"], "busy");
    }
}

/// The mobile numbers `Patient/<id>` lists on `server`.
async fn phones_of(server: &FhirServer, id: &str) -> Vec<String> {
    let patient = server.read(&format!("Patient/{id}")).await;
    patient["telecom"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter(|e| e["system"] == "phone" && e["use"] == "mobile")
                .filter_map(|e| e["value"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_fhir_clinic_takes_the_phone_into_patient_telecom_by_a_patch_under_if_match() {
    let Some(server) = start_fhir_server(&seed(2), &[]) else {
        return;
    };
    let (base, _sandbox) = gateway(&server).await;
    let fhir = Api::for_clinic(&base, "fhir");
    let (document, policy, birth) = extra_patient(0);
    let token = fhir.login((&document, &policy, birth)).await;
    let post = |phone: &str| {
        let body = serde_json::json!({ "phone": phone, "sms_consent": true });
        let (fhir, token) = (&fhir, &token);
        async move {
            fhir.post_private(token, "/patient/phone", &body, None)
                .await
                .status()
        }
    };
    assert_eq!(post("+7 916 765-43-21").await, 204);
    assert_eq!(phones_of(&server, "fhir-0").await, ["+79167654321"]);
    // The same number again adds nothing.
    assert_eq!(post("8 (916) 765-43-21").await, 204);
    assert_eq!(phones_of(&server, "fhir-0").await, ["+79167654321"]);
    // The patch's answer lost: read back, the number found there, nothing added twice.
    server.lose_answers("PATCH", "Patient", 1).await;
    assert_eq!(post("+7 926 000-11-22").await, 204);
    assert_eq!(server.faults_left().await, 0, "the fault fired");
    assert_eq!(
        phones_of(&server, "fhir-0").await,
        ["+79167654321", "+79260001122"]
    );
    // The patch lost before it arrived: read back, not there, sent again.
    server.lose_requests("PATCH", "Patient", 1).await;
    assert_eq!(post("+7 903 111-22-33").await, 204);
    assert_eq!(server.faults_left().await, 0, "the fault fired");
    assert_eq!(phones_of(&server, "fhir-0").await.len(), 3);
    // A server that takes no PATCH: said so.
    server.answer_as(r#"{"noPatch":true}"#).await;
    let body = serde_json::json!({ "phone": "+7 903 444-55-66", "sms_consent": true });
    let r = fhir
        .post_private(&token, "/patient/phone", &body, None)
        .await;
    expect_problem(r, 501, "not_supported").await;
    assert_eq!(server.violations().await, Vec::<String>::new());
}

#[tokio::test]
async fn check_knows_a_fhir_clinic_its_capabilities_and_its_token() {
    let Some(server) = start_fhir_server(&seed(0), &["--token", "t0ken"]) else {
        return;
    };
    let run = |token: Option<&str>| {
        let mut clinic = fhir_clinic(&server);
        clinic.mis.token = token.map(str::to_owned);
        let config = gateway_config(vec![clinic]);
        async move {
            let mut out = Vec::new();
            let code = registratura::check::run(
                Ok(config),
                registratura::check::Options::default(),
                &mut out,
                &mut std::io::Cursor::new(Vec::new()),
            )
            .await;
            (code, String::from_utf8_lossy(&out).into_owned())
        }
    };
    let (code, out) = run(Some("t0ken")).await;
    assert!(
        out.contains("OK   fhir: сервер FHIR объявляет всё нужное"),
        "{out}"
    );
    assert!(
        out.contains("specialties and"),
        "the directory is read: {out}"
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(Some("wrong")).await;
    assert!(
        out.contains("FAIL fhir: сервер FHIR не принимает запрос с токеном"),
        "{out}"
    );
    assert_eq!(code, 1, "{out}");
}
