//! `OneClient` against the simulator: a monitored host as oned's dummy drivers report it
//! (PCI devices, NUMA nodes, the probe's TEMPLATE keys, NUMA monitoring), and PCI
//! passthrough checked against the host's devices as oned does. Each test re-reads the
//! state afterwards.

use std::time::Duration;

use nebulair_opennebula::api::VmAction;
use nebulair_opennebula::ids::{HostId, TemplateId, VmId};
use nebulair_opennebula::{Credentials, ErrorKind, OneClient, OneErrorCode, Template};
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

fn tpl(text: &str) -> Template {
    Template::parse(text).expect("template")
}

/// A VM of template 0, powered off on its host.
async fn powered_off_vm(sim: &OneSimHandle, c: &OneClient) -> VmId {
    let id = c
        .template(TemplateId::new(0))
        .instantiate("pci-vm", false, &Template::new(), false)
        .await
        .expect("instantiate");
    let vm = id;
    wait_state(sim, c, vm, 3, Some(3)).await;
    c.vm(vm).action(VmAction::Poweroff).await.expect("poweroff");
    wait_state(sim, c, vm, 8, None).await;
    vm
}

async fn wait_state(sim: &OneSimHandle, c: &OneClient, vm: VmId, state: i64, lcm: Option<i64>) {
    for _ in 0..4000 {
        sim.run_scheduler();
        let info = c.vm(vm).info().await.expect("info");
        if info.state == Some(state) && (lcm.is_none() || info.lcm_state == lcm) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("VM {vm:?} never reached state {state}/{lcm:?}");
}

#[tokio::test]
async fn monitored_host_reports_the_dummy_probe() {
    let (sim, c) = start().await;
    let host = c.host(HostId::new(0)).info().await.expect("host");
    let share = host.host_share.expect("HOST_SHARE");
    let pci = share.pci_devices.expect("PCI_DEVICES").pci;
    assert_eq!(pci.len(), 22);
    assert_eq!(pci[0].short_address.as_deref(), Some("02:00.0"));
    let numa = share.numa_nodes.expect("NUMA_NODES").node;
    assert_eq!(numa.len(), 2);
    assert_eq!(numa[0].core.len(), 8);
    assert_eq!(numa[1].hugepage.len(), 2);
    assert_eq!(host.template.get_str("HYPERVISOR"), Some("dummy"));
    assert_eq!(host.template.get_str("TOTALCPU"), Some("800"));
    assert_eq!(host.template.get_str("HOSTNAME"), host.name.as_deref());
    let raw = c
        .host(HostId::new(0))
        .info_raw()
        .await
        .expect("raw")
        .into_string();
    assert_eq!(raw.matches("<NUMA_NODE><HUGEPAGE>").count(), 2, "{raw}");
    // the pool's hosts carry no monitoring record, as oned's
    let pool = c.hosts().info_raw().await.expect("pool").into_string();
    assert!(pool.contains("<MONITORING/>"), "{pool}");
    assert!(!pool.contains("<CAPACITY>"), "{pool}");
    sim.shutdown().await;
}

#[tokio::test]
async fn pci_attach_takes_a_free_host_device() {
    let (sim, c) = start().await;
    let vm = powered_off_vm(&sim, &c).await;
    let hid = c
        .vm(vm)
        .info()
        .await
        .expect("vm")
        .history_records
        .expect("history")
        .history
        .last()
        .and_then(|h| h.hid)
        .expect("host");
    // the only USB controller 0aa9 of the host
    let usb = "PCI = [ VENDOR = \"1022\", DEVICE = \"0aa9\", CLASS = \"0c03\" ]";
    c.vm(vm).attachpci(&tpl(usb)).await.expect("attachpci");
    let raw = c.vm(vm).info_raw().await.expect("raw").into_string();
    assert!(
        raw.contains("<SHORT_ADDRESS><![CDATA[00:06.1]]></SHORT_ADDRESS>"),
        "{raw}"
    );
    let host = c.host(HostId::new(hid as i32)).info().await.expect("host");
    let dev = host
        .host_share
        .expect("share")
        .pci_devices
        .expect("pci")
        .pci
        .into_iter()
        .find(|p| p.short_address.as_deref() == Some("00:06.1"))
        .expect("device");
    assert_eq!(dev.vmid, Some(i64::from(vm.get())));

    // taken: a second one is refused with oned's text
    let err = c
        .vm(vm)
        .attachpci(&tpl(usb))
        .await
        .expect_err("no free device");
    assert_eq!(OneErrorCode::of(&err), Some(OneErrorCode::Action));
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(
        err.to_string()
            .contains("Cannot assign PCI device in host. Check address and free devices"),
        "{err}"
    );
    // malformed requests
    for (text, msg) in [
        (
            "PCI = [ VENDOR = \"zz\" ]",
            "Wrong Hex value for PCI attribute VENDOR",
        ),
        (
            "PCI = [ NAME = \"x\" ]",
            "SHORT_ADDRESS, DEVICE, VENDOR or CLASS must be defined for PCI.",
        ),
        (
            "PCI = [ SHORT_ADDRESS = \"00:06.0\", VENDOR = \"1b21\" ]",
            "SHORT_ADDRESS cannot be set with DEVICE, VENDOR or CLASS",
        ),
        ("NIC = [ NETWORK_ID = \"0\" ]", "PCI attribute not found"),
    ] {
        let err = c.vm(vm).attachpci(&tpl(text)).await.expect_err(text);
        assert!(err.to_string().contains(msg), "{text}: {err}");
    }

    // detach frees the device
    c.vm(vm).detachpci(0).await.expect("detachpci");
    let host = c.host(HostId::new(hid as i32)).info().await.expect("host");
    let dev = host
        .host_share
        .expect("share")
        .pci_devices
        .expect("pci")
        .pci
        .into_iter()
        .find(|p| p.short_address.as_deref() == Some("00:06.1"))
        .expect("device");
    assert_eq!(dev.vmid, Some(-1));
    let err = c.vm(vm).detachpci(0).await.expect_err("gone");
    assert!(err.to_string().contains("PCI device not found"), "{err}");
    sim.shutdown().await;
}
