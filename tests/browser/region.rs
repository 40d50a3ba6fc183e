//! The regional widget (`data-region`) in a real browser: «Моя поликлиника» after one
//! identification, district → clinic with search, booking in two clinics of different
//! districts without identifying again, and back / «В начало» returning to the clinic choice.

use crate::PATIENT;
use crate::harness::{Browser, Stack, serve_page};
use thirtyfour::prelude::*;

/// Chooses the first doctor, free day and time of `specialty`, and confirms (the region's
/// session is open: no identification on the way); the ticket's text.
async fn book_without_identifying(browser: &Browser, specialty: &str) -> String {
    browser.wait_heading("Выберите специальность").await;
    browser.click_text("button", specialty).await;
    browser.wait_heading("Выберите врача").await;
    browser.click_css(".rg-choice").await;
    browser.wait_heading("Выберите дату приёма").await;
    browser.click_css(".rg-day.rg-free").await;
    browser.wait_heading("Выберите время приёма").await;
    browser.click_css(".rg-time").await;
    browser.wait_heading("Проверьте и подтвердите запись").await;
    browser.click_text("button", "Подтвердить").await;
    browser.wait_heading("Вы записаны на приём").await;
    browser
        .wait_css(".rg-ticket")
        .await
        .text()
        .await
        .expect("text")
}

/// «Моя поликлиника»'s first clinic, chosen: the flow's first step.
async fn choose_my_clinic(browser: &Browser) {
    browser
        .wait_css(".rg-mine .rg-clinic-item button")
        .await
        .click()
        .await
        .expect("clicks");
    browser.wait_heading("Выберите специальность").await;
}

/// A regional portal's page with the widget of the region `sandbox` (the sandbox default, as
/// `cargo run` starts it: the demo clinic and the region), opened and entered; the stack, kept
/// running while the test lasts.
async fn open_region_portal(browser: &Browser) -> Stack {
    let stack = Stack::start(None).await;
    let page = format!(
        r#"<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>Портал региона</title></head><body>
        <h1>Запись к врачу в регионе</h1>
        <script src="{}/widget.js" data-region="sandbox" async></script>
        </body></html>"#,
        stack.gateway
    );
    let host = serve_page(page).await;
    browser.driver.goto(&host).await.expect("navigates");
    browser.enter_widget().await;
    browser.wait_css(".rg[data-region=sandbox]").await;
    stack
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_of_a_region_finds_their_clinic_and_books_in_two_districts_identifying_once() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let _stack = open_region_portal(&browser).await;
    let d = &browser.driver;
    browser.wait_text("Поликлиники по районам").await;
    browser.shot("region-01-choice").await;
    browser.axe("region choice").await;

    // «Моя поликлиника»: identify once; the clinic the patient is attached to, with the area.
    browser.click_text("button", "Найти мою поликлинику").await;
    browser.wait_heading("Войдите").await;
    browser.identify(PATIENT).await;
    let mine = browser.wait_css(".rg-mine .rg-clinic-item").await;
    browser.wait_text("участок: 12").await;
    let text = mine.text().await.expect("text");
    assert!(text.contains("Городская поликлиника № 1"), "{text}");
    assert!(text.contains(sandbox_mis::seed::LPU_PHONE), "{text}");
    browser.shot("region-02-my-clinic").await;
    browser.axe("my clinic").await;

    // District → clinic, searched: the southern district's clinic № 5.
    browser.click_text("button", "Южный район").await;
    browser.wait_css(".rg-districts .rg-clinic-item").await;
    browser.fill("#rg-clinic-search", "поликлиника 5").await;
    let found = d
        .query(By::Css(".rg-districts .rg-clinic-item"))
        .all_from_selector_required()
        .await
        .expect("clinics");
    assert_eq!(found.len(), 1);
    let clinic = found[0].text().await.expect("text");
    assert!(
        clinic.contains("Южная ул., д. 5") && clinic.contains("000-00-05"),
        "{clinic}"
    );
    browser.shot("region-03-district").await;
    browser.axe("district").await;
    found[0]
        .find(By::Css("button"))
        .await
        .expect("its button")
        .click()
        .await
        .expect("clicks");
    let first = book_without_identifying(&browser, "Терапия").await;
    assert!(first.contains("Терапия"), "{first}");

    // «В начало»: the clinic choice again, the session kept; my clinic, in another district.
    browser.click_text("button", "В начало").await;
    browser.wait_heading("Выберите поликлинику").await;
    choose_my_clinic(&browser).await;
    // Back from the first step reaches the clinic choice too.
    browser.click_text("button", "Назад").await;
    browser.wait_heading("Выберите поликлинику").await;
    choose_my_clinic(&browser).await;
    let second = book_without_identifying(&browser, "Хирургия").await;
    assert!(second.contains("Хирургия"), "{second}");
    browser.shot("region-04-booked").await;

    let text = browser.kept().await;
    for secret in ["4510", "123456", "7700000000000001", "1980"] {
        assert!(
            !registratura_e2e::contains_number(&text, secret),
            "{secret} is in the widget's storage, cookies or URL: {text}"
        );
    }
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_books_the_nearest_ticket_of_a_specialty_across_a_district_s_clinics() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let _stack = open_region_portal(&browser).await;

    // The southern district: clinic № 5 answers, № 6 is slow past the deadline, № 7 faulty.
    browser.click_text("button", "Южный район").await;
    let section = browser.wait_css(".rg-districts .rg-nearest-section").await;
    browser
        .wait_css(".rg-nearest-section .rg-choice[data-specialty]")
        .await;
    browser
        .wait_text("Городская поликлиника № 6 не ответила")
        .await;
    section
        .find(By::Css("button[data-specialty='Терапия']"))
        .await
        .expect("the specialty, merged across the clinics")
        .click()
        .await
        .expect("clicks");
    let first = browser.wait_css(".rg-nearest-item").await;
    let text = first.text().await.expect("text");
    for part in ["Городская поликлиника № 5", "Южная ул., д. 5", "Записаться"]
    {
        assert!(text.contains(part), "{part} in {text}");
    }
    browser.shot("region-05-nearest").await;
    browser.axe("nearest tickets").await;

    // The ticket chosen: identification, then its confirmation in clinic № 5.
    first
        .find(By::Css("button"))
        .await
        .expect("its button")
        .click()
        .await
        .expect("clicks");
    browser.wait_heading("Войдите").await;
    browser.identify(PATIENT).await;
    browser.wait_heading("Проверьте и подтвердите запись").await;
    let confirm = browser
        .wait_css(".rg-main")
        .await
        .text()
        .await
        .expect("text");
    assert!(confirm.contains("Терапия"), "{confirm}");
    browser.axe("nearest ticket's confirmation").await;
    browser.click_text("button", "Подтвердить").await;
    browser.wait_heading("Вы записаны на приём").await;
    let ticket = browser
        .wait_css(".rg-ticket")
        .await
        .text()
        .await
        .expect("text");
    assert!(ticket.contains("Терапия"), "{ticket}");
    // Back from a fresh start goes step by step, and «В начало» to the clinic choice.
    browser.click_text("button", "В начало").await;
    browser.wait_heading("Выберите поликлинику").await;
    browser.quit().await;
}
