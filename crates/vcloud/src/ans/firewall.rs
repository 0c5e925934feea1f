//! Firewall rules of an ANS edge (`firewallRules.firewallRules[]`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use nebulair_core::Result;

use super::address::{AnsAddress, normalize_port};
use super::{FirewallAction, Protocol, RuleType};

/// One firewall rule as the edge stores it. Fields this SDK does not model are kept in
/// [`extra`](Self::extra) and written back unchanged by [`save`](super::AnsSection::save).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FirewallRule {
    /// Server-assigned id (absent on rules added locally and not yet saved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<u64>,
    /// Server-assigned tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_tag: Option<u64>,
    /// The rule's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Who owns the rule (`user`, `internal_high`, `default_policy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_type: Option<RuleType>,
    /// Whether the rule is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Whether matches are logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging_enabled: Option<bool>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What happens to matching traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<FirewallAction>,
    /// Where matching traffic comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<RuleEndpoint>,
    /// Where matching traffic goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<RuleEndpoint>,
    /// Protocols and ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<Application>,
    /// Every other key of the rule, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl FirewallRule {
    /// Whether the user may edit the rule (`ruleType` is `user` or absent).
    pub fn is_user_rule(&self) -> bool {
        matches!(self.rule_type, None | Some(RuleType::User))
    }
}

/// A rule's source or destination: addresses and interface groups (both empty = any).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RuleEndpoint {
    /// IPv4 addresses or networks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<Vec<String>>,
    /// Interface groups (`internal`, `external`, `vse`, `vnic-index-N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vnic_group_id: Option<Vec<String>>,
    /// Every other key, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RuleEndpoint {
    /// The endpoint for one validated address: an IP goes to `ipAddress`, a group to
    /// `vnicGroupId` (vcloudair 0.5 put destination IPs into `vnicGroupId`; fixed here).
    pub fn from_address(address: AnsAddress) -> Self {
        let mut ep = RuleEndpoint {
            ip_address: Some(Vec::new()),
            vnic_group_id: Some(Vec::new()),
            extra: Map::new(),
        };
        match address {
            AnsAddress::Ip(c) => ep.ip_address = Some(vec![c.to_string()]),
            AnsAddress::Group(g) => ep.vnic_group_id = Some(vec![g.as_str().to_owned()]),
            AnsAddress::Any => {}
        }
        ep
    }

    /// The addresses (empty when absent).
    pub fn ip_addresses(&self) -> &[String] {
        self.ip_address.as_deref().unwrap_or_default()
    }

    /// The interface groups (empty when absent).
    pub fn vnic_groups(&self) -> &[String] {
        self.vnic_group_id.as_deref().unwrap_or_default()
    }
}

/// The services a rule matches.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Application {
    /// Protocol and port combinations (empty = any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Vec<Service>>,
    /// Every other key, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One protocol with destination and source ports.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Service {
    /// The protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// Destination ports (`any`, `22`, `1000-2000`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<Vec<String>>,
    /// Source ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_port: Option<Vec<String>>,
    /// Every other key, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A firewall rule to add, with vcloudair's defaults: action `accept`, protocol `tcp`,
/// source and destination port `any`, enabled, empty description, `ruleType` `user`.
///
/// ```
/// use nebulair_vcloud::ans::{AnsAddress, FirewallAction, NewFirewallRule, Protocol};
///
/// let rule = NewFirewallRule::parse("web", "external", "23.92.225.51")?
///     .dest_port(443)
///     .protocol(Protocol::Tcp)
///     .build()?;
/// assert_eq!(rule.action, Some(FirewallAction::Accept));
/// let dst = rule.destination.as_ref().expect("destination");
/// assert_eq!(dst.ip_addresses(), ["23.92.225.51"]);
/// assert!(dst.vnic_groups().is_empty());
/// # Ok::<(), nebulair_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NewFirewallRule {
    name: String,
    source: AnsAddress,
    destination: AnsAddress,
    action: FirewallAction,
    protocol: Protocol,
    source_port: String,
    dest_port: String,
    description: String,
    enabled: bool,
    logging: bool,
}

impl NewFirewallRule {
    /// A rule named `name` from `source` to `destination`.
    pub fn new(
        name: impl Into<String>,
        source: impl Into<AnsAddress>,
        destination: impl Into<AnsAddress>,
    ) -> Self {
        NewFirewallRule {
            name: name.into(),
            source: source.into(),
            destination: destination.into(),
            action: FirewallAction::Accept,
            protocol: Protocol::Tcp,
            source_port: "any".to_owned(),
            dest_port: "any".to_owned(),
            description: String::new(),
            enabled: true,
            logging: false,
        }
    }

    /// As [`new`](Self::new), parsing the addresses as vcloudair's `add_rule` takes them
    /// (`internal`, `external`, `any`, an IPv4 address or network).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) for an invalid
    /// address.
    pub fn parse(name: impl Into<String>, source: &str, destination: &str) -> Result<Self> {
        let s: AnsAddress = source
            .parse()
            .map_err(|e: nebulair_core::Error| e.context("source"))?;
        let d: AnsAddress = destination
            .parse()
            .map_err(|e: nebulair_core::Error| e.context("destination"))?;
        Ok(Self::new(name, s, d))
    }

    /// What happens to matching traffic (default `accept`).
    pub fn action(mut self, action: FirewallAction) -> Self {
        self.action = action;
        self
    }

    /// The protocol (default `tcp`).
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// The source port, range or list (default `any`); validated by [`build`](Self::build).
    pub fn source_port(mut self, port: impl ToString) -> Self {
        self.source_port = port.to_string();
        self
    }

    /// The destination port, range or list (default `any`); validated by
    /// [`build`](Self::build).
    pub fn dest_port(mut self, port: impl ToString) -> Self {
        self.dest_port = port.to_string();
        self
    }

    /// A description (default empty).
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// Whether the rule is active (default true).
    pub fn enabled(mut self, on: bool) -> Self {
        self.enabled = on;
        self
    }

    /// Whether matches are logged (default false; vcloudair does not send the key).
    pub fn logging(mut self, on: bool) -> Self {
        self.logging = on;
        self
    }

    /// The rule as it will be sent.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) for an empty
    /// name or an invalid port.
    pub fn build(&self) -> Result<FirewallRule> {
        if self.name.trim().is_empty() {
            return Err(nebulair_core::Error::invalid_input(
                "firewall rule name is empty",
            ));
        }
        let port = normalize_port(&self.dest_port).map_err(|e| e.context("destination port"))?;
        let source_port =
            normalize_port(&self.source_port).map_err(|e| e.context("source port"))?;
        Ok(FirewallRule {
            name: Some(self.name.clone()),
            enabled: Some(self.enabled),
            description: Some(self.description.clone()),
            rule_type: Some(RuleType::User),
            action: Some(self.action.clone()),
            source: Some(RuleEndpoint::from_address(self.source)),
            destination: Some(RuleEndpoint::from_address(self.destination)),
            application: Some(Application {
                service: Some(vec![Service {
                    protocol: Some(self.protocol.clone()),
                    port: Some(vec![port]),
                    source_port: Some(vec![source_port]),
                    extra: Map::new(),
                }]),
                extra: Map::new(),
            }),
            logging_enabled: self.logging.then_some(true),
            ..FirewallRule::default()
        })
    }
}
