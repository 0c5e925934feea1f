//! NSX-T edge gateways over the cloudapi against the vCloud simulator: listing with
//! paging and filters, firewall / NAT / IPsec changes as long-running operations (state
//! re-read after each), optimistic locking, BUSY_ENTITY retries, failed tasks, and bad
//! input refused before anything is sent.

use std::sync::Arc;
use std::time::Duration;

use nebulair_core::{
    Credentials, ErrorKind, HttpConfig, HttpTransport, ProxyConfig, ReqwestTransport,
};
use nebulair_sim::vcloud::{
    DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, EDGE_ID, NSXT_EDGE_ID, VDC_DEV_ID,
    VcloudSimulator, VcloudSimulatorHandle,
};
use nebulair_vcloud::client::{Accept, ApiRequest};
use nebulair_vcloud::cloudapi::ListParams;
use nebulair_vcloud::nsxt::{
    Direction, FirewallAction, FirewallRule, IpsecTunnel, NatRule, NatRuleType, NsxtEdges,
};
use nebulair_vcloud::session::VcdSession;
use nebulair_vcloud::workload::WorkloadOptions;
use nebulair_vcloud::{Filter, VcdClient};

async fn setup(task: Duration) -> (VcloudSimulatorHandle, VcdClient, NsxtEdges) {
    let sim = VcloudSimulator::builder()
        .task_duration(task)
        .start()
        .await
        .expect("sim");
    let transport: Arc<dyn HttpTransport> = Arc::new(
        ReqwestTransport::new(&HttpConfig::default().proxy(ProxyConfig::Disabled))
            .expect("transport"),
    );
    let sess = VcdSession::builder(sim.base_url().as_str())
        .org(DEFAULT_ORG)
        .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
        .transport(transport)
        .build()
        .expect("session");
    sess.login().await.expect("login");
    let client = sess.client().expect("client");
    let ws =
        client.workloads_with(WorkloadOptions::default().poll_interval(Duration::from_millis(10)));
    (sim, client, NsxtEdges::new(ws))
}

#[tokio::test]
async fn edges_are_listed_paged_filtered_and_found_by_name() {
    let (sim, _client, edges) = setup(Duration::from_millis(10)).await;
    let all = edges.list().await.expect("list");
    let names: Vec<&str> = all.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["edge-nsxt-dev", "edge-prod"], "sorted by name");
    let nsxt = &all[0];
    assert!(nsxt.is_nsxt());
    assert!(!all[1].is_nsxt(), "the NSX-V edge is listed as NSX-V");
    assert_eq!(nsxt.primary_ip(), Some("203.0.113.10"));
    assert_eq!(
        nsxt.org_vdc.as_ref().and_then(|v| v.name.as_deref()),
        Some("VDC-Dev")
    );
    // Unknown fields are kept.
    assert!(nsxt.extra.contains_key("status"), "{:?}", nsxt.extra.keys());

    // One item a page: list_all walks both pages.
    let paged = edges
        .list_with(&ListParams::new().page_size(1).sort_desc("name"))
        .await
        .expect("paged");
    let names: Vec<&str> = paged.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["edge-prod", "edge-nsxt-dev"]);

    let dev = edges.list_in_vdc(VDC_DEV_ID).await.expect("vdc filter");
    assert_eq!(dev.len(), 1);
    assert_eq!(dev[0].name, "edge-nsxt-dev");
    let by_glob = edges
        .list_with(&ListParams::new().filter(Filter::eq("name", "edge-*")))
        .await
        .expect("glob");
    assert_eq!(by_glob.len(), 2);

    let by_name = edges.edge("edge-nsxt-dev").get().await.expect("by name");
    let by_id = edges.edge(NSXT_EDGE_ID).get().await.expect("by id");
    assert_eq!(by_name, by_id);
    let e = edges.edge("no-such-edge").get().await.expect_err("missing");
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = edges
        .edge("00000000-0000-4000-8000-000000000000")
        .get()
        .await
        .expect_err("unknown id");
    assert_eq!(e.kind(), ErrorKind::Authorization, "{e}");
    sim.shutdown().await;
}

#[tokio::test]
async fn firewall_rules_are_replaced_and_versioned() {
    let (sim, _client, edges) = setup(Duration::from_millis(20)).await;
    let edge = edges.edge("edge-nsxt-dev");
    let before = edge.firewall_rules().await.expect("rules");
    assert_eq!(before.default_rules.len(), 1);
    assert_eq!(before.user_defined_rules.len(), 1);
    let mut keep = before.user_defined_rules[0].clone();
    keep.logging = true;
    let mut web = FirewallRule::new("allow-web-in", FirewallAction::Reject);
    web.direction = Direction::In;
    let after = edge
        .set_firewall_rules(&[web, keep])
        .await
        .expect("set rules");
    let names: Vec<&str> = after
        .user_defined_rules
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["allow-web-in", "allow-outbound"], "order kept");
    let web = &after.user_defined_rules[0];
    assert!(web.id.is_some());
    assert_eq!(web.effective_action(), Some(&FirewallAction::Reject));
    assert_eq!(web.direction, Direction::In);
    let kept = &after.user_defined_rules[1];
    assert!(kept.logging);
    assert_eq!(kept.version.map(|v| v.version), Some(1), "version moved on");

    // The first read is now stale: sending its version again is refused.
    let e = edge
        .set_firewall_rules(&before.user_defined_rules)
        .await
        .expect_err("stale version");
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("modified"), "{e}");

    // An empty name never leaves the client.
    let requests = sim.request_count();
    let e = edge
        .set_firewall_rules(&[FirewallRule::new(" ", FirewallAction::Allow)])
        .await
        .expect_err("no name");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(sim.request_count(), requests);
    sim.shutdown().await;
}

#[tokio::test]
async fn nat_rules_are_created_updated_and_deleted() {
    let (sim, client, edges) = setup(Duration::from_millis(20)).await;
    let edge = edges.edge("edge-nsxt-dev");
    assert_eq!(edge.nat_rules().await.expect("nat").len(), 1);

    let created = edge
        .create_nat_rule(
            &NatRule::dnat("web-https", "203.0.113.10", "10.10.0.20")
                .external_port("443")
                .describe("https to web-1"),
        )
        .await
        .expect("create");
    let id = created.id.clone().expect("id");
    assert_eq!(created.kind(), Some(&NatRuleType::Dnat));
    assert_eq!(created.dnat_external_port.as_deref(), Some("443"));
    assert_eq!(created.version.map(|v| v.version), Some(0));
    assert_eq!(edge.nat_rules().await.expect("nat").len(), 2);

    let mut edit = created.clone();
    edit.internal_addresses = "10.10.0.21".into();
    let updated = edge.update_nat_rule(&edit).await.expect("update");
    assert_eq!(updated.internal_addresses, "10.10.0.21");
    assert_eq!(updated.version.map(|v| v.version), Some(1));
    assert_eq!(
        edge.nat_rule(&id).await.expect("get").internal_addresses,
        "10.10.0.21"
    );

    // `created` carries version 0: vCD refuses to overwrite the newer rule.
    let e = edge.update_nat_rule(&created).await.expect_err("stale");
    assert!(e.to_string().contains("version 0"), "{e}");
    assert_eq!(
        edge.nat_rule(&id).await.expect("get").internal_addresses,
        "10.10.0.21"
    );

    // Bad input: typed before sending; sent anyway (raw), the simulator answers 400.
    let requests = sim.request_count();
    let e = edge
        .create_nat_rule(&NatRule::dnat("bad", "203.0.113.999", "10.10.0.20"))
        .await
        .expect_err("bad address");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("203.0.113.999"), "{e}");
    assert_eq!(sim.request_count(), requests, "nothing was sent");
    let raw = ApiRequest::post(format!(
        "cloudapi/1.0.0/edgeGateways/urn:vcloud:gateway:{NSXT_EDGE_ID}/nat/rules"
    ))
    .accept(Accept::VcdJson)
    .json(&NatRule::dnat("bad", "203.0.113.999", "10.10.0.20"))
    .expect("json");
    let e = client.send(raw).await.expect_err("server refuses");
    assert_eq!(e.http_status(), Some(400));
    assert!(e.to_string().contains("203.0.113.999"), "{e}");

    edge.delete_nat_rule(&id).await.expect("delete");
    let left = edge.nat_rules().await.expect("nat");
    assert!(left.iter().all(|r| r.id.as_deref() != Some(id.as_str())));
    assert_eq!(left.len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn ipsec_tunnels_keep_their_secret_out_of_debug() {
    let (sim, _client, edges) = setup(Duration::from_millis(10)).await;
    let edge = edges.edge(format!("urn:vcloud:gateway:{NSXT_EDGE_ID}"));
    let t = IpsecTunnel::psk(
        "to-office",
        "203.0.113.10",
        &["10.10.0.0/24"],
        "198.51.100.7",
        &["192.168.10.0/24"],
        "very-secret-psk",
    );
    let created = edge.create_ipsec_tunnel(&t).await.expect("create");
    assert!(!format!("{created:?}").contains("very-secret-psk"));
    let id = created.id.clone().expect("id");
    let read = edge.ipsec_tunnel(&id).await.expect("get");
    assert_eq!(read.remote_endpoint.remote_networks, ["192.168.10.0/24"]);
    let mut edit = read.clone();
    edit.remote_endpoint
        .remote_networks
        .push("192.168.20.0/24".into());
    let updated = edge.update_ipsec_tunnel(&edit).await.expect("update");
    assert_eq!(updated.remote_endpoint.remote_networks.len(), 2);
    let mut bad = t.clone();
    bad.local_endpoint.local_networks = vec!["10.10.0.1".into()];
    assert_eq!(
        edge.create_ipsec_tunnel(&bad)
            .await
            .expect_err("not a CIDR")
            .kind(),
        ErrorKind::InvalidInput
    );
    edge.delete_ipsec_tunnel(&id).await.expect("delete");
    assert!(edge.ipsec_tunnels().await.expect("list").is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn busy_edges_are_retried_and_failed_tasks_are_errors() {
    let (sim, _client, edges) = setup(Duration::from_millis(150)).await;
    let edge = edges.edge("edge-nsxt-dev");
    // Two changes at once: the second meets BUSY_ENTITY while the first task runs, and
    // is sent again until it goes through. Both rules end up on the edge.
    let (ra, rb) = (
        NatRule::snat("snat-a", "203.0.113.10", "10.10.1.0/24"),
        NatRule::snat("snat-b", "203.0.113.10", "10.10.2.0/24"),
    );
    let (a, b) = tokio::join!(edge.create_nat_rule(&ra), edge.create_nat_rule(&rb));
    a.expect("a");
    b.expect("b");
    let names: Vec<String> = edge
        .nat_rules()
        .await
        .expect("nat")
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert!(
        names.contains(&"snat-a".into()) && names.contains(&"snat-b".into()),
        "{names:?}"
    );

    // A task that fails: the error carries its message and nothing changed.
    sim.set_task_duration(Duration::from_millis(10));
    sim.fail_next_tasks(1);
    let e = edge
        .create_nat_rule(&NatRule::snat("snat-c", "203.0.113.10", "10.10.3.0/24"))
        .await
        .expect_err("task fails");
    assert!(e.to_string().contains("Simulated failure"), "{e}");
    assert!(
        edge.nat_rules()
            .await
            .expect("nat")
            .iter()
            .all(|r| r.name != "snat-c")
    );

    // The NSX-V edge has no cloudapi rules.
    let e = edges.edge(EDGE_ID).nat_rules().await.expect_err("NSX-V");
    assert_eq!(e.http_status(), Some(400));
    assert!(e.to_string().contains("NSX-T"), "{e}");
    sim.shutdown().await;
}
