//! The go-vcloud-director `VApp`/`VM` calls added as thin calls on routes the simulator
//! already serves: parents (`GetParentVDC`, `GetParentVApp`, `GetParentVdc`), whole
//! sections (`GetVirtualHardwareSection`, `Get/UpdateNetworkConnectionSection`,
//! `Get/SetGuestCustomizationSection`), `BlockWhileStatus` and
//! `WaitForDhcpIpByNicIndexes`; each checked by reading the state again.

mod workload_common;

use std::time::Duration;

use nebulair_core::ErrorKind;
use nebulair_vcloud::model::vcd::MetadataTypedValue;
use nebulair_vcloud::model::vcd::VAppStatus;
use nebulair_vcloud::workload::{
    IpAllocation, MetadataDomain, MetadataVisibility, NicSpec, NicUpdate, WorkloadError,
};
use workload_common::env;

#[tokio::test]
async fn parents_of_vms_and_vapps() {
    let e = env().await;
    let vm = e.ws.vm("db-01");
    let vapp = vm.vapp().await.expect("parent vApp");
    assert_eq!(
        vapp.get().await.expect("vapp").name.as_deref(),
        Some("db-tier")
    );
    let vdc = vapp.vdc().await.expect("parent vDC");
    assert_eq!(
        vdc.get().await.expect("vdc").name.as_deref(),
        Some("VDC-Prod")
    );
    let vdc = vm.vdc().await.expect("VM's vDC");
    assert_eq!(
        vdc.get().await.expect("vdc").name.as_deref(),
        Some("VDC-Prod")
    );
    // The vDC handle works like any other: it lists the vApp.
    let names: Vec<String> = vdc
        .vapps()
        .await
        .expect("vapps")
        .iter()
        .filter_map(|v| v.name())
        .collect();
    assert!(names.contains(&"db-tier".to_owned()), "{names:?}");
    // An unknown VM: the lookup error, not a parent.
    let err = e.ws.vm("no-such-vm").vapp().await.expect_err("unknown");
    assert!(err.is_not_found(), "{err}");
    e.sim.shutdown().await;
}

#[tokio::test]
async fn whole_sections_read_and_written() {
    let e = env().await;
    let vm = e.ws.vapp("Web-Tier").vm("WEB-01");
    let hw = vm.virtual_hardware_section().await.expect("hardware");
    assert_eq!(hw.cpu_count(), Some(2));
    assert_eq!(hw.memory_mb(), Some(2048));
    assert_eq!(hw.disks().len(), 1);

    // The network connection section, changed as a whole: a manual address on NIC 0.
    let mut sec = vm.network_connection_section().await.expect("nics");
    assert_eq!(sec.network_connections.len(), 1);
    sec.network_connections[0].ip_address_allocation_mode = Some("MANUAL".into());
    sec.network_connections[0].ip_address = Some("192.168.109.250".into());
    vm.set_network_connection_section(sec.clone())
        .wait()
        .await
        .expect("update nics");
    let again = vm.network_connection_section().await.expect("nics again");
    let nic = &again.network_connections[0];
    assert_eq!(nic.ip_address_allocation_mode.as_deref(), Some("MANUAL"));
    assert_eq!(nic.ip_address.as_deref(), Some("192.168.109.250"));
    assert_eq!(
        vm.get().await.expect("vm").network_connections()[0]
            .ip_address
            .as_deref(),
        Some("192.168.109.250")
    );
    // A primary index that names no NIC: typed, nothing sent.
    let requests = e.sim.request_count();
    sec.primary_network_connection_index = Some(9);
    let err = vm
        .set_network_connection_section(sec)
        .wait()
        .await
        .expect_err("bad primary");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(matches!(
        WorkloadError::of(&err),
        Some(WorkloadError::InvalidValue { .. })
    ));
    assert_eq!(e.sim.request_count(), requests, "nothing was sent");

    // The guest customization section as a whole.
    let mut g = vm
        .guest_customization_section()
        .await
        .expect("customization");
    assert_eq!(g.computer_name.as_deref(), Some("WEB-01"));
    g.computer_name = Some("web-zero-one".into());
    g.customization_script = Some("echo hello".into());
    vm.set_guest_customization_section(g.clone())
        .wait()
        .await
        .expect("set customization");
    let again = vm.guest_customization_section().await.expect("again");
    assert_eq!(again.computer_name.as_deref(), Some("web-zero-one"));
    assert_eq!(again.customization_script.as_deref(), Some("echo hello"));
    g.computer_name = Some("not a host name".into());
    let err = vm
        .set_guest_customization_section(g)
        .wait()
        .await
        .expect_err("bad computer name");
    assert!(err.to_string().contains("computer name"), "{err}");
    assert_eq!(
        vm.guest_customization_section()
            .await
            .expect("unchanged")
            .computer_name
            .as_deref(),
        Some("web-zero-one")
    );
    e.sim.shutdown().await;
}

#[tokio::test]
async fn wait_while_status_blocks_until_the_status_changes() {
    let e = env().await;
    let vapp = e.ws.vdc("VDC-Prod").vapp("web-tier");
    // Sent, not waited for: the vApp is still on until the task ends.
    let task = vapp.power_off().await.expect("power off sent");
    assert!(!task.status.is_terminal());
    let reached = vapp
        .wait_while_status(
            VAppStatus::PoweredOn,
            Duration::from_secs(10),
            Duration::from_millis(10),
        )
        .await
        .expect("changed");
    assert_eq!(reached, VAppStatus::PoweredOff);
    assert_eq!(e.sim.vm_power_state("web-01"), Some("POWERED_OFF"));
    // A status that does not change: a timeout naming it.
    let vm = vapp.vm("web-01");
    let err = vm
        .wait_while_status(
            VAppStatus::PoweredOff,
            Duration::from_millis(60),
            Duration::from_millis(10),
        )
        .await
        .expect_err("stays off");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.to_string().contains("POWERED_OFF"), "{err}");
    e.sim.shutdown().await;
}

#[tokio::test]
async fn wait_for_ip_addresses_until_every_nic_has_one() {
    let e = env().await;
    let vm = e.ws.vapp("Web-Tier").vm("WEB-01");
    let poll = Duration::from_millis(10);
    // NIC 0 has a pool address already.
    let ips = vm
        .wait_for_ip_addresses(&[0], Duration::from_secs(5), poll)
        .await
        .expect("pool address");
    assert_eq!(ips.len(), 1);
    assert!(ips[0].starts_with("192.168.109."), "{ips:?}");
    // A DHCP NIC without a lease: a timeout naming it.
    vm.add_nic(NicSpec::new("default-routed", IpAllocation::Dhcp))
        .wait()
        .await
        .expect("dhcp nic");
    let err = vm
        .wait_for_ip_addresses(&[0, 1], Duration::from_millis(80), poll)
        .await
        .expect_err("no lease");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.to_string().contains("[1]"), "{err}");
    // It gets an address while we wait (here: switched to the pool by another call).
    let other = vm.clone();
    let switch = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        other
            .modify_nic(
                1,
                NicUpdate {
                    ip: Some(IpAllocation::Pool),
                    ..NicUpdate::default()
                },
            )
            .wait()
            .await
    });
    let ips = vm
        .wait_for_ip_addresses(&[1, 0], Duration::from_secs(10), poll)
        .await
        .expect("both addresses");
    switch.await.expect("join").expect("switched");
    assert_eq!(ips.len(), 2);
    assert_ne!(ips[0], ips[1]);
    // An index the VM has no NIC for.
    let err = vm
        .wait_for_ip_addresses(&[7], Duration::from_secs(1), poll)
        .await
        .expect_err("no NIC 7");
    assert!(err.is_not_found(), "{err}");
    e.sim.shutdown().await;
}

#[tokio::test]
async fn several_metadata_entries_in_one_task() {
    let e = env().await;
    let vapp = e.ws.vdc("VDC-Prod").vapp("db-tier");
    vapp.set_metadata("keep", MetadataTypedValue::String("old".into()))
        .wait()
        .await
        .expect("one");
    let tasks = e.sim.task_count();
    vapp.set_metadata_entries(
        &[
            ("env", MetadataTypedValue::String("prod".into())),
            ("replicas", MetadataTypedValue::Number(3)),
            ("critical", MetadataTypedValue::Boolean(true)),
        ],
        MetadataDomain::General,
        MetadataVisibility::ReadWrite,
    )
    .wait()
    .await
    .expect("merge");
    assert_eq!(e.sim.task_count(), tasks + 1, "one task for every entry");
    let m = vapp.metadata().await.expect("metadata");
    assert_eq!(m.metadata_entries.len(), 4, "merged with the entry it had");
    assert_eq!(
        m.get("replicas").expect("typed"),
        Some(MetadataTypedValue::Number(3))
    );
    assert_eq!(
        m.get("critical").expect("typed"),
        Some(MetadataTypedValue::Boolean(true))
    );
    assert_eq!(
        m.get("keep").expect("typed"),
        Some(MetadataTypedValue::String("old".into()))
    );
    // Bad input: nothing sent.
    let requests = e.sim.request_count();
    for bad in [
        vec![],
        vec![("", MetadataTypedValue::Number(1))],
        vec![
            ("a", MetadataTypedValue::Number(1)),
            ("a", MetadataTypedValue::Number(2)),
        ],
    ] {
        let err = vapp
            .set_metadata_entries(&bad, MetadataDomain::General, MetadataVisibility::ReadWrite)
            .wait()
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert_eq!(e.sim.request_count(), requests);
    e.sim.shutdown().await;
}
