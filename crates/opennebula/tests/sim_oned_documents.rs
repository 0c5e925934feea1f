//! `OneClient` against the simulator: documents filled as oned 7.5 fills them (IPv6
//! address ranges, the allocator's NEXT_INDEX, the default VDC, oneadmin's quota usage,
//! disk snapshots left after a delete), each read back after the change.

use std::time::Duration;

use nebulair_opennebula::api::VmAction;
use nebulair_opennebula::ids::{GroupId, TemplateId, UserId, VdcId, VnetId};
use nebulair_opennebula::{Credentials, OneClient, Template};
use nebulair_sim::one::{OneSimHandle, OneSimulator};

async fn start() -> (OneSimHandle, OneClient) {
    let sim = OneSimulator::builder().start().await.expect("simulator");
    let client = OneClient::builder()
        .endpoint(sim.url().to_owned())
        .credentials(Credentials::password("oneadmin", "opennebula"))
        .build()
        .expect("client");
    (sim, client)
}

#[tokio::test]
async fn ipv6_ranges_carry_their_addresses_and_next_index_follows_leases() {
    let (sim, c) = start().await;
    let net = c.vnet(VnetId::new(0));
    let ar = net
        .add_ar(
            &Template::parse(
                "AR = [ TYPE = \"IP6\", SIZE = \"5\", MAC = \"02:00:d5:77:a5:e6\", GLOBAL_PREFIX = \"2001:db8::\", ULA_PREFIX = \"fd00::\" ]",
            )
            .expect("template"),
        )
        .await
        .expect("add_ar");
    assert_eq!(ar, 0, "the network's id");
    let v = net.info().await.expect("vnet");
    let ars = v.ar_pool.expect("AR_POOL").ar;
    let six = ars
        .iter()
        .find(|a| a.r#type.as_deref() == Some("IP6"))
        .expect("IP6 AR");
    // oned's EUI-64 from the MAC (recorded 047)
    assert_eq!(six.ip6_ula.as_deref(), Some("fd00::d5ff:fe77:a5e6"));
    assert_eq!(six.ip6_ula_end.as_deref(), Some("fd00::d5ff:fe77:a5ea"));
    assert_eq!(six.ip6_global.as_deref(), Some("2001:db8::d5ff:fe77:a5e6"));
    assert_eq!(
        six.ip6_global_end.as_deref(),
        Some("2001:db8::d5ff:fe77:a5ea")
    );

    // a VM's lease moves the allocator on
    let vm = c
        .template(TemplateId::new(0))
        .instantiate("leaser", false, &Template::new(), false)
        .await
        .expect("instantiate");
    sim.run_scheduler();
    let v = net.info().await.expect("vnet");
    let first = v
        .ar_pool
        .expect("AR_POOL")
        .ar
        .into_iter()
        .next()
        .expect("AR 0");
    assert_eq!(first.next_index, Some(1));
    c.vm(vm)
        .action(VmAction::TerminateHard)
        .await
        .expect("terminate");
    sim.shutdown().await;
}

#[tokio::test]
async fn default_vdc_and_oneadmin_quotas_are_oned_s() {
    let (sim, c) = start().await;
    let vdc = c.vdc(VdcId::new(0)).info().await.expect("default VDC");
    let clusters = vdc.clusters.expect("CLUSTERS").cluster;
    assert_eq!(clusters.len(), 1);
    assert_eq!(
        (clusters[0].zone_id, clusters[0].cluster_id),
        (Some(0), Some(-10))
    );
    assert!(vdc.hosts.is_none_or(|h| h.host.is_empty()));
    assert!(vdc.datastores.is_none_or(|d| d.datastore.is_empty()));
    assert!(vdc.vnets.is_none_or(|n| n.vnet.is_empty()));

    let vm = c
        .template(TemplateId::new(0))
        .instantiate("admin-vm", false, &Template::new(), false)
        .await
        .expect("instantiate");
    sim.run_scheduler();
    let admin = c.user(UserId::new(0)).info().await.expect("oneadmin");
    assert!(admin.vm_quota.is_none_or(|q| q.vm.is_empty()));
    let group = c
        .group(GroupId::new(0))
        .info()
        .await
        .expect("oneadmin group");
    assert!(group.vm_quota.is_none_or(|q| q.vm.is_empty()));
    c.vm(vm)
        .action(VmAction::TerminateHard)
        .await
        .expect("terminate");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_running_vm_deletes_its_active_leaf_snapshot_and_keeps_snapshots() {
    let (sim, c) = start().await;
    let vm = c
        .template(TemplateId::new(0))
        .instantiate("snap", false, &Template::new(), false)
        .await
        .expect("instantiate");
    let running = || async {
        for _ in 0..4000 {
            sim.run_scheduler();
            if c.vm(vm).info().await.expect("vm").lcm_state == Some(3) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("not RUNNING");
    };
    running().await;
    let s0 = c.vm(vm).disksnapshotcreate(0, "s").await.expect("create");
    running().await;
    // the new snapshot is the active one, a leaf: oned deletes it (recorded-sweep 342)
    c.vm(vm).disksnapshotdelete(0, s0).await.expect("delete");
    running().await;
    let info = c.vm(vm).info().await.expect("vm");
    let disk = info.snapshots.first().expect("SNAPSHOTS stay for the disk");
    assert_eq!(disk.next_snapshot, Some(1));
    assert!(disk.snapshot.is_empty());
    c.vm(vm)
        .action(VmAction::TerminateHard)
        .await
        .expect("terminate");
    sim.shutdown().await;
}
