//! A referral against a МИС in memory.

use crate::fake::{self, FakeMis, OTHER, PATIENT, REFERRAL};
use gateway_domain::referrals::{Purpose, parse_number, resolve, slots};
use gateway_domain::sessions::Session;
use std::sync::Arc;

fn session(patient: &str) -> Session {
    Session::new(
        "demo",
        mis::PatientId::parse(patient).expect("an id"),
        std::time::Duration::from_secs(60),
    )
}

#[tokio::test]
async fn a_referral_shows_its_doctor_and_times_to_its_patient_only() {
    let gateway = fake::gateway(Arc::new(FakeMis::new()));
    let clinic = &gateway.clinics()[0];
    let number = parse_number("number", REFERRAL).expect("a number");
    let resolved = resolve(clinic, &session(PATIENT), &number, Purpose::Book)
        .await
        .expect("the patient's own");
    let shown = resolved.view();
    assert_eq!(shown.specialty.name, "Кардиология");
    assert_eq!(shown.doctors[0].name, "Воробьёв");
    let range =
        gateway_domain::directory::query_range(None, None, clinic.today()).expect("a range");
    let times = slots(clinic, &session(PATIENT), &resolved, range)
        .await
        .expect("its times");
    assert_eq!(times.len(), 6);
    assert!(
        times
            .iter()
            .all(|t| t.doctor.as_ref().is_some_and(|d| d.name == "Воробьёв"))
    );
    let theirs = resolve(clinic, &session(OTHER), &number, Purpose::Book).await;
    assert_eq!(
        theirs.expect_err("another patient's").code,
        vocabulary::ErrorCode::ReferralNotFound
    );
    let unknown = parse_number("number", "0000000009").expect("a number");
    let none = resolve(clinic, &session(PATIENT), &unknown, Purpose::Book).await;
    assert_eq!(
        none.expect_err("unknown").code,
        vocabulary::ErrorCode::ReferralNotFound
    );
    assert!(parse_number("number", "№ 1").is_err());
}
