use super::*;
use mis_hub::contract::{
    Appointment, AppointmentType, CancelPARequest, CancelPARequestRequest, CheckPatient,
    CheckReferral, CreateClaimForRefusal, GetAppointmentsDemandDoctorsReferal, GetDoctorList,
    GetPatientHistory, GetSpesialityList, GetWorkingTime, InspectDoctorsReferal, PaRequest,
    PaRequestInfo, PaRequestPatient, PaRequestPatientContacts, PatientQuery, RegisterPARequest,
    RegisterPARequestRequest, SearchActivePARequests, SearchActivePARequestsRequest,
    SetAppointment, Window,
};

fn store() -> Store {
    Store::open(Path::new(":memory:")).expect("opens")
}

fn now() -> NaiveDateTime {
    // A Wednesday morning, so that the schedule has today and the next days.
    contract::parse_datetime("2026-12-02T07:00:00").expect("valid")
}

fn body(store: &Store, request: Request) -> ResultBody {
    let response = store.handle(&request, now());
    assert!(response.base.succeeded(), "{response:?}");
    response.body
}

fn free(store: &Store, doctor: &str) -> Vec<Appointment> {
    let window = Window {
        id_doc: doctor.into(),
        id_lpu: seed::LPU_ID,
        id_pat: None,
        visit_start: now(),
        visit_end: now() + Duration::days(14),
    };
    match body(store, Request::GetAvaibleAppointments(window)) {
        ResultBody::GetAvaibleAppointments(r) => r.list_appointments.expect("a list"),
        other => panic!("unexpected {other:?}"),
    }
}

fn first_free(store: &Store, doctor: &str) -> Appointment {
    free(store, doctor)
        .into_iter()
        .next()
        .expect("a free ticket")
}

fn set_appointment(store: &Store, request: SetAppointment) -> Response {
    store.handle(&Request::SetAppointment(request), now())
}

fn book(store: &Store, slot: &str, patient: &str) -> Response {
    set_appointment(
        store,
        SetAppointment {
            id_appointment: slot.into(),
            id_lpu: seed::LPU_ID,
            id_pat: patient.into(),
            ..SetAppointment::default()
        },
    )
}

fn cancel(store: &Store, slot: &str, patient: &str) -> Response {
    store.handle(
        &Request::CreateClaimForRefusal(CreateClaimForRefusal {
            id_lpu: 1,
            id_pat: patient.into(),
            id_appointment: slot.into(),
        }),
        now(),
    )
}

fn error_id(r: &Response) -> Option<i32> {
    r.base.errors.as_ref().and_then(|e| e.first()).map(|e| e.id)
}

#[test]
fn the_seed_covers_the_cases_of_the_flow() {
    let store = store();
    let ResultBody::GetSpesialityList(specialties) = body(
        &store,
        Request::GetSpesialityList(GetSpesialityList {
            id_lpu: 1,
            id_pat: None,
        }),
    ) else {
        panic!("a list")
    };
    let list = specialties.list_spesiality.expect("a list");
    assert!(list.len() >= 8);
    let none: Vec<_> = list
        .iter()
        .filter(|s| s.count_free_ticket == Some(0))
        .collect();
    assert_eq!(none.len(), 1, "one specialty has no free tickets");
    let doctors = |specialty: &str| match body(
        &store,
        Request::GetDoctorList(GetDoctorList {
            id_spesiality: specialty.into(),
            id_lpu: 1,
            id_pat: None,
        }),
    ) {
        ResultBody::GetDoctorList(r) => r.docs.expect("a list"),
        other => panic!("unexpected {other:?}"),
    };
    assert!(
        doctors("1").iter().any(|d| d.count_free_ticket == Some(0)),
        "a therapist has no free tickets"
    );
    let cardiology = doctors("6");
    let by_referral = cardiology
        .iter()
        .find(|d| d.id_doc.as_deref() == Some("602"))
        .expect("602");
    assert!(
        by_referral.count_free_ticket > Some(0) && by_referral.count_free_participant_ie == Some(0),
        "a doctor whose tickets need a referral: {by_referral:?}"
    );
    let cardiology_total = list
        .iter()
        .find(|s| s.id_spesiality.as_deref() == Some("6"))
        .expect("cardiology");
    assert!(cardiology_total.count_free_participant_ie < cardiology_total.count_free_ticket);
    let ResultBody::GetWorkingTime(working) = body(
        &store,
        Request::GetWorkingTime(GetWorkingTime {
            id_doc: "1102".into(),
            id_lpu: 1,
            visit_start: now(),
            visit_end: now() + Duration::days(3),
        }),
    ) else {
        panic!("a list")
    };
    let days = working.working_time_list.expect("a list");
    assert!(
        !days.is_empty() && days.iter().all(|d| d.recordable_day == Some(false)),
        "a schedule not built"
    );
}

#[test]
fn a_ticket_is_taken_once_whatever_the_concurrency_and_cancelling_frees_it() {
    let store = std::sync::Arc::new(store());
    let birth = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid");
    for i in 0..16 {
        store
            .add_patient(
                &format!("T{i}"),
                &format!("99{i:08}"),
                &format!("11{i:014}"),
                birth,
            )
            .expect("added");
    }
    let slot = first_free(&store, "201").id_appointment.expect("an id");
    let winners: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let (store, slot) = (store.clone(), slot.clone());
                s.spawn(move || book(&store, &slot, &format!("T{i}")).base.succeeded())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .collect()
    });
    assert_eq!(winners.iter().filter(|w| **w).count(), 1);
    let winner = format!("T{}", winners.iter().position(|w| *w).expect("one winner"));
    assert_eq!(
        error_id(&book(&store, &slot, "T0")),
        Some(39),
        "a taken ticket answers 39"
    );
    let stranger = if winner == "T1" { "T2" } else { "T1" };
    assert_eq!(
        error_id(&cancel(&store, &slot, stranger)),
        Some(75),
        "only the holder can cancel"
    );
    assert!(cancel(&store, &slot, &winner).base.succeeded());
    assert_eq!(
        error_id(&cancel(&store, &slot, &winner)),
        Some(75),
        "nothing left to cancel"
    );
    assert!(
        book(&store, &slot, stranger).base.succeeded(),
        "the freed ticket can be booked again"
    );
}

fn history(store: &Store, patient: &str) -> (Vec<Option<String>>, Vec<Option<String>>) {
    match body(
        store,
        Request::GetPatientHistory(GetPatientHistory {
            id_lpu: 1,
            id_pat: patient.into(),
        }),
    ) {
        ResultBody::GetPatientHistory(h) => (
            h.visits
                .unwrap_or_default()
                .into_iter()
                .map(|v| v.id_appointment)
                .collect(),
            h.refusals
                .unwrap_or_default()
                .into_iter()
                .map(|v| v.id_appointment)
                .collect(),
        ),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn rescheduling_moves_the_booking_in_one_step_or_not_at_all() {
    let store = store();
    let first = first_free(&store, "301").id_appointment.expect("an id");
    assert!(book(&store, &first, "P-1001").base.succeeded());
    let tickets = free(&store, "301");
    let second = tickets[0].id_appointment.clone().expect("an id");
    let third = tickets[1].id_appointment.clone().expect("an id");
    assert!(book(&store, &third, "P-1002").base.succeeded());
    let move_to = |slot: &str| {
        set_appointment(
            &store,
            SetAppointment {
                id_appointment: slot.into(),
                id_lpu: 1,
                id_pat: "P-1001".into(),
                id_appointment_prev: Some(first.clone()),
                ..SetAppointment::default()
            },
        )
    };
    assert_eq!(error_id(&move_to(&third)), Some(39), "a taken time");
    assert_eq!(
        history(&store, "P-1001"),
        (vec![Some(first.clone())], vec![]),
        "the old booking is kept when the move fails"
    );
    let moved = move_to(&second);
    assert!(moved.base.succeeded(), "{moved:?}");
    assert_eq!(
        history(&store, "P-1001"),
        (vec![Some(second)], vec![Some(first)])
    );
}

#[test]
fn patients_are_found_by_all_three_fields() {
    let store = store();
    let query = |doc_s: &str, doc_n: &str, policy: &str, birth: &str| PatientQuery {
        birthday: contract::parse_datetime(&format!("{birth}T00:00:00")),
        document_n: Some(doc_n.into()),
        document_s: Some(doc_s.into()),
        polis_n: Some(policy.into()),
        ..PatientQuery::default()
    };
    let check = |pat| {
        error_id(&store.handle(
            &Request::CheckPatient(CheckPatient { pat, id_lpu: 1 }),
            now(),
        ))
    };
    assert_eq!(
        check(query("4510", "123456", "7700000000000001", "1980-05-17")),
        None
    );
    assert_eq!(
        check(query("4510", "123456", "7700000000000001", "1980-05-18")),
        Some(20)
    );
    assert_eq!(
        check(query("4512", "111111", "7700000000000003", "1990-03-03")),
        Some(21)
    );
    assert_eq!(check(PatientQuery::default()), Some(4));
}

#[test]
fn another_clinic_and_an_unknown_doctor_are_refused() {
    let store = store();
    let r = store.handle(
        &Request::GetSpesialityList(GetSpesialityList {
            id_lpu: 2,
            id_pat: None,
        }),
        now(),
    );
    assert_eq!(error_id(&r), Some(4));
    let w = Window {
        id_doc: "nobody".into(),
        id_lpu: 1,
        id_pat: None,
        visit_start: now(),
        visit_end: now(),
    };
    assert_eq!(
        error_id(&store.handle(&Request::GetAvailableDates(w), now())),
        Some(4)
    );
}

fn referral_tickets(store: &Store, patient: &str) -> Vec<Appointment> {
    let request =
        Request::GetAppointmentsDemandDoctorsReferal(GetAppointmentsDemandDoctorsReferal {
            id_doc: Some("602".into()),
            id_lpu: 1,
            id_pat: Some(patient.into()),
            app_type: AppointmentType::Consultation,
            start_visit: now(),
            end_visit: now() + Duration::days(14),
        });
    match body(store, request) {
        ResultBody::GetAppointmentsDemandDoctorsReferal(r) => r.list_appointments.expect("a list"),
        other => panic!("unexpected {other:?}"),
    }
}

fn book_by(store: &Store, slot: &str, referral: &str, previous: Option<&str>) -> Response {
    set_appointment(
        store,
        SetAppointment {
            id_appointment: slot.into(),
            id_lpu: 1,
            id_pat: "P-1001".into(),
            doctors_referral: Some(referral.into()),
            id_appointment_prev: previous.map(str::to_owned),
            ..SetAppointment::default()
        },
    )
}

fn is_used(store: &Store, number: &str) -> bool {
    match body(
        store,
        Request::CheckReferral(CheckReferral {
            doctors_referral: Some(number.into()),
        }),
    ) {
        ResultBody::CheckReferral(r) => r
            .referral
            .and_then(|r| r.events_info)
            .and_then(|e| e.target)
            .is_some_and(|t| t.reception_appoint_date.is_some()),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_referral_books_its_doctor_s_tickets_once_and_cancelling_frees_it() {
    let store = store();
    let inspect = |number: &str| {
        store.handle(
            &Request::InspectDoctorsReferal(InspectDoctorsReferal {
                id_lpu: 1,
                doctors_referal: Some(number.into()),
            }),
            now(),
        )
    };
    let ResultBody::InspectDoctorsReferal(found) = inspect("0000000001").body else {
        panic!("inspected")
    };
    assert_eq!(
        (found.id_doc.as_deref(), found.id_patient.as_deref()),
        (Some("602"), Some("P-1001"))
    );
    assert_eq!(
        error_id(&inspect("9999999999")),
        Some(code::REFERRAL_NOT_FOUND)
    );

    // The doctor's tickets are not open to self-booking, only by referral.
    assert!(free(&store, "602").is_empty());
    assert!(referral_tickets(&store, "P-1001").len() > 2);
    assert!(
        referral_tickets(&store, "P-1001")
            .iter()
            .all(|t| t.visit_start > now())
    );
    let tickets = referral_tickets(&store, "P-1001");
    let slot = |i: usize| tickets[i].id_appointment.clone().expect("an id");
    assert_eq!(
        error_id(&book(&store, &slot(0), "P-1001")),
        Some(code::NOT_ALLOWED)
    );
    assert_eq!(
        error_id(&book_by(&store, &slot(0), "0000000002", None)),
        Some(code::REFERRAL_EXPIRED)
    );
    let other_doctor = first_free(&store, "601").id_appointment.expect("an id");
    assert_eq!(
        error_id(&book_by(&store, &other_doctor, "0000000001", None)),
        Some(code::NOT_ALLOWED),
        "a referral books its own doctor"
    );
    assert!(
        book_by(&store, &slot(0), "0000000001", None)
            .base
            .succeeded()
    );
    assert!(is_used(&store, "0000000001"));
    assert_eq!(
        error_id(&book_by(&store, &slot(1), "0000000001", None)),
        Some(code::REFERRAL_USED)
    );
    // Moving the visit keeps the referral with it, named or not.
    assert!(
        book_by(&store, &slot(1), "0000000001", Some(&slot(0)))
            .base
            .succeeded()
    );
    let moved = set_appointment(
        &store,
        SetAppointment {
            id_appointment: slot(2),
            id_lpu: 1,
            id_pat: "P-1001".into(),
            id_appointment_prev: Some(slot(1)),
            ..SetAppointment::default()
        },
    );
    assert!(moved.base.succeeded(), "{moved:?}");
    assert!(is_used(&store, "0000000001"));
    assert!(cancel(&store, &slot(2), "P-1001").base.succeeded());
    assert!(
        !is_used(&store, "0000000001"),
        "a cancelled visit frees its referral"
    );
    assert!(
        book_by(&store, &slot(0), "0000000001", None)
            .base
            .succeeded()
    );
}

fn register(store: &Store, specialty: &str, doctor: Option<&str>) -> Response {
    store.handle(
        &Request::RegisterPARequest(RegisterPARequest {
            request: Some(RegisterPARequestRequest {
                pa_request: Some(PaRequest {
                    id_lpu: Some("1".into()),
                    id_speciality: Some(specialty.into()),
                    id_doc: doctor.map(str::to_owned),
                    ..PaRequest::default()
                }),
                pa_request_info: Some(PaRequestInfo {
                    claim: Some("отсутствуют_свободные_талоны".into()),
                    info: None,
                }),
                pa_request_patient: Some(PaRequestPatient {
                    id_patient: Some("P-1001".into()),
                    contacts: Some(PaRequestPatientContacts {
                        phone: Some("+79161234567".into()),
                        ..PaRequestPatientContacts::default()
                    }),
                    ..PaRequestPatient::default()
                }),
                pa_source: 2,
                preferred_intervals: None,
            }),
        }),
        now(),
    )
}

fn search(store: &Store, patient: &str) -> Vec<contract::ActivePaRequestInfo> {
    match body(
        store,
        Request::SearchActivePARequests(SearchActivePARequests {
            filter: Some(SearchActivePARequestsRequest {
                id_lpu: Some("1".into()),
                id_patients: Some(vec![patient.into()]),
                ..SearchActivePARequestsRequest::default()
            }),
        }),
    ) {
        ResultBody::SearchActivePARequests(r) => r.active_pa_requests.expect("a list"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn waiting_list_requests_are_registered_listed_and_withdrawn() {
    let store = store();
    let ResultBody::RegisterPARequest(created) = register(&store, "10", Some("1001")).body else {
        panic!("registered")
    };
    let id = created.id_par.expect("an id");
    assert_eq!(
        error_id(&register(&store, "10", Some("101"))),
        Some(code::INCOMPLETE),
        "a doctor of another specialty"
    );
    assert_eq!(
        error_id(&register(&store, "no-such", None)),
        Some(code::INCOMPLETE)
    );
    let mine = search(&store, "P-1001");
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].id_par.as_deref(), Some(id.as_str()));
    assert_eq!(
        mine[0]
            .pa_request
            .as_ref()
            .and_then(|r| r.name_doc.as_deref()),
        Some("Захарова Людмила Петровна")
    );
    assert!(search(&store, "P-1002").is_empty());
    let withdraw = |id: &str| {
        store.handle(
            &Request::CancelPARequest(CancelPARequest {
                request: Some(CancelPARequestRequest {
                    id_par: Some(id.into()),
                    deactivation_reason: 1,
                    ..CancelPARequestRequest::default()
                }),
            }),
            now(),
        )
    };
    assert!(withdraw(&id).base.succeeded());
    assert_eq!(
        error_id(&withdraw(&id)),
        Some(code::NO_SUCH_WAITING_REQUEST)
    );
    assert!(search(&store, "P-1001").is_empty());
    for _ in 0..waiting::MAX_ACTIVE_PER_PATIENT {
        assert!(register(&store, "10", None).base.succeeded());
    }
    assert_eq!(
        error_id(&register(&store, "10", None)),
        Some(code::NOT_ALLOWED),
        "a patient's active requests are capped"
    );
}

#[test]
fn withdrawn_requests_are_kept_up_to_a_bound_the_oldest_going_first() {
    let store = store();
    let withdraw = |id: String| {
        store.handle(
            &Request::CancelPARequest(CancelPARequest {
                request: Some(CancelPARequestRequest {
                    id_par: Some(id),
                    deactivation_reason: 1,
                    ..CancelPARequestRequest::default()
                }),
            }),
            now(),
        )
    };
    for _ in 0..waiting::KEEP_WITHDRAWN + 50 {
        let ResultBody::RegisterPARequest(r) = register(&store, "10", None).body else {
            panic!("registered")
        };
        assert!(withdraw(r.id_par.expect("an id")).base.succeeded());
    }
    let kept: i64 = store
        .lock()
        .query_row("SELECT COUNT(*) FROM waiting", [], |r| r.get(0))
        .expect("counts");
    assert_eq!(kept, waiting::KEEP_WITHDRAWN);
}

#[test]
fn the_catalogue_names_the_district_the_card_and_each_patient_s_areas() {
    let store = store();
    let ResultBody::GetDistrictList(d) = body(&store, Request::GetDistrictList(Default::default()))
    else {
        panic!("districts");
    };
    let districts = d.districts.expect("a list");
    assert_eq!(districts.len(), 3);
    assert_eq!(districts[0].id, seed::DISTRICT_ID);
    for asked in [None, Some(seed::LPU_ID)] {
        let ResultBody::GetLpuInfo(r) = body(
            &store,
            Request::GetLpuInfo(contract::GetLpuInfo { id_lpu: asked }),
        ) else {
            panic!("cards");
        };
        let cards = r.lpu_collection.expect("a list");
        assert_eq!(cards.len(), if asked.is_some() { 1 } else { 7 });
        let card = &cards[0];
        assert_eq!(card.id, Some(seed::LPU_ID));
        assert_eq!(card.district_id, Some(seed::DISTRICT_ID));
        assert_eq!(card.phone.as_deref(), Some(seed::LPU_PHONE));
    }
    // Each district lists its clinics: one inactive, one a branch of the demo clinic.
    let list = |district| {
        let ResultBody::GetLpuList(r) = body(
            &store,
            Request::GetLpuList(contract::GetLpuList {
                id_district: Some(district),
            }),
        ) else {
            panic!("clinics");
        };
        r.list_lpu.expect("a list")
    };
    let all: Vec<_> = (1..=3).flat_map(list).collect();
    assert_eq!(all.len(), 7);
    assert_eq!(all.iter().filter(|c| c.is_active == Some(false)).count(), 1);
    assert_eq!(
        all.iter().filter_map(|c| c.part_of).collect::<Vec<_>>(),
        [seed::LPU_ID]
    );
    assert!(list(1).iter().all(|c| c.district == Some(1)));
    let unknown = store.handle(
        &Request::GetLpuInfo(contract::GetLpuInfo { id_lpu: Some(99) }),
        now(),
    );
    assert!(!unknown.base.succeeded());
    let areas = |lpu: &str, patient: &str| {
        store.handle(
            &Request::GetPatientsAreas(contract::GetPatientsAreas {
                id_lpu: Some(lpu.into()),
                id_pat: Some(patient.into()),
            }),
            now(),
        )
    };
    let ResultBody::GetPatientsAreas(r) = areas("1", "P-1002").body else {
        panic!("areas");
    };
    let kinds: Vec<_> = r
        .patients_area_list
        .expect("a list")
        .into_iter()
        .map(|a| (a.area.expect("a number"), a.area_type))
        .collect();
    assert_eq!(
        kinds,
        [
            ("7".to_owned(), contract::AreaType::Therapeutic),
            ("2".to_owned(), contract::AreaType::Feldsher)
        ]
    );
    // A card with no area has an empty list; an unknown card or clinic is refused.
    let ResultBody::GetPatientsAreas(r) = areas("1", "P-1004").body else {
        panic!("areas");
    };
    assert_eq!(r.patients_area_list, Some(Vec::new()));
    assert_eq!(
        error_id(&areas("1", "P-9999")),
        Some(code::PATIENT_NOT_FOUND)
    );
    assert!(!areas("99", "P-1001").base.succeeded());
    assert!(!areas("one", "P-1001").base.succeeded());
}
