//! All tracing setup in one place.
//!
//! The filter comes from `REGISTRATURA_LOG` (then `RUST_LOG`), `info` by default. No layer
//! here records request bodies or headers; handlers and МИС calls skip personal data in their
//! spans (see `ARCHITECTURE.md`, "Personal data").

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

/// Installs the global subscriber writing to stderr. Does nothing if one is installed.
pub fn init(default: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(default))
        .with_writer(std::io::stderr)
        .with_target(true)
        .try_init();
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
