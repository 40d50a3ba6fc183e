//! The HTTP transport the МИС adapters share (`mis-hub`'s SOAP, `mis-fhir`'s REST): one way to
//! build the client, to send a request and read its answer whole within a size limit, and to
//! say what a failed exchange means.
//!
//! The rule every adapter keeps: only a connection never made is sure to have carried nothing
//! ([`Lost::Before`]); once the request may have left, a missing or unusable answer
//! ([`Lost::After`]) is, for a write, [`MisError::OutcomeUnknown`] ([`Lost::of_write`]): the
//! gateway reads what the МИС holds before it tells anyone anything.

pub mod xml_text;

use mis::MisError;
use reqwest::header::HeaderMap;
use std::time::Duration;

/// How long to wait and how much to read.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The longest wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// The longest a whole exchange may take, from sending to the last byte of the answer.
    pub timeout: Duration,
    /// The largest answer accepted, in bytes.
    pub max_response_bytes: usize,
}

/// Why an exchange failed, and whether its request may have reached the МИС.
#[derive(Debug)]
pub enum Lost {
    /// Nothing was sent: the connection was never made (or the request never built).
    Before(MisError),
    /// The request was (or may have been) sent: the answer is missing or unusable.
    After(MisError),
}

impl Lost {
    /// The failure of a read: whatever happened, nothing was changed.
    pub fn of_read(self) -> MisError {
        match self {
            Self::Before(e) | Self::After(e) => e,
        }
    }

    /// The failure of a write: after its request may have left, no answer is a known outcome
    /// (a fault or an HTTP 500 from a front end says nothing sure of what the МИС did behind
    /// it).
    pub fn of_write(self) -> MisError {
        match self {
            Self::Before(e) => e,
            Self::After(e) => MisError::OutcomeUnknown(e.to_string()),
        }
    }
}

/// An answer, read whole.
#[derive(Debug)]
pub struct Received {
    pub status: reqwest::StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Received {
    /// A header's value, where it is text.
    pub fn header(&self, name: impl reqwest::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The HTTP client of one МИС endpoint.
#[derive(Debug, Clone)]
pub struct Transport {
    http: reqwest::Client,
    max_response_bytes: usize,
}

impl Transport {
    /// A client within `limits` that follows no redirect (a МИС's answer is its own, and a
    /// token is sent to its URL only) and names itself.
    pub fn new(limits: Limits) -> Result<Self, MisError> {
        let http = reqwest::Client::builder()
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("registratura/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| MisError::Unavailable(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            max_response_bytes: limits.max_response_bytes,
        })
    }

    /// The client, to build a request with.
    pub fn client(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends `request` and reads its answer whole, within the size limit.
    pub async fn exchange(&self, request: reqwest::RequestBuilder) -> Result<Received, Lost> {
        let mut response = request.send().await.map_err(|e| {
            // Only a connection never made is sure to have carried nothing.
            if e.is_connect() {
                Lost::Before(transport_error(&e))
            } else {
                Lost::After(transport_error(&e))
            }
        })?;
        if let Some(len) = response.content_length()
            && len > self.max_response_bytes as u64
        {
            return Err(Lost::After(MisError::BadResponse(format!(
                "the answer is {len} bytes, over the limit"
            ))));
        }
        // The body is gathered chunk by chunk and copied once into a buffer of its exact size,
        // so an answer of n bytes costs at most 2n here (a growing Vec could reach 3n).
        let mut chunks = Vec::new();
        let mut total = 0usize;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Lost::After(transport_error(&e)))?
        {
            total += chunk.len();
            if total > self.max_response_bytes {
                return Err(Lost::After(MisError::BadResponse(
                    "the answer is over the size limit".into(),
                )));
            }
            chunks.push(chunk);
        }
        let mut body = Vec::with_capacity(total);
        for chunk in chunks.drain(..) {
            body.extend_from_slice(&chunk);
        }
        Ok(Received {
            status: response.status(),
            headers: std::mem::take(response.headers_mut()),
            body,
        })
    }
}

/// A transport failure as the port's error: its kind, never its text (which may quote a URL).
pub fn transport_error(e: &reqwest::Error) -> MisError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "transport error"
    };
    MisError::Unavailable(what.to_owned())
}

/// What a МИС wrote, as an error may quote it: at most 64 characters, without control
/// characters (it goes into logs).
pub fn clipped(text: &str) -> String {
    text.chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_write_is_unknown_once_its_request_may_have_left() {
        let e = || MisError::Unavailable("timed out".into());
        assert_eq!(Lost::Before(e()).of_write(), e());
        assert!(matches!(
            Lost::After(e()).of_write(),
            MisError::OutcomeUnknown(_)
        ));
        assert_eq!(Lost::After(e()).of_read(), e());
    }

    #[test]
    fn what_a_mis_wrote_is_clipped_and_has_no_control_characters() {
        assert_eq!(clipped("a\nb"), "a?b");
        assert_eq!(clipped(&"x".repeat(100)).len(), 64);
    }

    #[tokio::test]
    async fn a_connection_never_made_carried_nothing_and_an_answer_over_the_limit_is_refused() {
        let transport = Transport::new(Limits {
            connect_timeout: Duration::from_millis(500),
            timeout: Duration::from_secs(2),
            max_response_bytes: 16,
        })
        .expect("a client");
        // A port nothing listens on: the connection is refused.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let addr = closed.local_addr().expect("its address");
        drop(closed);
        let refused = transport
            .exchange(transport.client().get(format!("http://{addr}/")))
            .await;
        assert!(matches!(refused, Err(Lost::Before(_))), "{refused:?}");
        // A server answering more than 16 bytes.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let addr = listener.local_addr().expect("its address");
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            if let Ok((mut s, _)) = listener.accept() {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf);
                let body = "y".repeat(100);
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        let big = transport
            .exchange(transport.client().get(format!("http://{addr}/")))
            .await;
        assert!(
            matches!(big, Err(Lost::After(MisError::BadResponse(_)))),
            "{big:?}"
        );
    }
}
