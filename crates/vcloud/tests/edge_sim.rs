//! vCD edge gateway services against the vCloud simulator: read, modify, configureServices
//! (a Task), read back; the busy retry.

use std::time::Duration;

use nebulair_core::{Credentials, ErrorKind, HttpConfig, ProxyConfig, RetryPolicy};
use nebulair_sim::vcloud::{
    DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, EDGE_ID, VcloudSimulator, VcloudSimulatorHandle,
};
use nebulair_vcloud::VcdClient;
use nebulair_vcloud::edge::{EdgeFirewallRule, EdgeGateway, EdgeGatewayServices, EdgeNatRule};
use nebulair_vcloud::session::VcdSession;

async fn start() -> (VcloudSimulatorHandle, VcdClient) {
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_millis(100))
        .start()
        .await
        .expect("simulator");
    let session = VcdSession::builder(sim.base_url().as_str())
        .org(DEFAULT_ORG)
        .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
        .http_config(HttpConfig::default().proxy(ProxyConfig::Disabled))
        .build()
        .expect("session");
    session.login().await.expect("login");
    (sim, session.client().expect("client"))
}

fn fast(n: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(n)
        .initial_backoff(Duration::from_millis(20))
        .max_backoff(Duration::from_millis(50))
}

#[tokio::test]
async fn modify_firewall_and_nat_then_read_back() {
    let (sim, client) = start().await;
    let edge = EdgeGateway::new(&client, &format!("urn:vcloud:gateway:{EDGE_ID}"))
        .expect("edge")
        .retry_policy(fast(3));
    let mut services = edge.services().await.expect("services");
    let names_before: Vec<String> = services
        .service_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut fw = services.firewall().expect("fw").expect("firewall present");
    let fw_rules = fw.rules.len();
    fw.rules.push(EdgeFirewallRule::allow(
        "nebulair-https",
        "Any",
        "192.0.2.10",
        "443",
    ));
    services.set_firewall(&fw);
    let mut nat = services.nat().expect("nat").expect("nat present");
    let nat_rules = nat.rules.len();
    let uplink = nat
        .rules
        .iter()
        .find_map(|r| r.interface_href.clone())
        .unwrap_or_else(|| format!("{}api/admin/network/uplink", sim.base_url()));
    let mut rule = EdgeNatRule::new("DNAT", uplink, "192.0.2.10", "10.0.0.8");
    rule.original_port = Some("2222".into());
    rule.translated_port = Some("22".into());
    rule.protocol = Some("tcp".into());
    nat.rules.push(rule);
    services.set_nat(&nat);

    let task = edge
        .configure_services(&services)
        .await
        .expect("configureServices");
    let done = client
        .task_waiter()
        .poll_interval(Duration::from_millis(25))
        .wait(&task)
        .await
        .expect("task succeeds");
    assert!(done.status.is_terminal());

    let stored = sim.edge_services_xml(EDGE_ID).expect("stored");
    assert!(stored.contains("nebulair-https"), "{stored}");
    let back = edge.services().await.expect("read back");
    let fw2 = back.firewall().expect("fw").expect("present");
    assert_eq!(fw2.rules.len(), fw_rules + 1);
    let new = fw2.rules.last().expect("rule");
    assert_eq!(new.destination_ip.as_deref(), Some("192.0.2.10"));
    assert_eq!(new.destination_port_range.as_deref(), Some("443"));
    let nat2 = back.nat().expect("nat").expect("present");
    assert_eq!(nat2.rules.len(), nat_rules + 1);
    assert_eq!(
        nat2.rules.last().and_then(|r| r.original_port.as_deref()),
        Some("2222")
    );
    let names_after: Vec<String> = back.service_names().iter().map(|s| s.to_string()).collect();
    assert_eq!(names_after, names_before, "other services are kept");
    sim.shutdown().await;
}

#[tokio::test]
async fn busy_edge_is_retried_and_then_reported() {
    let (sim, client) = start().await;
    let edge = EdgeGateway::new(&client, EDGE_ID)
        .expect("edge")
        .retry_policy(fast(3));
    let services: EdgeGatewayServices = edge.services().await.expect("services");
    assert!(sim.make_edge_busy(EDGE_ID, 2));
    let task = edge.configure_services_and_wait(&services).await;
    // The default waiter polls every 5 s; the simulator's task takes 100 ms.
    let task = task.expect("configured after two busy answers");
    assert!(task.status.is_terminal());

    assert!(sim.make_edge_busy(EDGE_ID, 10));
    let e = edge
        .configure_services(&services)
        .await
        .expect_err("still busy");
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    sim.shutdown().await;
}
