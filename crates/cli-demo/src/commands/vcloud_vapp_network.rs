//! `nebulair vcloud vapp network ...`: the networks inside a vApp (its
//! `NetworkConfigSection`): list, add (isolated with a subnet and pools, bridged or fenced
//! to an org vDC network), update in place, remove one or all.

use clap::Subcommand;
use nebulair_core::Error;
use nebulair_vcloud::model::vcd::VAppNetworkConfiguration;
use nebulair_vcloud::workload::{VAppHandle, VAppNetwork};
use serde::Serialize;

use crate::Ctx;
use crate::commands::common::{Confirm, io_failure};
use crate::commands::vcloud_vapp::{TaskArgs, run_task, vcd_failure};
use crate::output::Table;
use crate::report::Failure;

/// How a vApp network reaches (or does not reach) the outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum VAppNetworkKind {
    /// Its own subnet, nothing outside the vApp (needs --gateway).
    Isolated,
    /// Bridged to an org vDC network (needs --parent).
    Bridged,
    /// Fenced (natRouted) towards an org vDC network (needs --parent).
    Fenced,
}

/// What `add` and `update` take.
#[derive(Debug, clap::Args)]
pub(crate) struct VAppNetworkSpec {
    /// The vApp network's name (what VM NICs name).
    name: String,
    /// isolated, bridged or fenced.
    #[arg(long, value_enum, default_value_t = VAppNetworkKind::Isolated)]
    kind: VAppNetworkKind,
    /// An isolated network's gateway and prefix (172.30.0.1/24).
    #[arg(long, value_name = "CIDR")]
    gateway: Option<String>,
    /// A static IP pool of an isolated network: FIRST-LAST (repeat for more).
    #[arg(long = "pool", value_name = "FIRST-LAST")]
    pools: Vec<String>,
    /// The org vDC network a bridged or fenced network connects to.
    #[arg(long, value_name = "ORG_NETWORK")]
    parent: Option<String>,
    /// A description.
    #[arg(long)]
    description: Option<String>,
}

impl VAppNetworkSpec {
    /// The library's spec, checked (subnet, pools, names) before anything is sent.
    fn to_network(&self) -> Result<VAppNetwork, Failure> {
        let bad = |e: Error| Failure::new("reading the vApp network", e);
        let mut net = match (self.kind, &self.gateway, &self.parent) {
            (VAppNetworkKind::Isolated, Some(gw), None) => {
                let mut n = VAppNetwork::isolated(&self.name, gw).map_err(bad)?;
                for pool in &self.pools {
                    let (a, b) = pool.split_once('-').ok_or_else(|| {
                        bad(Error::invalid_input(format!(
                            "--pool {pool:?} is not FIRST-LAST"
                        )))
                    })?;
                    n = n.pool(a.trim(), b.trim()).map_err(bad)?;
                }
                n
            }
            (VAppNetworkKind::Isolated, _, _) => {
                return Err(bad(Error::invalid_input(
                    "an isolated vApp network takes --gateway CIDR (and --pool), not --parent",
                )));
            }
            (kind, None, Some(parent)) if self.pools.is_empty() => {
                if kind == VAppNetworkKind::Fenced {
                    VAppNetwork::fenced(&self.name, parent).map_err(bad)?
                } else {
                    VAppNetwork::bridged(&self.name, parent).map_err(bad)?
                }
            }
            _ => {
                return Err(bad(Error::invalid_input(
                    "a bridged or fenced vApp network takes --parent ORG_NETWORK \
                     (its addresses are the org network's), not --gateway or --pool",
                )));
            }
        };
        if let Some(d) = &self.description {
            net = net.description(d.clone());
        }
        Ok(net)
    }
}

/// The `vapp network` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum VAppNetworkSub {
    /// The vApp's networks.
    List,
    /// Adds a network to the vApp (the others are kept).
    Add(VAppNetworkSpec),
    /// Changes a network of the vApp in place (subnet and pools, or parent and fence mode).
    Update(VAppNetworkSpec),
    /// Removes networks of the vApp (vCD refuses while a VM NIC uses one).
    Remove {
        /// The networks' names.
        #[arg(required_unless_present = "all", value_name = "NETWORK")]
        names: Vec<String>,
        /// Every network of the vApp.
        #[arg(long, conflicts_with = "names")]
        all: bool,
        #[command(flatten)]
        confirm: Confirm,
    },
}

/// A vApp network as printed.
#[derive(Debug, Serialize)]
struct VAppNetworkRow {
    name: String,
    fence_mode: String,
    parent: Option<String>,
    gateway: Option<String>,
    netmask: Option<String>,
    pools: Vec<String>,
    description: Option<String>,
}

impl VAppNetworkRow {
    fn of(n: &VAppNetworkConfiguration) -> Self {
        let conf = n.configuration.as_deref();
        let scope = conf
            .and_then(|c| c.ip_scopes.as_deref())
            .and_then(|s| s.ip_scopes.first());
        VAppNetworkRow {
            name: n.network_name.clone().unwrap_or_default(),
            fence_mode: conf.and_then(|c| c.fence_mode.clone()).unwrap_or_default(),
            parent: conf
                .and_then(|c| c.parent_network.as_deref())
                .and_then(|p| p.name.clone()),
            gateway: scope.and_then(|s| s.gateway.clone()),
            netmask: scope.and_then(|s| s.netmask.clone()),
            pools: scope
                .and_then(|s| s.ip_ranges.as_deref())
                .map(|r| {
                    r.ip_ranges
                        .iter()
                        .map(|r| {
                            format!(
                                "{}-{}",
                                r.start_address.as_deref().unwrap_or_default(),
                                r.end_address.as_deref().unwrap_or_default()
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            description: n.description.clone(),
        }
    }
}

async fn list(h: &VAppHandle, ctx: &Ctx) -> Result<(), Failure> {
    let rows: Vec<VAppNetworkRow> = h
        .networks()
        .await
        .map_err(|e| vcd_failure("reading the vApp's networks", e))?
        .iter()
        .map(VAppNetworkRow::of)
        .collect();
    ctx.printer
        .print(&rows, || {
            let mut t = Table::new(["NAME", "FENCE MODE", "PARENT", "GATEWAY", "POOLS"]);
            for r in &rows {
                t.row([
                    r.name.clone(),
                    r.fence_mode.clone(),
                    r.parent.clone().unwrap_or_default(),
                    r.gateway.clone().unwrap_or_default(),
                    r.pools.join(", "),
                ]);
            }
            t.render()
        })
        .map_err(io_failure)
}

/// Runs `vcloud vapp network ...` on the vApp `h` (named `vapp` in messages); a change
/// waits for its task (unless `--no-wait`) and lists the networks again.
pub(crate) async fn vapp_network(
    h: VAppHandle,
    vapp: &str,
    sub: VAppNetworkSub,
    args: &TaskArgs,
    ctx: Ctx,
) -> Result<(), Failure> {
    let changes: Vec<(nebulair_vcloud::workload::Pending, String)> = match sub {
        VAppNetworkSub::List => return list(&h, &ctx).await,
        VAppNetworkSub::Add(spec) => vec![(
            h.add_network(&spec.to_network()?),
            format!("adding network {} to vApp {vapp}", spec.name),
        )],
        VAppNetworkSub::Update(spec) => vec![(
            h.update_network(&spec.to_network()?),
            format!("changing network {} of vApp {vapp}", spec.name),
        )],
        VAppNetworkSub::Remove {
            names,
            all,
            confirm,
        } => {
            let plan = if all {
                vec![format!("remove every network of vApp {vapp}")]
            } else {
                names
                    .iter()
                    .map(|n| format!("remove network {n} of vApp {vapp}"))
                    .collect()
            };
            if !confirm.approve(&ctx, &plan)? {
                return Ok(());
            }
            if all {
                vec![(
                    h.remove_all_networks(),
                    format!("removing the networks of vApp {vapp}"),
                )]
            } else {
                names
                    .iter()
                    .map(|n| {
                        (
                            h.remove_network(n.clone()),
                            format!("removing network {n} of vApp {vapp}"),
                        )
                    })
                    .collect()
            }
        }
    };
    // One section change at a time, each task waited for (vCD runs one task at a time on
    // a vApp); a pending change is only sent when it is awaited.
    let mut done = false;
    for (pending, what) in changes {
        done = run_task(h.workloads(), pending, &what, args, &ctx)
            .await?
            .is_some();
    }
    if done {
        list(&h, &ctx).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        sub: VAppNetworkSub,
    }

    fn spec(args: &[&str]) -> Result<VAppNetwork, Failure> {
        let cli =
            Cli::try_parse_from(std::iter::once("t").chain(args.iter().copied())).expect("parses");
        match cli.sub {
            VAppNetworkSub::Add(s) => s.to_network(),
            other => panic!("not add: {other:?}"),
        }
    }

    #[test]
    fn specs_are_checked_before_sending() {
        let n = spec(&[
            "add",
            "back",
            "--gateway",
            "172.30.0.1/24",
            "--pool",
            "172.30.0.10-172.30.0.20",
            "--description",
            "db",
        ])
        .expect("isolated");
        assert_eq!(n.isolated.expect("subnet").pools.len(), 1);
        assert_eq!(n.description.as_deref(), Some("db"));
        let n = spec(&["add", "f", "--kind", "fenced", "--parent", "apps"]).expect("fenced");
        assert!(n.fenced && n.parent.as_deref() == Some("apps"));
        for bad in [
            &["add", "x"][..],
            &[
                "add",
                "x",
                "--gateway",
                "172.30.0.1/24",
                "--pool",
                "172.31.0.1-172.31.0.5",
            ],
            &[
                "add",
                "x",
                "--gateway",
                "172.30.0.1/24",
                "--pool",
                "172.30.0.9",
            ],
            &["add", "x", "--kind", "bridged"],
            &[
                "add",
                "x",
                "--kind",
                "bridged",
                "--parent",
                "a",
                "--gateway",
                "1.1.1.1/24",
            ],
        ] {
            assert!(spec(bad).is_err(), "{bad:?}");
        }
    }
}
