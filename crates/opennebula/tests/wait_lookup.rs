//! `wait_for` and `by_name` against the simulator: a VM that reaches RUNNING, one that
//! fails on the way (PROLOG_FAILURE), one that never gets there (held, deadline); hosts,
//! images and networks; names that match none, one and several objects.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use nebulair_opennebula::api::{ObservedState, WaitError, WaitOptions};
use nebulair_opennebula::ids::{DatastoreId, TemplateId, VmId, VnetId};
use nebulair_opennebula::model::{HostState, ImageState, LcmState, VmState, VnetState};
use nebulair_opennebula::{Credentials, ErrorKind, OneClient, Template};
use nebulair_sim::one::{Delays, OneSimHandle, OneSimulator};

async fn start(delays: Delays) -> (OneSimHandle, OneClient) {
    let sim = OneSimulator::builder()
        .delays(delays)
        .monitor_interval(Duration::from_millis(20))
        .start()
        .await
        .expect("simulator");
    let c = OneClient::builder()
        .endpoint(sim.url().to_owned())
        .credentials(Credentials::password("oneadmin", "opennebula"))
        .build()
        .expect("client");
    (sim, c)
}

fn tpl(text: &str) -> Template {
    Template::parse(text).expect("template")
}

fn fast() -> WaitOptions {
    WaitOptions::timeout(Duration::from_secs(20))
        .interval(Duration::from_millis(10))
        .max_interval(Duration::from_millis(100))
}

async fn new_vm(c: &OneClient, name: &str, hold: bool) -> VmId {
    c.vms()
        .allocate_with(
            &tpl(&format!(
                "NAME = \"{name}\"\nCPU = \"0.1\"\nMEMORY = \"64\""
            )),
            hold,
        )
        .await
        .expect("allocate")
}

#[tokio::test]
async fn a_vm_reaches_running_through_the_transient_states() {
    let slow = Duration::from_millis(150);
    let (_sim, c) = start(Delays {
        prolog: slow,
        boot: slow,
        ..Delays::default()
    })
    .await;
    let id = new_vm(&c, "web", false).await;
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    let mut progress = move |p: &nebulair_opennebula::api::WaitProgress<'_, _>| {
        log.lock().expect("lock").push(p.state.to_string());
    };
    let vm = c
        .vm(id)
        .wait_for_with_progress(LcmState::Running, &fast(), &mut progress)
        .await
        .expect("running");
    assert!(vm.is_running());
    // State re-read afterwards.
    assert!(c.vm(id).info().await.expect("info").is_running());
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.last().map(String::as_str), Some("ACTIVE/RUNNING"));
    assert!(
        seen.iter()
            .any(|s| s == "ACTIVE/PROLOG" || s == "ACTIVE/BOOT"),
        "the wait saw the VM on its way: {seen:?}"
    );
    // Waiting for a state it is already in returns at once.
    c.vm(id)
        .wait_for(VmState::Active, &fast())
        .await
        .expect("active");
}

#[tokio::test]
async fn a_vm_that_fails_on_the_way_is_a_typed_error_naming_the_state() {
    let (_sim, c) = start(Delays {
        prolog: Duration::from_secs(30),
        ..Delays::default()
    })
    .await;
    let id = new_vm(&c, "broken", false).await;
    let waiter = {
        let c = c.clone();
        tokio::spawn(async move { c.vm(id).wait_for(LcmState::Running, &fast()).await })
    };
    // Fail the transfer once the VM is in PROLOG.
    c.vm(id)
        .wait_for(LcmState::Prolog, &fast())
        .await
        .expect("prolog");
    c.vm(id).recover(0).await.expect("recover failure");
    let err = waiter.await.expect("join").expect_err("failed");
    match &err {
        WaitError::Failed { state, target, .. } => {
            assert_eq!(
                *state,
                ObservedState::Vm(VmState::Active, LcmState::PrologFailure)
            );
            assert_eq!(target, "RUNNING");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(err.to_string().contains("PROLOG_FAILURE"), "{err}");
    let e: nebulair_opennebula::Error = err.into();
    assert_eq!(e.kind(), ErrorKind::Server);
    let vm = c.vm(id).info().await.expect("info");
    assert_eq!(vm.lcm_state(), Some(LcmState::PrologFailure));

    // A terminated VM is DONE: waiting for RUNNING fails at once, waiting for DONE works.
    let gone = new_vm(&c, "gone", true).await;
    c.vm(gone)
        .action(nebulair_opennebula::VmAction::TerminateHard)
        .await
        .expect("terminate");
    c.vm(gone)
        .wait_for(VmState::Done, &fast())
        .await
        .expect("done");
    let err = c
        .vm(gone)
        .wait_for(LcmState::Running, &fast())
        .await
        .expect_err("done is final");
    assert!(err.is_failed(), "{err:?}");
}

#[tokio::test]
async fn a_vm_that_never_gets_there_times_out_with_its_last_state() {
    let (_sim, c) = start(Delays::default()).await;
    let id = new_vm(&c, "held", true).await;
    let opts = WaitOptions::timeout(Duration::from_millis(300))
        .interval(Duration::from_millis(20))
        .backoff(2.0);
    let started = std::time::Instant::now();
    let err = c
        .vm(id)
        .wait_for(LcmState::Running, &opts)
        .await
        .expect_err("held");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(
        err.state(),
        Some(&ObservedState::Vm(VmState::Hold, LcmState::LcmInit))
    );
    let e: nebulair_opennebula::Error = err.into();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(
        c.vm(id).info().await.expect("info").state(),
        Some(VmState::Hold)
    );

    // A missing VM is the call's error, not a timeout.
    let err = c
        .vm(VmId::new(9999))
        .wait_for(LcmState::Running, &opts)
        .await
        .expect_err("missing");
    match err {
        WaitError::Call(e) => assert!(e.is_not_found(), "{e}"),
        other => panic!("expected Call, got {other:?}"),
    }
}

#[tokio::test]
async fn hosts_images_and_networks_wait_for_their_states() {
    let (_sim, c) = start(Delays {
        monitor: Duration::from_millis(100),
        ..Delays::default()
    })
    .await;
    let h = c
        .hosts()
        .allocate("node9", "kvm", "kvm", nebulair_opennebula::ClusterId::NONE)
        .await
        .expect("host");
    let host = c
        .host(h)
        .wait_for(HostState::Monitored, &fast())
        .await
        .expect("monitored");
    assert_eq!(host.state(), Some(HostState::Monitored));
    let img = c
        .images()
        .allocate(
            &tpl("NAME = \"disk\"\nTYPE = \"DATABLOCK\"\nSIZE = \"10\""),
            DatastoreId::DEFAULT,
        )
        .await
        .expect("image");
    let image = c
        .image(img)
        .wait_for(ImageState::Ready, &fast())
        .await
        .expect("ready");
    assert_eq!(image.state(), Some(ImageState::Ready));
    let net = c
        .vnet(VnetId::new(0))
        .wait_for(VnetState::Ready, &fast())
        .await
        .expect("ready");
    assert_eq!(net.state(), Some(VnetState::Ready));
    // A host never gets into ERROR here: a short deadline ends the wait.
    let err = c
        .host(h)
        .wait_for(
            HostState::Error,
            &WaitOptions::timeout(Duration::from_millis(100)).interval(Duration::from_millis(20)),
        )
        .await
        .expect_err("never");
    assert_eq!(
        err.state(),
        Some(&ObservedState::Host(HostState::Monitored))
    );
}

#[tokio::test]
async fn lookup_by_name_finds_one_and_says_none_or_ambiguous() {
    let (_sim, c) = start(Delays::default()).await;
    let a = new_vm(&c, "web", true).await;
    let vm = c.vms().by_name("web").await.expect("web");
    assert_eq!(vm.id, a);
    assert_eq!(c.vms().resolve("web").await.expect("resolve"), a);
    assert_eq!(c.vms().resolve("12").await.expect("id"), VmId::new(12));
    let b = new_vm(&c, "web", true).await;
    let err = c.vms().by_name("web").await.expect_err("two");
    assert!(err.is_ambiguous(), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&a.to_string()) && msg.contains(&b.to_string()),
        "{msg}"
    );
    let err = c.vms().by_name("nope").await.expect_err("none");
    assert!(err.is_not_found());
    let e: nebulair_opennebula::Error = err.into();
    assert!(e.is_not_found());

    // Other kinds, against the seed data.
    assert_eq!(
        c.templates()
            .by_name("ttylinux")
            .await
            .expect("template")
            .id,
        TemplateId::new(0)
    );
    assert_eq!(
        c.hosts().resolve("host02").await.expect("host"),
        c.hosts().by_name("host02").await.expect("host").id
    );
    assert_eq!(
        c.vnets().by_name("public").await.expect("vnet").id,
        VnetId::new(0)
    );
    assert_eq!(
        c.datastores().resolve("files").await.expect("ds"),
        DatastoreId::FILES
    );
    assert_eq!(
        c.users().by_name("oneadmin").await.expect("user").id.get(),
        0
    );
    assert_eq!(
        c.groups().by_name("users").await.expect("group").id.get(),
        1
    );
    assert_eq!(
        c.clusters()
            .by_name("default")
            .await
            .expect("cluster")
            .id
            .get(),
        0
    );
    assert_eq!(
        c.zones()
            .by_name("OpenNebula")
            .await
            .expect("zone")
            .id
            .get(),
        0
    );
    assert!(
        c.images()
            .by_name("x")
            .await
            .expect_err("none")
            .is_not_found()
    );
}
