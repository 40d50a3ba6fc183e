//! Booking and cancelling on FHIR. A booking is two writes, never trusted to a transaction
//! Bundle: the `Appointment`, made by a conditional create (`If-None-Exist` on an identifier
//! of the slot and the patient, so that a retry after a lost answer finds it instead of making
//! a second), then the `Slot` marked busy, guarded by the version read before (`If-Match`: a
//! `412` means someone else took it). When the second step fails, the first is undone (the
//! appointment cancelled). Cancelling sets the appointment `cancelled` and frees the slot.

use crate::client::{FhirClient, error_of, ok_body};
use crate::tree::{Element, Node};
use mis::{AppointmentId, MisError, PatientId};

fn version_of(node: &Node) -> Option<String> {
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
    children.push(Element::leaf("status", "booked"));
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

/// Cancels an appointment this booking made, its slot having been taken meanwhile.
async fn undo(c: &FhirClient, made: Node) {
    let (Some(id), Some(version)) = (made.value_at(&["id"]).map(str::to_owned), version_of(&made))
    else {
        return;
    };
    let mut made = made.to_element();
    made.set("status", "cancelled");
    let done = c
        .write(
            reqwest::Method::PUT,
            &format!("Appointment/{id}"),
            &[("If-Match", version)],
            made.to_xml(),
        )
        .await;
    if !matches!(&done, Ok(a) if (200..300).contains(&a.status)) {
        tracing::error!(
            "an appointment whose slot was taken could not be cancelled; the clinic must cancel it"
        );
    }
}

/// Books `slot` for `patient`.
pub async fn book(
    c: &FhirClient,
    patient: &PatientId,
    slot_id: &AppointmentId,
) -> Result<(), MisError> {
    let read = c.get(&format!("Slot/{}", slot_id.as_str())).await?;
    if read.status == 404 || read.status == 410 {
        return Err(MisError::SlotTaken);
    }
    let version = read.etag.clone();
    let slot = ok_body(read, "Slot")?;
    let version = version
        .or_else(|| version_of(&slot))
        .ok_or_else(|| MisError::BadResponse("a slot without a version".into()))?;
    let key = format!("{}.{}", slot_id.as_str(), patient.as_str());
    let criteria = format!(
        "identifier={}&status=booked",
        crate::adapter::enc(&format!("{}|{key}", c.config.booking_system))
    );
    if slot.value_at(&["status"]) != Some("free") {
        // Taken: by this very booking, whose answer was lost and which is tried again?
        let ours = c.search(&format!("Appointment?{criteria}")).await?;
        return if ours.is_empty() {
            Err(MisError::SlotTaken)
        } else {
            Ok(())
        };
    }
    let role = doctor_of(c, &slot).await?;
    let body = appointment(c, &key, &slot, patient, role.as_ref()).to_xml();
    let created = c
        .write(
            reqwest::Method::POST,
            "Appointment",
            &[("If-None-Exist", criteria)],
            body,
        )
        .await?;
    if !(200..300).contains(&created.status) {
        return Err(error_of(&created));
    }
    // 201: made now; 200: made by an earlier try of this booking.
    let fresh = created.status == 201;
    let made = ok_body(created, "Appointment")?;
    let id = slot.value_at(&["id"]).unwrap_or_default().to_owned();
    let mut slot = slot.to_element();
    slot.set("status", "busy");
    match c
        .write(
            reqwest::Method::PUT,
            &format!("Slot/{id}"),
            &[("If-Match", version)],
            slot.to_xml(),
        )
        .await
    {
        Ok(a) if (200..300).contains(&a.status) => Ok(()),
        Ok(a) => {
            if fresh {
                undo(c, made).await;
            }
            Err(match a.status {
                409 | 412 => MisError::SlotTaken,
                _ => error_of(&a),
            })
        }
        Err(e @ MisError::OutcomeUnknown(_)) => Err(e),
        Err(e) => {
            if fresh {
                undo(c, made).await;
            }
            Err(e)
        }
    }
}

/// Cancels the patient's appointment of `slot`, and frees the slot.
pub async fn cancel(
    c: &FhirClient,
    patient: &PatientId,
    slot_id: &AppointmentId,
) -> Result<(), MisError> {
    let wanted = format!("Slot/{}", slot_id.as_str());
    let booked = c
        .search(&format!(
            "Appointment?patient=Patient/{}&status=booked",
            crate::adapter::enc(patient.as_str())
        ))
        .await?;
    let Some(appointment) = booked
        .into_iter()
        .find(|a| a.value_at(&["slot", "reference"]) == Some(wanted.as_str()))
    else {
        return Err(MisError::NoSuchTicket);
    };
    let id = appointment.value_at(&["id"]).unwrap_or_default().to_owned();
    let version = version_of(&appointment)
        .ok_or_else(|| MisError::BadResponse("an appointment without a version".into()))?;
    let mut appointment = appointment.to_element();
    appointment.set("status", "cancelled");
    let done = c
        .write(
            reqwest::Method::PUT,
            &format!("Appointment/{id}"),
            &[("If-Match", version)],
            appointment.to_xml(),
        )
        .await?;
    if !(200..300).contains(&done.status) {
        return Err(match done.status {
            409 | 412 => {
                MisError::Unavailable("the appointment changed meanwhile; try again".into())
            }
            _ => error_of(&done),
        });
    }
    // The slot freed (where the server did not free it itself).
    let read = c.get(&wanted).await?;
    let version = read.etag.clone();
    let slot = ok_body(read, "Slot")?;
    if slot.value_at(&["status"]) == Some("busy")
        && let Some(version) = version.or_else(|| version_of(&slot))
    {
        let mut slot = slot.to_element();
        slot.set("status", "free");
        let freed = c
            .write(
                reqwest::Method::PUT,
                &wanted,
                &[("If-Match", version)],
                slot.to_xml(),
            )
            .await;
        if !matches!(&freed, Ok(a) if (200..300).contains(&a.status)) {
            tracing::warn!("a cancelled appointment's slot could not be freed");
        }
    }
    Ok(())
}
