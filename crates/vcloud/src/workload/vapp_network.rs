//! vApp networks: the networks inside a vApp that its VMs' NICs connect to, either
//! isolated (their own subnet, nothing outside the vApp) or bridged to an org vDC
//! network of the vApp's vDC. They are read from and written back as the vApp's
//! `NetworkConfigSection` (`GET`/`PUT .../networkConfigSection/`, a task), with every
//! other entry kept as read.
//!
//! | operation | library | vCD request |
//! |---|---|---|
//! | list | [`VAppHandle::networks`] | `GET` the vApp (its `NetworkConfigSection`) |
//! | add | [`VAppHandle::add_network`] with a [`VAppNetwork`] (isolated, bridged or fenced) | `PUT .../networkConfigSection/` |
//! | change | [`VAppHandle::update_network`] (subnet and pools, or the org network it bridges to) | the same, that entry changed |
//! | remove | [`VAppHandle::remove_network`], [`VAppHandle::remove_all_networks`] | the same, without it (refused while a VM NIC uses it) |
//!
//! ```
//! use nebulair_core::Credentials;
//! use nebulair_sim::vcloud::{VcloudSimulator, DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER};
//! use nebulair_vcloud::session::VcdSession;
//! use nebulair_vcloud::workload::VAppNetwork;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = VcloudSimulator::builder().start().await?;
//! let session = VcdSession::builder(sim.base_url().as_str())
//!     .org(DEFAULT_ORG)
//!     .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
//!     .build()?;
//! session.login().await?;
//! let vapp = session.client()?.vdc("VDC-Prod").vapp("web-tier");
//! vapp.add_network(&VAppNetwork::isolated("backplane", "172.30.0.1/24")?.pool("172.30.0.10", "172.30.0.20")?)
//!     .wait()
//!     .await?;
//! let names: Vec<String> = vapp.networks().await?.into_iter().filter_map(|n| n.network_name).collect();
//! assert!(names.contains(&"backplane".to_owned()));
//! // A pool outside the subnet never reaches the server.
//! assert!(VAppNetwork::isolated("x", "172.31.0.1/24")?.pool("172.32.0.1", "172.32.0.9").is_err());
//! # sim.shutdown().await;
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().expect("rt").block_on(run()).expect("vapp networks");
//! ```

use nebulair_core::{Error, Result};

use super::ops::Pending;
use super::subnet::Subnet;
use super::vapp::VAppHandle;
use crate::client::ApiRequest;
use crate::model::vcd::{
    Document as _, IpRange, IpRanges, IpScope, IpScopes, NetworkConfigSection,
    NetworkConfiguration, Reference, VAppNetworkConfiguration, XmlText,
};

/// The media type of a `NetworkConfigSection`.
pub const MT_NETWORK_CONFIG_SECTION: &str =
    "application/vnd.vmware.vcloud.networkConfigSection+xml";

fn invalid(what: &'static str, why: impl std::fmt::Display) -> Error {
    super::NetworkError::invalid(what, why.to_string()).into()
}

/// A vApp network to add.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VAppNetwork {
    /// Its name (what VM NICs name).
    pub name: String,
    /// Isolated: its subnet.
    pub isolated: Option<Subnet>,
    /// Bridged or fenced: the org vDC network (its name).
    pub parent: Option<String>,
    /// Fenced (`natRouted`): behind the vApp's own NAT router towards `parent`, so that
    /// copies of the vApp can keep the same addresses.
    pub fenced: bool,
    /// Its description (`None`: none when added, unchanged when updated).
    pub description: Option<String>,
}

impl VAppNetwork {
    /// An isolated vApp network with this gateway and prefix (`172.30.0.1/24`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput), with a
    /// [`NetworkError`](super::NetworkError) as its source, for an empty name, or a
    /// gateway that is not `address/prefix` (prefix 1 to 30) or is its subnet's network or
    /// broadcast address.
    pub fn isolated(name: impl AsRef<str>, gateway_cidr: &str) -> Result<Self> {
        let name = name.as_ref().trim();
        if name.is_empty() {
            return Err(invalid("name", "it is empty"));
        }
        let subnet = Subnet::parse(gateway_cidr)?;
        Ok(VAppNetwork {
            name: name.to_owned(),
            isolated: Some(subnet),
            parent: None,
            fenced: false,
            description: None,
        })
    }

    /// A vApp network bridged to the org vDC network `org_network` of the vApp's vDC.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput) for an empty
    /// name or network.
    pub fn bridged(name: impl AsRef<str>, org_network: impl AsRef<str>) -> Result<Self> {
        let (name, parent) = (name.as_ref().trim(), org_network.as_ref().trim());
        if name.is_empty() || parent.is_empty() {
            return Err(invalid(
                "name",
                "the name and the org network must not be empty",
            ));
        }
        Ok(VAppNetwork {
            name: name.to_owned(),
            isolated: None,
            parent: Some(parent.to_owned()),
            fenced: false,
            description: None,
        })
    }

    /// A fenced vApp network (`natRouted`) towards the org vDC network `org_network`:
    /// the vApp's VMs keep their own addresses behind the vApp's router.
    ///
    /// # Errors
    /// As [`bridged`](Self::bridged).
    pub fn fenced(name: impl AsRef<str>, org_network: impl AsRef<str>) -> Result<Self> {
        let mut n = Self::bridged(name, org_network)?;
        n.fenced = true;
        Ok(n)
    }

    /// Sets its description.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Adds a static IP pool to an isolated network.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput), with a
    /// [`NetworkError`](super::NetworkError) as its source, for a bridged network, and as
    /// [`Subnet::add_pool`]: a range out of order, outside the subnet's host addresses,
    /// holding the gateway, or overlapping another range.
    pub fn pool(mut self, first: &str, last: &str) -> Result<Self> {
        let Some(subnet) = self.isolated.as_mut() else {
            return Err(invalid(
                "pool",
                "a bridged network takes its org network's pools",
            ));
        };
        subnet.add_pool(first, last)?;
        Ok(self)
    }

    fn to_config(&self) -> VAppNetworkConfiguration {
        let (ip_scopes, fence, parent) = match (&self.isolated, &self.parent) {
            (Some(subnet), _) => (
                Some(Box::new(IpScopes {
                    ip_scopes: vec![IpScope {
                        is_inherited: Some(false),
                        gateway: Some(subnet.gateway.to_string()),
                        netmask: Some(subnet.netmask().to_string()),
                        is_enabled: Some(true),
                        ip_ranges: (!subnet.pools.is_empty()).then(|| {
                            Box::new(IpRanges {
                                ip_ranges: subnet
                                    .pools
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
                })),
                "isolated",
                None,
            ),
            (None, p) => (
                None,
                if self.fenced { "natRouted" } else { "bridged" },
                p.as_ref().map(|n| {
                    Box::new(Reference {
                        name: Some(n.clone()),
                        ..Reference::default()
                    })
                }),
            ),
        };
        VAppNetworkConfiguration {
            network_name: Some(self.name.clone()),
            description: self.description.clone(),
            configuration: Some(Box::new(NetworkConfiguration {
                ip_scopes,
                parent_network: parent,
                fence_mode: Some(fence.to_owned()),
                ..NetworkConfiguration::default()
            })),
            ..VAppNetworkConfiguration::default()
        }
    }

    /// The configuration to send, its parent network named by `parent_href`.
    fn with_parent_href(&self, parent_href: Option<String>) -> VAppNetworkConfiguration {
        let mut cfg = self.to_config();
        if let (Some(h), Some(c)) = (parent_href, cfg.configuration.as_mut())
            && let Some(p) = c.parent_network.as_mut()
        {
            p.href = Some(h);
            p.type_ = Some("application/vnd.vmware.vcloud.network+xml".to_owned());
        }
        cfg
    }
}

impl VAppHandle {
    /// The vApp's networks, as its `NetworkConfigSection` lists them.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn networks(&self) -> Result<Vec<VAppNetworkConfiguration>> {
        Ok(self
            .get()
            .await?
            .network_config_section()
            .map(|s| s.network_configs.clone())
            .unwrap_or_default())
    }

    fn put_networks(
        &self,
        parent: Option<String>,
        change: impl FnOnce(&mut Vec<VAppNetworkConfiguration>, Option<String>) -> Result<()>
        + Send
        + 'static,
    ) -> Pending {
        let me = self.clone();
        Pending::new(&self.core.ws, async move {
            let href = me.href().await?;
            // A bridged network names its parent by href: look the org network up in the
            // vApp's vDC first (an unknown name is NotFound, nothing sent).
            let parent_href = match &parent {
                Some(name) => {
                    let vdc = me.vdc().await?;
                    let found = vdc
                        .networks()
                        .await?
                        .into_iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, h)| h);
                    Some(found.ok_or_else(|| {
                        Error::new(
                            nebulair_core::ErrorKind::NotFound,
                            format!("the vApp's vDC has no org network named {name:?}"),
                        )
                    })?)
                }
                None => None,
            };
            let vapp = me.get().await?;
            let mut section =
                vapp.network_config_section()
                    .cloned()
                    .unwrap_or_else(|| NetworkConfigSection {
                        info: Some(XmlText::new(
                            "The configuration parameters for logical networks",
                        )),
                        ..NetworkConfigSection::default()
                    });
            change(&mut section.network_configs, parent_href)?;
            section.links.clear();
            let target = format!("{}/networkConfigSection/", href.trim_end_matches('/'));
            me.core
                .ws
                .submit_task(
                    ApiRequest::put(target).body(MT_NETWORK_CONFIG_SECTION, section.to_xml()),
                )
                .await
        })
    }

    /// Adds a vApp network (the others are kept as read).
    ///
    /// A name the vApp already has is [`ErrorKind::InvalidInput`](nebulair_core::ErrorKind::InvalidInput)
    /// before anything is sent; vCD refuses a bridged network whose org network the vDC
    /// lacks.
    pub fn add_network(&self, network: &VAppNetwork) -> Pending {
        let network = network.clone();
        self.put_networks(network.parent.clone(), move |nets, parent_href| {
            if nets.iter().any(|n| {
                n.network_name
                    .as_deref()
                    .is_some_and(|x| x.eq_ignore_ascii_case(&network.name))
            }) {
                return Err(invalid(
                    "name",
                    format!("the vApp already has {:?}", network.name),
                ));
            }
            nets.push(network.with_parent_href(parent_href));
            Ok(())
        })
    }

    /// Changes the vApp network named `network.name` to `network`: an isolated network's
    /// subnet and pools, or the org network (and fence mode) a bridged or fenced one
    /// connects to, and the description when the spec has one. What the spec does not
    /// cover (features such as DHCP, retained IPs, unknown elements) is kept as read.
    ///
    /// A name the vApp does not have is [`ErrorKind::NotFound`](nebulair_core::ErrorKind::NotFound)
    /// before anything is sent; an unknown org network likewise.
    pub fn update_network(&self, network: &VAppNetwork) -> Pending {
        let network = network.clone();
        self.put_networks(network.parent.clone(), move |nets, parent_href| {
            let Some(entry) = nets.iter_mut().find(|n| {
                n.network_name
                    .as_deref()
                    .is_some_and(|x| x.eq_ignore_ascii_case(&network.name))
            }) else {
                return Err(Error::new(
                    nebulair_core::ErrorKind::NotFound,
                    format!("the vApp has no network named {:?}", network.name),
                ));
            };
            let new = network.with_parent_href(parent_href);
            if new.description.is_some() {
                entry.description = new.description;
            }
            let conf = entry.configuration.get_or_insert_with(Box::default);
            if let Some(c) = new.configuration {
                conf.ip_scopes = c.ip_scopes;
                conf.parent_network = c.parent_network;
                conf.fence_mode = c.fence_mode;
            }
            Ok(())
        })
    }

    /// Removes a vApp network by name; vCD refuses while a VM NIC is connected to it.
    ///
    /// A name the vApp does not have is [`ErrorKind::NotFound`](nebulair_core::ErrorKind::NotFound).
    pub fn remove_network(&self, name: impl Into<String>) -> Pending {
        let name = name.into();
        self.put_networks(None, move |nets, _| {
            let before = nets.len();
            nets.retain(|n| n.network_name.as_deref() != Some(name.as_str()));
            if nets.len() == before {
                return Err(Error::new(
                    nebulair_core::ErrorKind::NotFound,
                    format!("the vApp has no network named {name:?}"),
                ));
            }
            Ok(())
        })
    }

    /// Removes every vApp network (govcd's `RemoveAllNetworks`); vCD refuses while a VM
    /// NIC is connected to one of them, and then nothing is removed.
    pub fn remove_all_networks(&self) -> Pending {
        self.put_networks(None, |nets, _| {
            nets.clear();
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isolated_networks_are_checked() {
        let n = VAppNetwork::isolated("n", "172.30.0.1/24").expect("net");
        assert!(n.clone().pool("172.30.0.10", "172.30.0.20").is_ok());
        assert!(n.clone().pool("172.30.0.20", "172.30.0.10").is_err());
        assert!(
            n.clone().pool("172.30.0.1", "172.30.0.5").is_err(),
            "gateway"
        );
        assert!(
            n.clone().pool("172.31.0.1", "172.31.0.5").is_err(),
            "outside"
        );
        let two = n.pool("172.30.0.10", "172.30.0.20").expect("one");
        assert!(two.pool("172.30.0.15", "172.30.0.30").is_err(), "overlap");
        assert!(VAppNetwork::isolated("n", "172.30.0.0/24").is_err());
        assert!(VAppNetwork::isolated("", "172.30.0.1/24").is_err());
        assert!(
            VAppNetwork::bridged("b", "default-routed")
                .expect("b")
                .pool("1.1.1.1", "1.1.1.2")
                .is_err()
        );
        let cfg = VAppNetwork::isolated("n", "10.0.0.1/16")
            .and_then(|n| n.pool("10.0.1.1", "10.0.1.9"))
            .expect("net")
            .to_config();
        let c = cfg.configuration.expect("conf");
        assert_eq!(c.fence_mode.as_deref(), Some("isolated"));
        let scope = &c.ip_scopes.expect("scopes").ip_scopes[0];
        assert_eq!(scope.netmask.as_deref(), Some("255.255.0.0"));
    }
}
