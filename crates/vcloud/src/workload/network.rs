//! Org vDC networks: list, look up, create (isolated, routed through an edge gateway, or
//! directly connected to an external network), rename or re-describe, and delete (vCD
//! refuses while a vApp uses the network).
//!
//! | operation | library | vCD request |
//! |---|---|---|
//! | list | [`VdcHandle::networks`] | query service `type=orgVdcNetwork`, filtered by vDC |
//! | get by name or id | [`VdcHandle::network`] → [`NetworkHandle::get`] | `GET /api/admin/network/{id}` |
//! | create | [`VdcHandle::create_network`] with a [`NewOrgNetwork`] | `POST /api/admin/vdc/{id}/networks` (`OrgVdcNetwork`) |
//! | update | [`NetworkHandle::update`] | `PUT /api/admin/network/{id}` |
//! | delete | [`NetworkHandle::delete`] | `DELETE /api/admin/network/{id}` |
//!
//! A [`NewOrgNetwork`] is checked before anything is sent: the gateway and prefix form a
//! subnet, every static pool range lies inside it, is in order, and holds neither the
//! gateway nor the subnet's network or broadcast address, ranges do not overlap, and DNS
//! servers are IP addresses. A bad value is [`ErrorKind::InvalidInput`] naming it.
//!
//! ```
//! use nebulair_core::Credentials;
//! use nebulair_sim::vcloud::{VcloudSimulator, DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER};
//! use nebulair_vcloud::session::VcdSession;
//! use nebulair_vcloud::workload::{FenceMode, NewOrgNetwork};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = VcloudSimulator::builder().start().await?;
//! let session = VcdSession::builder(sim.base_url().as_str())
//!     .org(DEFAULT_ORG)
//!     .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
//!     .build()?;
//! session.login().await?;
//! let vdc = session.client()?.vdc("VDC-Dev");
//! let net = NewOrgNetwork::isolated("backend", "10.20.0.1/24")?
//!     .ip_range("10.20.0.10", "10.20.0.99")?
//!     .dns("10.20.0.2", None)?;
//! let handle = vdc.create_network(&net).wait().await?;
//! let doc = handle.get().await?;
//! assert_eq!(doc.fence_mode(), Some(FenceMode::Isolated));
//! assert!(vdc.networks().await?.iter().any(|n| n.name == "backend"));
//!
//! // A pool outside the subnet never reaches the server.
//! let bad = NewOrgNetwork::isolated("x", "10.30.0.1/24")?.ip_range("10.31.0.10", "10.31.0.20");
//! assert!(bad.is_err());
//! handle.delete().wait().await?;
//! # sim.shutdown().await;
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().expect("rt").block_on(run()).expect("networks");
//! ```

use std::fmt;
use std::net::Ipv4Addr;
use std::sync::Arc;

use futures::TryStreamExt as _;
use nebulair_core::{Error, ErrorKind, Result};
use tokio::sync::OnceCell;

use super::id::Locator;
use super::ops::{Pending, Workloads, task_of};
use super::vdc::VdcHandle;
use crate::client::ApiRequest;
use crate::model::vcd::{
    Document as _, IpRange, IpRanges, IpScope, IpScopes, NetworkConfiguration, OrgVdcNetwork,
    Reference,
};
use crate::query::{Filter, Query, QueryType};

/// The media type of an org vDC network document.
pub const MT_ORG_VDC_NETWORK: &str = "application/vnd.vmware.vcloud.orgVdcNetwork+xml";

/// How an org vDC network reaches the outside.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FenceMode {
    /// `isolated`: no connection outside the vDC.
    Isolated,
    /// `natRouted`: routed through an edge gateway.
    NatRouted,
    /// `bridged`: directly connected to an external network.
    Bridged,
    /// A value this SDK does not know, kept as sent.
    Other(String),
}

impl FenceMode {
    /// The wire text.
    pub fn as_str(&self) -> &str {
        match self {
            FenceMode::Isolated => "isolated",
            FenceMode::NatRouted => "natRouted",
            FenceMode::Bridged => "bridged",
            FenceMode::Other(s) => s,
        }
    }

    /// From the wire text (unknown text is kept as `Other`).
    pub fn from_wire(s: &str) -> FenceMode {
        match s {
            "isolated" => FenceMode::Isolated,
            "natRouted" => FenceMode::NatRouted,
            "bridged" => FenceMode::Bridged,
            other => FenceMode::Other(other.to_owned()),
        }
    }

    /// The query service's `linkType` (0 direct, 1 routed, 2 isolated).
    pub fn from_link_type(code: &str) -> Option<FenceMode> {
        match code {
            "0" => Some(FenceMode::Bridged),
            "1" => Some(FenceMode::NatRouted),
            "2" => Some(FenceMode::Isolated),
            _ => None,
        }
    }
}

impl fmt::Display for FenceMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn invalid(what: &str, why: impl fmt::Display) -> Error {
    Error::invalid_input(format!("org vDC network: {what}: {why}"))
}

fn ipv4(what: &str, text: &str) -> Result<Ipv4Addr> {
    text.trim()
        .parse::<Ipv4Addr>()
        .map_err(|_| invalid(what, format!("{text:?} is not an IPv4 address")))
}

/// An IPv4 subnet given by its gateway: `10.0.0.1/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Subnet {
    gateway: Ipv4Addr,
    prefix: u8,
}

impl Subnet {
    fn parse(cidr: &str) -> Result<Subnet> {
        let (a, p) = cidr
            .trim()
            .split_once('/')
            .ok_or_else(|| invalid("gateway", format!("{cidr:?} is not address/prefix")))?;
        let gateway = ipv4("gateway", a)?;
        let prefix: u8 = p
            .parse()
            .ok()
            .filter(|p| (1..=30).contains(p))
            .ok_or_else(|| invalid("gateway", format!("prefix {p:?} is not 1 to 30")))?;
        let s = Subnet { gateway, prefix };
        if gateway == s.network() || gateway == s.broadcast() {
            return Err(invalid(
                "gateway",
                format!("{gateway} is the network or broadcast address of /{prefix}"),
            ));
        }
        Ok(s)
    }

    fn mask(&self) -> u32 {
        u32::MAX << (32 - u32::from(self.prefix))
    }

    fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.mask())
    }

    fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.gateway) & self.mask())
    }

    fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.gateway) | !self.mask())
    }

    fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.network())
    }
}

/// A new org vDC network.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewOrgNetwork {
    /// The name.
    pub name: String,
    /// The description.
    pub description: Option<String>,
    /// Isolated, routed or direct.
    pub fence_mode: FenceMode,
    subnet: Option<Subnet>,
    /// DNS servers.
    pub dns: (Option<Ipv4Addr>, Option<Ipv4Addr>),
    /// The DNS suffix.
    pub dns_suffix: Option<String>,
    /// Static IP pool ranges.
    pub ranges: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// Routed: the edge gateway (name, id or href).
    pub edge: Option<String>,
    /// Direct: the external network's href.
    pub parent: Option<String>,
    /// Shared with the org's other vDCs.
    pub shared: bool,
}

impl NewOrgNetwork {
    fn base(name: &str, fence_mode: FenceMode, cidr: Option<&str>) -> Result<Self> {
        if name.trim().is_empty() {
            return Err(invalid("name", "it is empty"));
        }
        Ok(NewOrgNetwork {
            name: name.trim().to_owned(),
            description: None,
            fence_mode,
            subnet: cidr.map(Subnet::parse).transpose()?,
            dns: (None, None),
            dns_suffix: None,
            ranges: Vec::new(),
            edge: None,
            parent: None,
            shared: false,
        })
    }

    /// An isolated network with this gateway and prefix (`10.0.0.1/24`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an empty name or a gateway that is not
    /// `address/prefix` (prefix 1 to 30, not the network or broadcast address).
    pub fn isolated(name: impl AsRef<str>, gateway_cidr: &str) -> Result<Self> {
        Self::base(name.as_ref(), FenceMode::Isolated, Some(gateway_cidr))
    }

    /// A network routed through the edge gateway `edge` (its name, id or href).
    ///
    /// # Errors
    /// As [`isolated`](Self::isolated).
    pub fn routed(
        name: impl AsRef<str>,
        gateway_cidr: &str,
        edge: impl Into<String>,
    ) -> Result<Self> {
        let mut n = Self::base(name.as_ref(), FenceMode::NatRouted, Some(gateway_cidr))?;
        n.edge = Some(edge.into());
        Ok(n)
    }

    /// A network directly connected to the external network at `parent_href` (its IP
    /// settings are inherited from it).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an empty name.
    pub fn direct(name: impl AsRef<str>, parent_href: impl Into<String>) -> Result<Self> {
        let mut n = Self::base(name.as_ref(), FenceMode::Bridged, None)?;
        n.parent = Some(parent_href.into());
        Ok(n)
    }

    /// Adds a static IP pool range.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the range is out of order, outside the subnet,
    /// holds the gateway, the network or broadcast address, or overlaps another range;
    /// for a direct network (its pool is the external network's).
    pub fn ip_range(mut self, start: &str, end: &str) -> Result<Self> {
        let (s, e) = (ipv4("pool start", start)?, ipv4("pool end", end)?);
        let Some(net) = self.subnet else {
            return Err(invalid(
                "pool",
                "a direct network takes the external network's pool",
            ));
        };
        if u32::from(s) > u32::from(e) {
            return Err(invalid("pool", format!("{s}-{e} is out of order")));
        }
        if !net.contains(s) || !net.contains(e) {
            return Err(invalid(
                "pool",
                format!("{s}-{e} is outside {}/{}", net.network(), net.prefix),
            ));
        }
        let inside = |ip: Ipv4Addr| u32::from(s) <= u32::from(ip) && u32::from(ip) <= u32::from(e);
        for (what, ip) in [
            ("the gateway", net.gateway),
            ("the network address", net.network()),
            ("the broadcast address", net.broadcast()),
        ] {
            if inside(ip) {
                return Err(invalid("pool", format!("{s}-{e} holds {what} {ip}")));
            }
        }
        if let Some((a, b)) = self
            .ranges
            .iter()
            .find(|(a, b)| u32::from(*a) <= u32::from(e) && u32::from(s) <= u32::from(*b))
        {
            return Err(invalid("pool", format!("{s}-{e} overlaps {a}-{b}")));
        }
        self.ranges.push((s, e));
        Ok(self)
    }

    /// Sets the DNS servers.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for a value that is not an IPv4 address.
    pub fn dns(mut self, primary: &str, secondary: Option<&str>) -> Result<Self> {
        self.dns = (
            Some(ipv4("DNS 1", primary)?),
            secondary.map(|s| ipv4("DNS 2", s)).transpose()?,
        );
        Ok(self)
    }

    /// Sets the DNS suffix.
    pub fn dns_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.dns_suffix = Some(suffix.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }

    /// Shares the network with the org's other vDCs.
    pub fn shared(mut self, on: bool) -> Self {
        self.shared = on;
        self
    }

    /// The `OrgVdcNetwork` document, with the edge gateway reference of a routed network.
    pub fn to_document(&self, edge: Option<Reference>) -> OrgVdcNetwork {
        let ip_scopes = self.subnet.map(|net| {
            Box::new(IpScopes {
                ip_scopes: vec![IpScope {
                    is_inherited: Some(false),
                    gateway: Some(net.gateway.to_string()),
                    netmask: Some(net.netmask().to_string()),
                    dns1: self.dns.0.map(|d| d.to_string()),
                    dns2: self.dns.1.map(|d| d.to_string()),
                    dns_suffix: self.dns_suffix.clone(),
                    is_enabled: Some(true),
                    ip_ranges: (!self.ranges.is_empty()).then(|| {
                        Box::new(IpRanges {
                            ip_ranges: self
                                .ranges
                                .iter()
                                .map(|(s, e)| IpRange {
                                    start_address: Some(s.to_string()),
                                    end_address: Some(e.to_string()),
                                    ..IpRange::default()
                                })
                                .collect(),
                            ..IpRanges::default()
                        })
                    }),
                    ..IpScope::default()
                }],
                ..IpScopes::default()
            })
        });
        OrgVdcNetwork {
            name: Some(self.name.clone()),
            description: self.description.clone(),
            configuration: Some(Box::new(NetworkConfiguration {
                ip_scopes,
                parent_network: self.parent.as_ref().map(|h| {
                    Box::new(Reference {
                        href: Some(h.clone()),
                        ..Reference::default()
                    })
                }),
                fence_mode: Some(self.fence_mode.as_str().to_owned()),
                ..NetworkConfiguration::default()
            })),
            edge_gateway: edge.map(Box::new),
            is_shared: Some(self.shared),
            ..OrgVdcNetwork::default()
        }
    }
}

impl OrgVdcNetwork {
    /// The fence mode of the network.
    pub fn fence_mode(&self) -> Option<FenceMode> {
        self.configuration
            .as_ref()?
            .fence_mode
            .as_deref()
            .map(FenceMode::from_wire)
    }

    /// Its first IP scope (gateway, netmask, DNS, pools).
    pub fn ip_scope(&self) -> Option<&IpScope> {
        self.configuration
            .as_ref()?
            .ip_scopes
            .as_ref()?
            .ip_scopes
            .first()
    }
}

/// One row of [`VdcHandle::networks`] (an `OrgVdcNetworkRecord`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NetworkSummary {
    /// The network's href.
    pub href: String,
    /// Its name.
    pub name: String,
    /// Isolated, routed or direct (from `linkType`).
    pub fence_mode: Option<FenceMode>,
    /// The gateway address.
    pub gateway: Option<String>,
    /// The netmask.
    pub netmask: Option<String>,
    /// The edge gateway or external network it connects to.
    pub connected_to: Option<String>,
    /// Whether it is shared.
    pub shared: bool,
}

async fn network_records(ws: &Workloads, vdc_href: &str) -> Result<Vec<NetworkSummary>> {
    let records: Vec<_> = Query::new(QueryType::Other("orgVdcNetwork".into()))
        .filter(Filter::eq("vdc", vdc_href))
        .stream(&ws.client)
        .try_collect()
        .await?;
    Ok(records
        .iter()
        .filter_map(|r| {
            Some(NetworkSummary {
                href: r.get("href")?.to_owned(),
                name: r.get("name").unwrap_or_default().to_owned(),
                fence_mode: r.get("linkType").and_then(FenceMode::from_link_type),
                gateway: r.get("defaultGateway").map(str::to_owned),
                netmask: r.get("netmask").map(str::to_owned),
                connected_to: r
                    .get("connectedTo")
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned),
                shared: r.get("isShared") == Some("true"),
            })
        })
        .collect())
}

/// An org vDC network, by name (in its vDC) or id.
#[derive(Debug, Clone)]
pub struct NetworkHandle {
    ws: Workloads,
    vdc: VdcHandle,
    loc: Locator,
    resolved: Arc<OnceCell<String>>,
}

impl NetworkHandle {
    fn new(ws: Workloads, vdc: VdcHandle, loc: Locator) -> Self {
        NetworkHandle {
            ws,
            vdc,
            loc,
            resolved: Arc::new(OnceCell::new()),
        }
    }

    /// The network's admin href (a name is looked up in the vDC the first time).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for an unknown name, [`ErrorKind::InvalidInput`] for a name
    /// several networks share (without case); request errors.
    pub async fn href(&self) -> Result<String> {
        self.resolved
            .get_or_try_init(|| async {
                match &self.loc {
                    Locator::Href(h) => Ok(h.clone()),
                    Locator::Id(id) => Ok(format!("api/admin/network/{}", id.uuid())),
                    Locator::Name(name) => {
                        let all = network_records(&self.ws, &self.vdc.href().await?).await?;
                        let exact: Vec<&NetworkSummary> =
                            all.iter().filter(|n| &n.name == name).collect();
                        let found = if exact.is_empty() {
                            all.iter()
                                .filter(|n| n.name.eq_ignore_ascii_case(name))
                                .collect()
                        } else {
                            exact
                        };
                        match found.as_slice() {
                            [one] => Ok(one.href.clone()),
                            [] => Err(Error::new(
                                ErrorKind::NotFound,
                                format!(
                                    "no org vDC network is named {name:?} in {}",
                                    self.vdc.label()
                                ),
                            )),
                            many => Err(Error::invalid_input(format!(
                                "{} org vDC networks are named {name:?}: {}",
                                many.len(),
                                many.iter()
                                    .map(|n| n.href.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ))),
                        }
                    }
                }
            })
            .await
            .cloned()
    }

    /// The network document.
    ///
    /// # Errors
    /// As [`href`](Self::href); request and decoding errors.
    pub async fn get(&self) -> Result<OrgVdcNetwork> {
        let href = self.href().await?;
        OrgVdcNetwork::from_root(&self.ws.client.get_xml(&href).await?)
    }

    /// Renames the network and/or changes its description (`PUT`, the rest kept as read).
    pub fn update(&self, name: Option<String>, description: Option<String>) -> Pending {
        let me = self.clone();
        Pending::new(&self.ws, async move {
            if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
                return Err(invalid("name", "it is empty"));
            }
            let href = me.href().await?;
            let mut doc = me.get().await?;
            if let Some(n) = name {
                doc.name = Some(n);
            }
            if let Some(d) = description {
                doc.description = Some(d);
            }
            doc.tasks = None;
            doc.links.clear();
            me.ws
                .submit_task(ApiRequest::put(href).body(MT_ORG_VDC_NETWORK, doc.to_xml()))
                .await
        })
    }

    /// Deletes the network; vCD refuses while a vApp or VM uses it.
    pub fn delete(&self) -> Pending {
        let me = self.clone();
        Pending::new(&self.ws, async move {
            let href = me.href().await?;
            me.ws.submit_task(ApiRequest::delete(href)).await
        })
    }
}

impl VdcHandle {
    /// The org vDC networks of this vDC (query service, `type=orgVdcNetwork`).
    ///
    /// # Errors
    /// As [`href`](Self::href); request errors.
    pub async fn networks(&self) -> Result<Vec<NetworkSummary>> {
        let href = self.href().await?;
        network_records(&self.core.ws, &href).await
    }

    /// An org vDC network of this vDC, by name or id.
    pub fn network(&self, network: impl Into<Locator>) -> NetworkHandle {
        NetworkHandle::new(self.core.ws.clone(), self.clone(), network.into())
    }

    /// Creates an org vDC network (`POST /api/admin/vdc/{id}/networks`); `.wait()` gives
    /// the handle once vCD's task is done. A routed network's edge gateway is looked up
    /// by name among the vDC's edges.
    pub fn create_network(&self, network: &NewOrgNetwork) -> PendingNetwork {
        let me = self.clone();
        let network = network.clone();
        PendingNetwork {
            waiter: self.core.ws.waiter(),
            send: Box::pin(async move {
                let vdc_href = me.href().await?;
                let edge = match &network.edge {
                    Some(e) => Some(me.edge_reference(e).await?),
                    None => None,
                };
                let doc = network.to_document(edge);
                let uuid = vdc_href.rsplit('/').next().unwrap_or_default().to_owned();
                let req = ApiRequest::post(format!("api/admin/vdc/{uuid}/networks"))
                    .body(MT_ORG_VDC_NETWORK, doc.to_xml());
                let resp = me.core.ws.submit(req).await?;
                let root = resp.xml()?;
                let created = OrgVdcNetwork::from_root(&root)?;
                let task = task_of(&root)
                    .ok_or_else(|| Error::protocol("the new OrgVdcNetwork carries no Task"))?;
                let href = created
                    .href
                    .ok_or_else(|| Error::protocol("the new OrgVdcNetwork has no href"))?;
                Ok((
                    NetworkHandle::new(me.core.ws.clone(), me.clone(), Locator::Href(href)),
                    task,
                ))
            }),
        }
    }

    /// The reference of the vDC's edge gateway `edge` (name, id or href).
    async fn edge_reference(&self, edge: &str) -> Result<Reference> {
        if edge.contains("/edgeGateway/") {
            return Ok(Reference {
                href: Some(edge.to_owned()),
                ..Reference::default()
            });
        }
        let href = self.href().await?;
        let records: Vec<_> = Query::new(QueryType::from("edgeGateway"))
            .filter(Filter::eq("vdc", href))
            .stream(&self.core.ws.client)
            .try_collect()
            .await?;
        let hit = records.iter().find(|r| {
            r.name().is_some_and(|n| n.eq_ignore_ascii_case(edge))
                || r.uuid().is_some_and(|u| edge.ends_with(&u))
        });
        match hit.and_then(|r| r.href()) {
            Some(h) => Ok(Reference {
                href: Some(h.to_owned()),
                name: hit.and_then(|r| r.name()).map(str::to_owned),
                type_: Some("application/vnd.vmware.admin.edgeGateway+xml".to_owned()),
                ..Reference::default()
            }),
            None => Err(Error::new(
                ErrorKind::NotFound,
                format!("no edge gateway {edge:?} in {}", self.label()),
            )),
        }
    }
}

type CreateFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<(NetworkHandle, crate::task::Task)>> + Send>,
>;

/// The creation of a network: `.await` for the handle and task, [`wait`](Self::wait) for
/// the handle once the task is done.
#[must_use = "a PendingNetwork does nothing until it is awaited or waited for"]
pub struct PendingNetwork {
    send: CreateFuture,
    waiter: crate::task::TaskWaiter,
}

impl fmt::Debug for PendingNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingNetwork").finish_non_exhaustive()
    }
}

impl std::future::IntoFuture for PendingNetwork {
    type Output = Result<(NetworkHandle, crate::task::Task)>;
    type IntoFuture = CreateFuture;

    fn into_future(self) -> Self::IntoFuture {
        self.send
    }
}

impl PendingNetwork {
    /// Waits for the creation task and returns the network's handle.
    ///
    /// # Errors
    /// The request's error; the task's error when vCD fails the creation.
    pub async fn wait(self) -> Result<NetworkHandle> {
        let (net, task) = self.send.await?;
        self.waiter.wait(&task).await?;
        Ok(net)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_are_checked_against_the_subnet() {
        let n = NewOrgNetwork::isolated("n", "10.0.0.1/24").expect("net");
        assert!(n.clone().ip_range("10.0.0.10", "10.0.0.20").is_ok());
        for (s, e, why) in [
            ("10.0.0.20", "10.0.0.10", "out of order"),
            ("10.0.1.10", "10.0.1.20", "outside"),
            ("10.0.0.1", "10.0.0.5", "the gateway"),
            ("10.0.0.250", "10.0.0.255", "the broadcast"),
            ("10.0.0.0", "10.0.0.0", "the network address"),
            ("10.0.0.x", "10.0.0.5", "not an IPv4"),
        ] {
            let e = n.clone().ip_range(s, e).expect_err(why);
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            assert!(e.to_string().contains(why), "{why}: {e}");
        }
        let two = n.ip_range("10.0.0.10", "10.0.0.20").expect("first");
        assert!(
            two.clone().ip_range("10.0.0.15", "10.0.0.30").is_err(),
            "overlap"
        );
        assert!(two.ip_range("10.0.0.21", "10.0.0.30").is_ok());
        for bad in [
            "10.0.0.0/24",
            "10.0.0.255/24",
            "10.0.0.1",
            "10.0.0.1/31",
            "x/24",
        ] {
            assert!(NewOrgNetwork::isolated("n", bad).is_err(), "{bad}");
        }
        assert!(NewOrgNetwork::isolated(" ", "10.0.0.1/24").is_err());
        let d =
            NewOrgNetwork::direct("d", "https://h/api/admin/extension/externalnet/1").expect("d");
        assert!(d.ip_range("10.0.0.2", "10.0.0.3").is_err());
    }

    #[test]
    fn the_document_carries_every_value() {
        let n = NewOrgNetwork::isolated("n", "172.16.0.1/20")
            .and_then(|n| n.ip_range("172.16.0.10", "172.16.0.99"))
            .and_then(|n| n.dns("172.16.0.2", Some("8.8.8.8")))
            .expect("net")
            .dns_suffix("corp.example")
            .shared(true);
        let doc = n.to_document(None);
        let xml = doc.to_xml();
        let back = OrgVdcNetwork::from_xml(&xml).expect("round trip");
        assert_eq!(back.fence_mode(), Some(FenceMode::Isolated));
        let scope = back.ip_scope().expect("scope");
        assert_eq!(scope.gateway.as_deref(), Some("172.16.0.1"));
        assert_eq!(scope.netmask.as_deref(), Some("255.255.240.0"));
        assert_eq!(scope.dns2.as_deref(), Some("8.8.8.8"));
        assert_eq!(scope.dns_suffix.as_deref(), Some("corp.example"));
        assert_eq!(back.is_shared, Some(true));
        let r = &scope.ip_ranges.as_ref().expect("ranges").ip_ranges[0];
        assert_eq!(r.end_address.as_deref(), Some("172.16.0.99"));
        assert_eq!(FenceMode::from_wire("natRouted"), FenceMode::NatRouted);
        assert_eq!(FenceMode::from_link_type("2"), Some(FenceMode::Isolated));
    }
}
