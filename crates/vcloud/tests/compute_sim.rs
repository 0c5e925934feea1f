//! `VcdCompute` against the vCloud simulator: the same VMs through the multi-cloud
//! `Compute` trait, power actions carried out as vCD Tasks, and a missing id.

use std::sync::Arc;
use std::time::Duration;

use nebulair_core::{
    Compute, Credentials, ErrorKind, HttpConfig, HttpTransport, ProxyConfig, ReqwestTransport,
    VmPowerState,
};
use nebulair_sim::vcloud::{DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator};
use nebulair_vcloud::session::VcdSession;
use nebulair_vcloud::{ApiVersion, VcdCompute};

fn transport() -> Arc<dyn HttpTransport> {
    Arc::new(
        ReqwestTransport::new(&HttpConfig::default().proxy(ProxyConfig::Disabled))
            .expect("transport"),
    )
}

#[tokio::test]
async fn vcd_vms_through_the_compute_trait() {
    let sim = VcloudSimulator::builder()
        .task_duration(Duration::from_millis(50))
        .start()
        .await
        .expect("sim");
    let sess = VcdSession::builder(sim.base_url().as_str())
        .org(DEFAULT_ORG)
        .credentials(Credentials::password(DEFAULT_USER, DEFAULT_PASSWORD))
        .version(ApiVersion::new("36.0").expect("v"))
        .transport(transport())
        .build()
        .expect("build");
    sess.login().await.expect("login");
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
