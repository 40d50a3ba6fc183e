//! Personal data never reach a log line: the whole flow, its failures included, runs with
//! tracing at `trace` level into a buffer, which is then searched for the patients' values.

use registratura_e2e::{PATIENT_DUPLICATE, PATIENT_FOUND, expect_problem, spawn_app};
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn no_document_policy_or_birth_date_reaches_a_log_line_at_trace_level() {
    let logs = Buffer::default();
    registratura::telemetry::init_with(tracing_subscriber::EnvFilter::new("trace"), logs.clone());
    let app = spawn_app().await;

    let (_, slot) = app.free_slot("Терапия").await;
    let token = app.login(PATIENT_FOUND).await;
    let ticket: api_types::Ticket = app
        .book(&token, &slot.id, Some("k-1"))
        .await
        .json()
        .await
        .expect("a ticket");
    app.my_tickets(&token).await;
    assert_eq!(app.cancel(&token, &ticket.id).await.status(), 204);
    expect_problem(
        app.post_session(PATIENT_DUPLICATE).await,
        409,
        "patient_not_unique",
    )
    .await;
    expect_problem(
        app.post_session(("4599 999999", "7799999999999999", "1961-07-21"))
            .await,
        404,
        "patient_not_found",
    )
    .await;
    expect_problem(
        app.post_session(("4598;888888", "77", "1962-13-40")).await,
        422,
        "invalid_input",
    )
    .await;

    let text = String::from_utf8_lossy(&logs.0.lock().expect("not poisoned")).into_owned();
    assert!(
        text.contains("ticket booked"),
        "the buffer holds the gateway's logs"
    );
    assert!(text.lines().count() > 50, "trace level was on");
    let secrets = [
        "4510 123456",
        "4510123456",
        "123456",
        "7700000000000001",
        "1980-05-17",
        "1980-05-17T00:00:00",
        "4512",
        "111111",
        "7700000000000003",
        "1990-03-03",
        "4599",
        "999999",
        "7799999999999999",
        "1961-07-21",
        "888888",
        "1962-13-40",
    ];
    for secret in secrets {
        let hit = text.lines().find(|l| l.contains(secret));
        assert!(
            hit.is_none(),
            "{secret:?} reached a log line: {}",
            hit.unwrap_or_default()
        );
    }
}
