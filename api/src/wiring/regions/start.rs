//! Making each region: its hub's client, its catalogue (read at start and kept fresh), and its
//! clinics, each behind a guard made when first asked for, sharing the region's caches and
//! its bound on calls in flight.

use crate::config::{self, Config};
use crate::startup::StartError;
use crate::wiring::clinics::start::endpoint_of;
use crate::wiring::shell::start::queued;
use gateway_domain::admission::Admission;
use gateway_domain::guard::{Caches, GuardConfig, GuardedMis};
use gateway_domain::region::RegionClinics;
use gateway_domain::shared::Shared;
use gateway_state::keep::Moka;
use mis::Mis;
use mis_hub::{HubClient, HubConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// A client of `region`'s hub (the sandbox at `sandbox` when it names no endpoint).
pub fn region_hub(
    region: &config::RegionConfig,
    sandbox: Option<SocketAddr>,
) -> Result<HubClient, StartError> {
    let endpoint = endpoint_of(region.endpoint.as_ref(), sandbox)
        .ok_or_else(|| StartError::Config(format!("region {:?} has no hub endpoint", region.id)))?;
    Ok(HubClient::new(HubConfig {
        endpoint,
        guid: region.guid.clone(),
        connect_timeout: Duration::from_millis(region.connect_timeout_ms),
        timeout: Duration::from_millis(region.timeout_ms),
        max_response_bytes: region.max_response_bytes,
        waiting_list_source: 0,
    })?)
}

/// Each region's catalogue, of its hub. Not read yet: [`Application::build`] starts the
/// tasks that keep them fresh.
pub fn region_catalogues(
    config: &Config,
    sandbox: Option<SocketAddr>,
) -> Result<Vec<Arc<gateway_domain::region::Catalogue>>, StartError> {
    config
        .effective_regions()
        .iter()
        .map(|r| {
            let hub = region_hub(r, sandbox)?;
            tracing::info!(region = %r.id, endpoint = %hub.endpoint(), "region served");
            Ok(Arc::new(gateway_domain::region::Catalogue::new(
                &r.id,
                &r.name,
                Arc::new(hub),
            )))
        })
        .collect()
}

/// Each region of `config` with its clinics, each clinic's МИС (the hub, asked for it) behind
/// a guard of its own made at its first use, sharing `all` places with every clinic.
pub(crate) fn region_clinics(
    config: &Config,
    shared: &Shared,
    sandbox: Option<SocketAddr>,
    all: &Arc<Admission>,
) -> Result<Vec<Arc<RegionClinics>>, StartError> {
    let catalogues = region_catalogues(config, sandbox)?;
    let wait = Duration::from_millis(config.server.queue_wait_ms);
    catalogues
        .into_iter()
        .zip(config.effective_regions())
        .map(|(catalogue, r)| {
            let tz: chrono_tz::Tz = r
                .timezone
                .parse()
                .map_err(|_| StartError::Config(format!("bad zone of region {:?}", r.id)))?;
            let calls = Arc::new(region_hub(
                &config::RegionConfig {
                    timeout_ms: r.attempt_timeout_ms,
                    ..r.clone()
                },
                sandbox,
            )?);
            let across = Duration::from_millis(r.across_deadline_ms);
            let directory_ttl = Duration::from_secs(config.cache.directory_ttl_secs);
            let schedule_ttl = Duration::from_secs(config.cache.schedule_ttl_secs);
            let mis = calls.clone() as Arc<dyn Mis>;
            let template = GuardConfig {
                read_retries: r.read_retries,
                deadline: Duration::from_millis(r.deadline_ms),
                breaker_threshold: r.breaker_threshold.max(1),
                probe_interval: Duration::from_millis(r.probe_interval_ms.max(10)),
                directory_ttl,
                schedule_ttl,
                // Each clinic's own bound; their refusals count under the region's name.
                admission: Arc::new(Admission::unbounded("")),
                region: Some(Arc::new(Admission::new(
                    &r.id,
                    r.region_max_in_flight,
                    queued(config, r.region_max_in_flight),
                    wait,
                ))),
                all: all.clone(),
                label: r.id.clone(),
                watch_outages: false,
                ..GuardConfig::default()
            };
            let caches = Caches::of(
                &Moka,
                &template,
                shared,
                r.cache_mib.saturating_mul(1024 * 1024),
            );
            let (shared, clinics_name) = (shared.clone(), format!("{}:clinics", r.id));
            let (in_flight, queue) = (r.max_in_flight, queued(config, r.max_in_flight));
            let make = move |c: &gateway_domain::region::CatalogueClinic| {
                let guard = GuardConfig {
                    clinic: c.id.clone(),
                    admission: Arc::new(Admission::ungauged(&clinics_name, in_flight, queue, wait)),
                    ..template.clone()
                };
                GuardedMis::new(mis.clone(), guard, caches.clone(), &shared)
            };
            let mut clinics =
                RegionClinics::new(catalogue, calls, tz, across, Box::new(make), &Moka);
            clinics.max_calls = r.across_max_calls;
            Ok(Arc::new(clinics))
        })
        .collect()
}
