//! The guard between the gateway and a МИС: its cache, breaker, retries, readiness and
//! budget, against МИС that fail in the ways real ones do.

use async_trait::async_trait;
use chrono::NaiveDate;
use gateway_domain::guard::{BreakerState, CACHE_BYTES, Caches, GuardConfig, GuardedMis};
use gateway_state::keep::Moka;
use mis::{
    AppointmentId, Booking, ClinicInfo, DateRange, Doctor, DoctorId, History, LpuId, Mis, MisError,
    MisVersion, PatientId, PatientIdentity, PhoneNumber, Referral, ReferralKind, ReferralNumber,
    Slot, Specialty, SpecialtyId, WaitingEntry, WaitingId, WaitingRequest, WorkingDay,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// A МИС that counts calls and fails while `down` is set; with `refusal`, its directory
/// reads and identification answer that error (as the sandbox's clinic № 7 answers an
/// `ErrorList` to every call).
#[derive(Debug, Default)]
struct Flaky {
    calls: AtomicUsize,
    down: AtomicBool,
    delay_ms: u64,
    refusal: Option<MisError>,
}

impl Flaky {
    fn refusing(refusal: MisError) -> Self {
        Self {
            refusal: Some(refusal),
            ..Self::default()
        }
    }

    /// A call counted, and refused where it refuses.
    fn counted(&self) -> Result<(), MisError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.refusal.clone().map_or(Ok(()), Err)
    }
}

#[async_trait]
impl Mis for Flaky {
    async fn version(&self) -> Result<MisVersion, MisError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            Err(MisError::Unavailable("down".into()))
        } else {
            Ok(MisVersion {
                service: None,
                database: None,
            })
        }
    }
    async fn clinics(&self) -> Result<Vec<ClinicInfo>, MisError> {
        Ok(Vec::new())
    }
    async fn specialties(&self, _: LpuId) -> Result<Vec<Specialty>, MisError> {
        self.counted()?;
        tokio::time::sleep(Duration::from_millis(self.delay_ms)).await;
        if self.down.load(Ordering::SeqCst) {
            return Err(MisError::Unavailable("down".into()));
        }
        Ok(Vec::new())
    }
    async fn doctors(&self, _: LpuId, _: &SpecialtyId) -> Result<Vec<Doctor>, MisError> {
        if self.refusal.is_some() {
            self.calls.fetch_add(1, Ordering::SeqCst);
            return Err(MisError::BadResponse("garbage".into()));
        }
        Ok(Vec::new())
    }
    async fn available_dates(
        &self,
        _: LpuId,
        _: &DoctorId,
        _: DateRange,
    ) -> Result<Vec<NaiveDate>, MisError> {
        Ok(Vec::new())
    }
    async fn slots(&self, _: LpuId, _: &DoctorId, _: DateRange) -> Result<Vec<Slot>, MisError> {
        Ok(Vec::new())
    }
    async fn working_time(
        &self,
        _: LpuId,
        _: &DoctorId,
        _: DateRange,
    ) -> Result<Vec<WorkingDay>, MisError> {
        Ok(Vec::new())
    }
    async fn find_patient(&self, _: LpuId, _: &PatientIdentity) -> Result<PatientId, MisError> {
        self.counted()?;
        Err(MisError::PatientNotFound)
    }
    async fn book(&self, _: LpuId, _: Booking<'_>) -> Result<(), MisError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(MisError::Unavailable("down".into()))
    }
    async fn cancel(&self, _: LpuId, _: &PatientId, _: &AppointmentId) -> Result<(), MisError> {
        Ok(())
    }
    async fn history(&self, _: LpuId, _: &PatientId) -> Result<History, MisError> {
        Ok(History::default())
    }
    async fn referral(&self, _: LpuId, _: &ReferralNumber) -> Result<Referral, MisError> {
        Err(MisError::ReferralNotFound)
    }
    async fn referral_slots(
        &self,
        _: LpuId,
        _: &DoctorId,
        _: &PatientId,
        _: ReferralKind,
        _: DateRange,
    ) -> Result<Vec<Slot>, MisError> {
        Ok(Vec::new())
    }
    async fn join_waiting_list(&self, _: LpuId, _: &WaitingRequest) -> Result<WaitingId, MisError> {
        Err(MisError::Unavailable("down".into()))
    }
    async fn waiting_list(&self, _: LpuId, _: &PatientId) -> Result<Vec<WaitingEntry>, MisError> {
        Ok(Vec::new())
    }
    async fn leave_waiting_list(&self, _: LpuId, _: &WaitingId) -> Result<(), MisError> {
        Err(MisError::NoSuchWaitingRequest)
    }

    async fn update_phone(&self, _: LpuId, _: &PatientId, _: &PhoneNumber) -> Result<(), MisError> {
        Err(MisError::Unavailable("not asked of this МИС".into()))
    }
}

/// A guard of one gateway alone.
fn guard_of(inner: Arc<dyn Mis>, config: GuardConfig) -> GuardedMis {
    let alone = gateway_state::alone();
    let caches = Caches::of(&Moka, &config, &alone, CACHE_BYTES);
    GuardedMis::new(inner, config, caches, &alone)
}

fn config() -> GuardConfig {
    GuardConfig {
        read_retries: 2,
        backoff: Duration::from_millis(5),
        deadline: Duration::from_secs(2),
        breaker_threshold: 3,
        probe_interval: Duration::from_millis(20),
        directory_ttl: Duration::from_secs(30),
        schedule_ttl: Duration::from_secs(3),
        clinic: "test".into(),
        ..GuardConfig::default()
    }
}

#[tokio::test]
async fn concurrent_identical_misses_share_one_call_and_hits_make_none() {
    let flaky = Arc::new(Flaky {
        delay_ms: 50,
        ..Flaky::default()
    });
    let guard = guard_of(flaky.clone(), config());
    let calls = (0..20).map(|_| guard.specialties(LpuId::new(1)));
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 1);
    guard.specialties(LpuId::new(1)).await.expect("a hit");
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_booking_forgets_only_its_doctor_s_schedule() {
    let flaky = Arc::new(Flaky::default());
    let guard = guard_of(flaky.clone(), config());
    let (a, b) = (
        DoctorId::parse("a").expect("valid"),
        DoctorId::parse("b").expect("valid"),
    );
    let day = DateRange::day(NaiveDate::from_ymd_opt(2026, 12, 1).expect("a date"));
    for d in [&a, &b] {
        guard.slots(LpuId::new(1), d, day).await.expect("slots");
    }
    assert_eq!(guard.caches().slots_kept().await, 2);
    guard.forget_schedule(LpuId::new(1), Some(&a));
    assert_eq!(guard.caches().slots_kept().await, 1);
}

#[tokio::test]
async fn readiness_is_probed_at_most_once_in_a_while() {
    let flaky = Arc::new(Flaky::default());
    let guard = guard_of(flaky.clone(), config());
    for _ in 0..50 {
        assert!(guard.ready().await);
    }
    assert_eq!(
        flaky.calls.load(Ordering::SeqCst),
        1,
        "one probe for the burst"
    );
}

#[tokio::test]
async fn reads_are_retried_and_writes_are_not() {
    let flaky = Arc::new(Flaky::default());
    flaky.down.store(true, Ordering::SeqCst);
    let guard = guard_of(
        flaky.clone(),
        GuardConfig {
            breaker_threshold: 100,
            ..config()
        },
    );
    assert!(guard.specialties(LpuId::new(1)).await.is_err());
    assert_eq!(
        flaky.calls.load(Ordering::SeqCst),
        3,
        "one call and two retries"
    );
    let patient = PatientId::parse("p").expect("valid");
    let slot = AppointmentId::parse("a").expect("valid");
    assert!(
        guard
            .book(LpuId::new(1), Booking::new(&patient, &slot))
            .await
            .is_err()
    );
    assert_eq!(
        flaky.calls.load(Ordering::SeqCst),
        4,
        "a booking is tried once"
    );
}

#[tokio::test]
async fn reads_the_deadline_cuts_short_open_the_breaker() {
    // A МИС that answers after the deadline: each read is cut short while its call is
    // in flight, with no answer and no error of the adapter's to record.
    let slow = Arc::new(Flaky {
        delay_ms: 60_000,
        ..Flaky::default()
    });
    let guard = guard_of(
        slow.clone(),
        GuardConfig {
            deadline: Duration::from_millis(30),
            breaker_threshold: 2,
            directory_ttl: Duration::ZERO,
            probe_interval: Duration::from_secs(60),
            ..config()
        },
    );
    for _ in 0..2 {
        assert!(matches!(
            guard.specialties(LpuId::new(1)).await,
            Err(MisError::Unavailable(_))
        ));
    }
    assert_eq!(guard.breaker_state(), BreakerState::Open);
    let before = slow.calls.load(Ordering::SeqCst);
    assert!(guard.specialties(LpuId::new(1)).await.is_err());
    assert_eq!(slow.calls.load(Ordering::SeqCst), before, "refused at once");
}

#[tokio::test]
async fn a_mis_that_answers_every_read_with_an_error_is_asked_once_a_while_and_opens_the_breaker() {
    let refusing = Arc::new(Flaky::refusing(MisError::Rejected { code: 98 }));
    let guard = guard_of(
        refusing.clone(),
        GuardConfig {
            breaker_threshold: 2,
            probe_interval: Duration::from_secs(60),
            ..config()
        },
    );
    // A burst of the same read: one call, its failure kept for the others.
    let burst = (0..50).map(|_| guard.specialties(LpuId::new(1)));
    let results = futures_util::future::join_all(burst).await;
    assert!(
        results
            .iter()
            .all(|r| *r == Err(MisError::Rejected { code: 98 }))
    );
    assert_eq!(
        refusing.calls.load(Ordering::SeqCst),
        1,
        "one call for the burst"
    );
    assert_eq!(guard.breaker_state(), BreakerState::Closed);
    // A second read that fails (an unusable answer): the breaker opens; then nothing
    // reaches the МИС.
    let cardiology = SpecialtyId::parse("c").expect("valid");
    assert!(guard.doctors(LpuId::new(1), &cardiology).await.is_err());
    assert_eq!(guard.breaker_state(), BreakerState::Open);
    let therapy = SpecialtyId::parse("t").expect("valid");
    assert!(matches!(
        guard.doctors(LpuId::new(1), &therapy).await,
        Err(MisError::Unavailable(_))
    ));
    assert_eq!(refusing.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_refusal_of_a_patient_s_read_never_opens_the_breaker() {
    let refusing = Arc::new(Flaky::refusing(MisError::Rejected { code: 4 }));
    let guard = guard_of(
        refusing.clone(),
        GuardConfig {
            breaker_threshold: 2,
            ..config()
        },
    );
    let today = NaiveDate::from_ymd_opt(2026, 12, 7).expect("a date");
    let identity = mis::PatientIdentity {
        document: mis::DocumentNumber::parse("4510 123456").expect("valid"),
        policy: mis::PolicyNumber::parse("7700000000000001").expect("valid"),
        birth_date: mis::BirthDate::parse("1980-05-17", today).expect("valid"),
    };
    for _ in 0..5 {
        assert!(guard.find_patient(LpuId::new(1), &identity).await.is_err());
    }
    assert_eq!(guard.breaker_state(), BreakerState::Closed);
    assert_eq!(refusing.calls.load(Ordering::SeqCst), 5, "never kept");
}

#[tokio::test]
async fn a_request_s_budget_of_calls_bounds_what_it_asks_and_hits_cost_nothing() {
    let flaky = Arc::new(Flaky::default());
    let guard = guard_of(flaky.clone(), config());
    let asked = gateway_domain::context::scope(
        "r".into(),
        gateway_domain::context::budgeted(3, async {
            let mut answers = Vec::new();
            for clinic in 1..=5 {
                answers.push(guard.specialties(LpuId::new(clinic)).await);
                // Kept: asked again, nothing is spent.
                answers.push(guard.specialties(LpuId::new(1)).await);
            }
            answers
        }),
    )
    .await;
    let refused = asked
        .iter()
        .filter(|a| **a == Err(MisError::Overloaded))
        .count();
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 3, "three calls made");
    assert_eq!(refused, 2, "two not made");
    assert_eq!(
        guard.breaker_state(),
        BreakerState::Closed,
        "a call not made says nothing"
    );
}

#[tokio::test]
async fn the_breaker_opens_answers_at_once_and_closes_by_itself() {
    let flaky = Arc::new(Flaky::default());
    flaky.down.store(true, Ordering::SeqCst);
    let guard = guard_of(
        flaky.clone(),
        GuardConfig {
            directory_ttl: Duration::ZERO,
            ..config()
        },
    );
    let _ = guard.specialties(LpuId::new(1)).await;
    assert_eq!(guard.breaker_state(), BreakerState::Open);
    let before = flaky.calls.load(Ordering::SeqCst);
    assert!(matches!(
        guard.specialties(LpuId::new(1)).await,
        Err(MisError::Unavailable(_))
    ));
    assert!(
        flaky.calls.load(Ordering::SeqCst) <= before + 1,
        "only the probe reached the МИС"
    );
    flaky.down.store(false, Ordering::SeqCst);
    for _ in 0..100 {
        if guard.breaker_state() == BreakerState::Closed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(guard.breaker_state(), BreakerState::Closed);
    assert!(guard.specialties(LpuId::new(1)).await.is_ok());
}
