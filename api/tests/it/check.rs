//! `registratura check`.

use crate::process::{DUPLICATE, PATIENT, check};

#[test]
fn the_sandbox_is_healthy_and_the_seed_s_table_1_cases_are_named() {
    let (code, out) = check(None, &[], "");
    assert_eq!(code, 0, "{out}");
    for expected in [
        "OK   demo: МИС отвечает",
        "МИС принимает guid",
        "учреждение idLpu 1 есть в МИС",
        "WARN demo: Гастроэнтерология: нет свободных талонов",
        "Волкова Наталья Сергеевна: нет свободных талонов",
        "Степанова Вера Геннадьевна: расписание на 14 дней не составлено",
        "no schedule built for the next 14 days",
        "Summary: 0 failures",
    ] {
        assert!(out.contains(expected), "{expected:?} in:\n{out}");
    }
    let (strict, _) = check(None, &["--strict"], "");
    assert_eq!(strict, 2, "warnings fail a strict check");
}

#[test]
fn a_region_s_catalogue_and_its_clinics_answers_are_reported() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("region.toml");
    std::fs::write(
        &path,
        "[[regions]]\nid = \"msk\"\nname = \"Москва\"\nguid = \"11111111-2222-3333-4444-555555555555\"\n",
    )
    .expect("writable");
    let (code, out) = check(Some(&path), &[], "");
    assert_eq!(code, 0, "{out}");
    for expected in [
        "OK   region msk: районов: 3, учреждений: 7 (работают: 6)",
        "3 districts, 7 clinics (6 active)",
        // The sandbox region's slow clinic and its failing one.
        "WARN region msk: не отвечают 2: msk-6 (the МИС is unavailable: timed out), msk-7 (the МИС refused the request with error 98)",
    ] {
        assert!(out.contains(expected), "{expected:?} in:\n{out}");
    }
}

#[test]
fn a_gateway_that_cannot_work_fails_the_check() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a port")
        .local_addr()
        .expect("bound");
    let clinic = |endpoint: &str, guid: &str, lpu: i32| {
        format!(
            r#"
[[clinics]]
id = "gp1"
name = "ГП 1"
address = "ул. Лесная, 7"
timezone = "Europe/Moscow"
[clinics.mis]
{endpoint}
guid = "{guid}"
id_lpu = {lpu}
attempt_timeout_ms = 2000
"#
        )
    };
    let good_guid = "11111111-2222-3333-4444-555555555555";
    let cases = [
        (
            clinic(
                &format!("endpoint = \"http://{closed}/HubService.svc\""),
                good_guid,
                1,
            ),
            "МИС недоступна",
        ),
        (
            format!("{}\n[sandbox]\nenabled = true", clinic("", "wrong-guid", 1)),
            "МИС отклоняет guid",
        ),
        (
            format!("{}\n[sandbox]\nenabled = true", clinic("", good_guid, 99)),
            "учреждения idLpu 99 нет в МИС",
        ),
        (
            "[server]\nlisten_on = 1".to_owned(),
            "ошибка в конфигурации",
        ),
        (
            format!(
                "[server]\ntls_cert = \"{0}/none.pem\"\ntls_key = \"{0}/none.key\"",
                dir.path().display()
            ),
            "FAIL tls: гейт не запустится: configuration: cannot read the TLS",
        ),
        (
            format!(
                "[audit]\npath = \"{}/no-such-dir/audit.log\"\nsecret = \"0123456789abcdef\"",
                dir.path().display()
            ),
            "FAIL audit: гейт не запустится: configuration: cannot open the audit trail",
        ),
        (
            format!("[state]\nredis_url = \"redis://{closed}/0\"\ntimeout_ms = 300"),
            "FAIL redis: Redis не отвечает",
        ),
        (
            format!(
                "[[regions]]\nid = \"msk\"\nname = \"М\"\nguid = \"{good_guid}\"\nendpoint = \"http://{closed}/HubService.svc\"\ntimeout_ms = 500"
            ),
            "FAIL region msk: концентратор региона не отдаёт справочник",
        ),
    ];
    for (i, (toml, expected)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("c{i}.toml"));
        std::fs::write(&path, toml).expect("writable");
        let (code, out) = check(Some(&path), &[], "");
        assert_eq!(code, 1, "{expected}: {out}");
        assert!(out.contains(expected), "{expected:?} in:\n{out}");
    }
}

#[test]
fn one_identification_is_tried_without_echoing_what_was_typed() {
    let input = format!("{}\n{}\n{}\n", PATIENT.0, PATIENT.1, PATIENT.2);
    let (code, out) = check(None, &["--patient"], &input);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("идентификация: пациент найден"), "{out}");
    let input = format!("{}\n{}\n{}\n", DUPLICATE.0, DUPLICATE.1, DUPLICATE.2);
    let (_, dup) = check(None, &["--patient"], &input);
    assert!(dup.contains("несколько карт"), "{dup}");
    let (code, bad) = check(
        None,
        &["--patient"],
        "4510;1\n7700000000000001\n1980-05-17\n",
    );
    assert_eq!(code, 1);
    assert!(bad.contains("номер документа введён неверно"), "{bad}");
    for secret in [
        "123456",
        "7700000000000001",
        "1980-05-17",
        "111111",
        "4510;1",
    ] {
        for text in [&out, &dup, &bad] {
            assert!(!text.contains(secret), "{secret} echoed:\n{text}");
        }
    }
}

#[test]
fn the_audit_trail_is_checked_without_being_created() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let trail = dir.path().join("audit.log");
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        format!(
            "[audit]\npath = \"{}\"\nsecret = \"0123456789abcdef\"",
            trail.display()
        ),
    )
    .expect("writable");
    let (code, out) = check(Some(&path), &[], "");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("OK   audit: журнал аудита"), "{out}");
    assert!(
        !trail.exists(),
        "check may run as another user: it must not create the gateway's file"
    );
}
