use registratura_e2e::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_patients_rushing_for_one_slot_get_one_ticket_and_forty_nine_slot_taken() {
    let app = spawn_app().await;
    let birth = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a real date");
    let mut tokens = Vec::new();
    for i in 0..50 {
        let document = format!("60{i:08}");
        let policy = format!("55{i:014}");
        app.sandbox
            .store()
            .add_patient(&format!("R-{i}"), &document, &policy, birth)
            .expect("added");
        tokens.push(app.login((&document, &policy, "1970-01-01")).await);
    }
    let (_, slot) = app.free_slot("Неврология").await;
    let bookings = tokens.iter().map(|t| app.book(t, &slot.id, None));
    let answers = futures_util::future::join_all(bookings).await;
    let mut created = 0;
    let mut taken = 0;
    for r in answers {
        match r.status().as_u16() {
            201 => created += 1,
            409 => {
                let p: api_types::Problem = r.json().await.expect("a problem");
                assert_eq!(p.code.as_str(), "slot_taken");
                taken += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((created, taken), (1, 49));
}
