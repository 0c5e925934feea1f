//! `nebulair vcloud network ...`: org vDC networks (list, show, create isolated / routed /
//! direct, rename or re-describe, delete).

use clap::Subcommand;
use nebulair_vcloud::VcdClient;
use nebulair_vcloud::model::vcd::OrgVdcNetwork;
use nebulair_vcloud::workload::{Locator, NewOrgNetwork};
use serde::Serialize;

use crate::Ctx;
use crate::commands::common::io_failure;
use crate::output::{Table, key_values};
use crate::report::{Context as _, Failure};

/// The network commands.
#[derive(Debug, Subcommand)]
pub(crate) enum NetworkSub {
    /// The org vDC networks of a vDC.
    List {
        /// The vDC (name or id).
        #[arg(long = "in", value_name = "VDC")]
        vdc: String,
    },
    /// One network (by name in the vDC, or by id).
    Show {
        /// The network.
        network: String,
        /// The vDC (name or id).
        #[arg(long = "in", value_name = "VDC")]
        vdc: String,
    },
    /// Create a network and wait for it: isolated by default, routed with --edge, direct
    /// with --parent.
    Create {
        /// Its name.
        name: String,
        /// The vDC (name or id).
        #[arg(long = "in", value_name = "VDC")]
        vdc: String,
        /// The gateway with its prefix, e.g. 10.0.0.1/24 (isolated and routed networks).
        #[arg(long, required_unless_present = "parent")]
        gateway: Option<String>,
        /// Route through this edge gateway of the vDC (name, id or href).
        #[arg(long, conflicts_with = "parent")]
        edge: Option<String>,
        /// Connect directly to the external network at this href.
        #[arg(long, conflicts_with_all = ["gateway", "pool"])]
        parent: Option<String>,
        /// A static IP pool range START-END; repeat for more.
        #[arg(long = "pool", value_name = "START-END")]
        pool: Vec<String>,
        /// The primary DNS server.
        #[arg(long)]
        dns1: Option<String>,
        /// The secondary DNS server.
        #[arg(long, requires = "dns1")]
        dns2: Option<String>,
        /// The DNS suffix.
        #[arg(long)]
        dns_suffix: Option<String>,
        /// Share the network with the org's other vDCs.
        #[arg(long)]
        shared: bool,
        /// A description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Rename a network and/or change its description.
    Update {
        /// The network.
        network: String,
        /// The vDC (name or id).
        #[arg(long = "in", value_name = "VDC")]
        vdc: String,
        /// The new name.
        #[arg(long)]
        name: Option<String>,
        /// The new description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete a network (refused by vCD while a vApp or VM uses it).
    Delete {
        /// The network.
        network: String,
        /// The vDC (name or id).
        #[arg(long = "in", value_name = "VDC")]
        vdc: String,
    },
}

/// A network as printed.
#[derive(Debug, Serialize)]
struct NetworkView {
    name: Option<String>,
    id: Option<String>,
    fence_mode: Option<String>,
    gateway: Option<String>,
    netmask: Option<String>,
    dns: Vec<String>,
    dns_suffix: Option<String>,
    pools: Vec<String>,
    edge_gateway: Option<String>,
    shared: Option<bool>,
    description: Option<String>,
}

fn view(n: &OrgVdcNetwork) -> NetworkView {
    let scope = n.ip_scope();
    NetworkView {
        name: n.name.clone(),
        id: n.id.clone(),
        fence_mode: n.fence_mode().map(|f| f.to_string()),
        gateway: scope.and_then(|s| s.gateway.clone()),
        netmask: scope.and_then(|s| s.netmask.clone()),
        dns: scope
            .map(|s| {
                [s.dns1.clone(), s.dns2.clone()]
                    .into_iter()
                    .flatten()
                    .collect()
            })
            .unwrap_or_default(),
        dns_suffix: scope.and_then(|s| s.dns_suffix.clone()),
        pools: scope
            .and_then(|s| s.ip_ranges.as_ref())
            .map(|r| {
                r.ip_ranges
                    .iter()
                    .map(|x| {
                        format!(
                            "{}-{}",
                            x.start_address.clone().unwrap_or_default(),
                            x.end_address.clone().unwrap_or_default()
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        edge_gateway: n.edge_gateway.as_ref().and_then(|e| e.name.clone()),
        shared: n.is_shared,
        description: n.description.clone(),
    }
}

fn show_text(v: &NetworkView) -> String {
    key_values(&[
        ("name", v.name.clone().unwrap_or_default()),
        ("id", v.id.clone().unwrap_or_default()),
        ("fence mode", v.fence_mode.clone().unwrap_or_default()),
        ("gateway", v.gateway.clone().unwrap_or_default()),
        ("netmask", v.netmask.clone().unwrap_or_default()),
        ("dns", v.dns.join(", ")),
        ("dns suffix", v.dns_suffix.clone().unwrap_or_default()),
        ("pools", v.pools.join(", ")),
        ("edge gateway", v.edge_gateway.clone().unwrap_or_default()),
        (
            "shared",
            v.shared.map(|s| s.to_string()).unwrap_or_default(),
        ),
        ("description", v.description.clone().unwrap_or_default()),
    ])
}

fn spec(
    name: &str,
    gateway: Option<&str>,
    edge: Option<String>,
    parent: Option<String>,
    pools: &[String],
    dns: (Option<String>, Option<String>),
) -> nebulair_core::Result<NewOrgNetwork> {
    let mut n = match (parent, edge, gateway) {
        (Some(p), _, _) => NewOrgNetwork::direct(name, p)?,
        (None, Some(e), Some(g)) => NewOrgNetwork::routed(name, g, e)?,
        (None, None, Some(g)) => NewOrgNetwork::isolated(name, g)?,
        (None, _, None) => {
            return Err(nebulair_core::Error::invalid_input(
                "--gateway is required for isolated and routed networks",
            ));
        }
    };
    for p in pools {
        let (s, e) = p.split_once('-').ok_or_else(|| {
            nebulair_core::Error::invalid_input(format!("--pool {p:?} is not START-END"))
        })?;
        n = n.ip_range(s, e)?;
    }
    if let Some(d1) = dns.0 {
        n = n.dns(&d1, dns.1.as_deref())?;
    }
    Ok(n)
}

/// Runs a network command.
pub(crate) async fn network(sub: NetworkSub, client: &VcdClient, ctx: Ctx) -> Result<(), Failure> {
    let p = ctx.printer;
    let ws = client.workloads();
    match sub {
        NetworkSub::List { vdc } => {
            let nets = ws
                .vdc(vdc.as_str())
                .networks()
                .await
                .during("listing the networks")?;
            let rows: Vec<serde_json::Value> = nets
                .iter()
                .map(|n| {
                    serde_json::json!({
                        "name": n.name, "href": n.href,
                        "fence_mode": n.fence_mode.as_ref().map(ToString::to_string),
                        "gateway": n.gateway, "netmask": n.netmask,
                        "connected_to": n.connected_to, "shared": n.shared,
                    })
                })
                .collect();
            p.print(&rows, || {
                let mut t = Table::new([
                    "NAME",
                    "FENCE MODE",
                    "GATEWAY",
                    "NETMASK",
                    "CONNECTED TO",
                    "SHARED",
                ]);
                for n in &nets {
                    t.row([
                        n.name.clone(),
                        n.fence_mode
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        n.gateway.clone().unwrap_or_default(),
                        n.netmask.clone().unwrap_or_default(),
                        n.connected_to.clone().unwrap_or_default(),
                        n.shared.to_string(),
                    ]);
                }
                t.render()
            })
            .map_err(io_failure)
        }
        NetworkSub::Show { network, vdc } => {
            let n = ws
                .vdc(vdc.as_str())
                .network(Locator::parse(&network))
                .get()
                .await
                .during("reading the network")?;
            let v = view(&n);
            p.print(&v, || show_text(&v)).map_err(io_failure)
        }
        NetworkSub::Create {
            name,
            vdc,
            gateway,
            edge,
            parent,
            pool,
            dns1,
            dns2,
            dns_suffix,
            shared,
            description,
        } => {
            let mut n = spec(&name, gateway.as_deref(), edge, parent, &pool, (dns1, dns2))
                .during("reading the network")?
                .shared(shared);
            if let Some(s) = dns_suffix {
                n = n.dns_suffix(s);
            }
            if let Some(d) = description {
                n = n.description(d);
            }
            let h = ws
                .vdc(vdc.as_str())
                .create_network(&n)
                .wait()
                .await
                .during(format!("creating network {name:?}"))?;
            let v = view(&h.get().await.during("reading the new network")?);
            p.print(&v, || show_text(&v)).map_err(io_failure)
        }
        NetworkSub::Update {
            network,
            vdc,
            name,
            description,
        } => {
            let h = ws.vdc(vdc.as_str()).network(Locator::parse(&network));
            h.update(name, description)
                .wait()
                .await
                .during(format!("updating network {network:?}"))?;
            let v = view(&h.get().await.during("reading the network")?);
            p.print(&v, || show_text(&v)).map_err(io_failure)
        }
        NetworkSub::Delete { network, vdc } => {
            ws.vdc(vdc.as_str())
                .network(Locator::parse(&network))
                .delete()
                .wait()
                .await
                .during(format!("deleting network {network:?}"))?;
            p.print(&serde_json::json!({ "deleted": network }), || {
                format!("network {network} deleted\n")
            })
            .map_err(io_failure)
        }
    }
}
