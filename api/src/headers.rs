//! Headers a request may carry once. Sent twice (a client's and a proxy's, or a client's
//! mistake), which one counts is a guess, so neither does: credentials sent twice are none, and
//! an `Idempotency-Key` sent twice is refused.

use actix_web::HttpRequest;
use actix_web::http::header::{AsHeaderName, HeaderValue};

/// A header sent more than once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeated;

/// The value of a header that may appear once: `Ok(None)` when absent.
pub fn single<N: AsHeaderName>(
    req: &HttpRequest,
    name: N,
) -> Result<Option<&HeaderValue>, Repeated> {
    let mut values = req.headers().get_all(name);
    let first = values.next();
    if values.next().is_some() {
        return Err(Repeated);
    }
    Ok(first)
}

/// The value of a credential header: absent when it is missing or sent more than once.
pub fn credential<N: AsHeaderName>(req: &HttpRequest, name: N) -> Option<&str> {
    single(req, name).ok().flatten()?.to_str().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn a_header_sent_twice_is_told_from_one_sent_once() {
        let once = TestRequest::default()
            .insert_header(("Idempotency-Key", "a"))
            .to_http_request();
        assert_eq!(
            single(&once, "idempotency-key").map(|v| v.and_then(|v| v.to_str().ok())),
            Ok(Some("a"))
        );
        let twice = TestRequest::default()
            .append_header(("Idempotency-Key", "a"))
            .append_header(("Idempotency-Key", "b"))
            .to_http_request();
        assert_eq!(single(&twice, "idempotency-key"), Err(Repeated));
        assert_eq!(credential(&twice, "idempotency-key"), None);
        let none = TestRequest::default().to_http_request();
        assert_eq!(single(&none, "idempotency-key"), Ok(None));
    }
}
