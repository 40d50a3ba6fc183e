//! The widget in a real browser: headless Chromium driven by chromedriver clicks through the
//! demo clinic site as a patient would, checks the seed's messages, and runs axe-core on every
//! step. Screenshots of each step go to `tests/artifacts/`.

mod asks;
mod deploy;
mod harness;
mod mail;
mod region;

use harness::{Browser, Stack};
use registratura_e2e::MisFault;
use std::time::{Duration, Instant};
use thirtyfour::prelude::*;

pub(crate) const PATIENT: (&str, &str, &str) = ("4510 123456", "7700000000000001", "17.05.1980");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_books_on_the_demo_site_sees_the_event_lists_and_cancels_the_ticket() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let stack = Stack::start(None).await;
    let d = &browser.driver;

    // Time to the first step, from navigation (median of several loads): shown (written into
    // the page by the gateway) and live (the widget running), on loopback and on a phone's
    // network (Lighthouse's mobile throttling), cold and cached.
    let mut loads = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        d.goto(&stack.demo_url).await.expect("navigates");
        browser.enter_widget().await;
        browser.wait_css(".rg[data-ready] .rg-choice").await;
        loads.push(started.elapsed());
        d.enter_default_frame().await.expect("back to the page");
    }
    loads.sort();
    eprintln!(
        "widget running after {:?} on loopback (median of 5 loads; all: {loads:?})",
        loads[2]
    );
    for cold in [true, false] {
        let mut phone = Vec::new();
        for _ in 0..3 {
            phone.push(browser.load_on_a_phone_network(&stack.demo_url, cold).await);
        }
        phone.sort();
        eprintln!(
            "on a phone network ({}): first step shown after {:?}, widget running after {:?} (median of 3; all: {phone:?})",
            if cold { "cold" } else { "cached" },
            phone[1].0,
            phone[1].1
        );
    }

    browser.enter_widget().await;
    browser.shot("01-specialties").await;
    browser.axe("specialties").await;
    browser.click_text("button", "Терапия").await;
    browser.wait_heading("Выберите врача").await;
    browser.shot("02-doctors").await;
    browser.axe("doctors").await;
    browser.click_css(".rg-choice").await;
    browser.wait_heading("Выберите дату приёма").await;
    browser.shot("03-calendar").await;
    browser.axe("calendar").await;
    browser.click_css(".rg-day.rg-free").await;
    browser.wait_heading("Выберите время приёма").await;
    // One «Назад»: back to the calendar, where the chosen day is still marked, and on again.
    browser.click_text("button", "Назад").await;
    browser.wait_heading("Выберите дату приёма").await;
    browser.click_css(".rg-day.rg-current").await;
    browser.wait_heading("Выберите время приёма").await;
    browser.shot("04-times").await;
    browser.axe("times").await;
    let slot = browser.wait_css(".rg-time").await;
    let time = slot
        .find(By::Css(".rg-time-value"))
        .await
        .expect("a time")
        .text()
        .await
        .expect("text");
    slot.click().await.expect("clicks");
    browser.wait_heading("Войдите, чтобы записаться").await;
    browser.shot("05-identify").await;
    browser.axe("identify").await;
    browser.identify(PATIENT).await;
    browser.wait_heading("Проверьте и подтвердите запись").await;
    browser.shot("06-confirm").await;
    browser.axe("confirm").await;
    browser.click_text("button", "Подтвердить").await;
    browser.wait_heading("Вы записаны на приём").await;
    browser.shot("07-ticket").await;
    browser.axe("ticket").await;
    let ticket_text = browser
        .wait_css(".rg-ticket")
        .await
        .text()
        .await
        .expect("text");
    assert!(
        ticket_text.contains(&time),
        "the ticket shows the booked time {time}: {ticket_text}"
    );
    assert!(ticket_text.contains("Терапия"));

    d.enter_default_frame().await.expect("the host page");
    let events = browser.host_events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "registratura:booked");
    let detail = &events[0]["detail"];
    assert_eq!(detail["specialty"], "Терапия");
    assert!(
        detail["start"]
            .as_str()
            .is_some_and(|s| s.contains(&format!("T{time}"))),
        "{detail}"
    );
    let keys: Vec<&String> = detail.as_object().expect("an object").keys().collect();
    assert_eq!(
        keys.len(),
        4,
        "only the ticket id, start, specialty and doctor: {keys:?}"
    );

    browser.enter_widget().await;
    browser.click_text("button", "Мои записи").await;
    browser.wait_heading("Мои записи").await;
    let item = browser.wait_css(".rg-ticket-item").await;
    assert!(item.text().await.expect("text").contains(&time));
    browser.shot("08-my-tickets").await;
    browser.axe("my tickets").await;
    browser.click_text("button", "Отменить запись").await;
    browser.click_text("button", "Да, отменить").await;
    browser.wait_text("Запись отменена").await;
    browser.shot("09-cancelled").await;
    d.enter_default_frame().await.expect("the host page");
    let events = browser.host_events().await;
    assert_eq!(
        events.last().map(|e| e["type"].clone()),
        Some("registratura:cancelled".into())
    );

    browser.check_storage_is_clean(&stack).await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identification_failures_show_the_seed_messages_and_keep_what_was_typed() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let stack = Stack::start(Some(())).await;
    let d = &browser.driver;
    d.goto(format!("{}/widget/?clinic=demo", stack.gateway))
        .await
        .expect("navigates");
    browser.click_text("button", "Мои записи").await;
    browser.wait_heading("Войдите, чтобы записаться").await;

    // Fields are checked before sending, with messages at the field.
    browser.click_text("button", "Войти").await;
    browser.wait_text("Заполните это поле.").await;

    browser
        .identify(("4510 000000", "7700000000000001", "17.05.1980"))
        .await;
    browser
        .wait_text("В медицинском учреждении нет записи с такими данными")
        .await;
    browser.shot("10-not-found").await;
    let typed = browser
        .wait_css("#rg-document")
        .await
        .value()
        .await
        .expect("a value");
    assert_eq!(
        typed.as_deref(),
        Some("4510 000000"),
        "nothing typed is lost on an error"
    );

    browser
        .identify(("4512 111111", "7700000000000003", "03.03.1990"))
        .await;
    browser.wait_text("совпадают с несколькими записями").await;
    browser.shot("11-duplicates").await;

    stack.switch.as_ref().expect("a switch").set_down(true);
    browser.identify(PATIENT).await;
    browser.wait_text("Извините, в данный момент вы не можете авторизоваться на сервере учреждения по техническим причинам.").await;
    browser.shot("12-mis-down").await;
    browser.axe("identify with an error").await;

    stack.switch.as_ref().expect("a switch").set_down(false);
    tokio::time::sleep(Duration::from_millis(400)).await;
    browser.identify(PATIENT).await;
    browser.wait_heading("Мои записи").await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_widgets_on_one_page_with_their_own_language_preselection_and_keyboard_calendar() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let stack = Stack::start(None).await;
    let specialties: api_types::List<api_types::Specialty> =
        reqwest::get(format!("{}/api/v1/clinics/demo/specialties", stack.gateway))
            .await
            .expect("answers")
            .json()
            .await
            .expect("a list");
    let surgery = specialties
        .items
        .iter()
        .find(|s| s.name == "Хирургия")
        .expect("surgery");
    let page = format!(
        r##"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Two widgets</title></head><body>
        <h1>Host</h1><div id="first"></div><div id="second"></div>
        <script src="{gw}/widget.js" data-target="#first" async></script>
        <script src="{gw}/widget.js" data-target="#second" data-lang="en" data-specialty="{spec}" data-accent="#7a1f5c" async></script>
        </body></html>"##,
        gw = stack.gateway,
        spec = surgery.id
    );
    let host = harness::serve_page(page).await;
    let d = &browser.driver;
    d.goto(&host).await.expect("navigates");
    let frames = d
        .query(By::Css("iframe"))
        .wait(Duration::from_secs(10), Duration::from_millis(20))
        .all_from_selector_required()
        .await
        .expect("iframes");
    assert_eq!(frames.len(), 2);
    assert!(
        frames[0]
            .parent()
            .await
            .expect("a parent")
            .attr("id")
            .await
            .expect("attr")
            .as_deref()
            == Some("first")
    );

    frames[0].clone().enter_frame().await.expect("enters");
    browser.wait_css(".rg-choice").await;
    browser.wait_text("Выберите специальность").await;
    d.enter_default_frame().await.expect("back");

    frames[1].clone().enter_frame().await.expect("enters");
    // English, with the specialty preselected: it opens on the doctors.
    browser.wait_text("Choose a doctor").await;
    browser.wait_text("Хирургия").await;
    // The low-vision switch changes the whole page and says it is on.
    browser.click_text("button", "Low-vision version").await;
    let class = d
        .find(By::Css("html"))
        .await
        .expect("html")
        .attr("class")
        .await
        .expect("attr");
    assert_eq!(class.as_deref(), Some("low-vision"));
    browser.shot("13-english-low-vision").await;
    browser.axe("english low-vision doctors").await;
    browser.click_text("button", "Standard version").await;
    browser.click_css(".rg-choice").await;
    browser.wait_heading("Choose a date").await;
    // The calendar works with the keyboard: arrows move the focus between days.
    let first = browser.wait_css(".rg-day.rg-free").await;
    let first_id = first.id().await.expect("an id").expect("present");
    first.focus().await.expect("focus");
    first.send_keys(Key::Right).await.expect("types");
    // The focus moves when the widget has handled the key: wait for it (on a loaded machine
    // that takes longer), up to a generous bound.
    let mut active = first_id.clone();
    for _ in 0..250 {
        active = d
            .active_element()
            .await
            .expect("active")
            .id()
            .await
            .expect("an id")
            .unwrap_or_default();
        if active != first_id {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_ne!(active, first_id, "ArrowRight moves to the next day");
    d.enter_default_frame().await.expect("back");
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_taken_meanwhile_is_announced_and_the_times_are_refreshed() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let stack = Stack::start(None).await;
    let d = &browser.driver;
    d.goto(format!("{}/widget/?clinic=demo", stack.gateway))
        .await
        .expect("navigates");
    browser.click_text("button", "Эндокринология").await;
    browser.wait_heading("Выберите врача").await;
    let doctor_name = browser
        .wait_css(".rg-choice .rg-choice-name")
        .await
        .text()
        .await
        .expect("text");
    browser.click_css(".rg-choice").await;
    // The second free day, not the first: late in the day, today's last free time may be the
    // one taken, and the day would then have none to show.
    browser.wait_css(".rg-day.rg-free").await;
    let days = d
        .find_all(By::Css(".rg-day.rg-free"))
        .await
        .expect("free days");
    assert!(days.len() > 1, "two free days at least");
    days[1].click().await.expect("clicks");
    browser.wait_heading("Выберите время приёма").await;
    let first = browser
        .wait_css(".rg-time .rg-time-value")
        .await
        .text()
        .await
        .expect("text");
    browser.click_css(".rg-time").await;
    browser.identify(PATIENT).await;
    browser.wait_heading("Проверьте и подтвердите запись").await;

    // Another patient takes the same time through the API meanwhile.
    let api = format!("{}/api/v1/clinics/demo", stack.gateway);
    let client = reqwest::Client::new();
    let list = |url: String| {
        let client = client.clone();
        async move {
            client
                .get(url)
                .send()
                .await
                .expect("answers")
                .json::<serde_json::Value>()
                .await
                .expect("json")
        }
    };
    let specialties = list(format!("{api}/specialties")).await;
    let endo = specialties["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|s| s["name"] == "Эндокринология")
        .expect("listed");
    let doctors = list(format!(
        "{api}/specialties/{}/doctors",
        endo["id"].as_str().expect("id")
    ))
    .await;
    let doctor = doctors["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|x| x["name"] == doctor_name.as_str())
        .expect("listed");
    let doctor_id = doctor["id"].as_str().expect("id");
    let dates = list(format!("{api}/doctors/{doctor_id}/dates")).await;
    let date = dates["dates"][1].as_str().expect("the second free day");
    let slots = list(format!("{api}/doctors/{doctor_id}/slots?date={date}")).await;
    let slot = slots["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|s| {
            s["start"]
                .as_str()
                .is_some_and(|t| t.contains(&format!("T{first}")))
        })
        .expect("the same time");
    let session: serde_json::Value = client
        .post(format!("{api}/sessions"))
        .json(&serde_json::json!({"document_number": "4511 654321", "policy_number": "7700000000000002", "birth_date": "1955-01-09"}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("a session");
    let r = client
        .post(format!("{api}/tickets"))
        .bearer_auth(session["token"].as_str().expect("a token"))
        .json(&serde_json::json!({"slot_id": slot["id"]}))
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), 201);

    browser.click_text("button", "Подтвердить").await;
    browser
        .wait_text("Это время только что занял другой пациент")
        .await;
    browser.wait_heading("Выберите время приёма").await;
    browser.wait_css(".rg-time").await;
    let times: Vec<String> = {
        let mut v = Vec::new();
        for e in d
            .find_all(By::Css(".rg-time .rg-time-value"))
            .await
            .expect("times")
        {
            v.push(e.text().await.expect("text"));
        }
        v
    };
    assert!(
        !times.contains(&first),
        "the taken time {first} is gone from {times:?}"
    );
    browser.shot("14-slot-taken").await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_the_clinic_does_not_confirm_sends_the_patient_to_their_tickets_not_to_book_again()
 {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let stack = Stack::behind_faults().await;
    let faults = stack.faults.clone().expect("the fault proxy");
    let d = &browser.driver;
    d.goto(stack.demo_url.clone()).await.expect("navigates");
    browser.to_confirmation("Эндокринология", PATIENT).await;
    // The clinic books it; its answer is lost, and its history cannot be read either.
    faults.fail("SetAppointment", MisFault::AnswerDropped, 1);
    faults.fail("GetPatientHistory", MisFault::Down, 1_000);
    browser.click_text("button", "Подтвердить").await;
    browser
        .wait_text("Поликлиника не подтвердила, выполнена ли запись")
        .await;
    let page = d.source().await.expect("the page");
    assert!(!page.contains("Это время только что занял другой пациент"));
    assert!(
        d.find_all(By::XPath("//button[normalize-space()='Подтвердить']"))
            .await
            .expect("buttons")
            .is_empty(),
        "no second booking in the dark"
    );
    browser.shot("15-outcome-unknown").await;
    browser.axe("the outcome unknown").await;
    // The clinic answers again: «Мои записи» shows the ticket it holds.
    faults.clear();
    browser.click_css(".rg-unknown button").await;
    browser.wait_heading("Мои записи").await;
    browser.wait_css(".rg-ticket-item").await;
    browser.quit().await;
}

/// A session of `patient` (document, policy, birth date) at the clinic API `api`.
async fn session_of(client: &reqwest::Client, api: &str, patient: (&str, &str, &str)) -> String {
    registratura_e2e::open_session(client, &format!("{api}/sessions"), patient).await
}

/// Another patient keeps the one place among the МИС calls busy (reading their tickets over and
/// over) until `stop`: the gateway's way of being in a surge.
fn hog_the_mis(gateway: &str, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let api = format!("{gateway}/api/v1/clinics/demo");
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let token = session_of(&client, &api, registratura_e2e::PATIENT_FOUND_2).await;
        while !stop.load(std::sync::atomic::Ordering::Acquire) {
            let _ = client
                .get(format!("{api}/tickets"))
                .bearer_auth(&token)
                .send()
                .await;
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_surge_the_widget_says_it_is_trying_again_and_books_once_the_mis_has_room() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let stack = Stack::one_at_a_time().await;
    let d = &browser.driver;
    d.goto(stack.demo_url.clone()).await.expect("navigates");
    browser.to_confirmation("Хирургия", PATIENT).await;

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    hog_the_mis(&stack.gateway, stop.clone());
    let deadline = Instant::now() + Duration::from_secs(20);
    let client = reqwest::Client::new();
    loop {
        let text = registratura_e2e::metrics_text(&client, &stack.gateway).await;
        if registratura_e2e::metric(&text, "registratura_mis_in_flight{bound=\"demo\"}") >= 1.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the other patient never got the place"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    browser.click_text("button", "Подтвердить").await;
    browser.wait_text("Много желающих, пробуем ещё раз…").await;
    browser
        .wait_xpath("//button[normalize-space()='Остановить']")
        .await;
    browser.shot("16-surge").await;
    browser.axe("the surge").await;

    // The surge passes: the widget's next try books, once.
    stop.store(true, std::sync::atomic::Ordering::Release);
    browser.wait_heading("Вы записаны на приём").await;
    let page = d.source().await.expect("the page");
    assert!(!page.contains("Много желающих"), "the notice is gone");
    let api = format!("{}/api/v1/clinics/demo", stack.gateway);
    let token = session_of(&client, &api, registratura_e2e::PATIENT_FOUND).await;
    let tickets: serde_json::Value = client
        .get(format!("{api}/tickets"))
        .bearer_auth(token)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    let surgery = tickets["items"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|t| t.to_string().contains("Хирургия"))
        .count();
    assert_eq!(surgery, 1, "booked once: {tickets}");
    browser.quit().await;
}
