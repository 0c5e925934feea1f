//! `VcdCompute` against the vCloud simulator: the same VMs through the multi-cloud
//! `Compute` trait, power actions carried out as vCD Tasks, and a missing id.

use std::sync::Arc;
use std::time::Duration;

use nebulair_core::{
    Compute, Credentials, ErrorKind, HttpConfig, HttpTransport, ProxyConfig, ReqwestTransport,
    VmPowerState, VmSpec, WaitSpec,
};
use nebulair_sim::vcloud::{
    DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator, VcloudSimulatorHandle,
};
use nebulair_vcloud::session::VcdSession;
use nebulair_vcloud::{ApiVersion, VcdCompute};

fn transport() -> Arc<dyn HttpTransport> {
    Arc::new(
        ReqwestTransport::new(&HttpConfig::default().proxy(ProxyConfig::Disabled))
            .expect("transport"),
    )
}

async fn session(sim: &VcloudSimulatorHandle) -> VcdSession {
    let sess = VcdSession::builder(sim.base_url().as_str())
        .org(DEFAULT_ORG)
        .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
        .version(ApiVersion::new("36.0").expect("v"))
        .transport(transport())
        .build()
        .expect("build");
    sess.login().await.expect("login");
    sess
}

#[tokio::test]
async fn vcd_vms_through_the_compute_trait() {
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_millis(50))
        .start()
        .await
        .expect("sim");
    let sess = session(&sim).await;
    let compute: Box<dyn Compute> = Box::new(
        VcdCompute::new(sess.client().expect("client")).poll_interval(Duration::from_millis(20)),
    );
    assert_eq!(compute.provider(), "vcloud");

    let vms = compute.list_vms().await.expect("list");
    assert!(!vms.is_empty());
    assert!(
        vms.iter()
            .all(|v| v.provider == "vcloud" && !v.id.is_empty())
    );

    // Take a running VM through stop and start; the simulator's own state follows.
    let vm = vms
        .iter()
        .find(|v| v.state == VmPowerState::Running)
        .expect("a running VM")
        .clone();
    compute.stop_vm(&vm.id).await.expect("stop");
    assert_eq!(
        compute.get_vm(&vm.id).await.expect("get").state,
        VmPowerState::Stopped
    );
    // Ids are accepted with the `vm-` prefix too.
    compute
        .start_vm(&format!("vm-{}", vm.id))
        .await
        .expect("start");
    assert_eq!(
        compute.get_vm(&vm.id).await.expect("get").state,
        VmPowerState::Running
    );

    let err = compute
        .get_vm("00000000-0000-0000-0000-000000000000")
        .await
        .expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn vcd_create_vm_from_a_named_template() {
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_millis(30))
        .start()
        .await
        .expect("sim");
    let sess = session(&sim).await;
    let client = sess.client().expect("client");
    let compute: Box<dyn Compute> = Box::new(
        VcdCompute::new(client.clone())
            .vdc("VDC-Dev")
            .poll_interval(Duration::from_millis(10)),
    );
    let before = compute.list_vms().await.expect("list").len();

    let spec = VmSpec::new("compute-made", "ubuntu22-base")
        .cpu(2.0)
        .memory_mb(4096);
    let vm = compute.create_vm(&spec).await.expect("create_vm");
    assert_eq!(vm.provider, "vcloud");
    assert_eq!(vm.name, "compute-made");
    assert_eq!(vm.cpu, Some(2.0));
    assert_eq!(vm.memory_mb, Some(4096));
    assert_eq!(vm.state, VmPowerState::Running, "{vm:?}");

    // Re-read through the workload API: a vApp of the same name in VDC-Dev holds the VM,
    // with the hardware asked for.
    let vapp = client.vdc("VDC-Dev").vapp("compute-made");
    let vms = vapp.vms().await.expect("vApp VMs");
    assert_eq!(vms.len(), 1);
    let doc = vms[0].get().await.expect("vm");
    assert_eq!(doc.cpu_count(), Some(2));
    assert_eq!(doc.memory_mb(), Some(4096));
    assert_eq!(compute.list_vms().await.expect("list").len(), before + 1);
    let running = compute
        .wait_until_running(&vm.id, WaitSpec::timeout(Duration::from_secs(5)))
        .await
        .expect("running");
    assert_eq!(running.provider_state, "POWERED_ON");

    // Powered off when asked, with the template's hardware.
    let off = compute
        .create_vm(&VmSpec::new("compute-off", "ubuntu22-base").power_on(false))
        .await
        .expect("create powered off");
    assert_eq!(off.state, VmPowerState::Stopped, "{off:?}");
    assert_eq!(off.cpu, Some(1.0));
    assert_eq!(off.memory_mb, Some(2048));
    sim.shutdown().await;
}

#[tokio::test]
async fn vcd_create_vm_refuses_bad_input_before_creating() {
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_millis(10))
        .start()
        .await
        .expect("sim");
    let sess = session(&sim).await;
    let client = sess.client().expect("client");
    let with_vdc = VcdCompute::new(client.clone())
        .vdc("VDC-Dev")
        .poll_interval(Duration::from_millis(10));
    let before = with_vdc.list_vms().await.expect("list").len();
    let cases: [(&str, VmSpec, ErrorKind); 5] = [
        (
            "fractional CPU",
            VmSpec::new("a", "ubuntu22-base").cpu(1.5),
            ErrorKind::InvalidInput,
        ),
        (
            "memory not a multiple of 4 MB",
            VmSpec::new("a", "ubuntu22-base").memory_mb(1023),
            ErrorKind::InvalidInput,
        ),
        (
            "unknown template",
            VmSpec::new("a", "no-such-template"),
            ErrorKind::NotFound,
        ),
        (
            "a two-VM template",
            VmSpec::new("a", "lamp-stack"),
            ErrorKind::InvalidInput,
        ),
        (
            "blank name",
            VmSpec::new("  ", "ubuntu22-base"),
            ErrorKind::InvalidInput,
        ),
    ];
    for (what, spec, kind) in cases {
        let e = with_vdc.create_vm(&spec).await.expect_err(what);
        assert_eq!(e.kind(), kind, "{what}: {e}");
    }
    // Two vDCs and none chosen: the error names both.
    let e = VcdCompute::new(client.clone())
        .create_vm(&VmSpec::new("a", "ubuntu22-base"))
        .await
        .expect_err("which vDC");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(
        e.to_string().contains("VDC-Prod") && e.to_string().contains("VDC-Dev"),
        "{e}"
    );
    assert_eq!(with_vdc.list_vms().await.expect("list").len(), before);
    let e = with_vdc.get_vm("not-a-vm-id").await.expect_err("bad id");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    sim.shutdown().await;
}
