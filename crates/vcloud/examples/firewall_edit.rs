//! Edit an ANS edge's firewall and NAT rules: fetch, list, add, remove, save, read back.
//!
//! Runs against the built-in vCloud simulator:
//! `cargo run -p nebulair-vcloud --example firewall_edit`.
//! Against a real vCloud Air service, build the [`VcdClient`] from your own login instead.

use nebulair_core::{Credentials, HttpConfig, ProxyConfig};
use nebulair_sim::vcloud::{DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, EDGE_ID, VcloudSimulator};
use nebulair_vcloud::ans::{AnsFirewall, AnsNat, NewFirewallRule, NewNatRule};
use nebulair_vcloud::session::VcdSession;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = VcloudSimulator::builder().start().await?;
    let session = VcdSession::builder(sim.base_url().as_str())
        .org(DEFAULT_ORG)
        .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
        .http_config(HttpConfig::default().proxy(ProxyConfig::Disabled))
        .build()?;
    session.login().await?;
    let client = session.client()?;

    let mut fw = AnsFirewall::with_client(EDGE_ID, &client)?;
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

    let mut nat = AnsNat::with_client(EDGE_ID, &client)?;
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
    println!(
        "NAT rule {:?}: {} {}:{} -> {}:{}",
        last.rule_id,
        last.action.as_ref().map(|a| a.as_str()).unwrap_or("-"),
        last.original_address.as_deref().unwrap_or("-"),
        last.original_port.as_deref().unwrap_or("-"),
        last.translated_address.as_deref().unwrap_or("-"),
        last.translated_port.as_deref().unwrap_or("-"),
    );
    sim.shutdown().await;
    Ok(())
}
