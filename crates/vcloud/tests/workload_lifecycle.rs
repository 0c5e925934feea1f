//! vApp and VM lifecycle against the vCD simulator, each step checked by reading the
//! state again: instantiate (network mapping, per-VM name, computer name, storage
//! profile), power actions, deploy/undeploy, delete refused while running and with
//! undeploy first, rename, owner, recompose, compose, metadata, snapshots, tasks
//! (await vs wait, cancel, BUSY_ENTITY retried, errors with vCD's codes).

mod workload_common;

use std::time::Duration;

use nebulair_core::{ErrorKind, RetryPolicy};
use nebulair_vcloud::TaskStatus;
use nebulair_vcloud::model::vcd::{MetadataTypedValue, VAppStatus};
use nebulair_vcloud::workload::{
    ComposeParams, DeleteOptions, DeployOptions, InstantiateParams, IpAllocation, NetworkMapping,
    RecomposeParams, SnapshotOptions, UndeployPowerAction, VmSettings, WorkloadError,
};
use workload_common::{env, env_with, fast_options};

#[tokio::test]
async fn instantiate_power_cycle_and_delete() {
    let e = env().await;
    let vdc = e.ws.vdc("VDC-Dev");
    let template = e.ws.catalog("DevOps").template("lamp-stack");
    let params = InstantiateParams::new("shop")
        .description("web shop")
        .network(NetworkMapping::bridged("default-routed"))
        .vm(
            "web",
            VmSettings::named("shop-web")
                .computer_name("shop-web-1")
                .network(
                    "default-routed",
                    IpAllocation::Manual("192.168.109.77".parse().expect("ip")),
                )
                .storage_profile("*"),
        )
        .vm("db", VmSettings::named("shop-db"));
    let (vapp, task) = vdc
        .instantiate(&template, params)
        .await
        .expect("instantiate");
    assert!(!task.status.is_terminal() || task.status == TaskStatus::Success);
    e.ws.waiter().wait(&task).await.expect("created");

    let doc = vapp.get().await.expect("vapp");
    assert_eq!(doc.name.as_deref(), Some("shop"));
    assert_eq!(doc.description.as_deref(), Some("web shop"));
    assert_eq!(doc.deployed, Some(true));
    let mut names: Vec<String> = doc.vms().iter().filter_map(|v| v.name.clone()).collect();
    names.sort();
    assert_eq!(names, ["shop-db", "shop-web"]);
    let web = vapp.vm("shop-web").get().await.expect("web");
    assert_eq!(
        web.guest_customization_section()
            .and_then(|g| g.computer_name.as_deref()),
        Some("shop-web-1")
    );
    let nic = &web.network_connections()[0];
    assert_eq!(nic.ip_address_allocation_mode.as_deref(), Some("MANUAL"));
    assert_eq!(nic.ip_address.as_deref(), Some("192.168.109.77"));
    // The vDC lists it.
    assert!(
        vdc.vapps()
            .await
            .expect("list")
            .iter()
            .any(|v| v.name().as_deref() == Some("shop"))
    );

    // Power on, suspend, discard, power on, reboot, shutdown: state re-read each time.
    vapp.power_on().wait().await.expect("on");
    assert_eq!(
        vapp.get().await.expect("g").status_typed(),
        Some(VAppStatus::PoweredOn)
    );
    // Powering on a powered-on vApp is vCD's BAD_REQUEST, with its codes kept.
    let err = vapp.power_on().await.expect_err("already on");
    let svc = err.service().expect("service error");
    assert_eq!(svc.code_name(), Some("BAD_REQUEST"));
    assert_eq!(svc.code(), 400);
    assert!(svc.message().contains("not powered off"), "{err}");
    vapp.suspend().wait().await.expect("suspend");
    assert_eq!(
        vapp.get().await.expect("g").status_typed(),
        Some(VAppStatus::Suspended)
    );
    vapp.discard_suspended_state()
        .wait()
        .await
        .expect("discard");
    assert_eq!(
        vapp.get().await.expect("g").status_typed(),
        Some(VAppStatus::PoweredOff)
    );
    vapp.power_on().wait().await.expect("on again");
    vapp.reboot().wait().await.expect("reboot");
    vapp.reset().wait().await.expect("reset");
    assert_eq!(
        vapp.get().await.expect("g").status_typed(),
        Some(VAppStatus::PoweredOn)
    );
    vapp.shutdown().wait().await.expect("shutdown");
    assert_eq!(
        vapp.get().await.expect("g").status_typed(),
        Some(VAppStatus::PoweredOff)
    );

    // A VM alone.
    let db = vapp.vm("shop-db");
    db.power_on().wait().await.expect("vm on");
    assert_eq!(
        db.get().await.expect("db").status_typed(),
        Some(VAppStatus::PoweredOn)
    );
    db.power_off().wait().await.expect("vm off");
    assert_eq!(
        db.get().await.expect("db").status_typed(),
        Some(VAppStatus::PoweredOff)
    );

    // Delete refused while deployed, the way vCD does; then with undeploy first.
    let err = vapp.delete().await.expect_err("running");
    assert_eq!(
        err.service().and_then(|s| s.code_name()),
        Some("BAD_REQUEST")
    );
    assert!(vapp.get().await.is_ok());
    vapp.delete_with(DeleteOptions {
        undeploy_first: true,
    })
    .wait()
    .await
    .expect("delete");
    let gone =
        e.ws.vdc("VDC-Dev")
            .vapp("shop")
            .get()
            .await
            .expect_err("gone");
    assert!(gone.is_not_found(), "{gone}");
    e.sim.shutdown().await;
}

#[tokio::test]
async fn deploy_undeploy_rename_owner_metadata_snapshots() {
    let e = env().await;
    let vapp = e.ws.vdc("VDC-Prod").vapp("empty-vapp");
    vapp.deploy(DeployOptions::without_power_on())
        .wait()
        .await
        .expect("deploy");
    assert_eq!(vapp.get().await.expect("g").deployed, Some(true));
    vapp.undeploy(UndeployPowerAction::PowerOff)
        .wait()
        .await
        .expect("undeploy");
    assert_eq!(vapp.get().await.expect("g").deployed, Some(false));

    vapp.update(Some("renamed".into()), Some("now described".into()))
        .wait()
        .await
        .expect("update");
    let doc = vapp.get().await.expect("g");
    assert_eq!(doc.name.as_deref(), Some("renamed"));
    assert_eq!(doc.description.as_deref(), Some("now described"));

    let owner = vapp.owner().await.expect("owner");
    let user = owner
        .user
        .as_ref()
        .and_then(|u| u.href.clone())
        .expect("user href");
    vapp.set_owner(&user.replace("a001", "a0b1"))
        .await
        .expect("set owner");
    let after = vapp.owner().await.expect("owner");
    assert_ne!(after.user.as_ref().and_then(|u| u.href.clone()), Some(user));

    // Metadata with every type, read back typed.
    let db = e.ws.vm("db-01");
    for (k, v) in [
        ("s", MetadataTypedValue::String("x y".into())),
        ("n", MetadataTypedValue::Number(42)),
        ("b", MetadataTypedValue::Boolean(true)),
        (
            "d",
            MetadataTypedValue::DateTime("2026-01-01T00:00:00.000Z".into()),
        ),
    ] {
        db.set_metadata(k, v.clone()).wait().await.expect("set");
        assert_eq!(db.metadata_value(k).await.expect("get"), Some(v));
    }
    assert_eq!(db.metadata().await.expect("all").metadata_entries.len(), 4);
    db.delete_metadata("s").wait().await.expect("delete");
    assert_eq!(
        db.metadata().await.expect("all").get("s").expect("typed"),
        None
    );
    let err = db
        .set_metadata("", MetadataTypedValue::Number(1))
        .await
        .expect_err("empty key");
    assert!(matches!(
        WorkloadError::of(&err),
        Some(WorkloadError::InvalidValue { .. })
    ));

    // Snapshots: create with memory, revert, remove all.
    db.create_snapshot(&SnapshotOptions {
        memory: true,
        quiesce: false,
        name: None,
    })
    .wait()
    .await
    .expect("snapshot");
    assert!(db.get().await.expect("g").snapshot().is_some());
    db.revert_to_current_snapshot()
        .wait()
        .await
        .expect("revert");
    db.remove_all_snapshots().wait().await.expect("remove");
    assert!(db.get().await.expect("g").snapshot().is_none());

    // VM rename.
    db.rename("db-primary").wait().await.expect("rename vm");
    assert_eq!(
        e.ws.vm("db-primary")
            .get()
            .await
            .expect("g")
            .name
            .as_deref(),
        Some("db-primary")
    );
    e.sim.shutdown().await;
}

#[tokio::test]
async fn compose_recompose_and_bad_input() {
    let e = env().await;
    let tpl =
        e.ws.vapp_template("lamp-stack")
            .get()
            .await
            .expect("template");
    let hrefs: Vec<String> = tpl
        .vm_templates()
        .iter()
        .filter_map(|v| v.href.clone())
        .collect();
    let vdc = e.ws.vdc("VDC-Prod");
    let vapp = vdc
        .compose(ComposeParams::new("composed").vm(&hrefs[0], VmSettings::named("c-web")))
        .wait()
        .await
        .expect("compose");
    assert_eq!(vapp.vms().await.expect("vms").len(), 1);
    vapp.recompose(RecomposeParams::default().add_vm(&hrefs[1], VmSettings::named("c-db")))
        .wait()
        .await
        .expect("add");
    let vms = vapp.vms().await.expect("vms");
    assert_eq!(vms.len(), 2);
    let web_href = vapp.vm("c-web").href().await.expect("href");
    vapp.recompose(RecomposeParams::default().remove_vm(web_href))
        .wait()
        .await
        .expect("remove");
    let names: Vec<String> = vapp
        .vms()
        .await
        .expect("vms")
        .iter()
        .filter_map(|v| v.name())
        .collect();
    assert_eq!(names, ["c-db"]);

    // Bad input is refused before anything is sent, with typed errors.
    let template = e.ws.vapp_template("lamp-stack");
    for (params, what) in [
        (InstantiateParams::new(""), "empty name"),
        (
            InstantiateParams::new("x").vm("nope", VmSettings::default()),
            "unknown template VM",
        ),
        (
            InstantiateParams::new("x").network(NetworkMapping::bridged("no-such-net")),
            "network",
        ),
        (
            InstantiateParams::new("x").all_vms(VmSettings::default().storage_profile("gold")),
            "profile",
        ),
        (
            InstantiateParams::new("x").vm("web", VmSettings::default().computer_name("bad name!")),
            "computer name",
        ),
    ] {
        let err = vdc.instantiate(&template, params).await.expect_err(what);
        assert!(WorkloadError::of(&err).is_some(), "{what}: {err}");
    }
    // A template of another org (or gone): vCD's 403, typed.
    let foreign =
        e.ws.vapp_template("urn:vcloud:vapptemplate:00000000-0000-4000-8000-00000000dead");
    let err = vdc
        .instantiate(&foreign, InstantiateParams::new("x"))
        .await
        .expect_err("foreign");
    assert_eq!(err.kind(), ErrorKind::Authorization, "{err}");
    assert_eq!(
        err.service().and_then(|s| s.code_name()),
        Some("ACCESS_TO_RESOURCE_IS_FORBIDDEN")
    );
    let err = RecomposeParams::default()
        .to_document(&vdc.get().await.expect("vdc"))
        .expect_err("empty");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    e.sim.shutdown().await;
}

#[tokio::test]
async fn tasks_busy_entity_cancel_and_failures() {
    let e = env_with("36.0", 400).await;
    let vm = e.ws.vm("web-01");
    // The first power action holds the VM; the second is refused BUSY_ENTITY and retried.
    let first = vm.power_off().await.expect("task");
    assert!(!first.status.is_terminal());
    let second = vm.power_on().wait().await.expect("retried until free");
    assert_eq!(second.status, TaskStatus::Success);
    assert_eq!(
        vm.get().await.expect("g").status_typed(),
        Some(VAppStatus::PoweredOn)
    );

    // Without retries the refusal is the typed BUSY_ENTITY error.
    let strict = e
        .client
        .workloads_with(fast_options().busy_retry(RetryPolicy::none()));
    let vm2 = strict.vm("web-02");
    let _running = vm2.power_off().await.expect("task");
    let err = vm2.power_off().await.expect_err("busy");
    assert!(nebulair_vcloud::workload::is_busy_entity(&err), "{err}");
    assert_eq!(err.kind(), ErrorKind::Conflict);

    // Cancel: the task ends canceled and waiting for it says so.
    let db = e.ws.vm("db-01");
    let task = db.power_off().await.expect("task");
    e.client.cancel_task(&task).await.expect("cancel");
    let err = e.ws.waiter().wait(&task).await.expect_err("canceled");
    assert!(err.is_cancelled(), "{err}");
    assert_eq!(
        db.get().await.expect("g").status_typed(),
        Some(VAppStatus::PoweredOn)
    );

    // A task that fails: its error's codes reach the caller; the deadline is honoured.
    e.sim.fail_next_tasks(1);
    let err =
        e.ws.vm("jenkins01")
            .power_off()
            .wait()
            .await
            .expect_err("fails");
    assert!(err.service().is_some(), "{err}");
    let err =
        e.ws.vm("jenkins-agent")
            .power_off()
            .deadline(Some(Duration::from_millis(50)))
            .wait()
            .await
            .expect_err("deadline");
    assert!(err.is_timeout(), "{err}");
    e.sim.shutdown().await;
}
