//! `Compute` for `OneClient` against the OpenNebula simulator on loopback: list, get and
//! every power verb, with the neutral state mapping.

use std::time::Duration;

use nebulair_core::compute::{Compute, VmPowerState};
use nebulair_opennebula::ids::TemplateId;
use nebulair_opennebula::{Credentials, ErrorKind, OneClient, Template};
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

/// Lets the simulator's scheduler and drivers move the VM until `want` (or fails).
async fn wait_for(sim: &OneSimHandle, compute: &dyn Compute, id: &str, want: VmPowerState) {
    for _ in 0..200 {
        sim.run_scheduler();
        if compute.get_vm(id).await.expect("get_vm").state == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let last = compute.get_vm(id).await.expect("get_vm");
    panic!(
        "VM {id} never reached {want}: {} ({})",
        last.state, last.provider_state
    );
}

#[tokio::test]
async fn compute_drives_a_vm_through_its_life() {
    let (sim, client) = start().await;
    let extra = Template::new().with("MEMORY", 256);
    let vm_id = client
        .template(TemplateId::new(0))
        .instantiate("compute-vm", false, &extra, false)
        .await
        .expect("instantiate");
    let id = vm_id.to_string();
    let compute: &dyn Compute = &client;
    assert_eq!(compute.provider(), "opennebula");

    let listed = compute.list_vms().await.expect("list");
    let mine = listed.iter().find(|v| v.id == id).expect("new VM listed");
    assert_eq!(mine.name, "compute-vm");
    assert_eq!(mine.memory_mb, Some(256));

    wait_for(&sim, compute, &id, VmPowerState::Running).await;
    let running = compute.get_vm(&id).await.expect("get");
    assert_eq!(running.provider_state, "ACTIVE/RUNNING");
    assert!(
        !running.ips.is_empty(),
        "the template's NIC gives an address"
    );

    compute.stop_vm(&id).await.expect("poweroff");
    wait_for(&sim, compute, &id, VmPowerState::Stopped).await;
    assert_eq!(
        compute.get_vm(&id).await.expect("get").provider_state,
        "POWEROFF"
    );

    compute.start_vm(&id).await.expect("resume");
    wait_for(&sim, compute, &id, VmPowerState::Running).await;

    compute.reboot_vm(&id).await.expect("reboot");
    wait_for(&sim, compute, &id, VmPowerState::Running).await;

    compute.delete_vm(&id).await.expect("terminate");
    for _ in 0..200 {
        sim.run_scheduler();
        if !compute
            .list_vms()
            .await
            .expect("list")
            .iter()
            .any(|v| v.id == id)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        !compute
            .list_vms()
            .await
            .expect("list")
            .iter()
            .any(|v| v.id == id),
        "a terminated VM leaves the default pool listing"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn compute_reports_typed_errors() {
    let (sim, client) = start().await;
    let compute: &dyn Compute = &client;
    let e = compute.get_vm("99999").await.expect_err("no such VM");
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = compute.stop_vm("not-an-id").await.expect_err("bad id");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    sim.shutdown().await;
}
