//! One identification for a whole region. The patient's document, policy and birth date are
//! checked and sealed into the token ([`super::seal`]); the gateway keeps under the token's
//! digest only that the session exists and until when (so that it can be ended). The hub's
//! patient id is per clinic, so in each clinic the patient is found when first needed
//! (`CheckPatient` with the identity opened from the token) and that clinic's id of them is
//! kept under the digest of the token and the clinic: neither memory nor Redis ever holds the
//! identity.

use super::RegionClinics;
use super::seal::{self, Sealed};
use crate::clinic::ClinicEntry;
use crate::failure::Failure;
use crate::gateway::Gateway;
use crate::identify::identity_of;
use crate::sessions::Session;
use crate::sessions::TypedIdentity;
use chrono::Utc;
use mis::{Mis, PatientId};
use vocabulary::ErrorCode;

/// What a region's own session record names instead of a clinic.
fn scope(region: &str) -> String {
    format!("region:{region}")
}

/// The key a clinic's session of a region token is kept under.
fn clinic_token(token: &str, clinic: &str) -> String {
    format!("{token}\n{clinic}")
}

fn unknown() -> Failure {
    Failure::new(ErrorCode::SessionRequired).detail("The session is unknown or has expired.")
}

/// Identifies the patient for `region`: the three fields are checked (`invalid_input` naming
/// each that cannot be accepted) and sealed into the token. No clinic is asked yet: the
/// patient is found in a clinic when first needed (`patient_not_found` there if they have no
/// card in it), and [`super::across::mine`] finds the clinics they are attached to.
pub async fn open(
    gateway: &Gateway,
    region: &RegionClinics,
    new: &TypedIdentity,
) -> Result<(String, Session), Failure> {
    let started = std::time::Instant::now();
    let today = Utc::now().with_timezone(&region.tz).date_naive();
    if let Err(e) = identity_of(new, today) {
        if e.code == ErrorCode::PatientNotFound {
            // As long as any identification that asks a clinic.
            tokio::time::sleep(gateway.identify_min.saturating_sub(started.elapsed())).await;
        }
        crate::metrics::identification(region.id(), e.code.as_str());
        return Err(e);
    }
    let key = gateway
        .session_key
        .as_ref()
        .ok_or_else(|| Failure::internal("the gateway has no session key"))?;
    let session = Session::new(
        &scope(region.id()),
        PatientId::parse("region").map_err(Failure::internal)?,
        gateway.session_ttl,
    );
    let token = seal::seal(key, region.id(), &Sealed::new(new, session.expires_at))
        .ok_or_else(|| Failure::internal("the system's random generator failed"))?;
    gateway.shared.sessions.put(&token, &session).await?;
    crate::metrics::identification(region.id(), "sealed");
    tracing::info!(region = %region.id(), "region session opened");
    Ok((token, session))
}

/// The session a request's bearer `token` gives in `clinic`: a region's sealed token in one of
/// the region's clinics ([`in_clinic`]), or a clinic's own token ([`Gateway::session`]).
pub async fn of_request(
    gateway: &Gateway,
    token: Option<&str>,
    clinic: &ClinicEntry,
) -> Result<Session, Failure> {
    if let Some(token) = token.filter(|t| seal::is_sealed(t))
        && let Some(region) = gateway.region_of(clinic)
    {
        return in_clinic(gateway, region, token, clinic).await;
    }
    gateway.session(token, clinic).await
}

/// The region session of `token`, while it lasts (`session_required` otherwise).
pub async fn of_region(
    gateway: &Gateway,
    region: &RegionClinics,
    token: &str,
) -> Result<Session, Failure> {
    gateway
        .shared
        .sessions
        .get(token)
        .await?
        .filter(|s| s.clinic == scope(region.id()))
        .ok_or_else(unknown)
}

/// The session of a region's `token` in `clinic`: the patient as that clinic knows them, found
/// at its first use (`patient_not_found` when the clinic has no card of theirs).
pub async fn in_clinic(
    gateway: &Gateway,
    region: &RegionClinics,
    token: &str,
    clinic: &ClinicEntry,
) -> Result<Session, Failure> {
    let base = of_region(gateway, region, token).await?;
    find_in(gateway, region, token, &base, clinic).await
}

/// [`in_clinic`] for a region session already checked.
pub async fn find_in(
    gateway: &Gateway,
    region: &RegionClinics,
    token: &str,
    base: &Session,
    clinic: &ClinicEntry,
) -> Result<Session, Failure> {
    let here = clinic_token(token, &clinic.info.id);
    if let Some(session) = gateway
        .shared
        .sessions
        .get(&here)
        .await?
        .filter(|s| s.clinic == clinic.info.id)
    {
        return Ok(session);
    }
    if region.unknown_in(token, &clinic.info.id) {
        return Err(mis::MisError::PatientNotFound.into());
    }
    let key = gateway.session_key.as_ref().ok_or_else(unknown)?;
    let sealed = seal::open(key, region.id(), token).ok_or_else(unknown)?;
    let identity = identity_of(&sealed.identity(), clinic.today())?;
    let patient = match clinic.mis.find_patient(clinic.lpu, &identity).await {
        Ok(patient) => patient,
        Err(e @ mis::MisError::PatientNotFound) => {
            region.remember_unknown(token, &clinic.info.id);
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    let session = Session {
        clinic: clinic.info.id.clone(),
        patient,
        expires_at: base.expires_at,
    };
    gateway.shared.sessions.put(&here, &session).await?;
    tracing::info!(clinic = %clinic.info.id, "a region session's patient found in a clinic");
    Ok(session)
}
