//! NAT rules of an ANS edge (`rules.natRulesDtos[]`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use nebulair_core::{Error, Result};

use super::address::{Ipv4Cidr, normalize_port};
use super::{NatAction, Protocol, RuleType};

/// One NAT rule as the edge stores it. Fields this SDK does not model are kept in
/// [`extra`](Self::extra) and written back unchanged.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NatRule {
    /// Server-assigned id (absent on rules added locally and not yet saved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<u64>,
    /// Server-assigned tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_tag: Option<u64>,
    /// Who owns the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_type: Option<RuleType>,
    /// `snat` or `dnat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<NatAction>,
    /// The interface index the rule applies to (`"0"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vnic: Option<String>,
    /// The address before translation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_address: Option<String>,
    /// The address after translation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translated_address: Option<String>,
    /// Whether matches are logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging_enabled: Option<bool>,
    /// Whether the rule is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// The port before translation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_port: Option<String>,
    /// The port after translation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translated_port: Option<String>,
    /// The ICMP type for ICMP rules (`any`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<String>,
    /// Every other key of the rule, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A NAT rule to add, with vcloudair's defaults: ports `any`, protocol `tcp`, empty
/// description, enabled, `vnic` `"0"`, `ruleType` `user`, logging off; protocol `icmp`
/// adds `icmpType: "any"`.
///
/// ```
/// use nebulair_vcloud::ans::{NatAction, NewNatRule, Protocol};
///
/// let rule = NewNatRule::parse("dnat", "23.92.225.51", "192.168.109.8")?
///     .original_port(999)
///     .translated_port(22)
///     .build()?;
/// assert_eq!(rule.action, Some(NatAction::Dnat));
/// assert_eq!(rule.original_port.as_deref(), Some("999"));
/// assert!(NewNatRule::parse("masquerade", "1.2.3.4", "5.6.7.8").is_err());
/// # Ok::<(), nebulair_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NewNatRule {
    action: NatAction,
    original: Ipv4Cidr,
    translated: Ipv4Cidr,
    original_port: String,
    translated_port: String,
    protocol: Protocol,
    description: String,
}

impl NewNatRule {
    /// A source NAT rule (inside address to outside address).
    pub fn snat(original: impl Into<Ipv4Cidr>, translated: impl Into<Ipv4Cidr>) -> Self {
        Self::with_action(NatAction::Snat, original.into(), translated.into())
    }

    /// A destination NAT rule (outside address to inside address).
    pub fn dnat(original: impl Into<Ipv4Cidr>, translated: impl Into<Ipv4Cidr>) -> Self {
        Self::with_action(NatAction::Dnat, original.into(), translated.into())
    }

    /// As vcloudair's `add_rule(action, original_address, translated_address)`: `action`
    /// is `snat` or `dnat` in any case, the addresses are IPv4 addresses or networks.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) for any other
    /// action or an invalid address.
    pub fn parse(action: &str, original: &str, translated: &str) -> Result<Self> {
        let action = match action.parse::<NatAction>() {
            Ok(a @ (NatAction::Snat | NatAction::Dnat)) => a,
            _ => {
                return Err(Error::invalid_input(format!(
                    "invalid NAT action {action:?}: must be snat or dnat"
                )));
            }
        };
        let o: Ipv4Cidr = original
            .trim()
            .parse()
            .map_err(|e: Error| e.context("original address"))?;
        let t: Ipv4Cidr = translated
            .trim()
            .parse()
            .map_err(|e: Error| e.context("translated address"))?;
        Ok(Self::with_action(action, o, t))
    }

    fn with_action(action: NatAction, original: Ipv4Cidr, translated: Ipv4Cidr) -> Self {
        NewNatRule {
            action,
            original,
            translated,
            original_port: "any".to_owned(),
            translated_port: "any".to_owned(),
            protocol: Protocol::Tcp,
            description: String::new(),
        }
    }

    /// The port before translation (default `any`).
    pub fn original_port(mut self, port: impl ToString) -> Self {
        self.original_port = port.to_string();
        self
    }

    /// The port after translation (default `any`).
    pub fn translated_port(mut self, port: impl ToString) -> Self {
        self.translated_port = port.to_string();
        self
    }

    /// The protocol (default `tcp`).
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// A description (default empty).
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// The rule as it will be sent.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) for an invalid
    /// port.
    pub fn build(&self) -> Result<NatRule> {
        let original_port =
            normalize_port(&self.original_port).map_err(|e| e.context("original port"))?;
        let translated_port =
            normalize_port(&self.translated_port).map_err(|e| e.context("translated port"))?;
        let icmp = self.protocol == Protocol::Icmp;
        Ok(NatRule {
            action: Some(self.action.clone()),
            description: Some(self.description.clone()),
            enabled: Some(true),
            vnic: Some("0".to_owned()),
            original_address: Some(self.original.to_string()),
            original_port: Some(original_port),
            protocol: Some(self.protocol.clone()),
            translated_address: Some(self.translated.to_string()),
            translated_port: Some(translated_port),
            rule_type: Some(RuleType::User),
            logging_enabled: Some(false),
            icmp_type: icmp.then(|| "any".to_owned()),
            ..NatRule::default()
        })
    }
}
