//! The waiting list against a МИС in memory.

use crate::fake::{self, FakeMis, Fault, PATIENT};
use gateway_domain::ids::{self, DoctorKey};
use gateway_domain::sessions::Session;
use gateway_domain::waiting::TypedRequest;
use gateway_domain::waiting::{join, leave, list, parse};
use mis::SpecialtyId;
use vocabulary::ErrorCode;

fn request(phone: &str) -> TypedRequest {
    TypedRequest {
        specialty_id: ids::specialty(&SpecialtyId::parse("10").expect("an id")),
        doctor_id: None,
        phone: phone.into(),
        from: None,
        to: None,
    }
}

#[tokio::test]
async fn the_waiting_list_holds_five_requests_one_per_specialty_and_lets_go_of_them() {
    let mis = std::sync::Arc::new(FakeMis::new());
    let gateway = fake::gateway(mis.clone());
    let clinic = gateway.clinics()[0].clone();
    let session = || {
        Session::new(
            "demo",
            mis::PatientId::parse(PATIENT).expect("an id"),
            std::time::Duration::from_secs(60),
        )
    };
    let waits = |specialty: &str, doctor: Option<&str>| {
        let mut new = request("+79161234567");
        new.specialty_id = ids::specialty(&SpecialtyId::parse(specialty).expect("an id"));
        new.doctor_id = doctor.map(|d| {
            DoctorKey {
                specialty: SpecialtyId::parse(specialty).expect("an id"),
                doctor: mis::DoctorId::parse(d).expect("an id"),
            }
            .encode()
        });
        parse(&new, fake::tomorrow()).expect("valid")
    };
    let first = join(gateway.clone(), clinic.clone(), session(), waits("1", None))
        .await
        .expect("joined");
    assert_eq!(first.reason, Some(mis::WaitingReason::NoConvenientTime));
    let again = join(gateway.clone(), clinic.clone(), session(), waits("1", None)).await;
    assert_eq!(
        again.expect_err("one per specialty").code,
        ErrorCode::AlreadyOnWaitingList
    );
    for doctor in ["d1", "d2"] {
        join(
            gateway.clone(),
            clinic.clone(),
            session(),
            waits("1", Some(doctor)),
        )
        .await
        .expect("one per doctor too");
    }
    join(gateway.clone(), clinic.clone(), session(), waits("2", None))
        .await
        .expect("another specialty");
    join(
        gateway.clone(),
        clinic.clone(),
        session(),
        waits("2", Some("d3")),
    )
    .await
    .expect("the fifth");
    assert_eq!(mis.waiting_count(PATIENT), 5);
    let sixth = join(gateway.clone(), clinic.clone(), session(), waits("1", None)).await;
    assert_eq!(
        sixth.expect_err("one per specialty and doctor").code,
        ErrorCode::AlreadyOnWaitingList
    );
    let id = ids::parse_waiting(&first.id).expect("an id");
    leave(gateway.clone(), clinic.clone(), session(), id.clone())
        .await
        .expect("withdrawn");
    assert_eq!(mis.waiting_count(PATIENT), 4);
    let twice = leave(gateway.clone(), clinic.clone(), session(), id).await;
    assert_eq!(twice.expect_err("gone").code, ErrorCode::NotFound);
    let listed = list(&clinic, &session()).await.expect("listed");
    assert_eq!(listed.len(), 4);
}

#[tokio::test]
async fn a_waiting_list_change_whose_answer_is_lost_ends_as_the_mis_holds_it() {
    let mis = std::sync::Arc::new(FakeMis::new());
    let gateway = fake::gateway(mis.clone());
    let clinic = gateway.clinics()[0].clone();
    let session = || {
        Session::new(
            "demo",
            mis::PatientId::parse(PATIENT).expect("an id"),
            std::time::Duration::from_secs(60),
        )
    };
    let new = || {
        let mut new = request("+79161234567");
        new.specialty_id = ids::specialty(&SpecialtyId::parse("2").expect("an id"));
        parse(&new, fake::tomorrow()).expect("valid")
    };
    mis.fail_next_write(Fault::LostUndone);
    let undone = join(gateway.clone(), clinic.clone(), session(), new()).await;
    assert_eq!(
        undone.expect_err("not joined").code,
        ErrorCode::MisUnavailable
    );
    assert_eq!(mis.waiting_count(PATIENT), 0);
    mis.fail_next_write(Fault::AnswerLost);
    let joined = join(gateway.clone(), clinic.clone(), session(), new())
        .await
        .expect("the МИС holds it: joined");
    assert_eq!(mis.waiting_count(PATIENT), 1);
    let id = ids::parse_waiting(&joined.id).expect("the request the МИС holds");
    mis.fail_next_write(Fault::AnswerLostUnread);
    let unknown = leave(gateway.clone(), clinic.clone(), session(), id.clone()).await;
    assert_eq!(
        unknown.expect_err("unknown").code,
        ErrorCode::OutcomeUnknown
    );
    mis.set_reads_down(false);
    assert_eq!(mis.waiting_count(PATIENT), 0, "the МИС did withdraw it");
}

#[tokio::test]
async fn a_phone_whose_answer_is_lost_is_written_once_more_and_only_a_mobile_is_taken() {
    use gateway_domain::card;
    let mis = std::sync::Arc::new(FakeMis::new());
    let gateway = fake::gateway(mis.clone());
    let clinic = gateway.clinics()[0].clone();
    let patient = mis::PatientId::parse(PATIENT).expect("an id");
    let session = Session::new("demo", patient.clone(), std::time::Duration::from_secs(60));
    assert_eq!(
        card::mobile("+7 495 123-45-67")
            .expect_err("a landline")
            .fields[0]
            .reason,
        "not_mobile"
    );
    let phone = card::mobile("8 (916) 123-45-67").expect("a mobile");
    mis.fail_next_write(Fault::AnswerLost);
    card::update_phone(&gateway, &clinic, &session, &phone)
        .await
        .expect("written, the lost answer asked again");
    assert_eq!(mis.write_count(), 2, "once more, since it changes nothing");
    assert_eq!(mis.phone_of(&patient).as_deref(), Some("+79161234567"));
    mis.fail_next_write(Fault::Unreachable);
    let failed = card::update_phone(&gateway, &clinic, &session, &phone).await;
    assert_eq!(
        failed.expect_err("unreachable").code,
        ErrorCode::MisUnavailable
    );
    assert_eq!(
        mis.write_count(),
        3,
        "a refusal before acting is not repeated"
    );
}
