//! NSX-T edge gateways over the cloudapi (`/cloudapi/1.0.0/edgeGateways/...`, JSON):
//! list and read gateways, and manage their firewall rules, NAT rules and IPsec VPN
//! tunnels. vCD 10.x manages NSX-T edges only this way; NSX-V edges keep the XML
//! `configureServices` of [`crate::edge`].
//!
//! | operation | library | vCD request |
//! |---|---|---|
//! | list gateways (of a vDC) | [`NsxtEdges::list`], [`NsxtEdges::list_in_vdc`] | `GET edgeGateways?filter=orgVdc.id==<urn>` (paged) |
//! | one gateway by name or id | [`NsxtEdges::edge`] → [`NsxtEdgeHandle::get`] | `GET edgeGateways/{id}` |
//! | firewall rules | [`NsxtEdgeHandle::firewall_rules`], [`NsxtEdgeHandle::set_firewall_rules`] | `GET`/`PUT edgeGateways/{id}/firewall/rules` |
//! | NAT rules | [`NsxtEdgeHandle::nat_rules`], `create_nat_rule`, `update_nat_rule`, `delete_nat_rule` | `edgeGateways/{id}/nat/rules[/{ruleId}]` |
//! | IPsec tunnels | [`NsxtEdgeHandle::ipsec_tunnels`], `create_ipsec_tunnel`, `update_ipsec_tunnel`, `delete_ipsec_tunnel` | `edgeGateways/{id}/ipsec/tunnels[/{tunnelId}]` |
//!
//! Every change is checked before it is sent (addresses, ports, names: a typed
//! `InvalidInput` error), runs as a vCD task named by the answer's `Location` header and
//! is waited for, and is retried while the edge answers `BUSY_ENTITY` (see
//! [`crate::cloudapi`]). vCD does not return the id of a created rule; `create_*` finds it
//! as the one rule of that name that was not there before. Updates send the rule's
//! `version` as read: a rule changed by someone else in between is refused by vCD rather
//! than overwritten.
//!
//! ```
//! use nebulair_core::Credentials;
//! use nebulair_sim::vcloud::{VcloudSimulator, DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER};
//! use nebulair_vcloud::nsxt::NatRule;
//! use nebulair_vcloud::session::VcdSession;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = VcloudSimulator::builder().start().await?;
//! let session = VcdSession::builder(sim.base_url().as_str())
//!     .org(DEFAULT_ORG)
//!     .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
//!     .build()?;
//! session.login().await?;
//! let edges = session.client()?.nsxt_edges();
//!
//! let edge = edges.edge("edge-nsxt-dev");
//! assert!(edge.get().await?.is_nsxt());
//! let rule = edge
//!     .create_nat_rule(&NatRule::dnat("web", "203.0.113.20", "10.10.0.20").external_port("443"))
//!     .await?;
//! assert!(rule.id.is_some());
//! assert!(edge.nat_rules().await?.iter().any(|r| r.name == "web"));
//!
//! // Checked before sending: nothing reaches the server.
//! assert!(edge.create_nat_rule(&NatRule::dnat("x", "203.0.113.999", "10.10.0.20")).await.is_err());
//! # sim.shutdown().await;
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().expect("rt").block_on(run()).expect("nsxt");
//! ```

pub mod model;

use std::sync::Arc;

use http::Method;
use nebulair_core::{Error, ErrorKind, Result};
use tokio::sync::OnceCell;

pub use model::{
    Direction, EdgeGateway, EdgeSubnet, EdgeSubnets, EdgeUplink, EntityRef, FirewallAction,
    FirewallRule, FirewallRules, GatewayBacking, IpProtocol, IpsecTunnel, LocalEndpoint, NatRule,
    NatRuleType, PresharedKey, RemoteEndpoint, RuleVersion, check_addresses, check_port,
};

use crate::client::VcdClient;
use crate::cloudapi::{CloudApi, ListParams};
use crate::query::Filter;
use crate::workload::{VcdId, Workloads};

impl VcdClient {
    /// The NSX-T edge gateways this session can see, with the default workload options.
    pub fn nsxt_edges(&self) -> NsxtEdges {
        NsxtEdges::new(self.workloads())
    }
}

/// The NSX-T edge gateways (`/cloudapi/1.0.0/edgeGateways`).
#[derive(Debug, Clone)]
pub struct NsxtEdges {
    api: CloudApi,
}

impl NsxtEdges {
    /// The edges over these workloads (their busy retry and task wait options apply).
    pub fn new(ws: Workloads) -> Self {
        NsxtEdges {
            api: CloudApi::new(ws),
        }
    }

    /// Every edge gateway, every page.
    ///
    /// # Errors
    /// Request errors.
    pub async fn list(&self) -> Result<Vec<EdgeGateway>> {
        self.list_with(&ListParams::new().sort_asc("name")).await
    }

    /// The edge gateways matching `params` (filter, sort, page size).
    ///
    /// # Errors
    /// Request errors; a filter vCD refuses is a `400` error with its message.
    pub async fn list_with(&self, params: &ListParams) -> Result<Vec<EdgeGateway>> {
        self.api.list_all("edgeGateways", params).await
    }

    /// The edge gateways of one org vDC (`vdc`: a UUID, urn or href).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when `vdc` is not an id; request errors.
    pub async fn list_in_vdc(&self, vdc: &str) -> Result<Vec<EdgeGateway>> {
        let id = vdc
            .parse::<VcdId>()
            .map_err(|e| e.context("list_in_vdc: the vDC"))?;
        let urn = format!("urn:vcloud:vdc:{}", id.uuid());
        self.list_with(
            &ListParams::new()
                .filter(Filter::eq("orgVdc.id", urn))
                .sort_asc("name"),
        )
        .await
    }

    /// An edge gateway by name or id (`urn:vcloud:gateway:<uuid>`, a UUID or an href);
    /// a name is looked up on first use.
    pub fn edge(&self, name_or_id: impl Into<String>) -> NsxtEdgeHandle {
        NsxtEdgeHandle {
            api: self.api.clone(),
            wanted: name_or_id.into(),
            id: Arc::new(OnceCell::new()),
        }
    }
}

/// One NSX-T edge gateway.
#[derive(Debug, Clone)]
pub struct NsxtEdgeHandle {
    api: CloudApi,
    wanted: String,
    id: Arc<OnceCell<String>>,
}

fn gateway_urn(text: &str) -> Option<String> {
    let t = text.trim();
    if let Some(rest) = t.strip_prefix("urn:vcloud:gateway:") {
        return uuid::Uuid::parse_str(rest)
            .ok()
            .map(|u| format!("urn:vcloud:gateway:{u}"));
    }
    let tail = t.rsplit('/').next().unwrap_or(t);
    let tail = tail.strip_prefix("urn:vcloud:gateway:").unwrap_or(tail);
    uuid::Uuid::parse_str(tail)
        .ok()
        .map(|u| format!("urn:vcloud:gateway:{u}"))
}

impl NsxtEdgeHandle {
    /// The gateway's urn (a name is looked up once).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] when no gateway has the name; [`ErrorKind::InvalidInput`]
    /// when several have it (the error lists their ids); request errors.
    pub async fn id(&self) -> Result<String> {
        self.id
            .get_or_try_init(|| async {
                if let Some(urn) = gateway_urn(&self.wanted) {
                    return Ok(urn);
                }
                let name = self.wanted.trim();
                if name.is_empty() {
                    return Err(Error::invalid_input("an edge gateway name is empty"));
                }
                let found: Vec<EdgeGateway> = self
                    .api
                    .list_all(
                        "edgeGateways",
                        &ListParams::new().filter(Filter::eq("name", name)),
                    )
                    .await?;
                let exact: Vec<&EdgeGateway> = found.iter().filter(|e| e.name == name).collect();
                match exact.as_slice() {
                    [one] => one
                        .id
                        .clone()
                        .ok_or_else(|| Error::protocol(format!("edge gateway {name:?} has no id"))),
                    [] => Err(Error::new(
                        ErrorKind::NotFound,
                        format!("no NSX-T edge gateway is named {name:?}"),
                    )),
                    many => Err(Error::invalid_input(format!(
                        "{} edge gateways are named {name:?} ({}); use an id",
                        many.len(),
                        many.iter()
                            .filter_map(|e| e.id.as_deref())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))),
                }
            })
            .await
            .cloned()
    }

    async fn path(&self, tail: &str) -> Result<String> {
        let id = self.id().await?;
        Ok(if tail.is_empty() {
            format!("edgeGateways/{id}")
        } else {
            format!("edgeGateways/{id}/{tail}")
        })
    }

    /// The gateway document.
    ///
    /// # Errors
    /// As [`id`](Self::id); request errors.
    pub async fn get(&self) -> Result<EdgeGateway> {
        self.api.get(&self.path("").await?).await
    }

    /// Its firewall rules (system, default and user-defined).
    ///
    /// # Errors
    /// Request errors.
    pub async fn firewall_rules(&self) -> Result<FirewallRules> {
        self.api.get(&self.path("firewall/rules").await?).await
    }

    /// Replaces the user-defined firewall rules with `rules`, in this order (system and
    /// default rules stay as vCD has them), and waits for the task.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for a rule that fails [`FirewallRule::validate`]
    /// (nothing is sent); request and task errors.
    pub async fn set_firewall_rules(&self, rules: &[FirewallRule]) -> Result<FirewallRules> {
        for r in rules {
            r.validate()?;
        }
        let path = self.path("firewall/rules").await?;
        let body = serde_json::json!({ "userDefinedRules": rules });
        self.api
            .change_and_wait(Method::PUT, &path, Some(&body))
            .await?;
        self.firewall_rules().await
    }

    /// Its NAT rules, every page.
    ///
    /// # Errors
    /// Request errors.
    pub async fn nat_rules(&self) -> Result<Vec<NatRule>> {
        self.api
            .list_all(&self.path("nat/rules").await?, &ListParams::new())
            .await
    }

    /// One NAT rule by id.
    ///
    /// # Errors
    /// vCD's error for an unknown id; request errors.
    pub async fn nat_rule(&self, id: &str) -> Result<NatRule> {
        self.api
            .get(&self.path(&format!("nat/rules/{}", id.trim())).await?)
            .await
    }

    /// Creates a NAT rule, waits for the task and returns the rule as vCD stored it (with
    /// its id).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the rule fails [`NatRule::validate`] (nothing is
    /// sent); request and task errors; [`ErrorKind::Protocol`] when the new rule cannot be
    /// told apart afterwards.
    pub async fn create_nat_rule(&self, rule: &NatRule) -> Result<NatRule> {
        rule.validate()?;
        let path = self.path("nat/rules").await?;
        let before: Vec<String> = self
            .nat_rules()
            .await?
            .into_iter()
            .filter_map(|r| r.id)
            .collect();
        self.api
            .change_and_wait(Method::POST, &path, Some(rule))
            .await?;
        let mut new: Vec<NatRule> = self
            .nat_rules()
            .await?
            .into_iter()
            .filter(|r| r.name == rule.name && r.id.as_ref().is_some_and(|i| !before.contains(i)))
            .collect();
        match new.len() {
            1 => Ok(new.remove(0)),
            n => Err(Error::protocol(format!(
                "NAT rule {:?} was created, but {n} new rules carry that name",
                rule.name
            ))),
        }
    }

    /// Updates a NAT rule read earlier (its `id` and `version` are sent back as read) and
    /// returns it re-read.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when it has no id or fails validation; vCD's refusal
    /// when the rule changed since it was read; request and task errors.
    pub async fn update_nat_rule(&self, rule: &NatRule) -> Result<NatRule> {
        rule.validate()?;
        let id = rule
            .id
            .as_deref()
            .ok_or_else(|| Error::invalid_input(format!("NAT rule {:?} has no id", rule.name)))?;
        let path = self.path(&format!("nat/rules/{id}")).await?;
        self.api
            .change_and_wait(Method::PUT, &path, Some(rule))
            .await?;
        self.nat_rule(id).await
    }

    /// Deletes a NAT rule by id and waits for the task.
    ///
    /// # Errors
    /// Request and task errors.
    pub async fn delete_nat_rule(&self, id: &str) -> Result<()> {
        let path = self.path(&format!("nat/rules/{}", id.trim())).await?;
        self.api
            .change_and_wait::<()>(Method::DELETE, &path, None)
            .await?;
        Ok(())
    }

    /// Its IPsec tunnels, every page.
    ///
    /// # Errors
    /// Request errors.
    pub async fn ipsec_tunnels(&self) -> Result<Vec<IpsecTunnel>> {
        self.api
            .list_all(&self.path("ipsec/tunnels").await?, &ListParams::new())
            .await
    }

    /// One IPsec tunnel by id.
    ///
    /// # Errors
    /// vCD's error for an unknown id; request errors.
    pub async fn ipsec_tunnel(&self, id: &str) -> Result<IpsecTunnel> {
        self.api
            .get(&self.path(&format!("ipsec/tunnels/{}", id.trim())).await?)
            .await
    }

    /// Creates an IPsec tunnel, waits for the task and returns it as stored (with its id).
    ///
    /// # Errors
    /// As [`create_nat_rule`](Self::create_nat_rule), with [`IpsecTunnel::validate`].
    pub async fn create_ipsec_tunnel(&self, tunnel: &IpsecTunnel) -> Result<IpsecTunnel> {
        tunnel.validate()?;
        let path = self.path("ipsec/tunnels").await?;
        let before: Vec<String> = self
            .ipsec_tunnels()
            .await?
            .into_iter()
            .filter_map(|t| t.id)
            .collect();
        self.api
            .change_and_wait(Method::POST, &path, Some(tunnel))
            .await?;
        let mut new: Vec<IpsecTunnel> = self
            .ipsec_tunnels()
            .await?
            .into_iter()
            .filter(|t| t.name == tunnel.name && t.id.as_ref().is_some_and(|i| !before.contains(i)))
            .collect();
        match new.len() {
            1 => Ok(new.remove(0)),
            n => Err(Error::protocol(format!(
                "IPsec tunnel {:?} was created, but {n} new tunnels carry that name",
                tunnel.name
            ))),
        }
    }

    /// Updates an IPsec tunnel read earlier and returns it re-read.
    ///
    /// # Errors
    /// As [`update_nat_rule`](Self::update_nat_rule).
    pub async fn update_ipsec_tunnel(&self, tunnel: &IpsecTunnel) -> Result<IpsecTunnel> {
        tunnel.validate()?;
        let id = tunnel.id.as_deref().ok_or_else(|| {
            Error::invalid_input(format!("IPsec tunnel {:?} has no id", tunnel.name))
        })?;
        let path = self.path(&format!("ipsec/tunnels/{id}")).await?;
        self.api
            .change_and_wait(Method::PUT, &path, Some(tunnel))
            .await?;
        self.ipsec_tunnel(id).await
    }

    /// Deletes an IPsec tunnel by id and waits for the task.
    ///
    /// # Errors
    /// Request and task errors.
    pub async fn delete_ipsec_tunnel(&self, id: &str) -> Result<()> {
        let path = self.path(&format!("ipsec/tunnels/{}", id.trim())).await?;
        self.api
            .change_and_wait::<()>(Method::DELETE, &path, None)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_ids_in_every_form() {
        let u = "6e656275-6c61-4000-8000-000000000202";
        let want = format!("urn:vcloud:gateway:{u}");
        for t in [
            u.to_owned(),
            want.clone(),
            format!("https://vcd/cloudapi/1.0.0/edgeGateways/urn:vcloud:gateway:{u}"),
        ] {
            assert_eq!(gateway_urn(&t).as_deref(), Some(want.as_str()), "{t}");
        }
        assert_eq!(gateway_urn("edge-nsxt-dev"), None);
        assert_eq!(gateway_urn("urn:vcloud:gateway:nope"), None);
    }
}
