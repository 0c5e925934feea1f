//! An IPv4 subnet with static IP pools, as org vDC networks and isolated vApp networks
//! declare them (`IpScope`: gateway, netmask, `IpRanges`). The checks vCD applies (and
//! a few it leaves to a failed task) run here, before anything is sent.
//!
//! ```
//! use nebulair_vcloud::workload::Subnet;
//!
//! let mut s = Subnet::parse("10.20.0.1/24")?;
//! s.add_pool("10.20.0.100", "10.20.0.199")?;
//! assert_eq!(s.netmask().to_string(), "255.255.255.0");
//! assert!(s.add_pool("10.20.0.150", "10.20.0.160").is_err()); // overlaps
//! assert!(s.add_pool("10.30.0.1", "10.30.0.9").is_err()); // outside the subnet
//! assert!(Subnet::parse("10.20.0.0/24").is_err()); // the network address
//! # Ok::<(), nebulair_vcloud::workload::NetworkError>(())
//! ```

use std::net::Ipv4Addr;

use super::network::NetworkError;

/// A gateway with its prefix length (1 to 30), and the static IP pools inside the subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Subnet {
    /// The gateway address.
    pub gateway: Ipv4Addr,
    /// The prefix length.
    pub prefix: u8,
    /// The static IP pools (first, last), in the order they were added.
    pub pools: Vec<(Ipv4Addr, Ipv4Addr)>,
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

/// Parses an IPv4 address for the value `what`.
pub(crate) fn parse_ip(what: &'static str, s: &str) -> Result<Ipv4Addr, NetworkError> {
    s.trim()
        .parse()
        .map_err(|_| NetworkError::invalid(what, format!("{s:?} is not an IPv4 address")))
}

impl Subnet {
    /// Parses `gateway/prefix` (`10.0.0.1/24`), with no pool.
    ///
    /// # Errors
    /// [`NetworkError::InvalidValue`] when the text is not `address/prefix`, the prefix is
    /// not 1 to 30, or the gateway is the subnet's network or broadcast address.
    pub fn parse(gateway_cidr: &str) -> Result<Self, NetworkError> {
        let (ip, prefix) = gateway_cidr.trim().split_once('/').ok_or_else(|| {
            NetworkError::invalid(
                "gateway",
                format!("{gateway_cidr:?} is not gateway/prefix, e.g. 10.0.0.1/24"),
            )
        })?;
        let gateway = parse_ip("gateway", ip)?;
        let prefix: u8 = prefix
            .trim()
            .parse()
            .ok()
            .filter(|p| (1..=30).contains(p))
            .ok_or_else(|| {
                NetworkError::invalid("prefix length", format!("{prefix:?} is not 1 to 30"))
            })?;
        let s = Subnet {
            gateway,
            prefix,
            pools: Vec::new(),
        };
        let host = u32::from(gateway) & !mask(prefix);
        if host == 0 || host == !mask(prefix) {
            return Err(NetworkError::invalid(
                "gateway",
                format!("{gateway} is the network or broadcast address of /{prefix}"),
            ));
        }
        Ok(s)
    }

    /// The netmask (`255.255.255.0` for /24).
    pub fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(mask(self.prefix))
    }

    /// The network address (`10.0.0.0` for `10.0.0.1/24`).
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.gateway) & mask(self.prefix))
    }

    /// Whether `ip` is a host address of the subnet (neither its network nor its broadcast
    /// address).
    pub fn contains_host(&self, ip: Ipv4Addr) -> bool {
        let (m, x) = (mask(self.prefix), u32::from(ip));
        x & m == u32::from(self.network()) && x & !m != 0 && x & !m != !m
    }

    /// Adds the static IP pool `first`..=`last`.
    ///
    /// # Errors
    /// [`NetworkError::InvalidValue`] for a malformed address, a range that ends before it
    /// starts, reaches outside the subnet's host addresses, contains the gateway, or
    /// overlaps another pool.
    pub fn add_pool(&mut self, first: &str, last: &str) -> Result<(), NetworkError> {
        let (a, b) = (parse_ip("IP pool", first)?, parse_ip("IP pool", last)?);
        let (x, y) = (u32::from(a), u32::from(b));
        if x > y {
            return Err(NetworkError::invalid(
                "IP pool",
                format!("{a}-{b} ends before it starts"),
            ));
        }
        let m = mask(self.prefix);
        if x & m != u32::from(self.network()) || y & m != u32::from(self.network()) {
            return Err(NetworkError::invalid(
                "IP pool",
                format!(
                    "{a}-{b} lies outside the subnet {}/{}",
                    self.network(),
                    self.prefix
                ),
            ));
        }
        if !self.contains_host(a) || !self.contains_host(b) {
            return Err(NetworkError::invalid(
                "IP pool",
                format!(
                    "{a}-{b} holds the network or broadcast address of {}/{}",
                    self.network(),
                    self.prefix
                ),
            ));
        }
        if (x..=y).contains(&u32::from(self.gateway)) {
            return Err(NetworkError::invalid(
                "IP pool",
                format!("{a}-{b} contains the gateway {}", self.gateway),
            ));
        }
        if self
            .pools
            .iter()
            .any(|(c, d)| x <= u32::from(*d) && u32::from(*c) <= y)
        {
            return Err(NetworkError::invalid(
                "IP pool",
                format!("{a}-{b} overlaps another pool"),
            ));
        }
        self.pools.push((a, b));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn gateways_and_pools_are_checked() {
        let s = Subnet::parse(" 192.168.10.1/24 ").expect("subnet");
        assert_eq!(s.network(), Ipv4Addr::new(192, 168, 10, 0));
        for (a, b) in [
            ("192.168.10.10", "192.168.10.20"),
            ("192.168.10.2", "192.168.10.254"),
        ] {
            assert!(s.clone().add_pool(a, b).is_ok(), "{a}-{b}");
        }
        for (a, b) in [
            ("192.168.11.10", "192.168.11.20"),
            ("192.168.10.20", "192.168.10.10"),
            ("192.168.10.1", "192.168.10.5"),
            ("192.168.10.0", "192.168.10.5"),
            ("192.168.10.200", "192.168.10.255"),
            ("x", "192.168.10.5"),
        ] {
            assert!(
                matches!(
                    s.clone().add_pool(a, b),
                    Err(NetworkError::InvalidValue { .. })
                ),
                "{a}-{b}"
            );
        }
        for bad in [
            "192.168.10.0/24",
            "192.168.10.255/24",
            "192.168.10.1/31",
            "192.168.10.1/0",
            "192.168.10.1",
            "192.168.10.1/x",
            "300.1.1.1/24",
        ] {
            assert!(Subnet::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        /// A pool is accepted exactly when both ends are host addresses of the subnet in
        /// order, the gateway lies outside it, and it overlaps no earlier pool.
        #[test]
        fn pools_are_accepted_exactly_when_they_fit(
            prefix in 16u8..=30, gw_host in 1u32..1000, a in 0u32..1100, len in 0u32..60,
            b0 in 0u32..1100, blen in 0u32..60,
        ) {
            let size = 1u32 << (32 - prefix);
            let net = 0x0a00_0000u32;
            let gw = net + 1 + gw_host % (size - 2);
            let mut s = Subnet::parse(&format!("{}/{prefix}", Ipv4Addr::from(gw))).expect("gw");
            let fits = |x: u32, y: u32, pools: &[(Ipv4Addr, Ipv4Addr)]| {
                x > net && y < net + size - 1 && x <= y && !(x..=y).contains(&gw)
                    && pools.iter().all(|(c, d)| y < u32::from(*c) || u32::from(*d) < x)
            };
            for (x, l) in [(net + a, len), (net + b0, blen)] {
                let before = s.pools.clone();
                let ok = s
                    .add_pool(&Ipv4Addr::from(x).to_string(), &Ipv4Addr::from(x + l).to_string())
                    .is_ok();
                prop_assert_eq!(ok, fits(x, x + l, &before));
                prop_assert_eq!(s.pools.len(), before.len() + usize::from(ok));
            }
        }
    }
}
