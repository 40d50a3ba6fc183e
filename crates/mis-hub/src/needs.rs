//! What the hub adapter needs a МИС to say. The contract's schemas make every member of every
//! type optional (`minOccurs="0"`, most of them `nillable`: WCF writes them so), and a МИС may
//! leave out or nil any of them. These few the adapter cannot do without: an answer that lacks
//! one is `mis_bad_response` for that item. Every other member read is optional: where one is
//! missing the adapter learns it another way or does without (README, «What the gateway needs
//! from a МИС»), and the sandbox's sparse answers (`[sandbox] sparse`) leave out every member
//! but these.
//!
//! Lists (`ArrayOf…` members) are what an answer is for: a МИС that leaves one out says the
//! list is empty.

/// `(record, member)`: the element name of a record of the contract, and of one of its members.
pub const NEEDED: &[(&str, &str)] = &[
    // Every answer: what went wrong, when something did.
    ("MethodResult", "ErrorList"),
    ("Error", "IdError"),
    // The directory: what is booked, and what a patient chooses by.
    ("Spesiality", "IdSpesiality"),
    ("Spesiality", "NameSpesiality"),
    ("Doctor", "IdDoc"),
    ("Doctor", "Name"),
    ("Appointment", "IdAppointment"),
    ("Appointment", "VisitStart"),
    // The patient, and their visits.
    ("CheckPatientResult", "IdPat"),
    ("HistoryVisit", "IdAppointment"),
    ("HistoryVisit", "VisitStart"),
    // Referrals: whose, and to which doctor.
    ("InspectDoctorsReferalResult", "Id_Patient"),
    ("InspectDoctorsReferalResult", "IdDoc"),
    // The waiting list: which request, and what for.
    ("RegisterPARequestResult", "IdPar"),
    ("ActivePARequestInfo", "IdPar"),
    ("ActivePARequestInfo", "PARequest"),
    ("PARequest", "IdSpeciality"),
    // A region's catalogue: which district, which clinic.
    ("District", "IdDistrict"),
    ("Clinic", "IdLPU"),
    ("LpuInfo", "Id"),
];

/// Whether the adapter needs `member` of `record`.
pub fn needed(record: &str, member: &str) -> bool {
    NEEDED.iter().any(|&(r, m)| r == record && m == member)
}
