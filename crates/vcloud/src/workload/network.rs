//! Org vDC networks: create (isolated, routed through an edge gateway, or direct on an
//! external network) with a gateway, a prefix, DNS and static IP pools; list, look up by
//! name or id, update, delete (vCD refuses a network in use).
//!
//! ```
//! use nebulair_core::Credentials;
//! use nebulair_sim::vcloud::{VcloudSimulator, DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER};
//! use nebulair_vcloud::session::VcdSession;
//! use nebulair_vcloud::workload::NewOrgNetwork;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = VcloudSimulator::builder().start().await?;
//! let session = VcdSession::builder(sim.base_url().as_str())
//!     .org(DEFAULT_ORG)
//!     .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
//!     .build()?;
//! session.login().await?;
//! let client = session.client()?;
//! let vdc = client.vdc("VDC-Dev");
//! let spec = NewOrgNetwork::isolated("backend", "10.20.0.1/24")?
//!     .dns("10.20.0.53", None)?
//!     .pool("10.20.0.100", "10.20.0.199")?;
//! let (net, task) = vdc.create_network(&spec).await?;
//! client.workloads().waiter().wait(&task).await?;
//! assert_eq!(net.get().await?.pools, vec![("10.20.0.100".parse()?, "10.20.0.199".parse()?)]);
//! // a pool outside the subnet is refused before anything is sent
//! assert!(NewOrgNetwork::isolated("x", "10.20.0.1/24")?.pool("10.30.0.1", "10.30.0.9").is_err());
//! # sim.shutdown().await;
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().expect("rt").block_on(run()).expect("networks");
//! ```

use std::net::Ipv4Addr;
use std::sync::Arc;

use nebulair_core::{Error, ErrorKind, Result};
use tokio::sync::OnceCell;

use super::id::Locator;
use super::ops::{Pending, Workloads, task_of};
use super::subnet::{Subnet, parse_ip};
use super::vdc::VdcHandle;
use crate::Task;
use crate::client::ApiRequest;
use crate::model::xml::XmlElement;

const NS: &str = "http://www.vmware.com/vcloud/v1.5";
/// Media type of an `OrgVdcNetwork` document.
pub const MT_ORG_VDC_NETWORK: &str = "application/vnd.vmware.vcloud.orgVdcNetwork+xml";

/// What went wrong with a network before or instead of a server error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// No network of the vDC has this name.
    #[error("no network named {name:?}{}", .scope.as_ref().map(|s| format!(" in {s}")).unwrap_or_default())]
    NotFound {
        /// The name looked for.
        name: String,
        /// Where it was looked for.
        scope: Option<String>,
    },
    /// More than one network has this name (without regard to case).
    #[error("{} networks are named {name:?}: {}; use an id", .candidates.len(), .candidates.join(", "))]
    Ambiguous {
        /// The name looked for.
        name: String,
        /// The hrefs of the candidates.
        candidates: Vec<String>,
    },
    /// A value the caller gave is malformed or out of range.
    #[error("invalid {what}: {reason}")]
    InvalidValue {
        /// Which value.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

impl NetworkError {
    /// The network error inside a core error, when there is one.
    pub fn of(err: &Error) -> Option<&NetworkError> {
        std::error::Error::source(err).and_then(|s| s.downcast_ref::<NetworkError>())
    }

    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        NetworkError::InvalidValue {
            what,
            reason: reason.into(),
        }
    }
}

impl From<NetworkError> for Error {
    fn from(e: NetworkError) -> Self {
        let kind = match e {
            NetworkError::NotFound { .. } => ErrorKind::NotFound,
            _ => ErrorKind::InvalidInput,
        };
        Error::with_source(kind, e.to_string(), e)
    }
}

/// How an org vDC network reaches the outside (vCD's `FenceMode`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FenceMode {
    /// `isolated`: only inside the vDC.
    Isolated,
    /// `natRouted`: through this edge gateway (its href).
    Routed {
        /// The edge gateway's href.
        edge_href: String,
    },
    /// `bridged`: directly on this external network (its href).
    Direct {
        /// The external network's href.
        parent_href: String,
    },
}

impl FenceMode {
    /// The wire value.
    pub fn as_str(&self) -> &'static str {
        match self {
            FenceMode::Isolated => "isolated",
            FenceMode::Routed { .. } => "natRouted",
            FenceMode::Direct { .. } => "bridged",
        }
    }
}

/// What a new org vDC network should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrgNetwork {
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// How it reaches the outside.
    pub fence: FenceMode,
    /// The gateway, prefix length and static IP pools.
    pub subnet: Subnet,
    /// The first DNS server.
    pub dns1: Option<Ipv4Addr>,
    /// The second DNS server.
    pub dns2: Option<Ipv4Addr>,
    /// The DNS suffix.
    pub dns_suffix: Option<String>,
    /// Shared with the other vDCs of the org.
    pub shared: bool,
}

impl NewOrgNetwork {
    fn new(name: &str, cidr: &str, fence: FenceMode) -> std::result::Result<Self, NetworkError> {
        if name.trim().is_empty() {
            return Err(NetworkError::invalid("network name", "it is empty"));
        }
        let subnet = Subnet::parse(cidr)?;
        Ok(NewOrgNetwork {
            name: name.to_owned(),
            description: String::new(),
            fence,
            subnet,
            dns1: None,
            dns2: None,
            dns_suffix: None,
            shared: false,
        })
    }

    /// An isolated network with this gateway and prefix (`10.0.0.1/24`).
    ///
    /// # Errors
    /// [`NetworkError::InvalidValue`] for an empty name, a malformed gateway or prefix, or
    /// a gateway that is its subnet's network or broadcast address.
    pub fn isolated(name: &str, gateway_cidr: &str) -> std::result::Result<Self, NetworkError> {
        Self::new(name, gateway_cidr, FenceMode::Isolated)
    }

    /// A network routed through this edge gateway (its href).
    ///
    /// # Errors
    /// As [`isolated`](Self::isolated).
    pub fn routed(
        name: &str,
        gateway_cidr: &str,
        edge_href: &str,
    ) -> std::result::Result<Self, NetworkError> {
        Self::new(
            name,
            gateway_cidr,
            FenceMode::Routed {
                edge_href: edge_href.to_owned(),
            },
        )
    }

    /// A direct network on this external network (its href).
    ///
    /// # Errors
    /// As [`isolated`](Self::isolated).
    pub fn direct(
        name: &str,
        gateway_cidr: &str,
        parent_href: &str,
    ) -> std::result::Result<Self, NetworkError> {
        Self::new(
            name,
            gateway_cidr,
            FenceMode::Direct {
                parent_href: parent_href.to_owned(),
            },
        )
    }

    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }

    /// Sets the DNS servers.
    ///
    /// # Errors
    /// [`NetworkError::InvalidValue`] for an address that is not IPv4.
    pub fn dns(
        mut self,
        dns1: &str,
        dns2: Option<&str>,
    ) -> std::result::Result<Self, NetworkError> {
        self.dns1 = Some(parse_ip("DNS server", dns1)?);
        self.dns2 = dns2.map(|d| parse_ip("DNS server", d)).transpose()?;
        Ok(self)
    }

    /// Sets the DNS suffix.
    pub fn dns_suffix(mut self, s: impl Into<String>) -> Self {
        self.dns_suffix = Some(s.into());
        self
    }

    /// Shares the network with the org's other vDCs.
    pub fn shared(mut self, on: bool) -> Self {
        self.shared = on;
        self
    }

    /// Adds a static IP pool from `first` to `last`.
    ///
    /// # Errors
    /// As [`Subnet::add_pool`]: a malformed address, a range that ends before it starts,
    /// reaches outside the subnet's host addresses, contains the gateway, or overlaps
    /// another pool.
    pub fn pool(mut self, first: &str, last: &str) -> std::result::Result<Self, NetworkError> {
        self.subnet.add_pool(first, last)?;
        Ok(self)
    }

    /// The `OrgVdcNetwork` document.
    pub fn to_xml(&self) -> String {
        let mut scope = XmlElement::new_ns(NS, "IpScope")
            .with_child(XmlElement::new_ns(NS, "IsInherited").with_text("false"))
            .with_child(
                XmlElement::new_ns(NS, "Gateway").with_text(self.subnet.gateway.to_string()),
            )
            // Netmask rather than SubnetPrefixLength: every API version accepts it.
            .with_child(
                XmlElement::new_ns(NS, "Netmask").with_text(self.subnet.netmask().to_string()),
            );
        if let Some(d) = self.dns1 {
            scope.push_child(XmlElement::new_ns(NS, "Dns1").with_text(d.to_string()));
        }
        if let Some(d) = self.dns2 {
            scope.push_child(XmlElement::new_ns(NS, "Dns2").with_text(d.to_string()));
        }
        if let Some(s) = &self.dns_suffix {
            scope.push_child(XmlElement::new_ns(NS, "DnsSuffix").with_text(s.clone()));
        }
        scope.push_child(XmlElement::new_ns(NS, "IsEnabled").with_text("true"));
        if !self.subnet.pools.is_empty() {
            let mut ranges = XmlElement::new_ns(NS, "IpRanges");
            for (a, b) in &self.subnet.pools {
                ranges.push_child(
                    XmlElement::new_ns(NS, "IpRange")
                        .with_child(XmlElement::new_ns(NS, "StartAddress").with_text(a.to_string()))
                        .with_child(XmlElement::new_ns(NS, "EndAddress").with_text(b.to_string())),
                );
            }
            scope.push_child(ranges);
        }
        let mut cfg = XmlElement::new_ns(NS, "Configuration")
            .with_child(XmlElement::new_ns(NS, "IpScopes").with_child(scope));
        if let FenceMode::Direct { parent_href } = &self.fence {
            cfg.push_child(
                XmlElement::new_ns(NS, "ParentNetwork").with_attr("href", parent_href.clone()),
            );
        }
        cfg.push_child(XmlElement::new_ns(NS, "FenceMode").with_text(self.fence.as_str()));
        let mut root = XmlElement::new_ns(NS, "OrgVdcNetwork")
            .with_attr("name", self.name.clone())
            .with_child(XmlElement::new_ns(NS, "Description").with_text(self.description.clone()))
            .with_child(cfg);
        if let FenceMode::Routed { edge_href } = &self.fence {
            root.push_child(
                XmlElement::new_ns(NS, "EdgeGateway").with_attr("href", edge_href.clone()),
            );
        }
        root.push_child(XmlElement::new_ns(NS, "IsShared").with_text(self.shared.to_string()));
        root.to_xml()
    }
}

/// An `OrgVdcNetwork` document as vCD describes it.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct OrgNetwork {
    /// `href`.
    pub href: String,
    /// `id` (`urn:vcloud:network:<uuid>`).
    pub id: Option<String>,
    /// `name`.
    pub name: String,
    /// `Description`.
    pub description: Option<String>,
    /// `FenceMode` (`isolated`, `natRouted`, `bridged`).
    pub fence_mode: String,
    /// The gateway.
    pub gateway: Option<Ipv4Addr>,
    /// The prefix length.
    pub prefix: Option<u8>,
    /// The DNS servers.
    pub dns: Vec<Ipv4Addr>,
    /// The DNS suffix.
    pub dns_suffix: Option<String>,
    /// The static IP pools.
    pub pools: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// The edge gateway's name (routed networks).
    pub edge: Option<String>,
    /// `IsShared`.
    pub shared: bool,
    /// `status` (`1` ready).
    pub status: Option<i32>,
    /// The whole document.
    pub element: XmlElement,
}

impl OrgNetwork {
    /// Decodes an `OrgVdcNetwork` document.
    ///
    /// # Errors
    /// [`ErrorKind::Protocol`] for another document.
    pub fn from_element(el: &XmlElement) -> Result<Self> {
        if el.name() != "OrgVdcNetwork" && el.name() != "OrgNetwork" {
            return Err(Error::protocol(format!(
                "expected an OrgVdcNetwork, got {}",
                el.name()
            )));
        }
        let cfg = el.child("Configuration");
        let scope = cfg
            .and_then(|c| c.child("IpScopes"))
            .and_then(|s| s.child("IpScope"));
        let ip = |tag: &str| {
            scope
                .and_then(|s| s.child_text(tag))
                .and_then(|t| t.parse::<Ipv4Addr>().ok())
        };
        let prefix = scope
            .and_then(|s| s.child_text("SubnetPrefixLength"))
            .and_then(|p| p.parse().ok())
            .or_else(|| ip("Netmask").map(|m| u32::from(m).leading_ones() as u8));
        Ok(OrgNetwork {
            href: el.attr("href").unwrap_or_default().to_owned(),
            id: el.attr("id").map(str::to_owned),
            name: el.attr("name").unwrap_or_default().to_owned(),
            description: el.child_text("Description").map(str::to_owned),
            fence_mode: cfg
                .and_then(|c| c.child_text("FenceMode"))
                .unwrap_or_default()
                .to_owned(),
            gateway: ip("Gateway"),
            prefix,
            dns: ["Dns1", "Dns2"].iter().filter_map(|t| ip(t)).collect(),
            dns_suffix: scope
                .and_then(|s| s.child_text("DnsSuffix"))
                .map(str::to_owned),
            pools: scope
                .and_then(|s| s.child("IpRanges"))
                .map(|r| {
                    r.children_named("IpRange")
                        .filter_map(|x| {
                            Some((
                                x.child_text("StartAddress")?.parse().ok()?,
                                x.child_text("EndAddress")?.parse().ok()?,
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            edge: el
                .child("EdgeGateway")
                .and_then(|e| e.attr("name"))
                .map(str::to_owned),
            shared: el.child_text("IsShared") == Some("true"),
            status: el.attr("status").and_then(|s| s.parse().ok()),
            element: el.clone(),
        })
    }
}

/// An org vDC network, by name (in its vDC) or id.
#[derive(Debug, Clone)]
pub struct OrgNetworkHandle {
    ws: Workloads,
    vdc: Option<VdcHandle>,
    loc: Locator,
    resolved: Arc<OnceCell<String>>,
}

fn network_uuid(text: &str) -> Option<uuid::Uuid> {
    let t = text.trim();
    uuid::Uuid::parse_str(t.strip_prefix("urn:vcloud:network:").unwrap_or(t)).ok()
}

impl OrgNetworkHandle {
    /// The network's admin href (looking a name up among the vDC's networks).
    ///
    /// # Errors
    /// [`NetworkError::NotFound`] / [`NetworkError::Ambiguous`]; request errors.
    pub async fn href(&self) -> Result<String> {
        self.resolved
            .get_or_try_init(|| async {
                let to_admin = |h: &str| h.replacen("/api/network/", "/api/admin/network/", 1);
                match &self.loc {
                    Locator::Href(h) => Ok(to_admin(h)),
                    Locator::Id(id) => Ok(format!("api/admin/network/{}", id.uuid())),
                    Locator::Name(n) if network_uuid(n).is_some() => Ok(format!(
                        "api/admin/network/{}",
                        network_uuid(n).unwrap_or_default()
                    )),
                    Locator::Name(name) => {
                        let Some(vdc) = &self.vdc else {
                            return Err(NetworkError::NotFound {
                                name: name.clone(),
                                scope: None,
                            }
                            .into());
                        };
                        let all = vdc.networks().await?;
                        let exact: Vec<&(String, String)> =
                            all.iter().filter(|(n, _)| n == name).collect();
                        let found = if exact.is_empty() {
                            all.iter()
                                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                                .collect()
                        } else {
                            exact
                        };
                        match found.as_slice() {
                            [one] => Ok(to_admin(&one.1)),
                            [] => Err(NetworkError::NotFound {
                                name: name.clone(),
                                scope: vdc.name().map(|n| format!("vDC {n:?}")),
                            }
                            .into()),
                            many => Err(NetworkError::Ambiguous {
                                name: name.clone(),
                                candidates: many.iter().map(|(_, h)| h.clone()).collect(),
                            }
                            .into()),
                        }
                    }
                }
            })
            .await
            .cloned()
    }

    /// The OrgVdcNetwork document.
    ///
    /// # Errors
    /// As [`href`](Self::href); request and decoding errors.
    pub async fn get(&self) -> Result<OrgNetwork> {
        let href = self.href().await?;
        OrgNetwork::from_element(&self.ws.client.get_xml(&href).await?)
    }

    /// Changes the name, description, DNS, pools and sharing (`PUT` of the network; the
    /// fence mode, gateway and prefix of `spec` must be the network's own); a task.
    pub fn update(&self, spec: &NewOrgNetwork) -> Pending {
        let me = self.clone();
        let body = spec.to_xml();
        Pending::new(&self.ws, async move {
            let href = me.href().await?;
            me.ws
                .submit_task(ApiRequest::put(href).body(MT_ORG_VDC_NETWORK, body))
                .await
        })
    }

    /// Deletes the network (vCD refuses while a vApp or VM uses it); a task.
    pub fn delete(&self) -> Pending {
        let me = self.clone();
        Pending::new(&self.ws, async move {
            let href = me.href().await?;
            me.ws.submit_task(ApiRequest::delete(href)).await
        })
    }
}

impl VdcHandle {
    /// The networks of the vDC (its `AvailableNetworks`): (name, href) pairs.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn networks(&self) -> Result<Vec<(String, String)>> {
        let vdc = self.get().await?;
        Ok(vdc
            .available_networks
            .as_ref()
            .map(|a| a.networks.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|r| Some((r.name.clone()?, r.href.clone()?)))
            .collect())
    }

    /// A network of the vDC, by name or id.
    pub fn network(&self, network: impl Into<Locator>) -> OrgNetworkHandle {
        OrgNetworkHandle {
            ws: self.core.ws.clone(),
            vdc: Some(self.clone()),
            loc: network.into(),
            resolved: Arc::new(OnceCell::new()),
        }
    }

    /// Creates an org vDC network (`POST /api/admin/vdc/{id}/networks`): its handle and
    /// the creation task.
    ///
    /// # Errors
    /// The server's refusal (`DUPLICATE_NAME`, an edge of another vDC, an unknown
    /// external network); request errors; [`ErrorKind::Protocol`] when the answer is not
    /// a network with a task.
    pub async fn create_network(&self, spec: &NewOrgNetwork) -> Result<(OrgNetworkHandle, Task)> {
        let href = self.href().await?;
        let uuid = href
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let resp = self
            .core
            .ws
            .submit(
                ApiRequest::post(format!("api/admin/vdc/{uuid}/networks"))
                    .body(MT_ORG_VDC_NETWORK, spec.to_xml()),
            )
            .await?;
        let root = resp.xml()?;
        let net = OrgNetwork::from_element(&root)?;
        let task =
            task_of(&root).ok_or_else(|| Error::protocol("the new network carries no Task"))?;
        Ok((
            OrgNetworkHandle {
                ws: self.core.ws.clone(),
                vdc: Some(self.clone()),
                loc: Locator::Href(net.href.clone()),
                resolved: Arc::new(OnceCell::new()),
            },
            task,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_checked_before_sending() {
        let n = NewOrgNetwork::isolated("a", "192.168.10.1/24").expect("spec");
        assert!(n.clone().pool("192.168.10.10", "192.168.10.20").is_ok());
        for (a, b) in [
            ("192.168.11.10", "192.168.11.20"),
            ("192.168.10.20", "192.168.10.10"),
            ("192.168.10.1", "192.168.10.5"),
            ("x", "192.168.10.5"),
        ] {
            assert!(
                matches!(n.clone().pool(a, b), Err(NetworkError::InvalidValue { .. })),
                "{a}-{b}"
            );
        }
        let two = n.pool("192.168.10.10", "192.168.10.20").expect("first");
        assert!(
            two.pool("192.168.10.15", "192.168.10.30").is_err(),
            "overlap"
        );
        assert!(NewOrgNetwork::isolated("a", "192.168.10.0/24").is_err());
        assert!(NewOrgNetwork::isolated("a", "192.168.10.1/31").is_err());
        assert!(NewOrgNetwork::isolated("", "192.168.10.1/24").is_err());
        assert!(NewOrgNetwork::isolated("a", "192.168.10.1").is_err());
        let xml = NewOrgNetwork::routed("r", "10.1.0.1/16", "https://h/api/admin/edgeGateway/1")
            .expect("spec")
            .to_xml();
        let el = XmlElement::parse(&xml).expect("xml");
        assert_eq!(
            el.child("Configuration")
                .and_then(|c| c.child_text("FenceMode")),
            Some("natRouted")
        );
        let parsed = OrgNetwork::from_element(&el).expect("decodes");
        assert_eq!(parsed.prefix, Some(16));
        assert_eq!(parsed.gateway, Some("10.1.0.1".parse().expect("ip")));
    }
}
