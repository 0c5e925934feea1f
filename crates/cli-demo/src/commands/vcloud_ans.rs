//! `nebulair vcloud firewall|nat|ipsec ...`: the edge gateway's ANS sections.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use nebulair_core::{Error, ErrorKind, ExposeSecret};
use nebulair_vcloud::ans::{
    AnsSection, FirewallAction, FirewallRule, IpsecSite, NatRule, NewFirewallRule, NewNatRule,
    NewPskTunnel, Protocol, SectionKind,
};
use nebulair_vcloud::session::OrgInfo;
use serde::Serialize;
use serde_json::Value;

use crate::Ctx;
use crate::commands::common::{io_failure, read_secret_file, read_secret_stdin};
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
        /// tcp, udp, icmp or any.
        #[arg(long, default_value = "tcp")]
        protocol: String,
        /// Destination port or range.
        #[arg(long, default_value = "any")]
        dest_port: String,
        /// Source port or range.
        #[arg(long, default_value = "any")]
        source_port: String,
        /// A description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete the rule at INDEX (as `list` numbers them) and save.
    Delete {
        #[command(flatten)]
        edge: EdgeArg,
        /// The rule's index.
        index: usize,
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
    },
    /// Delete the rule at INDEX and save.
    Delete {
        #[command(flatten)]
        edge: EdgeArg,
        /// The rule's index.
        index: usize,
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
        /// The site's index.
        index: usize,
    },
}

// ----- ANS -----

pub(crate) async fn fetched<K: SectionKind>(
    edge: &str,
    org: &OrgInfo,
) -> Result<AnsSection<K>, Failure> {
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
        "#",
        "NAME",
        "ACTION",
        "SOURCE",
        "DESTINATION",
        "PROTOCOL",
        "PORT",
        "ENABLED",
    ]);
    for (i, r) in rules.iter().enumerate() {
        let (proto, port) = fw_service(r);
        t.row([
            i.to_string(),
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
        "#",
        "ACTION",
        "ORIGINAL",
        "TRANSLATED",
        "PROTOCOL",
        "ORIG PORT",
        "TRANS PORT",
    ]);
    for (i, r) in rules.iter().enumerate() {
        t.row([
            i.to_string(),
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
        "#",
        "NAME",
        "LOCAL IP",
        "PEER IP",
        "PEER SUBNETS",
        "ENCRYPTION",
        "ENABLED",
    ]);
    for (i, s) in sites.iter().enumerate() {
        t.row([
            i.to_string(),
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

pub(crate) async fn firewall(sub: FirewallSub, org: &OrgInfo, ctx: Ctx) -> Result<(), Failure> {
    let p = ctx.printer;
    match sub {
        FirewallSub::List(e) => {
            let fw = fetched::<nebulair_vcloud::ans::Firewall>(&e.edge, org).await?;
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
                .protocol(parse_protocol(&protocol)?)
                .dest_port(dest_port)
                .source_port(source_port);
            if let Some(d) = description {
                rule = rule.description(d);
            }
            let mut fw = fetched::<nebulair_vcloud::ans::Firewall>(&edge.edge, org).await?;
            let index = fw.add_rule(rule).during("adding the rule")?;
            save(&fw).await?;
            p.print(&serde_json::json!({ "added": index }), || {
                format!("rule {index} added and saved ({} rules)\n", fw.len())
            })
            .map_err(io_failure)
        }
        FirewallSub::Delete { edge, index } => {
            let mut fw = fetched::<nebulair_vcloud::ans::Firewall>(&edge.edge, org).await?;
            let removed = fw.remove(index).during(format!("removing rule {index}"))?;
            save(&fw).await?;
            p.print(&serde_json::json!({ "deleted": index }), || {
                format!(
                    "rule {index} ({}) deleted and saved\n",
                    removed.name.unwrap_or_default()
                )
            })
            .map_err(io_failure)
        }
    }
}

pub(crate) async fn nat(sub: NatSub, org: &OrgInfo, ctx: Ctx) -> Result<(), Failure> {
    let p = ctx.printer;
    match sub {
        NatSub::List(e) => {
            let n = fetched::<nebulair_vcloud::ans::Nat>(&e.edge, org).await?;
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
        } => {
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
            let mut n = fetched::<nebulair_vcloud::ans::Nat>(&edge.edge, org).await?;
            let index = n.add_rule(rule).during("adding the rule")?;
            save(&n).await?;
            p.print(&serde_json::json!({ "added": index }), || {
                format!("rule {index} added and saved ({} rules)\n", n.len())
            })
            .map_err(io_failure)
        }
        NatSub::Delete { edge, index } => {
            let mut n = fetched::<nebulair_vcloud::ans::Nat>(&edge.edge, org).await?;
            n.remove(index).during(format!("removing rule {index}"))?;
            save(&n).await?;
            p.print(&serde_json::json!({ "deleted": index }), || {
                format!("rule {index} deleted and saved\n")
            })
            .map_err(io_failure)
        }
    }
}

pub(crate) async fn ipsec(sub: IpsecSub, org: &OrgInfo, ctx: Ctx) -> Result<(), Failure> {
    let p = ctx.printer;
    match sub {
        IpsecSub::List(e) => {
            let s = fetched::<nebulair_vcloud::ans::Ipsec>(&e.edge, org).await?;
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
            let mut s = fetched::<nebulair_vcloud::ans::Ipsec>(&edge.edge, org).await?;
            let index = s.add_psk_tunnel(tunnel).during("adding the tunnel")?;
            save(&s).await?;
            p.print(&serde_json::json!({ "added": index }), || {
                format!("site {index} added and saved ({} sites)\n", s.len())
            })
            .map_err(io_failure)
        }
        IpsecSub::Delete { edge, index } => {
            let mut s = fetched::<nebulair_vcloud::ans::Ipsec>(&edge.edge, org).await?;
            s.remove(index).during(format!("removing site {index}"))?;
            save(&s).await?;
            p.print(&serde_json::json!({ "deleted": index }), || {
                format!("site {index} deleted and saved\n")
            })
            .map_err(io_failure)
        }
    }
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
