use api_types::{AvailableDates, Ticket};
use registratura_e2e::{PATIENT_FOUND, spawn_app};

#[tokio::test]
async fn a_patient_books_lists_and_cancels_a_ticket_and_the_slot_is_free_again() {
    let app = spawn_app().await;

    let specialties = app.specialties().await;
    assert!(
        specialties.len() >= 8,
        "the demo clinic has specialties with tickets"
    );
    assert!(
        specialties
            .iter()
            .all(|s| s.free_tickets > Some(0) && s.nearest_date.is_some())
    );
    assert!(
        !specialties.iter().any(|s| s.name == "Гастроэнтерология"),
        "a specialty with no free tickets is not listed"
    );

    let therapy = specialties
        .iter()
        .find(|s| s.name == "Терапия")
        .expect("therapy is listed");
    let doctors = app.doctors(&therapy.id).await;
    assert!(
        !doctors.iter().any(|d| d.name.starts_with("Волкова")),
        "a doctor with no free tickets is not listed"
    );
    let doctor = &doctors[0];
    assert!(doctor.free_tickets > Some(0));

    let dates: AvailableDates = app.get_json(&format!("/doctors/{}/dates", doctor.id)).await;
    assert_eq!(
        (dates.to - dates.from).num_days(),
        13,
        "two weeks by default"
    );
    let date = *dates.dates.last().expect("a date");
    let slots = app.slots(&doctor.id, date).await;
    let slot = slots.first().expect("a free slot").clone();
    assert_eq!(slot.start.date_naive(), date);
    assert_eq!(
        slot.start.offset().local_minus_utc(),
        3 * 3600,
        "Moscow time, with its offset"
    );
    assert!(slot.end.is_some_and(|end| end > slot.start));

    let token = app.login(PATIENT_FOUND).await;
    let r = app.book(&token, &slot.id, None).await;
    assert_eq!(r.status(), 201);
    let location = r
        .headers()
        .get("location")
        .expect("a Location")
        .to_str()
        .expect("ASCII")
        .to_owned();
    let ticket: Ticket = r.json().await.expect("a ticket");
    assert_eq!(ticket.start, slot.start);
    assert_eq!(ticket.end, slot.end);
    assert_eq!(ticket.room, slot.room);
    assert_eq!(ticket.number, slot.number);
    assert_eq!(ticket.doctor.name, doctor.name);
    assert_eq!(ticket.specialty.name, "Терапия");
    assert_eq!(ticket.clinic.id, "demo");
    assert!(location.ends_with(&ticket.id));

    let after = app.slots(&doctor.id, date).await;
    assert!(
        !after.iter().any(|s| s.id == slot.id),
        "a booked slot is no longer offered"
    );

    let mine = app.my_tickets(&token).await;
    assert_eq!(mine.iter().filter(|t| t.id == ticket.id).count(), 1);
    let one: Ticket = app
        .client
        .get(format!("{}/tickets/{}", app.api, ticket.id))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("a ticket");
    assert_eq!(one.id, ticket.id);
    assert_eq!(
        one.room, ticket.room,
        "details of a ticket booked here are remembered"
    );

    assert_eq!(app.cancel(&token, &ticket.id).await.status(), 204);
    assert!(
        app.my_tickets(&token)
            .await
            .iter()
            .all(|t| t.id != ticket.id)
    );
    let again = app.slots(&doctor.id, date).await;
    assert!(
        again.iter().any(|s| s.id == slot.id),
        "a cancelled slot is free again"
    );
}

#[tokio::test]
async fn the_gateway_lists_its_clinics_and_reports_health() {
    let app = spawn_app().await;
    let clinics: api_types::List<api_types::Clinic> = app
        .client
        .get(format!("{}/api/v1/clinics", app.base))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("a list");
    assert_eq!(clinics.items[0].id, "demo");
    assert_eq!(clinics.items[0].timezone, "Europe/Moscow");
    for path in ["/healthz", "/readyz"] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("answers");
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(
            r.headers()
                .get("x-content-type-options")
                .map(|v| v.as_bytes()),
            Some(&b"nosniff"[..])
        );
    }
    let docs = app
        .client
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .expect("answers");
    assert_eq!(docs.status(), 200);
    assert!(
        docs.text().await.expect("text").contains("swagger"),
        "Swagger UI is served from the binary"
    );
    let spec = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .expect("answers");
    assert_eq!(spec.status(), 200);
}

#[tokio::test]
async fn a_repeated_idempotency_key_replays_the_first_booking() {
    let app = spawn_app().await;
    let (_, slot) = app.free_slot("Хирургия").await;
    let token = app.login(PATIENT_FOUND).await;
    let first = app.book(&token, &slot.id, Some("booking-1")).await;
    assert_eq!(first.status(), 201);
    let first: Ticket = first.json().await.expect("a ticket");
    let retry = app.book(&token, &slot.id, Some("booking-1")).await;
    assert_eq!(
        retry.status(),
        201,
        "the same key and body return the first result"
    );
    assert_eq!(
        retry
            .headers()
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    let retry: Ticket = retry.json().await.expect("a ticket");
    assert_eq!(retry, first);
    let tickets = app.my_tickets(&token).await;
    assert_eq!(
        tickets.iter().filter(|t| t.id == first.id).count(),
        1,
        "booked once"
    );

    let (_, other) = app.free_slot("Офтальмология").await;
    let reused = app.book(&token, &other.id, Some("booking-1")).await;
    registratura_e2e::expect_problem(reused, 422, "idempotency_key_reused").await;
}
