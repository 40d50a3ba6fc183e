//! All tracing setup in one place.
//!
//! The filter comes from `REGISTRATURA_LOG` (then `RUST_LOG`), `info` by default. No layer
//! here records request bodies or headers; handlers and МИС calls skip personal data in their
//! spans (see `ARCHITECTURE.md`, "Personal data").

mod line;
pub mod rotate;

use metrics::{counter, histogram};
use std::time::Duration;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Builds the filter from the environment, falling back to `default`.
pub fn filter(default: &str) -> EnvFilter {
    let asked = std::env::var("REGISTRATURA_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .filter(|f| EnvFilter::try_new(f).is_ok())
        .unwrap_or_else(|| default.to_owned());
    // actix's HTTP/1 layer logs an ERROR line for every malformed head a client sends: the
    // gateway writes its own line of those (`request refused by the HTTP layer`, at most
    // [`REFUSALS_PER_SECOND`] a second), so the layer's is off unless asked for by name.
    let directives = if asked.contains("actix_http") {
        asked
    } else {
        format!("{asked},actix_http::h1::dispatcher=off")
    };
    EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new(default))
}

/// The most lines a second written for clients that never sent a valid request (a malformed
/// or oversized head, one too slow): the rest are counted, not written
/// (`registratura_log_lines_suppressed_total`), so that a flood of garbage cannot fill the log.
pub const REFUSALS_PER_SECOND: u64 = 20;

/// The second the refusals' lines are counted in, and how many were written in it.
static REFUSAL_WINDOW: std::sync::Mutex<(u64, u64)> = std::sync::Mutex::new((0, 0));
static SUPPRESSED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Whether a line about a client that sent no valid request may be written now (at most
/// [`REFUSALS_PER_SECOND`] a second); one that may not is counted.
pub fn may_log_refusal() -> bool {
    let second = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let allowed = match REFUSAL_WINDOW.lock() {
        Ok(mut window) => {
            if window.0 != second {
                *window = (second, 0);
            }
            window.1 += 1;
            window.1 <= REFUSALS_PER_SECOND
        }
        Err(_) => false,
    };
    if !allowed {
        SUPPRESSED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    allowed
}

/// How many lines about clients that sent no valid request were not written.
pub fn suppressed_lines() -> u64 {
    SUPPRESSED.load(std::sync::atomic::Ordering::Relaxed)
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

/// How many log lines may wait for the writer before new ones are dropped (and counted)
/// rather than holding up a request. The queue's slots are allocated at start (32 bytes
/// each); the writer takes what is queued every few milliseconds ([`GATHER`]), so at 50 000
/// requests a second a few hundred lines wait at a time.
const QUEUED_LINES: usize = 4 * 1024;

static DROPPED: std::sync::OnceLock<tracing_appender::non_blocking::ErrorCounter> =
    std::sync::OnceLock::new();

/// How many log lines were dropped because the writer fell behind (`/metrics`).
pub fn dropped_lines() -> u64 {
    DROPPED.get().map_or(0, |c| c.dropped_lines() as u64)
}

/// Whether log lines get colours: only on a terminal, and never with `NO_COLOR`.
fn colours() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// How long the writer thread lets lines gather after writing some out: a line waits at most
/// this long (the first after a quiet spell goes out at once), and under load the lines of
/// this long go out in one write rather than one write (and one wake-up) each.
const GATHER: Duration = Duration::from_millis(5);

/// The writer thread's writer: lines buffered, written out when the thread has taken every
/// line queued, then a pause of [`GATHER`] while the next ones queue up.
struct Batches<W: std::io::Write> {
    out: std::io::BufWriter<W>,
}

impl<W: std::io::Write> Batches<W> {
    fn new(out: W) -> Self {
        Self {
            out: std::io::BufWriter::with_capacity(64 * 1024, out),
        }
    }
}

impl<W: std::io::Write> std::io::Write for Batches<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let wrote = !self.out.buffer().is_empty();
        self.out.flush()?;
        if wrote {
            std::thread::sleep(GATHER);
        }
        Ok(())
    }
}

/// The logging of a running process: lines go through a bounded queue to a writer thread, so
/// that no request waits for stderr. Keep it until the process ends: dropping it writes out
/// what is queued.
#[derive(Debug)]
pub struct Logging {
    _writer: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// Installs the global subscriber writing to stderr through a non-blocking, bounded, lossy
/// queue (a line that would overflow it is dropped and counted, never waited for). Does
/// nothing if one is installed.
pub fn init(default: &str, format: LogFormat) -> Logging {
    init_to(default, format, std::io::stderr(), colours())
}

/// As [`init`], to a file rotated by size (a Windows service's log), without colours.
pub fn init_to_file(default: &str, format: LogFormat, file: rotate::RotatingFile) -> Logging {
    init_to(default, format, file, false)
}

fn init_to<W: std::io::Write + Send + 'static>(
    default: &str,
    format: LogFormat,
    sink: W,
    ansi: bool,
) -> Logging {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(QUEUED_LINES)
        .thread_name("registratura-log")
        .finish(Batches::new(sink));
    let counter = writer.error_counter();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(default))
        .with_writer(writer)
        .with_target(true);
    let installed = match format {
        LogFormat::Text if ansi => builder.with_ansi(true).try_init(),
        // Not a terminal (a file, the journal): the same lines without colours, formatted for
        // the cost of one request.
        LogFormat::Text => {
            let installed = builder
                .with_ansi(false)
                .fmt_fields(line::Fields)
                .event_format(line::Line)
                .try_init();
            if installed.is_ok() {
                REQUEST_SPANS.store(false, std::sync::atomic::Ordering::Relaxed);
            }
            installed
        }
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    if installed.is_err() {
        return Logging { _writer: None };
    }
    let _ = DROPPED.set(counter);
    Logging {
        _writer: Some(guard),
    }
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

/// What a request's log line says of it: the route pattern matched, the client address the
/// limits count (never a forwarded address from an untrusted peer), the API key's name. No
/// path values, query or header is recorded.
#[derive(Debug, Clone, Copy)]
pub struct RequestLine<'a> {
    pub id: &'a str,
    pub method: &'static str,
    pub route: &'static str,
    pub client: std::net::IpAddr,
    pub key: Option<&'a str>,
}

impl<'a> RequestLine<'a> {
    pub fn of(
        id: &'a str,
        method: &'static str,
        caller: Option<&crate::security::Caller>,
        guards: Option<&'a crate::security::Guards>,
        peer: Option<std::net::SocketAddr>,
    ) -> Self {
        let client = caller.map_or_else(
            || peer.map_or(std::net::IpAddr::from([0, 0, 0, 0]), |a| a.ip()),
            crate::security::Caller::ip,
        );
        let key = match (caller.map(|c| c.key), guards) {
            (Some(crate::security::Key::Valid(i)), Some(g)) => Some(g.keys.name(i)),
            (Some(crate::security::Key::Invalid), _) => Some("(invalid)"),
            _ => None,
        };
        Self {
            id,
            method,
            route: caller.and_then(|c| c.route).unwrap_or(NO_ROUTE),
            client,
            key,
        }
    }
}

/// Whether requests get a span of their own (JSON logs, and text on a terminal: the request's
/// fields on every line of it), or only their id on each line of it (text to a file or the
/// journal, [`line::Line`]) and their fields on the line that ends them.
static REQUEST_SPANS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// The span of a request, where requests get one (see [`REQUEST_SPANS`]). Its one line, with
/// the status and the time taken, is written by [`request_done`].
pub fn request_span(line: &RequestLine<'_>) -> tracing::Span {
    if !REQUEST_SPANS.load(std::sync::atomic::Ordering::Relaxed) {
        return tracing::Span::none();
    }
    // `%`: written unquoted by the full format, as strings in JSON.
    tracing::info_span!(
        "request",
        request_id = %line.id,
        http.method = %line.method,
        http.route = %line.route,
        http.client_ip = %line.client,
        api_key = line.key.map(tracing::field::display),
        http.status_code = tracing::field::Empty,
    )
}

/// The route label of a request that matched no route.
pub const NO_ROUTE: &str = "(no route)";

/// Counts an answered request and writes its line (at `info`).
pub fn request_done(span: &tracing::Span, line: &RequestLine<'_>, status: u16, took: Duration) {
    record_request(line.route, line.method, status, took);
    let elapsed_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
    if REQUEST_SPANS.load(std::sync::atomic::Ordering::Relaxed) {
        span.record("http.status_code", status);
        tracing::info!(parent: span, status, elapsed_ms, "request done");
    } else {
        tracing::info!(
            request_id = line.id,
            http.method = line.method,
            http.route = line.route,
            http.client_ip = %line.client,
            api_key = line.key,
            status,
            elapsed_ms,
            "request done"
        );
    }
}

/// A request's method as a label: one of HTTP's own, or `OTHER`, so that a client inventing
/// methods cannot grow the metrics without bound (routes are patterns, statuses are ours).
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("OTHER")
}

/// The metrics of one route, method and status.
#[derive(Clone)]
struct Handles {
    route: Box<str>,
    requests: metrics::Counter,
    duration: metrics::Histogram,
}

/// How many (method, status) pairs a thread keeps handles for before it starts afresh: the
/// routes are the route table's, the methods [`method_label`]'s, the statuses ours.
const KEPT_HANDLES: usize = 1024;

thread_local! {
    /// The handles of the metrics a request updates, looked up once per (route, method,
    /// status) and thread rather than by their labels on every request.
    static HANDLES: std::cell::RefCell<std::collections::HashMap<(&'static str, u16), Vec<Handles>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Counts an answered request (`registratura_http_requests_total`, and its duration).
pub fn record_request(route: &str, method: &str, status: u16, took: Duration) {
    let method = method_label(method);
    HANDLES.with_borrow_mut(|kept| {
        if kept.len() >= KEPT_HANDLES {
            kept.clear();
        }
        let routes = kept.entry((method, status)).or_default();
        if !routes.iter().any(|h| &*h.route == route) {
            if routes.len() >= KEPT_HANDLES {
                routes.clear();
            }
            let owned = route.to_owned();
            routes.push(Handles {
                route: route.into(),
                requests: counter!("registratura_http_requests_total", "route" => owned.clone(), "method" => method, "status" => status.to_string()),
                duration: histogram!("registratura_http_request_duration_seconds", "route" => owned, "method" => method),
            });
        }
        if let Some(handles) = routes.iter().find(|h| &*h.route == route) {
            handles.requests.increment(1);
            handles.duration.record(took.as_secs_f64());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_routes_and_statuses_keeps_the_thread_s_handles_bounded() {
        // Routes and statuses come from the route table and the gateway, but whatever a
        // caller passes, a thread keeps at most KEPT_HANDLES of each.
        for i in 0..3 * KEPT_HANDLES {
            let status = 100 + u16::try_from(i % 2_000).expect("small");
            record_request(&format!("/flood/{i}"), "GET", status, Duration::ZERO);
            record_request(&format!("/flood/{i}"), "GET", 200, Duration::ZERO);
        }
        HANDLES.with_borrow(|kept| {
            assert!(kept.len() <= KEPT_HANDLES, "{} pairs", kept.len());
            assert!(kept.values().all(|routes| routes.len() <= KEPT_HANDLES));
        });
    }

    fn resident_kb() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// The exporter keeps every recorded duration until it is counted: a flood of requests
    /// with nobody reading `/metrics` costs a bounded amount of memory, not 8 bytes a request.
    #[test]
    fn a_flood_of_requests_with_nobody_reading_the_metrics_stays_bounded() {
        if !std::path::Path::new("/proc/self/status").exists() {
            eprintln!("SKIPPED: no /proc to read this process's memory from");
            return;
        }
        gateway_state::metrics::install();
        const REQUESTS: u32 = 4_000_000;
        // Warm: the handles exist and the first counting has happened.
        for _ in 0..200_000 {
            record_request(
                "/api/v1/clinics/{clinic}/specialties",
                "GET",
                200,
                Duration::from_micros(5),
            );
        }
        let before = resident_kb();
        for _ in 0..REQUESTS {
            record_request(
                "/api/v1/clinics/{clinic}/specialties",
                "GET",
                200,
                Duration::from_micros(5),
            );
        }
        let grown = resident_kb().saturating_sub(before);
        // Kept, they would be 8 bytes each: 31 MB.
        assert!(grown < 8 * 1024, "grew {grown} KB over {REQUESTS} requests");
        let text = gateway_state::metrics::render();
        assert!(
            text.contains("registratura_http_request_duration_seconds_count{route=\"/api/v1/clinics/{clinic}/specialties\",method=\"GET\"} 4200000"),
            "every request counted"
        );
    }
}
