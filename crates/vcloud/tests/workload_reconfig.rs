//! VM reconfiguration against the vCD simulator, each change checked by reading the VM
//! again: CPU and cores, memory, disks (add with bus and storage profile, grow, refuse
//! shrinking, remove), NICs (add, modify, remove, unknown network), hot-add flags and
//! their effect on a running VM, guest customization, customize at next power on, media,
//! power and tools state, BUSY_ENTITY between two reconfigurations, bad input.

mod workload_common;

use nebulair_core::ErrorKind;
use nebulair_vcloud::client::ApiRequest;
use nebulair_vcloud::model::vcd::helpers::resource_type;
use nebulair_vcloud::model::vcd::{Document as _, RasdItemsList, VAppStatus, media};
use nebulair_vcloud::workload::reconfig::hot_add_of;
use nebulair_vcloud::workload::{
    AdminPassword, BusType, DiskSpec, GuestCustomization, IpAllocation, NicSpec, NicUpdate,
    ToolsStatus, WorkloadError,
};
use workload_common::{env, env_with};

fn invalid_what(err: &nebulair_core::Error) -> Option<&'static str> {
    match WorkloadError::of(err) {
        Some(WorkloadError::InvalidValue { what, .. }) => Some(what),
        _ => None,
    }
}

#[tokio::test]
async fn cpu_memory_and_bad_values() {
    let e = env().await;
    let vm = e.ws.vapp("Web-Tier").vm("WEB-01");
    vm.set_cpu(4, 2).wait().await.expect("cpu");
    let doc = vm.get().await.expect("vm");
    assert_eq!(doc.cpu_count(), Some(4));
    assert_eq!(
        doc.virtual_hardware_section()
            .and_then(|h| h.cores_per_socket()),
        Some(2)
    );
    vm.set_memory_mb(3072).wait().await.expect("memory");
    let doc = vm.get().await.expect("vm");
    assert_eq!(doc.memory_mb(), Some(3072));
    // The CPU item's vmw:CoresPerSocket (outside the RASD schema) survived.
    assert_eq!(
        doc.virtual_hardware_section()
            .and_then(|h| h.cores_per_socket()),
        Some(2)
    );

    // Bad input: typed errors, nothing sent.
    let err = vm
        .set_memory_mb(1001)
        .await
        .expect_err("not a multiple of 4");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(invalid_what(&err), Some("memory"));
    let err = vm.set_cpu(-2, 1).await.expect_err("negative");
    assert_eq!(invalid_what(&err), Some("cpu count"));
    let err = vm.set_cpu(0, 1).await.expect_err("zero");
    assert_eq!(invalid_what(&err), Some("cpu count"));
    let err = vm.set_cpu(6, 4).await.expect_err("cores do not divide");
    assert_eq!(invalid_what(&err), Some("cores per socket"));
    let doc = vm.get().await.expect("vm");
    assert_eq!((doc.cpu_count(), doc.memory_mb()), (Some(4), Some(3072)));

    // The simulator refuses a bad memory size itself, with vCD's codes.
    let href = vm.href().await.expect("href");
    let item = String::from(
        "<Item xmlns=\"http://www.vmware.com/vcloud/v1.5\" xmlns:rasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData\"><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>1001</rasd:VirtualQuantity></Item>",
    );
    let err =
        e.ws.submit_task(
            ApiRequest::put(format!("{href}/virtualHardwareSection/memory"))
                .body(media::RASD_ITEM, item),
        )
        .await
        .expect_err("server refuses");
    let svc = err.service().expect("vCD error");
    assert_eq!(svc.code(), 400);
    assert_eq!(svc.code_name(), Some("BAD_REQUEST"));
    assert!(svc.message().contains("multiple of 4"), "{err}");

    // An unknown VM name.
    let err =
        e.ws.vm("no-such-vm")
            .set_cpu(2, 1)
            .await
            .expect_err("unknown");
    assert!(err.is_not_found(), "{err}");
    e.sim.shutdown().await;
}

#[tokio::test]
async fn disks_add_grow_refuse_shrink_remove() {
    let e = env().await;
    let vm = e.ws.vapp("Web-Tier").vm("WEB-01");
    let before = vm.get().await.expect("vm").disks();
    vm.add_disk(DiskSpec::new(2048).bus(BusType::Sata).storage_profile("*"))
        .wait()
        .await
        .expect("add");
    let disks = vm.get().await.expect("vm").disks();
    assert_eq!(disks.len(), before.len() + 1);
    let new = disks
        .iter()
        .find(|d| !before.iter().any(|b| b.instance_id == d.instance_id))
        .expect("new disk");
    assert_eq!(new.size_mb, Some(2048));
    assert_eq!(new.bus_type.as_deref(), Some("20"));
    let id = new.instance_id.expect("instance id");

    vm.resize_disk(id, 4096).wait().await.expect("grow");
    let disks = vm.get().await.expect("vm").disks();
    assert_eq!(
        disks
            .iter()
            .find(|d| d.instance_id == Some(id))
            .and_then(|d| d.size_mb),
        Some(4096)
    );
    let err = vm.resize_disk(id, 1024).await.expect_err("shrink");
    assert_eq!(invalid_what(&err), Some("disk size"));

    // The simulator refuses shrinking too, as vCD does.
    let href = vm.href().await.expect("href");
    let mut list: RasdItemsList =
        e.ws.get_document(&format!("{href}/virtualHardwareSection/disks"))
            .await
            .expect("disks");
    for i in list
        .items
        .iter_mut()
        .filter(|i| i.resource_type_code() == Some(resource_type::DISK))
    {
        for a in &mut i.host_resources[0].attributes {
            if a.name == "capacity" {
                a.value = "1".into();
            }
        }
    }
    let err =
        e.ws.submit_task(
            ApiRequest::put(format!("{href}/virtualHardwareSection/disks"))
                .body(media::RASD_ITEMS_LIST, list.to_xml()),
        )
        .await
        .expect_err("server refuses shrinking");
    assert_eq!(
        err.service().and_then(|s| s.code_name()),
        Some("BAD_REQUEST")
    );
    assert!(err.to_string().contains("cannot shrink"), "{err}");

    // An unknown storage profile name.
    let err = vm
        .add_disk(DiskSpec::new(10).storage_profile("gold"))
        .await
        .expect_err("unknown profile");
    assert!(err.is_not_found(), "{err}");
    // An unknown disk.
    assert!(
        vm.remove_disk(9999)
            .await
            .expect_err("no disk")
            .is_not_found()
    );

    vm.remove_disk(id).wait().await.expect("remove");
    let disks = vm.get().await.expect("vm").disks();
    assert_eq!(disks.len(), before.len());
    assert!(!disks.iter().any(|d| d.instance_id == Some(id)));
    e.sim.shutdown().await;
}

#[tokio::test]
async fn nics_add_modify_remove_and_unknown_network() {
    let e = env().await;
    let vm = e.ws.vapp("Web-Tier").vm("WEB-01");
    let ip: std::net::IpAddr = "192.168.109.42".parse().expect("ip");
    vm.add_nic(NicSpec::new("default-routed", IpAllocation::Manual(ip)).primary())
        .wait()
        .await
        .expect("add");
    let doc = vm.get().await.expect("vm");
    let sec = doc.network_connection_section().expect("section");
    let nic = sec
        .network_connections
        .iter()
        .find(|c| c.ip_address.as_deref() == Some("192.168.109.42"))
        .expect("new nic");
    let index = nic.network_connection_index.expect("index");
    assert_eq!(nic.ip_address_allocation_mode.as_deref(), Some("MANUAL"));
    assert_eq!(sec.primary_network_connection_index, Some(index));
    assert_eq!(doc.network_connections().len(), 2);

    vm.modify_nic(
        index,
        NicUpdate {
            ip: Some(IpAllocation::Dhcp),
            connected: Some(false),
            ..NicUpdate::default()
        },
    )
    .wait()
    .await
    .expect("modify");
    let doc = vm.get().await.expect("vm");
    let nic = doc
        .network_connections()
        .iter()
        .find(|c| c.network_connection_index == Some(index))
        .expect("nic");
    assert_eq!(nic.ip_address_allocation_mode.as_deref(), Some("DHCP"));
    assert_eq!(nic.is_connected, Some(false));
    assert_eq!(nic.ip_address, None);

    // A network the vApp does not have: vCD's BAD_REQUEST.
    let err = vm
        .add_nic(NicSpec::new("nope", IpAllocation::Pool))
        .await
        .expect_err("unknown network");
    assert_eq!(
        err.service().and_then(|s| s.code_name()),
        Some("BAD_REQUEST")
    );
    assert!(err.to_string().contains("nope"), "{err}");

    vm.remove_nic(index).wait().await.expect("remove");
    let doc = vm.get().await.expect("vm");
    assert_eq!(doc.network_connections().len(), 1);
    assert!(vm.remove_nic(index).await.expect_err("gone").is_not_found());
    e.sim.shutdown().await;
}

#[tokio::test]
async fn hot_add_on_a_running_vm() {
    let e = env().await;
    // web-01 runs with memory hot add on and CPU hot add off.
    let vm = e.ws.vapp("web-tier").vm("web-01");
    let doc = vm.get().await.expect("vm");
    assert_eq!(
        vm.power_state().await.expect("power"),
        VAppStatus::PoweredOn
    );
    assert_eq!(hot_add_of(&doc), (false, true));
    assert!(matches!(
        vm.tools_status().await.expect("tools"),
        ToolsStatus::Running { .. }
    ));
    let cpus = doc.cpu_count().expect("cpus");
    let mem = doc.memory_mb().expect("mem");
    let err = vm.set_cpu(cpus * 2, 1).await.expect_err("no CPU hot add");
    assert_eq!(
        err.service().and_then(|s| s.code_name()),
        Some("BAD_REQUEST")
    );
    assert!(err.to_string().contains("hot add"), "{err}");
    vm.set_memory_mb(mem + 512)
        .wait()
        .await
        .expect("memory hot add");
    assert_eq!(vm.get().await.expect("vm").memory_mb(), Some(mem + 512));
    // Changing the flags needs a powered-off VM.
    let err = vm.set_hot_add(Some(true), None).await.expect_err("running");
    assert!(err.to_string().contains("powered off"), "{err}");

    vm.power_off().wait().await.expect("off");
    assert!(matches!(
        vm.tools_status().await.expect("tools"),
        ToolsStatus::NotRunning { .. }
    ));
    vm.set_hot_add(Some(true), Some(false))
        .wait()
        .await
        .expect("flags");
    assert_eq!(hot_add_of(&vm.get().await.expect("vm")), (true, false));
    vm.power_on().wait().await.expect("on");
    vm.set_cpu(cpus + 2, 1).wait().await.expect("cpu hot add");
    assert_eq!(vm.get().await.expect("vm").cpu_count(), Some(cpus + 2));
    e.sim.shutdown().await;
}

#[tokio::test]
async fn customization_media_and_busy_entity() {
    let e = env_with("36.0", 200).await;
    let vm = e.ws.vapp("Web-Tier").vm("WEB-01");
    vm.set_guest_customization(GuestCustomization {
        computer_name: Some("web-renamed".into()),
        admin_password: Some(AdminPassword::set("Sup3r-secret")),
        auto_logon_count: Some(3),
        script: Some("#!/bin/sh\necho hi".into()),
        ..GuestCustomization::default()
    })
    .wait()
    .await
    .expect("customize");
    let doc = vm.get().await.expect("vm");
    let g = doc.guest_customization_section().expect("section");
    assert_eq!(g.computer_name.as_deref(), Some("web-renamed"));
    assert_eq!(g.admin_password_enabled, Some(true));
    assert_eq!(g.admin_password_auto, Some(false));
    assert_eq!(g.admin_auto_logon_enabled, Some(true));
    assert_eq!(g.admin_auto_logon_count, Some(3));
    assert_eq!(
        g.customization_script.as_deref(),
        Some("#!/bin/sh\necho hi")
    );
    let err = vm
        .set_guest_customization(GuestCustomization {
            computer_name: Some("not valid!".into()),
            ..GuestCustomization::default()
        })
        .await
        .expect_err("bad name");
    assert_eq!(invalid_what(&err), Some("computer name"));

    vm.customize_at_next_power_on()
        .await
        .expect("customize next");
    assert_eq!(vm.get().await.expect("vm").needs_customization, Some(true));

    // Media: insert, re-read the CD drive, eject.
    let item =
        e.ws.catalog("Public")
            .item("ubuntu-22.04.iso")
            .get()
            .await
            .expect("item");
    let media_href = item.entity.and_then(|r| r.href).expect("media href");
    vm.insert_media(media_href.clone())
        .wait()
        .await
        .expect("insert");
    let cd = |doc: &nebulair_vcloud::model::vcd::Vm| {
        doc.virtual_hardware_section()
            .and_then(|h| h.items_of(resource_type::CD_DRIVE).next().cloned())
            .and_then(|i| i.host_resources.first().map(|h| h.value.clone()))
            .unwrap_or_default()
    };
    assert_eq!(cd(&vm.get().await.expect("vm")), "ubuntu-22.04.iso");
    vm.eject_media(media_href).wait().await.expect("eject");
    assert_eq!(cd(&vm.get().await.expect("vm")), "");

    // Two reconfigurations at once: the second meets BUSY_ENTITY and is retried.
    let t1 = vm.set_memory_mb(1024).await.expect("first sent");
    let t2 = vm
        .set_cpu(2, 2)
        .await
        .expect("second sent after busy retries");
    e.ws.waiter().wait(&t1).await.expect("t1");
    e.ws.waiter().wait(&t2).await.expect("t2");
    let doc = vm.get().await.expect("vm");
    assert_eq!((doc.cpu_count(), doc.memory_mb()), (Some(2), Some(1024)));
    e.sim.shutdown().await;
}

#[tokio::test]
async fn typed_metadata_with_domains_and_visibility() {
    use nebulair_vcloud::model::vcd::MetadataTypedValue as V;
    use nebulair_vcloud::workload::{MetadataDomain, MetadataVisibility};
    let e = env().await;
    let vm = e.ws.vapp("Web-Tier").vm("WEB-01");
    vm.set_metadata_with(
        "built",
        V::DateTime("2026-12-02T10:00:00Z".into()),
        MetadataDomain::General,
        MetadataVisibility::ReadOnly,
    )
    .wait()
    .await
    .expect("date");
    vm.set_metadata("replicas", V::Number(3))
        .wait()
        .await
        .expect("number");
    vm.set_metadata("prod", V::Boolean(true))
        .wait()
        .await
        .expect("bool");
    let md = vm.metadata().await.expect("metadata");
    assert_eq!(
        md.get("built").expect("typed"),
        Some(V::DateTime("2026-12-02T10:00:00Z".into()))
    );
    assert_eq!(md.get("replicas").expect("typed"), Some(V::Number(3)));
    assert_eq!(md.get("prod").expect("typed"), Some(V::Boolean(true)));
    let built = md
        .metadata_entries
        .iter()
        .find(|m| m.key.as_deref() == Some("built"))
        .expect("entry");
    assert_eq!(built.domain_name(), Some("GENERAL"));
    assert_eq!(
        built.domain.as_ref().and_then(|d| d.attr("visibility")),
        Some("READONLY")
    );
    // SYSTEM with READWRITE visibility: vCD's BAD_REQUEST.
    let err = vm
        .set_metadata_with(
            "sys",
            V::String("x".into()),
            MetadataDomain::System,
            MetadataVisibility::ReadWrite,
        )
        .await
        .expect_err("refused");
    assert_eq!(
        err.service().and_then(|s| s.code_name()),
        Some("BAD_REQUEST")
    );
    assert_eq!(vm.metadata_value("sys").await.ok().flatten(), None);
    e.sim.shutdown().await;
}
