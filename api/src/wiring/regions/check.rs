//! `registratura check` of each region: its hub gives the catalogue, and which of its active
//! clinics answer.

use crate::check::{Level, Report};
use crate::wiring::regions::start::region_hub;
use mis::Mis;
use std::io::Write;

/// A region: whether its hub gives the catalogue, how many clinics it lists, and which of
/// the active ones answer (their specialties, asked eight at a time).
pub(crate) async fn check_region<W: Write>(
    report: &mut Report<'_, W>,
    region: &crate::config::RegionConfig,
    sandbox: Option<std::net::SocketAddr>,
) {
    use futures_util::StreamExt;
    let what = format!("region {}", region.id);
    let hub = match region_hub(region, sandbox) {
        Ok(h) => std::sync::Arc::new(h),
        Err(e) => return report.line(Level::Fail, &what, &e.to_string(), &e.to_string()),
    };
    let catalogue = gateway_domain::region::Catalogue::new(&region.id, &region.name, hub.clone());
    if let Err(e) = catalogue.refresh().await {
        return report.line(
            Level::Fail,
            &what,
            &format!("концентратор региона не отдаёт справочник: {e}"),
            &format!("the region's hub gives no catalogue: {e}"),
        );
    }
    let snapshot = catalogue.snapshot().unwrap_or_default();
    let active: Vec<_> = snapshot.clinics.iter().filter(|c| c.active).collect();
    // A clinic is asked as the gateway asks it: within one attempt's time.
    let calls = crate::config::RegionConfig {
        timeout_ms: region.attempt_timeout_ms,
        ..region.clone()
    };
    let hub = match region_hub(&calls, sandbox) {
        Ok(h) => std::sync::Arc::new(h),
        Err(e) => return report.line(Level::Fail, &what, &e.to_string(), &e.to_string()),
    };
    report.line(
        Level::Ok,
        &what,
        &format!(
            "районов: {}, учреждений: {} (работают: {})",
            snapshot.districts.len(),
            snapshot.clinics.len(),
            active.len()
        ),
        &format!(
            "{} districts, {} clinics ({} active)",
            snapshot.districts.len(),
            snapshot.clinics.len(),
            active.len()
        ),
    );
    let mut silent: Vec<String> = futures_util::stream::iter(active)
        .map(|c| {
            let hub = hub.clone();
            async move {
                match Mis::specialties(&*hub, c.lpu).await {
                    Ok(_) => None,
                    Err(e) => Some(format!("{} ({e})", c.id)),
                }
            }
        })
        .buffer_unordered(8)
        .filter_map(std::future::ready)
        .collect()
        .await;
    silent.sort();
    if silent.is_empty() {
        report.line(
            Level::Ok,
            &what,
            "все работающие учреждения отвечают",
            "every active clinic answers",
        );
    } else {
        let shown = silent
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        report.line(
            Level::Warn,
            &what,
            &format!("не отвечают {}: {shown}", silent.len()),
            &format!("{} do not answer: {shown}", silent.len()),
        );
    }
}
