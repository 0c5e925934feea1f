//! NSX-T edge gateways from the command line: `nebulair vcloud edge list`, and the
//! `vcloud firewall|nat|ipsec` commands when their `--edge` is NSX-T backed (the cloudapi,
//! `nebulair_vcloud::nsxt`); other edges keep the ANS commands of `vcloud_ans`.

use clap::{Args, Subcommand};
use nebulair_core::{Error, ErrorKind, ExposeSecret, HttpConfig};
use nebulair_vcloud::VcdClient;
use nebulair_vcloud::nsxt::{
    EdgeGateway, FirewallAction, FirewallRule, IpsecTunnel, NatRule, NsxtEdgeHandle, NsxtEdges,
};
use nebulair_vcloud::session::OrgInfo;
use serde_json::Value;

use crate::Ctx;
use crate::commands::common::{io_failure, read_secret_file, read_secret_stdin};
use crate::commands::vcloud_ans::{FirewallSub, IpsecSub, NatSub};
use crate::output::Table;
use crate::report::{Context as _, Failure};

/// `vcloud edge ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum EdgeSub {
    /// List the edge gateways (cloudapi): name, id, NSX-T or NSX-V, vDC, primary IP.
    List(EdgeListArgs),
}

/// `vcloud edge list`.
#[derive(Debug, Clone, Args)]
pub(crate) struct EdgeListArgs {
    /// Only the edges of this vDC (its id: UUID, urn or href).
    #[arg(long, value_name = "VDC_ID")]
    vdc: Option<String>,
}

fn edges(org: &OrgInfo, http: &HttpConfig) -> Result<NsxtEdges, Failure> {
    let client = VcdClient::with_config(org.clone(), http).during("configuring the vCD client")?;
    Ok(client.nsxt_edges())
}

/// `nebulair vcloud edge list [--vdc ID]`: every edge gateway the cloudapi lists, NSX-T
/// and NSX-V.
pub(crate) async fn edge(
    sub: EdgeSub,
    org: &OrgInfo,
    http: &HttpConfig,
    ctx: Ctx,
) -> Result<(), Failure> {
    let EdgeSub::List(args) = sub;
    let edges = edges(org, http)?;
    let list = match &args.vdc {
        Some(v) => edges.list_in_vdc(v).await,
        None => edges.list().await,
    }
    .during("listing the edge gateways")?;
    let mut t = Table::new(["NAME", "ID", "BACKING", "VDC", "PRIMARY IP"]);
    for e in &list {
        t.row([
            e.name.clone(),
            e.id.clone().unwrap_or_default(),
            backing(e).to_owned(),
            e.org_vdc
                .as_ref()
                .and_then(|v| v.name.clone())
                .unwrap_or_default(),
            e.primary_ip().unwrap_or("").to_owned(),
        ]);
    }
    ctx.printer
        .print(&list, || t.render())
        .map_err(io_failure)?;
    ctx.printer.note(&format!("{} edge gateway(s)", list.len()));
    Ok(())
}

fn backing(e: &EdgeGateway) -> &'static str {
    if e.is_nsxt() {
        "NSX-T"
    } else if e
        .gateway_backing
        .as_ref()
        .and_then(|b| b.gateway_type.as_deref())
        .is_some_and(|t| t.starts_with("NSXV"))
    {
        "NSX-V"
    } else {
        "unknown"
    }
}

/// The NSX-T edge `edge` names, when the cloudapi knows it as one. `None` (for NSX-V
/// edges, vCloud Air ANS edges, and servers without the cloudapi) sends the command to
/// the ANS implementation, which reports its own errors.
pub(crate) async fn nsxt_edge(
    edge: &str,
    org: &OrgInfo,
    http: &HttpConfig,
) -> Option<NsxtEdgeHandle> {
    let handle = edges(org, http).ok()?.edge(edge);
    match handle.get().await {
        Ok(e) if e.is_nsxt() => Some(handle),
        Ok(_) => None,
        Err(e) => {
            tracing::debug!(error = %e, "not an NSX-T edge on the cloudapi; using ANS");
            None
        }
    }
}

fn unsupported(what: &str, why: &str) -> Failure {
    Failure::new(
        format!("adding the {what} to an NSX-T edge"),
        Error::invalid_input(why.to_owned()),
    )
    .hint("the library's nebulair_vcloud::nsxt types take every NSX-T field")
}

fn given(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.eq_ignore_ascii_case("any"))
}

/// The rule ids `wanted` names among `rules` (id, then exact name), every one checked.
fn pick_ids(
    what: &str,
    rules: &[(Option<String>, String)],
    wanted: &[String],
) -> Result<Vec<String>, Failure> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for w in wanted.iter().map(|w| w.trim()) {
        let by_id: Vec<&String> = rules
            .iter()
            .filter_map(|(id, _)| id.as_ref().filter(|i| *i == w))
            .collect();
        let hits: Vec<&String> = if by_id.is_empty() {
            rules
                .iter()
                .filter(|(_, n)| n == w)
                .filter_map(|(id, _)| id.as_ref())
                .collect()
        } else {
            by_id
        };
        match hits.as_slice() {
            [one] => {
                if !out.contains(*one) {
                    out.push((*one).clone());
                }
            }
            [] => missing.push(w.to_owned()),
            many => {
                return Err(Failure::new(
                    format!("finding the {what}s"),
                    Error::invalid_input(format!(
                        "{} {what}s are named {w:?}: give the id",
                        many.len()
                    )),
                ));
            }
        }
    }
    if !missing.is_empty() {
        return Err(Failure::new(
            format!("finding the {what}s"),
            Error::new(
                ErrorKind::NotFound,
                format!("no {what} {}", missing.join(", ")),
            ),
        )
        .hint("the list command shows the ids and names; nothing was changed"));
    }
    Ok(out)
}

fn redacted(v: &impl serde::Serialize) -> Result<Value, Failure> {
    let mut v = serde_json::to_value(v)
        .map_err(|e| Failure::new("printing", Error::protocol(e.to_string())))?;
    crate::commands::vcloud_ans::redact(&mut v);
    Ok(v)
}

/// `vcloud firewall ...` on an NSX-T edge.
pub(crate) async fn firewall(
    sub: FirewallSub,
    edge: NsxtEdgeHandle,
    ctx: Ctx,
) -> Result<(), Failure> {
    let p = ctx.printer;
    match sub {
        FirewallSub::List(_) => {
            let rules = edge
                .firewall_rules()
                .await
                .during("reading the firewall rules")?;
            let mut t = Table::new(["ID", "NAME", "ACTION", "DIRECTION", "IP", "ENABLED", "KIND"]);
            for (kind, list) in [
                ("user", &rules.user_defined_rules),
                ("default", &rules.default_rules),
                ("system", &rules.system_rules),
            ] {
                for r in list {
                    t.row([
                        r.id.clone().unwrap_or_default(),
                        r.name.clone(),
                        r.effective_action()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        r.direction.to_string(),
                        r.ip_protocol.to_string(),
                        r.enabled.to_string(),
                        kind.to_owned(),
                    ]);
                }
            }
            p.print(&rules, || t.render()).map_err(io_failure)
        }
        FirewallSub::Add {
            name,
            source,
            destination,
            action,
            protocol,
            dest_port,
            source_port,
            description,
            ..
        } => {
            if !source.eq_ignore_ascii_case("any") || !destination.eq_ignore_ascii_case("any") {
                return Err(unsupported(
                    "firewall rule",
                    "NSX-T firewall rules match firewall groups, not addresses: give `any any` here",
                ));
            }
            if given(&protocol) || given(&dest_port) || given(&source_port) {
                return Err(unsupported(
                    "firewall rule",
                    "NSX-T firewall rules match application port profiles, not --protocol or ports",
                ));
            }
            let action = match action.to_ascii_lowercase().as_str() {
                "accept" | "allow" => FirewallAction::Allow,
                "deny" | "drop" => FirewallAction::Drop,
                "reject" => FirewallAction::Reject,
                other => {
                    return Err(Failure::new(
                        "reading --action",
                        Error::invalid_input(format!("{other:?} is not accept, deny or reject")),
                    ));
                }
            };
            let mut rule = FirewallRule::new(name, action);
            rule.description = description;
            rule.validate().during("reading the rule")?;
            let mut rules = edge
                .firewall_rules()
                .await
                .during("reading the firewall rules")?
                .user_defined_rules;
            rules.push(rule);
            let now = edge
                .set_firewall_rules(&rules)
                .await
                .during("saving the firewall rules")?;
            let n = now.user_defined_rules.len();
            p.print(&serde_json::json!({ "added": n - 1 }), || {
                format!("rule {} added and saved ({n} rules)\n", n - 1)
            })
            .map_err(io_failure)
        }
        FirewallSub::Delete { rules, confirm, .. } => {
            let current = edge
                .firewall_rules()
                .await
                .during("reading the firewall rules")?
                .user_defined_rules;
            let keys: Vec<(Option<String>, String)> = current
                .iter()
                .map(|r| (r.id.clone(), r.name.clone()))
                .collect();
            let ids = pick_ids("firewall rule", &keys, &rules)?;
            let plan: Vec<String> = ids
                .iter()
                .map(|i| format!("delete firewall rule {i}"))
                .collect();
            if !confirm.approve(&ctx, &plan)? {
                return Ok(());
            }
            let keep: Vec<FirewallRule> = current
                .into_iter()
                .filter(|r| r.id.as_ref().is_none_or(|i| !ids.contains(i)))
                .collect();
            edge.set_firewall_rules(&keep)
                .await
                .during("saving the firewall rules")?;
            p.print(&serde_json::json!({ "deleted": ids }), || {
                ids.iter()
                    .map(|l| format!("{l} deleted and saved\n"))
                    .collect()
            })
            .map_err(io_failure)
        }
    }
}

/// `vcloud nat ...` on an NSX-T edge.
pub(crate) async fn nat(sub: NatSub, edge: NsxtEdgeHandle, ctx: Ctx) -> Result<(), Failure> {
    let p = ctx.printer;
    match sub {
        NatSub::List(_) => {
            let rules = edge.nat_rules().await.during("reading the NAT rules")?;
            let mut t = Table::new([
                "ID", "NAME", "TYPE", "EXTERNAL", "INTERNAL", "PORT", "ENABLED",
            ]);
            for r in &rules {
                t.row([
                    r.id.clone().unwrap_or_default(),
                    r.name.clone(),
                    r.kind().map(ToString::to_string).unwrap_or_default(),
                    r.external_addresses.clone(),
                    r.internal_addresses.clone(),
                    r.dnat_external_port.clone().unwrap_or_default(),
                    r.enabled.to_string(),
                ]);
            }
            p.print(&rules, || t.render()).map_err(io_failure)
        }
        NatSub::Add {
            action,
            original,
            translated,
            protocol,
            original_port,
            translated_port,
            name,
            ..
        } => {
            if given(&protocol) || given(&translated_port) {
                return Err(unsupported(
                    "NAT rule",
                    "NSX-T NAT rules take an application port profile, not --protocol or --translated-port",
                ));
            }
            let kind = action.to_ascii_lowercase();
            let name = name.unwrap_or_else(|| format!("{kind}-{original}"));
            let mut rule = match kind.as_str() {
                "dnat" => NatRule::dnat(&name, &original, &translated),
                "snat" => NatRule::snat(&name, &translated, &original),
                other => {
                    return Err(Failure::new(
                        "reading the rule",
                        Error::invalid_input(format!("{other:?} is not snat or dnat")),
                    ));
                }
            };
            if let Some(port) = original_port.filter(|p| !p.eq_ignore_ascii_case("any")) {
                if kind != "dnat" {
                    return Err(unsupported(
                        "NAT rule",
                        "--original-port applies to DNAT rules only",
                    ));
                }
                rule = rule.external_port(port);
            }
            rule.validate().during("reading the rule")?;
            let created = edge
                .create_nat_rule(&rule)
                .await
                .during("creating the NAT rule")?;
            let id = created.id.clone().unwrap_or_default();
            p.print(&created, || format!("NAT rule {id} ({name}) created\n"))
                .map_err(io_failure)
        }
        NatSub::Delete { rules, confirm, .. } => {
            let current = edge.nat_rules().await.during("reading the NAT rules")?;
            let keys: Vec<(Option<String>, String)> = current
                .iter()
                .map(|r| (r.id.clone(), r.name.clone()))
                .collect();
            let ids = pick_ids("NAT rule", &keys, &rules)?;
            let plan: Vec<String> = ids.iter().map(|i| format!("delete NAT rule {i}")).collect();
            if !confirm.approve(&ctx, &plan)? {
                return Ok(());
            }
            for id in &ids {
                edge.delete_nat_rule(id)
                    .await
                    .during(format!("deleting NAT rule {id}"))?;
            }
            p.print(&serde_json::json!({ "deleted": ids }), || {
                ids.iter().map(|l| format!("{l} deleted\n")).collect()
            })
            .map_err(io_failure)
        }
    }
}

/// `vcloud ipsec ...` on an NSX-T edge.
pub(crate) async fn ipsec(sub: IpsecSub, edge: NsxtEdgeHandle, ctx: Ctx) -> Result<(), Failure> {
    let p = ctx.printer;
    match sub {
        IpsecSub::List(_) => {
            let tunnels = edge
                .ipsec_tunnels()
                .await
                .during("reading the IPsec tunnels")?;
            let mut t = Table::new([
                "ID",
                "NAME",
                "LOCAL",
                "PEER",
                "LOCAL NETWORKS",
                "PEER NETWORKS",
                "ENABLED",
            ]);
            for s in &tunnels {
                t.row([
                    s.id.clone().unwrap_or_default(),
                    s.name.clone(),
                    s.local_endpoint.local_address.clone(),
                    s.remote_endpoint.remote_address.clone(),
                    s.local_endpoint.local_networks.join(","),
                    s.remote_endpoint.remote_networks.join(","),
                    s.enabled.to_string(),
                ]);
            }
            let v = redacted(&tunnels)?;
            p.print(&v, || t.render()).map_err(io_failure)
        }
        IpsecSub::Add {
            name,
            local_id,
            local_ip,
            peer_id,
            peer_ip,
            local_subnets,
            peer_subnets,
            psk_file,
            ..
        } => {
            let psk = match psk_file {
                Some(f) => read_secret_file(&f).during("reading the pre-shared key")?,
                None => read_secret_stdin().during("reading the pre-shared key")?,
            };
            let split = |s: &str| -> Vec<String> {
                s.split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_owned)
                    .collect()
            };
            let local: Vec<String> = split(&local_subnets);
            let remote: Vec<String> = split(&peer_subnets);
            let local: Vec<&str> = local.iter().map(String::as_str).collect();
            let remote: Vec<&str> = remote.iter().map(String::as_str).collect();
            let mut tunnel = IpsecTunnel::psk(
                &name,
                local_ip,
                &local,
                peer_ip,
                &remote,
                psk.expose_secret(),
            );
            tunnel.local_endpoint.local_id = Some(local_id);
            tunnel.remote_endpoint.remote_id = Some(peer_id);
            tunnel.validate().during("reading the tunnel")?;
            let created = edge
                .create_ipsec_tunnel(&tunnel)
                .await
                .during("creating the IPsec tunnel")?;
            let id = created.id.clone().unwrap_or_default();
            let v = redacted(&created)?;
            p.print(&v, || format!("IPsec tunnel {id} ({name}) created\n"))
                .map_err(io_failure)
        }
        IpsecSub::Delete { sites, confirm, .. } => {
            let current = edge
                .ipsec_tunnels()
                .await
                .during("reading the IPsec tunnels")?;
            let keys: Vec<(Option<String>, String)> = current
                .iter()
                .map(|r| (r.id.clone(), r.name.clone()))
                .collect();
            let ids = pick_ids("IPsec tunnel", &keys, &sites)?;
            let plan: Vec<String> = ids
                .iter()
                .map(|i| format!("delete IPsec tunnel {i}"))
                .collect();
            if !confirm.approve(&ctx, &plan)? {
                return Ok(());
            }
            for id in &ids {
                edge.delete_ipsec_tunnel(id)
                    .await
                    .during(format!("deleting IPsec tunnel {id}"))?;
            }
            p.print(&serde_json::json!({ "deleted": ids }), || {
                ids.iter().map(|l| format!("{l} deleted\n")).collect()
            })
            .map_err(io_failure)
        }
    }
}
