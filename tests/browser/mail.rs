//! The ticket by e-mail from the widget: the patient sends it from the ticket screen and,
//! once cancelled, its cancellation from «Мои записи»; the real SMTP server of the test
//! receives each message once, with its calendar file.

use crate::PATIENT;
use crate::harness::{Browser, Stack};
use registratura::config::{MailConfig, TlsMode};
use registratura_e2e::smtp::{self, SmtpServer, parse};

const ADDRESS: &str = "patient.widget@example.ru";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_e_mails_the_ticket_and_its_cancellation_from_the_widget() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let Some(server) = SmtpServer::start(false) else {
        return;
    };
    let stack = Stack::with_mail(MailConfig {
        host: "127.0.0.1".into(),
        port: Some(server.port),
        tls: TlsMode::Starttls,
        user: Some(smtp::USER.into()),
        password: Some(smtp::PASSWORD.into()),
        password_file: None,
        from: "Поликлиника <noreply@clinic.example>".into(),
        reply_to: None,
        ca_file: Some(server.ca_file.clone()),
        timeout_secs: 5,
    })
    .await;
    browser
        .driver
        .goto(&stack.demo_url)
        .await
        .expect("navigates");
    // On the confirmation screen: the phone for the clinic's SMS, with the consent.
    browser.to_confirmation("Терапия", PATIENT).await;
    browser.fill("#rg-mobile", "+7 495 123-45-67").await;
    browser.click_text("button", "Сохранить телефон").await;
    browser.wait_text("Введите мобильный номер").await;
    browser.fill("#rg-mobile", "+7 916 555-44-33").await;
    browser.click_text("button", "Сохранить телефон").await;
    browser.wait_text("Отметьте согласие").await;
    browser.click_css("#rg-sms-consent").await;
    browser.shot("06b-confirm-phone").await;
    browser.axe("confirm with the phone").await;
    browser.click_text("button", "Сохранить телефон").await;
    browser.wait_text("Телефон записан в вашу карту").await;
    let card = stack.sandbox.as_ref().expect("the stack's sandbox");
    assert_eq!(
        card.store().cell_phone("P-1001").as_deref(),
        Some("+79165554433"),
        "the sandbox's card holds the phone"
    );
    browser.click_text("button", "Подтвердить").await;
    browser.wait_heading("Вы записаны на приём").await;
    let ticket = browser
        .wait_css(".rg-ticket")
        .await
        .text()
        .await
        .expect("text");

    browser
        .click_text("button", "Отправить талон на e-mail")
        .await;
    browser.fill("input[type=email]", "patient.widget").await;
    browser.click_text("button", "Отправить").await;
    browser.wait_text("Введите адрес электронной почты").await;
    assert!(
        server.received().is_empty(),
        "an implausible address is not sent"
    );
    browser.shot("10-email-form").await;
    browser.axe("e-mail form").await;
    browser.fill("input[type=email]", ADDRESS).await;
    browser.click_text("button", "Отправить").await;
    browser.wait_text("Письмо отправлено").await;
    browser.shot("11-email-sent").await;
    browser.axe("e-mail sent").await;
    let received = server.wait_for(1);
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].recipients, [ADDRESS]);
    let message = parse(&received[0].raw);
    assert!(
        message.subject.starts_with("Приём: Терапия"),
        "{}",
        message.subject
    );
    assert_eq!(message.calendar.events[0].alarms.len(), 2, "both reminders");
    let doctor = message
        .text
        .lines()
        .find(|l| l.starts_with("Врач: "))
        .expect("the doctor");
    assert!(
        ticket.contains(doctor.trim_start_matches("Врач: ")),
        "{ticket}\n{doctor}"
    );

    browser.click_text("button", "Мои записи").await;
    browser.wait_heading("Мои записи").await;
    browser.click_text("button", "Отменить запись").await;
    browser.click_text("button", "Да, отменить").await;
    browser.wait_text("Запись отменена").await;
    browser
        .click_text("button", "Отправить отмену на e-mail")
        .await;
    browser.fill("input[type=email]", ADDRESS).await;
    browser.click_text("button", "Отправить").await;
    browser.wait_text("Письмо отправлено").await;
    let received = server.wait_for(2);
    assert_eq!(received.len(), 2);
    assert!(
        parse(&received[1].raw)
            .subject
            .starts_with("Запись отменена")
    );

    // The address is not kept by the widget.
    let kept = browser.kept().await;
    assert!(
        !kept.contains("patient.widget") && !registratura_e2e::contains_number(&kept, "5554433"),
        "{kept}"
    );
    browser.quit().await;
}
