//! The patient's mobile phone, added to `Patient.telecom`: a JSON Patch (RFC 6902) under
//! `If-Match` rather than the whole `Patient` written back, which would need every member the
//! server holds kept as it was. A server that takes no `PATCH` (`405`, `415`, `501`) is
//! `NotSupported`: the clinic does not take phones this way, and the patient is told so.

use crate::booking::{TRIES, fhir_id, ok, version_of};
use crate::client::{FhirClient, error_of, ok_body, unsupported};
use crate::tree::Node;
use mis::{MisError, PatientId, PhoneNumber};

/// Whether `patient` lists `phone` already.
fn holds(patient: &Node, phone: &str) -> bool {
    patient
        .all("telecom")
        .any(|t| t.value_at(&["system"]) == Some("phone") && t.value_at(&["value"]) == Some(phone))
}

/// The patch that adds `phone` as a mobile number to a `Patient` whose `telecom` is `empty`
/// or not.
fn patch(phone: &str, empty: bool) -> String {
    let entry = serde_json::json!({ "system": "phone", "value": phone, "use": "mobile" });
    let op = if empty {
        serde_json::json!({ "op": "add", "path": "/telecom", "value": [entry] })
    } else {
        serde_json::json!({ "op": "add", "path": "/telecom/-", "value": entry })
    };
    serde_json::Value::Array(vec![op]).to_string()
}

/// Adds `phone` to the card of `patient`. What the server holds is read first (a number
/// already there is done); a stale version or a lost answer is read again, at most
/// [`TRIES`] times, and a lost answer never read back is `OutcomeUnknown`.
pub(crate) async fn update_phone(
    c: &FhirClient,
    patient: &PatientId,
    phone: &PhoneNumber,
) -> Result<(), MisError> {
    let path = format!("Patient/{}", fhir_id(patient.as_str())?);
    let phone = phone.e164();
    let mut lost = None;
    for _ in 0..TRIES {
        let read = match c.get(&path).await {
            Ok(read) => read,
            Err(e) => return Err(lost.unwrap_or(e)),
        };
        let etag = read.etag.clone();
        let current = match ok_body(read, "Patient") {
            Ok(current) => current,
            Err(e) => return Err(lost.unwrap_or(e)),
        };
        if holds(&current, phone) {
            return Ok(());
        }
        let version = etag
            .or_else(|| version_of(&current))
            .ok_or_else(|| MisError::BadResponse("a Patient without a version".into()))?;
        let empty = current.all("telecom").next().is_none();
        match c
            .patch(&path, &[("If-Match", version)], patch(phone, empty))
            .await
        {
            Ok(a) if ok(a.status) => return Ok(()),
            Ok(a) if matches!(a.status, 409 | 412) => {}
            Ok(a) if matches!(a.status, 405 | 415 | 501) => {
                return Err(unsupported("writing the patient's phone (PATCH)"));
            }
            Ok(a) => return Err(error_of(&a)),
            Err(e @ MisError::OutcomeUnknown(_)) => lost = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(lost.unwrap_or_else(|| MisError::Unavailable("the Patient kept changing".into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_patch_adds_one_mobile_number() {
        let first: serde_json::Value =
            serde_json::from_str(&patch("+79161234567", true)).expect("json");
        assert_eq!(first[0]["path"], "/telecom");
        assert_eq!(first[0]["value"][0]["use"], "mobile");
        let next: serde_json::Value =
            serde_json::from_str(&patch("+79161234567", false)).expect("json");
        assert_eq!(next[0]["path"], "/telecom/-");
        assert_eq!(next[0]["value"]["value"], "+79161234567");
    }
}
