//! Org vDC networks against the vCloud simulator: list, create (isolated and routed),
//! read back, update, delete, the in-use refusal, duplicate names, bad pools refused before
//! sending and by the server when sent anyway.

use std::time::Duration;

use nebulair_core::{Credentials, ErrorKind};
use nebulair_sim::vcloud::{
    DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VDC_DEV_ID, VcloudSimulator,
};
use nebulair_vcloud::client::ApiRequest;
use nebulair_vcloud::session::VcdSession;
use nebulair_vcloud::workload::{FenceMode, NewOrgNetwork, WorkloadOptions};

#[tokio::test]
async fn org_vdc_networks_from_creation_to_deletion() {
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_millis(20))
        .start()
        .await
        .expect("sim");
    let sess = VcdSession::builder(sim.base_url().as_str())
        .org(DEFAULT_ORG)
        .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
        .build()
        .expect("session");
    sess.login().await.expect("login");
    let client = sess.client().expect("client");
    let ws =
        client.workloads_with(WorkloadOptions::default().poll_interval(Duration::from_millis(10)));
    let prod = ws.vdc("VDC-Prod");
    let dev = ws.vdc("VDC-Dev");

    // The seed: one routed network per vDC, through its edge.
    let nets = prod.networks().await.expect("list");
    assert_eq!(nets.len(), 1);
    assert_eq!(nets[0].name, "default-routed");
    assert_eq!(nets[0].fence_mode, Some(FenceMode::NatRouted));
    assert_eq!(nets[0].connected_to.as_deref(), Some("edge-prod"));
    assert_eq!(
        dev.networks().await.expect("dev")[0]
            .connected_to
            .as_deref(),
        Some("edge-nsxt-dev")
    );

    // Isolated, with pools and DNS; re-read as vCD stored it.
    let spec = NewOrgNetwork::isolated("backend", "10.20.0.1/24")
        .and_then(|n| n.ip_range("10.20.0.10", "10.20.0.49"))
        .and_then(|n| n.ip_range("10.20.0.100", "10.20.0.149"))
        .and_then(|n| n.dns("10.20.0.2", Some("10.20.0.3")))
        .expect("spec")
        .dns_suffix("backend.example")
        .description("app backends");
    let net = prod.create_network(&spec).wait().await.expect("create");
    let doc = net.get().await.expect("get");
    assert_eq!(doc.name.as_deref(), Some("backend"));
    assert_eq!(doc.description.as_deref(), Some("app backends"));
    assert_eq!(doc.fence_mode(), Some(FenceMode::Isolated));
    let scope = doc.ip_scope().expect("scope");
    assert_eq!(scope.gateway.as_deref(), Some("10.20.0.1"));
    assert_eq!(scope.netmask.as_deref(), Some("255.255.255.0"));
    assert_eq!(scope.dns2.as_deref(), Some("10.20.0.3"));
    assert_eq!(scope.ip_ranges.as_ref().map(|r| r.ip_ranges.len()), Some(2));
    let listed = prod.networks().await.expect("list");
    assert!(
        listed
            .iter()
            .any(|n| n.name == "backend" && n.fence_mode == Some(FenceMode::Isolated))
    );
    // ... and by name through a fresh handle, and in the vDC document.
    assert_eq!(
        prod.network("backend").get().await.expect("by name").id,
        doc.id
    );
    let vdc_doc = prod.get().await.expect("vdc");
    let avail = format!("{:?}", vdc_doc.available_networks);
    assert!(avail.contains("backend"), "{avail}");

    // Routed through the vDC's edge, by the edge's name.
    let routed = NewOrgNetwork::routed("dmz", "172.16.5.1/24", "edge-prod")
        .and_then(|n| n.ip_range("172.16.5.10", "172.16.5.20"))
        .expect("routed");
    let dmz = prod
        .create_network(&routed)
        .wait()
        .await
        .expect("create routed");
    let d = dmz.get().await.expect("get");
    assert_eq!(d.fence_mode(), Some(FenceMode::NatRouted));
    assert_eq!(
        d.edge_gateway.as_ref().and_then(|e| e.name.as_deref()),
        Some("edge-prod")
    );
    let e = dev
        .create_network(&NewOrgNetwork::routed("x", "172.16.6.1/24", "edge-prod").expect("spec"))
        .wait()
        .await
        .expect_err("edge of another vDC");
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

    // Duplicate names are refused by the server.
    let e = prod
        .create_network(&NewOrgNetwork::isolated("Backend", "10.21.0.1/24").expect("spec"))
        .wait()
        .await
        .expect_err("duplicate");
    assert!(
        e.to_string().contains("DUPLICATE_NAME") || e.to_string().contains("already exists"),
        "{e}"
    );

    // A pool outside the subnet: refused by the library, and by the server when sent raw.
    assert!(
        NewOrgNetwork::isolated("bad", "10.22.0.1/24")
            .expect("spec")
            .ip_range("10.23.0.5", "10.23.0.9")
            .is_err()
    );
    let raw = r#"<OrgVdcNetwork xmlns="http://www.vmware.com/vcloud/v1.5" name="bad"><Configuration><IpScopes><IpScope><IsInherited>false</IsInherited><Gateway>10.22.0.1</Gateway><Netmask>255.255.255.0</Netmask><IpRanges><IpRange><StartAddress>10.23.0.5</StartAddress><EndAddress>10.23.0.9</EndAddress></IpRange></IpRanges></IpScope></IpScopes><FenceMode>isolated</FenceMode></Configuration></OrgVdcNetwork>"#;
    let e = client
        .send(
            ApiRequest::post(format!("api/admin/vdc/{VDC_DEV_ID}/networks"))
                .body("application/vnd.vmware.vcloud.orgVdcNetwork+xml", raw),
        )
        .await
        .expect_err("server refuses");
    assert_eq!(e.http_status(), Some(400));
    assert!(e.to_string().contains("not within the network"), "{e}");

    // Update: renamed and re-described, then re-read.
    net.update(Some("backend-2".into()), Some("renamed".into()))
        .wait()
        .await
        .expect("update");
    let doc = net.get().await.expect("get");
    assert_eq!(doc.name.as_deref(), Some("backend-2"));
    assert_eq!(doc.description.as_deref(), Some("renamed"));
    assert_eq!(
        doc.ip_scope().and_then(|s| s.dns_suffix.as_deref()),
        Some("backend.example"),
        "the rest kept"
    );

    // The seeded network is in use by vApps: deleting it is refused.
    let e = prod
        .network("default-routed")
        .delete()
        .wait()
        .await
        .expect_err("in use");
    assert!(e.to_string().contains("in use"), "{e}");
    net.delete().wait().await.expect("delete");
    dmz.delete().wait().await.expect("delete dmz");
    let names: Vec<String> = prod
        .networks()
        .await
        .expect("list")
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(names, ["default-routed"]);
    let e = prod.network("backend-2").get().await.expect_err("gone");
    assert_eq!(e.kind(), ErrorKind::NotFound);
    sim.shutdown().await;
}
