use super::*;
use chrono::NaiveDateTime;
use proptest::prelude::*;

fn dt(s: &str) -> NaiveDateTime {
    parse_datetime(s).expect("a valid test time")
}

fn sample_requests() -> Vec<Request> {
    let window = Window {
        id_doc: "D-1".into(),
        id_lpu: 1,
        id_pat: None,
        visit_start: dt("2026-12-01T00:00:00"),
        visit_end: dt("2026-12-14T23:59:59"),
    };
    vec![
        Request::GetVersion(NoParams {}),
        Request::GetDistrictList(GetDistrictList {}),
        Request::GetLpuList(GetLpuList { id_district: None }),
        Request::GetLpuInfo(GetLpuInfo { id_lpu: Some(7) }),
        Request::GetPatientsAreas(GetPatientsAreas {
            id_lpu: Some("7".into()),
            id_pat: Some("P<1>".into()),
        }),
        Request::GetSpesialityList(GetSpesialityList {
            id_lpu: 1,
            id_pat: None,
        }),
        Request::GetDoctorList(GetDoctorList {
            id_spesiality: "S<&>".into(),
            id_lpu: 1,
            id_pat: Some("P1".into()),
        }),
        Request::GetAvailableDates(window.clone()),
        Request::GetAvaibleAppointments(window),
        Request::GetWorkingTime(GetWorkingTime {
            id_doc: "D-1".into(),
            id_lpu: 1,
            visit_start: dt("2026-12-01T00:00:00"),
            visit_end: dt("2026-12-01T23:59:59"),
        }),
        Request::CheckPatient(CheckPatient {
            pat: PatientQuery {
                birthday: Some(dt("1980-05-17T00:00:00")),
                document_n: Some("123456".into()),
                document_s: Some("4510".into()),
                polis_n: Some("7700000000000001".into()),
                ..PatientQuery::default()
            },
            id_lpu: 1,
        }),
        Request::SetAppointment(SetAppointment {
            id_appointment: "A1".into(),
            id_lpu: 1,
            id_pat: "P1".into(),
            doctors_referral: Some("0000000001".into()),
            attached_referral: None,
            id_appointment_prev: Some("A0".into()),
        }),
        Request::CreateClaimForRefusal(CreateClaimForRefusal {
            id_lpu: 1,
            id_pat: "P1".into(),
            id_appointment: "A1".into(),
        }),
        Request::GetPatientHistory(GetPatientHistory {
            id_lpu: 1,
            id_pat: "P1".into(),
        }),
        Request::UpdatePhoneByIdPat(UpdatePhoneByIdPat {
            id_lpu: 1,
            id_pat: "P1".into(),
            home_phone: None,
            cell_phone: Some("+79161234567".into()),
        }),
        Request::InspectDoctorsReferal(InspectDoctorsReferal {
            id_lpu: 1,
            doctors_referal: Some("0000000001".into()),
        }),
        Request::CheckReferral(CheckReferral {
            doctors_referral: Some("0000000001".into()),
        }),
        Request::GetAppointmentsDemandDoctorsReferal(GetAppointmentsDemandDoctorsReferal {
            id_doc: Some("602".into()),
            id_lpu: 1,
            id_pat: Some("P1".into()),
            app_type: AppointmentType::Consultation,
            start_visit: dt("2026-12-01T00:00:00"),
            end_visit: dt("2026-12-14T23:59:59"),
        }),
        Request::RegisterPARequest(RegisterPARequest {
            request: Some(RegisterPARequestRequest {
                pa_request: Some(PaRequest {
                    id_lpu: Some("1".into()),
                    id_speciality: Some("10".into()),
                    name_speciality: Some("Гастроэнтерология".into()),
                    ..PaRequest::default()
                }),
                pa_request_info: Some(PaRequestInfo {
                    claim: Some(ClaimToWaitingListType::NoFreeTickets.as_str().into()),
                    info: None,
                }),
                pa_request_patient: Some(PaRequestPatient {
                    id_patient: Some("P1".into()),
                    contacts: Some(PaRequestPatientContacts {
                        phone: Some("+79161234567".into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                pa_source: 2,
                preferred_intervals: Some(vec![PaRequestInterval {
                    end_date: Some(dt("2026-12-20T23:59:59")),
                    start_date: Some(dt("2026-12-10T00:00:00")),
                }]),
            }),
        }),
        Request::SearchActivePARequests(SearchActivePARequests {
            filter: Some(SearchActivePARequestsRequest {
                id_lpu: Some("1".into()),
                id_patients: Some(vec!["P1".into()]),
                ..Default::default()
            }),
        }),
        Request::CancelPARequest(CancelPARequest {
            request: Some(CancelPARequestRequest {
                deactivation_comment: Some("Отозван пациентом".into()),
                deactivation_reason: 1,
                id_par: Some("W-1".into()),
                linked_id_par: None,
                pa_source: 2,
            }),
        }),
    ]
}

#[test]
fn every_operation_has_a_sample_request_and_result() {
    let requests: std::collections::HashSet<Operation> =
        sample_requests().iter().map(Request::operation).collect();
    let results: std::collections::HashSet<Operation> =
        sample_responses().iter().map(|(op, _)| *op).collect();
    for op in Operation::ALL {
        assert!(requests.contains(op), "a sample request of {}", op.name());
        assert!(results.contains(op), "a sample result of {}", op.name());
    }
}

#[test]
fn every_request_reads_back_as_written() {
    for request in sample_requests() {
        let call = Call {
            guid: Some("g".into()),
            id_history: None,
            request,
        };
        let xml = encode_request(&call);
        let back = decode_request(xml.as_bytes()).expect("our own request decodes");
        // The contract gives these two no key.
        let keyless = matches!(
            call.request.operation(),
            Operation::GetVersion | Operation::GetPatientsAreas
        );
        let expected = if keyless {
            Call {
                guid: None,
                ..call.clone()
            }
        } else {
            call.clone()
        };
        assert_eq!(back, expected, "{xml}");
    }
}

#[test]
fn requests_keep_the_contract_names_and_action() {
    let call = Call {
        guid: Some("g".into()),
        id_history: None,
        request: Request::GetDoctorList(GetDoctorList {
            id_spesiality: "1".into(),
            id_lpu: 1,
            id_pat: None,
        }),
    };
    let xml = encode_request(&call);
    assert!(
        xml.contains(r#"<GetDoctorList xmlns="http://tempuri.org/""#),
        "{xml}"
    );
    assert!(
        xml.contains(
            "<idSpesiality>1</idSpesiality><idLpu>1</idLpu><idPat i:nil=\"true\"/><guid>g</guid>"
        ),
        "{xml}"
    );
    assert_eq!(
        Operation::GetAvaibleAppointments.soap_action(),
        "\"http://tempuri.org/IHubService/GetAvaibleAppointments\""
    );
}

fn sample_responses() -> Vec<(Operation, ResultBody)> {
    let doctor = Doctor {
        comment: Some("Приём взрослых".into()),
        count_free_participant_ie: Some(3),
        count_free_ticket: Some(5),
        id_doc: Some("D-1".into()),
        name: Some("Иванова Мария Петровна".into()),
        nearest_date: Some(dt("2026-12-01T00:00:00")),
        ..Doctor::default()
    };
    let spesiality = Spesiality {
        count_free_participant_ie: Some(2),
        count_free_ticket: Some(2),
        id_spesiality: Some("S1".into()),
        name_spesiality: Some("Терапия".into()),
        ..Spesiality::default()
    };
    let appointments = AppointmentsResult {
        list_appointments: Some(vec![Appointment {
            address: Some("ул. Лесная, 7".into()),
            id_appointment: Some("A1".into()),
            num: Some(3),
            room: None,
            visit_end: Some(dt("2026-12-01T09:20:00")),
            visit_start: dt("2026-12-01T09:00:00"),
        }]),
    };
    let coding = |code: &str| Coding {
        code: Some(code.into()),
        system: Some("urn:oid:1.2.643.5.1.13.13.11.1066".into()),
        version: None,
    };
    let person = Person {
        human_name: Some(HumanName {
            family_name: Some("Воробьёв".into()),
            given_name: Some("Константин".into()),
            middle_name: None,
        }),
        id_person_mis: Some("602".into()),
        ..Person::default()
    };
    let active = ActivePaRequestInfo {
        created_date: Some(dt("2026-11-27T10:00:00")),
        id_par: Some("W-1".into()),
        pa_request: Some(PaRequest {
            id_speciality: Some("10".into()),
            name_speciality: Some("Гастроэнтерология".into()),
            ..PaRequest::default()
        }),
        pa_request_info: None,
        pa_request_patient: None,
        pa_source_created: 2,
        preferred_intervals: Some(vec![]),
    };
    vec![
        (
            Operation::GetVersion,
            ResultBody::GetVersion(VersionResult {
                database_version: Some("1".into()),
                service_version: None,
            }),
        ),
        (
            Operation::GetLpuList,
            ResultBody::GetLpuList(LpuListResult {
                list_lpu: Some(vec![Clinic {
                    id_lpu: 1,
                    is_active: Some(true),
                    full_name: Some("ГП № 1".into()),
                    ..Clinic::default()
                }]),
            }),
        ),
        (
            Operation::GetDistrictList,
            ResultBody::GetDistrictList(DistrictResult {
                districts: Some(vec![
                    District {
                        name: Some("Адмиралтейский".into()),
                        id: 1,
                        okato: Some(Okato(40_262_000_000)),
                    },
                    District {
                        name: Some("Курортный".into()),
                        id: 12,
                        okato: None,
                    },
                ]),
            }),
        ),
        (
            Operation::GetLpuInfo,
            ResultBody::GetLpuInfo(LpuInformationResult {
                lpu_collection: Some(vec![LpuInfo {
                    address: Some("ул. Садовая, д. 1 & 2".into()),
                    district_id: Some(1),
                    district_okato: Some(Okato(40_262_000_000)),
                    id: Some(7),
                    phone: Some("+7 (812) 000-00-00".into()),
                    work_time: Some("пн–пт 8–20".into()),
                    ..LpuInfo::default()
                }]),
            }),
        ),
        (
            Operation::GetPatientsAreas,
            ResultBody::GetPatientsAreas(PatientsAreasResult {
                patients_area_list: Some(vec![
                    PatientsArea {
                        area: Some("12".into()),
                        area_type: AreaType::Paediatric,
                    },
                    PatientsArea {
                        area: None,
                        area_type: AreaType::default(),
                    },
                ]),
            }),
        ),
        (
            Operation::GetSpesialityList,
            ResultBody::GetSpesialityList(SpesialityListResult {
                list_spesiality: Some(vec![spesiality.clone()]),
                lpu_changes: None,
            }),
        ),
        (
            Operation::GetDoctorList,
            ResultBody::GetDoctorList(DoctorListResult {
                docs: Some(vec![doctor.clone()]),
            }),
        ),
        (
            Operation::GetAvailableDates,
            ResultBody::GetAvailableDates(AvailableDatesResult {
                available_date_list: Some(vec![dt("2026-12-01T00:00:00")]),
            }),
        ),
        (
            Operation::GetAvaibleAppointments,
            ResultBody::GetAvaibleAppointments(appointments.clone()),
        ),
        (
            Operation::GetWorkingTime,
            ResultBody::GetWorkingTime(WorkingTimeResult {
                working_time_list: Some(vec![WorkingTime {
                    deny_cause: None,
                    recordable_day: Some(true),
                    visit_end: Some(dt("2026-12-01T14:00:00")),
                    visit_start: Some(dt("2026-12-01T08:00:00")),
                }]),
            }),
        ),
        (
            Operation::CheckPatient,
            ResultBody::CheckPatient(CheckPatientResult {
                id_pat: Some("P1".into()),
            }),
        ),
        (
            Operation::SetAppointment,
            ResultBody::SetAppointment(SetAppointmentResult {
                kind: SpecialistType::Narrow,
            }),
        ),
        (
            Operation::CreateClaimForRefusal,
            ResultBody::CreateClaimForRefusal(NoMembers {}),
        ),
        (
            Operation::UpdatePhoneByIdPat,
            ResultBody::UpdatePhoneByIdPat(NoMembers {}),
        ),
        (
            Operation::GetPatientHistory,
            ResultBody::GetPatientHistory(PatientHistoryResult {
                refusals: Some(vec![]),
                visits: Some(vec![HistoryVisit {
                    date_created_appointment: Some(dt("2026-11-25T10:00:00")),
                    doctor_bring_referal: None,
                    doctor_rending_consultation: Some(doctor),
                    id_appointment: Some("A1".into()),
                    speciality_bring_referal: None,
                    speciality_rending_consultation: Some(spesiality),
                    user_created_appointment: None,
                    visit_start: dt("2026-12-01T09:00:00"),
                }]),
            }),
        ),
        (
            Operation::InspectDoctorsReferal,
            ResultBody::InspectDoctorsReferal(InspectDoctorsReferalResult {
                id_doc: Some("602".into()),
                id_lpu: 1,
                id_patient: Some("P1".into()),
                kind: AppointmentType::Consultation,
            }),
        ),
        (
            Operation::CheckReferral,
            ResultBody::CheckReferral(CheckReferralResult {
                referral: Some(Referral {
                    events_info: Some(EventsInfo {
                        cancellation: None,
                        source: Some(EventSource {
                            planned_date: Some(dt("2026-12-27T00:00:00")),
                            referral_create_date: Some(dt("2026-11-25T00:00:00")),
                        }),
                        target: None,
                    }),
                    patient: Some(ReferralPatient {
                        person: Some(Person {
                            id_patient_mis: Some("P1".into()),
                            ..Person::default()
                        }),
                    }),
                    referral_info: Some(ReferralInfo {
                        date: Some(dt("2026-11-25T00:00:00")),
                        profile_med_service: Some(coding("8")),
                        ..ReferralInfo::default()
                    }),
                    target: Some(ReferralTarget {
                        doctors: Some(vec![ReferralDoctor {
                            person: Some(person),
                            speciality: Some(coding("8")),
                        }]),
                        lpu: Some(coding("1")),
                    }),
                }),
            }),
        ),
        (
            Operation::GetAppointmentsDemandDoctorsReferal,
            ResultBody::GetAppointmentsDemandDoctorsReferal(appointments),
        ),
        (
            Operation::RegisterPARequest,
            ResultBody::RegisterPARequest(RegisterPARequestResult {
                id_par: Some("W-1".into()),
            }),
        ),
        (
            Operation::SearchActivePARequests,
            ResultBody::SearchActivePARequests(SearchActivePARequestsResult {
                active_pa_requests: Some(vec![active]),
                count: 1,
            }),
        ),
        (
            Operation::CancelPARequest,
            ResultBody::CancelPARequest(CancelPARequestResult {
                cancellation_result: Some(true),
                id_par: Some("W-1".into()),
            }),
        ),
    ]
}

#[test]
fn every_result_reads_back_as_written() {
    for (op, body) in sample_responses() {
        let response = Response {
            base: MethodResult::ok(),
            body,
        };
        let xml = encode_response(op, &response);
        let back = decode_response(op, xml.as_bytes()).expect("our own response decodes");
        assert_eq!(back, response, "{xml}");
    }
}

#[test]
fn an_error_result_carries_its_code_and_nil_members() {
    let response = Response {
        base: MethodResult::error(39, "Талон занят"),
        body: ResultBody::empty(Operation::SetAppointment),
    };
    let xml = encode_response(Operation::SetAppointment, &response);
    assert!(xml.contains("<a:IdError>39</a:IdError>"), "{xml}");
    let back = decode_response(Operation::SetAppointment, xml.as_bytes()).expect("decodes");
    assert_eq!(back.base.errors.expect("errors")[0].id, 39);
}

#[test]
fn a_fault_is_reported_as_such() {
    let xml = encode_fault(&Fault {
        code: "s:Client".into(),
        message: "Нет такой операции".into(),
    });
    match decode_response(Operation::GetVersion, xml.as_bytes()) {
        Err(DecodeError::Fault(f)) => assert_eq!(f.code, "s:Client"),
        other => panic!("expected a fault, got {other:?}"),
    }
}

#[test]
fn a_wcf_style_answer_with_other_prefixes_decodes() {
    let xml = r#"<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
      <CheckPatientResponse xmlns="http://tempuri.org/"><CheckPatientResult xmlns:h="http://schemas.datacontract.org/2004/07/HubService2" xmlns:x="http://www.w3.org/2001/XMLSchema-instance">
      <h:ErrorList x:nil="true"/><h:IdHistory>12</h:IdHistory><h:Success>true</h:Success><h:IdPat>777</h:IdPat>
      </CheckPatientResult></CheckPatientResponse></soap:Body></soap:Envelope>"#;
    let r = decode_response(Operation::CheckPatient, xml.as_bytes()).expect("decodes");
    assert_eq!(
        r.body,
        ResultBody::CheckPatient(CheckPatientResult {
            id_pat: Some("777".into())
        })
    );
    assert_eq!(r.base.id_history, Some(12));
}

#[test]
fn wrong_namespaces_are_not_accepted() {
    let xml = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetVersionResponse xmlns="urn:other"><GetVersionResult/></GetVersionResponse></s:Body></s:Envelope>"#;
    assert!(decode_response(Operation::GetVersion, xml.as_bytes()).is_err());
    let xml = r#"<s:Envelope xmlns:s="urn:not-soap"><s:Body/></s:Envelope>"#;
    assert_eq!(
        decode_response(Operation::GetVersion, xml.as_bytes()),
        Err(DecodeError::NotSoap)
    );
}

#[test]
fn unknown_operations_are_named() {
    let xml = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><AddNewPatient xmlns="http://tempuri.org/"/></s:Body></s:Envelope>"#;
    assert_eq!(
        decode_request(xml.as_bytes()),
        Err(DecodeError::UnknownOperation("AddNewPatient".into()))
    );
}

#[test]
fn datetimes_accept_fractions_and_offsets() {
    assert_eq!(
        parse_datetime("2026-12-01T09:30:00.000+03:00"),
        Some(dt("2026-12-01T09:30:00"))
    );
    assert_eq!(
        parse_datetime("2026-12-01T09:30:00Z"),
        Some(dt("2026-12-01T09:30:00"))
    );
    assert_eq!(parse_datetime("2026-12-01T09:30"), None);
    assert_eq!(parse_datetime("2026-12-01T09:30:00junk"), None);
}

proptest! {
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        for &op in Operation::ALL {
            let _ = decode_response(op, &bytes);
        }
        let _ = decode_request(&bytes);
    }

    #[test]
    fn decoding_mutated_answers_never_panics(cut in 0usize..2000, byte in any::<u8>()) {
        for (op, body) in sample_responses() {
            let mut xml = encode_response(op, &Response { base: MethodResult::ok(), body }).into_bytes();
            let at = cut % xml.len();
            xml[at] = byte;
            let _ = decode_response(op, &xml);
            let _ = decode_response(op, &xml[..at]);
        }
    }

    #[test]
    fn datetime_parse_never_panics(s in "\\PC{0,40}") {
        let _ = parse_datetime(&s);
    }
}
