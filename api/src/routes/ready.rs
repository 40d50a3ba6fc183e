//! Directory answers kept as ready bytes: the JSON of a read (specialties, doctors, dates,
//! slots) serialised once with its `ETag` computed once, kept per clinic, route and query for as
//! long as the reads it is made of are kept, and forgotten when the clinic's generation moves
//! (a booking or a cancellation). A hit writes those bytes and headers, and nothing else; a
//! client that already holds them gets `304 Not Modified`.

use actix_web::HttpRequest;
use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use gateway_domain::ClinicEntry;
use std::time::Duration;

/// The most answers kept of each kind: queries are the client's to choose.
pub const CAPACITY: u64 = 10_000;

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

/// `(path and query, the clinic's generation)`: the path names the clinic and the route.
type Key = (Box<str>, u64);

/// The ready answers of each kind.
#[derive(Debug)]
pub struct ReadyAnswers {
    directory: Option<moka::sync::Cache<Key, Ready>>,
    schedule: Option<moka::sync::Cache<Key, Ready>>,
}

fn cache(ttl: Duration) -> Option<moka::sync::Cache<Key, Ready>> {
    (!ttl.is_zero()).then(|| {
        moka::sync::Cache::builder()
            .max_capacity(CAPACITY)
            .time_to_live(ttl)
            .build()
    })
}

/// The path and query of a request, as the client sent them (the cache's key).
fn key_of(req: &HttpRequest, clinic: &ClinicEntry) -> Key {
    let uri = req.uri();
    let pq = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    (pq.into(), clinic.mis.generation())
}

impl ReadyAnswers {
    /// Answers kept as long as the directory's reads (`directory`) and the schedules' are.
    pub fn new(directory: Duration, schedule: Duration) -> Self {
        Self {
            directory: cache(directory),
            schedule: cache(schedule),
        }
    }

    fn of(&self, kind: Kind) -> Option<&moka::sync::Cache<Key, Ready>> {
        match kind {
            Kind::Directory => self.directory.as_ref(),
            Kind::Schedule => self.schedule.as_ref(),
        }
    }

    /// The answer to `req`, ready if it is kept, else made by `make` (and kept).
    pub async fn answer<T, F>(
        &self,
        kind: Kind,
        clinic: &ClinicEntry,
        req: &HttpRequest,
        make: F,
    ) -> Result<HttpResponse, crate::error::ApiError>
    where
        T: serde::Serialize,
        F: std::future::Future<Output = Result<T, gateway_domain::Failure>>,
    {
        // The generation is read before the reads are made: a write meanwhile makes what is
        // kept here belong to the old one.
        let key = key_of(req, clinic);
        if let Some(ready) = self.of(kind).and_then(|c| c.get(&key)) {
            return Ok(ready.to(req));
        }
        let ready = Ready::of(&make.await?);
        if let Some(cache) = self.of(kind) {
            cache.insert(key, ready.clone());
        }
        Ok(ready.to(req))
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
    fn a_flood_of_queries_stays_within_the_cap() {
        let kept = cache(Duration::from_secs(60)).expect("a cache");
        let ready = Ready::of(&serde_json::json!([]));
        for i in 0..CAPACITY * 3 {
            kept.insert((format!("/x?q={i}").into(), 0), ready.clone());
        }
        kept.run_pending_tasks();
        assert!(kept.entry_count() <= CAPACITY, "{}", kept.entry_count());
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
