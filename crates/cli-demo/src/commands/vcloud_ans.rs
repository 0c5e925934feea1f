//! `nebulair vcloud firewall|nat|ipsec ...`: the edge gateway's ANS sections.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use futures::TryStreamExt as _;
use nebulair_core::{Error, ErrorKind, ExposeSecret, HttpConfig};
use nebulair_vcloud::VcdClient;
use nebulair_vcloud::ans::{
    AnsSection, FirewallAction, FirewallRule, IpsecSite, NatRule, NewFirewallRule, NewNatRule,
    NewPskTunnel, Protocol, SectionKind,
};
use nebulair_vcloud::query::{Query, QueryRecord, QueryType};
use nebulair_vcloud::session::OrgInfo;
use serde::Serialize;
use serde_json::Value;

use crate::Ctx;
use crate::commands::common::{Confirm, io_failure, read_secret_file, read_secret_stdin};
use crate::output::Table;
use crate::report::{Context as _, Failure};

#[derive(Debug, Clone, Args)]
pub(crate) struct EdgeArg {
    /// The edge gateway: its name or id (with or without the urn: prefix).
    #[arg(long, env = "VCD_EDGE", value_name = "NAME|ID")]
    edge: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum FirewallSub {
    /// List the rules.
    List(EdgeArg),
    /// Add a rule and save the firewall.
    Add {
        #[command(flatten)]
        edge: EdgeArg,
        /// The rule name.
        name: String,
        /// Source: internal, external, any, an IPv4 address or network.
        source: String,
        /// Destination: internal, external, any, an IPv4 address or network.
        destination: String,
        /// accept or deny.
        #[arg(long, default_value = "accept")]
        action: String,
        /// tcp, udp, icmp or any (ANS default: tcp; NSX-T edges take none).
        #[arg(long)]
        protocol: Option<String>,
        /// Destination port or range (default any).
        #[arg(long)]
        dest_port: Option<String>,
        /// Source port or range (default any).
        #[arg(long)]
        source_port: Option<String>,
        /// A description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete the rule at INDEX (as `list` numbers them) and save.
    Delete {
        #[command(flatten)]
        edge: EdgeArg,
        /// Rule ids (the ID column of `list`) or rule names; all are checked first.
        #[arg(required = true, value_name = "RULE")]
        rules: Vec<String>,
        #[command(flatten)]
        confirm: Confirm,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum NatSub {
    /// List the rules.
    List(EdgeArg),
    /// Add a rule and save.
    Add {
        #[command(flatten)]
        edge: EdgeArg,
        /// snat or dnat.
        action: String,
        /// The original address or network.
        original: String,
        /// The translated address or network.
        translated: String,
        /// tcp, udp, icmp or any.
        #[arg(long)]
        protocol: Option<String>,
        /// The original port.
        #[arg(long)]
        original_port: Option<String>,
        /// The translated port.
        #[arg(long)]
        translated_port: Option<String>,
        /// The rule name (NSX-T edges; default `<action>-<original>`). ANS rules have none.
        #[arg(long)]
        name: Option<String>,
    },
    /// Delete the rule at INDEX and save.
    Delete {
        #[command(flatten)]
        edge: EdgeArg,
        /// Rule ids (the ID column of `list`) or rule names; all are checked first.
        #[arg(required = true, value_name = "RULE")]
        rules: Vec<String>,
        #[command(flatten)]
        confirm: Confirm,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum IpsecSub {
    /// List the VPN sites (pre-shared keys are never shown).
    List(EdgeArg),
    /// Add a pre-shared-key tunnel (AES-256, PFS, DH group 2) and save.
    Add {
        #[command(flatten)]
        edge: EdgeArg,
        /// The site name.
        name: String,
        /// Local id.
        #[arg(long)]
        local_id: String,
        /// Local endpoint IP.
        #[arg(long)]
        local_ip: String,
        /// Peer id.
        #[arg(long)]
        peer_id: String,
        /// Peer endpoint IP.
        #[arg(long)]
        peer_ip: String,
        /// Local subnets, comma separated.
        #[arg(long)]
        local_subnets: String,
        /// Peer subnets, comma separated.
        #[arg(long)]
        peer_subnets: String,
        /// Read the pre-shared key from this file.
        #[arg(long, value_name = "FILE", required_unless_present = "psk_stdin")]
        psk_file: Option<PathBuf>,
        /// Read the pre-shared key from standard input.
        #[arg(long)]
        psk_stdin: bool,
    },
    /// Delete the site at INDEX and save.
    Delete {
        #[command(flatten)]
        edge: EdgeArg,
        /// Site names; all are checked first.
        #[arg(required = true, value_name = "SITE")]
        sites: Vec<String>,
        #[command(flatten)]
        confirm: Confirm,
    },
}

impl FirewallSub {
    fn edge(&self) -> &str {
        match self {
            FirewallSub::List(e)
            | FirewallSub::Add { edge: e, .. }
            | FirewallSub::Delete { edge: e, .. } => &e.edge,
        }
    }
}

impl NatSub {
    fn edge(&self) -> &str {
        match self {
            NatSub::List(e) | NatSub::Add { edge: e, .. } | NatSub::Delete { edge: e, .. } => {
                &e.edge
            }
        }
    }
}

impl IpsecSub {
    fn edge(&self) -> &str {
        match self {
            IpsecSub::List(e)
            | IpsecSub::Add { edge: e, .. }
            | IpsecSub::Delete { edge: e, .. } => &e.edge,
        }
    }
}

// ----- ANS -----

/// Whether an edge argument is an id: a UUID, or a URN ending in one.
fn edge_uuid(edge: &str) -> Option<&str> {
    let tail = edge.trim().rsplit(':').next().unwrap_or("");
    let is_uuid = tail.len() == 36
        && tail.chars().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    is_uuid.then_some(tail)
}

/// The id of the edge gateway `edge` names: an id as it is, a name through the query
/// service (exact name first, then a single match ignoring case).
pub(crate) async fn edge_id(
    edge: &str,
    org: &OrgInfo,
    http: &HttpConfig,
) -> Result<String, Failure> {
    if let Some(id) = edge_uuid(edge) {
        return Ok(id.to_owned());
    }
    let name = edge.trim();
    let client = VcdClient::with_config(org.clone(), http).during("configuring the vCD client")?;
    let records: Vec<QueryRecord> = Query::new(QueryType::from("edgeGateway"))
        .stream(&client)
        .try_collect()
        .await
        .during(format!("finding edge gateway {name:?}"))?;
    let named = |exact: bool| -> Vec<String> {
        records
            .iter()
            .filter(|r| {
                r.get("name").is_some_and(|n| {
                    if exact {
                        n == name
                    } else {
                        n.eq_ignore_ascii_case(name)
                    }
                })
            })
            .filter_map(QueryRecord::uuid)
            .collect()
    };
    let mut hits = named(true);
    if hits.is_empty() {
        hits = named(false);
    }
    match hits.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Failure::new(
            "finding the edge gateway",
            Error::new(
                ErrorKind::NotFound,
                format!("no edge gateway is named {name:?}"),
            ),
        )
        .hint("`nebulair vcloud query edgeGateway` lists the edges with their ids")),
        many => Err(Failure::new(
            "finding the edge gateway",
            Error::invalid_input(format!(
                "{} edge gateways are named {name:?} ({}): give the id",
                many.len(),
                many.join(", ")
            )),
        )),
    }
}

pub(crate) async fn fetched<K: SectionKind>(
    edge: &str,
    org: &OrgInfo,
    http: &HttpConfig,
) -> Result<AnsSection<K>, Failure> {
    let edge = &edge_id(edge, org, http).await?;
    let mut section = AnsSection::<K>::new(edge, org).during("configuring the edge client")?;
    section
        .fetch()
        .await
        .during(format!("reading the {} config of edge {edge}", K::SECTION))?;
    Ok(section)
}

pub(crate) async fn save<K: SectionKind>(section: &AnsSection<K>) -> Result<(), Failure> {
    section.save().await.during(format!(
        "saving the {} config of edge {}",
        K::SECTION,
        section.edge_id()
    ))
}

pub(crate) fn fw_endpoint(e: Option<&nebulair_vcloud::ans::RuleEndpoint>) -> String {
    match e {
        Some(e) => {
            let mut all: Vec<&str> = e.ip_addresses().iter().map(String::as_str).collect();
            all.extend(e.vnic_groups().iter().map(String::as_str));
            if all.is_empty() {
                "any".to_owned()
            } else {
                all.join(",")
            }
        }
        None => "any".to_owned(),
    }
}

pub(crate) fn fw_service(r: &FirewallRule) -> (String, String) {
    let services = r.application.as_ref().and_then(|a| a.service.as_ref());
    match services.and_then(|s| s.first()) {
        Some(s) => (
            s.protocol
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_else(|| "any".to_owned()),
            s.port
                .as_ref()
                .map(|p| p.join(","))
                .unwrap_or_else(|| "any".to_owned()),
        ),
        None => ("any".to_owned(), "any".to_owned()),
    }
}

pub(crate) fn firewall_table(rules: &[FirewallRule]) -> String {
    let mut t = Table::new([
        "ID",
        "NAME",
        "ACTION",
        "SOURCE",
        "DESTINATION",
        "PROTOCOL",
        "PORT",
        "ENABLED",
    ]);
    for r in rules {
        let (proto, port) = fw_service(r);
        t.row([
            r.rule_id
                .map(|i| i.to_string())
                .unwrap_or_else(|| "-".to_owned()),
            r.name.clone().unwrap_or_default(),
            r.action.as_ref().map(|a| a.to_string()).unwrap_or_default(),
            fw_endpoint(r.source.as_ref()),
            fw_endpoint(r.destination.as_ref()),
            proto,
            port,
            r.enabled.map(|e| e.to_string()).unwrap_or_default(),
        ]);
    }
    t.render()
}

pub(crate) fn nat_table(rules: &[NatRule]) -> String {
    let mut t = Table::new([
        "ID",
        "ACTION",
        "ORIGINAL",
        "TRANSLATED",
        "PROTOCOL",
        "ORIG PORT",
        "TRANS PORT",
    ]);
    for r in rules {
        t.row([
            r.rule_id
                .map(|i| i.to_string())
                .unwrap_or_else(|| "-".to_owned()),
            r.action.as_ref().map(|a| a.to_string()).unwrap_or_default(),
            r.original_address.clone().unwrap_or_default(),
            r.translated_address.clone().unwrap_or_default(),
            r.protocol
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_else(|| "any".to_owned()),
            r.original_port.clone().unwrap_or_else(|| "any".to_owned()),
            r.translated_port
                .clone()
                .unwrap_or_else(|| "any".to_owned()),
        ]);
    }
    t.render()
}

pub(crate) fn ipsec_table(sites: &[IpsecSite]) -> String {
    let mut t = Table::new([
        "NAME",
        "LOCAL IP",
        "PEER IP",
        "PEER SUBNETS",
        "ENCRYPTION",
        "ENABLED",
    ]);
    for s in sites {
        t.row([
            s.name.clone().unwrap_or_default(),
            s.local_ip.clone().unwrap_or_default(),
            s.peer_ip.clone().unwrap_or_default(),
            s.peer_subnets
                .as_ref()
                .and_then(|l| l.subnets.as_ref())
                .map(|v| v.join(","))
                .unwrap_or_default(),
            s.encryption_algorithm
                .as_ref()
                .map(|e| e.to_string())
                .unwrap_or_default(),
            s.enabled.map(|e| e.to_string()).unwrap_or_default(),
        ]);
    }
    t.render()
}

/// JSON for rule lists with every pre-shared key replaced.
pub(crate) fn redacted_json<T: Serialize>(rules: &[T]) -> Result<Value, Failure> {
    let mut v = serde_json::to_value(rules).map_err(|e| {
        Failure::new(
            "rendering JSON",
            Error::with_source(ErrorKind::Protocol, "serialising rules", e),
        )
    })?;
    redact(&mut v);
    Ok(v)
}

pub(crate) fn redact(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                let lk = k.to_ascii_lowercase();
                if lk == "psk"
                    || lk.contains("password")
                    || lk.contains("secret")
                    || lk.contains("presharedkey")
                {
                    *val = Value::String("[REDACTED]".to_owned());
                } else {
                    redact(val);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact),
        _ => {}
    }
}

pub(crate) fn parse_protocol(s: &str) -> Result<Protocol, Failure> {
    s.parse::<Protocol>().during("reading --protocol")
}

pub(crate) async fn firewall(
    sub: FirewallSub,
    org: &OrgInfo,
    http: &HttpConfig,
    ctx: Ctx,
) -> Result<(), Failure> {
    if let Some(edge) = crate::commands::vcloud_nsxt::nsxt_edge(sub.edge(), org, http).await {
        return crate::commands::vcloud_nsxt::firewall(sub, edge, ctx).await;
    }
    let p = ctx.printer;
    match sub {
        FirewallSub::List(e) => {
            let fw = fetched::<nebulair_vcloud::ans::Firewall>(&e.edge, org, http).await?;
            let v = redacted_json(fw.rules())?;
            p.print(&v, || firewall_table(fw.rules()))
                .map_err(io_failure)
        }
        FirewallSub::Add {
            edge,
            name,
            source,
            destination,
            action,
            protocol,
            dest_port,
            source_port,
            description,
        } => {
            let action: FirewallAction = action.parse().during("reading --action")?;
            let mut rule = NewFirewallRule::parse(name, &source, &destination)
                .during("reading the rule")?
                .action(action)
                .protocol(parse_protocol(protocol.as_deref().unwrap_or("tcp"))?)
                .dest_port(dest_port.unwrap_or_else(|| "any".to_owned()))
                .source_port(source_port.unwrap_or_else(|| "any".to_owned()));
            if let Some(d) = description {
                rule = rule.description(d);
            }
            let mut fw = fetched::<nebulair_vcloud::ans::Firewall>(&edge.edge, org, http).await?;
            let index = fw.add_rule(rule).during("adding the rule")?;
            save(&fw).await?;
            p.print(&serde_json::json!({ "added": index }), || {
                format!("rule {index} added and saved ({} rules)\n", fw.len())
            })
            .map_err(io_failure)
        }
        FirewallSub::Delete {
            edge,
            rules,
            confirm,
        } => {
            let mut fw = fetched::<nebulair_vcloud::ans::Firewall>(&edge.edge, org, http).await?;
            let keys: Vec<(Option<u64>, Option<String>)> = fw
                .rules()
                .iter()
                .map(|r| (r.rule_id, r.name.clone()))
                .collect();
            let at = positions("firewall rule", &keys, &rules)?;
            delete_at(&mut fw, at, &keys, confirm, &ctx).await
        }
    }
}

pub(crate) async fn nat(
    sub: NatSub,
    org: &OrgInfo,
    http: &HttpConfig,
    ctx: Ctx,
) -> Result<(), Failure> {
    if let Some(edge) = crate::commands::vcloud_nsxt::nsxt_edge(sub.edge(), org, http).await {
        return crate::commands::vcloud_nsxt::nat(sub, edge, ctx).await;
    }
    let p = ctx.printer;
    match sub {
        NatSub::List(e) => {
            let n = fetched::<nebulair_vcloud::ans::Nat>(&e.edge, org, http).await?;
            let v = redacted_json(n.rules())?;
            p.print(&v, || nat_table(n.rules())).map_err(io_failure)
        }
        NatSub::Add {
            edge,
            action,
            original,
            translated,
            protocol,
            original_port,
            translated_port,
            name,
        } => {
            if name.is_some() {
                return Err(Failure::new(
                    "reading --name",
                    Error::invalid_input("ANS NAT rules have no name; --name is for NSX-T edges"),
                ));
            }
            let mut rule =
                NewNatRule::parse(&action, &original, &translated).during("reading the rule")?;
            if let Some(pr) = protocol {
                rule = rule.protocol(parse_protocol(&pr)?);
            }
            if let Some(op) = original_port {
                rule = rule.original_port(op);
            }
            if let Some(tp) = translated_port {
                rule = rule.translated_port(tp);
            }
            let mut n = fetched::<nebulair_vcloud::ans::Nat>(&edge.edge, org, http).await?;
            let index = n.add_rule(rule).during("adding the rule")?;
            save(&n).await?;
            p.print(&serde_json::json!({ "added": index }), || {
                format!("rule {index} added and saved ({} rules)\n", n.len())
            })
            .map_err(io_failure)
        }
        NatSub::Delete {
            edge,
            rules,
            confirm,
        } => {
            let mut n = fetched::<nebulair_vcloud::ans::Nat>(&edge.edge, org, http).await?;
            let keys: Vec<(Option<u64>, Option<String>)> =
                n.rules().iter().map(|r| (r.rule_id, None)).collect();
            let at = positions("NAT rule", &keys, &rules)?;
            delete_at(&mut n, at, &keys, confirm, &ctx).await
        }
    }
}

pub(crate) async fn ipsec(
    sub: IpsecSub,
    org: &OrgInfo,
    http: &HttpConfig,
    ctx: Ctx,
) -> Result<(), Failure> {
    if let Some(edge) = crate::commands::vcloud_nsxt::nsxt_edge(sub.edge(), org, http).await {
        return crate::commands::vcloud_nsxt::ipsec(sub, edge, ctx).await;
    }
    let p = ctx.printer;
    match sub {
        IpsecSub::List(e) => {
            let s = fetched::<nebulair_vcloud::ans::Ipsec>(&e.edge, org, http).await?;
            let v = redacted_json(s.rules())?;
            p.print(&v, || ipsec_table(s.rules())).map_err(io_failure)
        }
        IpsecSub::Add {
            edge,
            name,
            local_id,
            local_ip,
            peer_id,
            peer_ip,
            local_subnets,
            peer_subnets,
            psk_file,
            psk_stdin,
        } => {
            let psk = match (psk_file, psk_stdin) {
                (Some(f), _) => read_secret_file(&f).during("reading the pre-shared key")?,
                (None, _) => read_secret_stdin().during("reading the pre-shared key")?,
            };
            let tunnel = NewPskTunnel::new(
                name,
                local_id,
                local_ip,
                peer_id,
                peer_ip,
                local_subnets.as_str(),
                peer_subnets.as_str(),
                psk.expose_secret().to_owned(),
            );
            let mut s = fetched::<nebulair_vcloud::ans::Ipsec>(&edge.edge, org, http).await?;
            let index = s.add_psk_tunnel(tunnel).during("adding the tunnel")?;
            save(&s).await?;
            p.print(&serde_json::json!({ "added": index }), || {
                format!("site {index} added and saved ({} sites)\n", s.len())
            })
            .map_err(io_failure)
        }
        IpsecSub::Delete {
            edge,
            sites,
            confirm,
        } => {
            let mut sec = fetched::<nebulair_vcloud::ans::Ipsec>(&edge.edge, org, http).await?;
            let keys: Vec<(Option<u64>, Option<String>)> =
                sec.rules().iter().map(|r| (None, r.name.clone())).collect();
            let at = positions("IPsec site", &keys, &sites)?;
            delete_at(&mut sec, at, &keys, confirm, &ctx).await
        }
    }
}

/// The positions of the rules `wanted` names (ids, then names), every one checked.
fn positions(
    what: &str,
    keys: &[(Option<u64>, Option<String>)],
    wanted: &[String],
) -> Result<Vec<usize>, Failure> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for w in wanted {
        let w = w.trim();
        let by_id: Vec<usize> = match w.parse::<u64>() {
            Ok(id) => keys
                .iter()
                .enumerate()
                .filter(|(_, (rid, _))| *rid == Some(id))
                .map(|(i, _)| i)
                .collect(),
            Err(_) => Vec::new(),
        };
        let hits = if by_id.is_empty() {
            keys.iter()
                .enumerate()
                .filter(|(_, (_, name))| name.as_deref() == Some(w))
                .map(|(i, _)| i)
                .collect()
        } else {
            by_id
        };
        match hits.as_slice() {
            [i] => {
                if !out.contains(i) {
                    out.push(*i);
                }
            }
            [] => missing.push(w.to_owned()),
            _ => {
                return Err(Failure::new(
                    format!("finding the {what}s"),
                    Error::invalid_input(format!(
                        "{} {what}s are named {w:?}: give the rule id",
                        hits.len()
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

/// Removes the rules at `at` (after confirmation) and saves the section once.
async fn delete_at<K: SectionKind>(
    section: &mut AnsSection<K>,
    mut at: Vec<usize>,
    keys: &[(Option<u64>, Option<String>)],
    confirm: Confirm,
    ctx: &Ctx,
) -> Result<(), Failure> {
    let label = |i: usize| {
        let (id, name) = &keys[i];
        match (id, name) {
            (Some(id), Some(n)) => format!("{id} ({n})"),
            (Some(id), None) => id.to_string(),
            (None, Some(n)) => n.clone(),
            (None, None) => format!("#{i}"),
        }
    };
    let plan: Vec<String> = at
        .iter()
        .map(|i| {
            format!(
                "delete {} {} of edge {}",
                K::SECTION,
                label(*i),
                section.edge_id()
            )
        })
        .collect();
    if !confirm.approve(ctx, &plan)? {
        return Ok(());
    }
    let labels: Vec<String> = at.iter().map(|i| label(*i)).collect();
    at.sort_unstable_by(|a, b| b.cmp(a));
    for i in at {
        section.remove(i).during("removing the rule")?;
    }
    save(section).await?;
    ctx.printer
        .print(&serde_json::json!({ "deleted": labels }), || {
            labels
                .iter()
                .map(|l| format!("{l} deleted and saved\n"))
                .collect()
        })
        .map_err(io_failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_replaces_keys_at_any_depth() {
        let mut v = serde_json::json!([{"name": "s", "psk": "k", "x": {"Password": "p", "ok": 1}}]);
        redact(&mut v);
        assert_eq!(v[0]["psk"], "[REDACTED]");
        assert_eq!(v[0]["x"]["Password"], "[REDACTED]");
        assert_eq!(v[0]["x"]["ok"], 1);
        assert_eq!(v[0]["name"], "s");
    }
}
