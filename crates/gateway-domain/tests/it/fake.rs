//! A МИС in memory, for the domain's own tests: one clinic (idLpu 1, Moscow time) with two
//! specialties (Терапия: two doctors; Кардиология: one doctor who sees patients by referral
//! only), tomorrow's tickets every twenty minutes, one patient with a referral, the waiting
//! list; and faults to inject into its writes (the МИС unreachable, or its answer lost after
//! it acted).

use async_trait::async_trait;
use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime};
use gateway_domain::clinic::ClinicEntry;
use gateway_domain::gateway::Gateway;
use gateway_domain::guard::{CACHE_BYTES, Caches, GuardConfig, GuardedMis};
use gateway_state::keep::Moka;
use mis::{
    AppointmentId, Booking, ClinicInfo, DateRange, Doctor, DoctorId, History, LpuId, Mis, MisError,
    MisVersion, PatientId, PatientIdentity, PhoneNumber, Referral, ReferralDoctor, ReferralKind,
    ReferralNumber, ReferralStatus, Slot, Specialty, SpecialtyId, Visit, WaitingEntry, WaitingId,
    WaitingRequest, WorkingDay,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The one patient (document `4510 123456`).
pub const PATIENT: &str = "P-1";
/// Another patient, who owns nothing of the first's.
pub const OTHER: &str = "P-2";
/// The patient's valid referral, to the referral-only cardiologist.
pub const REFERRAL: &str = "0000000001";

/// What the next write meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The МИС cannot be reached: nothing is done.
    Unreachable,
    /// The МИС acts, and its answer is lost on the way back.
    AnswerLost,
    /// The request reaches the МИС, which does not act, and its answer is lost.
    LostUndone,
    /// The МИС acts, its answer is lost, and from then on its history and waiting list cannot
    /// be read (until [`FakeMis::set_reads_down`] says otherwise).
    AnswerLostUnread,
}

#[derive(Debug, Clone)]
struct Ticket {
    id: AppointmentId,
    doctor: DoctorId,
    specialty: SpecialtyId,
    start: NaiveDateTime,
    holder: Option<PatientId>,
    referral: Option<ReferralNumber>,
}

#[derive(Debug, Default)]
struct State {
    tickets: Vec<Ticket>,
    referral_used_by: Option<AppointmentId>,
    waiting: Vec<(PatientId, WaitingEntry)>,
    next_waiting: u32,
    /// The mobile phone each patient's card holds.
    phones: Vec<(PatientId, String)>,
}

/// The МИС in memory.
#[derive(Debug)]
pub struct FakeMis {
    state: Mutex<State>,
    faults: Mutex<Vec<Fault>>,
    /// How many writes reached it (acted on or not).
    pub writes: AtomicUsize,
    /// Reads of the patient's history and waiting list fail while set.
    pub reads_down: std::sync::atomic::AtomicBool,
    /// The directory gives no nearest dates while set (the contract allows it, and many МИС
    /// do).
    pub no_nearest: std::sync::atomic::AtomicBool,
}

fn id<T>(parse: impl Fn(String) -> Result<T, mis::IdError>, s: &str) -> T {
    parse(s.to_owned()).unwrap_or_else(|_| panic!("{s} is a valid id"))
}

/// Tomorrow in the clinic's zone.
pub fn tomorrow() -> NaiveDate {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Moscow)
        .date_naive();
    today.checked_add_days(Days::new(1)).unwrap_or(today)
}

impl FakeMis {
    /// The clinic with every ticket free.
    pub fn new() -> Self {
        let day = tomorrow();
        let mut tickets = Vec::new();
        for (doctor, specialty) in [("d1", "1"), ("d2", "1"), ("d3", "2")] {
            for i in 0..6u32 {
                let start = day.and_time(NaiveTime::MIN)
                    + chrono::Duration::minutes(9 * 60 + 20 * i64::from(i));
                tickets.push(Ticket {
                    id: id(AppointmentId::parse, &format!("{doctor}-{i}")),
                    doctor: id(DoctorId::parse, doctor),
                    specialty: id(SpecialtyId::parse, specialty),
                    start,
                    holder: None,
                    referral: None,
                });
            }
        }
        Self {
            state: Mutex::new(State {
                tickets,
                ..State::default()
            }),
            faults: Mutex::new(Vec::new()),
            writes: AtomicUsize::new(0),
            reads_down: std::sync::atomic::AtomicBool::new(false),
            no_nearest: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// A free ticket of `doctor` (of `specialty`) at `start`, its id `id`.
    pub fn add_ticket(&self, id_of: &str, doctor: &str, specialty: &str, start: NaiveDateTime) {
        self.state().tickets.push(Ticket {
            id: id(AppointmentId::parse, id_of),
            doctor: id(DoctorId::parse, doctor),
            specialty: id(SpecialtyId::parse, specialty),
            start,
            holder: None,
            referral: None,
        });
    }

    /// The date of `doctor`'s first free ticket (of any doctor of `specialty`, without one),
    /// as a МИС that counts days, not times, gives it; none when asked to give none.
    fn nearest(&self, doctor: Option<&str>, specialty: &str) -> Option<NaiveDate> {
        if self.no_nearest.load(Ordering::SeqCst) {
            return None;
        }
        self.state()
            .tickets
            .iter()
            .filter(|t| t.holder.is_none() && t.specialty.as_str() == specialty)
            .filter(|t| doctor.is_none_or(|d| t.doctor.as_str() == d))
            .map(|t| t.start.date())
            .min()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next write meets `fault` (faults queue up, one per write).
    pub fn fail_next_write(&self, fault: Fault) {
        self.faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(fault);
    }

    fn next_fault(&self) -> Option<Fault> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        let mut faults = self
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (!faults.is_empty()).then(|| faults.remove(0))
    }

    /// Runs a write as the fault planned says.
    fn write<T>(&self, act: impl FnOnce(&mut State) -> Result<T, MisError>) -> Result<T, MisError> {
        match self.next_fault() {
            Some(Fault::Unreachable) => Err(MisError::Unavailable("connection refused".into())),
            Some(Fault::AnswerLost) => {
                let _ = act(&mut self.state());
                Err(MisError::OutcomeUnknown("timed out".into()))
            }
            Some(Fault::LostUndone) => Err(MisError::OutcomeUnknown("timed out".into())),
            Some(Fault::AnswerLostUnread) => {
                let _ = act(&mut self.state());
                self.set_reads_down(true);
                Err(MisError::OutcomeUnknown("timed out".into()))
            }
            None => act(&mut self.state()),
        }
    }

    fn read(&self) -> Result<(), MisError> {
        if self.reads_down.load(Ordering::SeqCst) {
            Err(MisError::Unavailable("connection refused".into()))
        } else {
            Ok(())
        }
    }

    /// Sets whether reads of the history and the waiting list fail.
    pub fn set_reads_down(&self, down: bool) {
        self.reads_down.store(down, Ordering::SeqCst);
    }

    /// How many writes reached the МИС so far.
    /// The mobile phone the card of `patient` holds.
    pub fn phone_of(&self, patient: &PatientId) -> Option<String> {
        self.state()
            .phones
            .iter()
            .find(|(p, _)| p == patient)
            .map(|(_, phone)| phone.clone())
    }

    pub fn write_count(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    /// Who holds ticket `slot`, if anyone.
    pub fn holder(&self, slot: &str) -> Option<String> {
        self.state()
            .tickets
            .iter()
            .find(|t| t.id.as_str() == slot)
            .and_then(|t| t.holder.as_ref().map(|p| p.as_str().to_owned()))
    }

    /// The patient's active waiting-list requests.
    pub fn waiting_count(&self, patient: &str) -> usize {
        self.state()
            .waiting
            .iter()
            .filter(|(p, _)| p.as_str() == patient)
            .count()
    }

    fn free_of(&self, doctor: &DoctorId, range: DateRange) -> Vec<Slot> {
        self.state()
            .tickets
            .iter()
            .filter(|t| t.doctor == *doctor && t.holder.is_none())
            .filter(|t| (range.from()..=range.to()).contains(&t.start.date()))
            .map(|t| Slot {
                id: t.id.clone(),
                start: t.start,
                end: Some(t.start + chrono::Duration::minutes(20)),
                room: Some("101".into()),
                address: None,
                number: Some(7),
            })
            .collect()
    }
}

/// A gateway with one clinic, `demo`, whose МИС is `mis`, alone in its memory.
pub fn gateway(mis: Arc<FakeMis>) -> Arc<Gateway> {
    let shared = gateway_state::alone();
    let guard = GuardConfig {
        deadline: Duration::from_secs(2),
        schedule_ttl: Duration::ZERO,
        clinic: "demo".into(),
        ..GuardConfig::default()
    };
    let clinic = ClinicEntry {
        info: gateway_domain::views::Clinic {
            id: "demo".into(),
            name: "Поликлиника".into(),
            address: "Улица, 1".into(),
            timezone: "Europe/Moscow".into(),
        },
        lpu: LpuId::new(1),
        tz: chrono_tz::Europe::Moscow,
        mis: Arc::new(GuardedMis::new(
            mis,
            guard.clone(),
            Caches::of(&Moka, &guard, &shared, CACHE_BYTES),
            &shared,
        )),
    };
    Arc::new(Gateway::new(vec![clinic], shared))
}

fn doctor_of(d: &str) -> (&'static str, u32) {
    match d {
        "d1" => ("Иванова", 1),
        "d2" => ("Петров", 2),
        _ => ("Воробьёв", 3),
    }
}

#[async_trait]
impl Mis for FakeMis {
    async fn version(&self) -> Result<MisVersion, MisError> {
        Ok(MisVersion {
            service: None,
            database: None,
        })
    }

    async fn clinics(&self) -> Result<Vec<ClinicInfo>, MisError> {
        Ok(vec![ClinicInfo {
            id: LpuId::new(1),
            full_name: None,
            short_name: None,
            active: true,
        }])
    }

    async fn specialties(&self, _: LpuId) -> Result<Vec<Specialty>, MisError> {
        let therapy = self.nearest(None, "1");
        let state = self.state();
        let free = |s: &str| {
            state
                .tickets
                .iter()
                .filter(|t| {
                    t.specialty.as_str() == s && t.holder.is_none() && t.doctor.as_str() != "d3"
                })
                .count() as u32
        };
        Ok(vec![
            Specialty {
                id: id(SpecialtyId::parse, "1"),
                name: "Терапия".into(),
                federal_code: Some("27".into()),
                free_tickets: Some(free("1")),
                nearest_date: therapy,
            },
            Specialty {
                id: id(SpecialtyId::parse, "2"),
                name: "Кардиология".into(),
                federal_code: Some("12".into()),
                free_tickets: Some(free("2")),
                nearest_date: None,
            },
        ])
    }

    async fn doctors(&self, _: LpuId, specialty: &SpecialtyId) -> Result<Vec<Doctor>, MisError> {
        let nearest: Vec<Option<NaiveDate>> = ["d1", "d2", "d3"]
            .iter()
            .map(|d| self.nearest(Some(d), specialty.as_str()))
            .collect();
        let state = self.state();
        let doctors: &[&str] = match specialty.as_str() {
            "1" => &["d1", "d2"],
            "2" => &["d3"],
            _ => &[],
        };
        Ok(doctors
            .iter()
            .map(|d| Doctor {
                id: id(DoctorId::parse, d),
                name: doctor_of(d).0.into(),
                comment: None,
                free_tickets: Some(
                    state
                        .tickets
                        .iter()
                        .filter(|t| t.doctor.as_str() == *d && t.holder.is_none() && *d != "d3")
                        .count() as u32,
                ),
                nearest_date: match *d {
                    "d1" => nearest[0],
                    "d2" => nearest[1],
                    _ => nearest[2],
                },
            })
            .collect())
    }

    async fn available_dates(
        &self,
        _: LpuId,
        doctor: &DoctorId,
        range: DateRange,
    ) -> Result<Vec<NaiveDate>, MisError> {
        let mut dates: Vec<NaiveDate> = self
            .free_of(doctor, range)
            .iter()
            .map(|s| s.start.date())
            .collect();
        dates.dedup();
        Ok(dates)
    }

    async fn slots(
        &self,
        _: LpuId,
        doctor: &DoctorId,
        range: DateRange,
    ) -> Result<Vec<Slot>, MisError> {
        if doctor.as_str() == "d3" {
            return Ok(Vec::new());
        }
        Ok(self.free_of(doctor, range))
    }

    async fn working_time(
        &self,
        _: LpuId,
        _: &DoctorId,
        _: DateRange,
    ) -> Result<Vec<WorkingDay>, MisError> {
        Ok(Vec::new())
    }

    async fn find_patient(
        &self,
        _: LpuId,
        identity: &PatientIdentity,
    ) -> Result<PatientId, MisError> {
        if identity.document.number() == "123456" {
            Ok(id(PatientId::parse, PATIENT))
        } else {
            Err(MisError::PatientNotFound)
        }
    }

    async fn book(&self, _: LpuId, booking: Booking<'_>) -> Result<(), MisError> {
        self.write(|state| {
            let target = state
                .tickets
                .iter()
                .position(|t| t.id == *booking.slot)
                .ok_or(MisError::NoSuchTicket)?;
            if state.tickets[target].holder.is_some() {
                return Err(MisError::SlotTaken);
            }
            let specialty = state.tickets[target].specialty.clone();
            let previous = match booking.previous {
                Some(old) => Some(
                    state
                        .tickets
                        .iter()
                        .position(|t| t.id == *old && t.holder.as_ref() == Some(booking.patient))
                        .ok_or(MisError::NoSuchTicket)?,
                ),
                None => None,
            };
            let others = state.tickets.iter().enumerate().any(|(i, t)| {
                t.holder.as_ref() == Some(booking.patient)
                    && t.specialty == specialty
                    && Some(i) != previous
            });
            if others {
                return Err(MisError::AlreadyBooked);
            }
            if state.tickets[target].doctor.as_str() == "d3" {
                match (booking.referral, &state.referral_used_by) {
                    (Some(n), None) if n.as_str() == REFERRAL => {}
                    (Some(n), Some(by))
                        if n.as_str() == REFERRAL
                            && previous.is_some_and(|p| state.tickets[p].id == *by) => {}
                    (Some(_), Some(_)) => return Err(MisError::ReferralUsed),
                    _ => return Err(MisError::NotAllowed),
                }
                state.referral_used_by = Some(booking.slot.clone());
            }
            if let Some(p) = previous {
                state.tickets[p].holder = None;
                state.tickets[p].referral = None;
            }
            state.tickets[target].holder = Some(booking.patient.clone());
            state.tickets[target].referral = booking.referral.cloned();
            Ok(())
        })
    }

    async fn cancel(
        &self,
        _: LpuId,
        patient: &PatientId,
        slot: &AppointmentId,
    ) -> Result<(), MisError> {
        self.write(|state| {
            let t = state
                .tickets
                .iter_mut()
                .find(|t| t.id == *slot && t.holder.as_ref() == Some(patient))
                .ok_or(MisError::NoSuchTicket)?;
            t.holder = None;
            if t.referral.take().is_some() {
                state.referral_used_by = None;
            }
            Ok(())
        })
    }

    async fn history(&self, _: LpuId, patient: &PatientId) -> Result<History, MisError> {
        self.read()?;
        let visits = self
            .state()
            .tickets
            .iter()
            .filter(|t| t.holder.as_ref() == Some(patient))
            .map(|t| Visit {
                appointment: t.id.clone(),
                start: t.start,
                created: None,
                doctor_id: Some(t.doctor.clone()),
                doctor_name: Some(doctor_of(t.doctor.as_str()).0.into()),
                specialty_id: Some(t.specialty.clone()),
                specialty_name: None,
            })
            .collect();
        Ok(History {
            visits,
            refusals: Vec::new(),
        })
    }

    async fn referral(&self, _: LpuId, number: &ReferralNumber) -> Result<Referral, MisError> {
        if number.as_str() != REFERRAL {
            return Err(MisError::ReferralNotFound);
        }
        let used = self.state().referral_used_by.is_some();
        Ok(Referral {
            number: number.clone(),
            patient: id(PatientId::parse, PATIENT),
            clinic: Some(LpuId::new(1)),
            kind: ReferralKind::Consultation,
            specialty_code: Some("12".into()),
            doctors: vec![ReferralDoctor {
                id: id(DoctorId::parse, "d3"),
                name: Some("Воробьёв".into()),
                specialty_code: Some("12".into()),
            }],
            issued: None,
            valid_until: tomorrow().checked_add_days(Days::new(30)),
            status: if used {
                ReferralStatus::Used
            } else {
                ReferralStatus::Active
            },
        })
    }

    async fn referral_slots(
        &self,
        _: LpuId,
        doctor: &DoctorId,
        _: &PatientId,
        _: ReferralKind,
        range: DateRange,
    ) -> Result<Vec<Slot>, MisError> {
        Ok(self.free_of(doctor, range))
    }

    async fn join_waiting_list(
        &self,
        _: LpuId,
        request: &WaitingRequest,
    ) -> Result<WaitingId, MisError> {
        self.write(|state| {
            state.next_waiting += 1;
            let id = id(WaitingId::parse, &format!("W-{}", state.next_waiting));
            state.waiting.push((
                request.patient.clone(),
                WaitingEntry {
                    id: id.clone(),
                    specialty_id: Some(request.specialty.clone()),
                    specialty_name: Some(request.specialty_name.clone()),
                    doctor_id: request.doctor.as_ref().map(|(d, _)| d.clone()),
                    doctor_name: request.doctor.as_ref().map(|(_, n)| n.clone()),
                    window: request.window,
                    created: Some(chrono::Utc::now().naive_utc()),
                    reason: Some(request.reason),
                },
            ));
            Ok(id)
        })
    }

    async fn waiting_list(
        &self,
        _: LpuId,
        patient: &PatientId,
    ) -> Result<Vec<WaitingEntry>, MisError> {
        self.read()?;
        Ok(self
            .state()
            .waiting
            .iter()
            .filter(|(p, _)| p == patient)
            .map(|(_, e)| e.clone())
            .collect())
    }

    async fn leave_waiting_list(&self, _: LpuId, id: &WaitingId) -> Result<(), MisError> {
        self.write(|state| {
            let before = state.waiting.len();
            state.waiting.retain(|(_, e)| e.id != *id);
            if state.waiting.len() == before {
                Err(MisError::NoSuchWaitingRequest)
            } else {
                Ok(())
            }
        })
    }

    async fn update_phone(
        &self,
        _: LpuId,
        patient: &PatientId,
        phone: &PhoneNumber,
    ) -> Result<(), MisError> {
        self.write(|state| {
            state.phones.retain(|(p, _)| p != patient);
            state
                .phones
                .push((patient.clone(), phone.e164().to_owned()));
            Ok(())
        })
    }
}
