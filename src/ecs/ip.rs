//! IP addresses in indicator fields: validation as Elasticsearch's `ip` type does it, and
//! the IPv4 / IPv6 decision for `threat.indicator.type`.

use std::net::IpAddr;

/// Reads an IP address written alone (no port, no brackets, no prefix length), as an
/// ECS `ip` field takes it. IPv6 zone ids (`fe80::1%eth0`) are accepted and ignored.
pub fn parse(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    let (addr, zone) = text.split_once('%')?;
    if zone.is_empty()
        || !zone
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
    {
        return None;
    }
    addr.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
}

/// Why `text` is not an address, for an error message about `field`.
pub fn invalid(field: &str, text: &str) -> String {
    let hint = if text.contains('/') {
        " (a network range, not an address)"
    } else if text.starts_with('[') || (text.matches(':').count() == 1 && text.contains('.')) {
        " (an address with a port)"
    } else {
        ""
    };
    format!("cannot parse `{field}` as an ip address: `{text}`{hint}")
}

/// `ipv6-addr` when `text` is an IPv6 address (or, failing to parse, contains `:` as
/// Elastic tests it), else `ipv4-addr`.
pub fn indicator_type(text: &str) -> &'static str {
    match parse(text) {
        Some(IpAddr::V6(_)) => "ipv6-addr",
        Some(IpAddr::V4(_)) => "ipv4-addr",
        None if text.contains(':') => "ipv6-addr",
        None => "ipv4-addr",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for ok in [
            "89.160.20.156",
            "::e",
            "2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6",
            "::ffff:1.2.3.4",
            "fe80::1%eth0",
        ] {
            assert!(parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "1.2.3",
            "1.2.3.4/24",
            "[::1]",
            "[::1]:80",
            "1.2.3.4:80",
            "256.1.1.1",
            " 1.2.3.4",
            "fe80::1%",
            "01.2.3.4",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn errors_name_field_value_and_shape() {
        assert_eq!(
            invalid("json.srcip", "10.0.0.0/8"),
            "cannot parse `json.srcip` as an ip address: `10.0.0.0/8` (a network range, not an address)"
        );
        assert!(invalid("json.ip", "[::1]:53").ends_with("(an address with a port)"));
        assert!(invalid("json.ip", "1.2.3.4:53").ends_with("(an address with a port)"));
        assert_eq!(
            invalid("json.ip", "nope"),
            "cannot parse `json.ip` as an ip address: `nope`"
        );
    }

    #[test]
    fn version_decides_the_type() {
        assert_eq!(indicator_type("1.2.3.4"), "ipv4-addr");
        assert_eq!(indicator_type("::e"), "ipv6-addr");
        assert_eq!(indicator_type("[::1]:80"), "ipv6-addr");
        assert_eq!(indicator_type("garbage"), "ipv4-addr");
    }
}
