//! vCD edge gateway services (the XML API): firewall, NAT and IPsec VPN of
//! `EdgeGatewayServiceConfiguration`.
//!
//! `GET /api/admin/edgeGateway/{id}` returns the gateway with its service configuration;
//! `POST .../action/configureServices` replaces the whole configuration and answers
//! `202` with a [`Task`]. [`EdgeGateway`] reads the configuration into
//! [`EdgeGatewayServices`], whose typed views ([`FirewallService`], [`NatService`],
//! [`IpsecVpnService`]) can be edited and put back; every element this SDK does not
//! model (other services, newer schema elements) is written back unchanged, in schema
//! order. An edge busy with another change (`BUSY_ENTITY`) is retried with backoff.
//!
//! ```
//! use nebulair_vcloud::edge::{EdgeFirewallRule, EdgeGatewayServices};
//!
//! let xml = r#"<EdgeGateway xmlns="http://www.vmware.com/vcloud/v1.5" name="gw"><Configuration>
//!   <EdgeGatewayServiceConfiguration>
//!     <FirewallService><IsEnabled>true</IsEnabled><DefaultAction>drop</DefaultAction></FirewallService>
//!     <StaticRoutingService><IsEnabled>false</IsEnabled></StaticRoutingService>
//!   </EdgeGatewayServiceConfiguration></Configuration></EdgeGateway>"#;
//! let mut services = EdgeGatewayServices::from_xml(xml)?;
//! let mut fw = services.firewall()?.expect("firewall");
//! fw.rules.push(EdgeFirewallRule::allow("ssh", "Any", "10.0.0.5", "22"));
//! services.set_firewall(&fw);
//! let body = services.to_xml();
//! assert!(body.contains("<DestinationIp>10.0.0.5</DestinationIp>"));
//! assert!(body.contains("<StaticRoutingService>"));
//! # Ok::<(), nebulair_core::Error>(())
//! ```

mod node;

use std::fmt;

use nebulair_core::{Error, Result, RetryPolicy};

use crate::ans::{default_busy_retry, is_edge_busy};
use crate::client::{ApiRequest, VcdClient};
use crate::model::xml::XmlElement;
use crate::task::Task;

use node::Node;

/// The vCloud namespace written on the request body.
pub const NS_VCLOUD: &str = "http://www.vmware.com/vcloud/v1.5";
/// Media type of a `configureServices` body.
pub const SERVICE_CONFIGURATION_MEDIA: &str =
    "application/vnd.vmware.admin.edgeGatewayServiceConfiguration+xml";

const ROOT: &str = "EdgeGatewayServiceConfiguration";
const SERVICES_ORDER: &[&str] = &[
    "GatewayDhcpService",
    "FirewallService",
    "NatService",
    "GatewayIpsecVpnService",
    "StaticRoutingService",
    "LoadBalancerService",
];
const FIREWALL_ORDER: &[&str] = &[
    "IsEnabled",
    "DefaultAction",
    "LogDefaultAction",
    "FirewallRule",
];
const FW_RULE_ORDER: &[&str] = &[
    "Id",
    "IsEnabled",
    "MatchOnTranslate",
    "Description",
    "Policy",
    "Protocols",
    "IcmpSubType",
    "Port",
    "DestinationPortRange",
    "DestinationIp",
    "DestinationVm",
    "SourcePort",
    "SourcePortRange",
    "SourceIp",
    "SourceVm",
    "Direction",
    "EnableLogging",
];
const NAT_ORDER: &[&str] = &["IsEnabled", "NatType", "Policy", "NatRule", "ExternalIp"];
const NAT_RULE_ORDER: &[&str] = &[
    "Description",
    "RuleType",
    "IsEnabled",
    "Id",
    "GatewayNatRule",
    "OneToOneBasicRule",
    "OneToOneVmRule",
    "PortForwardingRule",
    "VmRule",
];
const GW_NAT_ORDER: &[&str] = &[
    "Interface",
    "OriginalIp",
    "OriginalPort",
    "TranslatedIp",
    "TranslatedPort",
    "Protocol",
    "IcmpSubType",
];
const IPSEC_ORDER: &[&str] = &["IsEnabled", "Endpoint", "Tunnel"];
const TUNNEL_ORDER: &[&str] = &[
    "Name",
    "Description",
    "IpsecVpnPeer",
    "IpsecVpnThirdPartyPeer",
    "IpsecVpnLocalPeer",
    "IpsecVpnRemotePeer",
    "PeerIpAddress",
    "PeerId",
    "LocalIpAddress",
    "LocalId",
    "LocalSubnet",
    "PeerSubnet",
    "SharedSecret",
    "SharedSecretEncrypted",
    "EncryptionProtocol",
    "Mtu",
    "IsEnabled",
    "IsOperational",
    "ErrorDetails",
];
const SUBNET_ORDER: &[&str] = &["Name", "Gateway", "Netmask"];

fn parse_bool(node: &Node, name: &str) -> Result<Option<bool>> {
    match node.child_text(name) {
        None | Some("") => Ok(None),
        Some(t) if t.eq_ignore_ascii_case("true") || t == "1" => Ok(Some(true)),
        Some(t) if t.eq_ignore_ascii_case("false") || t == "0" => Ok(Some(false)),
        Some(t) => Err(Error::protocol(format!(
            "<{}>/<{name}> {t:?} is not a boolean",
            node.name
        ))),
    }
}

fn text(node: &Node, name: &str) -> Option<String> {
    node.child_text(name).map(str::to_owned)
}

fn bool_text(b: Option<bool>) -> Option<String> {
    b.map(|v| v.to_string())
}

/// The `EdgeGatewayServiceConfiguration` of one edge gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeGatewayServices {
    root: Node,
}

impl EdgeGatewayServices {
    /// Reads an `EdgeGateway` document (the configuration is taken from
    /// `Configuration/EdgeGatewayServiceConfiguration`) or a bare
    /// `EdgeGatewayServiceConfiguration`.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol) when the text is not
    /// XML or has no service configuration.
    pub fn from_xml(text: &str) -> Result<Self> {
        Self::from_element(&XmlElement::parse(text)?)
    }

    /// As [`from_xml`](Self::from_xml), from a parsed element.
    ///
    /// # Errors
    /// As [`from_xml`](Self::from_xml).
    pub fn from_element(el: &XmlElement) -> Result<Self> {
        let config = if el.name() == ROOT {
            Some(el)
        } else {
            el.child("Configuration").and_then(|c| c.child(ROOT))
        };
        let config = config.ok_or_else(|| {
            Error::protocol(format!(
                "<{}> has no Configuration/EdgeGatewayServiceConfiguration",
                el.name()
            ))
        })?;
        Ok(EdgeGatewayServices {
            root: Node::from_element(config),
        })
    }

    /// The body `configureServices` takes.
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(4096);
        self.root.write(&mut out, Some(NS_VCLOUD));
        out
    }

    /// The names of the services present (`FirewallService`, `NatService`, ...).
    pub fn service_names(&self) -> Vec<&str> {
        self.root.children.iter().map(|c| c.name.as_str()).collect()
    }

    /// The firewall, if the edge has one.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol) for a malformed value.
    pub fn firewall(&self) -> Result<Option<FirewallService>> {
        self.root
            .child("FirewallService")
            .map(FirewallService::from_node)
            .transpose()
    }

    /// Puts the firewall back (replacing the one there, or adding it).
    pub fn set_firewall(&mut self, service: &FirewallService) {
        self.root.put(service.to_node(), SERVICES_ORDER);
    }

    /// The NAT service, if the edge has one.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol) for a malformed value.
    pub fn nat(&self) -> Result<Option<NatService>> {
        self.root
            .child("NatService")
            .map(NatService::from_node)
            .transpose()
    }

    /// Puts the NAT service back.
    pub fn set_nat(&mut self, service: &NatService) {
        self.root.put(service.to_node(), SERVICES_ORDER);
    }

    /// The IPsec VPN service, if the edge has one.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol) for a malformed value.
    pub fn ipsec(&self) -> Result<Option<IpsecVpnService>> {
        self.root
            .child("GatewayIpsecVpnService")
            .map(IpsecVpnService::from_node)
            .transpose()
    }

    /// Puts the IPsec VPN service back.
    pub fn set_ipsec(&mut self, service: &IpsecVpnService) {
        self.root.put(service.to_node(), SERVICES_ORDER);
    }
}

/// `FirewallService`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct FirewallService {
    /// `IsEnabled`.
    pub is_enabled: Option<bool>,
    /// `DefaultAction` (`drop`, `allow`).
    pub default_action: Option<String>,
    /// `LogDefaultAction`.
    pub log_default_action: Option<bool>,
    /// `FirewallRule`s in order.
    pub rules: Vec<EdgeFirewallRule>,
    raw: Node,
}

impl FirewallService {
    fn from_node(n: &Node) -> Result<Self> {
        Ok(FirewallService {
            is_enabled: parse_bool(n, "IsEnabled")?,
            default_action: text(n, "DefaultAction"),
            log_default_action: parse_bool(n, "LogDefaultAction")?,
            rules: n
                .children_named("FirewallRule")
                .map(EdgeFirewallRule::from_node)
                .collect::<Result<_>>()?,
            raw: n.clone(),
        })
    }

    fn to_node(&self) -> Node {
        let mut n = self.raw.clone();
        n.name = "FirewallService".into();
        n.set_text("IsEnabled", bool_text(self.is_enabled), FIREWALL_ORDER);
        n.set_text("DefaultAction", self.default_action.clone(), FIREWALL_ORDER);
        n.set_text(
            "LogDefaultAction",
            bool_text(self.log_default_action),
            FIREWALL_ORDER,
        );
        let rules = self.rules.iter().map(EdgeFirewallRule::to_node).collect();
        n.replace_all("FirewallRule", rules, FIREWALL_ORDER);
        n
    }
}

/// The protocols a firewall rule matches (`Protocols`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct EdgeProtocols {
    /// `Tcp`.
    pub tcp: bool,
    /// `Udp`.
    pub udp: bool,
    /// `Icmp`.
    pub icmp: bool,
    /// `Any`.
    pub any: bool,
    /// `Other`, a protocol name.
    pub other: Option<String>,
}

impl EdgeProtocols {
    fn from_node(n: &Node) -> Result<Self> {
        Ok(EdgeProtocols {
            tcp: parse_bool(n, "Tcp")?.unwrap_or(false),
            udp: parse_bool(n, "Udp")?.unwrap_or(false),
            icmp: parse_bool(n, "Icmp")?.unwrap_or(false),
            any: parse_bool(n, "Any")?.unwrap_or(false),
            other: text(n, "Other"),
        })
    }

    fn to_node(&self) -> Node {
        let mut n = Node::new("Protocols");
        for (on, name) in [
            (self.tcp, "Tcp"),
            (self.udp, "Udp"),
            (self.icmp, "Icmp"),
            (self.any, "Any"),
        ] {
            if on {
                n.children.push(Node::leaf(name, "true"));
            }
        }
        if let Some(o) = &self.other {
            n.children.push(Node::leaf("Other", o.clone()));
        }
        n
    }
}

/// One `FirewallRule`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct EdgeFirewallRule {
    /// `Id`.
    pub id: Option<String>,
    /// `IsEnabled`.
    pub is_enabled: Option<bool>,
    /// `MatchOnTranslate`.
    pub match_on_translate: Option<bool>,
    /// `Description`.
    pub description: Option<String>,
    /// `Policy` (`allow`, `drop`).
    pub policy: Option<String>,
    /// `Protocols`.
    pub protocols: Option<EdgeProtocols>,
    /// `Port` (`-1` for any).
    pub port: Option<String>,
    /// `DestinationPortRange` (`Any`, `22`, `1000-2000`).
    pub destination_port_range: Option<String>,
    /// `DestinationIp` (`Any`, `internal`, `external`, an address or range).
    pub destination_ip: Option<String>,
    /// `SourcePort`.
    pub source_port: Option<String>,
    /// `SourcePortRange`.
    pub source_port_range: Option<String>,
    /// `SourceIp`.
    pub source_ip: Option<String>,
    /// `EnableLogging`.
    pub enable_logging: Option<bool>,
    raw: Node,
}

impl EdgeFirewallRule {
    /// An enabled TCP `allow` rule from `source_ip` to `destination_ip` port `port`
    /// (`Any` for any), described by `description`.
    pub fn allow(
        description: impl Into<String>,
        source_ip: impl Into<String>,
        destination_ip: impl Into<String>,
        port: impl Into<String>,
    ) -> Self {
        let port = port.into();
        EdgeFirewallRule {
            is_enabled: Some(true),
            match_on_translate: Some(false),
            description: Some(description.into()),
            policy: Some("allow".into()),
            protocols: Some(EdgeProtocols {
                tcp: true,
                ..EdgeProtocols::default()
            }),
            port: Some(if port.eq_ignore_ascii_case("any") {
                "-1".into()
            } else {
                port.clone()
            }),
            destination_port_range: Some(port),
            destination_ip: Some(destination_ip.into()),
            source_port: Some("-1".into()),
            source_port_range: Some("Any".into()),
            source_ip: Some(source_ip.into()),
            enable_logging: Some(false),
            raw: Node::new("FirewallRule"),
            ..EdgeFirewallRule::default()
        }
    }

    fn from_node(n: &Node) -> Result<Self> {
        Ok(EdgeFirewallRule {
            id: text(n, "Id"),
            is_enabled: parse_bool(n, "IsEnabled")?,
            match_on_translate: parse_bool(n, "MatchOnTranslate")?,
            description: text(n, "Description"),
            policy: text(n, "Policy"),
            protocols: n
                .child("Protocols")
                .map(EdgeProtocols::from_node)
                .transpose()?,
            port: text(n, "Port"),
            destination_port_range: text(n, "DestinationPortRange"),
            destination_ip: text(n, "DestinationIp"),
            source_port: text(n, "SourcePort"),
            source_port_range: text(n, "SourcePortRange"),
            source_ip: text(n, "SourceIp"),
            enable_logging: parse_bool(n, "EnableLogging")?,
            raw: n.clone(),
        })
    }

    fn to_node(&self) -> Node {
        let mut n = self.raw.clone();
        n.name = "FirewallRule".into();
        let o = FW_RULE_ORDER;
        n.set_text("Id", self.id.clone(), o);
        n.set_text("IsEnabled", bool_text(self.is_enabled), o);
        n.set_text("MatchOnTranslate", bool_text(self.match_on_translate), o);
        n.set_text("Description", self.description.clone(), o);
        n.set_text("Policy", self.policy.clone(), o);
        match &self.protocols {
            Some(p) => {
                let unchanged = n
                    .child("Protocols")
                    .and_then(|old| EdgeProtocols::from_node(old).ok())
                    .is_some_and(|old| &old == p);
                if !unchanged {
                    n.put(p.to_node(), o);
                }
            }
            None => n.children.retain(|c| c.name != "Protocols"),
        }
        n.set_text("Port", self.port.clone(), o);
        n.set_text(
            "DestinationPortRange",
            self.destination_port_range.clone(),
            o,
        );
        n.set_text("DestinationIp", self.destination_ip.clone(), o);
        n.set_text("SourcePort", self.source_port.clone(), o);
        n.set_text("SourcePortRange", self.source_port_range.clone(), o);
        n.set_text("SourceIp", self.source_ip.clone(), o);
        n.set_text("EnableLogging", bool_text(self.enable_logging), o);
        n
    }
}

/// `NatService`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct NatService {
    /// `IsEnabled`.
    pub is_enabled: Option<bool>,
    /// `NatRule`s in order.
    pub rules: Vec<EdgeNatRule>,
    raw: Node,
}

impl NatService {
    fn from_node(n: &Node) -> Result<Self> {
        Ok(NatService {
            is_enabled: parse_bool(n, "IsEnabled")?,
            rules: n
                .children_named("NatRule")
                .map(EdgeNatRule::from_node)
                .collect::<Result<_>>()?,
            raw: n.clone(),
        })
    }

    fn to_node(&self) -> Node {
        let mut n = self.raw.clone();
        n.name = "NatService".into();
        n.set_text("IsEnabled", bool_text(self.is_enabled), NAT_ORDER);
        let rules = self.rules.iter().map(EdgeNatRule::to_node).collect();
        n.replace_all("NatRule", rules, NAT_ORDER);
        n
    }
}

/// One `NatRule` with its `GatewayNatRule`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct EdgeNatRule {
    /// `RuleType` (`SNAT`, `DNAT`).
    pub rule_type: Option<String>,
    /// `IsEnabled`.
    pub is_enabled: Option<bool>,
    /// `Id`.
    pub id: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `GatewayNatRule/Interface@href` (the uplink network).
    pub interface_href: Option<String>,
    /// `GatewayNatRule/Interface@name`.
    pub interface_name: Option<String>,
    /// `OriginalIp`.
    pub original_ip: Option<String>,
    /// `OriginalPort`.
    pub original_port: Option<String>,
    /// `TranslatedIp`.
    pub translated_ip: Option<String>,
    /// `TranslatedPort`.
    pub translated_port: Option<String>,
    /// `Protocol` (`Tcp`, `Udp`, `TcpUdp`, `Icmp`, `any`).
    pub protocol: Option<String>,
    raw: Node,
}

impl EdgeNatRule {
    /// An enabled rule of `rule_type` (`SNAT` or `DNAT`) on the uplink `interface_href`.
    pub fn new(
        rule_type: impl Into<String>,
        interface_href: impl Into<String>,
        original_ip: impl Into<String>,
        translated_ip: impl Into<String>,
    ) -> Self {
        EdgeNatRule {
            rule_type: Some(rule_type.into().to_ascii_uppercase()),
            is_enabled: Some(true),
            interface_href: Some(interface_href.into()),
            original_ip: Some(original_ip.into()),
            translated_ip: Some(translated_ip.into()),
            raw: Node::new("NatRule"),
            ..EdgeNatRule::default()
        }
    }

    fn from_node(n: &Node) -> Result<Self> {
        let g = n.child("GatewayNatRule");
        let gi = g.and_then(|g| g.child("Interface"));
        Ok(EdgeNatRule {
            rule_type: text(n, "RuleType"),
            is_enabled: parse_bool(n, "IsEnabled")?,
            id: text(n, "Id"),
            description: text(n, "Description"),
            interface_href: gi.and_then(|i| i.attr("href")).map(str::to_owned),
            interface_name: gi.and_then(|i| i.attr("name")).map(str::to_owned),
            original_ip: g.and_then(|g| text(g, "OriginalIp")),
            original_port: g.and_then(|g| text(g, "OriginalPort")),
            translated_ip: g.and_then(|g| text(g, "TranslatedIp")),
            translated_port: g.and_then(|g| text(g, "TranslatedPort")),
            protocol: g.and_then(|g| text(g, "Protocol")),
            raw: n.clone(),
        })
    }

    fn to_node(&self) -> Node {
        let mut n = self.raw.clone();
        n.name = "NatRule".into();
        n.set_text("Description", self.description.clone(), NAT_RULE_ORDER);
        n.set_text("RuleType", self.rule_type.clone(), NAT_RULE_ORDER);
        n.set_text("IsEnabled", bool_text(self.is_enabled), NAT_RULE_ORDER);
        n.set_text("Id", self.id.clone(), NAT_RULE_ORDER);
        let mut g = n
            .child("GatewayNatRule")
            .cloned()
            .unwrap_or_else(|| Node::new("GatewayNatRule"));
        match &self.interface_href {
            Some(href) => {
                let mut i = g
                    .child("Interface")
                    .cloned()
                    .unwrap_or_else(|| Node::new("Interface"));
                set_attr(&mut i, "href", Some(href.clone()));
                if self.interface_name.is_some() {
                    set_attr(&mut i, "name", self.interface_name.clone());
                }
                g.put(i, GW_NAT_ORDER);
            }
            None => g.children.retain(|c| c.name != "Interface"),
        }
        g.set_text("OriginalIp", self.original_ip.clone(), GW_NAT_ORDER);
        g.set_text("OriginalPort", self.original_port.clone(), GW_NAT_ORDER);
        g.set_text("TranslatedIp", self.translated_ip.clone(), GW_NAT_ORDER);
        g.set_text("TranslatedPort", self.translated_port.clone(), GW_NAT_ORDER);
        g.set_text("Protocol", self.protocol.clone(), GW_NAT_ORDER);
        n.put(g, NAT_RULE_ORDER);
        n
    }
}

fn set_attr(n: &mut Node, name: &str, value: Option<String>) {
    match value {
        Some(v) => match n.attrs.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = v,
            None => n.attrs.push((name.to_owned(), v)),
        },
        None => n.attrs.retain(|(k, _)| k != name),
    }
}

/// `GatewayIpsecVpnService`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct IpsecVpnService {
    /// `IsEnabled`.
    pub is_enabled: Option<bool>,
    /// `Tunnel`s in order.
    pub tunnels: Vec<EdgeIpsecTunnel>,
    raw: Node,
}

impl IpsecVpnService {
    fn from_node(n: &Node) -> Result<Self> {
        Ok(IpsecVpnService {
            is_enabled: parse_bool(n, "IsEnabled")?,
            tunnels: n
                .children_named("Tunnel")
                .map(EdgeIpsecTunnel::from_node)
                .collect::<Result<_>>()?,
            raw: n.clone(),
        })
    }

    fn to_node(&self) -> Node {
        let mut n = self.raw.clone();
        n.name = "GatewayIpsecVpnService".into();
        n.set_text("IsEnabled", bool_text(self.is_enabled), IPSEC_ORDER);
        let tunnels = self.tunnels.iter().map(EdgeIpsecTunnel::to_node).collect();
        n.replace_all("Tunnel", tunnels, IPSEC_ORDER);
        n
    }
}

/// A subnet of a tunnel (`LocalSubnet`, `PeerSubnet`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct IpsecSubnet {
    /// `Name`.
    pub name: String,
    /// `Gateway`.
    pub gateway: String,
    /// `Netmask`.
    pub netmask: String,
}

impl IpsecSubnet {
    /// A subnet.
    pub fn new(
        name: impl Into<String>,
        gateway: impl Into<String>,
        netmask: impl Into<String>,
    ) -> Self {
        IpsecSubnet {
            name: name.into(),
            gateway: gateway.into(),
            netmask: netmask.into(),
        }
    }

    fn from_node(n: &Node) -> Self {
        IpsecSubnet {
            name: text(n, "Name").unwrap_or_default(),
            gateway: text(n, "Gateway").unwrap_or_default(),
            netmask: text(n, "Netmask").unwrap_or_default(),
        }
    }

    fn to_node(&self, name: &str) -> Node {
        let mut n = Node::new(name);
        n.set_text("Name", Some(self.name.clone()), SUBNET_ORDER);
        n.set_text("Gateway", Some(self.gateway.clone()), SUBNET_ORDER);
        n.set_text("Netmask", Some(self.netmask.clone()), SUBNET_ORDER);
        n
    }
}

/// A shared secret; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SharedSecret(String);

impl SharedSecret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        SharedSecret(secret.into())
    }

    /// The secret (for sending it).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(nebulair_core::secret::REDACTED)
    }
}

/// One IPsec `Tunnel` to a third-party peer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct EdgeIpsecTunnel {
    /// `Name`.
    pub name: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `PeerIpAddress`.
    pub peer_ip_address: Option<String>,
    /// `PeerId`.
    pub peer_id: Option<String>,
    /// `LocalIpAddress`.
    pub local_ip_address: Option<String>,
    /// `LocalId`.
    pub local_id: Option<String>,
    /// `LocalSubnet`s.
    pub local_subnets: Vec<IpsecSubnet>,
    /// `PeerSubnet`s.
    pub peer_subnets: Vec<IpsecSubnet>,
    /// `SharedSecret`.
    pub shared_secret: Option<SharedSecret>,
    /// `SharedSecretEncrypted`.
    pub shared_secret_encrypted: Option<bool>,
    /// `EncryptionProtocol` (`AES256`, `AES`, `TRIPLEDES`).
    pub encryption_protocol: Option<String>,
    /// `Mtu`.
    pub mtu: Option<u32>,
    /// `IsEnabled`.
    pub is_enabled: Option<bool>,
    /// `IsOperational` (read only).
    pub is_operational: Option<bool>,
    raw: Node,
}

impl EdgeIpsecTunnel {
    /// An enabled AES256 tunnel to a third-party peer with a shared secret, MTU 1500.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: impl Into<String>,
        local_ip: impl Into<String>,
        peer_ip: impl Into<String>,
        peer_id: impl Into<String>,
        local_subnets: Vec<IpsecSubnet>,
        peer_subnets: Vec<IpsecSubnet>,
        secret: impl Into<String>,
    ) -> Self {
        let local_ip = local_ip.into();
        let peer_id = peer_id.into();
        let mut raw = Node::new("Tunnel");
        let mut peer = Node::new("IpsecVpnThirdPartyPeer");
        peer.children.push(Node::leaf("PeerId", peer_id.clone()));
        raw.children.push(peer);
        EdgeIpsecTunnel {
            name: Some(name.into()),
            peer_ip_address: Some(peer_ip.into()),
            peer_id: Some(peer_id),
            local_id: Some(local_ip.clone()),
            local_ip_address: Some(local_ip),
            local_subnets,
            peer_subnets,
            shared_secret: Some(SharedSecret::new(secret)),
            shared_secret_encrypted: Some(false),
            encryption_protocol: Some("AES256".into()),
            mtu: Some(1500),
            is_enabled: Some(true),
            raw,
            ..EdgeIpsecTunnel::default()
        }
    }

    fn from_node(n: &Node) -> Result<Self> {
        let mtu = match n.child_text("Mtu") {
            None | Some("") => None,
            Some(m) => Some(
                m.parse()
                    .map_err(|_| Error::protocol(format!("Tunnel Mtu {m:?} is not a number")))?,
            ),
        };
        Ok(EdgeIpsecTunnel {
            name: text(n, "Name"),
            description: text(n, "Description"),
            peer_ip_address: text(n, "PeerIpAddress"),
            peer_id: text(n, "PeerId"),
            local_ip_address: text(n, "LocalIpAddress"),
            local_id: text(n, "LocalId"),
            local_subnets: n
                .children_named("LocalSubnet")
                .map(IpsecSubnet::from_node)
                .collect(),
            peer_subnets: n
                .children_named("PeerSubnet")
                .map(IpsecSubnet::from_node)
                .collect(),
            shared_secret: text(n, "SharedSecret").map(SharedSecret),
            shared_secret_encrypted: parse_bool(n, "SharedSecretEncrypted")?,
            encryption_protocol: text(n, "EncryptionProtocol"),
            mtu,
            is_enabled: parse_bool(n, "IsEnabled")?,
            is_operational: parse_bool(n, "IsOperational")?,
            raw: n.clone(),
        })
    }

    fn to_node(&self) -> Node {
        let mut n = self.raw.clone();
        n.name = "Tunnel".into();
        let o = TUNNEL_ORDER;
        n.set_text("Name", self.name.clone(), o);
        n.set_text("Description", self.description.clone(), o);
        n.set_text("PeerIpAddress", self.peer_ip_address.clone(), o);
        n.set_text("PeerId", self.peer_id.clone(), o);
        n.set_text("LocalIpAddress", self.local_ip_address.clone(), o);
        n.set_text("LocalId", self.local_id.clone(), o);
        let local = self
            .local_subnets
            .iter()
            .map(|s| s.to_node("LocalSubnet"))
            .collect();
        n.replace_all("LocalSubnet", local, o);
        let peer = self
            .peer_subnets
            .iter()
            .map(|s| s.to_node("PeerSubnet"))
            .collect();
        n.replace_all("PeerSubnet", peer, o);
        n.set_text(
            "SharedSecret",
            self.shared_secret.as_ref().map(|s| s.0.clone()),
            o,
        );
        n.set_text(
            "SharedSecretEncrypted",
            bool_text(self.shared_secret_encrypted),
            o,
        );
        n.set_text("EncryptionProtocol", self.encryption_protocol.clone(), o);
        n.set_text("Mtu", self.mtu.map(|m| m.to_string()), o);
        n.set_text("IsEnabled", bool_text(self.is_enabled), o);
        n.set_text("IsOperational", bool_text(self.is_operational), o);
        n
    }
}

/// One vCD edge gateway's services. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct EdgeGateway {
    client: VcdClient,
    id: String,
    retry: RetryPolicy,
}

impl EdgeGateway {
    /// The edge gateway `edge_id` (a UUID or `urn:vcloud:gateway:<uuid>`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) for an empty id
    /// or one containing `/`, `?` or `#`.
    pub fn new(client: &VcdClient, edge_id: &str) -> Result<Self> {
        let id = edge_id.trim().rsplit(':').next().unwrap_or_default();
        if id.is_empty() || id.contains(['/', '?', '#', '\\']) {
            return Err(Error::invalid_input(format!(
                "invalid edge gateway id {edge_id:?}"
            )));
        }
        Ok(EdgeGateway {
            client: client.clone(),
            id: id.to_owned(),
            retry: default_busy_retry(),
        })
    }

    /// How `BUSY_ENTITY` answers are retried (default
    /// [`crate::ans::default_busy_retry`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The edge id (UUID).
    pub fn id(&self) -> &str {
        &self.id
    }

    fn target(&self) -> String {
        format!("api/admin/edgeGateway/{}", self.id)
    }

    /// Reads the service configuration (`GET /api/admin/edgeGateway/{id}`).
    ///
    /// # Errors
    /// The request's error; [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol)
    /// when the answer has no service configuration.
    pub async fn services(&self) -> Result<EdgeGatewayServices> {
        let el = self.client.get_xml(&self.target()).await?;
        EdgeGatewayServices::from_element(&el)
    }

    /// Sends the whole configuration (`POST .../action/configureServices`), retrying while
    /// the edge is busy, and returns the Task the server started.
    ///
    /// # Errors
    /// The request's error after retries (a busy edge is
    /// [`ErrorKind::Conflict`](nebulair_core::ErrorKind::Conflict));
    /// [`ErrorKind::Protocol`](nebulair_core::ErrorKind::Protocol) when the answer is not a
    /// Task.
    pub async fn configure_services(&self, services: &EdgeGatewayServices) -> Result<Task> {
        let target = format!("{}/action/configureServices", self.target());
        let body = bytes::Bytes::from(services.to_xml());
        let client = &self.client;
        // The whole configuration is replaced, so repeating a refused request is safe.
        self.retry
            .run_if(true, is_edge_busy, &mut || {
                let req = ApiRequest::post(target.clone())
                    .body(SERVICE_CONFIGURATION_MEDIA, body.clone())
                    .idempotent(true);
                async move { client.send(req).await?.into_task() }
            })
            .await
    }

    /// [`configure_services`](Self::configure_services), then waits for the task
    /// ([`VcdClient::wait_for`]).
    ///
    /// # Errors
    /// As [`configure_services`](Self::configure_services), and the task's failure.
    pub async fn configure_services_and_wait(
        &self,
        services: &EdgeGatewayServices,
    ) -> Result<Task> {
        let task = self.configure_services(services).await?;
        self.client.wait_for(&task).await
    }
}

#[cfg(test)]
mod tests;
