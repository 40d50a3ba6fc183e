//! All tracing setup in one place.
//!
//! The filter comes from `REGISTRATURA_LOG` (then `RUST_LOG`), `info` by default. No layer
//! here records request bodies or headers; handlers and МИС calls skip personal data in their
//! spans (see `ARCHITECTURE.md`, "Personal data").

use metrics::{counter, histogram};
use std::time::Duration;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Builds the filter from the environment, falling back to `default`.
pub fn filter(default: &str) -> EnvFilter {
    std::env::var("REGISTRATURA_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default))
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (for log collectors): the event's fields flattened, the
    /// request's span (`request_id`, route, client address) under `span`.
    Json,
}

/// Installs the global subscriber writing to stderr. Does nothing if one is installed.
pub fn init(default: &str, format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(default))
        .with_writer(std::io::stderr)
        .with_target(true);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// Installs the global subscriber with the given filter and sink, without timestamps or
/// colours (tests capture logs this way and search them).
pub fn init_with<W>(filter: EnvFilter, sink: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(sink)
        .with_target(true)
        .with_ansi(false)
        .without_time()
        .try_init();
}

/// The span of every request and its one log line: the route pattern matched, the client
/// address the limits count (never a forwarded address from an untrusted peer), the API
/// key's name, the status and the time taken. No path values, query or header is recorded.
#[derive(Debug)]
pub struct RequestSpan;

/// When a request started, for its log line.
#[derive(Debug, Clone, Copy)]
struct Started(std::time::Instant);

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        request
            .extensions_mut()
            .insert(Started(std::time::Instant::now()));
        let guards = request.app_data::<actix_web::web::Data<crate::security::Guards>>();
        let (client, route, key) = match guards {
            Some(g) => {
                let caller = g.caller(request.request());
                let key = match caller.key {
                    crate::security::Key::Valid(i) => g.keys.name(i).to_owned(),
                    crate::security::Key::Invalid => "(invalid)".to_owned(),
                    crate::security::Key::None => String::new(),
                };
                (caller.ip().to_string(), caller.route, key)
            }
            None => (
                request
                    .peer_addr()
                    .map(|a| a.ip().to_string())
                    .unwrap_or_default(),
                None,
                String::new(),
            ),
        };
        let route = route.unwrap_or_else(|| "(no route)".to_owned());
        let id = request
            .extensions()
            .get::<crate::request_id::RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        let span = tracing::info_span!(
            "request",
            request_id = %id,
            http.method = %request.method(),
            http.route = %route,
            http.client_ip = %client,
            api_key = tracing::field::Empty,
            http.status_code = tracing::field::Empty,
        );
        if !key.is_empty() {
            span.record("api_key", tracing::field::display(&key));
        }
        span
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        use actix_web::HttpMessage;
        let (status, started, route, method) = match outcome {
            Ok(response) => {
                let request = response.request();
                let extensions = request.extensions();
                let route = extensions
                    .get::<crate::security::Caller>()
                    .and_then(|c| c.route.clone())
                    .unwrap_or_else(|| "(no route)".to_owned());
                (
                    response.status().as_u16(),
                    extensions.get::<Started>().copied(),
                    route,
                    request.method().to_string(),
                )
            }
            Err(e) => (
                e.as_response_error().status_code().as_u16(),
                None,
                "(no route)".to_owned(),
                String::new(),
            ),
        };
        span.record("http.status_code", status);
        let took = started.map_or(std::time::Duration::ZERO, |s| s.0.elapsed());
        record_request(&route, &method, status, took);
        let elapsed_ms = took.as_millis();
        tracing::info!(parent: &span, status, elapsed_ms, "request done");
    }
}

/// A request's method as a label: one of HTTP's own, or `OTHER`, so that a client inventing
/// methods cannot grow the metrics without bound (routes are patterns, statuses are ours).
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("OTHER")
}

/// Counts an answered request (`registratura_http_requests_total`, and its duration).
pub fn record_request(route: &str, method: &str, status: u16, took: Duration) {
    let (route, method) = (route.to_owned(), method_label(method));
    counter!("registratura_http_requests_total", "route" => route.clone(), "method" => method, "status" => status.to_string())
        .increment(1);
    histogram!("registratura_http_request_duration_seconds", "route" => route, "method" => method)
        .record(took.as_secs_f64());
}
