//! What patients ask for next, in the widget: moving a ticket, the waiting list, booking by
//! referral. axe-core runs on each new screen.

use crate::PATIENT;
use crate::harness::{Browser, Stack};
use thirtyfour::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_moves_a_ticket_seeing_the_old_and_new_time_side_by_side() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let stack = Stack::start(None).await;
    let d = &browser.driver;
    d.goto(&stack.demo_url).await.expect("navigates");
    browser.enter_widget().await;
    let before = browser.book_a_ticket("Офтальмология", PATIENT).await;
    browser.click_text("button", "Мои записи").await;
    browser.wait_heading("Мои записи").await;
    browser.click_text("button", "Перенести").await;
    browser.wait_heading("Выберите дату приёма").await;
    browser.axe("move: calendar").await;
    browser.click_css(".rg-day.rg-free").await;
    browser.wait_heading("Выберите время приёма").await;
    // Another time than the ticket's own (the first free one: the booked one is not free).
    let slot = browser.wait_css(".rg-time").await;
    let new_time = slot
        .find(By::Css(".rg-time-value"))
        .await
        .expect("a time")
        .text()
        .await
        .expect("text");
    slot.click().await.expect("clicks");
    browser.wait_heading("Перенести запись?").await;
    let table = browser
        .wait_css(".rg-compare")
        .await
        .text()
        .await
        .expect("text");
    assert!(
        table.contains("Было") && table.contains("Станет") && table.contains(&new_time),
        "{table}"
    );
    browser.shot("10-move-confirm").await;
    browser.axe("move: confirm").await;
    browser.click_text("button", "Перенести").await;
    browser.wait_heading("Запись перенесена").await;
    browser.axe("move: done").await;
    let after = browser
        .wait_css(".rg-ticket")
        .await
        .text()
        .await
        .expect("text");
    assert!(after.contains(&new_time), "{after}");
    assert_ne!(before, after);
    browser.click_text("button", "Мои записи").await;
    browser.wait_heading("Мои записи").await;
    let items = d
        .query(By::Css(".rg-ticket-item"))
        .wait(
            std::time::Duration::from_secs(10),
            std::time::Duration::from_millis(20),
        )
        .all_from_selector_required()
        .await
        .expect("the tickets");
    assert_eq!(items.len(), 1, "one ticket, moved");
    assert!(items[0].text().await.expect("text").contains(&new_time));
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_joins_the_waiting_list_for_a_specialty_without_tickets_and_withdraws() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let stack = Stack::start(None).await;
    browser
        .driver
        .goto(&stack.demo_url)
        .await
        .expect("navigates");
    browser.enter_widget().await;
    browser.wait_text("Нет свободных талонов").await;
    let group = browser
        .wait_css(".rg[data-ready] .rg-unavailable")
        .await
        .text()
        .await
        .expect("text");
    assert!(group.contains("Гастроэнтерология"), "{group}");
    browser.axe("specialties with the waiting list").await;
    browser.click_text("button", "Встать в лист ожидания").await;
    browser.wait_heading("Войдите, чтобы записаться").await;
    browser.identify(PATIENT).await;
    browser.wait_heading("Лист ожидания").await;
    browser.axe("waiting list form").await;
    browser.fill("#rg-phone", "12345").await;
    browser.click_text("button", "Встать в очередь").await;
    browser.wait_text("Введите российский номер").await;
    browser.shot("11-waiting-form").await;
    browser.axe("waiting list form with an error").await;
    browser.fill("#rg-phone", "+7 916 123-45-67").await;
    browser.click_text("button", "Встать в очередь").await;
    browser.wait_heading("Вы в листе ожидания").await;
    browser.axe("on the waiting list").await;
    browser.click_text("button", "Мои записи").await;
    browser.wait_heading("Мои записи").await;
    browser.wait_text("Гастроэнтерология").await;
    browser.shot("12-my-waiting").await;
    browser.axe("my tickets with the waiting list").await;
    browser.click_text("button", "Отозвать заявку").await;
    browser.wait_text("Заявка отозвана").await;
    browser.wait_text("Заявок в листе ожидания нет").await;
    browser.check_storage_is_clean(&stack).await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_books_by_referral_after_an_expired_one_is_refused() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let stack = Stack::start(None).await;
    browser
        .driver
        .goto(&stack.demo_url)
        .await
        .expect("navigates");
    browser.enter_widget().await;
    browser.click_text("button", "Запись по направлению").await;
    browser.wait_heading("Запись по направлению").await;
    browser.axe("referral number").await;
    browser.fill("#rg-referral", "0000000002").await;
    browser.click_text("button", "Найти направление").await;
    browser.wait_heading("Войдите, чтобы записаться").await;
    browser.identify(PATIENT).await;
    browser.wait_text("Срок действия направления истёк").await;
    browser.axe("an expired referral").await;
    browser.fill("#rg-referral", "0000 000 001").await;
    browser.click_text("button", "Найти направление").await;
    browser.wait_heading("Выберите дату приёма").await;
    browser.axe("referral: calendar").await;
    browser.click_css(".rg-day.rg-free").await;
    browser.wait_heading("Выберите время приёма").await;
    browser.click_css(".rg-time").await;
    browser.wait_heading("Проверьте и подтвердите запись").await;
    let rows = browser
        .wait_css(".rg-details")
        .await
        .text()
        .await
        .expect("text");
    assert!(
        rows.contains("0000000001") && rows.contains("Кардиология") && rows.contains("Воробьёв"),
        "{rows}"
    );
    browser.axe("referral: confirm").await;
    browser.click_text("button", "Подтвердить").await;
    browser.wait_heading("Вы записаны на приём").await;
    let ticket = browser
        .wait_css(".rg-ticket")
        .await
        .text()
        .await
        .expect("text");
    assert!(
        ticket.contains("Кардиология") && ticket.contains("0000000001"),
        "{ticket}"
    );
    browser.shot("13-referral-ticket").await;
    // Moved in «Мои записи»: the calendar is the referral's (its doctor takes no one without
    // it), and the visit keeps its referral.
    browser.click_text("button", "Мои записи").await;
    browser.wait_heading("Мои записи").await;
    browser.click_text("button", "Перенести").await;
    browser.wait_heading("Выберите дату приёма").await;
    browser.click_css(".rg-day.rg-free").await;
    browser.wait_heading("Выберите время приёма").await;
    browser.click_css(".rg-time").await;
    browser.wait_heading("Перенести запись?").await;
    browser.click_text("button", "Перенести").await;
    browser.wait_heading("Запись перенесена").await;
    let moved = browser
        .wait_css(".rg-ticket")
        .await
        .text()
        .await
        .expect("text");
    assert!(
        moved.contains("Воробьёв") && moved.contains("0000000001"),
        "{moved}"
    );
    assert_ne!(moved, ticket);
    browser.quit().await;
}
