//! The МИС port as the guard answers it: each operation of [`Mis`] through the guard's cache,
//! breaker, admission and retries, with the cache keys and the schedule each write forgets.

use super::{GuardedMis, Reading};
use async_trait::async_trait;
use chrono::NaiveDate;
use mis::{
    AppointmentId, Booking, ClinicInfo, DateRange, Doctor, DoctorId, History, LpuId, Mis, MisError,
    MisVersion, PatientId, PatientIdentity, PhoneNumber, Referral, ReferralKind, ReferralNumber,
    Slot, Specialty, SpecialtyId, WaitingEntry, WaitingId, WaitingRequest, WorkingDay,
};

/// An id in a shared cache's key: hex, so that whatever the МИС puts in its ids stays one
/// part of the key.
fn hex_of(id: &str) -> String {
    id.bytes().map(|b| format!("{b:02x}")).collect()
}

#[async_trait]
impl Mis for GuardedMis {
    async fn version(&self) -> Result<MisVersion, MisError> {
        self.once(self.observe("version", self.inner.version()))
            .await
    }

    async fn clinics(&self) -> Result<Vec<ClinicInfo>, MisError> {
        self.cached(
            &self.caches.clinics,
            (),
            || "clinics".into(),
            self.config.directory_ttl,
            "clinics",
            || self.inner.clinics(),
        )
        .await
    }

    async fn specialties(&self, clinic: LpuId) -> Result<Vec<Specialty>, MisError> {
        self.cached(
            &self.caches.specialties,
            clinic,
            || format!("specialties:{clinic}"),
            self.config.directory_ttl,
            "specialties",
            || self.inner.specialties(clinic),
        )
        .await
    }

    async fn doctors(
        &self,
        clinic: LpuId,
        specialty: &SpecialtyId,
    ) -> Result<Vec<Doctor>, MisError> {
        self.cached(
            &self.caches.doctors,
            (clinic, specialty.clone()),
            || format!("doctors:{clinic}:{}", hex_of(specialty.as_str())),
            self.config.directory_ttl,
            "doctors",
            || self.inner.doctors(clinic, specialty),
        )
        .await
    }

    async fn available_dates(
        &self,
        clinic: LpuId,
        doctor: &DoctorId,
        range: DateRange,
    ) -> Result<Vec<NaiveDate>, MisError> {
        let key = (clinic, doctor.clone(), range.from(), range.to());
        self.cached(
            &self.caches.dates,
            key,
            || {
                format!(
                    "dates:{clinic}:{}:{}:{}",
                    hex_of(doctor.as_str()),
                    range.from(),
                    range.to()
                )
            },
            self.config.schedule_ttl,
            "available_dates",
            || self.inner.available_dates(clinic, doctor, range),
        )
        .await
    }

    async fn slots(
        &self,
        clinic: LpuId,
        doctor: &DoctorId,
        range: DateRange,
    ) -> Result<Vec<Slot>, MisError> {
        let key = (clinic, doctor.clone(), range.from(), range.to());
        self.cached(
            &self.caches.slots,
            key,
            || {
                format!(
                    "slots:{clinic}:{}:{}:{}",
                    hex_of(doctor.as_str()),
                    range.from(),
                    range.to()
                )
            },
            self.config.schedule_ttl,
            "slots",
            || self.inner.slots(clinic, doctor, range),
        )
        .await
    }

    async fn working_time(
        &self,
        clinic: LpuId,
        doctor: &DoctorId,
        range: DateRange,
    ) -> Result<Vec<WorkingDay>, MisError> {
        self.read(Reading::Directory, || {
            self.observe(
                "working_time",
                self.inner.working_time(clinic, doctor, range),
            )
        })
        .await
    }

    async fn find_patient(
        &self,
        clinic: LpuId,
        identity: &PatientIdentity,
    ) -> Result<PatientId, MisError> {
        self.read(Reading::Patient, || {
            self.observe("find_patient", self.inner.find_patient(clinic, identity))
        })
        .await
    }

    async fn book(&self, clinic: LpuId, booking: Booking<'_>) -> Result<(), MisError> {
        self.write(
            clinic,
            self.observe("book", self.inner.book(clinic, booking)),
        )
        .await
    }

    async fn cancel(
        &self,
        clinic: LpuId,
        patient: &PatientId,
        slot: &AppointmentId,
    ) -> Result<(), MisError> {
        self.write(
            clinic,
            self.observe("cancel", self.inner.cancel(clinic, patient, slot)),
        )
        .await
    }

    async fn history(&self, clinic: LpuId, patient: &PatientId) -> Result<History, MisError> {
        self.read(Reading::Patient, || {
            self.observe("history", self.inner.history(clinic, patient))
        })
        .await
    }

    async fn referral(&self, clinic: LpuId, number: &ReferralNumber) -> Result<Referral, MisError> {
        self.read(Reading::Patient, || {
            self.observe("referral", self.inner.referral(clinic, number))
        })
        .await
    }

    async fn referral_slots(
        &self,
        clinic: LpuId,
        doctor: &DoctorId,
        patient: &PatientId,
        kind: ReferralKind,
        range: DateRange,
    ) -> Result<Vec<Slot>, MisError> {
        self.read(Reading::Patient, || {
            self.observe(
                "referral_slots",
                self.inner
                    .referral_slots(clinic, doctor, patient, kind, range),
            )
        })
        .await
    }

    async fn join_waiting_list(
        &self,
        clinic: LpuId,
        request: &WaitingRequest,
    ) -> Result<WaitingId, MisError> {
        self.once(self.observe(
            "join_waiting_list",
            self.inner.join_waiting_list(clinic, request),
        ))
        .await
    }

    async fn waiting_list(
        &self,
        clinic: LpuId,
        patient: &PatientId,
    ) -> Result<Vec<WaitingEntry>, MisError> {
        self.read(Reading::Patient, || {
            self.observe("waiting_list", self.inner.waiting_list(clinic, patient))
        })
        .await
    }

    async fn leave_waiting_list(&self, clinic: LpuId, id: &WaitingId) -> Result<(), MisError> {
        self.once(self.observe(
            "leave_waiting_list",
            self.inner.leave_waiting_list(clinic, id),
        ))
        .await
    }

    async fn update_phone(
        &self,
        clinic: LpuId,
        patient: &PatientId,
        phone: &PhoneNumber,
    ) -> Result<(), MisError> {
        self.once(self.observe(
            "update_phone",
            self.inner.update_phone(clinic, patient, phone),
        ))
        .await
    }
}
