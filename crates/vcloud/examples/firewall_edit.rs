//! Edit an ANS edge's firewall and NAT rules: fetch, list, add, remove, save, read back.
//!
//! Runs against the built-in vCloud simulator:
//! `cargo run -p nebulair-vcloud --example firewall_edit`.
//! Against a real vCloud Air service, build the [`VcdClient`] from your own login instead
//! and call [`run`] with it.

use nebulair_core::{Credentials, HttpConfig, ProxyConfig};
use nebulair_sim::vcloud::{DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, EDGE_ID, VcloudSimulator};
use nebulair_vcloud::VcdClient;
use nebulair_vcloud::ans::{AnsFirewall, AnsNat, NewFirewallRule, NewNatRule};
use nebulair_vcloud::session::VcdSession;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// What the edit did.
#[derive(Debug)]
#[allow(dead_code, reason = "main prints; tests/examples.rs checks the fields")]
pub(crate) struct Edited {
    /// Firewall rules before the edit.
    pub(crate) rules_before: usize,
    /// Firewall rules after saving and fetching again.
    pub(crate) rules_after: usize,
    /// Names of the firewall rules as read back.
    pub(crate) rule_names: Vec<String>,
    /// The last NAT rule as read back: action, original `address:port`, translated
    /// `address:port`.
    pub(crate) last_nat: (String, String, String),
}

#[tokio::main]
async fn main() -> Result<()> {
    let sim = VcloudSimulator::builder().start().await?;
    let session = VcdSession::builder(sim.base_url().as_str())
        .org(DEFAULT_ORG)
        .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
        .http_config(HttpConfig::default().proxy(ProxyConfig::Disabled))
        .build()?;
    session.login().await?;
    run(&session.client()?, EDGE_ID).await?;
    sim.shutdown().await;
    Ok(())
}

/// Adds an `https-in` firewall rule (and removes a rule named `obsolete`, if any) and a
/// DNAT rule for ssh on edge `edge`, saves both, reads them back and prints them.
pub(crate) async fn run(client: &VcdClient, edge: &str) -> Result<Edited> {
    let mut fw = AnsFirewall::with_client(edge, client)?;
    fw.fetch().await?;
    println!(
        "firewall of edge {} (version {:?}):",
        fw.edge_id(),
        fw.version()
    );
    for (i, rule) in fw.iter().enumerate() {
        println!(
            "  [{i}] {:<34} {:<6} {:?}",
            rule.name.as_deref().unwrap_or("-"),
            rule.action.as_ref().map(|a| a.as_str()).unwrap_or("-"),
            rule.rule_type
        );
    }
    let rules_before = fw.len();
    fw.add_rule(NewFirewallRule::parse("https-in", "external", "192.0.2.10")?.dest_port(443))?;
    // Remove the last user rule we added earlier, if any.
    if let Some(i) = fw
        .iter()
        .position(|r| r.name.as_deref() == Some("obsolete"))
    {
        fw.remove(i)?;
    }
    fw.save().await?;
    fw.fetch().await?;
    println!("saved: {} rules, version {:?}", fw.len(), fw.version());
    let rule_names = fw.iter().filter_map(|r| r.name.clone()).collect();

    let mut nat = AnsNat::with_client(edge, client)?;
    nat.fetch().await?;
    nat.add_rule(
        NewNatRule::parse("dnat", "192.0.2.10", "10.0.0.8")?
            .original_port(2222)
            .translated_port(22)
            .description("ssh to app-01"),
    )?;
    nat.save().await?;
    nat.fetch().await?;
    let last = &nat[nat.len() - 1];
    let text = |v: Option<&str>| v.unwrap_or("-").to_owned();
    let last_nat = (
        text(last.action.as_ref().map(|a| a.as_str())),
        format!(
            "{}:{}",
            text(last.original_address.as_deref()),
            text(last.original_port.as_deref())
        ),
        format!(
            "{}:{}",
            text(last.translated_address.as_deref()),
            text(last.translated_port.as_deref())
        ),
    );
    println!(
        "NAT rule {:?}: {} {} -> {}",
        last.rule_id, last_nat.0, last_nat.1, last_nat.2
    );
    Ok(Edited {
        rules_before,
        rules_after: fw.len(),
        rule_names,
        last_nat,
    })
}
