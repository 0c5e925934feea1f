//! ANS firewall/NAT/IPsec against the vCloud simulator: add, remove and save rules for
//! each section and read the saved config back; the busy retry; version handling.

use std::time::Duration;

use nebulair_core::{Credentials, ErrorKind, HttpConfig, ProxyConfig, RetryPolicy};
use nebulair_sim::vcloud::{
    DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, EDGE_ID, VcloudSimulator, VcloudSimulatorHandle,
};
use nebulair_vcloud::VcdClient;
use nebulair_vcloud::ans::{
    AnsFirewall, AnsIpsec, AnsNat, FirewallAction, NewFirewallRule, NewNatRule, NewPskTunnel,
    Protocol, is_edge_busy,
};
use nebulair_vcloud::session::VcdSession;
use serde_json::{Value, json};

async fn start() -> (VcloudSimulatorHandle, VcdClient) {
    let sim = VcloudSimulator::builder().start().await.expect("simulator");
    let session = VcdSession::builder(sim.base_url().as_str())
        .org(DEFAULT_ORG)
        .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
        .http_config(HttpConfig::default().proxy(ProxyConfig::Disabled))
        .build()
        .expect("session");
    session.login().await.expect("login");
    let client = session.client().expect("client");
    (sim, client)
}

fn fast_retry(n: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(n)
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
}

fn stored_list(sim: &VcloudSimulatorHandle, section: &str, outer: &str, inner: &str) -> Vec<Value> {
    sim.ans_config(EDGE_ID, section).expect("stored config")[outer][inner]
        .as_array()
        .expect("list")
        .clone()
}

#[tokio::test]
async fn firewall_add_remove_save_read_back() {
    let (sim, client) = start().await;
    let before = sim.ans_config(EDGE_ID, "firewall").expect("config");
    let version = before["version"].as_i64().expect("version");
    let mut fw = AnsFirewall::with_client(EDGE_ID, &client).expect("section");
    fw.fetch().await.expect("fetch");
    assert_eq!(fw.version(), Some(&json!(version)));
    let n = fw.len();
    assert_eq!(
        n,
        before["firewallRules"]["firewallRules"]
            .as_array()
            .map(Vec::len)
            .expect("list")
    );
    assert!(fw.config().expect("global").contains_key("defaultPolicy"));

    fw.add_rule(
        NewFirewallRule::parse("https-in", "external", "192.0.2.10")
            .expect("rule")
            .dest_port(443)
            .description("web"),
    )
    .expect("add");
    fw.add_rule(
        NewFirewallRule::parse("drop-udp", "internal", "any")
            .expect("rule")
            .protocol(Protocol::Udp)
            .action(FirewallAction::Deny),
    )
    .expect("add");
    let removed_name = fw[0].name.clone();
    fw.remove(0).expect("remove");
    fw.save().await.expect("save");

    let after = sim.ans_config(EDGE_ID, "firewall").expect("config");
    assert_eq!(after["version"], json!(version + 1));
    let rules = stored_list(&sim, "firewall", "firewallRules", "firewallRules");
    assert_eq!(rules.len(), n + 1);
    assert!(rules.iter().all(|r| r["name"] != json!(removed_name)));
    let https = rules
        .iter()
        .find(|r| r["name"] == "https-in")
        .expect("saved rule");
    assert_eq!(https["destination"]["ipAddress"], json!(["192.0.2.10"]));
    assert_eq!(https["destination"]["vnicGroupId"], json!([]));
    assert_eq!(https["source"]["vnicGroupId"], json!(["external"]));
    assert_eq!(https["application"]["service"][0]["port"], json!(["443"]));
    assert!(
        https["ruleId"].is_number(),
        "server assigned an id: {https}"
    );
    // Global fields went back unchanged.
    assert_eq!(after["defaultPolicy"], before["defaultPolicy"]);

    // Read back through the client.
    let mut again = AnsFirewall::with_client(EDGE_ID, &client).expect("section");
    again.fetch().await.expect("fetch");
    assert_eq!(again.len(), n + 1);
    let drop_udp = again
        .iter()
        .find(|r| r.name.as_deref() == Some("drop-udp"))
        .expect("rule");
    assert_eq!(drop_udp.action, Some(FirewallAction::Deny));
    assert!(drop_udp.rule_id.is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn nat_add_remove_save_read_back() {
    let (sim, client) = start().await;
    let mut nat = AnsNat::with_client(EDGE_ID, &client).expect("section");
    nat.fetch().await.expect("fetch");
    let n = nat.len();
    nat.add_rule(
        NewNatRule::parse("DNAT", "192.0.2.10", "10.0.0.8")
            .expect("rule")
            .original_port(2222)
            .translated_port(22),
    )
    .expect("add");
    nat.add_rule(
        NewNatRule::parse("snat", "10.0.0.0/24", "192.0.2.10")
            .expect("rule")
            .protocol(Protocol::Icmp),
    )
    .expect("add");
    if n > 0 {
        nat.remove(n - 1).expect("remove last original");
    }
    nat.save().await.expect("save");
    let rules = stored_list(&sim, "nat", "rules", "natRulesDtos");
    assert_eq!(rules.len(), n + 1);
    let dnat = rules
        .iter()
        .find(|r| r["originalPort"] == "2222")
        .expect("dnat");
    assert_eq!(dnat["action"], "dnat");
    assert_eq!(dnat["translatedAddress"], "10.0.0.8");
    assert_eq!(dnat["vnic"], "0");
    let snat = rules
        .iter()
        .find(|r| r["originalAddress"] == "10.0.0.0/24")
        .expect("snat");
    assert_eq!(snat["icmpType"], "any");
    let mut again = AnsNat::with_client(EDGE_ID, &client).expect("section");
    again.fetch().await.expect("fetch");
    assert_eq!(again.len(), n + 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn ipsec_add_remove_save_read_back() {
    let (sim, client) = start().await;
    let mut vpn = AnsIpsec::with_client(EDGE_ID, &client).expect("section");
    vpn.fetch().await.expect("fetch");
    let n = vpn.len();
    vpn.add_psk_tunnel(NewPskTunnel::new(
        "to-dc2",
        "192.0.2.10",
        "192.0.2.10",
        "198.51.100.20",
        "198.51.100.20",
        "10.0.0.0/24",
        "172.16.0.0/16, 172.17.0.0/16",
        "shared-key-1",
    ))
    .expect("add");
    vpn.add_psk_tunnel(
        NewPskTunnel::new(
            "temp",
            "192.0.2.10",
            "192.0.2.10",
            "198.51.100.30",
            "any",
            vec!["10.0.1.0/24"],
            vec!["172.18.0.0/16"],
            "shared-key-2",
        )
        .dh_group(14)
        .pfs(false),
    )
    .expect("add");
    vpn.remove(n + 1).expect("remove the second new one");
    vpn.save().await.expect("save");
    let sites = stored_list(&sim, "ipsec", "sites", "sites");
    assert_eq!(sites.len(), n + 1);
    let s = sites.iter().find(|s| s["name"] == "to-dc2").expect("site");
    assert_eq!(
        s["peerSubnets"]["subnets"],
        json!(["172.16.0.0/16", "172.17.0.0/16"])
    );
    assert_eq!(s["dhGroup"], "dh2");
    assert_eq!(s["enablePfs"], true);
    assert_eq!(s["encryptionAlgorithm"], "aes256");
    assert!(s["siteId"].is_string());
    let mut again = AnsIpsec::with_client(EDGE_ID, &client).expect("section");
    again.fetch().await.expect("fetch");
    assert_eq!(again.len(), n + 1);
    assert!(!format!("{again:?}").contains("shared-key-1"));
    sim.shutdown().await;
}

#[tokio::test]
async fn busy_edge_is_retried_then_given_up() {
    let (sim, client) = start().await;
    let mut fw = AnsFirewall::with_client(EDGE_ID, &client)
        .expect("section")
        .retry_policy(fast_retry(3));
    fw.fetch().await.expect("fetch");
    fw.add_rule(NewFirewallRule::parse("r1", "any", "internal").expect("rule"))
        .expect("add");
    let version = sim.ans_config(EDGE_ID, "firewall").expect("config")["version"].clone();
    assert!(sim.make_edge_busy(EDGE_ID, 2));
    fw.save().await.expect("saved after two busy answers");
    assert_ne!(
        sim.ans_config(EDGE_ID, "firewall").expect("config")["version"],
        version
    );

    assert!(sim.make_edge_busy(EDGE_ID, 10));
    let e = fw.save().await.expect_err("still busy after 3 retries");
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(is_edge_busy(&e));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_stale_or_present_version_is_never_sent() {
    let (sim, client) = start().await;
    let mut a = AnsNat::with_client(EDGE_ID, &client).expect("a");
    let mut b = AnsNat::with_client(EDGE_ID, &client).expect("b");
    a.fetch().await.expect("fetch a");
    b.fetch().await.expect("fetch b");
    a.add_rule(NewNatRule::parse("dnat", "192.0.2.11", "10.0.0.9").expect("rule"))
        .expect("add");
    a.save().await.expect("save a");
    // b's copy is older, but it carries no version: last writer wins, as on the service.
    b.save().await.expect("save b");
    let stored = sim.ans_config(EDGE_ID, "nat").expect("config");
    assert_eq!(
        stored["rules"]["natRulesDtos"].as_array().map(Vec::len),
        Some(b.len())
    );
    assert!(b.to_json().expect("json").get("version").is_none());
    sim.shutdown().await;
}
