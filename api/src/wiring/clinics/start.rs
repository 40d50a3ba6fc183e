//! Making each clinic: its МИС's client (the hub's, the sandbox's, or a FHIR server's) behind a
//! guard of its own, under the gateway's bound on calls in flight.

use crate::config::{self, Config};
use crate::startup::StartError;
use crate::wiring::shell::start::queued;
use gateway_domain::ClinicEntry;
use gateway_domain::admission::Admission;
use gateway_domain::guard::{CACHE_BYTES, Caches, GuardConfig, GuardedMis};
use gateway_domain::shared::Shared;
use gateway_state::keep::Moka;
use mis::{LpuId, Mis};
use mis_hub::{HubClient, HubConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// A clinic's configuration and the client of its МИС.
pub type ClinicClient = (config::ClinicConfig, Arc<dyn Mis>);

/// The hub endpoint configured, or the sandbox's where none is.
pub(crate) fn endpoint_of(
    configured: Option<&String>,
    sandbox: Option<SocketAddr>,
) -> Option<String> {
    configured
        .cloned()
        .or_else(|| sandbox.map(|addr| format!("http://{addr}/HubService.svc")))
}

/// A client of a FHIR clinic's server.
pub fn fhir_client(c: &config::ClinicConfig) -> Result<mis_fhir::FhirClient, StartError> {
    let m = &c.mis;
    let auth = match (&m.token, &m.token_url, &m.client_id, &m.client_secret) {
        (Some(token), ..) => mis_fhir::Auth::Bearer(token.clone()),
        (None, Some(token_url), Some(client_id), Some(client_secret)) => {
            mis_fhir::Auth::ClientCredentials {
                token_url: token_url.clone(),
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
                scope: m.scope.clone(),
            }
        }
        _ => mis_fhir::Auth::None,
    };
    let timezone = c
        .timezone
        .parse()
        .map_err(|_| StartError::Config(format!("bad zone of {:?}", c.id)))?;
    let base_url = m.base_url.clone().unwrap_or_default();
    tracing::info!(clinic = %c.id, %base_url, "clinic served (FHIR)");
    Ok(mis_fhir::FhirClient::new(mis_fhir::FhirConfig {
        base_url: base_url.trim_end_matches('/').to_owned(),
        auth,
        connect_timeout: Duration::from_millis(m.connect_timeout_ms),
        timeout: Duration::from_millis(m.attempt_timeout_ms),
        max_response_bytes: m.max_response_bytes,
        policy_system: m.policy_system.clone().unwrap_or_default(),
        document_system: m.document_system.clone().unwrap_or_default(),
        booking_system: m.booking_system.clone(),
        timezone,
        clinic_name: c.name.clone(),
        lpu: LpuId::new(m.id_lpu),
    })?)
}

/// Each clinic served, with a client of its МИС: the hub's (the sandbox at `sandbox` for
/// those without an endpoint) or a FHIR server's.
pub fn clinic_clients(
    config: &Config,
    sandbox: Option<SocketAddr>,
) -> Result<Vec<ClinicClient>, StartError> {
    config
        .effective_clinics()
        .into_iter()
        .map(|c| {
            if c.mis.protocol == config::Protocol::Fhir {
                let client = fhir_client(&c)?;
                return Ok((c, Arc::new(client) as Arc<dyn Mis>));
            }
            let endpoint = endpoint_of(c.mis.endpoint.as_ref(), sandbox).ok_or_else(|| {
                StartError::Config(format!("clinic {:?} has no МИС endpoint", c.id))
            })?;
            tracing::info!(clinic = %c.id, %endpoint, "clinic served");
            let hub = HubClient::new(HubConfig {
                endpoint,
                guid: c.mis.guid.clone(),
                connect_timeout: Duration::from_millis(c.mis.connect_timeout_ms),
                timeout: Duration::from_millis(c.mis.attempt_timeout_ms),
                max_response_bytes: c.mis.max_response_bytes,
                waiting_list_source: c.mis.waiting_list_source,
            })?;
            Ok((c, Arc::new(hub) as Arc<dyn Mis>))
        })
        .collect()
}

/// Each clinic of `config`, its МИС behind a guard that shares what `shared` shares; and the
/// places among the МИС calls in flight all clinics share.
pub(crate) fn clinic_entries(
    config: &Config,
    shared: &Shared,
    sandbox: Option<SocketAddr>,
) -> Result<(Vec<ClinicEntry>, Arc<Admission>), StartError> {
    let mut clinics = Vec::new();
    let clients = clinic_clients(config, sandbox)?;
    let wait = Duration::from_millis(config.server.queue_wait_ms);
    let queued = |in_flight: usize| queued(config, in_flight);
    let total = config.server.max_in_flight.unwrap_or_else(|| {
        let clinics: usize = clients.iter().map(|(c, _)| c.mis.max_in_flight).sum();
        let regions: usize = config
            .effective_regions()
            .iter()
            .map(|r| r.region_max_in_flight)
            .sum();
        clinics + regions
    });
    let all = Arc::new(Admission::new("all", total, queued(total), wait));
    for (c, hub) in clients {
        let tz = c
            .timezone
            .parse()
            .map_err(|_| StartError::Config(format!("bad zone of {:?}", c.id)))?;
        let guard = GuardConfig {
            read_retries: c.mis.read_retries,
            deadline: Duration::from_millis(c.mis.deadline_ms),
            breaker_threshold: c.mis.breaker_threshold.max(1),
            probe_interval: Duration::from_millis(c.mis.probe_interval_ms.max(10)),
            directory_ttl: Duration::from_secs(config.cache.directory_ttl_secs),
            schedule_ttl: Duration::from_secs(config.cache.schedule_ttl_secs),
            clinic: c.id.clone(),
            admission: Arc::new(Admission::new(
                &c.id,
                c.mis.max_in_flight,
                queued(c.mis.max_in_flight),
                wait,
            )),
            all: all.clone(),
            ..GuardConfig::default()
        };
        clinics.push(ClinicEntry {
            info: gateway_domain::views::Clinic {
                id: c.id,
                name: c.name,
                address: c.address,
                timezone: c.timezone,
            },
            lpu: LpuId::new(c.mis.id_lpu),
            tz,
            mis: Arc::new(GuardedMis::new(
                hub,
                guard.clone(),
                Caches::of(&Moka, &guard, shared, CACHE_BYTES),
                shared,
            )),
        });
    }
    Ok((clinics, all))
}
