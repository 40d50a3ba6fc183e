//! Directory answers kept as ready bytes: the JSON of a read (specialties, doctors, dates,
//! slots) serialised once with its `ETag` computed once, kept for as long as the reads it is
//! made of are kept, and forgotten when the clinic's generation moves (a booking or a
//! cancellation). A hit writes those bytes and headers, and nothing else; a client that
//! already holds them gets `304 Not Modified`.
//!
//! An answer is kept under what it depends on — its route, its clinic, the path's ids and
//! the query parameters the route knows, as the handler reads them ([`Key`]) — never under the
//! raw path and query a client wrote (a parameter the route does not know would make a new
//! entry of the same answer). The kept answers are bounded in bytes ([`BYTES`]), not only in
//! number: one answer may be large.

use actix_web::HttpRequest;
use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use gateway_domain::ClinicEntry;
use std::time::Duration;

/// The most bytes of answers kept of each kind.
pub const BYTES: u64 = 32 * 1024 * 1024;
/// What an entry costs beside its body (its key, its tag, the map's own).
const ENTRY_OVERHEAD: u64 = 256;

/// Which reads an answer is made of, and so how long it lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Specialties and doctors.
    Directory,
    /// Dates and free tickets.
    Schedule,
}

/// One answer, ready.
#[derive(Debug, Clone)]
pub struct Ready {
    body: Bytes,
    etag: HeaderValue,
}

/// What an answer depends on (see [`Key::of`]) and the clinic's generation.
type Entry = (Key, u64);

/// What an answer depends on: its route, its clinic, and the values the handler reads, each
/// written with its length so that no two lists of values make one key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key(Box<str>);

impl Key {
    /// The key of an answer of `route` (its path template) at `clinic` made of `values` (the
    /// path's ids and the known query parameters, as the handler read them: absent as empty).
    pub fn of(route: &str, clinic: &ClinicEntry, values: &[&str]) -> Self {
        use std::fmt::Write as _;
        let mut key = String::with_capacity(route.len() + 64);
        for part in [route, clinic.info.id.as_str()].iter().chain(values) {
            let _ = write!(key, "{}:{part};", part.len());
        }
        Self(key.into())
    }
}

/// The ready answers of each kind.
#[derive(Debug)]
pub struct ReadyAnswers {
    directory: Option<moka::sync::Cache<Entry, Ready>>,
    schedule: Option<moka::sync::Cache<Entry, Ready>>,
}

fn cache(ttl: Duration) -> Option<moka::sync::Cache<Entry, Ready>> {
    (!ttl.is_zero()).then(|| {
        moka::sync::Cache::builder()
            .max_capacity(BYTES)
            .weigher(|(key, _): &Entry, ready: &Ready| {
                u32::try_from(ready.weight() + key.0.len() as u64).unwrap_or(u32::MAX)
            })
            .time_to_live(ttl)
            .build()
    })
}

impl ReadyAnswers {
    /// Answers kept as long as the directory's reads (`directory`) and the schedules' are.
    pub fn new(directory: Duration, schedule: Duration) -> Self {
        Self {
            directory: cache(directory),
            schedule: cache(schedule),
        }
    }

    fn of(&self, kind: Kind) -> Option<&moka::sync::Cache<Entry, Ready>> {
        match kind {
            Kind::Directory => self.directory.as_ref(),
            Kind::Schedule => self.schedule.as_ref(),
        }
    }

    /// The answer to `req`, which depends on `key`: ready if it is kept, else made by `make`
    /// (and kept).
    pub async fn answer<T, F>(
        &self,
        kind: Kind,
        clinic: &ClinicEntry,
        key: Key,
        req: &HttpRequest,
        make: F,
    ) -> Result<HttpResponse, crate::error::ApiError>
    where
        T: serde::Serialize,
        F: std::future::Future<Output = Result<T, gateway_domain::Failure>>,
    {
        // The generation is read before the reads are made: a write meanwhile makes what is
        // kept here belong to the old one.
        let key = (key, clinic.mis.generation());
        if let Some(ready) = self.of(kind).and_then(|c| c.get(&key)) {
            return Ok(ready.to(req));
        }
        let ready = Ready::of(&make.await?);
        if let Some(cache) = self.of(kind) {
            cache.insert(key, ready.clone());
        }
        Ok(ready.to(req))
    }

    /// The bytes the kept answers take, as counted (after pending evictions).
    pub fn bytes(&self) -> u64 {
        [&self.directory, &self.schedule]
            .into_iter()
            .flatten()
            .map(|c| {
                c.run_pending_tasks();
                c.weighted_size()
            })
            .sum()
    }

    /// How many answers are kept (after pending evictions).
    pub fn len(&self) -> u64 {
        [&self.directory, &self.schedule]
            .into_iter()
            .flatten()
            .map(|c| {
                c.run_pending_tasks();
                c.entry_count()
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Ready {
    /// What it takes in memory, near enough: its bytes, and what every entry costs.
    pub fn weight(&self) -> u64 {
        self.body.len() as u64 + ENTRY_OVERHEAD
    }

    /// The JSON of `value`, with its tag: a digest of its bytes (weak: the compression layer
    /// may re-encode them).
    pub fn of(value: &impl serde::Serialize) -> Self {
        use sha2::Digest;
        let body = serde_json::to_vec(value).unwrap_or_default();
        let digest = sha2::Sha256::digest(&body);
        let hex: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
        let etag = HeaderValue::from_str(&format!("W/\"{hex}\""))
            .unwrap_or(HeaderValue::from_static("W/\"\""));
        Self {
            body: Bytes::from(body),
            etag,
        }
    }

    /// Whether the client already holds these bytes (`If-None-Match`).
    fn fresh_for(&self, req: &HttpRequest) -> bool {
        let ours = self.etag.as_bytes();
        let ours = ours.strip_prefix(b"W/").unwrap_or(ours);
        req.headers()
            .get_all(header::IF_NONE_MATCH)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|tags| tags.split(','))
            .map(str::trim)
            .any(|t| t == "*" || t.trim_start_matches("W/").as_bytes() == ours)
    }

    /// The answer: `200` with the bytes, or `304` when the client holds them.
    pub fn to(&self, req: &HttpRequest) -> HttpResponse {
        let fresh = self.fresh_for(req);
        let mut response = if fresh {
            HttpResponse::NotModified()
        } else {
            HttpResponse::Ok()
        };
        response
            .insert_header((header::ETAG, self.etag.clone()))
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")));
        if fresh {
            response.finish()
        } else {
            response
                .insert_header((
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ))
                .body(self.body.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_large_answers_stays_within_the_bytes() {
        let kept = cache(Duration::from_secs(60)).expect("a cache");
        // Answers of 100 KB each: a count of 10 000 would be a gigabyte.
        let ready = Ready::of(&serde_json::json!(["x".repeat(100_000)]));
        for i in 0..2_000 {
            kept.insert((Key(format!("/x?q={i}").into()), 0), ready.clone());
        }
        kept.run_pending_tasks();
        assert!(kept.weighted_size() <= BYTES, "{}", kept.weighted_size());
        assert!(kept.entry_count() < 400, "{} answers", kept.entry_count());
        assert!(kept.entry_count() > 100, "not flushed whole");
        assert!(cache(Duration::ZERO).is_none(), "no caching, no cache");
    }

    #[test]
    fn a_tag_is_the_answer_s_and_is_recognised_however_it_is_sent_back() {
        let ready = Ready::of(&serde_json::json!({"items": [1, 2, 3]}));
        let tag = ready.etag.to_str().expect("ASCII").to_owned();
        assert!(tag.starts_with("W/\""));
        let req = |value: &str| {
            actix_web::test::TestRequest::default()
                .insert_header((header::IF_NONE_MATCH, value))
                .to_http_request()
        };
        assert!(ready.fresh_for(&req(&tag)));
        assert!(ready.fresh_for(&req(tag.trim_start_matches("W/"))));
        assert!(ready.fresh_for(&req(&format!("\"other\", {tag}"))));
        assert!(ready.fresh_for(&req("*")));
        assert!(!ready.fresh_for(&req("\"other\"")));
        assert_eq!(ready.to(&req(&tag)).status(), 304);
        assert_eq!(ready.to(&req("\"other\"")).status(), 200);
    }
}
