//! Region mode's catalogue: every district and clinic of a region, read from its hub
//! (`GetDistrictList`, `GetLPUList` per district, `GetLPUInfo`), refreshed in the background
//! and kept as it was when the hub does not answer. Bounded: at most [`MAX_DISTRICTS`]
//! districts and [`MAX_CLINICS`] clinics are kept (the rest is dropped, and logged).

pub mod across;
pub mod clinics;
pub mod seal;
pub mod session;

pub use clinics::RegionClinics;

use futures_util::StreamExt;
use mis::{ClinicCard, District, LpuId, MisError, Region};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// The most districts a region's catalogue keeps.
pub const MAX_DISTRICTS: usize = 500;
/// The most clinics a region's catalogue keeps.
pub const MAX_CLINICS: usize = 10_000;

/// How soon a failed read is tried again (then twice as long each time).
const FIRST_RETRY: Duration = Duration::from_secs(5);

/// How many clinics' cards are asked at once when they are asked one by one.
pub const CARDS_AT_ONCE: usize = 4;
/// Cards asked one by one are given up after this many failures in a row (a hub that
/// answers no `GetLPUInfo` at all is not asked 10 000 times an hour).
pub const CARD_FAILURES: usize = 10;

/// A clinic of the catalogue, with its card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueClinic {
    /// Its id in the API: `<region>-<idLpu>`, stable across restarts.
    pub id: String,
    pub lpu: LpuId,
    pub district: Option<i32>,
    /// The short name (the full one where the hub gives no short one).
    pub name: String,
    pub full_name: Option<String>,
    pub active: bool,
    /// The API id of the clinic this one is a branch of.
    pub branch_of: Option<String>,
    pub kind: i32,
    pub card: ClinicCard,
    /// `name` and `full_name` as a search compares them.
    folded: String,
}

/// What the catalogue held when last read whole.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub districts: Vec<District>,
    pub clinics: Vec<CatalogueClinic>,
    pub read_at: Option<SystemTime>,
}

/// A search of the catalogue's clinics.
#[derive(Debug, Clone, Default)]
pub struct Search<'a> {
    pub district: Option<i32>,
    pub kind: Option<i32>,
    /// Words of the name, in any case, «ё» and «е» alike.
    pub text: Option<&'a str>,
}

/// One region's catalogue.
#[derive(Debug)]
pub struct Catalogue {
    pub id: String,
    pub name: String,
    hub: Arc<dyn Region>,
    snapshot: RwLock<Option<Arc<Snapshot>>>,
}

/// Lower case, «ё» as «е», runs of anything but letters and digits as one space.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = if c == 'ё' { 'е' } else { c };
        if c.is_alphanumeric() {
            out.push(c);
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    out.trim_end().to_owned()
}

impl Catalogue {
    pub fn new(id: &str, name: &str, hub: Arc<dyn Region>) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            hub,
            snapshot: RwLock::new(None),
        }
    }

    /// What was last read, if the hub ever answered.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.snapshot.read().map_or(None, |s| s.clone())
    }

    /// The API id of the region's clinic `lpu`.
    pub fn clinic_id(&self, lpu: LpuId) -> String {
        format!("{}-{}", self.id, lpu.get())
    }

    /// Reads the whole catalogue; on success it replaces what was kept, on failure what was
    /// kept stays. The districts and their clinics are what the catalogue needs: they are
    /// served as soon as they are read. The cards (address, phone, hours) come after, and
    /// only adorn it: where the hub will not give them (an `ErrorList`, an answer too large),
    /// those of the last read stay, and they are asked clinic by clinic.
    pub async fn refresh(&self) -> Result<(), MisError> {
        let (districts, listed) = self.lists().await?;
        let previous = self.snapshot();
        let kept: HashMap<LpuId, ClinicCard> = previous
            .iter()
            .flat_map(|s| s.clinics.iter())
            .map(|c| (c.lpu, c.card.clone()))
            .collect();
        let mut seen = std::collections::HashSet::new();
        let clinics: Vec<CatalogueClinic> = listed
            .into_iter()
            // A clinic listed under two districts is kept once.
            .filter(|c| seen.insert(c.id))
            .map(|c| {
                let card = kept.get(&c.id).cloned().unwrap_or_default();
                self.entry_of(c, card)
            })
            .collect();
        let read = Arc::new(Snapshot {
            districts,
            clinics,
            read_at: Some(SystemTime::now()),
        });
        self.publish(read.clone());
        if let Some(mut cards) = self.cards(&read).await {
            let clinics = read
                .clinics
                .iter()
                .map(|c| CatalogueClinic {
                    card: cards.remove(&c.lpu).unwrap_or_else(|| c.card.clone()),
                    ..c.clone()
                })
                .collect();
            self.publish(Arc::new(Snapshot {
                districts: read.districts.clone(),
                clinics,
                read_at: read.read_at,
            }));
        }
        Ok(())
    }

    /// The districts and every district's clinics, within the catalogue's bounds.
    async fn lists(&self) -> Result<(Vec<District>, Vec<mis::RegionClinic>), MisError> {
        let mut districts = self.hub.districts().await?;
        if districts.len() > MAX_DISTRICTS {
            tracing::warn!(
                region = %self.id,
                districts = districts.len(),
                kept = MAX_DISTRICTS,
                "the hub lists more districts than a catalogue keeps"
            );
            districts.truncate(MAX_DISTRICTS);
        }
        let mut listed = Vec::new();
        for d in &districts {
            for c in self.hub.clinics_of(d.id).await? {
                if listed.len() == MAX_CLINICS {
                    tracing::warn!(region = %self.id, kept = MAX_CLINICS, "the hub lists more clinics than a catalogue keeps");
                    break;
                }
                listed.push(c);
            }
        }
        Ok((districts, listed))
    }

    /// A clinic of the hub's lists as the catalogue keeps it.
    fn entry_of(&self, c: mis::RegionClinic, card: ClinicCard) -> CatalogueClinic {
        let name = c
            .short_name
            .clone()
            .or_else(|| c.full_name.clone())
            .unwrap_or_else(|| format!("ЛПУ {}", c.id.get()));
        let folded = fold(&format!(
            "{name} {}",
            c.full_name.as_deref().unwrap_or_default()
        ));
        CatalogueClinic {
            id: self.clinic_id(c.id),
            lpu: c.id,
            district: c.district,
            name,
            full_name: c.full_name,
            active: c.active,
            branch_of: c.part_of.map(|p| self.clinic_id(p)),
            kind: c.kind,
            card,
            folded,
        }
    }

    /// The cards of `read`'s clinics: every card in one answer, or where the hub will not
    /// give that, clinic by clinic ([`CARDS_AT_ONCE`] at once, given up after
    /// [`CARD_FAILURES`] failures in a row). `None`: no card could be read.
    async fn cards(&self, read: &Snapshot) -> Option<HashMap<LpuId, ClinicCard>> {
        let wanted: std::collections::HashSet<LpuId> = read.clinics.iter().map(|c| c.lpu).collect();
        match self.hub.cards().await {
            Ok(cards) => {
                return Some(
                    cards
                        .into_iter()
                        .filter(|(lpu, _)| wanted.contains(lpu))
                        .collect(),
                );
            }
            Err(e) => tracing::warn!(
                region = %self.id,
                error = %e,
                "the hub gave no clinics' cards in one answer; asking clinic by clinic"
            ),
        }
        let failures = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let lpus: Vec<LpuId> = read.clinics.iter().map(|c| c.lpu).collect();
        let hub = self.hub.clone();
        let asked = lpus
            .into_iter()
            .map(move |lpu| card_of(hub.clone(), lpu, failures.clone()));
        let cards: HashMap<LpuId, ClinicCard> = futures_util::stream::iter(asked)
            .buffer_unordered(CARDS_AT_ONCE)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .flatten()
            .collect();
        if cards.is_empty() {
            tracing::warn!(region = %self.id, "the hub gave no clinic's card; the catalogue is served without them");
            return None;
        }
        Some(cards)
    }

    fn publish(&self, snapshot: Arc<Snapshot>) {
        if let Ok(mut kept) = self.snapshot.write() {
            *kept = Some(snapshot);
        }
    }

    /// Refreshes now and then every `every`, logging a failure (what was kept stays). After a
    /// failure it tries again sooner: in 5 s, then twice as long each time, up to `every`.
    pub async fn keep_fresh(self: Arc<Self>, every: Duration) {
        let mut retry = FIRST_RETRY;
        loop {
            let wait = match self.refresh().await {
                Ok(()) => {
                    let clinics = self.snapshot().map_or(0, |s| s.clinics.len());
                    tracing::info!(region = %self.id, clinics, "region catalogue read");
                    retry = FIRST_RETRY;
                    every
                }
                Err(e) => {
                    tracing::warn!(region = %self.id, error = %e, "the region's hub did not answer; the catalogue is kept as it was");
                    let wait = retry.min(every);
                    retry = retry.saturating_mul(2);
                    wait
                }
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// The card of `lpu` asked alone, unless [`CARD_FAILURES`] cards failed in a row before.
async fn card_of(
    hub: Arc<dyn Region>,
    lpu: LpuId,
    failures: Arc<std::sync::atomic::AtomicUsize>,
) -> Option<(LpuId, ClinicCard)> {
    use std::sync::atomic::Ordering;
    if failures.load(Ordering::Relaxed) >= CARD_FAILURES {
        return None;
    }
    match hub.card(lpu).await {
        Ok(card) => {
            failures.store(0, Ordering::Relaxed);
            card.map(|card| (lpu, card))
        }
        Err(_) => {
            failures.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

impl Snapshot {
    /// The clinics `search` finds, in the hub's order.
    pub fn find<'s>(&'s self, search: &Search<'_>) -> impl Iterator<Item = &'s CatalogueClinic> {
        let words: Vec<String> = search
            .text
            .map(fold)
            .unwrap_or_default()
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        let (district, kind) = (search.district, search.kind);
        self.clinics.iter().filter(move |c| {
            district.is_none_or(|d| c.district == Some(d))
                && kind.is_none_or(|k| c.kind == k)
                && words.iter().all(|w| c.folded.contains(w.as_str()))
        })
    }
}
