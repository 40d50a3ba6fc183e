//! Where the domain meets the wire, once: each of the domain's answers ([`gateway_domain::views`])
//! as the API's JSON ([`api_types`]), a [`Failure`] as its problem document, and the bodies a
//! client sends as the domain's input. Nothing else in the shell builds an `api_types` answer
//! out of a domain value.

use api_types as json;
use gateway_domain::Failure;
use gateway_domain::region::CatalogueClinic;
use gateway_domain::sessions::TypedIdentity;
use gateway_domain::views;
use gateway_domain::waiting::TypedRequest;

/// A domain value as the API writes it.
pub trait Wire {
    type Json: serde::Serialize;
    fn wire(self) -> Self::Json;
}

impl<T: Wire> Wire for Vec<T> {
    type Json = Vec<T::Json>;
    fn wire(self) -> Self::Json {
        self.into_iter().map(Wire::wire).collect()
    }
}

impl<T: Wire> Wire for Option<T> {
    type Json = Option<T::Json>;
    fn wire(self) -> Self::Json {
        self.map(Wire::wire)
    }
}

/// A list answer (`{"items": [...]}`) of domain values.
pub fn list<T: Wire>(items: Vec<T>) -> json::List<T::Json> {
    items.wire().into()
}

/// A clinic as the API lists it: with whether `gateway` e-mails its tickets.
pub fn clinic(gateway: &gateway_domain::Gateway, info: views::Clinic) -> json::Clinic {
    let email_tickets = gateway.mail.relay(&info.id).is_some();
    json::Clinic {
        email_tickets,
        ..info.wire()
    }
}

impl Wire for views::Named {
    type Json = json::NamedRef;
    fn wire(self) -> Self::Json {
        json::NamedRef {
            id: self.id,
            name: self.name,
        }
    }
}

impl Wire for views::Clinic {
    type Json = json::Clinic;
    fn wire(self) -> Self::Json {
        json::Clinic {
            id: self.id,
            name: self.name,
            address: self.address,
            timezone: self.timezone,
            email_tickets: false,
        }
    }
}

impl Wire for views::Specialty {
    type Json = json::Specialty;
    fn wire(self) -> Self::Json {
        json::Specialty {
            id: self.id,
            name: self.name,
            free_tickets: self.free_tickets,
            nearest_date: self.nearest_date,
        }
    }
}

impl Wire for views::Doctor {
    type Json = json::Doctor;
    fn wire(self) -> Self::Json {
        json::Doctor {
            id: self.id,
            name: self.name,
            comment: self.comment,
            free_tickets: self.free_tickets,
            nearest_date: self.nearest_date,
        }
    }
}

impl Wire for views::Dates {
    type Json = json::AvailableDates;
    fn wire(self) -> Self::Json {
        json::AvailableDates {
            from: self.from,
            to: self.to,
            dates: self.dates,
        }
    }
}

impl Wire for views::Slot {
    type Json = json::Slot;
    fn wire(self) -> Self::Json {
        json::Slot {
            id: self.id,
            start: self.start,
            end: self.end,
            room: self.room,
            address: self.address,
            number: self.number,
            doctor: self.doctor.wire(),
        }
    }
}

impl Wire for views::Ticket {
    type Json = json::Ticket;
    fn wire(self) -> Self::Json {
        json::Ticket {
            id: self.id,
            number: self.number,
            clinic: self.clinic.wire(),
            specialty: self.specialty.wire(),
            doctor: self.doctor.wire(),
            room: self.room,
            address: self.address,
            start: self.start,
            end: self.end,
            created_at: self.created_at,
            referral: self.referral,
        }
    }
}

impl Wire for mis::WaitingReason {
    type Json = json::WaitingReason;
    fn wire(self) -> Self::Json {
        match self {
            Self::NoFreeTickets => json::WaitingReason::NoFreeTickets,
            Self::NoConvenientTime => json::WaitingReason::NoConvenientTime,
            Self::NoSpecialist => json::WaitingReason::NoSpecialist,
        }
    }
}

impl Wire for views::WaitingRequest {
    type Json = json::WaitingRequest;
    fn wire(self) -> Self::Json {
        json::WaitingRequest {
            id: self.id,
            specialty: self.specialty.wire(),
            doctor: self.doctor.wire(),
            from: self.from,
            to: self.to,
            created_at: self.created_at,
            reason: self.reason.wire(),
        }
    }
}

impl Wire for views::Referral {
    type Json = json::Referral;
    fn wire(self) -> Self::Json {
        json::Referral {
            number: self.number,
            kind: match self.kind {
                mis::ReferralKind::Consultation => json::ReferralKind::Consultation,
                mis::ReferralKind::Repeat => json::ReferralKind::Repeat,
                mis::ReferralKind::Unspecified => json::ReferralKind::Unspecified,
            },
            specialty: self.specialty.wire(),
            doctors: self.doctors.wire(),
            issued_on: self.issued_on,
            valid_until: self.valid_until,
        }
    }
}

impl Wire for &CatalogueClinic {
    type Json = json::RegionClinic;
    fn wire(self) -> Self::Json {
        json::RegionClinic {
            id: self.id.clone(),
            district: self.district,
            name: self.name.clone(),
            full_name: self.full_name.clone(),
            active: self.active,
            branch_of: self.branch_of.clone(),
            kind: self.kind,
            address: self.card.address.clone(),
            phone: self.card.phone.clone(),
            email: self.card.email.clone(),
            work_time: self.card.work_time.clone(),
        }
    }
}

impl Wire for views::ClinicFailed {
    type Json = json::ClinicFailed;
    fn wire(self) -> Self::Json {
        json::ClinicFailed {
            clinic: self.clinic,
            code: match self.code {
                views::ClinicFailure::MisTimeout => json::ClinicFailure::MisTimeout,
                views::ClinicFailure::MisUnavailable => json::ClinicFailure::MisUnavailable,
                views::ClinicFailure::MisBadResponse => json::ClinicFailure::MisBadResponse,
                views::ClinicFailure::Overloaded => json::ClinicFailure::Overloaded,
            },
        }
    }
}

impl<T: Wire> Wire for views::Across<T> {
    type Json = json::Across<T::Json>;
    fn wire(self) -> Self::Json {
        json::Across {
            items: self.items.wire(),
            clinics_failed: self.clinics_failed.wire(),
        }
    }
}

impl Wire for views::RegionSpecialty {
    type Json = json::RegionSpecialty;
    fn wire(self) -> Self::Json {
        json::RegionSpecialty {
            name: self.name,
            free_tickets: self.free_tickets,
            nearest_date: self.nearest_date,
            clinics: self.clinics,
        }
    }
}

impl Wire for views::RegionSlot {
    type Json = json::RegionSlot;
    fn wire(self) -> Self::Json {
        json::RegionSlot {
            clinic: self.clinic.wire(),
            slot: self.slot.wire(),
        }
    }
}

impl Wire for views::MyClinic {
    type Json = json::MyClinic;
    fn wire(self) -> Self::Json {
        json::MyClinic {
            clinic: (&self.clinic).wire(),
            areas: self
                .areas
                .into_iter()
                .map(|a| json::Area {
                    number: a.number,
                    kind: a.kind,
                })
                .collect(),
        }
    }
}

/// The problem document (RFC 9457) of a failure, quoting the current request's id.
pub fn problem(failure: &Failure) -> json::Problem {
    let mut p = json::Problem::new(failure.code).with_errors(
        failure
            .fields
            .iter()
            .map(|f| json::FieldError {
                field: f.field.clone(),
                reason: f.reason.clone(),
                message: f.message.clone(),
            })
            .collect(),
    );
    if let Some(d) = &failure.detail {
        p = p.with_detail(d.clone());
    }
    p.request_id = gateway_domain::context::request_id();
    p
}

/// The identity a session's body carries, for the domain to parse.
pub fn identity(new: json::NewSession) -> TypedIdentity {
    TypedIdentity {
        document_number: new.document_number,
        policy_number: new.policy_number,
        birth_date: new.birth_date,
    }
}

/// The waiting-list request a body carries, for the domain to parse.
pub fn waiting_request(new: json::NewWaitingRequest) -> TypedRequest {
    TypedRequest {
        specialty_id: new.specialty_id,
        doctor_id: new.doctor_id,
        phone: new.phone,
        from: new.from,
        to: new.to,
    }
}
