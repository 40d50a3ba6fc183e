//! Rate limits: the classes of requests, the limits of each, and who they are counted for.
//! The counters are the [`crate::shared::RateStore`] port's (governor's GCRA in this process, or
//! a GCRA in Redis).
//!
//! Classes, strictest first: `identify` (`POST .../sessions`, guessing patients' data),
//! `unmatched` (paths that match no route: they get identification's limits), `across` (the
//! answers across a region's clinics, each of which may cost up to `across_max_calls` МИС
//! calls), `write` (booking, cancelling, ending a session) and `read` (everything else).
//! Anonymous clients are keyed by address ([`ClientKey`]); integrators with an API key share
//! their key's own limits.

use serde::Deserialize;
use std::net::IpAddr;
use std::time::Duration;

/// A class of request, each with its own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    Identify,
    Unmatched,
    Across,
    Write,
    Read,
}

impl Class {
    pub const ALL: [Class; 5] = [
        Self::Identify,
        Self::Unmatched,
        Self::Across,
        Self::Write,
        Self::Read,
    ];

    /// The class's name in logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Identify => "identify",
            Self::Unmatched => "unmatched",
            Self::Across => "across",
            Self::Write => "write",
            Self::Read => "read",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// A sustained rate and a burst. A rate of 0 means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

impl Rate {
    /// How long an empty bucket takes to refill.
    pub fn refill(self) -> Duration {
        match self.per_minute {
            0 => Duration::ZERO,
            rate => Duration::from_secs(60) * self.burst.max(1) / rate,
        }
    }
}

/// Where a set of limits takes its defaults from.
pub trait Defaults: Sized {
    fn defaults() -> Rates<Self>;
}

/// Anonymous clients, per address: `[rate_limit]`.
#[derive(Debug, Clone, Copy)]
pub struct Anonymous;

/// One integrator's API key: `[api_keys.limits]`; the defaults suit a portal serving many
/// patients.
#[derive(Debug, Clone, Copy)]
pub struct PerKey;

/// The limits of each class, declared once for anonymous clients ([`RateLimitConfig`]) and
/// for an API key ([`KeyLimits`]); `D` gives the defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default, bound = "")]
pub struct Rates<D: Defaults> {
    /// `POST .../sessions`, per client per minute (paths matching no route share these).
    pub identify_per_minute: u32,
    pub identify_burst: u32,
    /// Answers across a region's clinics (its specialties, nearest tickets, «my clinic»):
    /// each may cost many МИС calls, so a client gets few of them.
    pub across_per_minute: u32,
    pub across_burst: u32,
    /// Other writes (booking, cancelling, ending a session).
    pub write_per_minute: u32,
    pub write_burst: u32,
    /// Reads, pages and files.
    pub read_per_minute: u32,
    pub read_burst: u32,
    /// The most clients remembered per class; the least recently seen are forgotten first.
    /// `[rate_limit]`'s only: an API key is one client.
    pub max_clients: u64,
    /// Which defaults these are (no data).
    #[serde(skip)]
    pub defaults: std::marker::PhantomData<fn() -> D>,
}

/// The limits of anonymous clients, per address (`[rate_limit]`).
pub type RateLimitConfig = Rates<Anonymous>;

/// The limits of one API key (`[api_keys.limits]`).
pub type KeyLimits = Rates<PerKey>;

impl<D: Defaults> Default for Rates<D> {
    fn default() -> Self {
        D::defaults()
    }
}

/// Limits of these rates and bursts (in the order of [`Rates`]' fields).
fn rates<D: Defaults>(
    [
        identify_per_minute,
        identify_burst,
        across_per_minute,
        across_burst,
    ]: [u32; 4],
    [write_per_minute, write_burst, read_per_minute, read_burst]: [u32; 4],
    max_clients: u64,
) -> Rates<D> {
    Rates {
        identify_per_minute,
        identify_burst,
        across_per_minute,
        across_burst,
        write_per_minute,
        write_burst,
        read_per_minute,
        read_burst,
        max_clients,
        defaults: std::marker::PhantomData,
    }
}

impl Defaults for Anonymous {
    fn defaults() -> Rates<Self> {
        rates([10, 5, 30, 10], [60, 20, 1_200, 300], 50_000)
    }
}

impl Defaults for PerKey {
    fn defaults() -> Rates<Self> {
        rates([600, 100, 600, 100], [3_000, 500, 60_000, 5_000], 1)
    }
}

impl<D: Defaults> Rates<D> {
    /// The limits of a class.
    pub fn rate(&self, class: Class) -> Rate {
        let (per_minute, burst) = match class {
            Class::Identify | Class::Unmatched => (self.identify_per_minute, self.identify_burst),
            Class::Across => (self.across_per_minute, self.across_burst),
            Class::Write => (self.write_per_minute, self.write_burst),
            Class::Read => (self.read_per_minute, self.read_burst),
        };
        Rate { per_minute, burst }
    }
}

/// Who a limit is counted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// An anonymous client, by address.
    Client(ClientKey),
    /// An integrator's API key, by its index in the configuration.
    ApiKey(usize),
}

/// The key a client's limits are counted under: its IPv4 address, or its IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    V4(u32),
    V6Net64(u64),
}

impl From<IpAddr> for ClientKey {
    fn from(ip: IpAddr) -> Self {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match ip {
            IpAddr::V4(v4) => Self::V4(u32::from(v4)),
            IpAddr::V6(v6) => Self::V6Net64((u128::from(v6) >> 64) as u64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_section_takes_its_own_kind_s_defaults_for_the_rest() {
        let key: KeyLimits = serde_json::from_str(r#"{"read_burst": 7}"#).expect("parses");
        assert_eq!(key.read_burst, 7);
        assert_eq!(
            key.rate(Class::Identify),
            Rate {
                per_minute: 600,
                burst: 100
            }
        );
        assert_eq!(key.max_clients, 1);
        let anonymous: RateLimitConfig =
            serde_json::from_str(r#"{"read_burst": 7}"#).expect("parses");
        assert_eq!(
            anonymous.rate(Class::Identify),
            Rate {
                per_minute: 10,
                burst: 5
            }
        );
        assert_eq!(anonymous.max_clients, 50_000);
        assert!(serde_json::from_str::<KeyLimits>(r#"{"reads": 1}"#).is_err());
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let key = |s: &str| ClientKey::from(s.parse::<IpAddr>().expect("an address"));
        assert_eq!(
            key("2001:db8:1:2::1"),
            key("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.1"), key("192.0.2.1"));
    }
}
