//! `Compute` for `OneClient` against the OpenNebula simulator on loopback: list, get and
//! every power verb, with the neutral state mapping.

use std::time::Duration;

use nebulair_core::compute::{Compute, VmPowerState, VmSpec, WaitSpec};
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

#[tokio::test]
async fn compute_creates_a_vm_from_a_named_template_and_waits_for_it() {
    let (sim, client) = start().await;
    let compute: &dyn Compute = &client;
    // The seeded template 0, by its name, as a user of the trait would name it.
    let template = client
        .template(TemplateId::new(0))
        .info()
        .await
        .expect("template 0");
    let template_name = template.name.clone().expect("named");

    let spec = VmSpec::new("created-by-compute", &template_name)
        .cpu(0.5)
        .memory_mb(384);
    let created = compute.create_vm(&spec).await.expect("create_vm");
    assert_eq!(created.provider, "opennebula");
    assert_eq!(created.name, "created-by-compute");
    assert_eq!(created.cpu, Some(0.5));
    assert_eq!(created.memory_mb, Some(384));

    // Re-read over XML-RPC: the overrides reached oned's document.
    let vm = client
        .vm(created.id.parse::<i32>().expect("numeric id"))
        .info()
        .await
        .expect("vm.info");
    assert_eq!(vm.template.get_str("CPU"), Some("0.5"));
    assert_eq!(vm.template.get_str("VCPU"), Some("1"));
    assert_eq!(vm.template.get_str("MEMORY"), Some("384"));
    assert_eq!(vm.template.get_str("TEMPLATE_ID"), Some("0"));

    let running = compute
        .wait_until_running(
            &created.id,
            WaitSpec::timeout(Duration::from_secs(20)).interval(Duration::from_millis(20)),
        )
        .await
        .expect("running");
    assert_eq!(running.provider_state, "ACTIVE/RUNNING");

    // By id, on hold: it stays PENDING (HOLD) and a short wait times out, naming the state.
    let held = compute
        .create_vm(&VmSpec::new("held", "0").power_on(false))
        .await
        .expect("create on hold");
    assert_eq!(held.provider_state, "HOLD");
    let e = compute
        .wait_until_running(
            &held.id,
            WaitSpec::timeout(Duration::from_millis(200)).interval(Duration::from_millis(20)),
        )
        .await
        .expect_err("held VMs do not run");
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(e.to_string().contains("HOLD"), "{e}");
    sim.shutdown().await;
}

#[tokio::test]
async fn compute_create_refuses_bad_specs_before_sending() {
    let (sim, client) = start().await;
    let compute: &dyn Compute = &client;
    let before = compute.list_vms().await.expect("list").len();
    let e = compute
        .create_vm(&VmSpec::new("x", "no-such-template"))
        .await
        .expect_err("unknown template");
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.to_string().contains("no-such-template"), "{e}");
    let e = compute
        .create_vm(&VmSpec::new("x", "0").cpu(-2.0))
        .await
        .expect_err("negative CPU");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = compute
        .create_vm(&VmSpec::new(" ", "0"))
        .await
        .expect_err("blank name");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(compute.list_vms().await.expect("list").len(), before);
    sim.shutdown().await;
}
