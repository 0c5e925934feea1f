//! vApp networks against the vCloud simulator: an isolated network added to a running
//! vApp, a VM NIC connected to it, removal refused while the NIC uses it, a network bridged
//! to a new org vDC network, and bad input refused before anything is sent; networks
//! changed in place and all removed at once.

use std::time::Duration;

use nebulair_core::{Credentials, ErrorKind};
use nebulair_sim::vcloud::{DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator};
use nebulair_vcloud::model::vcd::VAppNetworkConfiguration;
use nebulair_vcloud::session::VcdSession;
use nebulair_vcloud::workload::{
    ComposeParams, IpAllocation, NewOrgNetwork, NicSpec, VAppNetwork, WorkloadOptions,
};

#[tokio::test]
async fn vapp_networks_isolated_and_bridged() {
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
    let vdc = ws.vdc("VDC-Prod");
    let vapp = vdc.vapp("db-tier");
    let names = |nets: Vec<nebulair_vcloud::model::vcd::VAppNetworkConfiguration>| -> Vec<String> {
        nets.into_iter().filter_map(|n| n.network_name).collect()
    };
    let before = names(vapp.networks().await.expect("networks"));
    assert_eq!(before, ["default-routed"]);

    // Isolated, with a pool: re-read with its scope.
    let net = VAppNetwork::isolated("backplane", "172.30.0.1/24")
        .and_then(|n| n.pool("172.30.0.10", "172.30.0.20"))
        .expect("spec");
    vapp.add_network(&net).wait().await.expect("add");
    let nets = vapp.networks().await.expect("networks");
    let bp = nets
        .iter()
        .find(|n| n.network_name.as_deref() == Some("backplane"))
        .expect("backplane");
    let conf = bp.configuration.as_ref().expect("conf");
    assert_eq!(conf.fence_mode.as_deref(), Some("isolated"));
    let scope = &conf.ip_scopes.as_ref().expect("scopes").ip_scopes[0];
    assert_eq!(scope.gateway.as_deref(), Some("172.30.0.1"));
    assert_eq!(scope.netmask.as_deref(), Some("255.255.255.0"));
    assert_eq!(
        names(nets.clone()),
        ["default-routed", "backplane"],
        "the default kept"
    );
    let e = vapp.add_network(&net).wait().await.expect_err("twice");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);

    // A NIC on it; then the network cannot go away.
    let vm = vapp.vm("db-01");
    vm.add_nic(NicSpec::new("backplane", IpAllocation::Pool))
        .wait()
        .await
        .expect("nic");
    let doc = vm.get().await.expect("vm");
    let nic = doc
        .network_connections()
        .iter()
        .find(|c| c.network.as_deref() == Some("backplane"))
        .expect("connected")
        .network_connection_index
        .expect("index");
    let e = vapp
        .remove_network("backplane")
        .wait()
        .await
        .expect_err("in use");
    assert!(e.to_string().contains("in use by VM"), "{e}");
    vm.remove_nic(nic).wait().await.expect("remove nic");
    vapp.remove_network("backplane")
        .wait()
        .await
        .expect("remove");
    assert_eq!(
        names(vapp.networks().await.expect("networks")),
        ["default-routed"]
    );
    assert_eq!(
        vapp.remove_network("backplane")
            .wait()
            .await
            .expect_err("gone")
            .kind(),
        ErrorKind::NotFound
    );

    // Bridged to a new org vDC network; to one the vDC lacks: refused by the server.
    let org_net = NewOrgNetwork::isolated("apps", "10.70.0.1/24").expect("org net");
    let (_h, task) = vdc.create_network(&org_net).await.expect("org network");
    ws.waiter().wait(&task).await.expect("created");
    vapp.add_network(&VAppNetwork::bridged("apps", "apps").expect("spec"))
        .wait()
        .await
        .expect("bridged");
    let nets = vapp.networks().await.expect("networks");
    let apps = nets
        .iter()
        .find(|n| n.network_name.as_deref() == Some("apps"))
        .expect("apps");
    let c = apps.configuration.as_ref().expect("conf");
    assert_eq!(c.fence_mode.as_deref(), Some("bridged"));
    assert_eq!(
        c.parent_network.as_ref().and_then(|p| p.name.as_deref()),
        Some("apps")
    );
    // Fenced (natRouted) towards the same org network.
    vapp.add_network(&VAppNetwork::fenced("apps-fenced", "apps").expect("spec"))
        .wait()
        .await
        .expect("fenced");
    let nets = vapp.networks().await.expect("networks");
    let f = nets
        .iter()
        .find(|n| n.network_name.as_deref() == Some("apps-fenced"))
        .and_then(|n| n.configuration.as_ref())
        .expect("fenced conf");
    assert_eq!(f.fence_mode.as_deref(), Some("natRouted"));
    assert_eq!(
        f.parent_network.as_ref().and_then(|p| p.name.as_deref()),
        Some("apps")
    );
    let e = vapp
        .add_network(&VAppNetwork::bridged("x", "no-such-network").expect("spec"))
        .wait()
        .await
        .expect_err("unknown parent");
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("no-such-network"), "{e}");
    // Sent anyway, the server refuses it too.
    let href = vapp.href().await.expect("href");
    let raw = r#"<NetworkConfigSection xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"><ovf:Info>x</ovf:Info><NetworkConfig networkName="default-routed"><Configuration><ParentNetwork name="default-routed"/><FenceMode>bridged</FenceMode></Configuration></NetworkConfig><NetworkConfig networkName="x"><Configuration><ParentNetwork name="no-such-network"/><FenceMode>bridged</FenceMode></Configuration></NetworkConfig></NetworkConfigSection>"#;
    let e = client
        .send(
            nebulair_vcloud::client::ApiRequest::put(format!("{href}/networkConfigSection/")).body(
                "application/vnd.vmware.vcloud.networkConfigSection+xml",
                raw,
            ),
        )
        .await
        .expect_err("server refuses");
    assert_eq!(e.http_status(), Some(400));
    assert!(e.to_string().contains("not an org VDC network"), "{e}");
    sim.shutdown().await;
}

fn find<'a>(nets: &'a [VAppNetworkConfiguration], name: &str) -> &'a VAppNetworkConfiguration {
    nets.iter()
        .find(|n| n.network_name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no vApp network {name}"))
}

#[tokio::test]
async fn vapp_networks_changed_in_place_and_all_removed() {
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
    let vdc = ws.vdc("VDC-Prod");
    let vapp = vdc.vapp("db-tier");

    // An isolated network gets a new subnet and pools; its description is kept.
    let net = VAppNetwork::isolated("backplane", "172.30.0.1/24")
        .and_then(|n| n.pool("172.30.0.10", "172.30.0.20"))
        .expect("spec")
        .description("replication traffic");
    vapp.add_network(&net).wait().await.expect("add");
    let moved = VAppNetwork::isolated("backplane", "172.31.0.1/16")
        .and_then(|n| n.pool("172.31.1.10", "172.31.1.20"))
        .and_then(|n| n.pool("172.31.2.10", "172.31.2.20"))
        .expect("spec");
    vapp.update_network(&moved).wait().await.expect("update");
    let nets = vapp.networks().await.expect("networks");
    let conf = find(&nets, "backplane")
        .configuration
        .as_ref()
        .expect("conf");
    let scope = &conf.ip_scopes.as_ref().expect("scopes").ip_scopes[0];
    assert_eq!(
        (scope.gateway.as_deref(), scope.netmask.as_deref()),
        (Some("172.31.0.1"), Some("255.255.0.0"))
    );
    let pools: Vec<(Option<&str>, Option<&str>)> = scope
        .ip_ranges
        .as_ref()
        .expect("ranges")
        .ip_ranges
        .iter()
        .map(|r| (r.start_address.as_deref(), r.end_address.as_deref()))
        .collect();
    assert_eq!(
        pools,
        [
            (Some("172.31.1.10"), Some("172.31.1.20")),
            (Some("172.31.2.10"), Some("172.31.2.20"))
        ]
    );
    assert_eq!(conf.fence_mode.as_deref(), Some("isolated"));
    assert_eq!(
        find(&nets, "backplane").description.as_deref(),
        Some("replication traffic")
    );

    // A bridged network becomes fenced towards the same org network.
    let org_net = NewOrgNetwork::isolated("apps", "10.70.0.1/24").expect("org net");
    let (_h, task) = vdc.create_network(&org_net).await.expect("org network");
    ws.waiter().wait(&task).await.expect("created");
    vapp.add_network(&VAppNetwork::bridged("apps-net", "apps").expect("spec"))
        .wait()
        .await
        .expect("bridged");
    vapp.update_network(
        &VAppNetwork::fenced("apps-net", "apps")
            .expect("spec")
            .description("fenced copy"),
    )
    .wait()
    .await
    .expect("fence it");
    let nets = vapp.networks().await.expect("networks");
    let conf = find(&nets, "apps-net")
        .configuration
        .as_ref()
        .expect("conf");
    assert_eq!(conf.fence_mode.as_deref(), Some("natRouted"));
    assert_eq!(
        conf.parent_network.as_ref().and_then(|p| p.name.as_deref()),
        Some("apps")
    );
    assert_eq!(
        find(&nets, "apps-net").description.as_deref(),
        Some("fenced copy")
    );

    // Unknown names: nothing is sent.
    let e = vapp
        .update_network(&VAppNetwork::isolated("nope", "10.1.0.1/24").expect("spec"))
        .wait()
        .await
        .expect_err("unknown vApp network");
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = vapp
        .update_network(&VAppNetwork::bridged("apps-net", "no-such").expect("spec"))
        .wait()
        .await
        .expect_err("unknown org network");
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

    // All at once: refused while the VMs' NICs use default-routed, and nothing goes.
    let e = vapp.remove_all_networks().wait().await.expect_err("in use");
    assert!(e.to_string().contains("in use by VM"), "{e}");
    assert_eq!(vapp.networks().await.expect("networks").len(), 3);
    // A vApp whose VMs have no NIC on them loses them all.
    let empty = vdc
        .compose(ComposeParams::new("net-only"))
        .wait()
        .await
        .expect("compose");
    empty
        .add_network(&VAppNetwork::isolated("a", "10.80.0.1/24").expect("spec"))
        .wait()
        .await
        .expect("a");
    empty
        .add_network(&VAppNetwork::bridged("b", "apps").expect("spec"))
        .wait()
        .await
        .expect("b");
    assert!(empty.networks().await.expect("networks").len() >= 2);
    empty
        .remove_all_networks()
        .wait()
        .await
        .expect("remove all");
    assert!(empty.networks().await.expect("networks").is_empty());
    sim.shutdown().await;
}
