//! Org vDC networks against the vCD simulator: isolated, routed and direct networks
//! created, listed, read back, updated and deleted; a vApp connected to one keeps it from
//! being deleted; refusals (a pool outside the subnet before sending; a duplicate name,
//! an edge of another vDC, a network in use by the server).

mod workload_common;

use nebulair_core::ErrorKind;
use nebulair_vcloud::workload::{InstantiateParams, NetworkError, NetworkMapping, NewOrgNetwork};
use workload_common::env;

#[tokio::test]
async fn org_vdc_networks_with_state_reread() {
    let e = env().await;
    let vdc = e.ws.vdc("VDC-Prod");
    let before = vdc.networks().await.expect("list");
    assert_eq!(
        before.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["default-routed"]
    );

    let spec = NewOrgNetwork::isolated("backend", "10.20.0.1/24")
        .expect("spec")
        .description("app tier")
        .dns("10.20.0.53", Some("10.20.0.54"))
        .expect("dns")
        .dns_suffix("corp.example")
        .pool("10.20.0.100", "10.20.0.149")
        .expect("pool")
        .pool("10.20.0.200", "10.20.0.209")
        .expect("pool");
    let (net, task) = vdc.create_network(&spec).await.expect("create");
    e.ws.waiter().wait(&task).await.expect("create task");
    let doc = net.get().await.expect("get");
    assert_eq!(doc.name, "backend");
    assert_eq!(doc.fence_mode, "isolated");
    assert_eq!(doc.gateway, Some("10.20.0.1".parse().expect("ip")));
    assert_eq!(doc.prefix, Some(24));
    assert_eq!(doc.dns.len(), 2);
    assert_eq!(doc.dns_suffix.as_deref(), Some("corp.example"));
    assert_eq!(doc.pools.len(), 2);
    assert_eq!(doc.status, Some(1));
    // listed by the vDC and found by name (without regard to case) and by id
    let names: Vec<String> = vdc
        .networks()
        .await
        .expect("list")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["default-routed", "backend"]);
    assert_eq!(
        vdc.network("BACKEND").get().await.expect("by name").href,
        doc.href
    );
    let id = doc.id.clone().expect("id");
    assert_eq!(
        vdc.network(id.as_str()).get().await.expect("by id").name,
        "backend"
    );
    let err =
        e.ws.vdc("VDC-Dev")
            .network("backend")
            .get()
            .await
            .expect_err("other vdc");
    assert!(matches!(
        NetworkError::of(&err),
        Some(NetworkError::NotFound { .. })
    ));

    // routed through the vDC's edge; the other vDC's edge is refused by the server
    let edge = format!(
        "{}api/admin/edgeGateway/{}",
        e.sim.base_url(),
        nebulair_sim::vcloud::EDGE_ID
    );
    let routed = NewOrgNetwork::routed("web", "172.16.5.1/24", &edge).expect("spec");
    let (web, task) = vdc.create_network(&routed).await.expect("routed");
    e.ws.waiter().wait(&task).await.expect("task");
    let w = web.get().await.expect("get");
    assert_eq!(
        (w.fence_mode.as_str(), w.edge.as_deref()),
        ("natRouted", Some("edge-prod"))
    );
    let err =
        e.ws.vdc("VDC-Dev")
            .create_network(&routed)
            .await
            .expect_err("edge of another vDC");
    assert_eq!(err.http_status(), Some(400));
    assert!(err.to_string().contains("another vDC"), "{err}");
    // a direct network on the provider's external network
    let direct = NewOrgNetwork::direct(
        "public",
        "203.0.113.1/28",
        "api/admin/network/6e656275-6c61-4000-8000-000000000401",
    )
    .expect("spec");
    let (_, task) = vdc.create_network(&direct).await.expect("direct");
    e.ws.waiter().wait(&task).await.expect("task");
    // a duplicate name
    let err = vdc
        .create_network(&NewOrgNetwork::isolated("Backend", "10.9.0.1/24").expect("spec"))
        .await
        .expect_err("dup");
    assert_eq!(
        err.service().and_then(|s| s.code_name()),
        Some("DUPLICATE_NAME")
    );
    // a pool outside the subnet never leaves the client
    let err = NewOrgNetwork::isolated("x", "10.20.0.1/24")
        .expect("spec")
        .pool("10.21.0.1", "10.21.0.9")
        .expect_err("outside");
    assert!(err.to_string().contains("outside the subnet"), "{err}");

    // update: new description and pool, read back
    let changed = spec
        .clone()
        .description("app tier, v2")
        .pool("10.20.0.230", "10.20.0.239")
        .expect("pool");
    net.update(&changed).wait().await.expect("update");
    let doc = net.get().await.expect("re-read");
    assert_eq!(doc.description.as_deref(), Some("app tier, v2"));
    assert_eq!(doc.pools.len(), 3);
    // the subnet cannot change
    let moved = NewOrgNetwork::isolated("backend", "10.30.0.1/24").expect("spec");
    let err = net.update(&moved).wait().await.expect_err("subnet change");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");

    // a vApp on the network keeps it from being deleted
    let tpl = e.ws.vapp_template("centos7-base");
    let app = vdc
        .instantiate(
            &tpl,
            InstantiateParams::new("on-backend")
                .deploy(false)
                .power_on(false)
                .network(NetworkMapping::bridged("backend")),
        )
        .wait()
        .await
        .expect("instantiate");
    let vms = app.get().await.expect("vapp").vms().to_vec();
    assert_eq!(
        vms[0].network_connections()[0].network.as_deref(),
        Some("backend")
    );
    let err = net.delete().wait().await.expect_err("in use");
    assert_eq!(err.http_status(), Some(400));
    assert!(
        err.to_string().contains("in use by vApp on-backend"),
        "{err}"
    );
    app.delete().wait().await.expect("delete vapp");
    net.delete().wait().await.expect("delete network");
    let names: Vec<String> = vdc
        .networks()
        .await
        .expect("list")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["default-routed", "web", "public"]);
}
