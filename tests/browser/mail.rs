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
    let ticket = browser.book_a_ticket("Терапия", PATIENT).await;

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
    assert!(!kept.contains("patient.widget"), "{kept}");
    browser.quit().await;
}
