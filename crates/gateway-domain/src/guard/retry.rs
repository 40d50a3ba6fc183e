//! How reads are retried: exponential backoff with jitter.

use std::time::Duration;

/// The pause before retry number `attempt` (from 0): `base` doubled each time.
pub(super) fn backoff(base: Duration, attempt: u32) -> Duration {
    base * 2u32.saturating_pow(attempt)
}

/// A random duration in `[0, max)`.
pub(super) fn jitter(max: Duration) -> Duration {
    let mut b = [0u8; 4];
    if getrandom::fill(&mut b).is_err() || max.is_zero() {
        return Duration::ZERO;
    }
    let fraction = f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX);
    max.mul_f64(fraction)
}
