//! The cloudapi's JSON documents of NSX-T edge gateways: the gateway, its firewall rules,
//! NAT rules and IPsec VPN tunnels. Every document keeps the fields it does not model in
//! `extra`, so what is read can be sent back unchanged. Values that are closed sets in
//! vCD (actions, directions, rule types) are enums that keep an unknown value as
//! `Other(text)` rather than failing.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use nebulair_core::{Error, Result};

pub use crate::ans::PresharedKey;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident => $s:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vm])* $v,)+
            /// A value this SDK does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// The wire text.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$v => $s,)+
                    $name::Other(s) => s,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            /// Parses the wire text (any case); unknown text is an error here (use
            /// `Other` on purpose).
            fn from_str(s: &str) -> Result<Self> {
                $(if s.eq_ignore_ascii_case($s) { return Ok($name::$v); })+
                Err(Error::invalid_input(format!(
                    concat!("{:?} is not one of ", $(" ", $s,)+), s
                )))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok(s.parse().unwrap_or($name::Other(s)))
            }
        }
    };
}

string_enum! {
    /// What a firewall rule does with matching traffic.
    FirewallAction {
        /// `ALLOW`.
        Allow => "ALLOW",
        /// `DROP` (silently).
        Drop => "DROP",
        /// `REJECT` (with an answer; vCD 10.2.2+).
        Reject => "REJECT",
    }
}

string_enum! {
    /// Which traffic direction a firewall rule applies to.
    Direction {
        /// `IN`.
        In => "IN",
        /// `OUT`.
        Out => "OUT",
        /// `IN_OUT`.
        InOut => "IN_OUT",
    }
}

string_enum! {
    /// The IP versions a firewall rule applies to.
    IpProtocol {
        /// `IPV4`.
        Ipv4 => "IPV4",
        /// `IPV6`.
        Ipv6 => "IPV6",
        /// `IPV4_IPV6`.
        Ipv4Ipv6 => "IPV4_IPV6",
    }
}

string_enum! {
    /// The kind of a NAT rule.
    NatRuleType {
        /// `DNAT`: external address to an internal one.
        Dnat => "DNAT",
        /// `SNAT`: internal addresses to an external one.
        Snat => "SNAT",
        /// `NO_DNAT`: exempt from DNAT.
        NoDnat => "NO_DNAT",
        /// `NO_SNAT`: exempt from SNAT.
        NoSnat => "NO_SNAT",
        /// `REFLEXIVE` (stateless; API 36.0+, sent in `type`).
        Reflexive => "REFLEXIVE",
    }
}

/// A reference to another cloudapi entity (`{"name", "id"}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EntityRef {
    /// The name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The id (`urn:vcloud:<type>:<uuid>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Every other field, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl EntityRef {
    /// A reference by id.
    pub fn id(id: impl Into<String>) -> Self {
        EntityRef {
            id: Some(id.into()),
            ..Self::default()
        }
    }
}

/// The optimistic-locking version of a rule (`{"version": n}`): send back what was read;
/// vCD refuses a change made against an older version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RuleVersion {
    /// The version number.
    #[serde(default)]
    pub version: i64,
}

/// One subnet of an edge uplink.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EdgeSubnet {
    /// The gateway address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// The prefix length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_length: Option<u8>,
    /// The edge's primary address on this subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_ip: Option<String>,
    /// Whether the subnet is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Every other field, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"values": [...]}` around the subnets of an uplink.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EdgeSubnets {
    /// The subnets.
    #[serde(default)]
    pub values: Vec<EdgeSubnet>,
    /// Every other field, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An uplink of an edge gateway to an external network.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EdgeUplink {
    /// The external network's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uplink_id: Option<String>,
    /// The external network's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uplink_name: Option<String>,
    /// Its subnets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnets: Option<EdgeSubnets>,
    /// Whether it is connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected: Option<bool>,
    /// Every other field, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What backs an edge gateway (`gatewayBacking`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GatewayBacking {
    /// The NSX id of the gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backing_id: Option<String>,
    /// `NSXT_BACKED`, `NSXV_BACKED`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_type: Option<String>,
    /// `{"type": "NSX_T"}` or `{"type": "NSX_V"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_provider: Option<Value>,
    /// Every other field, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An edge gateway as the cloudapi describes it (`/cloudapi/1.0.0/edgeGateways/{id}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EdgeGateway {
    /// `urn:vcloud:gateway:<uuid>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name.
    #[serde(default)]
    pub name: String,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The org vDC it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_vdc: Option<EntityRef>,
    /// Its owner (a vDC or a vDC group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_ref: Option<EntityRef>,
    /// Its org.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_ref: Option<EntityRef>,
    /// Its uplinks.
    #[serde(default)]
    pub edge_gateway_uplinks: Vec<EdgeUplink>,
    /// What backs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_backing: Option<GatewayBacking>,
    /// Every other field, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl EdgeGateway {
    /// Whether NSX-T backs it (`gatewayBacking.networkProvider.type == "NSX_T"`, or a
    /// gateway type of `NSXT_*`).
    pub fn is_nsxt(&self) -> bool {
        let Some(b) = &self.gateway_backing else {
            return false;
        };
        let provider = b
            .network_provider
            .as_ref()
            .and_then(|p| p.get("type"))
            .and_then(Value::as_str);
        provider == Some("NSX_T")
            || b.gateway_type
                .as_deref()
                .is_some_and(|t| t.starts_with("NSXT"))
    }

    /// The primary address of its first uplink subnet.
    pub fn primary_ip(&self) -> Option<&str> {
        self.edge_gateway_uplinks
            .iter()
            .filter_map(|u| u.subnets.as_ref())
            .flat_map(|s| &s.values)
            .find_map(|s| s.primary_ip.as_deref())
    }
}

/// One NSX-T firewall rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FirewallRule {
    /// The rule id (set by vCD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name.
    pub name: String,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The action up to API 35.0 (`ALLOW`, `DROP`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<FirewallAction>,
    /// The action from API 35.2 (`ALLOW`, `DROP`, `REJECT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_value: Option<FirewallAction>,
    /// Whether the rule is on.
    #[serde(default)]
    pub enabled: bool,
    /// Source firewall groups (IP sets, security groups); none means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_firewall_groups: Vec<EntityRef>,
    /// Destination firewall groups; none means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destination_firewall_groups: Vec<EntityRef>,
    /// Application port profiles; none means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub application_port_profiles: Vec<EntityRef>,
    /// IP versions.
    pub ip_protocol: IpProtocol,
    /// Whether matches are logged.
    #[serde(default)]
    pub logging: bool,
    /// The direction.
    pub direction: Direction,
    /// The optimistic-locking version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<RuleVersion>,
    /// Every other field, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl FirewallRule {
    /// An enabled rule: `action` on IPv4 and IPv6 traffic in both directions, any source,
    /// destination and application (narrow it with the fields).
    pub fn new(name: impl Into<String>, action: FirewallAction) -> Self {
        FirewallRule {
            id: None,
            name: name.into(),
            description: None,
            action: Some(match action {
                FirewallAction::Reject => FirewallAction::Drop,
                ref other => other.clone(),
            }),
            action_value: Some(action),
            enabled: true,
            source_firewall_groups: Vec::new(),
            destination_firewall_groups: Vec::new(),
            application_port_profiles: Vec::new(),
            ip_protocol: IpProtocol::Ipv4Ipv6,
            logging: false,
            direction: Direction::InOut,
            version: None,
            extra: Map::new(),
        }
    }

    /// The action in effect (`actionValue`, else `action`).
    pub fn effective_action(&self) -> Option<&FirewallAction> {
        self.action_value.as_ref().or(self.action.as_ref())
    }

    /// Checks the rule before it is sent: a name, an action, known direction and IP
    /// protocol, group and profile references with ids.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) naming the rule
    /// and the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| {
            Err(Error::invalid_input(format!(
                "firewall rule {:?}: {what}",
                self.name
            )))
        };
        if self.name.trim().is_empty() {
            return Err(Error::invalid_input("firewall rule: the name is empty"));
        }
        match self.effective_action() {
            None => return bad("no action".into()),
            Some(FirewallAction::Other(a)) => return bad(format!("unknown action {a:?}")),
            _ => {}
        }
        if let Direction::Other(d) = &self.direction {
            return bad(format!("unknown direction {d:?}"));
        }
        if let IpProtocol::Other(p) = &self.ip_protocol {
            return bad(format!("unknown IP protocol {p:?}"));
        }
        for (what, refs) in [
            ("source group", &self.source_firewall_groups),
            ("destination group", &self.destination_firewall_groups),
            ("application port profile", &self.application_port_profiles),
        ] {
            if refs
                .iter()
                .any(|r| r.id.as_deref().is_none_or(|i| i.trim().is_empty()))
            {
                return bad(format!("a {what} reference has no id"));
            }
        }
        Ok(())
    }
}

/// The firewall rules of an edge (`.../firewall/rules`): system and default rules are
/// vCD's, user-defined rules are the ones a `PUT` replaces.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FirewallRules {
    /// Rules vCD adds (read only).
    #[serde(default)]
    pub system_rules: Vec<FirewallRule>,
    /// The default rule(s) (read only here).
    #[serde(default)]
    pub default_rules: Vec<FirewallRule>,
    /// The user's rules, in order.
    #[serde(default)]
    pub user_defined_rules: Vec<FirewallRule>,
    /// Every other field, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Checks an address field of a NAT rule: an IP address, a CIDR (`10.0.0.0/24`) or a range
/// (`10.0.0.5-10.0.0.9`), one or more separated by commas; `any` is not a value vCD takes.
///
/// # Errors
/// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) naming the part.
pub fn check_addresses(what: &str, text: &str) -> Result<()> {
    let bad = |part: &str, why: &str| {
        Err(Error::invalid_input(format!(
            "{what} {text:?}: {part:?} {why}"
        )))
    };
    if text.trim().is_empty() {
        return bad(text, "is empty");
    }
    for part in text.split(',').map(str::trim) {
        if let Some((addr, prefix)) = part.split_once('/') {
            let Ok(ip) = addr.parse::<IpAddr>() else {
                return bad(part, "is not a CIDR: the address is not an IP address");
            };
            let max = if ip.is_ipv4() { 32 } else { 128 };
            match prefix.parse::<u8>() {
                Ok(p) if p <= max => {}
                _ => return bad(part, "is not a CIDR: the prefix length is out of range"),
            }
        } else if let Some((a, b)) = part.split_once('-') {
            match (a.trim().parse::<IpAddr>(), b.trim().parse::<IpAddr>()) {
                (Ok(x), Ok(y)) if x.is_ipv4() == y.is_ipv4() && x <= y => {}
                (Ok(_), Ok(_)) => return bad(part, "is not a range: the ends are out of order"),
                _ => return bad(part, "is not a range of IP addresses"),
            }
        } else if part.parse::<IpAddr>().is_err() {
            return bad(part, "is not an IP address, a CIDR or a range");
        }
    }
    Ok(())
}

/// Checks a port field: a port (`443`) or a range (`8000-8080`), 1 to 65535.
///
/// # Errors
/// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput).
pub fn check_port(what: &str, text: &str) -> Result<()> {
    let port = |p: &str| p.trim().parse::<u16>().ok().filter(|p| *p >= 1);
    let ok = match text.split_once('-') {
        Some((a, b)) => matches!((port(a), port(b)), (Some(x), Some(y)) if x <= y),
        None => port(text).is_some(),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{what} {text:?} is not a port (1-65535) or a port range"
        )))
    }
}

/// One NSX-T NAT rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NatRule {
    /// The rule id (set by vCD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name.
    pub name: String,
    /// The description.
    #[serde(default)]
    pub description: String,
    /// Whether the rule is on.
    #[serde(default)]
    pub enabled: bool,
    /// The kind, up to API 35.2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_type: Option<NatRuleType>,
    /// The kind, from API 36.0 (`REFLEXIVE` only here).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<NatRuleType>,
    /// External addresses (DNAT: the address traffic arrives at; SNAT: the one it leaves
    /// with).
    #[serde(default)]
    pub external_addresses: String,
    /// Internal addresses.
    #[serde(default)]
    pub internal_addresses: String,
    /// The application port profile (DNAT: the translated service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_port_profile: Option<EntityRef>,
    /// DNAT: the external port (API 35.0+; `internalPort` before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnat_external_port: Option<String>,
    /// SNAT: only traffic to these destinations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snat_destination_addresses: Option<String>,
    /// Whether matches are logged.
    #[serde(default)]
    pub logging: bool,
    /// `MATCH_INTERNAL_ADDRESS`, `MATCH_EXTERNAL_ADDRESS`, `BYPASS` (API 35.2+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firewall_match: Option<String>,
    /// Lower runs first (API 35.2+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// The optimistic-locking version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<RuleVersion>,
    /// Every other field, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl NatRule {
    fn new(name: &str, kind: NatRuleType, external: &str, internal: &str) -> Self {
        NatRule {
            id: None,
            name: name.to_owned(),
            description: String::new(),
            enabled: true,
            rule_type: Some(kind),
            type_: None,
            external_addresses: external.to_owned(),
            internal_addresses: internal.to_owned(),
            application_port_profile: None,
            dnat_external_port: None,
            snat_destination_addresses: None,
            logging: false,
            firewall_match: None,
            priority: None,
            version: None,
            extra: Map::new(),
        }
    }

    /// A DNAT rule: traffic to `external` goes to `internal`.
    pub fn dnat(
        name: impl AsRef<str>,
        external: impl AsRef<str>,
        internal: impl AsRef<str>,
    ) -> Self {
        Self::new(
            name.as_ref(),
            NatRuleType::Dnat,
            external.as_ref(),
            internal.as_ref(),
        )
    }

    /// An SNAT rule: traffic from `internal` leaves as `external`.
    pub fn snat(
        name: impl AsRef<str>,
        external: impl AsRef<str>,
        internal: impl AsRef<str>,
    ) -> Self {
        Self::new(
            name.as_ref(),
            NatRuleType::Snat,
            external.as_ref(),
            internal.as_ref(),
        )
    }

    /// Sets the DNAT external port (a port or a range).
    pub fn external_port(mut self, port: impl Into<String>) -> Self {
        self.dnat_external_port = Some(port.into());
        self
    }

    /// Sets the description.
    pub fn describe(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }

    /// The kind in effect (`type`, else `ruleType`).
    pub fn kind(&self) -> Option<&NatRuleType> {
        self.type_.as_ref().or(self.rule_type.as_ref())
    }

    /// Checks the rule before it is sent: a name, a known kind, addresses that are IPs,
    /// CIDRs or ranges (the internal one may be empty only for `NO_SNAT`/`NO_DNAT`... as
    /// vCD requires), a valid port.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) naming the rule
    /// and the field.
    pub fn validate(&self) -> Result<()> {
        let ctx = |e: Error| e.context(format!("NAT rule {:?}", self.name));
        if self.name.trim().is_empty() {
            return Err(Error::invalid_input("NAT rule: the name is empty"));
        }
        let kind = match self.kind() {
            None => return Err(ctx(Error::invalid_input("no rule type"))),
            Some(NatRuleType::Other(k)) => {
                return Err(ctx(Error::invalid_input(format!(
                    "unknown rule type {k:?}"
                ))));
            }
            Some(k) => k.clone(),
        };
        // vCD: SNAT/NO_DNAT/REFLEXIVE need an external address, DNAT/SNAT/REFLEXIVE an
        // internal one; NO_SNAT has no external address.
        if kind != NatRuleType::NoSnat {
            check_addresses("external addresses", &self.external_addresses).map_err(ctx)?;
        }
        if matches!(
            kind,
            NatRuleType::Dnat | NatRuleType::Snat | NatRuleType::Reflexive | NatRuleType::NoSnat
        ) {
            check_addresses("internal addresses", &self.internal_addresses).map_err(ctx)?;
        }
        if let Some(p) = &self.dnat_external_port {
            check_port("external port", p).map_err(ctx)?;
        }
        if let Some(d) = &self.snat_destination_addresses
            && !d.is_empty()
        {
            check_addresses("SNAT destination addresses", d).map_err(ctx)?;
        }
        Ok(())
    }
}

/// The local side of an IPsec tunnel.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LocalEndpoint {
    /// The local id (defaults to the address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_id: Option<String>,
    /// The edge's address the tunnel uses.
    #[serde(default)]
    pub local_address: String,
    /// Local networks, as CIDRs.
    #[serde(default)]
    pub local_networks: Vec<String>,
    /// Every other field, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The remote side of an IPsec tunnel.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RemoteEndpoint {
    /// The remote id (defaults to the address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
    /// The peer's address.
    #[serde(default)]
    pub remote_address: String,
    /// Remote networks, as CIDRs.
    #[serde(default)]
    pub remote_networks: Vec<String>,
    /// Every other field, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One NSX-T IPsec VPN tunnel. `Debug` never shows the pre-shared key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct IpsecTunnel {
    /// The tunnel id (set by vCD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name.
    pub name: String,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether the tunnel is on.
    #[serde(default)]
    pub enabled: bool,
    /// The local side.
    pub local_endpoint: LocalEndpoint,
    /// The remote side.
    pub remote_endpoint: RemoteEndpoint,
    /// The pre-shared key (`Debug` shows it redacted; sent back as read on updates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_shared_key: Option<PresharedKey>,
    /// `DEFAULT` or a custom security profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_type: Option<String>,
    /// Whether the tunnel logs.
    #[serde(default)]
    pub logging: bool,
    /// `PSK` or `CERTIFICATE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_mode: Option<String>,
    /// The optimistic-locking version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<RuleVersion>,
    /// Every other field, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl IpsecTunnel {
    /// A policy-based PSK tunnel from `local_address` (an edge address) to `remote_address`
    /// between these networks.
    pub fn psk(
        name: impl Into<String>,
        local_address: impl Into<String>,
        local_networks: &[&str],
        remote_address: impl Into<String>,
        remote_networks: &[&str],
        key: impl Into<String>,
    ) -> Self {
        IpsecTunnel {
            id: None,
            name: name.into(),
            description: None,
            enabled: true,
            local_endpoint: LocalEndpoint {
                local_address: local_address.into(),
                local_networks: local_networks.iter().map(|s| (*s).to_owned()).collect(),
                ..LocalEndpoint::default()
            },
            remote_endpoint: RemoteEndpoint {
                remote_address: remote_address.into(),
                remote_networks: remote_networks.iter().map(|s| (*s).to_owned()).collect(),
                ..RemoteEndpoint::default()
            },
            pre_shared_key: Some(PresharedKey::new(key)),
            security_type: Some("DEFAULT".into()),
            logging: false,
            authentication_mode: Some("PSK".into()),
            version: None,
            extra: Map::new(),
        }
    }

    /// Checks the tunnel before it is sent: a name, IP addresses on both ends, networks
    /// that are CIDRs (at least one per side), a key for `PSK` tunnels.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput).
    pub fn validate(&self) -> Result<()> {
        let ctx = |e: Error| e.context(format!("IPsec tunnel {:?}", self.name));
        if self.name.trim().is_empty() {
            return Err(Error::invalid_input("IPsec tunnel: the name is empty"));
        }
        for (what, a) in [
            ("local address", &self.local_endpoint.local_address),
            ("remote address", &self.remote_endpoint.remote_address),
        ] {
            if a.parse::<IpAddr>().is_err() {
                return Err(ctx(Error::invalid_input(format!(
                    "the {what} {a:?} is not an IP address"
                ))));
            }
        }
        for (what, nets) in [
            ("local networks", &self.local_endpoint.local_networks),
            ("remote networks", &self.remote_endpoint.remote_networks),
        ] {
            if nets.is_empty() {
                return Err(ctx(Error::invalid_input(format!("no {what}"))));
            }
            for n in nets {
                if !n.contains('/') {
                    return Err(ctx(Error::invalid_input(format!(
                        "{what}: {n:?} is not a CIDR"
                    ))));
                }
                check_addresses(what, n).map_err(ctx)?;
            }
        }
        let psk = self
            .authentication_mode
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case("PSK"));
        if psk
            && self.id.is_none()
            && self
                .pre_shared_key
                .as_ref()
                .is_none_or(|k| k.expose().is_empty())
        {
            return Err(ctx(Error::invalid_input(
                "a PSK tunnel needs a pre-shared key",
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_and_values_survive_a_round_trip() {
        let text = r#"{"id":"urn:vcloud:natRule:1","name":"web","description":"","enabled":true,
            "ruleType":"DNAT","externalAddresses":"203.0.113.10","internalAddresses":"10.0.0.5",
            "logging":false,"version":{"version":3},"futureField":{"a":[1,2]},
            "firewallMatch":"MATCH_EXTERNAL_ADDRESS"}"#;
        let rule: NatRule = serde_json::from_str(text).expect("decodes");
        assert_eq!(rule.kind(), Some(&NatRuleType::Dnat));
        assert_eq!(rule.version, Some(RuleVersion { version: 3 }));
        assert!(rule.extra.contains_key("futureField"));
        let back: Value = serde_json::to_value(&rule).expect("encodes");
        let orig: Value = serde_json::from_str(text).expect("json");
        assert_eq!(back, orig);

        let fw: FirewallRule = serde_json::from_str(
            r#"{"name":"x","actionValue":"QUARANTINE","enabled":true,"ipProtocol":"IPV4",
                "direction":"IN","logging":false}"#,
        )
        .expect("unknown action kept");
        assert_eq!(
            fw.action_value,
            Some(FirewallAction::Other("QUARANTINE".into()))
        );
        assert!(fw.validate().is_err());
        assert_eq!(
            serde_json::to_value(&fw).expect("enc")["actionValue"],
            "QUARANTINE"
        );
    }

    #[test]
    fn addresses_and_ports_are_checked() {
        for ok in [
            "10.0.0.1",
            "10.0.0.0/24",
            "10.0.0.1-10.0.0.9",
            "2001:db8::1",
            "10.0.0.1, 10.0.0.2",
        ] {
            check_addresses("a", ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "",
            "10.0.0.256",
            "10.0.0.0/33",
            "10.0.0.9-10.0.0.1",
            "any",
            "10.0.0.1-2001:db8::1",
        ] {
            assert!(check_addresses("a", bad).is_err(), "{bad}");
        }
        assert!(check_port("p", "443").is_ok());
        assert!(check_port("p", "8000-8080").is_ok());
        for bad in ["0", "65536", "80-20", "http", ""] {
            assert!(check_port("p", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rules_are_checked_before_sending() {
        assert!(
            NatRule::dnat("web", "203.0.113.10", "10.0.0.5")
                .external_port("443")
                .validate()
                .is_ok()
        );
        let e = NatRule::dnat("web", "203.0.113.300", "10.0.0.5")
            .validate()
            .expect_err("bad ip");
        assert!(e.to_string().contains("203.0.113.300"), "{e}");
        assert!(
            NatRule::dnat("web", "203.0.113.10", "10.0.0.5")
                .external_port("99999")
                .validate()
                .is_err()
        );
        assert!(
            NatRule::snat("", "203.0.113.10", "10.0.0.0/24")
                .validate()
                .is_err()
        );
        assert!(
            FirewallRule::new("allow-web", FirewallAction::Allow)
                .validate()
                .is_ok()
        );
        let t = IpsecTunnel::psk(
            "t",
            "203.0.113.10",
            &["10.0.0.0/24"],
            "198.51.100.7",
            &["192.168.0.0/16"],
            "s3cret",
        );
        assert!(t.validate().is_ok());
        assert!(!format!("{t:?}").contains("s3cret"));
        let mut no_key = t.clone();
        no_key.pre_shared_key = None;
        assert!(no_key.validate().is_err());
        let mut bad_net = t;
        bad_net.remote_endpoint.remote_networks = vec!["192.168.0.1".into()];
        assert!(bad_net.validate().is_err());
    }

    #[test]
    fn nsxt_backing_is_recognised() {
        let e: EdgeGateway = serde_json::from_str(
            r#"{"id":"urn:vcloud:gateway:1","name":"e","gatewayBacking":{"backingId":"b",
                "gatewayType":"NSXT_BACKED","networkProvider":{"name":"nsx","id":"x","type":"NSX_T"}},
                "edgeGatewayUplinks":[{"uplinkName":"ext","subnets":{"values":[{"gateway":"203.0.113.1",
                "prefixLength":24,"primaryIp":"203.0.113.10","enabled":true}]}}]}"#,
        )
        .expect("edge");
        assert!(e.is_nsxt());
        assert_eq!(e.primary_ip(), Some("203.0.113.10"));
        assert!(!EdgeGateway::default().is_nsxt());
    }
}
