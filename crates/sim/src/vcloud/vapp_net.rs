//! vApp networks: what each entry of a vApp's `NetworkConfigSection` is (isolated with its
//! own IP scope, or bridged to an org vDC network of the vApp's vDC), how it is rendered,
//! and the checks vCD makes when a client `PUT`s the section
//! (`/api/vApp/vapp-{id}/networkConfigSection/`): unique names, a known fence mode, a
//! parent network the vDC has for bridged networks, a valid gateway, netmask and pools
//! for isolated ones, and no removal of a network a VM NIC of the vApp is connected to.
//!
//! A vApp network without an entry here is the default of the seed and of instantiation:
//! bridged to the vDC's `default-routed`.

use std::net::Ipv4Addr;

use uuid::Uuid;

use super::state::{State, VApp};
use super::xml::{Element, attrs, esc};

/// The settings of one vApp network.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VAppNet {
    /// `isolated`, `bridged` or `natRouted`.
    pub(crate) fence: String,
    /// The org vDC network it is bridged to (bridged and natRouted).
    pub(crate) parent: Option<String>,
    pub(crate) gateway: String,
    pub(crate) netmask: String,
    pub(crate) ranges: Vec<(String, String)>,
    pub(crate) description: String,
}

fn attr<'e>(el: &'e Element, k: &str) -> Option<&'e str> {
    el.attrs
        .iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
}

/// The href of the org vDC network `name` of `vdc` (`default-routed` is the vDC's own).
fn parent_href(st: &State, base: &str, vdc: Uuid, name: &str) -> Option<String> {
    if name == "default-routed" {
        return Some(format!(
            "{base}/api/network/{}",
            Uuid::from_u128(vdc.as_u128() ^ 0xff)
        ));
    }
    st.org_networks
        .iter()
        .find(|n| n.vdc == vdc && n.name == name && n.ready)
        .map(|n| format!("{base}/api/network/{}", n.id))
}

/// The vApp's `NetworkConfigSection`: inside the vApp document, or (`root`) as a document
/// of its own with its namespaces. Its `edit` link is what pyvcloud PUTs the section to.
pub(crate) fn section_xml(st: &State, base: &str, app: &VApp, root: bool) -> String {
    let href = format!("{base}/api/vApp/vapp-{}/networkConfigSection/", app.id);
    let ns = if root {
        format!(
            " xmlns=\"{}\" xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\"",
            super::xml::NS_VCLOUD
        )
    } else {
        String::new()
    };
    let mut out = format!(
        "<NetworkConfigSection{ns}{} ovf:required=\"false\"><ovf:Info>The configuration parameters for logical networks</ovf:Info><Link{}/>",
        attrs(&[("href", href.as_str()), ("type", MT_SECTION)]),
        attrs(&[
            ("rel", "edit"),
            ("href", href.as_str()),
            ("type", MT_SECTION)
        ])
    );
    for n in &app.networks {
        out.push_str(&network_config_xml(st, base, app, n));
    }
    out.push_str("</NetworkConfigSection>");
    out
}

const MT_SECTION: &str = "application/vnd.vmware.vcloud.networkConfigSection+xml";

/// The `NetworkConfig` element of vApp network `name`.
pub(crate) fn network_config_xml(st: &State, base: &str, app: &VApp, name: &str) -> String {
    let cfg = st.vapp_nets.get(&(app.id, name.to_owned()));
    let fence = cfg.map_or("bridged", |c| c.fence.as_str());
    let mut conf = String::new();
    if let Some(c) = cfg.filter(|c| !c.gateway.is_empty()) {
        conf.push_str(&format!(
            "<IpScopes><IpScope><IsInherited>false</IsInherited><Gateway>{}</Gateway><Netmask>{}</Netmask><IsEnabled>true</IsEnabled>",
            esc(&c.gateway),
            esc(&c.netmask)
        ));
        if !c.ranges.is_empty() {
            conf.push_str("<IpRanges>");
            for (s, e) in &c.ranges {
                conf.push_str(&format!(
                    "<IpRange><StartAddress>{}</StartAddress><EndAddress>{}</EndAddress></IpRange>",
                    esc(s),
                    esc(e)
                ));
            }
            conf.push_str("</IpRanges>");
        }
        conf.push_str("</IpScope></IpScopes>");
    }
    if fence != "isolated" {
        let parent = cfg
            .and_then(|c| c.parent.clone())
            .unwrap_or_else(|| "default-routed".into());
        if let Some(href) = parent_href(st, base, app.vdc, &parent) {
            conf.push_str(&format!(
                "<ParentNetwork{}/>",
                attrs(&[
                    ("href", href.as_str()),
                    ("name", parent.as_str()),
                    ("type", "application/vnd.vmware.vcloud.network+xml"),
                ])
            ));
        }
    }
    let desc = cfg
        .filter(|c| !c.description.is_empty())
        .map(|c| format!("<Description>{}</Description>", esc(&c.description)))
        .unwrap_or_default();
    format!(
        "<NetworkConfig networkName=\"{}\">{desc}<Configuration>{conf}<FenceMode>{}</FenceMode></Configuration><IsDeployed>{}</IsDeployed></NetworkConfig>",
        esc(name),
        esc(fence),
        app.deployed
    )
}

fn ip(t: &str) -> Option<Ipv4Addr> {
    t.trim().parse().ok()
}

/// Reads a `NetworkConfigSection` a client sent for `app`: the networks in order, or the
/// reason vCD would refuse it.
pub(crate) fn parse_section(
    st: &State,
    app: &VApp,
    doc: &Element,
) -> Result<Vec<(String, VAppNet)>, String> {
    if doc.name != "NetworkConfigSection" {
        return Err(format!(
            "Expected a NetworkConfigSection document, got {}.",
            doc.name
        ));
    }
    let mut out: Vec<(String, VAppNet)> = Vec::new();
    for nc in doc.children.iter().filter(|c| c.name == "NetworkConfig") {
        let name = attr(nc, "networkName").unwrap_or("").trim().to_owned();
        if name.is_empty() {
            return Err("A vApp network needs a networkName.".into());
        }
        if out.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            return Err(format!("The vApp network name \"{name}\" is used twice."));
        }
        let conf = nc.child("Configuration");
        let fence = conf
            .and_then(|c| c.child_text("FenceMode"))
            .unwrap_or("")
            .to_owned();
        if !matches!(fence.as_str(), "isolated" | "bridged" | "natRouted") {
            return Err(format!(
                "Invalid fence mode \"{fence}\" for vApp network \"{name}\"."
            ));
        }
        let scope = conf
            .and_then(|c| c.child("IpScopes"))
            .and_then(|s| s.child("IpScope"));
        let text = |k: &str| scope.and_then(|s| s.child_text(k)).unwrap_or("").to_owned();
        let mut net = VAppNet {
            fence: fence.clone(),
            parent: None,
            gateway: text("Gateway"),
            netmask: text("Netmask"),
            ranges: scope
                .and_then(|s| s.child("IpRanges"))
                .map(|r| {
                    r.children
                        .iter()
                        .filter(|x| x.name == "IpRange")
                        .map(|x| {
                            (
                                x.child_text("StartAddress").unwrap_or("").to_owned(),
                                x.child_text("EndAddress").unwrap_or("").to_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            description: nc.child_text("Description").unwrap_or("").to_owned(),
        };
        if fence == "isolated" {
            let (Some(gw), Some(mask)) = (ip(&net.gateway), ip(&net.netmask)) else {
                return Err(format!(
                    "The isolated vApp network \"{name}\" needs a valid Gateway and Netmask."
                ));
            };
            let m = u32::from(mask);
            if m.leading_ones() + m.trailing_zeros() != 32 || !(1..=30).contains(&m.leading_ones())
            {
                return Err(format!(
                    "Invalid netmask \"{mask}\" for vApp network \"{name}\"."
                ));
            }
            let netw = u32::from(gw) & m;
            if u32::from(gw) == netw || u32::from(gw) == netw | !m {
                return Err(format!(
                    "The gateway {gw} is not a host address of its subnet."
                ));
            }
            for (s, e) in &net.ranges {
                let (Some(a), Some(b)) = (ip(s), ip(e)) else {
                    return Err(format!("Invalid IP range {s} - {e}."));
                };
                let (a, b) = (u32::from(a), u32::from(b));
                if a > b
                    || a & m != netw
                    || b & m != netw
                    || a == netw
                    || b == netw | !m
                    || (a..=b).contains(&u32::from(gw))
                {
                    return Err(format!(
                        "The IP range {s} - {e} is not a range of host addresses of {}/{} without the gateway.",
                        Ipv4Addr::from(netw),
                        m.leading_ones()
                    ));
                }
            }
        } else {
            let parent = conf.and_then(|c| c.child("ParentNetwork")).ok_or_else(|| {
                format!("The {fence} vApp network \"{name}\" needs a ParentNetwork.")
            })?;
            let by_name = attr(parent, "name").map(str::to_owned);
            let by_href = attr(parent, "href").and_then(|h| {
                let id = h.trim_end_matches('/').rsplit('/').next()?;
                let u = Uuid::parse_str(id).ok()?;
                if u == Uuid::from_u128(app.vdc.as_u128() ^ 0xff) {
                    return Some("default-routed".to_owned());
                }
                st.org_networks
                    .iter()
                    .find(|n| n.id == u && n.vdc == app.vdc)
                    .map(|n| n.name.clone())
            });
            let pname = by_href.or(by_name).unwrap_or_default();
            if parent_href(st, "", app.vdc, &pname).is_none() {
                return Err(format!(
                    "The parent network \"{pname}\" is not an org VDC network of the vApp's VDC."
                ));
            }
            net.parent = Some(pname);
        }
        out.push((name, net));
    }
    // A network a VM NIC is connected to cannot go away.
    for vm in st.vms.iter().filter(|v| v.vapp == app.id) {
        for nic in &vm.nics {
            if !nic.network.is_empty()
                && nic.network != "none"
                && !out.iter().any(|(n, _)| n == &nic.network)
            {
                return Err(format!(
                    "The vApp network \"{}\" is in use by VM \"{}\" (NIC {}) and cannot be removed.",
                    nic.network, vm.name, nic.index
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vcloud::xml::{NS_VCLOUD, parse};

    fn isolated(start: &str, end: &str) -> Result<Vec<(String, VAppNet)>, String> {
        let st = State::new(&crate::vcloud::Config::default());
        let doc = parse(&format!(
            "<NetworkConfigSection xmlns=\"{NS_VCLOUD}\"><NetworkConfig networkName=\"back\">\
             <Configuration><IpScopes><IpScope><IsInherited>false</IsInherited>\
             <Gateway>172.30.0.1</Gateway><Netmask>255.255.255.0</Netmask><IpRanges><IpRange>\
             <StartAddress>{start}</StartAddress><EndAddress>{end}</EndAddress></IpRange>\
             </IpRanges></IpScope></IpScopes><FenceMode>isolated</FenceMode></Configuration>\
             </NetworkConfig></NetworkConfigSection>"
        ))?;
        // a vApp of the seed's vDC without VMs, so that no NIC holds the seed's networks
        let mut app = st.vapps[0].clone();
        app.id = Uuid::nil();
        parse_section(&st, &app, &doc)
    }

    #[test]
    fn isolated_pools_hold_host_addresses_only() {
        let nets = isolated("172.30.0.10", "172.30.0.20").expect("a good pool");
        assert_eq!(nets[0].1.ranges.len(), 1);
        for (a, b) in [
            ("172.30.0.0", "172.30.0.9"),
            ("172.30.0.200", "172.30.0.255"),
            ("172.30.0.1", "172.30.0.9"),
            ("172.30.0.20", "172.30.0.10"),
            ("172.30.0.200", "172.30.1.3"),
        ] {
            let err = isolated(a, b).expect_err(a);
            assert!(
                err.contains("not a range of host addresses"),
                "{a}-{b}: {err}"
            );
        }
    }
}
