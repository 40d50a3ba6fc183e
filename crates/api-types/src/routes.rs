//! Every route of the JSON API: its method and path template, written once.
//!
//! The gateway registers its handlers from this table and describes it in its OpenAPI
//! document; the widget builds its URLs from it. Parameters in a template are `{name}`, in
//! the order [`Route::url`] fills them.

/// An HTTP method of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }
}

/// One route: a method on a path template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
}

impl Route {
    const fn new(method: Method, path: &'static str) -> Self {
        Self { method, path }
    }

    /// The names of the template's parameters, in order.
    pub fn params(&self) -> impl Iterator<Item = &'static str> {
        let path = self.path;
        path.split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
    }

    /// The path with its parameters filled in order; each value is percent-encoded, so any
    /// text lands in one path segment.
    pub fn url(&self, args: &[&str]) -> String {
        let mut out = String::with_capacity(self.path.len() + 64);
        let mut args = args.iter();
        for (i, segment) in self.path.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            if segment.starts_with('{') && segment.ends_with('}') {
                encode_segment(args.next().copied().unwrap_or_default(), &mut out);
            } else {
                out.push_str(segment);
            }
        }
        out
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode_segment(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

/// The clinics this gateway serves.
pub const CLINICS: Route = Route::new(Method::Get, "/api/v1/clinics");
/// A clinic's specialties with free tickets.
pub const SPECIALTIES: Route = Route::new(Method::Get, "/api/v1/clinics/{clinic}/specialties");
/// A specialty's doctors with free tickets.
pub const DOCTORS: Route = Route::new(
    Method::Get,
    "/api/v1/clinics/{clinic}/specialties/{specialty}/doctors",
);
/// A doctor's dates with free tickets.
pub const DATES: Route = Route::new(
    Method::Get,
    "/api/v1/clinics/{clinic}/doctors/{doctor}/dates",
);
/// A doctor's free tickets of one day.
pub const SLOTS: Route = Route::new(
    Method::Get,
    "/api/v1/clinics/{clinic}/doctors/{doctor}/slots",
);
/// Identification: opens a patient session.
pub const CREATE_SESSION: Route = Route::new(Method::Post, "/api/v1/clinics/{clinic}/sessions");
/// Ends the patient session.
pub const END_SESSION: Route =
    Route::new(Method::Delete, "/api/v1/clinics/{clinic}/sessions/current");
/// Books a ticket.
pub const BOOK: Route = Route::new(Method::Post, "/api/v1/clinics/{clinic}/tickets");
/// The patient's upcoming tickets.
pub const TICKETS: Route = Route::new(Method::Get, "/api/v1/clinics/{clinic}/tickets");
/// One of the patient's tickets.
pub const TICKET: Route = Route::new(Method::Get, "/api/v1/clinics/{clinic}/tickets/{ticket}");
/// Cancels one of the patient's tickets.
pub const CANCEL: Route = Route::new(Method::Delete, "/api/v1/clinics/{clinic}/tickets/{ticket}");
/// Moves one of the patient's tickets to another time.
pub const RESCHEDULE: Route = Route::new(
    Method::Post,
    "/api/v1/clinics/{clinic}/tickets/{ticket}/reschedule",
);
/// Sends one of the patient's tickets (or its cancellation) to an e-mail address.
pub const EMAIL_TICKET: Route = Route::new(
    Method::Post,
    "/api/v1/clinics/{clinic}/tickets/{ticket}/email",
);
/// Writes the patient's mobile phone into their card at the clinic, for its SMS reminders.
pub const PATIENT_PHONE: Route = Route::new(Method::Post, "/api/v1/clinics/{clinic}/patient/phone");
/// Puts the patient on the waiting list.
pub const JOIN_WAITING_LIST: Route =
    Route::new(Method::Post, "/api/v1/clinics/{clinic}/waiting-list");
/// The patient's requests on the waiting list.
pub const WAITING_LIST: Route = Route::new(Method::Get, "/api/v1/clinics/{clinic}/waiting-list");
/// Withdraws one of the patient's requests from the waiting list.
pub const LEAVE_WAITING_LIST: Route = Route::new(
    Method::Delete,
    "/api/v1/clinics/{clinic}/waiting-list/{request}",
);
/// What one of the patient's referrals allows.
pub const REFERRAL: Route = Route::new(Method::Get, "/api/v1/clinics/{clinic}/referrals/{number}");
/// The free tickets open to one of the patient's referrals.
pub const REFERRAL_SLOTS: Route = Route::new(
    Method::Get,
    "/api/v1/clinics/{clinic}/referrals/{number}/slots",
);

/// The districts of a region (region mode).
pub const REGION_DISTRICTS: Route = Route::new(Method::Get, "/api/v1/regions/{region}/districts");
/// The clinics of a region (region mode), searchable.
pub const REGION_CLINICS: Route = Route::new(Method::Get, "/api/v1/regions/{region}/clinics");
/// The specialties of a region's clinics, merged by name.
pub const REGION_SPECIALTIES: Route =
    Route::new(Method::Get, "/api/v1/regions/{region}/specialties");
/// The nearest free tickets of a specialty across a region's clinics.
pub const REGION_SLOTS: Route = Route::new(Method::Get, "/api/v1/regions/{region}/slots");
/// Identification once for every clinic of a region.
pub const REGION_CREATE_SESSION: Route =
    Route::new(Method::Post, "/api/v1/regions/{region}/sessions");
/// Ends a region's session.
pub const REGION_END_SESSION: Route =
    Route::new(Method::Delete, "/api/v1/regions/{region}/sessions/current");
/// The clinics the patient is attached to («Моя поликлиника»).
pub const REGION_MY_CLINICS: Route = Route::new(Method::Get, "/api/v1/regions/{region}/my-clinics");

/// Every route of the API.
pub const ALL: &[Route] = &[
    CLINICS,
    REGION_DISTRICTS,
    REGION_CLINICS,
    REGION_SPECIALTIES,
    REGION_SLOTS,
    REGION_CREATE_SESSION,
    REGION_END_SESSION,
    REGION_MY_CLINICS,
    SPECIALTIES,
    DOCTORS,
    DATES,
    SLOTS,
    CREATE_SESSION,
    END_SESSION,
    BOOK,
    TICKETS,
    TICKET,
    CANCEL,
    RESCHEDULE,
    EMAIL_TICKET,
    PATIENT_PHONE,
    JOIN_WAITING_LIST,
    WAITING_LIST,
    LEAVE_WAITING_LIST,
    REFERRAL,
    REFERRAL_SLOTS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_fill_parameters_in_order_and_keep_each_in_one_segment() {
        assert_eq!(
            DOCTORS.url(&["demo", "MQ"]),
            "/api/v1/clinics/demo/specialties/MQ/doctors"
        );
        assert_eq!(
            CANCEL.url(&["a b", "x/y?"]),
            "/api/v1/clinics/a%20b/tickets/x%2Fy%3F"
        );
        assert_eq!(DATES.params().collect::<Vec<_>>(), ["clinic", "doctor"]);
    }

    #[test]
    fn no_route_is_written_twice() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(a.path.starts_with("/api/v1/"));
            for b in &ALL[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
