//! Who the client is: its address, seen through the proxies the operator trusts, and the key
//! its limits are counted under.
//!
//! The client's address is the peer's, unless the peer is a configured trusted proxy; then it
//! is the right-most hop of `X-Forwarded-For` that is not itself a trusted proxy (hops to its
//! left are whatever the client claims). Every `X-Forwarded-For` line counts, in order, as
//! RFC 9110 joins repeated fields; hops may carry a port (`203.0.113.7:4711`,
//! `[2001:db8::7]:443`). (An IPv6 client is limited by its /64: `gateway_domain::limits`.)

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parses a list of addresses or CIDR networks (`127.0.0.1`, `10.0.0.0/8`, `::1`).
pub fn parse_networks(list: &[String]) -> Result<Vec<IpNet>, String> {
    list.iter()
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{s:?} is not an address or a network"))
        })
        .collect()
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `ip` is in one of `nets`.
pub fn contains(nets: &[IpNet], ip: IpAddr) -> bool {
    let ip = canonical(ip);
    nets.iter().any(|n| n.contains(&ip))
}

/// One hop of `X-Forwarded-For`: an address with or without a port.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        // `[v6]` or `[v6]:port`
        let (addr, after) = rest.split_once(']')?;
        let port_ok = after.is_empty()
            || after
                .strip_prefix(':')
                .is_some_and(|p| p.parse::<u16>().is_ok());
        return port_ok.then(|| addr.parse::<Ipv6Addr>().ok().map(IpAddr::V6))?;
    }
    // `v4:port`
    let (addr, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    addr.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

/// Where a request came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The client's address (see the module's documentation).
    pub client: IpAddr,
    /// The trusted proxies it came through, nearest first (the peer first, when it is one).
    pub proxies: Vec<IpAddr>,
}

impl Origin {
    /// Every address on the path that the gateway can vouch for: the proxies and the client.
    pub fn path(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.proxies
            .iter()
            .copied()
            .chain(std::iter::once(self.client))
    }
}

/// The most hops read from `X-Forwarded-For`: more is no real proxy chain.
const MAX_HOPS: usize = 32;

/// Resolves the client behind `peer`, given the request's `X-Forwarded-For` lines in order.
pub fn resolve<'a>(
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    trusted: &[IpNet],
) -> Origin {
    let peer = canonical(peer);
    if !contains(trusted, peer) {
        return Origin {
            client: peer,
            proxies: Vec::new(),
        };
    }
    let hops: Vec<&str> = forwarded_for
        .into_iter()
        .flat_map(|line| line.split(','))
        .collect();
    let mut proxies = vec![peer];
    let mut client = peer;
    for hop in hops.iter().rev().take(MAX_HOPS) {
        // A hop that is no address ends what can be believed; the last trusted proxy then
        // stands for the client, so junk never buys a fresh identity.
        let Some(ip) = parse_hop(hop).map(canonical) else {
            break;
        };
        if contains(trusted, ip) {
            proxies.push(ip);
            client = ip;
        } else {
            client = ip;
            break;
        }
    }
    if proxies.last() == Some(&client) {
        proxies.pop();
    }
    Origin { client, proxies }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        parse_networks(&list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).expect("valid")
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    fn client(peer: &str, lines: &[&str], trusted: &[IpNet]) -> IpAddr {
        resolve(ip(peer), lines.iter().copied(), trusted).client
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = nets(&["10.0.0.0/8", "127.0.0.1"]);
        assert_eq!(
            client("203.0.113.9", &["1.2.3.4"], &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(client("127.0.0.1", &["1.2.3.4"], &trusted), ip("1.2.3.4"));
        assert_eq!(
            client("127.0.0.1", &["6.6.6.6, 1.2.3.4, 10.0.0.7"], &trusted),
            ip("1.2.3.4")
        );
        assert_eq!(client("127.0.0.1", &["junk"], &trusted), ip("127.0.0.1"));
        assert_eq!(
            client("::ffff:127.0.0.1", &["1.2.3.4"], &trusted),
            ip("1.2.3.4")
        );
    }

    #[test]
    fn every_line_counts_in_order_so_a_forged_first_line_loses() {
        let trusted = nets(&["127.0.0.1"]);
        // The client sent its own line; the proxy appended a second with the real address.
        assert_eq!(
            client("127.0.0.1", &["6.6.6.6", "198.51.100.20"], &trusted),
            ip("198.51.100.20")
        );
        assert_eq!(
            client(
                "127.0.0.1",
                &["6.6.6.6, 7.7.7.7", "198.51.100.20, 127.0.0.1"],
                &trusted
            ),
            ip("198.51.100.20")
        );
    }

    #[test]
    fn hops_with_ports_are_addresses() {
        let trusted = nets(&["127.0.0.1"]);
        assert_eq!(
            client("127.0.0.1", &["198.51.100.7:4711"], &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client("127.0.0.1", &["[2001:db8::7]:443"], &trusted),
            ip("2001:db8::7")
        );
        assert_eq!(
            client("127.0.0.1", &["[2001:db8::8]"], &trusted),
            ip("2001:db8::8")
        );
        assert_eq!(
            client("127.0.0.1", &["2001:db8::9"], &trusted),
            ip("2001:db8::9")
        );
        assert_eq!(
            client("127.0.0.1", &["1.2.3.4:x"], &trusted),
            ip("127.0.0.1")
        );
        assert_eq!(
            client("127.0.0.1", &["[::1]:99999"], &trusted),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn the_path_names_the_trusted_proxies_passed() {
        let trusted = nets(&["10.0.0.0/8"]);
        let origin = resolve(ip("10.0.0.1"), ["203.0.113.5, 10.0.0.2"], &trusted);
        assert_eq!(origin.client, ip("203.0.113.5"));
        assert_eq!(origin.proxies, [ip("10.0.0.1"), ip("10.0.0.2")]);
        let direct = resolve(ip("203.0.113.5"), ["1.1.1.1"], &trusted);
        assert_eq!(direct.path().collect::<Vec<_>>(), [ip("203.0.113.5")]);
    }

    #[test]
    fn bad_networks_are_refused() {
        assert!(parse_networks(&["10.0.0.0/33".into()]).is_err());
        assert!(parse_networks(&["localhost".into()]).is_err());
    }
}
