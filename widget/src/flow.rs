//! The state of the patient's flow and its one reducer. Pure: no browser calls, so that it is
//! tested natively.

use api_types::{Doctor, Referral, Slot, Specialty, Ticket, WaitingRequest};
use chrono::NaiveDate;
use std::rc::Rc;
use yew::Reducible;

/// The steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Specialty,
    Doctor,
    Date,
    Time,
    Identify,
    Confirm,
    Ticket,
    MyTickets,
    /// «Встать в лист ожидания»: the phone and the days that suit.
    Waiting,
    /// On the waiting list.
    WaitingDone,
    /// «Запись по направлению»: the referral's number (then identification).
    Referral,
}

/// What the choosing of a doctor, a day and a time leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// A new ticket.
    Book,
    /// A ticket by the patient's referral.
    Referral(Rc<Referral>),
    /// Moving this ticket of the patient to another time.
    Move(Rc<Ticket>),
}

/// What the patient asks to wait for.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitFor {
    pub specialty: Specialty,
    pub doctor: Option<Doctor>,
}

/// What the patient typed to be identified. Held in memory only, and dropped once the
/// session is open.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct IdentityDraft {
    pub document: String,
    pub policy: String,
    pub birth_date: String,
}

impl std::fmt::Debug for IdentityDraft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentityDraft(<redacted>)")
    }
}

/// A message shown at the top of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    SlotTaken,
    SessionExpired,
    Cancelled,
    Moved,
    Withdrawn,
}

/// A ticket chosen among a region's nearest, to be confirmed in its clinic: the clinic's own
/// entry of its specialty, and the ticket (naming its doctor).
#[derive(Debug, Clone, PartialEq)]
pub struct Picked {
    pub specialty: Specialty,
    pub slot: Slot,
}

/// The whole state of the flow.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub step: Step,
    /// The step to come back to from «Мои записи» (and to go on to after identifying there).
    pub before_my_tickets: Option<Step>,
    pub specialty: Option<Specialty>,
    pub doctor: Option<Doctor>,
    pub date: Option<NaiveDate>,
    pub slot: Option<Slot>,
    /// The session token: in memory only, never in storage or a URL.
    pub session: Option<String>,
    pub identity: IdentityDraft,
    pub ticket: Option<Ticket>,
    pub notice: Option<Notice>,
    /// Ids to preselect when their lists load (from the host page's `data-` attributes).
    pub preselect_specialty: Option<String>,
    pub preselect_doctor: Option<String>,
    /// A fresh key per booking attempt, so that a retried confirmation books once.
    pub attempt: u32,
    pub mode: Mode,
    /// The referral number typed, until the referral is found.
    pub referral_number: Option<String>,
    pub wait_for: Option<WaitFor>,
    pub waiting: Option<WaitingRequest>,
}

impl Flow {
    /// Whether the identification step stands where the step would be: the step is it, or
    /// the step needs the patient (their tickets, a waiting-list request, a referral whose
    /// number is given) and no session is open.
    pub fn needs_identification(&self) -> bool {
        self.step == Step::Identify
            || self.session.is_none()
                && match self.step {
                    Step::MyTickets | Step::Waiting => true,
                    Step::Referral => self.referral_number.is_some(),
                    _ => false,
                }
    }

    pub fn new(preselect_specialty: Option<String>, preselect_doctor: Option<String>) -> Self {
        Self {
            step: Step::Specialty,
            before_my_tickets: None,
            specialty: None,
            doctor: None,
            date: None,
            slot: None,
            session: None,
            identity: IdentityDraft::default(),
            ticket: None,
            notice: None,
            preselect_specialty,
            preselect_doctor,
            attempt: 0,
            mode: Mode::Book,
            referral_number: None,
            wait_for: None,
            waiting: None,
        }
    }

    /// The flow of a ticket chosen among a region's nearest ([`Action::Pick`]), from the start.
    pub fn picked(mut self, picked: &Picked) -> Self {
        self.pick(picked.specialty.clone(), picked.slot.clone());
        self
    }

    fn choose_over(&mut self, step: Step) {
        self.specialty = None;
        self.doctor = None;
        self.date = None;
        self.slot = None;
        self.step = step;
    }
}

/// A doctor of a ticket or a referral, as the choosing steps hold one.
fn doctor_of(id: &str, name: &str) -> Doctor {
    Doctor {
        id: id.to_owned(),
        name: name.to_owned(),
        comment: None,
        free_tickets: Some(0),
        nearest_date: None,
    }
}

fn specialty_of(id: &str, name: &str) -> Specialty {
    Specialty {
        id: id.to_owned(),
        name: name.to_owned(),
        free_tickets: Some(0),
        nearest_date: None,
    }
}

/// Everything that changes the flow.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    ChooseSpecialty(Specialty),
    ChooseDoctor(Doctor),
    ChooseDate(NaiveDate),
    ChooseSlot(Slot),
    EditIdentity(IdentityDraft),
    Identified(String),
    Booked(Ticket),
    SlotTaken,
    SessionExpired,
    Cancelled,
    OpenMyTickets,
    Back,
    Restart,
    BookMore,
    ClearPreselection,
    /// «Перенести» on one of the patient's tickets.
    StartMove(Ticket),
    Moved(Ticket),
    /// «Запись по направлению».
    StartReferral,
    ReferralNumber(Option<String>),
    ReferralFound(Referral),
    /// A region's nearest ticket chosen: its specialty (as the clinic lists it) and the
    /// ticket, naming its doctor.
    Pick(Specialty, Slot),
    /// «Встать в лист ожидания».
    Wait(WaitFor),
    Waited(WaitingRequest),
    Withdrawn,
}

// The transitions of `reduce` that take more than a few lines.
impl Flow {
    fn choose_specialty(&mut self, spec: Specialty) {
        if self.specialty.as_ref().map(|x| &x.id) != Some(&spec.id) {
            self.doctor = None;
            self.date = None;
            self.slot = None;
        }
        self.specialty = Some(spec);
        self.preselect_specialty = None;
        self.step = Step::Doctor;
    }

    fn choose_doctor(&mut self, doctor: Doctor) {
        if self.doctor.as_ref().map(|x| &x.id) != Some(&doctor.id) {
            self.date = None;
            self.slot = None;
        }
        self.doctor = Some(doctor);
        self.preselect_doctor = None;
        self.step = Step::Date;
    }

    fn identified(&mut self, token: String) {
        self.session = Some(token);
        self.identity = IdentityDraft::default();
        self.step = match self.step {
            step @ (Step::MyTickets | Step::Waiting | Step::Referral) => step,
            _ if self.slot.is_some() => Step::Confirm,
            _ => Step::Specialty,
        };
    }

    /// A ticket chosen among a region's nearest: the flow as if its specialty, doctor, day
    /// and time had been chosen one by one, so that back and a taken time lead where they
    /// always do (that doctor's times of that day).
    fn pick(&mut self, specialty: Specialty, slot: Slot) {
        self.mode = Mode::Book;
        self.specialty = Some(specialty);
        self.doctor = slot.doctor.as_ref().map(|d| doctor_of(&d.id, &d.name));
        self.date = Some(slot.start.date_naive());
        self.slot = Some(slot);
        self.preselect_specialty = None;
        self.preselect_doctor = None;
        self.attempt += 1;
        self.step = if self.session.is_some() {
            Step::Confirm
        } else {
            Step::Identify
        };
    }

    fn back(&mut self) {
        self.step = match (self.step, &self.mode) {
            (Step::Date, Mode::Move(_)) => Step::MyTickets,
            (Step::Date, Mode::Referral(r)) if r.doctors.len() < 2 => Step::Referral,
            (Step::Doctor, Mode::Referral(_)) => Step::Referral,
            (Step::Specialty | Step::Doctor | Step::Referral, _) => Step::Specialty,
            (Step::Date, _) => Step::Doctor,
            (Step::Time, _) => Step::Date,
            (Step::Identify | Step::Confirm, _) => Step::Time,
            (Step::Ticket | Step::WaitingDone, _) => Step::Specialty,
            (Step::Waiting, _) => match &self.wait_for {
                Some(w) if w.doctor.is_some() => Step::Doctor,
                _ => Step::Specialty,
            },
            (Step::MyTickets, _) => self.before_my_tickets.take().unwrap_or(Step::Specialty),
        };
        if self.step == Step::Specialty {
            self.mode = Mode::Book;
        }
    }

    fn referral_found(&mut self, referral: Referral) {
        self.specialty = Some(specialty_of(
            &referral.specialty.id,
            &referral.specialty.name,
        ));
        self.doctor = match referral.doctors.as_slice() {
            [one] => Some(doctor_of(&one.id, &one.name)),
            _ => None,
        };
        self.step = if self.doctor.is_some() {
            Step::Date
        } else {
            Step::Doctor
        };
        self.date = None;
        self.slot = None;
        self.referral_number = None;
        self.mode = Mode::Referral(Rc::new(referral));
    }
}

impl Reducible for Flow {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        s.notice = None;
        match action {
            Action::ChooseSpecialty(spec) => s.choose_specialty(spec),
            Action::Pick(spec, slot) => s.pick(spec, slot),
            Action::ChooseDoctor(doctor) => s.choose_doctor(doctor),
            Action::ChooseDate(date) => {
                if s.date != Some(date) {
                    s.slot = None;
                }
                s.date = Some(date);
                s.step = Step::Time;
            }
            Action::ChooseSlot(slot) => {
                s.slot = Some(slot);
                s.attempt += 1;
                s.step = if s.session.is_some() {
                    Step::Confirm
                } else {
                    Step::Identify
                };
            }
            Action::EditIdentity(draft) => s.identity = draft,
            Action::Identified(token) => s.identified(token),
            Action::Booked(ticket) => {
                s.ticket = Some(ticket);
                s.step = Step::Ticket;
            }
            Action::SlotTaken => {
                s.slot = None;
                s.step = Step::Time;
                s.notice = Some(Notice::SlotTaken);
            }
            Action::SessionExpired => {
                s.session = None;
                s.notice = Some(Notice::SessionExpired);
                if s.step == Step::Confirm {
                    s.step = Step::Identify;
                }
            }
            Action::Cancelled => s.notice = Some(Notice::Cancelled),
            Action::OpenMyTickets => {
                if s.step != Step::MyTickets {
                    s.before_my_tickets = Some(s.step);
                    s.step = Step::MyTickets;
                }
            }
            Action::Back => s.back(),
            Action::Restart => {
                s.step = Step::Specialty;
                s.before_my_tickets = None;
                if s.mode != Mode::Book {
                    s.mode = Mode::Book;
                    s.choose_over(Step::Specialty);
                }
            }
            Action::BookMore => {
                s.ticket = None;
                s.mode = Mode::Book;
                s.choose_over(Step::Specialty);
            }
            Action::StartMove(ticket) => {
                s.specialty = Some(specialty_of(&ticket.specialty.id, &ticket.specialty.name));
                s.doctor = Some(doctor_of(&ticket.doctor.id, &ticket.doctor.name));
                s.date = None;
                s.slot = None;
                s.mode = Mode::Move(Rc::new(ticket));
                s.step = Step::Date;
            }
            Action::Moved(ticket) => {
                s.ticket = Some(ticket);
                s.mode = Mode::Book;
                s.step = Step::Ticket;
                s.notice = Some(Notice::Moved);
            }
            Action::StartReferral => {
                s.mode = Mode::Book;
                s.referral_number = None;
                s.choose_over(Step::Referral);
            }
            Action::ReferralNumber(number) => s.referral_number = number,
            Action::ReferralFound(referral) => s.referral_found(referral),
            Action::Wait(what) => {
                s.wait_for = Some(what);
                s.waiting = None;
                s.step = Step::Waiting;
            }
            Action::Waited(request) => {
                s.waiting = Some(request);
                s.step = Step::WaitingDone;
            }
            Action::Withdrawn => s.notice = Some(Notice::Withdrawn),
            Action::ClearPreselection => {
                s.preselect_specialty = None;
                s.preselect_doctor = None;
            }
        }
        Rc::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};

    fn spec(id: &str) -> Specialty {
        Specialty {
            id: id.into(),
            name: format!("S{id}"),
            free_tickets: Some(3),
            nearest_date: None,
        }
    }

    fn doctor(id: &str) -> Doctor {
        Doctor {
            id: id.into(),
            name: format!("D{id}"),
            comment: None,
            free_tickets: Some(3),
            nearest_date: None,
        }
    }

    fn slot(id: &str) -> Slot {
        let tz = FixedOffset::east_opt(3 * 3600).expect("valid");
        let start = tz
            .with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
            .single()
            .expect("valid");
        Slot {
            id: id.into(),
            start,
            end: Some(start),
            room: None,
            address: None,
            number: None,
            doctor: None,
        }
    }

    fn run(actions: Vec<Action>) -> Rc<Flow> {
        actions
            .into_iter()
            .fold(Rc::new(Flow::new(None, None)), Reducible::reduce)
    }

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).expect("valid")
    }

    #[test]
    fn a_nearest_ticket_picked_stands_as_if_chosen_step_by_step() {
        let mut picked = slot("s9");
        picked.doctor = Some(api_types::NamedRef {
            id: "d9".into(),
            name: "Иванова".into(),
        });
        let f = run(vec![Action::Pick(spec("1"), picked.clone())]);
        assert_eq!(f.step, Step::Identify, "not identified yet");
        assert!(f.needs_identification());
        let f = Reducible::reduce(f, Action::Identified("tok".into()));
        assert_eq!(f.step, Step::Confirm);
        assert_eq!(f.specialty.as_ref().map(|s| s.id.as_str()), Some("1"));
        assert_eq!(f.doctor.as_ref().map(|d| d.id.as_str()), Some("d9"));
        assert_eq!(f.date, Some(date()));
        assert_eq!(f.slot, Some(picked.clone()));
        // A taken time leads to that doctor's times of that day; back goes up step by step.
        let taken = Reducible::reduce(f.clone(), Action::SlotTaken);
        assert_eq!((taken.step, taken.date), (Step::Time, Some(date())));
        let back = Reducible::reduce(f, Action::Back);
        assert_eq!(back.step, Step::Time);
        // With a session already open, straight to the confirmation.
        let open = Rc::new(Flow {
            session: Some("tok".into()),
            ..Flow::new(None, None)
        });
        let f = Reducible::reduce(open, Action::Pick(spec("1"), picked));
        assert_eq!(f.step, Step::Confirm);
    }

    #[test]
    fn the_flow_goes_step_by_step_and_back_keeps_the_choices() {
        let f = run(vec![
            Action::ChooseSpecialty(spec("1")),
            Action::ChooseDoctor(doctor("a")),
            Action::ChooseDate(date()),
            Action::ChooseSlot(slot("x")),
        ]);
        assert_eq!(f.step, Step::Identify);
        let back = f.clone().reduce(Action::Back);
        assert_eq!(back.step, Step::Time);
        assert_eq!(
            back.slot.as_ref().map(|s| s.id.as_str()),
            Some("x"),
            "the choice stays visible"
        );
        let back = back.reduce(Action::Back).reduce(Action::Back);
        assert_eq!(back.step, Step::Doctor);
        assert_eq!(back.doctor.as_ref().map(|d| d.id.as_str()), Some("a"));
        let restart = f.reduce(Action::Restart);
        assert_eq!(restart.step, Step::Specialty);
        assert!(
            restart.specialty.is_some(),
            "«В начало» keeps what was chosen"
        );
    }

    #[test]
    fn choosing_another_specialty_drops_the_choices_that_depended_on_it() {
        let f = run(vec![
            Action::ChooseSpecialty(spec("1")),
            Action::ChooseDoctor(doctor("a")),
            Action::Restart,
            Action::ChooseSpecialty(spec("2")),
        ]);
        assert_eq!(f.doctor, None);
        let same = run(vec![
            Action::ChooseSpecialty(spec("1")),
            Action::ChooseDoctor(doctor("a")),
            Action::Back,
            Action::ChooseSpecialty(spec("1")),
        ]);
        assert!(same.doctor.is_some(), "the same specialty keeps the doctor");
    }

    #[test]
    fn identifying_forgets_the_typed_data_and_goes_to_confirmation() {
        let f = run(vec![
            Action::ChooseSpecialty(spec("1")),
            Action::ChooseDoctor(doctor("a")),
            Action::ChooseDate(date()),
            Action::ChooseSlot(slot("x")),
            Action::EditIdentity(IdentityDraft {
                document: "4510 123456".into(),
                policy: "1".into(),
                birth_date: "x".into(),
            }),
            Action::Identified("token".into()),
        ]);
        assert_eq!(f.step, Step::Confirm);
        assert_eq!(f.identity, IdentityDraft::default());
        assert!(!format!("{f:?}").contains("4510"));
        let again = f.reduce(Action::Back).reduce(Action::ChooseSlot(slot("y")));
        assert_eq!(
            again.step,
            Step::Confirm,
            "a signed-in patient skips identification"
        );
    }

    #[test]
    fn a_taken_slot_returns_to_the_times_with_a_notice() {
        let f = run(vec![
            Action::ChooseSpecialty(spec("1")),
            Action::ChooseDoctor(doctor("a")),
            Action::ChooseDate(date()),
            Action::ChooseSlot(slot("x")),
            Action::Identified("t".into()),
            Action::SlotTaken,
        ]);
        assert_eq!((f.step, f.notice), (Step::Time, Some(Notice::SlotTaken)));
        assert_eq!(f.slot, None);
        assert_eq!(f.date, Some(date()), "the day is kept");
    }

    #[test]
    fn my_tickets_returns_where_it_was_opened_and_an_expired_session_asks_again() {
        let f = run(vec![
            Action::ChooseSpecialty(spec("1")),
            Action::OpenMyTickets,
        ]);
        assert_eq!(f.step, Step::MyTickets);
        assert_eq!(f.clone().reduce(Action::Back).step, Step::Doctor);
        let f = f.reduce(Action::Identified("t".into()));
        assert_eq!(
            f.step,
            Step::MyTickets,
            "identifying from «Мои записи» stays there"
        );
        let f = f.reduce(Action::SessionExpired);
        assert_eq!(
            (f.session.clone(), f.notice),
            (None, Some(Notice::SessionExpired))
        );
    }
}
