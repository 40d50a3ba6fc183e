//! The [`Mis`] port over the hub: each operation one (or, for a referral, two) SOAP calls.

use crate::client::HubClient;
use crate::contract::{self, Operation, PatientQuery, Request, ResultBody};
use crate::mapping::*;
use async_trait::async_trait;
use chrono::NaiveDate;
use mis::{
    AppointmentId, Booking, ClinicInfo, DateRange, Doctor, DoctorId, History, LpuId, Mis, MisError,
    MisVersion, PatientId, PatientIdentity, PhoneNumber, Referral, ReferralKind, ReferralNumber,
    Slot, Specialty, SpecialtyId, WaitingEntry, WaitingId, WaitingRequest, WorkingDay,
};

/// `DeactivationReason` of a request the patient withdraws.
const WITHDRAWN_BY_PATIENT: i32 = 1;

#[async_trait]
impl Mis for HubClient {
    #[tracing::instrument(level = "debug", skip(self))]
    async fn version(&self) -> Result<MisVersion, MisError> {
        let ResultBody::GetVersion(r) = self.call(Request::GetVersion(Default::default())).await?
        else {
            return Err(unexpected(Operation::GetVersion));
        };
        Ok(MisVersion {
            service: r.service_version,
            database: r.database_version,
        })
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn clinics(&self) -> Result<Vec<ClinicInfo>, MisError> {
        let request = Request::GetLpuList(contract::GetLpuList { id_district: None });
        let ResultBody::GetLpuList(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetLpuList));
        };
        Ok(r.list_lpu
            .unwrap_or_default()
            .into_iter()
            .map(|c| ClinicInfo {
                id: LpuId::new(c.id_lpu),
                full_name: c.full_name,
                short_name: c.short_name,
                // Not said: listed, as active (a booking it refuses is refused).
                active: c.is_active.unwrap_or(true),
            })
            .collect())
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn specialties(&self, clinic: LpuId) -> Result<Vec<Specialty>, MisError> {
        let request = Request::GetSpesialityList(contract::GetSpesialityList {
            id_lpu: clinic.get(),
            id_pat: None,
        });
        let ResultBody::GetSpesialityList(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetSpesialityList));
        };
        r.list_spesiality
            .unwrap_or_default()
            .into_iter()
            .map(|s| {
                Ok(Specialty {
                    id: required_id(s.id_spesiality, "IdSpesiality", SpecialtyId::parse)?,
                    name: s.name_spesiality.ok_or_else(|| bad("NameSpesiality"))?,
                    federal_code: text(s.fer_id_spesiality),
                    free_tickets: s.count_free_participant_ie.map(count),
                    nearest_date: s.nearest_date.map(|d| d.date()),
                })
            })
            .collect()
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn doctors(
        &self,
        clinic: LpuId,
        specialty: &SpecialtyId,
    ) -> Result<Vec<Doctor>, MisError> {
        let request = Request::GetDoctorList(contract::GetDoctorList {
            id_spesiality: specialty.as_str().to_owned(),
            id_lpu: clinic.get(),
            id_pat: None,
        });
        let ResultBody::GetDoctorList(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetDoctorList));
        };
        r.docs
            .unwrap_or_default()
            .into_iter()
            .map(|d| {
                Ok(Doctor {
                    id: required_id(d.id_doc, "IdDoc", DoctorId::parse)?,
                    name: d.name.ok_or_else(|| bad("Name"))?,
                    comment: text(d.comment),
                    free_tickets: d.count_free_participant_ie.map(count),
                    nearest_date: d.nearest_date.map(|d| d.date()),
                })
            })
            .collect()
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn available_dates(
        &self,
        clinic: LpuId,
        doctor: &DoctorId,
        range: DateRange,
    ) -> Result<Vec<NaiveDate>, MisError> {
        let request = Request::GetAvailableDates(window(clinic, doctor, range));
        let ResultBody::GetAvailableDates(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetAvailableDates));
        };
        let mut dates: Vec<NaiveDate> = r
            .available_date_list
            .unwrap_or_default()
            .into_iter()
            .map(|d| d.date())
            .filter(|d| (range.from()..=range.to()).contains(d))
            .collect();
        dates.sort_unstable();
        dates.dedup();
        Ok(dates)
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn slots(
        &self,
        clinic: LpuId,
        doctor: &DoctorId,
        range: DateRange,
    ) -> Result<Vec<Slot>, MisError> {
        let request = Request::GetAvaibleAppointments(window(clinic, doctor, range));
        let ResultBody::GetAvaibleAppointments(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetAvaibleAppointments));
        };
        slots_of(r.list_appointments)
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn working_time(
        &self,
        clinic: LpuId,
        doctor: &DoctorId,
        range: DateRange,
    ) -> Result<Vec<WorkingDay>, MisError> {
        let request = Request::GetWorkingTime(contract::GetWorkingTime {
            id_doc: doctor.as_str().to_owned(),
            id_lpu: clinic.get(),
            visit_start: range.start(),
            visit_end: range.end(),
        });
        let ResultBody::GetWorkingTime(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetWorkingTime));
        };
        Ok(r.working_time_list
            .unwrap_or_default()
            .into_iter()
            // A day the МИС does not date says nothing.
            .filter_map(|t| {
                let start = t.visit_start?;
                Some(WorkingDay {
                    start,
                    end: t.visit_end.unwrap_or(start),
                    recordable: t.recordable_day.unwrap_or(true),
                    deny_cause: t.deny_cause,
                })
            })
            .collect())
    }

    #[tracing::instrument(level = "debug", skip(self, identity))]
    async fn find_patient(
        &self,
        clinic: LpuId,
        identity: &PatientIdentity,
    ) -> Result<PatientId, MisError> {
        let pat = PatientQuery {
            birthday: Some(contract::midnight(identity.birth_date.date())),
            document_n: Some(identity.document.number().to_owned()),
            document_s: identity.document.series().map(str::to_owned),
            polis_n: Some(identity.policy.number().to_owned()),
            polis_s: identity.policy.series().map(str::to_owned),
            ..PatientQuery::default()
        };
        let request = Request::CheckPatient(contract::CheckPatient {
            pat,
            id_lpu: clinic.get(),
        });
        let ResultBody::CheckPatient(r) = self.call(request).await? else {
            return Err(unexpected(Operation::CheckPatient));
        };
        required_id(r.id_pat, "IdPat", PatientId::parse)
    }

    #[tracing::instrument(level = "debug", skip(self, booking))]
    async fn book(&self, clinic: LpuId, booking: Booking<'_>) -> Result<(), MisError> {
        let request = Request::SetAppointment(contract::SetAppointment {
            id_appointment: booking.slot.as_str().to_owned(),
            id_lpu: clinic.get(),
            id_pat: booking.patient.as_str().to_owned(),
            doctors_referral: booking.referral.map(|r| r.as_str().to_owned()),
            attached_referral: None,
            id_appointment_prev: booking.previous.map(|p| p.as_str().to_owned()),
        });
        match self.call(request).await? {
            ResultBody::SetAppointment(_) => Ok(()),
            _ => Err(unexpected(Operation::SetAppointment)),
        }
    }

    #[tracing::instrument(level = "debug", skip(self, patient))]
    async fn cancel(
        &self,
        clinic: LpuId,
        patient: &PatientId,
        slot: &AppointmentId,
    ) -> Result<(), MisError> {
        let request = Request::CreateClaimForRefusal(contract::CreateClaimForRefusal {
            id_lpu: clinic.get(),
            id_pat: patient.as_str().to_owned(),
            id_appointment: slot.as_str().to_owned(),
        });
        match self.call(request).await? {
            ResultBody::CreateClaimForRefusal(_) => Ok(()),
            _ => Err(unexpected(Operation::CreateClaimForRefusal)),
        }
    }

    #[tracing::instrument(level = "debug", skip(self, patient, phone))]
    async fn update_phone(
        &self,
        clinic: LpuId,
        patient: &PatientId,
        phone: &PhoneNumber,
    ) -> Result<(), MisError> {
        let request = Request::UpdatePhoneByIdPat(contract::UpdatePhoneByIdPat {
            id_lpu: clinic.get(),
            id_pat: patient.as_str().to_owned(),
            home_phone: None,
            cell_phone: Some(phone.e164().to_owned()),
        });
        match self.call(request).await? {
            ResultBody::UpdatePhoneByIdPat(_) => Ok(()),
            _ => Err(unexpected(Operation::UpdatePhoneByIdPat)),
        }
    }

    #[tracing::instrument(level = "debug", skip(self, patient))]
    async fn history(&self, clinic: LpuId, patient: &PatientId) -> Result<History, MisError> {
        let request = Request::GetPatientHistory(contract::GetPatientHistory {
            id_lpu: clinic.get(),
            id_pat: patient.as_str().to_owned(),
        });
        let ResultBody::GetPatientHistory(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetPatientHistory));
        };
        Ok(History {
            visits: r
                .visits
                .unwrap_or_default()
                .into_iter()
                .map(visit_of)
                .collect::<Result<_, _>>()?,
            refusals: r
                .refusals
                .unwrap_or_default()
                .into_iter()
                .map(visit_of)
                .collect::<Result<_, _>>()?,
        })
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn referral(&self, clinic: LpuId, number: &ReferralNumber) -> Result<Referral, MisError> {
        let inspect = self.call(Request::InspectDoctorsReferal(
            contract::InspectDoctorsReferal {
                id_lpu: clinic.get(),
                doctors_referal: Some(number.as_str().to_owned()),
            },
        ));
        let check = self.call(Request::CheckReferral(contract::CheckReferral {
            doctors_referral: Some(number.as_str().to_owned()),
        }));
        let (inspected, checked) = tokio::join!(inspect, check);
        let ResultBody::InspectDoctorsReferal(inspected) = inspected? else {
            return Err(unexpected(Operation::InspectDoctorsReferal));
        };
        // The details are a bonus: a МИС that validates codes but cannot describe a referral
        // still books by it.
        let details = match checked {
            Ok(ResultBody::CheckReferral(r)) => r.referral,
            Ok(_) => return Err(unexpected(Operation::CheckReferral)),
            Err(e @ MisError::Unavailable(_)) => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "CheckReferral failed; the referral is described by InspectDoctorsReferal alone");
                None
            }
        };
        referral_of(number, inspected, details)
    }

    #[tracing::instrument(level = "debug", skip(self, patient))]
    async fn referral_slots(
        &self,
        clinic: LpuId,
        doctor: &DoctorId,
        patient: &PatientId,
        kind: ReferralKind,
        range: DateRange,
    ) -> Result<Vec<Slot>, MisError> {
        let request = Request::GetAppointmentsDemandDoctorsReferal(
            contract::GetAppointmentsDemandDoctorsReferal {
                id_doc: Some(doctor.as_str().to_owned()),
                id_lpu: clinic.get(),
                id_pat: Some(patient.as_str().to_owned()),
                app_type: appointment_type(kind),
                start_visit: range.start(),
                end_visit: range.end(),
            },
        );
        let ResultBody::GetAppointmentsDemandDoctorsReferal(r) = self.call(request).await? else {
            return Err(unexpected(Operation::GetAppointmentsDemandDoctorsReferal));
        };
        slots_of(r.list_appointments)
    }

    #[tracing::instrument(level = "debug", skip(self, request))]
    async fn join_waiting_list(
        &self,
        clinic: LpuId,
        request: &WaitingRequest,
    ) -> Result<WaitingId, MisError> {
        let body = contract::RegisterPARequestRequest {
            pa_request: Some(contract::PaRequest {
                fer_id_speciality: request.specialty_code.clone(),
                id_doc: request
                    .doctor
                    .as_ref()
                    .map(|(id, _)| id.as_str().to_owned()),
                id_lpu: Some(clinic.get().to_string()),
                id_nsi_lpu: None,
                id_speciality: Some(request.specialty.as_str().to_owned()),
                name_doc: request.doctor.as_ref().map(|(_, name)| name.clone()),
                name_speciality: Some(request.specialty_name.clone()),
            }),
            pa_request_info: Some(contract::PaRequestInfo {
                claim: Some(claim_of(request.reason).as_str().to_owned()),
                info: None,
            }),
            pa_request_patient: Some(contract::PaRequestPatient {
                id_patient: Some(request.patient.as_str().to_owned()),
                contacts: Some(contract::PaRequestPatientContacts {
                    phone: Some(request.phone.e164().to_owned()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            pa_source: self.config.waiting_list_source,
            preferred_intervals: request.window.map(|w| {
                vec![contract::PaRequestInterval {
                    end_date: Some(w.end()),
                    start_date: Some(w.start()),
                }]
            }),
        };
        let call = Request::RegisterPARequest(contract::RegisterPARequest {
            request: Some(body),
        });
        let ResultBody::RegisterPARequest(r) = self.call(call).await? else {
            return Err(unexpected(Operation::RegisterPARequest));
        };
        required_id(r.id_par, "IdPar", WaitingId::parse)
    }

    #[tracing::instrument(level = "debug", skip(self, patient))]
    async fn waiting_list(
        &self,
        clinic: LpuId,
        patient: &PatientId,
    ) -> Result<Vec<WaitingEntry>, MisError> {
        let request = Request::SearchActivePARequests(contract::SearchActivePARequests {
            filter: Some(contract::SearchActivePARequestsRequest {
                id_lpu: Some(clinic.get().to_string()),
                id_patients: Some(vec![patient.as_str().to_owned()]),
                ..Default::default()
            }),
        });
        let ResultBody::SearchActivePARequests(r) = self.call(request).await? else {
            return Err(unexpected(Operation::SearchActivePARequests));
        };
        let mut entries = r
            .active_pa_requests
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| entry_of(clinic, patient, e))
            .collect::<Result<Vec<_>, _>>()?;
        entries.sort_by_key(|e| e.created);
        Ok(entries)
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn leave_waiting_list(&self, _clinic: LpuId, id: &WaitingId) -> Result<(), MisError> {
        let request = Request::CancelPARequest(contract::CancelPARequest {
            request: Some(contract::CancelPARequestRequest {
                deactivation_comment: Some("Отозван пациентом".into()),
                deactivation_reason: WITHDRAWN_BY_PATIENT,
                id_par: Some(id.as_str().to_owned()),
                linked_id_par: None,
                pa_source: self.config.waiting_list_source,
            }),
        });
        let ResultBody::CancelPARequest(r) = self.call(request).await? else {
            return Err(unexpected(Operation::CancelPARequest));
        };
        // Not said (and no error listed): done.
        if r.cancellation_result != Some(false) {
            Ok(())
        } else {
            Err(MisError::NoSuchWaitingRequest)
        }
    }
}
