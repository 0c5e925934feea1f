//! Validated addresses and ports for ANS rules.
//!
//! vcloudair 0.5 accepted any dotted quad with an optional `/N` or `/NN` suffix (so
//! `10.0.0.0/99` passed) and put a destination IP into the interface-group list. Here an
//! address is parsed once into an [`AnsAddress`]: an IPv4 address, an IPv4 network with a
//! prefix length of 0 to 32, one of the edge's interface groups (`internal`,
//! `external`), or `any`; each lands in the right JSON list.
//!
//! ```
//! use nebulair_vcloud::ans::{AnsAddress, Ipv4Cidr, VnicGroup};
//!
//! let a: AnsAddress = "192.168.109.0/24".parse()?;
//! assert_eq!(a, AnsAddress::Ip(Ipv4Cidr::new([192, 168, 109, 0].into(), Some(24))?));
//! assert_eq!("External".parse::<AnsAddress>()?, AnsAddress::Group(VnicGroup::External));
//! assert!("10.0.0.0/33".parse::<AnsAddress>().is_err());
//! assert!("256.1.1.1".parse::<AnsAddress>().is_err());
//! # Ok::<(), nebulair_core::Error>(())
//! ```

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use nebulair_core::{Error, Result};

/// An IPv4 address, optionally with a prefix length (`a.b.c.d` or `a.b.c.d/n`, n in 0..=32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Cidr {
    addr: Ipv4Addr,
    prefix: Option<u8>,
}

impl Ipv4Cidr {
    /// An address with an optional prefix length.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) when the prefix
    /// is above 32.
    pub fn new(addr: Ipv4Addr, prefix: Option<u8>) -> Result<Self> {
        if let Some(p) = prefix
            && p > 32
        {
            return Err(Error::invalid_input(format!(
                "prefix length /{p} is out of range (0..=32)"
            )));
        }
        Ok(Ipv4Cidr { addr, prefix })
    }

    /// The address part.
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// The prefix length, if one was given.
    pub fn prefix(&self) -> Option<u8> {
        self.prefix
    }
}

impl From<Ipv4Addr> for Ipv4Cidr {
    fn from(addr: Ipv4Addr) -> Self {
        Ipv4Cidr { addr, prefix: None }
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.prefix {
            Some(p) => write!(f, "{}/{p}", self.addr),
            None => write!(f, "{}", self.addr),
        }
    }
}

impl FromStr for Ipv4Cidr {
    type Err = Error;

    /// Parses `a.b.c.d` or `a.b.c.d/n`. Octets are decimal without leading zeros (an
    /// octet like `010` is ambiguous and rejected), the prefix is 0..=32.
    fn from_str(s: &str) -> Result<Self> {
        let invalid = || Error::invalid_input(format!("invalid IPv4 address or network {s:?}"));
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => {
                if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid());
                }
                let p: u8 = p.parse().map_err(|_| invalid())?;
                (a, Some(p))
            }
            None => (s, None),
        };
        let addr: Ipv4Addr = addr.parse().map_err(|_| invalid())?;
        Ipv4Cidr::new(addr, prefix).map_err(|e| e.context(format!("{s:?}")))
    }
}

/// An interface group of the edge, usable as a firewall source or destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VnicGroup {
    /// All internal interfaces (`internal`).
    Internal,
    /// All external (uplink) interfaces (`external`).
    External,
}

impl VnicGroup {
    /// The JSON value (`internal` or `external`).
    pub fn as_str(self) -> &'static str {
        match self {
            VnicGroup::Internal => "internal",
            VnicGroup::External => "external",
        }
    }
}

impl fmt::Display for VnicGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a firewall rule matches: an IP or network, an interface group, or anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnsAddress {
    /// An IPv4 address or network; written to `ipAddress`.
    Ip(Ipv4Cidr),
    /// An interface group; written to `vnicGroupId`.
    Group(VnicGroup),
    /// Any address: both lists stay empty.
    Any,
}

impl From<Ipv4Addr> for AnsAddress {
    fn from(addr: Ipv4Addr) -> Self {
        AnsAddress::Ip(addr.into())
    }
}

impl From<Ipv4Cidr> for AnsAddress {
    fn from(c: Ipv4Cidr) -> Self {
        AnsAddress::Ip(c)
    }
}

impl From<VnicGroup> for AnsAddress {
    fn from(g: VnicGroup) -> Self {
        AnsAddress::Group(g)
    }
}

impl fmt::Display for AnsAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnsAddress::Ip(c) => c.fmt(f),
            AnsAddress::Group(g) => g.fmt(f),
            AnsAddress::Any => f.write_str("any"),
        }
    }
}

impl FromStr for AnsAddress {
    type Err = Error;

    /// Parses `internal`, `external`, `any` (any case) or an [`Ipv4Cidr`]. Surrounding
    /// spaces are ignored; an empty string is an error (write `any` for "anything").
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("internal") {
            Ok(AnsAddress::Group(VnicGroup::Internal))
        } else if t.eq_ignore_ascii_case("external") {
            Ok(AnsAddress::Group(VnicGroup::External))
        } else if t.eq_ignore_ascii_case("any") {
            Ok(AnsAddress::Any)
        } else if t.is_empty() {
            Err(Error::invalid_input(
                "empty address (use \"any\", \"internal\", \"external\" or an IPv4 address)",
            ))
        } else {
            t.parse::<Ipv4Cidr>().map(AnsAddress::Ip)
        }
    }
}

/// Validates a port specification and returns it normalised: `any`, a port (1..=65535),
/// a range `low-high`, or a comma-separated list of those. Spaces are removed and `ANY`
/// is lower-cased.
///
/// # Errors
/// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) naming the value.
///
/// ```
/// use nebulair_vcloud::ans::normalize_port;
/// assert_eq!(normalize_port("Any")?, "any");
/// assert_eq!(normalize_port("80, 443,8000-8080")?, "80,443,8000-8080");
/// assert!(normalize_port("70000").is_err());
/// assert!(normalize_port("90-80").is_err());
/// # Ok::<(), nebulair_core::Error>(())
/// ```
pub fn normalize_port(spec: &str) -> Result<String> {
    let compact: String = spec.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.eq_ignore_ascii_case("any") {
        return Ok("any".to_owned());
    }
    let invalid = || {
        Error::invalid_input(format!(
            "invalid port {spec:?} (expected \"any\", 1..=65535, a range low-high or a comma list)"
        ))
    };
    if compact.is_empty() {
        return Err(invalid());
    }
    let port = |p: &str| -> Result<u16> {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        match p.parse::<u16>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(invalid()),
        }
    };
    for part in compact.split(',') {
        match part.split_once('-') {
            Some((lo, hi)) => {
                if port(lo)? > port(hi)? {
                    return Err(invalid());
                }
            }
            None => {
                port(part)?;
            }
        }
    }
    Ok(compact)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_parse_and_display() {
        let cases = [
            ("10.0.0.1", "10.0.0.1"),
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("255.255.255.255/32", "255.255.255.255/32"),
            (" INTERNAL ", "internal"),
            ("External", "external"),
            ("ANY", "any"),
        ];
        for (input, shown) in cases {
            let a: AnsAddress = input.parse().expect(input);
            assert_eq!(a.to_string(), shown);
        }
    }

    #[test]
    fn bad_addresses_are_rejected() {
        for bad in [
            "",
            "1.1.1.1/99",
            "1.1.1.1/33",
            "256.0.0.1",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.4/",
            "1.2.3.4/+8",
            "01.2.3.4",
            "a.b.c.d",
            "1.2.3.4/8/8",
            "::1",
            "intern",
        ] {
            let e = bad.parse::<AnsAddress>().expect_err(bad);
            assert_eq!(e.kind(), nebulair_core::ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn ports_are_validated() {
        assert_eq!(normalize_port("22").expect("22"), "22");
        assert_eq!(normalize_port("1-65535").expect("range"), "1-65535");
        for bad in ["", "0", "65536", "-1", "a", "80-", ",", "80,,81", "1-2-3"] {
            assert!(normalize_port(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_ipv4_with_prefix_round_trips(a in any::<[u8; 4]>(), p in proptest::option::of(0u8..=32)) {
            let c = Ipv4Cidr::new(Ipv4Addr::from(a), p).expect("valid");
            let back: Ipv4Cidr = c.to_string().parse().expect("parses");
            prop_assert_eq!(back, c);
        }

        #[test]
        fn garbage_never_panics(s in "\\PC{0,24}") {
            let _ = s.parse::<AnsAddress>();
            let _ = normalize_port(&s);
        }
    }
}
