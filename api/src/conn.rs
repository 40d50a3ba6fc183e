//! One connection of the gateway, under its HTTP/1 layer: [`Conn`] wraps the socket (after
//! TLS, when the gateway serves HTTPS) so that two things actix's dispatcher decides by itself
//! are decided as the gateway's rules say.
//!
//! - **A slow head is the client's fault only when the client is slow.** Actix's own head timer
//!   fires on the clock alone: when a busy worker polls a connection late, a head that has been
//!   waiting in the socket for seconds is answered `408`, the server's slowness reported as the
//!   client's. Here the timer is ours (actix's is off): when it fires, the socket is read first,
//!   and only a head still incomplete with nothing more to read is cut off, with a
//!   `408 request_timeout` problem. Slow clients are still cut off after
//!   [`ConnSettings::head_timeout`] (the slowloris protection stays).
//! - **Every answer is ours.** What the dispatcher writes before any service runs (`400` for a
//!   malformed head, `431` for one too large, `500` for a broken stream) is a bare head with no
//!   body. It is recognised as it is written (an error head, `content-length: 0`, and no
//!   `X-Request-Id`, which every answer of the services carries) and replaced by a problem
//!   document with a request id (logged) and the security headers. Such an answer ends the
//!   connection, so nothing follows it; one that would share a write with the previous
//!   pipelined answer passes unchanged (pipelining clients are rare, and it is still an error).

use api_types::{ErrorCode, Problem};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What every connection of one listener shares.
#[derive(Debug, Clone)]
pub struct ConnSettings {
    /// How long a client may take to send its first request's head.
    pub head_timeout: Duration,
    /// Whether answers carry `Strict-Transport-Security`.
    pub hsts: bool,
}

/// The first request's head: whether it is complete yet, and the last bytes seen of it (to
/// find its end across reads).
#[derive(Debug, Default)]
struct Head {
    done: bool,
    tail: [u8; 3],
}

impl Head {
    /// Takes in bytes read; whether the head is complete (`\r\n\r\n`, or `\n\n`, ends it).
    fn feed(&mut self, bytes: &[u8]) -> bool {
        for &b in bytes {
            if b == b'\n' && (self.tail[2] == b'\n' || self.tail[1..] == *b"\n\r") {
                self.done = true;
                return true;
            }
            self.tail = [self.tail[1], self.tail[2], b];
        }
        false
    }
}

/// A replacement being written: the problem's bytes, how many are written, and the length of
/// the dispatcher's bytes it stands for.
#[derive(Debug)]
struct Replacement {
    bytes: Vec<u8>,
    written: usize,
    stands_for: usize,
}

/// A connection's socket as the HTTP layer sees it (see the module's documentation).
pub struct Conn<IO> {
    io: IO,
    peer: Option<SocketAddr>,
    settings: Arc<ConnSettings>,
    head: Head,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The connection was ended here: reads see its end.
    ended: bool,
    replacing: Option<Replacement>,
}

impl<IO> std::fmt::Debug for Conn<IO> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("peer", &self.peer)
            .field("head_done", &self.head.done)
            .finish_non_exhaustive()
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Conn<IO> {
    /// A connection from `peer` whose first head is due within the settings' head timeout.
    pub fn new(io: IO, peer: Option<SocketAddr>, settings: Arc<ConnSettings>) -> Self {
        let timer = (!settings.head_timeout.is_zero())
            .then(|| Box::pin(tokio::time::sleep(settings.head_timeout)));
        Self {
            io,
            peer,
            settings,
            head: Head::default(),
            timer,
            ended: false,
            replacing: None,
        }
    }

    /// Writes as much of the replacement as the socket takes; ready when all is written.
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let Some(r) = self.replacing.as_mut() else {
            return Poll::Ready(Ok(0));
        };
        while r.written < r.bytes.len() {
            match ready!(Pin::new(&mut self.io).poll_write(cx, &r.bytes[r.written..])) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => r.written += n,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        ready!(Pin::new(&mut self.io).poll_flush(cx))?;
        let stands_for = r.stands_for;
        self.replacing = None;
        Poll::Ready(Ok(stands_for))
    }
}

/// The status of a bare error head the HTTP layer wrote by itself, if `buf` is exactly one.
pub fn framework_error(buf: &[u8]) -> Option<u16> {
    let rest = buf
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| buf.strip_prefix(b"HTTP/1.0 "))?;
    let status: u16 = std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok()?;
    if !(400..600).contains(&status) || !buf.ends_with(b"\r\n\r\n") {
        return None;
    }
    // One head only, with no body and no request id.
    let head = &buf[..buf.len() - 4];
    if head.windows(4).any(|w| w == b"\r\n\r\n") {
        return None;
    }
    let lower = buf.to_ascii_lowercase();
    let has = |needle: &[u8]| lower.windows(needle.len()).any(|w| w == needle);
    (has(b"\r\ncontent-length: 0\r\n") && !has(b"\r\nx-request-id:")).then_some(status)
}

/// The problem document answered in place of a framework's bare error head, whole.
pub fn problem_answer(status: u16, hsts: bool, peer: Option<SocketAddr>) -> Vec<u8> {
    let code = match status {
        408 => ErrorCode::RequestTimeout,
        431 => ErrorCode::HeadersTooLarge,
        s if s >= 500 => ErrorCode::Internal,
        _ => ErrorCode::BadRequest,
    };
    let detail = match code {
        ErrorCode::RequestTimeout => "The request's head must arrive within a few seconds.",
        ErrorCode::HeadersTooLarge => "The request's headers are larger than the gateway accepts.",
        ErrorCode::Internal => "The connection broke while the request was being read.",
        _ => "The request is not well-formed HTTP/1.1.",
    };
    let id = crate::request_id::generate();
    let mut problem = Problem::new(code).with_detail(detail);
    problem.request_id = Some(id.clone());
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    if crate::telemetry::may_log_refusal() {
        let client = peer.map(|p| p.ip().to_string()).unwrap_or_default();
        tracing::info!(
            request_id = %id,
            http.client_ip = %client,
            status = code.status(),
            code = code.as_str(),
            "request refused by the HTTP layer"
        );
    }
    crate::telemetry::record_request("(no route)", "OTHER", code.status(), Duration::ZERO);
    let reason = actix_web::http::StatusCode::from_u16(code.status())
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\n\
         connection: close\r\ncache-control: no-store\r\nx-request-id: {id}\r\n\
         x-content-type-options: nosniff\r\nreferrer-policy: no-referrer\r\nx-frame-options: DENY\r\n",
        code.status(),
        body.len()
    );
    if hsts {
        head.push_str("strict-transport-security: max-age=31536000\r\n");
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(&body);
    out
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for Conn<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if !this.head.done && this.head.feed(&buf.filled()[before..]) {
                    this.timer = None;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                let Some(timer) = this.timer.as_mut() else {
                    return Poll::Pending;
                };
                // Nothing more is readable, and the head is still incomplete: only now does
                // the clock count.
                ready!(timer.as_mut().poll(cx));
                this.timer = None;
                this.replacing = Some(Replacement {
                    bytes: problem_answer(408, this.settings.hsts, this.peer),
                    written: 0,
                    stands_for: 0,
                });
                // Best effort: a socket that takes nothing now gets nothing; it is closed.
                let _ = this.poll_replacement(cx);
                this.replacing = None;
                this.ended = true;
                Poll::Ready(Ok(()))
            }
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Conn<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.replacing.is_none()
            && let Some(status) = framework_error(buf)
        {
            this.replacing = Some(Replacement {
                bytes: problem_answer(status, this.settings.hsts, this.peer),
                written: 0,
                stands_for: buf.len(),
            });
        }
        if this.replacing.is_some() {
            return this.poll_replacement(cx);
        }
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_ends_at_its_blank_line_across_reads() {
        let mut head = Head::default();
        assert!(!head.feed(b"GET / HTTP/1.1\r\nHost: a\r"));
        assert!(!head.feed(b"\n\r"));
        assert!(head.feed(b"\n"));
        let mut bare = Head::default();
        assert!(bare.feed(b"GET / HTTP/1.1\nHost: a\n\n"));
    }

    #[test]
    fn only_a_bare_error_head_is_the_framework_s() {
        let bare = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\ndate: Wed, 02 Dec 2026 05:00:00 GMT\r\n\r\n";
        assert_eq!(framework_error(bare), Some(400));
        let large = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(framework_error(large), Some(431));
        let ours = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nx-request-id: a-1\r\n\r\n";
        assert_eq!(framework_error(ours), None);
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(framework_error(ok), None);
        let with_body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(framework_error(with_body), None);
        let two = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\nHTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(framework_error(two), None);
        assert_eq!(framework_error(b"HTTP/1.1 4"), None);
    }

    fn settings(head_timeout: Duration) -> Arc<ConnSettings> {
        Arc::new(ConnSettings {
            head_timeout,
            hsts: false,
        })
    }

    #[tokio::test]
    async fn a_head_that_waited_for_a_busy_server_is_read_not_refused() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut client, server) = tokio::io::duplex(4096);
        let mut conn = Conn::new(server, None, settings(Duration::from_millis(50)));
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("written");
        // The server gets to the connection only well after the timeout.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut buf = [0u8; 64];
        let n = conn.read(&mut buf).await.expect("reads");
        assert!(
            buf[..n].starts_with(b"GET / HTTP/1.1"),
            "the head, not an end"
        );
    }

    #[tokio::test]
    async fn a_client_that_does_not_finish_its_head_is_answered_408_and_ended() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut client, server) = tokio::io::duplex(4096);
        let mut conn = Conn::new(server, None, settings(Duration::from_millis(50)));
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("written");
        let mut buf = vec![0u8; 4096];
        let n = conn.read(&mut buf).await.expect("reads");
        assert!(n > 0, "what came so far is read");
        let n = conn.read(&mut buf).await.expect("reads");
        assert_eq!(n, 0, "then the connection ends");
        let n = client.read(&mut buf).await.expect("reads");
        let answer = String::from_utf8_lossy(&buf[..n]);
        assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
        assert!(answer.contains("request_timeout"), "{answer}");
    }

    #[test]
    fn the_answer_is_a_problem_with_an_id_and_the_security_headers() {
        let answer = String::from_utf8(problem_answer(431, true, None)).expect("text");
        let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
        assert!(head.starts_with("HTTP/1.1 431 "));
        for header in [
            "content-type: application/problem+json",
            "x-request-id: ",
            "x-content-type-options: nosniff",
            "strict-transport-security",
            &format!("content-length: {}", body.len()),
        ] {
            assert!(head.contains(header), "{header} in {head}");
        }
        let problem: Problem = serde_json::from_str(body).expect("a problem");
        assert_eq!(problem.code, ErrorCode::HeadersTooLarge);
        assert!(problem.request_id.is_some());
    }
}
