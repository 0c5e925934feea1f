//! The OneFlow client against the OneFlow simulator (on the oned simulator, loopback,
//! free ports): every route the client has, the states services reach, the VMs created
//! (re-read through XML-RPC), failures and recovery, elasticity and scheduled policies on
//! a frozen OneFlow clock, and OneGate's service view agreeing with OneFlow's.

use std::time::Duration;

use nebulair_opennebula::api::{ObservedState, WaitOptions};
use nebulair_opennebula::ids::{DocumentId, GroupId, TemplateId, UserId, VmId};
use nebulair_opennebula::model::{LcmState, VmState};
use nebulair_opennebula::oneflow::{
    AdjustmentType, CloneMode, DeleteMode, Deployment, ElasticityPolicy, FlowClient,
    InstantiateOptions, RoleAction, RoleState, RoleTemplate, ScheduledPolicy, Service,
    ServiceState, ServiceTemplateBody,
};
use nebulair_opennebula::onegate::OneGateClient;
use nebulair_opennebula::pool::PoolFilter;
use nebulair_opennebula::{Credentials, ErrorKind, OneClient};
use nebulair_sim::one::{Delays, OneSimHandle, OneSimulator};
use nebulair_sim::oneflow::{OneFlowHandle, OneFlowSimulator};
use serde_json::json;

struct Env {
    one: OneSimHandle,
    flow_sim: OneFlowHandle,
    rpc: OneClient,
    flow: FlowClient,
}

async fn env_with(
    one: nebulair_sim::one::OneSimulatorBuilder,
    flow: nebulair_sim::oneflow::OneFlowSimulatorBuilder,
) -> Env {
    let one = one
        .monitor_interval(Duration::from_secs(3600))
        .start()
        .await
        .expect("oned simulator");
    let flow_sim = flow
        .poll_interval(Duration::from_millis(20))
        .start(&one)
        .await
        .expect("OneFlow simulator");
    let rpc = OneClient::builder()
        .endpoint(one.url().to_owned())
        .credentials(Credentials::password("oneadmin", "opennebula"))
        .build()
        .expect("client");
    let flow = FlowClient::builder()
        .endpoint(flow_sim.url())
        .credentials(Credentials::password("oneadmin", "opennebula"))
        .build()
        .expect("flow client");
    Env {
        one,
        flow_sim,
        rpc,
        flow,
    }
}

async fn env() -> Env {
    env_with(OneSimulator::builder(), OneFlowSimulator::builder()).await
}

fn fast() -> WaitOptions {
    WaitOptions::timeout(Duration::from_secs(30))
        .interval(Duration::from_millis(20))
        .max_interval(Duration::from_millis(100))
}

async fn running(e: &Env, id: DocumentId) -> Service {
    e.flow
        .services()
        .wait_for(id, ServiceState::Running, &fast())
        .await
        .expect("RUNNING")
        .expect("service")
}

async fn wait_state(e: &Env, id: DocumentId, target: ServiceState) -> Service {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let s = e.flow.services().show(id).await.expect("show");
        if s.body().state == target {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "service {id} never reached {target}: {:?}",
            s.body().state
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn vm(e: &Env, id: VmId) -> nebulair_opennebula::model::Vm {
    e.rpc.vm(id).info().await.expect("vm info")
}

async fn wait_vm(e: &Env, id: VmId, state: VmState) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while vm(e, id).await.state() != Some(state) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "VM {id} never reached {state:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn doc_ids(e: &Env, kind: i32) -> Vec<DocumentId> {
    e.rpc
        .documents()
        .info(&PoolFilter::all(), kind)
        .await
        .expect("documentpool")
        .document
        .into_iter()
        .map(|d| d.id)
        .collect()
}

fn shop() -> ServiceTemplateBody {
    ServiceTemplateBody::new(
        "shop",
        vec![
            RoleTemplate::new("db", TemplateId::new(0), 1).cooldown(0),
            RoleTemplate::new("web", TemplateId::new(0), 2)
                .parents(["db"])
                .bounds(1, 3)
                .cooldown(0),
        ],
    )
    .deployment(Deployment::Straight)
}

#[tokio::test]
async fn service_template_routes() {
    let e = env().await;
    let t = e.flow.templates().create(&shop()).await.expect("create");
    assert_eq!(t.doc_type, Some(101));
    assert_eq!(t.body().roles.len(), 2);
    assert!(t.body().other.contains_key("registration_time"));
    // stored as an oned document of type 101
    assert_eq!(doc_ids(&e, 101).await, vec![t.id]);
    assert!(doc_ids(&e, 100).await.is_empty());

    let list = e.flow.templates().list().await.expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(
        e.flow.templates().resolve("shop").await.expect("name"),
        t.id
    );
    assert!(
        e.flow
            .templates()
            .by_name("nope")
            .await
            .expect_err("none")
            .is_not_found()
    );

    let mut body = t.body().clone();
    body.description = Some("the shop".into());
    let updated = e
        .flow
        .templates()
        .update(t.id, &body)
        .await
        .expect("update");
    assert_eq!(updated.body().description.as_deref(), Some("the shop"));
    let shown = e.flow.templates().show(t.id).await.expect("show");
    assert_eq!(shown.body().description.as_deref(), Some("the shop"));

    e.flow
        .templates()
        .rename(t.id, "shop2")
        .await
        .expect("rename");
    e.flow.templates().chmod(t.id, "640").await.expect("chmod");
    e.flow
        .templates()
        .chgrp(t.id, GroupId::USERS)
        .await
        .expect("chgrp");
    let d = e.rpc.document(t.id).info().await.expect("document");
    assert_eq!(d.name.as_deref(), Some("shop2"));
    assert_eq!(d.gid, Some(1));
    let p = d.permissions.expect("perms");
    assert_eq!(
        (p.owner_u, p.owner_m, p.group_u, p.other_u),
        (Some(1), Some(1), Some(1), Some(0))
    );
    e.flow
        .templates()
        .chown(t.id, UserId::new(0), Some(GroupId::new(0)))
        .await
        .expect("chown");
    assert_eq!(e.rpc.document(t.id).info().await.expect("doc").gid, Some(0));

    // clone with the VM templates: a new VM template named <template>-<clone>
    let before = e
        .rpc
        .templates()
        .info(&PoolFilter::all())
        .await
        .expect("templates")
        .vmtemplate
        .len();
    let c = e
        .flow
        .templates()
        .clone_template(t.id, "copy", CloneMode::Templates)
        .await
        .expect("clone");
    assert_ne!(c.id, t.id);
    assert_eq!(c.name, "copy");
    let tid = c.body().roles[0].template_id.expect("template id");
    assert_ne!(tid, TemplateId::new(0));
    assert_eq!(
        c.body().roles[1].template_id,
        Some(tid),
        "one clone per VM template"
    );
    let vt = e
        .rpc
        .template(tid)
        .info()
        .await
        .expect("cloned VM template");
    assert_eq!(vt.name.as_deref(), Some("ttylinux-copy"));
    let plain = e
        .flow
        .templates()
        .clone_template(t.id, "plain", CloneMode::TemplateOnly)
        .await
        .expect("clone");
    assert_eq!(plain.body().roles[0].template_id, Some(TemplateId::new(0)));

    // the server's validation messages, as 400
    let mut bad = shop();
    bad.roles[1].name = "db".into();
    let err = e
        .flow
        .templates()
        .create(&bad)
        .await
        .expect_err("repeated role");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.http_status(), Some(400));
    assert!(
        err.to_string().contains("Role name 'db' is repeated"),
        "{err}"
    );
    let mut bad = shop();
    bad.roles[1].min_vms = Some(5);
    let err = e.flow.templates().create(&bad).await.expect_err("min");
    assert!(
        err.to_string()
            .contains("Role 'web' 'cardinality' must be greater than or equal to 'min_vms'"),
        "{err}"
    );
    let err = e
        .flow
        .templates()
        .show(DocumentId::new(999))
        .await
        .expect_err("missing");
    assert!(err.is_not_found(), "{err}");

    // delete the clone with its VM templates, then the others
    e.flow
        .templates()
        .delete(c.id, DeleteMode::Templates)
        .await
        .expect("delete");
    assert!(
        e.rpc
            .template(tid)
            .info()
            .await
            .expect_err("VM template gone")
            .is_not_found()
    );
    assert_eq!(
        e.rpc
            .templates()
            .info(&PoolFilter::all())
            .await
            .expect("templates")
            .vmtemplate
            .len(),
        before
    );
    e.flow
        .templates()
        .delete(t.id, DeleteMode::TemplateOnly)
        .await
        .expect("delete");
    e.flow
        .templates()
        .delete(plain.id, DeleteMode::TemplateOnly)
        .await
        .expect("delete");
    assert!(doc_ids(&e, 101).await.is_empty());
    assert!(
        e.rpc.template(TemplateId::new(0)).info().await.is_ok(),
        "kept"
    );

    // credentials are checked against oned's users
    let wrong = FlowClient::builder()
        .endpoint(e.flow_sim.url())
        .credentials(Credentials::password("oneadmin", "wrong"))
        .build()
        .expect("client");
    let err = wrong.templates().list().await.expect_err("401");
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(err.to_string().contains("Invalid credentials"), "{err}");
    drop(e.one);
}

#[tokio::test]
async fn instantiate_deploys_in_order_scales_acts_and_deletes() {
    let e = env().await;
    let t = e.flow.templates().create(&shop()).await.expect("create");
    let s = e
        .flow
        .templates()
        .instantiate(t.id, &InstantiateOptions::new().name("shop-1"))
        .await
        .expect("instantiate");
    assert_eq!(s.body().state, ServiceState::Pending);
    assert_eq!(s.doc_type, Some(100));
    assert_eq!(s.name, "shop-1");
    assert_eq!(doc_ids(&e, 100).await, vec![s.id]);

    let s = running(&e, s.id).await;
    let db = s.body().role("db").expect("db");
    let web = s.body().role("web").expect("web");
    assert_eq!(
        (db.state, web.state),
        (RoleState::Running, RoleState::Running)
    );
    assert_eq!((db.nodes.len(), web.nodes.len()), (1, 2));
    // straight: the web VMs were created after the db VM was RUNNING
    let db_vm = db.nodes[0].deploy_id;
    assert!(web.nodes.iter().all(|n| n.deploy_id.get() > db_vm.get()));
    let v = vm(&e, db_vm).await;
    assert!(v.is_running());
    assert_eq!(
        v.name.as_deref(),
        Some(format!("db_0_(service_{})", s.id).as_str())
    );
    assert_eq!(
        v.user_template.get_str("SERVICE_ID"),
        Some(s.id.to_string().as_str())
    );
    assert_eq!(v.user_template.get_str("ROLE_NAME"), Some("db"));
    let log: Vec<&str> = s.body().log.iter().map(|l| l.message.as_str()).collect();
    assert!(
        log.contains(&"New state: DEPLOYING") && log.contains(&"New state: RUNNING"),
        "{log:?}"
    );

    // scale up within the bounds: SCALING, a new VM, (no cooldown), RUNNING
    e.flow
        .services()
        .scale(s.id, "web", 3, false)
        .await
        .expect("scale up");
    let s = running(&e, s.id).await;
    let web = s.body().role("web").expect("web");
    assert_eq!((web.cardinality, web.nodes.len()), (3, 3));
    for n in &web.nodes {
        assert!(vm(&e, n.deploy_id).await.is_running());
    }
    // the bounds, the state and the role are checked as OneFlow does
    let err = e
        .flow
        .services()
        .scale(s.id, "web", 4, false)
        .await
        .expect_err("max");
    assert!(
        err.to_string().contains(&format!(
            "Can't scale service {}: Maximum cardinality is 3",
            s.id
        )),
        "{err}"
    );
    assert_eq!(err.http_status(), Some(500));
    let err = e
        .flow
        .services()
        .scale(s.id, "nope", 1, false)
        .await
        .expect_err("role");
    assert!(err.to_string().contains("Role nope not found"), "{err}");
    let err = e
        .flow
        .services()
        .scale(s.id, "web", 3, false)
        .await
        .expect_err("same");
    assert!(
        err.to_string()
            .contains("Cardinality of web is already at 3"),
        "{err}"
    );
    // force past the maximum, then down: the oldest VMs go first
    e.flow
        .services()
        .scale(s.id, "web", 4, true)
        .await
        .expect("forced");
    let s = running(&e, s.id).await;
    assert_eq!(s.body().role("web").expect("web").nodes.len(), 4);
    let oldest = s.body().role("web").expect("web").nodes[0].deploy_id;
    e.flow
        .services()
        .scale(s.id, "web", 1, true)
        .await
        .expect("down");
    let s = running(&e, s.id).await;
    let web = s.body().role("web").expect("web");
    assert_eq!((web.cardinality, web.nodes.len()), (1, 1));
    assert!(web.nodes.iter().all(|n| n.deploy_id != oldest));
    assert_eq!(vm(&e, oldest).await.state(), Some(VmState::Done));

    // role actions are scheduled actions: `number` VMs every `period` seconds
    e.flow
        .services()
        .scale(s.id, "web", 2, false)
        .await
        .expect("up again");
    let s = running(&e, s.id).await;
    let web: Vec<VmId> = s
        .body()
        .role("web")
        .expect("web")
        .nodes
        .iter()
        .map(|n| n.deploy_id)
        .collect();
    e.flow
        .services()
        .role_action(s.id, "web", RoleAction::Poweroff, Some((3600, 1)))
        .await
        .expect("role action");
    wait_vm(&e, web[0], VmState::Poweroff).await;
    let second = vm(&e, web[1]).await;
    assert!(second.is_running(), "the second VM waits for its period");
    let sched = second
        .template
        .get_vector("SCHED_ACTION")
        .expect("scheduled");
    assert_eq!(sched.get("ACTION"), Some("poweroff"));
    let when: i64 = sched.get("TIME").expect("time").parse().expect("number");
    let now = jiff::Timestamp::now().as_second();
    assert!((now + 3500..=now + 3700).contains(&when), "{when} vs {now}");
    let err = e
        .flow
        .services()
        .role_action(s.id, "nope", RoleAction::Reboot, None)
        .await
        .expect_err("role");
    assert!(err.to_string().contains("Role 'nope' not found"), "{err}");
    // a VM action on every role
    e.flow
        .services()
        .vm_action(s.id, RoleAction::Resume, Some((0, 0)))
        .await
        .expect("service action");
    wait_vm(&e, web[0], VmState::Active).await;
    let db_vm = s.body().role("db").expect("db").nodes[0].deploy_id;
    assert!(
        vm(&e, db_vm)
            .await
            .template
            .get_vector("SCHED_ACTION")
            .is_some()
    );

    // ownership, permissions and name of the service document
    e.flow
        .services()
        .rename(s.id, "shop-renamed")
        .await
        .expect("rename");
    e.flow.services().chmod(s.id, "600").await.expect("chmod");
    e.flow
        .services()
        .chgrp(s.id, GroupId::USERS)
        .await
        .expect("chgrp");
    let d = e.rpc.document(s.id).info().await.expect("document");
    assert_eq!(d.name.as_deref(), Some("shop-renamed"));
    assert_eq!(d.gid, Some(1));
    assert_eq!(vm(&e, db_vm).await.gid, Some(1), "the VMs follow");
    e.flow
        .services()
        .chown(s.id, UserId::new(0), Some(GroupId::new(0)))
        .await
        .expect("chown");
    assert_eq!(
        e.flow
            .services()
            .resolve("shop-renamed")
            .await
            .expect("name"),
        s.id
    );

    // delete: every VM terminated, then the document is gone
    let all = e
        .flow
        .services()
        .show(s.id)
        .await
        .expect("show")
        .body()
        .vm_ids();
    e.flow.services().delete(s.id).await.expect("delete");
    let gone = e
        .flow
        .services()
        .wait_for(s.id, ServiceState::Done, &fast())
        .await
        .expect("done");
    assert!(gone.is_none());
    for id in all {
        assert_eq!(vm(&e, id).await.state(), Some(VmState::Done));
    }
    assert!(doc_ids(&e, 100).await.is_empty());
    assert!(
        e.flow
            .services()
            .show(s.id)
            .await
            .expect_err("gone")
            .is_not_found()
    );
}

#[tokio::test]
async fn a_vm_that_fails_to_deploy_and_recover() {
    let slow = Delays {
        boot: Duration::from_secs(2),
        ..Delays::default()
    };
    let e = env_with(
        OneSimulator::builder().delays(slow),
        OneFlowSimulator::builder(),
    )
    .await;
    let body =
        ServiceTemplateBody::new("one", vec![RoleTemplate::new("app", TemplateId::new(0), 1)]);
    let t = e.flow.templates().create(&body).await.expect("create");
    let s = e
        .flow
        .templates()
        .instantiate(t.id, &InstantiateOptions::new())
        .await
        .expect("instantiate");
    // the VM is booting; make its boot fail as a driver would
    let s = wait_state(&e, s.id, ServiceState::Deploying).await;
    let id = s.body().role("app").expect("app").nodes[0].deploy_id;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while vm(&e, id).await.lcm_state() != Some(LcmState::Boot) {
        assert!(tokio::time::Instant::now() < deadline, "never booting");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    e.rpc.vm(id).recover(0).await.expect("fail the boot");
    let err = e
        .flow
        .services()
        .wait_for(s.id, ServiceState::Running, &fast())
        .await
        .expect_err("FAILED_DEPLOYING");
    assert!(err.is_failed(), "{err}");
    assert_eq!(
        err.state(),
        Some(&ObservedState::Service(ServiceState::FailedDeploying))
    );
    let s = e.flow.services().show(s.id).await.expect("show");
    assert_eq!(
        s.body().role("app").expect("app").state,
        RoleState::FailedDeploying
    );
    let err = e
        .flow
        .services()
        .scale(s.id, "app", 2, false)
        .await
        .expect_err("state");
    assert!(
        err.to_string()
            .contains("Service cannot be scaled in state: FAILED_DEPLOYING"),
        "{err}"
    );
    let err = e
        .flow
        .services()
        .delete(s.id)
        .await
        .expect_err("not in this state");
    assert!(
        err.to_string()
            .contains("Service cannot be undeployed in state: FAILED_DEPLOYING"),
        "{err}"
    );

    // recover retries the failed VM: BOOT again, then RUNNING
    e.flow
        .services()
        .recover(s.id, false)
        .await
        .expect("recover");
    let s = running(&e, s.id).await;
    assert_eq!(
        s.body().role("app").expect("app").nodes[0].deploy_id,
        id,
        "the same VM, retried"
    );
    assert!(vm(&e, id).await.is_running());
    let err = e
        .flow
        .services()
        .recover(s.id, false)
        .await
        .expect_err("nothing to recover");
    assert!(
        err.to_string()
            .contains("Service cannot be recovered in state: RUNNING"),
        "{err}"
    );

    // recover with delete removes a service whatever its state
    e.flow
        .services()
        .scale(s.id, "app", 2, false)
        .await
        .expect("scale");
    e.flow
        .services()
        .recover(s.id, true)
        .await
        .expect("recover delete");
    e.flow
        .services()
        .wait_for(s.id, ServiceState::Done, &fast())
        .await
        .expect("gone");
    wait_vm(&e, id, VmState::Done).await;
    assert!(doc_ids(&e, 100).await.is_empty());
}

#[tokio::test]
async fn elasticity_scales_up_under_load_and_down_after_the_cooldown() {
    let e = env_with(
        OneSimulator::builder(),
        OneFlowSimulator::builder()
            .frozen_clock()
            .autoscaler_interval(Duration::from_secs(10)),
    )
    .await;
    let role = RoleTemplate::new("web", TemplateId::new(0), 1)
        .bounds(1, 3)
        .cooldown(60)
        .elasticity(ElasticityPolicy::new(AdjustmentType::Change, 1, "CPU > 80").period(2, 10))
        .elasticity(ElasticityPolicy::new(AdjustmentType::Change, -1, "CPU < 20").period(1, 10));
    let t = e
        .flow
        .templates()
        .create(&ServiceTemplateBody::new("elastic", vec![role]))
        .await
        .expect("create");
    let s = e
        .flow
        .templates()
        .instantiate(t.id, &InstantiateOptions::new())
        .await
        .expect("instantiate");
    let s = running(&e, s.id).await;
    let first = s.body().role("web").expect("web").nodes[0].deploy_id;
    let state = e.one.state();
    state
        .push_monitoring(first.get(), 95.0, None)
        .expect("load");

    // one period under load: counted, not yet scaled
    e.flow_sim.advance_clock(Duration::from_secs(10));
    e.flow_sim.run_autoscaler();
    let s = e.flow.services().show(s.id).await.expect("show");
    let web = s.body().role("web").expect("web");
    assert_eq!(web.cardinality, 1);
    let up = &web.elasticity_policies[0];
    assert_eq!(up.other.get("true_evals"), Some(&json!(1)));
    assert_eq!(
        up.other.get("expression_evaluated"),
        Some(&json!("CPU[95.0] > 80"))
    );
    // the second period: scale up by one, then COOLDOWN for the role's 60 s
    e.flow_sim.advance_clock(Duration::from_secs(10));
    e.flow_sim.run_autoscaler();
    let s = wait_state(&e, s.id, ServiceState::Cooldown).await;
    let web = s.body().role("web").expect("web");
    assert_eq!(
        (web.cardinality, web.nodes.len(), web.state),
        (2, 2, RoleState::Cooldown)
    );
    for n in &web.nodes {
        assert!(vm(&e, n.deploy_id).await.is_running());
    }
    e.flow_sim.advance_clock(Duration::from_secs(30));
    e.flow_sim.run_lifecycle();
    assert_eq!(
        e.flow
            .services()
            .show(s.id)
            .await
            .expect("show")
            .body()
            .state,
        ServiceState::Cooldown
    );
    e.flow_sim.advance_clock(Duration::from_secs(30));
    let s = running(&e, s.id).await;

    // the load goes away: one period below 20 scales down by one, the oldest VM first
    for n in &s.body().role("web").expect("web").nodes {
        state
            .push_monitoring(n.deploy_id.get(), 5.0, None)
            .expect("idle");
    }
    e.flow_sim.advance_clock(Duration::from_secs(10));
    e.flow_sim.run_autoscaler();
    let s = wait_state(&e, s.id, ServiceState::Cooldown).await;
    let web = s.body().role("web").expect("web");
    assert_eq!((web.cardinality, web.nodes.len()), (1, 1));
    assert_eq!(
        web.elasticity_policies[1].other.get("expression_evaluated"),
        Some(&json!("CPU[5.0] < 20"))
    );
    assert_eq!(vm(&e, first).await.state(), Some(VmState::Done));
    e.flow_sim.advance_clock(Duration::from_secs(60));
    let s = running(&e, s.id).await;
    // at min_vms nothing goes lower
    e.flow_sim.advance_clock(Duration::from_secs(10));
    e.flow_sim.run_autoscaler();
    e.flow_sim.run_lifecycle();
    let s = e.flow.services().show(s.id).await.expect("show");
    assert_eq!(
        (
            s.body().state,
            s.body().role("web").expect("web").cardinality
        ),
        (ServiceState::Running, 1)
    );
}

#[tokio::test]
async fn scheduled_policies_scale_at_their_time() {
    let e = env_with(
        OneSimulator::builder(),
        OneFlowSimulator::builder()
            .frozen_clock()
            .autoscaler_interval(Duration::from_secs(10))
            .default_cooldown(Duration::from_secs(0)),
    )
    .await;
    let at = e.flow_sim.now() + 25;
    let role = RoleTemplate::new("batch", TemplateId::new(0), 1)
        .bounds(1, 4)
        .scheduled(ScheduledPolicy::at(
            AdjustmentType::Cardinality,
            3,
            at.to_string(),
        ));
    let mut bad = role.clone();
    bad.scheduled_policies[0].start_time = Some("not a time".into());
    let err = e
        .flow
        .templates()
        .create(&ServiceTemplateBody::new("bad", vec![bad]))
        .await
        .expect_err("bad time");
    assert!(
        err.to_string().contains("'start_time' is not a valid Time"),
        "{err}"
    );
    let t = e
        .flow
        .templates()
        .create(&ServiceTemplateBody::new("nightly", vec![role]))
        .await
        .expect("create");
    let s = e
        .flow
        .templates()
        .instantiate(t.id, &InstantiateOptions::new())
        .await
        .expect("instantiate");
    let s = running(&e, s.id).await;
    for _ in 0..2 {
        e.flow_sim.advance_clock(Duration::from_secs(10));
        e.flow_sim.run_autoscaler();
    }
    assert_eq!(
        e.flow
            .services()
            .show(s.id)
            .await
            .expect("show")
            .body()
            .role("batch")
            .expect("r")
            .cardinality,
        1
    );
    e.flow_sim.advance_clock(Duration::from_secs(10));
    e.flow_sim.run_autoscaler();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let s = e.flow.services().show(s.id).await.expect("show");
        let r = s.body().role("batch").expect("r");
        if s.body().state == ServiceState::Running && r.nodes.len() == 3 {
            assert_eq!(r.cardinality, 3);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never scaled: {:?}",
            s.body().state
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn onegate_service_answers_agree_with_oneflow() {
    let e = env_with(
        OneSimulator::builder().with_onegate(),
        OneFlowSimulator::builder(),
    )
    .await;
    let role = RoleTemplate::new("web", TemplateId::new(0), 2)
        .bounds(1, 3)
        .cooldown(0)
        .template_attr("CONTEXT", json!({"TOKEN": "YES"}));
    let t = e
        .flow
        .templates()
        .create(&ServiceTemplateBody::new("gated", vec![role]))
        .await
        .expect("create");
    let s = e
        .flow
        .templates()
        .instantiate(t.id, &InstantiateOptions::new())
        .await
        .expect("instantiate");
    let s = running(&e, s.id).await;
    let me = s.body().role("web").expect("web").nodes[0].deploy_id;
    let v = vm(&e, me).await;
    assert_eq!(
        v.template
            .get_vector("CONTEXT")
            .and_then(|c| c.get("NETWORK")),
        Some("YES"),
        "the template's CONTEXT is kept"
    );
    let token = e
        .one
        .state()
        .vm_token(me.get())
        .expect("TOKEN=YES gives a token");
    let gate = OneGateClient::builder()
        .endpoint(e.one.onegate_url().expect("onegate"))
        .vm_id(me)
        .token(token)
        .build()
        .expect("onegate client");

    let compare = |g: &nebulair_opennebula::onegate::OneGateService, f: &Service| {
        assert_eq!(g.id, f.id);
        assert_eq!(g.name, f.name);
        assert_eq!(g.state, f.body().state);
        assert_eq!(g.roles.len(), f.body().roles.len());
        for (gr, fr) in g.roles.iter().zip(&f.body().roles) {
            assert_eq!(
                (gr.name.as_str(), gr.cardinality, gr.state),
                (fr.name.as_str(), fr.cardinality, fr.state)
            );
            let gids: Vec<VmId> = gr.nodes.iter().map(|n| n.deploy_id).collect();
            let fids: Vec<VmId> = fr.nodes.iter().map(|n| n.deploy_id).collect();
            assert_eq!(gids, fids);
        }
    };
    let g = gate.service(false).await.expect("GET /service");
    compare(&g, &e.flow.services().show(s.id).await.expect("show"));
    let node = &g.roles[0].nodes[0];
    assert_eq!(
        node.vm_info.as_ref().map(|i| i.vm.id),
        Some(me),
        "vm_info is OneFlow's record"
    );
    let ext = gate.service(true).await.expect("extended");
    assert!(
        ext.roles[0].nodes[0]
            .vm_info
            .as_ref()
            .is_some_and(|i| i.vm.other.contains_key("TEMPLATE"))
    );

    // PUT /service/role/:role goes to OneFlow's scale
    gate.scale_role("web", 3)
        .await
        .expect("scale through OneGate");
    let f = running(&e, s.id).await;
    assert_eq!(f.body().role("web").expect("web").nodes.len(), 3);
    compare(&gate.service(false).await.expect("service"), &f);
    // and OneFlow's refusals are OneGate's 400
    let err = gate.scale_role("web", 9).await.expect_err("above max");
    assert_eq!(err.http_status(), Some(400));
    assert!(
        err.to_string().contains(&format!(
            "Error performing action on service {} role web",
            s.id
        )),
        "{err}"
    );
    let err = gate.scale_role("nope", 1).await.expect_err("no role");
    assert_eq!(err.http_status(), Some(400));
}

#[tokio::test]
async fn hold_release_user_inputs_and_errors() {
    let e = env().await;
    let mut body = ServiceTemplateBody::new(
        "held",
        vec![RoleTemplate::new("app", TemplateId::new(0), 1).on_hold(true)],
    );
    body.other
        .insert("user_inputs".into(), json!({"SIZE": "M|number|Size||1"}));
    let t = e.flow.templates().create(&body).await.expect("create");
    let err = e
        .flow
        .templates()
        .instantiate(t.id, &InstantiateOptions::new())
        .await
        .expect_err("inputs needed");
    assert_eq!(err.http_status(), Some(400));
    assert!(
        err.to_string()
            .contains("The Service template specifies User Inputs but no values have been found"),
        "{err}"
    );
    let s = e
        .flow
        .templates()
        .instantiate(t.id, &InstantiateOptions::new().user_input("SIZE", "3"))
        .await
        .expect("instantiate");
    let s = wait_state(&e, s.id, ServiceState::Deploying).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let id = loop {
        let s = e.flow.services().show(s.id).await.expect("show");
        let r = s.body().role("app").expect("app");
        if r.state == RoleState::Hold {
            break r.nodes[0].deploy_id;
        }
        assert!(tokio::time::Instant::now() < deadline, "never held");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let v = vm(&e, id).await;
    assert_eq!(v.state(), Some(VmState::Hold));
    assert_eq!(
        v.user_template
            .get_str("SIZE")
            .or_else(|| v.template.get_str("SIZE")),
        Some("3")
    );
    let ctx = v.template.get_vector("CONTEXT").and_then(|c| c.get("SIZE"));
    assert!(
        matches!(ctx, Some("$SIZE" | "3")),
        "user inputs go to the CONTEXT as $SIZE: {ctx:?}"
    );
    e.flow.services().release(s.id).await.expect("release");
    running(&e, s.id).await;
    assert!(vm(&e, id).await.is_running());
    let err = e
        .flow
        .services()
        .release(s.id)
        .await
        .expect_err("nothing held");
    assert!(
        err.to_string().contains("Service has no roles in HOLD"),
        "{err}"
    );
    let err = e
        .flow
        .services()
        .show(DocumentId::new(t.id.get()))
        .await
        .expect_err("a template is no service");
    assert!(
        err.to_string().contains(&format!(
            "[DocumentInfo] Error getting document [{}].",
            t.id
        )),
        "{err}"
    );
}
