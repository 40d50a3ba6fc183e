//! [`Site`]: the gateway as the web sees it — the address patients reach it at, how long a
//! request's body may take, when it started. The HTTP shell's own state, beside the domain's
//! `Gateway`.

use std::time::{Duration, Instant};

/// What the HTTP shell knows of itself.
#[derive(Debug, Clone)]
pub struct Site {
    /// The address patients reach the gateway at (`server.public_url`), without a final `/`.
    pub public_url: Option<String>,
    /// How long a request's body may take to arrive (`server.body_timeout_secs`).
    pub body_timeout: Duration,
    /// When the gateway started (for the status page).
    pub started: Instant,
}

impl Default for Site {
    fn default() -> Self {
        Self {
            public_url: None,
            body_timeout: Duration::from_secs(10),
            started: Instant::now(),
        }
    }
}
