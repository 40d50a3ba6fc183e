//! Booking and cancelling on FHIR. A booking is three writes, never trusted to a transaction
//! Bundle: the `Appointment`, made `pending` by a conditional create (`If-None-Exist` on an
//! identifier of the slot and the patient, so that a retry after a lost answer finds it instead
//! of making a second), then the `Slot` marked busy, guarded by the version read before
//! (`If-Match`: a `412` means someone changed it), then the appointment `booked`. A lost answer
//! at any step is read back and the step sent again; when the slot is someone else's, the
//! appointment is undone (cancelled). So a booked appointment always has its slot held.
//! Cancelling sets the appointment `cancelled` and frees the slot.

use crate::client::{FhirClient, enc, error_of, ok_body};
use crate::tree::{Element, Node};
use mis::{AppointmentId, MisError, PatientId};

pub(crate) fn version_of(node: &Node) -> Option<String> {
    node.value_at(&["meta", "versionId"])
        .map(|v| format!("W/\"{v}\""))
}

fn reference(to: &str, display: Option<&str>) -> Element {
    let mut children = vec![Element::leaf("reference", to)];
    if let Some(display) = display {
        children.push(Element::leaf("display", display));
    }
    Element::branch("actor", children)
}

/// The doctor of a slot: the role its schedule is for (its reference, name and specialty).
async fn doctor_of(c: &FhirClient, slot: &Node) -> Result<Option<Node>, MisError> {
    let Some(schedule) = slot.value_at(&["schedule", "reference"]) else {
        return Ok(None);
    };
    let schedule = ok_body(c.get(schedule).await?, "Schedule")?;
    let Some(role) = schedule
        .all("actor")
        .filter_map(|a| a.value_at(&["reference"]))
        .find(|r| r.starts_with("PractitionerRole/"))
    else {
        return Ok(None);
    };
    Ok(Some(ok_body(c.get(role).await?, "PractitionerRole")?))
}

/// The appointment of `patient` for `slot`, in the specification's element order.
fn appointment(
    c: &FhirClient,
    key: &str,
    slot: &Node,
    patient: &PatientId,
    role: Option<&Node>,
) -> Element {
    let mut children = vec![Element::branch(
        "identifier",
        vec![
            Element::leaf("system", &c.config.booking_system),
            Element::leaf("value", key),
        ],
    )];
    children.push(Element::leaf("status", "pending"));
    if let Some(specialty) = role.and_then(|r| r.get("specialty")) {
        children.push(specialty.to_element());
    }
    for time in ["start", "end"] {
        if let Some(t) = slot.value_at(&[time]) {
            children.push(Element::leaf(time, t));
        }
    }
    let slot_id = slot.value_at(&["id"]).unwrap_or_default();
    children.push(Element::branch(
        "slot",
        vec![Element::leaf("reference", &format!("Slot/{slot_id}"))],
    ));
    children.push(Element::leaf(
        "created",
        &chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    ));
    let participant = |actor: Element| {
        Element::branch(
            "participant",
            vec![actor, Element::leaf("status", "accepted")],
        )
    };
    children.push(participant(reference(
        &format!("Patient/{}", patient.as_str()),
        None,
    )));
    if let Some(role) = role
        && let Some(id) = role.value_at(&["id"])
    {
        let name = role.value_at(&["practitioner", "display"]);
        children.push(participant(reference(
            &format!("PractitionerRole/{id}"),
            name,
        )));
    }
    Element::branch("Appointment", children)
}

/// How many times a write whose answer was lost (or whose version was stale) is sent again,
/// each time after reading what the server holds.
pub const TRIES: usize = 3;

pub(crate) fn ok(status: u16) -> bool {
    (200..300).contains(&status)
}

/// A resource id as FHIR defines one (`[A-Za-z0-9\-\.]{1,64}`): nothing else goes into a path.
pub(crate) fn fhir_id(id: &str) -> Result<&str, MisError> {
    let valid = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if valid {
        Ok(id)
    } else {
        Err(MisError::BadResponse("an invalid resource id".into()))
    }
}

/// What setting a resource's status came to.
enum Set {
    /// The resource has the status (set now, or found so).
    Done,
    /// The resource was found in another status, neither the one it was to leave nor the new.
    Other,
}

/// Sets the `status` of `current` (a `kind`) from one of `from` to `to`, under `If-Match`. A
/// lost answer or a stale version is read again and the write sent again while the status is
/// still one of `from`, at most [`TRIES`] times; a lost answer never read back is
/// `OutcomeUnknown`.
async fn set_status(
    c: &FhirClient,
    kind: &str,
    mut current: Node,
    from: &[&str],
    to: &str,
) -> Result<Set, MisError> {
    let path = format!(
        "{kind}/{}",
        fhir_id(current.value_at(&["id"]).unwrap_or_default())?
    );
    let mut lost = None;
    for _ in 0..TRIES {
        match current.value_at(&["status"]) {
            Some(s) if s == to => return Ok(Set::Done),
            Some(s) if from.contains(&s) => {}
            _ => return Ok(Set::Other),
        }
        let version = version_of(&current)
            .ok_or_else(|| MisError::BadResponse(format!("a {kind} without a version")))?;
        let mut changed = current.to_element();
        changed.set("status", to);
        match c
            .write(
                reqwest::Method::PUT,
                &path,
                &[("If-Match", version)],
                changed.to_xml(),
            )
            .await
        {
            Ok(a) if ok(a.status) => return Ok(Set::Done),
            Ok(a) if matches!(a.status, 409 | 412) => {}
            Ok(a) => return Err(error_of(&a)),
            Err(e @ MisError::OutcomeUnknown(_)) => lost = Some(e),
            Err(e) => return Err(e),
        }
        let read = c.get(&path).await;
        current = match read.and_then(|r| ok_body(r, kind)) {
            Ok(read) => read,
            Err(e) => return Err(lost.unwrap_or(e)),
        };
    }
    Err(lost.unwrap_or_else(|| MisError::Unavailable(format!("the {kind} kept changing"))))
}

/// Cancels an appointment this booking made, its slot being someone else's or never held.
async fn undo(c: &FhirClient, made: &Node) {
    let undone = set_status(
        c,
        "Appointment",
        made.clone(),
        &["pending", "booked"],
        "cancelled",
    )
    .await;
    if !matches!(undone, Ok(Set::Done)) {
        tracing::error!(
            "an appointment whose slot was not held could not be cancelled; the clinic must cancel it"
        );
    }
}

/// The slot and its version (`If-Match`); one that is gone is taken.
async fn read_slot(c: &FhirClient, id: &str) -> Result<(Node, String), MisError> {
    let read = c.get(&format!("Slot/{}", fhir_id(id)?)).await?;
    if read.status == 404 || read.status == 410 {
        return Err(MisError::SlotTaken);
    }
    let version = read.etag.clone();
    let slot = ok_body(read, "Slot")?;
    let version = version
        .or_else(|| version_of(&slot))
        .ok_or_else(|| MisError::BadResponse("a slot without a version".into()))?;
    Ok((slot, version))
}

/// The search for this booking's appointment, pending or booked: made by an earlier try of
/// it, or by this one.
fn criteria(c: &FhirClient, key: &str) -> String {
    format!(
        "identifier={}&status=pending,booked",
        enc(&format!("{}|{key}", c.config.booking_system))
    )
}

/// The appointment, made `pending` by a conditional create (safe to send again after a lost
/// answer: a second finds the first); an earlier try's, where there is one.
async fn create(c: &FhirClient, key: &str, body: String) -> Result<Node, MisError> {
    let mut lost = None;
    for _ in 0..TRIES {
        match c
            .write(
                reqwest::Method::POST,
                "Appointment",
                &[("If-None-Exist", criteria(c, key))],
                body.clone(),
            )
            .await
        {
            Ok(a) if ok(a.status) => return created(c, key, a).await,
            Ok(a) => return Err(error_of(&a)),
            Err(e @ MisError::OutcomeUnknown(_)) => lost = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(lost.unwrap_or_else(|| MisError::Unavailable("no answer".into())))
}

/// The appointment a create (or its match: `200` to a conditional create that found one)
/// answered: its body, or where a server answers without one (R4 lets it), the resource read
/// at its `Location`, else found by this booking's identifier.
async fn created(
    c: &FhirClient,
    key: &str,
    answer: crate::client::Answer,
) -> Result<Node, MisError> {
    if answer.body.is_some() {
        return ok_body(answer, "Appointment");
    }
    if let Some(location) = &answer.location {
        // `Appointment/<id>/_history/<version>`, relative or under the base URL.
        let path = location.split("/_history/").next().unwrap_or(location);
        return ok_body(c.get(path).await?, "Appointment");
    }
    c.search(&format!("Appointment?{}", criteria(c, key)))
        .await?
        .pop()
        .ok_or_else(|| MisError::BadResponse("a create answered without its resource".into()))
}

/// Whether `ours` is the only appointment (pending or booked) of the slot: then a busy slot
/// is ours (an earlier try's write whose answer was lost); else someone else's.
async fn alone(c: &FhirClient, slot_id: &str, ours: &Node) -> Result<bool, MisError> {
    let our_id = ours.value_at(&["id"]);
    let holders = c
        .search(&format!(
            "Appointment?slot=Slot/{}&status=pending,booked",
            enc(slot_id)
        ))
        .await?;
    Ok(holders.iter().all(|a| a.value_at(&["id"]) == our_id))
}

/// Marks the slot busy for `ours`, under `If-Match`. A lost answer or a stale version is read
/// again: a free slot is tried again; a busy one is ours only where no other appointment
/// holds it (else ours is undone: `SlotTaken`). A slot still free after every try is left
/// free and ours undone; only where the slot cannot be read at all is ours left pending (a
/// retry of the booking goes on from there).
async fn hold(
    c: &FhirClient,
    ours: &Node,
    mut slot: Node,
    mut version: String,
) -> Result<(), MisError> {
    let id = fhir_id(slot.value_at(&["id"]).unwrap_or_default())?.to_owned();
    let mut lost = None;
    for tried in 0..=TRIES {
        if slot.value_at(&["status"]) != Some("free") {
            if alone(c, &id, ours).await? {
                return Ok(());
            }
            undo(c, ours).await;
            return Err(MisError::SlotTaken);
        }
        if tried == TRIES {
            break;
        }
        let mut busy = slot.to_element();
        busy.set("status", "busy");
        match c
            .write(
                reqwest::Method::PUT,
                &format!("Slot/{id}"),
                &[("If-Match", version.clone())],
                busy.to_xml(),
            )
            .await
        {
            Ok(a) if ok(a.status) => return Ok(()),
            Ok(a) if matches!(a.status, 409 | 412) => {}
            Ok(a) => {
                undo(c, ours).await;
                return Err(error_of(&a));
            }
            Err(e @ MisError::OutcomeUnknown(_)) => lost = Some(e),
            Err(e) => {
                undo(c, ours).await;
                return Err(e);
            }
        }
        match read_slot(c, &id).await {
            Ok((read, v)) => (slot, version) = (read, v),
            Err(MisError::SlotTaken) => {
                undo(c, ours).await;
                return Err(MisError::SlotTaken);
            }
            Err(e) => return Err(lost.unwrap_or(e)),
        }
    }
    undo(c, ours).await;
    Err(MisError::Unavailable(
        if lost.is_some() {
            "the slot's update went unanswered"
        } else {
            "the slot kept changing"
        }
        .into(),
    ))
}

/// Marks `ours` booked, its slot held.
async fn confirm(c: &FhirClient, ours: Node) -> Result<(), MisError> {
    match set_status(c, "Appointment", ours, &["pending"], "booked").await? {
        Set::Done => Ok(()),
        // Cancelled (or otherwise ended) meanwhile, by the clinic.
        Set::Other => Err(MisError::SlotTaken),
    }
}

/// Books `slot` for `patient`, in three writes, none trusted to a transaction: the
/// appointment made `pending` (a conditional create), the slot marked busy (`If-Match`), the
/// appointment `booked`. Only a booked appointment is a visit of the patient's history, and
/// one is booked only once its slot is held; a try that stops halfway is taken up by the next
/// try of the same booking (the same slot and patient).
pub async fn book(
    c: &FhirClient,
    patient: &PatientId,
    slot_id: &AppointmentId,
) -> Result<(), MisError> {
    let (slot, version) = read_slot(c, slot_id.as_str()).await?;
    let key = format!("{}.{}", slot_id.as_str(), patient.as_str());
    let ours = if slot.value_at(&["status"]) == Some("free") {
        let role = doctor_of(c, &slot).await?;
        let body = appointment(c, &key, &slot, patient, role.as_ref()).to_xml();
        create(c, &key, body).await?
    } else {
        // Taken: by an earlier try of this very booking?
        let mut ours = c
            .search(&format!("Appointment?{}", criteria(c, &key)))
            .await?;
        match ours.pop() {
            Some(ours) => ours,
            None => return Err(MisError::SlotTaken),
        }
    };
    hold(c, &ours, slot, version).await?;
    confirm(c, ours).await
}

/// Cancels the patient's appointment of `slot`, and frees the slot (where the server did not).
/// Each write's lost answer is read back and the write sent again.
pub async fn cancel(
    c: &FhirClient,
    patient: &PatientId,
    slot_id: &AppointmentId,
) -> Result<(), MisError> {
    let wanted = format!("Slot/{}", slot_id.as_str());
    let booked = c
        .search(&format!(
            "Appointment?patient=Patient/{}&status=booked",
            enc(patient.as_str())
        ))
        .await?;
    let Some(appointment) = booked
        .into_iter()
        .find(|a| a.value_at(&["slot", "reference"]) == Some(wanted.as_str()))
    else {
        return Err(MisError::NoSuchTicket);
    };
    match set_status(c, "Appointment", appointment, &["booked"], "cancelled").await? {
        Set::Done => {}
        Set::Other => return Err(MisError::NoSuchTicket),
    }
    // The appointment is cancelled: that is the answer. Freeing its slot is the server's job
    // where it does it, else ours, and a failure there only costs the clinic the slot.
    let freed = match read_slot(c, slot_id.as_str()).await {
        Ok((slot, _)) => set_status(c, "Slot", slot, &["busy"], "free").await,
        Err(MisError::SlotTaken) => Ok(Set::Other),
        Err(e) => Err(e),
    };
    if freed.is_err() {
        tracing::warn!("a cancelled appointment's slot could not be freed");
    }
    Ok(())
}
