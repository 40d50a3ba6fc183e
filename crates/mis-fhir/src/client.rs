//! The FHIR server's HTTP face: reads (searches paged by `Bundle.link[next]`), a conditional
//! create, a versioned update, the token of SMART Backend Services (client credentials) or a
//! static one, and the answers' `OperationOutcome`s as the port's errors.

use crate::tree::{self, Node};
use mis::MisError;
use mis_http::{Limits, Lost, Transport};
use std::time::Duration;

/// How the gateway proves itself to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    /// A static bearer token.
    Bearer(String),
    /// OAuth2 client credentials at `token_url` (SMART Backend Services style, with a shared
    /// secret).
    ClientCredentials {
        token_url: String,
        client_id: String,
        client_secret: String,
        scope: Option<String>,
    },
}

/// How to reach a FHIR clinic.
#[derive(Debug, Clone)]
pub struct FhirConfig {
    /// The server's base URL (`https://host/fhir`), without a trailing slash.
    pub base_url: String,
    pub auth: Auth,
    pub connect_timeout: Duration,
    /// The longest one call may take.
    pub timeout: Duration,
    /// The largest answer accepted, in bytes.
    pub max_response_bytes: usize,
    /// The identifier system of the OMS policy in `Patient.identifier`.
    pub policy_system: String,
    /// The identifier system of the identity document in `Patient.identifier`.
    pub document_system: String,
    /// The identifier system of the appointments this gateway creates.
    pub booking_system: String,
    /// The clinic's zone: times are turned into its wall-clock times.
    pub timezone: chrono_tz::Tz,
    /// The clinic's name, and the id the gateway knows it by, for `clinics`.
    pub clinic_name: String,
    pub lpu: mis::LpuId,
}

/// The most results a search page asks for, and the most pages one search reads.
pub const PAGE: usize = 200;
pub const MAX_PAGES: usize = 50;

/// A FHIR server, as the adapter calls it.
#[derive(Debug)]
pub struct FhirClient {
    transport: Transport,
    pub(crate) config: FhirConfig,
    /// The token of the client credentials, and until when it holds.
    token: tokio::sync::Mutex<Option<(String, std::time::Instant)>>,
}

/// Percent-encodes a query value (everything but unreserved characters).
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The URL of `path`: under the base URL, whether the path is relative (ours, or a reference)
/// or absolute (a `next` link). A server's link or reference to anywhere else, or one that
/// climbs out of the base (`..`), is refused: the token is sent to the base URL only.
pub(crate) fn resolve(base: &str, path: &str) -> Result<String, MisError> {
    let base = base.trim_end_matches('/');
    let url = if path.starts_with("http://") || path.starts_with("https://") {
        path.to_owned()
    } else {
        format!("{base}/{}", path.trim_start_matches('/'))
    };
    let rest = url
        .strip_prefix(base)
        .filter(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
        .ok_or_else(|| MisError::BadResponse("a link outside the server's base URL".into()))?;
    let in_path = rest.split(['?', '#']).next().unwrap_or_default();
    let lower = in_path.to_ascii_lowercase();
    // A backslash is a slash to URL parsers, and `%2e` a dot to some servers.
    if lower.contains('\\')
        || lower.contains("%2e")
        || lower.split('/').any(|s| s == ".." || s == ".")
    {
        return Err(MisError::BadResponse(
            "a link that climbs out of the server's base URL".into(),
        ));
    }
    Ok(url)
}

/// An answer: its status, its version (`ETag`), where a write put its resource (`Location`),
/// its body read as a tree (if any: a server may answer a write without one).
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub etag: Option<String>,
    pub location: Option<String>,
    pub body: Option<Node>,
}

impl FhirClient {
    pub fn new(config: FhirConfig) -> Result<Self, MisError> {
        let transport = Transport::new(Limits {
            connect_timeout: config.connect_timeout,
            timeout: config.timeout,
            max_response_bytes: config.max_response_bytes,
        })?;
        reqwest::Url::parse(&config.base_url)
            .map_err(|e| MisError::Unavailable(format!("the base URL is not a URL: {e}")))?;
        Ok(Self {
            transport,
            config,
            token: tokio::sync::Mutex::new(None),
        })
    }

    /// The bearer token to send, fetched (and kept until shortly before it expires) where the
    /// server issues them.
    async fn bearer(&self) -> Result<Option<String>, MisError> {
        match &self.config.auth {
            Auth::None => Ok(None),
            Auth::Bearer(token) => Ok(Some(token.clone())),
            Auth::ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scope,
            } => {
                let mut kept = self.token.lock().await;
                if let Some((token, until)) = &*kept
                    && std::time::Instant::now() < *until
                {
                    return Ok(Some(token.clone()));
                }
                let mut form = vec![
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id.as_str()),
                    ("client_secret", client_secret.as_str()),
                ];
                if let Some(scope) = scope {
                    form.push(("scope", scope.as_str()));
                }
                let request = self.transport.client().post(token_url).form(&form);
                let answer = self
                    .transport
                    .exchange(request)
                    .await
                    .map_err(Lost::of_read)?;
                if !answer.status.is_success() {
                    return Err(MisError::AccessDenied);
                }
                let body: serde_json::Value = serde_json::from_slice(&answer.body)
                    .map_err(|_| MisError::BadResponse("an unreadable token answer".into()))?;
                let token = body["access_token"]
                    .as_str()
                    .ok_or_else(|| MisError::BadResponse("a token answer without a token".into()))?
                    .to_owned();
                let lasts = body["expires_in"]
                    .as_u64()
                    .unwrap_or(300)
                    .saturating_sub(30);
                *kept = Some((
                    token.clone(),
                    std::time::Instant::now() + Duration::from_secs(lasts),
                ));
                Ok(Some(token))
            }
        }
    }

    /// Sends a request to `path` (under the base URL, or a `next` link the server gave) and
    /// reads its answer whole, within the size limit.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, String)],
        body: Option<(String, &'static str)>,
    ) -> Result<Answer, Lost> {
        let url = resolve(&self.config.base_url, path).map_err(Lost::Before)?;
        let mut request = self
            .transport
            .client()
            .request(method, &url)
            .header(reqwest::header::ACCEPT, "application/fhir+xml");
        if let Some(token) = self.bearer().await.map_err(Lost::Before)? {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        if let Some((body, content_type)) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body);
        }
        let received = self.transport.exchange(request).await?;
        let header = |name: reqwest::header::HeaderName| received.header(name).map(str::to_owned);
        let (etag, location) = (
            header(reqwest::header::ETAG),
            header(reqwest::header::LOCATION),
        );
        let json = received
            .header(reqwest::header::CONTENT_TYPE)
            .is_some_and(|t| t.contains("json"));
        let (status, bytes) = (received.status.as_u16(), received.body);
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            let read = if json {
                tree::from_json(&bytes)
            } else {
                tree::from_xml(&bytes)
            };
            Some(read.map_err(|e| Lost::After(MisError::BadResponse(e.to_string())))?)
        };
        Ok(Answer {
            status,
            etag,
            location,
            body,
        })
    }

    /// A read: any failure is the read's (nothing was changed).
    pub(crate) async fn get(&self, path: &str) -> Result<Answer, MisError> {
        self.send(reqwest::Method::GET, path, &[], None)
            .await
            .map_err(Lost::of_read)
    }

    /// Every resource a search sent by POST finds (`<type>/_search`, the parameters in a form
    /// body: what it carries is in no URL), following `next` links as [`Self::search`] does.
    pub(crate) async fn search_by_post(
        &self,
        path: &str,
        form: String,
    ) -> Result<Vec<Node>, MisError> {
        let first = self
            .send(
                reqwest::Method::POST,
                path,
                &[],
                Some((form, "application/x-www-form-urlencoded")),
            )
            .await
            .map_err(Lost::of_read)?;
        self.pages(first).await
    }

    /// A write: a failure after the request left is [`MisError::OutcomeUnknown`]. It asks for
    /// the resource written back (`Prefer: return=representation`); a server may answer
    /// without it all the same.
    pub(crate) async fn write(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, String)],
        body: String,
    ) -> Result<Answer, MisError> {
        let mut headers = headers.to_vec();
        headers.push(("Prefer", "return=representation".to_owned()));
        self.send(
            method,
            path,
            &headers,
            Some((body, "application/fhir+xml; charset=utf-8")),
        )
        .await
        .map_err(Lost::of_write)
    }

    /// A JSON Patch (RFC 6902) of the resource at `path`, under `headers` (`If-Match`).
    pub(crate) async fn patch(
        &self,
        path: &str,
        headers: &[(&str, String)],
        body: String,
    ) -> Result<Answer, MisError> {
        self.send(
            reqwest::Method::PATCH,
            path,
            headers,
            Some((body, "application/json-patch+json")),
        )
        .await
        .map_err(Lost::of_write)
    }

    /// Every resource a search finds, following `next` links (at most [`MAX_PAGES`] pages).
    pub(crate) async fn search(&self, query: &str) -> Result<Vec<Node>, MisError> {
        let sep = if query.contains('?') { '&' } else { '?' };
        let first = self.get(&format!("{query}{sep}_count={PAGE}")).await?;
        self.pages(first).await
    }

    /// What a search matched, its first page `first` and the pages its `next` links lead to
    /// (at most [`MAX_PAGES`]), however the server names them (an opaque link is followed as
    /// it is, under the base URL).
    async fn pages(&self, first: Answer) -> Result<Vec<Node>, MisError> {
        let mut answer = first;
        let mut found = Vec::new();
        for _ in 0..MAX_PAGES {
            let bundle = ok_body(answer, "Bundle")?;
            found.extend(matched(&bundle));
            let next = bundle
                .all("link")
                .find(|l| l.value_at(&["relation"]) == Some("next"))
                .and_then(|l| l.value_at(&["url"]))
                .map(str::to_owned);
            match next {
                Some(path) => answer = self.get(&path).await?,
                None => return Ok(found),
            }
        }
        Err(MisError::BadResponse("a search of too many pages".into()))
    }
}

/// The resources a searchset's page matched: a server may add an `OperationOutcome`
/// (`search.mode = outcome`) and resources it includes (`include`) beside them, which are no
/// results.
fn matched(bundle: &Node) -> impl Iterator<Item = Node> + '_ {
    bundle
        .all("entry")
        .filter(|e| e.value_at(&["search", "mode"]).is_none_or(|m| m == "match"))
        .filter_map(|e| Some(e.get("resource")?.resource()?.to_node()))
}

/// What a FHIR clinic does not offer, as the port says it.
pub(crate) fn unsupported(what: &str) -> MisError {
    MisError::NotSupported(format!("{what} (this clinic's МИС speaks FHIR)"))
}

/// The body of a successful answer, which must be a `kind`; a failure's `OperationOutcome`
/// as the port's error.
pub(crate) fn ok_body(answer: Answer, kind: &str) -> Result<Node, MisError> {
    if !(200..300).contains(&answer.status) {
        return Err(error_of(&answer));
    }
    match answer.body {
        Some(node) if node.name() == kind => Ok(node),
        Some(node) => Err(MisError::BadResponse(format!(
            "a {} where a {kind} was expected",
            node.name()
        ))),
        None => Err(MisError::BadResponse(format!("no {kind} in the answer"))),
    }
}

/// A failed answer as the port's error: by its status, and its `OperationOutcome`'s issue
/// code (the outcome's text is dropped: servers echo patient data in it).
pub(crate) fn error_of(answer: &Answer) -> MisError {
    let issue = answer
        .body
        .as_ref()
        .filter(|b| b.name() == "OperationOutcome")
        .and_then(|b| b.value_at(&["issue", "code"]))
        .unwrap_or("");
    match (answer.status, issue) {
        (401 | 403, _) | (_, "security" | "login" | "forbidden") => MisError::AccessDenied,
        (409 | 412, _) | (_, "conflict" | "duplicate") => MisError::SlotTaken,
        (404 | 410, _) | (_, "not-found" | "deleted") => MisError::NoSuchTicket,
        (429 | 500..=599, _) | (_, "transient" | "throttled" | "timeout") => {
            MisError::Unavailable(format!("the server answered {}", answer.status))
        }
        (status, issue) => MisError::BadResponse(format!(
            "the server answered {status} ({})",
            if issue.is_empty() {
                "no outcome"
            } else {
                issue
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_references_stay_under_the_base_url() {
        let base = "https://mis.example/fhir/";
        for (path, url) in [
            ("Slot/s-1", "https://mis.example/fhir/Slot/s-1"),
            (
                "/Slot?_count=2&start=ge2026-12-04",
                "https://mis.example/fhir/Slot?_count=2&start=ge2026-12-04",
            ),
            (
                "https://mis.example/fhir/Slot?page=2",
                "https://mis.example/fhir/Slot?page=2",
            ),
        ] {
            assert_eq!(resolve(base, path).ok().as_deref(), Some(url), "{path}");
        }
        for path in [
            "https://evil.example/fhir/Slot",
            "https://mis.example/fhirx/Slot",
            "http://mis.example/fhir/Slot",
            "https://mis.example/fhir.evil.example/Slot",
            "../admin",
            "Slot/../../admin",
            "Slot/%2E%2E/x",
            "Schedule/./x",
            "Slot\\..\\..\\admin",
        ] {
            assert!(resolve(base, path).is_err(), "{path}");
        }
    }
}
