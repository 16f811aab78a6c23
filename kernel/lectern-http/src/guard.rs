//! The SSRF guard: which destination addresses a tenant-chosen URL (a
//! webhook) may reach.
//!
//! A URL chosen by a tenant, without a guard, is a way to make the kernel
//! send requests into its own network (metadata services, admin ports, other
//! tenants' internal hosts). Two checks cover both ways a URL
//! names a host:
//!
//! - an IP literal is classified before the request ([`check_literal`]);
//! - a name is resolved by [`GuardedResolver`], which refuses the whole name
//!   if any of its addresses is forbidden and otherwise hands exactly the
//!   checked addresses to the connector, so a second, different DNS answer
//!   (rebinding) is never asked for.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::HttpError;

/// Why `ip` is not a public unicast address, or `None` if it is one.
pub(crate) fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, ..) => "an unspecified (\"this network\") address",
        (127, ..) => "a loopback address",
        (10, ..) | (192, 168, _) => "a private address",
        (172, 16..=31, _) => "a private address",
        (100, 64..=127, _) => "a shared (carrier-grade NAT) address",
        (169, 254, _) => "a link-local address",
        (192, 0, 0) => "an IETF protocol assignment address",
        (198, 18..=19, _) => "a benchmarking address",
        (224..=239, ..) => "a multicast address",
        (240..=255, ..) => "a reserved or broadcast address",
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    // Addresses that carry an IPv4 address reach that address: judge it instead.
    let embedded = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    match s {
        // ::ffff:a.b.c.d (IPv4-mapped) and ::a.b.c.d (IPv4-compatible, deprecated).
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0, 0, hi, lo] => return forbidden_v4(embedded(hi, lo)),
        // 64:ff9b::a.b.c.d, the well-known NAT64 prefix.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => return forbidden_v4(embedded(hi, lo)),
        // 2002:aabb:ccdd::/48, 6to4.
        [0x2002, hi, lo, ..] => return forbidden_v4(embedded(hi, lo)),
        _ => {}
    }
    Some(match s[0] {
        0xff00..=0xffff => "a multicast address",
        0xfe80..=0xfebf => "a link-local address",
        0xfec0..=0xfeff => "a site-local address",
        0xfc00..=0xfdff => "a unique-local address",
        _ if s[..4] == [0x100, 0, 0, 0] => "a discard-only address",
        _ => return None,
    })
}

/// The refusal for an address, naming the host as the URL gave it.
pub(crate) fn refusal(host: &str, ip: IpAddr, why: &str) -> HttpError {
    HttpError::Refused(format!(
        "{host} is {why} ({ip}); webhooks may only reach public addresses unless allow_private_addresses is set"
    ))
}

/// Refuses an IP-literal host that is not public (names go through [`GuardedResolver`]).
pub(crate) fn check_literal(host: &url::Host<&str>) -> Result<(), HttpError> {
    let ip = match *host {
        url::Host::Domain(_) => return Ok(()),
        url::Host::Ipv4(v4) => IpAddr::V4(v4),
        url::Host::Ipv6(v6) => IpAddr::V6(v6),
    };
    match forbidden(ip) {
        Some(why) => Err(refusal(&host.to_string(), ip, why)),
        None => Ok(()),
    }
}

/// How long [`check_destination`] waits for a name to resolve.
const REGISTER_LOOKUP: std::time::Duration = std::time::Duration::from_secs(3);

/// Checks a tenant-chosen URL when it is registered, so a destination that
/// can never be reached under the guard is refused at once, with the reason,
/// rather than at every delivery: an IP literal in any spelling the URL
/// standard accepts (`0x7f000001`, `2130706433`, `[::ffff:127.0.0.1]` are
/// all parsed to their address), the `localhost` names (RFC 6761), and a
/// name whose current DNS answer has a non-public address. A name that does
/// not resolve now is accepted (DNS may not be set up yet); every delivery
/// still goes through [`GuardedResolver`], which also defeats rebinding.
pub async fn check_destination(url: &url::Url) -> Result<(), HttpError> {
    let Some(host) = url.host() else { return Err(HttpError::Refused("the URL has no host".into())) };
    if let url::Host::Domain(name) = host {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if name == "localhost" || name.ends_with(".localhost") {
            return Err(HttpError::Refused(format!(
                "{name} is a loopback name; webhooks may only reach public addresses unless allow_private_addresses is set"
            )));
        }
        let port = url.port_or_known_default().unwrap_or(443);
        let found = tokio::time::timeout(REGISTER_LOOKUP, tokio::net::lookup_host((name.as_str(), port))).await;
        if let Ok(Ok(addrs)) = found {
            for addr in addrs {
                if let Some(why) = forbidden(addr.ip()) {
                    return Err(refusal(&name, addr.ip(), why));
                }
            }
        }
        return Ok(());
    }
    check_literal(&host)
}

/// A DNS resolver for reqwest that refuses names with any non-public address.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            for addr in &addrs {
                if let Some(why) = forbidden(addr.ip()) {
                    return Err(Box::new(refusal(&host, addr.ip(), why)) as Box<dyn std::error::Error + Send + Sync>);
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> Option<&'static str> {
        forbidden(s.parse::<Ipv4Addr>().unwrap().into())
    }

    fn v6(s: &str) -> Option<&'static str> {
        forbidden(s.parse::<Ipv6Addr>().unwrap().into())
    }

    #[test]
    fn ipv4_classes() {
        for (addr, why) in [
            ("0.0.0.0", "unspecified"),
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("100.64.0.1", "shared"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("255.255.255.255", "broadcast"),
        ] {
            assert!(v4(addr).is_some_and(|r| r.contains(why)), "{addr}: {:?}", v4(addr));
        }
        for addr in
            ["8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1", "93.184.215.14"]
        {
            assert_eq!(v4(addr), None, "{addr}");
        }
    }

    #[test]
    fn ipv6_classes() {
        for (addr, why) in [
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fc00::1", "unique-local"),
            ("fd12:3456::1", "unique-local"),
            ("ff02::1", "multicast"),
            ("fec0::1", "site-local"),
            ("100::1", "discard"),
        ] {
            assert!(v6(addr).is_some_and(|r| r.contains(why)), "{addr}: {:?}", v6(addr));
        }
        for addr in ["2001:4860:4860::8888", "2606:4700:4700::1111", "2a00:1450:4001::1"] {
            assert_eq!(v6(addr), None, "{addr}");
        }
    }

    #[test]
    fn ipv6_addresses_embedding_ipv4_are_judged_by_the_ipv4_address() {
        assert!(v6("::ffff:127.0.0.1").is_some_and(|r| r.contains("loopback")));
        assert!(v6("::ffff:10.0.0.1").is_some_and(|r| r.contains("private")));
        assert!(v6("::ffff:169.254.169.254").is_some_and(|r| r.contains("link-local")));
        assert!(v6("::127.0.0.1").is_some_and(|r| r.contains("loopback")));
        assert!(v6("64:ff9b::192.168.0.1").is_some_and(|r| r.contains("private")));
        assert!(v6("2002:7f00:1::").is_some_and(|r| r.contains("loopback")));
        assert_eq!(v6("::ffff:8.8.8.8"), None);
        assert_eq!(v6("64:ff9b::8.8.8.8"), None);
        assert_eq!(v6("2002:808:808::1"), None);
    }

    #[test]
    fn literal_hosts_are_checked_and_names_left_to_the_resolver() {
        let check = |u: &str| check_literal(&url::Url::parse(u).unwrap().host().unwrap());
        assert!(matches!(check("http://127.0.0.1/"), Err(HttpError::Refused(_))));
        assert!(matches!(check("http://[::ffff:7f00:1]/"), Err(HttpError::Refused(_))));
        // WHATWG URL parsing normalises the odd IPv4 spellings before we see them.
        assert!(matches!(check("http://0x7f.1/"), Err(HttpError::Refused(_))));
        assert!(matches!(check("http://2130706433/"), Err(HttpError::Refused(_))));
        assert!(check("http://8.8.8.8/").is_ok());
        assert!(check("http://example.org/").is_ok());
    }

    #[tokio::test]
    async fn the_resolver_refuses_localhost() {
        let name: Name = "localhost".parse().unwrap();
        let err = GuardedResolver.resolve(name).await.err().unwrap();
        let err = err.downcast_ref::<HttpError>().unwrap();
        assert!(err.to_string().contains("loopback"), "{err}");
    }
}
