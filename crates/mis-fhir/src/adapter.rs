//! The МИС port over FHIR R4: the directory from `PractitionerRole` (a doctor is a role, its
//! specialty the role's `specialty`) and `Practitioner`, free tickets from `Schedule` and
//! `Slot`, the patient from `Patient` (searched by POST, so that no identifier is ever in a
//! URL), bookings as `Appointment`s made by a conditional create and guarded by the `Slot`'s
//! version. The waiting list and referrals are the hub's only: `NotSupported`.

use crate::client::{FhirClient, enc, ok_body, unsupported};
use crate::tree::{El, Node};
use async_trait::async_trait;
use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, TimeZone};
use mis::{
    AppointmentId, Booking, ClinicInfo, DateRange, Doctor, DoctorId, History, LpuId, Mis, MisError,
    MisVersion, PatientId, PatientIdentity, PhoneNumber, Referral, ReferralKind, ReferralNumber,
    Slot, Specialty, SpecialtyId, Visit, WaitingEntry, WaitingId, WaitingRequest, WorkingDay,
};
use std::collections::HashMap;

/// How far ahead the directory counts free tickets.
const DIRECTORY_DAYS: u64 = 14;

/// The id at the end of a reference (`Slot/s-1` → `s-1`).
fn id_of(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

fn bad(what: &str) -> MisError {
    MisError::BadResponse(format!("invalid {what}"))
}

/// A role's specialty: its code and its name.
fn specialty_of(role: &Node) -> Option<(String, String)> {
    let concept = role.get("specialty")?;
    let coding = concept.get("coding");
    let code = coding.and_then(|c| c.value_at(&["code"]))?;
    let name = coding
        .and_then(|c| c.value_at(&["display"]))
        .or_else(|| concept.value_at(&["text"]))
        .unwrap_or(code);
    Some((code.to_owned(), name.to_owned()))
}

/// A person's name as a clinic writes it: the text, else family and given names.
fn name_of(person: &Node) -> String {
    let Some(name) = person.get("name") else {
        return String::new();
    };
    if let Some(text) = name.value_at(&["text"]) {
        return text.to_owned();
    }
    let mut parts: Vec<&str> = name.value_at(&["family"]).into_iter().collect();
    parts.extend(name.all("given").filter_map(|g| g.value()));
    parts.join(" ")
}

impl FhirClient {
    /// A time of the server as the clinic's wall-clock time.
    fn local(&self, text: &str) -> Option<NaiveDateTime> {
        let t = DateTime::parse_from_rfc3339(text).ok()?;
        Some(t.with_timezone(&self.config.timezone).naive_local())
    }

    /// The clinic's midnight of `date`, as a FHIR instant.
    fn instant(&self, date: NaiveDate) -> String {
        let midnight = date.and_time(chrono::NaiveTime::MIN);
        self.config
            .timezone
            .from_local_datetime(&midnight)
            .earliest()
            .map_or_else(
                || format!("{}Z", midnight.format("%Y-%m-%dT%H:%M:%S")),
                |t| t.to_rfc3339(),
            )
    }

    fn today(&self) -> NaiveDate {
        chrono::Utc::now()
            .with_timezone(&self.config.timezone)
            .date_naive()
    }

    /// The schedules of the role `role`.
    async fn schedules_of(&self, role: &str) -> Result<Vec<String>, MisError> {
        let found = self
            .search(&format!("Schedule?actor=PractitionerRole/{}", enc(role)))
            .await?;
        Ok(found
            .iter()
            .filter_map(|s| s.value_at(&["id"]).map(str::to_owned))
            .collect())
    }

    /// The slots of the schedule `schedule` from `from` to `to` (both days included), free
    /// ones only with `free`.
    async fn slots_of(
        &self,
        schedule: &str,
        range: DateRange,
        free: bool,
    ) -> Result<Vec<Node>, MisError> {
        let after = range
            .to()
            .checked_add_days(Days::new(1))
            .unwrap_or(range.to());
        let status = if free { "&status=free" } else { "" };
        self.search(&format!(
            "Slot?schedule=Schedule/{}{status}&start=ge{}&start=lt{}",
            enc(schedule),
            enc(&self.instant(range.from())),
            enc(&self.instant(after))
        ))
        .await
    }

    /// The role's slots in `range`, as the port's tickets, by time.
    async fn role_slots(
        &self,
        role: &str,
        range: DateRange,
        free: bool,
    ) -> Result<Vec<(Slot, bool)>, MisError> {
        let mut all = Vec::new();
        for schedule in self.schedules_of(role).await? {
            for node in self.slots_of(&schedule, range, free).await? {
                let id = node.value_at(&["id"]).ok_or_else(|| bad("slot"))?;
                let start = node.value_at(&["start"]).and_then(|s| self.local(s));
                let end = node.value_at(&["end"]).and_then(|s| self.local(s));
                let (Some(start), Some(end)) = (start, end) else {
                    return Err(bad("slot time"));
                };
                let is_free = node.value_at(&["status"]) == Some("free");
                all.push((
                    Slot {
                        id: AppointmentId::parse(id).map_err(|_| bad("slot id"))?,
                        start,
                        end: Some(end),
                        room: node.value_at(&["comment"]).map(str::to_owned),
                        address: None,
                        number: None,
                    },
                    is_free,
                ));
            }
        }
        all.sort_by_key(|(s, _)| s.start);
        Ok(all)
    }

    /// Free tickets from today on, by role: how many, and the nearest day.
    async fn free_by_role(&self) -> Result<HashMap<String, (u32, Option<NaiveDate>)>, MisError> {
        let today = self.today();
        let range = DateRange::new(today, today + Days::new(DIRECTORY_DAYS))
            .ok_or_else(|| bad("window"))?;
        let schedules = self.search("Schedule?active=true").await?;
        let now = chrono::Utc::now()
            .with_timezone(&self.config.timezone)
            .naive_local();
        let mut by_role: HashMap<String, (u32, Option<NaiveDate>)> = HashMap::new();
        for schedule in &schedules {
            let (Some(id), Some(actor)) = (
                schedule.value_at(&["id"]),
                schedule
                    .all("actor")
                    .filter_map(|a| a.value_at(&["reference"]))
                    .find(|r| r.starts_with("PractitionerRole/")),
            ) else {
                continue;
            };
            let entry = by_role.entry(id_of(actor).to_owned()).or_default();
            for slot in self.slots_of(id, range, true).await? {
                let Some(start) = slot.value_at(&["start"]).and_then(|s| self.local(s)) else {
                    continue;
                };
                if start > now {
                    entry.0 += 1;
                    entry.1 = Some(entry.1.map_or(start.date(), |d| d.min(start.date())));
                }
            }
        }
        Ok(by_role)
    }

    /// The patients whose identifier of `system` is `value`.
    async fn patients_by(&self, system: &str, value: &str) -> Result<Vec<Node>, MisError> {
        // A search by POST: the identifier goes in the body, never in a URL (nor a log of one).
        let form = format!("identifier={}", enc(&format!("{system}|{value}")));
        self.search_by_post("Patient/_search", form).await
    }
}

#[async_trait]
impl Mis for FhirClient {
    async fn version(&self) -> Result<MisVersion, MisError> {
        let statement = ok_body(self.get("metadata").await?, "CapabilityStatement")?;
        Ok(MisVersion {
            service: statement.value_at(&["software", "name"]).map(str::to_owned),
            database: statement
                .value_at(&["fhirVersion"])
                .map(|v| format!("FHIR {v}")),
        })
    }

    async fn clinics(&self) -> Result<Vec<ClinicInfo>, MisError> {
        Ok(vec![ClinicInfo {
            id: self.config.lpu,
            full_name: Some(self.config.clinic_name.clone()),
            short_name: Some(self.config.clinic_name.clone()),
            active: true,
        }])
    }

    async fn specialties(&self, _: LpuId) -> Result<Vec<Specialty>, MisError> {
        let roles = self.search("PractitionerRole?active=true").await?;
        let free = self.free_by_role().await?;
        let mut by_code: HashMap<String, Specialty> = HashMap::new();
        for role in &roles {
            let (Some(id), Some((code, name))) = (role.value_at(&["id"]), specialty_of(role))
            else {
                continue;
            };
            let (count, nearest) = free.get(id).copied().unwrap_or_default();
            let entry = match by_code.entry(code.clone()) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(Specialty {
                    id: SpecialtyId::parse(code).map_err(|_| bad("specialty code"))?,
                    name,
                    federal_code: None,
                    free_tickets: Some(0),
                    nearest_date: None,
                }),
            };
            entry.free_tickets = entry.free_tickets.map(|n| n + count);
            entry.nearest_date = match (entry.nearest_date, nearest) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        Ok(by_code.into_values().collect())
    }

    async fn doctors(&self, _: LpuId, specialty: &SpecialtyId) -> Result<Vec<Doctor>, MisError> {
        let roles: Vec<Node> = self
            .search("PractitionerRole?active=true")
            .await?
            .into_iter()
            .filter(|r| specialty_of(r).is_some_and(|(code, _)| code == specialty.as_str()))
            .collect();
        let free = self.free_by_role().await?;
        let people: Vec<&str> = roles
            .iter()
            .filter_map(|r| r.value_at(&["practitioner", "reference"]))
            .map(id_of)
            .collect();
        let names: HashMap<String, String> = if people.is_empty() {
            HashMap::new()
        } else {
            self.search(&format!("Practitioner?_id={}", enc(&people.join(","))))
                .await?
                .iter()
                .filter_map(|p| Some((p.value_at(&["id"])?.to_owned(), name_of(p))))
                .collect()
        };
        roles
            .iter()
            .filter_map(|role| {
                let id = role.value_at(&["id"])?;
                let person = role.value_at(&["practitioner", "reference"]).map(id_of);
                let name = person
                    .and_then(|p| names.get(p).cloned())
                    .or_else(|| {
                        role.value_at(&["practitioner", "display"])
                            .map(str::to_owned)
                    })
                    .unwrap_or_default();
                let (free_tickets, nearest_date) = free.get(id).copied().unwrap_or_default();
                Some(DoctorId::parse(id).map(|id| {
                    Doctor {
                        id,
                        name,
                        comment: role
                            .value_at(&["availabilityExceptions"])
                            .map(str::to_owned),
                        free_tickets: Some(free_tickets),
                        nearest_date,
                    }
                }))
            })
            .collect::<Result<_, _>>()
            .map_err(|_| bad("role id"))
    }

    async fn available_dates(
        &self,
        _: LpuId,
        doctor: &DoctorId,
        range: DateRange,
    ) -> Result<Vec<NaiveDate>, MisError> {
        let mut dates: Vec<NaiveDate> = self
            .role_slots(doctor.as_str(), range, true)
            .await?
            .into_iter()
            .map(|(s, _)| s.start.date())
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
        Ok(self
            .role_slots(doctor.as_str(), range, true)
            .await?
            .into_iter()
            .map(|(s, _)| s)
            .collect())
    }

    async fn working_time(
        &self,
        _: LpuId,
        doctor: &DoctorId,
        range: DateRange,
    ) -> Result<Vec<WorkingDay>, MisError> {
        let mut days: Vec<WorkingDay> = Vec::new();
        for (slot, free) in self.role_slots(doctor.as_str(), range, false).await? {
            match days.last_mut() {
                Some(day) if day.start.date() == slot.start.date() => {
                    day.end = day.end.max(slot.end.unwrap_or(slot.start));
                    day.recordable |= free;
                }
                _ => days.push(WorkingDay {
                    start: slot.start,
                    end: slot.end.unwrap_or(slot.start),
                    recordable: free,
                    deny_cause: None,
                }),
            }
        }
        Ok(days)
    }

    async fn find_patient(
        &self,
        _: LpuId,
        identity: &PatientIdentity,
    ) -> Result<PatientId, MisError> {
        let joined =
            |series: Option<&str>, number: &str| format!("{}{number}", series.unwrap_or(""));
        let policy = joined(identity.policy.series(), identity.policy.number());
        let mut found = self
            .patients_by(&self.config.policy_system, &policy)
            .await?;
        if found.is_empty() {
            let document = joined(identity.document.series(), identity.document.number());
            found = self
                .patients_by(&self.config.document_system, &document)
                .await?;
        }
        let birth = identity.birth_date.date().format("%Y-%m-%d").to_string();
        found.retain(|p| p.value_at(&["birthDate"]) == Some(birth.as_str()));
        match found.as_slice() {
            [] => Err(MisError::PatientNotFound),
            [one] => PatientId::parse(one.value_at(&["id"]).unwrap_or_default())
                .map_err(|_| bad("patient id")),
            _ => Err(MisError::PatientNotUnique),
        }
    }

    async fn book(&self, _: LpuId, booking: Booking<'_>) -> Result<(), MisError> {
        if booking.referral.is_some() {
            return Err(unsupported("booking by a referral"));
        }
        crate::booking::book(self, booking.patient, booking.slot).await?;
        if let Some(previous) = booking.previous {
            crate::booking::cancel(self, booking.patient, previous).await?;
        }
        Ok(())
    }

    async fn cancel(
        &self,
        _: LpuId,
        patient: &PatientId,
        slot: &AppointmentId,
    ) -> Result<(), MisError> {
        crate::booking::cancel(self, patient, slot).await
    }

    async fn history(&self, _: LpuId, patient: &PatientId) -> Result<History, MisError> {
        let found = self
            .search(&format!(
                "Appointment?patient=Patient/{}",
                enc(patient.as_str())
            ))
            .await?;
        let mut history = History::default();
        for a in &found {
            let Some(visit) = self.visit_of(a) else {
                continue;
            };
            match a.value_at(&["status"]) {
                Some("cancelled") => history.refusals.push(visit),
                // `pending`: a booking not finished (its slot not held yet), not a visit.
                Some("booked" | "arrived" | "checked-in" | "fulfilled") => {
                    history.visits.push(visit)
                }
                _ => {}
            }
        }
        Ok(history)
    }

    async fn referral(&self, _: LpuId, _: &ReferralNumber) -> Result<Referral, MisError> {
        Err(unsupported("referrals"))
    }

    async fn referral_slots(
        &self,
        _: LpuId,
        _: &DoctorId,
        _: &PatientId,
        _: ReferralKind,
        _: DateRange,
    ) -> Result<Vec<Slot>, MisError> {
        Err(unsupported("referrals"))
    }

    async fn join_waiting_list(&self, _: LpuId, _: &WaitingRequest) -> Result<WaitingId, MisError> {
        Err(unsupported("the waiting list"))
    }

    async fn waiting_list(&self, _: LpuId, _: &PatientId) -> Result<Vec<WaitingEntry>, MisError> {
        Err(unsupported("the waiting list"))
    }

    async fn leave_waiting_list(&self, _: LpuId, _: &WaitingId) -> Result<(), MisError> {
        Err(unsupported("the waiting list"))
    }

    /// `Patient.telecom`, added by a JSON Patch under `If-Match` (`crate::card`).
    async fn update_phone(
        &self,
        _: LpuId,
        patient: &PatientId,
        phone: &PhoneNumber,
    ) -> Result<(), MisError> {
        crate::card::update_phone(self, patient, phone).await
    }
}

impl FhirClient {
    /// An appointment as a visit of the patient's history (the ticket is its slot).
    fn visit_of(&self, a: &Node) -> Option<Visit> {
        let slot = a.value_at(&["slot", "reference"]).map(id_of)?;
        let role = a
            .all("participant")
            .filter_map(|p| p.get("actor"))
            .find(|actor| {
                actor
                    .value_at(&["reference"])
                    .is_some_and(|r| r.starts_with("PractitionerRole/"))
            });
        let specialty = a.at(&["specialty", "coding"]);
        Some(Visit {
            appointment: AppointmentId::parse(slot).ok()?,
            start: self.local(a.value_at(&["start"])?)?,
            created: a.value_at(&["created"]).and_then(|c| {
                self.local(c).or_else(|| {
                    c.parse::<NaiveDate>()
                        .ok()
                        .map(|d| d.and_time(chrono::NaiveTime::MIN))
                })
            }),
            doctor_id: role
                .and_then(|r| r.value_at(&["reference"]))
                .and_then(|r| DoctorId::parse(id_of(r)).ok()),
            doctor_name: role
                .and_then(|r| r.value_at(&["display"]))
                .map(str::to_owned),
            specialty_id: specialty
                .and_then(|c| c.value_at(&["code"]))
                .and_then(|c| SpecialtyId::parse(c).ok()),
            specialty_name: specialty
                .and_then(|c| c.value_at(&["display"]))
                .map(str::to_owned),
        })
    }
}

/// What the adapter needs of a server: each resource, its interactions and search parameters.
pub const NEEDS: &[(&str, &[&str], &[&str])] = &[
    ("PractitionerRole", &["search-type"], &["active"]),
    ("Practitioner", &["search-type"], &["_id"]),
    ("Schedule", &["read", "search-type"], &["actor", "active"]),
    (
        "Slot",
        &["read", "search-type", "update"],
        &["schedule", "status", "start"],
    ),
    ("Patient", &["search-type"], &["identifier"]),
    (
        "Appointment",
        &["create", "update", "search-type"],
        &["identifier", "patient", "slot", "status"],
    ),
];

impl FhirClient {
    /// What the server's `CapabilityStatement` does not declare of what the adapter needs
    /// (a resource, an interaction, a search parameter, conditional create); and whether the
    /// token, where one is needed, is given (a search is made with it).
    pub async fn missing_capabilities(&self) -> Result<Vec<String>, MisError> {
        let statement = ok_body(self.get("metadata").await?, "CapabilityStatement")?;
        let declared: Vec<El<'_>> = statement
            .all("rest")
            .flat_map(|r| r.all("resource"))
            .collect();
        let mut missing = Vec::new();
        for (kind, interactions, params) in NEEDS {
            let Some(resource) = declared
                .iter()
                .find(|r| r.value_at(&["type"]) == Some(kind))
            else {
                missing.push((*kind).to_owned());
                continue;
            };
            for i in *interactions {
                if !resource
                    .all("interaction")
                    .any(|x| x.value_at(&["code"]) == Some(i))
                {
                    missing.push(format!("{kind} {i}"));
                }
            }
            for p in *params {
                if !resource
                    .all("searchParam")
                    .any(|x| x.value_at(&["name"]) == Some(p))
                {
                    missing.push(format!("{kind}?{p}"));
                }
            }
            if *kind == "Appointment" && resource.value_at(&["conditionalCreate"]) != Some("true") {
                missing.push("Appointment conditional create".into());
            }
        }
        // A search with the token: the token endpoint (or the static token) works.
        self.search("Schedule?active=true&_count=1").await?;
        Ok(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::error_of;
    use crate::tree::Element;

    #[test]
    fn query_values_are_encoded_and_references_end_in_their_id() {
        assert_eq!(enc("urn:oms|77 01+02"), "urn%3Aoms%7C77%2001%2B02");
        assert_eq!(id_of("PractitionerRole/pr-1"), "pr-1");
        assert_eq!(id_of("pr-1"), "pr-1");
    }

    #[test]
    fn an_error_answer_is_the_port_s_error() {
        let outcome = |code: &str| {
            Some(
                Element::branch(
                    "OperationOutcome",
                    vec![Element::branch("issue", vec![Element::leaf("code", code)])],
                )
                .to_node(),
            )
        };
        let answer = |status, body| crate::client::Answer {
            status,
            etag: None,
            location: None,
            body,
        };
        assert!(matches!(
            error_of(&answer(412, outcome("processing"))),
            MisError::SlotTaken
        ));
        assert!(matches!(
            error_of(&answer(401, None)),
            MisError::AccessDenied
        ));
        assert!(matches!(
            error_of(&answer(503, None)),
            MisError::Unavailable(_)
        ));
        assert!(matches!(
            error_of(&answer(400, outcome("invalid"))),
            MisError::BadResponse(_)
        ));
        assert!(matches!(
            error_of(&answer(404, None)),
            MisError::NoSuchTicket
        ));
    }
}
