//! The counts that bound how often a ticket and a patient's tickets are e-mailed.

use gateway_domain::mail::{COUNTED, Letter, Mail, MailError, Mailer, PER_TICKET};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use vocabulary::ErrorCode;

#[derive(Debug)]
struct Nowhere;

#[async_trait::async_trait]
impl Mailer for Nowhere {
    async fn send(&self, _: &Letter) -> Result<(), MailError> {
        Ok(())
    }
}

#[test]
fn a_flood_of_tickets_and_patients_keeps_the_counts_within_their_bound() {
    let relay: Arc<dyn Mailer> = Arc::new(Nowhere);
    let mail = Mail::new(
        &gateway_state::keep::Moka,
        Some(relay),
        HashMap::new(),
        Duration::from_secs(1),
    );
    for i in 0..COUNTED + 20_000 {
        let taken = mail
            .count("demo", &format!("patient-{i}"), &format!("ticket-{i}"))
            .expect("one message each");
        drop(taken);
    }
    let (tickets, patients) = mail.counted();
    assert!(
        tickets <= COUNTED && patients <= COUNTED,
        "{tickets} / {patients}"
    );
    // A ticket still counted keeps its count: three messages, then no more.
    for _ in 0..PER_TICKET {
        mail.count("demo", "p", "t").expect("within the bound");
    }
    assert_eq!(
        mail.count("demo", "p", "t").err().map(|f| f.code),
        Some(ErrorCode::TooManyRequests)
    );
}
