//! `nebulair vcloud network ...`: org vDC networks (list, show, create, delete).

use clap::{Subcommand, ValueEnum};
use nebulair_vcloud::VcdClient;
use nebulair_vcloud::workload::{Locator, NewOrgNetwork, OrgNetwork, OrgNetworkHandle};
use serde::Serialize;

use crate::Ctx;
use crate::commands::common::{io_failure, print_deleted};
use crate::output::{Table, key_values};
use crate::report::{Context as _, Failure};

/// How a new network reaches the outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Kind {
    /// Only inside the vDC.
    Isolated,
    /// Through an edge gateway (`--edge` href).
    Routed,
    /// Directly on an external network (`--parent` href).
    Direct,
}

/// The network commands.
#[derive(Debug, Subcommand)]
pub(crate) enum NetworkSub {
    /// The networks of a vDC.
    List {
        /// The vDC (name or id).
        #[arg(long = "in", id = "in_vdc", value_name = "VDC")]
        vdc: String,
    },
    /// One network.
    Show {
        /// The network (name or id).
        network: String,
        /// The vDC (name or id).
        #[arg(long = "in", id = "in_vdc", value_name = "VDC")]
        vdc: String,
    },
    /// Create a network and wait for it.
    Create {
        /// Its name.
        name: String,
        /// The vDC (name or id).
        #[arg(long = "in", id = "in_vdc", value_name = "VDC")]
        vdc: String,
        /// The gateway and prefix length, e.g. 10.0.0.1/24.
        #[arg(long, value_name = "IP/PREFIX")]
        gateway: String,
        /// How it reaches the outside.
        #[arg(long, value_enum, default_value_t = Kind::Isolated)]
        kind: Kind,
        /// The edge gateway's href (routed).
        #[arg(long, value_name = "HREF")]
        edge: Option<String>,
        /// The external network's href (direct).
        #[arg(long, value_name = "HREF")]
        parent: Option<String>,
        /// A DNS server (up to two).
        #[arg(long, value_name = "IP")]
        dns: Vec<String>,
        /// The DNS suffix.
        #[arg(long)]
        dns_suffix: Option<String>,
        /// A static IP pool, FIRST-LAST (repeatable).
        #[arg(long = "pool", value_name = "FIRST-LAST")]
        pools: Vec<String>,
        /// A description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Delete a network (refused by vCD while a vApp or VM uses it).
    Delete {
        /// The network (name or id).
        network: String,
        /// The vDC (name or id).
        #[arg(long = "in", id = "in_vdc", value_name = "VDC")]
        vdc: String,
    },
}

/// A network as printed.
#[derive(Debug, Serialize)]
struct NetworkView {
    name: String,
    href: String,
    fence_mode: String,
    gateway: Option<String>,
    prefix: Option<u8>,
    dns: Vec<String>,
    pools: Vec<String>,
    edge: Option<String>,
    description: Option<String>,
}

fn view(n: OrgNetwork) -> NetworkView {
    NetworkView {
        name: n.name,
        href: n.href,
        fence_mode: n.fence_mode,
        gateway: n.gateway.map(|g| g.to_string()),
        prefix: n.prefix,
        dns: n.dns.iter().map(ToString::to_string).collect(),
        pools: n.pools.iter().map(|(a, b)| format!("{a}-{b}")).collect(),
        edge: n.edge,
        description: n.description,
    }
}

fn text(v: &NetworkView) -> String {
    key_values(&[
        ("name", v.name.clone()),
        ("fence mode", v.fence_mode.clone()),
        (
            "gateway",
            match (&v.gateway, v.prefix) {
                (Some(g), Some(p)) => format!("{g}/{p}"),
                (Some(g), None) => g.clone(),
                _ => String::new(),
            },
        ),
        ("DNS", v.dns.join(", ")),
        ("pools", v.pools.join(", ")),
        ("edge", v.edge.clone().unwrap_or_default()),
        ("description", v.description.clone().unwrap_or_default()),
    ])
}

fn invalid(action: &str, e: impl std::fmt::Display) -> Failure {
    Failure::new(action, nebulair_core::Error::invalid_input(e.to_string()))
}

fn spec(
    name: &str,
    gateway: &str,
    kind: Kind,
    edge: Option<&str>,
    parent: Option<&str>,
) -> Result<NewOrgNetwork, Failure> {
    let r = match kind {
        Kind::Isolated => NewOrgNetwork::isolated(name, gateway),
        Kind::Routed => {
            let edge = edge
                .ok_or_else(|| invalid("reading --edge", "a routed network needs --edge HREF"))?;
            NewOrgNetwork::routed(name, gateway, edge)
        }
        Kind::Direct => {
            let parent = parent.ok_or_else(|| {
                invalid("reading --parent", "a direct network needs --parent HREF")
            })?;
            NewOrgNetwork::direct(name, gateway, parent)
        }
    };
    r.map_err(|e| invalid("checking the network", e))
}

async fn show(h: &OrgNetworkHandle, ctx: &Ctx) -> Result<(), Failure> {
    let v = view(h.get().await.during("reading the network")?);
    ctx.printer.print(&v, || text(&v)).map_err(io_failure)
}

/// Runs a network command.
pub(crate) async fn network(sub: NetworkSub, client: &VcdClient, ctx: Ctx) -> Result<(), Failure> {
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
                .map(|(n, h)| serde_json::json!({ "name": n, "href": h }))
                .collect();
            ctx.printer
                .print(&rows, || {
                    let mut t = Table::new(["NAME", "HREF"]);
                    for (n, h) in &nets {
                        t.row([n.clone(), h.clone()]);
                    }
                    t.render()
                })
                .map_err(io_failure)
        }
        NetworkSub::Show { network, vdc } => {
            show(
                &ws.vdc(vdc.as_str()).network(Locator::parse(&network)),
                &ctx,
            )
            .await
        }
        NetworkSub::Create {
            name,
            vdc,
            gateway,
            kind,
            edge,
            parent,
            dns,
            dns_suffix,
            pools,
            description,
        } => {
            let mut s = spec(&name, &gateway, kind, edge.as_deref(), parent.as_deref())?
                .description(description);
            if dns.len() > 2 {
                return Err(invalid("reading --dns", "at most two DNS servers"));
            }
            if let Some(first) = dns.first() {
                s = s
                    .dns(first, dns.get(1).map(String::as_str))
                    .map_err(|e| invalid("reading --dns", e))?;
            }
            if let Some(x) = dns_suffix {
                s = s.dns_suffix(x);
            }
            for p in &pools {
                let (a, b) = p
                    .split_once('-')
                    .ok_or_else(|| invalid("reading --pool", format!("{p:?} is not FIRST-LAST")))?;
                s = s.pool(a, b).map_err(|e| invalid("reading --pool", e))?;
            }
            let (h, task) = ws
                .vdc(vdc.as_str())
                .create_network(&s)
                .await
                .during("creating the network")?;
            ws.waiter()
                .wait(&task)
                .await
                .during("creating the network")?;
            show(&h, &ctx).await
        }
        NetworkSub::Delete { network, vdc } => {
            let h = ws.vdc(vdc.as_str()).network(Locator::parse(&network));
            let name = h.get().await.during("reading the network")?.name;
            h.delete().wait().await.during("deleting the network")?;
            print_deleted(&ctx.printer, "network", &name)
        }
    }
}
