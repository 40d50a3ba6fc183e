//! The `Host` a request names, as the gateway and the sandbox МИС take it to write their own
//! address (the WSDL's location, the status page's links): believed only when it is plausible.

/// The `Host` header's value when it is a plausible host name (with its port): 1 to 255
/// characters of letters, digits, `.`, `-`, `:` and the brackets of an IPv6 address. Anything
/// else would be written into a page or a document: the caller uses its own configured host.
pub fn plausible(host: &str) -> Option<&str> {
    ((1..=255).contains(&host.len())
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')))
    .then_some(host)
}

#[cfg(test)]
mod tests {
    use super::plausible;

    #[test]
    fn host_names_addresses_and_ports_are_plausible() {
        for host in [
            "clinic.example",
            "127.0.0.1:8080",
            "[::1]:80",
            "xn--80a.xn--p1ai",
        ] {
            assert_eq!(plausible(host), Some(host));
        }
    }

    #[test]
    fn empty_long_and_markup_carrying_hosts_are_not() {
        let long = "a".repeat(256);
        for host in [
            "",
            long.as_str(),
            "a\"><script>",
            "a b",
            "host/path",
            "хост",
        ] {
            assert_eq!(plausible(host), None, "{host}");
        }
        assert!(plausible(&"a".repeat(255)).is_some());
    }
}
